"""Tables, glued numbers, outcome sentences and verdicts of the Section 5 chapters.

The chapters ``nn-trajectory`` (Sections 5.1, 5.2) and ``nn-landscape`` (5.3, 5.4) show the
results of :func:`sgdlab.viz.nn_results.trajectory_runs` and
:func:`~sgdlab.viz.nn_results.landscape_runs`: the book's own run, or paper-scale results
loaded from ``results/paper/`` (CIFAR-10 and CIFAR-100). Each ``*_table`` function here
renders one table of a chapter (:func:`sgdlab.viz.tables.markdown_table`) and glues the numbers
and the outcome-dependent sentences its prose cites (:mod:`sgdlab.viz.tables`), so that the
text never states an outcome the data shown does not have. The results are dicts
``{label: result}`` (:meth:`~sgdlab.viz.nn_results.Section5Runs.results`).

Importing this module imports neither torch nor matplotlib.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as validate
from . import tables
from .nn_results import paper_command

__all__ = ["PAPER", "CONFIDENCE", "VARIANCE", "NEAR", "joined", "name", "commands",
           "sources_table", "choices_table", "bias_table", "chunking_table",
           "trajectory_table", "neighbourhood_table", "steps_table",
           "trajectory_ledger", "normalised_pairs", "allpairs_table", "spectrum_table",
           "landscape_ledger", "ledger_table"]

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


# --------------------------------------------------------------------------- words

def joined(items, last="and"):
    """``["a", "b", "c"]`` as ``"a, b and c"``."""
    items = [str(i) for i in items]
    if not items:
        validate.fail("items", "a non-empty list", items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def name(label):
    """A run's label in a sentence: ``"ResNet-14, digits"`` -> ``"ResNet-14 on digits"``."""
    return str(label).replace(", ", " on ", 1)


def _are(count, total):
    """The verb after :func:`sgdlab.viz.tables.count_phrase`."""
    return "is" if count in (0, total) else "are"


def _counted(count, total, noun, what):
    """``"every one of the 36 values is positive"`` / ``"3 of the 36 values are ..."``."""
    return f"{tables.count_phrase(count, total, noun)} {_are(count, total)} {what}"


def _each(values, fmt=tables.number):
    """``{label: value}`` as ``"1.2 (ResNet-14 on digits) and 3.4 (DenseNet-BC-22 on
    digits)"``."""
    return joined(f"{fmt(v)} ({name(k)})" for k, v in values.items())


def _split(flags, yes, no):
    """``"yes for every run shown"``, or ``"yes for A; no for B"``: a verdict per run."""
    good = [name(k) for k, ok in flags.items() if ok]
    bad = [name(k) for k, ok in flags.items() if not ok]
    if not bad:
        return f"{yes} for " + ("every run shown" if len(flags) > 1 else good[0])
    if not good:  # "does not grow for each run shown", not "... for every run" (ambiguous)
        return f"{no} for " + ("each run shown" if len(flags) > 1 else bad[0])
    return f"{yes} for {joined(good)}; {no} for {joined(bad)}"


def _grouped(phrases):
    """``{label: phrase}`` as ``"phrase for every run shown"`` or ``"p1 for A and p2 for
    B"``, runs with the same phrase together."""
    groups = {}
    for label, phrase in phrases.items():
        groups.setdefault(phrase, []).append(name(label))
    if len(groups) == 1 and len(phrases) > 1:
        return f"{next(iter(groups))} for every run shown"
    return joined(f"{phrase} for {joined(names)}" for phrase, names in groups.items())


def _glue(prefix, texts):
    """Glue every ``{key: text}`` as ``{prefix}-{key}``; returns the texts."""
    for key, text in texts.items():
        tables.glue_text(f"{prefix}-{key}", text)
    return texts


# --------------------------------------------------------------------------- set-up tables

def commands(experiments, archs, datasets=("cifar10", "cifar100")):
    """The command lines that write the paper-scale folders, as a Markdown code block whose
    lines fit the page.

    Parameters
    ----------
    experiments, archs, datasets : tuple of str
        As for :func:`sgdlab.viz.nn_results.paper_command`.

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
    runs : sgdlab.viz.nn_results.Section5Runs

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


# --------------------------------------------------------------------------- Sections 5.1, 5.2

def bias_table(bias, prefix):
    """The BatchNorm bias of the stochastic gradient
    (:func:`sgdlab.viz.nn_results.batchnorm_bias`), one row per network and epoch.

    Glues ``{prefix}-largest`` (the largest relative difference of each network, as a
    percentage) and ``{prefix}-cosine`` (the smallest cosine of each).

    Parameters
    ----------
    bias : dict
        Network label -> the rows of :func:`~sgdlab.viz.nn_results.batchnorm_bias`.
    prefix : str

    Returns
    -------
    markdown
        The table, an ``IPython.display.Markdown`` object.
    """
    rows = [{"network": label, "weights at epoch": r["epoch"], "mini-batches": r["batches"],
             "relative difference": tables.percent(r["relative"]), "cosine": r["cosine"]}
            for label, measured in bias.items() for r in measured]
    _glue(prefix, {
        "largest": _each({k: max(r["relative"] for r in v) for k, v in bias.items()},
                         tables.percent),
        "cosine": _each({k: min(r["cosine"] for r in v) for k, v in bias.items()})})
    return tables.markdown_table(rows, digits=4)


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
                         "f: relative difference": tables.percent(e["loss_rel_diff"][i]),
                         "gradient: relative difference": tables.percent(e["grad_rel_diff"][i]),
                         "cosine of the gradients": e["cosine"][i], "passes": good[j]})
        passing = [b for b, ok in zip(sizes, good) if ok]
        first = min((j for j in range(len(sizes)) if all(good[j:])), default=None)
        if first == 0:
            text = "does not matter: every chunk size tried passes"
        elif first is not None and not any(good[:first]):
            text = (f"matters for chunks of fewer than {tables.number(sizes[first])} images "
                    "(larger chunks pass)")
        elif passing:
            text = f"matters for some chunk sizes: only {joined(passing)} images pass"
        else:
            text = f"matters: no chunk size tried (up to {tables.number(sizes[-1])}) passes"
        verdicts.append(f"at the {label}, chunking {text}")
    verdict = "; ".join(verdicts)
    _glue(prefix, {
        "images": tables.number(next(iter(errors.values()))["n"]),
        "test": (f"f within {tables.percent(tolerance)} of the one-pass f and a cosine of at "
                 f"least {tables.number(cosine)} between their gradients"),
        "loss": _each({k: max(e["loss_rel_diff"]) for k, e in errors.items()}, tables.percent),
        "gradient": _each({k: max(e["grad_rel_diff"]) for k, e in errors.items()},
                          tables.percent),
        "cosine": _each({k: min(e["cosine"]) for k, e in errors.items()}),
        "verdict": verdict[0].upper() + verdict[1:]})
    return tables.markdown_table(rows, digits=4, align="lrrrrrl")


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
                     "positive": tables.percent(positive / inner.size),
                     "smallest": float(inner.min()),
                     "at epoch": int(np.unravel_index(np.argmin(inner), inner.shape)[1]),
                     "validation accuracy": tables.percent(accuracy)})
        texts["outcome"].append(f"for {name(label)}, " + _counted(
            positive, inner.size, "values", "positive"))
        starts[label] = _positive_from(inner)
        low = inner.min(axis=0)
        texts["range"].append(f"from {tables.number(float(low[0]))} at the first epoch to "
                              f"{tables.number(float(low[-1]))} at the last "
                              f"({name(label)})")
        texts["accuracy"].append(f"{tables.percent(accuracy)} ({name(label)})")
    texts["outcome"] = ["; ".join(texts["outcome"])]
    _glue(prefix, {**{k: joined(v) for k, v in texts.items()}, "from": _grouped(starts)})
    return tables.markdown_table(rows)


def _ball(values):
    """Hoeffding's exponents of one ball's values: observed range and ``[-M, M]``."""
    from ..nn.probe import hoeffding_confidence, hoeffding_exponent

    big = float(np.abs(values).max())
    return {"observed": hoeffding_exponent(values),
            "symmetric": hoeffding_exponent(values, low=-big, high=big),
            "confidence": hoeffding_confidence(values, low=-big, high=big)}


def neighbourhood_table(neighbourhood, prefix):
    """Figure 5b in numbers: per probed ball, the inner products
    :math:`\\langle -\\nabla f(w), x_T - x_t\\rangle` at its random points, and Lemma 6's
    bound :math:`\\exp(-2nm^2/(b-a)^2)` as a power of ten
    (:func:`sgdlab.nn.probe.hoeffding_exponent`), with :math:`[a, b]` the observed range and
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
        outcome.append(f"for {name(label)}, " + _counted(
            int(np.sum(values > 0)), values.size, "sampled values", "positive"))
        spread[label] = float(np.max(a["std"] / np.abs(a["mean"])))
        observed[label] = float(np.min(a["confidence"]))
        symmetric[label] = min(b["confidence"] for b in balls)
    points = min(int(r["arrays"]["values"].shape[1]) for r in neighbourhood.values())
    _glue(prefix, {"outcome": "; ".join(outcome), "spread": _each(spread),
                   "confidence": _each(observed, lambda v: tables.number(v, 6)),
                   "symmetric": _each(symmetric, lambda v: tables.number(v, 4)),
                   "points": tables.number(points),
                   "floor": tables.number(math.exp(-points / 2))})
    return tables.markdown_table(rows)


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
    radius = f"the radius {tables.number(PAPER['rho'])} of the paper's balls"
    return {
        "bounds": _split(within, "within the paper's bounds", "above the paper's bounds"),
        "steps": _split(short, f"at most {radius}", f"longer than {radius}"),
        "grows": _split(grows, "grows", "does not grow"),
        "max": _each({k: p["max_first"] for k, p in phases.items()}),
        "longest": _each({k: p["step"] for k, p in phases.items()}),
        "means": joined(f"from {tables.number(p['mean_first'])} to "
                        f"{tables.number(p['mean_after'])} ({name(k)})"
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
    _glue(prefix, _steps_texts(phases))
    return tables.markdown_table(rows)


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
        :func:`ledger_table`.
    """
    rows = []
    for label, result in trajectory.items():
        inner, p = result["arrays"]["inner"], _phases(result["arrays"])
        late = inner[:, _start(inner.shape[1]):]
        rows += [
            _row("5.1: all trials positive after a starting period (5 of 300 epochs)", label,
                 f"smallest {tables.number(float(late.min()))}", late.min() > 0),
            _row("5.2: gradient norms below 5 at step size 0.1", label,
                 f"largest {tables.number(p['max_first'])}", p["max_first"] < 5),
            _row("5.2: below 15 afterwards", label, f"largest {tables.number(p['max_after'])}",
                 p["max_after"] < 15),
            _row("5.2: step length at most 0.5", label, f"longest {tables.number(p['step'])}",
                 p["step"] <= PAPER["rho"]),
            _row("5.2: the gradient norm grows after the step size drops", label,
                 f"{tables.number(p['mean_first'])} -> {tables.number(p['mean_after'])}",
                 p["mean_after"] > p["mean_first"])]
    for label, result in neighbourhood.items():
        a = result["arrays"]
        balls = [_ball(v)["confidence"] for v in a["values"]]
        rows += [
            _row("5.2: positive in every ball of radius 0.5", label,
                 tables.percent(float(np.mean(a["values"] > 0))) + " positive",
                 np.all(a["values"] > 0)),
            _row(f"5.2: small variances (every mean > {tables.number(VARIANCE)} std)", label,
                 f"smallest mean / std {tables.number(float(np.min(a['mean'] / a['std'])))}",
                 np.all(a["mean"] > VARIANCE * a["std"])),
            _row(f"5.2 with Lemma 6: 1 - bound >= {tables.number(CONFIDENCE)} (observed "
                 "range)", label, f"smallest {tables.number(float(a['confidence'].min()), 6)}",
                 a["confidence"].min() >= CONFIDENCE),
            _row("5.2 with Lemma 6 and the range [-M, M]: the same", label,
                 f"smallest {tables.number(min(balls), 4)}", min(balls) >= CONFIDENCE)]
    return rows


def _row(claim, label, measured, ok):
    return {"claim": claim, "run": label, "measured": measured, "agrees": bool(ok)}


def ledger_table(rows, prefix):
    """The verdicts of a chapter ("What we measured"), and their summary in words.

    Glues ``{prefix}-agree`` (``"7 of the 9 checks agree"``), ``{prefix}-hold`` (the claims
    that agree for every run) and ``{prefix}-fail`` (the others, with the runs where they
    fail).

    Parameters
    ----------
    rows : list of dict
        From :func:`trajectory_ledger` or :func:`landscape_ledger`.
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
    fail = [f"{c} ({joined(name(r['run']) for r in rs if not r['agrees'])})"
            for c, rs in claims.items() if not all(r["agrees"] for r in rs)]
    _glue(prefix, {
        "agree": (f"{tables.count_phrase(agree, len(rows), 'checks')} "
                  f"{'agrees' if agree in (0, len(rows)) else 'agree'}"),
        "hold": "; ".join(hold) if hold else "none of the claims",
        "fail": "; ".join(fail) if fail else "none"})
    table = [{"claim of the paper": r["claim"], "run": r["run"], "measured": r["measured"],
              "agrees": r["agrees"]} for r in rows]
    return tables.markdown_table(table, align="lllc")


# --------------------------------------------------------------------------- Sections 5.3, 5.4

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


def _pairs_texts(allpairs, bounds):
    summaries = {label: r["summary"] for label, r in allpairs.items()}
    small = {k: bounds[k] <= _paper_share(r) for k, r in allpairs.items()}
    far = {k: s["min_final_distance"] >= PAPER["final_distance"] for k, s in summaries.items()}
    closer = {k: s["mean_final_distance"] < s["distance_from_start"]
              for k, s in summaries.items()}
    return {
        "outcome": "; ".join(f"for {name(k)}, " + _counted(
            s["total"] - s["count_not_positive"], s["total"], "values", "positive")
            for k, s in summaries.items()),
        "share": _each({k: s["share_not_positive"] for k, s in summaries.items()},
                       tables.percent),
        "self": joined(f"{tables.number(s['count_not_positive_with_self'])} of "
                       f"{tables.number(s['total_with_self'])} ({name(k)})"
                       for k, s in summaries.items()),
        "bound": _each(bounds, tables.percent),
        "resolve": _split(small, "at most the paper's share", "above the paper's share"),
        "distance": _each({k: s["min_final_distance"] for k, s in summaries.items()}),
        "far": _split(far, "as far apart as the paper's", "closer than the paper's"),
        "radius": _each({k: s["min_final_distance"] / PAPER["rho"]
                         for k, s in summaries.items()}),
        "mean": _each({k: s["mean_final_distance"] for k, s in summaries.items()}),
        "travelled": _each({k: s["distance_from_start"] for k, s in summaries.items()}),
        "closer": _split(closer, "closer to one another than to the shared start",
                         "not closer to one another than to the shared start")}


def allpairs_table(allpairs, prefix, *, level=0.95):
    """Section 5.3 in numbers: per run, the inner products of every epoch start with every
    other run's final solution, Clopper-Pearson's upper bound on the share not positive
    (:func:`sgdlab.nn.probe.binomial_upper_bound`), and the distances between final
    solutions.

    Glues ``{prefix}-outcome``, ``-share``, ``-self`` (the count with :math:`n = m`),
    ``-bound``, ``-resolve`` (the bound against the
    paper's share), ``-distance`` (closest final solutions), ``-far`` (against the paper's
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
    from ..nn.probe import binomial_upper_bound

    rows, bounds = [], {}
    for label, result in allpairs.items():
        s = result["summary"]
        bounds[label] = binomial_upper_bound(s["count_not_positive"], s["total"], level=level)
        pairs = normalised_pairs(result["arrays"]["values"])
        rows.append({"run": label, "not positive": f"{s['count_not_positive']:,} of "
                     f"{s['total']:,}", "share": tables.percent(s["share_not_positive"]),
                     f"{tables.percent(level)} bound": tables.percent(bounds[label]),
                     "lowest normalised": float(pairs["normalised"].min()),
                     "closest finals": s["min_final_distance"],
                     "travelled": s["distance_from_start"]})
    _glue(prefix, _pairs_texts(allpairs, bounds))
    tables.glue_percent(f"{prefix}-paper", PAPER["resnet_share"])
    tables.glue_percent(f"{prefix}-level", level)
    return tables.markdown_table(rows)


def _strictly(values, increasing):
    steps = np.diff(np.asarray(values, dtype=np.float64))
    return bool(np.all(steps > 0) if increasing else np.all(steps < 0))


def _trend(series, increasing, verb):
    """``"falls with every later switch for X (from 1.2 to 0.3)"``, or which runs do not."""
    ok = {k: _strictly(v, increasing) for k, v in series.items()}
    good = [f"{name(k)} (from {tables.number(float(series[k][0]))} to "
            f"{tables.number(float(series[k][-1]))})" for k, yes in ok.items() if yes]
    bad = [f"{name(k)} ({', '.join(tables.number(float(v)) for v in series[k])})"
           for k, yes in ok.items() if not yes]
    parts = ([f"{verb} with every later switch for {joined(good)}"] if good else []) + (
        [f"does not {verb.rstrip('s')} with every later switch for {joined(bad)}"] if bad
        else [])
    return "; it ".join(parts)


def spectrum_table(spectrum, prefix):
    """Figure 6 in numbers: per run and start epoch :math:`s`, the point reached by
    continuing at the small step size from :math:`s`.

    Glues ``{prefix}-train``, ``-val`` (how the training / validation loss falls with the
    switch epoch), ``-distance`` (how the distance from the initialisation grows),
    ``-convex`` (how many paths are one point convex towards their end), ``-first`` (the
    training loss after switching at the initialisation) and ``-base`` (that of the
    step-size-0.1 run itself).

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
             "accuracy": tables.percent(a["val_accuracy"][i]),
             "from init": a["distance_init"][i], "smallest inner": a["min_inner"][i]}
            for label, a in ((k, r["arrays"]) for k, r in spectrum.items())
            for i, s in enumerate(a["starts"])]
    arrays = {k: r["arrays"] for k, r in spectrum.items()}
    _glue(prefix, {
        "train": _trend({k: a["train_loss"] for k, a in arrays.items()}, False, "falls"),
        "val": _trend({k: a["val_loss"] for k, a in arrays.items()}, False, "falls"),
        "distance": _trend({k: a["distance_init"] for k, a in arrays.items()}, True, "grows"),
        "convex": "; ".join(f"for {name(k)}, " + _convex(a["min_inner"])
                            for k, a in arrays.items()),
        "first": _each({k: float(a["train_loss"][0]) for k, a in arrays.items()}),
        "base": _each({k: r["summary"]["base_final_train_loss"] for k, r in spectrum.items()})})
    return tables.markdown_table(rows)


def _convex(min_inner):
    """How many of Figure 6's paths are one point convex towards their end."""
    count, total = int(np.sum(min_inner > 0)), int(np.size(min_inner))
    what = ("one point convex towards its end" if _are(count, total) == "is" else
            "one point convex towards their ends")
    return _counted(count, total, "paths", what)


def landscape_ledger(allpairs, spectrum):
    """The claims of Sections 5.3 and 5.4, each against an explicit threshold, per run.

    Parameters
    ----------
    allpairs, spectrum : dict
        Label -> result of each experiment.

    Returns
    -------
    list of dict
        As for :func:`trajectory_ledger`.
    """
    rows = []
    for label, result in allpairs.items():
        s, paper = result["summary"], _paper_share(result)
        rows += [
            _row(f"5.3: share not positive at most the paper's ({tables.percent(paper)})",
                 label, f"{tables.number(s['count_not_positive'])} of "
                 f"{tables.number(s['total'])}", s["share_not_positive"] <= paper),
            _row(f"5.3: final solutions far apart (at least {tables.number(NEAR * 40)}, "
                 "paper: 40)", label, f"closest {tables.number(s['min_final_distance'])}",
                 s["min_final_distance"] >= NEAR * PAPER["final_distance"])]
    for label, result in spectrum.items():
        a = result["arrays"]
        rows += [
            _row("5.4: training loss falls with later switches", label,
                 _arrow(a["train_loss"]), _strictly(a["train_loss"], False)),
            _row("5.4: validation loss falls with later switches", label,
                 _arrow(a["val_loss"]), _strictly(a["val_loss"], False)),
            _row("5.4: farther from the initialisation with later switches", label,
                 _arrow(a["distance_init"]), _strictly(a["distance_init"], True)),
            _row("5.4: every path one point convex towards its minimum", label,
                 f"smallest {tables.number(float(a['min_inner'].min()))}",
                 np.all(a["min_inner"] > 0))]
    return rows


def _arrow(values):
    return " -> ".join(tables.number(float(v)) for v in values)
