"""Training with plain SGD for the Section 5 experiments: checkpoints, resumption, ensembles.

Kleinberg, Li and Yuan (ICML 2018), Section 5, train networks with SGD and look at the weights
:math:`x_t` at the start of every epoch :math:`t`. :func:`train` does exactly that and keeps
what the probes need:

* the weights at every epoch start, ``weights[t]`` for ``t = 0 .. E`` (``weights[0]`` is the
  initialisation, ``weights[E]`` the final solution :math:`x_E`), in ``weights.npy``;
* per-epoch metrics: training and validation loss and accuracy, the learning rate, and the
  norms of the mini-batch gradients (mean, min, max) and step lengths ``lr * ||g||`` (Figure 5c:
  the paper bounds the step length by 0.5 to choose the radius of the balls of Figure 5b).

By default the optimiser is *plain* SGD, :math:`x \\leftarrow x - \\eta\\, \\nabla f_{B}(x)`
for a mini-batch :math:`B`, with no momentum and no weight decay: the paper's theory (Theorems
1 and 3) is about this update, so the experiments use it too. The loss is the mean
cross-entropy. The paper does not state its training protocol beyond the learning rates
(:mod:`sgdlab.nn.protocol` lists what it leaves open); :class:`TrainConfig` makes each choice
an option:

* ``momentum`` :math:`\\mu` and ``weight_decay`` :math:`\\lambda` (PyTorch's
  :class:`torch.optim.SGD`, no dampening): :math:`g = \\nabla f_B(x) + \\lambda x`,
  :math:`v \\leftarrow \\mu v + g` (:math:`v = g` at the first step), :math:`x \\leftarrow
  x - \\eta v`; the momentum buffer :math:`v` is in the checkpoint, so a resumed run is exact;
* ``augment``: the random crop and flip of :func:`sgdlab.nn.data.augment` (CIFAR), drawn per
  ``(seed, epoch)`` by :func:`sgdlab.nn.data.augmentation`;
* ``bn_eval``: ``"batch"`` evaluates with each batch's own BatchNorm statistics, as in
  training; ``"running"`` gives the model running averages (:func:`keep_running_stats`,
  PyTorch's momentum 0.1) that the evaluation passes use. Training steps are the same either
  way, and the probes (:mod:`sgdlab.nn.probe`) always use batch statistics: they build their
  networks with :func:`sgdlab.nn.nets.build`, so the probed :math:`f` is a function of the
  weights alone. ``weights.npy`` and ``start_params`` hold parameters only: a run continued
  from ``start_params`` starts its averages afresh (and, with ``momentum``, its momentum
  buffer at zero: the spectrum's continuations do);
* ``val_split``: the test split, or a fixed holdout of the training split
  (:func:`sgdlab.nn.data.load`).

Learning-rate schedules (:func:`lr_at`), from Section 5.1: ``"step"`` is the "standard step
size schedule (0.1 initially, 0.01 after epoch 150, and 0.001 after epoch 225)" of a 300-epoch
run, i.e. ``lr``, ``lr / 10`` after half the epochs and ``lr / 100`` after three quarters;
``"smooth"`` is "smoothly decreasing step sizes (shrink by 0.99 per epoch)",
``lr * 0.99 ** epoch``; ``"constant"`` keeps ``lr`` (Sections 5.3 and 5.4).

Reproducibility: the mini-batch order of epoch ``e`` is a permutation drawn from a generator
seeded by ``(seed, e)`` alone, and a checkpoint is written atomically after every epoch, so a
run killed at any point and resumed (``resume=True``) gives bitwise the weights of an
uninterrupted run on the CPU (at the same number of threads: the CPU kernels round
differently with another count). Section 5.3 trains 50 trajectories from one shared point;
:func:`train_ensemble` trains them together as one network with member-grouped channels
(:mod:`sgdlab.nn.grouped`) or with :func:`torch.func.vmap` (:func:`sgd_epoch_ensemble`), member
``m`` drawing the same batches as ``train`` with seed ``seeds[m]`` (:func:`ensemble_batches`).

Rounding and ReLU kinks: two float32 computations of the same step (one network alone, or in
an ensemble, or with another thread count) agree to rounding, about 1e-7 relative. But when a
ReLU input lies within rounding of zero, the two can fall on opposite sides of the kink, and
that step's gradients then differ by up to a percent or so; the trajectories separate from
there on. This is the network, not a bug: in float64 the ensemble and the one-by-one runs
agree to 1e-15 (``tests/test_train.py``, ``tests/test_grouped.py``).

Importing :mod:`sgdlab` does not import this module (nor torch).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.format import open_memmap
from torch.func import grad, vmap

from .. import _validate as validate
from . import checks, data, grouped, io, names, nets
from .names import DEVICES, ENSEMBLE_METHODS, SCHEDULES
from .runs import ConfigMismatchError, describe_differences, differences
from .seeds import Purpose, derive

__all__ = ["SCHEDULES", "DEVICES", "METRICS", "TrainConfig", "TrainResult", "lr_at", "train",
           "load_result", "keep_running_stats", "sgd_optimizer", "sgd_epoch", "epoch_batches",
           "ensemble_batches", "ENSEMBLE_METHODS", "sgd_epoch_ensemble", "sgd_epoch_sequential",
           "train_ensemble", "load_ensemble"]

METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "grad_norm_mean",
           "grad_norm_min", "grad_norm_max", "step_length_mean", "step_length_max", "seconds")
"""Per-epoch metrics of :class:`TrainResult`, one value per epoch."""
EVAL_BATCH = 1000
"""Largest batch of the evaluation passes (BatchNorm uses the statistics of each batch)."""
_FORMAT = 1


# --------------------------------------------------------------------------- configuration

@dataclass
class TrainConfig:
    """Everything that determines a training run (stored as ``config.json``).

    Attributes
    ----------
    dataset : {"digits", "cifar10", "cifar100"}
        See :func:`sgdlab.nn.data.load`.
    data_dir : str, optional
        Folder of the CIFAR files (not needed for digits).
    arch : {"resnet", "densenet", "resnet34", "densenet100"}
        See :func:`sgdlab.nn.nets.build`.
    epochs : int
        Number of epochs E of this run; the weights are saved at E + 1 epoch starts.
    batch_size : int
        Mini-batch size (the last incomplete batch of each epoch is dropped).
    lr : float
        Initial learning rate :math:`\\eta` (the paper: 0.1).
    schedule : {"step", "smooth", "constant"}
        See :func:`lr_at`.
    seed : int
        Seed of the mini-batch order (and of the initialisation unless ``init_seed`` is set).
    device : {"cpu", "cuda"}
    init_seed : int, optional
        Seed of the initial weights; default ``seed``.
    limit : int, optional
        Use only the first ``limit`` images of each split (small runs, tests).
    momentum : float, default 0
        Momentum :math:`\\mu` in [0, 1) (see :mod:`sgdlab.nn.train`).
    weight_decay : float, default 0
        L2 weight decay :math:`\\lambda` >= 0.
    augment : bool, default False
        Random crop + flip of the training batches (CIFAR only).
    bn_eval : {"batch", "running"}, default "batch"
        BatchNorm statistics of the evaluation passes (the per-epoch losses and accuracies).
    val_split : {"test", "holdout"}, default "test"
        See :func:`sgdlab.nn.data.load`.
    """

    dataset: str = "digits"
    data_dir: str | None = None
    arch: str = "resnet"
    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.1
    schedule: str = "step"
    seed: int = 0
    device: str = "cpu"
    init_seed: int | None = None
    limit: int | None = None
    momentum: float = 0.0
    weight_decay: float = 0.0
    augment: bool = False
    bn_eval: str = "batch"
    val_split: str = "test"

    def __post_init__(self):
        names.check_training(self)
        names.check_protocol(self)
        if self.init_seed is not None:
            self.init_seed = validate.seed("init_seed", self.init_seed)

    @property
    def weights_seed(self):
        """The seed of the initial weights (``init_seed``, or ``seed`` when that is None)."""
        return self.seed if self.init_seed is None else self.init_seed

    def to_dict(self):
        """Plain-JSON dict of the fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """Inverse of :meth:`to_dict` (unknown keys raise ``ValueError``)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s) {sorted(unknown)}; expected some "
                             f"of {sorted(names)}")
        return cls(**values)


def _check_config(config):
    if not isinstance(config, TrainConfig):
        validate.fail("config", "a TrainConfig", error=TypeError, shown=type(config).__name__)
    return config


def _device(config):
    if config.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but torch.cuda.is_available() is False "
                         f"(torch {torch.__version__}, built with CUDA {torch.version.cuda}); "
                         "use device='cpu'")
    return torch.device(config.device)


def lr_at(config, epoch):
    """Learning rate of epoch ``epoch`` (counted from 0 at the start of this run).

    With E = ``config.epochs`` and :math:`\\eta` = ``config.lr`` (Section 5.1 of the paper):

    * ``"step"``: :math:`\\eta` for epochs :math:`e < \\lceil E/2 \\rceil`, :math:`\\eta/10`
      until :math:`\\lceil 3E/4 \\rceil`, then :math:`\\eta/100` (for E = 300: 0.1, 0.01 from
      epoch 150, 0.001 from epoch 225, the paper's "standard step size schedule");
    * ``"smooth"``: :math:`\\eta \\cdot 0.99^e` ("shrink by 0.99 per epoch");
    * ``"constant"``: :math:`\\eta`.

    Parameters
    ----------
    config : TrainConfig
    epoch : int
        Epoch index, >= 0.

    Returns
    -------
    float
    """
    _check_config(config)
    epoch = validate.integer("epoch", epoch, low=0)
    if config.schedule == "constant":
        return config.lr
    if config.schedule == "smooth":
        return config.lr * 0.99 ** epoch
    half, three_quarters = (config.epochs + 1) // 2, (3 * config.epochs + 3) // 4
    if epoch < half:
        return config.lr
    if epoch < three_quarters:
        return config.lr / 10
    return config.lr / 100


# --------------------------------------------------------------------------- mini-batch order

def _check_batch_size(batch_size, n):
    batch_size = validate.integer("batch_size", batch_size, low=1)
    if batch_size > n:
        validate.fail("batch_size", f"<= the number of training images ({n})", batch_size)
    return batch_size


def epoch_batches(n, batch_size, seed, epoch):
    """Mini-batch indices of one epoch of :func:`train`: a LongTensor (steps, batch_size).

    A permutation of ``range(n)`` drawn by :func:`torch.randperm` from a CPU generator seeded
    by ``(seed, epoch)`` alone (``derive(seed, Purpose.BATCHES, epoch)``,
    :func:`sgdlab.nn.seeds.derive`), cut into ``steps = n // batch_size`` full batches (the
    rest of the permutation is dropped).
    """
    n = validate.integer("n", n, low=1)
    batch_size = _check_batch_size(batch_size, n)
    key = derive(seed, Purpose.BATCHES, validate.integer("epoch", epoch, low=0))
    generator = torch.Generator().manual_seed(key)
    order = torch.randperm(n, generator=generator)
    steps = n // batch_size
    return order[:steps * batch_size].view(steps, batch_size)


def _check_seeds(seeds):
    return [validate.seed(f"seeds[{i}]", s) for i, s in enumerate(seeds)]


def ensemble_batches(n, batch_size, members, seeds, epoch):
    """Mini-batch indices of one epoch for every member of an ensemble.

    Member ``m`` gets exactly the batches :func:`train` draws with ``seed = seeds[m]`` (see
    :func:`epoch_batches`). Drawn here, outside :func:`torch.func.vmap`, which cannot draw
    random numbers.

    Parameters
    ----------
    n : int
        Number of training images.
    batch_size : int
    members : int
        Number of members M (``len(seeds)``).
    seeds : sequence of int
        One seed per member.
    epoch : int
        Absolute epoch number (``start_epoch`` plus the epoch of this run).

    Returns
    -------
    torch.LongTensor
        Shape (M, n // batch_size, batch_size).
    """
    members = validate.integer("members", members, low=1)
    seeds = _check_seeds(seeds)
    if len(seeds) != members:
        validate.fail("seeds", f"one seed per member ({members})", shown=f"{len(seeds)} seeds")
    return torch.stack([epoch_batches(n, batch_size, s, epoch) for s in seeds])


# --------------------------------------------------------------------------- results

@dataclass
class TrainResult:
    """A finished training run (:func:`train`, :func:`load_result`).

    Attributes
    ----------
    config : TrainConfig
    weights : numpy.ndarray
        Shape (E + 1, P), float32: the weights at every epoch start, ``weights[0]`` the start
        (initialisation or ``start_params``), ``weights[E]`` the final solution. Usually a
        read-only memory map of ``out_dir/weights.npy``.
    train_loss, train_accuracy, val_loss, val_accuracy : numpy.ndarray
        Shape (E,): loss and accuracy on the whole training / validation split at the weights
        of the end of each epoch (``weights[1:]``).
    lr : numpy.ndarray
        Learning rate of each epoch.
    grad_norm_mean, grad_norm_min, grad_norm_max : numpy.ndarray
        Statistics of the mini-batch gradient norms seen during each epoch (Figure 5c).
    step_length_mean, step_length_max : numpy.ndarray
        ``lr * grad_norm_mean`` and ``lr * grad_norm_max``: the step lengths of plain SGD
        (with momentum or weight decay a step is ``lr`` times the norm of the update
        direction, not of the mini-batch gradient).
    seconds : numpy.ndarray
        Wall-clock time of each epoch.
    out_dir : pathlib.Path or None
    start_epoch : int
        Absolute epoch number of ``weights[0]`` (non-zero for a continued run).
    """

    config: TrainConfig
    weights: np.ndarray = field(repr=False)
    train_loss: np.ndarray = field(repr=False)
    train_accuracy: np.ndarray = field(repr=False)
    val_loss: np.ndarray = field(repr=False)
    val_accuracy: np.ndarray = field(repr=False)
    lr: np.ndarray = field(repr=False)
    grad_norm_mean: np.ndarray = field(repr=False)
    grad_norm_min: np.ndarray = field(repr=False)
    grad_norm_max: np.ndarray = field(repr=False)
    step_length_mean: np.ndarray = field(repr=False)
    step_length_max: np.ndarray = field(repr=False)
    seconds: np.ndarray = field(repr=False)
    out_dir: Path | None = None
    start_epoch: int = 0

    @property
    def epochs(self):
        return self.weights.shape[0] - 1

    @property
    def parameters(self):
        return self.weights.shape[1]

    @property
    def metrics(self):
        """``{name: array}`` of the per-epoch metrics (:data:`METRICS`)."""
        return {name: getattr(self, name) for name in METRICS}

    def summary(self):
        """A few numbers of the run (what ``result.json`` holds under ``"summary"``)."""
        return _summary(self.metrics, self.parameters)


def _summary(metrics, parameters):
    def last(name):
        return float(metrics[name][-1])

    return {
        "epochs": int(len(metrics["lr"])), "parameters": int(parameters),
        "final_train_loss": last("train_loss"), "final_train_accuracy": last("train_accuracy"),
        "final_val_loss": last("val_loss"), "final_val_accuracy": last("val_accuracy"),
        "best_val_accuracy": float(np.max(metrics["val_accuracy"])),
        "max_grad_norm": float(np.max(metrics["grad_norm_max"])),
        "max_step_length": float(np.max(metrics["step_length_max"])),
        "seconds": float(np.sum(metrics["seconds"])),
    }


def load_result(out_dir):
    """Read a finished run of :func:`train` from ``out_dir`` (weights as a read-only memmap).

    Raises
    ------
    FileNotFoundError
        ``out_dir`` holds no finished run (no ``result.json``, ``result.npz``, ``weights.npy``).
    """
    out = Path(out_dir)
    files = [out / "result.json", out / "result.npz", out / "weights.npy"]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"{out} holds no finished training run (missing "
                                f"{', '.join(missing)}; train(config, out_dir) writes them)")
    meta = json.loads(files[0].read_text())
    with np.load(files[1], allow_pickle=False) as npz:
        metrics = {name: npz[name] for name in METRICS}
    weights = np.load(files[2], mmap_mode="r")
    return TrainResult(config=TrainConfig.from_dict(meta["config"]), weights=weights,
                       out_dir=out, start_epoch=int(meta.get("start_epoch", 0)), **metrics)


# --------------------------------------------------------------------------- one run

def _setup(config, dataset=None):
    """(data set, device) of ``config``: ``dataset`` when given (loaded once by the caller),
    else :func:`sgdlab.nn.data.load` of ``config``'s data."""
    device = _device(config)
    if dataset is None:
        dataset = data.load(config.dataset, config.data_dir, limit=config.limit,
                            val_split=config.val_split)
    elif not isinstance(dataset, data.Dataset):
        validate.fail("dataset", "a sgdlab.nn.data.Dataset", error=TypeError,
                      shown=type(dataset).__name__)
    elif (dataset.name, dataset.val_split) != (config.dataset, config.val_split):
        validate.fail("dataset", f"the {config.dataset} data ({config.val_split} split) of "
                      "config", shown=f"{dataset.name} ({dataset.val_split} split)")
    _check_batch_size(config.batch_size, dataset.x_train.shape[0])
    return dataset, device


def keep_running_stats(model):
    """Make every BatchNorm layer of ``model`` keep running statistics, in place.

    :func:`sgdlab.nn.nets.build` makes BatchNorm layers without them (``track_running_stats=
    False``). This gives each one the buffers ``running_mean`` (zeros), ``running_var`` (ones)
    and ``num_batches_tracked`` and switches tracking on: in training mode a layer still
    normalises with the batch's statistics (so the training steps do not change) and updates
    the averages with PyTorch's momentum (``m.momentum``, 0.1); in evaluation mode it
    normalises with the averages. For ``bn_eval="running"``; the probes never use it.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    torch.nn.Module
        ``model``.
    """
    checks.model("model", model)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d) and not m.track_running_stats:
            like = m.weight if m.weight is not None else torch.empty(0)
            m.register_buffer("running_mean", torch.zeros(m.num_features, dtype=like.dtype,
                                                          device=like.device))
            m.register_buffer("running_var", torch.ones(m.num_features, dtype=like.dtype,
                                                        device=like.device))
            m.register_buffer("num_batches_tracked",
                              torch.tensor(0, dtype=torch.long, device=like.device))
            m.track_running_stats = True
    return model


@torch.no_grad()
def _evaluate(model, x, y):
    """(mean loss, accuracy) over (x, y), in nearly equal batches of at most EVAL_BATCH."""
    training = model.training
    model.eval()
    total, correct = 0.0, 0
    chunks = max(1, math.ceil(x.shape[0] / EVAL_BATCH))
    for xb, yb in zip(torch.tensor_split(x, chunks), torch.tensor_split(y, chunks)):
        logits = model(xb)
        total += float(F.cross_entropy(logits, yb, reduction="sum"))
        correct += int((logits.argmax(1) == yb).sum())
    model.train(training)
    return total / x.shape[0], correct / x.shape[0]


def _flat(model):
    return nets.flatten_params(model).cpu().numpy()


def _load_vector(model, vector):
    with torch.no_grad():
        source = torch.as_tensor(vector)
        for (name, p), piece in zip(model.named_parameters(),
                                    nets.unflatten_params(model, source).values()):
            p.copy_(piece)


def _run_meta(config, start_epoch, start, parameters):
    return {
        "format": _FORMAT, "config": config.to_dict(), "start_epoch": int(start_epoch),
        "start_params_sha256": None if start is None
        else hashlib.sha256(start.tobytes()).hexdigest(),
        "parameters": int(parameters),
    }


@dataclass
class _Run:
    """A run of :func:`train` in progress: what its epochs read and update."""

    config: TrainConfig
    out: Path
    meta: dict
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    first: int = 0
    metrics: dict = field(default_factory=lambda: {name: [] for name in METRICS})
    weights: np.ndarray | None = None


def _start(config, dataset, device, start_params, start_epoch):
    """The model at the start (its initialisation or ``start_params``) and the run's meta."""
    model = nets.build(config.arch, dataset.shape, dataset.classes, seed=config.weights_seed)
    if config.bn_eval == "running":
        keep_running_stats(model)
    parameters = nets.count_parameters(model)
    start = None
    if start_params is not None:
        start = checks.start_vector("start_params", start_params, parameters)
        _load_vector(model, start)
    model.to(device)
    return model, _run_meta(config, start_epoch, start, parameters)


def _finished(out, meta, resume):
    """Whether ``out`` holds this finished run and ``resume`` asks for it; refuses a folder
    that holds another run."""
    config_path = out / "config.json"
    if not config_path.is_file():
        return False
    _same_run(json.loads(config_path.read_text()), meta, out)
    return resume and (out / "result.json").is_file()


def _same_run(saved, meta, out):
    """Refuse the folder ``out`` when its run's meta ``saved`` is not ``meta`` (the folder the
    data were read from, ``config.data_dir``, may differ: not the data's identity)."""
    found = differences(_located(saved), _located(meta))
    if found:
        raise ConfigMismatchError(
            f"out_dir {str(out)!r} holds a run with another config or start: "
            f"{describe_differences(found)}. Choose another out_dir, or train with the saved "
            "settings")


def _located(meta):
    """``meta`` without ``config.data_dir``."""
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        return meta
    return dict(meta, config={k: v for k, v in meta["config"].items() if k != "data_dir"})


def _open(run, resume, device):
    """Resume ``run`` from its checkpoint (with ``resume``, if there is one), or start it
    afresh: write ``config.json`` and the first row of ``weights.npy``."""
    out, meta = run.out, run.meta
    rows = (run.config.epochs + 1, meta["parameters"])
    checkpoint_path, weights_path = out / "checkpoint.pt", out / "weights.npy"
    if resume and (out / "config.json").is_file() and checkpoint_path.is_file():
        state = io.load_checkpoint(checkpoint_path, device)
        if _located(state.get("meta")) != _located(meta):
            raise ValueError(f"{checkpoint_path} belongs to another run than its config.json; "
                             "delete the folder and start again")
        run.model.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
        run.first = int(state["epoch"])
        run.metrics = {name: list(state["metrics"][name]) for name in METRICS}
        run.weights = open_memmap(weights_path, mode="r+")
        if run.weights.shape != rows or run.weights.dtype != np.float32:
            raise ValueError(f"{weights_path} has shape {run.weights.shape} "
                             f"({run.weights.dtype}), expected {rows} float32; delete the "
                             "folder and start again")
        return
    for name in ("result.json", "result.npz", "checkpoint.pt"):
        (out / name).unlink(missing_ok=True)
    io.write_json(out / "config.json", meta)
    run.weights = open_memmap(weights_path, mode="w+", dtype=np.float32, shape=rows)
    run.weights[0] = _flat(run.model)
    run.weights.flush()


def sgd_optimizer(config, model):
    """The optimiser of :func:`train`: :class:`torch.optim.SGD` over ``model``'s parameters
    with ``config``'s learning rate, momentum and weight decay (no dampening, no Nesterov)."""
    config = _check_config(config)
    checks.model("model", model)
    return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay)


def sgd_epoch(model, optimizer, x, y, batches, lr, *, augmentation=None):
    """One epoch of SGD over ``batches``; the norms of its mini-batch gradients.

    Step ``s`` takes the images ``x[batches[s]]`` (cropped and flipped by
    :func:`sgdlab.nn.data.augment` when ``augmentation`` is given), computes the gradient
    :math:`\\nabla f_B` of their mean cross-entropy by backpropagation, records its norm and
    lets ``optimizer`` (:func:`sgd_optimizer`) step with learning rate ``lr``.

    Parameters
    ----------
    model : torch.nn.Module
        In training mode; updated in place.
    optimizer : torch.optim.Optimizer
        Over ``model``'s parameters; its state (momentum buffers) carries over epochs.
    x, y : torch.Tensor
        Training images (N, C, H, W) and labels (N,).
    batches : torch.LongTensor
        (steps, batch_size) indices (:func:`epoch_batches`).
    lr : float
    augmentation : tuple of torch.Tensor, optional
        ``(offsets, flips)`` of :func:`sgdlab.nn.data.augmentation` for all N images.

    Returns
    -------
    numpy.ndarray
        (steps,) float64: :math:`\\|\\nabla f_B\\|` of every step (without weight decay).
    """
    lr = validate.real("lr", lr, above=0)
    for group in optimizer.param_groups:
        group["lr"] = lr
    params = list(model.parameters())
    norms = torch.empty(batches.shape[0], dtype=torch.float64, device=x.device)
    for step, index in enumerate(batches):
        optimizer.zero_grad(set_to_none=True)
        xb = x[index]
        if augmentation is not None:
            xb = data.augment(xb, augmentation[0][index.cpu()], augmentation[1][index.cpu()])
        loss = F.cross_entropy(model(xb), y[index])
        loss.backward()
        with torch.no_grad():
            norms[step] = torch.nn.utils.get_total_norm([p.grad for p in params])
        optimizer.step()
    return norms.cpu().numpy()


def _epoch_metrics(model, splits, lr, norms, began):
    """The :data:`METRICS` of one epoch; ``splits`` = (x, y, x_val, y_val)."""
    x, y, x_val, y_val = splits
    train_loss, train_accuracy = _evaluate(model, x, y)
    val_loss, val_accuracy = _evaluate(model, x_val, y_val)
    return dict(train_loss=train_loss, train_accuracy=train_accuracy, val_loss=val_loss,
                val_accuracy=val_accuracy, lr=lr, grad_norm_mean=norms.mean(),
                grad_norm_min=norms.min(), grad_norm_max=norms.max(),
                step_length_mean=lr * norms.mean(), step_length_max=lr * norms.max(),
                seconds=time.perf_counter() - began)


def _save_epoch(run, epoch, values):
    """Record epoch ``epoch``: its metrics, the weights at its end, the checkpoint."""
    for name in METRICS:
        run.metrics[name].append(float(values[name]))
    run.weights[epoch + 1] = _flat(run.model)
    run.weights.flush()
    io.save_checkpoint(run.out / "checkpoint.pt", {
        "format": _FORMAT, "meta": run.meta, "epoch": epoch + 1,
        "model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(),
        "metrics": run.metrics})


def _epochs(run, dataset, device, start_epoch, progress):
    """Train ``run`` from epoch ``run.first`` to the end, saving after every epoch."""
    config, model = run.config, run.model
    splits = (dataset.x_train.to(device), dataset.y_train.to(device),
              dataset.x_val.to(device), dataset.y_val.to(device))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=config.epochs, initial=run.first,
                   desc=f"{config.arch} {config.dataset} seed {config.seed}")
    try:
        model.train()
        for epoch in range(run.first, config.epochs):
            began = time.perf_counter()
            lr = lr_at(config, epoch)
            n = splits[0].shape[0]
            batches = epoch_batches(n, config.batch_size, config.seed,
                                    start_epoch + epoch).to(device)
            augmentation = (data.augmentation(n, config.seed, start_epoch + epoch)
                            if config.augment else None)
            norms = sgd_epoch(model, run.optimizer, splits[0], splits[1], batches, lr,
                              augmentation=augmentation)
            values = _epoch_metrics(model, splits, lr, norms, began)
            _save_epoch(run, epoch, values)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{values['train_loss']:.3f}",
                                val_acc=f"{values['val_accuracy']:.3f}", lr=f"{lr:g}")
    finally:
        if bar is not None:
            bar.close()


def _write_result(out, meta, metrics):
    arrays = {name: np.asarray(metrics[name], dtype=np.float64) for name in METRICS}
    io.write_npz(out / "result.npz", arrays)
    io.write_json(out / "result.json", dict(meta, summary=_summary(arrays, meta["parameters"])))
    return load_result(out)


def train(config, out_dir, *, resume=False, progress=True, start_params=None, start_epoch=0,
          dataset=None):
    """Train one network with SGD, saving the weights at every epoch start.

    Runs ``config.epochs`` epochs of :func:`sgd_epoch` (by default plain SGD, no momentum and
    no weight decay, the update the paper's theory studies; see :mod:`sgdlab.nn.train` for
    the options of ``config``), mean cross-entropy loss, learning rate :func:`lr_at` and the
    mini-batch order :func:`epoch_batches` (and augmentation) of
    ``(config.seed, start_epoch + e)``.

    Files in ``out_dir``:

    * ``config.json``: the config, ``start_epoch``, a hash of ``start_params``, P;
    * ``weights.npy``: float32 (E + 1, P), row ``t`` the weights at the start of epoch ``t``
      (a memory map flushed after every epoch);
    * ``checkpoint.pt``: model state (with running statistics if ``bn_eval="running"``)
      and optimiser state (momentum buffers), epoch, metrics so far; replaced
      atomically after every epoch, so a run killed at any moment loses at most the epoch in
      progress;
    * ``result.npz`` (the metric arrays) and ``result.json`` (config and summary) at the end,
      written atomically.

    Parameters
    ----------
    config : TrainConfig
    out_dir : str or os.PathLike
        Folder of the run (created if missing).
    resume : bool, default False
        Continue from ``checkpoint.pt`` if there is one (bitwise the same weights as an
        uninterrupted run on the CPU); a finished run is returned as it is. With False the run
        starts from scratch (overwriting a run of the same config).
    progress : bool, default True
        Show a tqdm progress bar over the epochs.
    start_params : array_like, optional
        Shape (P,): start from these weights (e.g. ``weights[k]`` of another run, Sections 5.3
        and 5.4) instead of the initialisation of ``config.weights_seed``.
    start_epoch : int, default 0
        Absolute epoch number of the start: epoch ``e`` of this run draws the batch order of
        epoch ``start_epoch + e`` (so continuing from ``weights[k]`` of a run with the same
        seed, ``start_epoch=k`` and a constant schedule repeats that run). The schedule
        :func:`lr_at` counts from the start of this run.
    dataset : sgdlab.nn.data.Dataset, optional
        The data of ``config``, already loaded (:func:`sgdlab.nn.data.load` with its
        ``dataset``, ``data_dir``, ``limit`` and ``val_split``); default: load them.

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        Bad arguments, or CUDA requested but unavailable.
    sgdlab.nn.runs.ConfigMismatchError
        ``out_dir`` holds a run of another config or start (the message names the differing
        keys; ``config.data_dir``, where the data were read from, may differ).

    Notes
    -----
    Bitwise reproducibility holds on the CPU. On CUDA, kernels round differently (and cuDNN
    uses TF32 for float32 convolutions by default, ``torch.backends.cudnn.allow_tf32``), so
    a CUDA run drifts away from the CPU run of the same config within an epoch at
    ``lr = 0.1`` (SGD amplifies rounding differences), as do two different code paths (e.g.
    :func:`train_ensemble`) on CUDA; the statistics of the runs agree.
    """
    config = _check_config(config)
    start_epoch = validate.integer("start_epoch", start_epoch, low=0)
    out = Path(validate.path("out_dir", out_dir))
    dataset, device = _setup(config, dataset)
    model, meta = _start(config, dataset, device, start_params, start_epoch)
    out.mkdir(parents=True, exist_ok=True)
    if _finished(out, meta, resume):
        return load_result(out)
    run = _Run(config, out, meta, model, sgd_optimizer(config, model))
    _open(run, resume, device)
    _epochs(run, dataset, device, start_epoch, progress)
    metrics = run.metrics
    del run  # flushes and closes the memory map of the weights
    return _write_result(out, meta, metrics)


# --------------------------------------------------------------------------- ensembles

def _check_method(method):
    return validate.choice("method", method, ENSEMBLE_METHODS)


def sgd_epoch_ensemble(model, params, x, y, batches, lr, *, method="grouped"):
    """One epoch of plain SGD for M networks at once.

    For every step ``s`` and member ``m``: :math:`x^{(m)} \\leftarrow x^{(m)} - \\eta\\,
    \\nabla f_{B_{m,s}}(x^{(m)})`, where :math:`f_B` is the mean cross-entropy of the batch
    ``B = batches[m, s]``. All members take step ``s`` together; the batches are drawn outside
    (:func:`ensemble_batches`). Needs a model without BatchNorm running statistics
    (:mod:`sgdlab.nn.nets`).

    Parameters
    ----------
    model : torch.nn.Module
        Functional template; its own parameters are not used or changed.
    params : dict[str, torch.Tensor]
        Stacked parameters, leading dimension M (``torch.func.stack_module_state``).
    x, y : torch.Tensor
        Training images (N, C, H, W) and labels (N,).
    batches : torch.LongTensor
        (M, steps, batch_size) indices into x and y.
    lr : float
    method : {"grouped", "vmap"}, default "grouped"
        ``"grouped"``: the M networks as one network with member-grouped channels
        (:mod:`sgdlab.nn.grouped`), one backward pass of the summed losses per step, the fastest
        on a CPU. ``"vmap"``: :func:`torch.func.vmap` of :func:`torch.func.grad` of a
        :func:`torch.func.functional_call` of ``model``. Both compute the gradients of
        :func:`sgd_epoch_sequential`, in another order (so they agree with it to rounding).

    Returns
    -------
    dict[str, torch.Tensor]
        The stacked parameters after the epoch (new tensors).
    """
    lr = checks.ensemble(params, x, y, batches, lr)
    _check_method(method)
    params = {name: p.detach() for name, p in params.items()}
    if method == "vmap":
        step_grad = vmap(grad(nets.functional_loss(model)))
    else:
        template = grouped.ensemble_template(model, batches.shape[0])

        def step_grad(params, xb, yb):
            leaves = {name: p.requires_grad_(True) for name, p in params.items()}
            loss = grouped.ensemble_loss(template, leaves, xb, yb)
            return dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()))))
    for s in range(batches.shape[1]):
        index = batches[:, s]
        grads = step_grad(params, x[index], y[index])
        with torch.no_grad():
            params = {name: torch.add(p, grads[name], alpha=-lr) for name, p in params.items()}
    return params


def sgd_epoch_sequential(model, params, x, y, batches, lr):
    """Reference for :func:`sgd_epoch_ensemble`: the same epoch, member by member.

    A Python loop over the members, each step with :func:`torch.autograd.grad` of the same
    loss; no ``vmap``. Same arguments and result.
    """
    lr = checks.ensemble(params, x, y, batches, lr)
    loss_fn = nets.functional_loss(model)
    out = {name: [] for name in params}
    for m in range(batches.shape[0]):
        current = {name: p[m].detach() for name, p in params.items()}
        for s in range(batches.shape[1]):
            index = batches[m, s]
            leaves = {name: p.requires_grad_(True) for name, p in current.items()}
            loss = loss_fn(leaves, x[index], y[index])
            grads = torch.autograd.grad(loss, list(leaves.values()))
            with torch.no_grad():
                current = {name: torch.add(p, g, alpha=-lr)
                           for (name, p), g in zip(leaves.items(), grads)}
        for name, p in current.items():
            out[name].append(p.detach())
    return {name: torch.stack(values) for name, values in out.items()}


def _stacked_to_flat(params):
    members = next(iter(params.values())).shape[0]
    return torch.cat([p.detach().reshape(members, -1) for p in params.values()], dim=1)


def _flat_to_stacked(model, vectors):
    shapes = nets.param_names_shapes(model)
    pieces = torch.split(vectors, [math.prod(shape) for _, shape in shapes], dim=1)
    return {name: piece.reshape((vectors.shape[0],) + shape).contiguous()
            for (name, shape), piece in zip(shapes, pieces)}


def _ensemble_start(config, dataset, seeds, start_params):
    """(template model, start vectors (M, P)) of :func:`train_ensemble`: member ``m``'s
    initialisation, or ``start_params`` (shared (P,) or one per member (M, P))."""

    def model_for(seed):
        return nets.build(config.arch, dataset.shape, dataset.classes,
                          seed=config.init_seed if config.init_seed is not None else seed)

    model = model_for(seeds[0])
    parameters = nets.count_parameters(model)
    if start_params is None:
        return model, np.stack([_flat(model_for(s)) for s in seeds])
    start = np.array(start_params.detach().cpu() if isinstance(start_params, torch.Tensor)
                     else start_params)
    if start.ndim == 1:
        start = checks.start_vector("start_params", start, parameters)
        return model, np.repeat(start[None], len(seeds), axis=0)
    return model, checks.start_vector("start_params", start, parameters, (len(seeds),))


def train_ensemble(config, seeds, start_params=None, start_epoch=0, progress=True, *,
                   method="grouped", out_dir=None, resume=False, dataset=None):
    """Train M networks, one per seed, together with :func:`sgd_epoch_ensemble`.

    Member ``m`` is the run of :func:`train` with ``config`` but ``seed = seeds[m]``: the same
    initialisation (``config.init_seed`` if set, else ``seeds[m]``; or ``start_params``), the
    same batches (:func:`ensemble_batches`) and learning rates (:func:`lr_at`). The gradients
    are computed in another order, so every step agrees with ``train``'s to float32 rounding;
    a rounding that flips a ReLU can make trajectories separate (see :mod:`sgdlab.nn.train`).
    Section 5.3 of the paper: after 10 shared epochs, 50 trajectories with different seeds.

    There are no per-epoch metrics; use :func:`train` for one run. With ``out_dir`` the
    weights are kept in files, written in time linear in the epochs:

    * ``config.json``: the config, the seeds, ``start_epoch``, a hash of ``start_params``,
      the method, M and P;
    * ``weights.npy``: float32 (E + 1, M, P), row ``t`` the weights at the start of epoch
      ``t``; allocated once, and after every epoch its one new row is written and flushed,
      then ``progress.json`` (``{"epochs": t}``, atomically): the rows that are final;
    * ``result.json`` at the end (the meta and ``"epochs"``), atomically.

    An interrupted ensemble continues from its last finished epoch (``resume=True``), with
    bitwise the weights of an uninterrupted one on the CPU.

    Parameters
    ----------
    config : TrainConfig
        ``config.seed`` is not used (the seeds are ``seeds``).
    seeds : sequence of int
        One seed per member.
    start_params : array_like, optional
        Shape (P,) (one start shared by all members) or (M, P).
    start_epoch : int, default 0
        Absolute epoch of the start (see :func:`train`).
    progress : bool, default True
    method : {"grouped", "vmap"}, default "grouped"
        See :func:`sgd_epoch_ensemble`.
    out_dir : str or os.PathLike, optional
        Folder of the files above (created if missing); default: none, the weights stay in
        memory.
    resume : bool, default False
        With ``out_dir``: continue from ``progress.json`` (a finished ensemble is returned as
        it is); with False it starts from scratch (overwriting one of the same settings).
    dataset : sgdlab.nn.data.Dataset, optional
        The data of ``config``, already loaded (as in :func:`train`).

    Returns
    -------
    numpy.ndarray
        Shape (E + 1, M, P), float32: the weights of every member at every epoch start (with
        ``out_dir``, a read-only memory map of ``weights.npy``, as :func:`load_ensemble`).

    Raises
    ------
    sgdlab.nn.runs.ConfigMismatchError
        ``out_dir`` holds an ensemble of other settings (the message names the differing
        keys).
    """
    config = _check_config(config)
    for name, plain in (("momentum", 0.0), ("weight_decay", 0.0), ("augment", False)):
        if getattr(config, name) != plain:
            validate.fail(f"config.{name}", f"{plain} (an ensemble step is plain SGD on "
                          "unaugmented batches)", getattr(config, name))
    seeds = _check_seeds(seeds)
    if not seeds:
        validate.fail("seeds", "at least one seed", shown="none")
    start_epoch = validate.integer("start_epoch", start_epoch, low=0)
    _check_method(method)
    resume = validate.flag("resume", resume)
    out_dir = None if out_dir is None else Path(validate.path("out_dir", out_dir))
    dataset, device = _setup(config, dataset)
    members = len(seeds)
    model, vectors = _ensemble_start(config, dataset, seeds, start_params)
    model.to(device)
    shape = (config.epochs + 1, members, vectors.shape[1])
    if out_dir is None:
        out, first = np.empty(shape, dtype=np.float32), 0
        out[0] = vectors
    else:
        meta = _ensemble_meta(config, seeds, start_epoch, start_params, method, shape)
        out, first = _ensemble_open(out_dir, meta, vectors, resume)
        if first == config.epochs:
            return load_ensemble(out_dir)
    params = _flat_to_stacked(model, torch.as_tensor(np.array(out[first]), device=device))
    x, y = dataset.x_train.to(device), dataset.y_train.to(device)
    epochs = range(first, config.epochs)
    if progress:
        from tqdm.auto import tqdm
        epochs = tqdm(epochs, initial=first, total=config.epochs,
                      desc=f"{config.arch} {config.dataset} ensemble of {members}")
    for epoch in epochs:
        batches = ensemble_batches(x.shape[0], config.batch_size, members, seeds,
                                   start_epoch + epoch).to(device)
        params = sgd_epoch_ensemble(model, params, x, y, batches, lr_at(config, epoch),
                                    method=method)
        out[epoch + 1] = _stacked_to_flat(params).cpu().numpy()
        if out_dir is not None:
            out.flush()
            io.write_json(out_dir / "progress.json", {"epochs": epoch + 1})
    if out_dir is None:
        return out
    del out  # flushes and closes the memory map
    io.write_json(out_dir / "result.json", dict(meta, epochs=config.epochs))
    return load_ensemble(out_dir)


def _ensemble_meta(config, seeds, start_epoch, start_params, method, shape):
    start = (None if start_params is None else np.ascontiguousarray(
        start_params.detach().cpu().numpy() if isinstance(start_params, torch.Tensor)
        else np.asarray(start_params), dtype=np.float32))
    return {"format": _FORMAT, "kind": "ensemble", "config": config.to_dict(),
            "seeds": list(seeds), "start_epoch": int(start_epoch),
            "start_params_sha256": None if start is None
            else hashlib.sha256(start.tobytes()).hexdigest(),
            "method": method, "members": int(shape[1]), "parameters": int(shape[2])}


def _ensemble_open(out, meta, vectors, resume):
    """(weights memory map, first epoch to train) of an ensemble in the folder ``out``:
    continued from ``progress.json`` with ``resume``, else started afresh."""
    out.mkdir(parents=True, exist_ok=True)
    shape = (meta["config"]["epochs"] + 1, meta["members"], meta["parameters"])
    config_path, weights_path = out / "config.json", out / "weights.npy"
    if config_path.is_file():
        _same_run(json.loads(config_path.read_text()), meta, out)
    if resume and config_path.is_file() and weights_path.is_file():
        progress_path = out / "progress.json"
        done = json.loads(progress_path.read_text())["epochs"] if progress_path.is_file() else 0
        weights = open_memmap(weights_path, mode="r+")
        if weights.shape != shape or weights.dtype != np.float32 or not 0 <= done < shape[0]:
            raise ValueError(f"{weights_path} has shape {weights.shape} ({weights.dtype}) and "
                             f"{done} finished epochs, expected {shape} float32; delete the "
                             "folder and start again")
        if done == 0:
            weights[0] = vectors
        return weights, done
    for name in ("result.json", "progress.json"):
        (out / name).unlink(missing_ok=True)
    io.write_json(config_path, meta)
    weights = open_memmap(weights_path, mode="w+", dtype=np.float32, shape=shape)
    weights[0] = vectors
    weights.flush()
    return weights, 0


def load_ensemble(out_dir):
    """The weights of a finished :func:`train_ensemble` in ``out_dir``: a read-only memory
    map of ``weights.npy``, (E + 1, M, P) float32.

    Raises
    ------
    FileNotFoundError
        ``out_dir`` holds no finished ensemble (no ``result.json`` or ``weights.npy``).
    """
    out = Path(validate.path("out_dir", out_dir))
    missing = [name for name in ("result.json", "weights.npy") if not (out / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{out} holds no finished ensemble (missing "
                                f"{', '.join(missing)}; train_ensemble(..., out_dir=...) "
                                "writes them)")
    return np.load(out / "weights.npy", mmap_mode="r")
