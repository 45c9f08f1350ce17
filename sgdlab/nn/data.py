"""Datasets for the Section 5 experiments: digits (bundled), CIFAR-10 and CIFAR-100 (local).

Kleinberg, Li and Yuan (ICML 2018), Section 5, train ResNets and DenseNets on CIFAR-10 and
CIFAR-100. This module serves those two data sets from a *local* copy in the standard "python
version" format, and scikit-learn's bundled 8x8 handwritten digits as a small stand-in that
needs no download and trains in seconds on a laptop CPU (what the book runs).

* ``"digits"``: :func:`sklearn.datasets.load_digits` (1797 images, 10 classes), shaped
  (N, 1, 8, 8), scaled to [0, 1], then standardised with the training split's mean and standard
  deviation. The validation split is a fixed *stratified* split
  (:func:`sklearn.model_selection.train_test_split` with ``stratify=y``), the same for every
  training seed.
* ``"cifar10"`` / ``"cifar100"``: the training batches are the training set and the test batch
  is the validation set (as in the paper's figures of training and validation loss), shaped
  (N, 3, 32, 32), scaled to [0, 1] and standardised per channel with the training mean and
  standard deviation. sgdlab never downloads anything: get ``cifar-10-python.tar.gz`` /
  ``cifar-100-python.tar.gz`` from https://www.cs.toronto.edu/~kriz/cifar.html and extract it
  (``tar xzf ...``) into the folder you pass as ``data_dir``.

**Validation split** (``val_split``, :data:`~sgdlab.nn.names.VAL_SPLITS`): ``"test"`` is the
split described above (CIFAR's test batch, digits' stratified 20%); ``"holdout"`` takes a fixed
share (``holdout``, default :data:`HOLDOUT_FRACTION`) of the training split, chosen by a
permutation of seed :data:`HOLDOUT_SEED` (the same for every run), as the validation set and
removes it from training; the standardisation then uses the remaining training images only.

**Augmentation** (CIFAR, :func:`augmentation`, :func:`augment`): the random crop and flip of
He et al. (2016): each image is padded with 4 zero pixels on every side (zero is the mean
colour after standardisation) and a 32x32 window at a random offset in 0..8 of each axis is
kept, then flipped left-right with probability 1/2. The offsets and flips of epoch ``e`` are
drawn for every training image from a generator seeded by ``(seed, e)`` alone, so a run is
reproducible and resumable.

The CIFAR files are Python pickles. Unpickling runs code named by the file, so they are read
with :func:`safe_pickle_load`, which refuses every global except the three numpy objects a
pickled array needs. :func:`write_fake_cifar` writes a tiny fake data set in exactly the
format of the originals (for tests and for trying the CIFAR code paths without the data).

Importing :mod:`sgdlab` does not import this module (nor torch).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import _validate as validate
from .io import write_atomic
from .names import DATASETS, VAL_SPLITS
from .seeds import Purpose, derive

__all__ = ["DATASETS", "VAL_SPLITS", "HOLDOUT_FRACTION", "HOLDOUT_SEED", "PAD", "Dataset",
           "load", "holdout_indices", "augmentation", "augment", "safe_pickle_load",
           "write_fake_cifar", "UnsafePickleError"]

HOLDOUT_FRACTION = 0.1
"""Share of the training split that ``val_split="holdout"`` validates on."""
HOLDOUT_SEED = 0
"""Seed of the permutation that picks the holdout images, fixed so that every run shares them."""
PAD = 4
"""Zero pixels added on each side before the random crop of :func:`augment`."""

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"

# Per data set: sub-folder, training files, validation file, label key, number of classes,
# archive name (for messages).
_CIFAR = {
    "cifar10": dict(folder="cifar-10-batches-py",
                    train=tuple(f"data_batch_{i}" for i in range(1, 6)), val="test_batch",
                    label_key=b"labels", classes=10, archive="cifar-10-python.tar.gz"),
    "cifar100": dict(folder="cifar-100-python", train=("train",), val="test",
                     label_key=b"fine_labels", classes=100,
                     archive="cifar-100-python.tar.gz"),
}
_CIFAR_PIXELS = 3 * 32 * 32


@dataclass
class Dataset:
    """A classification data set as float32 image tensors and int64 labels.

    Attributes
    ----------
    name : str
        One of :data:`~sgdlab.nn.names.DATASETS`.
    x_train, x_val : torch.Tensor
        Images, float32, shape (N, C, H, W), standardised with training statistics.
    y_train, y_val : torch.Tensor
        Labels, int64, shape (N,), values in ``range(classes)``.
    classes : int
        Number of classes.
    val_split : {"test", "holdout"}
        Where the validation images come from (see :func:`load`).
    """

    name: str
    x_train: torch.Tensor = field(repr=False)
    y_train: torch.Tensor = field(repr=False)
    x_val: torch.Tensor = field(repr=False)
    y_val: torch.Tensor = field(repr=False)
    classes: int
    val_split: str = "test"

    @property
    def shape(self):
        """Shape (C, H, W) of one image."""
        return tuple(self.x_train.shape[1:])

    def __repr__(self):
        return (f"Dataset(name={self.name!r}, train={self.x_train.shape[0]}, "
                f"val={self.x_val.shape[0]}, shape={self.shape}, classes={self.classes}, "
                f"val_split={self.val_split!r})")


# --------------------------------------------------------------------------- loading

def load(name="digits", data_dir=None, *, val_fraction=0.2, seed=0, limit=None,
         val_split="test", holdout=HOLDOUT_FRACTION):
    """Load a data set for the Section 5 experiments.

    Parameters
    ----------
    name : {"digits", "cifar10", "cifar100"}
        Which data set (:data:`~sgdlab.nn.names.DATASETS`).
    data_dir : str or os.PathLike, optional
        CIFAR only: the folder holding the extracted ``cifar-10-batches-py`` /
        ``cifar-100-python`` folder, or that folder itself. Nothing is ever downloaded.
    val_fraction : float, default 0.2
        Digits only: share of the images held out for validation (stratified by class).
        CIFAR uses its test batch for validation.
    seed : int, default 0
        Digits only: seed of the train/validation split. The default split is the one every
        training run of the book uses.
    limit : int, optional
        Keep only the first ``limit`` images of each split (small runs and tests).
    val_split : {"test", "holdout"}, default "test"
        ``"test"``: validate on the test split (digits: the ``val_fraction`` split).
        ``"holdout"``: validate on the images :func:`holdout_indices` picks from the (limited)
        training split, and train on the others; the test split is not used.
    holdout : float, default 0.1
        Share of the training split held out with ``val_split="holdout"``
        (:data:`HOLDOUT_FRACTION`).

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        Unknown ``name``, bad ``val_fraction``/``seed``/``limit``, or a corrupt CIFAR file.
    FileNotFoundError
        CIFAR folder or file missing (the message says which files are expected where).
    pickle.UnpicklingError
        A CIFAR file that references anything but numpy arrays (:func:`safe_pickle_load`).
    """
    validate.choice("name", name, DATASETS)
    validate.choice("val_split", val_split, VAL_SPLITS)
    limit = validate.integer("limit", limit, low=2 if val_split == "holdout" else 1,
                             allow_none=True)  # a holdout needs one image to train, one to hold
    holdout = validate.real("holdout", holdout, above=0, below=1)
    split = (val_split, holdout)
    if name == "digits":
        return _load_digits(val_fraction, seed, limit, split)
    return _load_cifar(name, data_dir, limit, split)


def holdout_indices(n, fraction=HOLDOUT_FRACTION):
    """(training, holdout) indices of ``val_split="holdout"`` for a training split of ``n``.

    A permutation of ``range(n)`` drawn with :func:`numpy.random.default_rng` of seed
    :data:`HOLDOUT_SEED`; its last ``round(fraction * n)`` entries (at least 1, at most
    ``n - 1``) are held out. Both index arrays are sorted, so the training images keep their
    order.

    Parameters
    ----------
    n : int
        Number of training images, >= 2.
    fraction : float, default 0.1
        In (0, 1) (:data:`HOLDOUT_FRACTION`).

    Returns
    -------
    tuple of numpy.ndarray
        (train, holdout), int64, disjoint, together ``range(n)``.
    """
    n = validate.integer("n", n, low=2)
    fraction = validate.real("fraction", fraction, above=0, below=1)
    held = min(max(int(round(fraction * n)), 1), n - 1)
    order = np.random.default_rng(HOLDOUT_SEED).permutation(n)
    return np.sort(order[:n - held]), np.sort(order[n - held:])


def _split(x_train, y_train, x_val, y_val, split):
    """The (x_train, y_train, x_val, y_val) of ``split = (val_split, holdout)``."""
    val_split, fraction = split
    if val_split == "test":
        return x_train, y_train, x_val, y_val
    keep, held = holdout_indices(x_train.shape[0], fraction)
    return x_train[keep], y_train[keep], x_train[held], y_train[held]


def _load_digits(val_fraction, seed, limit, split):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    val_fraction = validate.real("val_fraction", val_fraction, above=0, below=1)
    seed = validate.seed("seed", seed)
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0  # pixel values 0..16
    labels = digits.target.astype(np.int64)
    x_train, x_val, y_train, y_val = train_test_split(
        images, labels, test_size=val_fraction, stratify=labels, random_state=seed)
    x_train, y_train = x_train[:limit], y_train[:limit]
    x_val, y_val = x_val[:limit], y_val[:limit]
    x_train, y_train, x_val, y_val = _split(x_train, y_train, x_val, y_val, split)
    mean, std = float(x_train.mean()), float(x_train.std())
    x_train = (x_train - mean) / std
    x_val = (x_val - mean) / std
    return Dataset(
        name="digits",
        x_train=torch.from_numpy(np.ascontiguousarray(x_train[:, None], dtype=np.float32)),
        y_train=torch.from_numpy(np.ascontiguousarray(y_train)),
        x_val=torch.from_numpy(np.ascontiguousarray(x_val[:, None], dtype=np.float32)),
        y_val=torch.from_numpy(np.ascontiguousarray(y_val)),
        classes=10, val_split=split[0],
    )


def _missing(name, data_dir, detail):
    spec = _CIFAR[name]
    files = ", ".join(spec["train"] + (spec["val"],))
    return FileNotFoundError(
        f"{detail}. {name} needs the files {files} of the python version of the data set in "
        f"{data_dir}/{spec['folder']}/ (data_dir may also be that folder itself). sgdlab never "
        f"downloads data: get {spec['archive']} from {CIFAR_URL} and extract it with "
        f"`tar xzf {spec['archive']} -C {data_dir}`.")


def _cifar_folder(name, data_dir):
    spec = _CIFAR[name]
    if data_dir is None:
        validate.fail("data_dir", f"the local folder holding {spec['folder']}/ (extracted from "
                      f"{spec['archive']}, see {CIFAR_URL}; {name} is read from a local "
                      "folder, sgdlab never downloads data)", None)
    validate.path("data_dir", data_dir)
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise _missing(name, root, f"data_dir {str(root)!r} is not a folder")
    for folder in (root / spec["folder"], root):
        if all((folder / f).is_file() for f in spec["train"] + (spec["val"],)):
            return folder
    folder = root / spec["folder"] if (root / spec["folder"]).is_dir() else root
    absent = [f for f in spec["train"] + (spec["val"],) if not (folder / f).is_file()]
    raise _missing(name, root, f"{folder} lacks {', '.join(absent)}")


def _read_cifar_file(path, label_key, classes):
    """(data uint8 (N, 3072), labels int64 (N,)) from one CIFAR python pickle."""
    try:
        batch = safe_pickle_load(path)
    except UnsafePickleError:
        raise
    except Exception as exc:  # truncated, not a pickle, wrong protocol, ...
        raise ValueError(f"{path} is not a readable CIFAR python pickle ({type(exc).__name__}: "
                         f"{exc}); expected a pickled dict with keys b'data' and "
                         f"{label_key!r}. Re-extract it from the original archive.") from None
    if not isinstance(batch, dict) or b"data" not in batch or label_key not in batch:
        keys = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"{path}: expected a dict with keys b'data' and {label_key!r}, got "
                         f"{keys}")
    data, labels = batch[b"data"], batch[label_key]
    if (not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2
            or data.shape[1] != _CIFAR_PIXELS):
        got = (f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray)
               else type(data).__name__)
        raise ValueError(f"{path}: expected b'data' to be a uint8 array of shape (N, "
                         f"{_CIFAR_PIXELS}), got {got}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{path}: expected {label_key!r} to be a list of integers") from None
    if labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: expected {data.shape[0]} labels (one per image) in "
                         f"{label_key!r}, got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"{path}: expected labels in 0..{classes - 1}, got values in "
                         f"{labels.min()}..{labels.max()}")
    return data, labels


def _load_cifar(name, data_dir, limit, split):
    spec = _CIFAR[name]
    folder = _cifar_folder(name, data_dir)
    parts = [_read_cifar_file(folder / f, spec["label_key"], spec["classes"])
             for f in spec["train"]]
    x_train = np.concatenate([p[0] for p in parts])[:limit]
    y_train = np.concatenate([p[1] for p in parts])[:limit]
    x_val, y_val = _read_cifar_file(folder / spec["val"], spec["label_key"], spec["classes"])
    x_val, y_val = x_val[:limit], y_val[:limit]
    x_train, y_train, x_val, y_val = _split(x_train, y_train, x_val, y_val, split)
    x_train = x_train.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    x_val = x_val.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    mean = x_train.mean(axis=(0, 2, 3), keepdims=True)
    std = x_train.std(axis=(0, 2, 3), keepdims=True)
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    return Dataset(
        name=name,
        x_train=torch.from_numpy(np.ascontiguousarray((x_train - mean) / std, np.float32)),
        y_train=torch.from_numpy(np.ascontiguousarray(y_train)),
        x_val=torch.from_numpy(np.ascontiguousarray((x_val - mean) / std, np.float32)),
        y_val=torch.from_numpy(np.ascontiguousarray(y_val)),
        classes=spec["classes"], val_split=split[0],
    )


# --------------------------------------------------------------------------- augmentation

def augmentation(n, seed, epoch):
    """The random crops and flips of epoch ``epoch`` for ``n`` training images.

    Drawn with a CPU :class:`torch.Generator` seeded by ``(seed, epoch)`` alone
    (``derive(seed, Purpose.AUGMENT, epoch)``, :func:`sgdlab.nn.seeds.derive`: another
    purpose than the batch order's), so the same (seed, epoch) always gives the same draws
    and a resumed run repeats them.

    Parameters
    ----------
    n : int
        Number of training images.
    seed, epoch : int
        The run's seed and the absolute epoch.

    Returns
    -------
    tuple of torch.Tensor
        ``offsets`` (n, 2) int64 in ``0 .. 2 * PAD`` (row, column of the crop's corner in the
        padded image) and ``flips`` (n,) bool, indexed by image.
    """
    n = validate.integer("n", n, low=1)
    key = derive(seed, Purpose.AUGMENT, validate.integer("epoch", epoch, low=0))
    generator = torch.Generator().manual_seed(key)
    offsets = torch.randint(0, 2 * PAD + 1, (n, 2), generator=generator)
    flips = torch.randint(0, 2, (n,), generator=generator).bool()
    return offsets, flips


def augment(x, offsets, flips):
    """Random crop with :data:`PAD` zero pixels of padding, then horizontal flip.

    Image ``i`` of the result is the window ``padded[i, :, r:r + H, c:c + W]`` of ``x[i]``
    zero-padded by :data:`PAD` on each side, with ``(r, c) = offsets[i]``, mirrored left-right
    where ``flips[i]``. Offsets ``(PAD, PAD)`` and no flip give ``x[i]`` back.

    Parameters
    ----------
    x : torch.Tensor
        Images (B, C, H, W).
    offsets : torch.Tensor
        (B, 2) integers in ``0 .. 2 * PAD`` (:func:`augmentation`, indexed by the batch).
    flips : torch.Tensor
        (B,) bool.

    Returns
    -------
    torch.Tensor
        (B, C, H, W), a new tensor on the device of ``x``.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        validate.fail("x", "a tensor of images (B, C, H, W)", error=TypeError,
                      shown=getattr(x, "shape", type(x).__name__))
    batch, channels, height, width = x.shape
    if tuple(offsets.shape) != (batch, 2) or tuple(flips.shape) != (batch,):
        validate.fail("offsets, flips", f"of shapes ({batch}, 2) and ({batch},)",
                      shown=f"{tuple(offsets.shape)} and {tuple(flips.shape)}")
    offsets, flips = offsets.to(x.device), flips.to(x.device)
    padded = torch.nn.functional.pad(x, (PAD, PAD, PAD, PAD))
    rows = offsets[:, :1] + torch.arange(height, device=x.device)
    cols = offsets[:, 1:] + torch.arange(width, device=x.device)
    out = padded[torch.arange(batch, device=x.device)[:, None, None, None],
                 torch.arange(channels, device=x.device)[None, :, None, None],
                 rows[:, None, :, None], cols[:, None, None, :]]
    return torch.where(flips[:, None, None, None], out.flip(-1), out)


# --------------------------------------------------------------------------- safe unpickling

class UnsafePickleError(pickle.UnpicklingError):
    """A pickle referenced a global that :func:`safe_pickle_load` does not allow."""


def _multiarray():
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    return multiarray


def _allowed_globals():
    multiarray = _multiarray()

    def reconstruct(subtype, shape, dtype):
        # numpy's array constructor; only plain ndarrays (no subclass code runs).
        if subtype is not np.ndarray:
            raise UnsafePickleError(f"refusing to build an array of type {subtype!r}")
        return multiarray._reconstruct(subtype, shape, dtype)

    return {
        ("numpy.core.multiarray", "_reconstruct"): reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler whose :meth:`find_class` allows only what a pickled numpy array needs."""

    def __init__(self, file, *, source="<pickle>", **kwargs):
        super().__init__(file, **kwargs)
        self._source = source
        self._allowed = _allowed_globals()

    def find_class(self, module, name):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._source}: refusing to load global {module}.{name}; CIFAR pickles "
                f"may only reference {', '.join(f'{m}.{n}' for m, n in self._allowed)}. The "
                "file is not a genuine CIFAR batch (and nothing in it was run).") from None

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self._source}: refusing persistent id {pid!r}")


def safe_pickle_load(path):
    """Unpickle a CIFAR python file without running any code the file names.

    A restricted :class:`pickle.Unpickler` (see the Python documentation, "Restricting
    globals"): :meth:`~pickle.Unpickler.find_class` allows exactly
    ``numpy.core.multiarray._reconstruct`` (and its numpy 2 spelling
    ``numpy._core.multiarray._reconstruct``, for plain ndarrays only), ``numpy.ndarray`` and
    ``numpy.dtype``, which is what the original files (protocol 2 pickles written by Python 2:
    a dict of byte-string keys to byte strings, lists of ints and uint8 arrays) need. Anything
    else (``os.system``, ``builtins.eval``, ...) raises before it is called. Strings are read
    with ``encoding="bytes"``, as Python 2 wrote them. Files re-pickled by Python 3 load too
    with protocols 3 and 4; with protocol 2, Python 3 stores bytes through
    ``_codecs.encode``, which is refused.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    object
        The unpickled object (for CIFAR, a dict with bytes keys).

    Raises
    ------
    pickle.UnpicklingError
        (:class:`UnsafePickleError`) the pickle references a global that is not allowed.
    """
    path = Path(path)
    with open(path, "rb") as f:
        return _SafeUnpickler(f, source=str(path), encoding="bytes").load()


# --------------------------------------------------------------------------- fake data

class _Python2Pickler(pickle._Pickler):
    """Protocol 2 pickler that writes str/bytes as Python 2 byte strings (BINSTRING) and
    numpy's globals under their numpy 1 names, as the original CIFAR files have them."""

    dispatch = dict(pickle._Pickler.dispatch)
    _names = {id(np.ndarray): ("numpy", "ndarray"), id(np.dtype): ("numpy", "dtype")}

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self._names = dict(self._names)
        self._names[id(_multiarray()._reconstruct)] = ("numpy.core.multiarray", "_reconstruct")

    def save_py2_string(self, obj):
        data = obj.encode("latin-1") if isinstance(obj, str) else bytes(obj)
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + len(data).to_bytes(4, "little") + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2_string
    dispatch[str] = save_py2_string

    def save_global(self, obj, name=None):
        if id(obj) not in self._names:
            raise pickle.PicklingError(f"unexpected global {obj!r} in a fake CIFAR batch")
        module, name = self._names[id(obj)]
        self.write(pickle.GLOBAL + module.encode() + b"\n" + name.encode() + b"\n")
        self.memoize(obj)


def _write_pickle(path, obj):
    write_atomic(path, lambda f: _Python2Pickler(f).dump(obj))


def write_fake_cifar(folder, kind="cifar10", n_per_batch=10, seed=0):
    """Write a tiny fake CIFAR-10 or CIFAR-100 in the format of the original python files.

    Random uint8 images and labels, pickled like the originals (protocol 2, Python 2 byte
    strings, numpy arrays), so :func:`load` reads them exactly as it reads the real data.

    Parameters
    ----------
    folder : str or os.PathLike
        Parent folder: the files go to ``folder/cifar-10-batches-py/`` (``data_batch_1`` ...
        ``data_batch_5``, ``test_batch``, ``batches.meta``) or ``folder/cifar-100-python/``
        (``train``, ``test``, ``meta``). Created if missing.
    kind : {"cifar10", "cifar100"}
    n_per_batch : int, default 10
        Images per file.
    seed : int, default 0

    Returns
    -------
    pathlib.Path
        The data set's folder (what :func:`load` also accepts as ``data_dir``).
    """
    validate.choice("kind", kind, tuple(_CIFAR))
    n = validate.integer("n_per_batch", n_per_batch, low=1)
    spec = _CIFAR[kind]
    out = Path(folder) / spec["folder"]
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    classes = spec["classes"]
    for i, fname in enumerate(spec["train"] + (spec["val"],)):
        labels = [int(v) for v in rng.integers(0, classes, size=n)]
        batch = {
            b"data": rng.integers(0, 256, size=(n, _CIFAR_PIXELS), dtype=np.uint8),
            b"filenames": [f"fake_{fname}_{j:05d}.png".encode() for j in range(n)],
        }
        if kind == "cifar10":
            batch[b"batch_label"] = f"fake batch {i + 1} of 6".encode()
            batch[b"labels"] = labels
        else:
            batch[b"batch_label"] = f"fake {fname}ing batch 1 of 1".encode()
            batch[b"fine_labels"] = labels
            batch[b"coarse_labels"] = [v // 5 for v in labels]
        _write_pickle(out / fname, batch)
    if kind == "cifar10":
        meta = {b"label_names": [f"class{c}".encode() for c in range(10)],
                b"num_cases_per_batch": n, b"num_vis": _CIFAR_PIXELS}
        _write_pickle(out / "batches.meta", meta)
    else:
        meta = {b"fine_label_names": [f"fine{c}".encode() for c in range(100)],
                b"coarse_label_names": [f"coarse{c}".encode() for c in range(20)]}
        _write_pickle(out / "meta", meta)
    return out
