"""The runs folder (sgdlab.nn.runs): keys, the lock and its stale rule, a run done once."""

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from sgdlab.nn import runs


def _dead_pid():
    """The id of a process of this host that has exited (and been reaped)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def _write_lock(path, **holder):
    path.write_text(json.dumps(dict({"host": "elsewhere", "pid": 1, "token": "x"}, **holder)))


# -- the lock -------------------------------------------------------------------------------
def test_lock_is_exclusive_and_released(tmp_path):
    a, b = runs.Lock(tmp_path / "lock"), runs.Lock(tmp_path / "lock")
    assert a.acquire() and a.acquire()  # held: acquiring again is a no-op
    assert not b.acquire()
    holder = b.holder()
    assert holder["host"] == socket.gethostname() and holder["pid"] == os.getpid()
    assert holder["token"] == a.token and holder["created"] <= time.time()
    assert not b.stale() and not b.break_stale()  # a live holder of this host
    b.release()  # not b's: nothing happens
    assert (tmp_path / "lock").is_file()
    a.release()
    assert b.holder() is None and b.acquire()
    b.release()
    with runs.Lock(tmp_path / "lock") as c:
        assert c.holder()["token"] == c.token
    assert not (tmp_path / "lock").exists()


def test_lock_heartbeat_refreshes_its_time(tmp_path):
    lock = runs.Lock(tmp_path / "lock", heartbeat_seconds=0.05)
    assert lock.acquire()
    os.utime(lock.path, (1, 1))
    time.sleep(0.5)
    assert lock.path.stat().st_mtime > 1e9  # refreshed by the holder's thread
    lock.release()


def test_a_lock_of_a_dead_process_of_this_host_is_stale(tmp_path):
    _write_lock(tmp_path / "lock", host=socket.gethostname(), pid=_dead_pid())
    lock = runs.Lock(tmp_path / "lock")
    assert lock.stale() and lock.break_stale() and lock.holder() is None
    assert lock.acquire()
    lock.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing left beside


def test_a_lock_that_stands_still_is_stale(tmp_path):
    path = tmp_path / "lock"
    _write_lock(path)  # another host: only its modification time tells
    lock = runs.Lock(path, stale_seconds=0.3)
    assert not lock.stale()  # the first look starts the watch
    time.sleep(0.15)
    os.utime(path, ns=(10**18, 10**18))  # the holder's heartbeat: the watch starts again
    assert not lock.stale()
    time.sleep(0.15)
    assert not lock.stale()
    time.sleep(0.25)
    assert lock.stale() and lock.break_stale() and not path.exists()


def test_breaking_a_stale_lock_puts_back_a_lock_taken_meanwhile(tmp_path, monkeypatch):
    path = tmp_path / "lock"
    _write_lock(path, host=socket.gethostname(), pid=_dead_pid())
    real = os.rename

    def race(src, dst):  # another waiter broke it first and a new holder took the lock
        _write_lock(path, token="fresh")
        real(src, dst)

    monkeypatch.setattr(os, "rename", race)
    assert not runs.Lock(path).break_stale()
    assert json.loads(path.read_text())["token"] == "fresh"
    assert [p.name for p in tmp_path.iterdir()] == ["lock"]


def test_lock_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="stale_seconds must be a finite number > 0, got 0"):
        runs.Lock(tmp_path / "lock", stale_seconds=0)
    with pytest.raises(TypeError, match="path must be"):
        runs.Lock(3)


# -- keys -----------------------------------------------------------------------------------
def test_the_key_is_the_settings_that_determine_a_run():
    from sgdlab.nn.train import TrainConfig

    config = TrainConfig(dataset="digits", limit=64, epochs=2)
    key = runs.run_key(runs.settings(config, "data"))
    assert len(key) == 16 and key == runs.run_key(runs.settings(config, "data"))
    # where the data were read from is not what they are
    assert key == runs.run_key(runs.settings(
        dataclasses.replace(config, data_dir="/elsewhere"), "data"))
    others = [runs.settings(dataclasses.replace(config, epochs=3), "data"),
              runs.settings(dataclasses.replace(config, seed=1), "data"),
              runs.settings(dataclasses.replace(config, device="cuda"), "data"),
              runs.settings(config, "other data"),
              runs.settings(config, "data", start_epoch=1),
              runs.settings(config, "data", start_params=np.zeros(3)),
              runs.settings(config, "data", seeds=[1, 2])]
    assert len({key} | {runs.run_key(o) for o in others}) == 1 + len(others)
    # an ensemble's config.seed is unused: not part of its key
    assert runs.run_key(runs.settings(config, "d", seeds=[1, 2])) == runs.run_key(
        runs.settings(dataclasses.replace(config, seed=9), "d", seeds=[1, 2]))
    # the start weights count as the float32 vector train() starts from
    assert runs.settings(config, "d", start_params=np.ones(3)) == runs.settings(
        config, "d", start_params=np.ones(3, dtype=np.float32))


def test_data_fingerprint_is_the_data():
    from sgdlab.nn import data

    a = runs.data_fingerprint(data.load("digits", limit=64))
    assert a == runs.data_fingerprint(data.load("digits", limit=64))
    assert a != runs.data_fingerprint(data.load("digits", limit=65))
    assert a != runs.data_fingerprint(data.load("digits", limit=64, val_split="holdout"))


def test_differences_name_the_keys():
    saved = {"epochs": 3, "k": 4, "nested": {"a": 1, "b": 2}, "gone": 1}
    asked = {"epochs": 4, "k": 4, "nested": {"a": 1, "b": 3}, "new": None}
    found = runs.differences(saved, asked)
    assert found == [("epochs", 3, 4), ("gone", 1, "(absent)"), ("nested.b", 2, 3),
                     ("new", "(absent)", None)]
    assert runs.describe_differences(found[:1]) == "epochs: saved 3, asked 4"
    assert runs.differences(saved, dict(saved)) == []


def test_default_runs_folder_is_next_to_out(tmp_path):
    assert runs.default_folder(tmp_path / "results" / "trajectory") == (
        tmp_path / "results" / "runs")


# -- a run done once -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_data():
    from sgdlab.nn import data

    return data.load("digits", limit=64)


@pytest.mark.usefixtures("torch_one_thread")
def test_a_run_is_trained_once_then_reused(tmp_path, tiny_data):
    from sgdlab.nn.train import TrainConfig, load_result, train

    config = TrainConfig(dataset="digits", limit=64, epochs=1)
    lines = []
    first = runs.trained(config, tmp_path, dataset=tiny_data, progress=False,
                         log=lines.append, origin={"experiment": "trajectory",
                                                   "unit": "trial0", "out": "/x"})
    assert first.source == "trained" and first.folder == tmp_path / first.key
    assert lines == [f"training run {first.folder}"]
    again = runs.trained(config, tmp_path, dataset=tiny_data, progress=False, log=lines.append)
    assert again == dataclasses.replace(first, source="reused")
    assert lines[-1] == (f"reusing training run {first.folder} (trained for trajectory trial0 "
                         "in /x)")
    assert json.loads((first.folder / "settings.json").read_text()) == runs.settings(
        config, runs.data_fingerprint(tiny_data))
    assert sorted(p.name for p in first.folder.iterdir()) == [
        "checkpoint.pt", "config.json", "origin.json", "result.json", "result.npz",
        "settings.json", "weights.npy"]  # no lock left
    reference = train(config, tmp_path / "alone", progress=False)
    np.testing.assert_array_equal(first.weights, reference.weights)
    np.testing.assert_array_equal(load_result(first.folder).weights, reference.weights)


@pytest.mark.usefixtures("torch_one_thread")
def test_a_run_locked_by_another_process_is_waited_for(tmp_path, tiny_data, monkeypatch):
    from sgdlab.nn.train import TrainConfig, train

    config = TrainConfig(dataset="digits", limit=64, epochs=1)
    key = runs.run_key(runs.settings(config, runs.data_fingerprint(tiny_data)))
    other = runs.Lock(tmp_path / key / "lock")
    (tmp_path / key).mkdir()
    assert other.acquire()  # another process (alive, on this host) trains it
    monkeypatch.setattr(runs, "LOG_SECONDS", 0.0)
    lines, got = [], {}
    waiter = threading.Thread(target=lambda: got.update(run=runs.trained(
        config, tmp_path, dataset=tiny_data, progress=False, log=lines.append,
        poll_seconds=0.05)))
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive() and lines
    assert lines[0].startswith(f"waiting for training run {tmp_path / key}, trained by "
                               f"{socket.gethostname()} pid {os.getpid()}")
    train(config, tmp_path / key, progress=False, dataset=tiny_data)
    other.release()
    waiter.join(60)
    assert got["run"].source == "waited" and got["run"].key == key


@pytest.mark.usefixtures("torch_one_thread")
def test_a_stale_lock_is_removed_and_the_run_continued(tmp_path, tiny_data, monkeypatch):
    from sgdlab.nn import train as train_mod
    from sgdlab.nn.train import TrainConfig

    config = TrainConfig(dataset="digits", limit=64, epochs=2)
    key = runs.run_key(runs.settings(config, runs.data_fingerprint(tiny_data)))
    real, epochs = train_mod.sgd_epoch, []

    def dying(*args, **kwargs):  # the first trainer dies during its second epoch
        epochs.append(1)
        if len(epochs) == 2:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(train_mod, "sgd_epoch", dying)
    with pytest.raises(KeyboardInterrupt):
        runs.trained(config, tmp_path, dataset=tiny_data, progress=False)
    monkeypatch.setattr(train_mod, "sgd_epoch", real)
    _write_lock(tmp_path / key / "lock", host=socket.gethostname(), pid=_dead_pid())
    lines = []
    run = runs.trained(config, tmp_path, dataset=tiny_data, progress=False, log=lines.append)
    assert run.source == "trained" and lines[0].startswith("removed the stale lock")
    reference = train_mod.train(config, tmp_path / "alone", progress=False)
    np.testing.assert_array_equal(run.weights, reference.weights)  # continued, bitwise


@pytest.mark.usefixtures("torch_one_thread")
def test_a_run_folder_of_other_settings_is_refused(tmp_path, tiny_data):
    from sgdlab.nn.train import TrainConfig

    config = TrainConfig(dataset="digits", limit=64, epochs=1)
    run = runs.trained(config, tmp_path, dataset=tiny_data, progress=False)
    saved = json.loads((run.folder / "settings.json").read_text())
    saved["config"]["epochs"] = 5
    (run.folder / "settings.json").write_text(json.dumps(saved))
    with pytest.raises(runs.ConfigMismatchError,
                       match=r"training run folder '.*' holds a run of other settings: "
                             r"config\.epochs: saved 5, asked 1\. It is damaged"):
        runs.trained(config, tmp_path, dataset=tiny_data, progress=False)
