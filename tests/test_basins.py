"""basins_1d and in_spurious_basin against a brute-force reference: discrete steepest descent
on the same grid, followed point by point with a plain Python loop."""

import math

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sgdlab import landscapes
from sgdlab.smoothing import basins_1d, in_spurious_basin

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
])
def test_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()
