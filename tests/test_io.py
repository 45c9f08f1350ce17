"""Tests of sgdlab.nn.io: every file is written atomically and durably."""

import json
import os
import stat

import pytest

from sgdlab.nn import io as nn_io


def test_write_atomic_fsyncs_the_file_and_its_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        info = os.fstat(fd)
        synced.append(("dir" if stat.S_ISDIR(info.st_mode) else "file", info.st_ino,
                       info.st_size))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "result.json"
    nn_io.write_json(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    kinds = [kind for kind, _, _ in synced]
    assert kinds == ["file", "dir"]  # the data before the rename, the rename after it
    # the file synced is the one now at ``path``, with all its bytes; the folder is its folder
    assert synced[0][1:] == (path.stat().st_ino, path.stat().st_size)
    assert synced[1][1] == tmp_path.stat().st_ino


def test_write_atomic_syncs_nothing_of_a_failed_write(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(os, "fsync", synced.append)

    def dying(f):
        f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        nn_io.write_atomic(tmp_path / "a.bin", dying)
    assert synced == [] and list(tmp_path.iterdir()) == []
