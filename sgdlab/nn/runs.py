"""The runs folder: every training run stored once, by the settings that determine it.

A training run of the Section 5 experiments (a trajectory's trial, the neighbourhood's run,
allpairs' shared epochs and member groups, spectrum's base run and continuations) is a
function of its settings alone: the :class:`~sgdlab.nn.train.TrainConfig` (architecture,
seed, schedule, protocol options, device), the data it trains on, its start (the
initialisation, or given start weights and start epoch) and, for an ensemble, its seeds.
:func:`settings` writes them down, and :func:`run_key` hashes them: the run lives in
``RUNS/KEY/`` (its :func:`sgdlab.nn.train.train` or :func:`~sgdlab.nn.train.train_ensemble`
files, plus ``settings.json``, the settings in full, and ``origin.json``, which experiment
unit trained it and where). The data enter as :func:`data_fingerprint`, a hash of the
tensors the run trains on, not as the folder they were read from, so one runs folder serves
several experiments, commands and machines: ``python -m sgdlab run neighbourhood`` after
``run trajectory`` with the same training settings trains nothing (its one run is the
trajectory's trial 0) and says which run it reuses.

Which runs folder. ``python -m sgdlab run ... --out DIR`` uses ``runs/`` next to ``DIR``
(:func:`default_folder`: ``results/paper/trajectory`` and ``results/paper/neighbourhood``
share ``results/paper/runs``); ``--runs DIR`` (``runs=`` of
:func:`sgdlab.nn.experiments.run`) names another one, e.g. one folder for all experiments
on a shared file system. A finished run is always reused and an unfinished one continued
from its checkpoint (both give bitwise the arrays of a fresh run, on the same kind of device
at the same thread count), with or without ``--resume``, which is about the experiment's own
folder. To train a run again, delete its folder.

**The lock.** :func:`trained` and :func:`trained_ensemble` train a run only while holding its
:class:`Lock`, the file ``RUNS/KEY/lock``, created atomically (``O_CREAT | O_EXCL``) and
holding the host name, the process id and a random token. So two ranks of one command, or two
commands on one file system, never train the same run at once: the others wait on the file
system (polling every :data:`POLL_SECONDS` at most, with a line every :data:`LOG_SECONDS`),
then reuse the finished run. The holder refreshes the lock file's modification time every
:data:`HEARTBEAT_SECONDS` (from a thread) and removes it when done. **Stale lock rule**: a
lock is stale, and a waiter removes it and takes the run over (continuing its checkpoint),
when its holder ran on this host and that process no longer exists (or is a zombie), or when
the waiter has watched its modification time stand still for :data:`STALE_SECONDS` of its own
clock (a holder on another machine that died; no clocks are compared). Removal renames the
lock aside and checks its token, so two waiters never both take one run. (Processes that
share a host name must share its process table: containers with one host name and their own
process ids should give each container its own host name.)

**One config policy.** A folder of runs, of an experiment, or a unit file is refused when its
settings differ from those asked for, before any work, with :class:`ConfigMismatchError`
(a ``FileExistsError`` and a ``ValueError``) whose message names the differing keys
(:func:`differences`) and how to proceed: never a silent recompute.

Importing this module does not import torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _validate as validate
from . import io

__all__ = ["FORMAT", "POLL_SECONDS", "LOG_SECONDS", "HEARTBEAT_SECONDS", "STALE_SECONDS",
           "ConfigMismatchError", "differences", "describe_differences", "default_folder",
           "data_fingerprint", "settings", "digest", "run_key", "Lock", "StoredRun", "trained",
           "trained_ensemble", "stderr_log"]

FORMAT = 1
"""Version of :func:`settings` (part of every key: a new format never reuses old runs)."""
POLL_SECONDS = 2.0
"""Longest pause between two looks at a run (or a unit) another process is computing."""
LOG_SECONDS = 60.0
"""Seconds between two progress lines of a process that waits."""
HEARTBEAT_SECONDS = 30.0
"""Seconds between two refreshes of a held lock's modification time."""
STALE_SECONDS = 600.0
"""A lock whose modification time stood still this long (watched by a waiter) is stale."""


class ConfigMismatchError(FileExistsError, ValueError):
    """A folder, unit file or run holds work of other settings than those asked for.

    Raised before any work; the message names the differing keys and how to proceed. Both a
    ``FileExistsError`` (a folder in the way) and a ``ValueError`` (settings that disagree).
    """


def differences(saved, asked, prefix=""):
    """The keys on which two settings (nested dicts of JSON values) differ.

    Parameters
    ----------
    saved, asked : dict
    prefix : str
        Put before every key (nested keys are joined with ``"."``).

    Returns
    -------
    list of (str, object, object)
        ``(key, saved value, asked value)``, sorted by key; a key missing on one side has the
        value ``"(absent)"`` there.
    """
    if not isinstance(saved, dict) or not isinstance(asked, dict):
        return [] if saved == asked else [(prefix.rstrip(".") or "(value)", saved, asked)]
    found = []
    for key in sorted(set(saved) | set(asked)):
        a, b = saved.get(key, "(absent)"), asked.get(key, "(absent)")
        if isinstance(a, dict) and isinstance(b, dict):
            found += differences(a, b, f"{prefix}{key}.")
        elif a != b:
            found.append((f"{prefix}{key}", a, b))
    return found


def describe_differences(found):
    """``"epochs: saved 3, asked 4; k: saved 4, asked 3"`` for :func:`differences`."""
    return "; ".join(f"{key}: saved {_short(a)}, asked {_short(b)}" for key, a, b in found)


def _short(value):
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:18] + "..." + text[-18:]


def default_folder(out):
    """The runs folder of an experiment folder ``out``: ``runs`` next to it (the parent of
    ``out``), so that the experiments written side by side share their training runs."""
    return Path(validate.path("out", out)).parent / "runs"


# -- the key of a run ------------------------------------------------------------------------
def data_fingerprint(dataset):
    """SHA-256 (hex) of the data a run trains and is evaluated on: the name, the number of
    classes, the validation split and the bytes of the four tensors of ``dataset``
    (:class:`sgdlab.nn.data.Dataset`), so not the folder they were read from."""
    digest = hashlib.sha256()
    tensors = [dataset.x_train, dataset.y_train, dataset.x_val, dataset.y_val]
    digest.update(json.dumps([dataset.name, int(dataset.classes), dataset.val_split,
                              [list(t.shape) for t in tensors],
                              [str(t.dtype) for t in tensors]]).encode())
    for t in tensors:  # the buffers themselves, no copy
        digest.update(np.ascontiguousarray(t.detach().cpu().numpy()).data)
    return digest.hexdigest()


def _vector_sha256(vector):
    """SHA-256 of start weights as :func:`sgdlab.nn.train.train` records them (float32)."""
    if hasattr(vector, "detach"):
        vector = vector.detach().cpu().numpy()
    return hashlib.sha256(np.ascontiguousarray(np.asarray(vector, dtype=np.float32))
                          .tobytes()).hexdigest()


def settings(config, fingerprint, *, start_params=None, start_epoch=0, seeds=None,
             method="grouped"):
    """Everything that determines a training run, as a JSON-able dict (what :func:`run_key`
    hashes and ``RUNS/KEY/settings.json`` holds).

    Parameters
    ----------
    config : sgdlab.nn.train.TrainConfig
        Its fields except ``data_dir`` (where the data were read from is not what they are;
        ``fingerprint`` is) and, for an ensemble, ``seed`` (unused: ``seeds`` are).
    fingerprint : str
        :func:`data_fingerprint` of the data.
    start_params : array_like, optional
        Start weights (their SHA-256 as float32 enters the settings).
    start_epoch : int, default 0
    seeds : sequence of int, optional
        An ensemble's member seeds (:func:`sgdlab.nn.train.train_ensemble`); None: one run of
        :func:`sgdlab.nn.train.train`.
    method : str, default "grouped"
        An ensemble's method.

    Returns
    -------
    dict
    """
    values = config.to_dict()
    values.pop("data_dir")
    entry = {"format": FORMAT, "kind": "train", "config": values, "data": str(fingerprint),
             "start_epoch": validate.integer("start_epoch", start_epoch, low=0),
             "start_params_sha256": None if start_params is None
             else _vector_sha256(start_params)}
    if seeds is not None:
        values.pop("seed")
        entry.update(kind="ensemble", seeds=[validate.seed(f"seeds[{i}]", s)
                                             for i, s in enumerate(seeds)], method=method)
    return entry


def digest(value):
    """SHA-256 (hex) of a JSON value, its keys sorted: the same settings, the same digest."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def run_key(entry):
    """The key of a run: the first 16 hex digits of the :func:`digest` of its
    :func:`settings`. Its folder's ``settings.json`` holds them in full, so a clash of two
    keys is refused, never taken for the same run."""
    return digest(entry)[:16]


# -- the lock -------------------------------------------------------------------------------
def _host():
    return socket.gethostname()


def _alive(pid):
    """Whether process ``pid`` of this host exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child that its parent has not reaped yet still answers kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


class Lock:
    """An exclusive lock: the file ``path``, created with ``O_CREAT | O_EXCL`` (atomic, also
    on NFS v3 and later) and holding ``{"host", "pid", "token", "created"}`` as JSON.

    See the module's notes for the stale lock rule. Use it as a context manager (``with
    Lock(path):`` waits for the lock) or through :meth:`acquire` (never waits) and
    :meth:`release`.

    Parameters
    ----------
    path : str or os.PathLike
    stale_seconds : float, default :data:`STALE_SECONDS`
    heartbeat_seconds : float, default :data:`HEARTBEAT_SECONDS`
    """

    def __init__(self, path, *, stale_seconds=STALE_SECONDS,
                 heartbeat_seconds=HEARTBEAT_SECONDS):
        self.path = Path(validate.path("path", path))
        self.stale_seconds = validate.real("stale_seconds", stale_seconds, above=0)
        self.heartbeat_seconds = validate.real("heartbeat_seconds", heartbeat_seconds, above=0)
        self.token = None
        self._stop = None
        self._watched = None  # (holder, mtime, since): what this process saw stand still

    def acquire(self):
        """Take the lock if it is free (True), else return False at once."""
        if self.token is not None:
            return True
        token = uuid.uuid4().hex
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            json.dump({"host": _host(), "pid": os.getpid(), "token": token,
                       "created": time.time()}, f)
        self.token, self._stop = token, threading.Event()
        threading.Thread(target=self._beat, args=(self._stop,), daemon=True,
                         name=f"sgdlab lock {self.path}").start()
        return True

    def _beat(self, stop):
        while not stop.wait(self.heartbeat_seconds):
            try:
                os.utime(self.path)
            except OSError:
                return

    def release(self):
        """Give the lock back (remove the file if it is still this lock's)."""
        if self.token is None:
            return
        self._stop.set()
        holder = self.holder()
        if holder is not None and holder.get("token") == self.token:
            self.path.unlink(missing_ok=True)
        self.token = None

    def holder(self):
        """The lock file's content (a dict; ``{}`` while it is being written), or None when
        there is no lock."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    def stale(self):
        """Whether the lock is stale (module notes); False when there is none. Call it while
        waiting: the second rule counts from the first call that saw the current holder."""
        holder = self.holder()
        if holder is None:
            return False
        if holder.get("host") == _host() and isinstance(holder.get("pid"), int) \
                and holder.get("token") != self.token and not _alive(holder["pid"]):
            return True
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return False
        now = time.monotonic()
        seen = (holder.get("token"), mtime)
        if self._watched is None or self._watched[0] != seen:
            self._watched = (seen, now)
            return False
        return now - self._watched[1] >= self.stale_seconds

    def break_stale(self):
        """Remove the lock if it is stale (True when it removed it). The file is renamed
        aside first and its token checked, so a lock taken meanwhile by another process is
        put back, not removed."""
        holder = self.holder()
        if holder is None or not self.stale():
            return False
        grave = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex}")
        try:
            os.rename(self.path, grave)
        except FileNotFoundError:
            return False
        try:
            moved = json.loads(grave.read_text())
        except (OSError, json.JSONDecodeError):
            moved = {}
        if moved.get("token") != holder.get("token"):
            try:  # not the lock judged stale: give it back, unless a new one exists
                os.link(grave, self.path)
            except OSError:
                pass
            grave.unlink(missing_ok=True)
            return False
        grave.unlink(missing_ok=True)
        self._watched = None
        return True

    def __enter__(self):
        delay = 0.05
        while not self.acquire():
            self.break_stale()
            time.sleep(delay)
            delay = min(2 * delay, POLL_SECONDS)
        return self

    def __exit__(self, *exc):
        self.release()


# -- runs ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredRun:
    """A finished run in a runs folder (:func:`trained`, :func:`trained_ensemble`).

    Attributes
    ----------
    key : str
        :func:`run_key` of its settings.
    folder : pathlib.Path
        ``RUNS/KEY``: the files of :func:`sgdlab.nn.train.train` (read them with
        :func:`sgdlab.nn.train.load_result`) or of :func:`~sgdlab.nn.train.train_ensemble`
        (:func:`~sgdlab.nn.train.load_ensemble`).
    source : {"reused", "trained", "waited"}
        Found finished; trained (or finished) by this call; or finished by another process
        while this call waited.
    """

    key: str
    folder: Path
    source: str

    @property
    def weights(self):
        """The weights at every epoch start, a read-only memory map of ``weights.npy``:
        (E + 1, P) for a run, (E + 1, M, P) for an ensemble."""
        return np.load(self.folder / "weights.npy", mmap_mode="r")


def trained(config, folder, *, dataset, fingerprint=None, start_params=None, start_epoch=0,
            progress=True, log=None, origin=None, poll_seconds=POLL_SECONDS,
            stale_seconds=STALE_SECONDS):
    """The run of :func:`sgdlab.nn.train.train` of ``config`` in the runs folder ``folder``:
    reused when finished, else trained here under its :class:`Lock` (continuing its
    checkpoint), or waited for while another process holds the lock.

    Parameters
    ----------
    config : sgdlab.nn.train.TrainConfig
    folder : str or os.PathLike
        The runs folder (created if missing).
    dataset : sgdlab.nn.data.Dataset
        The data of ``config`` (:func:`sgdlab.nn.data.load`), loaded once by the caller.
    fingerprint : str, optional
        :func:`data_fingerprint` of ``dataset`` (computed when None).
    start_params, start_epoch
        As in :func:`sgdlab.nn.train.train`.
    progress : bool, default True
        The training progress bar.
    log : callable, optional
        Called with one line of text: which run is reused, trained, or waited for.
    origin : dict, optional
        Written to ``origin.json`` by the process that trains the run (who asked for it).
    poll_seconds, stale_seconds : float
        See :data:`POLL_SECONDS`, :data:`STALE_SECONDS`.

    Returns
    -------
    StoredRun

    Raises
    ------
    ConfigMismatchError
        ``RUNS/KEY`` holds a run of other settings (a damaged folder or a clash of keys).
    """
    from .train import train

    entry = settings(config, fingerprint or data_fingerprint(dataset),
                     start_params=start_params, start_epoch=start_epoch)
    return _stored(entry, folder, lambda path: train(
        config, path, resume=True, progress=progress, start_params=start_params,
        start_epoch=start_epoch, dataset=dataset), log, origin, poll_seconds, stale_seconds)


def trained_ensemble(config, seeds, folder, *, dataset, fingerprint=None, start_params=None,
                     start_epoch=0, method="grouped", progress=True, log=None, origin=None,
                     poll_seconds=POLL_SECONDS, stale_seconds=STALE_SECONDS):
    """The ensemble of :func:`sgdlab.nn.train.train_ensemble` of ``config`` and ``seeds`` in
    the runs folder ``folder``, as :func:`trained` keeps a run (its weights appended epoch by
    epoch, so an interrupted ensemble continues from its last finished epoch).

    Parameters
    ----------
    config : sgdlab.nn.train.TrainConfig
    seeds : sequence of int
    folder : str or os.PathLike
    dataset, fingerprint, start_params, start_epoch, progress, log, origin
        As in :func:`trained`.
    poll_seconds, stale_seconds
        As in :func:`trained`.
    method : {"grouped", "vmap"}, default "grouped"

    Returns
    -------
    StoredRun
    """
    from .train import train_ensemble

    entry = settings(config, fingerprint or data_fingerprint(dataset),
                     start_params=start_params, start_epoch=start_epoch, seeds=seeds,
                     method=method)
    return _stored(entry, folder, lambda path: train_ensemble(
        config, seeds, start_params=start_params, start_epoch=start_epoch, progress=progress,
        method=method, out_dir=path, resume=True, dataset=dataset), log, origin, poll_seconds,
        stale_seconds)


def _stored(entry, folder, compute, log, origin, poll_seconds, stale_seconds):
    """Find, train or wait for the run of ``entry`` (``compute(path)`` trains it; its
    ``result.json`` marks it finished)."""
    key = run_key(entry)
    path = Path(validate.path("folder", folder)) / key
    path.mkdir(parents=True, exist_ok=True)
    say = log or (lambda line: None)
    lock = Lock(path / "lock", stale_seconds=stale_seconds)
    source, began, last, delay = "reused", time.monotonic(), time.monotonic(), 0.05
    while True:
        _check_settings(path, entry)
        if (path / "result.json").is_file():
            if source == "reused":
                say(f"reusing training run {path}{_made_by(path)}")
            return StoredRun(key, path, source)
        if lock.acquire():
            try:
                _check_settings(path, entry)
                if not (path / "result.json").is_file():
                    if not (path / "settings.json").is_file():
                        io.write_json(path / "settings.json", entry)
                    io.write_json(path / "origin.json", dict(
                        origin or {}, host=_host(), pid=os.getpid(), started=time.time()))
                    say(f"training run {path}")
                    compute(path)
                    source = "trained"
            finally:
                lock.release()
            continue
        if lock.break_stale():
            say(f"removed the stale lock of training run {path}; continuing it here")
            continue
        source = "waited"
        if time.monotonic() - last >= LOG_SECONDS:
            holder, last = lock.holder() or {}, time.monotonic()
            say(f"waiting for training run {path}, trained by {holder.get('host', '?')} pid "
                f"{holder.get('pid', '?')} ({(last - began) / 60:.0f} min so far)")
        time.sleep(delay)
        delay = min(2 * delay, poll_seconds)


def _check_settings(path, entry):
    """Refuse a run folder whose ``settings.json`` is not ``entry``."""
    file = path / "settings.json"
    if not file.is_file():
        return
    saved = json.loads(file.read_text())
    if saved != entry:
        raise ConfigMismatchError(
            f"training run folder {str(path)!r} holds a run of other settings: "
            f"{describe_differences(differences(saved, entry))}. It is damaged, or its key "
            "clashes with another run's: move or delete that folder (or use another --runs "
            "folder)")


def _made_by(path):
    try:
        origin = json.loads((path / "origin.json").read_text())
    except (OSError, json.JSONDecodeError):
        return ""
    what = " ".join(str(origin[k]) for k in ("experiment", "unit") if origin.get(k))
    where = f" in {origin['out']}" if origin.get("out") else ""
    return f" (trained for {what}{where})" if what else ""


def stderr_log(prefix=""):
    """A ``log`` for :func:`trained` that prints each line to standard error."""
    return lambda line: print(f"{prefix}{line}", file=sys.stderr, flush=True)
