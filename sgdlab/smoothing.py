"""Convolution of a landscape with the noise kernel: the paper's g_t (Section 1).

With noise uniform in the box :math:`[-W, W]^d` and step size :math:`\\eta`,

.. math:: g(y) = E_\\omega f(y - \\eta\\omega) = E_u f(y - u), \\qquad u \\sim U[-r, r]^d,
          \\quad r = \\eta W.
"""

import numpy as np

from . import _kernels, _rng
from .landscapes import _check_radius
from .sgd import _as_landscape, _check_int

__all__ = ["convolve"]


def convolve(landscape, xs, radius, samples=None, seed=0, *, return_error=False):
    """f convolved with the uniform box of half-width ``radius``, at the points ``xs``.

    Parameters
    ----------
    landscape : Landscape or str
    xs : array_like
        Points, shape (..., dim) (any shape when dim is 1).
    radius : float
        Half-width r >= 0 of the box; for SGD, ``lr * noise``.
    samples : int or None
        None: the exact closed form (the landscape must have one). An integer: a Monte Carlo
        average over that many draws per point; its error shrinks like 1/sqrt(samples).
    seed : int
        Seed of the Monte Carlo draws (counter based, as in :func:`sgdlab.run_sgd`).
    return_error : bool
        Also return the standard error of each value (zeros when exact).

    Returns
    -------
    ndarray, or (values, stderr) with ``return_error``.
    """
    land = _as_landscape(landscape)
    radius = _check_radius(radius)
    if samples is None:
        values = land.smoothed(xs, radius)
        return (values, np.zeros_like(values)) if return_error else values
    samples = _check_int(samples, "samples")
    if samples < 1:
        raise ValueError(f"samples must be >= 1 (or None for the exact form), got {samples}")
    seed = _check_int(seed, "seed", upper=2**63)
    pts, shape = land._points(xs, "xs")
    mean = np.empty(pts.shape[0])
    mean_sq = np.empty(pts.shape[0])
    key = np.uint64(_rng.seed_key(seed, 1))
    if land.is_separable:
        _kernels.smoothed_mc_separable(land._f1, land.params, pts, radius, samples, key,
                                       mean, mean_sq)
    else:
        _kernels.smoothed_mc_general(land._f, pts, radius, samples, key, mean, mean_sq)
    values = mean.reshape(shape)[()]
    if not return_error:
        return values
    var = np.maximum(mean_sq - mean * mean, 0.0) * samples / max(samples - 1, 1)
    return values, np.sqrt(var / samples).reshape(shape)[()]


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


def basins_1d(landscape, xs, radius, *, span=4.0, points=40001):
    """The local minimum of the smoothed 1-D landscape whose basin holds each point.

    Evaluates g = f convolved with the box of half-width ``radius`` (exactly) on a grid of
    ``points`` over [-span, span] and follows the grid's steepest descent from each of
    ``xs``. Returns the minimiser reached by each point (nan for points off the grid or not
    finite). With ``radius=0`` these are the basins of f itself (where GD gets stuck).
    """
    land = _as_landscape(landscape)
    if land.dim != 1:
        raise ValueError(f"landscape must be 1-dimensional, got dim={land.dim}")
    grid = np.linspace(-span, span, points)
    target = _grid_descent(land.smoothed(grid, radius))
    xs = np.asarray(xs, dtype=np.float64).ravel()
    inside = np.isfinite(xs) & (np.abs(xs) <= span)
    nearest = np.clip(np.rint((np.where(inside, xs, 0.0) + span) / (2 * span) * (points - 1)),
                      0, points - 1).astype(np.int64)
    return np.where(inside, grid[target[nearest]], np.nan)


def in_spurious_basin(landscape, xs, radius, *, span=4.0, points=40001):
    """Per point: does it lie in the basin of a *spurious* local minimum of the smoothed 1-D
    landscape (any minimum other than the one whose basin holds x*)? Points off the grid
    or not finite count as spurious."""
    land = _as_landscape(landscape)
    xs = np.asarray(xs, dtype=np.float64).ravel()
    # One grid evaluation for the points and x* together; the last entry is x*'s minimum.
    minima = basins_1d(land, np.r_[xs, land.x_star], radius, span=span, points=points)
    return ~np.isclose(minima[:-1], minima[-1], rtol=0.0, atol=span / (points - 1))


def spurious_share(landscape, xs, radius, *, span=4.0, points=40001):
    """Share of the points ``xs`` in the basin of a spurious minimum (see
    :func:`in_spurious_basin`)."""
    return float(np.mean(in_spurious_basin(landscape, xs, radius, span=span, points=points)))
