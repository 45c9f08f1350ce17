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
from numba import njit
from numba.core.registry import CPUDispatcher

from . import _kernels

__all__ = ["Landscape", "spiky", "quadratic", "get", "NAMES"]


def _require_jitted(func, name):
    if not isinstance(func, CPUDispatcher):
        raise TypeError(
            f"{name} must be a Numba-jitted function (decorate it with @numba.njit), "
            f"got {type(func).__name__}"
        )


class Landscape:
    """A d-dimensional test function with its minimiser of interest ``x_star``.

    Parameters
    ----------
    f, grad : Numba-jitted functions
        ``f(x) -> float`` and ``grad(x) -> ndarray`` for a float64 vector ``x`` of length
        ``dim``.
    dim : int
        Dimension d.
    x_star : array_like, shape (dim,)
        The target solution :math:`x^*` of Assumption 1.
    name : str
        Shown in plots and error messages.

    Use :meth:`separable` for functions that act coordinate-wise: they run faster and get
    the exact smoothing.
    """

    def __init__(self, f, grad, dim, x_star, *, name="custom"):
        _require_jitted(f, "f")
        _require_jitted(grad, "grad")
        self._init_common(dim, x_star, name)
        self._f = f
        self._grad = grad
        self._f1 = self._grad1 = self._antiderivative1 = None
        self.params = None

    def _init_common(self, dim, x_star, name):
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        self.dim = int(dim)
        x_star = np.asarray(x_star, dtype=np.float64)
        x_star = np.full(self.dim, float(x_star)) if x_star.ndim == 0 else x_star.reshape(-1)
        if x_star.shape != (self.dim,):
            raise ValueError(
                f"x_star must have {self.dim} coordinates (dim={self.dim}), got shape {x_star.shape}"
            )
        self.x_star = x_star
        self.name = str(name)

    @classmethod
    def separable(cls, f1, grad1, params, dim=1, x_star=0.0, *, antiderivative1=None,
                  name="custom"):
        """Landscape ``f(x) = sum_j f1(x_j, params)``.

        ``f1(s, params)``, ``grad1(s, params)`` and optionally ``antiderivative1(s, params)``
        (with derivative ``f1``) are Numba-jitted scalar functions; ``params`` is a float64
        array passed through to them. With ``antiderivative1``, :meth:`smoothed` is exact.
        """
        _require_jitted(f1, "f1")
        _require_jitted(grad1, "grad1")
        if antiderivative1 is not None:
            _require_jitted(antiderivative1, "antiderivative1")
        self = cls.__new__(cls)
        self._init_common(dim, x_star, name)
        self._f = self._grad = None
        self._f1, self._grad1, self._antiderivative1 = f1, grad1, antiderivative1
        self.params = np.ascontiguousarray(params, dtype=np.float64).reshape(-1)
        return self

    @property
    def is_separable(self):
        return self._f1 is not None

    @property
    def has_exact_smoothing(self):
        return self._antiderivative1 is not None

    def __repr__(self):
        return f"Landscape(name={self.name!r}, dim={self.dim})"

    # -- evaluation on points ------------------------------------------------------------
    def _points(self, x, argname="x"):
        """(n, dim) float64 rows and the shape that per-point results take."""
        x = np.asarray(x, dtype=np.float64)
        if self.dim == 1 and not (x.ndim == 2 and x.shape[1] == 1):
            return np.ascontiguousarray(x.reshape(-1, 1)), x.shape
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(
                f"{argname} must have a last axis of length {self.dim} (the landscape's "
                f"dimension), got shape {x.shape}"
            )
        return np.ascontiguousarray(x.reshape(-1, self.dim)), x.shape[:-1]

    def f(self, x):
        """Value f(x) at one point (shape (dim,)) or many (shape (..., dim))."""
        pts, shape = self._points(x)
        out = np.empty(pts.shape[0])
        if self.is_separable:
            _kernels.value_rows_separable(self._f1, self.params, pts, out)
        else:
            _kernels.value_rows_general(self._f, pts, out)
        return out.reshape(shape)[()]

    def grad(self, x):
        """Gradient at one point or many; same shape as ``x``."""
        x = np.asarray(x, dtype=np.float64)
        pts, _ = self._points(x)
        out = np.empty_like(pts)
        if self.is_separable:
            _kernels.grad_rows_separable(self._grad1, self.params, pts, out)
        else:
            _kernels.grad_rows_general(self._grad, pts, out)
        return out.reshape(x.shape)[()]

    def smoothed(self, x, radius):
        """Exact box smoothing E f(x - u), u uniform in [-radius, radius]^dim.

        Raises ``NotImplementedError`` for a landscape without a closed form: use
        :func:`sgdlab.convolve` with ``samples`` for a Monte Carlo estimate.
        """
        radius = _check_radius(radius)
        if not self.has_exact_smoothing:
            raise NotImplementedError(
                f"landscape {self.name!r} has no closed-form smoothing; use "
                "sgdlab.convolve(landscape, x, radius, samples=N) for Monte Carlo"
            )
        pts, shape = self._points(x)
        out = np.empty(pts.shape[0])
        _kernels.smoothed_separable(self._antiderivative1, self._f1, self.params, pts,
                                    radius, out)
        return out.reshape(shape)[()]


def _check_radius(radius):
    try:
        radius = float(radius)
    except (TypeError, ValueError):
        raise TypeError(f"radius must be a real number, got {radius!r}") from None
    if not np.isfinite(radius) or radius < 0:
        raise ValueError(f"radius must be finite and >= 0, got {radius!r}")
    return radius


# -- the spiky function of the motivating example ---------------------------------------
# Bump h(t) = 16 t^2 (1 - t)^2 on each unit cell (t = frac(u)): C^2, periodic, range [0, 1].
# Moments over one cell: int h = 8/15, int t h = 4/15, int t^2 h = 16/105.
_H_M0, _H_M1, _H_M2 = 8.0 / 15.0, 4.0 / 15.0, 16.0 / 105.0


@njit(cache=True, inline="always")
def _bump(u):
    t = u - np.floor(u)
    s = t * (1.0 - t)
    return 16.0 * s * s


@njit(cache=True, inline="always")
def _bump_slope(u):
    t = u - np.floor(u)
    return 32.0 * t * (1.0 - t) * (1.0 - 2.0 * t)


@njit(cache=True, inline="always")
def _bump_partial(t, k):
    """int_0^t tau^k h(tau) d tau for 0 <= t <= 1."""
    return 16.0 * (t ** (k + 3) / (k + 3) - 2.0 * t ** (k + 4) / (k + 4) + t ** (k + 5) / (k + 5))


@njit(cache=True)
def _spiky_f1(s, params):
    beta, period = params[0], params[1]
    return s * s * (1.0 + beta * _bump(s / period))


@njit(cache=True)
def _spiky_grad1(s, params):
    beta, period = params[0], params[1]
    u = s / period
    return 2.0 * s * (1.0 + beta * _bump(u)) + beta * s * s * _bump_slope(u) / period


@njit(cache=True)
def _spiky_antiderivative1(s, params):
    """F1(s) = s^3/3 + beta p^3 G(s/p), G(U) = int_0^U v^2 h(v) dv in closed form."""
    beta, period = params[0], params[1]
    u = s / period
    n = np.floor(u)
    t = u - n
    whole = _H_M0 * (n - 1.0) * n * (2.0 * n - 1.0) / 6.0 + _H_M1 * n * (n - 1.0) + _H_M2 * n
    part = n * n * _bump_partial(t, 0) + 2.0 * n * _bump_partial(t, 1) + _bump_partial(t, 2)
    return s * s * s / 3.0 + beta * period ** 3 * (whole + part)


def spiky(dim=1, beta=0.3, period=0.1):
    """The motivating example's function (Figure 3), summed over coordinates.

    .. math:: f(x) = \\sum_j x_j^2 \\left(1 + \\beta\\, h(x_j / p)\\right),
              \\qquad h(u) = 16\\,\\{u\\}^2 (1 - \\{u\\})^2,

    with :math:`\\{u\\}` the fractional part: approximately convex (between
    :math:`\\|x\\|^2` and :math:`(1+\\beta)\\|x\\|^2`), with a sharp bump every ``period``, and
    so a spurious local minimum in every cell away from :math:`x^* = 0` (at the defaults,
    every cell with :math:`|x_j| \\gtrsim 0.22`). The bumps' height grows like
    :math:`x^2`, so smoothing flattens them near 0 first. Exact smoothing from the closed-form
    antiderivative. See chapter :ref:`motivating-example`.
    """
    if not (np.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be finite and >= 0, got {beta!r}")
    if not (np.isfinite(period) and period > 0):
        raise ValueError(f"period must be finite and > 0, got {period!r}")
    return Landscape.separable(
        _spiky_f1, _spiky_grad1, [beta, period], dim=dim, x_star=0.0,
        antiderivative1=_spiky_antiderivative1, name="spiky" if dim == 1 else f"spiky{dim}d",
    )


# -- a quadratic, for closed-form checks -------------------------------------------------
@njit(cache=True)
def _quad_f1(s, params):
    return 0.5 * params[0] * s * s


@njit(cache=True)
def _quad_grad1(s, params):
    return params[0] * s


@njit(cache=True)
def _quad_antiderivative1(s, params):
    return params[0] * s * s * s / 6.0


def quadratic(dim=1, curvature=1.0):
    """:math:`f(x) = \\frac{a}{2}\\|x\\|^2` with ``a = curvature``; L = c = a, x* = 0.

    Its smoothing is :math:`f(x) + d\\,a r^2 / 6`.
    """
    if not (np.isfinite(curvature) and curvature > 0):
        raise ValueError(f"curvature must be finite and > 0, got {curvature!r}")
    return Landscape.separable(
        _quad_f1, _quad_grad1, [curvature], dim=dim, x_star=0.0,
        antiderivative1=_quad_antiderivative1, name="quadratic",
    )


NAMES = {"spiky": spiky, "quadratic": quadratic}


def get(name, **kwargs):
    """Landscape by name (``"spiky"``, ``"quadratic"``), with keyword arguments."""
    if name not in NAMES:
        raise ValueError(f"unknown landscape name {name!r}; expected one of {sorted(NAMES)}")
    return NAMES[name](**kwargs)
