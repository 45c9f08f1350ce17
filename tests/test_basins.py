"""basins_1d, in_spurious_basin and minima_1d against a brute-force reference (discrete
steepest descent on the same grid, followed point by point with a plain Python loop), and
minima_1d against the closed-form critical points of the (smoothed) ripple."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import brentq

from sgdlab import landscapes
from sgdlab.smoothing import Minima1D, basins_1d, in_spurious_basin, minima_1d

from _user_landscapes import (TILTED, TILTED_CENTRE, WELL, tilted_antiderivative1, tilted_f1,
                              tilted_grad1)

UNTARGETED = landscapes.Landscape.separable(tilted_f1, tilted_grad1, [1.0, 0.0, 1.0, 0.0],
                                            dim=1, x_star=None,
                                            antiderivative1=tilted_antiderivative1)


def descend(values, i):
    """Follow steepest descent on the grid from index i: step to the lower neighbour (the left
    one on a tie) while one is lower than the current value."""
    n = len(values)
    while True:
        left = values[i - 1] if i > 0 else math.inf
        right = values[i + 1] if i < n - 1 else math.inf
        if left < values[i] and left <= right:
            i -= 1
        elif right < values[i]:
            i += 1
        else:
            return i


def brute_force_minima(land, x, radius, span, n_points):
    """The grid minimiser reached from the grid point nearest to each x (nan off the grid)."""
    grid = np.linspace(-span, span, n_points)
    values = list(land.smoothed(grid, radius=radius))
    out = []
    for value in x:
        if not (math.isfinite(value) and abs(value) <= span):
            out.append(math.nan)
            continue
        nearest = min(range(n_points), key=lambda j: abs(grid[j] - value))
        out.append(grid[descend(values, nearest)])
    return np.array(out)


def random_case(seed):
    """A random 1-D spiky or ripple landscape, radius, grid and points (some off the grid)."""
    rng = np.random.default_rng(seed)
    period = rng.uniform(0.05, 0.5)
    if seed % 2:
        land = landscapes.ripple(curvature=rng.uniform(0.5, 2.0), depth=rng.uniform(0.0, 12.0),
                                 period=period)
    else:
        land = landscapes.spiky(beta=rng.uniform(0.0, 2.0), period=period)
    radius = 0.0 if seed % 3 == 0 else rng.uniform(0.0, period)
    span = rng.uniform(0.5, 4.0)
    n_points = int(rng.integers(201, 3002))
    x = np.concatenate([rng.uniform(-1.2 * span, 1.2 * span, 150),
                        np.linspace(-span, span, n_points)[rng.integers(0, n_points, 20)],
                        [span, -span, np.nan, np.inf, -np.inf]])
    return land, x, radius, span, n_points


@pytest.mark.parametrize("seed", range(12))
def test_basins_1d_against_brute_force(seed):
    land, x, radius, span, n_points = random_case(seed)
    expected = brute_force_minima(land, x, radius, span, n_points)
    got = basins_1d(land, x, radius=radius, span=span, n_points=n_points)
    assert_array_equal(got, expected)
    assert np.isnan(got[-3:]).all() and not np.isnan(got[-5:-3]).any()


@pytest.mark.parametrize("seed", range(12))
def test_in_spurious_basin_against_brute_force(seed):
    land, x, radius, span, n_points = random_case(seed)
    minima = brute_force_minima(land, np.r_[x, 0.0], radius, span, n_points)
    # x* = 0; nan (off the grid) counts as spurious. Two grid minima one step apart are one
    # minimum split by a tie (an even grid on a function even about x* = 0 has one at 0).
    step = 2 * span / (n_points - 1)
    expected = ~(np.abs(minima[:-1] - minima[-1]) <= step * (1 + 1e-9))
    got = in_spurious_basin(land, x, radius=radius, span=span, n_points=n_points)
    assert got.dtype == bool
    assert_array_equal(got, expected)


def test_spurious_basins_exist_and_vanish():
    """The motivating example: f has spurious minima near 0.5, smoothing at radius 0.1 (a
    period) removes them, so the spurious share of points in [0.3, 0.8] drops to zero."""
    x = np.linspace(0.3, 0.8, 200)
    assert in_spurious_basin("spiky", x, radius=0.0).mean() > 0.9
    assert not in_spurious_basin("spiky", x, radius=0.1).any()


def test_target_away_from_zero():
    """x* = 0.3: the basin that holds x* is not spurious, the others are; with x* off the
    grid every point counts as spurious."""
    x = np.random.default_rng(4).uniform(-1.0, 1.0, 200)
    for radius in (0.0, 0.03):
        minima = brute_force_minima(TILTED, np.r_[x, TILTED_CENTRE], radius, 1.0, 801)
        got = in_spurious_basin(TILTED, x, radius=radius, span=1.0, n_points=801)
        assert_array_equal(got, minima[:-1] != minima[-1])
        assert got.any() and not got.all()
    assert in_spurious_basin(TILTED, x, radius=0.0, span=0.25, n_points=801).all()


def brute_force_structure(land, radius, span, n_points):
    """(interior grid minima, x*'s minimum, its basin's ends) by a plain scan and descent."""
    grid = np.linspace(-span, span, n_points)
    v = list(land.smoothed(grid, radius=radius))
    minima = [grid[i] for i in range(1, n_points - 1) if v[i] <= v[i - 1] and v[i] <= v[i + 1]]
    # the grid point nearest x* (half way between two: the even index, as numpy's rint)
    star = round((land.x_star[0] + span) / (2 * span) * (n_points - 1))
    home = descend(v, star)
    if home in (0, n_points - 1):
        return np.array(minima), math.nan, (math.nan, math.nan)
    basin = [grid[j] for j in range(n_points) if descend(v, j) == home]
    return np.array(minima), grid[home], (min(basin), max(basin))


@pytest.mark.parametrize("seed", range(12))
def test_minima_1d_against_brute_force(seed):
    land, _, radius, span, n_points = random_case(seed)
    minima, home, (low, high) = brute_force_structure(land, radius, span, n_points)
    got = minima_1d(land, radius=radius, span=span, n_points=n_points)
    assert isinstance(got, Minima1D)
    assert_array_equal(got.x, minima)
    assert_array_equal([got.home, got.basin_low, got.basin_high], [home, low, high])
    assert got.spacing == pytest.approx(2 * span / (n_points - 1), rel=1e-12)
    assert_array_equal(got.spurious, minima[np.abs(minima - home) > got.spacing])
    # the minima are where basins_1d's descent ends
    reached = basins_1d(land, np.linspace(-span, span, n_points), radius=radius, span=span,
                        n_points=n_points)
    ends = np.unique(reached)
    assert_array_equal(got.x, ends[(ends > -span) & (ends < span)])


def ripple_critical_points(radius, span, depth=6.0, period=0.1):
    """Minima and maxima of the ripple smoothed at ``radius`` on [-span, span], as roots of
    its closed-form slope g'(s) = s + (A k / 2) sin(k s) sin(k r) / (k r) (brentq)."""
    k, amp = 2 * np.pi / period, depth * period**2 / (2 * np.pi**2)
    damping = 1.0 if radius == 0 else np.sin(k * radius) / (k * radius)

    def slope(s):
        return s + 0.5 * amp * k * np.sin(k * s) * damping

    s = np.linspace(-span, span, 200_001)
    d = slope(s)
    down_up = np.flatnonzero((d[:-1] < 0) & (d[1:] >= 0))
    up_down = np.flatnonzero((d[:-1] > 0) & (d[1:] <= 0))
    roots = [np.array([brentq(slope, s[i], s[i + 1]) for i in idx]) for idx in (down_up, up_down)]
    return roots[0], roots[1]


@pytest.mark.parametrize("depth, radius, span, n_points", [
    (6.0, 0.0, 0.3, 2001), (6.0, 0.0, 1.0, 4001), (30.0, 0.02, 1.0, 3001),
    (30.0, 0.07, 2.0, 8001)])   # at radius 0.07 the ripples' sign flips (sinc < 0)
def test_minima_1d_against_the_ripple_closed_form(depth, radius, span, n_points):
    minima, maxima = ripple_critical_points(radius, span, depth=depth)
    got = minima_1d(landscapes.ripple(depth=depth), radius=radius, span=span,
                    n_points=n_points)
    step = got.spacing
    assert got.x.size == minima.size > 1                      # one grid minimum per minimum
    assert_allclose(got.x, minima, rtol=0, atol=step)         # within one grid step
    # x*'s minimum: 0 itself, or where g is a maximum at 0 (sinc < 0), the nearest minimum
    # on the left (descent from 0 takes the left one on a tie)
    home = 0.0 if np.abs(minima).min() < step else minima[minima < 0].max()
    assert got.home == pytest.approx(home, abs=step)
    assert got.spurious.size == minima.size - 1
    # its basin ends at the maxima on either side of it, or at a grid end
    low, high = maxima[maxima < got.home], maxima[maxima > got.home]
    assert_allclose([got.basin_low, got.basin_high],
                    [low.max() if low.size else -span, high.min() if high.size else span],
                    rtol=0, atol=step)


def test_minima_1d_smoothing_removes_the_ripples():
    # at radius = period / 2 the ripples average out: g is the quadratic, one minimum at 0
    got = minima_1d(landscapes.ripple(), radius=0.05, span=3.0, n_points=6001)
    assert_array_equal(got.x, [0.0]) and got.spurious.size == 0
    assert (got.basin_low, got.basin_high) == (-3.0, 3.0)


def test_minima_1d_target_away_from_zero_and_grid_ends():
    got = minima_1d(TILTED, radius=0.0, span=1.0, n_points=801)  # x* = 0.3 on a ripple's top
    assert got.basin_low < got.home < got.basin_high and got.basin_low <= TILTED_CENTRE
    assert TILTED_CENTRE <= got.basin_high and got.home in got.x
    assert got.spurious.size == got.x.size - 1
    # x* off the grid: no home, every minimum is spurious
    off = minima_1d(TILTED, radius=0.0, span=0.25, n_points=801)
    assert math.isnan(off.home) and math.isnan(off.basin_high)
    assert_array_equal(off.spurious, off.x)
    # a grid end where descent stops is not a minimum: the quadratic falls on beyond it
    shifted = landscapes.Landscape.separable(tilted_f1, tilted_grad1, [1.0, 0.0, 1.0, 2.0],
                                             x_star=2.0, antiderivative1=tilted_antiderivative1)
    ends = minima_1d(shifted, radius=0.1, span=1.0, n_points=101)
    assert ends.x.size == 0 and math.isnan(ends.home)
    untargeted = minima_1d(UNTARGETED, radius=0.0, span=1.0, n_points=101)
    assert math.isnan(untargeted.home) and untargeted.x.size == 1


def test_convex_landscape_has_one_basin():
    x = np.linspace(-3.0, 3.0, 101)
    assert_array_equal(basins_1d(landscapes.quadratic(), x, radius=0.5, span=3.0,
                                 n_points=601), 0.0)
    assert not in_spurious_basin("quadratic", x, radius=0.0).any()
    assert basins_1d("quadratic", x.reshape(1, -1, 1), radius=0.0).shape == (101,)


@pytest.mark.parametrize("call, exc, message", [
    (lambda: basins_1d(WELL, [0.1], radius=0.1), ValueError,
     r"^landscape must be 1-dimensional, got dim=2"),
    (lambda: basins_1d("spiky", [0.1], radius=-0.1), ValueError, "^radius must be"),
    (lambda: basins_1d("spiky", [0.1], radius=0.1, n_points=1), ValueError,
     "^n_points must be an integer >= 2"),
    (lambda: basins_1d("spiky", [0.1], radius=0.1, span=0.0), ValueError,
     "^span must be a finite number > 0"),
    (lambda: basins_1d("spiky", ["a"], radius=0.1), TypeError, "^x must be an array"),
    (lambda: basins_1d("spiky", [0.1], 0.1), TypeError, "positional"),
    (lambda: in_spurious_basin(UNTARGETED, [0.1], radius=0.1), ValueError,
     "^landscape must be a landscape with a target x_star"),
    (lambda: minima_1d(WELL, radius=0.0), ValueError,
     r"^landscape must be 1-dimensional, got dim=2"),
    (lambda: minima_1d("ripple", radius=-1.0), ValueError, "^radius must be"),
    (lambda: minima_1d("ripple", radius=0.0, span=-1.0), ValueError,
     "^span must be a finite number > 0"),
    (lambda: minima_1d("ripple", radius=0.0, n_points=2.5), TypeError,
     "^n_points must be an integer"),
    (lambda: minima_1d("ripple"), TypeError, "radius"),
    (lambda: minima_1d(3.0, radius=0.0), TypeError, "^landscape must be a sgdlab.Landscape"),
])
def test_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()
