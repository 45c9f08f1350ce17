"""The Section 5 experiments, end to end: train, probe, save (``python -m sgdlab run ...``).

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

The neighbourhood experiment's one training run is trial 0 of the trajectory experiment when
their training settings agree (the seeds of every run come from :func:`sgdlab.nn.seeds.derive`);
:func:`run_trajectory_and_neighbourhood` runs both and trains that run once.

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
=============== ============================================================================

Under ``torchrun`` (:mod:`sgdlab.nn.distributed`) unit ``i`` of a phase runs on rank
``i mod world_size``; the ranks exchange the units' arrays after each phase and rank 0
writes the result, whose ``result.json`` records ``world_size`` and the units of each rank.
Each unit checkpoints on its own: a training run after every epoch (in its own folder), a
finished probe unit (and every :data:`PROBE_BLOCK` points of a long probe) to its own file
under ``units/``. If one rank dies, ``torchrun`` stops every rank; rerunning with
``resume=True`` reuses all those files, so what is recomputed is, on each rank, the unit it
had in flight: the current epoch of a training unit, or the probe unit (a block of
:data:`PROBE_BLOCK` probed epochs, the current block of :data:`PROBE_BLOCK` points of a
``from{s}`` probe, or the whole of one ``ball{t}`` or one ``pairs{m}``: these two are
single cached units).
``out`` must be a folder every rank sees (a shared file system): the trajectory's probe
blocks read their trial's weights from it, and a resumed run finds the units' files there.

**What is guaranteed.** The seeds, the batch orders and the member groups belong to the
units, never to the ranks, and every unit computes the same operations whichever rank runs
it. So a run under ``torchrun`` with any number of ranks gives *bitwise* the arrays and the
summary of the single-process run with the same options, when every process uses the same
device type and the same number of threads per process (``torchrun`` sets
``OMP_NUM_THREADS=1``; run the single process with ``OMP_NUM_THREADS=1`` too), and the same
for a resumed run. With other thread counts float32 results agree only to rounding, which
SGD amplifies (ReLU kinks); their statistics agree. On the CPU the probes loop over points
(:func:`sgdlab.nn.probe.prefers_vmap`), so nothing depends on the vmap width; the
``pairs{m}`` units of ``allpairs`` compute one gradient at a time on any device. On CUDA
the other probes ``vmap`` a width chosen from ``memory_gb``, whose default is a share of
the GPU's *free* memory at the time: set ``--memory-gb`` so that every run cuts a unit's
points the same way; even then cuDNN may pick other algorithms in another process, so CUDA
runs agree to rounding (bitwise where cuDNN's choices coincide), as two CUDA runs of one
process do.

``SGDLAB_KILL_AFTER_UNITS=RANK:N`` (a test hook) makes rank ``RANK`` kill itself with
``SIGKILL`` after it has computed ``N`` unit files.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import tempfile
from pathlib import Path

import numpy as np

from .. import _validate as validate
from . import distributed, io
from .config import OPTIONS, ExperimentConfig, config_for
from .names import EXPERIMENTS, SCALES
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
def run(experiment, *, scale="book", out=None, resume=False, progress=True, **overrides):
    """Run one experiment and return its result (a dict: ``config``, ``summary``, ``arrays``,
    ``world_size``, ``units``, ``protocol``).

    With ``out``, everything goes in that folder: the training runs (each resumable), the
    units' files, and ``result.npz`` / ``result.json`` at the end. If ``out`` already holds a
    finished result with the same config, it is loaded instead of recomputed; with
    ``resume=True`` an interrupted run continues from its checkpoints. Without ``out``, a
    temporary folder is used and removed. Under ``torchrun`` every rank calls this with the
    same arguments (see the module's notes); ``out`` must then be a folder all ranks share.

    Parameters
    ----------
    experiment : {"trajectory", "neighbourhood", "allpairs", "spectrum"}
    scale : {"tiny", "book", "paper"}, default "book"
    out : str or os.PathLike, optional
    resume : bool, default False
        Reuse the checkpoints and unit files in ``out`` (of the same config).
    progress : bool, default True
        Progress bars (rank 0 only).
    **overrides
        Fields of :class:`~sgdlab.nn.config.ExperimentConfig` (None: the preset's value).

    Returns
    -------
    dict
        ``config``, ``summary`` (JSON-able), ``arrays`` (numpy), ``world_size``, ``units``
        (one list of unit names per rank) and ``protocol``
        (:func:`sgdlab.nn.protocol.choices`). Every rank returns it; rank 0 writes it.
    """
    config = config_for(experiment, scale, **overrides)
    if out is None and distributed.launched():  # each rank would get its own temporary folder
        validate.fail("out", "a folder all ranks share under torchrun", None)
    context = distributed.init(config.device)
    if out is None:
        with tempfile.TemporaryDirectory(prefix=f"sgdlab-{experiment}-") as tmp:
            return _run(config, Path(tmp), context, resume=False, progress=progress,
                        save=False)
    out = Path(out)
    decision = distributed.all_gather(context, _decide(config, out, resume)
                                      if context.main else None)[0]
    if decision == "load":
        return load(out)
    if decision != "run":
        raise FileExistsError(decision)
    out.mkdir(parents=True, exist_ok=True)
    return _run(config, out, context, resume=resume, progress=progress, save=True)


def _decide(config, out, resume):
    """"load" (``out`` holds this result), "run", or the message of a refusal."""
    if not (out / "result.json").is_file():
        return "run"
    saved = load(out)
    if saved["config"] == _jsonable(config.to_dict()):
        return "load"
    if not resume or saved["config"].get("experiment") != config.experiment:
        return (f"{out} holds a result with another config; choose another out folder or "
                "delete it")
    return "run"


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
            "protocol": meta.get("protocol")}


def run_trajectory_and_neighbourhood(scale="book", *, out=None, resume=False, progress=True,
                                     keep_weights=False, trajectory=None, neighbourhood=None,
                                     **overrides):
    """Run the ``trajectory`` and ``neighbourhood`` experiments on one training run.

    The neighbourhood experiment probes the balls around the epochs of its one training run,
    trial 0 (seed ``derive(seed, Purpose.TRIAL, 0)``, :mod:`sgdlab.nn.seeds`), which is
    trial 0 of the trajectory experiment when both have the same training settings (the same
    :class:`~sgdlab.nn.train.TrainConfig`). Then ``neighbourhood/trial0`` is a link to
    ``trajectory/trial0`` and the neighbourhood experiment resumes from it (its units are
    keyed by its config, so only work of that config is reused): trial 0 is trained once.
    Otherwise each trains its own run. Either way the two results are those of :func:`run`
    of each experiment with the same options.

    Parameters
    ----------
    scale : {"tiny", "book", "paper"}, default "book"
    out : str or os.PathLike, optional
        Folder of both: ``out/trajectory`` and ``out/neighbourhood``, each as :func:`run`
        writes it. Default: a temporary folder, removed afterwards (so nothing stale is ever
        returned). Under ``torchrun``, a folder all ranks share.
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
    FileExistsError
        ``out/trajectory`` or ``out/neighbourhood`` holds a result of another config (and
        not ``resume``).
    """
    options = {name: {**overrides, **dict(extra or {})} for name, extra in
               (("trajectory", trajectory), ("neighbourhood", neighbourhood))}
    configs = {name: config_for(name, scale, **o) for name, o in options.items()}
    if out is None and distributed.launched():
        validate.fail("out", "a folder all ranks share under torchrun", None)
    if out is None:
        with tempfile.TemporaryDirectory(prefix="sgdlab-trajectory-") as tmp:
            return _run_pair(configs, options, scale, Path(tmp), False, progress,
                             keep_weights)
    return _run_pair(configs, options, scale, Path(out), resume, progress, keep_weights)


def _run_pair(configs, options, scale, out, resume, progress, keep_weights):
    """:func:`run_trajectory_and_neighbourhood` in the folder ``out``."""
    first, second = (out / name for name in ("trajectory", "neighbourhood"))
    shared = (_trial_config(configs["trajectory"], 0)
              == _trial_config(configs["neighbourhood"], 0))
    for name, folder in (("trajectory", first), ("neighbourhood", second)):
        # refuse before training anything (the neighbourhood resumes a shared run: it must
        # not overwrite another config's result either)
        decision = _decide(configs[name], folder, resume)
        if decision not in ("load", "run"):
            raise FileExistsError(decision)
    results = {"trajectory": run("trajectory", scale=scale, out=first, resume=resume,
                                 progress=progress, **options["trajectory"])}
    if shared:
        context = distributed.init(configs["neighbourhood"].device)
        if context.main:
            _link(second / "trial0", first / "trial0")
        distributed.barrier(context)
    results["neighbourhood"] = run("neighbourhood", scale=scale, out=second,
                                   resume=resume or shared, progress=progress,
                                   **options["neighbourhood"])
    if keep_weights:
        results["weights"] = np.array(np.load(first / "trial0" / "weights.npy"))
    return results


def _link(link, target):
    """Make ``link`` a relative link to the folder ``target``, unless ``link`` exists (an
    earlier link, or a run of its own: :func:`sgdlab.nn.train.train` checks its config)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if not (link.is_symlink() or link.exists()):
        link.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)


def _run(config, out, context, *, resume, progress, save):
    runner = {"trajectory": _trajectory, "neighbourhood": _neighbourhood,
              "allpairs": _allpairs, "spectrum": _spectrum}[config.experiment]
    work = _Work(config, out, context, resume, progress and context.main)
    summary, arrays = runner(config, work)
    result = {"config": _jsonable(config.to_dict()), "summary": _jsonable(summary),
              "arrays": arrays, "world_size": context.world_size, "units": work.record(),
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
    return [("base", ["base"]), ("restarts", [f"from{s}" for s in _starts(cfg)])]


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
    """The units of one run on this rank: their files, and which rank ran which unit."""

    def __init__(self, config, out, context, resume, progress):
        self.out, self.context, self.resume, self.progress = out, context, resume, progress
        self.key = hashlib.sha256(json.dumps(_jsonable(config.to_dict()), sort_keys=True)
                                  .encode()).hexdigest()
        self.units = [[] for _ in range(context.world_size)]
        self.computed = 0

    def phase(self, names, compute, *, cached=True):
        """Run this rank's share of the units ``names`` (``compute(index)`` -> dict of arrays)
        and return every unit's arrays, in order, on every rank. ``cached``: keep each
        unit's arrays in its own file (training units checkpoint in their own folders)."""
        local = {}
        for i in distributed.share(len(names), self.context):
            local[names[i]] = (self.cached(names[i], lambda i=i: compute(i)) if cached
                               else compute(i))
        merged = {}
        for rank, part in enumerate(distributed.all_gather(self.context, local)):
            self.units[rank].extend(part)
            merged.update(part)
        return [merged[name] for name in names]

    def cached(self, name, compute):
        """``compute()`` (a dict of arrays), or its saved file ``units/NAME.npz`` when resuming
        the same config."""
        path = self.out / "units" / f"{name}.npz"
        if self.resume and path.is_file():
            with np.load(path, allow_pickle=False) as npz:
                if str(npz["config_sha256"]) == self.key:
                    return {k: npz[k] for k in npz.files if k != "config_sha256"}
        arrays = compute()
        path.parent.mkdir(parents=True, exist_ok=True)
        io.write_npz(path, dict(arrays, config_sha256=np.array(self.key)))
        self.computed += 1
        self._kill_hook()
        return arrays

    def _kill_hook(self):
        spec = os.environ.get(_KILL_HOOK)
        if spec:
            rank, count = (int(v) for v in spec.split(":"))
            if rank == self.context.rank and self.computed >= count:
                os.kill(os.getpid(), signal.SIGKILL)

    def record(self):
        """The units each rank ran: a list (one per rank) of unit names."""
        return [list(names) for names in self.units]

    def trained(self, cfg, folder, **kwargs):
        """:func:`sgdlab.nn.train.train` of ``cfg`` in ``out/folder`` (resumable)."""
        from .train import train

        return train(cfg, self.out / folder, resume=self.resume, progress=self.progress,
                     **kwargs)


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
def _setup(cfg):
    """(data set, model template on the device, training images and labels there)."""
    import torch

    from . import data, nets

    dataset = data.load(cfg.dataset, cfg.data_dir, limit=cfg.limit, val_split=cfg.val_split)
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


def _run_arrays(run, weights=False):
    """The per-epoch metrics of a training run (and its weights) as arrays."""
    arrays = {name: np.asarray(getattr(run, name), dtype=np.float64) for name in _METRICS}
    if weights:
        arrays["weights"] = np.asarray(run.weights)
    return arrays


def _trajectory(cfg, work):
    """Figure 5a (inner products along each trajectory) and 5c (gradient norms, steps)."""
    from . import nets, probe
    from .train import load_result

    _, model, x, y = _setup(cfg)
    trials = work.phase([f"trial{i}" for i in range(cfg.trials)], lambda i: _run_arrays(
        work.trained(_trial_config(cfg, i), f"trial{i}")), cached=False)
    blocks = _blocks(cfg.epochs)

    def block(j):  # the weights come from the trial's folder (shared by all ranks)
        i, (start, stop) = j // len(blocks), blocks[j % len(blocks)]
        w = load_result(work.out / f"trial{i}").weights
        # the control: the same probe towards the next trial's final solution
        other = load_result(work.out / f"trial{(i + 1) % cfg.trials}").weights[-1] \
            if cfg.trials > 1 else None
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

    _, model, x, y = _setup(cfg)
    (trained,) = work.phase(["train"], lambda _: {
        "weights": np.asarray(work.trained(_trial_config(cfg, 0), "trial0").weights)},
        cached=False)
    weights = _weights(trained["weights"], x.device)
    epochs = _probed_epochs(cfg)
    options = _probe_options(cfg)

    def ball(i):
        t = int(epochs[i])
        res = probe.neighbourhood_probe(model, weights[t], weights[-1], x, y, k=cfg.k,
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


def _ensemble_unit(cfg, work, seeds, start, folder):
    """Train ``seeds`` as one ensemble from ``start`` ((P,), or None: each member's own
    initialisation), one epoch per call of :func:`~sgdlab.nn.train.train_ensemble`, the
    weights so far saved after every epoch with the config's key (``out/folder/weights.npz``:
    ``weights``, (epochs + 1, members, P), and ``config_sha256``); resumes from that file
    when its key is the run's and it has at most ``epochs + 1`` rows (else recomputes)."""
    from .train import lr_at, train_ensemble

    path = work.out / folder / "weights.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    done = None
    if work.resume and path.is_file():
        with np.load(path, allow_pickle=False) as npz:
            if (str(npz["config_sha256"]) == work.key
                    and 1 <= npz["weights"].shape[0] <= cfg.epochs + 1):
                done = npz["weights"]
    full = _train_config(cfg)
    for epoch in range(0 if done is None else done.shape[0] - 1, cfg.epochs):
        one = _train_config(cfg, epochs=1, lr=lr_at(full, epoch), schedule="constant")
        step = train_ensemble(one, seeds, start_params=start if done is None else done[-1],
                              start_epoch=cfg.shared_epochs + epoch, progress=False)
        done = step if done is None else np.concatenate([done, step[1:]])
        io.write_npz(path, {"weights": done, "config_sha256": np.array(work.key)})
    return done


def _allpairs(cfg, work):
    """Section 5.3: shared first epochs, then ``members`` seeds trained as ensembles of
    :func:`member_groups` (:func:`sgdlab.nn.train.train_ensemble`)."""
    from . import nets

    _, model, x, y = _setup(cfg)
    start = None
    if cfg.shared_epochs > 0:
        (shared,) = work.phase(["shared"], lambda _: {"start": np.asarray(work.trained(
            _trial_config(cfg, 0, epochs=cfg.shared_epochs), "shared").weights)[-1]},
            cached=False)
        start = shared["start"]
    groups = member_groups(cfg.members)
    parts = work.phase([f"members{a}-{b}" for a, b in groups], lambda g: {
        "weights": _ensemble_unit(cfg, work, [derive(cfg.seed, Purpose.MEMBER, m)
                                              for m in range(*groups[g])],
                                  start, f"members{groups[g][0]}-{groups[g][1]}")},
        cached=False)
    trajectories = np.swapaxes(np.concatenate([p["weights"] for p in parts], axis=1), 0, 1)
    finals = _weights(trajectories[:, -1], x.device)
    values = np.stack([p["values"] for p in work.phase(
        [f"pairs{m}" for m in range(cfg.members)], lambda m: {"values": _pair_values(
            model, _weights(trajectories[m], x.device), finals, x, y, cfg)})])
    summary = dict(_pairs_summary(values, trajectories[:, -1]), members=cfg.members,
                   shared_epochs=cfg.shared_epochs, epochs=cfg.epochs,
                   parameters=nets.count_parameters(model),
                   distance_from_start=float(np.linalg.norm(
                       trajectories[:, -1].astype(np.float64)
                       - trajectories[:, 0].astype(np.float64), axis=1).mean()))
    return summary, {"values": values}


def _pair_values(model, trajectory, finals, x, y, cfg):
    """``values[t, n]`` = :math:`\\langle -\\nabla f(x_t), x_n^{final} - x_t\\rangle` for the
    points ``trajectory`` (T + 1, P) and the final solutions ``finals`` (M, P), float64."""
    import torch

    from . import probe

    grads = torch.stack([probe.full_batch_grad(model, point, x, y, batch_size=cfg.probe_batch)
                         for point in trajectory]).double()
    # <-g, x_n - p> = (g . p) - (g . x_n)
    return ((grads * trajectory.double()).sum(1, keepdim=True)
            - grads @ finals.double().T).cpu().numpy()


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


def _starts(cfg):
    return np.unique(np.linspace(0, cfg.epochs, cfg.starts).round().astype(int))


_ROWS = ("train_loss", "val_loss", "val_accuracy", "distance_init", "share_positive",
         "min_inner", "start_train_loss")


def _spectrum(cfg, work):
    """Section 5.4, Figure 6: minima reached by shrinking lr at different epochs."""
    from . import nets

    dataset, model, x, y = _setup(cfg)
    (base,) = work.phase(["base"], lambda _: _run_arrays(work.trained(_trial_config(cfg, 0),
                                                                      "base"), weights=True),
                         cached=False)
    weights = _weights(base["weights"], x.device)
    starts = _starts(cfg)
    val = (dataset.x_val.to(x.device), dataset.y_val.to(x.device))
    rows = work.phase([f"from{s}" for s in starts],
                      lambda i: _restart(cfg, work, model, weights, int(starts[i]), (x, y), val))
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


def _restart(cfg, work, model, weights, s, train_data, val):
    """One unit of ``spectrum``: continue from epoch ``s`` at the small lr; the minimum's
    losses, distance and the probe of the whole path towards it."""
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
    return {"train_loss": probe.loss_at(model, minimum, *train_data, **options),
            "val_loss": probe.loss_at(model, minimum, *val, **options),
            "val_accuracy": _accuracy(model, minimum, *val, batch_size=cfg.probe_batch),
            "distance_init": float((minimum - weights[0]).norm()),
            "share_positive": float(np.mean(inner > 0)), "min_inner": float(inner.min()),
            "start_train_loss": probe.loss_at(model, weights[s], *train_data, **options)}

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
