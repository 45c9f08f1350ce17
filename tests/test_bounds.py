"""Lemma 6 (Hoeffding) and the Clopper-Pearson bound of sgdlab.theory (Sections 5.2, 5.3)
against their formulas, scipy's binomial and beta distributions and exact binomial sums."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import stats

from sgdlab import theory


# -- Hoeffding (Lemma 6) -----------------------------------------------------------------------
def test_hoeffding_confidence_formula():
    values = np.array([0.5, 1.0, 2.0, 0.25])
    n, m = values.size, values.mean()
    expected = 1 - math.exp(-2 * n * m ** 2 / (2.0 - 0.25) ** 2)
    assert math.isclose(theory.hoeffding_confidence(values), expected)
    assert math.isclose(theory.hoeffding_bound(values), 1 - expected)
    wide = 1 - math.exp(-2 * n * m ** 2 / 20.0 ** 2)
    assert math.isclose(theory.hoeffding_confidence(values, low=-10, high=10), wide)
    assert math.isclose(theory.hoeffding_confidence(list(values), -10, 10), wide)


def test_hoeffding_bound_against_the_binomial_tail():
    """Bernoulli(p) samples in [0, 1]: P(mean - p >= t) <= exp(-2 n t^2), the tail exact from
    scipy's binomial distribution. The bound of a sample with mean m >= p is the bound at
    t = m for a variable with mean 0, shifted: X - p lies in [-p, 1 - p], width 1."""
    for n, p in [(10, 0.3), (100, 0.5), (400, 0.1)]:
        for k in range(math.ceil(n * p) + 1, n + 1, max(1, n // 10)):
            t = k / n - p
            tail = stats.binom.sf(k - 1, n, p)          # P(sum >= k)
            centred = np.r_[np.full(k, 1 - p), np.full(n - k, -p)]   # sample mean t
            bound = theory.hoeffding_bound(centred, low=-p, high=1 - p)
            assert_allclose(bound, math.exp(-2 * n * t * t), rtol=1e-12)
            assert tail <= bound


@pytest.mark.parametrize("values, low, high", [([1.0, 2.0, 3.0], None, None),
                                               ([0.5, 0.7, 0.9, 1.1], -2.0, 2.0),
                                               ([-1.0, 3.0], None, None)])
def test_hoeffding_exponent_is_log10_of_the_bound(values, low, high):
    bound = theory.hoeffding_bound(values, low, high)
    assert_allclose(theory.hoeffding_exponent(values, low, high), math.log10(bound))


def test_hoeffding_exponent_where_the_bound_underflows():
    values = np.full(10_000, 1.0)
    values[0] = 0.9
    n, m, width = values.size, values.mean(), 0.1
    assert theory.hoeffding_bound(values) == 0.0
    assert_allclose(theory.hoeffding_exponent(values), -2 * n * (m / width) ** 2 / math.log(10))
    assert theory.hoeffding_exponent([-1.0, 0.5]) == 0.0
    assert theory.hoeffding_exponent([2.0, 2.0]) == -math.inf


def test_hoeffding_edge_cases_and_bad_input():
    assert theory.hoeffding_confidence([-1.0, 0.5]) == 0.0       # mean <= 0: no evidence
    assert theory.hoeffding_confidence([-1.0, 1.0]) == 0.0
    assert theory.hoeffding_bound([-1.0, 1.0]) == 1.0
    assert theory.hoeffding_confidence([2.0, 2.0, 2.0]) == 1.0   # a positive constant
    assert theory.hoeffding_confidence(np.ones((2, 3))) == 1.0   # any shape, flattened
    with pytest.raises(ValueError, match="^low, high must be bounds containing every sample"):
        theory.hoeffding_confidence([1.0, 3.0], low=0.0, high=2.0)
    with pytest.raises(ValueError, match="^low, high must be finite bounds with low <= high"):
        theory.hoeffding_bound([1.0], low=2.0, high=0.0)
    with pytest.raises(ValueError, match="^high must be a finite number"):
        theory.hoeffding_exponent([1.0], high=math.inf)
    with pytest.raises(ValueError, match="^values must be at least one sample"):
        theory.hoeffding_confidence([])
    with pytest.raises(ValueError, match="^values must be finite samples"):
        theory.hoeffding_confidence([1.0, float("nan")])
    with pytest.raises(TypeError, match="^values must be an array of numbers, got str"):
        theory.hoeffding_confidence("abc")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=1, max_size=40), st.floats(0, 5))
def test_hoeffding_confidence_properties(values, widen):
    arr = np.array(values)
    c = theory.hoeffding_confidence(arr)
    assert 0.0 <= c <= 1.0
    if arr.mean() <= 0:
        assert c == 0.0
    # a wider (weaker) bound never gives more confidence
    assert theory.hoeffding_confidence(arr, arr.min() - widen, arr.max() + widen) <= c + 1e-15
    # more samples with the same mean and range give more confidence
    assert theory.hoeffding_confidence(np.tile(arr, 2)) >= c - 1e-15


# -- Clopper-Pearson (Section 5.3) -------------------------------------------------------------
def _binomial_cdf(k, n, p):
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))


@pytest.mark.parametrize("count, total", [(0, 1), (0, 100), (3, 20), (19, 20), (7, 300)])
def test_binomial_upper_bound_against_the_exact_cdf(count, total):
    bound = theory.binomial_upper_bound(count, total)
    assert count / total < bound < 1
    assert_allclose(_binomial_cdf(count, total, bound), 0.05, rtol=1e-6)


@pytest.mark.parametrize("count, total, level", [
    (0, 1, 0.95), (3, 20, 0.95), (19, 20, 0.9), (7, 300, 0.99), (2, 343_000, 0.95),
    (58, 10_000, 0.95), (500, 100_000, 0.5)])
def test_binomial_upper_bound_against_scipy(count, total, level):
    """Clopper-Pearson's upper bound is the level quantile of Beta(k + 1, n - k), where the
    binomial CDF equals 1 - level."""
    bound = theory.binomial_upper_bound(count, total, level=level)
    assert_allclose(bound, stats.beta.ppf(level, count + 1, total - count), rtol=1e-9)
    assert_allclose(stats.binom.cdf(count, total, bound), 1 - level, rtol=1e-6)


def test_binomial_upper_bound_closed_form_and_edges():
    for n in (1, 180, 343_000):
        assert_allclose(theory.binomial_upper_bound(0, n), 1 - 0.05 ** (1 / n), rtol=1e-9)
    assert_allclose(theory.binomial_upper_bound(0, 50, level=0.99), 1 - 0.01 ** (1 / 50))
    assert theory.binomial_upper_bound(4, 4) == 1.0
    assert theory.binomial_upper_bound(2, 343_000) < theory.binomial_upper_bound(3, 343_000)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(count=5, total=4), ValueError, "^count must be <= total = 4, got 5"),
    (dict(count=-1, total=4), ValueError, "^count must be"),
    (dict(count=0, total=0), ValueError, "^total must be"),
    (dict(count=0, total=4, level=1.0), ValueError, "^level must be a finite number"),
    (dict(count=1.5, total=4), TypeError, "^count must be an integer"),
])
def test_binomial_upper_bound_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        theory.binomial_upper_bound(**kwargs)
