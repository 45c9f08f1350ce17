"""Hoeffding's exponent and the binomial upper bound of sgdlab.nn.probe (Sections 5.2, 5.3)."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

probe = pytest.importorskip("sgdlab.nn.probe")


@pytest.mark.parametrize("values, low, high", [([1.0, 2.0, 3.0], None, None),
                                               ([0.5, 0.7, 0.9, 1.1], -2.0, 2.0),
                                               ([-1.0, 3.0], None, None)])
def test_hoeffding_exponent_is_log10_of_the_bound(values, low, high):
    bound = probe.hoeffding_bound(values, low, high)
    assert_allclose(probe.hoeffding_exponent(values, low, high), math.log10(bound))


def test_hoeffding_exponent_where_the_bound_underflows():
    values = np.full(10_000, 1.0)
    values[0] = 0.9
    n, m, width = values.size, values.mean(), 0.1
    assert probe.hoeffding_bound(values) == 0.0
    assert_allclose(probe.hoeffding_exponent(values), -2 * n * (m / width) ** 2 / math.log(10))
    assert probe.hoeffding_exponent([-1.0, 0.5]) == 0.0
    assert probe.hoeffding_exponent([2.0, 2.0]) == -math.inf


def _binomial_cdf(k, n, p):
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))


@pytest.mark.parametrize("count, total", [(0, 1), (0, 100), (3, 20), (19, 20), (7, 300)])
def test_binomial_upper_bound_against_the_cdf(count, total):
    bound = probe.binomial_upper_bound(count, total)
    assert count / total < bound < 1
    assert_allclose(_binomial_cdf(count, total, bound), 0.05, rtol=1e-6)


def test_binomial_upper_bound_closed_form_and_edges():
    for n in (1, 180, 343_000):
        assert_allclose(probe.binomial_upper_bound(0, n), 1 - 0.05 ** (1 / n), rtol=1e-9)
    assert_allclose(probe.binomial_upper_bound(0, 50, level=0.99), 1 - 0.01 ** (1 / 50))
    assert probe.binomial_upper_bound(4, 4) == 1.0
    assert probe.binomial_upper_bound(2, 343_000) < probe.binomial_upper_bound(3, 343_000)


@pytest.mark.parametrize("kwargs, match", [
    (dict(count=5, total=4), "count must be <= total = 4, got 5"),
    (dict(count=-1, total=4), "count must be"),
    (dict(count=0, total=0), "total must be"),
    (dict(count=0, total=4, level=1.0), "level must be a finite number"),
])
def test_binomial_upper_bound_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        probe.binomial_upper_bound(**kwargs)
