"""Chapter :ref:`nn-landscape` (``book/nn_landscape.md``): Sections 5.3 and 5.4 on networks.

:func:`landscape_runs` gives the runs the chapter shows (saved at the paper's scale, or
computed now; :mod:`sgdlab.book.results`); :func:`allpairs_table` and :func:`spectrum_table`
render them and glue their numbers and words, and :func:`landscape_ledger` checks the paper's
claims. Importing this module imports neither torch nor the experiments.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as validate
from ..theory import binomial_upper_bound
from . import verdicts
from .results import NEAR, PAPER, ledger_row, paper_threshold, show_results
from .tables import (
    counted_runs,
    each_run,
    for_runs,
    glue_percent,
    glue_texts,
    grouped_runs,
    joined,
    markdown_table,
    number,
    percent,
    run_name,
)

__all__ = ["landscape_runs", "normalised_pairs", "share_verdict", "allpairs_table",
           "spectrum_table", "switch_verdict", "landscape_ledger"]


def landscape_runs(scale, *, allpairs=None, spectrum=None, root=None):
    """What chapter ``nn-landscape`` shows (Sections 5.3, 5.4): :func:`~sgdlab.book.results.show_results` of the
    ``allpairs`` and ``spectrum`` experiments of the small ResNet and DenseNet.

    Parameters
    ----------
    scale : str
    allpairs, spectrum : dict, optional
        Overrides of each experiment's preset.
    root : str or os.PathLike, optional

    Returns
    -------
    sgdlab.book.results.Section5Runs
    """
    from ..nn.experiments import run

    overrides = {"allpairs": dict(allpairs or {}), "spectrum": dict(spectrum or {})}

    def compute(arch):  # out=None: a temporary folder, so a rebuild never shows an old run
        return {name: run(name, scale=scale, arch=arch, progress=False, **kwargs)
                for name, kwargs in overrides.items()}

    return show_results(("allpairs", "spectrum"), {"resnet": "resnet", "densenet": "densenet"},
                        compute, scale=scale, root=root)


def normalised_pairs(values, shared_epochs=0):
    """Section 5.3's inner products, each divided by the mean absolute value of its row.

    Parameters
    ----------
    values : array_like
        Shape ``(M, T + 1, M)``:
        :math:`\\langle -\\nabla f(x_{m,t}), x_n^{final} - x_{m,t}\\rangle` of an
        ``allpairs`` result; the last epoch (each final solution itself) is left out, and so is
        :math:`n = m`.
    shared_epochs : int
        Epochs before :math:`t = 0` (to count epochs from the initialisation).

    Returns
    -------
    dict
        ``normalised`` (1-D, every counted value over the mean :math:`|` value :math:`|` of
        its row :math:`(m, t)`), ``epochs`` (shape (T,)), ``per_epoch`` (share of values
        :math:`\\le 0` per epoch) and ``lowest`` (smallest normalised value per epoch).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 3 or values.shape[0] != values.shape[2] or values.shape[0] < 2 \
            or values.shape[1] < 2:
        validate.fail("values", "an array of shape (M, T + 1, M) with M, T + 1 >= 2",
                      shown=f"shape {values.shape}")
    members = values.shape[0]
    counted = values[:, :-1, :]
    others = ~np.eye(members, dtype=bool)[:, None, :]           # (M, 1, M)
    others = np.broadcast_to(others, counted.shape)
    scale = np.where(others, np.abs(counted), 0).sum(axis=2) / (members - 1)   # (M, T)
    normalised = counted / scale[:, :, None]
    per_epoch = np.array([np.mean(counted[:, t][others[:, t]] <= 0)
                          for t in range(counted.shape[1])])
    lowest = np.array([normalised[:, t][others[:, t]].min() for t in range(counted.shape[1])])
    return {"normalised": normalised[others], "per_epoch": per_epoch, "lowest": lowest,
            "epochs": shared_epochs + np.arange(counted.shape[1])}


def _paper_share(result):
    """The paper's share of non-positive values for this network (Section 5.3)."""
    arch = result["config"]["arch"]
    return PAPER["resnet_share"] if arch.startswith("resnet") else PAPER["densenet_share"]


def share_verdict(result, *, level=0.95):
    """Section 5.3's share against the paper's for the same kind of network
    (:func:`sgdlab.book.verdicts.share_at_most`): "can't tell" when the count cannot
    resolve a share that small."""
    s = result["summary"]
    return verdicts.share_at_most(s["count_not_positive"], s["total"], _paper_share(result),
                                  level=level)


_RESOLVE = {verdicts.YES: "at most the paper's share",
            verdicts.NO: "above the paper's share",
            verdicts.CANT_TELL: "too few values to tell whether the share is at most the "
                                "paper's"}


def _pairs_texts(allpairs, level):
    summaries = {label: r["summary"] for label, r in allpairs.items()}
    far = {k: s["min_final_distance"] >= PAPER["final_distance"] for k, s in summaries.items()}
    closer = {k: s["mean_final_distance"] < s["distance_from_start"]
              for k, s in summaries.items()}
    resolve = {k: _RESOLVE[share_verdict(r, level=level).value] for k, r in allpairs.items()}
    return {
        "outcome": counted_runs({k: (s["total"] - s["count_not_positive"], s["total"])
                                 for k, s in summaries.items()}, "values", "positive"),
        "share": each_run({k: s["share_not_positive"] for k, s in summaries.items()},
                       percent),
        "self": each_run({k: (s["count_not_positive_with_self"], s["total_with_self"])
                          for k, s in summaries.items()},
                         lambda c: f"{number(c[0])} of {number(c[1])}"),
        "resolve": grouped_runs(resolve),
        "distance": each_run({k: s["min_final_distance"] for k, s in summaries.items()}),
        "far": for_runs(far, "as far apart as the paper's", "closer than the paper's"),
        "radius": each_run({k: s["min_final_distance"] / PAPER["rho"]
                         for k, s in summaries.items()}),
        "mean": each_run({k: s["mean_final_distance"] for k, s in summaries.items()}),
        "travelled": each_run({k: s["distance_from_start"] for k, s in summaries.items()}),
        "closer": for_runs(closer, "closer to one another than to the shared start",
                           "not closer to one another than to the shared start")}


def allpairs_table(allpairs, prefix, *, level=0.95):
    """Section 5.3 in numbers: per run, the inner products of every epoch start with every
    other run's final solution, Clopper-Pearson's upper bound on the share not positive
    (:func:`sgdlab.theory.binomial_upper_bound`), and the distances between final
    solutions.

    Glues ``{prefix}-outcome``, ``-share``, ``-self`` (the count with :math:`n = m`),
    ``-bound``, ``-resolve`` (:func:`share_verdict` in words: at most the paper's share,
    above it, or too few values to tell), ``-distance`` (closest final solutions), ``-far`` (against the paper's
    40), ``-radius`` (closest distance over the radius 0.5), ``-mean``, ``-travelled`` (mean
    distance from the shared start), ``-closer``, ``-paper`` (the paper's ResNet share) and
    ``-level``.

    Parameters
    ----------
    allpairs : dict
        Label -> an ``allpairs`` result.
    prefix : str
    level : float
        Confidence level of the upper bound.

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    rows, bounds = [], {}
    for label, result in allpairs.items():
        s = result["summary"]
        bounds[label] = binomial_upper_bound(s["count_not_positive"], s["total"], level=level)
        pairs = normalised_pairs(result["arrays"]["values"])
        rows.append({"run": label, "not positive": f"{s['count_not_positive']:,} of "
                     f"{s['total']:,}", "share": percent(s["share_not_positive"]),
                     f"{percent(level)} bound": percent(bounds[label]),
                     "lowest normalised": float(pairs["normalised"].min()),
                     "closest finals": s["min_final_distance"],
                     "travelled": s["distance_from_start"]})
    glue_texts(prefix, {**_pairs_texts(allpairs, level), "bound": each_run(bounds, percent)})
    glue_percent(f"{prefix}-paper", PAPER["resnet_share"])
    glue_percent(f"{prefix}-level", level)
    return markdown_table(rows)


def _strictly(values, increasing):
    steps = np.diff(np.asarray(values, dtype=np.float64))
    return bool(np.all(steps > 0) if increasing else np.all(steps < 0))


def _trend(series, increasing, verb):
    """``"falls with every later switch for X (from 1.2 to 0.3)"``, or which runs do not."""
    ok = {k: _strictly(v, increasing) for k, v in series.items()}
    good = [f"{run_name(k)} (from {number(float(series[k][0]))} to "
            f"{number(float(series[k][-1]))})" for k, yes in ok.items() if yes]
    bad = [f"{run_name(k)} ({', '.join(number(float(v)) for v in series[k])})"
           for k, yes in ok.items() if not yes]
    parts = ([f"{verb} with every later switch for {joined(good)}"] if good else []) + (
        [f"does not {verb.rstrip('s')} with every later switch for {joined(bad)}"] if bad
        else [])
    return "; it ".join(parts)


def _undertrained(result):
    """True when the switch at the initialisation ends above the step-size-0.1 run's final
    training loss: the early continuations are short of training, so a later switch (which
    also trains longer) may win by training alone."""
    return float(result["arrays"]["train_loss"][0]) > result["summary"]["base_final_train_loss"]


MORE_TRAINING = ("a later switch also trains longer, and the switch at the initialisation "
                 "ends above the step-size-0.1 run: the fall may be just more training")


def switch_verdict(result, key, *, increasing=False):
    """Section 5.4's trend of ``arrays[key]`` with later switches, against the control that
    could say no: "no" when it does not fall (grow) strictly; "yes" when it does and the
    switch at the initialisation ends at or below the step-size-0.1 run's training loss (the
    early continuations are not short of training); "can't tell" otherwise
    (``MORE_TRAINING``)."""
    if not _strictly(result["arrays"][key], increasing):
        return verdicts.Verdict(verdicts.NO)
    return verdicts.judge(True, cant_tell=MORE_TRAINING if _undertrained(result) else "")


def _late_text(spectrum):
    """The late-switch paragraph's argument, chosen by each run's numbers."""
    phrases = {}
    for label, result in spectrum.items():
        a = result["arrays"]
        first = number(float(a["train_loss"][0]))
        base = number(float(result["summary"]["base_final_train_loss"]))
        falls = _strictly(a["train_loss"], False)
        if _undertrained(result):
            head = (f"switching at the initialisation ends at training loss {first}, above "
                    f"the step-size-0.1 run's {base}")
            tail = ("so any advantage of a late switch is partly just more training" if falls
                    else "yet the training loss does not fall with every later switch, "
                         "although later switches train longer")
        else:
            head = (f"switching at the initialisation ends at training loss {first}, at or "
                    f"below the step-size-0.1 run's {base}")
            tail = ("so the early continuations are not short of training, and the fall "
                    "with later switches is not just more training" if falls
                    else "and the training loss does not fall with every later switch")
        phrases[label] = f"{head}: {tail}"
    text = "; ".join(f"for {run_name(k)}, {v}" for k, v in phrases.items())
    return text[0].upper() + text[1:] + "."


PAPER_CONTINUE = 150
"""The paper's epochs of each continuation at the small step size (Section 5.4)."""


def _continue_text(spectrum):
    """Whether the continuations are as long as the paper's 150 epochs, per run."""
    short = {k: int(r["config"]["continue_epochs"]) for k, r in spectrum.items()
             if int(r["config"]["continue_epochs"]) < PAPER_CONTINUE}
    if not short:
        return ("The continuations last the paper's 150 epochs; whether they reach local "
                "minima, a longer continuation would tell")
    lengths = each_run(short, lambda e: f"{number(e)} epochs")
    return (f"The continuations last {lengths}, against the paper's 150: from the early "
            "starts the small step size may not have converged, and whether these points are "
            "local minima this cannot show")


def spectrum_table(spectrum, prefix):
    """Figure 6 in numbers: per run and start epoch :math:`s`, the point reached by
    continuing at the small step size from :math:`s`.

    Glues ``{prefix}-train``, ``-val`` (how the training / validation loss falls with the
    switch epoch), ``-distance`` (how the distance from the initialisation grows),
    ``-convex`` (how many paths are one point convex towards their end), ``-first`` (the
    training loss after switching at the initialisation), ``-base`` (that of the
    step-size-0.1 run itself), ``-late`` (whether a late switch's advantage may be just more
    training, chosen by those two numbers) and ``-continue`` (the continuations' length
    against the paper's 150 epochs).

    Parameters
    ----------
    spectrum : dict
        Label -> a ``spectrum`` result.
    prefix : str

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    rows = [{"run": label, "start s": int(s), "loss at s": a["start_train_loss"][i],
             "training loss": a["train_loss"][i], "validation loss": a["val_loss"][i],
             "accuracy": percent(a["val_accuracy"][i]),
             "from init": a["distance_init"][i], "smallest inner": a["min_inner"][i]}
            for label, a in ((k, r["arrays"]) for k, r in spectrum.items())
            for i, s in enumerate(a["starts"])]
    arrays = {k: r["arrays"] for k, r in spectrum.items()}
    glue_texts(prefix, {
        "train": _trend({k: a["train_loss"] for k, a in arrays.items()}, False, "falls"),
        "val": _trend({k: a["val_loss"] for k, a in arrays.items()}, False, "falls"),
        "distance": _trend({k: a["distance_init"] for k, a in arrays.items()}, True, "grows"),
        "convex": counted_runs({k: (int(np.sum(a["min_inner"] > 0)), a["min_inner"].size)
                                for k, a in arrays.items()}, "paths",
                               "one point convex towards the point reached"),
        "late": _late_text(spectrum), "continue": _continue_text(spectrum)})
    return markdown_table(rows)


def landscape_ledger(allpairs, spectrum):
    """The claims of Sections 5.3 and 5.4, each with a three-valued verdict
    (:mod:`sgdlab.book.verdicts`), per run.

    Section 5.3's share is judged by :func:`share_verdict` (can't tell when the count cannot
    resolve the paper's share), its distance 40 only on a run at the paper's settings (else
    can't tell: measured on another network); Section 5.4's trends by :func:`switch_verdict`
    (can't tell where a late switch may win by training longer).

    Parameters
    ----------
    allpairs, spectrum : dict
        Label -> result of each experiment.

    Returns
    -------
    list of dict
        :func:`~sgdlab.book.results.ledger_row`'s rows.
    """
    rows = []
    for label, result in allpairs.items():
        s, paper = result["summary"], _paper_share(result)
        near = NEAR * PAPER["final_distance"]
        rows += [
            ledger_row("5.3: share not positive at most the paper's", label,
                       f"{number(s['count_not_positive'])} of {number(s['total'])} (paper: "
                       f"{percent(paper)})", share_verdict(result)),
            ledger_row("5.3: final solutions far apart", label,
                       f"closest {number(s['min_final_distance'])} (paper: 40; ours: at least "
                       f"{number(near)})", paper_threshold(s["min_final_distance"] >= near, result))]
    for label, result in spectrum.items():
        a = result["arrays"]
        rows += [
            ledger_row("5.4: training loss falls with later switches", label,
                       _arrow(a["train_loss"]), switch_verdict(result, "train_loss")),
            ledger_row("5.4: validation loss falls with later switches", label,
                       _arrow(a["val_loss"]), switch_verdict(result, "val_loss")),
            ledger_row("5.4: farther from the initialisation with later switches", label,
                       _arrow(a["distance_init"]),
                       switch_verdict(result, "distance_init", increasing=True)),
            ledger_row("5.4: every path one point convex towards its minimum", label,
                       f"smallest {number(float(a['min_inner'].min()))}",
                       np.all(a["min_inner"] > 0))]
    return rows


def _arrow(values):
    return " -> ".join(number(float(v)) for v in values)
