"""The counter-based random stream: reference implementations agree with the kernels, and
the uniforms have the right distribution and no detectable dependence."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

import sgdlab
from sgdlab import _rng
from sgdlab import reference as ref
from sgdlab.landscapes import quadratic

U64 = st.integers(min_value=0, max_value=2**64 - 1)
SEEDS = st.integers(min_value=0, max_value=2**63 - 1)


@pytest.fixture
def seed():
    return 20180710


def kernel_uniforms(seed, trials, steps, dim, first_trial=0):
    """The uniforms the SGD kernel draws, read off a run where x_{t+1} = -u_t exactly.

    On the quadratic with curvature 1, lr 1 and noise 1, x_{t+1} = x_t - (x_t + u_t); all
    numbers are multiples of 2**-51 in (-2, 2), so every operation is exact.
    """
    res = sgdlab.run_sgd(quadratic(dim=dim), np.zeros((trials, dim)), lr=1.0, noise=1.0,
                         steps=steps, seed=seed, record=True, first_trial=first_trial)
    return -res.path[1:]


@settings(max_examples=200, deadline=None)
@given(U64)
def test_mix64_numpy_matches_python(z):
    assert int(ref.mix64(np.uint64(z))) == ref.mix64_python(z)


@settings(max_examples=50, deadline=None)
@given(SEEDS, st.integers(min_value=0, max_value=1000))
def test_seed_key_three_ways(seed_value, stream):
    expected = ref.seed_key_python(seed_value, stream)
    assert int(ref.seed_key(seed_value, stream)) == expected
    assert int(_rng.seed_key(seed_value, stream)) == expected


def test_mix64_known_values():
    # splitmix64 finaliser of 0 is 0; of the first splitmix64 state (GOLDEN) it is the
    # well-known first output of splitmix64 seeded with 0.
    assert ref.mix64_python(0) == 0
    assert ref.mix64_python(ref.GOLDEN) == 0xE220A8397B1DCDAF


def test_kernel_draws_equal_reference_draws(seed):
    u_kernel = kernel_uniforms(seed, trials=300, steps=20, dim=3, first_trial=5)
    u_ref = ref.uniforms(seed, trials=300, steps=20, dim=3, first_trial=5)
    assert_array_equal(u_kernel, u_ref)


def test_uniform_range_and_grid(seed):
    u = ref.uniforms(seed, trials=500, steps=200, dim=2)
    assert u.min() >= -1.0 and u.max() < 1.0
    # Exact multiples of 2**-51: 52 random bits.
    scaled = u * 2.0**51
    assert_array_equal(scaled, np.round(scaled))


def test_uniform_moments_and_histogram(seed):
    u = kernel_uniforms(seed, trials=1000, steps=100, dim=2).ravel()
    n = u.size
    # Mean 0 with standard error sqrt(1/3 / n); variance 1/3 with sd sqrt(1/180 / n)
    # (fourth central moment of U[-1,1] is 1/5).
    assert abs(u.mean()) < 5 * np.sqrt(1 / 3 / n)
    assert abs(u.var() - 1 / 3) < 5 * np.sqrt((1 / 5 - 1 / 9) / n)
    bins = 50
    counts, _ = np.histogram(u, bins=bins, range=(-1.0, 1.0))
    chi2 = np.sum((counts - n / bins) ** 2 / (n / bins))
    assert chi2 < stats.chi2.ppf(1 - 1e-6, bins - 1), chi2


def _corr(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_independence_between_trials_steps_coordinates(seed):
    u = ref.uniforms(seed, trials=2000, steps=50, dim=2)  # (steps, trials, dim)
    bound = 5 / np.sqrt(u[:, :-1].size)
    assert abs(_corr(u[:, :-1], u[:, 1:])) < bound          # neighbouring trials
    assert abs(_corr(u[:-1], u[1:])) < bound                # consecutive steps
    assert abs(_corr(u[..., 0], u[..., 1])) < bound         # coordinates of one draw
    # Pairs (u_t, u_{t+1}) of one trial fill the square evenly (a 2-D chi-square).
    pairs = np.stack([u[:-1, :, 0].ravel(), u[1:, :, 0].ravel()], axis=1)
    counts, _, _ = np.histogram2d(pairs[:, 0], pairs[:, 1], bins=10, range=[[-1, 1], [-1, 1]])
    expected = pairs.shape[0] / 100
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < stats.chi2.ppf(1 - 1e-6, 99), chi2


def test_independence_between_seeds_and_streams(seed):
    shape = dict(trials=1000, steps=40, dim=1)
    base = ref.uniforms(seed, **shape)
    others = [ref.uniforms(seed + 1, **shape), ref.uniforms(seed, stream=1, **shape),
              ref.uniforms(seed, first_trial=1000, **shape)]
    bound = 5 / np.sqrt(base.size)
    for other in others:
        assert np.mean(other == base) < 1e-3
        assert abs(_corr(base, other)) < bound


def test_schedule_stages_use_different_streams(seed):
    land = quadratic(dim=2)
    stages = [(1.0, 1.0, 30), (1.0, 1.0, 30)]
    res = sgdlab.run_schedule(land, np.zeros((500, 2)), stages, seed=seed, record=True)
    u0, u1 = -res.stages[0].path[1:], -res.stages[1].path[1:]
    assert_array_equal(u0, ref.uniforms(seed, 500, 30, 2, stream=0))
    assert_array_equal(u1, ref.uniforms(seed, 500, 30, 2, stream=1))
    assert abs(_corr(u0, u1)) < 5 / np.sqrt(u0.size)


def test_trial_keys_distinct(seed):
    keys = ref.trial_keys(ref.seed_key(seed), 100_000)
    assert np.unique(keys).size == keys.size


@settings(max_examples=300, deadline=None)
@given(U64, st.integers(min_value=1, max_value=2**32 - 1))
def test_index_from_bits_is_the_exact_floor_of_n_z_over_2_to_the_64(z, n):
    assert int(_rng.index_from_bits(np.uint64(z), n)) == (z * n) >> 64


def test_index_from_bits_at_the_ends():
    top = 2**64 - 1
    for z, n in ((0, 1), (top, 1), (top, 2**32 - 1), (0, 2**32 - 1), (2**63, 3), (top, 2001),
                 (2**64 - 2**32, 2**32 - 1)):
        assert int(_rng.index_from_bits(np.uint64(z), n)) == (z * n) >> 64 < n


def test_python_uniforms_match_numpy(seed):
    # run_sgd_python on the quadratic with lr = curvature = noise = 1 exposes its draws too.
    x = ref.run_sgd_python(quadratic(dim=2), np.zeros((3, 2)), lr=1.0, noise=1.0, steps=1,
                           seed=seed)
    assert_allclose(-x, ref.uniforms(seed, 3, 1, 2)[0], rtol=0, atol=0)


def test_named_streams_are_distinct_and_above_the_schedule_stages(seed):
    streams = [int(s) for s in _rng.Stream]
    assert len(set(streams)) == len(streams) and _rng.Stream.SGD == 0
    monte_carlo = [s for s in _rng.Stream if s != _rng.Stream.SGD]
    assert all(s >= _rng.STAGES for s in monte_carlo)  # never a schedule stage's stream
    assert [int(s) for s in monte_carlo] == [2**32 + k for k in range(6)]  # reference.py's
    assert _rng.stage_stream(0) == _rng.Stream.SGD and _rng.stage_stream(7) == 7
    for bad in (-1, _rng.STAGES):
        with pytest.raises(ValueError, match="^stage must be an integer >= 0"):
            _rng.stage_stream(bad)
    for stream in monte_carlo:
        assert int(_rng.make_key(seed, stream)) == ref.seed_key_python(seed, int(stream))


def test_monte_carlo_streams_are_not_a_schedule_stage(seed):
    """convolve's draws differ from those of every stage of a schedule with the same seed."""
    x = np.zeros(200)
    mc = sgdlab.convolve(quadratic(curvature=2.0), x, radius=1.0, samples=2, seed=seed)
    # f(-u) = u^2 for curvature 2: the mean over two draws is (u0^2 + u1^2) / 2
    for stream in range(4):
        u = ref.uniforms(seed, trials=200, steps=2, dim=1, stream=stream)[:, :, 0]
        assert not np.any(np.isclose(mc, (u**2).mean(axis=0)))
    u = ref.uniforms(seed, trials=200, steps=2, dim=1, stream=2**32)[:, :, 0]
    assert_allclose(mc, (u**2).mean(axis=0), rtol=1e-15)
