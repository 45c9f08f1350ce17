"""Convolution of a landscape with the noise kernel: the paper's g_t (Section 1).

With noise uniform in the box :math:`[-W, W]^d` and step size :math:`\\eta`,

.. math:: g(y) = E_\\omega f(y - \\eta\\omega) = E_u f(y - u), \\qquad u \\sim U[-r, r]^d,
          \\quad r = \\eta W.
"""

from dataclasses import dataclass, field

import numpy as np

from . import _rng, _validate
from ._validate import fail, integer, real
from .landscapes import as_landscape

__all__ = ["convolve", "basins_1d", "in_spurious_basin", "Minima1D", "minima_1d"]

_MAX_GRID = 10_000_000


def convolve(landscape, x, *, radius, samples=None, seed=0, return_error=False):
    """f convolved with the uniform box of half-width ``radius``, at the points ``x``:

    .. math:: g(x) = E_u f(x - u), \\qquad u \\sim U[-r, r]^d.

    Parameters
    ----------
    landscape : Landscape or str
    x : array_like
        Points, shape (..., dim) (any shape when dim is 1), all finite (``ValueError``
        otherwise, as for every function that takes points).
    radius : float
        Half-width r >= 0 of the box; for SGD, ``lr * noise``.
    samples : int or None
        None: the exact closed form (the landscape must have one). An integer, 2 <= samples
        < 2**62: a Monte Carlo average over that many draws per point (stream ``Stream.CONVOLVE`` of ``seed``);
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
    samples = _validate.count("samples", samples, low=2, allow_none=True)
    radius = real("radius", radius, low=0)
    pts, shape = land.points(x)
    _validate.finite("x", pts)
    if samples is None:
        values = land.smoothed(pts, radius=radius).reshape(shape)[()]
        return (values, np.zeros_like(values)) if return_error else values
    key = _rng.make_key(_validate.seed("seed", seed), _rng.Stream.CONVOLVE)
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


def _descent_1d(landscape, radius, span, n_points):
    """(landscape, span, grid of [-span, span], per grid index the index that steepest
    descent on the smoothed 1-D landscape reaches), the arguments checked."""
    land = as_landscape(landscape)
    if land.dim != 1:
        fail("landscape", "1-dimensional", shown=f"dim={land.dim}")
    span = real("span", span, above=0)
    n_points = integer("n_points", n_points, low=2, high=_MAX_GRID)
    grid = np.linspace(-span, span, n_points)
    return land, span, grid, _grid_descent(land.smoothed(grid, radius=radius))


def _nearest(x, span, n_points):
    """Index of the grid point nearest to each of ``x`` (0 where ``x`` is off the grid)."""
    return np.clip(np.rint((x + span) / (2 * span) * (n_points - 1)),
                   0, n_points - 1).astype(np.int64)


def basins_1d(landscape, x, *, radius, span=4.0, n_points=40001):
    """The local minimum of the smoothed 1-D landscape whose basin holds each point.

    Evaluates g = f convolved with the box of half-width ``radius`` (exactly) on a grid of
    ``n_points`` over [-span, span] and follows the grid's steepest descent (to the lower
    neighbour, the left one on a tie) from the grid point nearest to each of ``x``. Returns
    the minimiser reached by each point, flattened (nan for points off the grid or not
    finite). With ``radius=0`` these are the basins of f itself (where GD gets stuck).
    :func:`minima_1d` lists the minima themselves.
    """
    _, span, grid, target = _descent_1d(landscape, radius, span, n_points)
    x = _flat("x", x)
    inside = np.isfinite(x) & (np.abs(x) <= span)
    nearest = _nearest(np.where(inside, x, 0.0), span, grid.size)
    return np.where(inside, grid[target[nearest]], np.nan)


@dataclass
class Minima1D:
    """The local minima of a smoothed 1-D landscape on a grid (:func:`minima_1d`)."""

    x: np.ndarray
    """The minimisers in increasing order (grid points no higher than either neighbour, the
    grid's two ends left out)."""
    home: float
    """The minimum whose basin holds x* (the one steepest descent from x* reaches); nan when
    the landscape has no x*, x* is off the grid, or descent from it runs off the grid."""
    basin_low: float
    """Left end of the basin of :attr:`home` on the grid (nan with it)."""
    basin_high: float
    """Right end of the basin of :attr:`home` on the grid (nan with it)."""
    spacing: float
    """The grid step."""
    reached: np.ndarray = field(default=None, repr=False)
    """Per point of the grid over [-span, span], the minimiser its steepest descent reaches
    (as :func:`basins_1d` gives it)."""

    def minimum_at(self, x):
        """The minimiser whose basin holds each point of ``x`` (flattened; nan off the grid
        or not finite): :func:`basins_1d` without evaluating g again."""
        x = _flat("x", x)
        n_points = self.reached.size
        span = self.spacing * (n_points - 1) / 2
        inside = np.isfinite(x) & (np.abs(x) <= span)
        return np.where(inside, self.reached[_nearest(np.where(inside, x, 0.0), span,
                                                      n_points)], np.nan)

    def spurious_at(self, x):
        """Per point of ``x``: does it lie in the basin of a spurious minimum (not
        :attr:`home`, within one grid step)? Points off the grid or not finite do."""
        return ~np.isclose(self.minimum_at(x), self.home, rtol=0.0, atol=self.spacing)

    @property
    def spurious(self):
        """The minima other than :attr:`home` (all of them when it is nan). A minimum within
        one grid step of it is the same one: on a tie (g even about x*, x* between two grid
        points) a minimum splits in two."""
        return self.x[~np.isclose(self.x, self.home, rtol=0.0, atol=self.spacing)]


def minima_1d(landscape, *, radius, span=4.0, n_points=40001):
    """The local minima of the smoothed 1-D landscape on a grid, and the basin of x*.

    On a grid of ``n_points`` over [-span, span], g = f convolved with the box of half-width
    ``radius`` (exactly: the landscape needs a closed form; ``radius=0`` gives f itself) has
    a local minimum at every grid point :math:`s_i` with

    .. math:: g(s_i) \\le g(s_{i-1}) \\quad\\text{and}\\quad g(s_i) \\le g(s_{i+1}),

    the points where the grid's steepest descent (:func:`basins_1d`) stops. A grid end where
    descent stops is not one (g may fall on beyond it). The basin of a minimum is the
    interval of grid points whose descent reaches it; x*'s minimum is :attr:`Minima1D.home`,
    and the others, :attr:`Minima1D.spurious`, are where GD (``radius=0``) or, with
    ``radius`` :math:`= \\eta W`, the smoothed dynamics of the paper get stuck.

    Parameters
    ----------
    landscape : Landscape or str
        One-dimensional; without an x*, :attr:`Minima1D.home` is nan.
    radius : float
        Half-width r >= 0 of the box; for SGD, ``lr * noise``.
    span : float
        The grid covers [-span, span] (span > 0).
    n_points : int
        Grid size, >= 2 (the spacing is 2 span / (n_points - 1)).

    Returns
    -------
    Minima1D
    """
    land, span, grid, target = _descent_1d(landscape, radius, span, n_points)
    n_points = grid.size
    sinks = np.flatnonzero(target == np.arange(n_points))
    home = basin_low = basin_high = np.nan
    star = None if land.x_star is None else float(land.x_star[0])
    if star is not None and abs(star) <= span:
        sink = int(target[_nearest(star, span, n_points)])
        if 0 < sink < n_points - 1:
            basin = grid[target == sink]  # an interval: descent never crosses a minimum
            home, basin_low, basin_high = float(grid[sink]), float(basin[0]), float(basin[-1])
    return Minima1D(x=grid[sinks[(sinks > 0) & (sinks < n_points - 1)]], home=home,
                    basin_low=basin_low, basin_high=basin_high,
                    spacing=float(grid[1] - grid[0]), reached=grid[target])


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
