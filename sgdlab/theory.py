"""The paper's constants and bounds: Assumption 1, Theorem 1, Lemma 5, Corollary 2, Theorem 3,
closed forms (SGD on a quadratic, the least curvature of g) and the bounds of Section 5
(Lemma 6's Hoeffding bound, Clopper-Pearson's): numbers in, numbers out.

Noise follows :mod:`sgdlab.sgd`: :math:`w` uniform in the box :math:`[-W, W]^d` (``noise`` =
W), so the paper's bound :math:`\\max\\|\\omega\\|_2 \\le r` holds with :math:`r = W\\sqrt d`
(:func:`noise_bound`), and :math:`g(y) = E_\\omega f(y - \\eta\\omega)` is f convolved with the
box of half-width :math:`\\eta W`. A *domain* D is a set of points, shape (n, dim): a grid
(:func:`grid`) or a sample (:func:`ball`); quantities "on D" are estimated on those points.

Chapters :ref:`main-theorem`, :ref:`step-size`, :ref:`motivating-example` (the least
curvature), :ref:`nn-trajectory` (Lemma 6) and :ref:`nn-landscape` (Clopper-Pearson).
"""

import math
from dataclasses import dataclass, field

import numpy as np

from . import _kernels, _rng, _validate
from ._validate import fail, flag, integer, points, real
from .landscapes import as_landscape

__all__ = ["grid", "ball", "noise_bound", "SmoothnessEstimate", "smoothness",
           "AssumptionCheck", "one_point_convexity", "Theorem1", "theorem1", "measure",
           "Lemma5", "lemma5", "Corollary2", "corollary2", "OneStep", "one_step", "YTrace",
           "track_y", "y_distance_sq", "gd_distance_change", "noise_second_moment",
           "overshoot_lr", "one_step_ratio", "theorem3_threshold", "OnePointUpper",
           "one_point_upper"]

_MAX_GRID = 10_000_000
_MAX_PATH_BYTES = 2 * 1024**3


# -- domains --------------------------------------------------------------------------------
def grid(low, high, n_points, *, dim=1):
    """Regular grid of ``n_points`` values per axis on [low, high]^dim, shape
    (n_points**dim, dim)."""
    low = real("low", low)
    high = real("high", high, above=low)
    n_points = integer("n_points", n_points, low=2)
    dim = integer("dim", dim, low=1)
    if n_points**dim > _MAX_GRID:
        fail("n_points**dim", f"at most {_MAX_GRID} (use sgdlab.theory.ball to sample the "
             "domain instead)", shown=f"{n_points}**{dim}")
    axes = np.meshgrid(*[np.linspace(low, high, n_points)] * dim, indexing="ij")
    return np.stack([a.ravel() for a in axes], axis=1)


def ball(radius, n_points, dim, *, center=0.0, seed=0):
    """``n_points`` points uniform in the ball of ``radius`` around ``center`` in R^dim.

    Drawn from sgdlab's counter-based stream ``Stream.BALL`` of ``seed`` (point i: trial i's
    stream): a direction from ``dim`` standard normals (Box-Muller on pairs of uniforms) and
    a radius :math:`r\\,v^{1/d}`, v uniform in (0, 1].
    """
    radius = real("radius", radius, above=0)
    n_points = integer("n_points", n_points, low=1)
    dim = integer("dim", dim, low=1)
    key = _rng.make_key(_validate.seed("seed", seed), _rng.Stream.BALL)
    try:
        center = np.broadcast_to(np.asarray(center, dtype=np.float64), (dim,))
    except (TypeError, ValueError):
        fail("center", f"a number or {dim} numbers", center)
    pairs = (dim + 1) // 2
    u = np.empty((n_points, 2 * pairs + 1))
    _kernels.uniform_box(key, 1.0, 0, u)
    u = (1.0 - u) / 2.0  # uniform in (0, 1]
    modulus = np.sqrt(-2.0 * np.log(u[:, :pairs]))
    angle = 2.0 * np.pi * u[:, pairs:2 * pairs]
    direction = np.concatenate([modulus * np.cos(angle), modulus * np.sin(angle)], axis=1)
    direction = direction[:, :dim]
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    r = radius * u[:, -1] ** (1.0 / dim)
    return center + r[:, None] * direction


def noise_bound(noise, dim):
    """The paper's r (Theorem 1, :math:`\\max\\|\\omega\\|_2 \\le r`) for box noise:
    :math:`r = W\\sqrt d`."""
    return real("noise", noise, low=0) * math.sqrt(integer("dim", dim, low=1))


def noise_second_moment(noise, dim):
    """:math:`E\\|w\\|_2^2 = dW^2/3` for w uniform in the box :math:`[-W, W]^d`: what one
    SGD step adds, in mean, to the squared distance after the GD step, times
    :math:`\\eta^2` (Theorem 3 with noise)."""
    return integer("dim", dim, low=1) * real("noise", noise, low=0) ** 2 / 3.0


# -- L-smoothness on D ----------------------------------------------------------------------
@dataclass
class SmoothnessEstimate:
    """Estimate of L = max ||Hessian f||_2 on a domain, and where the maximum is attained."""

    L: float
    at: np.ndarray
    method: str


def smoothness(landscape, domain, *, pad=0.0):
    """L of Theorem 1 (f is L-smooth: :math:`\\|\\nabla f(x) - \\nabla f(x')\\| \\le L\\|x-x'\\|`),
    estimated on ``domain``.

    Separable landscapes have a diagonal Hessian, so
    :math:`L = \\max_s |f_1''(s)|` over the coordinate range of the domain widened by ``pad``
    (a grid of 20,001 values plus the domain's own coordinates). Other landscapes: the largest
    spectral norm of the central-difference Hessian over the domain's points.
    """
    land = as_landscape(landscape, need_target=True)
    pts = points("domain", domain, land.dim)
    pad = real("pad", pad, low=0)
    if land.is_separable:
        lo, hi = pts.min() - pad, pts.max() + pad
        s = np.unique(np.r_[np.linspace(lo, hi, 20001), pts.ravel()])
        h = 1e-5 * np.maximum(1.0, np.abs(s))
        curvature = np.abs((land.slope1(s + h) - land.slope1(s - h)) / (2 * h))
        k = int(np.argmax(curvature))
        return SmoothnessEstimate(float(curvature[k]), np.full(land.dim, s[k]),
                                  "separable: max |f1''| on a grid of the coordinate range")
    n, d = pts.shape
    h = 1e-5 * np.maximum(1.0, np.abs(pts).max(axis=1))
    shifts = np.eye(d)[None, :, :] * h[:, None, None]
    up = land.grad((pts[:, None, :] + shifts).reshape(-1, d)).reshape(n, d, d)
    down = land.grad((pts[:, None, :] - shifts).reshape(-1, d)).reshape(n, d, d)
    hess = (up - down) / (2 * h[:, None, None])
    hess = 0.5 * (hess + hess.transpose(0, 2, 1))
    norms = np.abs(np.linalg.eigvalsh(hess)).max(axis=1)
    k = int(np.argmax(norms))
    return SmoothnessEstimate(float(norms[k]), pts[k].copy(),
                              "max spectral norm of the central-difference Hessian on D")


# -- Assumption 1: c ------------------------------------------------------------------------
@dataclass
class AssumptionCheck:
    """Assumption 1 on a domain: per point x, y = x - lr grad f(x) and the ratio
    <-grad g(y), x* - y> / ||x* - y||^2; c is the smallest ratio (c <= 0: the assumption fails
    on D, ``violations`` counts the points with ratio <= 0)."""

    c: float
    at_x: np.ndarray
    at_y: np.ndarray
    violations: int
    n_points: int
    """Number of points where the ratio is defined."""
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    ratios: np.ndarray = field(repr=False)
    """Per point; nan where y is within ``exclude`` of x* (the ratio is undefined there)."""
    ratio_stderr: np.ndarray = field(repr=False)
    """Monte Carlo standard error of each ratio (zeros when exact)."""
    lr: float
    noise: float
    exact: bool

    @property
    def radius(self):
        """Half-width lr * noise of the box the noise convolves f with."""
        return self.lr * self.noise

    @property
    def holds(self):
        return self.c > 0


def one_point_convexity(landscape, domain, *, lr, noise, samples=None, seed=0, exclude=None):
    """c of Assumption 1 (eq. 2): the largest c with

    .. math:: \\langle -\\nabla E_\\omega f(y - \\eta\\omega), x^* - y\\rangle
              \\ge c\\,\\|x^* - y\\|_2^2, \\qquad y = x - \\eta\\nabla f(x),

    for every x of ``domain``. With ``samples=None`` the gradient of the smoothed f is exact
    (separable landscapes: :math:`(f_1(y_j+\\rho) - f_1(y_j-\\rho))/2\\rho`, :math:`\\rho=\\eta W`);
    with an integer, it is a Monte Carlo average over that many noise draws per point (any
    landscape; counter-based draws, so the same for any thread count), with standard errors.

    Points with :math:`\\|x^* - y\\| \\le` ``exclude`` are left out (ratio nan): there the ratio
    is 0/0 in floating point, and a Monte Carlo estimate's error grows like
    :math:`1/\\|x^* - y\\|`. The default, :math:`10^{-6}\\max\\|x^* - y\\|`, only removes
    rounding; with ``samples``, choose it from the error you accept.
    """
    land = as_landscape(landscape, need_target=True)
    pts = points("domain", domain, land.dim)
    lr = real("lr", lr, above=0)
    noise = real("noise", noise, low=0)
    samples = _validate.count("samples", samples, low=2, allow_none=True)
    seed = _validate.seed("seed", seed)
    radius = lr * noise
    y = pts - lr * land.grad(pts)
    v = land.x_star - y
    dist_sq = np.einsum("ij,ij->i", v, v)
    if exclude is None:
        exclude = 1e-6 * math.sqrt(float(dist_sq.max()))
    exclude = real("exclude", exclude, low=0)
    dist_sq = np.where(dist_sq > exclude**2, dist_sq, 0.0)
    if samples is None:
        if not land.is_separable:
            fail("samples", "an integer >= 2 for this landscape (the exact smoothed gradient "
                 "needs a separable one)", None)
        inner = -np.einsum("ij,ij->i", land.smoothed_grad(y, radius=radius), v)
        inner_err = np.zeros_like(inner)
    else:
        key = _rng.make_key(seed, _rng.Stream.PROJECTED_GRADIENT)
        inner, inner_err = land.projected_grad_mc(y, v, radius=radius, samples=samples, key=key)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where(dist_sq > 0, inner / dist_sq, np.nan)
        ratio_err = np.where(dist_sq > 0, inner_err / dist_sq, np.nan)
    if np.all(np.isnan(ratios)):
        raise ValueError("every point of the domain maps to y within `exclude` of x*: c is "
                         "undefined there")
    k = int(np.nanargmin(ratios))
    return AssumptionCheck(
        c=float(ratios[k]), at_x=pts[k].copy(), at_y=y[k].copy(),
        violations=int(np.count_nonzero(ratios <= 0)),
        n_points=int(np.count_nonzero(dist_sq > 0)),
        x=pts, y=y, ratios=ratios, ratio_stderr=ratio_err, lr=lr, noise=noise,
        exact=samples is None)


# -- Theorem 1 ------------------------------------------------------------------------------
@dataclass
class Theorem1:
    """Theorem 1's step-size condition and constants for given lr, L, c, r.

    ``lr_bounds`` holds the three terms of :math:`\\eta < \\min\\{1/2L, c/L^2, 1/2c\\}`;
    ``lam`` = :math:`\\lambda = 2\\eta c - \\eta^2L^2`, ``b`` = :math:`\\eta^2 r^2(1+\\eta L)^2`,
    ``radius_sq`` = :math:`20b/\\lambda` (the bound on :math:`\\|y_{T_1}-x^*\\|^2`),
    ``T1`` = :math:`\\log(\\lambda\\|y_0-x^*\\|^2/b)/\\lambda` when ``dist0_sq`` is given.
    """

    lr: float
    L: float
    c: float
    r: float
    lr_bounds: dict
    lam: float
    b: float
    dist0_sq: float | None = None
    smoothness: SmoothnessEstimate | None = field(default=None, repr=False)
    assumption: AssumptionCheck | None = field(default=None, repr=False)

    @property
    def lr_max(self):
        """:math:`\\min\\{1/2L, c/L^2, 1/2c\\}` (<= 0 when c <= 0)."""
        return min(self.lr_bounds.values())

    @property
    def step_size_ok(self):
        """Does :math:`\\eta < \\min\\{1/2L, c/L^2, 1/2c\\}` hold (with c > 0)?"""
        return self.c > 0 and self.lr < self.lr_max

    @property
    def failing(self):
        """Names of the step-size bounds that lr does not satisfy."""
        return [name for name, bound in self.lr_bounds.items() if not self.lr < bound]

    @property
    def stationary(self):
        """:math:`b/\\lambda`, the fixed point of the one-step bound (inf when lambda <= 0)."""
        return self.b / self.lam if self.lam > 0 else math.inf

    @property
    def radius_sq(self):
        """:math:`20b/\\lambda`: Theorem 1's bound on :math:`\\|y_{T_1}-x^*\\|_2^2` (eq. 3)."""
        return 20.0 * self.stationary

    @property
    def T1(self):
        """:math:`\\log(\\lambda\\|y_0-x^*\\|^2/b)/\\lambda` (0 when the log is negative; inf when
        b = 0; nan without ``dist0_sq`` or when lambda <= 0)."""
        if self.dist0_sq is None or self.lam <= 0:
            return math.nan
        if self.b == 0:
            return math.inf if self.dist0_sq > 0 else 0.0
        ratio = self.lam * self.dist0_sq / self.b
        return max(math.log(ratio), 0.0) / self.lam if ratio > 0 else 0.0

    def one_step_bound(self, dist_sq):
        """Step 1: :math:`E[\\|y_{t+1}-x^*\\|^2 \\mid F_t] \\le (1-\\lambda)\\|y_t-x^*\\|^2 + b`."""
        return (1.0 - self.lam) * np.asarray(dist_sq, dtype=np.float64) + self.b

    def expected_bound(self, t, dist0_sq=None):
        """The one-step bound iterated t times from :math:`\\|y_0-x^*\\|^2`:
        :math:`(1-\\lambda)^t d_0 + b\\,(1-(1-\\lambda)^t)/\\lambda`."""
        d0 = self.dist0_sq if dist0_sq is None else float(dist0_sq)
        if d0 is None:
            raise ValueError("dist0_sq is needed: pass it here or to theorem1()")
        t = np.asarray(t, dtype=np.float64)
        if self.lam == 0:
            return d0 + self.b * t
        decay = (1.0 - self.lam) ** t
        return decay * d0 + self.b * (1.0 - decay) / self.lam

    def G(self, t, dist_sq):
        """Step 2's supermartingale :math:`G_t = (1-\\lambda)^{-t}(\\|y_t-x^*\\|^2 - b/\\lambda)`."""
        t = np.asarray(t, dtype=np.float64)
        return (1.0 - self.lam) ** (-t) * (np.asarray(dist_sq, dtype=np.float64) - self.b / self.lam)


def theorem1(*, lr, L, c, r, dist0_sq=None):
    """Theorem 1's condition and constants (see :class:`Theorem1`). ``c <= 0`` is allowed:
    then the condition fails and ``lam`` may be negative (a finding, not an error)."""
    lr = real("lr", lr, above=0)
    L = real("L", L, above=0)
    c = real("c", c)
    r = real("r", r, low=0)
    dist0_sq = real("dist0_sq", dist0_sq, low=0, allow_none=True)
    bounds = {"1/(2L)": 1.0 / (2.0 * L), "c/L^2": c / L**2,
              "1/(2c)": 1.0 / (2.0 * c) if c > 0 else math.inf}
    return Theorem1(lr=lr, L=L, c=c, r=r, lr_bounds=bounds, lam=2 * lr * c - lr**2 * L**2,
                    b=lr**2 * r**2 * (1 + lr * L) ** 2, dist0_sq=dist0_sq)


def measure(landscape, domain, *, lr, noise, samples=None, seed=0, dist0_sq=None):
    """Measure L and c on ``domain`` for this lr and noise and return :class:`Theorem1` with
    them, r = :func:`noise_bound`, and the two estimates attached (``.smoothness``,
    ``.assumption``). L is taken over the domain widened by every point's step and noise, so
    that it covers the points :math:`y - \\eta\\omega` the proof evaluates f at."""
    land = as_landscape(landscape, need_target=True)
    check = one_point_convexity(land, domain, lr=lr, noise=noise, samples=samples, seed=seed)
    pad = float(np.abs(check.y - check.x).max()) + check.radius
    smooth = smoothness(land, check.x, pad=pad)
    result = theorem1(lr=check.lr, L=smooth.L, c=check.c, r=noise_bound(noise, land.dim),
                      dist0_sq=dist0_sq)
    result.smoothness, result.assumption = smooth, check
    return result


# -- Lemma 5 and Corollary 2 ----------------------------------------------------------------
@dataclass
class Lemma5:
    """Lemma 5 (Step 4): with :math:`\\zeta = 9T_2/4`, :math:`\\mu \\ge \\max\\{8,
    42\\log^{1/2}\\zeta\\}` and :math:`\\delta = \\mu\\sqrt{b/\\lambda}`,

    .. math:: \\frac{\\sqrt2(3.5\\eta^2r^2 + 7\\eta r\\delta)}{\\sqrt{\\eta c}}\\log^{1/2}\\zeta
              + \\frac{21b}{\\lambda} \\le \\delta^2 .
    """

    T2: float
    zeta: float
    mu: float
    mu_min: float
    delta: float
    lhs: float
    rhs: float
    step_size_ok: bool

    @property
    def holds(self):
        return self.lhs <= self.rhs

    @property
    def slack(self):
        """How loose the inequality is, ``rhs / lhs`` (>= 1 when it holds)."""
        return self.rhs / self.lhs


def lemma5(theorem, *, T2, mu=None):
    """Evaluate Lemma 5 for the constants of ``theorem`` (a :class:`Theorem1`), T2 steps and
    :math:`\\mu` (default: the smallest allowed, :math:`\\max\\{8, 42\\log^{1/2}\\zeta\\}`)."""
    if not isinstance(theorem, Theorem1):
        fail("theorem", "a Theorem1 (from theorem1())", error=TypeError,
             shown=type(theorem).__name__)
    T2 = real("T2", T2, above=4.0 / 9.0)  # so that log(9 T2 / 4) > 0
    if theorem.lam <= 0 or theorem.c <= 0:
        fail("theorem", "one with lambda > 0 and c > 0 (Lemma 5's hypothesis)",
             shown=f"lambda={theorem.lam!r}, c={theorem.c!r}")
    zeta = 9.0 * T2 / 4.0
    mu_min = max(8.0, 42.0 * math.sqrt(math.log(zeta)))
    mu = mu_min if mu is None else real("mu", mu, above=0)
    lr, r, c = theorem.lr, theorem.r, theorem.c
    delta = mu * math.sqrt(theorem.b / theorem.lam)
    lhs = (math.sqrt(2) * (3.5 * lr**2 * r**2 + 7 * lr * r * delta) / math.sqrt(lr * c)
           * math.sqrt(math.log(zeta)) + 21 * theorem.b / theorem.lam)
    return Lemma5(T2=T2, zeta=zeta, mu=mu, mu_min=mu_min, delta=delta, lhs=lhs, rhs=delta**2,
                  step_size_ok=theorem.step_size_ok)


@dataclass
class Corollary2:
    """Corollary 2 (shrinking the learning rate): run lr for T1 steps, then lr' for T2."""

    first: Theorem1
    second: Theorem1
    T1: float
    T2: float
    T2_as_printed: float

    @property
    def shrinks(self):
        """:math:`20b'/\\lambda' < 20b/\\lambda`."""
        return self.second.radius_sq < self.first.radius_sq

    @property
    def conditions(self):
        """The corollary's hypotheses, each True or False."""
        return {"stage 1 step size": self.first.step_size_ok,
                "stage 2 step size": self.second.step_size_ok,
                "c' > c": self.second.c > self.first.c,
                "lr' < lr": self.second.lr < self.first.lr}


def corollary2(first, second, *, dist0_sq):
    """Corollary 2's two stages. ``first`` and ``second`` are :class:`Theorem1` for
    (lr, c, L, r) and (lr', c', L', r') (c' measured on the region
    :math:`\\|x - x^*\\|^2 \\le 20b/\\lambda`). ``T1`` is stage 1's Theorem 1 time from
    ``dist0_sq``; ``T2`` = :math:`\\log(\\lambda'\\,(20b/\\lambda)/b')/\\lambda'` is Theorem 1's time
    for stage 2 started anywhere in that region. The paper prints
    :math:`\\log(\\lambda\\,20b'/\\lambda')/\\lambda'`, kept as ``T2_as_printed``.
    """
    for name, value in (("first", first), ("second", second)):
        if not isinstance(value, Theorem1):
            fail(name, "a Theorem1", error=TypeError, shown=type(value).__name__)
        if value.lam <= 0:
            fail(name, "a stage with lambda > 0", shown=f"lambda={value.lam!r}")
    dist0_sq = real("dist0_sq", dist0_sq, low=0)
    stage1 = theorem1(lr=first.lr, L=first.L, c=first.c, r=first.r, dist0_sq=dist0_sq)
    stage2 = theorem1(lr=second.lr, L=second.L, c=second.c, r=second.r,
                      dist0_sq=first.radius_sq)
    printed = math.log(first.lam * second.radius_sq) / second.lam
    return Corollary2(first=first, second=second, T1=stage1.T1, T2=stage2.T1,
                      T2_as_printed=printed)


# -- Monte Carlo of the y_t chain -----------------------------------------------------------
@dataclass
class OneStep:
    """Monte Carlo estimate of :math:`E[\\|y_{t+1}-x^*\\|^2 \\mid y_t]` at each of ``y``."""

    y: np.ndarray
    dist_sq: np.ndarray
    """:math:`\\|y_t - x^*\\|^2`."""
    mean: np.ndarray
    stderr: np.ndarray
    samples: int


def one_step(landscape, y, *, lr, noise, samples, seed=0):
    """Step 1 of the proof, measured: :math:`E\\|y_{t+1}-x^*\\|^2` given :math:`y_t` = each row
    of ``y``, where (eq. 1) :math:`y_{t+1} = y_t - \\eta\\omega - \\eta\\nabla f(y_t - \\eta\\omega)`,
    averaged over ``samples`` noise draws per point (with standard errors)."""
    land = as_landscape(landscape, need_target=True)
    pts = points("y", y, land.dim)
    lr = real("lr", lr, above=0)
    noise = real("noise", noise, low=0)
    samples = _validate.count("samples", samples, low=2)
    key = _rng.make_key(_validate.seed("seed", seed), _rng.Stream.ONE_STEP)
    mean, stderr = land.one_step_mc(pts, lr=lr, radius=lr * noise, samples=samples, key=key)
    diff = pts - land.x_star
    return OneStep(y=pts, dist_sq=np.einsum("ij,ij->i", diff, diff), mean=mean, stderr=stderr,
                   samples=samples)


@dataclass
class YTrace:
    """:math:`\\|y_t - x^*\\|^2` for every step and trial of an SGD run (float32)."""

    dist_sq: np.ndarray
    """Shape (steps + 1, trials); row t is :math:`\\|y_t - x^*\\|^2`."""
    x: np.ndarray
    """Final iterates."""
    lr: float
    noise: float
    seed: int


def track_y(landscape, x0, *, lr, noise, steps, seed=0, chunk=256, progress=False,
            first_step=0):
    """Run SGD as :func:`sgdlab.run_sgd` does and keep :math:`\\|y_t - x^*\\|^2` at every step, with
    :math:`y_t = x_t - \\eta\\nabla f(x_t)`. The run is done in pieces of ``chunk`` steps that
    continue the same random streams (``first_step``), so the result equals one long run
    of ``run_sgd(..., seed=seed)`` while memory stays at one piece's path. ``first_step``
    continues an earlier run of the same seed (``x0`` = its final ``x``)."""
    land = as_landscape(landscape, need_target=True)
    lr = real("lr", lr, above=0)
    noise = real("noise", noise, low=0)
    steps = _validate.count("steps", steps)
    seed = _validate.seed("seed", seed)
    chunk = integer("chunk", chunk, low=1)
    first_step = integer("first_step", first_step, low=0, below=2**62)
    x = points("x0", x0, land.dim)
    if (min(chunk, steps) + 1) * x.size * 8 > _MAX_PATH_BYTES:
        fail("chunk", f"small enough for one piece's path to fit in "
             f"{_MAX_PATH_BYTES / 1024**3:g} GiB", chunk)
    out = np.empty((steps + 1, x.shape[0]), dtype=np.float32)
    out[0] = _y_dist_sq(land, x, lr)
    starts = range(0, steps, chunk)
    if flag("progress", progress):
        from tqdm.auto import tqdm
        starts = tqdm(starts, desc="steps", unit="chunk")
    key = _rng.make_key(seed, _rng.Stream.SGD)
    for start in starts:
        n = min(chunk, steps - start)
        path = np.empty((n + 1,) + x.shape)
        land.run_steps(x, lr=lr, noise=noise, steps=n, key=key, first_step=first_step + start,
                       path=path)
        out[start + 1:start + n + 1] = _y_dist_sq(land, path[1:], lr)
    return YTrace(dist_sq=out, x=x, lr=lr, noise=noise, seed=seed)


def y_distance_sq(landscape, x, *, lr):
    """The paper's distance :math:`\\|y - x^*\\|_2^2` of :math:`y = x - \\eta\\nabla f(x)`
    (eq. 1) for each point of ``x`` (shape (..., dim)); inf where it is not finite (e.g. a
    diverged iterate).

    .. math:: \\|x - \\eta\\nabla f(x) - x^*\\|_2^2
    """
    land = as_landscape(landscape, need_target=True)
    rows, shape = land.points(x)
    return _y_dist_sq(land, rows, real("lr", lr, above=0)).reshape(shape)


def _y_dist_sq(land, x, lr):
    """||x - lr grad f(x) - x*||^2 over the last axis (inf where x is not finite)."""
    with np.errstate(invalid="ignore", over="ignore"):
        e = x - lr * land.grad(x) - land.x_star
        d = np.einsum("...j,...j->...", e, e)
    return np.where(np.isfinite(d), d, np.inf)


# -- Theorem 3 ------------------------------------------------------------------------------
def gd_distance_change(landscape, x, *, lr):
    """:math:`\\|x_{t+1}-x^*\\|^2 - \\|x_t-x^*\\|^2` for one GD step
    :math:`x_{t+1} = x_t - \\eta\\nabla f(x_t)` from each point (rows of ``x``). It equals

    .. math:: \\eta(\\eta\\|\\nabla f\\|^2 - 2\\langle\\nabla f, x_t - x^*\\rangle)

    (Theorem 3's identity), computed here directly from the two distances. ``lr`` is one step
    size or one per point (e.g. ``overshoot_lr(landscape, x)`` for the boundary case)."""
    land = as_landscape(landscape, need_target=True)
    pts = points("x", x, land.dim)
    if np.ndim(lr) == 0:
        lr = np.full(pts.shape[0], real("lr", lr, above=0))
    else:
        lr = np.asarray(lr, dtype=np.float64)
        if lr.shape != (pts.shape[0],) or not np.all(np.isfinite(lr) & (lr > 0)):
            fail("lr", f"a number > 0 or {pts.shape[0]} finite numbers > 0 (one per point)",
                 shown=f"shape {lr.shape}")
    before = pts - land.x_star
    after = pts - lr[:, None] * land.grad(pts) - land.x_star
    return np.einsum("ij,ij->i", after, after) - np.einsum("ij,ij->i", before, before)


def _step_terms(land, x):
    """Per row of ``x``: :math:`\\|\\nabla f\\|^2`, :math:`\\langle\\nabla f, x - x^*\\rangle` and
    :math:`\\|x - x^*\\|^2`."""
    g, e = land.grad(x), x - land.x_star
    return (np.einsum("ij,ij->i", g, g), np.einsum("ij,ij->i", g, e),
            np.einsum("ij,ij->i", e, e))


def overshoot_lr(landscape, x, *, noise=0.0):
    """The exact step size at which one GD step from x stops getting closer to x*:

    .. math:: \\eta_0(x) = \\frac{2\\langle\\nabla f(x), x - x^*\\rangle}{\\|\\nabla f(x)\\|^2};

    a step :math:`\\eta > \\eta_0` ends farther, :math:`\\eta < \\eta_0` closer (inf where the
    gradient is zero). With ``noise`` W > 0, the same for one SGD step in mean: the squared
    distance changes by :math:`\\eta(\\eta(\\|\\nabla f\\|^2 + dW^2/3) - 2\\langle\\nabla f,
    x - x^*\\rangle)`, which changes sign at
    :math:`2\\langle\\nabla f, x - x^*\\rangle / (\\|\\nabla f\\|^2 + dW^2/3)`."""
    land = as_landscape(landscape, need_target=True)
    pts = points("x", x, land.dim)
    g_sq, inner, _ = _step_terms(land, pts)
    denominator = g_sq + noise_second_moment(noise, land.dim)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, 2.0 * inner / denominator, np.inf)


def one_step_ratio(landscape, x, *, lr, noise=0.0):
    """:math:`E\\|x_{t+1}-x^*\\|^2 / \\|x_t-x^*\\|^2` for one step from each row of ``x``:

    .. math:: 1 + \\frac{\\eta(\\eta\\|\\nabla f\\|^2 - 2\\langle\\nabla f, x_t-x^*\\rangle)
              + \\eta^2 dW^2/3}{\\|x_t-x^*\\|^2},

    exact for GD (``noise=0``), in mean over the noise for SGD. ``lr`` is one step size or one
    per point (e.g. many step sizes at one point repeated). Rows at x* give nan."""
    land = as_landscape(landscape, need_target=True)
    pts = points("x", x, land.dim)
    lr = np.asarray(lr, dtype=np.float64)
    if lr.shape not in ((), (pts.shape[0],)) or not np.all(np.isfinite(lr) & (lr > 0)):
        fail("lr", f"a number > 0 or {pts.shape[0]} finite numbers > 0 (one per point)",
             shown=f"shape {lr.shape}" if lr.ndim else repr(float(lr)))
    noise_sq = noise_second_moment(noise, land.dim)
    g_sq, inner, dist_sq = _step_terms(land, pts)
    with np.errstate(divide="ignore", invalid="ignore"):
        gd = np.where(dist_sq > 0, 1.0 + lr * (lr * g_sq - 2.0 * inner) / dist_sq, np.nan)
        return gd + lr**2 * noise_sq / dist_sq if noise_sq > 0 else gd


@dataclass
class OnePointUpper:
    """Theorem 3's constant c' on a domain: the largest ratio
    :math:`\\langle\\nabla f(x), x - x^*\\rangle / \\|x - x^*\\|^2`, and where."""

    c_prime: float
    at: np.ndarray
    n_points: int
    """Number of points where the ratio is defined (all but x* itself)."""
    x: np.ndarray = field(repr=False)
    ratios: np.ndarray = field(repr=False)
    """Per point; nan at x*."""


def one_point_upper(landscape, domain):
    """Theorem 3's constant c' on ``domain``: the smallest c' with

    .. math:: \\langle -\\nabla f(x), x^* - x\\rangle \\le c'\\|x^* - x\\|_2^2,

    i.e. the largest ratio (see :class:`OnePointUpper`; points at x* get nan)."""
    land = as_landscape(landscape, need_target=True)
    pts = points("domain", domain, land.dim)
    diff = pts - land.x_star
    d_sq = np.einsum("ij,ij->i", diff, diff)
    inner = np.einsum("ij,ij->i", land.grad(pts), diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(d_sq > 0, inner / d_sq, np.nan)
    if np.all(np.isnan(ratios)):
        fail("domain", "a set of points other than x* (c' is undefined at x* only)",
             shown=f"{pts.shape[0]} point(s), all at x*")
    k = int(np.nanargmax(ratios))
    return OnePointUpper(c_prime=float(ratios[k]), at=pts[k].copy(),
                         n_points=int(np.count_nonzero(d_sq > 0)), x=pts, ratios=ratios)


def theorem3_threshold(landscape, x, *, c_prime):
    """Theorem 3: one GD step ends no closer to x* when

    .. math:: \\eta > \\frac{2c'\\|x_t-x^*\\|_2^2}{\\|\\nabla f(x_t)\\|_2^2}.

    Returns that threshold for each row of ``x`` (inf where the gradient is 0); ``c_prime``
    from :func:`one_point_upper`."""
    land = as_landscape(landscape, need_target=True)
    pts = points("x", x, land.dim)
    c_prime = real("c_prime", c_prime)
    g = land.grad(pts)
    g_sq = np.einsum("ij,ij->i", g, g)
    diff = pts - land.x_star
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(g_sq > 0, 2 * c_prime * np.einsum("ij,ij->i", diff, diff) / g_sq, np.inf)


# -- Step 1 when x* is not a stationary point of f ------------------------------------------
def gradient_at_target(landscape, *, radius=0.0):
    """The gradient at :math:`x^*` of f (``radius=0``) or of its box smoothing
    :math:`g = E_u f(\\cdot - u)`, u uniform in :math:`[-\\rho, \\rho]^d` (``radius`` =
    :math:`\\rho = \\eta W`; exact, separable landscapes), shape (dim,). Step 1 of the proof
    bounds :math:`\\|\\nabla f(z)\\| \\le L\\|z - x^*\\|`, which needs :math:`\\nabla f(x^*) = 0`.
    """
    land = as_landscape(landscape, need_target=True)
    radius = real("radius", radius, low=0)
    x = land.x_star[None, :].copy()
    return (land.grad(x) if radius == 0 else land.smoothed_grad(x, radius=radius))[0]


def one_step_bound_shifted(theorem, dist_sq, *, grad_star):
    """Step 1's bound redone without :math:`\\nabla f(x^*) = 0`: with
    :math:`G = \\|\\nabla f(x^*)\\|` (``grad_star``), the Lipschitz gradient's
    :math:`\\|\\nabla f(z)\\| \\le G + L\\|z-x^*\\|` gives

    .. math:: E[\\|y_{t+1}-x^*\\|^2 \\mid F_t] \\le (1-\\lambda)\\|y_t-x^*\\|^2 + b
              + \\eta^2 G\\bigl(G + 2L(\\|y_t-x^*\\| + \\eta r)\\bigr),

    which is :meth:`Theorem1.one_step_bound` when G = 0.
    """
    if not isinstance(theorem, Theorem1):
        fail("theorem", "a Theorem1", error=TypeError, shown=type(theorem).__name__)
    G = real("grad_star", grad_star, low=0)
    d = np.asarray(dist_sq, dtype=np.float64)
    if not np.all(d >= 0):
        fail("dist_sq", "squared distances >= 0", float(d[~(d >= 0)].flat[0]))
    lr, L = theorem.lr, theorem.L
    return theorem.one_step_bound(d) + lr**2 * G * (G + 2 * L * (np.sqrt(d) + lr * theorem.r))


__all__ += ["gradient_at_target", "one_step_bound_shifted"]


# -- the Remark after Theorem 1: a lower bound on the step size -----------------------------
@dataclass
class LrLowerBound:
    """Assumption 1's c at each step size of a grid, and the smallest one that reaches a
    fixed c (see :func:`lr_lower_bound`)."""

    c: float
    """The fixed constant of Assumption 1."""
    lrs: np.ndarray
    measured_c: np.ndarray
    """c of Assumption 1 on the domain at each step size (:func:`one_point_convexity`)."""
    noise: float

    @property
    def holds(self):
        """Whether Assumption 1 holds with ``c`` (measured c >= c), one bool per step size."""
        return self.measured_c >= self.c

    @property
    def lr_min(self):
        """The smallest step size of the grid at which Assumption 1 holds with ``c`` (nan
        when none does). It may fail again at a larger one: see :attr:`holds`."""
        return float(self.lrs[np.argmax(self.holds)]) if self.holds.any() else math.nan


def _step_sizes(name, value):
    """A non-empty 1-D array of increasing finite real step sizes > 0, as float64."""
    expected = "a 1-D array of increasing finite step sizes > 0"
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raw = None
    if raw is None or raw.dtype.kind not in "iuf":
        fail(name, expected, value, TypeError)
    arr = raw.astype(np.float64)
    if (arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr) & (arr > 0))
            or np.any(np.diff(arr) <= 0)):
        fail(name, expected, shown=np.array2string(raw, separator=", ", threshold=20))
    return arr


def lr_lower_bound(landscape, domain, *, c, noise, lrs, samples=None, seed=0):
    """The Remark after Theorem 1: for a fixed c, Assumption 1 holds only for step sizes
    large enough that the noise (a box of half-width :math:`\\eta W`) smooths f's spurious
    minima away, so :math:`\\eta` cannot be arbitrarily small. On the grid ``lrs``,

    .. math:: \\eta_{\\min}(c) = \\min\\Big\\{\\eta :
              \\min_{x \\in D}\\frac{\\langle -\\nabla g_\\eta(y), x^* - y\\rangle}
              {\\|x^* - y\\|_2^2} \\ge c\\Big\\},\\qquad y = x - \\eta\\nabla f(x),\\quad
              g_\\eta(y) = E_\\omega f(y - \\eta\\omega),

    the left side being :func:`one_point_convexity` (eq. 2) at each step size. ``samples``
    and ``seed`` are passed to it (exact smoothing by default, separable landscapes).

    Returns
    -------
    LrLowerBound
    """
    c = real("c", c, above=0)
    noise = real("noise", noise, above=0)
    lrs = _step_sizes("lrs", lrs)
    measured = np.array([one_point_convexity(landscape, domain, lr=lr, noise=noise,
                                             samples=samples, seed=seed).c for lr in lrs])
    return LrLowerBound(c=c, lrs=lrs, measured_c=measured, noise=noise)


__all__ += ["LrLowerBound", "lr_lower_bound"]


# -- closed forms and curvature of the step-size chapter and the motivating example ----------
def quadratic_distance_sq(lr, *, dist0_sq, dim, noise, steps, curvature=1.0):
    """:math:`E\\|x_T - x^*\\|^2` of SGD on the quadratic :math:`\\frac a2\\|x\\|^2`
    (a = ``curvature``, :math:`x^* = 0`) after T = ``steps`` steps from a point at squared
    distance ``dist0_sq``, with box noise of bound W = ``noise`` in ``dim`` dimensions.

    A step is :math:`x_{t+1} = (1 - \\eta a)x_t - \\eta w_t`, and the noise is independent
    of :math:`x_t` with :math:`E\\|w\\|^2 = dW^2/3` (:func:`noise_second_moment`), so

    .. math:: E\\|x_T - x^*\\|^2 = \\rho^T\\|x_0 - x^*\\|^2
              + \\eta^2\\frac{dW^2}{3}\\sum_{k=0}^{T-1}\\rho^k,
              \\qquad \\rho = (1 - \\eta a)^2

    (the sum is :math:`(1 - \\rho^T)/(1 - \\rho)`, or T when :math:`\\rho = 1`). The first
    term is GD's, the second the noise's alone (Theorem 3's split).

    Parameters
    ----------
    lr : float or array_like
        Step sizes :math:`\\eta \\ge 0` (any shape).
    dist0_sq : float
        :math:`\\|x_0 - x^*\\|^2 \\ge 0`.
    dim : int
        Dimension d.
    noise : float
        Noise bound W >= 0.
    steps : int
        T >= 0.
    curvature : float
        a > 0.

    Returns
    -------
    numpy.ndarray
        One mean per step size, the shape of ``lr``.
    """
    lrs = _nonnegative("lr", lr)
    dist0_sq = real("dist0_sq", dist0_sq, low=0)
    steps = integer("steps", steps, low=0)
    curvature = real("curvature", curvature, above=0)
    rho = (1 - lrs * curvature) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        series = np.where(rho == 1, steps, (1 - rho**steps) / (1 - rho))
    return rho**steps * dist0_sq + lrs**2 * noise_second_moment(noise, dim) * series


def _nonnegative(name, value):
    """Finite numbers >= 0 (any shape) as a float64 array."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(name, "numbers >= 0", error=TypeError, shown=type(value).__name__)
    if arr.size == 0 or not np.all(np.isfinite(arr) & (arr >= 0)):
        fail(name, "finite numbers >= 0", shown=np.array2string(arr, threshold=20))
    return arr


def least_curvature(landscape, *, radius, span, n_points=3001):
    """The least curvature :math:`\\min g''` on [-span, span] of a 1-D landscape smoothed by
    the box of half-width ``radius`` (:math:`g = E_u f(\\cdot - u)`, :math:`u \\sim U[-r, r]`),
    from differences of the exact :math:`g'` on a grid :math:`s_0 < \\dots < s_{n-1}` of
    ``n_points``:

    .. math:: \\min_i \\frac{g'(s_{i+1}) - g'(s_i)}{s_{i+1} - s_i}.

    By the mean value theorem each quotient is :math:`g''` somewhere in its cell, so the
    result is at least the least :math:`g''` on the interval (equal as the grid refines);
    :math:`\\ge 0` means g is convex there on this grid (the motivating example's "convex
    g" of Section 2).

    Parameters
    ----------
    landscape : Landscape or str
        One-dimensional and separable (the exact smoothed gradient).
    radius : float
        Half-width r >= 0 of the box; for SGD, ``lr * noise``.
    span : float
        Half-width of the interval, > 0.
    n_points : int
        Grid size, >= 2.

    Returns
    -------
    float
    """
    land = as_landscape(landscape)
    if land.dim != 1:
        fail("landscape", "1-dimensional", shown=f"dim={land.dim}")
    radius = real("radius", radius, low=0)
    span = real("span", span, above=0)
    n_points = integer("n_points", n_points, low=2, high=_MAX_GRID)
    y = np.linspace(-span, span, n_points)[:, None]
    slope = land.smoothed_grad(y, radius=radius)[:, 0]
    return float(np.min(np.diff(slope)) / (y[1, 0] - y[0, 0]))


__all__ += ["quadratic_distance_sq", "least_curvature"]


# -- Lemma 6 (Hoeffding) and a binomial bound: Section 5.2 and 5.3 ---------------------------
def _samples(values, low, high):
    """The samples flattened (float64), and the bound [low, high] (default: their range)."""
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        fail("values", "an array of numbers", error=TypeError, shown=type(values).__name__)
    if arr.size == 0:
        fail("values", "at least one sample", shown="an empty array")
    if not np.isfinite(arr).all():
        fail("values", "finite samples", shown="NaN or inf")
    low = real("low", float(arr.min()) if low is None else low)
    high = real("high", float(arr.max()) if high is None else high)
    if low > high:
        fail("low, high", "finite bounds with low <= high", shown=f"{low!r}, {high!r}")
    if arr.min() < low or arr.max() > high:
        fail("low, high", f"bounds containing every sample (samples lie in "
             f"[{arr.min()!r}, {arr.max()!r}])", shown=f"[{low!r}, {high!r}]")
    return arr, low, high


def hoeffding_bound(values, low=None, high=None):
    """Hoeffding's bound (Lemma 6) on the chance of a sample mean this positive if
    :math:`\\mathbb{E}[X] \\le 0`.

    With :math:`n` i.i.d. samples bounded in :math:`[a, b]` and sample mean :math:`m > 0`,
    Lemma 6 gives

    .. math::

        \\Pr\\Big(\\tfrac1n \\textstyle\\sum_i X_i - \\mathbb{E}[X_1] \\ge m\\Big)
        \\le \\exp\\Big(-\\frac{2 n m^2}{(b - a)^2}\\Big),

    so if :math:`\\mathbb{E}[X_1] \\le 0` a sample mean of at least :math:`m` has at most this
    probability. Returns 1 when :math:`m \\le 0` (no evidence), 0 when ``high == low`` and
    :math:`m > 0` (the variable is the constant :math:`m`). See :func:`hoeffding_confidence`
    for the meaning of ``low``/``high``.

    Returns
    -------
    float
    """
    arr, low, high = _samples(values, low, high)
    mean = float(arr.mean())
    if mean <= 0:
        return 1.0
    if high == low:
        return 0.0
    ratio = mean / (high - low)  # not mean**2 / (high - low)**2, which can underflow
    return math.exp(-2.0 * arr.size * ratio * ratio)


def hoeffding_exponent(values, low=None, high=None):
    """:func:`hoeffding_bound` as a power of ten, without underflow (Lemma 6).

    .. math::

        \\log_{10} \\exp\\Big(-\\frac{2 n m^2}{(b - a)^2}\\Big)
        = -\\frac{2 n m^2}{(b - a)^2 \\ln 10}

    for :math:`m > 0`; 0 (a bound of 1) when :math:`m \\le 0`, and :math:`-\\infty` when
    ``high == low`` and :math:`m > 0`. Arguments as for :func:`hoeffding_confidence`.

    Returns
    -------
    float
        At most 0; the bound is ``10 ** exponent`` even where that underflows to 0.
    """
    arr, low, high = _samples(values, low, high)
    mean = float(arr.mean())
    if mean <= 0:
        return 0.0
    if high == low:
        return -math.inf
    ratio = mean / (high - low)
    return -2.0 * arr.size * ratio * ratio / math.log(10.0)


def hoeffding_confidence(values, low=None, high=None):
    """Confidence that :math:`\\mathbb{E}[X] > 0` from samples, by Hoeffding's bound (Lemma 6).

    .. math::

        \\text{confidence} = 1 - \\exp\\Big(-\\frac{2 n m^2}{(b - a)^2}\\Big)
        \\quad (m > 0), \\qquad 0 \\quad (m \\le 0),

    with :math:`n` samples, sample mean :math:`m` and :math:`[a, b]` = ``[low, high]``
    (:func:`hoeffding_bound` is the subtracted term). Section 5.2 uses it to argue that
    Assumption 1 (a positive *expected* inner product over the ball) holds with high
    probability after 100 positive samples.

    Lemma 6 needs :math:`[a, b]` to bound :math:`X` for *every* point :math:`w` of the ball,
    not only the sampled ones. Such a bound is rarely known for a network; by default
    (``low=None``, ``high=None``) the observed minimum and maximum are used, an empirical
    stand-in that can understate :math:`b - a` and so overstate the confidence. Pass a proven
    bound (for example :math:`\\pm \\sup\\|\\nabla f\\| \\cdot \\|x_T - x_t\\|`) as ``low``/``high``
    where one is available.

    Parameters
    ----------
    values : array_like
        The samples :math:`X_1, \\dots, X_n` (flattened; numbers, not tensors on a device).
    low, high : float or None
        The bound :math:`[a, b]`; must contain every sample. None: the sample min / max.

    Returns
    -------
    float
        In [0, 1]; 1 when ``high == low`` and the (constant) samples are positive.
    """
    arr, low, high = _samples(values, low, high)
    if float(arr.mean()) <= 0:
        return 0.0
    return 1.0 - hoeffding_bound(arr, low, high)


_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])


def binomial_upper_bound(count, total, *, level=0.95):
    """One-sided Clopper-Pearson upper confidence bound on a share from ``count`` of ``total``.

    The largest share :math:`p` under which seeing at most ``count`` events in ``total``
    independent draws still has probability at least :math:`1 - \\text{level}`:

    .. math::

        \\bar p = \\max\\{p : \\Pr_{X \\sim \\mathrm{Bin}(n, p)}(X \\le k)
        \\ge 1 - \\text{level}\\},

    so :math:`1 - (1 - \\text{level})^{1/n}` for :math:`k = 0` (about :math:`3/n` at 95%).
    It is the ``level`` quantile of the Beta(k + 1, n - k) distribution; here found by
    bisection on the binomial CDF (summed in logarithms). Section 5.3 counts non-positive
    inner products among many; this bounds the share that a count can rule out (a bound over
    the draws, which are not independent there).

    Parameters
    ----------
    count, total : int
        :math:`k` events in :math:`n \\ge 1` draws, :math:`0 \\le k \\le n`.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    float
        In (0, 1]; 1 when ``count == total``.
    """
    total = integer("total", total, low=1)
    count = integer("count", count, low=0)
    if count > total:
        fail("count", f"<= total = {total}", count)
    level = real("level", level, above=0, below=1)
    if count == total:
        return 1.0
    k = np.arange(count + 1, dtype=np.float64)
    log_choose = math.lgamma(total + 1.0) - _lgamma(k + 1) - _lgamma(total - k + 1)
    lo, hi = count / total, 1.0
    for _ in range(200):  # bisection: the binomial CDF falls as p grows
        p = 0.5 * (lo + hi)
        terms = log_choose + k * math.log(p) + (total - k) * math.log1p(-p)
        top = terms.max()
        log_cdf = top + math.log(np.exp(terms - top).sum())
        lo, hi = (p, hi) if log_cdf >= math.log1p(-level) else (lo, p)
    return lo


__all__ += ["hoeffding_bound", "hoeffding_exponent", "hoeffding_confidence",
            "binomial_upper_bound"]
