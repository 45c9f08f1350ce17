"""Shared by the two Section 5 chapters (``nn-trajectory``, ``nn-landscape``): the scale,
saved-or-computed results, the paper's numbers that the claims are checked against, the set-up
tables and the verdict ledger's format.

The chapters run the experiments of :mod:`sgdlab.nn.experiments` at the scale named by the
environment variable ``SGDLAB_SCALE`` (default ``"book"``), unless a results folder written by
the command line at the paper's scale is present: then they show that instead. Such folders
live under ``$SGDLAB_RESULTS`` (default: ``results/`` at the repository root) and are named
``paper/{experiment}-{dataset}-{arch}``, for example::

    python -m sgdlab run trajectory --scale paper --dataset cifar10 --data-dir DIR \\
        --arch resnet34 --device cuda --out results/paper/trajectory-cifar10-resnet34

Importing this module imports neither torch nor the experiments (they load on first use).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import _validate as validate
from . import tables

__all__ = ["SCALE_ENV", "RESULTS_ENV", "ARCH_NAMES", "DATASET_NAMES", "PAPER_DATASETS",
           "scale_from_env", "results_root", "paper_folder", "paper_command", "saved_result",
           "run_label", "Shown", "Section5Runs", "show_results", "lr_drops", "PAPER", "CONFIDENCE",
           "VARIANCE", "NEAR", "commands", "sources_table", "choices_table", "ledger_row",
           "ledger_table"]


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
    return Path(__file__).resolve().parents[2] / "results"  # sgdlab/book/results.py


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
    shown : list of sgdlab.book.results.Shown
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
    sgdlab.book.results.Section5Runs
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


PAPER = {"grad_first": 5.0, "grad_after": 15.0, "rho": 0.5, "start_share": 5 / 300,
         "resnet_share": 2 / 343_000, "densenet_share": 0.001, "final_distance": 40.0}
"""The paper's numbers that Section 5's claims are checked against.

Gradient norms below 5 at step size 0.1 and 15 after (5.2), the radius 0.5 (5.2), a "starting
period" of 5 of 300 epochs (Figure 5a), 2 of 343,000 and 0.1% non-positive (5.3), final
solutions at least 40 apart (5.3)."""


CONFIDENCE = 0.99
"""Our threshold for "Assumption 1 holds with high probability" (Hoeffding, Section 5.2)."""


VARIANCE = 2.0
"""Our threshold for "small variances" (every ball's mean at least this many std above 0)."""


NEAR = 0.5
"""Our threshold for "pretty far away" (final solutions at least this share of the paper's
40 apart, so 20)."""


def commands(experiments, archs, datasets=("cifar10", "cifar100")):
    """The command lines that write the paper-scale folders, as a Markdown code block whose
    lines fit the page.

    Parameters
    ----------
    experiments, archs, datasets : tuple of str
        As for :func:`sgdlab.book.results.paper_command`.

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    from IPython.display import Markdown

    lines = []
    for experiment in experiments:
        for dataset in datasets:
            for arch in archs:
                command = paper_command(experiment, dataset, arch)
                head, _, out = command.partition(" --out ")
                first, _, rest = head.partition(" --data-dir ")
                lines += [f"{first} \\", f"    --data-dir {rest} \\", f"    --out {out}"]
    return Markdown("```bash\n" + "\n".join(lines) + "\n```")


def _escape(text):
    """Text safe in a Markdown table cell: pipes and underscores escaped."""
    return str(text).replace("|", "\\|").replace("_", "\\_")


def _settings(config):
    """The settings of one result's config, in a few words."""
    parts = [f"{config['epochs']} epochs", f"batch {config['batch_size']}",
             f"lr {tables.number(config['lr'])} ({config['schedule']})"]
    extra = {"trajectory": ("trials",), "neighbourhood": ("k", "rho", "probe_every"),
             "allpairs": ("shared_epochs", "members"),
             "spectrum": ("starts", "small_lr", "continue_epochs")}
    for key in extra.get(config.get("experiment"), ()):
        parts.append(f"{key} {tables.cell(config[key])}")
    if config.get("limit"):
        parts.append(f"limit {config['limit']}")
    return ", ".join(parts)


def sources_table(runs):
    """Which results a chapter shows, where they come from, and their settings.

    Parameters
    ----------
    runs : sgdlab.book.results.Section5Runs

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    rows = [{"experiment": s.experiment, "run": s.label, "shown": s.source,
             "parameters": int(s.result["summary"]["parameters"]),
             "settings": _settings(s.result["config"])} for s in runs.shown]
    return tables.markdown_table(rows, align="lllrl")


def choices_table(config=None):
    """Every training choice the paper leaves open, with ours
    (:func:`sgdlab.nn.protocol.choices`).

    Parameters
    ----------
    config : sgdlab.nn.config.ExperimentConfig, optional
        Default: the paper-scale presets.

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    from ..nn import protocol

    rows = [{"choice": r["choice"], "paper": _escape(r["paper"]), "ours": _escape(r["ours"]),
             "option": f"`{r['option']}`"} for r in protocol.choices(config)]
    return tables.markdown_table(rows, align="llll")


def ledger_row(claim, label, measured, ok):
    """One verdict of a Section 5 ledger (a row of :func:`ledger_table`): the paper's
    ``claim``, the run's ``label``, what was ``measured`` (text) and whether it agrees."""
    return {"claim": claim, "run": label, "measured": measured, "agrees": bool(ok)}


def ledger_table(rows, prefix):
    """The verdicts of a chapter ("What we measured"), and their summary in words.

    Glues ``{prefix}-agree`` (``"7 of the 9 checks agree"``), ``{prefix}-hold`` (the claims
    that agree for every run) and ``{prefix}-fail`` (the others, with the runs where they
    fail).

    Parameters
    ----------
    rows : list of dict
        From :func:`~sgdlab.book.nn_trajectory.trajectory_ledger` or :func:`~sgdlab.book.nn_landscape.landscape_ledger`.
    prefix : str

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    rows = list(rows)
    if not rows:
        validate.fail("rows", "a non-empty list of verdicts", rows)
    claims = {}
    for r in rows:
        claims.setdefault(r["claim"], []).append(r)
    agree = sum(r["agrees"] for r in rows)
    hold = [c for c, rs in claims.items() if all(r["agrees"] for r in rs)]
    fail = [f"{c} ({tables.joined(tables.run_name(r['run']) for r in rs if not r['agrees'])})"
            for c, rs in claims.items() if not all(r["agrees"] for r in rs)]
    tables.glue_texts(prefix, {
        "agree": (f"{tables.count_phrase(agree, len(rows), 'checks')} "
                  f"{'agrees' if agree in (0, len(rows)) else 'agree'}"),
        "hold": "; ".join(hold) if hold else "none of the claims",
        "fail": "; ".join(fail) if fail else "none"})
    table = [{"claim of the paper": r["claim"], "run": r["run"], "measured": r["measured"],
              "agrees": r["agrees"]} for r in rows]
    return tables.markdown_table(table, align="lllc")
