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

__all__ = ["Landscape", "spiky", "quadratic", "ripple", "get", "NAMES"]


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
    x_star : array_like, shape (dim,), or None
        The target solution :math:`x^*` of Assumption 1 (None: unknown; SGD runs, but
        distances and :mod:`sgdlab.theory` need it).
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
        self.name = str(name)
        if x_star is None:  # allowed: running SGD needs no target; the theory does
            self.x_star = None
            return
        x_star = np.asarray(x_star, dtype=np.float64)
        x_star = np.full(self.dim, float(x_star)) if x_star.ndim == 0 else x_star.reshape(-1)
        if x_star.shape != (self.dim,):
            raise ValueError(
                f"x_star must have {self.dim} coordinates (dim={self.dim}), got shape {x_star.shape}"
            )
        self.x_star = x_star

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
        return cls._make_separable(f1, grad1, antiderivative1, params, dim, x_star, name)

    @classmethod
    def _make_separable(cls, f1, grad1, antiderivative1, params, dim, x_star, name):
        self = cls.__new__(cls)
        self._init_common(dim, x_star, name)
        self._f = self._grad = None
        self._f1, self._grad1, self._antiderivative1 = f1, grad1, antiderivative1
        self.params = np.ascontiguousarray(params, dtype=np.float64).reshape(-1)
        return self

    @classmethod
    def _builtin(cls, landscape_id, params, dim, name):
        """A built-in separable landscape: formulas addressed by id (see ``_builtin``)."""
        ids = [landscape_id * 4 + role for role in (_builtin.VALUE, _builtin.SLOPE,
                                                     _builtin.ANTIDERIVATIVE)]
        return cls._make_separable(*ids, params, dim, 0.0, name)

    @property
    def is_separable(self):
        return self._f1 is not None

    @property
    def has_exact_smoothing(self):
        return self._antiderivative1 is not None

    @property
    def builtin(self):
        """Which built-in formula this is (``"spiky"``, ``"quadratic"``), or None for a
        user's landscape."""
        if not isinstance(self._grad1, (int, np.integer)):
            return None
        return {_builtin.SPIKY: "spiky", _builtin.QUADRATIC: "quadratic",
                _builtin.RIPPLE: "ripple"}[int(self._grad1) // 4]

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
    return Landscape._builtin(_builtin.SPIKY, [beta, 1.0 / period], dim,
                              "spiky" if dim == 1 else f"spiky{dim}d")


# -- a quadratic, for closed-form checks -------------------------------------------------
def quadratic(dim=1, curvature=1.0):
    """:math:`f(x) = \\frac{a}{2}\\|x\\|^2` with ``a = curvature``; L = c = a, x* = 0.

    Its smoothing is :math:`f(x) + d\\,a r^2 / 6`.
    """
    if not (np.isfinite(curvature) and curvature > 0):
        raise ValueError(f"curvature must be finite and > 0, got {curvature!r}")
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
    for name, value in (("curvature", curvature), ("period", period)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    if not (np.isfinite(depth) and depth >= 0):
        raise ValueError(f"depth must be finite and >= 0, got {depth!r}")
    amplitude = curvature * depth * period**2 / (2.0 * np.pi**2)
    return Landscape._builtin(_builtin.RIPPLE, [curvature, amplitude, 2.0 * np.pi / period], dim,
                              "ripple" if dim == 1 else f"ripple{dim}d")


NAMES = {"spiky": spiky, "quadratic": quadratic, "ripple": ripple}


def get(name, **kwargs):
    """Landscape by name (``"spiky"``, ``"quadratic"``), with keyword arguments."""
    if name not in NAMES:
        raise ValueError(f"unknown landscape name {name!r}; expected one of {sorted(NAMES)}")
    return NAMES[name](**kwargs)
