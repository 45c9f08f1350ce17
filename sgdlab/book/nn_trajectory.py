"""Chapter :ref:`nn-trajectory` (``book/nn_trajectory.md``): Sections 5.1 and 5.2 on networks.

:func:`trajectory_runs` gives the runs the chapter shows (saved at the paper's scale, or
computed now; :mod:`sgdlab.book.results`); the ``*_table`` functions render them and glue
their numbers and words, and :func:`trajectory_ledger` checks the paper's claims. Importing
this module imports neither torch nor the experiments (they load on first use).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as validate
from ..theory import hoeffding_confidence, hoeffding_exponent
from . import verdicts
from .results import (
    CONFIDENCE,
    PAPER,
    VARIANCE,
    at_paper_settings,
    ledger_row,
    paper_threshold,
    settings_text,
    show_results,
)
from .tables import (
    count_phrase,
    counted_runs,
    each_run,
    for_runs,
    glue_number,
    glue_text,
    large,
    glue_texts,
    grouped_runs,
    joined,
    markdown_table,
    number,
    percent,
    run_name,
)

__all__ = ["trajectory_runs", "glue_size", "bias_table", "chunking_table", "trajectory_table",
           "neighbourhood_table", "steps_table", "trajectory_ledger", "controls",
           "glue_settings"]


def trajectory_runs(scale, *, trajectory=None, neighbourhood=None, root=None):
    """What chapter ``nn-trajectory`` shows (Sections 5.1, 5.2): :func:`~sgdlab.book.results.show_results` of the
    ``trajectory`` and ``neighbourhood`` experiments, the paper's ResNet-34 and DenseNet-100
    when saved, else our ResNet-14 and DenseNet-BC-22 through
    :func:`sgdlab.nn.experiments.run_trajectory_and_neighbourhood` (one training run for
    both, weights kept).

    Parameters
    ----------
    scale : str
    trajectory, neighbourhood : dict, optional
        Overrides of each experiment's preset.
    root : str or os.PathLike, optional

    Returns
    -------
    sgdlab.book.results.Section5Runs
    """
    from ..nn.experiments import run_trajectory_and_neighbourhood

    def compute(arch):
        return run_trajectory_and_neighbourhood(
            scale, arch=arch, trajectory=trajectory, neighbourhood=neighbourhood,
            keep_weights=True, progress=False)

    return show_results(("trajectory", "neighbourhood"),
                        {"resnet": "resnet34", "densenet": "densenet100"}, compute,
                        scale=scale, root=root)


def glue_size(prefix, size):
    """Glue a network's size (:func:`sgdlab.nn.protocol.network_size`):
    ``{prefix}-factor`` (the width divisor), ``{prefix}-parameters`` and ``{prefix}-full``
    (the parameters at the original widths, in millions: :func:`~sgdlab.book.tables.large`).
    Displays nothing (returns None)."""
    glue_number(f"{prefix}-factor", size["width_factor"])
    glue_text(f"{prefix}-parameters", large(size["parameters"]))
    glue_text(f"{prefix}-full", large(size["full_parameters"]))


def bias_table(bias, prefix):
    """The BatchNorm bias of the stochastic gradient
    (:func:`sgdlab.nn.probe.batchnorm_bias`), one row per network and epoch.

    Glues ``{prefix}-largest`` (the largest relative difference of each network, as a
    percentage) and ``{prefix}-cosine`` (the smallest cosine of each).

    Parameters
    ----------
    bias : dict
        Network label -> the rows of :func:`~sgdlab.nn.probe.batchnorm_bias`.
    prefix : str

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    rows = [{"network": label, "weights at epoch": r["epoch"], "mini-batches": r["batches"],
             "relative difference": percent(r["relative"]), "cosine": r["cosine"]}
            for label, measured in bias.items() for r in measured]
    glue_texts(prefix, {
        "largest": each_run({k: max(r["relative"] for r in v) for k, v in bias.items()},
                         percent),
        "cosine": each_run({k: min(r["cosine"] for r in v) for k, v in bias.items()})})
    return markdown_table(rows, digits=4)


def chunking_table(errors, prefix, *, tolerance=0.05, cosine=0.95):
    """The probed f on chunks against one pass (:func:`sgdlab.nn.probe.chunking_error`), one
    row per point and chunk size :math:`b`.

    With :math:`C = \\lceil N / b \\rceil` chunks :math:`B_c` (the last one shorter), the
    chunked :math:`f_b = \\sum_c (|B_c| / N) f_{B_c}` of :mod:`sgdlab.nn.probe`. A chunk size
    passes at a point when :math:`|f_b - f| / |f| \\le` ``tolerance`` and the cosine of
    :math:`\\nabla f_b` and :math:`\\nabla f` is at least ``cosine`` (our test: the paper does
    not say how it computed f). Glues ``{prefix}-images`` (N), ``{prefix}-test`` (the test in
    words), ``{prefix}-loss`` and ``{prefix}-gradient`` (the largest relative difference of f
    and of its gradient at each point, as percentages), ``{prefix}-cosine`` (the smallest
    cosine at each) and ``{prefix}-verdict``: per point, whether chunking matters there, and
    from which chunk size on it does not.

    Parameters
    ----------
    errors : dict
        Point label (read after "at the", e.g. ``"initialisation"``) ->
        :class:`~sgdlab.nn.probe.ChunkingError` or its ``to_dict()``.
    prefix : str
    tolerance : float
        Largest relative difference of f that passes, > 0.
    cosine : float
        Smallest cosine of the two gradients that passes, in (-1, 1].

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    tolerance = validate.real("tolerance", tolerance, above=0)
    cosine = validate.real("cosine", cosine, above=-1, high=1)
    if not isinstance(errors, dict) or not errors:
        validate.fail("errors", "a non-empty dict of ChunkingError", errors, TypeError)
    errors = {k: e.to_dict() if hasattr(e, "to_dict") else dict(e) for k, e in errors.items()}
    rows, verdicts = [], []
    for label, e in errors.items():
        n, order = e["n"], np.argsort(e["batch_sizes"], kind="stable")
        sizes = [e["batch_sizes"][i] for i in order]
        good = [e["loss_rel_diff"][i] <= tolerance and e["cosine"][i] >= cosine for i in order]
        for j, i in enumerate(order):
            count = -(-n // sizes[j])
            rows.append({"point": label, "chunk size": sizes[j],
                         "chunks (last)": f"{count} ({n - (count - 1) * sizes[j]})",
                         "f: relative difference": percent(e["loss_rel_diff"][i]),
                         "gradient: relative difference": percent(e["grad_rel_diff"][i]),
                         "cosine of the gradients": e["cosine"][i], "passes": good[j]})
        passing = [b for b, ok in zip(sizes, good) if ok]
        first = min((j for j in range(len(sizes)) if all(good[j:])), default=None)
        if first == 0:
            text = "does not matter: every chunk size tried passes"
        elif first is not None and not any(good[:first]):
            text = (f"matters for chunks of fewer than {number(sizes[first])} images "
                    "(larger chunks pass)")
        elif passing:
            text = f"matters for some chunk sizes: only {joined(passing)} images pass"
        else:
            text = f"matters: no chunk size tried (up to {number(sizes[-1])}) passes"
        verdicts.append(f"at the {label}, chunking {text}")
    verdict = "; ".join(verdicts)
    glue_texts(prefix, {
        "images": number(next(iter(errors.values()))["n"]),
        "test": (f"f within {percent(tolerance)} of the one-pass f and a cosine of at "
                 f"least {number(cosine)} between their gradients"),
        "loss": each_run({k: max(e["loss_rel_diff"]) for k, e in errors.items()}, percent),
        "gradient": each_run({k: max(e["grad_rel_diff"]) for k, e in errors.items()},
                          percent),
        "cosine": each_run({k: min(e["cosine"]) for k, e in errors.items()}),
        "verdict": verdict[0].upper() + verdict[1:]})
    return markdown_table(rows, digits=4, align="lrrrrrl")


def _start(epochs):
    """The paper's "starting period" at our length: 5 of 300 epochs."""
    return int(PAPER["start_share"] * epochs)


def _positive_from(inner):
    """Where Figure 5a's minimum over the trials stays positive: a phrase."""
    bad = np.flatnonzero(~(inner.min(axis=0) > 0))
    if bad.size == 0:
        return "from the first epoch"
    if bad[-1] == inner.shape[1] - 1:
        return "from no epoch on (the last one is not positive)"
    return f"from epoch {bad[-1] + 1} on"


def controls(result):
    """Figure 5a's cosines and control of one ``trajectory`` result.

    Parameters
    ----------
    result : dict
        A ``trajectory`` result; its arrays ``cosine``, ``inner_other`` and ``cosine_other``
        (:func:`sgdlab.nn.probe.trajectory_controls`) may be missing (a folder written
        before they were recorded, or a single trial: no other trial's :math:`x_T`).

    Returns
    -------
    dict
        ``cosine`` (the cosines with the own :math:`x_T`, or None), ``other`` (the control's
        cosines, or None), ``random`` (:math:`1/\\sqrt{P}`, the standard deviation of the
        cosine of a uniformly random direction in :math:`P` dimensions) and ``beats``
        (whether the own cosine is above the control's, per trial and epoch, or None).
    """
    a = result["arrays"]
    cosine, other = a.get("cosine"), a.get("cosine_other")
    return {"cosine": cosine, "other": other,
            "random": 1 / math.sqrt(result["summary"]["parameters"]),
            "beats": None if cosine is None or other is None else cosine > other}


def _control_texts(trajectory):
    """The sentences on the cosines and the control, chosen by what each run recorded."""
    found = {k: controls(r) for k, r in trajectory.items()}
    cos = {k: c["cosine"] for k, c in found.items() if c["cosine"] is not None}
    other = {k: c["other"] for k, c in found.items() if c["other"] is not None}
    missing = [k for k in found if k not in other]
    texts = {"cosine": (joined(f"from {number(float(v.min()))} to {number(float(v.max()))} "
                               f"({run_name(k)})" for k, v in cos.items())
                        if cos else "not recorded for the runs shown"),
             "random": each_run({k: c["random"] for k, c in found.items()})}
    if other:
        control = joined(f"between {number(float(v.min()))} and {number(float(v.max()))} "
                         f"({run_name(k)})" for k, v in other.items())
        positive = counted_runs({k: (int(np.sum(v > 0)), v.size) for k, v in other.items()},
                                "values", "positive")
        beats = counted_runs({k: (int(np.sum(found[k]["beats"])), found[k]["beats"].size)
                              for k in other}, "points", "closer in angle to the own final "
                              "solution than to the other trial's")
        texts["control"] = (f"Towards another trial's final solution, the same probe gives "
                            f"cosines {control}: {positive}. {beats[0].upper()}{beats[1:]}.")
    else:
        texts["control"] = ""
    if missing:
        texts["control"] += (" " if other else "") + (
            f"The control is not recorded for {joined(run_name(k) for k in missing)} (a single "
            "trial, or a saved folder written before it was recorded).")
    return texts


def _length_text(trajectory):
    """What x_T is, by each run's own length: the end of the paper's 300 epochs, or of a
    shorter run."""
    paper = [run_name(k) for k, r in trajectory.items() if at_paper_settings(r)]
    short = {k: int(r["arrays"]["inner"].shape[1]) for k, r in trajectory.items()
             if not at_paper_settings(r)}
    parts = []
    if paper:
        parts.append(f"{joined(paper)} {'is' if len(paper) == 1 else 'are'} at the paper's "
                     f"settings: {'its' if len(paper) == 1 else 'their'} final solution ends "
                     "the paper's 300 epochs")
    if short:
        one = len(short) == 1
        who = (f"the run {run_name(next(iter(short)))} lasts" if one
               else "the runs not at the paper's settings last")
        lengths = (f"{number(next(iter(short.values())))} epochs" if one
                   else each_run(short, lambda e: f"{number(e)} epochs"))
        parts.append(f"{who} {lengths}, against "
                     "the paper's 300: the final solution is the end of a short run, not "
                     "necessarily a minimum")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def trajectory_table(trajectory, prefix):
    """Figure 5a in numbers: per run, the inner products
    :math:`\\langle -\\nabla f(x_t), x_T - x_t\\rangle` of every trial and epoch, their
    cosines and the control (:func:`controls`).

    Glues ``{prefix}-outcome`` (how many are positive, per run), ``{prefix}-from`` (from
    which epoch the minimum over the trials stays positive), ``{prefix}-range`` (that
    minimum at the first and the last epoch), ``{prefix}-accuracy``, ``{prefix}-cosine``
    (the range of the cosines with the own :math:`x_T`), ``{prefix}-random``
    (:math:`1/\\sqrt{P}`), ``{prefix}-control`` (sentences on the control, chosen by
    what each run recorded) and ``{prefix}-length`` (what :math:`x_T` ends: the paper's 300
    epochs, or a shorter run).

    Parameters
    ----------
    trajectory : dict
        Label -> a ``trajectory`` result.
    prefix : str

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    rows, texts, starts, counts = [], {k: [] for k in ("range", "accuracy")}, {}, {}
    for label, result in trajectory.items():
        inner, arrays = result["arrays"]["inner"], result["arrays"]
        found = controls(result)
        positive = int(np.sum(inner > 0))
        accuracy = float(np.mean(arrays["val_accuracy"][:, -1]))
        rows.append({"run": label, "trials x epochs": "{} x {}".format(*inner.shape),
                     "positive": percent(positive / inner.size),
                     "smallest": float(inner.min()),
                     "at epoch": int(np.unravel_index(np.argmin(inner), inner.shape)[1]),
                     "smallest cosine": (float(found["cosine"].min())
                                         if found["cosine"] is not None else None),
                     "control: cosines": (f"{number(float(found['other'].min()))} to "
                                          f"{number(float(found['other'].max()))}"
                                          if found["other"] is not None else "n/a"),
                     "validation accuracy": percent(accuracy)})
        counts[label] = (positive, inner.size)
        starts[label] = _positive_from(inner)
        low = inner.min(axis=0)
        texts["range"].append(f"from {number(float(low[0]))} at the first epoch to "
                              f"{number(float(low[-1]))} at the last "
                              f"({run_name(label)})")
        texts["accuracy"].append(f"{percent(accuracy)} ({run_name(label)})")
    glue_texts(prefix, {**{k: joined(v) for k, v in texts.items()},
                        "length": _length_text(trajectory),
                        "outcome": counted_runs(counts, "values", "positive"),
                        "from": grouped_runs(starts), **_control_texts(trajectory)})
    return markdown_table(rows, align="lcrrrrrr")


def _ball(values):
    """Hoeffding's exponents of one ball's values: observed range and ``[-M, M]``."""
    big = float(np.abs(values).max())
    return {"observed": hoeffding_exponent(values),
            "symmetric": hoeffding_exponent(values, low=-big, high=big),
            "confidence": hoeffding_confidence(values, low=-big, high=big)}


def neighbourhood_table(neighbourhood, prefix):
    """Figure 5b in numbers: per probed ball, the inner products
    :math:`\\langle -\\nabla f(w), x_T - x_t\\rangle` at its random points, and Lemma 6's
    bound :math:`\\exp(-2nm^2/(b-a)^2)` as a power of ten
    (:func:`sgdlab.theory.hoeffding_exponent`), with :math:`[a, b]` the observed range and
    the symmetric range :math:`[-M, M]`, :math:`M` the largest observed :math:`|` value
    :math:`|`.

    Glues ``{prefix}-outcome``, ``{prefix}-spread`` (a sentence: the largest std / mean of a
    ball where every mean is positive, else how many means are not),
    ``{prefix}-confidence`` and ``{prefix}-symmetric`` (one minus the bound at the worst
    ball, per run), ``{prefix}-points`` (fewest points per ball) and ``{prefix}-floor``
    (:math:`e^{-n/2}`, below which the symmetric bound cannot fall).

    Parameters
    ----------
    neighbourhood : dict
        Label -> a ``neighbourhood`` result.
    prefix : str

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    rows, outcome, spread, observed, symmetric = [], {}, {}, {}, {}
    for label, result in neighbourhood.items():
        a = result["arrays"]
        balls = [_ball(v) for v in a["values"]]
        for i, t in enumerate(a["epochs"]):
            rows.append({"run": label, "epoch": int(t), "mean": float(a["mean"][i]),
                         "std / mean": float(a["std"][i] / a["mean"][i]),
                         "distance to x_T": float(a["distance"][i]),
                         "log10 bound": balls[i]["observed"],
                         "log10 bound, [-M, M]": balls[i]["symmetric"]})
        values = a["values"]
        outcome[label] = (int(np.sum(values > 0)), values.size)
        spread[label] = (np.asarray(a["mean"], dtype=float), np.asarray(a["std"], dtype=float))
        observed[label] = float(np.min(a["confidence"]))
        symmetric[label] = min(b["confidence"] for b in balls)
    points = min(int(r["arrays"]["values"].shape[1]) for r in neighbourhood.values())
    glue_texts(prefix, {"outcome": counted_runs(outcome, "sampled values", "positive"),
                        "spread": _spread_text(spread),
                   "confidence": each_run(observed, lambda v: number(v, 6)),
                   "symmetric": each_run(symmetric, lambda v: number(v, 4)),
                   "points": number(points),
                   "floor": number(math.exp(-points / 2))})
    return markdown_table(rows)


def _spread_text(spread):
    """The sentence on std / mean, signed: ``{label: (means, stds)}`` of the balls."""
    good = {k: float(np.max(std / mean)) for k, (mean, std) in spread.items()
            if np.all(mean > 0)}
    bad = {k: (int(np.sum(~(mean > 0))), mean.size) for k, (mean, std) in spread.items()
           if not np.all(mean > 0)}
    parts = []
    if good:
        parts.append(f"The standard deviation over a ball is at most {each_run(good)} times "
                     "its mean")
    if bad:
        head = "; the mean is not positive" if good else "The mean is not positive"
        parts.append(head + " " + "; ".join(
            f"in {count_phrase(n, total, 'balls')} ({run_name(k)})"
            for k, (n, total) in bad.items()) + ", so the standard deviation over the mean "
            "is no measure of a small spread there")
    return "".join(parts) + "."


def _phases(arrays):
    """Figure 5c's numbers at the first step size and after it (NaN when never dropped)."""
    first = arrays["lr"][0] == arrays["lr"][0, 0]
    after = bool((~first).any())
    return {"epochs_after": int(np.sum(~first)),
            "max_first": float(arrays["grad_norm_max"][:, first].max()),
            "max_after": float(arrays["grad_norm_max"][:, ~first].max()) if after else math.nan,
            "mean_first": float(arrays["grad_norm_mean"][:, first].mean()),
            "mean_after": float(arrays["grad_norm_mean"][:, ~first].mean()) if after
            else math.nan,
            "step": float(arrays["step_length_max"].max())}


def _steps_texts(phases):
    """The sentences of Figure 5c: norms against the paper's bounds, steps against 0.5, and
    whether the mean norm grows after the first drop of the step size."""
    within = {k: p["max_first"] < PAPER["grad_first"] and not p["max_after"] >= PAPER[
        "grad_after"] for k, p in phases.items()}
    short = {k: p["step"] <= PAPER["rho"] for k, p in phases.items()}
    grows = {k: p["mean_after"] > p["mean_first"] for k, p in phases.items()}
    radius = f"the radius {number(PAPER['rho'])} of the paper's balls"
    return {
        "bounds": for_runs(within, "within the paper's bounds", "above the paper's bounds"),
        "steps": for_runs(short, f"at most {radius}", f"longer than {radius}"),
        "grows": for_runs(grows, "grows", "does not grow"),
        "max": each_run({k: p["max_first"] for k, p in phases.items()}),
        "longest": each_run({k: p["step"] for k, p in phases.items()}),
        "means": joined(f"from {number(p['mean_first'])} to "
                        f"{number(p['mean_after'])} ({run_name(k)})"
                        for k, p in phases.items()),
        "after": each_run({k: p["epochs_after"] for k, p in phases.items()}),
        "short": _after_text(phases)}


PAPER_AFTER = 150
"""The paper's epochs after its first drop of the step size: 75 at 0.01 (epochs 150-225),
then 75 at 0.001 (225-300)."""


def _after_text(phases):
    """Whether the runs train long enough after the first drop to speak to the paper's
    observation that the gradient norm grows there."""
    short = [run_name(k) for k, p in phases.items() if p["epochs_after"] < PAPER_AFTER]
    if not short:
        return ("every run shown trains as long as the paper's after the drop"
                if len(phases) > 1 else "the run shown trains as long as the paper's after "
                "the drop")
    return (f"{joined(short)} {'trains' if len(short) == 1 else 'train'} for fewer epochs "
            "after the drop, so " + ("it says" if len(short) == 1 else "they say")
            + " little about this observation either way")


def steps_table(trajectory, prefix):
    """Figure 5c in numbers: per run, the mini-batch gradient norms at the first step size
    and after it, and the longest SGD step :math:`\\eta_t \\max_B \\|\\nabla f_B\\|`.

    Glues ``{prefix}-bounds`` (the norms against the paper's 5 and 15), ``{prefix}-steps``
    (the steps against the radius 0.5), ``{prefix}-grows`` (whether the mean norm grows after
    the first drop), ``{prefix}-max``, ``{prefix}-longest``, ``{prefix}-means`` and
    ``{prefix}-after`` (the epochs after the first drop, per run) and ``{prefix}-short``
    (whether that is as long as the paper's 150).

    Parameters
    ----------
    trajectory : dict
        Label -> a ``trajectory`` result.
    prefix : str

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    phases = {label: _phases(r["arrays"]) for label, r in trajectory.items()}
    rows = [{"run": label, "largest, first lr": p["max_first"], "largest, after": p["max_after"],
             "mean, first lr": p["mean_first"], "mean, after": p["mean_after"],
             "longest step": p["step"]} for label, p in phases.items()]
    glue_texts(prefix, _steps_texts(phases))
    return markdown_table(rows)


NEVER_DROPS = "the run never drops the step size"
NO_CONTROL = "no control recorded (a single trial, or a folder written before it)"
FEW_POINTS = "too few points per ball for the bound to reach the threshold"
SHORT_AFTER = "too few epochs after the drop to show the trend (the paper: 150)"


def _threshold(ok, result, *, defined=True):
    """A verdict on one of the paper's thresholds (5, 15, 0.5): "can't tell" on another
    network or data than the paper's, or where the quantity is not defined."""
    if not defined:
        return verdicts.judge(ok, cant_tell=NEVER_DROPS)
    return paper_threshold(ok, result)


def _trajectory_rows(label, result):
    inner, p = result["arrays"]["inner"], _phases(result["arrays"])
    start = _start(inner.shape[1])
    late, found = inner[:, start:], controls(result)
    dropped = not math.isnan(p["max_after"])
    beats = found["beats"]
    control = (verdicts.judge(False, cant_tell=NO_CONTROL) if beats is None
               else verdicts.judge(np.all(beats[:, start:])))
    return [
        ledger_row("5.1: every trial positive after a starting period", label,
                   f"smallest from epoch {start}: {number(float(late.min()))}", late.min() > 0),
        ledger_row("5.2: gradient norms below 5 at step size 0.1", label,
                   f"largest {number(p['max_first'])}",
                   _threshold(p["max_first"] < PAPER["grad_first"], result)),
        ledger_row("5.2: gradient norms below 15 after the first drop", label,
                   f"largest {number(p['max_after'])}",
                   _threshold(p["max_after"] < PAPER["grad_after"], result, defined=dropped)),
        ledger_row("5.2: SGD steps at most 0.5", label, f"longest {number(p['step'])}",
                   _threshold(p["step"] <= PAPER["rho"], result)),
        ledger_row("5.2: the gradient norm grows after the step size drops", label,
                   f"mean {number(p['mean_first'])} -> {number(p['mean_after'])}",
                   verdicts.judge(p["mean_after"] > p["mean_first"], cant_tell=(
                       NEVER_DROPS if not dropped else
                       SHORT_AFTER if p["epochs_after"] < PAPER_AFTER else ""))),
        ledger_row("the ball of radius 0.5 holds the longest SGD step", label,
                   f"longest {number(p['step'])}", p["step"] <= PAPER["rho"], source="ours"),
        ledger_row("5.1's control: closer in angle to the own final solution than to "
                   "another trial's", label, "n/a" if beats is None else
                   f"{number(int(np.sum(beats[:, start:])))} of "
                   f"{number(beats[:, start:].size)} points from epoch {start}", control,
                   source="ours")]


def _neighbourhood_rows(label, result):
    a = result["arrays"]
    balls = [_ball(v)["confidence"] for v in a["values"]]
    points = int(a["values"].shape[1])
    reachable = 1 - math.exp(-points / 2) >= CONFIDENCE
    with np.errstate(divide="ignore", invalid="ignore"):  # a ball of equal values: std 0
        ratio = float(np.min(a["mean"] / a["std"]))
    return [
        ledger_row("5.2: positive in every ball of radius 0.5", label,
                   percent(float(np.mean(a["values"] > 0))) + " positive",
                   np.all(a["values"] > 0)),
        ledger_row("5.2: small variances", label,
                   f"smallest mean / std {number(ratio)} "
                   f"(ours: above {number(VARIANCE)})", np.all(a["mean"] > VARIANCE * a["std"])),
        ledger_row("5.2 with Lemma 6: Assumption 1 holds with high probability", label,
                   f"smallest 1 - bound {number(float(a['confidence'].min()), 4)} (observed "
                   f"range; ours: at least {number(CONFIDENCE)})",
                   a["confidence"].min() >= CONFIDENCE),
        ledger_row("Lemma 6 with the range [-M, M]: 1 - bound at least 0.99", label,
                   f"smallest {number(min(balls), 4)}",
                   verdicts.judge(min(balls) >= CONFIDENCE,
                                  cant_tell="" if reachable else FEW_POINTS), source="ours")]


def trajectory_ledger(trajectory, neighbourhood):
    """The claims of Sections 5.1 and 5.2 and our own checks, each with a three-valued
    verdict (:mod:`sgdlab.book.verdicts`), per run.

    The paper's thresholds on gradient norms and steps (5, 15, 0.5) were measured on its
    networks and data: on any other run (by its own config,
    :func:`sgdlab.book.results.paper_differences`) their verdict is "can't tell". Section 5.1's sign comes with our control: the cosine
    towards the own :math:`x_T` against that towards another trial's (:func:`controls`).

    Parameters
    ----------
    trajectory, neighbourhood : dict
        Label -> result of each experiment.

    Returns
    -------
    list of dict
        :func:`~sgdlab.book.results.ledger_row`'s rows, for
        :func:`~sgdlab.book.results.ledger_table`.
    """
    rows = []
    for label, result in trajectory.items():
        rows += _trajectory_rows(label, result)
    for label, result in neighbourhood.items():
        rows += _neighbourhood_rows(label, result)
    return rows


def glue_settings(trajectory, neighbourhood, name):
    """Glue under ``name`` a sentence on the scale of the runs shown, each by its own config
    (:func:`sgdlab.book.results.settings_text`), and what a run not at the paper's settings
    cannot show. Displays nothing (returns None)."""
    text = (f"for Figures 5a and 5c, {settings_text(trajectory)}; for Figure 5b, "
            f"{settings_text(neighbourhood)}")
    short = [r for r in (*trajectory.values(), *neighbourhood.values()) if not at_paper_settings(r)]
    if short:
        text += (". A run not at the paper's settings cannot check the thresholds that the "
                 "paper measured on its networks and data (5, 15 and 0.5), nor show what "
                 "happens near the end of a long training")
    glue_text(name, text[0].upper() + text[1:])
