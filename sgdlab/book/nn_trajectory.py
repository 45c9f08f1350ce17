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
from .results import CONFIDENCE, PAPER, VARIANCE, ledger_row, show_results
from .tables import (
    counted,
    each_run,
    glue_texts,
    grouped_runs,
    joined,
    markdown_table,
    number,
    per_run,
    percent,
    run_name,
)

__all__ = ["trajectory_runs", "bias_table", "chunking_table", "trajectory_table",
           "neighbourhood_table", "steps_table", "trajectory_ledger"]


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


def trajectory_table(trajectory, prefix):
    """Figure 5a in numbers: per run, the inner products
    :math:`\\langle -\\nabla f(x_t), x_T - x_t\\rangle` of every trial and epoch.

    Glues ``{prefix}-outcome`` (how many are positive, per run), ``{prefix}-from`` (from
    which epoch the minimum over the trials stays positive), ``{prefix}-range`` (that
    minimum at the first and the last epoch) and ``{prefix}-accuracy``.

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
    rows, texts, starts = [], {k: [] for k in ("outcome", "range", "accuracy")}, {}
    for label, result in trajectory.items():
        inner, arrays = result["arrays"]["inner"], result["arrays"]
        positive = int(np.sum(inner > 0))
        accuracy = float(np.mean(arrays["val_accuracy"][:, -1]))
        rows.append({"run": label, "trials x epochs": "{} x {}".format(*inner.shape),
                     "positive": percent(positive / inner.size),
                     "smallest": float(inner.min()),
                     "at epoch": int(np.unravel_index(np.argmin(inner), inner.shape)[1]),
                     "validation accuracy": percent(accuracy)})
        texts["outcome"].append(f"for {run_name(label)}, " + counted(
            positive, inner.size, "values", "positive"))
        starts[label] = _positive_from(inner)
        low = inner.min(axis=0)
        texts["range"].append(f"from {number(float(low[0]))} at the first epoch to "
                              f"{number(float(low[-1]))} at the last "
                              f"({run_name(label)})")
        texts["accuracy"].append(f"{percent(accuracy)} ({run_name(label)})")
    texts["outcome"] = ["; ".join(texts["outcome"])]
    glue_texts(prefix, {**{k: joined(v) for k, v in texts.items()}, "from": grouped_runs(starts)})
    return markdown_table(rows)


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

    Glues ``{prefix}-outcome``, ``{prefix}-spread`` (largest std / mean of a ball),
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
    rows, outcome, spread, observed, symmetric = [], [], {}, {}, {}
    for label, result in neighbourhood.items():
        a = result["arrays"]
        balls = [_ball(v) for v in a["values"]]
        for i, t in enumerate(a["epochs"]):
            rows.append({"run": label, "epoch": int(t), "mean": float(a["mean"][i]),
                         "std / mean": float(a["std"][i] / abs(a["mean"][i])),
                         "distance to x_T": float(a["distance"][i]),
                         "log10 bound": balls[i]["observed"],
                         "log10 bound, [-M, M]": balls[i]["symmetric"]})
        values = a["values"]
        outcome.append(f"for {run_name(label)}, " + counted(
            int(np.sum(values > 0)), values.size, "sampled values", "positive"))
        spread[label] = float(np.max(a["std"] / np.abs(a["mean"])))
        observed[label] = float(np.min(a["confidence"]))
        symmetric[label] = min(b["confidence"] for b in balls)
    points = min(int(r["arrays"]["values"].shape[1]) for r in neighbourhood.values())
    glue_texts(prefix, {"outcome": "; ".join(outcome), "spread": each_run(spread),
                   "confidence": each_run(observed, lambda v: number(v, 6)),
                   "symmetric": each_run(symmetric, lambda v: number(v, 4)),
                   "points": number(points),
                   "floor": number(math.exp(-points / 2))})
    return markdown_table(rows)


def _phases(arrays):
    """Figure 5c's numbers at the first step size and after it (NaN when never dropped)."""
    first = arrays["lr"][0] == arrays["lr"][0, 0]
    after = bool((~first).any())
    return {"max_first": float(arrays["grad_norm_max"][:, first].max()),
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
        "bounds": per_run(within, "within the paper's bounds", "above the paper's bounds"),
        "steps": per_run(short, f"at most {radius}", f"longer than {radius}"),
        "grows": per_run(grows, "grows", "does not grow"),
        "max": each_run({k: p["max_first"] for k, p in phases.items()}),
        "longest": each_run({k: p["step"] for k, p in phases.items()}),
        "means": joined(f"from {number(p['mean_first'])} to "
                        f"{number(p['mean_after'])} ({run_name(k)})"
                        for k, p in phases.items())}


def steps_table(trajectory, prefix):
    """Figure 5c in numbers: per run, the mini-batch gradient norms at the first step size
    and after it, and the longest SGD step :math:`\\eta_t \\max_B \\|\\nabla f_B\\|`.

    Glues ``{prefix}-bounds`` (the norms against the paper's 5 and 15), ``{prefix}-steps``
    (the steps against the radius 0.5), ``{prefix}-grows`` (whether the mean norm grows after
    the first drop), ``{prefix}-max``, ``{prefix}-longest`` and ``{prefix}-means``.

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


def trajectory_ledger(trajectory, neighbourhood):
    """The claims of Sections 5.1 and 5.2, each against an explicit threshold, per run.

    Parameters
    ----------
    trajectory, neighbourhood : dict
        Label -> result of each experiment.

    Returns
    -------
    list of dict
        ``claim``, ``run``, ``measured`` (text) and ``agrees`` (bool), for
        :func:`~sgdlab.book.results.ledger_table`.
    """
    rows = []
    for label, result in trajectory.items():
        inner, p = result["arrays"]["inner"], _phases(result["arrays"])
        late = inner[:, _start(inner.shape[1]):]
        rows += [
            ledger_row("5.1: all trials positive after a starting period (5 of 300 epochs)", label,
                 f"smallest {number(float(late.min()))}", late.min() > 0),
            ledger_row("5.2: gradient norms below 5 at step size 0.1", label,
                 f"largest {number(p['max_first'])}", p["max_first"] < 5),
            ledger_row("5.2: below 15 afterwards", label, f"largest {number(p['max_after'])}",
                 p["max_after"] < 15),
            ledger_row("5.2: step length at most 0.5", label, f"longest {number(p['step'])}",
                 p["step"] <= PAPER["rho"]),
            ledger_row("5.2: the gradient norm grows after the step size drops", label,
                 f"{number(p['mean_first'])} -> {number(p['mean_after'])}",
                 p["mean_after"] > p["mean_first"])]
    for label, result in neighbourhood.items():
        a = result["arrays"]
        balls = [_ball(v)["confidence"] for v in a["values"]]
        rows += [
            ledger_row("5.2: positive in every ball of radius 0.5", label,
                 percent(float(np.mean(a["values"] > 0))) + " positive",
                 np.all(a["values"] > 0)),
            ledger_row(f"5.2: small variances (every mean > {number(VARIANCE)} std)", label,
                 f"smallest mean / std {number(float(np.min(a['mean'] / a['std'])))}",
                 np.all(a["mean"] > VARIANCE * a["std"])),
            ledger_row(f"5.2 with Lemma 6: 1 - bound >= {number(CONFIDENCE)} (observed "
                 "range)", label, f"smallest {number(float(a['confidence'].min()), 6)}",
                 a["confidence"].min() >= CONFIDENCE),
            ledger_row("5.2 with Lemma 6 and the range [-M, M]: the same", label,
                 f"smallest {number(min(balls), 4)}", min(balls) >= CONFIDENCE)]
    return rows
