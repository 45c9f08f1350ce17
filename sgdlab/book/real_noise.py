"""Chapter :ref:`real-noise` (``book/real_noise.md``): ours, beyond the paper. Its smoothed
loss g measured on networks with their own mini-batch noise, the noise against the paper's
model, and GD against SGD with the sharpness.

:func:`real_noise_runs` gives the runs the chapter shows (saved at the paper's scale, or
computed now; :mod:`sgdlab.book.results`); :func:`noise_table`, :func:`model_table`,
:func:`g_table` and :func:`gd_table` render them and glue their numbers and words;
:func:`real_noise_ledger` holds the verdicts. Importing this module imports neither torch nor
the experiments.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from . import verdicts
from .results import Section5Runs, ledger_row, show_results
from .tables import glue_texts, joined, markdown_table, number, percent, run_name

__all__ = ["NOISE_ARCHS", "GD_ARCHS", "THRESHOLDS", "real_noise_runs", "settings", "point_rows",
           "noise_table", "model_rows", "model_table", "g_rows", "g_table", "gd_rows",
           "gd_table", "edge_verdict", "CHECK_LIMITS", "kernel_checks", "real_noise_ledger"]

NOISE_ARCHS = {"resnet": "resnet34", "densenet": "densenet100"}
"""The networks of ``noise``: ours at the book's scale -> the paper's (Section 5.1) in the
saved folders."""
GD_ARCHS = {"resnet": "resnet"}
"""The network of ``gd`` (its full-batch steps need a small network at the paper's scale)."""

THRESHOLDS = {"tail": 1.5, "spread": 1.5, "excess": 3.0, "edge": (0.8, 1.25), "sigmas": 2.0}
"""The thresholds of the chapter's verdicts, ours, since the paper gives none. A norm is
"bounded like the model's" when its 99% quantile is at most ``tail`` times its median
(uniform noise in thousands of dimensions: 1.0); "the same at every point" when the root mean
square norms of the points are within a factor ``spread``; a share of variance is "not
isotropic" when it exceeds ``excess`` times the isotropic one; a GD run is "at the edge of
stability" when its largest :math:`\\lambda_{\\max} \\eta / 2` lies in ``edge``; an estimate
differs from a value when they are more than ``sigmas`` standard errors apart."""


def real_noise_runs(scale, *, noise=None, gd=None, root=None):
    """What chapter ``real-noise`` shows: ``noise`` for the small ResNet and DenseNet, ``gd``
    for the ResNet, each saved at the paper's scale or computed now (one runs folder, so the
    SGD run that ``noise`` trains is ``gd``'s run at the same batch size).

    Parameters
    ----------
    scale : str
    noise, gd : dict, optional
        Overrides of each experiment's preset.
    root : str or os.PathLike, optional

    Returns
    -------
    sgdlab.book.results.Section5Runs
    """
    from ..nn.experiments import run

    with tempfile.TemporaryDirectory(prefix="sgdlab-real-noise-") as tmp:
        def compute(name, options):  # a temporary runs folder: a rebuild shows a new run
            return lambda arch: {name: run(name, scale=scale, arch=arch, progress=False,
                                           runs=Path(tmp) / "runs", **dict(options or {}))}

        first = show_results(("noise",), NOISE_ARCHS, compute("noise", noise), scale=scale,
                             root=root)
        second = show_results(("gd",), GD_ARCHS, compute("gd", gd), scale=scale, root=root)
    return Section5Runs(shown=first.shown + second.shown,
                        seconds=first.seconds + second.seconds)


def settings(noise, gd, prefix):
    """Glue the settings of the first ``noise`` and ``gd`` results shown, from their own
    configs (the prose never types them): ``{prefix}-epochs``, ``-images``, ``-every``,
    ``-batches`` (noise samples per point), ``-batch``, ``-smoothing``, ``-sgd`` (the SGD
    runs' batch sizes), ``-steps``, ``-lrs`` (GD's constant step sizes) and ``-points``."""
    n = next(iter(noise.values()))["config"]
    g = next(iter(gd.values()))["config"]

    def images(config):
        limit = config.get("limit")
        return "all" if limit is None else f"the first {number(int(limit))}"

    glue_texts(prefix, {
        "epochs": number(int(n["epochs"])), "images": images(n),
        "every": number(int(n["probe_every"])), "batches": number(int(n["noise_batches"])),
        "batch": number(int(n["batch_size"])), "smoothing": number(int(n["smoothing_samples"])),
        "sgd": joined(g["sgd_batches"].split(",")), "sgd-epochs": number(int(g["epochs"])),
        "steps": number(int(g["gd_steps"])), "lrs": joined(g["gd_lrs"].split(",")),
        "points": number(int(g["curvature_points"])), "gd-images": images(g)})


def _rms(norms):
    return np.sqrt(np.mean(np.asarray(norms, dtype=np.float64) ** 2, axis=-1))


def point_rows(result):
    """One row per probed point of a ``noise`` result: the noise's size, tail, anisotropy
    and alignment against the isotropic values, the sharpness and the radii."""
    a, k = result["arrays"], int(result["config"]["top_k"])
    rows = []
    for i, epoch in enumerate(a["epochs"]):
        norms = a["norms"][i]
        rows.append({"epoch": int(epoch), "η": float(a["point_lr"][i]),
                     "rms ‖w‖": float(_rms(norms)),
                     "q99/median": float(np.quantile(norms, 0.99) / np.median(norms)),
                     f"top-{k} share": float(a["top_share"][i, -1]),
                     "isotropic": float(a["isotropic_share"][i, -1]),
                     f"on top-{k} of H": float(a["alignment"][i, -1]),
                     "isotropic (k/P)": k / int(result["summary"]["parameters"]),
                     "λ_max": float(a["eigenvalues"][i, 0]),
                     "η q99 ‖w‖": float(a["effective_radius"][i]),
                     "model r": float(a["model_radius"][i])})
    return rows


def noise_table(noise, prefix):
    """The real noise at every probed point of every run (:func:`point_rows`). Glues
    ``{prefix}-radius`` (the largest step-space radius per run) and ``-rms`` (the range of
    the root mean square norm per run)."""
    rows, radius, rms = [], {}, {}
    for label, result in noise.items():
        points = point_rows(result)
        rows += [dict(network=_network(label), **r) for r in points]
        radius[label] = number(max(p["η q99 ‖w‖"] for p in points))
        rms[label] = (f"{number(min(p['rms ‖w‖'] for p in points))} to "
                      f"{number(max(p['rms ‖w‖'] for p in points))}")
    glue_texts(prefix, {"radius": _each(radius), "rms": _each(rms)})
    k = next(iter(noise.values()))["config"]["top_k"]
    return _tables(rows, [
        ["network", "epoch", "η", "rms ‖w‖", "q99/median", "η q99 ‖w‖", "model r"],
        ["network", "epoch", f"top-{k} share", "isotropic", f"on top-{k} of H",
         "isotropic (k/P)", "λ_max"]])


def _network(label):
    """A run's network: ``"ResNet-14, digits"`` -> ``"ResNet-14"``."""
    return str(label).split(", ")[0]


def _tables(rows, parts):
    """The columns ``parts`` of ``rows`` as narrow tables, one after another (a page's text
    width holds about seven columns)."""
    from IPython.display import Markdown

    return Markdown("\n\n".join(markdown_table(rows, columns).data for columns in parts))


def _each(texts):
    """``"0.3 for ResNet-14 on digits and 0.4 for ..."``."""
    return joined(f"{t} for {run_name(label)}" for label, t in texts.items())


def model_rows(result):
    """The paper's noise model against the noise measured in one ``noise`` result: one row
    per property of the model, with the model's value, ours and the verdict "does the
    property hold here?" (thresholds :data:`THRESHOLDS`)."""
    rows, t = point_rows(result), THRESHOLDS
    k = int(result["config"]["top_k"])
    tail = max(r["q99/median"] for r in rows)
    rms = [r["rms ‖w‖"] for r in rows]
    top = max(r[f"top-{k} share"] / r["isotropic"] for r in rows)
    aligned = max(r[f"on top-{k} of H"] / r["isotropic (k/P)"] for r in rows)
    radius = max(r["η q99 ‖w‖"] for r in rows)
    return [
        {"property": "bounded: ‖w‖ ≤ r, with ‖w‖ near r", "model": "q99/median ≈ 1",
         "measured": f"largest q99/median {number(tail)}",
         "verdict": verdicts.judge(tail <= t["tail"])},
        {"property": "the same at every point", "model": "one rms ‖w‖",
         "measured": f"rms ‖w‖ from {number(min(rms))} to {number(max(rms))}",
         "verdict": verdicts.judge(max(rms) <= t["spread"] * min(rms))},
        {"property": "isotropic", "model": f"top-{k} share as for isotropic noise",
         "measured": f"up to {number(top)} times the isotropic share",
         "verdict": verdicts.judge(top <= t["excess"])},
        {"property": "unrelated to the curvature", "model": f"share on H's top {k}: k/P",
         "measured": f"up to {number(aligned)} times k/P",
         "verdict": verdicts.judge(aligned <= t["excess"])},
        {"property": "one step stays within radius 0.5 (Section 5.2)", "model": "η r ≤ 0.5",
         "measured": f"η q99 ‖w‖ up to {number(radius)}",
         "verdict": verdicts.judge(radius <= 0.5)},
    ]


def model_table(noise):
    """:func:`model_rows` of every run, as one table."""
    rows = [{"run": label, **{k: str(v) for k, v in r.items()}}
            for label, result in noise.items() for r in model_rows(result)]
    return markdown_table(rows, align="lllll")


def _mean_se(values):
    values = np.asarray(values, dtype=np.float64)
    return values.mean(axis=-1), values.std(axis=-1, ddof=1) / np.sqrt(values.shape[-1])


def g_rows(result):
    """Per probed point of a ``noise`` result: eq. (2)'s inner product
    :math:`\\langle -\\nabla h(y_t), x^* - y_t\\rangle` for h = f, for g smoothed by the real
    noise and for g smoothed by the model's (means and standard errors), and whether g and f
    differ (by more than ``THRESHOLDS["sigmas"]`` standard errors) or in sign."""
    a, sigmas = result["arrays"], THRESHOLDS["sigmas"]
    real, real_se = _mean_se(a["g_real"])
    model, model_se = _mean_se(a["g_model"])
    rows = []
    for i, epoch in enumerate(a["epochs"]):
        f = float(a["f_inner"][i])
        rows.append({"epoch": int(epoch), "‖x* − y_t‖": float(a["distance"][i]), "f": f,
                     "g, real noise": float(real[i]), "± se": float(real_se[i]),
                     "g, model noise": float(model[i]), "± se ": float(model_se[i]),
                     "differs from f": bool(abs(real[i] - f) > sigmas * real_se[i]),
                     "sign differs": bool(np.sign(real[i]) != np.sign(f)),
                     "positive": bool(real[i] > sigmas * real_se[i])})
    return rows


def g_table(noise, prefix):
    """:func:`g_rows` of every run. Glues ``{prefix}-sign`` (points where g's sign differs
    from f's), ``-differs`` (points where they differ beyond the standard errors),
    ``-change`` (the median relative change ``(g - f) / |f|``), ``-positive`` and ``-example``
    (the point of the largest difference in standard errors, with its standard error)."""
    rows = []
    texts = {"sign": {}, "differs": {}, "change": {}, "positive": {}, "example": {}}
    for label, result in noise.items():
        part = g_rows(result)
        rows += [dict(run=label, **r) for r in part]
        n = len(part)
        texts["sign"][label] = f"{sum(r['sign differs'] for r in part)} of {n}"
        texts["differs"][label] = f"{sum(r['differs from f'] for r in part)} of {n}"
        texts["positive"][label] = f"{sum(r['positive'] for r in part)} of {n}"
        worst = max(part, key=lambda r: abs(r["g, real noise"] - r["f"]) / r["± se"]
                    if r["± se"] > 0 else 0.0)
        gap = worst["g, real noise"] - worst["f"]
        texts["example"][label] = (
            f"at epoch {worst['epoch']}, g − f = {number(gap)} ± {number(worst['± se'])} "
            f"({number(abs(gap) / worst['± se'], 2) if worst['± se'] > 0 else 'no'} standard "
            f"errors; f = {number(worst['f'])})")
        change = np.median([(r["g, real noise"] - r["f"]) / abs(r["f"]) for r in part])
        texts["change"][label] = percent(float(change)) if change >= 0 else \
            f"−{percent(float(-change))}"
    glue_texts(prefix, {key: _each(value) for key, value in texts.items()})
    shown = [{"network": _network(r["run"]), "epoch": r["epoch"], "f": r["f"],
              "g, real noise": f"{number(r['g, real noise'])} ± {number(r['± se'])}",
              "g, model noise": f"{number(r['g, model noise'])} ± {number(r['± se '])}",
              "g ≠ f": "yes" if r["differs from f"] else "no",
              "sign flips": "yes" if r["sign differs"] else "no"} for r in rows]
    return markdown_table(shown)


def gd_rows(result):
    """One row per run of a ``gd`` result: what it is, where it ends, how far it went, the
    Section 5.1 probe and the curvature (:func:`edge_verdict` for GD at a constant step)."""
    rows = []
    for r in result["summary"]["runs"]:
        rows.append({"run": r["name"].rsplit("-t", 1)[0], "batch": r["batch_size"],
                     "η": r["lr"], "schedule": r["schedule"], "steps": r["steps"],
                     "train loss": r["train_loss"], "train acc.": r["train_accuracy"],
                     "val. loss": r["val_loss"], "val. acc.": r["val_accuracy"],
                     "‖x_T − x_0‖": r["distance"], "5.1 positive": percent(r["share_positive"]),
                     "λ_max (end)": r["final_sharpness"], "λ_max η/2 (after 0)":
                     r["edge"],
                     "trace (end)": f"{number(r['final_trace'])} ± "
                                    f"{number(r['final_trace_se'])}"})
    return rows


def gd_table(gd, prefix):
    """:func:`gd_rows` of every ``gd`` result. Glues ``{prefix}-best`` (the GD run of the
    lowest training loss), ``-label`` (the run), ``-ends`` (the final sharpness and training
    loss of the SGD and the GD runs) and ``-edge`` (each run's largest
    :math:`\\lambda_{\\max}\\eta/2` after its start)."""
    rows = []
    for label, result in gd.items():
        rows += [dict(r, **{"η, schedule": f"{number(r['η'])}, {r['schedule']}"})
                 for r in gd_rows(result)]
        runs = result["summary"]["runs"]
        by_name = {r["name"].rsplit("-t", 1)[0]: r for r in runs}
        best = result["summary"]["best_gd"].rsplit("-t", 1)[0]
        glue_texts(prefix, {"best": f"{best} (η = {number(by_name[best]['lr'])})",
                            "label": run_name(label), "ends": _ends(runs),
                            "edge": joined(f"{name} {number(r['edge'])}"
                                           for name, r in by_name.items())})
    return _tables(rows, [
        ["run", "η, schedule", "steps", "train loss", "train acc.", "val. loss", "val. acc."],
        ["run", "‖x_T − x_0‖", "5.1 positive", "λ_max (end)", "λ_max η/2 (after 0)",
         "trace (end)"]])


def _ends(runs):
    """Where the SGD and the GD runs end, in sharpness and training loss, in words."""
    def span(values):
        low, high = min(values), max(values)
        return number(low) if low == high else f"from {number(low)} to {number(high)}"

    parts = []
    for kind, name in (("sgd", "SGD"), ("gd", "GD")):
        part = [r for r in runs if r["kind"] == kind]
        parts.append(f"{name}'s runs end with λ_max {span([r['final_sharpness'] for r in part])}"
                     f" at training losses {span([r['train_loss'] for r in part])}")
    return "; ".join(parts)


def edge_verdict(run):
    """Does a run (GD at a constant step size; SGD) reach the edge of stability, its
    sharpness near :math:`2/\\eta`? "yes" when its largest :math:`\\lambda_{\\max}\\eta/2` after the start
    (``run["edge"]``: a run that starts above the edge and falls is not at it) is within
    ``THRESHOLDS["edge"]``; "no" when above it, or when below it and the sharpness had
    already fallen from its peak by the end of the run; "can't tell" when below it and still
    at its peak at the end (a longer run might reach the edge)."""
    low, high = THRESHOLDS["edge"]
    value = run["edge"]
    if value > high:
        return verdicts.Verdict(verdicts.NO)
    if value < low:
        if run["final_sharpness"] < run["max_sharpness"]:
            return verdicts.Verdict(verdicts.NO)
        return verdicts.Verdict(verdicts.CANT_TELL, f"λ_max η/2 reached only {number(value)} "
                                "and was still at its peak at the end of the run")
    return verdicts.Verdict(verdicts.YES)


CHECK_LIMITS = {"eigen_error": 1e-6, "z": 4.0}
"""The kernels' checks pass when the top eigenvalues are within ``eigen_error`` (relative) of
the dense Hessian's (float64), and an estimate within ``z`` standard errors of its closed
form; the least-squares check must also reject the with-replacement law by more than ``z``."""


def kernel_checks(dense, least_squares):
    """The ledger rows of the kernels' checks: ``{claim: (measured, ok)}`` from
    :func:`sgdlab.nn.curvature.dense_check` and :func:`sgdlab.nn.noise.least_squares_check`
    (limits :data:`CHECK_LIMITS`)."""
    error, z = dense["max_relative_eigen_error"], dense["trace_z"]
    ls, limit = least_squares, CHECK_LIMITS["z"]
    return {
        "top eigenvalues and trace match the dense Hessian": (
            f"eigenvalue error {number(error, 2)}, trace {number(z, 2)} se off",
            error < CHECK_LIMITS["eigen_error"] and z < limit),
        "noise matches least squares' closed form": (
            f"E‖w‖² {number(ls['mean_square_z'], 2)} se off (with replacement: "
            f"{number(ls['with_replacement_z'], 2)} se)",
            ls["mean_square_z"] < limit < ls["with_replacement_z"])}


def real_noise_ledger(noise, gd, checks):
    """The chapter's verdicts: the paper's claim that Assumption 1 holds along SGD with the
    real noise, its bounded-noise model, and our checks (the GD/SGD questions and the
    kernels' checks: ``checks`` maps a claim to ``(measured, ok)``)."""
    rows = []
    for label, result in noise.items():
        part = g_rows(result)
        good, bad = sum(r["positive"] for r in part), sum(
            r["g, real noise"] < -THRESHOLDS["sigmas"] * r["± se"] for r in part)
        verdict = (verdicts.Verdict(verdicts.NO) if bad else verdicts.Verdict(verdicts.YES)
                   if good == len(part) else verdicts.Verdict(
                       verdicts.CANT_TELL, "some estimates are within two standard errors "
                       "of 0"))
        rows.append(ledger_row("Assumption 1 holds along SGD with the real noise", label,
                               f"g's inner product > 2 se at {good} of {len(part)} points",
                               verdict))
        bounded = model_rows(result)[0]
        rows.append(ledger_row("the noise is bounded, ‖w‖ ≤ r (Theorem 1's model)", label,
                               bounded["measured"], bounded["verdict"]))
        more = sum(r["g, real noise"] - r["f"] > THRESHOLDS["sigmas"] * r["± se"]
                   for r in part)
        rows.append(ledger_row("smoothing by the real noise makes eq. (2) more positive",
                               label, f"at {more} of {len(part)} points", more > len(part) / 2,
                               source="ours"))
    for label, result in gd.items():
        runs = result["summary"]["runs"]
        for r in (r for r in runs if r["kind"] == "gd" and r["schedule"] == "constant"):
            rows.append(ledger_row("GD's sharpness rises to about 2/η", f"{label}, "
                                   f"{r['name'].rsplit('-t', 1)[0]}",
                                   f"largest λ_max η/2 after the start {number(r['edge'])}",
                                   edge_verdict(r), source="ours"))
        for r in (r for r in runs if r["kind"] == "sgd"):
            rows.append(ledger_row("SGD's sharpness sits at about 2/η", f"{label}, "
                                   f"{r['name'].rsplit('-t', 1)[0]}",
                                   f"largest λ_max η/2 after the start {number(r['edge'])}",
                                   edge_verdict(r), source="ours"))
        gd_final = [r["final_sharpness"] for r in runs if r["kind"] == "gd"]
        sgd_final = [r["final_sharpness"] for r in runs if r["kind"] == "sgd"]
        rows.append(ledger_row("SGD ends flatter than every GD run", label,
                               f"λ_max at the end: SGD {number(max(sgd_final))} at most, GD "
                               f"{number(min(gd_final))} at least",
                               max(sgd_final) < min(gd_final), source="ours"))
    for claim, (measured, ok) in checks.items():
        rows.append(ledger_row(claim, "checks", measured, ok, source="ours"))
    return rows
