"""Chapter :ref:`step-size` (``book/step_size.md``): Theorem 3, Figure 4, Section 3's
heuristic and Section 5.4's schedules.

Each experiment is one call that returns a dataclass, its Markdown table, and a ``summary``
dict of the values and outcome words the prose glues (through
:func:`sgdlab.book.tables.glue_numbers`). :func:`plot_step_picture` and
:func:`step_size_figure` draw Figure 4; :func:`live_figure4` is the page's live explorer
(``book/_static/live/figure4.js``) and :func:`step_size_explorer` the notebook's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np

from .. import _validate as validate
from .. import landscapes, theory
from ..sgd import random_starts, run_schedule, run_sgd
from ..smoothing import in_spurious_basin, minima_1d
from .live import LiveExplorer
from .style import PALETTE, figure_to_png, plain_log_ticks, use_style
from .tables import Text, count_phrase, glue_text, markdown_table, number, percent
from .verdicts import CANNOT_FAIL, judge, markdown, row, split, tally_phrase

__all__ = ["point_at_distance", "OnePointShape", "one_point_shape", "StepPicture", "figure4_steps",
           "live_figure4", "Theorem3Check", "theorem3_check", "theorem3_table",
           "orthogonal_shares", "orthogonal_table", "OneStepMeans", "one_step_means",
           "FartherProbability", "farther_probabilities", "ManySteps",
           "many_steps", "StepWindow", "step_window", "ScheduleRuns",
           "assumption_words", "SCHEDULE_NAMES", "schedule_runs", "schedule_table", "ledger",
           "ledger_table", "glue_ledger", "step_point",
           "step_size_measurements", "one_step_ratios", "plot_step_picture", "step_size_figure",
           "step_size_explorer"]


_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def point_at_distance(dim, distance, *, seed):
    """A point at ``distance`` from 0 in a uniformly random direction drawn from ``seed``
    (:func:`sgdlab.theory.ball`'s stream).

    Returns
    -------
    numpy.ndarray
        Shape (dim,).
    """
    dim = validate.integer("dim", dim, low=1)
    distance = validate.real("distance", distance, above=0)
    x = theory.ball(1.0, 1, dim, seed=seed)[0]
    return x * (distance / np.linalg.norm(x))


# -- the test function ------------------------------------------------------------------------
@dataclass
class OnePointShape:
    """One-point convexity (Theorem 3's c' and the smallest ratio) and midpoint convexity."""

    c_prime: float
    lowest: float
    """Smallest ratio :math:`\\langle\\nabla f(x), x - x^*\\rangle/\\|x - x^*\\|^2` on D."""
    n_points: int
    not_positive: int
    """How many points of D have a ratio <= 0 (none when f is one-point convex on D)."""
    pairs: int
    non_convex_pairs: int
    """Random pairs (a, b) with :math:`f((a+b)/2) > (f(a)+f(b))/2` (beyond rounding)."""

    def summary(self):
        """Values and outcome words for the prose."""
        one_point = ("every ratio is positive" if self.not_positive == 0 else
                     f"{count_phrase(self.not_positive, self.n_points, 'ratios')} are not "
                     "positive")
        return {"c-prime": self.c_prime, "lowest": self.lowest, "points": self.n_points,
                "pairs": self.pairs, "non-convex": self.non_convex_pairs,
                "one-point": Text(one_point),
                "one-point-verdict": Text("is" if self.not_positive == 0 else "is not")}


def one_point_shape(landscape, domain, *, low, high, pairs=20_000, seed=2):
    """Theorem 3's constant on ``domain`` (:func:`sgdlab.theory.one_point_upper`), the
    smallest ratio there, and a midpoint-convexity test on ``pairs`` random pairs of points
    uniform in the box :math:`[low, high]^d` (stages 0 and 1 of
    :func:`sgdlab.random_starts` of ``seed``): a convex f has

    .. math:: f\\left(\\tfrac{a+b}{2}\\right) \\le \\tfrac12(f(a) + f(b)).

    Returns
    -------
    OnePointShape
    """
    land = landscapes.as_landscape(landscape, need_target=True)
    pairs = validate.integer("pairs", pairs, low=1)
    high = validate.real("high", high, above=validate.real("low", low))
    upper = theory.one_point_upper(land, domain)
    ratios = upper.ratios[np.isfinite(upper.ratios)]
    a, b = (low + (high - low) * (random_starts(pairs, span=1.0, dim=land.dim, seed=seed,
                                                stage=k) + 1.0) / 2.0 for k in (0, 1))
    excess = land.f((a + b) / 2) - (land.f(a) + land.f(b)) / 2
    return OnePointShape(c_prime=upper.c_prime, lowest=float(ratios.min()),
                         n_points=upper.n_points, not_positive=int(np.sum(ratios <= 0)),
                         pairs=pairs, non_convex_pairs=int(np.count_nonzero(excess > 1e-12)))


# -- Figure 4 ---------------------------------------------------------------------------------
@dataclass
class StepPicture:
    """Figure 4 at x_t: the exact threshold, Theorem 3's, and three GD steps."""

    x_t: np.ndarray
    eta0: float
    eta3: float
    lrs: dict
    """``small`` (half of eta0), ``between`` (geometric mean of eta0 and eta3), ``large``
    (1.2 eta3)."""
    ratios: dict
    """Distance to x* after each step over before."""
    angle: float
    """Degrees between :math:`-\\nabla f(x_t)` and the direction of x*."""

    def summary(self):
        """Values and outcome words for the prose."""
        closer = [name for name, ratio in self.ratios.items() if ratio < 1]
        names = list(self.ratios)
        if not closer:
            words = "none of them gets closer"
        elif closer == names[:1]:
            words = "only the first gets closer"
        else:
            words = " and ".join(_ORDINALS[names.index(n)] for n in closer) + " get closer"
        out = {"eta0": self.eta0, "eta3": self.eta3, "angle": self.angle,
               "closer": Text(words)}
        out.update({f"{name}-ratio": ratio for name, ratio in self.ratios.items()})
        return out


def figure4_steps(landscape, x_t, *, c_prime):
    """Figure 4 of the paper at x_t: :math:`\\eta_0` (:func:`sgdlab.theory.overshoot_lr`),
    Theorem 3's :math:`\\eta_3 = 2c'\\|x_t-x^*\\|^2/\\|\\nabla f(x_t)\\|^2` and the distance
    ratio :math:`\\|x_{t+1}-x^*\\|/\\|x_t-x^*\\|` of one GD step at three step sizes.

    Returns
    -------
    StepPicture
    """
    land, x = step_point(landscape, x_t)
    point = x[None]
    eta0 = float(theory.overshoot_lr(land, point)[0])
    eta3 = float(theory.theorem3_threshold(land, point, c_prime=c_prime)[0])
    lrs = {"small": 0.5 * eta0, "between": float(np.sqrt(eta0 * eta3)), "large": 1.2 * eta3}
    dist = float(np.linalg.norm(x - land.x_star))
    ratios = {name: float(np.sqrt(1 + theory.gd_distance_change(land, point, lr=lr)[0]
                                  / dist**2)) for name, lr in lrs.items()}
    g = land.grad(x)
    cosine = g @ (x - land.x_star) / np.linalg.norm(g) / dist
    return StepPicture(x_t=x, eta0=eta0, eta3=eta3, lrs=lrs, ratios=ratios,
                       angle=float(np.degrees(np.arccos(cosine))))


def _bowl_matrix(A):
    """The rippled bowl's matrix: a symmetric positive definite 2 x 2 array."""
    try:
        A = np.array(A, dtype=np.float64)
    except (TypeError, ValueError):
        validate.fail("A", "a 2 x 2 array of numbers", error=TypeError, shown=type(A).__name__)
    if A.shape != (2, 2) or not np.all(np.isfinite(A)) or A[0, 1] != A[1, 0] \
            or np.linalg.eigvalsh(A)[0] <= 0:
        validate.fail("A", "a symmetric positive definite 2 x 2 matrix", A.tolist())
    return A


def _check_bowl(land, A, beta, omega, x):
    """The landscape's gradient at x and two fixed points is the bowl's (the chapter's
    ``bowl_grad``), as the browser will compute it."""
    pts = np.vstack([x, [0.5, -1.0], [-1.3, 0.7]])
    ripple = [beta * omega * math.sin(2 * omega * p[0]) for p in pts]
    expected = pts @ A.T + np.column_stack([ripple, np.zeros(len(pts))])
    if not np.allclose(land.grad(pts), expected, rtol=1e-9, atol=1e-12):
        validate.fail("landscape", "the rippled bowl of A, beta and omega (its gradient "
                      "A x + beta omega sin(2 omega x_1) e_1)", shown=repr(land.name))


def live_figure4(landscape, *, A, beta, omega, x_t, c_prime, lr, lr_range=(1e-2, 10.0),
                 half_width=2.0, levels=9):
    """Figure 4 (Theorem 3) as a live explorer of the web page, on the rippled bowl

    .. math:: f(x) = \\tfrac12 x^\\top A x + \\beta\\sin^2(\\omega x_1), \\qquad x^* = 0.

    The reader drags x_t and moves the step size; the page's JavaScript
    (``book/_static/live/figure4.js``) redraws the level sets, the ball around x* through
    x_t and one GD step, and prints :func:`sgdlab.theory.gd_distance_change`, the exact
    threshold :math:`\\eta_0` (:func:`sgdlab.theory.overshoot_lr`) and Theorem 3's
    :math:`\\eta_3 = 2c'\\|x_t-x^*\\|^2/\\|\\nabla f(x_t)\\|^2`
    (:func:`sgdlab.theory.theorem3_threshold`), equal to these functions' values up to the
    last bits of the sine (JavaScript's ``Math.sin`` against the C library's). Without
    JavaScript (and in Jupyter) the output is the static picture of
    :func:`sgdlab.book.step_size.step_size_figure` at ``x_t`` and ``lr``.

    Parameters
    ----------
    landscape : sgdlab.Landscape
        The rippled bowl of ``A``, ``beta``, ``omega`` (checked on its gradient), for the
        static picture.
    A : array_like, shape (2, 2)
        Symmetric positive definite.
    beta, omega : float
        The ripple's height and frequency.
    x_t : array_like, shape (2,)
        Where the explorer starts (not x*).
    c_prime : float
        Theorem 3's constant c' > 0 (:func:`one_point_shape`).
    lr : float
        The starting step size, inside ``lr_range``.
    lr_range : (float, float)
        The slider's range (log scale), 0 < low < high.
    half_width : float
        The picture shows the square of this half-width around x*.
    levels : int
        Number of level sets.

    Returns
    -------
    sgdlab.book.live.LiveExplorer
    """
    land, x = step_point(landscape, x_t)
    A, beta = _bowl_matrix(A), validate.real("beta", beta)
    omega = validate.real("omega", omega)
    c_prime = validate.real("c_prime", c_prime, above=0)
    low, high = (validate.real("lr_range", v, above=0) for v in _pair("lr_range", lr_range))
    if not low < high:
        validate.fail("lr_range", "(low, high) with 0 < low < high", tuple(lr_range))
    lr = validate.real("lr", lr, low=low, high=high)
    _check_bowl(land, A, beta, omega, x)
    config = {"A": A.tolist(), "beta": beta, "omega": omega, "x_star": land.x_star.tolist(),
              "x_t": x.tolist(), "c_prime": c_prime, "lr": lr, "lr_range": [low, high],
              "half_width": validate.real("half_width", half_width, above=0),
              "levels": validate.integer("levels", levels, low=1)}
    fig, _ = step_size_figure(land, x, lr=lr, c_prime=c_prime, lr_range=(low, high))
    alt = (f"Figure 4 on the rippled bowl at x_t = ({x[0]:g}, {x[1]:g}) and lr = {lr:.3g}: "
           "one GD step, the ball around x*, and the distance after one step against lr")
    return LiveExplorer("figure4", config, figure_to_png(fig), alt=alt)


def _pair(name, value):
    """Two items of a sequence (a range)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        validate.fail(name, "(low, high)", value, TypeError)
    return value


# -- Theorem 3 on many points -----------------------------------------------------------------
_CLAIMS = {"below": "closer (identity)", "between": "farther (identity)",
           "above": "no closer (Theorem 3)"}


@dataclass
class Theorem3Check:
    """Theorem 3 and the exact identity on (point, step size) pairs.

    ``counts[name] = (pairs, against)`` for ``below`` (:math:`\\eta < \\eta_0`), ``between``
    and ``above`` (:math:`\\eta > \\eta_3`); ``against`` counts pairs whose step goes against
    its claim (closer below, farther between, no closer above).
    """

    lrs: np.ndarray
    counts: dict
    identity_residual: float
    boundary_relative: float
    gap: np.ndarray
    """:math:`\\eta_3/\\eta_0` per point."""
    relative_change: np.ndarray = field(repr=False)
    """Change of the squared distance over the squared distance, shape (len(lrs), shown)."""
    lr_over_eta0: np.ndarray = field(repr=False)
    lr_over_eta3: np.ndarray = field(repr=False)

    @property
    def against(self):
        """Pairs against their claim, in all."""
        return sum(wrong for _, wrong in self.counts.values())

    def summary(self):
        """Values and outcome words for the prose."""
        out = {f"pairs-{k}": v[0] for k, v in self.counts.items()}
        out.update({f"against-{k}": v[1] for k, v in self.counts.items()})
        total = sum(pairs for pairs, _ in self.counts.values())
        out["outcome"] = Text("No pair goes against its claim" if self.against == 0 else
                              f"{number(self.against)} of {number(total)} pairs go against "
                              "their claim")
        pairs, wrong = self.counts["between"]
        out["between-words"] = Text("all move away" if wrong == 0 else
                                    f"move away but for {number(wrong)}")
        out.update({"residual": self.identity_residual, "boundary": self.boundary_relative,
                    "gap-min": Text(number(float(self.gap.min()), 4)),
                    "gap-max": float(self.gap.max()),
                    "gap-median": float(np.median(self.gap)),
                    "gap-over-2": Text(percent(float(np.mean(self.gap > 2))))})
        return out


def _tally(counts, change, lr, eta0, eta3):
    below, above = lr < eta0, lr > eta3
    for name, mask, wrong in (("below", below, change >= 0),
                              ("between", ~below & ~above, change <= 0),
                              ("above", above, change < 0)):
        counts[name][0] += int(mask.sum())
        counts[name][1] += int(np.count_nonzero(mask & wrong))


def theorem3_check(landscape, x, *, c_prime, n_lrs=60, shown=150):
    """One GD step from every point of ``x`` at ``n_lrs`` step sizes spread geometrically
    over :math:`[\\min\\eta_0/4, 4\\max\\eta_3]`, against Theorem 3's identity

    .. math:: \\|x_{t+1}-x^*\\|^2 - \\|x_t-x^*\\|^2 = \\eta(\\eta\\|\\nabla f\\|^2 -
              2\\langle\\nabla f, x_t-x^*\\rangle),

    and one step at :math:`\\eta = \\eta_0(x)` exactly. The identity's residual is relative
    to the larger of the two squared distances (the rounding scale). The first ``shown``
    points are kept per step size for a figure.

    Returns
    -------
    Theorem3Check
    """
    land = landscapes.as_landscape(landscape, need_target=True)
    pts = validate.points("x", x, land.dim)
    n_lrs = validate.integer("n_lrs", n_lrs, low=2)
    shown = validate.integer("shown", shown, low=1)
    eta0 = theory.overshoot_lr(land, pts)
    eta3 = theory.theorem3_threshold(land, pts, c_prime=c_prime)
    g, e = land.grad(pts), pts - land.x_star
    dist_sq, g_sq, inner = (np.einsum("ij,ij->i", a, b) for a, b in ((e, e), (g, g), (g, e)))
    lrs = np.geomspace(eta0.min() / 4, 4 * eta3.max(), n_lrs)
    counts, residual, rel = {name: [0, 0] for name in _CLAIMS}, 0.0, []
    for lr in lrs:
        change = theory.gd_distance_change(land, pts, lr=lr)
        scale = np.maximum(dist_sq, dist_sq + change)
        identity = lr * (lr * g_sq - 2 * inner)
        residual = max(residual, float(np.max(np.abs(change - identity) / scale)))
        _tally(counts, change, lr, eta0, eta3)
        rel.append(change[:shown] / dist_sq[:shown])
    boundary = theory.gd_distance_change(land, pts, lr=eta0)
    return Theorem3Check(
        lrs=lrs, counts={k: tuple(v) for k, v in counts.items()}, identity_residual=residual,
        boundary_relative=float(np.max(np.abs(boundary) / dist_sq)), gap=eta3 / eta0,
        relative_change=np.array(rel), lr_over_eta0=lrs[:, None] / eta0[None, :shown],
        lr_over_eta3=lrs[:, None] / eta3[None, :shown])


def theorem3_table(check):
    """The pairs of :func:`theorem3_check` by where the step size falls, as a Markdown
    table (IPython ``Markdown``)."""
    where = {"below": "$\\eta < \\eta_0$", "between": "$\\eta_0 < \\eta \\le \\eta_3$",
             "above": "$\\eta > \\eta_3$"}
    rows = [{"step size": where[k], "pairs": pairs, "claim": _CLAIMS[k], "against": wrong}
            for k, (pairs, wrong) in check.counts.items()]
    n_points = check.gap.size
    rows.append({"step size": "$\\eta = \\eta_0$", "pairs": n_points, "claim": "same distance",
                 "against": Text(f"change {number(check.boundary_relative, 2)}")})
    return markdown_table(rows, align="lrlr")


# -- SGD in high dimension --------------------------------------------------------------------
def _ripple(dim, depth, period):
    return landscapes.ripple(dim=dim, depth=depth, period=period)


def _noise_of_one_step(land, x, *, lr, noise, draws, seed):
    """The noise w of one SGD step from x, read off the step: (x - x_1)/lr - grad f(x)."""
    step = run_sgd(land, np.repeat(x[None], draws, axis=0), lr=lr, noise=noise, steps=1,
                   seed=seed)
    return (x - step.x) / lr - land.grad(x)


def orthogonal_shares(dims, *, depth, period, distance, noise, draws, seed, lr=0.1):
    """Per dimension d: the share of the noise energy :math:`\\|w\\|^2` orthogonal to
    :math:`u = (x_t - x^*)/\\|x_t - x^*\\|`, :math:`1 - \\sum(w\\cdot u)^2/\\sum\\|w\\|^2`, over
    ``draws`` SGD steps on ``ripple(dim=d, depth, period)`` from a point at ``distance``
    (:func:`point_at_distance` with seed 3), and the mean share per draw. Returns
    ``{d: (mean share per draw, share of the summed energy)}``.

    Returns
    -------
    dict
    """
    out = {}
    for d in dims:
        x = point_at_distance(d, distance, seed=3)
        w = _noise_of_one_step(_ripple(d, depth, period), x, lr=lr, noise=noise, draws=draws,
                               seed=seed)
        along = (w @ (x / np.linalg.norm(x))) ** 2
        total = np.einsum("ij,ij->i", w, w)
        out[d] = (float(np.mean(1 - along / total)), float(1 - along.sum() / total.sum()))
    return out


def orthogonal_table(shares):
    """:func:`orthogonal_shares` against :math:`(d-1)/d`, as a Markdown table."""
    return markdown_table([{"d": d, "per draw": mean, "of the energy": energy,
                            "(d-1)/d": (d - 1) / d} for d, (mean, energy) in shares.items()],
                          digits=4)


# seeds reserved per call of one_step_means, farther_probabilities and many_steps: calls
# with different ``seed`` never share a random stream
_SEEDS_PER_CALL = 1000


def _step_seeds(seed, n, *, name):
    """The seeds of the k = 0 .. n-1 step sizes of one call: ``seed * _SEEDS_PER_CALL + k``.
    Distinct across calls with different ``seed`` since ``n`` (the length of ``name``) is
    at most ``_SEEDS_PER_CALL // 2`` (:func:`many_steps` uses the upper half too)."""
    seed = validate.integer("seed", seed, low=0, below=validate.SEED_LIMIT // _SEEDS_PER_CALL)
    if n > _SEEDS_PER_CALL // 2:
        validate.fail(name, f"at most {_SEEDS_PER_CALL // 2} step sizes", shown=f"{n}")
    return seed * _SEEDS_PER_CALL + np.arange(n)


@dataclass
class OneStepMeans:
    """Mean squared distance after one SGD step, measured and predicted, per step size."""

    lrs: np.ndarray
    measured: np.ndarray
    stderr: np.ndarray
    gd_part: np.ndarray
    predicted: np.ndarray
    dist_sq: float
    noise_sq: float
    """:math:`E\\|w\\|^2 = dW^2/3`."""
    eta0: float
    eta_w: float
    """The noisy break-even (:func:`sgdlab.theory.overshoot_lr` with ``noise``)."""

    @property
    def z(self):
        return (self.measured - self.predicted) / self.stderr

    def summary(self):
        """Values and outcome words for the prose."""
        worst = float(np.max(np.abs(self.z)))
        return {"max-z": worst, "agree": Text("agree" if worst < 4 else "do not agree"),
                "max-rel": float(np.max(np.abs(self.measured / self.predicted - 1))),
                "eta0": self.eta0, "eta-w": self.eta_w, "ratio": self.eta_w / self.eta0,
                "sooner": Text("already moves SGD away on average" if self.eta_w < self.eta0
                               else "does not yet move SGD away on average")}


def one_step_means(landscape, x_t, lrs, *, noise, draws, seed):
    """``draws`` SGD steps from ``x_t`` at each step size (seed ``1000 seed + k`` for the k-th,
    at most 500) against the prediction (:func:`sgdlab.theory.one_step_ratio` times the
    squared distance)

    .. math:: E\\|x_{t+1}-x^*\\|^2 = \\|x_t - \\eta\\nabla f(x_t) - x^*\\|^2 + \\eta^2 dW^2/3.

    Returns
    -------
    OneStepMeans
    """
    land = landscapes.as_landscape(landscape, need_target=True)
    x = validate.points("x_t", np.atleast_2d(x_t), land.dim)[0]
    lrs = np.asarray(lrs, dtype=np.float64)
    draws = validate.integer("draws", draws, low=2)
    starts, point = np.repeat(x[None], draws, axis=0), x[None]
    e = x - land.x_star
    measured, stderr = [], []
    for lr, key in zip(lrs, _step_seeds(seed, lrs.size, name="lrs")):
        d2 = run_sgd(land, starts, lr=lr, noise=noise, steps=1, seed=key).distance() ** 2
        measured.append(d2.mean())
        stderr.append(d2.std(ddof=1) / np.sqrt(draws))
    rows = np.repeat(point, lrs.size, axis=0)
    dist_sq = float(e @ e)
    return OneStepMeans(
        lrs=lrs, measured=np.array(measured), stderr=np.array(stderr),
        gd_part=dist_sq * theory.one_step_ratio(land, rows, lr=lrs),
        predicted=dist_sq * theory.one_step_ratio(land, rows, lr=lrs, noise=noise),
        dist_sq=dist_sq, noise_sq=theory.noise_second_moment(noise, land.dim),
        eta0=float(theory.overshoot_lr(land, point)[0]),
        eta_w=float(theory.overshoot_lr(land, point, noise=noise)[0]))


@dataclass
class FartherProbability:
    """P(one SGD step ends farther from x*) against :math:`\\eta/\\eta_W`, per dimension,
    with the noise chosen so that :math:`E\\|w\\|^2 = \\|\\nabla f(x_t)\\|^2`."""

    ratios: np.ndarray
    """Step sizes over the noisy break-even :math:`\\eta_W` (= :math:`\\eta_0/2` here)."""
    probability: dict
    """d -> one probability per ratio."""

    @property
    def width(self):
        """d -> factor of step size over which the probability climbs from 20% to 80% (on its
        running maximum, interpolated in log step size); nan when the grid does not bracket
        the climb (the probability starts at 20% or more, or never passes 80%)."""
        out = {}
        for d, p in self.probability.items():
            rising, logs = np.maximum.accumulate(p), np.log(self.ratios)
            if not (rising[0] < 0.2 and rising[-1] > 0.8):
                out[d] = math.nan
                continue
            lo, hi = (float(np.exp(np.interp(q, rising, logs))) for q in (0.2, 0.8))
            out[d] = hi / lo
        return out

    def at(self, d, ratio):
        """Probability in dimension d at ``ratio`` (interpolated in log ratio)."""
        return float(np.interp(np.log(ratio), np.log(self.ratios), self.probability[d]))

    def summary(self):
        """Values and outcome words for the prose."""
        dims, width = sorted(self.probability), self.width
        low, high = dims[0], dims[-1]
        out = {f"width-{d}": w for d, w in width.items()}
        out.update({f"p-small-{d}": Text(percent(float(self.probability[d][0]))) for d in dims})
        out.update({f"p-eta0-{d}": Text(percent(self.at(d, 2.0))) for d in dims})
        if math.isnan(width[high]) or math.isnan(width[low]):
            out["sharper"] = Text("a switch we cannot size here: in some dimension the "
                                  "probability does not climb from below 20% to above 80% "
                                  "within the grid of step sizes (n/a)")
        else:
            out["sharper"] = Text("a sharper switch" if width[high] < width[low] else
                                  "no sharper a switch")
        return out


def farther_probabilities(dims, ratios, *, depth, period, distance, draws, seed):
    """For each dimension d, on ``ripple(dim=d, depth, period)`` from a point at ``distance``
    (:func:`point_at_distance`, seed 3): the noise W with :math:`dW^2/3 = \\|\\nabla f\\|^2`,
    the noisy break-even :math:`\\eta_W` (:func:`sgdlab.theory.overshoot_lr` with that noise)
    and the share of ``draws`` SGD steps at :math:`\\eta = r\\,\\eta_W` that end farther, for
    each r of ``ratios`` (seed ``1000 seed + k`` for the k-th, at most 500).

    Returns
    -------
    FartherProbability
    """
    ratios = np.asarray(ratios, dtype=np.float64)
    probability, keys = {}, _step_seeds(seed, ratios.size, name="ratios")
    for d in dims:
        land, x = _ripple(d, depth, period), point_at_distance(d, distance, seed=3)
        g, e = land.grad(x), x - land.x_star
        noise = float(np.sqrt(3 * (g @ g) / d))
        eta_w = float(theory.overshoot_lr(land, x[None], noise=noise)[0])
        starts = np.repeat(x[None], draws, axis=0)
        probability[d] = np.array([
            np.mean(run_sgd(land, starts, lr=r * eta_w, noise=noise, steps=1,
                            seed=key).distance() ** 2 > e @ e)
            for r, key in zip(ratios, keys)])
    return FartherProbability(ratios=ratios, probability=probability)


# -- many steps on the quadratic --------------------------------------------------------------
@dataclass
class ManySteps:
    """Mean squared distance after ``steps`` SGD steps on :math:`\\frac12\\|x\\|^2`, measured
    (with its GD-only and noise-only parts, run separately) and in closed form
    (:func:`sgdlab.theory.quadratic_distance_sq`)."""

    lrs: np.ndarray
    steps: int
    dist0_sq: float
    sgd: np.ndarray
    stderr: np.ndarray
    gd: np.ndarray
    noise_only: np.ndarray
    closed: np.ndarray

    @property
    def best(self):
        """Index of the step size with the smallest measured mean."""
        return int(np.argmin(self.sgd))

    @property
    def z(self):
        return (self.sgd - self.closed) / self.stderr

    @property
    def u_shaped(self):
        """Is the best step size strictly inside the range, with both ends >= 10x worse?"""
        ends = min(self.sgd[0], self.sgd[-1])
        return bool(0 < self.best < self.lrs.size - 1 and ends > 10 * self.sgd[self.best])

    def summary(self):
        """Values and outcome words for the prose."""
        worst = float(np.max(np.abs(self.z)))
        return {"max-z": worst, "agree": Text("matches" if worst < 4 else "does not match"),
                "split": Text(percent(float(np.max(np.abs((self.gd + self.noise_only)
                                                          / self.sgd - 1))))),
                "start": self.dist0_sq, "small": float(self.sgd[0]),
                "best-lr": float(self.lrs[self.best]), "best": float(self.sgd[self.best]),
                "large-lr": float(self.lrs[-1]), "large": float(self.sgd[-1]),
                "shape": Text("shows" if self.u_shaped else "does not show"),
                "small-why": Text(self._small_words()),
                "large-words": Text(self._large_words())}

    def _large_words(self):
        """The largest step size's end, in words where it has blown up (GD part growing by
        :math:`(1-\\eta)^2 > 1` per step)."""
        lr, end = float(self.lrs[-1]), float(self.sgd[-1])
        factor = (1 - lr) ** 2
        if factor <= 1 or end <= 100 * self.dist0_sq:
            return number(end)
        return (f"{number(end)}: it has blown up, {number(end / self.dist0_sq)} times the start, "
                f"as the GD part grows by (1 - η)² = {number(factor)} per step")

    def _small_words(self):
        """Why the smallest step size ends where it does: its GD part or its noise part."""
        gd, noise = float(self.gd[0]), float(self.noise_only[0])
        part = "GD part" if gd >= noise else "noise part"
        return (f"its {part} dominates: GD alone ends at {number(gd)}, the noise alone at "
                f"{number(noise)}")


def many_steps(x0, lrs, *, noise, steps, trials, seed):
    """``trials`` SGD runs of ``steps`` steps from ``x0`` on ``quadratic(dim=len(x0))`` per step
    size (seed ``1000 seed + k`` for the k-th, at most 500), the noise-only part (from x*,
    seed ``1000 seed + 500 + k``) and GD,
    against the closed form :func:`sgdlab.theory.quadratic_distance_sq`.

    Returns
    -------
    ManySteps
    """
    x0 = np.asarray(x0, dtype=np.float64)
    land = landscapes.quadratic(dim=x0.size)
    lrs = np.asarray(lrs, dtype=np.float64)
    starts, sgd, err, gd, only = np.repeat(x0[None], trials, axis=0), [], [], [], []
    keys = _step_seeds(seed, lrs.size, name="lrs")
    for k, lr in enumerate(lrs):
        d2 = run_sgd(land, starts, lr=lr, noise=noise, steps=steps, seed=keys[k]).distance()
        sgd.append(np.mean(d2**2))
        err.append(np.std(d2**2, ddof=1) / np.sqrt(trials))
        only.append(np.mean(run_sgd(land, np.zeros_like(starts), lr=lr, noise=noise,
                                    steps=steps, seed=keys[k] + _SEEDS_PER_CALL // 2)
                             .distance() ** 2))
        gd.append(run_sgd(land, x0[None], lr=lr, noise=0.0, steps=steps).distance()[0] ** 2)
    dist0_sq = float(x0 @ x0)
    return ManySteps(lrs=lrs, steps=steps, dist0_sq=dist0_sq, sgd=np.array(sgd),
                     stderr=np.array(err), gd=np.array(gd), noise_only=np.array(only),
                     closed=theory.quadratic_distance_sq(lrs, dist0_sq=dist0_sq,
                                                         dim=x0.size, noise=noise,
                                                         steps=steps))


# -- the step-size window: the Remark's lower bound and Theorem 3 ----------------------------
@dataclass
class StepWindow:
    """On a domain: the Remark's lower bound (:func:`sgdlab.theory.lr_lower_bound`), Theorem
    1's upper bound :math:`\\min\\{1/2L, c/L^2, 1/2c\\}` and the smallest Theorem 3 threshold
    :math:`\\min_x \\eta_3(x)` (above it, GD moves away from some point of the domain)."""

    bound: theory.LrLowerBound
    theorem1_max: float
    eta3_min: float
    marks: dict
    """name -> (step size, c of Assumption 1 there)."""

    def summary(self):
        """Values and outcome words for the prose."""
        lr_min = self.bound.lr_min
        out = {"c": self.bound.c, "lr-min": lr_min, "theorem1": self.theorem1_max,
               "eta3": self.eta3_min}
        out["theorem1-words"] = Text(self._theorem1_words())
        bound, eta3 = self.bound, self.eta3_min
        inside = (bound.lrs >= lr_min) & (bound.lrs < eta3)
        out["gap-words"] = Text(
            "Between the two, at every step size of the grid, Assumption 1 holds with this c "
            "and Theorem 3 forces no GD step from the interval away from x*" if inside.any()
            and bound.holds[inside].all() else "No step size of the grid is both above the "
            "Remark's bound with Assumption 1 holding and below that threshold")
        for name, (lr, c) in self.marks.items():
            out[f"{name}-c"] = c
            out[f"{name}-holds"] = Text("holds" if c >= self.bound.c else "fails")
        return out

    def _theorem1_words(self):
        bound, lr_min, top = self.bound, self.bound.lr_min, self.theorem1_max
        if math.isnan(lr_min):
            return ("has no Remark's bound to compare with: no step size of the grid reaches "
                    "this c, and Theorem 1 cannot speak for this landscape at this noise")
        if lr_min > top:
            return ("lies below the Remark's bound: no step size of the grid meets both, and "
                    "Theorem 1 cannot speak for this landscape at this noise")
        if bound.holds[(bound.lrs >= lr_min) & (bound.lrs <= top)].all():
            return "leaves a window above the Remark's bound, where Theorem 1 applies"
        return ("lies above the Remark's bound, but Assumption 1 fails again at some step size "
                "of the grid in between, so Theorem 1 applies only where it holds")


def step_window(landscape, domain, *, c, noise, lrs, marks=None):
    """The step sizes the paper allows on ``domain``: the Remark's lower bound for a fixed c
    at noise W, Theorem 1's upper bound with L from :func:`sgdlab.theory.smoothness`, and
    :math:`\\min_x \\eta_3(x) = \\min_x 2c'\\|x-x^*\\|^2/\\|\\nabla f(x)\\|^2` with c' from
    :func:`sgdlab.theory.one_point_upper`. ``marks`` (name -> step size) adds Assumption 1's
    c at chosen step sizes.

    Returns
    -------
    StepWindow
    """
    land = landscapes.as_landscape(landscape, need_target=True)
    bound = theory.lr_lower_bound(land, domain, c=c, noise=noise, lrs=lrs)
    c_prime = theory.one_point_upper(land, domain).c_prime
    eta3 = theory.theorem3_threshold(land, domain, c_prime=c_prime)
    smooth = theory.smoothness(land, domain)
    first = theory.theorem1(lr=bound.lrs[0], L=smooth.L, c=bound.c,
                            r=theory.noise_bound(noise, land.dim))
    marked = {name: (float(lr), theory.one_point_convexity(land, domain, lr=lr,
                                                           noise=noise).c)
              for name, lr in (marks or {}).items()}
    return StepWindow(bound=bound, theorem1_max=first.lr_max,
                      eta3_min=float(np.min(eta3[np.isfinite(eta3)])), marks=marked)


# -- schedules ---------------------------------------------------------------------------------
def _first_spurious(profile):
    """The first spurious minimum right of x* = 0 of the 1-D ``profile`` and the right end
    of the basin of 0, on a grid of [-1, 1] (nan when there is none on the grid)."""
    minima = minima_1d(profile, radius=0.0, span=1.0, n_points=40001)
    right = minima.spurious[minima.spurious > minima.home]
    return (float(right.min()) if right.size else math.nan), minima.basin_high


@dataclass
class ScheduleRuns:
    """Step-size schedules on a separable landscape: the mean distance to x* after each
    stage (first entry: at the start) and the share of coordinates in spurious basins of the
    1-D profile at the switch (half the stages) and at the end; GD at the small step size."""

    chunk: int
    switch: int
    curves: dict
    stuck: dict
    stuck_at_switch: dict
    gd_final: float
    gd_stuck: float
    spurious_min: float
    basin_edge: float

    def final(self, name):
        return float(self.curves[name][-1])

    def summary(self):
        """Values (keys ``{schedule}-final`` etc., spaces and commas as dashes) and outcome
        words for the prose."""
        out = {"spurious-min": self.spurious_min, "basin-edge": self.basin_edge,
               "gd-final": self.gd_final, "gd-stuck": Text(percent(self.gd_stuck))}
        for name, curve in self.curves.items():
            key = name.replace(", then ", "-then-").replace(" ", "-")
            out[f"{key}-final"], out[f"{key}-half"] = float(curve[-1]), float(curve[self.switch])
            out[f"{key}-stuck"] = Text(percent(self.stuck[name]))
            out[f"{key}-switch"] = Text(percent(self.stuck_at_switch[name]))
        out.update(self._words())
        return out

    def _words(self):
        small, large = self.final("constant small"), self.final("constant large")
        best, too = self.final("large, then small"), self.final("too large, then small")
        return {
            "large-out": Text("gets every coordinate out of them" if
                              self.stuck["constant large"] == 0 else
                              "leaves some coordinates in them"),
            "best-words": Text("gets the best of both" if best < min(small, large) else
                               "does not beat both"),
            "too-words": Text("does not help as much, a qualification the paper does not make"
                              if too > best else "helps as much or more")}


def assumption_words(window, runs):
    """Whether the constant large step does well where Assumption 1 fails (or holds) at it,
    in words: sufficiency is not necessity only where it fails and SGD still gets out."""
    holds = window.marks["large"][1] >= window.bound.c
    stuck = runs.stuck["constant large"]
    did = ("gets every coordinate out of the spurious basins" if stuck == 0 else
           f"leaves {percent(stuck)} of the coordinates in spurious basins")
    if holds:
        return (f"At the constant large step Assumption 1 holds with c = {number(window.bound.c)}, "
                f"and SGD {did}: this landscape cannot tell whether SGD needs the assumption")
    return (f"At the constant large step Assumption 1 fails (c = "
            f"{number(window.marks['large'][1])}), and SGD {did}"
            + (": the assumption is sufficient for Theorem 1, not necessary for SGD to do well"
               if stuck == 0 else ""))


SCHEDULE_NAMES = ("constant small", "constant large", "large, then small",
                  "too large, then small")
"""The schedules :func:`schedule_runs` needs (its words and the ledger compare them)."""


def schedule_runs(landscape, profile, x0, schedules, *, noise, chunk, seed, gd_lr):
    """Each schedule (name -> one step size per stage of ``chunk`` steps) as one
    :func:`sgdlab.run_schedule` from ``x0`` with ``seed``; coordinates are classified on the
    1-D ``profile`` by :func:`sgdlab.smoothing.in_spurious_basin`, and its first spurious
    minimum and basin edge come from :func:`sgdlab.smoothing.minima_1d`; GD runs as many
    steps as the longest schedule at ``gd_lr``.

    Returns
    -------
    ScheduleRuns
    """
    x0 = np.asarray(x0, dtype=np.float64)
    if not isinstance(schedules, dict) or not set(SCHEDULE_NAMES) <= set(schedules):
        validate.fail("schedules", f"a dict with the keys {SCHEDULE_NAMES}",
                      shown=repr(list(schedules) if isinstance(schedules, dict)
                                 else schedules))
    stages = max(len(lrs) for lrs in schedules.values())
    if stages < 2:
        validate.fail("schedules", "at least 2 stages (one before and one after the switch)",
                      shown=f"{stages} stage(s)")
    switch = stages // 2
    curves, stuck, at_switch = {}, {}, {}
    for name, lrs in schedules.items():
        result = run_schedule(landscape, x0, [(lr, noise, chunk) for lr in lrs], seed=seed)
        curves[name] = np.array([np.linalg.norm(x0, axis=1).mean()]
                                + [stage.distance().mean() for stage in result.stages])
        stuck[name] = float(in_spurious_basin(profile, result.x.ravel(), radius=0.0).mean())
        at_switch[name] = float(in_spurious_basin(
            profile, result.stages[switch - 1].x.ravel(), radius=0.0).mean())
    gd = run_sgd(landscape, x0, lr=gd_lr, noise=0.0, steps=stages * chunk)
    spurious_min, basin_edge = _first_spurious(profile)
    return ScheduleRuns(
        chunk=chunk, switch=switch, curves=curves, stuck=stuck, stuck_at_switch=at_switch,
        gd_final=float(gd.distance().mean()),
        gd_stuck=float(in_spurious_basin(profile, gd.x.ravel(), radius=0.0).mean()),
        spurious_min=spurious_min, basin_edge=basin_edge)


def schedule_table(runs):
    """Distance and coordinates in spurious basins at the switch and at the end, per
    schedule and for GD, as a Markdown table."""
    rows = [{"schedule": name, "distance, switch": float(curve[runs.switch]),
             "end": float(curve[-1]), "stuck, switch": Text(percent(runs.stuck_at_switch[name])),
             "stuck, end": Text(percent(runs.stuck[name]))}
            for name, curve in runs.curves.items()]
    rows.append({"schedule": "GD (small step)", "distance, switch": "", "end": runs.gd_final,
                 "stuck, switch": "", "stuck, end": Text(percent(runs.gd_stuck))})
    return markdown_table(rows)


# -- the chapter's ledger ---------------------------------------------------------------------
def _ledger_rows(check, picture, window):
    counts, gap, bound = check.counts, check.gap, window.bound
    return [
        row("Theorem 3: above $\\eta_3$ no step gets closer",
            f"{number(counts['above'][1])} of {number(counts['above'][0])} pairs do",
            counts["above"][1] == 0),
        row("identity: closer below $\\eta_0$, farther between $\\eta_0$ and $\\eta_3$",
            f"exceptions: {number(counts['below'][1])} below, {number(counts['between'][1])} "
            "between", counts["below"][1] == 0 and counts["between"][1] == 0, source="ours"),
        row("the identity holds to rounding (below 1e-12)",
            number(check.identity_residual, 2), check.identity_residual < 1e-12,
            source="ours"),
        row("at $\\eta = \\eta_0$ the distance is unchanged (below 1e-12)",
            number(check.boundary_relative, 2), check.boundary_relative < 1e-12,
            source="ours"),
        row("Theorem 3's threshold is never below the exact one",
            f"$\\eta_3/\\eta_0$ from {number(float(gap.min()), 4)}", gap.min() >= 1 - 1e-12,
            source="ours"),
        row("Figure 4: a small step ends inside the ball, a large one outside",
            f"x{number(picture.ratios['small'], 2)}, x{number(picture.ratios['large'], 2)}",
            picture.ratios["small"] < 1 <= picture.ratios["large"]),
        row("Remark: Assumption 1 fails for small $\\eta$ (fixed $c$)",
            f"holds from $\\eta$ = {number(bound.lr_min)}",
            bool(not bound.holds[0] and bound.holds.any())),
    ]


ISOTROPIC = (f"{CANNOT_FAIL}: the book's noise is uniform in a box, isotropic, so the share "
             "is (d-1)/d in expectation whatever the landscape")
"""Why the orthogonal-noise row cannot say no here (it checks the draws, not SGD's noise)."""

SOONER = (f"{CANNOT_FAIL}: the break-even with noise, 2⟨∇f, x - x*⟩ / (‖∇f‖² + dW²/3), is "
          "below η₀ for any noise, by its formula")
"""Why the noisy break-even row cannot say no: it follows from the formula."""


def _ledger_rows_sgd(shares, one, far, many, runs, dim):
    width, share = far.width, shares[dim][1]
    low, high = min(width), max(width)
    final = runs.final
    return [
        row(f"most noise is orthogonal to $x_t - x^*$ (within 0.01 of $(d-1)/d$, d = {dim})",
            number(share, 4), judge(abs(share - (dim - 1) / dim) < 0.01, cant_tell=ISOTROPIC)),
        row("one-step mean = GD part + noise part (within 4 standard errors)",
            f"{number(float(np.max(np.abs(one.z))), 2)} s.e.", np.max(np.abs(one.z)) < 4,
            source="ours"),
        row("with noise, SGD moves away sooner ($\\eta_W < \\eta_0$)",
            f"{number(one.eta_w)} vs {number(one.eta0)}",
            judge(one.eta_w < one.eta0, cant_tell=SOONER)),
        row(f"a sharp switch in high dimension (20-80% width below 1.5 in d = {high}, and "
            f"below d = {low}'s)", f"{number(width[high])} vs {number(width[low])}",
            width[high] < 1.5 and width[high] < width[low], source="ours"),
        row("many steps: closed form within 4 standard errors",
            f"{number(float(np.max(np.abs(many.z))), 2)} s.e.", np.max(np.abs(many.z)) < 4,
            source="ours"),
        row(f"in a budget of {number(many.steps)} steps, too small and too big both end 10x "
            "worse than the best",
            f"{number(many.sgd[0])} / {number(many.sgd[many.best])} / {number(many.sgd[-1])}",
            many.u_shaped, source="ours"),
        row("large then small beats constant small and constant large",
            f"{number(final('large, then small'))} vs {number(final('constant small'))}, "
            f"{number(final('constant large'))}",
            final("large, then small") < min(final("constant small"), final("constant large"))),
        row("too large then small also beats constant large",
            f"{number(final('too large, then small'))} vs {number(final('constant large'))}",
            final("too large, then small") < final("constant large"), source="ours"),
    ]


def ledger(*, check, picture, window, shares, one, far, many, runs, dim):
    """The chapter's claims (Theorem 3, Figure 4, the Remark, Sections 3 and 5.4) and our own
    checks, each with what was measured and its verdict: rows of
    :func:`sgdlab.book.verdicts.row` (``source`` ``"paper"`` or ``"ours"``)."""
    return _ledger_rows(check, picture, window) + _ledger_rows_sgd(shares, one, far, many,
                                                                   runs, dim)


def ledger_table(rows, source="paper"):
    """The rows of :func:`ledger` from ``source`` (``"paper"`` or ``"ours"``) as a table."""
    paper, ours = split(rows)
    return markdown({"paper": paper, "ours": ours}[source], align="llc")


def glue_ledger(rows):
    """``ledger-paper`` and ``ledger-ours``: each table's tally of verdicts, in words."""
    paper, ours = split(rows)
    glue_text("ledger-paper", tally_phrase(paper))
    glue_text("ledger-ours", tally_phrase(ours))


# -- Theorem 3: one step at a point of a 2-D landscape (chapter step-size) -------------------
def step_point(landscape, x_t):
    """The landscape and the point of a Figure-4 picture, checked: a 2-D landscape with an
    x*, and a point x_t that differs from it.

    Returns
    -------
    land : sgdlab.Landscape
    x : numpy.ndarray
        ``x_t`` as 2 floats, shape (2,).
    """
    land = landscapes.as_landscape(landscape, need_target=True)
    if land.dim != 2:
        raise ValueError(f"landscape must be 2-dimensional for this picture, got dim={land.dim}")
    try:
        x = np.array(x_t, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"x_t must be a point (2 numbers), got {x_t!r}") from None
    if x.shape != (2,) or not np.all(np.isfinite(x)):
        raise ValueError(f"x_t must be 2 finite numbers, got {x_t!r}")
    if np.array_equal(x, land.x_star):
        raise ValueError(f"x_t must differ from x* = {land.x_star.tolist()}: the ball through "
                         "x_t has radius 0 there")
    return land, x


def _noisy_runs(land, point, *, lr, noise, steps, trials, seed):
    """One SGD step and ``steps`` steps from ``point``, ``trials`` times each; without noise,
    one GD run stands for both."""
    gd_run = run_sgd(land, point, lr=lr, noise=0.0, steps=steps)
    gd_t = float(gd_run.distance()[0] ** 2)
    if noise == 0:
        return None, None, gd_t, gd_t, int(gd_run.diverged.sum())
    starts = np.repeat(point, trials, axis=0)
    one = run_sgd(land, starts, lr=lr, noise=noise, steps=1, seed=seed)
    run = run_sgd(land, starts, lr=lr, noise=noise, steps=steps, seed=seed + 1)
    return (one.x, one.distance() ** 2, gd_t, float(np.mean(run.distance() ** 2)),
            int(run.diverged.sum()))


def step_size_measurements(landscape, x_t, *, lr, noise=0.0, steps=20, trials=200,
                           c_prime=None, seed=0):
    """Theorem 3 at one point x_t of a 2-D landscape: one GD step and ``trials`` SGD steps.

    For GD the squared distance to x* changes by the exact identity

    .. math:: \\|x_{t+1}-x^*\\|^2 - \\|x_t-x^*\\|^2 = \\eta(\\eta\\|\\nabla f\\|^2
              - 2\\langle\\nabla f, x_t-x^*\\rangle)

    (:func:`sgdlab.theory.gd_distance_change`); SGD's mean adds
    :math:`\\eta^2 E\\|w\\|^2 = \\eta^2 d W^2/3`. The step sizes where one step stops getting
    closer: exact (:func:`sgdlab.theory.overshoot_lr`), Theorem 3's
    (:func:`sgdlab.theory.theorem3_threshold`, when ``c_prime`` is given) and the noisy
    break-even :math:`2\\langle\\nabla f, x_t-x^*\\rangle/(\\|\\nabla f\\|^2 + dW^2/3)`.

    Returns
    -------
    info : dict
        Plain floats: ``dist_sq`` (before), ``gd_one_step``, ``sgd_one_step_mean`` and
        ``sgd_one_step_stderr`` (measured over ``trials`` draws), ``sgd_one_step_predicted``,
        ``overshoot_lr``, ``theorem3_lr`` (nan without ``c_prime``), ``noisy_lr``,
        ``gd_after_steps``, ``sgd_after_steps_mean`` (squared distances after ``steps``
        steps; inf when diverged) and ``sgd_diverged`` (count).
    cloud : numpy.ndarray or None
        The ``trials`` points one SGD step from x_t, shape (trials, 2); None without noise.
    """
    land, x = step_point(landscape, x_t)
    point = x[None, :]
    gd_change = float(theory.gd_distance_change(land, point, lr=lr)[0])  # checks lr
    lr, noise = float(lr), validate.real("noise", noise, low=0)
    steps = validate.integer("steps", steps, low=1)
    trials = validate.integer("trials", trials, low=2)
    e = x - land.x_star
    dist_sq = float(e @ e)
    eta3 = (float(theory.theorem3_threshold(land, point, c_prime=c_prime)[0])
            if c_prime is not None else float("nan"))
    cloud, d1, gd_t, sgd_t, diverged = _noisy_runs(land, point, lr=lr, noise=noise,
                                                   steps=steps, trials=trials, seed=seed)
    gd_one = dist_sq + gd_change
    sgd_one, sgd_err = ((float(d1.mean()), float(d1.std(ddof=1) / np.sqrt(trials)))
                        if d1 is not None else (gd_one, 0.0))
    info = {"dist_sq": dist_sq, "gd_one_step": gd_one, "sgd_one_step_mean": sgd_one,
            "sgd_one_step_stderr": sgd_err,
            "sgd_one_step_predicted": float(gd_one + lr**2 * theory.noise_second_moment(
                noise, land.dim)),
            "overshoot_lr": float(theory.overshoot_lr(land, point)[0]), "theorem3_lr": eta3,
            "noisy_lr": float(theory.overshoot_lr(land, point, noise=noise)[0]),
            "gd_after_steps": gd_t, "sgd_after_steps_mean": sgd_t, "sgd_diverged": diverged}
    return info, cloud


def one_step_ratios(landscape, x_t, lrs, *, noise=0.0):
    """The squared distance to x* after one step over before, at each step size of ``lrs``:
    for GD exactly, :math:`1 + \\eta(\\eta\\|\\nabla f\\|^2 - 2\\langle\\nabla f,
    x_t-x^*\\rangle)/\\|x_t-x^*\\|^2`, and for SGD in mean, which adds
    :math:`\\eta^2 dW^2/3` to the numerator.

    Returns
    -------
    gd, sgd_mean : numpy.ndarray
        One ratio per step size.
    """
    land, x = step_point(landscape, x_t)
    lrs = np.asarray(lrs, dtype=np.float64).ravel()
    rows = np.repeat(x[None, :], lrs.size, axis=0)
    return (theory.one_step_ratio(land, rows, lr=lrs),
            theory.one_step_ratio(land, rows, lr=lrs, noise=noise))


# -- Figure 4 and Theorem 3 (chapter step-size) ----------------------------------------------
def _picture_box(x_star, x, ends, cloud):
    """Square-ish bounds (lo, hi) that hold the ball through x, the step ends and most of the
    cloud, with a margin; and the half-width."""
    radius = float(np.linalg.norm(x - x_star))
    shown = [x_star - radius, x_star + radius, ends]
    if cloud is not None:
        finite = cloud[np.all(np.isfinite(cloud), axis=1)]
        if len(finite):
            shown.append(np.quantile(finite, [0.01, 0.99], axis=0))
    box = np.vstack([np.atleast_2d(p) for p in shown])
    box = box[np.all(np.isfinite(box), axis=1)]
    centre = 0.5 * (box.min(axis=0) + box.max(axis=0))
    half = 0.6 * float(np.max(box.max(axis=0) - box.min(axis=0)))
    return centre - half, centre + half, half


def _level_sets(ax, land, x, lo, hi, half, levels):
    """Contours of f through :math:`x^* + s(x - x^*)` for ``levels`` values of s."""
    x_star = land.x_star
    radius = float(np.linalg.norm(x - x_star))
    xs, ys = np.linspace(lo[0], hi[0], 121), np.linspace(lo[1], hi[1], 121)
    gx, gy = np.meshgrid(xs, ys)
    values = land.f(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)
    ray = x_star + np.outer(np.geomspace(0.2, 2.0 * max(half / radius, 1.0), levels), x - x_star)
    ax.contour(gx, gy, values, levels=np.unique(land.f(ray)), colors=PALETTE["function"],
               linewidths=0.7, alpha=0.6)


def plot_step_picture(ax, landscape, x_t, lrs, *, cloud=None, levels=8):
    """Figure 4 of the paper: level sets of f, the ball around x* through x_t, and one GD step
    :math:`x_{t+1} = x_t - \\eta\\nabla f(x_t)` for each step size of ``lrs`` (green when it
    ends inside the ball, red when outside). Chapter :ref:`step-size`.

    The level sets are those through :math:`x^* + s(x_t - x^*)`; for a one-point convex f, f
    increases along every ray from x*, so these levels are increasing.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    landscape : sgdlab.Landscape or str
        A 2-D landscape with an ``x_star``.
    x_t : array_like, shape (2,)
    lrs : float or sequence of float
        Step sizes > 0.
    cloud : array_like, shape (n, 2), optional
        Points drawn as grey dots, e.g. one SGD step from x_t for many noise draws.
    levels : int
        Number of level sets.

    Returns
    -------
    matplotlib.axes.Axes
    """
    land, x = step_point(landscape, x_t)
    lrs = [float(lr) for lr in np.atleast_1d(lrs)]
    if not lrs or any(not (np.isfinite(lr) and lr > 0) for lr in lrs):
        raise ValueError(f"lrs must be finite step sizes > 0, got {lrs!r}")
    x_star, radius = land.x_star, float(np.linalg.norm(x - land.x_star))
    ends = np.array([x - lr * land.grad(x) for lr in lrs])
    if cloud is not None:
        cloud = np.asarray(cloud, dtype=np.float64).reshape(-1, 2)
    lo, hi, half = _picture_box(x_star, x, ends, cloud)
    _level_sets(ax, land, x, lo, hi, half, levels)
    ax.add_patch(plt.Circle(x_star, radius, fill=False, ls="--", color=PALETTE["reference"],
                            lw=1.0))
    if cloud is not None and len(cloud):
        ax.plot(cloud[:, 0], cloud[:, 1], ".", color=PALETTE["cloud"], ms=2, alpha=0.5,
                label="one SGD step (noise draws)")
    for lr, end in zip(lrs, ends):
        ratio = float(np.linalg.norm(end - x_star)) / radius
        color = PALETTE["good"] if ratio < 1 else PALETTE["alert"]
        ax.annotate("", xy=end, xytext=x, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.3))
        ax.plot(*end, "o", color=color, ms=5, label=f"GD, lr={lr:.3g}: distance x{ratio:.2f}")
    ax.plot(*x_star, "*", color=PALETTE["reference"], ms=10, label="x*")
    ax.plot(*x, "o", color=PALETTE["reference"], ms=4)
    ax.annotate("x_t", x, textcoords="offset points", xytext=(5, 5))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize="small", framealpha=0.85)
    return ax


def _step_thresholds(ax, info, noise):
    """Vertical lines at the step sizes where one step stops getting closer, where they are
    positive and finite (not at a zero gradient, nor where the point is not one-point convex
    and every step moves away)."""
    eta0, eta3, eta_w = info["overshoot_lr"], info["theorem3_lr"], info["noisy_lr"]
    if 0 < eta0 < np.inf:
        ax.axvline(eta0, color=PALETTE["reference"], ls="--", lw=0.9,
                   label=f"exact threshold {eta0:.3g}")
    if 0 < eta3 < np.inf:
        ax.axvline(eta3, color=PALETTE["theorem"], ls=":", lw=1.2, label=f"Theorem 3 {eta3:.3g}")
    if noise > 0 and 0 < eta_w < np.inf:
        ax.axvline(eta_w, color=PALETTE["smoothed"], ls="-.", lw=0.9,
                   label=f"noisy break-even {eta_w:.3g}")


def _plot_one_step_ratios(ax, land, x, info, *, lr, noise, steps, trials, lr_range):
    """Right panel of :func:`step_size_figure`: squared distance after one step over before,
    against the step size."""
    dist_sq = info["dist_sq"]
    grid_lr = np.geomspace(*lr_range, 300)
    gd_curve, sgd_curve = one_step_ratios(land, x, grid_lr, noise=noise)
    ax.loglog(grid_lr, gd_curve, color=PALETTE["function"], label="GD (exact identity)")
    if noise > 0:
        ax.loglog(grid_lr, sgd_curve, color=PALETTE["smoothed"],
                  label="SGD, mean (identity + lr^2 d W^2/3)")
        ax.errorbar([lr], [info["sgd_one_step_mean"] / dist_sq],
                    yerr=[2 * info["sgd_one_step_stderr"] / dist_sq], fmt="o",
                    color=PALETTE["smoothed"], ms=4, label=f"SGD measured ({trials} draws)")
    ax.plot([lr], [info["gd_one_step"] / dist_sq], "o", color=PALETTE["function"], ms=4)
    ax.axhline(1.0, color=PALETTE["reference"], lw=0.8)
    _step_thresholds(ax, info, noise)
    ax.axvline(lr, color=PALETTE["muted"], lw=2, alpha=0.4)
    ax.set_xlabel("step size lr")
    ax.set_ylabel("squared distance to x* after one step / before")
    plain_log_ticks(ax.xaxis, ax.yaxis)
    diverged = info["sgd_diverged"]
    ax.set_title(f"after {steps} steps: GD x{info['gd_after_steps'] / dist_sq:.3g}, SGD mean "
                 f"x{info['sgd_after_steps_mean'] / dist_sq:.3g}"
                 + (f" ({diverged} diverged)" if diverged else ""))
    ax.legend(loc="upper left", fontsize="small")


def step_size_figure(landscape, x_t, *, lr, noise=0.0, steps=20, trials=200, c_prime=None,
                     seed=0, lr_range=(1e-3, 10.0)):
    """Theorem 3 at one point x_t of a 2-D landscape, for one step size and noise bound.

    Left: :func:`plot_step_picture` with the GD step and, when ``noise > 0``, ``trials`` SGD
    steps. Right: the squared distance after one step relative to before, against the step
    size in ``lr_range``: for GD the exact identity, for SGD its mean, with the thresholds
    of :func:`sgdlab.book.step_size.step_size_measurements` (Theorem 3's when ``c_prime``
    is given). Chapter :ref:`step-size`.

    Returns
    -------
    fig : matplotlib.figure.Figure
    info : dict
        The numbers of :func:`sgdlab.book.step_size.step_size_measurements`.
    """
    land, x = step_point(landscape, x_t)
    low, high = (float(v) for v in lr_range)
    if not 0 < low < high:
        raise ValueError(f"lr_range must be (low, high) with 0 < low < high, got {lr_range!r}")
    info, cloud = step_size_measurements(land, x, lr=lr, noise=noise, steps=steps,
                                         trials=trials, c_prime=c_prime, seed=seed)
    use_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 4))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.92, wspace=0.25)
    plot_step_picture(left, land, x, [lr], cloud=cloud)
    where = "inside" if info["gd_one_step"] < info["dist_sq"] else "outside"
    left.set_title(f"lr={lr:.3g}, W={noise:g}: the GD step ends {where} the ball")
    _plot_one_step_ratios(right, land, x, info, lr=float(lr), noise=float(noise), steps=steps,
                          trials=trials, lr_range=(low, high))
    return fig, info


def step_size_explorer(landscape, x_t, *, lr=0.1, noise=0.0, steps=20, trials=200,
                       c_prime=None, lr_range=(1e-3, 10.0), noise_max=None, seed=0):
    """Sliders for the step size, the noise bound W and the number of steps that redraw
    :func:`sgdlab.book.step_size.step_size_figure` live (Theorem 3, Figure 4).

    Each change redraws the figure straight into an ``Image``, without the notebook's figure
    machinery, so a refresh costs one run and one PNG. Arguments as for
    :func:`sgdlab.book.step_size.step_size_figure`; ``noise_max`` (the noise slider's end)
    defaults to twice the gradient's largest coordinate at x_t (at least 1).

    Returns
    -------
    ipywidgets.VBox
        The sliders above the image; ``box.info`` is the latest ``info`` dict of
        :func:`sgdlab.book.step_size.step_size_figure`, ``box.controls`` the three sliders.
    """
    import ipywidgets as widgets

    land, x = step_point(landscape, x_t)
    low, high = (float(v) for v in lr_range)
    if not 0 < low < high:
        raise ValueError(f"lr_range must be (low, high) with 0 < low < high, got {lr_range!r}")
    if noise_max is None:
        noise_max = max(1.0, 2.0 * float(np.abs(land.grad(x)).max()))
    noise_max = max(float(noise_max), float(noise))
    controls = {
        "lr": widgets.FloatLogSlider(value=lr, base=10, min=np.log10(low), max=np.log10(high),
                                     step=0.02, description="lr", continuous_update=False,
                                     readout_format=".3g"),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=noise_max, step=noise_max / 100,
                                     description="noise W", continuous_update=False),
        "steps": widgets.IntSlider(value=steps, min=1, max=200, description="steps",
                                   continuous_update=False),
    }
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    box = widgets.VBox([widgets.HBox(list(controls.values())), image])
    box.controls = controls

    def update(change=None):
        fig, info = step_size_figure(land, x, lr=controls["lr"].value,
                                     noise=controls["noise"].value,
                                     steps=controls["steps"].value, trials=trials,
                                     c_prime=c_prime, seed=seed, lr_range=(low, high))
        image.value = figure_to_png(fig, tight=False)
        box.info = info

    for control in controls.values():
        control.observe(update, names="value")
    update()
    return box
