"""Exact box smoothing against quadrature, closed forms and Monte Carlo; Monte Carlo
against the reference random stream."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import integrate

import sgdlab
from sgdlab import reference as ref
from sgdlab._rng import Stream
from sgdlab.landscapes import quadratic, spiky

from _user_landscapes import VALLEY, WELL, WELL_PARAMS, valley_f_numpy, well_f1_numpy

RADII = [0.0, 1e-3, 0.05, 0.1, 0.37, 1.0]
POINTS = np.array([-3.07, -1.0, -0.55, -0.1, -0.013, 0.0, 0.02, 0.1, 0.23, 0.5, 1.234, 7.3])


@pytest.fixture
def seed():
    return 31415


def spiky_f1(s, beta=0.3, period=0.1):
    t = s / period - np.floor(s / period)
    return s * s * (1.0 + beta * 16.0 * t * t * (1.0 - t) ** 2)


def box_average_1d(f1, x, radius, breaks=()):
    """(1 / 2r) * int_{x-r}^{x+r} f1, by adaptive quadrature split at ``breaks``."""
    if radius == 0.0:
        return float(f1(x))
    lo, hi = x - radius, x + radius
    inner = [b for b in breaks if lo < b < hi]
    edges = [lo, *inner, hi]
    total = sum(integrate.quad(f1, a, b, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
                for a, b in zip(edges[:-1], edges[1:]))
    return total / (2 * radius)


def cell_breaks(period, span=10.0):
    return list(np.arange(-np.ceil(span / period), np.ceil(span / period) + 1) * period)


@pytest.mark.parametrize("radius", RADII)
@pytest.mark.parametrize("beta, period", [(0.3, 0.1), (1.5, 0.4)])
def test_spiky_exact_vs_quadrature(radius, beta, period):
    land = spiky(beta=beta, period=period)
    exact = land.smoothed(POINTS, radius=radius)
    quad = [box_average_1d(lambda s: spiky_f1(s, beta, period), x, radius,
                           cell_breaks(period)) for x in POINTS]
    assert_allclose(exact, quad, rtol=1e-10, atol=1e-13)


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=-5, max_value=5), st.floats(min_value=1e-4, max_value=2.0))
def test_spiky_exact_vs_quadrature_property(x, radius):
    exact = spiky().smoothed(x, radius=radius)
    quad = box_average_1d(spiky_f1, x, radius, cell_breaks(0.1))
    assert_allclose(exact, quad, rtol=1e-9, atol=1e-12)


def test_radius_zero_is_f_and_small_radius_is_continuous():
    for land in (spiky(), spiky(dim=2), quadratic(dim=2)):
        x = np.linspace(-2, 2, 2 * 41 * land.dim).reshape(-1, land.dim)
        assert_array_equal(land.smoothed(x, radius=0.0), land.f(x))
        assert_array_equal(sgdlab.convolve(land, x, radius=0.0), land.f(x))
        assert_allclose(land.smoothed(x, radius=1e-6), land.f(x), rtol=1e-6, atol=1e-9)


def test_spiky_2d_is_sum_of_1d():
    rng = np.random.default_rng(7)
    x = rng.uniform(-2, 2, (200, 2))
    one = spiky()
    for r in (0.05, 0.3):
        expected = one.smoothed(x[:, 0], radius=r) + one.smoothed(x[:, 1], radius=r)
        assert_allclose(spiky(dim=2).smoothed(x, radius=r), expected, rtol=1e-13)


@pytest.mark.parametrize("dim, a", [(1, 1.0), (2, 3.0), (4, 0.5)])
@pytest.mark.parametrize("radius", RADII)
def test_quadratic_closed_form(dim, a, radius):
    land = quadratic(dim=dim, curvature=a)
    x = np.linspace(-3, 3, 12 * dim).reshape(12, dim)
    assert_allclose(land.smoothed(x, radius=radius), land.f(x) + dim * a * radius**2 / 6,
                    rtol=1e-12, atol=1e-15)


def test_smoothing_flattens_the_spikes_near_zero():
    # Section 1: the smoothed spiky function is increasing away from 0 near 0 once the
    # radius covers a period, while f itself has spurious minima.
    land = spiky()
    s = np.linspace(0.05, 0.5, 2000)
    assert np.any(np.diff(land.f(s)) < 0)
    assert np.all(np.diff(land.smoothed(s, radius=0.1)) > 0)


@pytest.mark.parametrize("radius", [0.02, 0.1, 0.5])
def test_exact_vs_monte_carlo(seed, radius):
    land = spiky(dim=2)
    x = np.stack([POINTS, POINTS[::-1]], axis=1)
    exact = land.smoothed(x, radius=radius)
    mc, err = sgdlab.convolve(land, x, radius=radius, samples=20_000, seed=seed,
                              return_error=True)
    assert np.all(err > 0)
    assert np.all(np.abs(mc - exact) <= 4 * err), np.max(np.abs(mc - exact) / err)


def test_monte_carlo_error_shrinks_like_inverse_sqrt(seed):
    land = spiky()
    x = np.linspace(-1.5, 1.5, 9)
    kw = dict(radius=0.3, seed=seed, return_error=True)
    _, err_small = sgdlab.convolve(land, x, samples=2_000, **kw)
    _, err_big = sgdlab.convolve(land, x, samples=32_000, **kw)
    assert_allclose(err_small / err_big, 4.0, rtol=0.15)
    # and the actual error of the big run is of that size
    exact = land.smoothed(x, radius=0.3)
    mc = sgdlab.convolve(land, x, radius=0.3, samples=32_000, seed=seed)
    assert np.all(np.abs(mc - exact) <= 4 * err_big)


def test_exact_convolve_returns_zero_error():
    values, err = sgdlab.convolve("spiky", [0.2, 0.4], radius=0.1, return_error=True)
    assert_array_equal(err, 0.0)
    assert_array_equal(values, spiky().smoothed([0.2, 0.4], radius=0.1))


def test_monte_carlo_deterministic_per_seed(seed):
    land = spiky()
    a = sgdlab.convolve(land, POINTS, radius=0.2, samples=500, seed=seed)
    b = sgdlab.convolve(land, POINTS, radius=0.2, samples=500, seed=seed)
    c = sgdlab.convolve(land, POINTS, radius=0.2, samples=500, seed=seed + 1)
    assert_array_equal(a, b)
    assert not np.any(a == c)


def _mc_reference(f_rows, x, radius, samples, seed):
    """Monte Carlo mean with the same draws as sgdlab.convolve (stream 2**32 of the seed,
    ``Stream.CONVOLVE``)."""
    assert Stream.CONVOLVE == 2**32
    u = ref.uniforms(seed, trials=x.shape[0], steps=samples, dim=x.shape[1], stream=2**32)
    values = np.stack([f_rows(x - radius * u[s]) for s in range(samples)])
    return values.mean(axis=0)


def test_monte_carlo_uses_the_reference_draws(seed):
    x = np.stack([POINTS, POINTS[::-1]], axis=1)
    mc = sgdlab.convolve(spiky(dim=2), x, radius=0.3, samples=300, seed=seed)
    expected = _mc_reference(lambda z: spiky_f1(z).sum(axis=1), x, 0.3, 300, seed)
    assert_allclose(mc, expected, rtol=1e-12)


def valley_smoothed(x, r):
    """Closed-form box smoothing of the valley landscape."""
    x0, x1, x2 = x[:, 0], x[:, 1], x[:, 2]
    v = r * r / 3
    ea2 = x0 * x0 + v
    ea4 = x0**4 + 6 * x0 * x0 * v + r**4 / 5
    return ((1 - x0) ** 2 + v + 5 * (x1 * x1 + v - 2 * x1 * ea2 + ea4)
            + 0.5 * (x2 * x2 + v))


def test_general_landscape_monte_carlo(seed):
    x = np.random.default_rng(3).uniform(-1.5, 1.5, (10, 3))
    mc, err = sgdlab.convolve(VALLEY, x, radius=0.4, samples=20_000, seed=seed,
                              return_error=True)
    exact = valley_smoothed(x, 0.4)
    assert np.all(np.abs(mc - exact) <= 4 * err), np.max(np.abs(mc - exact) / err)
    small = sgdlab.convolve(VALLEY, x, radius=0.4, samples=200, seed=seed)
    assert_allclose(small, _mc_reference(valley_f_numpy, x, 0.4, 200, seed), rtol=1e-12)
    assert_allclose(sgdlab.convolve(VALLEY, x, radius=0.0, samples=5), VALLEY.f(x),
                    rtol=1e-15)
    with pytest.raises(NotImplementedError, match="no closed-form smoothing"):
        VALLEY.smoothed(x, radius=0.1)


def test_separable_without_antiderivative(seed):
    x = np.array([[-1.3, 0.2], [0.0, 1.0], [0.7, -0.4], [1.9, -2.2]])
    with pytest.raises(NotImplementedError, match="no closed-form smoothing"):
        WELL.smoothed(x, radius=0.2)
    with pytest.raises(NotImplementedError, match="samples=N"):
        sgdlab.convolve(WELL, x, radius=0.2)
    mc, err = sgdlab.convolve(WELL, x, radius=0.2, samples=20_000, seed=seed,
                              return_error=True)
    quad = np.array([[box_average_1d(well_f1_numpy, s, 0.2) for s in row] for row in x])
    assert np.all(np.abs(mc - quad.sum(axis=1)) <= 4 * err)
    assert WELL_PARAMS[0] == WELL.params[0]


@pytest.mark.parametrize("radius, exc, message", [
    (-0.1, ValueError, "^radius must be a finite number >= 0, got -0.1"),
    (np.nan, ValueError, "^radius must be a finite number >= 0, got nan"),
    (np.inf, ValueError, "^radius must be a finite number >= 0"),
    ("big", TypeError, "^radius must be a finite number >= 0, got 'big'"),
    (None, TypeError, "^radius must be a finite number >= 0, got None")])
def test_bad_radius(radius, exc, message):
    with pytest.raises(exc, match=message):
        spiky().smoothed([0.1], radius=radius)
    with pytest.raises(exc, match=message):
        sgdlab.convolve(spiky(), [0.1], radius=radius, samples=10)


@pytest.mark.parametrize("samples, exc, message", [
    (0, ValueError, "^samples must be an integer >= 2 or None, got 0"),
    (1, ValueError, "^samples must be an integer >= 2 or None, got 1"),
    (-5, ValueError, "^samples must be an integer >= 2"),
    (2.5, TypeError, "^samples must be an integer"), ("10", TypeError, "^samples must be an")])
def test_bad_samples(samples, exc, message):
    with pytest.raises(exc, match=message):
        sgdlab.convolve(spiky(), [0.1], radius=0.1, samples=samples)


def test_bad_points():
    with pytest.raises(ValueError, match=r"^x must be of shape \(\.\.\., 2\)"):
        sgdlab.convolve(spiky(dim=2), np.zeros((3, 3)), radius=0.1, samples=10)
    with pytest.raises(ValueError, match=r"^x must be of shape \(\.\.\., 2\)"):
        spiky(dim=2).smoothed(np.zeros(3), radius=0.1)
    with pytest.raises(ValueError, match="^seed must be an integer >= 0"):
        sgdlab.convolve(spiky(), [0.1], radius=0.1, samples=10, seed=-1)
    with pytest.raises(TypeError):  # the radius is keyword-only
        sgdlab.convolve(spiky(), [0.1], 0.1)


@pytest.mark.parametrize("land, x, count", [
    (spiky(), [0.1, np.nan], 1), (spiky(), np.array([[np.inf], [0.0], [-np.inf]]), 2),
    (spiky(dim=2), [[0.1, 0.2], [np.nan, 0.0]], 1), (quadratic(dim=3), [np.nan] * 3, 3)])
@pytest.mark.parametrize("samples", [None, 50])  # the exact path and Monte Carlo
def test_non_finite_points_are_refused(land, x, count, samples):
    # as every function taking points does (sgdlab._validate.points), never a silent NaN
    with pytest.raises(ValueError, match=rf"^x must be finite, got {count} non-finite "
                                         r"value\(s\)$"):
        sgdlab.convolve(land, x, radius=0.1, samples=samples)


def test_too_many_samples_are_refused():
    # 64-bit counters in the kernels: a clear message, not an OverflowError
    with pytest.raises(ValueError, match=r"^samples must be an integer < 2\*\*62 = "
                                         rf"{2**62} .*, got {10**30}$"):
        sgdlab.convolve(spiky(), [0.1], radius=0.1, samples=10**30)


def test_minima_1d_classifies_points_as_basins_1d_and_in_spurious_basin():
    from sgdlab.smoothing import basins_1d, in_spurious_basin, minima_1d
    land = sgdlab.landscapes.spiky(width="sqrt", beta=0.1, period=0.08)
    x = np.r_[np.linspace(-3.4, 3.4, 301), 3.6, np.nan, -np.inf]
    for radius in (0.0, 0.025):
        m = minima_1d(land, radius=radius, span=3.5, n_points=7001)
        np.testing.assert_array_equal(m.minimum_at(x), basins_1d(land, x, radius=radius,
                                                                  span=3.5, n_points=7001))
        np.testing.assert_array_equal(m.spurious_at(x), in_spurious_basin(
            land, x, radius=radius, span=3.5, n_points=7001))
    assert m.spurious_at([0.0, 3.6, np.nan]).tolist() == [False, True, True]
