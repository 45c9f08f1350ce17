"""Landscapes: values against closed forms, gradients against finite differences,
construction errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import sgdlab
from sgdlab import Landscape, landscapes
from sgdlab.landscapes import quadratic, spiky

from _user_landscapes import (VALLEY, WELL, valley_f, valley_f_numpy, valley_grad,
                              valley_grad_numpy, well_f1, well_f1_numpy, well_grad1)


@pytest.fixture
def rng():
    return np.random.default_rng(1208)


def spiky_f1_closed(s, beta, period, growth=0):
    t = s / period - np.floor(s / period)
    return s**2 * (1.0 + beta * np.abs(s) ** growth * 16.0 * t**2 * (1.0 - t) ** 2)


def central_difference(f, x, h=1e-6):
    """Gradient of f (rows of (n, d) -> (n,)) by central differences."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        out[:, j] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def boundary_points(period, cells=range(-6, 7)):
    """Points on and within 1e-9 .. 1e-3 of cell boundaries k * period."""
    k = np.array(list(cells), dtype=np.float64)[:, None] * period
    offsets = np.array([0.0, 1e-9, -1e-9, 1e-6, -1e-6, 1e-3, -1e-3])[None, :]
    return (k + offsets).ravel()


# -- values -------------------------------------------------------------------------------
@pytest.mark.parametrize("beta, period", [(0.3, 0.1), (1.0, 0.25), (0.0, 0.1), (2.5, 0.7)])
def test_spiky_values_closed_form(rng, beta, period):
    land = spiky(beta=beta, period=period)
    s = np.concatenate([rng.uniform(-3, 3, 500), boundary_points(period)])
    assert_allclose(land.f(s), spiky_f1_closed(s, beta, period), rtol=1e-12, atol=1e-300)
    assert land.f(s).shape == s.shape
    assert np.ndim(land.f(0.37)) == 0


@pytest.mark.parametrize("beta, period, growth", [(0.3, 0.1, 1), (0.01, 0.2, 4), (1e-4, 0.05, 9)])
def test_spiky_growth_values_and_gradient(rng, beta, period, growth):
    land = spiky(beta=beta, period=period, growth=growth)
    s = np.concatenate([rng.uniform(-3.5, 3.5, 400), boundary_points(period)])
    assert_allclose(land.f(s), spiky_f1_closed(s, beta, period, growth), rtol=1e-12)
    h = 1e-6
    fd = (land.f(s + h) - land.f(s - h)) / (2 * h)
    scale = beta * (1 + np.abs(s)) ** (growth + 2) / period + 1 + np.abs(s)
    assert np.all(np.abs(land.grad(s) - fd) <= 1e-5 * scale)
    assert land.f(-1.234) == land.f(1.234)  # even in each coordinate


@pytest.mark.parametrize("growth", [0, 1, 3, 8])
@pytest.mark.parametrize("radius", [1e-3, 0.037, 0.25])
def test_spiky_growth_smoothing_vs_quadrature(growth, radius):
    """Exact smoothing against Gauss-Legendre on every cell of the box (a polynomial of
    degree growth + 6 per cell, so 12 nodes integrate it exactly up to rounding)."""
    beta, period = 0.05, 0.1
    land = spiky(beta=beta, period=period, growth=growth)
    nodes, weights = np.polynomial.legendre.leggauss(12)
    for x in (-2.71, -0.05, 0.0, 0.33, 1.5, 3.02):
        lo, hi = x - radius, x + radius
        edges = np.r_[lo, np.arange(np.ceil(lo / period), np.floor(hi / period) + 1) * period, hi]
        total = 0.0
        for a, b in zip(edges[:-1], edges[1:]):
            s = 0.5 * (a + b) + 0.5 * (b - a) * nodes
            total += 0.5 * (b - a) * np.sum(weights * spiky_f1_closed(s, beta, period, growth))
        assert_allclose(land.smoothed(x, radius=radius), total / (2 * radius), rtol=1e-11)


def spiky_wide_closed(s, beta, p, growth=0):
    u = np.sqrt(np.abs(s)) / p
    t = u - np.floor(u)
    return s**2 * (1.0 + beta * np.abs(s) ** growth * 16.0 * t**2 * (1.0 - t) ** 2)


@pytest.mark.parametrize("beta, p, growth", [(0.1, 0.08, 0), (0.3, 0.05, 2), (1e-3, 0.2, 4)])
def test_spiky_sqrt_width_values_and_gradient(rng, beta, p, growth):
    land = spiky(beta=beta, period=p, growth=growth, width="sqrt")
    cells = (np.arange(0, 40) * p) ** 2
    s = np.concatenate([rng.uniform(-3.5, 3.5, 400), cells, -cells, cells + 1e-7])
    assert_allclose(land.f(s), spiky_wide_closed(s, beta, p, growth), rtol=1e-12, atol=1e-300)
    h = 1e-6
    s = s[np.abs(s) > 1e-3]
    fd = (land.f(s + h) - land.f(s - h)) / (2 * h)
    scale = beta * (1 + np.abs(s)) ** (growth + 2) / (p * np.sqrt(np.abs(s))) + 1 + np.abs(s)
    assert np.all(np.abs(land.grad(s) - fd) <= 1e-5 * scale)
    assert land.f(-1.234) == land.f(1.234) and land.grad(0.0) == 0.0
    assert_array_equal(land.params, [beta, 1 / p, growth, 1.0])


@pytest.mark.parametrize("growth", [0, 1, 4])
@pytest.mark.parametrize("radius", [1e-3, 0.05, 0.4])
def test_spiky_sqrt_width_smoothing_vs_quadrature(growth, radius):
    """Exact smoothing against Gauss-Legendre in u = sqrt(|x|) / p on every cell of the box:
    there f(x) dx = f(p^2 u^2) 2 p^2 u du is a polynomial of degree 2 growth + 9 <= 17 per
    cell, which 12 nodes integrate exactly up to rounding (an independent reference)."""
    beta, p = 0.1, 0.08
    land = spiky(beta=beta, period=p, growth=growth, width="sqrt")
    nodes, weights = np.polynomial.legendre.leggauss(12)

    def integral(a, b):  # int_a^b f for 0 <= a <= b, cell by cell in u
        ua, ub = np.sqrt(a) / p, np.sqrt(b) / p
        edges = np.r_[ua, np.arange(np.floor(ua) + 1, np.ceil(ub)), ub]
        total = 0.0
        for lo, hi in zip(edges[:-1], edges[1:]):
            u = 0.5 * (lo + hi) + 0.5 * (hi - lo) * nodes
            x = p * p * u * u
            total += 0.5 * (hi - lo) * np.sum(weights * spiky_wide_closed(x, beta, p, growth)
                                              * 2 * p * p * u)
        return total

    for x in (-2.71, -0.05, 0.0, 0.33, 1.5, 3.02):
        lo, hi = x - radius, x + radius
        total = (integral(max(lo, 0.0), hi) if hi > 0 else 0.0) + (
            integral(max(-hi, 0.0), -lo) if lo < 0 else 0.0)
        assert_allclose(land.smoothed(x, radius=radius), total / (2 * radius), rtol=1e-11)


def test_spiky_sqrt_width_far_out_and_arguments():
    from sgdlab import _builtin

    # 1.25 million cells (Faulhaber's sums): F1(s) -> s^3/3 (1 + 8 beta/15) up to O(1/cells)
    value = _builtin.spiky_antiderivative_wide(1e10, 0.3, 12.5, 0.0)
    assert value == pytest.approx(1e30 / 3 * (1 + 0.3 * 8 / 15), rel=1e-5)
    with pytest.raises(ValueError, match="growth must be"):
        spiky(width="sqrt", growth=5)
    with pytest.raises(ValueError, match="width must be one of"):
        spiky(width="wide")
    assert spiky(width="fixed").params.tolist() == [0.3, 10.0, 0.0, 0.0]


def test_spiky_antiderivative_whole_cells_in_closed_form_far_out():
    """From 1024 cells on, the whole cells are summed by Faulhaber's formula: exact against
    rational sums on both sides of the switch, and instant far out (10^12 cells, where a
    loop over the cells would run for hours)."""
    from fractions import Fraction
    from math import comb

    from sgdlab import _builtin

    for e in (2, 5, 14):
        moments = [Fraction(16, i + 3) - Fraction(32, i + 4) + Fraction(16, i + 5)
                   for i in range(e + 1)]
        coef = [comb(e, i) * moments[i] for i in range(e + 1)]  # of m^(e - i)
        for n in (1023, 1024, 2500):
            exact = sum(c * sum(m ** (e - i) for m in range(n)) for i, c in enumerate(coef))
            assert _builtin._whole_cells(float(n), e) == pytest.approx(float(exact), rel=1e-13)
    # 10^12 cells of mean bump 8/15: F1(s) = s^3/3 (1 + 8 beta/15) up to O(1/cells)
    value = _builtin.spiky_antiderivative(1e11, 0.3, 10.0, 0.0)
    assert value == pytest.approx(1e33 / 3 * (1 + 0.3 * 8 / 15), rel=1e-9)


def test_spiky_growth_zero_is_the_plain_spiky_function(rng):
    s = rng.uniform(-4, 4, 300)
    assert_array_equal(spiky(growth=0).f(s), spiky().f(s))
    with pytest.raises(ValueError, match="growth must be"):
        spiky(growth=-1)
    with pytest.raises(TypeError, match="growth"):
        spiky(growth=1.5)


def test_spiky_2d_is_a_sum(rng):
    land = spiky(dim=2)
    x = rng.uniform(-2, 2, (300, 2))
    expected = spiky_f1_closed(x[:, 0], 0.3, 0.1) + spiky_f1_closed(x[:, 1], 0.3, 0.1)
    assert_allclose(land.f(x), expected, rtol=1e-12)
    assert land.f(x.reshape(10, 30, 2)).shape == (10, 30)


def test_spiky_bounds_and_zeros(rng):
    beta = 0.3
    land = spiky(beta=beta)
    s = rng.uniform(-5, 5, 2000)
    v = land.f(s)
    assert np.all(v >= s**2 * (1 - 1e-15)) and np.all(v <= (1 + beta) * s**2 * (1 + 1e-15))
    k = np.arange(-20, 21) * 0.1  # bumps vanish at multiples of the period (up to rounding)
    assert_allclose(land.f(k), k**2, rtol=1e-9)
    assert land.f(0.0) == 0.0 and np.all(land.grad(np.zeros(3)) == 0.0)


@pytest.mark.parametrize("dim, a", [(1, 1.0), (3, 2.5), (5, 0.1)])
def test_quadratic_values_and_gradient(rng, dim, a):
    land = quadratic(dim=dim, curvature=a)
    x = rng.normal(size=(100, dim))
    assert_allclose(land.f(x), 0.5 * a * np.sum(x * x, axis=1), rtol=1e-13)
    assert_allclose(land.grad(x).reshape(100, dim), a * x, rtol=1e-15)


def test_metadata():
    assert spiky().builtin == "spiky" and spiky(dim=2).builtin == "spiky"
    assert quadratic().builtin == "quadratic" and VALLEY.builtin is None
    assert WELL.builtin is None and WELL.is_separable and not WELL.has_exact_smoothing
    assert spiky().has_exact_smoothing and not VALLEY.is_separable
    assert_array_equal(spiky(dim=3).x_star, np.zeros(3))
    assert landscapes.get("spiky", dim=2, beta=0.5).dim == 2
    assert "spiky" in repr(spiky())


# -- gradients against finite differences ---------------------------------------------------
@pytest.mark.parametrize("beta, period", [(0.3, 0.1), (1.0, 0.25), (2.5, 0.7)])
def test_spiky_gradient_finite_differences(rng, beta, period):
    land = spiky(beta=beta, period=period)
    s = np.concatenate([rng.uniform(-3, 3, 400), boundary_points(period)])
    fd = central_difference(lambda x: land.f(x[:, 0]), s[:, None])[:, 0]
    g = land.grad(s)
    scale = 1.0 + np.abs(s) / period  # curvature grows like s^2 / period^2
    assert np.all(np.abs(g - fd) <= 1e-6 * scale**2), np.max(np.abs(g - fd) / scale**2)


def test_spiky_2d_gradient_finite_differences(rng):
    land = spiky(dim=2, beta=0.7, period=0.2)
    x = np.concatenate([rng.uniform(-2, 2, (300, 2)),
                        np.stack([boundary_points(0.2), boundary_points(0.2)[::-1]], 1)])
    fd = central_difference(land.f, x)
    assert_allclose(land.grad(x), fd, rtol=1e-6, atol=1e-5)


def test_quadratic_gradient_finite_differences(rng):
    land = quadratic(dim=3, curvature=1.7)
    x = rng.uniform(-3, 3, (50, 3))
    assert_allclose(land.grad(x), central_difference(land.f, x), rtol=1e-7, atol=1e-8)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=-4.0, max_value=4.0), st.floats(min_value=0.0, max_value=3.0),
       st.floats(min_value=0.05, max_value=1.0))
def test_spiky_gradient_property(s, beta, period):
    land = spiky(beta=beta, period=period)
    h = 1e-6
    fd = (land.f(s + h) - land.f(s - h)) / (2 * h)
    scale = 1.0 + abs(s) / period
    assert abs(land.grad(s) - fd) <= 1e-5 * scale**2 * (1 + beta)


def test_gradient_matches_reference_formula(rng):
    from sgdlab.reference import _slope_numpy
    land = spiky(beta=0.3, period=0.1)
    s = rng.uniform(-10, 10, 1000)
    assert_array_equal(land.grad(s), _slope_numpy("spiky", list(land.params), s))


def test_user_general_landscape(rng):
    x = rng.uniform(-2, 2, (200, 3))
    assert_allclose(VALLEY.f(x), valley_f_numpy(x), rtol=1e-13)
    assert_allclose(VALLEY.grad(x), valley_grad_numpy(x), rtol=1e-13, atol=1e-13)
    assert_allclose(VALLEY.grad(x), central_difference(VALLEY.f, x), rtol=1e-6, atol=1e-5)
    assert VALLEY.f(VALLEY.x_star) == 0.0


def test_user_separable_landscape(rng):
    x = rng.uniform(-2, 2, (200, 2))
    assert_allclose(WELL.f(x), well_f1_numpy(x).sum(axis=1), rtol=1e-13)
    assert_allclose(WELL.grad(x), central_difference(WELL.f, x), rtol=1e-6, atol=1e-6)


# -- bad inputs ------------------------------------------------------------------------------
def test_non_jitted_functions_are_type_errors():
    with pytest.raises(TypeError, match="^f must be a Numba-jitted"):
        Landscape(lambda x: 0.0, valley_grad, 3, np.zeros(3))
    with pytest.raises(TypeError, match="^grad must be a Numba-jitted"):
        Landscape(valley_f, np.sum, 3, np.zeros(3))
    with pytest.raises(TypeError, match="^grad1 must be a Numba-jitted"):
        Landscape.separable(well_f1, lambda s, p: s, [1.0])
    with pytest.raises(TypeError, match="^antiderivative1 must be a Numba-jitted"):
        Landscape.separable(well_f1, well_grad1, [1.0], antiderivative1=lambda s, p: s)


@pytest.mark.parametrize("dim, exc", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                      (True, TypeError), ("2", TypeError)])
def test_bad_dim(dim, exc):
    with pytest.raises(exc, match="^dim must be an integer >= 1"):
        Landscape(valley_f, valley_grad, dim, 0.0)
    with pytest.raises(exc, match="^dim must be an integer >= 1"):
        spiky(dim=dim)


def test_bad_x_star():
    with pytest.raises(ValueError, match=r"^x_star must be of shape \(3,\) to agree with dim=3, "
                                         r"got shape \(2,\)"):
        Landscape(valley_f, valley_grad, 3, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"^x_star must be finite"):
        Landscape(valley_f, valley_grad, x_star=[1.0, np.nan, 0.0])
    with pytest.raises(ValueError, match=r"^dim must be an integer >= 1 when x_star is None"):
        Landscape(valley_f, valley_grad)


def test_dim_from_x_star():
    land = Landscape(valley_f, valley_grad, x_star=np.zeros(3))
    assert land.dim == 3 and land.x_star.shape == (3,)
    assert Landscape(valley_f, valley_grad, 3, x_star=2.0).x_star.tolist() == [2.0] * 3
    well = Landscape.separable(well_f1, well_grad1, [2.0], x_star=[1.0, 1.0])
    assert well.dim == 2 and Landscape.separable(well_f1, well_grad1, [2.0]).dim == 1


def test_params_are_read_only():
    land = spiky(beta=0.5, period=0.25)
    assert_array_equal(land.params, [0.5, 4.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        land.params[0] = 1.0
    assert VALLEY.params is None and land.params[0] == 0.5


@pytest.mark.parametrize("kwargs, argname", [
    (dict(beta=-0.1), "beta"), (dict(beta=np.nan), "beta"), (dict(period=0.0), "period"),
    (dict(period=-1.0), "period"), (dict(period=np.inf), "period")])
def test_bad_spiky_parameters(kwargs, argname):
    with pytest.raises(ValueError, match=f"^{argname} must be"):
        spiky(**kwargs)


@pytest.mark.parametrize("a", [0.0, -1.0, np.nan])
def test_bad_curvature(a):
    with pytest.raises(ValueError, match="^curvature must be"):
        quadratic(curvature=a)


def test_unknown_name():
    message = r"^landscape must be one of \('spiky', 'quadratic', 'ripple'\), got 'nope'"
    with pytest.raises(ValueError, match=message):
        landscapes.get("nope")
    with pytest.raises(ValueError, match=message):
        sgdlab.run_sgd("nope", [0.0], lr=0.1, noise=0.0, steps=1)
    assert landscapes.as_landscape("ripple").builtin == "ripple"
    with pytest.raises(ValueError, match="^landscape must be a landscape with a target x_star"):
        landscapes.as_landscape(Landscape(valley_f, valley_grad, 3), need_target=True)


def test_points_with_wrong_dimension():
    with pytest.raises(ValueError, match=r"^x must be of shape \(\.\.\., 2\) for this "
                                         r"2-dimensional landscape, got shape \(4, 3\)"):
        spiky(dim=2).f(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"^x must be of shape \(\.\.\., 3\)"):
        VALLEY.grad(np.zeros(2))


# -- ripple ------------------------------------------------------------------------------------
def ripple_f1_closed(s, a, depth, period):
    amp = a * depth * period**2 / (2 * np.pi**2)
    return 0.5 * a * s**2 + amp * np.sin(np.pi * s / period) ** 2


@pytest.mark.parametrize("dim, a, depth, period", [(1, 1.0, 6.0, 0.1), (3, 2.0, 0.5, 0.4)])
def test_ripple_values_gradient_and_smoothing(rng, dim, a, depth, period):
    land = landscapes.ripple(dim=dim, curvature=a, depth=depth, period=period)
    x = rng.uniform(-2, 2, (200, dim))
    assert_allclose(land.f(x), ripple_f1_closed(x, a, depth, period).sum(axis=1), rtol=1e-12)
    fd = central_difference(lambda z: ripple_f1_closed(z, a, depth, period).sum(axis=1), x)
    assert_allclose(land.grad(x).reshape(200, dim), fd, rtol=1e-6, atol=1e-7)
    # exact smoothing against a fine midpoint rule of the box average, per coordinate
    radius = 0.37 * period
    u = (np.arange(20000) + 0.5) / 20000 * 2 * radius - radius
    quad = np.array([ripple_f1_closed(row[:, None] - u, a, depth, period).mean(axis=1).sum()
                     for row in x[:20]])
    assert_allclose(land.smoothed(x[:20], radius=radius), quad, rtol=1e-8)
    # at radius p/2 the ripples average out: only a/2 x^2 + const (+ a r^2 / 6) is left
    half = land.smoothed(x, radius=period / 2)
    amp = a * depth * period**2 / (2 * np.pi**2)
    expected = (0.5 * a * x**2 + a * (period / 2) ** 2 / 6 + amp / 2).sum(axis=1)
    assert_allclose(half, expected, rtol=1e-10)
    assert land.builtin == "ripple" and land.has_exact_smoothing
    assert landscapes.get("ripple", dim=dim).dim == dim


def test_ripple_sgd_matches_numpy_reference(rng):
    from sgdlab import reference

    land = landscapes.ripple(dim=2)
    x0 = rng.uniform(-1, 1, (40, 2))
    ours = sgdlab.run_sgd(land, x0, lr=0.01, noise=5.0, steps=200, seed=3).x
    theirs = reference.run_sgd_numpy(land, x0, lr=0.01, noise=5.0, steps=200, seed=3)
    assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)  # sin may differ in the last ulp


@pytest.mark.parametrize("kwargs, argname", [
    (dict(curvature=0.0), "curvature"), (dict(depth=-1.0), "depth"), (dict(period=0.0), "period"),
    (dict(depth=np.inf), "depth")])
def test_bad_ripple_parameters(kwargs, argname):
    with pytest.raises(ValueError, match=f"^{argname} must be"):
        landscapes.ripple(**kwargs)


# -- the runners' interface -------------------------------------------------------------------
def test_points_rows_and_shape():
    rows, shape = spiky(dim=2).points(np.zeros((4, 5, 2)))
    assert rows.shape == (20, 2) and shape == (4, 5) and rows.flags.c_contiguous
    rows, shape = spiky().points(np.zeros((3, 7)))
    assert rows.shape == (21, 1) and shape == (3, 7)
    with pytest.raises(TypeError, match="^y must be an array of numbers"):
        spiky().points(["a"], "y")


def test_slope1_and_exact_smoothed_gradient(rng):
    land = landscapes.ripple(dim=2)
    s = rng.uniform(-1, 1, 50)
    assert_array_equal(land.slope1(s), land.grad(s[:, None] * np.ones(2))[:, 0])
    y = rng.uniform(-1, 1, (30, 2))
    fd = central_difference(lambda z: land.smoothed(z, radius=0.03), y, h=1e-6)
    assert_allclose(land.smoothed_grad(y, radius=0.03), fd, rtol=1e-6, atol=1e-6)
    assert_array_equal(land.smoothed_grad(y, radius=0.0), land.grad(y))
    for call in (lambda: VALLEY.slope1(s), lambda: VALLEY.smoothed_grad(y, radius=0.1)):
        with pytest.raises(NotImplementedError, match="needs a separable landscape"):
            call()
