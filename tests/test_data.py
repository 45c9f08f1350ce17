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


# --------------------------------------------------------------------------- holdout, augmentation

def test_holdout_indices_are_disjoint_complete_and_fixed():
    train, held = data.holdout_indices(1000)
    assert len(held) == 100 and len(train) == 900
    np.testing.assert_array_equal(np.sort(np.concatenate([train, held])), np.arange(1000))
    again = data.holdout_indices(1000)
    np.testing.assert_array_equal(again[1], held)
    assert not np.array_equal(held, np.arange(900, 1000))  # a permutation, not the tail
    assert len(data.holdout_indices(5, 0.01)[1]) == 1
    assert len(data.holdout_indices(5, 0.99)[0]) == 1
    with pytest.raises(ValueError, match="fraction must be"):
        data.holdout_indices(10, 1.0)
    with pytest.raises(ValueError, match="n must be"):
        data.holdout_indices(1)


@pytest.mark.parametrize("kind", ["digits", "cifar100"])
def test_holdout_split_comes_out_of_the_training_split(tmp_path, kind):
    folder = None if kind == "digits" else data.write_fake_cifar(tmp_path, kind, n_per_batch=50)
    test = data.load(kind, folder, limit=40)
    held = data.load(kind, folder, limit=40, val_split="holdout")
    assert test.val_split == "test" and held.val_split == "holdout" and "holdout" in repr(held)
    keep, out = data.holdout_indices(40)
    np.testing.assert_array_equal(held.y_train.numpy(), test.y_train.numpy()[keep])
    np.testing.assert_array_equal(held.y_val.numpy(), test.y_train.numpy()[out])
    # the same images, standardised with the statistics of the kept ones: an affine map
    # per channel of the test split's standardisation
    for source, target in ((test.x_train[keep], held.x_train), (test.x_train[out], held.x_val)):
        for c in range(source.shape[1]):
            a, b = np.polyfit(source[:, c].numpy().ravel(), target[:, c].numpy().ravel(), 1)
            np.testing.assert_allclose(a * source[:, c].numpy() + b, target[:, c].numpy(),
                                       atol=1e-5)
    np.testing.assert_allclose(held.x_train.mean(dim=(0, 2, 3)).numpy(), 0, atol=1e-5)
    with pytest.raises(ValueError, match="val_split must be one of"):
        data.load(kind, folder, val_split="validation")


def _crop_reference(image, row, col, flip):
    """Loop-by-pixel crop of the zero-padded image, then a mirror."""
    channels, height, width = image.shape
    out = np.zeros_like(image)
    for i in range(height):
        for j in range(width):
            r, c = row + i - data.PAD, col + j - data.PAD
            if 0 <= r < height and 0 <= c < width:
                out[:, i, j] = image[:, r, c]
    return out[:, :, ::-1] if flip else out


def test_augment_crops_and_flips_like_the_reference():
    x = torch.randn(6, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    offsets, flips = data.augmentation(6, seed=3, epoch=7)
    assert offsets.shape == (6, 2) and flips.dtype == torch.bool
    assert int(offsets.min()) >= 0 and int(offsets.max()) <= 2 * data.PAD
    out = data.augment(x, offsets, flips)
    for i in range(6):
        expected = _crop_reference(x[i].numpy(), int(offsets[i, 0]), int(offsets[i, 1]),
                                   bool(flips[i]))
        np.testing.assert_array_equal(out[i].numpy(), expected)
    identity = data.augment(x, torch.full((6, 2), data.PAD), torch.zeros(6, dtype=torch.bool))
    np.testing.assert_array_equal(identity.numpy(), x.numpy())
    with pytest.raises(ValueError, match="offsets, flips must be of shapes"):
        data.augment(x, offsets[:3], flips)


def test_augmentation_depends_on_seed_and_epoch_only():
    a = data.augmentation(5000, seed=1, epoch=2)
    b = data.augmentation(5000, seed=1, epoch=2)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    for other in (data.augmentation(5000, seed=2, epoch=2), data.augmentation(5000, 1, 3)):
        assert not torch.equal(a[0], other[0]) and not torch.equal(a[1], other[1])
    # every offset and both flips occur, about equally often
    counts = np.bincount(a[0].numpy().ravel(), minlength=2 * data.PAD + 1)
    assert counts.min() > 0.8 * counts.mean()
    assert 0.45 < float(a[1].double().mean()) < 0.55
    with pytest.raises(ValueError, match="epoch must be"):
        data.augmentation(10, 0, -1)
