"""Tests of sgdlab.nn.data: the digits split, CIFAR files (faked in the real format), safety."""

import os
import pickle

import numpy as np
import pytest
import torch

from sgdlab.nn import data


# --------------------------------------------------------------------------- digits

def test_digits_split_is_fixed_stratified_and_standardised():
    a, b = data.load("digits"), data.load("digits")
    for name in ("x_train", "y_train", "x_val", "y_val"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert a.name == "digits" and a.classes == 10 and a.shape == (1, 8, 8)
    assert a.x_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
    assert a.x_train.shape == (1437, 1, 8, 8) and a.x_val.shape == (360, 1, 8, 8)
    # stratified: every class has the same share (up to one image) in both splits
    total = torch.bincount(torch.cat([a.y_train, a.y_val]), minlength=10).numpy()
    val = torch.bincount(a.y_val, minlength=10).numpy()
    np.testing.assert_allclose(val, total * 360 / 1797, atol=1)
    # standardised with the training split's statistics
    assert abs(float(a.x_train.mean())) < 1e-5 and abs(float(a.x_train.std()) - 1) < 1e-3
    assert abs(float(a.x_val.mean())) < 0.1
    other = data.load("digits", seed=1)
    assert not torch.equal(other.y_train, a.y_train)


def test_digits_limit_and_bad_arguments():
    small = data.load("digits", limit=50)
    assert small.x_train.shape[0] == 50 and small.x_val.shape[0] == 50
    full = data.load("digits")
    np.testing.assert_array_equal(small.y_train, full.y_train[:50])
    with pytest.raises(ValueError, match="limit"):
        data.load("digits", limit=0)
    with pytest.raises(ValueError, match="val_fraction"):
        data.load("digits", val_fraction=1.5)


def test_unknown_dataset():
    with pytest.raises(ValueError, match=r"name must be one of .*digits.*cifar10.*got 'mnist'"):
        data.load("mnist")
    assert data.DATASETS == ("digits", "cifar10", "cifar100")


# --------------------------------------------------------------------------- fake CIFAR

@pytest.mark.parametrize("kind, folder, label_key, classes, train_files",
                         [("cifar10", "cifar-10-batches-py", b"labels", 10, 5),
                          ("cifar100", "cifar-100-python", b"fine_labels", 100, 1)])
def test_fake_cifar_loads_in_both_folder_spellings(tmp_path, kind, folder, label_key, classes,
                                                   train_files):
    path = data.write_fake_cifar(tmp_path, kind, n_per_batch=6, seed=3)
    assert path == tmp_path / folder
    parent, itself = data.load(kind, tmp_path), data.load(kind, path)
    for name in ("x_train", "y_train", "x_val", "y_val"):
        assert torch.equal(getattr(parent, name), getattr(itself, name))
    ds = parent
    assert ds.classes == classes and ds.shape == (3, 32, 32)
    assert ds.x_train.shape == (6 * train_files, 3, 32, 32) and ds.x_val.shape == (6, 3, 32, 32)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    # per-channel standardisation with the training statistics
    np.testing.assert_allclose(ds.x_train.mean(dim=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(dim=(0, 2, 3), unbiased=False), 1, atol=1e-4)
    # the pixels and labels are those of the files, in order (row layout R, G, B planes)
    val = data.safe_pickle_load(path / ("test_batch" if kind == "cifar10" else "test"))
    np.testing.assert_array_equal(ds.y_val.numpy(), val[label_key])
    raw = val[b"data"].reshape(-1, 3, 32, 32).astype(np.float64)
    x = ds.x_val.numpy().astype(np.float64)
    for c in range(3):
        corr = np.corrcoef(raw[:, c].ravel(), x[:, c].ravel())[0, 1]
        assert corr > 0.9999
    limited = data.load(kind, tmp_path, limit=4)
    assert limited.x_train.shape[0] == 4 and limited.x_val.shape[0] == 4
    np.testing.assert_array_equal(limited.y_train, ds.y_train[:4])


def test_fake_cifar_is_pickled_like_the_originals(tmp_path):
    path = data.write_fake_cifar(tmp_path, "cifar10", n_per_batch=3)
    raw = (path / "data_batch_1").read_bytes()
    assert raw.startswith(b"\x80\x02}")  # protocol 2, a dict
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in raw  # numpy 1 spelling, as Python 2 wrote
    assert b"U\x04data" in raw  # keys are Python 2 byte strings
    with open(path / "data_batch_1", "rb") as f:
        plain = pickle.load(f, encoding="bytes")  # what the usual CIFAR loaders do
    safe = data.safe_pickle_load(path / "data_batch_1")
    assert sorted(plain) == sorted(safe) == [b"batch_label", b"data", b"filenames", b"labels"]
    np.testing.assert_array_equal(plain[b"data"], safe[b"data"])
    assert safe[b"data"].dtype == np.uint8 and safe[b"data"].shape == (3, 3072)


# --------------------------------------------------------------------------- unsafe pickles

class _Evil:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_malicious_pickle_is_rejected_and_runs_nothing(tmp_path):
    path = data.write_fake_cifar(tmp_path, "cifar10", n_per_batch=2)
    marker = tmp_path / "pwned"
    payload = {b"data": _Evil(f"touch {marker}"), b"labels": [0, 1]}
    (path / "data_batch_1").write_bytes(pickle.dumps(payload, protocol=4))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load global .*system"):
        data.load("cifar10", tmp_path)
    with pytest.raises(pickle.UnpicklingError, match="nothing in it was run"):
        data.safe_pickle_load(path / "data_batch_1")
    assert not marker.exists()
    # the payload is real: an ordinary unpickler would have run it
    assert pickle.loads(pickle.dumps(_Evil("true"), protocol=2)) == 0


@pytest.mark.parametrize("payload", [
    b"\x80\x02cbuiltins\neval\nX\x06\x00\x00\x00'boom'\x85R.",
    b"\x80\x02c__builtin__\neval\nU\x06'boom'\x85R.",
    b"\x80\x02cnumpy\nload\nU\x01x\x85R.",
    # numpy's _reconstruct is allowed, but only for plain ndarrays
    b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\ndtype\nK\x00\x85U\x01b\x87R.",
])
def test_other_globals_are_refused(tmp_path, payload):
    path = tmp_path / "bad.pkl"
    path.write_bytes(payload)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        data.safe_pickle_load(path)


def test_unsafe_error_is_an_unpickling_error():
    assert issubclass(data.UnsafePickleError, pickle.UnpicklingError)


# --------------------------------------------------------------------------- missing and corrupt

def test_missing_folder_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)not a folder.*data_batch_1.*never downloads"):
        data.load("cifar10", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"(?s)lacks data_batch_1.*cifar-10-python.tar.gz"):
        data.load("cifar10", tmp_path)
    path = data.write_fake_cifar(tmp_path, "cifar100", n_per_batch=2)
    (path / "test").unlink()
    with pytest.raises(FileNotFoundError, match=r"(?s)lacks test\b.*cifar-100-python.tar.gz"):
        data.load("cifar100", tmp_path)
    with pytest.raises(ValueError, match="data_dir"):
        data.load("cifar10")


def _rewrite(path, obj):
    path.write_bytes(pickle.dumps(obj, protocol=4))


def test_corrupt_files(tmp_path):
    path = data.write_fake_cifar(tmp_path, "cifar10", n_per_batch=2)
    target = path / "data_batch_3"
    target.write_bytes(b"this is not a pickle at all")
    with pytest.raises(ValueError, match=r"data_batch_3 is not a readable CIFAR python pickle"):
        data.load("cifar10", tmp_path)
    target.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8)}, protocol=4)[:-20])
    with pytest.raises(ValueError, match=r"data_batch_3 is not a readable"):
        data.load("cifar10", tmp_path)
    _rewrite(target, {b"pixels": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]})
    with pytest.raises(ValueError, match=r"data_batch_3: expected a dict with keys b'data'"):
        data.load("cifar10", tmp_path)
    _rewrite(target, {b"data": np.zeros((2, 1024), np.uint8), b"labels": [0, 1]})
    with pytest.raises(ValueError, match=r"data_batch_3: .*uint8 array of shape \(N, 3072\)"):
        data.load("cifar10", tmp_path)
    _rewrite(target, {b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]})
    with pytest.raises(ValueError, match=r"data_batch_3: .*got float32"):
        data.load("cifar10", tmp_path)
    _rewrite(target, {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1, 2]})
    with pytest.raises(ValueError, match=r"data_batch_3: expected 2 labels"):
        data.load("cifar10", tmp_path)
    _rewrite(target, {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]})
    with pytest.raises(ValueError, match=r"data_batch_3: expected labels in 0..9"):
        data.load("cifar10", tmp_path)
    # a CIFAR-100 file read as CIFAR-10 lacks b"labels"
    other = data.write_fake_cifar(tmp_path / "c100", "cifar100", n_per_batch=2)
    target.write_bytes((other / "train").read_bytes())
    with pytest.raises(ValueError, match=r"data_batch_3: expected a dict with keys b'data' and "
                                         r"b'labels'"):
        data.load("cifar10", tmp_path)
