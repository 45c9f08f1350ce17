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
from . import tables, verdicts

__all__ = ["SCALE_ENV", "RESULTS_ENV", "ARCH_NAMES", "DATASET_NAMES", "PAPER_DATASETS",
           "PAPER_ARCHS", "scale_from_env", "results_root", "paper_folder", "paper_command",
           "saved_result", "run_label", "Shown", "Section5Runs", "show_results", "lr_drops",
           "PAPER", "CONFIDENCE", "VARIANCE", "NEAR", "commands", "describe",
           "paper_differences", "at_paper_settings", "paper_threshold", "settings_text", "sources_table", "shown_note", "choices_table",
           "ledger_row", "ledger_table"]


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


def _check_config(config, *keys):
    """``config`` is a result's config dict with ``keys``; a TypeError naming them if not."""
    if not isinstance(config, dict) or not set(keys) <= set(config):
        names = " and ".join(repr(k) for k in keys)
        validate.fail("config", f"a result's config dict with {names}", config, TypeError)


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
    _check_config(config, "arch", "dataset")
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

    @property
    def saved(self):
        """True when the result was loaded from a saved folder (not computed now)."""
        return self.source.startswith("saved")

    @property
    def at_paper_settings(self):
        """True when the result's own config is at the paper's settings
        (:func:`paper_differences` finds none)."""
        return at_paper_settings(self.result)


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
        return any(not s.saved for s in self.shown)

    def short(self, experiment):
        """``{label: result}`` of ``experiment`` for the runs shown that are not at the
        paper's settings (their own config says so), in the order shown."""
        return {s.label: s.result for s in self.shown
                if s.experiment == experiment and not s.at_paper_settings}


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


_PAPER_FIELDS = {"trajectory": ("epochs", "trials", "lr", "schedule"),
                 "neighbourhood": ("epochs", "lr", "schedule", "k", "rho", "probe_every"),
                 "allpairs": ("epochs", "shared_epochs", "members", "lr"),
                 "spectrum": ("epochs", "lr", "small_lr", "continue_epochs"),
                 "noise": ("epochs", "lr", "schedule"), "gd": ("epochs", "lr", "schedule")}
"""The settings of each experiment that the paper states (checked by
:func:`paper_differences`); ``noise`` and ``gd`` are ours, on the paper's SGD runs of Section
5.1 (300 epochs, the step schedule from 0.1)."""


PAPER_ARCHS = {"trajectory": ("resnet34", "densenet100"),
               "neighbourhood": ("resnet34", "densenet100"),
               "allpairs": ("resnet", "densenet"), "spectrum": ("resnet", "densenet"),
               "noise": ("resnet34", "densenet100"), "gd": ("resnet",)}
"""The networks of each experiment at the paper's settings (its ResNet-34 and DenseNet-100
in Sections 5.1-5.2, networks of about 10K parameters, ours, in Sections 5.3-5.4)."""


def _images(config):
    limit = config.get("limit")
    return "all images" if limit is None else f"the first {tables.number(int(limit))} images"


def describe(config):
    """A result by its own config: ``"scale tiny: digits, 8 epochs, the first 256 images"``.

    Parameters
    ----------
    config : dict
        A result's ``config`` (``dataset``, ``epochs``; ``scale`` and ``limit`` when
        recorded).

    Returns
    -------
    str
    """
    _check_config(config, "dataset", "epochs")
    data = DATASET_NAMES.get(config["dataset"], config["dataset"])
    return (f"scale {config.get('scale', 'not recorded')}: {data}, "
            f"{tables.number(int(config['epochs']))} epochs, {_images(config)}")


def paper_differences(config, *, network=True):
    """Where a result's own config departs from the paper's settings of its experiment.

    The paper's settings are the ``paper`` preset (:func:`sgdlab.nn.config.config_for`) of
    the result's experiment and network, on a data set of :data:`PAPER_DATASETS`, with all
    images; the fields compared are the ones the paper states (``_PAPER_FIELDS``).

    Parameters
    ----------
    config : dict
        A result's ``config``.
    network : bool
        Whether to name a network other than the paper's (False where the run's name says
        it).

    Returns
    -------
    list of str
        ``["epochs 8 (paper: 300)", "the first 256 images (paper: all)"]``; empty at the
        paper's settings.
    """
    from ..nn.config import config_for

    experiment = config.get("experiment")
    if experiment not in _PAPER_FIELDS:
        validate.fail("config", f"a config of one of {tuple(_PAPER_FIELDS)}", experiment)
    paper = config_for(experiment, "paper").to_dict()
    out = []
    if config.get("dataset") not in PAPER_DATASETS:
        out.append(f"{DATASET_NAMES.get(config.get('dataset'), config.get('dataset'))} "
                   f"(paper: {tables.joined([DATASET_NAMES[d] for d in PAPER_DATASETS], 'or')})")
    if network and config.get("arch") not in PAPER_ARCHS[experiment]:
        out.append(f"{ARCH_NAMES.get(config.get('arch'), config.get('arch'))} (paper: "
                   f"{tables.joined([ARCH_NAMES[a] for a in PAPER_ARCHS[experiment]], 'or')})")
    for name in _PAPER_FIELDS[experiment]:
        if name in config and config[name] != paper[name]:
            out.append(f"{name.replace('_', ' ')} {tables.cell(config[name])} "
                       f"(paper: {tables.cell(paper[name])})")
    if config.get("limit") is not None:
        out.append(f"{_images(config)} (paper: all)")
    return out


def at_paper_settings(result):
    """True when a result's own config is at the paper's settings (its network, data and
    schedule: :func:`paper_differences` finds none)."""
    return not paper_differences(result["config"])


def paper_threshold(ok, result):
    """The verdict on a threshold the paper measured on its own networks: yes or no on a
    result at the paper's settings, "can't tell" (another network) on any other."""
    return verdicts.judge(ok, cant_tell="" if at_paper_settings(result)
                          else verdicts.OTHER_NETWORK)


def settings_text(results):
    """Which results are at the paper's settings, each by its own config, in a sentence:
    ``"ResNet-14 on digits is not at the paper's settings (digits (paper: CIFAR-10 or
    CIFAR-100), 12 epochs (paper: 300))"``.

    Parameters
    ----------
    results : dict
        Label -> result.

    Returns
    -------
    str
    """
    groups = {}
    for label, result in dict(results).items():
        config = result["config"]
        differences = paper_differences(config, network=False)
        if config.get("arch") not in PAPER_ARCHS.get(config.get("experiment"), ()):
            differences.insert(0, "a network of our own")
        groups.setdefault(tuple(differences), []).append(tables.run_name(label))
    if not groups:
        validate.fail("results", "a non-empty dict of results", results)
    parts = []
    for differences, names in groups.items():
        verb = "is" if len(names) == 1 else "are"
        if not differences:
            parts.append(f"{tables.joined(names)} {verb} at the paper's settings")
        else:
            parts.append(f"{tables.joined(names)} {verb} not at the paper's settings "
                         f"({tables.joined(differences)})")
    return "; ".join(parts)


def shown_note(runs):
    """What a Section 5 chapter shows, each result by its own config, with a warning for
    every saved folder that is not at the paper's settings.

    Parameters
    ----------
    runs : sgdlab.book.results.Section5Runs

    Returns
    -------
    markdown
        One bullet per result shown, an ``IPython.display.Markdown`` object.
    """
    from IPython.display import Markdown

    lines, warnings = [], []
    for s in runs.shown:
        config = s.result["config"]
        how = (f"saved results ({describe(config)}) from `{s.source.partition(': ')[2]}`"
               if s.saved else f"computed now ({describe(config)})")
        lines.append(f"* {s.experiment}, {s.label}: {how}")
        differences = paper_differences(config)
        if s.saved and differences:
            warnings.append(f"`{s.source.partition(': ')[2]}` is not at the paper's settings: "
                            f"{tables.joined(differences)}.")
    text = "This page shows:\n\n" + "\n".join(lines)
    if runs.computed():
        text += f"\n\nThe results computed now took {tables.number(round(runs.seconds))} s."
    if warnings:
        text += "\n\n**Warning.** " + " ".join(warnings)
    return Markdown(text)


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
             "scale": describe(s.result["config"]),
             "parameters": int(s.result["summary"]["parameters"]),
             "settings": _settings(s.result["config"])} for s in runs.shown]
    return tables.markdown_table(rows, align="llllrl")


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

    rows = [{"choice": r["choice"], "paper": _escape(tables.large_in_text(r["paper"])),
             "ours": _escape(tables.large_in_text(r["ours"])),
             "option": f"`{r['option']}`"} for r in protocol.choices(config)]
    return tables.markdown_table(rows, align="llll")


def ledger_row(claim, label, measured, verdict, *, source="paper"):
    """One verdict of a Section 5 ledger (a row of :func:`ledger_table`).

    Parameters
    ----------
    claim : str
        The claim's one name (the same for every run; a threshold that depends on the run
        goes in ``measured``).
    label : str
        The run.
    measured : str
    verdict : sgdlab.book.verdicts.Verdict or bool
    source : str
        ``"paper"`` (a claim of the paper) or ``"ours"`` (a check of our own).

    Returns
    -------
    dict
        :func:`sgdlab.book.verdicts.row` with the ``run``.
    """
    return verdicts.row(claim, measured, verdict, source=source, run=label)


def _runs_phrase(names, total):
    """``"for every run shown"`` / ``"for the run shown"`` / ``"for A and B"``."""
    if len(names) == total:
        return "for every run shown" if total > 1 else "for the run shown"
    return "for " + tables.joined(tables.run_name(n) for n in names)


def _summary(rows):
    """The paper's claims by outcome, in sentences chosen by the verdicts."""
    runs = list(dict.fromkeys(r["run"] for r in rows))
    claims = {}
    for r in rows:
        claims.setdefault(r["claim"], []).append(r)
    hold, fail, cant = [], [], []
    for claim, rs in claims.items():
        values = [r["verdict"].value for r in rs]
        if verdicts.NO in values:
            failed = [r["run"] for r in rs if r["verdict"].value == verdicts.NO]
            fail.append(f"{claim} ({_runs_phrase(failed, len(runs))})")
        elif verdicts.CANT_TELL in values:
            reasons = {}
            for r in rs:
                if not r["verdict"].told:
                    reasons.setdefault(r["verdict"].reason, []).append(r["run"])
            cant.append(f"{claim} (" + "; ".join(
                f"{_runs_phrase(names, len(runs))}: {reason}"
                for reason, names in reasons.items()) + ")")
        else:
            hold.append(claim)
    every = "every run shown" if len(runs) > 1 else "the run shown"
    parts = []
    if hold:
        parts.append(f"The claims of the paper that hold for {every}: {'; '.join(hold)}.")
    else:
        parts.append(f"No claim of the paper holds for {every}.")
    if fail:
        parts.append(f"Those that fail, with the runs where they fail: {'; '.join(fail)}.")
    if cant:
        parts.append(f"Those we cannot tell, and why: {'; '.join(cant)}.")
    return " ".join(parts)


def ledger_table(rows, prefix):
    """The verdicts of a chapter ("What we measured"): the paper's claims and our own checks
    in two tables, and their summary in words.

    Glues ``{prefix}-tally`` (the paper's claims: ``"7 yes, 1 no and 2 can't tell"``),
    ``{prefix}-ours`` (the same for our own checks) and ``{prefix}-summary`` (the claims
    that hold for every run, those that fail with their runs, those we cannot tell with
    their reasons).

    Parameters
    ----------
    rows : list of dict
        From :func:`~sgdlab.book.nn_trajectory.trajectory_ledger` or
        :func:`~sgdlab.book.nn_landscape.landscape_ledger` (:func:`ledger_row`).
    prefix : str

    Returns
    -------
    markdown
        The two tables, an ``IPython.display.Markdown`` object.
    """
    rows = list(rows)
    if not rows:
        validate.fail("rows", "a non-empty list of verdicts", rows)
    paper, ours = verdicts.split(rows)
    tables.glue_texts(prefix, {
        "tally": verdicts.tally_phrase(paper) if paper else "no claim of the paper",
        "ours": verdicts.tally_phrase(ours) if ours else "no check of our own",
        "summary": _summary(paper) if paper else "No claim of the paper is checked."})
    text = []
    for title, part, head in (("The paper's claims", paper, "claim of the paper"),
                              ("Our own checks", ours, "our check")):
        if part:
            table = [{head: r["claim"], "run": r["run"], "measured": r["measured"],
                      "verdict": str(r["verdict"])} for r in part]
            text.append(f"**{title}**\n\n" + tables.markdown_table(table, align="llll").data)
    from IPython.display import Markdown

    return Markdown("\n\n".join(text))
