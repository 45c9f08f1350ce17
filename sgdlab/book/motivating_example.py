"""Chapter :ref:`motivating-example` (``book/motivating_example.md``): the paper's Figures
1-3, their measurements, tables, wording, figures and explorers.

*Figures 1 and 2.* Section 1 splits a step of SGD in two: the full gradient step
:math:`y_t = x_t - \\eta\\nabla f(x_t)`, then the noise, :math:`x_{t+1} = y_t - \\eta w_t`.
When :math:`-\\nabla f(x_t)` points into a narrow basin around a bad minimum :math:`x_\\circ`,
the noise can carry :math:`x_{t+1}` out of it. :func:`one_step` measures that with
:func:`sgdlab.run_sgd`; :func:`plot_one_step` draws it in 1-D (Figure 1) or 2-D (Figure 2).

*Figure 3.* Section 2's claims about its spiky f (:data:`CLAIMS`) are checked on members of
our family (:func:`check_member`, :func:`search_family`); :func:`figure3_runs` runs the
figure's rows; :func:`ledger_table` and the ``glue_*`` functions give the chapter's verdicts
and words. :func:`explorer_runs` is what the page's live explorer computes
(``book/_static/live/motivating.js``, bit for bit); :func:`sgd_explorer` is the notebook's.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from .. import _validate as validate
from .. import landscapes
from ..landscapes import as_landscape
from ..sgd import random_starts, run_schedule, run_sgd
from ..smoothing import basins_1d, in_spurious_basin, minima_1d
from . import tables, verdicts
from .live import LiveExplorer, page_seed
from .style import PALETTE, figure_to_png, plot_curve, plot_final_iterates, use_style

__all__ = ["OneStep", "one_step", "plot_one_step", "bad_minimum", "glue_one_step", "basin_sentence", "SPAN", "INNER", "CLAIMS", "NAMES",
           "THRESHOLDS", "Setting", "nearest_spurious", "judge_claims", "Member", "check_member",
           "SearchResult", "FAMILY", "search_family", "LEVEL", "claim_verdicts", "claim_measured",
           "LEVELS", "Figure3",
           "figure3_runs", "panel_rows", "RESTARTS", "explorer_runs", "LIMITS", "RANGES",
           "explorer_rows", "live_explorer", "plot_explorer", "conflict_text", "ledger_rows",
           "glue_search", "glue_figure3", "ledger_table", "panel_table", "plot_search",
           "plot_figure3", "explorer_figure", "sgd_explorer"]
_GD_TOL, _GD_CHUNK, _GD_CAP = 1e-9, 1_000, 1_000_000


@dataclass
class OneStep:
    """Outcome of :func:`one_step`."""

    x_t: np.ndarray
    """The start, shape (dim,)."""
    y_t: np.ndarray
    """:math:`y_t = x_t - \\eta\\nabla f(x_t)`, shape (dim,)."""
    x_next: np.ndarray
    """:math:`x_{t+1} = y_t - \\eta w_t`, one per trial, shape (trials, dim)."""
    x_min: np.ndarray
    """The minimum :math:`x_\\circ` of the basin of :math:`x_t` (where GD from it stops: see
    :func:`one_step`)."""
    escaped: np.ndarray
    """One bool per trial, true where
    :math:`\\langle -\\nabla f(x_{t+1}), x_\\circ - x_{t+1}\\rangle \\le 0`."""
    lr: float
    noise: float

    @property
    def share_escaped(self):
        """Share of trials whose one noisy step left the basin."""
        return float(self.escaped.mean())


def _basin_minimum(land, start, fine):
    """Steepest descent with the small step ``fine`` from ``start`` (1, dim) until the
    gradient's norm is at most ``_GD_TOL`` (the basin's own minimum), at most ``_GD_CAP``
    steps."""
    x = start
    for _ in range(_GD_CAP // _GD_CHUNK + 1):
        if np.linalg.norm(land.grad(x)) <= _GD_TOL:
            return x[0].copy()
        x = run_sgd(land, x, lr=fine, noise=0.0, steps=_GD_CHUNK).x
    validate.fail("lr", f"large enough that GD with step lr/20 = {fine:g} reaches the basin's "
                  f"minimum (gradient norm <= {_GD_TOL:g}) within {_GD_CAP:,} steps",
                  shown=f"{20.0 * fine:g}")


def one_step(landscape, x_t, *, lr, noise, trials=200, seed=0):
    """One SGD step from ``x_t`` in ``trials`` independent trials (Figures 1 and 2).

    .. math:: y_t = x_t - \\eta\\nabla f(x_t), \\qquad x_{t+1} = y_t - \\eta w_t,
              \\qquad w_t \\sim U[-W, W]^d

    The basin's minimum :math:`x_\\circ` is where GD with a step :math:`\\eta/20` from ``x_t``
    stops: the first iterate (checked every 1,000 steps) whose gradient has norm at most
    1e-9. A ``ValueError`` is raised when it has not stopped within 1,000,000 steps (a step
    too small for the basin). A trial escapes when the negative gradient at :math:`x_{t+1}`
    no longer points to it.

    Returns
    -------
    OneStep
    """
    land = as_landscape(landscape)
    lr = validate.real("lr", lr, above=0)
    noise = validate.real("noise", noise, low=0)
    trials = validate.integer("trials", trials, low=1)
    seed = validate.seed("seed", seed)
    try:
        start = np.asarray(x_t, dtype=np.float64).reshape(1, -1)
    except (TypeError, ValueError):
        validate.fail("x_t", "a point (an array of numbers)", error=TypeError,
                      shown=type(x_t).__name__)
    start = validate.points("x_t", start, land.dim)
    x_min = _basin_minimum(land, start, lr / 20.0)
    y_t = start[0] - lr * land.grad(start)[0]
    step = run_sgd(land, np.repeat(start, trials, axis=0), lr=lr, noise=noise, steps=1,
                   seed=seed)
    inward = np.sum(-land.grad(step.x) * (x_min - step.x), axis=1)
    return OneStep(x_t=start[0], y_t=y_t, x_next=step.x, x_min=x_min, escaped=inward <= 0,
                   lr=lr, noise=noise)


def _plot_1d(ax, land, step, half):

    centre = step.x_min[0]
    xs = np.linspace(centre - half, centre + half, 1201)
    ax.plot(xs, land.f(xs), color=PALETTE["function"], label="f")
    x1 = step.x_next[:, 0]
    for mask, colour, label in ((step.escaped, PALETTE["good"], "left the basin"),
                                (~step.escaped, PALETTE["alert"], "still in it")):
        ax.plot(x1[mask], land.f(x1[mask]), "o", ms=3, alpha=0.6, color=colour,
                label=f"$x_{{t+1}}$: {label}")
    for point, name in ((step.x_t, "x_t"), (step.y_t, "y_t"), (step.x_min, "x_\\circ")):
        ax.plot(point[0], land.f(point[0]), "s", color=PALETTE["reference"], ms=5)
        ax.annotate(f"${name}$", (point[0], land.f(point[0])), textcoords="offset points",
                    xytext=(0, 8), ha="center")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")


def _plot_2d(ax, land, step, half):

    c = step.x_min
    g = np.linspace(-half, half, 241)
    gx, gy = np.meshgrid(c[0] + g, c[1] + g)
    values = land.f(np.stack([gx, gy], axis=-1))
    ax.contour(gx, gy, values, levels=14, colors=PALETTE["muted"], linewidths=0.6)
    for mask, colour, label in ((step.escaped, PALETTE["good"], "left the basin"),
                                (~step.escaped, PALETTE["alert"], "still in it")):
        ax.plot(step.x_next[mask, 0], step.x_next[mask, 1], "o", ms=3, alpha=0.6,
                color=colour, label=f"$x_{{t+1}}$: {label}")
    ax.annotate("", step.y_t, step.x_t, arrowprops={"arrowstyle": "->"})
    for point, name in ((step.x_t, "x_t"), (step.y_t, "y_t"), (step.x_min, "x_\\circ")):
        ax.plot(*point, "s", color=PALETTE["reference"], ms=5)
        ax.annotate(f"${name}$", point, textcoords="offset points", xytext=(4, 4))
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def plot_one_step(ax, landscape, step, *, half=None):
    """Draw a :class:`OneStep` on ``ax``: f (1-D) or its level sets (2-D) around
    :math:`x_\\circ` (half-width ``half``, default 1.5 times the farthest point), the points
    :math:`x_t`, :math:`y_t`, :math:`x_\\circ`, and the cloud of :math:`x_{t+1}`, green
    where the step left the basin and red where it did not. Returns ``ax``."""
    land = as_landscape(landscape)
    if not isinstance(step, OneStep):
        validate.fail("step", "a OneStep", error=TypeError, shown=type(step).__name__)
    if half is None:
        half = 1.5 * float(np.max(np.abs(np.vstack([step.x_next, step.x_t]) - step.x_min)))
    half = validate.real("half", half, above=0)
    (_plot_1d if land.dim == 1 else _plot_2d)(ax, land, step, half)
    ax.legend(loc="upper center", fontsize=7)
    return ax


def bad_minimum(landscape, near):
    """The spurious local minimum of the 1-D landscape f nearest to ``near`` (on a grid of
    [-s, s] with s = max(abs(near), 3) + 0.5 and spacing 1e-4, by
    :func:`sgdlab.smoothing.minima_1d`), and the width of its basin."""
    land = as_landscape(landscape, need_target=True)
    span = max(abs(float(near)), SPAN) + 0.5
    points = int(round(2 * span / 1e-4)) + 1
    minima = minima_1d(land, radius=0.0, span=span, n_points=points)
    if minima.spurious.size == 0:
        validate.fail("landscape", "a landscape with a spurious minimum of f", shown=land.name)
    x_min = float(minima.spurious[np.argmin(np.abs(minima.spurious - near))])
    grid = np.linspace(x_min - 0.5, x_min + 0.5, 10001)
    reached = basins_1d(land, grid, radius=0.0, span=span, n_points=points)
    basin = grid[np.isclose(reached, x_min, rtol=0, atol=2e-4)]
    return x_min, float(basin[-1] - basin[0])


def glue_one_step(steps, x_min, basin_width):
    """Glue Figures 1 and 2's numbers (``fig{k}-escaped`` per :class:`OneStep` of ``steps``,
    1-D first, ``fig1-x-min``) and :func:`basin_sentence` of the 1-D step (``fig1-basin``)."""
    for k, step in enumerate(steps, start=1):
        tables.glue_percent(f"fig{k}-escaped", step.share_escaped)
    tables.glue_number("fig1-x-min", x_min, digits=4)
    return tables.glue_text("fig1-basin", basin_sentence(steps[0], basin_width))


def basin_sentence(step, basin_width):
    """The sentence after Figures 1 and 2, chosen by the numbers: the share of single noisy
    steps that left the basin, and the basin's width against the noise's reach, the width
    :math:`2\\eta W` of the box of :math:`x_{t+1}`."""
    reach = 2 * step.lr * step.noise
    compare = ("narrower than" if basin_width < reach else "as wide as" if
               basin_width == reach else "wider than")
    share = step.share_escaped
    most = ("most" if share > 0.5 else "some" if share > 0 else "none")
    return (f"{most} of the noisy steps leave it: the basin, {tables.number(basin_width)} wide, "
            f"is {compare} the box of width 2ηW = {tables.number(reach)} that the noise "
            "spreads the next iterate over")


SPAN = 3.0
"""Half-width of the paper's region of random starts, [-3, 3]."""


INNER = 1.5
"""Half-width of the paper's region near x* = 0, [-1.5, 1.5]."""


CLAIMS = {
    "stuck": "GD from [-3, 3] gets stuck at various local minima",
    "small": "with small noise SGD finds a few bad local minima of its g, outside [-1.5, 1.5]",
    "right": "with the right noise most points end in [-1.5, 1.5], none at a bad minimum",
    "restart": "the small noise's g is pretty convex on [-1.5, 1.5]: restarting there with "
               "it ends in a smaller region around 0",
    "large": "with too much noise SGD acts like a random walk: it spreads more",
}
"""The five claims of Section 2 about Figure 3 by key, in the paper's words (short), on panels
F2,1, F2,2, F2,3, F1,2 with F3,2, and F2,4. Their thresholds are :data:`THRESHOLDS`."""


NAMES = {"stuck": "GD stuck", "small": "bad minima outside", "right": "right noise near 0",
         "restart": "restart closer", "large": "large noise spreads"}
"""The one name of each claim, used in the list, the figure, the tables and the prose."""


THRESHOLDS = {"stuck_share": 0.5, "stuck_minima": 10, "small_share": 0.05, "right_share": 0.5,
              "escape": 10.0}
"""Where each claim's words become numbers, in one place (used by :func:`check_member`).
"Stuck" means at least ``stuck_share`` of the GD trials in spurious basins of f, at
``stuck_minima`` or more distinct minima ("various"); "a few bad minima" at least
``small_share`` of the small-noise trials in spurious basins of its g; "most points" more
than ``right_share``; a random walk (not a divergence) keeps every trial within ``escape``
times [-3, 3]."""


_G_SPAN, _G_POINTS = SPAN + 0.5, 7001  # the grid of g for basins and minima (spacing 0.001)


@dataclass(frozen=True)
class Setting:
    """One member of the spiky family (:func:`sgdlab.landscapes.spiky`), its step size and
    its noise levels, given by their radii :math:`\\eta W`: ``right``, ``large``, and the small
    noise at half the right radius (Figure 3's row 3 halves the noise at each restart, so its
    first restart is the small noise). Steps: ``ceil(3 / lr)`` (:math:`\\eta T = 3`, so the
    bowl contracts by :math:`e^{-6}`). Printed with the noise bounds W."""

    width: str
    period: float
    beta: float
    growth: int
    lr: float
    right: float
    """Radius :math:`\\eta W` of the right noise."""
    large: float
    """Radius :math:`\\eta W` of the large noise."""

    @classmethod
    def of(cls, definition):
        """The setting of a dict such as :data:`sgdlab.landscapes.MOTIVATING`."""
        return cls(**{k: definition[k] for k in (
            "width", "period", "beta", "growth", "lr", "right", "large")})

    def __repr__(self):
        return (f"spiky(width={self.width!r}, beta={self.beta:g}, period={self.period:g}, "
                f"growth={self.growth}), η = {self.lr:g}, {self.steps:,} steps; W = "
                f"{self.noise('small'):.4g} (small), {self.noise('right'):.4g} (right), "
                f"{self.noise('large'):.4g} (large)")

    @property
    def steps(self):
        return int(math.ceil(3.0 / self.lr))

    def key(self):
        """The landscape's parameters, (width, period, beta, growth)."""
        return (self.width, self.period, self.beta, self.growth)

    def landscape(self, dim=1):
        """The member as a :class:`sgdlab.Landscape`."""
        return landscapes.spiky(dim=dim, beta=self.beta, period=self.period,
                                growth=self.growth, width=self.width)

    def radius(self, level):
        """:math:`\\eta W` of ``level``: ``"GD"`` 0, ``"small"`` half the right radius (also
        the noise of row 3's first restart), ``"right"``, ``"large"``."""
        if level == "small":
            return 0.5 * self.right
        return 0.0 if level == "GD" else getattr(self, level)

    def noise(self, level):
        """Noise bound W of ``level``."""
        return self.radius(level) / self.lr

    def definition(self):
        """The setting as a dict (the form of :data:`sgdlab.landscapes.MOTIVATING`)."""
        return {"width": self.width, "period": self.period, "beta": self.beta,
                "growth": self.growth, "lr": self.lr, "right": self.right,
                "large": self.large}


@functools.lru_cache(maxsize=4096)
def _basins(key, radius):
    """The minima of g on [-3.5, 3.5] and the basin each grid point reaches
    (:func:`sgdlab.smoothing.minima_1d`). Cached: a member's g is evaluated once for all its
    seeds and panels."""
    land = landscapes.spiky(width=key[0], period=key[1], beta=key[2], growth=key[3])
    return minima_1d(land, radius=radius, span=_G_SPAN, n_points=_G_POINTS)


def _spurious(key, x, radius):
    """Which points of ``x`` lie in spurious basins of g (off the grid or not finite: yes),
    as :func:`sgdlab.smoothing.in_spurious_basin`."""
    return _basins(key, radius).spurious_at(x)


def nearest_spurious(setting, level="small"):
    """Smallest :math:`|x|` of a spurious minimum of the g of ``level`` on [-3.5, 3.5] (inf
    when it has none)."""
    sinks = _basins(setting.key(), setting.radius(level)).spurious
    return float(np.min(np.abs(sinks))) if sinks.size else math.inf


def _spread(x):
    return float(np.std(x)) if np.all(np.isfinite(x)) else math.inf


def _runs(setting, trials, seed):
    """The runs the claims rest on, for one seed: GD and the three noise levels from the
    starts in [-3, 3], and the restart with the small noise from new starts in [-1.5, 1.5]
    (the first two stages of row 3 of :func:`figure3_runs`: the same points and noise)."""
    land, s = setting.landscape(), setting
    x0 = _starts(trials, seed)
    runs = {level: run_sgd(land, x0, lr=s.lr, noise=s.noise(level), steps=s.steps, seed=seed)
            for level in ("GD", "small", "large")}
    schedule = [(s.lr, s.noise("right"), s.steps), (s.lr, s.noise("small"), s.steps)]
    runs["right"], runs["restart"] = run_schedule(
        land, x0, schedule, seed=seed, restarts=[_starts(trials, seed, INNER, stage=1)]).stages
    return runs


def _numbers(setting, runs):
    """The measurements of one seed's runs: shares, distinct minima, spreads."""
    key, t = setting.key(), THRESHOLDS
    gd, small = runs["GD"].x[:, 0], runs["small"].x[:, 0]
    stuck = _spurious(key, gd, 0.0)
    found = _spurious(key, small, setting.radius("small"))
    large = runs["large"].x[:, 0]
    minima = np.unique(_basins(key, 0.0).minimum_at(gd[stuck]))
    return {"stuck_share": float(stuck.mean()), "stuck_minima": int(len(minima)),
            "small_share": float(found.mean()),
            "small_inside": int(np.sum(found & (np.abs(small) <= INNER))),
            "right_share": runs["right"].share_within(INNER),
            "right_spurious": int(_spurious(key, runs["right"].x, setting.radius("right")).sum()),
            "right_spread": _spread(runs["right"].x), "restart_spread": _spread(
                runs["restart"].x), "large_spread": _spread(large),
            "large_escaped": int(np.sum(~(np.abs(large) <= t["escape"] * SPAN)))}


def _margin(value):
    return float(min(value, 1.0))


def judge_claims(numbers, nearest):
    """Per claim (:data:`CLAIMS`): whether it holds on the measurements ``numbers`` of one
    seed (as :class:`Member` keeps them) and the nearest spurious minimum of the small noise's g
    (``nearest``), and its margin: the relative slack of its thresholds, the least of them,
    capped at 1 (e.g. 0.2: a measured share 20% above the threshold). A "none" (no trial
    inside, at a bad minimum, escaped) is a condition, not a margin. Returns (holds, margins)."""
    n, t = numbers, THRESHOLDS
    slack = {
        "stuck": min(n["stuck_share"] / t["stuck_share"] - 1, n["stuck_minima"] / t[
            "stuck_minima"] - 1),
        "small": n["small_share"] / t["small_share"] - 1,
        "right": n["right_share"] / t["right_share"] - 1,
        "restart": min(nearest / INNER - 1, 1 - n["restart_spread"] / n["right_spread"]),
        "large": n["large_spread"] / n["right_spread"] - 1,
    }
    gates = {"stuck": True, "small": n["small_inside"] == 0, "right": n["right_spurious"] == 0,
             "restart": math.isfinite(n["restart_spread"]), "large": n["large_escaped"] == 0}
    holds = {k: bool(gates[k] and slack[k] > 0) for k in CLAIMS}
    if not math.isfinite(n["right_share"]):
        holds["right"] = False
    return holds, {k: _margin(v) for k, v in slack.items()}


@dataclass
class Member:
    """The five claims measured on one :class:`Setting`, over ``seeds``."""

    setting: Setting
    seeds: list
    """The seeds run."""
    numbers: list
    """Per seed, the measurements (:func:`judge_claims`)."""
    nearest: float
    """Smallest :math:`|x|` of a spurious minimum of the small noise's g (inf: none)."""
    holds: dict
    """Claim key -> whether it holds in every seed."""
    margins: dict
    """Claim key -> its least margin over the seeds."""

    @property
    def count(self):
        return int(sum(self.holds.values()))

    @property
    def score(self):
        """(claims held in every seed, the least margin among them, which can be
        compared across members: higher is better); :func:`search_family` ranks by it."""
        held = [self.margins[k] for k, ok in self.holds.items() if ok]
        return (self.count, min(held) if held else -math.inf)


def check_member(setting, *, trials=100, seeds=(0,)):
    """Measure the five claims of :data:`CLAIMS` on one :class:`Setting`, over ``seeds``
    (each: new starts and noise, ``trials`` trials), with the thresholds of
    :data:`THRESHOLDS`:

    * ``stuck``: GD ends in spurious basins of f in at least half the trials, at 10 or more
      distinct minima;
    * ``small``: at least 5% of the small-noise trials end in spurious basins of its g, and
      none of them inside [-1.5, 1.5];
    * ``right``: more than half the right-noise trials end within [-1.5, 1.5], and none in
      a spurious basin of its g;
    * ``restart``: the small noise's g has no spurious minimum on [-1.5, 1.5], and SGD with
      that noise restarted from [-1.5, 1.5] ends with a smaller spread (standard deviation)
      than the right noise from [-3, 3];
    * ``large``: the large noise's spread is larger than the right noise's, with every
      trial within [-30, 30] (a random walk, not a divergence).

    Returns
    -------
    Member
    """
    if not isinstance(setting, Setting):
        validate.fail("setting", "a Setting", error=TypeError, shown=type(setting).__name__)
    trials = validate.integer("trials", trials, low=1)
    seeds = [validate.seed("seeds", s) for s in seeds]
    if not seeds:
        validate.fail("seeds", "at least one seed", shown="[]")
    nearest = nearest_spurious(setting)
    numbers, holds, margins = [], dict.fromkeys(CLAIMS, True), dict.fromkeys(CLAIMS, 1.0)
    for seed in seeds:
        n = _numbers(setting, _runs(setting, trials, seed))
        ok, margin = judge_claims(n, nearest)
        numbers.append(n)
        holds = {k: holds[k] and ok[k] for k in CLAIMS}
        margins = {k: min(margins[k], margin[k]) for k in CLAIMS}
    return Member(setting=setting, seeds=list(seeds), numbers=numbers, nearest=nearest,
                  holds=holds, margins=margins)


@dataclass
class SearchResult:
    """Outcome of :func:`search_family`: every member screened, the finalists re-checked
    over more seeds, the best one, the conflicts, and the time it took."""

    members: list
    """One :class:`Member` per setting, screened on the first seed."""
    finalists: list
    """The best-screened members re-checked on every seed, best first."""
    best: Member
    """The finalist with the highest :attr:`Member.score`."""
    pairs: dict
    """(claim, claim) -> number of screened members where both hold."""
    seconds: float
    """Wall time of the search."""

    @property
    def all_hold(self):
        """True when the best member satisfies every claim in every seed."""
        return self.best.count == len(CLAIMS)

    @property
    def conflicts(self):
        """Pairs of claims that no screened member satisfies together."""
        return [pair for pair, count in self.pairs.items() if count == 0]


FAMILY = {"widths": ("fixed", "sqrt"), "periods": {"fixed": (0.1, 0.2, 0.3),
                                                  "sqrt": (0.03, 0.05, 0.08)},
          "betas": (0.05, 0.1, 0.2, 0.3, 0.5), "growths": (0, 1), "lrs": (2e-3, 4e-3),
          "rights": (0.03, 0.04, 0.05, 0.08, 0.12, 0.2), "larges": (4, 8)}
"""The grid of :func:`search_family`, by spike widths, periods (for ``"sqrt"``, p of
:math:`\\sqrt{|x|}/p`), heights :math:`\\beta`, growth exponents, step sizes, right radii
:math:`\\eta W` (the small one is half), and large radii in multiples of the right one."""


def _members(family):
    for width in family["widths"]:
        for period, beta, growth, lr, right, large in itertools.product(
                family["periods"][width], family["betas"], family["growths"], family["lrs"],
                family["rights"], family["larges"]):
            yield Setting(width=width, period=float(period), beta=float(beta),
                          growth=int(growth), lr=float(lr), right=float(right),
                          large=float(large * right))


def search_family(family=None, *, trials=100, seeds=(0, 1, 2, 3, 4), finalists=20):
    """Rank the members of ``family`` (default :data:`FAMILY`) by :attr:`Member.score`:
    first the number of claims that hold, then the least margin among them.

    Every member is screened on the first of ``seeds``; the ``finalists`` best are
    re-checked on all ``seeds`` and ranked again; ties left after the score go to the
    smaller (width, period, beta, growth, lr, right, large), so the order of the grid never
    decides. Every run is Numba's :func:`sgdlab.run_sgd`; g is exact and cached per radius.

    Returns
    -------
    SearchResult
    """
    family = FAMILY if family is None else family
    finalists = validate.integer("finalists", finalists, low=1)
    start = time.perf_counter()
    members = [check_member(s, trials=trials, seeds=seeds[:1]) for s in _members(family)]

    def rank(m):
        count, margin = m.score
        s = m.setting
        return (-count, -margin, s.width, s.period, s.beta, s.growth, s.lr, s.right, s.large)

    screened = sorted(members, key=rank)[:finalists]
    final = sorted((check_member(m.setting, trials=trials, seeds=seeds) for m in screened),
                   key=rank)
    pairs = {(a, b): sum(m.holds[a] and m.holds[b] for m in members)
             for a, b in itertools.combinations(CLAIMS, 2)}
    return SearchResult(members=members, finalists=final, best=final[0], pairs=pairs,
                        seconds=time.perf_counter() - start)


def _starts(trials, seed, span=SPAN, stage=0):
    return random_starts(trials, span=span, seed=seed, stage=stage)


# -- Figure 3 on one member ------------------------------------------------------------------
LEVELS = ("GD", "small", "right", "large")
"""The panels of row 2, in order (no noise, then the small, right and large noise of a
:class:`Setting`)."""


@dataclass
class Figure3:
    """Figure 3's runs on one :class:`Setting`: row 2 from starts in [-3, 3], and row 3 in
    both readings of the paper's restarts (each stage from new starts in a region that halves,
    with the radius :math:`\\eta W` halving: by the noise W at fixed lr, ``"noise"``, or by
    the step size at fixed W, ``"lr"``, with steps doubling so that :math:`\\eta T` stays)."""

    setting: Setting
    row2: dict
    """Level -> :class:`sgdlab.SGDResult`."""
    row3: dict
    """Reading (``"noise"``, ``"lr"``) -> list of one :class:`sgdlab.SGDResult` per stage."""
    regions: list
    """Half-width of the start region of each stage of row 3 (3, then 1.5, ...)."""


def _row3(land, s, reading, x0, restarts, seed):
    """One reading of row 3: stage k halves the radius (by W, or by lr with twice the
    steps), and starts from its own points (:func:`sgdlab.run_schedule` with restarts)."""
    stages = []
    for k in range(len(restarts) + 1):
        shrink = 0.5**k
        lr = s.lr * (shrink if reading == "lr" else 1.0)
        noise = s.noise("right") * (shrink if reading == "noise" else 1.0)
        stages.append((lr, noise, int(math.ceil(3.0 / lr))))
    return run_schedule(land, x0, stages, seed=seed, restarts=restarts).stages


def figure3_runs(setting, *, trials=100, stages=4, seed=0):
    """Run Figure 3 on ``setting``: row 2 (GD and the three noise levels, ``trials`` starts in
    [-3, 3]) and row 3 in both readings (``stages`` stages; stage k starts from new points
    in :math:`[-3/2^k, 3/2^k]`, :func:`sgdlab.random_starts` with ``stage=k``, with radius
    :math:`\\eta W` = the right radius / :math:`2^k`). Stage 0 is row 2's right noise and
    stage 1 restarts from [-1.5, 1.5] with the small noise, as the paper's F3,2 (in the
    "noise" reading; in the "lr" reading, with the same radius by a halved step size); the
    live explorer of the chapter computes the same runs.

    Returns
    -------
    Figure3
    """
    if not isinstance(setting, Setting):
        validate.fail("setting", "a Setting", error=TypeError, shown=type(setting).__name__)
    trials = validate.integer("trials", trials, low=1)
    stages = validate.integer("stages", stages, low=1, high=8)
    seed = validate.seed("seed", seed)
    land = setting.landscape()
    x0 = _starts(trials, seed)
    row2 = {level: run_sgd(land, x0, lr=setting.lr, noise=setting.noise(level) if level != "GD"
                           else 0.0, steps=setting.steps, seed=seed) for level in LEVELS}
    regions = [SPAN * 0.5**k for k in range(stages)]
    restarts = [_starts(trials, seed, regions[k], stage=k) for k in range(1, stages)]
    row3 = {reading: _row3(land, setting, reading, x0, restarts, seed)
            for reading in ("noise", "lr")}
    return Figure3(setting=setting, row2=row2, row3=row3, regions=regions)


def _panel(setting, run, key, label, half):
    x = run.x[:, 0]
    radius = run.smoothing_radius
    spurious = _spurious(setting.key(), x, radius)
    sinks = _basins(setting.key(), radius).spurious
    return {"key": key, "panel": label, "radius": radius, "W": run.noise, "lr": run.lr,
            "region": half, "within 1.5": run.share_within(INNER),
            "spurious": float(spurious.mean()),
            "spurious inside": float(np.mean(spurious & (np.abs(x) <= INNER))),
            "std": _spread(x), "bad minima in region": int(np.sum(np.abs(sinks) <= half))}


def panel_rows(fig3):
    """One row per panel of rows 2 and 3 (both readings): a ``key`` (``GD``, ``small``,
    ``right``, ``large``, ``noise-1``, ..., ``lr-1``, ...), a short label, the radius
    :math:`\\eta W`, W, lr, the half-width of the start region, the share within 1.5, the
    share in spurious basins of the run's g (and, of all trials, the share in one inside
    [-1.5, 1.5]), the spread (standard deviation, inf if a trial diverged) of the final
    iterates, and the number of spurious minima of the run's g in the run's start region
    ([-1.5, 1.5] in row 2)."""
    setting, rows = fig3.setting, []
    for level, run in fig3.row2.items():
        rows.append(_panel(setting, run, level, level, INNER))
    for reading, runs in fig3.row3.items():
        symbol = "W" if reading == "noise" else "η"
        for k, run in enumerate(runs):
            rows.append(_panel(setting, run, f"{reading}-{k + 1}", f"smaller {symbol}, {k + 1}",
                               fig3.regions[k]))
    return rows


# -- the live explorer ----------------------------------------------------------------------
RESTARTS = ("new", "continue")
"""The two ways the live explorer's later stages start. With ``"new"`` they start from new
points in a halving region (Figure 3's row 3, :func:`figure3_runs`); with ``"continue"``
from the previous stage's final iterates (the plain :func:`sgdlab.run_schedule`)."""


def explorer_runs(landscape, *, lr, noise, trials, steps, stages=1, seed=0, restart="new",
                  span=SPAN):
    """What the live explorer computes (in the browser, bit for bit the same): ``stages``
    stages of ``steps`` steps at step size ``lr``, the noise W halving at each stage, from
    ``trials`` starts :func:`sgdlab.random_starts` in [-span, span]; later stages start
    from new points in :math:`[-s/2^k, s/2^k]` (``restart="new"``) or from the previous
    stage's iterates (``"continue"``).

    Returns
    -------
    sgdlab.ScheduleResult
    """
    restart = validate.choice("restart", restart, RESTARTS)
    stages = validate.integer("stages", stages, low=1, high=32)
    trials = validate.integer("trials", trials, low=1)
    span = validate.real("span", span, above=0)
    x0 = random_starts(trials, span=span, seed=seed)
    restarts = None if restart == "continue" else [
        random_starts(trials, span=span / 2**k, seed=seed, stage=k) for k in range(1, stages)]
    schedule = [(lr, noise / 2**k, steps) for k in range(stages)]
    return run_schedule(landscape, x0, schedule, seed=seed, restarts=restarts)


LIMITS = {"trials": 1000, "steps": 20000, "stages": 6}
"""The live explorer's largest settings. The page stays responsive up to them, because the
work is done in chunks."""

RANGES = {"lr": (1e-12, 1e3), "noise": (0.0, 1e9)}
"""The step sizes and noise bounds W the live explorer's controls accept. The page receives
them with :data:`LIMITS`, in its config's ``limits``."""


def explorer_rows(landscape, result, *, inner=INNER):
    """Per stage of ``result`` (:func:`explorer_runs`): W, lr, the radius, the share within
    ``inner``, the share in a spurious basin of the stage's g (and inside ``inner``), the
    number diverged: the numbers the live explorer prints."""
    rows = []
    for run in result.stages:
        x = run.x[:, 0]
        spurious = in_spurious_basin(landscape, x, radius=run.smoothing_radius, span=_G_SPAN,
                                     n_points=_G_POINTS)
        rows.append({"W": run.noise, "lr": run.lr, "radius": run.smoothing_radius,
                     "within": run.share_within(inner), "spurious": float(spurious.mean()),
                     "spurious inside": float(np.mean(spurious & (np.abs(x) <= inner))),
                     "diverged": int(run.diverged.sum())})
    return rows


def live_explorer(setting, *, level="right", trials=100, stages=1, seed=0, restart="new"):
    """The motivating example's live explorer for the web page (:mod:`sgdlab.book.live`): the
    page reruns :func:`explorer_runs` in the reader's browser, bit for bit, as the controls
    move. With JavaScript off the page shows :func:`plot_explorer` of the first runs.

    Parameters
    ----------
    setting : Setting
        The landscape, the step size, the steps per stage and the noise levels.
    level : {"right", "small", "large", "GD"}
        The noise W the explorer starts at.
    trials, stages : int
        At most :data:`LIMITS` (the steps, ``setting.steps``, too; the step size and the noise
        within :data:`RANGES`).
    seed : int
        In [0, 2**53) (:data:`sgdlab.book.live.SEED_LIMIT`).
    restart : {"new", "continue"}
        How later stages start (:data:`RESTARTS`).

    Returns
    -------
    sgdlab.book.live.LiveExplorer
    """

    if not isinstance(setting, Setting):
        validate.fail("setting", "a Setting", error=TypeError, shown=type(setting).__name__)
    level = validate.choice("level", level, ("GD",) + LEVELS[1:])
    (lr_low, lr_high), (noise_low, noise_high) = RANGES["lr"], RANGES["noise"]
    noise = setting.noise(level) if level != "GD" else 0.0
    settings = {"width": setting.width, "beta": setting.beta, "period": setting.period,
                "growth": setting.growth,
                "lr": validate.real("setting.lr", setting.lr, low=lr_low, high=lr_high),
                "noise": validate.real("noise", noise, low=noise_low, high=noise_high),
                "trials": validate.integer("trials", trials, low=1, high=LIMITS["trials"]),
                "steps": validate.integer("setting.steps", setting.steps, low=1,
                                          high=LIMITS["steps"]),
                "stages": validate.integer("stages", stages, low=1, high=LIMITS["stages"]),
                "seed": page_seed("seed", seed), "restart": validate.choice(
                    "restart", restart, RESTARTS), "inner": INNER, "span": SPAN,
                "grid": {"span": _G_SPAN, "nPoints": _G_POINTS}}
    land = setting.landscape()
    result = explorer_runs(land, **{k: settings[k] for k in (
        "lr", "noise", "trials", "steps", "stages", "seed", "restart")})
    config = {"landscape": {k: settings[k] for k in ("width", "beta", "period", "growth")},
              "settings": settings, "limits": {**LIMITS, **RANGES},
              "levels": {lv: setting.noise(lv) for lv in LEVELS[1:]}}
    png = figure_to_png(plot_explorer(land, result, restart=settings["restart"]))
    return LiveExplorer("motivating", config, png, alt="Final iterates of SGD on the spiky "
                        f"f, {settings['trials']} trials, {settings['stages']} stage(s), "
                        f"W = {settings['noise']:g} at first")


def plot_explorer(landscape, result, *, span=SPAN, restart="new"):
    """The live explorer's figure, static: per stage, f and the stage's g (left) and the
    final iterates with their cumulative count (right,
    :func:`sgdlab.book.style.plot_final_iterates`), on the stage's start region as in the page
    (:math:`[-s/2^k, s/2^k]` with ``restart="new"``, else :math:`[-s, s]`). Returns the
    figure."""
    restart = validate.choice("restart", restart, RESTARTS)
    n = len(result.stages)
    fig, axes = plt.subplots(n, 2, figsize=(7.5, 2.2 * n), squeeze=False,
                             constrained_layout=True)
    for k, ((left, right), run, row) in enumerate(zip(axes, result.stages,
                                                      explorer_rows(landscape, result))):
        half = span / 2**k if restart == "new" else span
        xs = np.linspace(-half, half, 1201)
        left.plot(xs, landscape.f(xs), color=PALETTE["function"], lw=0.8, label="f")
        left.plot(xs, landscape.smoothed(xs, radius=run.smoothing_radius),
                  color=PALETTE["smoothed"], label=f"g, ηW = {run.smoothing_radius:.3g}")
        left.set_xlim(-half, half)
        left.legend(loc="upper center", fontsize=7)
        plot_final_iterates(right, run.x[:, 0], span=half, curve=(xs, landscape.f(xs)),
                            title=f"W = {run.noise:g}: {tables.percent(row['within'])} within "
                            f"{INNER:g}, {tables.percent(row['spurious'])} spurious")
    return fig


# -- the verdicts, the ledger and the glue ---------------------------------------------------
LEVEL = 0.95
"""The confidence of the Clopper-Pearson bounds of :func:`claim_verdicts`."""


def claim_verdicts(member, *, trials=100):
    """The verdict on each claim of :data:`CLAIMS` for ``member``, from the thresholds of
    :data:`THRESHOLDS` (:mod:`sgdlab.book.verdicts`): every condition without a share (a
    count, a "none", a spread) must hold in every seed, else "no"; a share's threshold is
    judged on the counts pooled over the seeds by one-sided 95% Clopper-Pearson bounds
    (:func:`sgdlab.book.verdicts.share_at_least`: "can't tell" when the bound straddles it).
    ``trials`` is the number of trials per seed. Returns claim key -> Verdict."""
    t, numbers = THRESHOLDS, member.numbers
    total = trials * len(numbers)

    def pooled(key):
        return int(round(sum(n[key] for n in numbers) * trials))

    def every(cond):
        return all(cond(n) for n in numbers)

    def with_share(conditions, key, limit):
        if not conditions:
            return verdicts.judge(False)
        return verdicts.share_at_least(pooled(key), total, limit, level=LEVEL)

    restart_ok = member.nearest > INNER and every(
        lambda n: n["restart_spread"] < n["right_spread"])
    return {
        "stuck": with_share(every(lambda n: n["stuck_minima"] >= t["stuck_minima"]),
                            "stuck_share", t["stuck_share"]),
        "small": with_share(every(lambda n: n["small_inside"] == 0), "small_share",
                            t["small_share"]),
        "right": with_share(every(lambda n: n["right_spurious"] == 0), "right_share",
                            math.nextafter(t["right_share"], 1.0)),
        "restart": verdicts.judge(restart_ok),
        "large": verdicts.judge(every(lambda n: n["large_escaped"] == 0
                                      and n["large_spread"] > n["right_spread"])),
    }


def _range(member, key, fmt):
    """``"58% to 72%"`` over the member's seeds, or ``"100%"`` when they agree."""
    low, high = (f(n[key] for n in member.numbers) for f in (min, max))
    return fmt(low) if fmt(low) == fmt(high) else f"{fmt(low)} to {fmt(high)}"


def _how_many(count):
    return "none" if count == 0 else tables.number(count)


def claim_measured(member):
    """What each claim's verdict rests on, in words, over the member's seeds."""
    m, seeds = member, len(member.numbers)
    over = f"over {seeds} seeds" if seeds > 1 else "one seed"
    ratio = max(n["restart_spread"] / n["right_spread"] for n in m.numbers)
    walk = min(n["large_spread"] / n["right_spread"] for n in m.numbers)
    nearest = ("no spurious minimum on [-3.5, 3.5]" if math.isinf(m.nearest)
               else f"its nearest spurious minimum at |x| = {tables.number(m.nearest, 4)}")
    return {
        "stuck": f"{_range(m, 'stuck_share', tables.percent)} of GD trials in spurious "
                 f"basins, at {_range(m, 'stuck_minima', tables.number)} distinct minima "
                 f"({over})",
        "small": f"{_range(m, 'small_share', tables.percent)} in spurious basins, "
                 f"{_how_many(sum(n['small_inside'] for n in m.numbers))} of them inside "
                 f"[-1.5, 1.5] ({over})",
        "right": f"{_range(m, 'right_share', tables.percent)} within [-1.5, 1.5], "
                 f"{_how_many(sum(n['right_spurious'] for n in m.numbers))} in spurious "
                 f"basins ({over})",
        "restart": f"small noise's g: {nearest}; restart spread at most "
                   f"{tables.number(ratio)} times the right noise's ({over})",
        "large": f"spread at least {tables.number(walk)} times the right noise's, "
                 f"{_how_many(sum(n['large_escaped'] for n in m.numbers))} beyond "
                 f"[-30, 30] ({over})",
    }


def conflict_text(search):
    """The sentence on the search's outcome, chosen by the result: the best member satisfies
    every claim in every seed (and its least margin), or which claims it misses and which
    pairs of claims no screened member satisfies together."""
    if not isinstance(search, SearchResult):
        validate.fail("search", "a SearchResult", error=TypeError, shown=type(search).__name__)
    best = search.best
    if search.all_hold:
        key = min(best.margins, key=best.margins.get)
        return (f"it satisfies all five claims in each of its {len(best.seeds)} seeds; its "
                f"thinnest margin is on “{NAMES[key]}”, {_margin_words(best.margins[key])} "
                "beyond its threshold")
    missed = tables.joined(f"“{NAMES[k]}”" for k, ok in best.holds.items() if not ok)
    text = f"it satisfies {best.count} of the five claims in every seed, not {missed}"
    pairs = search.conflicts
    if pairs:
        both = [f"“{NAMES[a]}” and “{NAMES[b]}”" for a, b in pairs]
        text += "; no screened member satisfies both of " + tables.joined(both, last="nor")
    return text


def _shrinks(runs):
    stds = [_spread(run.x) for run in runs]
    return stds, all(a > b for a, b in zip(stds, stds[1:]))


def ledger_rows(search, fig3, *, definition=None):
    """The chapter's ledger (:mod:`sgdlab.book.verdicts` rows): the paper's five claims on
    the search's best member (:func:`claim_verdicts`, :func:`claim_measured`), then our own
    checks: row 3 in both readings, the search, and whether the pick is ``definition``
    (default :data:`sgdlab.landscapes.MOTIVATING`, the f the other chapters use)."""
    definition = landscapes.MOTIVATING if definition is None else definition
    member = search.best
    if fig3.setting != member.setting:
        validate.fail("fig3", "runs of the search's best member", shown=repr(fig3.setting))
    judged, measured = claim_verdicts(member), claim_measured(member)
    rows = [verdicts.row(f"{NAMES[k]}: {CLAIMS[k]}", measured[k], judged[k]) for k in CLAIMS]
    for reading, words in (("noise", "smaller noise"), ("lr", "smaller step size")):
        stds, ok = _shrinks(fig3.row3[reading])
        rows.append(verdicts.row(f"restarts with {words} end closer to 0 at every stage",
                                 " → ".join(tables.number(v) for v in stds), ok,
                                 source="ours"))
    rows.append(verdicts.row("some member of our family satisfies all five claims in every "
                             "seed (the search)", f"best: {member.count} of 5, of "
                             f"{tables.number(len(search.members))} members",
                             search.all_hold, source="ours"))
    rows.append(verdicts.row("the search's pick is sgdlab.landscapes.MOTIVATING",
                             repr(member.setting), member.setting.definition() == definition,
                             source="ours"))
    return rows


def _margin_words(margin):
    """A margin in words: ``"16%"``, or ``"100% or more"`` where it was capped."""
    return "100% or more" if margin >= 1.0 else tables.percent(margin)


def glue_search(search):
    """Glue the search's outcome for the prose (prefix ``search-``; and the thresholds of
    :data:`THRESHOLDS`, prefix ``threshold-``, shares as percentages): its size, time and
    seeds, the best member's parameters and noise levels, the members that satisfy every
    claim on the screening seed, :func:`conflict_text`, and whether the pick is the book's
    :data:`sgdlab.landscapes.MOTIVATING`. Returns the dict of glued texts."""
    best = search.best
    s = best.setting
    same = s.definition() == landscapes.MOTIVATING
    width = ("widen like the square root of |x|" if s.width == "sqrt"
             else "all have the same width")
    larges = sorted({round(m.setting.large / m.setting.right, 12) for m in search.members})
    values = {"members": len(search.members), "seconds": tables.number(search.seconds, 2),
              "larges": tables.joined([tables.number(v) for v in larges], last="or"),
              "level": tables.percent(LEVEL),
              "finalists": len(search.finalists), "seeds": len(best.seeds),
              "all-five": sum(m.count == len(CLAIMS) for m in search.members),
              "width": s.width, "width-words": width, "period": s.period, "beta": s.beta,
              "growth": s.growth, "lr": s.lr, "steps": s.steps,
              "small-W": s.noise("small"), "right-W": s.noise("right"),
              "large-W": s.noise("large"), "small-r": s.radius("small"),
              "right-r": s.radius("right"), "large-r": s.radius("large"),
              "outcome": conflict_text(search), "nearest": best.nearest}
    values["definition"] = ("it is the f that sgdlab.landscapes.motivating() defines, which "
                            "the main theorem's chapter and the introduction use" if same else
                            "it is not the f that sgdlab.landscapes.motivating() defines (the "
                            "one the main theorem's chapter and the introduction use)")
    judged = claim_verdicts(best)
    values.update({f"{k}-verdict": str(v) for k, v in judged.items()})
    values.update({f"{k}-margin": _margin_words(best.margins[k]) for k in CLAIMS})
    values["nearest"] = tables.number(best.nearest, 4)
    t = THRESHOLDS
    tables.glue_numbers("threshold", {k: tables.percent(v) if k.endswith("share") else v
                                      for k, v in t.items()})
    return tables.glue_numbers("search", values)


def glue_figure3(fig3):
    """Glue the numbers of :func:`panel_rows` for the prose, as ``fig3-{panel}-{column}``
    (panel: ``GD``, ``small``, ``right``, ``large``, ``noise-1`` .. ``lr-4``; column:
    ``within``, ``spurious``, ``inside``, ``std``), and ``fig3-{reading}-shrinks``. Shares
    are percentages. Returns the dict of glued texts."""
    out = {}
    for row in panel_rows(fig3):
        key = row["key"]
        for column, name in (("within 1.5", "within"), ("spurious", "spurious"),
                             ("spurious inside", "inside")):
            out[f"fig3-{key}-{name}"] = tables.glue_percent(f"fig3-{key}-{name}", row[column])
        out[f"fig3-{key}-std"] = tables.glue_number(f"fig3-{key}-std", row["std"])
    for reading, runs in fig3.row3.items():
        _, ok = _shrinks(runs)
        name = f"fig3-{reading}-shrinks"
        out[name] = tables.glue_text(name, "shrinks at every stage" if ok
                                     else "does not shrink at every stage")
    return out


def ledger_table(search, fig3, source="paper"):
    """The ledger's rows of ``source`` (``"paper"``: the paper's claims; ``"ours"``: our own
    checks) as a Markdown table (one call renders one table)."""
    paper, ours = verdicts.split(ledger_rows(search, fig3))
    return verdicts.markdown(paper if source == "paper" else ours)


def panel_table(fig3):
    """:func:`panel_rows` as a Markdown table with short headers."""
    rows = [{"panel": r["panel"], "ηW": r["radius"], "W": r["W"], "η": r["lr"],
             "in 1.5": tables.percent(r["within 1.5"]),
             "spurious": tables.percent(r["spurious"]),
             "spur. in 1.5": tables.percent(r["spurious inside"]), "spread": r["std"],
             "bad minima of g in start region": r["bad minima in region"]}
            for r in panel_rows(fig3)]
    return tables.markdown_table(rows)


# -- figures ---------------------------------------------------------------------------------
def plot_search(search, *, figsize=(7.5, 3.0)):
    """The search at a glance: left, the screened members by the number of claims they
    satisfy, per spike width; right, for each claim (:data:`NAMES`), the share of members
    where it holds, and the best member's margin on it. Returns the figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize, constrained_layout=True)
    counts = np.arange(len(CLAIMS) + 1)
    widths = sorted({m.setting.width for m in search.members})
    bottom = np.zeros(counts.size)
    for width, colour in zip(widths, (PALETTE["function"], PALETTE["smoothed"])):
        n = np.array([sum(m.count == c and m.setting.width == width for m in search.members)
                      for c in counts])
        left.bar(counts, n, bottom=bottom, color=colour, label=f"width {width}")
        bottom += n
    left.set_xlabel("claims satisfied (screening seed)")
    left.set_ylabel("members")
    left.legend(fontsize=7)
    share = [np.mean([m.holds[k] for m in search.members]) for k in CLAIMS]
    y = np.arange(len(CLAIMS))
    right.barh(y, share, color=PALETTE["muted"], label="share of members")
    right.plot([max(search.best.margins[k], 0.0) for k in CLAIMS], y, "o",
               color=PALETTE["alert"], label="best member's margin")
    right.set_yticks(y, [NAMES[k] for k in CLAIMS])
    right.invert_yaxis()
    right.set_xlim(0, 1.05)
    right.legend(fontsize=7, loc="lower right")
    return fig


def plot_figure3(fig3, *, figsize=(7.5, 7.0)):
    """Figure 3 on the runs of ``fig3``: row 1 f and its exact convolutions at the small,
    right and large radii; row 2 the final iterates of GD and SGD at those levels; rows 3
    and 4 the restarts, reading "smaller noise" and "smaller step size". Returns the
    figure."""
    s, land = fig3.setting, fig3.setting.landscape()
    xs = np.linspace(-SPAN, SPAN, 2001)
    fig, axes = plt.subplots(4, 4, figsize=figsize, constrained_layout=True)
    plot_curve(axes[0, 0], xs, land.f(xs), title="f")
    for ax, level in zip(axes[0, 1:], LEVELS[1:]):
        plot_curve(ax, xs, land.smoothed(xs, radius=s.radius(level)),
                   title=f"g, ηW = {s.radius(level):g}")
    for ax, (level, run) in zip(axes[1], fig3.row2.items()):
        title = "GD" if level == "GD" else f"{level}, W = {run.noise:.3g}"
        plot_final_iterates(ax, run.x[:, 0], span=SPAN, curve=(xs, land.f(xs)), title=title)
    for row, reading in zip(axes[2:], ("noise", "lr")):
        for k, (ax, run) in enumerate(zip(row, fig3.row3[reading])):
            label = f"W = {run.noise:.3g}" if reading == "noise" else f"η = {run.lr:.3g}"
            near = np.linspace(-fig3.regions[k], fig3.regions[k], 1001)
            plot_final_iterates(ax, run.x[:, 0], span=fig3.regions[k], title=label,
                                curve=(near, land.f(near)))
    for ax in axes.ravel():
        ax.tick_params(labelsize=7)
    return fig


# -- Figure 3: final iterates after SGD in stages (chapter motivating-example) ---------------
def explorer_figure(landscape, *, lr, noise, trials, stages, steps, seed=0, span=3.0,
                    restart="continue"):
    """Run SGD in ``stages`` stages (noise halved at each) from uniform starts in
    [-span, span] (:func:`explorer_runs`) and draw the final iterates of
    the last stage (:func:`sgdlab.book.style.plot_final_iterates`).

    Parameters
    ----------
    landscape : sgdlab.Landscape or str
        A 1-D landscape, or a built-in one's name.
    lr, noise : float
        Step size and the noise bound W of the first stage.
    trials, stages, steps : int
        Trials, stages, and steps per stage.
    seed : int
    span : float
    restart : {"continue", "new"}
        Later stages continue from the previous iterates, or start from new points in a
        halving region (Figure 3's row 3).

    Returns
    -------
    fig : matplotlib.figure.Figure
    result : sgdlab.ScheduleResult
    """

    landscape = landscapes.as_landscape(landscape)
    use_style()
    result = explorer_runs(landscape, lr=lr, noise=noise, trials=trials, steps=steps,
                           stages=stages, seed=seed, restart=restart, span=span)
    fig, ax = plt.subplots(figsize=(6, 2.6))
    xs = np.linspace(-span, span, 1201)
    last = result.stages[-1]
    plot_final_iterates(
        ax, last.x[:, 0], span=span, curve=(xs, landscape.f(xs)),
        title=(f"lr={lr:g}, noise={noise:g} (radius {lr * noise:.3g}), {stages} stage(s): "
               f"{last.share_within(1.5):.0%} within 1.5, std {np.nanstd(last.x):.3f}"),
    )
    return fig, result


def sgd_explorer(landscape=None, *, lr=5e-4, noise=100.0, trials=100, stages=1, steps=6000):
    """Sliders for noise, step size, trials and stages that rerun SGD live (Figure 3).

    Each change reruns :func:`sgdlab.run_schedule` through
    :func:`explorer_figure` (a few milliseconds once compiled) and redraws
    the final iterates.

    Parameters
    ----------
    landscape : sgdlab.Landscape or str, optional
        A 1-D landscape or a built-in one's name (default ``sgdlab.landscapes.spiky()``).
    lr, noise : float
        Initial step size and noise bound W.
    trials, stages : int
        Initial trials and stages (noise halved at each).
    steps : int
        Steps per stage.

    Returns
    -------
    ipywidgets.interactive
    """
    import ipywidgets as widgets
    from IPython.display import display

    landscape = landscapes.spiky() if landscape is None else landscapes.as_landscape(landscape)
    if landscape.dim != 1:
        raise ValueError(f"landscape must be 1-dimensional for this explorer, "
                         f"got dim={landscape.dim}")

    def update(noise, lr, trials, stages):
        fig, _ = explorer_figure(landscape, lr=lr, noise=noise, trials=trials, stages=stages,
                                 steps=steps)
        display(fig)  # works with any matplotlib backend, unlike plt.show(fig)
        plt.close(fig)

    return widgets.interactive(
        update,
        noise=widgets.FloatLogSlider(value=noise, base=10, min=0, max=3, step=0.05,
                                     description="noise W", continuous_update=False),
        lr=widgets.FloatLogSlider(value=lr, base=10, min=-4, max=-2, step=0.05,
                                  description="lr", continuous_update=False,
                                  readout_format=".1e"),
        trials=widgets.IntSlider(value=trials, min=10, max=1000, step=10,
                                 description="trials", continuous_update=False),
        stages=widgets.IntSlider(value=stages, min=1, max=5, description="stages",
                                 continuous_update=False),
    )
