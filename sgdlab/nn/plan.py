"""``python -m sgdlab run EXPERIMENT --plan``: what a run will cost, before it runs.

:func:`measure` times a few SGD steps, a forward pass and one gradient of the probed
:math:`f` on the chosen device and data, and measures their peak memory; :func:`estimate`
multiplies these by the number of steps, passes and gradients of every unit of the
experiment (:func:`sgdlab.nn.experiments.units_of`), shares the units out over ``ranks``
processes as :mod:`sgdlab.nn.distributed` does (unit ``i`` of a phase on rank ``i mod
ranks``, a barrier after each phase) and adds up the files the run writes. :func:`report`
prints one or more plans.

The model of the cost, per unit:

* a training epoch: ``n // batch_size`` SGD steps, plus a forward pass over the training and
  validation images (the per-epoch losses of :func:`sgdlab.nn.train.train`);
* an ensemble epoch of ``g`` members: ``g`` times the steps of one network (an upper bound:
  the grouped ensemble is faster, :mod:`sgdlab.nn.grouped`);
* a probe point: one gradient of :math:`f` over the ``n`` training images (the measured
  seconds per image times ``n``); a loss: a forward pass over the ``n`` images.

Peak memory per process is the larger of a training step's and one probe gradient's, plus
the data on the device. On CUDA it is measured (``torch.cuda.max_memory_allocated``); on the
CPU it is counted: the parameters, their gradients, the data, and the bytes of the tensors
autograd saves for the backward pass (a lower estimate of the process's memory). A gradient
over all ``n`` images in one pass (``probe_batch`` None) is measured on a slice of the data
and scaled to ``n`` images (its saved tensors grow linearly with the images); with
``probe_batch`` it is measured at that chunk. Where the probes map ``w`` points at once
(``vmap``, on CUDA: :func:`sgdlab.nn.probe.prefers_vmap`) the gradient's part is multiplied
by ``w`` = :func:`sgdlab.nn.probe.vmap_width` of the widest probe unit and ``memory_gb``
(whose default, a share of the free memory, is read on this device now):

.. math::

    \\text{peak} = \\max(\\text{train}, \\; w \\cdot \\text{grad}) + \\text{data} .

Importing this module does not import torch.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from .. import _validate as validate
from .config import config_for, restart_epochs

__all__ = ["Timings", "Phase", "Plan", "measure", "estimate", "report", "SAMPLE_IMAGES"]

SAMPLE_IMAGES = 256
"""Most images of the gradient timed by :func:`measure` when ``probe_batch`` is None."""
_STEPS = 5


@dataclass
class Timings:
    """What :func:`measure` timed and measured on one device.

    Attributes
    ----------
    step_seconds : float
        One SGD step of ``batch_size`` images: the fastest of a few, after a warm-up step
        (the fastest, not the median, so that other jobs on a shared machine inflate it
        less).
    forward_seconds_per_image, grad_seconds_per_image : float
        A forward pass, and one gradient of the probed f, per training image.
    train_bytes, grad_bytes : int
        Peak memory of a training step and of one gradient of f over all training images
        (scaled, or at the ``probe_batch`` chunk), without the data.
    data_bytes : int
        The training and validation images and labels on the device.
    parameters, train_images, val_images : int
    sample_images : int
        Images of the timed gradient.
    measured_memory : bool
        True: peak memory measured by CUDA's allocator; False: counted (see the module).
    vmap_width : int
        Points whose gradients the probes map at once (1: the loop, on a CPU).
    """

    step_seconds: float
    forward_seconds_per_image: float
    grad_seconds_per_image: float
    train_bytes: int
    grad_bytes: int
    data_bytes: int
    parameters: int
    train_images: int
    val_images: int
    sample_images: int
    measured_memory: bool
    vmap_width: int = 1


@dataclass
class Phase:
    """One phase of a plan: its units' estimated seconds, and the wall-clock on the ranks."""

    name: str
    unit_seconds: list = field(repr=False)
    wall_seconds: float

    @property
    def work_seconds(self):
        """Device-seconds of all the phase's units together."""
        return float(sum(self.unit_seconds))


@dataclass
class Plan:
    """The estimate of one experiment's run (:func:`estimate`).

    Attributes
    ----------
    experiment, scale, device : str
    ranks : int
    phases : list of Phase
    wall_seconds, work_seconds : float
        Wall-clock on ``ranks`` processes; device-seconds of all units (GPU-seconds on CUDA).
    peak_bytes : int
        Peak memory of one process.
    disk_bytes : int
        The files the run writes (weights of every epoch, checkpoints, results).
    timings : Timings
    """

    experiment: str
    scale: str
    device: str
    ranks: int
    phases: list
    wall_seconds: float
    work_seconds: float
    peak_bytes: int
    disk_bytes: int
    timings: Timings = field(repr=False)


# -- measuring -------------------------------------------------------------------------------
def _fastest_seconds(func, repeats):
    import torch

    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        func()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - began)
    return min(times)


def _peak_bytes(func, device, extra):
    """Peak memory of ``func()``: CUDA's allocator, or ``extra`` + autograd's saved tensors."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        func()
        torch.cuda.synchronize()
        return int(torch.cuda.max_memory_allocated(device) - base + extra)
    saved = [0]

    def pack(tensor):
        saved[0] += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        func()
    return int(saved[0] + extra)


def _steps(cfg, model, x, y):
    """A function doing one SGD step of ``cfg`` on a random batch of (x, y)."""
    import torch
    import torch.nn.functional as F

    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                                weight_decay=cfg.weight_decay)
    batch = min(cfg.batch_size, x.shape[0])
    generator = torch.Generator().manual_seed(cfg.seed)

    def step():
        index = torch.randperm(x.shape[0], generator=generator)[:batch].to(x.device)
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[index]), y[index]).backward()
        optimizer.step()

    return step


def measure(cfg):
    """Time a few training steps, a forward pass and one gradient of f for ``cfg`` (an
    :class:`~sgdlab.nn.config.ExperimentConfig`) on its device and data.

    Returns
    -------
    Timings
    """
    import torch

    from . import data, nets, probe

    dataset = data.load(cfg.dataset, cfg.data_dir, limit=cfg.limit, val_split=cfg.val_split)
    if cfg.batch_size > dataset.x_train.shape[0]:
        validate.fail("batch_size", f"<= the {dataset.x_train.shape[0]} training images",
                      cfg.batch_size)
    device = torch.device(cfg.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        validate.fail("device", "available (torch.cuda.is_available() is False)", cfg.device)
    model = nets.build(cfg.arch, dataset.shape, dataset.classes, seed=cfg.seed).to(device)
    x, y = dataset.x_train.to(device), dataset.y_train.to(device)
    n, parameters = x.shape[0], nets.count_parameters(model)
    data_bytes = sum(t.numel() * t.element_size() for t in (
        dataset.x_train, dataset.y_train, dataset.x_val, dataset.y_val))
    state_bytes = 2 * parameters * 4 * (2 if cfg.momentum else 1)
    model.train()
    step = _steps(cfg, model, x, y)
    step()  # warm-up
    step_seconds = _fastest_seconds(step, _STEPS)
    train_bytes = _peak_bytes(step, device, 0 if device.type == "cuda" else state_bytes)
    sample = min(n, cfg.probe_batch or SAMPLE_IMAGES)
    theta = nets.flatten_params(model).to(device)
    xs, ys = x[:sample], y[:sample]
    probe.full_batch_grad(model, theta, xs, ys)  # warm-up
    grad_seconds = _fastest_seconds(lambda: probe.full_batch_grad(model, theta, xs, ys), 2)
    forward = _fastest_seconds(lambda: probe.loss_at(model, theta, xs, ys), 3)
    grad_bytes = _peak_bytes(lambda: _plain_grad(model, xs, ys), device,
                             0 if device.type == "cuda" else 2 * parameters * 4)
    if cfg.probe_batch is None:
        grad_bytes = int(grad_bytes * n / sample)
    width = 1
    if probe.prefers_vmap(device):
        width = probe.vmap_width(model, theta, x, points=_probe_points(cfg),
                                 batch_size=cfg.probe_batch, memory_gb=cfg.memory_gb)
    return Timings(step_seconds=step_seconds, forward_seconds_per_image=forward / sample,
                   grad_seconds_per_image=grad_seconds / sample, train_bytes=train_bytes,
                   grad_bytes=grad_bytes, data_bytes=data_bytes, parameters=parameters,
                   train_images=n, val_images=dataset.x_val.shape[0], sample_images=sample,
                   measured_memory=device.type == "cuda", vmap_width=width)


def _probe_points(cfg):
    """Points of the experiment's widest probe unit (what ``vmap`` may map at once)."""
    from .experiments import PROBE_BLOCK

    if cfg.experiment == "neighbourhood":
        return cfg.k
    if cfg.experiment == "allpairs":
        return cfg.epochs + 1
    if cfg.experiment == "spectrum":
        return min(PROBE_BLOCK, int(restart_epochs(cfg).max()) + cfg.continue_epochs)
    if cfg.experiment == "noise":
        return cfg.noise_batches
    if cfg.experiment == "gd":
        return 1
    return min(PROBE_BLOCK, cfg.epochs)


def _plain_grad(model, x, y):
    """One forward and backward pass of the mean loss over (x, y) in eval mode (the memory of
    one probe gradient; plain autograd so that the saved tensors can be counted)."""
    import torch.nn.functional as F

    was = model.training
    model.eval()
    try:
        F.cross_entropy(model(x), y).backward()
        model.zero_grad(set_to_none=True)
    finally:
        model.train(was)


# -- estimating ------------------------------------------------------------------------------
def _unit_seconds(cfg, t):
    """``[(phase, [seconds of each unit])]`` of ``cfg``'s experiment, from the timings ``t``."""
    from .experiments import member_groups, units_of

    n = t.train_images
    steps = n // min(cfg.batch_size, n)
    epoch = steps * t.step_seconds + (n + t.val_images) * t.forward_seconds_per_image
    grad, loss = n * t.grad_seconds_per_image, n * t.forward_seconds_per_image
    phases = units_of(cfg.experiment, cfg.scale, **_overrides(cfg))
    cost = {
        "trials": lambda name: cfg.epochs * epoch,
        "probes": lambda name: _block_rows(cfg.epochs, int(name.rsplit("probe", 1)[1])) * grad,
        "training": lambda name: cfg.epochs * epoch,
        "balls": lambda name: cfg.k * grad,
        "shared": lambda name: cfg.shared_epochs * epoch,
        "pairs": lambda name: (cfg.epochs + 1) * grad,
        "base": lambda name: cfg.epochs * epoch,
        "restarts": lambda name: (cfg.continue_epochs * epoch
                                  + (int(name[4:]) + cfg.continue_epochs) * grad + 3 * loss),
    }
    sizes = {f"members{a}-{b}": b - a for a, b in member_groups(cfg.members)}
    cost["members"] = lambda name: sizes[name] * cfg.epochs * steps * t.step_seconds
    cost.update(_ours_costs(cfg, t, epoch, grad))
    return [(phase, [cost[phase](name) for name in names]) for phase, names in phases]


LANCZOS_MATVECS = 20
"""Hessian-vector products the plan assumes per Lanczos eigenpair (each costs two
gradients of f, :data:`HVP_GRADIENTS`)."""
HVP_GRADIENTS = 2


def _ours_costs(cfg, t, epoch, grad):
    """The units' costs of ``noise`` and ``gd``: a point of ``noise`` takes its mini-batch
    gradients, ``1 + 2 * smoothing_samples`` gradients of f and a Lanczos of ``top_k`` pairs;
    a GD run one gradient of f and a forward pass per step; a curvature point a Lanczos of one
    pair, ``trace_samples`` Hessian-vector products and a gradient."""
    from .config import curvature_indices

    n = t.train_images
    minibatch = cfg.batch_size * t.grad_seconds_per_image
    hvp = HVP_GRADIENTS * grad
    step = grad + (n + t.val_images) * t.forward_seconds_per_image

    def run(name):
        if name.startswith("gd"):
            return cfg.gd_steps * step
        batch = int(name[3:].split("-")[0])
        return cfg.epochs * ((n // min(batch, n)) * t.step_seconds * batch / cfg.batch_size
                             + (n + t.val_images) * t.forward_seconds_per_image)

    def curve(name):
        rows = (cfg.gd_steps if name.startswith("gd") else cfg.epochs) + 1
        points = curvature_indices(rows, cfg.curvature_points).size
        return points * ((LANCZOS_MATVECS + cfg.trace_samples) * hvp + grad)

    point = (cfg.noise_batches * minibatch + (1 + 2 * cfg.smoothing_samples) * grad
             + LANCZOS_MATVECS * cfg.top_k * hvp)
    return {"points": lambda name: point, "runs": run, "curvature": curve}


def _block_rows(rows, block):
    """Points in block ``block`` of a probe of ``rows`` points."""
    from .experiments import PROBE_BLOCK

    return min(PROBE_BLOCK, rows - block * PROBE_BLOCK)


def _overrides(cfg):
    from .config import OPTIONS

    return {name: getattr(cfg, name) for name in OPTIONS}


def _wall(seconds, ranks):
    """Wall-clock of units shared out round-robin over ``ranks`` (the slowest rank)."""
    return max(sum(seconds[r::ranks]) for r in range(ranks)) if seconds else 0.0


def _disk_bytes(cfg, parameters):
    """Bytes of the files of a run: float32 weights of every epoch start, one checkpoint
    (model and optimiser state) per training run; the probes' files are small."""
    row = 4 * parameters
    checkpoint = row * (3 if cfg.momentum else 2)
    e = cfg.epochs
    if cfg.experiment == "trajectory":
        return cfg.trials * ((e + 1) * row + checkpoint)
    if cfg.experiment == "neighbourhood":
        return (e + 1) * row + checkpoint
    if cfg.experiment == "allpairs":
        shared = (cfg.shared_epochs + 1) * row + checkpoint if cfg.shared_epochs else 0
        return shared + cfg.members * (e + 1) * row
    if cfg.experiment == "noise":
        return (e + 1) * row + checkpoint
    if cfg.experiment == "gd":
        from .experiments import units_of

        names = units_of("gd", cfg.scale, **_overrides(cfg))[0][1]
        return sum((cfg.gd_steps if n.startswith("gd") else e) + 1 for n in names) * row \
            + len(names) * checkpoint
    starts = len(restart_epochs(cfg))
    return (e + 1) * row + checkpoint + starts * ((cfg.continue_epochs + 1) * row + checkpoint)


def _default_ranks():
    from . import distributed

    return int(os.environ["WORLD_SIZE"]) if distributed.launched() else 1


def estimate(experiment, *, scale="book", ranks=None, timings=None, **overrides):
    """The plan of ``experiment`` at ``scale`` (with ``overrides``, as
    :func:`sgdlab.nn.experiments.run` takes them) on ``ranks`` processes.

    Parameters
    ----------
    experiment, scale : str
    ranks : int, optional
        Processes (ranks of ``torchrun``); default: the world size (1 without ``torchrun``).
    timings : Timings, optional
        Reuse these instead of measuring (:func:`measure`).

    Returns
    -------
    Plan
    """
    cfg = config_for(experiment, scale, **overrides)
    ranks = _default_ranks() if ranks is None else validate.integer("ranks", ranks, low=1)
    if timings is not None and not isinstance(timings, Timings):
        validate.fail("timings", "a plan.Timings", error=TypeError, shown=type(timings).__name__)
    t = measure(cfg) if timings is None else timings
    phases = [Phase(name, seconds, _wall(seconds, ranks))
              for name, seconds in _unit_seconds(cfg, t)]
    return Plan(experiment=experiment, scale=scale, device=cfg.device, ranks=ranks,
                phases=phases, wall_seconds=sum(p.wall_seconds for p in phases),
                work_seconds=sum(p.work_seconds for p in phases),
                peak_bytes=max(t.train_bytes, t.vmap_width * t.grad_bytes) + t.data_bytes,
                disk_bytes=_disk_bytes(cfg, t.parameters), timings=t)


# -- printing --------------------------------------------------------------------------------
def _hours(seconds):
    """``"1,234 h"``, ``"12.3 h"``, ``"4.5 min"`` or ``"6.7 s"``."""
    if seconds >= 360_000:
        return f"{seconds / 3600:,.0f} h"
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 60:.3g} min" if seconds >= 60 else f"{seconds:.3g} s"


def _size(count):
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} B"


def _lines(plan):
    t = plan.timings
    memory = "measured" if t.measured_memory else "counted: saved tensors + state + data"
    if t.vmap_width > 1:
        memory += f"; probes map {t.vmap_width} points at once"
    lines = [
        f"{plan.experiment} (scale {plan.scale}, device {plan.device}, {plan.ranks} rank(s); "
        f"{t.parameters:,} parameters, {t.train_images:,} training images)",
        f"  timed here: SGD step {_hours(t.step_seconds)}, forward "
        f"{t.forward_seconds_per_image * 1e3:.3g} ms/image, gradient of f "
        f"{t.grad_seconds_per_image * 1e3:.3g} ms/image ({t.sample_images} images)",
        f"  {'phase':<10}{'units':>7}{'device time':>14}{'wall-clock':>14}"]
    lines += [f"  {p.name:<10}{len(p.unit_seconds):>7}{_hours(p.work_seconds):>14}"
              f"{_hours(p.wall_seconds):>14}" for p in plan.phases]
    lines.append(f"  {'total':<10}{'':>7}{_hours(plan.work_seconds):>14}"
                 f"{_hours(plan.wall_seconds):>14}")
    lines.append(f"  peak memory per process {_size(plan.peak_bytes)} ({memory}); disk "
                 f"{_size(plan.disk_bytes)}")
    return lines


def report(plans):
    """The text of one plan or a list of plans (and their total), as ``--plan`` prints it."""
    plans = [plans] if isinstance(plans, Plan) else list(plans)
    if not plans or not all(isinstance(p, Plan) for p in plans):
        validate.fail("plans", "a Plan or a non-empty list of Plans", error=TypeError,
                      shown=repr(plans)[:60])
    lines = ["Estimated cost, from a few steps timed here (ensembles: no speed-up assumed):"]
    for plan in plans:
        lines += _lines(plan)
    if len(plans) > 1:
        lines.append(f"all {len(plans)}: wall-clock {_hours(sum(p.wall_seconds for p in plans))}"
                     f", device time {_hours(sum(p.work_seconds for p in plans))}, peak memory "
                     f"{_size(max(p.peak_bytes for p in plans))}, disk "
                     f"{_size(sum(p.disk_bytes for p in plans))}")
    return "\n".join(lines)
