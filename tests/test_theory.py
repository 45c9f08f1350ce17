"""sgdlab.theory against closed forms: L and c of quadratics and of the ripple landscape,
Monte Carlo estimates within their error bars of exact values, the constants of Theorem 1,
Lemma 5 and Corollary 2 against their formulas, Theorem 3's identity and the one-step
inequality as properties, the y_t trace, and bad input."""

import math

import numba
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import sgdlab
from sgdlab import Landscape, reference, theory
from sgdlab.landscapes import quadratic, ripple, spiky

from _user_landscapes import VALLEY, WELL, valley_f, valley_grad


@pytest.fixture
def rng():
    return np.random.default_rng(2018)


def ripple_smoothed_slope(y, radius, curvature=1.0, depth=6.0, period=0.1):
    """g1'(y) for the ripple f1 convolved with U[-radius, radius], written from the closed form:
    E sin(k (y - u)) = sin(k y) sinc(k radius)."""
    k = 2 * np.pi / period
    amp = curvature * depth * period**2 / (2 * np.pi**2)
    damping = 1.0 if radius == 0 else np.sin(k * radius) / (k * radius)
    return curvature * y + 0.5 * amp * k * np.sin(k * y) * damping


# -- domains and r -------------------------------------------------------------------------
def test_grid_and_ball_shapes(rng):
    g = theory.grid(-1.0, 1.0, 5, dim=2)
    assert g.shape == (25, 2)
    assert_allclose(np.unique(g[:, 0]), np.linspace(-1, 1, 5))
    b = theory.ball(0.5, 4000, 3, center=[1.0, 0.0, 0.0], seed=1)
    r = np.linalg.norm(b - [1.0, 0.0, 0.0], axis=1)
    assert r.max() <= 0.5
    # uniform in the ball: P(|x - c| <= s * rho) = s^d
    for s in (0.5, 0.8):
        assert abs(np.mean(r <= s * 0.5) - s**3) < 0.03
    assert theory.noise_bound(2.0, 9) == 6.0


# -- L ------------------------------------------------------------------------------------
@pytest.mark.parametrize("curvature, dim", [(1.0, 1), (2.5, 3)])
def test_smoothness_of_quadratic_is_its_curvature(curvature, dim, rng):
    land = quadratic(dim=dim, curvature=curvature)
    est = theory.smoothness(land, rng.uniform(-2, 2, (50, dim)))
    assert_allclose(est.L, curvature, rtol=1e-6)


@pytest.mark.parametrize("depth, period", [(3.0, 0.1), (0.5, 0.4)])
def test_smoothness_of_ripple_is_closed_form(depth, period):
    land = ripple(curvature=2.0, depth=depth, period=period)
    est = theory.smoothness(land, theory.grid(-1.0, 1.0, 101))
    # f'' = a (1 + depth cos(2 pi s / p)), maximal at s = 0
    assert_allclose(est.L, 2.0 * (1 + depth), rtol=1e-5)
    assert abs(est.at[0] / period - round(est.at[0] / period)) < 1e-3  # at a multiple of p


def test_smoothness_general_landscape_against_analytic_hessian(rng):
    pts = rng.uniform(-1, 1, (40, 3))
    est = theory.smoothness(VALLEY, pts)
    worst = 0.0
    for x in pts:  # Hessian of (1 - x0)^2 + 5 (x1 - x0^2)^2 + x2^2 / 2
        h = np.array([[2 - 20 * (x[1] - x[0] ** 2) + 40 * x[0] ** 2, -20 * x[0], 0],
                      [-20 * x[0], 10, 0], [0, 0, 1.0]])
        worst = max(worst, np.abs(np.linalg.eigvalsh(h)).max())
    assert_allclose(est.L, worst, rtol=1e-5)


# -- c of Assumption 1 -------------------------------------------------------------------
@pytest.mark.parametrize("lr, noise", [(0.1, 3.0), (0.3, 0.0), (0.01, 50.0)])
def test_c_of_quadratic_is_its_curvature(lr, noise):
    land = quadratic(dim=2, curvature=2.0)
    check = theory.one_point_convexity(land, theory.grid(-1.5, 1.5, 41, dim=2), lr=lr,
                                       noise=noise)
    assert_allclose(check.c, 2.0, rtol=1e-9)
    assert check.violations == 0 and check.holds and check.exact


@pytest.mark.parametrize("lr, noise", [(0.05, 1.0), (0.05, 0.5), (0.02, 0.0), (0.04, 2.0)])
def test_c_of_ripple_matches_closed_form(lr, noise):
    land = ripple()
    xs = theory.grid(-1.5, 1.5, 3001)
    check = theory.one_point_convexity(land, xs, lr=lr, noise=noise)
    y = xs[:, 0] - lr * land.grad(xs[:, 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = ripple_smoothed_slope(y, lr * noise) / y  # <-g'(y), 0 - y> / y^2
    keep = np.isfinite(check.ratios)
    assert keep.sum() >= 3000
    assert_allclose(check.ratios[keep], expected[keep], rtol=1e-6, atol=1e-8)
    assert_allclose(check.c, expected[keep].min(), rtol=1e-6)
    assert check.violations == int(np.sum(expected[keep] <= 0))


def test_ripple_smoothing_at_half_period_removes_the_ripples():
    check = theory.one_point_convexity(ripple(), theory.grid(-1.5, 1.5, 2001), lr=0.05,
                                       noise=1.0)
    assert_allclose(check.c, 1.0, rtol=1e-6)  # g = x^2 / 2 + const, c = curvature
    unsmoothed = theory.one_point_convexity(ripple(), theory.grid(-1.5, 1.5, 2001), lr=0.05,
                                            noise=0.0)
    assert unsmoothed.violations > 0 and unsmoothed.c < 0  # f itself has spurious minima


@pytest.mark.parametrize("land, lr, noise", [(ripple(), 0.05, 0.6), (spiky(), 5e-4, 100.0),
                                             (WELL, 0.05, 2.0)], ids=["ripple", "spiky", "well"])
def test_monte_carlo_c_within_error_bars_of_exact(land, lr, noise, rng):
    xs = rng.uniform(0.3, 1.5, (400, land.dim)) * rng.choice([-1, 1], (400, land.dim))
    exact = theory.one_point_convexity(land, xs, lr=lr, noise=noise)
    mc = theory.one_point_convexity(land, xs, lr=lr, noise=noise, samples=4000, seed=3)
    z = (mc.ratios - exact.ratios) / mc.ratio_stderr
    assert np.all(np.isfinite(z))
    assert np.mean(np.abs(z) < 3) > 0.98 and np.abs(z).max() < 5.5
    assert not mc.exact and np.all(exact.ratio_stderr == 0)


def test_monte_carlo_c_general_landscape_against_quadratic():
    """A non-separable quadratic (user jitted functions through the general kernel)."""
    land = Landscape(_quad_f, _quad_grad, 2, [0.0, 0.0], name="quad-general")
    xs = theory.grid(-1.0, 1.0, 21, dim=2)
    mc = theory.one_point_convexity(land, xs, lr=0.1, noise=2.0, samples=2000)
    # grad f = A x is linear, so E grad f(y - u) = A y: every ratio is y'Ay / y'y exactly
    y = mc.y
    ay = y @ _QUAD_A
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.einsum("ij,ij->i", ay, y) / np.einsum("ij,ij->i", y, y)
    keep = np.isfinite(mc.ratios)
    assert np.all(np.abs(mc.ratios[keep] - expected[keep]) <= 5 * mc.ratio_stderr[keep] + 1e-12)
    with pytest.raises(ValueError, match="^samples must be an integer >= 2 for this landscape"):
        theory.one_point_convexity(land, xs, lr=0.1, noise=2.0)
    assert_allclose(theory.smoothness(land, xs).L, np.linalg.eigvalsh(_QUAD_A).max(), rtol=1e-6)


_QUAD_A = np.array([[3.0, 1.0], [1.0, 2.0]])


@numba.njit
def _quad_f(x):
    return 0.5 * (3.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 2.0 * x[1] * x[1])


@numba.njit
def _quad_grad(x):
    out = np.empty(2)
    out[0] = 3.0 * x[0] + x[1]
    out[1] = x[0] + 2.0 * x[1]
    return out


def test_monte_carlo_is_independent_of_thread_count(rng):
    xs = rng.uniform(-1.5, 1.5, (600, 1))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = theory.one_point_convexity(ripple(), xs, lr=0.05, noise=0.7, samples=300, seed=9)
        step1 = theory.one_step(ripple(), xs, lr=0.05, noise=0.7, samples=300, seed=9)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = theory.one_point_convexity(ripple(), xs, lr=0.05, noise=0.7, samples=300, seed=9)
        step2 = theory.one_step(ripple(), xs, lr=0.05, noise=0.7, samples=300, seed=9)
    finally:
        numba.set_num_threads(before)
    assert_array_equal(one.ratios, many.ratios)
    assert_array_equal(step1.mean, step2.mean)


# -- Theorem 1, Lemma 5, Corollary 2 -----------------------------------------------------
def test_theorem1_constants_against_formulas():
    th = theory.theorem1(lr=0.05, L=4.0, c=1.0, r=1.0, dist0_sq=2.25)
    assert th.lr_bounds == {"1/(2L)": 0.125, "c/L^2": 0.0625, "1/(2c)": 0.5}
    assert th.step_size_ok and th.failing == []
    assert_allclose(th.lam, 2 * 0.05 - 0.05**2 * 16)
    assert_allclose(th.b, 0.05**2 * 1.0 * 1.2**2)
    assert_allclose(th.radius_sq, 20 * th.b / th.lam)
    assert_allclose(th.T1, math.log(th.lam * 2.25 / th.b) / th.lam)
    # the one-step bound iterated is the expected bound; G is (1-lam)^-t (d - b/lam)
    d = 2.25
    for t in range(5):
        assert_allclose(th.expected_bound(t), d, rtol=1e-12)
        d = th.one_step_bound(d)
    assert_allclose(th.G(3, 0.5), (1 - th.lam) ** -3 * (0.5 - th.b / th.lam))


def test_theorem1_reports_failures_without_raising():
    th = theory.theorem1(lr=0.03, L=10.0, c=1.0, r=1.0)
    assert not th.step_size_ok and set(th.failing) == {"c/L^2"}
    assert th.lam < 0 and math.isinf(th.stationary) and math.isnan(th.T1)
    negative = theory.theorem1(lr=0.01, L=1.0, c=-0.5, r=1.0, dist0_sq=1.0)
    assert not negative.step_size_ok and negative.lr_max < 0
    assert theory.theorem1(lr=0.01, L=1.0, c=1.0, r=0.0, dist0_sq=1.0).T1 == math.inf


def test_measure_on_ripple():
    m = theory.measure(ripple(dim=10), theory.ball(1.0, 500, 10, seed=2), lr=0.01, noise=5.0,
                       dist0_sq=1.0)
    assert_allclose(m.L, 7.0, rtol=1e-5)
    assert_allclose(m.c, 1.0, rtol=1e-6)
    assert_allclose(m.r, 5.0 * math.sqrt(10))
    assert m.step_size_ok and m.assumption.n_points == 500


def test_lemma5_against_formula():
    th = theory.theorem1(lr=0.05, L=4.0, c=1.0, r=1.0)
    lem = theory.lemma5(th, T2=1000)
    zeta = 9 * 1000 / 4
    assert_allclose(lem.mu_min, max(8, 42 * math.sqrt(math.log(zeta))))
    delta = lem.mu * math.sqrt(th.b / th.lam)
    lhs = (math.sqrt(2) * (3.5 * 0.05**2 + 7 * 0.05 * delta) / math.sqrt(0.05)
           * math.sqrt(math.log(zeta)) + 21 * th.b / th.lam)
    assert_allclose([lem.delta, lem.lhs, lem.rhs], [delta, lhs, delta**2])
    assert lem.holds == (lhs <= delta**2)
    small = theory.lemma5(th, T2=1000, mu=1.0)
    assert not small.holds and small.slack < 1
    with pytest.raises(ValueError, match="T2"):
        theory.lemma5(th, T2=0.2)
    with pytest.raises(ValueError, match="lambda > 0"):
        theory.lemma5(theory.theorem1(lr=0.1, L=10.0, c=1.0, r=1.0), T2=10)
    with pytest.raises(TypeError):  # T2 and mu are keyword-only
        theory.lemma5(th, 1000)


def test_corollary2_against_formula():
    one = theory.theorem1(lr=0.05, L=4.0, c=1.0, r=1.0)
    two = theory.theorem1(lr=0.01, L=4.0, c=1.5, r=1.0)
    cor = theory.corollary2(one, two, dist0_sq=2.0)
    assert_allclose(cor.T1, math.log(one.lam * 2.0 / one.b) / one.lam)
    assert_allclose(cor.T2, math.log(two.lam * one.radius_sq / two.b) / two.lam)
    assert_allclose(cor.T2_as_printed, math.log(one.lam * two.radius_sq) / two.lam)
    assert cor.shrinks and all(cor.conditions.values())
    assert not theory.corollary2(two, one, dist0_sq=2.0).conditions["lr' < lr"]


# -- the y_t chain --------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [1, 4])
def test_one_step_on_quadratic_is_closed_form(dim, rng):
    """y' = (1 - lr a)(y - lr w): E||y'||^2 = (1 - lr a)^2 (||y||^2 + lr^2 d W^2 / 3)."""
    a, lr, noise = 2.0, 0.1, 3.0
    ys = rng.uniform(-1, 1, (200, dim))
    est = theory.one_step(quadratic(dim=dim, curvature=a), ys, lr=lr, noise=noise, samples=3000)
    exact = (1 - lr * a) ** 2 * (np.sum(ys**2, axis=1) + lr**2 * dim * noise**2 / 3)
    z = (est.mean - exact) / est.stderr
    assert np.mean(np.abs(z) < 3) > 0.97 and np.abs(z).max() < 5.5
    assert_allclose(est.dist_sq, np.sum(ys**2, axis=1))


def test_one_step_general_equals_separable():
    """VALLEY's grad through the general kernel against a direct NumPy average of the same
    draws is covered by the smoothing tests; here: WELL (separable) and a sample mean."""
    ys = np.array([[0.9, 1.2], [1.5, 0.4]])
    est = theory.one_step(WELL, ys, lr=0.05, noise=2.0, samples=20000, seed=1)
    rng = np.random.default_rng(0)
    u = rng.uniform(-0.1, 0.1, (200000, 2))
    for i, y in enumerate(ys):
        z = y - u
        nxt = z - 0.05 * 2.0 * z * (z * z - 1.0) - 1.0
        ref = np.sum(nxt**2, axis=1)
        assert abs(est.mean[i] - ref.mean()) < 5 * math.hypot(est.stderr[i], ref.std() / 447)


@settings(max_examples=25, deadline=None)
@given(lr=st.floats(0.002, 0.02), noise=st.floats(0.0, 20.0), seed=st.integers(0, 2**31))
def test_one_step_inequality_holds_where_the_assumption_does(lr, noise, seed):
    """Step 1 of the proof as a property: on ripple with measured L and c (and the step-size
    condition), the Monte Carlo E||y_{t+1} - x*||^2 stays below (1 - lam)||y_t - x*||^2 + b."""
    land = ripple()
    th = theory.measure(land, theory.grid(-1.5, 1.5, 1501), lr=lr, noise=noise)
    assume(th.step_size_ok)
    ys = np.random.default_rng(seed).uniform(-1.5, 1.5, (64, 1))
    ys = ys - lr * land.grad(ys)  # points of the form y = x - lr grad f(x), x in D
    est = theory.one_step(land, ys, lr=lr, noise=noise, samples=400, seed=seed)
    assert np.all(est.mean <= th.one_step_bound(est.dist_sq) + 5 * est.stderr + 1e-12)


def test_track_y_equals_one_run(rng):
    land = ripple(dim=3)
    x0 = rng.uniform(-1, 1, (300, 3))
    tr = theory.track_y(land, x0, lr=0.05, noise=1.0, steps=50, seed=4, chunk=7)
    run = sgdlab.run_sgd(land, x0, lr=0.05, noise=1.0, steps=50, seed=4, record=True)
    assert_array_equal(tr.x, run.x)
    y = run.path - 0.05 * land.grad(run.path)
    assert_allclose(tr.dist_sq, np.sum(y**2, axis=2), rtol=1e-6)
    head = theory.track_y(land, x0, lr=0.05, noise=1.0, steps=20, seed=4)
    tail = theory.track_y(land, head.x, lr=0.05, noise=1.0, steps=30, seed=4, first_step=20)
    assert_array_equal(tail.x, run.x)
    assert_array_equal(np.concatenate([head.dist_sq, tail.dist_sq[1:]]), tr.dist_sq)


@pytest.mark.parametrize("land", [spiky(dim=2), VALLEY], ids=["separable", "general"])
def test_run_sgd_first_step_continues_the_same_stream(land, rng):
    x0 = rng.uniform(-0.5, 0.5, (300, land.dim))
    kw = dict(lr=0.01, noise=1.0, seed=7)
    whole = sgdlab.run_sgd(land, x0, steps=30, **kw).x
    head = sgdlab.run_sgd(land, x0, steps=11, **kw).x
    tail = sgdlab.run_sgd(land, head, steps=19, first_step=11, **kw).x
    assert_array_equal(tail, whole)


# -- Theorem 3 -------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), scale=st.floats(0.01, 3.0), factor=st.floats(0.05, 3.0))
def test_theorem3_identity(seed, scale, factor):
    """||x - lr g - x*||^2 - ||x - x*||^2 = lr (lr ||g||^2 - 2 <g, x - x*>): it is >= 0 exactly
    when lr >= overshoot_lr(x), and Theorem 3's threshold (with c' >= the local ratio) is
    never below overshoot_lr."""
    land = VALLEY
    x = land.x_star + np.random.default_rng(seed).uniform(-scale, scale, (50, 3))
    eta0 = theory.overshoot_lr(land, x)
    upper = theory.one_point_upper(land, x)
    assert upper.c_prime == np.nanmax(upper.ratios) and upper.n_points == 50
    thr = theory.theorem3_threshold(land, x, c_prime=upper.c_prime)
    ok = np.isfinite(eta0) & (eta0 > 0)
    assert np.all(thr[ok] >= eta0[ok] * (1 - 1e-12))
    g = land.grad(x)
    for i in np.flatnonzero(ok):
        lr = factor * eta0[i]
        change = theory.gd_distance_change(land, x[i:i + 1], lr=lr)[0]
        identity = lr * (lr * g[i] @ g[i] - 2 * g[i] @ (x[i] - land.x_star))
        scale_sq = (x[i] - land.x_star) @ (x[i] - land.x_star)
        assert abs(change - identity) <= 1e-9 * max(scale_sq, lr**2 * g[i] @ g[i])
        if factor > 1 + 1e-9:
            assert change >= 0
        elif factor < 1 - 1e-9:
            assert change <= 0


def test_theorem3_boundary_and_quadratic():
    land = quadratic(dim=2, curvature=4.0)
    x = np.array([[1.0, -0.5], [0.2, 0.3]])
    assert_allclose(theory.overshoot_lr(land, x), 0.5)  # 2 / a
    upper = theory.one_point_upper(land, x)
    assert_allclose(upper.c_prime, 4.0)
    assert_allclose(theory.theorem3_threshold(land, x, c_prime=upper.c_prime), 0.5)
    with pytest.raises(TypeError):  # c_prime is keyword-only
        theory.theorem3_threshold(land, x, upper.c_prime)
    change = theory.gd_distance_change(land, x, lr=0.5)  # x -> -x: distance unchanged
    assert_allclose(change, 0.0, atol=1e-15)
    assert np.all(theory.gd_distance_change(land, x, lr=0.6) > 0)
    assert np.all(theory.gd_distance_change(land, x, lr=0.4) < 0)
    assert np.isinf(theory.overshoot_lr(land, np.zeros((1, 2))))[0]


def test_gd_distance_change_with_one_lr_per_point(rng):
    x = rng.uniform(-1, 1, (30, 3)) + VALLEY.x_star
    eta0 = theory.overshoot_lr(VALLEY, x)
    per_point = theory.gd_distance_change(VALLEY, x, lr=eta0)  # the boundary: no change
    scale = np.sum((x - VALLEY.x_star) ** 2, axis=1)
    assert np.all(np.abs(per_point) <= 1e-12 * scale)
    loop = [theory.gd_distance_change(VALLEY, x[i:i + 1], lr=1.5 * eta0[i])[0]
            for i in range(30)]
    assert_allclose(theory.gd_distance_change(VALLEY, x, lr=1.5 * eta0), loop, rtol=1e-13)
    with pytest.raises(ValueError, match="one per point"):
        theory.gd_distance_change(VALLEY, x, lr=eta0[:3])
    with pytest.raises(ValueError, match="one per point"):
        theory.gd_distance_change(VALLEY, x, lr=-eta0)


def test_noise_second_moment_is_the_box_variance(rng):
    assert theory.noise_second_moment(3.0, 4) == 4 * 9.0 / 3
    w = rng.uniform(-3.0, 3.0, (200_000, 4))
    assert_allclose(np.mean(np.sum(w**2, axis=1)), theory.noise_second_moment(3.0, 4), rtol=1e-2)


def test_one_step_ratio_gd_against_the_distances(rng):
    x = rng.uniform(-1, 1, (20, 3)) + VALLEY.x_star
    lr = rng.uniform(0.01, 1.0, 20)
    before = np.sum((x - VALLEY.x_star) ** 2, axis=1)
    direct = 1 + theory.gd_distance_change(VALLEY, x, lr=lr) / before
    assert_allclose(theory.one_step_ratio(VALLEY, x, lr=lr), direct, rtol=1e-12)
    at_target = theory.one_step_ratio(VALLEY, VALLEY.x_star[None, :], lr=0.1)
    assert np.isnan(at_target[0])
    with pytest.raises(ValueError, match="^lr must be"):
        theory.one_step_ratio(VALLEY, x, lr=lr[:3])


def test_noisy_one_step_ratio_and_break_even_against_sgd():
    """The mean of one SGD step from x_t (run_sgd, 40,000 draws) against the closed form, and
    the noisy break-even step size at which the mean distance does not change."""
    land, noise, trials = spiky(dim=2), 4.0, 40_000
    x_t = np.array([0.73, -0.41])
    e2 = np.sum((x_t - land.x_star) ** 2)
    for lr in (0.01, 0.05, float(theory.overshoot_lr(land, x_t[None, :], noise=noise)[0])):
        run = sgdlab.run_sgd(land, np.repeat(x_t[None, :], trials, 0), lr=lr, noise=noise,
                             steps=1, seed=7)
        ratios = np.sum((run.x - land.x_star) ** 2, axis=1) / e2
        mean, err = ratios.mean(), ratios.std(ddof=1) / np.sqrt(trials)
        predicted = theory.one_step_ratio(land, x_t[None, :], lr=lr, noise=noise)[0]
        assert abs(mean - predicted) < 4 * err
    eta_w = theory.overshoot_lr(land, x_t[None, :], noise=noise)[0]
    assert_allclose(theory.one_step_ratio(land, x_t[None, :], lr=eta_w, noise=noise), 1.0,
                    rtol=1e-12)
    assert eta_w < theory.overshoot_lr(land, x_t[None, :])[0]  # noise lowers the break-even


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("call, exc, message", [
    (lambda: theory.theorem1(lr=0.0, L=1.0, c=1.0, r=1.0), ValueError,
     "^lr must be a finite number > 0, got 0.0"),
    (lambda: theory.theorem1(lr=-1.0, L=1.0, c=1.0, r=1.0), ValueError, "lr"),
    (lambda: theory.theorem1(lr=0.1, L=1.0, c=1.0, r=-1.0), ValueError,
     "^r must be a finite number >= 0"),
    (lambda: theory.theorem1(lr=0.1, L=0.0, c=1.0, r=1.0), ValueError, "L must be"),
    (lambda: theory.theorem1(lr=0.1, L=1.0, c=math.nan, r=1.0), ValueError, "c must be"),
    (lambda: theory.one_point_convexity(ripple(), np.empty((0, 1)), lr=0.1, noise=1.0),
     ValueError, "^domain must be at least one point"),
    (lambda: theory.one_point_convexity(ripple(), [0.1], lr=0.0, noise=1.0), ValueError, "lr"),
    (lambda: theory.one_point_convexity(ripple(), [0.1], lr=0.1, noise=-1.0), ValueError,
     "noise"),
    (lambda: theory.one_point_convexity(ripple(dim=2), [[0.1, 0.2, 0.3]], lr=0.1, noise=1.0),
     ValueError, r"^domain must be of shape \(n, 2\)"),
    (lambda: theory.one_point_convexity(ripple(), [np.nan], lr=0.1, noise=1.0), ValueError,
     "^domain must be finite"),
    (lambda: theory.one_point_convexity(ripple(), [0.1], lr=0.1, noise=1.0, samples=1),
     ValueError, "^samples must be an integer >= 2 or None, got 1"),
    (lambda: theory.one_point_convexity(VALLEY, [[0.1, 0.2, 0.3]], lr=0.1, noise=1.0),
     ValueError, "^samples must be an integer >= 2 for this landscape"),
    (lambda: theory.one_point_convexity(ripple(), [0.0], lr=0.1, noise=1.0), ValueError,
     "undefined"),
    (lambda: theory.smoothness(ripple(), []), ValueError, "^domain must be at least one point"),
    (lambda: theory.one_step(ripple(), [0.1], lr=0.1, noise=1.0, samples=0), ValueError,
     "^samples must be an integer >= 2, got 0"),
    (lambda: theory.grid(1.0, 0.0, 10), ValueError, "^high must be a finite number > 1, got 0.0"),
    (lambda: theory.grid(0.0, 1.0, 10**4, dim=3), ValueError,
     r"^n_points\*\*dim must be at most 10000000"),
    (lambda: theory.grid(0.0, 1.0, 1), ValueError, "^n_points must be an integer >= 2"),
    (lambda: theory.ball(0.0, 10, 2), ValueError, "^radius must be a finite number > 0"),
    (lambda: theory.ball(1.0, 0, 2), ValueError, "^n_points must be an integer >= 1"),
    (lambda: theory.y_distance_sq(ripple(), [0.1], lr=0.0), ValueError, "^lr must be"),
    (lambda: theory.lemma5("x", T2=10), TypeError, "Theorem1"),
    (lambda: theory.one_point_upper(quadratic(), [0.0]), ValueError,
     r"^domain must be a set of points other than x\*"),
    (lambda: theory.lemma5(theory.theorem1(lr=0.1, L=1.0, c=1.0, r=1.0), T2=0.4), ValueError,
     "^T2 must be a finite number > 0.444444, got 0.4"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


def test_landscape_without_x_star_is_refused():
    land = Landscape(valley_f, valley_grad, 3, None, name="no-target")
    assert land.x_star is None
    run = sgdlab.run_sgd(land, np.zeros((2, 3)), lr=0.01, noise=0.0, steps=3)  # SGD still runs
    with pytest.raises(ValueError, match="no x_star"):
        run.distance()
    for call in (lambda: theory.one_point_convexity(land, np.zeros((2, 3)), lr=0.1, noise=1.0,
                                                    samples=10),
                 lambda: theory.overshoot_lr(land, np.zeros((2, 3))),
                 lambda: theory.smoothness(land, np.zeros((2, 3)))):
        with pytest.raises(ValueError, match="^landscape must be a landscape with a target x_star"):
            call()


# -- the Remark after Theorem 1: the lower bound on lr --------------------------------------
def test_lr_lower_bound_against_the_closed_form():
    """On the 1-D ripple, Assumption 1's c at each lr from the closed-form smoothed slope
    (NumPy, independent of the kernels): the bound is the first lr where it reaches c."""
    land = ripple(dim=1, depth=6.0, period=0.5)
    x = np.linspace(-3.0, 3.0, 601)
    lrs = np.geomspace(1e-3, 0.3, 25)
    bound = theory.lr_lower_bound(land, x[:, None], c=0.1, noise=1.0, lrs=lrs)
    expected = []
    for lr in lrs:
        y = x - lr * ripple_smoothed_slope(x, 0.0, depth=6.0, period=0.5)
        keep = np.abs(y) > 1e-6 * np.abs(y).max()
        slope = ripple_smoothed_slope(y[keep], lr * 1.0, depth=6.0, period=0.5)
        expected.append(np.min(slope * y[keep] / y[keep] ** 2))
    assert_allclose(bound.measured_c, expected, rtol=1e-9, atol=1e-12)
    first = next(lr for lr, c in zip(lrs, expected) if c >= 0.1)
    assert bound.lr_min == first
    assert not bound.holds[0] and bound.holds.any()  # a lower bound exists: eta > 0 needed
    strict = theory.lr_lower_bound(land, x[:, None], c=50.0, noise=1.0, lrs=lrs)
    assert math.isnan(strict.lr_min) and not strict.holds.any()


def test_lr_lower_bound_of_a_quadratic_is_the_first_lr():
    """f = |x|^2/2 smooths to itself plus a constant: c = 1 at every lr (below 1/2, where y
    stays on x's side), so any c <= 1 holds from the smallest step size on."""
    land = quadratic(dim=2)
    bound = theory.lr_lower_bound(land, theory.ball(2.0, 50, 2, seed=1), c=1.0 - 1e-9,
                                  noise=0.5, lrs=[0.01, 0.1, 0.4])
    assert_allclose(bound.measured_c, 1.0, rtol=1e-9)
    assert bound.lr_min == 0.01


@pytest.mark.parametrize("kwargs, message", [
    (dict(c=0.0, noise=1.0, lrs=[0.1]), "^c must be a finite number > 0, got 0.0"),
    (dict(c=0.1, noise=0.0, lrs=[0.1]), "^noise must be a finite number > 0, got 0.0"),
    (dict(c=0.1, noise=1.0, lrs=[0.2, 0.1]),
     r"^lrs must be a 1-D array of increasing finite step sizes > 0, got \[0.2, 0.1\]$"),
    (dict(c=0.1, noise=1.0, lrs=[]), r"^lrs must be a 1-D array .*, got \[\]$"),
    (dict(c=0.1, noise=1.0, lrs=[-1.0, 0.1]), r"^lrs must be a 1-D array .*, got \[-1"),
    (dict(c=0.1, noise=1.0, lrs=[[0.1, 0.2]]), r"^lrs must be a 1-D array .*, got \[\[0.1"),
    (dict(c=0.1, noise=1.0, lrs=[0.1, np.nan]), r"^lrs must be a 1-D array .*, got \[0.1, nan"),
])
def test_lr_lower_bound_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        theory.lr_lower_bound(ripple(dim=1), np.zeros((3, 1)) + 0.5, **kwargs)


@pytest.mark.parametrize("lrs", [["a"], [True, False], [0.1, [0.2]]])
def test_lr_lower_bound_lrs_not_numbers(lrs):
    with pytest.raises(TypeError, match=r"^lrs must be a 1-D array of increasing finite step "
                                        r"sizes > 0, got \["):
        theory.lr_lower_bound(ripple(dim=1), np.zeros((3, 1)) + 0.5, c=0.1, noise=1.0,
                              lrs=lrs)


# -- Step 1 without grad f(x*) = 0: the shifted ripple (chapter main-theorem) ----------------
def test_shifted_ripple_against_its_closed_form():
    from sgdlab.landscapes import shifted_ripple

    a, depth, p, shift = 1.5, 4.0, 0.2, 0.3
    land = shifted_ripple(curvature=a, depth=depth, period=p, shift=shift)
    s = np.linspace(-2, 2, 41)
    amplitude, k = a * depth * p**2 / (2 * np.pi**2), 2 * np.pi / p
    expected = 0.5 * a * s**2 + amplitude * np.sin(np.pi * (s / p - shift)) ** 2
    assert_allclose(land.f(s[:, None]), expected, atol=1e-12)
    assert_allclose(land.grad(s[:, None])[:, 0],
                    a * s + 0.5 * amplitude * k * np.sin(k * (s - shift * p)), atol=1e-12)
    # box smoothing of half-width p/2 removes the ripples: g = a/2 s^2 + const
    g = land.smoothed(s[:, None], radius=p / 2)
    assert_allclose(g - 0.5 * a * s**2, np.full_like(s, g[20] - 0.0), atol=1e-12)
    assert_allclose(theory.smoothness(land, s[:, None]).L, a * (1 + depth), rtol=1e-6)
    assert_allclose(shifted_ripple(shift=0.0).f(s[:, None]), ripple().f(s[:, None]), atol=1e-14)
    with pytest.raises(TypeError, match="shift must be a finite number, got 'a'"):
        shifted_ripple(shift="a")


def test_gradient_at_target_of_f_and_of_g():
    from sgdlab.landscapes import shifted_ripple

    land = shifted_ripple()           # a = 1, depth = 6, p = 0.1, shift = 1/4
    assert_allclose(theory.gradient_at_target(land), [-6 * 0.1 / (2 * np.pi)])
    assert_allclose(theory.gradient_at_target(land, radius=0.05), [0.0], atol=1e-12)
    # any radius: g'(0) = (f1(rho) - f1(-rho)) / (2 rho)
    rho = 0.03
    f = land.f(np.array([[rho], [-rho]]))
    assert_allclose(theory.gradient_at_target(land, radius=rho), [(f[0] - f[1]) / (2 * rho)])
    assert_allclose(theory.gradient_at_target(ripple(dim=3)), np.zeros(3))
    with pytest.raises(ValueError, match="radius must be a finite number >= 0, got -1.0"):
        theory.gradient_at_target(land, radius=-1.0)


def test_one_step_bound_shifted_formula():
    thm = theory.theorem1(lr=0.02, L=7.0, c=1.0, r=2.5)
    d = np.array([0.0, 1.0, 4.0])
    assert_allclose(theory.one_step_bound_shifted(thm, d, grad_star=0.0), thm.one_step_bound(d))
    G = 0.3
    extra = 0.02**2 * G * (G + 2 * 7.0 * (np.sqrt(d) + 0.02 * 2.5))
    assert_allclose(theory.one_step_bound_shifted(thm, d, grad_star=G),
                    thm.one_step_bound(d) + extra)
    with pytest.raises(TypeError, match="theorem must be a Theorem1, got dict"):
        theory.one_step_bound_shifted({}, d, grad_star=G)
    with pytest.raises(ValueError, match="grad_star must be a finite number >= 0, got -0.3"):
        theory.one_step_bound_shifted(thm, d, grad_star=-0.3)
    with pytest.raises(ValueError, match="dist_sq must be squared distances >= 0, got -1.0"):
        theory.one_step_bound_shifted(thm, [1.0, -1.0], grad_star=G)


def test_one_step_bound_shifted_holds_on_the_shifted_ripple():
    from sgdlab.landscapes import shifted_ripple

    land, lr, noise = shifted_ripple(), 0.02, 2.5     # the chapter's setting
    thm = theory.measure(land, theory.grid(-3, 3, 2001), lr=lr, noise=noise)
    G = float(abs(theory.gradient_at_target(land)[0]))
    # a real check: f'(0) != 0, so the printed chain's |f'(z)| <= L|z| fails near x* = 0
    z = np.linspace(-lr * noise, lr * noise, 401)
    assert G > 0.05 and np.any(np.abs(land.grad(z[:, None])[:, 0]) > thm.L * np.abs(z))
    y = np.linspace(-3, 3, 61)[:, None]
    est = theory.one_step(land, y, lr=lr, noise=noise, samples=4000, seed=2)
    bound = theory.one_step_bound_shifted(thm, est.dist_sq, grad_star=G)
    assert np.all(est.mean <= bound + 3 * est.stderr)
    assert np.all(bound > thm.one_step_bound(est.dist_sq))     # G makes it weaker


def test_ball_draws_from_its_named_stream():
    """theory.ball against an independent computation from reference.uniforms (stream
    Stream.BALL, point i = trial i) and Box-Muller; its directions are uniform (mean ~ 0,
    covariance ~ I/d) and its points do not depend on how many are drawn."""
    from sgdlab import _rng

    dim, n = 5, 3000
    pts = theory.ball(2.0, n, dim, seed=7)
    u = (1.0 - reference.uniforms(7, n, 1, 2 * 3 + 1, stream=int(_rng.Stream.BALL))[0]) / 2
    normals = np.concatenate([np.sqrt(-2 * np.log(u[:, :3])) * np.cos(2 * np.pi * u[:, 3:6]),
                              np.sqrt(-2 * np.log(u[:, :3])) * np.sin(2 * np.pi * u[:, 3:6])],
                             axis=1)[:, :dim]
    expected = (2.0 * u[:, -1] ** (1 / dim))[:, None] * normals / np.linalg.norm(
        normals, axis=1, keepdims=True)
    assert_allclose(pts, expected, rtol=1e-12, atol=1e-14)
    assert_array_equal(theory.ball(2.0, 10, dim, seed=7), pts[:10])
    unit = pts / np.linalg.norm(pts, axis=1, keepdims=True)
    assert np.abs(unit.mean(axis=0)).max() < 4 / np.sqrt(n)
    assert_allclose(unit.T @ unit / n, np.eye(dim) / dim, atol=0.02)
    assert not np.array_equal(theory.ball(2.0, 10, dim, seed=8), pts[:10])


# -- closed forms: SGD on a quadratic, and the least curvature of g ---------------------------
@pytest.mark.parametrize("curvature", [1.0, 2.5])
def test_quadratic_distance_sq_against_the_recursion(curvature):
    """E||x_{t+1}||^2 = (1 - lr a)^2 E||x_t||^2 + lr^2 d W^2 / 3, iterated."""
    lrs, dim, noise, steps = np.array([0.0, 0.05, 1.0 / curvature, 1.5, 2.0]), 4, 0.8, 7
    expected = []
    for lr in lrs:
        mean = 9.0
        for _ in range(steps):
            mean = (1 - lr * curvature) ** 2 * mean + lr**2 * dim * noise**2 / 3
        expected.append(mean)
    got = theory.quadratic_distance_sq(lrs, dist0_sq=9.0, dim=dim, noise=noise, steps=steps,
                                       curvature=curvature)
    assert_allclose(got, expected, rtol=1e-12)
    assert theory.quadratic_distance_sq(0.1, dist0_sq=2.0, dim=1, noise=1.0, steps=0) == 2.0
    assert_allclose(theory.quadratic_distance_sq(2.0, dist0_sq=2.0, dim=3, noise=1.5, steps=5),
                    2.0 + 5 * 4.0 * 3 * 1.5**2 / 3)   # rho = 1: the sum is T


def test_quadratic_distance_sq_against_sgd(rng):
    lr, noise, steps, curvature, dim = 0.3, 1.0, 6, 2.0, 3
    x0 = np.full((20_000, dim), 1.0)
    run = sgdlab.run_sgd(quadratic(dim=dim, curvature=curvature), x0, lr=lr, noise=noise,
                         steps=steps, seed=5)
    d2 = run.distance() ** 2
    closed = theory.quadratic_distance_sq(lr, dist0_sq=3.0, dim=dim, noise=noise, steps=steps,
                                          curvature=curvature)
    assert abs(d2.mean() - closed) < 4 * d2.std() / np.sqrt(d2.size)


def ripple_curvature(y, radius, curvature=1.0, depth=6.0, period=0.1):
    """g1'' of the ripple smoothed at ``radius``: a (1 + depth cos(k y) sinc(k radius))."""
    k = 2 * np.pi / period
    damping = 1.0 if radius == 0 else np.sin(k * radius) / (k * radius)
    return curvature * (1 + depth * np.cos(k * y) * damping)


@pytest.mark.parametrize("radius", [0.0, 0.02, 0.05, 0.07])
@pytest.mark.parametrize("span", [0.3, 1.5])
def test_least_curvature_against_the_ripple_closed_form(radius, span):
    exact = ripple_curvature(np.linspace(-span, span, 200_001), radius).min()
    got = theory.least_curvature(ripple(), radius=radius, span=span)
    # each difference quotient is g'' somewhere in its cell: never below the least g''
    assert got >= exact - 1e-9
    assert_allclose(got, exact, rtol=0, atol=2e-3 * (1 + abs(exact)))
    fine = theory.least_curvature(ripple(), radius=radius, span=span, n_points=30_001)
    assert abs(fine - exact) <= abs(got - exact) + 1e-9


def test_least_curvature_of_quadratic_and_spiky():
    assert_allclose(theory.least_curvature(quadratic(curvature=2.5), radius=0.3, span=2.0),
                    2.5, rtol=1e-9)
    s = np.linspace(-1.5, 1.5, 3001)
    slope = spiky(beta=0.3, period=0.1).smoothed_grad(s[:, None], radius=0.01)[:, 0]
    assert theory.least_curvature(spiky(beta=0.3, period=0.1), radius=0.01,
                                  span=1.5) == np.min(np.diff(slope)) / (s[1] - s[0])


@pytest.mark.parametrize("call, exc, message", [
    (lambda: theory.quadratic_distance_sq(-0.1, dist0_sq=1.0, dim=1, noise=1.0, steps=2),
     ValueError, "^lr must be finite numbers >= 0"),
    (lambda: theory.quadratic_distance_sq("a", dist0_sq=1.0, dim=1, noise=1.0, steps=2),
     TypeError, "^lr must be numbers >= 0, got str"),
    (lambda: theory.quadratic_distance_sq(0.1, dist0_sq=-1.0, dim=1, noise=1.0, steps=2),
     ValueError, "^dist0_sq must be"),
    (lambda: theory.quadratic_distance_sq(0.1, dist0_sq=1.0, dim=1, noise=1.0, steps=2.5),
     TypeError, "^steps must be an integer"),
    (lambda: theory.quadratic_distance_sq(0.1, dist0_sq=1.0, dim=0, noise=1.0, steps=2),
     ValueError, "^dim must be"),
    (lambda: theory.least_curvature(ripple(dim=2), radius=0.0, span=1.0), ValueError,
     "^landscape must be 1-dimensional, got dim=2"),
    (lambda: theory.least_curvature(ripple(), radius=0.0, span=0.0), ValueError,
     "^span must be a finite number > 0"),
    (lambda: theory.least_curvature(ripple(), radius=0.0, span=1.0, n_points=1), ValueError,
     "^n_points must be an integer >= 2"),
    (lambda: theory.least_curvature(ripple(), radius=-0.1, span=1.0), ValueError,
     "^radius must be"),
])
def test_closed_forms_bad_input(call, exc, message):
    with pytest.raises(exc, match=message):
        call()
