"""Convolution of a landscape with the noise kernel: the paper's g_t (Section 1).

With noise uniform in the box :math:`[-W, W]^d` and step size :math:`\\eta`,

.. math:: g(y) = E_\\omega f(y - \\eta\\omega) = E_u f(y - u), \\qquad u \\sim U[-r, r]^d,
          \\quad r = \\eta W.
"""

import numpy as np

from . import _rng, _validate
from ._validate import fail, integer, real
from .landscapes import as_landscape

__all__ = ["convolve", "basins_1d", "in_spurious_basin"]

_MAX_GRID = 10_000_000


def convolve(landscape, x, *, radius, samples=None, seed=0, return_error=False):
    """f convolved with the uniform box of half-width ``radius``, at the points ``x``:

    .. math:: g(x) = E_u f(x - u), \\qquad u \\sim U[-r, r]^d.

    Parameters
    ----------
    landscape : Landscape or str
    x : array_like
        Points, shape (..., dim) (any shape when dim is 1).
    radius : float
        Half-width r >= 0 of the box; for SGD, ``lr * noise``.
    samples : int or None
        None: the exact closed form (the landscape must have one). An integer >= 2: a Monte
        Carlo average over that many draws per point (stream ``Stream.CONVOLVE`` of ``seed``);
        its error shrinks like 1/sqrt(samples).
    seed : int
        Seed of the Monte Carlo draws (counter based, as in :func:`sgdlab.run_sgd`).
    return_error : bool
        Also return the standard error of each value (zeros when exact).

    Returns
    -------
    ndarray, or (values, stderr) with ``return_error``.
    """
    land = as_landscape(landscape)
    return_error = _validate.flag("return_error", return_error)
    samples = integer("samples", samples, low=2, allow_none=True)
    if samples is None:
        values = land.smoothed(x, radius=radius)
        return (values, np.zeros_like(values)) if return_error else values
    radius = real("radius", radius, low=0)
    key = _rng.make_key(_validate.seed("seed", seed), _rng.Stream.CONVOLVE)
    pts, shape = land.points(x)
    mean, stderr = land.smoothed_mc(pts, radius=radius, samples=samples, key=key)
    values = mean.reshape(shape)[()]
    return (values, stderr.reshape(shape)[()]) if return_error else values


def _grid_descent(values):
    """For every grid index, the index of the local minimum that discrete steepest descent
    on ``values`` reaches (pointer jumping: O(n log n))."""
    n = values.shape[0]
    index = np.arange(n)
    left = np.r_[np.inf, values[:-1]]
    right = np.r_[values[1:], np.inf]
    step = np.where((left < values) & (left <= right), index - 1,
                    np.where(right < values, index + 1, index))
    for _ in range(int(np.ceil(np.log2(n))) + 1):
        step = step[step]
    return step


def _flat(name, x):
    try:
        return np.asarray(x, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        fail(name, "an array of numbers", error=TypeError, shown=type(x).__name__)


def basins_1d(landscape, x, *, radius, span=4.0, n_points=40001):
    """The local minimum of the smoothed 1-D landscape whose basin holds each point.

    Evaluates g = f convolved with the box of half-width ``radius`` (exactly) on a grid of
    ``n_points`` over [-span, span] and follows the grid's steepest descent (to the lower
    neighbour, the left one on a tie) from the grid point nearest to each of ``x``. Returns
    the minimiser reached by each point, flattened (nan for points off the grid or not
    finite). With ``radius=0`` these are the basins of f itself (where GD gets stuck).
    """
    land = as_landscape(landscape)
    if land.dim != 1:
        fail("landscape", "1-dimensional", shown=f"dim={land.dim}")
    span = real("span", span, above=0)
    n_points = integer("n_points", n_points, low=2, high=_MAX_GRID)
    x = _flat("x", x)
    grid = np.linspace(-span, span, n_points)
    target = _grid_descent(land.smoothed(grid, radius=radius))
    inside = np.isfinite(x) & (np.abs(x) <= span)
    nearest = np.clip(np.rint((np.where(inside, x, 0.0) + span) / (2 * span) * (n_points - 1)),
                      0, n_points - 1).astype(np.int64)
    return np.where(inside, grid[target[nearest]], np.nan)


def in_spurious_basin(landscape, x, *, radius, span=4.0, n_points=40001):
    """Per point (flattened): does it lie in the basin of a *spurious* local minimum of the
    smoothed 1-D landscape (any minimum other than the one whose basin holds x*)? Points off
    the grid or not finite count as spurious (and every point does when x* is off the grid)."""
    land = as_landscape(landscape, need_target=True)
    x = _flat("x", x)
    # One grid evaluation for the points and x* together; the last entry is x*'s minimum.
    minima = basins_1d(land, np.r_[x, land.x_star], radius=radius, span=span,
                       n_points=n_points)
    span, n_points = float(span), int(n_points)  # checked by basins_1d
    # one grid step: a tie (a function even about x* on an even grid) splits one minimum in two
    return ~np.isclose(minima[:-1], minima[-1], rtol=0.0, atol=2 * span / (n_points - 1))
