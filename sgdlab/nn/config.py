"""The settings of the Section 5 experiments: :class:`ExperimentConfig`, the presets of each
scale (``tiny``, ``book``, ``paper``) and :func:`config_for` (no torch).

The fields after ``scale`` are the options of ``python -m sgdlab run`` (:data:`OPTIONS`), each
with its help text, so the command line, the presets and ``result.json`` share one list.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from .. import _validate as validate
from . import names
from .names import ARCHS, BN_EVALS, DATASETS, DEVICES, EXPERIMENTS, SCALES, SCHEDULES, VAL_SPLITS

__all__ = ["ExperimentConfig", "OPTIONS", "config_for", "restart_epochs", "sgd_batch_sizes",
           "gd_step_sizes", "curvature_indices"]


def _knob(default, help, choices=None):
    """A field of :class:`ExperimentConfig` with its command-line help (and choices)."""
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class ExperimentConfig:
    """Every knob of the four experiments (each uses the ones it needs).

    The fields after ``scale`` are the options of ``python -m sgdlab run`` (:data:`OPTIONS`;
    ``--data-dir`` for ``data_dir``), each with its help text in ``metadata["help"]``. Checked
    on creation (``ValueError`` / ``TypeError`` naming the field).
    """

    experiment: str
    scale: str = "book"
    dataset: str = _knob("digits", "digits: scikit-learn's bundled 8x8 digits (no download); "
                         "cifar10 / cifar100: read from --data-dir", DATASETS)
    data_dir: str | None = _knob(None, "folder holding cifar-10-batches-py/ or "
                                 "cifar-100-python/ (never downloaded)")
    arch: str = _knob("resnet", "resnet / densenet: ~10K parameters (Sections 5.3-5.4); "
                      "resnet34 (~1.2M) and densenet100 (~0.8M): the paper's Sections 5.1-5.2; "
                      "resnet34 is ResNet-34's layout with narrower layers, to the paper's "
                      "~1.2M (the paper does not say how; see sgdlab.nn.protocol)", ARCHS)
    epochs: int = _knob(30, "training epochs (at the large lr for allpairs and spectrum)")
    trials: int = _knob(3, "independent training runs (trajectory); initialisations (gd)")
    batch_size: int = _knob(64, "mini-batch size (the paper states none; ours at paper scale: "
                            "128, as in He et al.'s CIFAR training)")
    lr: float = _knob(0.1, "initial step size (0.1 in the paper)")
    schedule: str = _knob("step", "step: lr, lr/10 after half the epochs, lr/100 after three "
                          "quarters; smooth: x0.99 per epoch; constant", SCHEDULES)
    seed: int = _knob(0, "the experiment's seed: every run, ball and member draws its own "
                      "seed from it and a named purpose (sgdlab.nn.seeds)")
    device: str = _knob("cpu", "where to train and probe", DEVICES)
    limit: int | None = _knob(None, "use only the first N images of each split")
    k: int = _knob(100, "neighbourhood: points per ball (paper: 100)")
    rho: float = _knob(0.5, "neighbourhood: ball radius (paper: 0.5)")
    probe_every: int = _knob(1, "neighbourhood: probe every N epochs")
    shared_epochs: int = _knob(10, "allpairs: shared first epochs (paper: 10)")
    members: int = _knob(50, "allpairs: trajectories (paper: 50)")
    small_lr: float = _knob(0.01, "spectrum: lr of the continuations (paper: 0.01)")
    continue_epochs: int = _knob(150, "spectrum: epochs of each continuation (paper: 150)")
    starts: int = _knob(6, "spectrum: epochs to continue from, evenly spaced from 0 to "
                        "--epochs (the paper: 'different epochs', how many not stated; ours: 6)")
    momentum: float = _knob(0.0, "SGD momentum mu (PyTorch's form: v <- mu v + g, x <- x - lr "
                            "v); the paper states none; ours: 0, plain SGD, the update of its "
                            "theory")
    weight_decay: float = _knob(0.0, "L2 weight decay lambda (g <- g + lambda x); the paper "
                                "states none; ours: 0")
    augment: bool = _knob(False, "random 32x32 crop of the image zero-padded by 4 pixels + "
                          "horizontal flip, drawn per (seed, epoch); CIFAR only; the paper "
                          "states none; ours: off")
    bn_eval: str = _knob("batch", "BatchNorm statistics of the reported losses and accuracies: "
                         "batch (each batch's own, as in training; the paper states none; "
                         "ours) or running (averages kept in training); the probes always "
                         "use batch statistics", BN_EVALS)
    val_split: str = _knob("test", "validation set: test (the data set's test split; the paper "
                           "does not say; ours) or holdout (a fixed tenth of the training "
                           "split, removed from training)", VAL_SPLITS)
    probe_batch: int | None = _knob(None, "probed f = mean loss over consecutive chunks of N "
                                    "training images, each with its own BatchNorm statistics "
                                    "(bounded memory); presets: paper 500 images, book/tiny one "
                                    "pass over all images")
    memory_gb: float | None = _knob(None, "memory budget (GiB) that sets how many points the "
                                    "probes vmap at once; default: a safe share of the device")
    noise_batches: int = _knob(64, "noise: mini-batches drawn at each probed point; the noise "
                               "w is each one's gradient minus the full-batch gradient")
    smoothing_samples: int = _knob(16, "noise: noise samples averaged in each estimate of "
                                   "grad g (the real noise, and the paper's model noise)")
    top_k: int = _knob(4, "noise: top principal directions of the noise and top Hessian "
                       "eigenvectors compared")
    sgd_batches: str = _knob("32,64,256", "gd: the SGD runs' batch sizes, comma-separated")
    gd_lrs: str = _knob("0.1,0.5", "gd: step sizes of the constant-step GD runs, "
                        "comma-separated (one more GD run follows --lr and --schedule)")
    gd_steps: int = _knob(200, "gd: steps of every GD run (each step one pass over the "
                          "training images: one 'epoch')")
    curvature_points: int = _knob(4, "gd: points of each run (evenly spaced from its start to "
                                  "its end) where the sharpness and trace are measured")
    trace_samples: int = _knob(8, "gd: Rademacher probes of Hutchinson's trace estimate")

    def __post_init__(self):
        validate.choice("experiment", self.experiment, EXPERIMENTS)
        validate.choice("scale", self.scale, SCALES)
        names.check_training(self)
        names.check_protocol(self)
        self.probe_batch = validate.integer("probe_batch", self.probe_batch, low=1,
                                            allow_none=True)
        self.memory_gb = validate.real("memory_gb", self.memory_gb, above=0, allow_none=True)
        for name in ("trials", "k", "probe_every", "members", "starts", "continue_epochs",
                     "gd_steps", "top_k"):
            setattr(self, name, validate.integer(name, getattr(self, name), low=1))
        self.shared_epochs = validate.integer("shared_epochs", self.shared_epochs, low=0)
        self.rho = validate.real("rho", self.rho, above=0)
        self.small_lr = validate.real("small_lr", self.small_lr, above=0)
        if self.experiment == "allpairs":
            self.members = validate.integer("members", self.members, low=2)  # pairs need two
            _plain_sgd_only(self)
        if self.experiment == "spectrum" and self.starts > self.epochs + 1:
            validate.fail("starts", f"<= epochs + 1 = {self.epochs + 1}", self.starts)
        # two or more: standard errors; a run's start and end
        for name in ("noise_batches", "smoothing_samples", "trace_samples", "curvature_points"):
            setattr(self, name, validate.integer(name, getattr(self, name), low=2))
        if self.smoothing_samples > self.noise_batches:
            validate.fail("smoothing_samples", f"<= noise_batches = {self.noise_batches} (the "
                          "estimate of grad g uses the first noise samples)",
                          self.smoothing_samples)
        sgd_batch_sizes(self), gd_step_sizes(self)  # checks the lists

    def to_dict(self):
        return dataclasses.asdict(self)


def _plain_sgd_only(config):
    """allpairs trains its members as ensembles (:func:`sgdlab.nn.train.train_ensemble`),
    whose step is plain SGD on unaugmented batches: refuse the options it would ignore."""
    for name, plain in (("momentum", 0.0), ("weight_decay", 0.0), ("augment", False)):
        if getattr(config, name) != plain:
            validate.fail(name, f"{plain} for allpairs (its members train as ensembles, whose "
                          "step is plain SGD on unaugmented batches)", getattr(config, name))


def restart_epochs(config):
    """The epochs of the base run that ``spectrum`` (Section 5.4) continues from.

    ``config.starts`` epochs evenly spaced from 0 to ``config.epochs``, both included, rounded
    to whole epochs (half to even), each listed once:

    .. math::

        s_i = \\operatorname{round}\\Big(\\frac{i\\, E}{S - 1}\\Big), \\qquad
        i = 0, \\dots, S - 1

    (``S = 1``: epoch 0 alone). The one formula behind the units ``from{s}`` of
    :mod:`sgdlab.nn.experiments`, the protocol's row (:mod:`sgdlab.nn.protocol`) and the
    plan's disk (:mod:`sgdlab.nn.plan`).

    Parameters
    ----------
    config : ExperimentConfig
        Its ``epochs`` E and ``starts`` S.

    Returns
    -------
    numpy.ndarray
        The distinct epochs, ascending, int64 (fewer than S when two round to one epoch).
    """
    if not isinstance(config, ExperimentConfig):
        validate.fail("config", "an ExperimentConfig", error=TypeError,
                      shown=type(config).__name__)
    return np.unique(np.linspace(0, config.epochs, config.starts).round().astype(int))


def _listed(config, name, convert, what):
    """The comma-separated values of ``config.<name>``, converted, in order, each once."""
    text = getattr(config, name)
    try:
        values = tuple(dict.fromkeys(convert(v) for v in str(text).split(",")))
        if not values or not all(v > 0 and np.isfinite(v) for v in values):
            raise ValueError
    except ValueError:
        validate.fail(name, f"comma-separated {what} > 0, e.g. '32,64'", text)
    return values


def sgd_batch_sizes(config):
    """The batch sizes of the SGD runs of ``gd`` (``config.sgd_batches``), as ints."""
    return _listed(config, "sgd_batches", int, "integers")


def gd_step_sizes(config):
    """The step sizes of the constant-step GD runs of ``gd`` (``config.gd_lrs``)."""
    return _listed(config, "gd_lrs", float, "numbers")


def curvature_indices(rows, points):
    """``points`` epochs evenly spaced from 0 to ``rows - 1`` (both included), rounded, each
    once: where ``gd`` measures a run's sharpness (a run of ``rows - 1`` epochs or steps)."""
    return np.unique(np.linspace(0, rows - 1, min(points, rows)).round().astype(int))


OPTIONS = tuple(f.name for f in dataclasses.fields(ExperimentConfig))[2:]
"""The fields of :class:`ExperimentConfig` that ``python -m sgdlab run`` offers as options."""


# Presets: (scale, experiment) -> fields. The book scale keeps all four Section 5 experiments
# of one architecture within a couple of minutes on 2 CPU cores.
_PRESETS = {
    "paper": {
        # probe_batch: 100 chunks of 500 CIFAR images, so one gradient's memory is bounded (the
        # book's digits at chunks of 512 moved f by < 1%: chapter nn_trajectory measures it).
        "common": dict(dataset="cifar10", arch="resnet34", batch_size=128, lr=0.1, device="cuda",
                       probe_batch=500),
        "trajectory": dict(epochs=300, trials=5, schedule="step"),
        "neighbourhood": dict(epochs=300, trials=1, schedule="step", k=100, rho=0.5),
        "allpairs": dict(arch="resnet", epochs=140, shared_epochs=10, members=50,
                         schedule="constant"),
        "spectrum": dict(arch="resnet", epochs=300, schedule="constant", small_lr=0.01,
                         continue_epochs=150, starts=6),
        # ours: the paper's schedule on its 5.1 networks; the noise at 10 points of each run
        "noise": dict(epochs=300, trials=1, schedule="step", probe_every=30,
                      noise_batches=256, smoothing_samples=64, top_k=10),
        # ours: GD takes one pass over its training images per step, so 5,000 of them
        "gd": dict(arch="resnet", epochs=300, trials=3, schedule="step", limit=5000,
                   probe_batch=None, sgd_batches="32,128,512", gd_lrs="0.05,0.1,0.2,0.5",
                   gd_steps=3000, curvature_points=11, trace_samples=32),
    },
    "book": {
        "common": dict(dataset="digits", arch="resnet", batch_size=64, lr=0.1, device="cpu"),
        "trajectory": dict(epochs=24, trials=3, schedule="step"),
        "neighbourhood": dict(epochs=24, trials=1, schedule="step", k=32, rho=0.5,
                              probe_every=3),
        "allpairs": dict(epochs=12, shared_epochs=3, members=8, schedule="constant"),
        "spectrum": dict(epochs=24, schedule="constant", small_lr=0.01, continue_epochs=8,
                         starts=4),
        "noise": dict(epochs=24, trials=1, schedule="step", limit=256, probe_every=6,
                      noise_batches=64, smoothing_samples=16, top_k=3),
        "gd": dict(epochs=24, trials=1, schedule="step", limit=256, sgd_batches="32,64,128",
                   gd_lrs="0.2,0.5,1", gd_steps=200, curvature_points=4, trace_samples=8),
    },
    "tiny": {
        "common": dict(dataset="digits", arch="resnet", batch_size=64, lr=0.1, device="cpu",
                       limit=256),
        "trajectory": dict(epochs=3, trials=2, schedule="step"),
        "neighbourhood": dict(epochs=3, trials=1, schedule="step", k=4, rho=0.5, probe_every=1),
        "allpairs": dict(epochs=2, shared_epochs=1, members=3, schedule="constant"),
        "spectrum": dict(epochs=3, schedule="constant", small_lr=0.01, continue_epochs=2,
                         starts=2),
        "noise": dict(epochs=3, trials=1, schedule="step", limit=64, batch_size=16, probe_every=2,
                      noise_batches=4, smoothing_samples=2, top_k=1),
        "gd": dict(epochs=2, trials=1, schedule="step", limit=64, sgd_batches="32",
                   gd_lrs="0.5", gd_steps=2, curvature_points=2, trace_samples=2),
    },
}


def config_for(experiment, scale="book", **overrides):
    """The :class:`ExperimentConfig` of ``experiment`` at ``scale``, with ``overrides``
    (None values are ignored, so command-line defaults can be passed through)."""
    validate.choice("experiment", experiment, EXPERIMENTS)
    validate.choice("scale", scale, SCALES)
    unknown = set(overrides) - set(OPTIONS)
    if unknown:
        raise ValueError(f"unknown experiment option(s) {sorted(unknown)}; expected some of "
                         f"{sorted(OPTIONS)}")
    values = dict(_PRESETS[scale]["common"], **_PRESETS[scale][experiment])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return ExperimentConfig(experiment=experiment, scale=scale, **values)
