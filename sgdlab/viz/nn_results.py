"""Loading and plotting shared by the two Section 5 chapters (``nn-trajectory``, ``nn-landscape``).

The chapters run the experiments of :mod:`sgdlab.nn.experiments` at the scale named by the
environment variable ``SGDLAB_SCALE`` (default ``"book"``), unless a results folder written by
the command line at the paper's scale is present: then they plot that instead. Such folders
live under ``$SGDLAB_RESULTS`` (default: ``results/`` at the repository root) and are named
``paper/{experiment}-{dataset}-{arch}``, for example::

    python -m sgdlab run trajectory --scale paper --dataset cifar10 --data-dir DIR \\
        --arch resnet34 --device cuda --out results/paper/trajectory-cifar10-resnet34

Importing this module imports neither torch nor the experiments (they load on first use).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import _validate as validate

__all__ = ["SCALE_ENV", "RESULTS_ENV", "ARCH_NAMES", "DATASET_NAMES", "PAPER_DATASETS",
           "scale_from_env", "results_root", "paper_folder", "saved_result", "paper_command",
           "run_label", "Shown", "Section5Runs", "show_results", "trajectory_runs",
           "landscape_runs", "trajectory_and_neighbourhood", "batchnorm_bias", "lr_drops",
           "RUN_COLORS", "run_colors", "log_or_symlog", "plot_band"]

SCALE_ENV = "SGDLAB_SCALE"
"""Environment variable naming the scale of the chapters' experiments."""
RESULTS_ENV = "SGDLAB_RESULTS"
"""Environment variable naming the folder that holds ``paper/...`` results folders."""
ARCH_NAMES = {"resnet": "ResNet-14", "densenet": "DenseNet-BC-22", "resnet34": "ResNet-34",
              "densenet100": "DenseNet-BC-100"}
"""The networks of :mod:`sgdlab.nn.nets` by the names the chapters print."""
DATASET_NAMES = {"digits": "digits", "cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
"""The data sets of :mod:`sgdlab.nn.data` by the names the chapters print."""
PAPER_DATASETS = ("cifar10", "cifar100")
"""The data sets of the paper's Section 5 whose saved folders the chapters show."""


def scale_from_env(default="book"):
    """The scale in ``$SGDLAB_SCALE`` (``default`` when unset), checked against the presets.

    Returns
    -------
    str
        One of :data:`~sgdlab.nn.names.SCALES`.
    """
    from ..nn.experiments import SCALES

    scale = os.environ.get(SCALE_ENV, default)
    if scale not in SCALES:
        raise ValueError(f"{SCALE_ENV} must be one of {SCALES}, got {scale!r}")
    return scale


def results_root():
    """Where the ``paper/...`` results folders live.

    Returns
    -------
    pathlib.Path
        ``$SGDLAB_RESULTS``, or ``results/`` next to the ``sgdlab`` package (the repository).
    """
    value = os.environ.get(RESULTS_ENV)
    if value:
        return Path(value).expanduser()
    return Path(__file__).resolve().parents[2] / "results"  # sgdlab/viz/nn_results.py


def paper_folder(experiment, dataset, arch, root=None):
    """Where the chapters look for a paper-scale result.

    Parameters
    ----------
    experiment : str
        One of :data:`~sgdlab.nn.names.EXPERIMENTS`.
    dataset, arch : str
        As passed to the command line (``--dataset``, ``--arch``).
    root : str or os.PathLike, optional
        Default :func:`results_root`.

    Returns
    -------
    pathlib.Path
        ``root/paper/{experiment}-{dataset}-{arch}``.
    """
    for name, value in (("experiment", experiment), ("dataset", dataset), ("arch", arch)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    root = results_root() if root is None else Path(root)
    return root / "paper" / f"{experiment}-{dataset}-{arch}"


def paper_command(experiment, dataset, arch):
    """The command line that writes :func:`paper_folder`'s folder.

    Parameters
    ----------
    experiment, dataset, arch : str
        As for :func:`paper_folder`.

    Returns
    -------
    str
        ``python -m sgdlab run ...`` with ``--out`` relative to the repository.
    """
    folder = f"results/paper/{experiment}-{dataset}-{arch}"
    return (f"python -m sgdlab run {experiment} --scale paper --dataset {dataset} "
            f"--data-dir DIR --arch {arch} --device cuda --out {folder}")


def saved_result(experiment, dataset, arch, root=None):
    """The paper-scale result in :func:`paper_folder`, if one was saved.

    Parameters
    ----------
    experiment, dataset, arch : str
    root : str or os.PathLike, optional
        As for :func:`paper_folder`.

    Returns
    -------
    dict or None
        The result loaded with :func:`sgdlab.nn.experiments.load` (``config``, ``summary``,
        ``arrays``), or None when that folder holds no ``result.json``.
    """
    folder = paper_folder(experiment, dataset, arch, root)
    if not (folder / "result.json").is_file():
        return None
    from ..nn.experiments import load

    result = load(folder)
    if result["config"].get("experiment") != experiment:
        raise ValueError(f"{folder} holds a {result['config'].get('experiment')!r} result, "
                         f"expected {experiment!r}")
    return result


def run_label(config):
    """How a chapter names the run behind a result: ``"ResNet-14, digits"``.

    Parameters
    ----------
    config : dict
        A result's ``config`` (with ``arch`` and ``dataset``).

    Returns
    -------
    str
    """
    if not isinstance(config, dict) or not {"arch", "dataset"} <= set(config):
        validate.fail("config", "a result's config dict with 'arch' and 'dataset'", config,
                      TypeError)
    return (f"{ARCH_NAMES.get(config['arch'], config['arch'])}, "
            f"{DATASET_NAMES.get(config['dataset'], config['dataset'])}")


@dataclass
class Shown:
    """One experiment's result as a chapter shows it.

    Attributes
    ----------
    experiment : str
    label : str
        :func:`run_label` of its config.
    source : str
        ``"saved: results/paper/..."`` or ``"computed now, scale ..."``.
    result : dict
        ``config``, ``summary``, ``arrays`` (:func:`sgdlab.nn.experiments.load`).
    """

    experiment: str
    label: str
    source: str
    result: dict = field(repr=False)


@dataclass
class Section5Runs:
    """What a Section 5 chapter shows (:func:`show_results`).

    Attributes
    ----------
    shown : list of sgdlab.viz.nn_results.Shown
        Per architecture: the CIFAR-10 result (saved, else computed at the book's scale),
        then a saved CIFAR-100 result if there is one.
    weights : dict
        Our architecture name -> weights of trial 0 at every epoch start, shape ``(E + 1, P)``,
        for runs computed now that keep them.
    seconds : float
        Time spent computing.
    """

    shown: list
    weights: dict = field(default_factory=dict)
    seconds: float = 0.0

    def results(self, experiment):
        """``{label: result}`` of ``experiment``, in the order shown."""
        return {s.label: s.result for s in self.shown if s.experiment == experiment}

    def computed(self):
        """True when any result shown was computed now (not loaded)."""
        return any(s.source.startswith("computed") for s in self.shown)


def show_results(experiments, archs, compute, *, scale, root=None):
    """The saved-or-computed dispatch of the Section 5 chapters.

    For every architecture and data set of :data:`PAPER_DATASETS`, each experiment's saved
    folder (:func:`saved_result`) is shown when present; a missing CIFAR-10 folder is replaced
    by the book's own run, ``compute(arch)``, called at most once per architecture.

    Parameters
    ----------
    experiments : tuple of str
    archs : dict
        Our architecture (run by ``compute``) -> the one named in the saved folders.
    compute : callable
        ``compute(arch)`` returns ``{experiment: result}`` for every experiment, and may add
        ``"weights"`` (kept in :attr:`Section5Runs.weights`).
    scale : str
        Named in the source of computed results.
    root : str or os.PathLike, optional
        As for :func:`paper_folder`.

    Returns
    -------
    sgdlab.viz.nn_results.Section5Runs
    """
    if not callable(compute):
        validate.fail("compute", "a callable compute(arch)", compute, TypeError)
    runs, began = Section5Runs(shown=[]), time.perf_counter()
    for arch, paper_arch in archs.items():
        ran = None
        for dataset in PAPER_DATASETS:
            for experiment in experiments:
                saved = saved_result(experiment, dataset, paper_arch, root)
                if saved is not None:
                    source = f"saved: results/paper/{experiment}-{dataset}-{paper_arch}"
                elif dataset != PAPER_DATASETS[0]:
                    continue
                else:
                    ran = compute(arch) if ran is None else ran
                    saved, source = ran[experiment], f"computed now, scale {scale}"
                    if "weights" in ran:
                        runs.weights[arch] = ran["weights"]
                runs.shown.append(Shown(experiment, run_label(saved["config"]), source, saved))
    runs.seconds = time.perf_counter() - began
    return runs


def trajectory_runs(scale, *, trajectory=None, neighbourhood=None, root=None):
    """What chapter ``nn-trajectory`` shows (Sections 5.1, 5.2): :func:`show_results` of the
    ``trajectory`` and ``neighbourhood`` experiments, the paper's ResNet-34 and DenseNet-100
    when saved, else our ResNet-14 and DenseNet-BC-22 through
    :func:`trajectory_and_neighbourhood` (one training run for both, weights kept).

    Parameters
    ----------
    scale : str
    trajectory, neighbourhood : dict, optional
        Overrides of each experiment's preset.
    root : str or os.PathLike, optional

    Returns
    -------
    sgdlab.viz.nn_results.Section5Runs
    """
    def compute(arch):
        traj, nbhd, weights = trajectory_and_neighbourhood(
            arch, scale, trajectory=trajectory, neighbourhood=neighbourhood,
            keep_weights=True)
        return {"trajectory": traj, "neighbourhood": nbhd, "weights": weights}

    return show_results(("trajectory", "neighbourhood"),
                        {"resnet": "resnet34", "densenet": "densenet100"}, compute,
                        scale=scale, root=root)


def landscape_runs(scale, *, allpairs=None, spectrum=None, root=None):
    """What chapter ``nn-landscape`` shows (Sections 5.3, 5.4): :func:`show_results` of the
    ``allpairs`` and ``spectrum`` experiments of the small ResNet and DenseNet.

    Parameters
    ----------
    scale : str
    allpairs, spectrum : dict, optional
        Overrides of each experiment's preset.
    root : str or os.PathLike, optional

    Returns
    -------
    sgdlab.viz.nn_results.Section5Runs
    """
    from ..nn.experiments import run

    overrides = {"allpairs": dict(allpairs or {}), "spectrum": dict(spectrum or {})}

    def compute(arch):  # out=None: a temporary folder, so a rebuild never shows an old run
        return {name: run(name, scale=scale, arch=arch, progress=False, **kwargs)
                for name, kwargs in overrides.items()}

    return show_results(("allpairs", "spectrum"), {"resnet": "resnet", "densenet": "densenet"},
                        compute, scale=scale, root=root)


def trajectory_and_neighbourhood(arch, scale, *, trajectory=None, neighbourhood=None,
                                 keep_weights=False, progress=False):
    """Run the ``trajectory`` and ``neighbourhood`` experiments on one training run.

    The neighbourhood experiment probes the balls around the epochs of one run with seed
    ``seed``, which is trial 0 of the trajectory experiment when both have the same training
    settings. Both run in one temporary folder (removed afterwards, so nothing stale is ever
    shown); the neighbourhood experiment's ``trial0`` is then a link to the trajectory's, and it
    runs with ``resume=True``, so trial 0 is trained once.

    Parameters
    ----------
    arch : str
    scale : str
    trajectory, neighbourhood : dict, optional
        Overrides of each experiment's preset (:func:`sgdlab.nn.config.config_for`).
    keep_weights : bool
        Also return the weights of trial 0 at every epoch start, shape ``(E + 1, P)``.
    progress : bool

    Returns
    -------
    tuple
        The two results (dicts with ``config``, ``summary``, ``arrays``), and with
        ``keep_weights`` a third item, the weights of trial 0 (a NumPy array).
    """
    from ..nn.experiments import config_for, run

    trajectory, neighbourhood = dict(trajectory or {}), dict(neighbourhood or {})
    first = config_for("trajectory", scale, arch=arch, **trajectory).to_dict()
    second = config_for("neighbourhood", scale, arch=arch, **neighbourhood).to_dict()
    shared = ("dataset", "data_dir", "arch", "epochs", "batch_size", "lr", "schedule", "seed",
              "device", "limit")
    differ = [name for name in shared if first[name] != second[name]]
    with tempfile.TemporaryDirectory(prefix="sgdlab-trajectory-") as tmp:
        traj = run("trajectory", scale=scale, out=tmp, progress=progress, arch=arch,
                   **trajectory)
        folder = Path(tmp) / "neighbourhood"
        if not differ:  # the same training run: reuse it (a finished run is loaded)
            folder.mkdir()
            (folder / "trial0").symlink_to(Path(tmp) / "trial0", target_is_directory=True)
        nbhd = run("neighbourhood", scale=scale, out=folder, resume=True, progress=progress,
                   arch=arch, **neighbourhood)
        if keep_weights:
            return traj, nbhd, np.array(np.load(Path(tmp) / "trial0" / "weights.npy"))
    return traj, nbhd


def batchnorm_bias(arch, weights=None, *, config):
    """How far the mean of one epoch's mini-batch gradients is from the full-batch gradient.

    With BatchNorm normalising by the statistics of the batch it is given, the loss of a
    mini-batch is not the mean of its images' losses, so the average of the mini-batch
    gradients of an epoch differs from the gradient of the same images taken as one batch
    (without BatchNorm the two are equal). Measured on the digits of ``config`` at the first,
    middle and last of ``weights`` with :func:`sgdlab.nn.probe.full_batch_grad`.

    Parameters
    ----------
    arch : str
        A network of :func:`sgdlab.nn.nets.build`.
    weights : array_like, optional
        Shape ``(E + 1, P)``: weights at every epoch start; default: the initialisation only.
    config : sgdlab.nn.config.ExperimentConfig
        Its ``dataset`` (digits), ``limit`` and ``batch_size``.

    Returns
    -------
    list of dict
        Per epoch measured: ``epoch``, ``batches`` (full mini-batches of the epoch),
        ``relative`` (:math:`\\|\\bar g - g\\| / \\|g\\|`) and ``cosine`` (of :math:`\\bar g` and
        :math:`g`), :math:`\\bar g` the mean of the mini-batch gradients, :math:`g` the gradient
        of their union.
    """
    import torch

    from ..nn import data, nets, probe
    from ..nn.train import epoch_batches

    if config.dataset != "digits":
        validate.fail("config", "a digits experiment (the bias is measured on digits)",
                      shown=f"dataset {config.dataset!r}")
    digits = data.load("digits", limit=config.limit)
    model = nets.build(arch, digits.shape, digits.classes, seed=config.seed)
    if weights is None:
        weights = nets.flatten_params(model).numpy()[None]
    weights = np.asarray(weights)
    batches = epoch_batches(len(digits.y_train), config.batch_size, 0, 0)
    used = batches.reshape(-1)  # the images of the epoch's full batches
    rows = []
    for epoch in sorted({0, (len(weights) - 1) // 2, len(weights) - 1}):
        theta = torch.as_tensor(weights[epoch])
        whole = probe.full_batch_grad(model, theta, digits.x_train[used], digits.y_train[used])
        mean = torch.stack([probe.full_batch_grad(model, theta, digits.x_train[b],
                                                  digits.y_train[b]) for b in batches]).mean(0)
        rows.append({"epoch": epoch, "batches": len(batches),
                     "relative": float((mean - whole).norm() / whole.norm()),
                     "cosine": float(mean @ whole / (mean.norm() * whole.norm()))})
    return rows


def lr_drops(lr):
    """Epochs at which the learning rate changes.

    Parameters
    ----------
    lr : array_like, shape (E,)
        The learning rate of each epoch.

    Returns
    -------
    list of int
        ``[e for e in 1..E-1 if lr[e] != lr[e-1]]``.
    """
    lr = np.asarray(lr, dtype=np.float64).reshape(-1)
    return [int(e) for e in np.flatnonzero(lr[1:] != lr[:-1]) + 1]


RUN_COLORS = ("function", "alert", "smoothed", "good", "theorem", "bar")
"""The roles of :data:`sgdlab.viz.style.PALETTE` that colour the runs of a figure, in order."""


def run_colors(labels):
    """A colour of :data:`sgdlab.viz.style.PALETTE` for each run shown, in order.

    Parameters
    ----------
    labels : iterable of str

    Returns
    -------
    dict
        Label -> colour; at most six runs.
    """
    from .style import PALETTE

    labels = list(labels)
    if len(labels) > len(RUN_COLORS):
        validate.fail("labels", f"at most {len(RUN_COLORS)} runs", labels)
    return {label: PALETTE[role] for label, role in zip(labels, RUN_COLORS)}


def log_or_symlog(ax, values):
    """A log y axis when every value is positive, else a symmetric log around 0 with a zero
    line (Figures 5a, 5b: the inner products span decades, and their sign is the point).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    values : array_like
        Every value the axis shows (finite).

    Returns
    -------
    str
        ``"log"`` or ``"symlog"``.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0 or not np.isfinite(values).all():
        validate.fail("values", "a non-empty array of finite values", shown=f"{values!r}")
    if np.all(values > 0):
        ax.set_yscale("log")
        return "log"
    ax.set_yscale("symlog", linthresh=max(1e-3 * float(np.max(np.abs(values))), 1e-12))
    from .style import PALETTE

    ax.axhline(0, color=PALETTE["reference"], lw=0.8)
    return "symlog"


def plot_band(ax, x, mean, low, high, *, color, label=None, alpha=0.25):
    """A solid mean line and a shaded band from ``low`` to ``high`` (Figures 5b and 5c).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x, mean, low, high : array_like
        1-D, all of one length.
    color : str
        A matplotlib colour (e.g. from :data:`sgdlab.viz.style.PALETTE`).
    label : str, optional
    alpha : float
        Opacity of the band.

    Returns
    -------
    matplotlib.axes.Axes
    """
    x, mean, low, high = (np.asarray(v, dtype=np.float64) for v in (x, mean, low, high))
    if not (x.shape == mean.shape == low.shape == high.shape) or x.ndim != 1:
        raise ValueError(f"x, mean, low, high must be 1-D arrays of one length, got shapes "
                         f"{x.shape}, {mean.shape}, {low.shape}, {high.shape}")
    ax.fill_between(x, low, high, color=color, alpha=alpha, linewidth=0)
    ax.plot(x, mean, color=color, label=label)
    return ax

