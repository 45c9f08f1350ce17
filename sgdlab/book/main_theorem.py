"""Chapter :ref:`main-theorem` (``book/main_theorem.md``): each step of Theorem 1's proof
(Section 4) measured, the chapter's tables, verdict ledger, glued words, figures and explorers.

A measurement function runs :mod:`sgdlab.theory` and SGD and returns numbers (and, where a
figure needs them, arrays); a ``*_table`` function renders Markdown; a ``glue_*`` function
glues a measurement's fields under the names the chapter's prose uses (through
:mod:`sgdlab.book.tables`, the one number format). :func:`theorem1_measurements` and
:func:`theorem1_figure` show Theorem 1's constants against SGD; :func:`live_theorem1` is the
page's live explorer (``book/_static/live/theorem1.js``) and :func:`theorem1_explorer` the
notebook's.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogLocator

from .. import _validate as validate
from .. import landscapes, theory
from ..sgd import random_rows, run_schedule, run_sgd
from ..smoothing import minima_1d
from .live import LiveExplorer, page_seed
from .style import PALETTE, figure_to_png, plain_log_ticks, use_style
from .tables import (
    by_dimension,
    count_phrase,
    glue_number,
    glue_numbers,
    glue_percent,
    glue_text,
    joined,
    markdown_table,
    number,
    percent,
)
from .verdicts import CANNOT_FAIL, judge, markdown, plain, row, split, tally_phrase

__all__ = ["Z_LIMIT", "holds_phrase", "start_distance", "constants_table",
           "glue_constants", "one_step_check", "supermartingale", "within_radius", "staying",
           "lemma5_map", "corollary_run", "corollary_table", "looseness", "looseness_table",
           "spiky_constants", "spiky_table", "shifted_check", "glue_shifted", "ledger",
           "ledger_table", "glue_one_step", "glue_supermartingale", "glue_probability",
           "glue_lemma", "glue_corollary", "glue_spiky", "glue_ledger", "LIVE_LIMITS",
           "live_theorem1", "theorem1_measurements", "theorem1_figure", "theorem1_explorer"]


Z_LIMIT = 3.0
"""Standard errors a Monte Carlo estimate may lie on the wrong side of a bound before the
chapter calls the bound violated."""


def holds_phrase(count, total, noun):
    """``"at every one of the 241 points"`` / ``"at 239 of the 241 points"``: where a bound
    holds, in words chosen by the counts."""
    return "at " + count_phrase(count, total, noun)


# -- the landscape and its constants --------------------------------------------------------
def start_distance(landscape, x0, *, lr):
    """The largest :math:`\\|y_0 - x^*\\|^2` over the starts ``x0`` (rows), with
    :math:`y_0 = x_0 - \\eta\\nabla f(x_0)`, as :func:`sgdlab.theory.track_y` stores it.

    Parameters
    ----------
    landscape : sgdlab.Landscape or str
    x0 : array_like
        Starting points, shape (n, dim).
    lr : float
        Step size :math:`\\eta`.
    """
    return float(theory.track_y(landscape, x0, lr=lr, noise=0.0, steps=0).dist_sq[0].max())


def _ratio_range(t):
    return float(np.nanmin(t.assumption.ratios)), float(np.nanmax(t.assumption.ratios))


def constants_table(theorems):
    """Theorem 1's constants per dimension (``theorems``: dim -> :class:`sgdlab.theory.Theorem1`
    from :func:`sgdlab.theory.measure` with ``dist0_sq``), one column per dimension."""
    rows = [("$L$", lambda t: t.L), ("$c$ (smallest ratio)", lambda t: t.c),
            ("largest ratio", lambda t: _ratio_range(t)[1]),
            ("points with ratio $\\le 0$", lambda t: t.assumption.violations),
            ("$r = W\\sqrt d$", lambda t: t.r), ("largest allowed $\\eta$", lambda t: t.lr_max),
            ("$\\eta$ below it", lambda t: bool(t.step_size_ok)),
            ("$\\lambda$", lambda t: t.lam), ("$b$", lambda t: t.b),
            ("$20b/\\lambda$", lambda t: t.radius_sq),
            ("largest $\\Vert y_0 - x^*\\Vert^2$", lambda t: t.dist0_sq),
            ("$T_1$", lambda t: t.T1)]
    table = [{"quantity": name, **{f"$d = {d}$": get(t) for d, t in theorems.items()}}
             for name, get in rows]
    return markdown_table(table, digits=4)


def _glue_dims(prefix, per_dim, key, *, digits=3, unit=""):
    """``{prefix}-dims-{key}``: the ``key`` field of each dimension's numbers in words
    (:func:`sgdlab.book.tables.by_dimension`: one value when all dimensions agree)."""
    glue_text(f"{prefix}-dims-{key}", by_dimension(
        {d: numbers[key] for d, numbers in per_dim.items()},
        fmt=lambda v: number(v, digits), unit=unit))


def glue_constants(theorems, f_only, land1):
    """Glue the constants of each dimension (``d1-L`` ...), the exact L of the 1-D ripple
    (``L-exact``, ``L-relerr``), f's own one-point convexity (``f-c`` ...) and its spurious
    minima within 0.3 of x* (``f-spurious``, ``f-spurious-at``, from
    :func:`sgdlab.smoothing.minima_1d`), and returns those minima."""
    for d, t in theorems.items():
        glue_numbers(f"d{d}", {"c": t.c, "lam": t.lam, "b": t.b, "stat": t.stationary,
                               "radius": t.radius_sq, "T1": t.T1, "d0": t.dist0_sq, "r": t.r,
                               "lrmax": t.lr_max, "violations": t.assumption.violations})
        glue_number(f"d{d}-L", t.L, digits=4)
        glue_number(f"d{d}-cexact", t.c, digits=6)
    per_dim = {d: {"c": t.c, "violations": t.assumption.violations} for d, t in theorems.items()}
    _glue_dims("c", per_dim, "c", digits=6)
    _glue_dims("c", per_dim, "violations", unit="points")
    curvature, amplitude, k = land1.params   # f1'' = a + A k^2 cos(ks) / 2
    exact = float(curvature + amplitude * k**2 / 2)
    glue_number("L-exact", exact)
    glue_number("L-relerr", (exact - theorems[1].L) / exact, digits=2)
    glue_numbers("f", {"c": f_only.c, "violations": f_only.violations})
    glue_percent("f-violation-share", f_only.violations / f_only.n_points)
    spurious = minima_1d(land1, radius=0.0, span=0.3, n_points=2001).spurious
    glue_number("f-spurious", int(spurious.size))
    glue_number("f-spurious-at", float(np.abs(spurious).min()) if spurious.size else math.nan)
    holds = all(t.c > 0 and t.assumption.violations == 0 for t in theorems.values())
    n = len(theorems)
    where = ("the domain" if n == 1 else "both domains" if n == 2
             else f"all {number(n)} domains")
    glue_text("assume-verdict", _choose(holds, f"holds on {where}", "fails"))
    glue_text("f-verdict", _choose(f_only.c > 0, "is", "is not"))
    glue_text("lr-verdict", _choose(all(t.step_size_ok for t in theorems.values()), "below",
                                    "not below"))
    return spurious


# -- Step 1 ----------------------------------------------------------------------------------
def one_step_check(landscape, theorem, y, *, lr, noise, samples, seed, bound=None):
    """Step 1 measured at the rows of ``y``: :func:`sgdlab.theory.one_step` against
    ``bound(dist_sq)`` (default :meth:`sgdlab.theory.Theorem1.one_step_bound`).

    Parameters
    ----------
    landscape : sgdlab.Landscape or str
    theorem : sgdlab.theory.Theorem1
        Its constants give the default bound.
    y : array_like
        The points :math:`y_t`, shape (n, dim).
    lr, noise : float
        Step size and noise bound W.
    samples, seed : int
        Noise draws per point and the seed of :func:`sgdlab.theory.one_step`.
    bound : callable, optional
        The right side as a function of :math:`\\|y_t - x^*\\|^2`.

    Returns
    -------
    estimate : sgdlab.theory.OneStep
    numbers : dict
        ``z_min`` (the smallest (bound - estimate) / stderr), ``ratio_min``, ``ratio_max``
        (bound / estimate), ``holds`` (points with z > -:data:`Z_LIMIT`), ``points``.
    """
    est = theory.one_step(landscape, y, lr=lr, noise=noise, samples=samples, seed=seed)
    b = (theorem.one_step_bound if bound is None else bound)(est.dist_sq)
    z = (b - est.mean) / est.stderr
    return est, {"z_min": float(z.min()), "ratio_min": float((b / est.mean).min()),
                 "ratio_max": float((b / est.mean).max()), "holds": int((z > -Z_LIMIT).sum()),
                 "points": int(z.size)}


# -- Step 2 ----------------------------------------------------------------------------------
def supermartingale(landscape, theorem, *, trials, start, lr, noise, seed):
    """Step 2 on ``trials`` runs from the point ``start`` in every coordinate, tracked for
    :math:`T_1` steps: the mean increment of :math:`G_t`, the mean of
    :math:`\\|y_t-x^*\\|^2` against the iterated bound, and when it first reaches
    :math:`2b/\\lambda`.

    Parameters
    ----------
    landscape : sgdlab.Landscape or str
    theorem : sgdlab.theory.Theorem1
        L, c and r of the landscape (from :func:`sgdlab.theory.measure`).
    trials : int
        Number of runs, at least 2 (the standard errors need two).
    start : float
        Every coordinate of every start.
    lr, noise : float
    seed : int

    Returns
    -------
    dict
        Numbers ``d0``, ``T1``, ``inc_z_max``, ``G_up`` (steps where the mean of G rises),
        ``gap_z_max``, ``reach`` (-1: never), ``reach_ratio``; arrays ``G``, ``mean``,
        ``err``; ``theorem`` (Theorem 1 from this start).
    """
    land = landscapes.as_landscape(landscape, need_target=True)
    trials = validate.integer("trials", trials, low=2)
    x0 = np.full((trials, land.dim), float(start))
    d0 = start_distance(land, x0[:1], lr=lr)
    t1 = theory.theorem1(lr=lr, L=theorem.L, c=theorem.c, r=theorem.r, dist0_sq=d0)
    trace = theory.track_y(land, x0, lr=lr, noise=noise, steps=math.ceil(t1.T1), seed=seed)
    dist = trace.dist_sq.astype(np.float64)
    t = np.arange(dist.shape[0])
    G = t1.G(t[:, None], dist)
    increment = dist[1:] - (1 - t1.lam) * dist[:-1] - t1.b   # (1-λ)^(t+1) (G_{t+1} - G_t)
    inc_z = increment.mean(axis=1) / (increment.std(axis=1, ddof=1) / math.sqrt(trials))
    mean, err = dist.mean(axis=1), dist.std(axis=1, ddof=1) / math.sqrt(trials)
    gap_z = (mean[1:] - t1.expected_bound(t[1:])) / err[1:]
    below = mean <= 2 * t1.stationary
    reach = int(np.argmax(below)) if below.any() else -1
    return {"d0": d0, "T1": t1.T1, "inc_z_max": float(inc_z.max()),
            "G_up": int(np.count_nonzero(np.diff(G.mean(axis=1)) > 0)),
            "gap_z_max": float(gap_z.max()), "reach": reach, "reach_ratio": reach / t1.T1,
            "theorem": t1, "G": G, "mean": mean, "err": err}


# -- Steps 2 and 3 in probability ------------------------------------------------------------
def within_radius(trace, theorem):
    """The end of a :func:`sgdlab.theory.track_y` run against :math:`20b/\\lambda`: ``share``
    within it, ``lower95`` (its 95% lower confidence bound; the rule of three when every trial
    is within), ``mean_over_2b``, ``q90``, ``q90_ratio`` and ``max_ratio`` (over the radius)."""
    final = trace.dist_sq[-1].astype(np.float64)
    inside = final <= theorem.radius_sq
    n, share = inside.size, float(inside.mean())
    lower = (1 - 3 / n) if inside.all() else share - 1.96 * math.sqrt(share * (1 - share) / n)
    q90 = float(np.quantile(final, 0.9))
    return {"share": share, "lower95": float(lower),
            "mean_over_2b": float(final.mean() / (2 * theorem.stationary)), "q90": q90,
            "q90_ratio": q90 / theorem.radius_sq,
            "max_ratio": float(final.max() / theorem.radius_sq)}


def staying(landscape, theorem, trace, *, T2, lr, noise, seed, domain):
    """Step 3: continue the run ``trace`` (same seed, :math:`T_1` steps done) for ``T2``
    steps and compare the largest :math:`\\|y_t-x^*\\|^2` of each trial with
    :math:`\\delta^2` of Lemma 5 (smallest allowed :math:`\\mu`), and with the largest
    squared distance of the ``domain`` (points, rows) on which the theorem's assumptions
    were checked: where :math:`\\delta^2` exceeds it, the check cannot fail.

    Parameters
    ----------
    landscape : sgdlab.Landscape or str
    theorem : sgdlab.theory.Theorem1
    trace : sgdlab.theory.YTrace
        The first :math:`T_1` steps, from :func:`sgdlab.theory.track_y` with ``seed``.
    T2 : int
        Steps to continue.
    lr, noise : float
    seed : int
    domain : array_like

    Returns
    -------
    lemma : sgdlab.theory.Lemma5
    numbers : dict
        ``mu``, ``delta``, ``delta_sq``, ``domain_sq``, ``share_stay``, ``share_both`` (also within
        :math:`20b/\\lambda` at :math:`T_1`), quantiles ``q50``, ``q99`` and ``max`` of the
        largest distance in units of :math:`b/\\lambda`, ``mu_sq``, ``logT2``, ``share_log``.
    in_units : numpy.ndarray
        Per trial, the largest distance over the window in units of :math:`b/\\lambda`.
    """
    lemma = theory.lemma5(theorem, T2=T2)
    later = theory.track_y(landscape, trace.x, lr=lr, noise=noise, steps=T2, seed=seed,
                           first_step=trace.dist_sq.shape[0] - 1)
    window_max = later.dist_sq.max(axis=0).astype(np.float64)
    stay = window_max <= lemma.delta**2
    start_ok = trace.dist_sq[-1] <= theorem.radius_sq
    in_units = window_max / theorem.stationary
    land = landscapes.as_landscape(landscape, need_target=True)
    points = validate.points("domain", domain, land.dim)
    domain_sq = float(np.max(np.sum((points - land.x_star) ** 2, axis=1)))
    numbers = {"mu": lemma.mu, "delta": lemma.delta, "delta_sq": lemma.delta**2,
               "domain_sq": domain_sq,
               "share_stay": float(stay.mean()), "share_both": float((stay & start_ok).mean()),
               "q50": float(np.median(in_units)), "q99": float(np.quantile(in_units, 0.99)),
               "max": float(in_units.max()), "mu_sq": lemma.mu**2, "logT2": math.log(T2),
               "share_log": float(np.mean(in_units <= math.log(T2)))}
    return lemma, numbers, in_units


# -- Step 4 ----------------------------------------------------------------------------------
def _slack_at_min_mu(L_over_c, fraction, T2):
    lr_max = min(1 / (2 * L_over_c), 1 / L_over_c**2, 0.5)
    t = theory.theorem1(lr=fraction * lr_max, L=L_over_c, c=1.0, r=1.0)
    return theory.lemma5(t, T2=T2).slack


def lemma5_map(theorem, *, T2, T2_grid, mu_grid, fractions, L_over_c):
    """Lemma 5's slack (rhs / lhs) over ``T2_grid`` x ``mu_grid`` at ``theorem``'s constants,
    and at the smallest allowed :math:`\\mu` over step sizes (``fractions`` of the largest
    allowed) for each ratio :math:`L/c` of ``L_over_c`` (dict name -> ratio; ``T2`` = 1000).

    Returns
    -------
    dict
        Arrays ``slack_map`` (mu x T2), ``mu_min``, ``mu_needed`` (per T2, the smallest mu of
        ``mu_grid`` with slack >= 1, NaN where none is), ``slack_lr`` (name -> per fraction);
        numbers ``slack``, ``lhs``, ``rhs`` (at ``T2``), ``mu_needed_T2``,
        ``slack_min_allowed``, ``slack_max_allowed`` (over L/c in {1, 7, 1000}, T2 in
        {1, 1e3, 1e9} and fractions {0.001, 0.5, 0.999}), ``r_check`` (largest change of the
        slack when r changes) and ``holds_mu8`` (does the lemma hold at mu = 8).
    """
    lemma = theory.lemma5(theorem, T2=T2)
    slack = np.array([[theory.lemma5(theorem, T2=T, mu=mu).slack for T in T2_grid]
                      for mu in mu_grid])
    mu_needed = np.array([mu_grid[np.argmax(slack[:, j] >= 1)] if np.any(slack[:, j] >= 1)
                          else math.nan for j in range(len(T2_grid))])
    corners = [_slack_at_min_mu(L, f, T) for f in (0.001, 0.5, 0.999) for L in (1.0, 7.0, 1e3)
               for T in (1, 1e3, 1e9)]
    r_check = max(abs(theory.lemma5(theory.theorem1(lr=theorem.lr, L=theorem.L, c=theorem.c,
                                                    r=r), T2=T2).slack - lemma.slack)
                  for r in (0.01, 1.0, 100.0))
    return {"slack_map": slack, "mu_min": np.array([theory.lemma5(theorem, T2=T).mu_min
                                                     for T in T2_grid]),
            "mu_needed": mu_needed, "slack_lr": {name: np.array(
                [_slack_at_min_mu(ratio, f, 1000) for f in fractions])
                for name, ratio in L_over_c.items()},
            "slack": lemma.slack, "lhs": lemma.lhs, "rhs": lemma.rhs,
            "mu_needed_T2": float(mu_needed[np.argmin(abs(np.asarray(T2_grid) - T2))]),
            "slack_min_allowed": float(min(corners)), "slack_max_allowed": float(max(corners)),
            "r_check": float(r_check),
            "holds_mu8": bool(theory.lemma5(theorem, T2=T2, mu=8.0).holds)}


# -- Corollary 2 -----------------------------------------------------------------------------
def corollary_run(landscape, x0, *, lr, lr2, noise, span, dist0_sq, seed):
    """Corollary 2 end to end: c on [-span, span] for stage 1 (``lr``), c' on
    :math:`\\mathbb{D}' = \\{\\|x-x^*\\|^2 \\le 20b/\\lambda\\}` for stage 2 (``lr2``), both
    with ``noise``, and :func:`sgdlab.run_schedule` of the two stages from ``x0`` (1-D).

    Parameters
    ----------
    landscape : sgdlab.Landscape or str
    x0 : array_like
        Starts, shape (n, 1).
    lr, lr2, noise, span : float
    dist0_sq : float
        The largest :math:`\\|y_0 - x^*\\|^2` (stage 1's :math:`T_1`).
    seed : int

    Returns
    -------
    cor : sgdlab.theory.Corollary2
    numbers : dict
        ``c1``, ``c2``, ``c_diff``, ``lam1``, ``lam2``, ``rad1``, ``rad2``, ``T1``, ``T2``,
        ``T2_printed``, ``region`` (half-width of D'), ``share1``, ``share2`` (within each
        stage's radius at its end) and ``q90_2`` (90% quantile after stage 2 over its radius).
    """
    land = landscapes.as_landscape(landscape, need_target=True)
    first = theory.measure(land, theory.grid(-span, span, 10_001), lr=lr, noise=noise)
    region = math.sqrt(first.radius_sq)
    second = theory.measure(land, theory.grid(-region, region, 10_001), lr=lr2, noise=noise)
    cor = theory.corollary2(first, second, dist0_sq=dist0_sq)
    stages = [(lr, noise, math.ceil(cor.T1)), (lr2, noise, math.ceil(cor.T2))]
    schedule = run_schedule(land, x0, stages, seed=seed)
    after = [(s.y[:, 0] - land.x_star[0]) ** 2 for s in schedule.stages]
    return cor, {"c1": first.c, "c2": second.c, "c_diff": second.c - first.c,
                 "lam1": first.lam, "lam2": second.lam, "rad1": first.radius_sq,
                 "rad2": second.radius_sq, "T1": cor.T1, "T2": cor.T2,
                 "T2_printed": cor.T2_as_printed, "region": region,
                 "share1": float(np.mean(after[0] <= first.radius_sq)),
                 "share2": float(np.mean(after[1] <= second.radius_sq)),
                 "q90_2": float(np.quantile(after[1], 0.9) / second.radius_sq)}


def corollary_table(cor, numbers, *, noise):
    """Corollary 2's two stages side by side."""
    stages = [(cor.first, numbers["T1"], numbers["share1"]),
              (cor.second, numbers["T2"], numbers["share2"])]
    names = ("stage 1", "stage 2")
    rows = [("$\\eta$", lambda t, s, q: t.lr), ("$\\eta W$", lambda t, s, q: t.lr * noise),
            ("$L$", lambda t, s, q: t.L), ("$c$", lambda t, s, q: t.c),
            ("condition", lambda t, s, q: "holds" if t.step_size_ok else "fails"),
            ("$\\lambda$", lambda t, s, q: t.lam), ("$b$", lambda t, s, q: t.b),
            ("$20b/\\lambda$", lambda t, s, q: t.radius_sq), ("steps", lambda t, s, q: s),
            ("share within", lambda t, s, q: q)]
    return markdown_table([{"": name, **{n: get(*st) for n, st in zip(names, stages)}}
                           for name, get in rows], digits=4)


# -- how loose -------------------------------------------------------------------------------
def looseness(*, theorem, prob, sup, one, stay, lemma, cor, lr, noise, curvature_g):
    """The measured-over-bound ratios of the chapter (``rows``: name -> (d = 1, d = 10), nan
    where not measured) and the factors that make the radius loose in one dimension."""
    rows = {"90% quantile at $T_1$ / $20b/\\lambda$": (prob[1]["q90_ratio"],
                                                        prob[10]["q90_ratio"]),
            "mean at $T_1$ / $2b/\\lambda$": (prob[1]["mean_over_2b"],
                                             prob[10]["mean_over_2b"]),
            "steps to $2b/\\lambda$ / $T_1$": (sup[1]["reach_ratio"], sup[10]["reach_ratio"]),
            "one step, far: estimate / bound": (1 / one[1]["ratio_min"], 1 / one[10]["ratio_min"]),
            "one step, near: estimate / bound": (1 / one[1]["ratio_max"],
                                                 1 / one[10]["ratio_max"]),
            "staying: 99% quantile / $\\delta^2$": (stay["q99"] / stay["mu_sq"], math.nan),
            "Lemma 5: lhs / rhs": (1 / lemma["slack"], math.nan),
            "Corollary 2: 90% quantile / radius": (cor["q90_2"], math.nan)}
    mean_T1 = prob[1]["mean_over_2b"] * 2 * theorem.stationary
    rate_g = 2 * lr * curvature_g - (lr * curvature_g) ** 2
    factors = {"radius": 1 / prob[1]["q90_ratio"], "delta": stay["mu_sq"] / stay["q99"],
               "quantile": prob[1]["q90"] / mean_T1, "markov": 20 / (prob[1]["q90"] / mean_T1),
               "stationary": theorem.stationary / mean_T1,
               "noise": theorem.r**2 / theory.noise_second_moment(noise, 1),
               "rate": rate_g / theorem.lam, "smooth": (1 + lr * theorem.L) ** 2,
               "onestep": one[1]["ratio_min"] - 1, "rate_g": rate_g}
    factors["product"] = factors["noise"] * factors["rate"] * factors["smooth"]
    return rows, factors


def looseness_table(rows):
    """The rows of :func:`looseness` as a table (blank where not measured)."""
    return markdown_table([{"measured / bound": name, "$d = 1$": a,
                            "$d = 10$": "" if math.isnan(b) else b}
                           for name, (a, b) in rows.items()])


# -- the spiky function ----------------------------------------------------------------------
def spiky_constants(landscape, spans, x0, *, lr, noise, steps, seed):
    """Theorem 1's constants for ``landscape`` on [-s, s] for each s of ``spans`` (the first
    is the whole domain), and SGD from ``x0`` for ``steps`` steps.

    Parameters
    ----------
    landscape : sgdlab.Landscape or str
    spans : sequence of float
        Half-widths of the intervals, the whole domain first.
    x0 : array_like
        Starts, shape (n, 1).
    lr, noise : float
    steps, seed : int

    Returns
    -------
    nested : dict
        span -> :class:`sgdlab.theory.Theorem1`.
    numbers : dict
        On the first span (``span``, its half-width): ``L``, ``L_at``, ``c``,
        ``violations``, ``lam``, ``over_cL2``, ``over_2L`` (lr over those bounds), ``ok``
        (the condition holds); ``ok_spans`` (how many spans satisfy it), ``fits`` (spans
        where it holds and :math:`20b/\\lambda` is within the span's
        :math:`\\max\\|x\\|^2`); ``share``, ``share_05`` (trials within 1.5 and 0.5 of x*);
        ``steps``.
    """
    nested = {s: theory.measure(landscape, theory.grid(-s, s, 10_001), lr=lr, noise=noise)
              for s in spans}
    whole = nested[spans[0]]
    run = run_sgd(landscape, x0, lr=lr, noise=noise, steps=steps, seed=seed)
    ok = [s for s, t in nested.items() if t.step_size_ok]
    return nested, {"L": whole.L, "L_at": float(whole.smoothness.at[0]), "c": whole.c,
                    "violations": whole.assumption.violations, "lam": whole.lam,
                    "over_cL2": lr / whole.lr_bounds["c/L^2"],
                    "over_2L": lr / whole.lr_bounds["1/(2L)"], "ok": bool(whole.step_size_ok),
                    "ok_spans": len(ok), "spans": len(spans), "span": float(spans[0]),
                    "fits": sum(nested[s].radius_sq <= s * s for s in ok),
                    "share": run.share_within(1.5), "share_05": run.share_within(0.5),
                    "steps": int(steps)}


def spiky_table(nested, *, lr):
    """One row per interval: L, c, lr over c/L^2, lambda, the condition, the radius
    :math:`20b/\\lambda` and the interval's largest :math:`\\|x\\|^2`."""
    return markdown_table([{"interval": f"[-{s:g}, {s:g}]", "$L$": t.L, "$c$": t.c,
                            "$\\eta L^2/c$": lr / t.lr_bounds["c/L^2"] if t.c > 0 else math.nan,
                            "$\\lambda$": t.lam, "condition": "holds" if t.step_size_ok
                            else "fails", "$20b/\\lambda$": t.radius_sq if t.lam > 0 else "none",
                            "$\\max x^2$": s * s} for s, t in nested.items()])


# -- Step 1 when grad f(x*) != 0 ---------------------------------------------------------------
def shifted_check(landscape, theorem, y, *, lr, noise, samples, seed, n_points=2001):
    """Step 1 on a 1-D landscape whose smoothed g is stationary at x* while f is not.

    Parameters
    ----------
    landscape : sgdlab.Landscape or str
        One-dimensional, e.g. :func:`sgdlab.landscapes.shifted_ripple`.
    theorem : sgdlab.theory.Theorem1
        Its constants on the landscape's domain.
    y : array_like
        The points :math:`y_t`, shape (n, 1).
    lr, noise : float
    samples, seed : int
        As for :func:`one_step_check`.
    n_points : int
        Grid of the noise box around x*.

    Returns
    -------
    estimate : sgdlab.theory.OneStep
    numbers : dict
        ``grad_f`` (:math:`|f'(x^*)|`), ``grad_g`` (:math:`|g'(x^*)|`), ``pointwise_share``
        (share of z in the noise box around x* where :math:`|f'(z)| > L|z-x^*|`, the bound
        the proof uses), ``mean_ratio`` (:math:`E f'(z)^2 / L^2E(z-x^*)^2` there), the
        printed inequality's ``z_min``, ``ratio_min``, ``holds``, ``points`` (as
        :func:`one_step_check`), ``excess`` (the largest estimate over bound minus 1, 0 when
        below) and the bound with G's ``shifted_holds``.
    """
    land = landscapes.as_landscape(landscape, need_target=True)
    if land.dim != 1:
        validate.fail("landscape", "1-dimensional", shown=f"dim={land.dim}")
    radius = lr * noise
    grad_f = float(np.linalg.norm(theory.gradient_at_target(land)))
    grad_g = float(np.linalg.norm(theory.gradient_at_target(land, radius=radius)))
    offset = np.linspace(-radius, radius, n_points)
    slope = land.grad(land.x_star[0] + offset[:, None])[:, 0]
    est, numbers = one_step_check(land, theorem, y, lr=lr, noise=noise, samples=samples,
                                  seed=seed)
    _, shifted = one_step_check(land, theorem, y, lr=lr, noise=noise, samples=samples, seed=seed,
                                bound=lambda d: theory.one_step_bound_shifted(
                                    theorem, d, grad_star=grad_f))
    numbers.update(grad_f=grad_f, grad_g=grad_g,
                   pointwise_share=float(np.mean(np.abs(slope) > theorem.L * np.abs(offset))),
                   mean_ratio=float(np.mean(slope**2) / (theorem.L**2 * np.mean(offset**2))),
                   excess=max(0.0, 1 / numbers["ratio_min"] - 1),
                   shifted_holds=shifted["holds"], c=theorem.c,
                   violations=theorem.assumption.violations)
    return est, numbers


def glue_shifted(numbers):
    """Glue :func:`shifted_check`'s numbers (``shift-*``) and the sentence on the printed
    inequality (``shift-verdict``), chosen by the counts."""
    glue_numbers("shift", {k: v for k, v in numbers.items() if k != "excess"})
    glue_percent("shift-pointwise", numbers["pointwise_share"])
    where = holds_phrase(numbers["holds"], numbers["points"], "tested points")
    glue_text("shift-mean-verdict", _choose(numbers["mean_ratio"] <= 1, "holds", "fails"))
    if numbers["holds"] == numbers["points"]:
        text = (f"holds {where}: the smallest margin is {number(numbers['z_min'])} standard "
                "errors, as the second route predicts")
    else:
        text = (f"fails: it holds only {where}, and the estimate exceeds the bound by up to "
                f"{number(100 * numbers['excess'])}%, against the second route's prediction")
    glue_text("shift-verdict", text)


# -- the ledger ------------------------------------------------------------------------------
def _stay_verdict(stay):
    """Step 3's "stays within delta": "can't tell" where :math:`\\delta^2` exceeds every
    squared distance of the domain (no trial that stays on it could leave the ball)."""
    ok = stay["share_stay"] >= 5 / 9
    if stay["delta_sq"] >= stay["domain_sq"]:
        return judge(ok, cant_tell=f"{CANNOT_FAIL}: δ² = {number(stay['delta_sq'])} exceeds "
                                   f"every squared distance of the domain "
                                   f"({number(stay['domain_sq'])})")
    return judge(ok)


def _proof_rows(thm, f_only, one, sup, prob, stay, lemma):
    n = number
    c_min = min(t.c for t in thm.values())
    bad = sum(t.assumption.violations for t in thm.values())
    z_one = min(o["z_min"] for o in one.values())
    inc = max(s["inc_z_max"] for s in sup.values())
    ups = sum(s["G_up"] for s in sup.values())
    gap = max(s["gap_z_max"] for s in sup.values())
    mean2b = max(p["mean_over_2b"] for p in prob.values())
    share = min(p["share"] for p in prob.values())
    low95 = min(p["lower95"] for p in prob.values())
    return [
        row("Assumption 1 for the smoothed ripple", f"c = {n(c_min)}, {bad} violations",
            c_min > 0 and bad == 0),
        row("$f$ itself is not one-point convex", f"c of f = {n(f_only.c)}", f_only.c < 0),
        row("the step-size condition", f"largest allowed η {n(thm[1].lr_max)}",
            all(t.step_size_ok for t in thm.values())),
        row("Step 1 at every tested $y_t$", f"margin {n(z_one)} std. errors", z_one > -Z_LIMIT),
        row("Step 2: mean of $G_t$ never rises",
            f"rises at {n(ups)} steps, largest {n(inc)} std. errors", _g_never_rises(sup)),
        row("Step 2: below the iterated bound", f"largest excess {n(gap)} std. errors",
            gap < Z_LIMIT),
        row("Step 2: mean at $T_1$ below $2b/\\lambda$", f"{n(mean2b)} of it", mean2b <= 1),
        row("Theorem 1: share within $20b/\\lambda$ at least 1/2", n(share, 4), share >= 0.5),
        row("eq. (3): that share at least 0.9", f"95% lower bound {n(low95, 4)}", low95 >= 0.9),
        row("Step 3: stays within $\\delta$ (5/9)", n(stay["share_stay"], 4),
            _stay_verdict(stay)),
        row("Steps 2-3 jointly: within $20b/\\lambda$ at $T_1$ and stays, at least 1/2",
            n(stay["share_both"], 4), stay["share_both"] >= 0.5),
        row("Step 4: Lemma 5 at the smallest allowed $\\mu$",
            f"slack at least {n(lemma['slack_min_allowed'])}",
            lemma["slack"] >= 1 and lemma["slack_min_allowed"] >= 1)]


def ledger(*, thm, f_only, one, sup, prob, stay, lemma, cor, cor_numbers, spiky, shifted):
    """The chapter's claims, each with what was measured and its verdict (computed): rows of
    :func:`sgdlab.book.verdicts.row`, the paper's claims (``source="paper"``) first, then
    our own checks (``"ours"``).

    Arguments are the chapter's measurements: ``thm`` (dim -> Theorem1), ``f_only``
    (Assumption 1 for f itself), ``one``/``sup``/``prob`` (dim -> the dicts of
    :func:`one_step_check`, :func:`supermartingale`, :func:`within_radius`), ``stay``
    (:func:`staying`), ``lemma`` (:func:`lemma5_map`), ``cor`` and ``cor_numbers``
    (:func:`corollary_run`), ``spiky`` (:func:`spiky_constants`), ``shifted``
    (:func:`shifted_check`).
    """
    n = number
    span = f"{spiky['span']:g}"
    return _proof_rows(thm, f_only, one, sup, prob, stay, lemma) + [
        row("Corollary 2's hypothesis $c' > c$", f"c' - c = {n(cor_numbers['c_diff'], 2)}",
            cor_numbers["c_diff"] > 1e-9),
        row("Corollary 2: share at least 1/4, radius shrinks", n(cor_numbers["share2"], 4),
            cor_numbers["share2"] >= 0.25 and cor.shrinks),
        row("Corollary 2's printed $T_2$ is positive", n(cor.T2_as_printed),
            cor.T2_as_printed > 0, source="ours"),
        row("$20b/\\lambda$ within 10 times the 90% radius", f"ratio {n(prob[1]['q90_ratio'])}",
            prob[1]["q90_ratio"] >= 0.1, source="ours"),
        row(f"spiky $f$: the conditions on [-{span}, {span}]", f"λ = {n(spiky['lam'])}",
            spiky["ok"], source="ours"),
        row("spiky $f$: over 90% of SGD within 1.5", n(spiky["share"]), spiky["share"] > 0.9,
            source="ours"),
        row("$\\nabla f(x^*) \\ne 0$: Step 1 still holds",
            f"margin {n(shifted['z_min'])} std. errors", shifted["z_min"] > -Z_LIMIT,
            source="ours")]


def ledger_table(rows, source="paper"):
    """The rows of :func:`ledger` from ``source`` (``"paper"`` or ``"ours"``) as a table."""
    paper, ours = split(rows)
    return markdown({"paper": paper, "ours": ours}[source], align="llc")


# -- glue: the fields of each measurement and the words that depend on them ------------------
def _choose(ok, yes, no):
    return yes if ok else no


def glue_one_step(one, *, lr, curvature_g):
    """``step1-d{d}-*`` for each dimension of ``one``, ``rate-g`` (the contraction rate
    :math:`2\\eta a - \\eta^2 a^2` of g), ``step1-verdict`` and ``step1-since`` (the
    words that carry Step 1 into Step 2)."""
    for d, numbers in one.items():
        glue_numbers(f"step1-d{d}", numbers)
    _glue_dims("step1", one, "z_min")
    glue_number("rate-g", 2 * lr * curvature_g - (lr * curvature_g) ** 2)
    held, total = sum(o["holds"] for o in one.values()), sum(o["points"] for o in one.values())
    glue_text("step1-since", _choose(
        held == total, "Since step 1 holds at every tested point (above)",
        "Step 1 fails at some tested points (above), so the measurement does not support the "
        "next step there; where step 1 holds"))
    glue_text("step1-verdict", _choose(
        held == total, "Every estimate lies below the bound (within the noise)",
        f"The bound fails: the estimate lies above it by more than {number(Z_LIMIT)} standard "
        f"errors at {number(total - held)} of the {number(total)} points"))


def _g_never_rises(sup):
    """The one test of "the mean of G_t never rises": no step where it goes up and no
    increment above :data:`Z_LIMIT` standard errors."""
    return (sum(s["G_up"] for s in sup.values()) == 0
            and max(s["inc_z_max"] for s in sup.values()) < Z_LIMIT)


def _dims(d):
    return "one dimension" if d == 1 else f"{number(d)} dimensions"


def glue_supermartingale(sup):
    """``sup-d{d}-*``, ``sup-verdict`` (does the mean of G ever go up) and ``sup-rises``
    (at how many steps, per dimension, in words)."""
    for d, numbers in sup.items():
        glue_numbers(f"sup-d{d}", {k: v for k, v in numbers.items()
                                   if k not in ("theorem", "G", "mean", "err")})
    ups = sum(s["G_up"] for s in sup.values())
    worst = max(s["inc_z_max"] for s in sup.values())
    for key in ("inc_z_max", "gap_z_max"):
        _glue_dims("sup", sup, key, unit="standard errors")
    glue_text("sup-rises", "it rises at no step in any dimension" if ups == 0 else
              "it rises at " + joined(f"{number(s['G_up'])} of the steps in {_dims(d)}"
                                      for d, s in sup.items()))
    glue_text("sup-verdict", _choose(
        _g_never_rises(sup), "never goes up",
        f"goes up at {number(ups)} steps (largest rise {number(worst)} standard errors)"))


def glue_probability(prob, stay):
    """``prob-d{d}-*``, ``stay-*`` and the verdicts ``prob-verdict`` (against 1/2 and the
    proof's 0.9) and ``stay-verdict`` (against 5/9), and ``stay-reach`` (whether
    :math:`\\delta^2` exceeds the domain, where the check cannot fail)."""
    for d, numbers in prob.items():
        glue_numbers(f"prob-d{d}", numbers, digits=4)
    for key in ("share", "lower95", "mean_over_2b", "q90_ratio"):
        _glue_dims("prob", prob, key, digits=4)
    glue_numbers("stay", stay, digits=4)
    low = min(p["lower95"] for p in prob.values())
    share = min(p["share"] for p in prob.values())
    glue_text("prob-verdict", "above both the theorem's 1/2 and the proof's 0.9" if low >= 0.9
              else _choose(share >= 0.5, "above the theorem's 1/2 but not clearly above the "
                           "proof's 0.9", "below the theorem's 1/2"))
    glue_text("stay-reach", _choose(
        stay["delta_sq"] >= stay["domain_sq"],
        f"above every squared distance of the domain ({number(stay['domain_sq'])}), so at "
        "these settings this check cannot fail for a trial that stays on the domain",
        f"below the largest squared distance of the domain ({number(stay['domain_sq'])})"))
    glue_text("stay-verdict", _choose(
        stay["share_stay"] == 1, "Every trial stays",
        f"{percent(stay['share_stay'])} of the trials stay"))


def glue_lemma(lemma):
    """``lemma-*`` (numbers), ``lemma-needed`` (from which mu of the grid the lemma holds,
    or that none does) and ``lemma-mu8`` (holds / fails at mu = 8)."""
    glue_numbers("lemma", {k: v for k, v in lemma.items()
                           if k not in ("slack_map", "mu_min", "mu_needed", "slack_lr",
                                        "holds_mu8", "mu_needed_T2")})
    needed = lemma["mu_needed_T2"]
    glue_text("lemma-needed", _choose(
        math.isfinite(needed), f"the lemma already holds from μ ≈ {number(needed)} (on the "
        "grid)", "no μ of the grid makes the lemma hold"))
    glue_text("lemma-mu8", _choose(lemma["holds_mu8"], "holds", "fails"))


def glue_corollary(cor, numbers):
    """``cor-*`` and the verdicts ``cor-hyp`` (does c' > c hold) and ``cor-printed`` (the sign
    of the printed T2)."""
    glue_numbers("cor", {k: v for k, v in numbers.items() if k != "c_diff"}, digits=4)
    glue_number("cor-c_diff", numbers["c_diff"], digits=2)
    glue_text("cor-hyp", _choose(numbers["c_diff"] > 1e-9, "holds", "does not hold strictly"))
    glue_text("cor-printed", _choose(cor.T2_as_printed > 0, "positive", "negative"))


def glue_spiky(numbers, landscape, *, lr, noise):
    """``spiky-*``, the spiky f's parameters (``spiky-beta``, ``spiky-period``,
    ``spiky-growth``, ``spiky-width`` in words), its setting (``spiky-lr``, ``spiky-noise``,
    ``spiky-radius``, ``spiky-steps``), the shares as percentages, and the verdicts ``spiky-assume``,
    ``spiky-cond`` and ``spiky-fits``."""
    shares = ("share", "share_05")
    glue_numbers("spiky", {k: v for k, v in numbers.items()
                           if k not in ("ok", "fits") + shares})
    glue_numbers("spiky", {k: percent(numbers[k]) for k in shares})
    params = landscape.params  # spiky: beta, 1 / p, growth (|x|^growth), wide (sqrt width)
    glue_numbers("spiky", {"beta": float(params[0]), "period": float(1 / params[1]),
                           "growth": int(params[2]), "lr": lr, "noise": noise,
                           "radius": lr * noise,
                           "width": "widen like the square root of |x|" if params[3]
                           else "are all p wide"})
    glue_text("spiky-assume", _choose(numbers["c"] > 0 and numbers["violations"] == 0,
                                      "does", "does not"))
    glue_text("spiky-cond", _choose(numbers["ok"], "holds", "fails"))
    fits = numbers["fits"]
    glue_text("spiky-lesson", _spiky_lesson(numbers))
    glue_text("spiky-fits", _choose(
        fits == 0, "on none of these intervals do the theorem's hypotheses and its conclusion "
        "fit together", f"on {count_phrase(fits, numbers['spans'], 'intervals')} the "
        "hypotheses hold and the radius fits inside the interval"))


def _spiky_lesson(numbers):
    works = numbers["share"] > 0.9
    convex = numbers["c"] > 0 and numbers["violations"] == 0
    if works and not numbers["ok"] and convex:
        how = _choose(numbers["over_cL2"] >= 10, "far from necessary", "stricter than needed")
        return ("So the theorem explains why the noise helps (the smoothed function is "
                "one-point convex), but its step-size condition, which charges for the worst "
                f"curvature of f rather than of g, is {how} for this f (η is "
                f"{number(numbers['over_cL2'])} times c/L²)")
    if works and not numbers["ok"]:
        return ("Here SGD ends near x* although the smoothed function is not one-point convex "
                "on the domain, so the theorem does not explain this run")
    if works:
        return "Here the theorem's conditions hold and SGD ends near x*, as it predicts"
    return ("Here SGD does not bring more than 90% of the trials within 1.5 of x*, so this f "
            "does not show the theorem's conditions to be too strict")


def glue_ledger(rows):
    """``ledger-paper`` and ``ledger-ours``: the tally of each table's verdicts, in words
    (:func:`sgdlab.book.verdicts.tally_phrase`), and ``ledger-not-yes``: the claims of the
    paper whose verdict is not "yes", in a sentence."""
    paper, ours = split(rows)
    glue_text("ledger-paper", tally_phrase(paper))
    glue_text("ledger-ours", tally_phrase(ours))
    others = [f"{plain(r['claim'])} ({r['verdict'].value})" for r in paper
              if r["verdict"].value != "yes"]
    glue_text("ledger-not-yes", "Every claim of the paper checked here says yes." if not others
              else f"The claims of the paper that do not say yes: {joined(others, last='and')}.")


# -- the live explorer of the web page (book/_static/live/theorem1.js) -----------------------
LIVE_LIMITS = {"lr": (1e-9, 10.0), "noise": (0.0, 1e4), "trials": 100_000, "max_steps": 100_000}
"""The limits of the live Theorem 1 explorer, which :func:`live_theorem1` passes to the page in
its config. Its controls accept step sizes and noise bounds W in the ranges ``lr`` and
``noise``; ``trials`` and ``max_steps`` bound the work (the page stays responsive up to them,
because the work is done in chunks)."""


def _domain_config(pts):
    """The domain for the page: a grid as its ends and size when it is one (the page rebuilds
    it as numpy.linspace does), its points otherwise."""
    s = pts[:, 0]
    if s.size >= 2 and np.array_equal(s, np.linspace(s[0], s[-1], s.size)):
        return {"low": float(s[0]), "high": float(s[-1]), "n_points": int(s.size)}
    return {"points": s.tolist()}


def live_theorem1(landscape, domain, *, lr, noise, trials=1000, max_steps=2000, quantile=0.9,
                  seed=0, lr_range=None, noise_max=None):
    """Theorem 1 live in the web page: sliders for the step size :math:`\\eta` and the noise
    bound W that recompute, in the reader's browser, what
    :func:`sgdlab.book.main_theorem.theorem1_measurements` computes (chapter
    :ref:`main-theorem`).

    At each setting the page's JavaScript (``book/_static/live/theorem1.js``) measures L (the
    largest :math:`|f''|` on the domain widened by the steps and the noise), c of Assumption 1,

    .. math:: \\langle -\\nabla g(y), x^* - y\\rangle \\ge c\\,\\|x^* - y\\|_2^2, \\qquad
              y = x - \\eta\\nabla f(x),

    from the exact smoothed gradient (as :func:`sgdlab.theory.one_point_convexity` with
    ``samples=None``), Theorem 1's :math:`\\lambda = 2\\eta c - \\eta^2L^2`,
    :math:`b = \\eta^2r^2(1+\\eta L)^2`, :math:`20b/\\lambda`,
    :math:`T_1 = \\log(\\lambda\\max\\|y_0-x^*\\|^2/b)/\\lambda` and the step-size condition
    :math:`\\eta < \\min\\{1/2L, c/L^2, 1/2c\\}` (:func:`sgdlab.theory.theorem1`); then it runs
    ``trials`` SGD trials for :math:`T_1` steps (at most ``max_steps``) with sgdlab's noise
    stream, from the starting points ``theorem1_measurements`` draws (rows of the domain,
    :func:`sgdlab.random_rows` of ``seed``, which the page draws itself from sgdlab's stream),
    and draws the distribution of :math:`\\|y_T-x^*\\|^2` against
    :math:`2b/\\lambda` and :math:`20b/\\lambda`. In Jupyter, and with JavaScript off, the
    static :func:`sgdlab.book.main_theorem.theorem1_figure` at ``lr`` and ``noise`` stands in.

    Parameters
    ----------
    landscape : sgdlab.Landscape or str
        The one-dimensional built-in ripple (:func:`sgdlab.landscapes.ripple`): the only
        landscape whose formulas the page's JavaScript has.
    domain : array_like
        Points of Assumption 1's domain, shape (n, 1) or (n,).
    lr, noise : float
        The sliders' first step size (> 0) and noise bound W (>= 0).
    trials, max_steps : int
        SGD trials (fixed) and the cap on :math:`T_1`, at most :data:`LIVE_LIMITS`.
    quantile : float
        The quantile of :math:`\\|y_T-x^*\\|^2` reported, in (0, 1).
    seed : int
        The seed of the starting points and of SGD's noise.
    lr_range : (float, float), optional
        The step-size slider's ends (default :math:`\\eta\\,10^{-1.5}` to
        :math:`\\eta\\,10^{0.7}`, as :func:`sgdlab.book.main_theorem.theorem1_explorer`).
    noise_max : float, optional
        The noise slider's end (default :math:`\\max(4W, 1)`). The step size, the noise and
        the sliders' ends lie within :data:`LIVE_LIMITS`.

    Returns
    -------
    sgdlab.book.live.LiveExplorer
    """
    land = landscapes.as_landscape(landscape, need_target=True)
    if land.builtin != "ripple" or land.dim != 1:
        validate.fail("landscape", "the 1-dimensional built-in ripple "
                      "(sgdlab.landscapes.ripple()): the page computes only its formulas",
                      shown=f"{land.name!r} (dim={land.dim})")
    pts = validate.points("domain", domain, 1)
    limits = LIVE_LIMITS
    settings = {"lr": validate.real("lr", lr, above=0),
                "noise": validate.real("noise", noise, low=limits["noise"][0],
                                       high=limits["noise"][1]),
                "trials": validate.integer("trials", trials, low=1, high=limits["trials"]),
                "max_steps": validate.integer("max_steps", max_steps, low=1,
                                              high=limits["max_steps"]),
                "quantile": validate.real("quantile", quantile, above=0, below=1),
                "seed": page_seed("seed", seed)}
    ranges = _live_ranges(settings, lr_range, noise_max)
    a, amplitude, k = (float(v) for v in land.params)
    config = {"landscape": {"name": "ripple", "a": a, "amplitude": amplitude, "k": k,
                            "x_star": float(land.x_star[0])},
              "domain": _domain_config(pts), "settings": settings, "ranges": ranges,
              "limits": dict(limits)}
    fig, info = theorem1_figure(land, pts, lr=settings["lr"], noise=settings["noise"],
                                trials=trials, max_steps=max_steps, quantile=quantile,
                                seed=settings["seed"])
    verdict = "holds" if info["step_size_ok"] else "fails"
    alt = (f"Theorem 1 at step size {settings['lr']:g} and noise bound W = "
           f"{settings['noise']:g}: c = {info['c']:.3g}, the step-size condition {verdict}; "
           f"the distribution of |y_T - x*|^2 over {trials} SGD trials after {info['steps']} "
           "steps against 2b/lambda and 20b/lambda.")
    return LiveExplorer("theorem1", config, figure_to_png(fig, tight=False), alt=alt)


def _live_ranges(settings, lr_range, noise_max):
    """The sliders' ends: [lr_low, lr_high] (log scale) and [0, noise_max], within
    :data:`LIVE_LIMITS`."""
    lr, noise = settings["lr"], settings["noise"]
    (lr_min, lr_max), top = LIVE_LIMITS["lr"], LIVE_LIMITS["noise"][1]
    if lr_range is None:
        lr_range = (lr * 10**-1.5, min(lr * 10**0.7, lr_max))
    try:
        low, high = (float(v) for v in lr_range)
    except (TypeError, ValueError):
        validate.fail("lr_range", "(low, high) with 0 < low <= lr <= high", lr_range,
                      TypeError)
    if not (lr_min <= low <= lr <= high <= lr_max):
        validate.fail("lr_range", f"(low, high) with {lr_min:g} <= low <= lr <= high <= "
                      f"{lr_max:g} (the page's limits)", lr_range)
    noise_max = (min(max(4.0 * noise, 1.0), top) if noise_max is None
                 else validate.real("noise_max", noise_max, above=0, high=top))
    if noise_max < noise:
        validate.fail("noise_max", f"at least noise = {noise:g}", noise_max)
    return {"lr": [low, high], "noise": [0.0, noise_max]}


# -- Theorem 1: the constants against a measured SGD run (chapter main-theorem) --------------
def _theorem1_starts(theorem, land, x0, trials, *, lr, noise, seed):
    """The starting points (by default rows of the domain, :func:`sgdlab.random_rows` of
    ``seed``), checked by :func:`sgdlab.run_sgd` (a run of 0 steps), and the largest
    :math:`\\|y_0-x^*\\|^2`."""
    if x0 is None:
        points = theorem.assumption.x
        x0 = points[random_rows(trials, n_points=points.shape[0], seed=seed)]
    x = run_sgd(land, x0, lr=lr, noise=noise, steps=0, seed=seed).x
    return x, float(theory.y_distance_sq(land, x, lr=lr).max())


def _quantile(dist_sq, quantile):
    """The quantile of distances that may be inf (diverged trials): inf, not nan, when it
    falls between two of those."""
    with np.errstate(invalid="ignore"):
        value = float(np.quantile(dist_sq, quantile))
    return math.inf if math.isnan(value) else value


def theorem1_measurements(landscape, domain, *, lr, noise, trials=1000, x0=None, steps=None,
                          max_steps=2000, quantile=0.9, seed=0):
    """Theorem 1's constants measured on ``domain`` for one (lr, noise), next to SGD itself.

    L, c and the rest come from :func:`sgdlab.theory.measure` (exact smoothing for separable
    landscapes). Then ``trials`` SGD runs start from ``x0`` (default: rows of ``domain`` drawn
    at random, :func:`sgdlab.random_rows` of ``seed``) and run ``steps`` steps; by default
    Theorem 1's :math:`T_1 = \\log(\\lambda\\max\\|y_0-x^*\\|^2/b)/\\lambda`, rounded up,
    or ``max_steps`` when :math:`T_1` is undefined (:math:`\\lambda \\le 0`) or larger. The
    distances :math:`\\|y_t-x^*\\|^2` come from :func:`sgdlab.theory.y_distance_sq`. Chapter
    :ref:`main-theorem`.

    Returns
    -------
    theorem : sgdlab.theory.Theorem1
    dist_sq : numpy.ndarray
        The final :math:`\\|y_T-x^*\\|^2` per trial (inf when diverged).
    info : dict
        Plain Python numbers: ``L``, ``c``, ``violations``, ``r``, ``lam``, ``b``,
        ``radius_sq`` (:math:`20b/\\lambda`, inf when :math:`\\lambda \\le 0`), ``T1`` (nan
        when undefined), ``dist0_sq`` (the largest :math:`\\|y_0-x^*\\|^2`), ``steps``,
        ``step_size_ok``, ``failing`` (the step-size bounds that fail, comma-separated),
        ``quantile``, ``measured`` (that quantile of :math:`\\|y_T-x^*\\|^2`, inf when it
        falls among diverged trials),
        ``share_within`` (share of trials with :math:`\\|y_T-x^*\\|^2 \\le 20b/\\lambda`) and
        ``diverged``.
    """
    theorem = theory.measure(landscape, domain, lr=lr, noise=noise)
    land = landscapes.as_landscape(landscape)
    trials = validate.integer("trials", trials, low=1)
    max_steps = validate.integer("max_steps", max_steps, low=0)
    quantile = validate.real("quantile", quantile, above=0, below=1)
    x, dist0_sq = _theorem1_starts(theorem, land, x0, trials, lr=lr, noise=noise, seed=seed)
    T1 = theory.theorem1(lr=lr, L=theorem.L, c=theorem.c, r=theorem.r, dist0_sq=dist0_sq).T1
    if steps is None:
        steps = max_steps if not math.isfinite(T1) else min(max(math.ceil(T1), 1), max_steps)
    run = run_sgd(land, x, lr=lr, noise=noise, steps=steps, seed=seed)
    dist_sq = np.where(run.diverged, np.inf, theory.y_distance_sq(land, run.x, lr=lr))
    radius_sq = theorem.radius_sq if theorem.lam > 0 else math.inf
    info = {"L": float(theorem.L), "c": float(theorem.c),
            "violations": int(theorem.assumption.violations), "r": float(theorem.r),
            "lam": float(theorem.lam), "b": float(theorem.b), "radius_sq": float(radius_sq),
            "T1": float(T1), "dist0_sq": dist0_sq, "steps": int(run.steps),
            "step_size_ok": bool(theorem.step_size_ok),
            "failing": ", ".join(theorem.failing) if theorem.c > 0 else "c <= 0",
            "quantile": quantile, "measured": _quantile(dist_sq, quantile),
            "share_within": (float(np.mean(dist_sq <= radius_sq)) if math.isfinite(radius_sq)
                             else math.nan),
            "diverged": int(run.diverged.sum())}
    return theorem, dist_sq, info


# -- Theorem 1 against SGD (chapter main-theorem) --------------------------------------------
def _plot_assumption(ax, land, check, info, *, lr, noise):
    """Left panel of :func:`theorem1_figure`: the Assumption 1 ratio over the domain, and c."""
    ratios = check.ratios
    keep = np.isfinite(ratios)
    if check.y.shape[1] == 1:
        order = np.argsort(check.y[keep, 0])
        ax.plot(check.y[keep, 0][order], ratios[keep][order], color=PALETTE["function"], lw=1.0)
        ax.set_xlabel("y = x - lr * grad f(x)")
    else:
        dist = np.linalg.norm(check.y - np.asarray(land.x_star), axis=1)
        ax.plot(dist[keep], ratios[keep], ".", color=PALETTE["function"], ms=1.5, alpha=0.4,
                rasterized=True)
        ax.set_xlabel("|y - x*|")
    ax.axhline(0.0, color=PALETTE["reference"], lw=0.8)
    ax.axhline(info["c"], color=PALETTE["alert"], ls="--", lw=1.0, label=f"c = {info['c']:.3g}")
    if keep.any():
        top = float(np.quantile(ratios[keep], 0.99))
        low = min(info["c"], 0.0)
        ax.set_ylim(low - 0.1 * (top - low + 1e-12), top + 0.1 * (top - low + 1e-12))
    ax.set_ylabel("<-grad g(y), x* - y> / |x* - y|^2")
    verdict = "holds" if info["step_size_ok"] else f"fails ({info['failing']})"
    ax.set_title(f"lr={lr:.3g}, W={noise:.3g} (radius {lr * noise:.3g}): L={info['L']:.3g}, "
                 f"lambda={info['lam']:.3g}\nstep-size condition {verdict}", y=1.0)
    ax.legend(loc="lower right", fontsize=8)


def _plot_radius(ax, dist_sq, info):
    """Right panel of :func:`theorem1_figure`: the distribution of :math:`\\|y_T-x^*\\|^2`
    against :math:`2b/\\lambda` and :math:`20b/\\lambda`."""
    finite = np.sort(dist_sq[np.isfinite(dist_sq)])
    if finite.size:
        floor = max(finite[0], 1e-12 * max(finite[-1], 1e-300), 1e-300)
        ax.step(np.maximum(finite, floor), np.arange(1, finite.size + 1) / dist_sq.size,
                where="post", color=PALETTE["function"], label="SGD, measured")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=6))
        plain_log_ticks(ax.xaxis)
    ax.axvline(info["measured"], color=PALETTE["alert"], lw=1.2,
               label=f"{info['quantile']:.0%} quantile {info['measured']:.3g}")
    bounded = np.isfinite(info["radius_sq"])
    if bounded:
        ax.axvline(0.1 * info["radius_sq"], color=PALETTE["muted"], ls=":", lw=1.0,
                   label=f"2b/lambda = {0.1 * info['radius_sq']:.3g}")
        ax.axvline(info["radius_sq"], color=PALETTE["reference"], ls="--", lw=1.0,
                   label=f"20b/lambda = {info['radius_sq']:.3g}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("|y_T - x*|^2")
    ax.set_ylabel("share of trials")
    ax.set_title(f"{dist_sq.size} trials, T={info['steps']} steps: "
                 + (f"{info['share_within']:.1%} within 20b/lambda" if bounded
                    else "no bound (lambda <= 0)")
                 + (f" ({info['diverged']} diverged)" if info["diverged"] else ""), y=1.0)
    ax.legend(loc="upper left", fontsize=7)


def theorem1_figure(landscape, domain, *, lr, noise, trials=1000, x0=None, steps=None,
                    max_steps=2000, quantile=0.9, seed=0):
    """Draw :func:`sgdlab.book.main_theorem.theorem1_measurements` (same arguments): left,
    the Assumption 1 ratio :math:`\\langle -\\nabla g(y), x^*-y\\rangle / \\|x^*-y\\|^2` over
    the domain with c; right, the distribution of :math:`\\|y_T - x^*\\|^2` over the trials
    against :math:`2b/\\lambda` and Theorem 1's :math:`20b/\\lambda`. Chapter
    :ref:`main-theorem`.

    Returns
    -------
    fig : matplotlib.figure.Figure
    info : dict
        The numbers of :func:`sgdlab.book.main_theorem.theorem1_measurements`.
    """
    land = landscapes.as_landscape(landscape)
    theorem, dist_sq, info = theorem1_measurements(
        land, domain, lr=lr, noise=noise, trials=trials, x0=x0, steps=steps,
        max_steps=max_steps, quantile=quantile, seed=seed)
    use_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    fig.subplots_adjust(left=0.085, right=0.98, bottom=0.15, top=0.84, wspace=0.25)
    # plain-text labels and titles at a given y: mathtext parsing and matplotlib's automatic
    # title placement would each cost a tenth of a second per redraw
    _plot_assumption(left, land, theorem.assumption, info, lr=lr, noise=noise)
    _plot_radius(right, dist_sq, info)
    return fig, info


def theorem1_explorer(landscape, domain, *, lr, noise, trials=1000, x0=None, max_steps=2000,
                      quantile=0.9, noise_max=None, seed=0):
    """Sliders for the step size and the noise bound W (so r) that redraw
    :func:`sgdlab.book.main_theorem.theorem1_figure` live: c, lambda, b, the bound
    :math:`20b/\\lambda` and SGD's measured radius after :math:`T_1` steps. Arguments as for
    :func:`sgdlab.book.main_theorem.theorem1_measurements`; ``noise_max`` (the noise slider's
    end) defaults to 4 W (at least 1). Chapter :ref:`main-theorem`.

    Returns
    -------
    ipywidgets.interactive
        Its ``result`` is the latest ``info`` dict.
    """
    import ipywidgets as widgets
    from IPython.display import Image, display

    lr = validate.real("lr", lr, above=0)
    noise = validate.real("noise", noise, low=0)
    noise_max = (max(4.0 * noise, 1.0) if noise_max is None
                 else validate.real("noise_max", noise_max, low=0))
    noise_max = max(noise_max, noise)

    def update(lr, noise):
        fig, info = theorem1_figure(landscape, domain, lr=lr, noise=noise, trials=trials, x0=x0,
                                    max_steps=max_steps, quantile=quantile, seed=seed)
        # one draw, no tight bounding box: fast enough to drag a slider
        display(Image(data=figure_to_png(fig, tight=False, dpi=80), format="png"))
        return info

    centre = float(np.log10(lr))
    return widgets.interactive(
        update,
        lr=widgets.FloatLogSlider(value=lr, base=10, min=centre - 1.5, max=centre + 0.7,
                                  step=0.01, description="lr", continuous_update=False,
                                  readout_format=".3g"),
        noise=widgets.FloatSlider(value=noise, min=0.0, max=float(noise_max),
                                  step=float(noise_max) / 200, description="noise W",
                                  continuous_update=False, readout_format=".3g"),
    )
