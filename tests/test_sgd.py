"""run_sgd and run_schedule against independent references and closed forms: exact
agreement with NumPy and pure-Python SGD, determinism, statistics, recording, divergence,
user landscapes and input validation."""

import subprocess
import sys

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

import sgdlab
from sgdlab import reference as ref
from sgdlab.landscapes import quadratic, spiky

from _user_landscapes import VALLEY, WELL, valley_grad_numpy, well_grad_numpy

BLOCK = 256  # sgdlab._kernels.BLOCK: trials are processed in blocks of this size
EXACT = dict(rtol=1e-12, atol=1e-300)


@pytest.fixture
def seed():
    return 2018


@pytest.fixture
def rng(seed):
    return np.random.default_rng(seed)


def starts(rng, trials, dim, scale=1.0):
    return rng.uniform(-scale, scale, (trials, dim))


# -- against the references ------------------------------------------------------------------
@pytest.mark.parametrize("land, lr, noise", [
    (spiky(), 0.05, 3.0), (spiky(dim=2), 0.05, 3.0), (spiky(beta=1.0, period=0.3), 0.02, 10.0),
    (spiky(width="sqrt", beta=0.1, period=0.08), 0.004, 12.5),
    (spiky(width="sqrt", dim=2, beta=0.3, period=0.05, growth=2), 0.01, 5.0),
    (quadratic(), 0.1, 1.0), (quadratic(dim=3, curvature=2.5), 0.3, 0.5)],
    ids=["spiky", "spiky2d", "spiky-b1", "spiky-sqrt", "spiky-sqrt-growth2", "quadratic",
         "quadratic3d"])
def test_matches_numpy_reference(rng, seed, land, lr, noise):
    x0 = starts(rng, 50, land.dim, 1.5)
    res = sgdlab.run_sgd(land, x0, lr=lr, noise=noise, steps=200, seed=seed)
    expected = ref.run_sgd_numpy(land, x0, lr=lr, noise=noise, steps=200, seed=seed)
    assert_allclose(res.x, expected, **EXACT)
    assert not np.all(res.x == x0)


@pytest.mark.parametrize("land", [spiky(), spiky(dim=2), quadratic(dim=2, curvature=0.7),
                                  spiky(width="sqrt", beta=0.1, period=0.08),
                                  spiky(width="sqrt", beta=0.2, period=0.05, growth=3)],
                         ids=["spiky", "spiky2d", "quadratic2d", "spiky-sqrt", "spiky-sqrt-g3"])
def test_matches_python_reference(rng, seed, land):
    x0 = starts(rng, 4, land.dim)
    res = sgdlab.run_sgd(land, x0, lr=0.05, noise=2.0, steps=40, seed=seed, first_trial=3)
    kw = dict(lr=0.05, noise=2.0, steps=40, seed=seed, first_trial=3)
    expected = ref.run_sgd_python(land, x0, **kw)
    assert_allclose(res.x, expected, **EXACT)
    assert_allclose(ref.run_sgd_numpy(land, x0, **kw), expected, **EXACT)


@settings(max_examples=25, deadline=None)
@given(lr=st.floats(1e-3, 0.2), noise=st.floats(0.0, 20.0), steps=st.integers(0, 60),
       seed=st.integers(0, 2**63 - 1), trials=st.integers(1, 300),
       first_trial=st.integers(0, 10**6))
def test_matches_numpy_reference_property(lr, noise, steps, seed, trials, first_trial):
    x0 = np.linspace(-2, 2, trials * 2).reshape(trials, 2)
    land = spiky(dim=2)
    res = sgdlab.run_sgd(land, x0, lr=lr, noise=noise, steps=steps, seed=seed,
                         first_trial=first_trial)
    expected = ref.run_sgd_numpy(land, x0, lr=lr, noise=noise, steps=steps, seed=seed,
                                 first_trial=first_trial)
    assert_allclose(res.x, expected, **EXACT)


def test_schedule_matches_reference_stage_by_stage(rng, seed):
    land = spiky()
    x0 = starts(rng, 40, 1, 2.0)
    stages = [(0.05, 5.0, 100), {"lr": 0.05, "noise": 1.0, "steps": 100}, (0.01, 0.0, 50)]
    res = sgdlab.run_schedule(land, x0, stages, seed=seed)
    x = x0
    for k, (lr, noise, steps) in enumerate([(0.05, 5.0, 100), (0.05, 1.0, 100),
                                            (0.01, 0.0, 50)]):
        x = ref.run_sgd_numpy(land, x, lr=lr, noise=noise, steps=steps, seed=seed, stream=k)
        assert_allclose(res.stages[k].x, x, **EXACT)
        assert res.stages[k].lr == lr and res.stages[k].steps == steps
    assert_array_equal(res.x, res.stages[-1].x)
    assert_array_equal(res.diverged, np.zeros(40, bool))


def test_single_stage_schedule_is_run_sgd(rng, seed):
    x0 = starts(rng, 30, 2)
    one = sgdlab.run_schedule(spiky(dim=2), x0, [(0.05, 2.0, 80)], seed=seed)
    direct = sgdlab.run_sgd(spiky(dim=2), x0, lr=0.05, noise=2.0, steps=80, seed=seed)
    assert_array_equal(one.x, direct.x)


def test_schedule_restarts_from_new_points(rng, seed):
    land = spiky()
    x0, x1 = starts(rng, 20, 1), starts(rng, 20, 1, scale=0.5)
    stages = [(1e-3, 50.0, 100), (1e-3, 25.0, 80)]
    result = sgdlab.run_schedule(land, x0, stages, seed=seed, restarts=[x1])
    first = sgdlab.run_sgd(land, x0, lr=1e-3, noise=50.0, steps=100, seed=seed)
    assert_array_equal(result.stages[0].x, first.x)
    expected = ref.run_sgd_python(land, x1, lr=1e-3, noise=25.0, steps=80, seed=seed, stream=1)
    assert_array_equal(result.x, expected)
    with pytest.raises(ValueError, match="restarts must be a list of 1 array"):
        sgdlab.run_schedule(land, x0, stages, restarts=[x1, x1])
    with pytest.raises(ValueError, match="restarts must be arrays of the shape of x0"):
        sgdlab.run_schedule(land, x0, stages, restarts=[x1[:5]])
    with pytest.raises(TypeError, match="restarts must be None or a list"):
        sgdlab.run_schedule(land, x0, stages, restarts=x1)


def test_random_starts_are_a_function_of_seed_stage_trial_and_coordinate():
    a = sgdlab.random_starts(300, span=2.0, dim=3, seed=4, stage=2)
    assert a.shape == (300, 3) and np.all(np.abs(a) <= 2.0)
    assert_array_equal(sgdlab.random_starts(10, span=2.0, dim=3, seed=4, stage=2), a[:10])
    # position stage * dim + j of trial i's stream: the stream's "step" 2 in the reference
    u = ref.uniforms(4, 300, 3, 3, stream=int(sgdlab._rng.Stream.STARTS))[2]
    assert_array_equal(a, 2.0 * u)
    assert not np.array_equal(sgdlab.random_starts(10, span=2.0, seed=4, stage=1),
                              sgdlab.random_starts(10, span=2.0, seed=4, stage=0))
    big = sgdlab.random_starts(200_000, span=1.0, seed=0)
    assert abs(big.mean()) < 0.01 and abs(big.var() - 1 / 3) < 0.01
    for kwargs, message in ((dict(span=0.0), "span must be"), (dict(span=1.0, dim=0), "dim"),
                            (dict(span=1.0, stage=-1), "stage"), (dict(span=1.0, seed=-1),
                                                                    "seed")):
        with pytest.raises(ValueError, match=message):
            sgdlab.random_starts(5, **kwargs)


def test_random_rows_are_a_function_of_seed_trial_and_n_points():
    rows = sgdlab.random_rows(2000, n_points=2001, seed=4)
    assert rows.dtype == np.int64 and rows.shape == (2000,)
    assert rows.min() >= 0 and rows.max() < 2001
    assert_array_equal(sgdlab.random_rows(10, n_points=2001, seed=4), rows[:10])
    stream = int(sgdlab._rng.Stream.ROWS)
    assert_array_equal(rows, ref.random_rows_python(4, 2000, 2001, stream=stream))
    for n, seed in ((1, 0), (7, 2**53 - 1), (2**32 - 1, 2**63 - 1)):
        assert_array_equal(sgdlab.random_rows(50, n_points=n, seed=seed),
                           ref.random_rows_python(seed, 50, n, stream=stream))
    assert not np.array_equal(sgdlab.random_rows(50, n_points=2001, seed=5), rows[:50])
    # not the STARTS stream: the rows are not the floors of random_starts' uniforms
    u = (sgdlab.random_starts(50, span=1.0, seed=4) + 1.0) / 2.0
    assert not np.array_equal(np.floor(2001 * u)[:, 0].astype(np.int64), rows[:50])
    counts = np.bincount(sgdlab.random_rows(100_000, n_points=10, seed=0), minlength=10)
    assert stats.chisquare(counts).pvalue > 1e-4
    for kwargs, error, message in ((dict(n_points=0), ValueError, "n_points must be"),
                                   (dict(n_points=2**32), ValueError, "n_points must be"),
                                   (dict(n_points=2.5), TypeError, "n_points must be"),
                                   (dict(n_points=5, seed=-1), ValueError, "seed")):
        with pytest.raises(error, match=message):
            sgdlab.random_rows(5, **kwargs)
    with pytest.raises(ValueError, match="trials must be"):
        sgdlab.random_rows(0, n_points=5)


def test_schedule_with_progress_bar(rng, seed):
    x0 = starts(rng, 5, 1)
    res = sgdlab.run_schedule("spiky", x0, [(0.05, 1.0, 10)] * 2, seed=seed, progress=True)
    assert len(res.stages) == 2


# -- determinism ------------------------------------------------------------------------------
def test_same_seed_same_result_different_seed_different(rng, seed):
    x0 = starts(rng, 100, 2)
    a = sgdlab.run_sgd(spiky(dim=2), x0, lr=0.05, noise=2.0, steps=100, seed=seed)
    b = sgdlab.run_sgd(spiky(dim=2), x0, lr=0.05, noise=2.0, steps=100, seed=seed)
    c = sgdlab.run_sgd(spiky(dim=2), x0, lr=0.05, noise=2.0, steps=100, seed=seed + 1)
    assert_array_equal(a.x, b.x)
    assert not np.any(a.x == c.x)


def test_does_not_modify_x0(rng):
    x0 = starts(rng, 10, 1)
    copy = x0.copy()
    sgdlab.run_sgd("spiky", x0, lr=0.1, noise=1.0, steps=10)
    assert_array_equal(x0, copy)


@pytest.mark.parametrize("land", [spiky(dim=2), VALLEY], ids=["spiky2d", "general"])
def test_thread_count_does_not_change_results(rng, seed, land):
    x0 = starts(rng, 3 * BLOCK + 17, land.dim, 0.5)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = sgdlab.run_sgd(land, x0, lr=0.01, noise=2.0, steps=50, seed=seed)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = sgdlab.run_sgd(land, x0, lr=0.01, noise=2.0, steps=50, seed=seed)
    finally:
        numba.set_num_threads(before)
    assert_array_equal(one.x, many.x)


@pytest.mark.parametrize("k", [1, 100, BLOCK - 1, BLOCK, BLOCK + 1, 300, 2 * BLOCK - 1, 599])
def test_batching_with_first_trial(rng, seed, k):
    land = spiky(dim=2)
    x0 = starts(rng, 600, 2)
    kw = dict(lr=0.05, noise=2.0, steps=60, seed=seed)
    whole = sgdlab.run_sgd(land, x0, **kw).x
    head = sgdlab.run_sgd(land, x0[:k], **kw).x
    tail = sgdlab.run_sgd(land, x0[k:], first_trial=k, **kw).x
    assert_array_equal(np.concatenate([head, tail]), whole)


def test_batching_general_landscape(rng, seed):
    x0 = starts(rng, 300, 3, 0.5)
    kw = dict(lr=0.01, noise=1.0, steps=40, seed=seed)
    whole = sgdlab.run_sgd(VALLEY, x0, **kw).x
    parts = [sgdlab.run_sgd(VALLEY, x0[a:b], first_trial=a, **kw).x
             for a, b in [(0, 7), (7, 257), (257, 300)]]
    assert_array_equal(np.concatenate(parts), whole)


# -- closed forms and statistics ------------------------------------------------------------
def spiky_grad_numpy(s, beta=0.3, period=0.1):
    """d/ds of s^2 (1 + beta h(s/p)), written independently of sgdlab."""
    u = s / period
    t = u - np.floor(u)
    h = 16 * t**2 * (1 - t) ** 2
    dh = 32 * t * (1 - t) * (1 - 2 * t)
    return 2 * s * (1 + beta * h) + beta * s**2 * dh / period


def test_noise_zero_is_gradient_descent(rng, seed):
    # Step sizes below 1 / L (L ~ 32 beta s^2 / p^2 from the spikes) so that GD is stable
    # and rounding differences do not grow.
    x0 = starts(rng, 64, 2, 1.0)
    land = spiky(dim=2, beta=0.3, period=0.5)
    gd = sgdlab.run_sgd(land, x0, lr=0.01, noise=0.0, steps=300, seed=seed)
    x = x0.copy()
    for _ in range(300):
        x = x - 0.01 * spiky_grad_numpy(x, 0.3, 0.5)
    assert_allclose(gd.x, x, rtol=1e-10, atol=1e-14)
    other = sgdlab.run_sgd(land, x0, lr=0.01, noise=0.0, steps=300, seed=seed + 1)
    assert_array_equal(gd.x, other.x)
    # On the default spiky function GD gets stuck in spurious local minima (Figure 3).
    x0 = np.linspace(0.5, 1.0, 40)
    stuck = sgdlab.run_sgd("spiky", x0, lr=1e-4, noise=0.0, steps=2000)
    x = x0[:, None].copy()
    for _ in range(2000):
        x = x - 1e-4 * spiky_grad_numpy(x)
    assert_allclose(stuck.x, x, rtol=1e-10)
    assert np.all(np.abs(stuck.x) > 0.2)


@pytest.mark.parametrize("lr, a, steps", [(0.1, 1.0, 30), (0.05, 3.0, 100), (0.5, 3.5, 7)])
def test_gradient_descent_on_quadratic_closed_form(rng, lr, a, steps):
    x0 = starts(rng, 20, 3, 5.0)
    res = sgdlab.run_sgd(quadratic(dim=3, curvature=a), x0, lr=lr, noise=0.0, steps=steps)
    assert_allclose(res.x, (1 - lr * a) ** steps * x0, rtol=1e-12)


def test_quadratic_mean_and_variance(seed):
    lr, a, noise, trials = 0.1, 1.0, 2.0, 20_000
    q = 1 - lr * a
    land = quadratic(curvature=a)
    # Transient: E x_T = q^T x0, Var x_T = lr^2 W^2 / 3 * (1 - q^(2T)) / (1 - q^2).
    steps = 15
    res = sgdlab.run_sgd(land, np.full(trials, 1.0), lr=lr, noise=noise, steps=steps,
                         seed=seed)
    var = lr**2 * noise**2 / 3 * (1 - q ** (2 * steps)) / (1 - q**2)
    assert abs(res.x.mean() - q**steps) < 5 * np.sqrt(var / trials)
    assert_allclose(res.x.var(), var, rtol=5 * np.sqrt(2 / trials))
    # Stationary: E x = 0, Var x = lr^2 W^2 / 3 / (1 - q^2).
    res = sgdlab.run_sgd(land, np.full(trials, 3.0), lr=lr, noise=noise, steps=300,
                         seed=seed + 1)
    var = lr**2 * noise**2 / 3 / (1 - q**2)
    assert abs(res.x.mean()) < 5 * np.sqrt(var / trials)
    assert_allclose(res.x.var(), var, rtol=5 * np.sqrt(2 / trials))


# -- recording and the y view ----------------------------------------------------------------
def test_record_path(rng, seed):
    land = spiky(dim=2)
    x0 = starts(rng, 30, 2)
    res = sgdlab.run_sgd(land, x0, lr=0.05, noise=2.0, steps=25, seed=seed, record=True)
    assert res.path.shape == (26, 30, 2)
    assert_array_equal(res.path[0], x0)
    assert_array_equal(res.path[-1], res.x)
    for t in (1, 7, 24):
        expected = ref.run_sgd_numpy(land, x0, lr=0.05, noise=2.0, steps=t, seed=seed)
        assert_allclose(res.path[t], expected, **EXACT)
    plain = sgdlab.run_sgd(land, x0, lr=0.05, noise=2.0, steps=25, seed=seed)
    assert plain.path is None
    assert_array_equal(plain.x, res.x)


def test_record_path_general_and_schedule(rng, seed):
    x0 = starts(rng, 5, 3, 0.5)
    res = sgdlab.run_sgd(VALLEY, x0, lr=0.01, noise=1.0, steps=10, seed=seed, record=True)
    assert res.path.shape == (11, 5, 3)
    assert_array_equal(res.path[0], x0)
    assert_array_equal(res.path[-1], res.x)
    sched = sgdlab.run_schedule("spiky", x0[:, 0], [(0.1, 1.0, 4), (0.1, 0.5, 6)], record=True)
    assert [s.path.shape for s in sched.stages] == [(5, 5, 1), (7, 5, 1)]
    assert_array_equal(sched.stages[1].path[0], sched.stages[0].x)


def test_record_refuses_huge_paths():
    with pytest.raises(ValueError, match="record=True would store"):
        sgdlab.run_sgd("spiky", np.zeros(10_000), lr=0.1, noise=1.0, steps=10**5,
                       record=True)


@pytest.mark.parametrize("land", [spiky(), spiky(dim=2), VALLEY], ids=["spiky", "2d", "general"])
def test_y_view_and_result_fields(rng, seed, land):
    x0 = starts(rng, 20, land.dim)
    res = sgdlab.run_sgd(land, x0, lr=0.03, noise=1.5, steps=30, seed=seed)
    assert res.x.shape == res.y.shape == (20, land.dim)
    assert_allclose(res.y, res.x - 0.03 * land.grad(res.x), rtol=1e-15, atol=1e-300)
    assert res.trials == 20 and res.smoothing_radius == pytest.approx(0.045)
    assert (res.lr, res.noise, res.steps, res.seed) == (0.03, 1.5, 30, seed)
    assert_allclose(res.distance(), np.linalg.norm(res.x - land.x_star, axis=1))
    d = np.sort(res.distance())
    assert res.share_within(d[9]) == 0.5 and res.share_within(np.inf) == 1.0


def test_steps_zero_and_one_dimensional_start():
    res = sgdlab.run_sgd("spiky", [0.3, -0.7], lr=0.1, noise=1.0, steps=0)
    assert_array_equal(res.x, [[0.3], [-0.7]])


# -- divergence -------------------------------------------------------------------------------
def test_divergence_on_quadratic_is_flagged():
    # lr * a = 2.5 > 2: |x_t| = 1.5^t |x0| overflows; 0 is a fixed point (noise 0).
    res = sgdlab.run_sgd(quadratic(curvature=1.0), [1.0, -2.0, 0.0], lr=2.5, noise=0.0,
                         steps=3000)
    assert_array_equal(res.diverged, [True, True, False])
    assert_array_equal(res.distance(), [np.inf, np.inf, 0.0])
    assert res.share_within(1e300) == pytest.approx(1 / 3)
    assert res.share_within(np.inf) == pytest.approx(1 / 3)  # diverged count as out


def test_divergence_with_huge_noise():
    res = sgdlab.run_sgd(spiky(dim=2), np.zeros((50, 2)), lr=0.5, noise=1e200, steps=50)
    assert res.diverged.any()
    assert res.share_within(np.inf) == pytest.approx(1 - res.diverged.mean())
    sched = sgdlab.run_schedule(spiky(dim=2), np.zeros((5, 2)),
                                [(0.5, 1e200, 50), (0.01, 0.0, 10)])
    assert sched.diverged.all()  # a diverged trial stays diverged


def test_divergence_general_landscape():
    res = sgdlab.run_sgd(VALLEY, [[3.0, 0.0, 0.0], [1.0, 1.0, 0.0]], lr=0.5, noise=0.0,
                         steps=200)
    assert_array_equal(res.diverged, [True, False])
    assert_array_equal(res.x[1], [1.0, 1.0, 0.0])


# -- user landscapes --------------------------------------------------------------------------
def test_general_landscape_matches_numpy_loop(rng, seed):
    x0 = rng.uniform(-0.5, 1.5, (40, 3))
    res = sgdlab.run_sgd(VALLEY, x0, lr=0.01, noise=2.0, steps=150, seed=seed)
    expected = ref.run_sgd_numpy(VALLEY, x0, lr=0.01, noise=2.0, steps=150, seed=seed,
                                 grad=valley_grad_numpy)
    assert_allclose(res.x, expected, rtol=1e-11, atol=1e-14)
    # SGD finds the valley's minimum region.
    gd = sgdlab.run_sgd(VALLEY, x0, lr=0.01, noise=0.0, steps=3000)
    assert np.median(gd.distance()) < 0.3


def test_user_separable_landscape_matches_numpy_loop(rng, seed):
    x0 = starts(rng, 40, 2, 1.5)
    res = sgdlab.run_sgd(WELL, x0, lr=0.02, noise=3.0, steps=150, seed=seed, first_trial=11)
    expected = ref.run_sgd_numpy(WELL, x0, lr=0.02, noise=3.0, steps=150, seed=seed,
                                 first_trial=11, grad=well_grad_numpy)
    assert_allclose(res.x, expected, rtol=1e-11, atol=1e-14)


def test_reference_needs_grad_for_user_landscapes():
    with pytest.raises(ValueError, match="pass grad="):
        ref.run_sgd_numpy(VALLEY, np.zeros((2, 3)), lr=0.1, noise=0.0, steps=1)
    with pytest.raises(ValueError, match="pass grad="):
        ref.run_sgd_python(WELL, np.zeros((2, 2)), lr=0.1, noise=0.0, steps=1)


# -- bad inputs -------------------------------------------------------------------------------
GOOD = dict(lr=0.1, noise=1.0, steps=10)


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(lr=0.0), ValueError, r"^lr must be a finite number > 0, got 0.0"),
    (dict(lr=-0.1), ValueError, r"^lr must be a finite number > 0"),
    (dict(lr=np.nan), ValueError, r"^lr must be a finite number > 0, got nan"),
    (dict(lr=np.inf), ValueError, r"^lr must be a finite number > 0, got inf"),
    (dict(lr="0.1"), TypeError, r"^lr must be a finite number > 0, got '0.1'"),
    (dict(lr=None), TypeError, r"^lr must be a finite number > 0, got None"),
    (dict(noise=-1.0), ValueError, r"^noise must be a finite number >= 0, got -1.0"),
    (dict(noise=np.inf), ValueError, r"^noise must be a finite number >= 0"),
    (dict(steps=-1), ValueError, r"^steps must be an integer >= 0, got -1"),
    (dict(steps=10.0), TypeError, r"^steps must be an integer >= 0, got 10.0"),
    (dict(steps=2.5), TypeError, r"^steps must be an integer"),
    (dict(steps=True), TypeError, r"^steps must be an integer"),
    (dict(seed=-3), ValueError, r"^seed must be an integer >= 0"),
    (dict(seed=2**63), ValueError, r"^seed must be an integer >= 0 and < "),
    (dict(seed=1.0), TypeError, r"^seed must be an integer"),
    (dict(first_trial=-1), ValueError, r"^first_trial must be an integer >= 0"),
    (dict(record=1), TypeError, r"^record must be True or False, got 1"),
])
def test_bad_scalar_arguments(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        sgdlab.run_sgd("spiky", [0.1, 0.2], **{**GOOD, **kwargs})


def test_numpy_scalars_are_accepted():
    res = sgdlab.run_sgd("spiky", [0.1], lr=np.float32(0.1), noise=np.float64(1.0),
                         steps=np.int64(3), seed=np.uint32(4))
    assert res.steps == 3 and isinstance(res.steps, int)


@pytest.mark.parametrize("land, x0, exc, message", [
    ("spiky", [], ValueError, r"^x0 must be at least one point, got an empty array"),
    ("spiky", np.zeros((0, 1)), ValueError, r"^x0 must be at least one point"),
    (spiky(dim=2), np.zeros((0, 2)), ValueError, r"^x0 must be at least one point"),
    ("spiky", [0.1, np.nan], ValueError, r"^x0 must be finite, got 1 non-finite"),
    (spiky(dim=2), [[0.1, np.inf], [-np.inf, 0.0]], ValueError, r"^x0 must be finite, got 2"),
    (spiky(dim=2), np.zeros(5), ValueError, r"^x0 must be of shape \(n, 2\)"),
    (spiky(dim=2), np.zeros((5, 3)), ValueError, r"^x0 must be of shape \(n, 2\).*\(5, 3\)"),
    ("spiky", np.zeros((5, 2)), ValueError, r"^x0 must be of shape \(n, 1\)"),
    ("spiky", 0.3, ValueError, r"^x0 must be of shape"),
    (VALLEY, np.zeros((4, 2)), ValueError, r"^x0 must be of shape \(n, 3\)"),
    ("spiky", ["a", "b"], TypeError, r"^x0 must be an array of numbers"),
    ("nope", [0.1], ValueError, r"^landscape must be one of \('spiky', .*got 'nope'"),
    (42, [0.1], TypeError, r"^landscape must be a sgdlab.Landscape or a landscape name, got int"),
])
def test_bad_start_and_landscape(land, x0, exc, message):
    with pytest.raises(exc, match=message):
        sgdlab.run_sgd(land, x0, **GOOD)


@pytest.mark.parametrize("stages, exc, message", [
    ([], ValueError, r"^stages must be a sequence of at least one .*got none"),
    ("abc", TypeError, r"^stages must be a sequence"),
    (5, TypeError, r"^stages must be a sequence"),
    ([(0.1, 1.0)], ValueError, r"^stages\[0\] must be \(lr, noise, steps\)"),
    ([(0.1, 1.0, 5), (0.1, 1.0, 5, 6)], ValueError, r"^stages\[1\] must be \(lr, noise, steps\)"),
    ([(0.1, 1.0, 5), (0.1, 1.0, 5), (-0.1, 1.0, 5)], ValueError, r"^stages\[2\] lr must be"),
    ([(0.1, -1.0, 5)], ValueError, r"^stages\[0\] noise must be"),
    ([(0.1, 1.0, 5), (0.1, 1.0, 2.5)], TypeError, r"^stages\[1\] steps must be an integer"),
    ([{"lr": 0.1, "noise": 1.0}], ValueError,
     r"^stages\[0\] must be a dict with the keys 'lr', 'noise' and 'steps', got \{'lr'"),
    ([None], ValueError, r"^stages\[0\] must be"),
])
def test_bad_stages(stages, exc, message):
    with pytest.raises(exc, match=message):
        sgdlab.run_schedule("spiky", [0.1, 0.2], stages)


def test_schedule_parameters_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        sgdlab.run_schedule("spiky", [0.1], [(0.1, 1.0, 5)], 3)
    with pytest.raises(TypeError, match="positional"):
        ref.run_sgd_numpy("spiky", [0.1], 0.1, 1.0, 5)


def test_bad_schedule_seed_and_start():
    with pytest.raises(ValueError, match="^seed must be an integer >= 0"):
        sgdlab.run_schedule("spiky", [0.1], [(0.1, 1.0, 5)], seed=-1)
    with pytest.raises(ValueError, match="^x0 must be finite"):
        sgdlab.run_schedule("spiky", [np.nan], [(0.1, 1.0, 5)])


# -- packaging --------------------------------------------------------------------------------
def test_import_does_not_import_torch():
    code = ("import sys, sgdlab, sgdlab.reference; "
            "print(any(m == 'torch' or m.startswith('torch.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("steps", [2**62, 2**63, 10**30])
def test_too_many_steps_are_refused(steps):
    # the kernels count steps in 64-bit integers: a ValueError naming steps and the limit,
    # not Numba's TypingError (10**30), a silent run of no steps (2**63) or a hang
    message = rf"^steps must be an integer < 2\*\*62 = {2**62} .*, got {steps}$"
    with pytest.raises(ValueError, match=message):
        sgdlab.run_sgd("spiky", [0.1, 0.2], lr=0.1, noise=1.0, steps=steps)
    with pytest.raises(ValueError, match=message.replace("^steps", r"^stages\[0\] steps")):
        sgdlab.run_schedule("spiky", [0.1, 0.2], [(0.1, 1.0, steps)])
