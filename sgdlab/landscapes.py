"""Test functions: value, gradient, and exact box smoothing where a closed form exists.

A :class:`Landscape` is built either from Numba-jitted ``f(x)`` and ``grad(x)`` taking a
float64 vector (any function), or from a scalar ``f1(s, params)`` applied to every
coordinate (a *separable* landscape, ``f(x) = sum_j f1(x_j)``). A separable landscape that
also knows an antiderivative ``F1`` of ``f1`` gets the exact box smoothing

.. math:: E_u f(x - u) = \\sum_j \\frac{F_1(x_j + r) - F_1(x_j - r)}{2r},
          \\qquad u \\sim U[-r, r]^d,

which is the paper's convolved function :math:`g_t(y) = E_\\omega f(y - \\eta\\omega)` for
noise uniform in the box :math:`[-W, W]^d` and radius :math:`r = \\eta W` (Section 1).
"""

import numpy as np
from numba.core.registry import CPUDispatcher

from . import _builtin, _kernels
from ._validate import choice, fail, integer, real

__all__ = ["Landscape", "as_landscape", "WIDTHS", "spiky", "MOTIVATING", "motivating", "quadratic", "ripple", "get", "NAMES"]


def _require_jitted(func, name):
    if not isinstance(func, CPUDispatcher):
        fail(name, "a Numba-jitted function (decorate it with @numba.njit)", error=TypeError,
             shown=type(func).__name__)


def _dim_and_target(dim, x_star):
    """The dimension (from ``x_star`` when ``dim`` is None) and x* as a (dim,) array or None."""
    if dim is not None:
        dim = integer("dim", dim, low=1)
    if x_star is None:  # allowed: running SGD needs no target; the theory does
        if dim is None:
            fail("dim", "an integer >= 1 when x_star is None (nothing to infer it from)", dim)
        return dim, None
    try:
        target = np.array(x_star, dtype=np.float64)
    except (TypeError, ValueError):
        fail("x_star", "an array of numbers or None", error=TypeError,
             shown=type(x_star).__name__)
    if target.ndim == 0:  # a scalar: the same coordinate in every dimension
        target = np.full(1 if dim is None else dim, float(target))
    if target.ndim != 1 or target.size == 0 or (dim is not None and target.size != dim):
        expected = "of shape (dim,)" if dim is None else f"of shape ({dim},) to agree with dim={dim}"
        fail("x_star", expected, shown=f"shape {target.shape}")
    if not np.all(np.isfinite(target)):
        fail("x_star", "finite", target.tolist())
    return target.size, target


# Kernels that exist in a separable and a general version, and which function of the
# landscape each takes: its values ("value") or its gradient ("slope").
_KERNELS = {
    "value_rows": (_kernels.value_rows_separable, _kernels.value_rows_general, "value"),
    "grad_rows": (_kernels.grad_rows_separable, _kernels.grad_rows_general, "slope"),
    "sgd": (_kernels.sgd_separable, _kernels.sgd_general, "slope"),
    "smoothed_mc": (_kernels.smoothed_mc_separable, _kernels.smoothed_mc_general, "value"),
    "projected_grad_mc": (_kernels.projected_grad_mc_separable,
                          _kernels.projected_grad_mc_general, "slope"),
    "one_step_mc": (_kernels.one_step_mc_separable, _kernels.one_step_mc_general, "slope"),
}


def _mean_and_stderr(mean, mean_sq, samples):
    """The mean and its standard error from the Monte Carlo mean and mean square."""
    var = np.maximum(mean_sq - mean * mean, 0.0) * samples / (samples - 1)
    return mean, np.sqrt(var / samples)


class Landscape:
    """A d-dimensional test function with its minimiser of interest ``x_star``.

    Use :meth:`separable` for functions that act coordinate-wise: they run faster and get
    the exact smoothing. The runners (:mod:`sgdlab.sgd`, :mod:`sgdlab.smoothing`,
    :mod:`sgdlab.theory`) ask a landscape through its public methods; which Numba kernel
    serves it (separable or general) is decided here, in one place.

    Parameters
    ----------
    f, grad : callable
        Numba-jitted functions ``f(x) -> float`` and ``grad(x) -> ndarray`` for a float64
        vector ``x`` of length ``dim``.
    dim : int, optional
        Dimension d; needed only when ``x_star`` is None or a scalar (then 1 by default).
    x_star : array_like, shape (dim,), scalar or None
        The target solution :math:`x^*` of Assumption 1 (None: unknown; SGD runs, but
        distances and :mod:`sgdlab.theory` need it). Its length gives ``dim``.
    name : str
        Shown in plots and error messages.
    """

    def __init__(self, f, grad, dim=None, x_star=None, *, name="custom"):
        _require_jitted(f, "f")
        _require_jitted(grad, "grad")
        self._init_common(dim, x_star, name)
        self._f = f
        self._grad = grad
        self._f1 = self._grad1 = self._antiderivative1 = None
        self._params = None

    def _init_common(self, dim, x_star, name):
        self.dim, self.x_star = _dim_and_target(dim, x_star)
        self.name = str(name)

    @classmethod
    def separable(cls, f1, grad1, params, dim=None, x_star=0.0, *, antiderivative1=None,
                  name="custom"):
        """Landscape ``f(x) = sum_j f1(x_j, params)``.

        ``f1(s, params)``, ``grad1(s, params)`` and optionally ``antiderivative1(s, params)``
        (with derivative ``f1``) are Numba-jitted scalar functions; ``params`` is a float64
        array passed through to them. With ``antiderivative1``, :meth:`smoothed` is exact.
        ``dim`` defaults to the length of ``x_star`` (1 for a scalar).
        """
        _require_jitted(f1, "f1")
        _require_jitted(grad1, "grad1")
        if antiderivative1 is not None:
            _require_jitted(antiderivative1, "antiderivative1")
        return cls._make_separable(f1, grad1, antiderivative1, params, dim, x_star, name)

    @classmethod
    def _make_separable(cls, f1, grad1, antiderivative1, params, dim, x_star, name):
        self = cls.__new__(cls)
        self._init_common(dim, x_star, name)
        self._f = self._grad = None
        self._f1, self._grad1, self._antiderivative1 = f1, grad1, antiderivative1
        try:
            self._params = np.ascontiguousarray(params, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            fail("params", "an array of numbers", error=TypeError, shown=type(params).__name__)
        return self

    @classmethod
    def _builtin(cls, landscape_id, params, dim, name):
        """A built-in separable landscape: formulas addressed by id (see ``_builtin``)."""
        ids = [landscape_id * 4 + role for role in (_builtin.VALUE, _builtin.SLOPE,
                                                     _builtin.ANTIDERIVATIVE)]
        return cls._make_separable(*ids, params, dim, 0.0, name)

    @property
    def is_separable(self):
        """True for ``f(x) = sum_j f1(x_j)`` (built with :meth:`separable`)."""
        return self._f1 is not None

    @property
    def has_exact_smoothing(self):
        """True when :meth:`smoothed` has a closed form (a separable antiderivative)."""
        return self._antiderivative1 is not None

    @property
    def params(self):
        """The parameters passed to the scalar formulas (read-only view), or None for a
        general landscape."""
        if self._params is None:
            return None
        view = self._params.view()
        view.flags.writeable = False
        return view

    @property
    def builtin(self):
        """Which built-in formula this is (``"spiky"``, ``"quadratic"``, ``"ripple"``), or
        None for a user's landscape. With :attr:`params` it describes the formula fully."""
        if not isinstance(self._grad1, (int, np.integer)):
            return None
        return {_builtin.SPIKY: "spiky", _builtin.QUADRATIC: "quadratic",
                _builtin.RIPPLE: "ripple"}[int(self._grad1) // 4]

    def __repr__(self):
        return f"Landscape(name={self.name!r}, dim={self.dim})"

    def _kernel(self, name, *args):
        """Run kernel ``name`` of ``_KERNELS`` in its separable or general version: the one
        place that decides which kernel serves this landscape."""
        separable, general, role = _KERNELS[name]
        if self.is_separable:
            return separable(self._grad1 if role == "slope" else self._f1, self._params, *args)
        return general(self._grad if role == "slope" else self._f, *args)

    def _need_separable(self, what):
        if not self.is_separable:
            raise NotImplementedError(f"{what} needs a separable landscape; {self.name!r} is not "
                                      "one (use the Monte Carlo estimate, samples=N)")

    # -- evaluation on points ------------------------------------------------------------
    def points(self, x, name="x"):
        """``x`` as C-contiguous float64 rows of shape (n, dim), and the shape that one value
        per point takes: ``x`` has shape (..., dim), or any shape when dim is 1."""
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            fail(name, "an array of numbers", error=TypeError, shown=type(x).__name__)
        if self.dim == 1 and not (x.ndim == 2 and x.shape[1] == 1):
            return np.ascontiguousarray(x.reshape(-1, 1)), x.shape
        if x.ndim == 0 or x.shape[-1] != self.dim:
            fail(name, f"of shape (..., {self.dim}) for this {self.dim}-dimensional landscape",
                 shown=f"shape {x.shape}")
        return np.ascontiguousarray(x.reshape(-1, self.dim)), x.shape[:-1]

    def f(self, x):
        """Value f(x) at one point (shape (dim,)) or many (shape (..., dim))."""
        pts, shape = self.points(x)
        out = np.empty(pts.shape[0])
        self._kernel("value_rows", pts, out)
        return out.reshape(shape)[()]

    def grad(self, x):
        """Gradient at one point or many; same shape as ``x``."""
        x = np.asarray(x, dtype=np.float64)
        pts, _ = self.points(x)
        out = np.empty_like(pts)
        self._kernel("grad_rows", pts, out)
        return out.reshape(x.shape)[()]

    def slope1(self, s):
        """:math:`f_1'(s)` of a separable landscape at every element of the 1-D array ``s``."""
        self._need_separable("slope1")
        rows = np.ascontiguousarray(s, dtype=np.float64).reshape(-1, 1)
        out = np.empty_like(rows)
        _kernels.grad_rows_separable(self._grad1, self._params, rows, out)
        return out[:, 0]

    def smoothed(self, x, *, radius):
        """Exact box smoothing E f(x - u), u uniform in [-radius, radius]^dim.

        .. math:: E_u f(x - u) = \\sum_j \\frac{F_1(x_j + r) - F_1(x_j - r)}{2r}

        Raises ``NotImplementedError`` for a landscape without a closed form: use
        :func:`sgdlab.convolve` with ``samples`` for a Monte Carlo estimate.
        """
        radius = real("radius", radius, low=0)
        if not self.has_exact_smoothing:
            raise NotImplementedError(
                f"landscape {self.name!r} has no closed-form smoothing; use "
                "sgdlab.convolve(landscape, x, radius=r, samples=N) for Monte Carlo"
            )
        pts, shape = self.points(x)
        out = np.empty(pts.shape[0])
        _kernels.smoothed_separable(self._antiderivative1, self._f1, self._params, pts,
                                    radius, out)
        return out.reshape(shape)[()]

    # -- the runners' interface: rows (n, dim) already validated, results per row --------------
    def run_steps(self, x, *, lr, noise, steps, key, first_trial=0, first_step=0, path):
        """SGD steps in place on the rows of ``x`` (C-contiguous (trials, dim) float64):
        :math:`x_{t+1} = x_t - \\eta(\\nabla f(x_t) + w_t)`, with the noise of steps
        ``first_step, ...`` of trials ``first_trial, ...`` of the stream ``key``. ``path`` is
        (steps + 1, trials, dim) to record every iterate, or (0, 0, 0) not to."""
        self._kernel("sgd", x, lr, noise, steps, key, first_trial, first_step, path)

    def smoothed_mc(self, x, *, radius, samples, key):
        """Monte Carlo box smoothing at the rows of ``x``: the mean of f(x - u) over ``samples``
        draws u ~ U[-radius, radius]^dim of stream ``key``, and its standard error."""
        mean, mean_sq = np.empty(x.shape[0]), np.empty(x.shape[0])
        self._kernel("smoothed_mc", x, radius, samples, key, mean, mean_sq)
        return _mean_and_stderr(mean, mean_sq, samples)

    def smoothed_grad(self, y, *, radius):
        """Exact gradient of the box smoothing at the rows of ``y`` (separable landscapes):

        .. math:: \\partial_j E_u f(y - u) = \\frac{f_1(y_j + r) - f_1(y_j - r)}{2r}
        """
        self._need_separable("the exact smoothed gradient")
        out = np.empty_like(y)
        _kernels.smoothed_grad_separable(self._f1, self._grad1, self._params, y, radius, out)
        return out

    def projected_grad_mc(self, y, v, *, radius, samples, key):
        """Monte Carlo of :math:`\\langle -\\nabla f(y_i - u), v_i\\rangle`, u ~ U[-radius,
        radius]^dim, per row: mean and standard error over ``samples`` draws of ``key``."""
        mean, mean_sq = np.empty(y.shape[0]), np.empty(y.shape[0])
        self._kernel("projected_grad_mc", y, v, radius, samples, key, mean, mean_sq)
        return _mean_and_stderr(mean, mean_sq, samples)

    def one_step_mc(self, y, *, lr, radius, samples, key):
        """Monte Carlo of :math:`\\|z - \\eta\\nabla f(z) - x^*\\|^2` with z = y_i - u,
        u ~ U[-radius, radius]^dim (one step of the y_t chain, eq. 1): mean and standard error
        per row over ``samples`` draws of ``key``."""
        mean, mean_sq = np.empty(y.shape[0]), np.empty(y.shape[0])
        self._kernel("one_step_mc", y, self.x_star, lr, radius, samples, key, mean, mean_sq)
        return _mean_and_stderr(mean, mean_sq, samples)


def as_landscape(value, *, need_target=False):
    """A :class:`Landscape` from a Landscape or the name of a built-in one
    (:data:`~sgdlab.landscapes.NAMES`). With ``need_target``, the landscape must have an
    ``x_star``."""
    if isinstance(value, str):
        land = get(value)
    elif isinstance(value, Landscape):
        land = value
    else:
        fail("landscape", "a sgdlab.Landscape or a landscape name", error=TypeError,
             shown=type(value).__name__)
    if need_target and land.x_star is None:
        fail("landscape", "a landscape with a target x_star (pass x_star= when building it): "
             "the paper's quantities are measured relative to x*",
             shown=f"{land.name!r} without one")
    return land


# -- the spiky function of the motivating example ---------------------------------------
WIDTHS = ("fixed", "sqrt")
"""The spike widths of :func:`spiky`: every cell ``period`` wide, or widening like
:math:`\\sqrt{|x|}`."""


def spiky(dim=1, beta=0.3, period=0.1, growth=0, width="fixed"):
    """The motivating example's function (Figure 3), summed over coordinates.

    .. math:: f(x) = \\sum_j x_j^2 \\left(1 + \\beta\\, |x_j|^{\\gamma} h(\\phi(x_j))\\right),
              \\qquad h(u) = 16\\,\\{u\\}^2 (1 - \\{u\\})^2,

    with :math:`\\{u\\}` the fractional part, :math:`\\gamma` = ``growth`` and
    :math:`\\phi(x) = x / p` (``width="fixed"``: a cell every :math:`p` = ``period``) or
    :math:`\\phi(x) = \\sqrt{|x|} / p` (``width="sqrt"``: cell n is
    :math:`p^2 [n^2, (n+1)^2]`, so a spike near :math:`|x|` is about :math:`2p\\sqrt{|x|}` wide:
    narrow near 0, wide far out). A bowl :math:`x^2` with a sharp bump in every cell whose
    height relative to the bowl is :math:`\\beta |x|^\\gamma` (``beta`` is that relative height
    at :math:`|x| = 1`), so a spurious local minimum in every cell far enough from
    :math:`x^* = 0`. ``growth=0`` gives :math:`x^2 \\le f \\le (1+\\beta) x^2`.
    Exact smoothing from the closed-form antiderivative (each cell's integral of
    :math:`u^{k} h(u)`, :math:`k = 2 + \\gamma` or :math:`5 + 2\\gamma`, by the binomial
    expansion). See chapter :ref:`motivating-example`.

    Parameters
    ----------
    dim : int
        Number of coordinates (>= 1).
    beta : float
        Relative bump height at :math:`|x| = 1` (>= 0).
    period : float
        Width of a cell (``width="fixed"``), or :math:`p` of :math:`\\sqrt{|x|}/p` (> 0).
    growth : int
        Exponent :math:`\\gamma` of the relative bump height's growth with :math:`|x|` (0 to 12;
        0 to 4 with ``width="sqrt"``).
    width : {"fixed", "sqrt"}
        How the spikes' width depends on :math:`|x|` (:data:`WIDTHS`).
    """
    dim = integer("dim", dim, low=1)
    beta = real("beta", beta, low=0)
    period = real("period", period, above=0)
    width = choice("width", width, WIDTHS)
    growth = integer("growth", growth, low=0, high=12 if width == "fixed" else 4)
    wide = float(width == "sqrt")
    name = "spiky" if dim == 1 else f"spiky{dim}d"
    return Landscape._builtin(_builtin.SPIKY, [beta, 1.0 / period, float(growth), wide], dim,
                              name)


MOTIVATING = {"width": "sqrt", "period": 0.08, "beta": 0.1, "growth": 0, "lr": 0.004,
              "right": 0.05, "large": 0.2}
"""The one definition of the book's motivating f, as the member of :func:`spiky` (``width``,
``period``, ``beta``, ``growth``), its step size ``lr`` and the radii :math:`\\eta W` of its
right and large noise (the small one is half the right one). It is the pick of the search of
chapter :ref:`motivating-example` (a test reruns the search and checks it); the chapters on
the main theorem and the introduction use it through :func:`motivating`."""


def motivating(dim=1):
    """The spiky f of :data:`MOTIVATING` in ``dim`` coordinates (a :class:`Landscape`)."""
    return spiky(dim=dim, **{k: MOTIVATING[k] for k in ("width", "period", "beta", "growth")})


# -- a quadratic, for closed-form checks -------------------------------------------------
def quadratic(dim=1, curvature=1.0):
    """:math:`f(x) = \\frac{a}{2}\\|x\\|^2` with ``a = curvature``; L = c = a, x* = 0.

    Its smoothing is :math:`f(x) + d\\,a r^2 / 6`.
    """
    dim = integer("dim", dim, low=1)
    curvature = real("curvature", curvature, above=0)
    return Landscape._builtin(_builtin.QUADRATIC, [curvature], dim, "quadratic")


# -- a rippled quadratic: non-convex, but one-point convex once smoothed --------------------
def ripple(dim=1, curvature=1.0, depth=6.0, period=0.1):
    """A quadratic with sinusoidal ripples, summed over coordinates (chapter :ref:`main-theorem`).

    .. math:: f(x) = \\sum_j \\frac{a}{2} x_j^2 + A \\sin^2(\\pi x_j / p),
              \\qquad A = \\frac{a\\,\\mathrm{depth}\\,p^2}{2\\pi^2},

    so that :math:`f''(s) = a\\,(1 + \\mathrm{depth}\\cos(2\\pi s / p))`: f is L-smooth with
    :math:`L = a(1 + \\mathrm{depth})` exactly. It is non-convex when depth > 1, and has
    spurious local minima (within :math:`|x_j| < \\mathrm{depth}\\,p/2\\pi` of 0) when
    :math:`f_1'(s)/s = a(1 + \\mathrm{depth}\\,\\operatorname{sinc}(2\\pi s/p))` turns negative,
    i.e. depth > 4.60 (:math:`1/|\\min\\operatorname{sinc}|`). Box smoothing of half-width :math:`\\rho` multiplies the ripples by
    :math:`\\operatorname{sinc}(2\\pi\\rho/p)` (sin z / z), so they vanish exactly at
    :math:`\\rho = p/2` and the smoothed function is :math:`\\frac a2\\|x\\|^2` plus a constant.
    Exact smoothing from the closed-form antiderivative; :math:`x^* = 0`.
    """
    dim = integer("dim", dim, low=1)
    curvature = real("curvature", curvature, above=0)
    depth = real("depth", depth, low=0)
    period = real("period", period, above=0)
    amplitude = curvature * depth * period**2 / (2.0 * np.pi**2)
    return Landscape._builtin(_builtin.RIPPLE, [curvature, amplitude, 2.0 * np.pi / period], dim,
                              "ripple" if dim == 1 else f"ripple{dim}d")


NAMES = {"spiky": spiky, "quadratic": quadratic, "ripple": ripple}
"""The built-in landscapes, each name mapped to its constructor (:func:`spiky`,
:func:`quadratic`, :func:`ripple`)."""


def get(name, **kwargs):
    """Landscape by name (``"spiky"``, ``"quadratic"``, ``"ripple"``), with keyword arguments."""
    return NAMES[choice("landscape", name, NAMES)](**kwargs)


# -- a ripple shifted off x*: g is stationary at x*, f is not --------------------------------
from numba import njit  # noqa: E402  (kept next to the only jitted functions of this module)


@njit(cache=True)
def _shifted_ripple_value(s, params):  # params: a, A, k = 2 pi / p, shift s0
    return 0.5 * params[0] * s * s + 0.5 * params[1] * (1.0 - np.cos(params[2] * (s - params[3])))


@njit(cache=True)
def _shifted_ripple_slope(s, params):
    return params[0] * s + 0.5 * params[1] * params[2] * np.sin(params[2] * (s - params[3]))


@njit(cache=True)
def _shifted_ripple_antiderivative(s, params):
    k = params[2]
    return params[0] * s * s * s / 6.0 + 0.5 * params[1] * (s - np.sin(k * (s - params[3])) / k)


def shifted_ripple(dim=1, curvature=1.0, depth=6.0, period=0.1, shift=0.25):
    """:func:`ripple` with its ripples moved by ``shift`` periods, so that x* = 0 sits on a
    ripple's slope (chapter :ref:`main-theorem`, Step 1).

    .. math:: f(x) = \\sum_j \\frac{a}{2} x_j^2 + A \\sin^2\\bigl(\\pi (x_j / p - s)\\bigr),
              \\qquad A = \\frac{a\\,\\mathrm{depth}\\,p^2}{2\\pi^2},

    with :math:`s` = ``shift``. As for :func:`ripple`, :math:`L = a(1 + \\mathrm{depth})` and box
    smoothing of half-width :math:`p/2` removes the ripples, leaving :math:`\\frac a2\\|x\\|^2`
    plus a constant: g is stationary (and one-point convex with :math:`c = a`) at
    :math:`x^* = 0`, while :math:`f_1'(0) = -\\frac{a\\,\\mathrm{depth}\\,p}{2\\pi}\\sin(2\\pi s)`
    is not 0 unless ``shift`` is a multiple of 1/2. Exact smoothing from the closed-form
    antiderivative.
    """
    dim = integer("dim", dim, low=1)
    curvature = real("curvature", curvature, above=0)
    depth = real("depth", depth, low=0)
    period = real("period", period, above=0)
    shift = real("shift", shift)
    amplitude = curvature * depth * period**2 / (2.0 * np.pi**2)
    params = [curvature, amplitude, 2.0 * np.pi / period, shift * period]
    return Landscape.separable(_shifted_ripple_value, _shifted_ripple_slope, params, dim=dim,
                               antiderivative1=_shifted_ripple_antiderivative,
                               name="shifted ripple" if dim == 1 else f"shifted ripple {dim}d")


__all__ += ["shifted_ripple"]
