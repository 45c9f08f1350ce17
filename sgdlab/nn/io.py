"""Files of :mod:`sgdlab.nn`, each written atomically: JSON, ``.npz`` / ``.npy``, checkpoints.

Every file goes through :func:`write_atomic`: the bytes are written to a temporary file in the
target's folder and flushed to the disk (``fsync``), then moved over the target with
:func:`os.replace`, and the folder is flushed too, so a run killed at any moment, or a machine
that loses power, leaves either the old file or the new one, never half of one. The training runs
(:mod:`sgdlab.nn.train`), the experiments (:mod:`sgdlab.nn.experiments`) and the fake CIFAR
files (:func:`sgdlab.nn.data.write_fake_cifar`) all write through it.

Importing this module does not import torch (the checkpoint functions import it when called).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["write_atomic", "write_json", "write_npz", "write_npy", "save_checkpoint",
           "load_checkpoint"]


def write_atomic(path, write):
    """Write ``path`` through a temporary file in the same folder, then ``os.replace``.

    The temporary file is ``fsync``-ed before the rename (so the new name never points at
    bytes still in the page cache) and the folder after it (so the rename itself survives a
    crash).

    Parameters
    ----------
    path : str or os.PathLike
    write : callable
        ``write(f)`` writes the content to the binary file object ``f``. If it raises, the
        temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder):
    """Flush a folder's entries (a rename in it) to the disk; a no-op where folders cannot be
    opened (Windows)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path, obj):
    """``obj`` as indented JSON (``json.dumps(obj, indent=2)``), atomically."""
    write_atomic(path, lambda f: f.write(json.dumps(obj, indent=2).encode()))


def write_npz(path, arrays):
    """The dict ``arrays`` as an uncompressed ``.npz`` (:func:`numpy.savez`), atomically."""
    write_atomic(path, lambda f: np.savez(f, **arrays))


def write_npy(path, array):
    """One array as ``.npy`` (:func:`numpy.save`), atomically."""
    write_atomic(path, lambda f: np.save(f, array))


def save_checkpoint(path, state):
    """``torch.save(state)`` to ``path``, atomically."""
    import torch

    write_atomic(path, lambda f: torch.save(state, f))


def load_checkpoint(path, device):
    """A checkpoint of :func:`save_checkpoint`, its tensors on ``device`` (tensors and plain
    containers only: ``torch.load(..., weights_only=True)``)."""
    import torch

    return torch.load(path, map_location=device, weights_only=True)
