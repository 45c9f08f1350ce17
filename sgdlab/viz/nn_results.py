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
from pathlib import Path

import numpy as np

__all__ = ["SCALE_ENV", "RESULTS_ENV", "scale_from_env", "results_root", "paper_folder",
           "saved_result", "paper_command", "trajectory_and_neighbourhood", "lr_drops",
           "plot_band", "check_mark"]

SCALE_ENV = "SGDLAB_SCALE"
"""Environment variable naming the scale of the chapters' experiments."""
RESULTS_ENV = "SGDLAB_RESULTS"
"""Environment variable naming the folder that holds ``paper/...`` results folders."""


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


def check_mark(ok):
    """A table cell for a computed agreement.

    Parameters
    ----------
    ok : bool
        A NumPy bool is fine.

    Returns
    -------
    str
        ``"yes"`` or ``"no"``.
    """
    return "yes" if bool(ok) else "no"
