"""The Section 5 experiments and two of ours, end to end: train, probe, save
(``python -m sgdlab run ...``).

Each experiment trains networks with :mod:`sgdlab.nn.train`, probes them with
:mod:`sgdlab.nn.probe`, and writes ``result.npz`` + ``result.json`` (its config included) into
its output folder, atomically. Training runs keep their own checkpoints, so an interrupted
experiment resumes where it stopped (``resume=True``).

The experiments (with the paper's sections and figures):

``trajectory`` (paper: 5.1, 5a, 5c)
    :math:`\\langle -\\nabla f(x_t), x_T - x_t\\rangle` per epoch and trial, and the
    mini-batch gradient norms / step lengths seen in training.
``neighbourhood`` (paper: 5.2, 5b)
    The same at ``k`` random points of the ball of radius ``rho`` around each epoch's point,
    with Hoeffding's confidence.
``allpairs`` (paper: 5.3)
    Shared first epochs, ``members`` continuations with other seeds (trained as ensembles of
    member groups); every point against every final solution.
``spectrum`` (paper: 5.4, 6)
    From several epochs of an lr-0.1 run, continue with a small lr; loss of each minimum,
    distance from the init, one-point convexity.
``noise`` (ours; the paper's Section 3 and eq. (2))
    Along an SGD run, the real mini-batch noise :math:`w = \\nabla f_B(x_t) - \\nabla
    f(x_t)` against the paper's model (bounded, the same everywhere): its norms, the share
    of its variance in its top directions and along the Hessian's top eigenvectors, its
    radius; and :math:`\\langle -\\nabla g(y_t), x^* - y_t\\rangle` of g smoothed by the real
    noise, with its standard error, beside f's and that of g smoothed by the model
    (:mod:`sgdlab.nn.noise`, :mod:`sgdlab.nn.curvature`).
``gd`` (ours)
    GD and SGD at a few batch sizes from the same initialisations: final losses and
    accuracies, distances, the Section 5.1 probe, and the sharpness (top Hessian eigenvalue)
    and trace along the way.

Training runs are done once. They live in a runs folder (:mod:`sgdlab.nn.runs`; default
``runs/`` next to ``out``, or ``runs=``), each stored by the settings that determine it (the
seeds of every run come from :func:`sgdlab.nn.seeds.derive`): the neighbourhood's one run is
the trajectory's trial 0 when their training settings agree, and whichever experiment comes
second reuses it (:func:`run_trajectory_and_neighbourhood` runs both).

Scales: ``paper`` is the paper's setting (CIFAR, 300 epochs, ...; needs a GPU and the data
folder), ``book`` fits the book's build on a 2-core CPU with scikit-learn's digits, ``tiny`` is
for the tests. Any field can be overridden.

Units of work and ``torchrun``
------------------------------
Every experiment is cut into named *units*, in phases; the units of a phase are independent:

=============== ============================================================================
trajectory      ``trial{i}``: train trial ``i``; then ``trial{i}-probe{b}``: block ``b`` of
                its trajectory's probe (:data:`PROBE_BLOCK` epochs)
neighbourhood   ``train`` (the one training run); then ``ball{t}``: the ball of epoch ``t``
allpairs        ``shared`` (the shared epochs); ``members{a}-{b}``: members ``a .. b - 1``
                trained as one ensemble (:func:`member_groups`); ``pairs{m}``: trajectory
                ``m`` against every final solution
spectrum        ``base`` (the lr-0.1 run); ``from{s}``: the continuation from epoch ``s``,
                its minimum and its probes
noise           ``train`` (the SGD run); then ``point{t}``: the noise at epoch ``t``, the
                Hessian's top eigenpairs there, and g at its ``y_t``
gd              ``{run}-t{i}``: each SGD and GD run from trial ``i``'s initialisation
                (:func:`units_of`); then ``{run}-t{i}-curvature``: its sharpness, trace and
                Section 5.1 probe at a few points
=============== ============================================================================

Under ``torchrun`` (:mod:`sgdlab.nn.distributed`) unit ``i`` of a phase runs on rank
``i mod world_size``. Every unit writes its arrays to files, atomically: a training unit its
run in the runs folder (weights and checkpoint after every epoch) and ``units/NAME.npz`` (its
per-epoch metrics and the run's key), any other unit ``units/NAME.npz`` (and every
:data:`PROBE_BLOCK` points of a long probe, ``units/NAME-probe{b}.npz``). A rank that has
done its share of a phase waits on the file system for the other units' files (a progress
line every :data:`sgdlab.nn.runs.LOG_SECONDS`), and the next phase reads what it needs from
them (the weights as memory maps). So the ranks exchange no arrays: their only collectives
are the decision to run (a short string) and a last barrier, none waits for a unit, and all
keep torch's default timeout (a hung rank is detected). Rank 0 writes the result, whose
``result.json`` records ``world_size``, the units of each rank and the key of every training
run. If one rank dies, ``torchrun`` stops every rank (a rank that raises also writes
``failed-rank{R}.txt``, which stops the ranks waiting for it); rerunning with
``resume=True`` reuses all those files, so what is recomputed is, on each rank, the unit it
had in flight: the current epoch of a training unit, or the probe unit (a block of
:data:`PROBE_BLOCK` probed epochs, the current block of :data:`PROBE_BLOCK` points of a
``from{s}`` probe, or the whole of one ``ball{t}`` or one ``pairs{m}``: these two are
single cached units).
``out`` and the runs folder must be folders every rank sees (a shared file system).

**One config policy.** Before any work, rank 0 compares ``out``'s ``config.json`` (written
when a run starts) and every unit file with the config asked for, and every rank refuses a
difference (:class:`sgdlab.nn.runs.ConfigMismatchError`, naming the differing keys, and how to
proceed: another ``out``, or the saved settings); an unfinished folder of the same config
continues only with ``resume=True``. Runs in the runs folder are keyed by their settings, so
they are reused or continued whatever ``resume`` says.

**What is guaranteed.** The seeds, the batch orders and the member groups belong to the
units, never to the ranks, and every unit computes the same operations whichever rank runs
it. So a run under ``torchrun`` with any number of ranks gives *bitwise* the arrays and the
summary of the single-process run with the same options, when every process uses the same
device type and the same number of threads per process (``torchrun`` sets
``OMP_NUM_THREADS=1``; run the single process with ``OMP_NUM_THREADS=1`` too), and the same
for a resumed run. With other thread counts float32 results agree only to rounding, which
SGD amplifies (ReLU kinks); their statistics agree. On the CPU the probes loop over points
(:func:`sgdlab.nn.probe.prefers_vmap`), so nothing depends on the vmap width, except the
gradients of ``noise`` (:mod:`sgdlab.nn.noise` maps its mini-batches and points on every
device, the faster path), whose width comes from the CPU's fixed budget. On CUDA
the probes ``vmap`` a width chosen from ``memory_gb``, whose default is a share of
the GPU's *free* memory at the time: set ``--memory-gb`` so that every run cuts a unit's
points the same way; even then cuDNN may pick other algorithms in another process, so CUDA
runs agree to rounding (bitwise where cuDNN's choices coincide), as two CUDA runs of one
process do.

``SGDLAB_KILL_AFTER_UNITS=RANK:N`` (a test hook) makes rank ``RANK`` kill itself with
``SIGKILL`` after it has computed ``N`` unit files.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import _validate as validate
from . import distributed, io, runs
from .config import (OPTIONS, ExperimentConfig, config_for, curvature_indices, gd_step_sizes,
                     restart_epochs, sgd_batch_sizes)
from .names import EXPERIMENTS, SCALES
from .runs import ConfigMismatchError, default_folder, describe_differences, differences
from .seeds import Purpose, derive

__all__ = ["EXPERIMENTS", "SCALES", "PROBE_BLOCK", "MEMBERS_PER_GROUP", "run",
           "run_trajectory_and_neighbourhood", "load", "member_groups", "units_of"]
# ExperimentConfig, OPTIONS and config_for live in sgdlab.nn.config; they are importable from
# here too, as before.

PROBE_BLOCK = 25
"""Points of a long trajectory probe saved together (a killed probe loses at most one
block)."""
MEMBERS_PER_GROUP = 10
"""Most members of one ensemble unit of ``allpairs`` (see :func:`member_groups`)."""
_KILL_HOOK = "SGDLAB_KILL_AFTER_UNITS"


# -- running -------------------------------------------------------------------------------
def run(experiment, *, scale="book", out=None, runs=None, resume=False, progress=True,
        **overrides):
    """Run one experiment and return its result (a dict: ``config``, ``summary``, ``arrays``,
    ``world_size``, ``units``, ``runs``, ``protocol``).

    With ``out``, the experiment's files go in that folder: ``config.json`` at the start, the
    units' files, and ``result.npz`` / ``result.json`` at the end; its training runs go in the
    runs folder ``runs`` (:mod:`sgdlab.nn.runs`), where a run of the same settings, trained by
    any experiment, is reused. If ``out`` already holds a finished result with the same
    config, it is loaded instead of recomputed; with ``resume=True`` an interrupted run
    continues from its checkpoints. A folder or unit file of another config is refused before
    any work. Without ``out``, a temporary folder is used and removed (with its runs, unless
    ``runs`` is given). Under ``torchrun`` every rank calls this with the same arguments (see
    the module's notes); ``out`` and ``runs`` must then be folders all ranks share.

    Parameters
    ----------
    experiment : {"trajectory", "neighbourhood", "allpairs", "spectrum"}
    scale : {"tiny", "book", "paper"}, default "book"
    out : str or os.PathLike, optional
    runs : str or os.PathLike, optional
        The runs folder; default ``runs`` next to ``out``
        (:func:`sgdlab.nn.runs.default_folder`), or inside the temporary folder.
    resume : bool, default False
        Continue an unfinished run in ``out`` (of the same config) from its files.
    progress : bool, default True
        Progress bars (rank 0 only) and one-line messages on standard error (any rank): the
        training runs reused, trained or waited for, the units waited for.
    **overrides
        Fields of :class:`~sgdlab.nn.config.ExperimentConfig` (None: the preset's value).

    Returns
    -------
    dict
        ``config``, ``summary`` (JSON-able), ``arrays`` (numpy), ``world_size``, ``units``
        (one list of unit names per rank), ``runs`` (``{"folder": the runs folder, "keys":
        {unit: key of its training run}}``) and ``protocol``
        (:func:`sgdlab.nn.protocol.choices`). Every rank returns it; rank 0 writes it.

    Raises
    ------
    sgdlab.nn.runs.ConfigMismatchError
        ``out`` (or a unit file in it) holds work of another config, or holds an unfinished
        run and ``resume`` is False; on every rank, before any work.
    """
    config = config_for(experiment, scale, **overrides)
    resume = validate.flag("resume", resume)
    if out is None and distributed.launched():  # each rank would get its own temporary folder
        validate.fail("out", "a folder all ranks share under torchrun", None)
    runs = None if runs is None else Path(validate.path("runs", runs))
    context = distributed.init(config.device)
    if out is None:
        with tempfile.TemporaryDirectory(prefix=f"sgdlab-{experiment}-") as tmp:
            out = Path(tmp) / experiment
            _start(config, out, resume=False)
            return _run(config, out, runs or default_folder(out), context, resume=False,
                        progress=progress, save=False)
    out = Path(validate.path("out", out))
    decision = _agreed(context, lambda: _decide(config, out, resume))
    if decision == "load":
        return load(out)
    if decision != "run":
        raise ConfigMismatchError(decision)
    return _run(config, out, runs or default_folder(out), context, resume=resume,
                progress=progress, save=True)


def _agreed(context, decide):
    """``decide()`` of rank 0 (a short string, or None), on every rank; an error on rank 0
    is raised on every rank (so no rank goes on alone)."""
    answer = None
    if context.main:
        try:
            answer = ("ok", decide())
        except Exception as err:  # noqa: BLE001 (handed to every rank, then raised)
            answer = ("error", f"{type(err).__name__}: {err}")
    kind, value = distributed.all_gather(context, answer)[0]
    if kind == "error":
        raise RuntimeError(f"rank 0 could not start the run: {value}")
    return value


def _decide(config, out, resume):
    """"load" (``out`` holds this result), "run" (after writing ``out/config.json``), or the
    message of a refusal (:func:`_refusal`), on rank 0 before any work."""
    refusal = _refusal(config, out, resume)
    if refusal is not None:
        return refusal
    if (out / "result.json").is_file():
        return "load"
    _start(config, out, resume)
    return "run"


def _start(config, out, resume):
    """Create ``out``, write its ``config.json`` and remove the failure marks of an earlier
    run."""
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "config.json").is_file():
        io.write_json(out / "config.json", {"config": _jsonable(config.to_dict())})
    for mark in out.glob("failed-rank*.txt"):
        mark.unlink(missing_ok=True)


def _refusal(config, out, resume):
    """Why ``out`` cannot serve ``config`` (None: it can): the folder's config, or a unit
    file's, differs from it; or the folder holds an unfinished run and not ``resume``."""
    asked = _jsonable(config.to_dict())
    for name in ("config.json", "result.json"):  # result.json alone: a folder of before
        if (out / name).is_file():
            saved = json.loads((out / name).read_text()).get("config")
            found = differences(saved, asked)
            if found:
                return (f"{out} holds {saved.get('experiment', 'an experiment')} results of "
                        f"another config: {describe_differences(found)}. "
                        f"{_how_to_proceed(found)}")
            if name == "result.json":
                return None
    units = sorted((out / "units").glob("*.npz")) if (out / "units").is_dir() else []
    for path in units:
        found = _unit_differences(path, asked)
        if found:
            return (f"{path} was computed with another config: "
                    f"{describe_differences(found)}. {_how_to_proceed(found)}")
    if not resume and ((out / "config.json").is_file() or units):
        return (f"{out} holds an unfinished run of this experiment and config; add --resume "
                "(resume=True) to continue it, or choose another --out")
    return None


def _unit_differences(path, asked):
    """The keys on which the unit file ``path`` differs from the config ``asked``."""
    with np.load(path, allow_pickle=False) as npz:
        if "config_json" in npz.files:
            return differences(json.loads(str(npz["config_json"])), asked)
        key = str(npz["config_sha256"]) if "config_sha256" in npz.files else "(none)"
    if key == runs.digest(asked):
        return []
    return [("config_sha256", key, runs.digest(asked))]


def _how_to_proceed(found):
    """What to do about a folder of another config: its place, or its settings."""
    flags = []
    for key, saved, _ in found:
        if key == "experiment":
            flags.append(f"run {saved}")
        elif key in ("scale",) + OPTIONS:
            option = "--" + key.replace("_", "-")
            flags.append(f"{option} left out" if saved is None
                         else f"{option} {str(saved).lower() if isinstance(saved, bool) else saved}")
    settings = f" ({' '.join(flags)})" if flags else ""
    return ("Choose another --out (out=) for these settings, or ask for the saved "
            f"settings{settings}")


def load(out):
    """Read a saved experiment result (``result.json`` + ``result.npz``) from ``out``."""
    out = Path(out)
    meta_path, arrays_path = out / "result.json", out / "result.npz"
    if not meta_path.is_file() or not arrays_path.is_file():
        raise FileNotFoundError(f"{out} holds no experiment result (expected result.json and "
                                "result.npz, written by `python -m sgdlab run ...`)")
    meta = json.loads(meta_path.read_text())
    with np.load(arrays_path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return {"config": meta["config"], "summary": meta["summary"], "arrays": arrays,
            "world_size": meta.get("world_size", 1), "units": meta.get("units"),
            "runs": meta.get("runs"), "protocol": meta.get("protocol")}


def run_trajectory_and_neighbourhood(scale="book", *, out=None, runs=None, resume=False,
                                     progress=True, keep_weights=False, trajectory=None,
                                     neighbourhood=None, **overrides):
    """Run the ``trajectory`` and ``neighbourhood`` experiments with one runs folder.

    The neighbourhood experiment probes the balls around the epochs of its one training run,
    trial 0 (seed ``derive(seed, Purpose.TRIAL, 0)``, :mod:`sgdlab.nn.seeds`), which is
    trial 0 of the trajectory experiment when both have the same training settings (the same
    :class:`~sgdlab.nn.train.TrainConfig`): then the runs folder (:mod:`sgdlab.nn.runs`)
    holds it once and the neighbourhood reuses it. Otherwise each trains its own run. Either
    way the two results are those of :func:`run` of each experiment with the same options.

    Parameters
    ----------
    scale : {"tiny", "book", "paper"}, default "book"
    out : str or os.PathLike, optional
        Folder of both: ``out/trajectory`` and ``out/neighbourhood``, each as :func:`run`
        writes it, and their runs folder ``out/runs``. Default: a temporary folder, removed
        afterwards (so nothing stale is ever returned). Under ``torchrun``, a folder all
        ranks share.
    runs : str or os.PathLike, optional
        Another runs folder for both.
    resume : bool, default False
        As in :func:`run`, for both experiments.
    progress : bool, default True
    keep_weights : bool, default False
        Also return the weights of the trajectory's trial 0 at every epoch start.
    trajectory, neighbourhood : dict, optional
        Fields of :class:`~sgdlab.nn.config.ExperimentConfig` for one experiment only
        (they win over ``overrides``).
    **overrides
        Fields for both (e.g. ``arch``, ``seed``; None: the preset's value).

    Returns
    -------
    dict
        ``"trajectory"`` and ``"neighbourhood"``: the two results (:func:`run`); with
        ``keep_weights``, ``"weights"``: trial 0's weights, a NumPy array of shape
        ``(E + 1, P)``.

    Raises
    ------
    sgdlab.nn.runs.ConfigMismatchError
        ``out/trajectory`` or ``out/neighbourhood`` holds work of another config (or an
        unfinished run, and not ``resume``); both are checked before either runs.
    """
    options = {name: {**overrides, **dict(extra or {})} for name, extra in
               (("trajectory", trajectory), ("neighbourhood", neighbourhood))}
    if out is None and distributed.launched():
        validate.fail("out", "a folder all ranks share under torchrun", None)
    if out is None:
        with tempfile.TemporaryDirectory(prefix="sgdlab-trajectory-") as tmp:
            return _run_pair(options, scale, Path(tmp), runs, False, progress, keep_weights)
    return _run_pair(options, scale, Path(out), runs, resume, progress, keep_weights)


def _run_pair(options, scale, out, runs_folder, resume, progress, keep_weights):
    """:func:`run_trajectory_and_neighbourhood` in the folder ``out``."""
    runs_folder = out / "runs" if runs_folder is None else Path(runs_folder)
    configs = {name: config_for(name, scale, **options[name])
               for name in ("trajectory", "neighbourhood")}
    context = distributed.init(configs["trajectory"].device)
    refusal = _agreed(context, lambda: next(  # refuse before training anything
        (r for r in (_refusal(c, out / name, resume) for name, c in configs.items())
         if r is not None), None))
    if refusal is not None:
        raise ConfigMismatchError(refusal)
    results = {name: run(name, scale=scale, out=out / name, runs=runs_folder, resume=resume,
                         progress=progress, **options[name])
               for name in ("trajectory", "neighbourhood")}
    if keep_weights:
        key = results["trajectory"]["runs"]["keys"]["trial0"]
        results["weights"] = np.array(np.load(runs_folder / key / "weights.npy"))
    return results


def _run(config, out, runs_folder, context, *, resume, progress, save):
    runner = {"trajectory": _trajectory, "neighbourhood": _neighbourhood,
              "allpairs": _allpairs, "spectrum": _spectrum, "noise": _noise,
              "gd": _gd}[config.experiment]
    work = _Work(config, out, runs_folder, context, resume, progress)
    try:
        summary, arrays = runner(config, work)
    except BaseException as err:  # the ranks waiting for this one's units stop too
        work.failed(err)
        raise
    result = {"config": _jsonable(config.to_dict()), "summary": _jsonable(summary),
              "arrays": arrays, "world_size": context.world_size, "units": work.record(),
              "runs": {"folder": str(runs_folder), "keys": dict(work.runs)},
              "protocol": _protocol(config)}
    if save and context.main:
        io.write_npz(out / "result.npz", arrays)
        io.write_json(out / "result.json", {k: v for k, v in result.items() if k != "arrays"})
    distributed.barrier(context)
    return result


def _protocol(config):
    """The protocol choices of :mod:`sgdlab.nn.protocol` for ``config`` (JSON-able)."""
    from . import protocol

    return _jsonable(protocol.choices(config))


def units_of(experiment, scale="book", **overrides):
    """The names of the units of ``experiment`` at ``scale``, phase by phase (no torch).

    Returns
    -------
    list of (str, list of str)
        ``(phase, unit names)``; unit ``i`` of a phase runs on rank ``i mod world_size``.
    """
    cfg = config_for(experiment, scale, **overrides)
    if experiment == "trajectory":
        return [("trials", [f"trial{i}" for i in range(cfg.trials)]),
                ("probes", [f"trial{i}-probe{b}" for i in range(cfg.trials)
                            for b in range(len(_blocks(cfg.epochs)))])]
    if experiment == "neighbourhood":
        return [("training", ["train"]), ("balls", [f"ball{t}" for t in _probed_epochs(cfg)])]
    if experiment == "allpairs":
        groups = [f"members{a}-{b}" for a, b in member_groups(cfg.members)]
        return ([("shared", ["shared"])] if cfg.shared_epochs > 0 else []) + [
            ("members", groups), ("pairs", [f"pairs{m}" for m in range(cfg.members)])]
    if experiment == "noise":
        return [("training", ["train"]), ("points", [f"point{t}" for t in _probed_epochs(cfg)])]
    if experiment == "gd":
        names = [name for name, _ in _gd_runs(cfg)]
        return [("runs", names), ("curvature", [f"{name}-curvature" for name in names])]
    return [("base", ["base"]), ("restarts", [f"from{s}" for s in restart_epochs(cfg)])]


def member_groups(members):
    """The member groups of ``allpairs``: ``[(a, b), ...]``, members ``a .. b - 1`` trained as
    one ensemble.

    At least two groups (when there are two members), at most :data:`MEMBERS_PER_GROUP`
    members each, sizes as equal as possible. A function of ``members`` alone, never of the
    number of ranks, so the grouping (which changes float32 rounding) is the same in every
    run of the same config.
    """
    members = validate.integer("members", members, low=1)
    count = max(-(-members // MEMBERS_PER_GROUP), min(members, 2))
    edges = np.linspace(0, members, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


# -- units of work -------------------------------------------------------------------------
class _Work:
    """The units of one run on this rank: their files, the training runs, and which rank ran
    which unit."""

    def __init__(self, config, out, runs_folder, context, resume, progress):
        self.out, self.runs_folder, self.context = out, runs_folder, context
        self.resume, self.experiment = resume, config.experiment
        self.config_json = _jsonable(config.to_dict())
        self.key = runs.digest(self.config_json)
        self.progress = progress and context.main  # progress bars: rank 0
        prefix = f"rank {context.rank}: " if context.world_size > 1 else ""
        self.log = runs.stderr_log(prefix) if progress else (lambda line: None)
        self.units = [[] for _ in range(context.world_size)]
        self.runs = {}  # unit -> key of its training run
        self.computed = 0
        self.dataset = self.fingerprint = None  # set by _setup

    def phase(self, names, compute, *, cached=True):
        """Run this rank's share of the units ``names`` (``compute(index)`` -> dict of
        arrays, each unit saved to ``units/NAME.npz``), wait for the other ranks' files, and
        return every unit's arrays, in order, read from the files. ``cached``: reuse a unit's
        file when resuming; else (training units, whose runs the runs folder keeps) always
        call ``compute``, and write the file only when it changes."""
        for rank in range(self.context.world_size):
            share = distributed.share(len(names), distributed.Context(
                rank=rank, world_size=self.context.world_size))
            self.units[rank].extend(names[i] for i in share)
        for i in distributed.share(len(names), self.context):
            if cached:
                self.cached(names[i], lambda i=i: compute(i))
            else:
                self._save(names[i], compute(i), only_if_changed=True)
        self._wait(names)
        arrays = [self._read(self._path(name)) for name in names]
        for name, unit in zip(names, arrays):
            if "run" in unit:
                self.runs[name] = str(unit["run"])
        return arrays

    def _path(self, name):
        return self.out / "units" / f"{name}.npz"

    def cached(self, name, compute):
        """``compute()`` (a dict of arrays), or its saved file ``units/NAME.npz`` when resuming
        (a file of another config is refused, never silently recomputed)."""
        path = self._path(name)
        if self.resume and path.is_file():
            return self._read(path)
        arrays = compute()
        self._save(name, arrays)
        return arrays

    def _save(self, name, arrays, only_if_changed=False):
        path = self._path(name)
        if only_if_changed and path.is_file():
            saved = self._read(path)
            if sorted(saved) == sorted(arrays) and all(
                    np.array_equal(saved[k], np.asarray(v)) for k, v in arrays.items()):
                return
        path.parent.mkdir(parents=True, exist_ok=True)
        io.write_npz(path, dict(arrays, config_sha256=np.array(self.key),
                                config_json=np.array(json.dumps(self.config_json))))
        self.computed += 1
        self._kill_hook()

    def _read(self, path):
        """The arrays of a unit file, after checking its config."""
        with np.load(path, allow_pickle=False) as npz:
            if str(npz["config_sha256"]) != self.key:
                saved = (json.loads(str(npz["config_json"])) if "config_json" in npz.files
                         else {})
                raise ConfigMismatchError(
                    f"{path} was computed with another config: "
                    f"{describe_differences(differences(saved, self.config_json))}. Choose "
                    "another --out, or ask for the saved settings")
            return {k: npz[k] for k in npz.files if k not in ("config_sha256", "config_json")}

    def _wait(self, names):
        """Wait until every unit of ``names`` has its file (written by any rank), with a line
        every :data:`sgdlab.nn.runs.LOG_SECONDS`; stop when a rank has failed."""
        missing = [name for name in names if not self._path(name).is_file()]
        began = last = time.monotonic()
        delay = 0.02
        while missing:
            self._check_failures()
            if time.monotonic() - last >= runs.LOG_SECONDS:
                last = time.monotonic()
                owners = {name: names.index(name) % self.context.world_size for name in missing}
                self.log(f"waiting for {len(missing)} unit(s) of other ranks: "
                         + ", ".join(f"{n} (rank {r})" for n, r in list(owners.items())[:6])
                         + f"{' ...' if len(missing) > 6 else ''} "
                         f"({(last - began) / 60:.0f} min so far)")
            time.sleep(delay)
            delay = min(2 * delay, runs.POLL_SECONDS)
            missing = [name for name in missing if not self._path(name).is_file()]

    def _check_failures(self):
        for mark in sorted(self.out.glob("failed-rank*.txt")):
            raise RuntimeError(f"rank {mark.stem[len('failed-rank'):]} failed, so rank "
                               f"{self.context.rank} stops: {mark.read_text().strip()}")

    def failed(self, err):
        """Leave ``failed-rank{R}.txt`` (the error) for the ranks waiting for this one."""
        if self.context.world_size > 1:
            try:
                io.write_atomic(self.out / f"failed-rank{self.context.rank}.txt",
                                lambda f: f.write(f"{type(err).__name__}: {err}".encode()))
            except OSError:
                pass

    def _kill_hook(self):
        spec = os.environ.get(_KILL_HOOK)
        if spec:
            rank, count = (int(v) for v in spec.split(":"))
            if rank == self.context.rank and self.computed >= count:
                os.kill(os.getpid(), signal.SIGKILL)

    def record(self):
        """The units each rank ran: a list (one per rank) of unit names."""
        return [list(names) for names in self.units]

    def _origin(self, name):
        return {"experiment": self.experiment, "unit": name, "out": str(self.out)}

    def trained(self, cfg, name, **kwargs):
        """The finished training run of ``cfg`` for the unit ``name``, from the runs folder
        (:func:`sgdlab.nn.runs.trained`: reused, trained here, or waited for), as a
        :class:`~sgdlab.nn.train.TrainResult`."""
        from .train import load_result

        stored = runs.trained(cfg, self.runs_folder, dataset=self.dataset,
                              fingerprint=self.fingerprint, progress=self.progress,
                              log=lambda line: self.log(f"{name}: {line}"),
                              origin=self._origin(name), **kwargs)
        self.runs[name] = stored.key
        return load_result(stored.folder)

    def ensemble(self, cfg, seeds, name, **kwargs):
        """The weights (E + 1, M, P) of the ensemble of ``cfg`` and ``seeds`` for the unit
        ``name``, from the runs folder (:func:`sgdlab.nn.runs.trained_ensemble`), and its
        key."""
        stored = runs.trained_ensemble(cfg, seeds, self.runs_folder, dataset=self.dataset,
                                       fingerprint=self.fingerprint, progress=self.progress,
                                       log=lambda line: self.log(f"{name}: {line}"),
                                       origin=self._origin(name), **kwargs)
        self.runs[name] = stored.key
        return stored.key

    def weights(self, key):
        """The weights of the training run ``key`` of the runs folder, a read-only memory
        map: (E + 1, P), or (E + 1, M, P) for an ensemble."""
        return np.load(self.runs_folder / str(key) / "weights.npy", mmap_mode="r")


def _probe_options(cfg):
    """The keywords of the multi-point probes that the experiment's config sets: the probe
    chunk (``batch_size``: the definition of f), the vmap budget, and the faster path for the
    device (``vectorize=None``, :func:`sgdlab.nn.probe.prefers_vmap`)."""
    return dict(batch_size=cfg.probe_batch, memory_gb=cfg.memory_gb, vectorize=None)


def _blocks(rows):
    """``[(start, stop), ...]``: ``rows`` points cut into blocks of :data:`PROBE_BLOCK`."""
    return [(a, min(rows, a + PROBE_BLOCK)) for a in range(0, rows, PROBE_BLOCK)]


def _inner_blocks(work, name, model, rows, target, x, y, cfg):
    """Trajectory inner products of ``rows`` towards ``target``, :data:`PROBE_BLOCK` rows at a
    time, each block cached in its own file (``units/NAME-probe{b}.npz``)."""
    from . import probe

    options = _probe_options(cfg)
    parts = []
    for b, (start, stop) in enumerate(_blocks(rows.shape[0])):
        parts.append(work.cached(f"{name}-probe{b}", lambda start=start, stop=stop: {
            "inner": probe.trajectory_inner_products(model, rows[start:stop], x, y,
                                                     target=target, **options)
            .cpu().numpy()})["inner"])
    return np.concatenate(parts)


# -- the experiments ------------------------------------------------------------------------
def _setup(cfg, work):
    """(data set, model template on the device, training images and labels there); the data
    set is loaded once, here, and the training units of ``work`` train on it."""
    import torch

    from . import data, nets

    dataset = data.load(cfg.dataset, cfg.data_dir, limit=cfg.limit, val_split=cfg.val_split)
    work.dataset, work.fingerprint = dataset, runs.data_fingerprint(dataset)
    device = torch.device(cfg.device)
    model = nets.build(cfg.arch, dataset.shape, dataset.classes, seed=cfg.seed).to(device)
    x, y = dataset.x_train.to(device), dataset.y_train.to(device)
    return dataset, model, x, y


def _train_config(cfg, **changes):
    """The :class:`~sgdlab.nn.train.TrainConfig` of ``cfg``: every field they share."""
    import dataclasses

    from .train import TrainConfig

    shared = {f.name for f in dataclasses.fields(TrainConfig)} & set(cfg.to_dict())
    values = {name: getattr(cfg, name) for name in shared}
    values.update(changes)
    return TrainConfig(**values)


def _trial_config(cfg, trial, **changes):
    """The :class:`~sgdlab.nn.train.TrainConfig` of training run ``trial`` of ``cfg``: seed
    ``derive(cfg.seed, Purpose.TRIAL, trial)`` (:mod:`sgdlab.nn.seeds`). Trial 0 is also the
    one run of ``neighbourhood``, the shared epochs of ``allpairs`` and the base run of
    ``spectrum``, so experiments of the same training settings share it."""
    return _train_config(cfg, seed=derive(cfg.seed, Purpose.TRIAL, trial), **changes)


def _weights(weights, device):
    """Weights (a memory map or array) as a tensor on ``device`` (a copy)."""
    import torch

    return torch.tensor(np.asarray(weights), device=device)


def _run_arrays(run, extra=()):
    """The file of a training unit: the per-epoch metrics of its run (float64 arrays; those
    of ``extra`` too) and the run's key in the runs folder (``"run"``)."""
    arrays = {name: np.asarray(getattr(run, name), dtype=np.float64)
              for name in _METRICS + tuple(extra)}
    arrays["run"] = np.array(run.out_dir.name)
    return arrays


def _trajectory(cfg, work):
    """Figure 5a (inner products along each trajectory) and 5c (gradient norms, steps)."""
    from . import nets, probe

    _, model, x, y = _setup(cfg, work)
    trials = work.phase([f"trial{i}" for i in range(cfg.trials)], lambda i: _run_arrays(
        work.trained(_trial_config(cfg, i), f"trial{i}")), cached=False)
    blocks = _blocks(cfg.epochs)

    def block(j):  # the weights come from the trial's run (in the runs folder)
        i, (start, stop) = j // len(blocks), blocks[j % len(blocks)]
        w = work.weights(trials[i]["run"])
        # the control: the same probe towards the next trial's final solution
        other = (work.weights(trials[(i + 1) % cfg.trials]["run"])[-1]
                 if cfg.trials > 1 else None)
        values = probe.trajectory_controls(
            model, _weights(w[start:stop], x.device), _weights(w[-1], x.device), x, y,
            other=None if other is None else _weights(other, x.device), **_probe_options(cfg))
        return {name: v.cpu().numpy() for name, v in values.items()}

    parts = work.phase([f"trial{i}-probe{b}" for i in range(cfg.trials)
                        for b in range(len(blocks))], block)
    per_trial = len(blocks)
    probed = {name: np.stack([np.concatenate([p[name] for p in parts[i * per_trial:
                                                                    (i + 1) * per_trial]])
                              for i in range(cfg.trials)])
              for name in parts[0] if all(name in p for p in parts)}
    inner = probed.pop("inner")
    if "grad_norm" in probed:  # the full-batch gradient's norm (not the mini-batches')
        probed["full_grad_norm"] = probed.pop("grad_norm")
    metric = {name: np.stack([t[name] for t in trials]) for name in _METRICS}
    arrays = dict(inner=inner, min_inner=inner.min(axis=0), **probed, **metric)
    summary = {
        "trials": cfg.trials, "epochs": cfg.epochs,
        "parameters": nets.count_parameters(model),
        "share_positive": float(np.mean(inner > 0)),
        "epochs_all_positive_from": _first_all_positive(inner.min(axis=0)),
        "min_inner": float(inner.min()),
        "max_grad_norm": float(metric["grad_norm_max"].max()),
        "max_step_length": float(metric["step_length_max"].max()),
        "final_val_accuracy": [float(a) for a in metric["val_accuracy"][:, -1]],
    }
    if "inner_other" in probed:
        summary["share_positive_other"] = float(np.mean(probed["inner_other"] > 0))
    return summary, arrays


def _probed_epochs(cfg):
    return np.arange(0, cfg.epochs, cfg.probe_every)


_BALL = ("mean", "min", "max", "std", "confidence", "distance")


def _neighbourhood(cfg, work):
    """Figure 5b: the ball of radius rho around each probed epoch's point."""
    from . import nets, probe

    _, model, x, y = _setup(cfg, work)
    (trained,) = work.phase(["train"], lambda _: _run_arrays(
        work.trained(_trial_config(cfg, 0), "train")), cached=False)
    weights = work.weights(trained["run"])  # (E + 1, P), read row by row
    final = _weights(weights[-1], x.device)
    epochs = _probed_epochs(cfg)
    options = _probe_options(cfg)

    def ball(i):
        t = int(epochs[i])
        res = probe.neighbourhood_probe(model, _weights(weights[t], x.device), final, x, y,
                                        k=cfg.k,
                                        rho=cfg.rho, seed=derive(cfg.seed, Purpose.BALL, t),
                                        **options)
        return dict({name: np.float64(getattr(res, name)) for name in _BALL},
                    values=res.values.numpy())

    balls = work.phase([f"ball{t}" for t in epochs], ball)
    arrays = {name: np.array([b[name] for b in balls], dtype=np.float64) for name in _BALL}
    arrays.update(epochs=epochs, values=np.stack([b["values"] for b in balls]))
    summary = {
        "epochs_probed": int(epochs.size), "k": cfg.k, "rho": cfg.rho,
        "parameters": nets.count_parameters(model),
        "share_positive": float(np.mean(arrays["values"] > 0)),
        "balls_all_positive": int(np.sum(arrays["min"] > 0)),
        "min_confidence": float(arrays["confidence"].min()),
        "max_relative_spread": float(np.max((arrays["max"] - arrays["min"])
                                            / np.maximum(np.abs(arrays["mean"]), 1e-12))),
    }
    return summary, arrays


def _allpairs(cfg, work):
    """Section 5.3: shared first epochs, then ``members`` seeds trained as ensembles of
    :func:`member_groups` (:func:`sgdlab.nn.train.train_ensemble`, each group one run of the
    runs folder, its weights appended epoch by epoch)."""
    from . import nets

    _, model, x, y = _setup(cfg, work)
    start = None
    if cfg.shared_epochs > 0:
        (shared,) = work.phase(["shared"], lambda _: _run_arrays(work.trained(
            _trial_config(cfg, 0, epochs=cfg.shared_epochs), "shared")), cached=False)
        start = np.array(work.weights(shared["run"])[-1])
    groups = member_groups(cfg.members)
    names = [f"members{a}-{b}" for a, b in groups]
    parts = work.phase(names, lambda g: {"run": np.array(work.ensemble(
        _train_config(cfg), [derive(cfg.seed, Purpose.MEMBER, m) for m in range(*groups[g])],
        names[g], start_params=start, start_epoch=cfg.shared_epochs))}, cached=False)
    group_weights = [work.weights(p["run"]) for p in parts]  # (E + 1, members of g, P) each

    def trajectory(m):  # member m's weights at every epoch start, (E + 1, P)
        g = next(g for g, (a, b) in enumerate(groups) if a <= m < b)
        return group_weights[g][:, m - groups[g][0]]

    finals_array = np.concatenate([w[-1] for w in group_weights])
    finals = _weights(finals_array, x.device)
    values = np.stack([p["values"] for p in work.phase(
        [f"pairs{m}" for m in range(cfg.members)], lambda m: {"values": _pair_values(
            model, _weights(trajectory(m), x.device), finals, x, y, cfg)})])
    starts_array = np.concatenate([w[0] for w in group_weights])
    summary = dict(_pairs_summary(values, finals_array), members=cfg.members,
                   shared_epochs=cfg.shared_epochs, epochs=cfg.epochs,
                   parameters=nets.count_parameters(model),
                   distance_from_start=float(np.linalg.norm(
                       finals_array.astype(np.float64)
                       - starts_array.astype(np.float64), axis=1).mean()))
    return summary, {"values": values}


def _pair_values(model, trajectory, finals, x, y, cfg):
    """``values[t, n]`` = :math:`\\langle -\\nabla f(x_t), x_n^{final} - x_t\\rangle` for the
    points ``trajectory`` (T + 1, P) and the final solutions ``finals`` (M, P), float64
    (:func:`sgdlab.nn.probe.inner_products_towards`: ``vmap`` on CUDA, the loop on a CPU)."""
    from . import probe

    return probe.inner_products_towards(model, trajectory, finals, x, y,
                                        **_probe_options(cfg)).numpy()


def _pairs_summary(values, finals):
    """The counts of :class:`sgdlab.nn.probe.AllPairsResult` from ``values`` (M, T + 1, M)
    and the final solutions (M, P)."""
    members = values.shape[0]
    counted = values[:, :-1, :]
    others = np.broadcast_to(~np.eye(members, dtype=bool)[:, None, :], counted.shape)
    bad = counted <= 0
    count, total = int(bad[others].sum()), int(others.sum())
    finals = np.asarray(finals, dtype=np.float64)
    distances = np.stack([np.linalg.norm(finals - f, axis=1) for f in finals])
    upper = distances[np.triu_indices(members, 1)]
    return dict(count_not_positive=count, total=total, share_not_positive=count / total,
                count_not_positive_with_self=int(bad.sum()), total_with_self=int(bad.size),
                share_not_positive_with_self=float(bad.mean()),
                min_value=float(counted[others].min()),
                min_final_distance=float(upper.min()), mean_final_distance=float(upper.mean()))


_ROWS = ("train_loss", "val_loss", "val_accuracy", "distance_init", "share_positive",
         "min_inner", "start_train_loss")


def _spectrum(cfg, work):
    """Section 5.4, Figure 6: minima reached by shrinking lr at different epochs."""
    from . import nets

    dataset, model, x, y = _setup(cfg, work)
    (base,) = work.phase(["base"], lambda _: _run_arrays(work.trained(_trial_config(cfg, 0),
                                                                      "base")), cached=False)
    weights = _weights(work.weights(base["run"]), x.device)
    starts = restart_epochs(cfg)
    val = (dataset.x_val.to(x.device), dataset.y_val.to(x.device))

    def restart(i):  # the unit's row, and the key of its continuation run
        row = _restart(cfg, work, model, weights, int(starts[i]), (x, y), val, base)
        return dict(row, run=np.array(work.runs[f"from{starts[i]}"]))

    rows = work.phase([f"from{s}" for s in starts], restart)
    arrays = {name: np.array([r[name] for r in rows], dtype=np.float64) for name in _ROWS}
    arrays["starts"] = starts
    summary = {
        "starts": starts.tolist(), "parameters": nets.count_parameters(model),
        "train_loss": arrays["train_loss"].tolist(), "val_loss": arrays["val_loss"].tolist(),
        "distance_init": arrays["distance_init"].tolist(),
        "all_trajectories_one_point_convex": bool(np.all(arrays["min_inner"] > 0)),
        "base_final_train_loss": float(base["train_loss"][-1]),
    }
    return summary, arrays


def _restart(cfg, work, model, weights, s, train_data, val, base):
    """One unit of ``spectrum``: continue from epoch ``s`` at the small lr; the minimum's
    losses, distance and the probe of the whole path towards it.

    The reported losses and accuracy follow ``cfg.bn_eval``: with ``"batch"`` they are the
    probes' f (batch statistics in chunks of ``probe_batch``) at the minimum and at epoch
    ``s``; with ``"running"`` they are the training runs' own evaluations with their running
    averages: the continuation's last epoch (at the minimum) and the base run's epoch
    ``s - 1`` (ending at epoch ``s``'s point). At ``s = 0`` the base run has no averages yet,
    so the loss there is the probes' f. The probes of the path use batch statistics always.
    """
    import torch

    from . import probe

    cont = work.trained(_train_config(cfg, epochs=cfg.continue_epochs, lr=cfg.small_lr,
                                      schedule="constant",
                                      seed=derive(cfg.seed, Purpose.RESTART, s)),
                        f"from{s}", start_params=weights[s].cpu().numpy(), start_epoch=s)
    path = _weights(cont.weights, weights.device)
    minimum = path[-1]
    inner = _inner_blocks(work, f"from{s}", model, torch.cat([weights[:s + 1], path[1:-1]]),
                          minimum, *train_data, cfg)
    options = dict(batch_size=cfg.probe_batch)
    if cfg.bn_eval == "running":
        reported = {"train_loss": float(cont.train_loss[-1]),
                    "val_loss": float(cont.val_loss[-1]),
                    "val_accuracy": float(cont.val_accuracy[-1]),
                    "start_train_loss": float(base["train_loss"][s - 1]) if s > 0
                    else probe.loss_at(model, weights[s], *train_data, **options)}
    else:
        reported = {"train_loss": probe.loss_at(model, minimum, *train_data, **options),
                    "val_loss": probe.loss_at(model, minimum, *val, **options),
                    "val_accuracy": _accuracy(model, minimum, *val, batch_size=cfg.probe_batch),
                    "start_train_loss": probe.loss_at(model, weights[s], *train_data,
                                                      **options)}
    return dict(reported, distance_init=float((minimum - weights[0]).norm()),
                share_positive=float(np.mean(inner > 0)), min_inner=float(inner.min()))


EIGEN_TOL = 1e-2
"""Relative tolerance of the Lanczos iteration (:func:`sgdlab.nn.curvature.top_eigen`) of
``noise`` and ``gd`` (the residual of each pair is kept with the result; the book's ResNet
at its initialisation: the top eigenvalue agrees with tol 1e-3's to 2e-5 relative, in 21
products instead of 31)."""


def _noise(cfg, work):
    """Ours: the real mini-batch noise along an SGD run against the paper's model, and the
    one-point convexity (eq. 2) of g smoothed by it, of f, and of g smoothed by the model."""
    from . import nets

    _, model, x, y = _setup(cfg, work)
    (trained,) = work.phase(["train"], lambda _: _run_arrays(
        work.trained(_trial_config(cfg, 0), "train")), cached=False)
    weights = work.weights(trained["run"])
    epochs = _probed_epochs(cfg)
    points = work.phase([f"point{t}" for t in epochs], lambda i: _noise_point(
        cfg, model, weights, int(epochs[i]), float(trained["lr"][epochs[i]]), x, y))
    arrays = {name: np.stack([p[name] for p in points]) for name in points[0]}
    arrays.update(epochs=epochs, train_loss=trained["train_loss"], lr=trained["lr"])
    return _noise_summary(arrays, nets.count_parameters(model)), arrays


def _noise_point(cfg, model, weights, t, lr, x, y):
    """One unit of ``noise``: the noise at epoch ``t``'s point and g at its y_t."""
    from . import curvature, noise

    theta, final = _weights(weights[t], x.device), _weights(weights[-1], x.device)
    chunk = dict(batch_size=cfg.probe_batch)
    samples = noise.minibatch_noise(model, theta, x, y, batch_size=cfg.batch_size,
                                    batches=cfg.noise_batches, probe_batch=cfg.probe_batch,
                                    seed=derive(cfg.seed, Purpose.NOISE, t))
    stats = noise.noise_stats(samples, k=cfg.top_k)
    top = curvature.top_eigen(model, theta, x, y, k=cfg.top_k, tol=EIGEN_TOL, **chunk,
                              seed=derive(cfg.seed, Purpose.LANCZOS, t))
    y_t = noise.paper_point(model, theta, lr, x, y, **chunk)
    shifts = lr * samples[:cfg.smoothing_samples]
    real = noise.smoothed_inner(model, y_t, final, shifts, x, y, **chunk)
    radius = noise.effective_radius(samples, lr)
    ball = noise.ball_shifts(radius, cfg.smoothing_samples, theta.numel(), dtype=theta.dtype,
                             seed=derive(cfg.seed, Purpose.MODEL_NOISE, t)).to(x.device)
    modelled = noise.smoothed_inner(model, y_t, final, ball, x, y, **chunk)
    return dict(norms=stats.norms, mean_square=stats.mean_square,
                top_share=stats.top_share, isotropic_share=stats.isotropic_sample_share,
                eigenvalues=top.eigenvalues,
                alignment=noise.alignment(samples, top.eigenvectors),
                effective_radius=radius, model_radius=noise.model_radius(samples, lr),
                g_real=real.values, g_model=modelled.values, f_inner=real.f_value,
                distance=real.distance, point_lr=lr)


def _noise_summary(arrays, parameters):
    """The numbers of ``noise``'s result: the noise against the model, g against f."""
    norms = arrays["norms"]
    real, model = arrays["g_real"], arrays["g_model"]
    count = real.shape[1]
    real_mean, real_se = real.mean(axis=1), real.std(axis=1, ddof=1) / np.sqrt(count)
    f = arrays["f_inner"]
    return {
        "parameters": parameters, "epochs_probed": int(arrays["epochs"].size),
        "tail_ratio": [float(v) for v in np.quantile(norms, 0.99, axis=1)
                       / np.median(norms, axis=1)],
        "effective_radius": arrays["effective_radius"].tolist(),
        "model_radius": arrays["model_radius"].tolist(),
        "top_share": arrays["top_share"][:, -1].tolist(),
        "alignment": arrays["alignment"][:, -1].tolist(),
        "f_positive": int(np.sum(f > 0)), "g_real_positive": int(np.sum(real_mean > 0)),
        "g_model_positive": int(np.sum(model.mean(axis=1) > 0)),
        "sign_differs": int(np.sum(np.sign(real_mean) != np.sign(f))),
        "differs_beyond_2se": int(np.sum(np.abs(real_mean - f) > 2 * real_se)),
        "median_relative_change": float(np.median((real_mean - f) / np.abs(f))),
    }


def _gd_runs(cfg):
    """``[(unit name, changes of trial ``i``'s TrainConfig)]`` of ``gd`` (no torch): SGD at
    each batch size, GD (``batch_size`` = all training images, set in :func:`_gd`) with the
    SGD runs' ``lr`` and ``schedule`` over ``gd_steps`` steps, and GD at each constant step
    size, every one from the initialisation of trial ``i``."""
    runs = [(f"sgd{b}", dict(batch_size=b)) for b in sgd_batch_sizes(cfg)]
    constant = list(gd_step_sizes(cfg))
    if cfg.schedule != "constant":
        runs.append((f"gd-{cfg.schedule}", dict(epochs=cfg.gd_steps)))
    elif cfg.lr not in constant:
        constant.insert(0, cfg.lr)
    runs += [(f"gd{lr:g}", dict(epochs=cfg.gd_steps, lr=lr, schedule="constant"))
             for lr in constant]
    return [(f"{name}-t{i}", changes) for i in range(cfg.trials) for name, changes in runs]


def _gd(cfg, work):
    """Ours: GD and SGD at a few batch sizes from the same initialisations; their losses,
    distances, the Section 5.1 probe, and the sharpness and trace along the way."""
    from . import nets

    dataset, model, x, y = _setup(cfg, work)
    n, plan = dataset.x_train.shape[0], _gd_runs(cfg)

    def config(name, changes):
        trial = int(name.rsplit("-t", 1)[1])
        full = {"batch_size": n} if name.startswith("gd") else {}
        return _trial_config(cfg, trial, **dict(changes, **full))

    runs = work.phase([name for name, _ in plan], lambda i: _run_arrays(
        work.trained(config(*plan[i]), plan[i][0]), extra=("train_accuracy",)), cached=False)
    probed = work.phase([f"{name}-curvature" for name, _ in plan], lambda i: _curvature(
        cfg, model, work.weights(runs[i]["run"]), plan[i][0], x, y))
    rows = [_gd_row(name, config(name, changes), run, curve, work.weights(run["run"]), n)
            for (name, changes), run, curve in zip(plan, runs, probed)]
    arrays = {f"{name}/{key}": np.asarray(value) for (name, _), run, curve in
              zip(plan, runs, probed) for key, value in {**run, **curve}.items() if key != "run"}
    summary = {"parameters": nets.count_parameters(model), "train_images": n, "runs": rows,
               "best_gd": min((r for r in rows if r["kind"] == "gd"),
                              key=lambda r: r["train_loss"])["name"]}
    return summary, arrays


def _curvature(cfg, model, weights, name, x, y):
    """One ``-curvature`` unit of ``gd``: at :func:`sgdlab.nn.config.curvature_indices` of a
    run, the top Hessian eigenvalue, Hutchinson's trace (and its standard error) and the
    Section 5.1 inner product towards the run's end."""
    import torch

    from . import curvature, probe

    index = curvature_indices(weights.shape[0], cfg.curvature_points)
    final = _weights(weights[-1], x.device)
    chunk = dict(batch_size=cfg.probe_batch)
    out = {key: [] for key in ("sharpness", "residual", "trace", "trace_se", "inner")}
    for t in index:
        theta, key = _weights(weights[t], x.device), (_run_index(name), int(t))
        top = curvature.top_eigen(model, theta, x, y, k=1, tol=EIGEN_TOL, **chunk,
                                  seed=derive(cfg.seed, Purpose.LANCZOS, *key))
        trace = curvature.hutchinson_trace(model, theta, x, y, samples=cfg.trace_samples,
                                           seed=derive(cfg.seed, Purpose.TRACE, *key), **chunk)
        gradient = probe.full_batch_grad(model, theta, x, y, **chunk)
        out["sharpness"].append(top.eigenvalues[0])
        out["residual"].append(top.residuals[0])
        out["trace"].append(trace.mean)
        out["trace_se"].append(trace.standard_error)
        out["inner"].append(float(torch.dot(-gradient.double(), (final - theta).double())))
    return dict({k: np.asarray(v, dtype=np.float64) for k, v in out.items()}, index=index)


def _run_index(name):
    """A stable integer of a run's name (a seed index): the first 15 hex digits (60 bits)
    of its SHA-256."""
    return int(runs.digest(name)[:15], 16)


def _gd_row(name, config, run, curve, weights, n):
    """The summary row of one run of ``gd``."""
    distance, path = _distances(weights)
    lr = run["lr"][np.minimum(curve["index"], run["lr"].size - 1)]
    return {
        "name": name, "kind": "gd" if name.startswith("gd") else "sgd",
        "batch_size": config.batch_size, "lr": config.lr, "schedule": config.schedule,
        "steps": config.epochs * (n // config.batch_size), "epochs": config.epochs,
        "train_loss": float(run["train_loss"][-1]),
        "train_accuracy": float(run["train_accuracy"][-1]),
        "val_loss": float(run["val_loss"][-1]), "val_accuracy": float(run["val_accuracy"][-1]),
        "distance": distance, "path_length": path,
        "share_positive": float(np.mean(curve["inner"][:-1] > 0)),
        "max_sharpness": float(curve["sharpness"].max()),
        "final_sharpness": float(curve["sharpness"][-1]),
        # after the start: a run that starts above the edge and falls is not at it
        "edge": float(np.max((curve["sharpness"] * lr / 2)[1:])),
        "final_trace": float(curve["trace"][-1]),
        "final_trace_se": float(curve["trace_se"][-1]),
    }


def _distances(weights):
    """``(||x_T - x_0||, the path length sum_t ||x_{t+1} - x_t||)`` of a run's weights (a
    memory map), in float64, reading two rows at a time (a GD run has thousands)."""
    start = previous = np.asarray(weights[0], dtype=np.float64)
    path = 0.0
    for row in weights[1:]:
        row = np.asarray(row, dtype=np.float64)
        path += float(np.linalg.norm(row - previous))
        previous = row
    return float(np.linalg.norm(previous - start)), path


# -- helpers -------------------------------------------------------------------------------
def _accuracy(model, theta, x, y, batch_size=None):
    """Share of ``x`` classified as ``y``, in chunks of ``batch_size`` images (the probe
    chunk; None: one pass)."""
    import torch

    from .nets import functional_forward

    forward, n = functional_forward(model), x.shape[0]
    step = n if batch_size is None else batch_size
    with torch.no_grad():
        correct = sum(int((forward(theta, x[s:s + step]).argmax(dim=1) == y[s:s + step]).sum())
                      for s in range(0, n, step))
    return correct / n


_METRICS = ("train_loss", "val_loss", "val_accuracy", "lr", "grad_norm_mean", "grad_norm_min",
            "grad_norm_max", "step_length_max")
"""The per-epoch training metrics an experiment keeps (trials, epochs)."""


def _first_all_positive(min_inner):
    """First epoch from which every later minimum inner product is positive (None if never)."""
    bad = np.flatnonzero(~(min_inner > 0))
    if bad.size == 0:
        return 0
    return None if bad[-1] == min_inner.size - 1 else int(bad[-1] + 1)


def _jsonable(value):
    """Plain JSON types (numpy scalars and arrays, paths, tuples converted)."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist")
                                 else str(v)))
