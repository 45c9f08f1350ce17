"""Scalar formulas of the built-in separable landscapes, addressed by small integer ids.

Kernels receive either such an id (then they are compiled once and cached on disk) or a
user's jitted function (compiled in the session); :func:`apply1` hides the difference.
"""

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._rng import uniform_pm1_lane

# ids: landscape * 4 + role (0 value, 1 derivative, 2 antiderivative)
QUADRATIC, SPIKY, RIPPLE = 0, 1, 2
VALUE, SLOPE, ANTIDERIVATIVE = 0, 1, 2

# Bump h(t) = 16 t^2 (1 - t)^2 on each unit cell (t = frac(u)): C^2, periodic, even, range
# [0, 1]; its moments int_0^t tau^k h(tau) d tau are polynomials (_bump_partial).


@njit(cache=True, inline="always")
def _bump(u):
    t = u - np.floor(u)
    s = t * (1.0 - t)
    return 16.0 * s * s


@njit(cache=True, inline="always")
def _bump_slope(u):
    t = u - np.floor(u)
    return 32.0 * t * (1.0 - t) * (1.0 - 2.0 * t)


@njit(cache=True, inline="always")
def _bump_partial(t, k):
    """int_0^t tau^k h(tau) d tau for 0 <= t <= 1."""
    return 16.0 * (t ** (k + 3) / (k + 3) - 2.0 * t ** (k + 4) / (k + 4) + t ** (k + 5) / (k + 5))


@njit(cache=True, inline="always")
def _power(a, n):
    """a ** n for an integer-valued float n >= 0, by repeated multiplication (exact for 0)."""
    out = 1.0
    for _ in range(int(n)):
        out *= a
    return out


_MAX_GROWTH = 12


@njit(cache=True, inline="always")
def _growth_power(a, n):
    """a ** n for an integer-valued float 0 <= n <= 12, bit for bit :func:`_power` (the same
    products in the same order), with a fixed trip count and a select per factor, so that an
    SGD loop calling it vectorises."""
    out = 1.0
    for i in range(_MAX_GROWTH):
        out = out * a if i < n else out
    return out


@njit(cache=True, inline="always")
def spiky_value(s, beta, inv_period, growth):
    return s * s * (1.0 + beta * _power(abs(s), growth) * _bump(s * inv_period))


@njit(cache=True, inline="always")
def _spiky_slope_flat(s, beta, inv_period):
    """:func:`spiky_slope` at growth 0, bit for bit (no power loop: the SGD loop vectorises)."""
    u = s * inv_period
    return 2.0 * s + beta * (2.0 * s * _bump(u) + s * s * _bump_slope(u) * inv_period)


@njit(cache=True, inline="always")
def spiky_slope(s, beta, inv_period, growth):
    """f1'(s) of f1(s) = s^2 (1 + beta |s|^growth h(s / p)), h the bump, p the period."""
    u = s * inv_period
    amp = beta * _growth_power(abs(s), growth)
    return 2.0 * s + amp * ((2.0 + growth) * s * _bump(u) + s * s * _bump_slope(u) * inv_period)


# Widening spikes (``width="sqrt"``): the bump's argument is u = sqrt(|s|) / p0, so cell n is
# p0^2 [n^2, (n + 1)^2] and a spike near |s| is about 2 p0 sqrt(|s|) wide. Only floor, sqrt
# (correctly rounded in IEEE 754, as in JavaScript) and arithmetic: the live explorer agrees
# bit for bit.
@njit(cache=True, inline="always")
def spiky_value_wide(s, beta, inv_period, growth):
    return s * s * (1.0 + beta * _power(abs(s), growth) * _bump(np.sqrt(abs(s)) * inv_period))


@njit(cache=True, inline="always")
def _spiky_slope_wide_flat(s, beta, inv_period):
    """:func:`spiky_slope_wide` at growth 0 (no power loop: the SGD loop vectorises)."""
    u = np.sqrt(abs(s)) * inv_period
    return 2.0 * s + beta * s * (2.0 * _bump(u) + 0.5 * u * _bump_slope(u))


@njit(cache=True, inline="always")
def spiky_slope_wide(s, beta, inv_period, growth):
    """f1'(s) of f1(s) = s^2 (1 + beta |s|^growth h(sqrt(|s|) / p0)): since
    d u / d s = u / (2 s), f1'(s) = 2 s + beta |s|^growth s ((2 + growth) h(u) + u h'(u) / 2)."""
    u = np.sqrt(abs(s)) * inv_period
    amp = beta * _growth_power(abs(s), growth)
    return 2.0 * s + amp * s * ((2.0 + growth) * _bump(u) + 0.5 * u * _bump_slope(u))


@njit(cache=True, inline="always")
def _cell_integral(m, e, t):
    """int_0^t (m + tau)^e h(tau) d tau for a cell index m >= 0, an integer e >= 0 and
    0 <= t <= 1: the binomial expansion of (m + tau)^e against the moments of h,
    sum_i C(e, i) m^(e-i) int_0^t tau^i h(tau) d tau (no powers: running products)."""
    e = int(e)
    if m == 0.0:
        return _bump_partial(t, e)
    total = 0.0
    m_power = _power(m, e)  # m ** (e - i)
    binom = 1.0  # C(e, i)
    t_power = t * t * t  # t ** (i + 3)
    for i in range(e + 1):
        moment = 16.0 * t_power * (1.0 / (i + 3) - 2.0 * t / (i + 4) + t * t / (i + 5))
        total += binom * m_power * moment
        m_power /= m
        binom = binom * (e - i) / (i + 1.0)
        t_power *= t
    return total


# Bernoulli numbers B_0 .. B_14 (B_1 = -1/2): Faulhaber's sums of m^j over m < n, j <= 14
_BERNOULLI = np.array([1.0, -0.5, 1.0 / 6.0, 0.0, -1.0 / 30.0, 0.0, 1.0 / 42.0, 0.0,
                       -1.0 / 30.0, 0.0, 5.0 / 66.0, 0.0, -691.0 / 2730.0, 0.0, 7.0 / 6.0])
_LOOP_CELLS = 1024  # below, cell by cell (bit for bit as before); above, Faulhaber's sums


@njit(cache=True, inline="always")
def _power_sum(n, j):
    """sum_{m < n} m^j (0^0 = 1) by Faulhaber: sum_k C(j+1, k) B_k n^(j+1-k) / (j+1)."""
    total = 0.0
    binom = 1.0  # C(j + 1, k)
    for k in range(j + 1):
        total += binom * _BERNOULLI[k] * _power(n, j + 1.0 - k)
        binom = binom * (j + 1.0 - k) / (k + 1.0)
    return total / (j + 1.0)


@njit(cache=True, inline="always")
def _whole_cells(n, e):
    """sum_{m < n} int_0^1 (m + tau)^e h(tau) d tau: per cell a polynomial in m, by Horner
    cell by cell for n < _LOOP_CELLS, else in closed form by Faulhaber's sums (all terms
    positive: no cancellation), so the cost does not grow with n."""
    coef = np.empty(e + 1)  # coef[j] = C(e, j) * int_0^1 tau^(e-j) h(tau) d tau
    binom = 1.0
    for j in range(e + 1):
        i = e - j
        coef[j] = binom * 16.0 * (1.0 / (i + 3) - 2.0 / (i + 4) + 1.0 / (i + 5))
        binom = binom * (e - j) / (j + 1.0)
    total = 0.0
    if n >= _LOOP_CELLS:
        for j in range(e + 1):
            total += coef[j] * _power_sum(n, j)
        return total
    for m in range(int(n)):
        value = coef[e]
        for j in range(e - 1, -1, -1):
            value = value * m + coef[j]
        total += value
    return total


@njit(cache=True, inline="always")
def spiky_antiderivative(s, beta, inv_period, growth):
    """F1(s) = s^3/3 + sign(s) beta p^(e+1) J(|s|/p), e = growth + 2, with
    J(U) = int_0^U u^e h(u) du summed cell by cell in closed form (f1 is even, so F1 odd)."""
    e = int(growth) + 2
    u = abs(s) * inv_period
    n = np.floor(u)
    spikes = (_whole_cells(n, e) + _cell_integral(n, e, u - n)) / _power(inv_period, e + 1.0)
    return s * s * s / 3.0 + np.sign(s) * beta * spikes


@njit(cache=True, inline="always")
def spiky_antiderivative_wide(s, beta, inv_period, growth):
    """F1(s) = s^3/3 + sign(s) beta int_0^|s| x^e h(sqrt(x) / p0) dx, e = growth + 2. With
    x = p0^2 u^2 the integral is 2 p0^(2e+2) J(sqrt(|s|) / p0), J(U) = int_0^U u^(2e+1) h(u) du:
    the same closed form, cell by cell, as :func:`spiky_antiderivative` (odd exponent 2e+1)."""
    e = int(growth) + 2
    odd = 2 * e + 1
    u = np.sqrt(abs(s)) * inv_period
    n = np.floor(u)
    spikes = 2.0 * (_whole_cells(n, odd) + _cell_integral(n, odd, u - n)) / _power(
        inv_period, 2.0 * e + 2.0)
    return s * s * s / 3.0 + np.sign(s) * beta * spikes


@njit(cache=True)
def spiky_slope1(s, params):
    if params[3] != 0.0:
        return spiky_slope_wide(s, params[0], params[1], params[2])
    return spiky_slope(s, params[0], params[1], params[2])


@njit(cache=True)
def quadratic_slope1(s, params):
    return params[0] * s


# Ripple: f1(s) = a s^2 / 2 + A sin^2(pi s / p) = a s^2 / 2 + (A / 2)(1 - cos(k s)), k = 2 pi / p.
# params: a, A, k.
@njit(cache=True)
def ripple_slope1(s, params):
    return params[0] * s + 0.5 * params[1] * params[2] * np.sin(params[2] * s)


@njit(cache=True, inline="always")
def ripple_value(s, a, amp, k):
    return 0.5 * a * s * s + 0.5 * amp * (1.0 - np.cos(k * s))


@njit(cache=True, inline="always")
def ripple_antiderivative(s, a, amp, k):
    return a * s * s * s / 6.0 + 0.5 * amp * (s - np.sin(k * s) / k)


@njit(cache=True, inline="always")
def builtin(fid, s, params):
    """Formula ``fid`` (landscape * 4 + role) at the scalar ``s``."""
    landscape, role = fid // 4, fid % 4
    if landscape == SPIKY:  # params: beta, 1 / period, growth, wide (0: fixed width, 1: sqrt)
        if role == SLOPE:
            return spiky_slope1(s, params)
        if params[3] != 0.0:
            if role == VALUE:
                return spiky_value_wide(s, params[0], params[1], params[2])
            return spiky_antiderivative_wide(s, params[0], params[1], params[2])
        if role == VALUE:
            return spiky_value(s, params[0], params[1], params[2])
        return spiky_antiderivative(s, params[0], params[1], params[2])
    if landscape == RIPPLE:  # params: a, A, 2 pi / period
        if role == SLOPE:
            return ripple_slope1(s, params)
        if role == VALUE:
            return ripple_value(s, params[0], params[1], params[2])
        return ripple_antiderivative(s, params[0], params[1], params[2])
    a = params[0]  # quadratic a/2 s^2
    if role == SLOPE:
        return quadratic_slope1(s, params)
    if role == VALUE:
        return 0.5 * a * s * s
    return a * s * s * s / 6.0


def apply1(fn, s, params):
    """fn(s, params) for a user's jitted scalar function, or built-in formula id ``fn``."""
    if isinstance(fn, (int, np.integer)):
        return builtin.py_func(int(fn), s, params)
    return fn(s, params)


@overload(apply1)
def _apply1_overload(fn, s, params):
    if isinstance(fn, types.Integer):
        return lambda fn, s, params: builtin(fn, s, params)
    return lambda fn, s, params: fn(s, params)


@njit(cache=True, inline="always")
def _step(x, slope, lane, step_offset, lr, noise):
    """x - lr * (slope + w): one SGD coordinate update, w uniform in [-noise, noise)."""
    return x - lr * (slope + noise * uniform_pm1_lane(lane, step_offset))


@njit(cache=True)
def _sgd_steps_builtin(slope, params, block, lanes, stride, steps, lr, noise, path):
    """All steps for one block of coordinates (a view) of a built-in landscape; the noise of
    coordinate q at step t is ``uniform_pm1_lane(lanes[q], t * stride)``. The formula is
    chosen once, outside the loops, and called directly so that the inner loop vectorises
    and the kernel can be cached. ``path`` is (steps + 1, n) or (0, 0)."""
    n = block.shape[0]
    record = path.shape[0] > 0
    if record:
        path[0] = block
    offset = np.uint64(0)
    for step in range(steps):
        if slope == SPIKY * 4 + SLOPE and params[3] != 0.0 and params[2] == 0.0:
            for q in range(n):
                block[q] = _step(block[q], _spiky_slope_wide_flat(block[q], params[0],
                                                                  params[1]),
                                 lanes[q], offset, lr, noise)
        elif slope == SPIKY * 4 + SLOPE and params[3] != 0.0:
            for q in range(n):
                block[q] = _step(block[q], spiky_slope_wide(block[q], params[0], params[1],
                                                            params[2]),
                                 lanes[q], offset, lr, noise)
        elif slope == SPIKY * 4 + SLOPE and params[2] == 0.0:
            for q in range(n):
                block[q] = _step(block[q], _spiky_slope_flat(block[q], params[0], params[1]),
                                 lanes[q], offset, lr, noise)
        elif slope == SPIKY * 4 + SLOPE:
            for q in range(n):
                block[q] = _step(block[q], spiky_slope(block[q], params[0], params[1],
                                                       params[2]),
                                 lanes[q], offset, lr, noise)
        elif slope == RIPPLE * 4 + SLOPE:
            for q in range(n):
                block[q] = _step(block[q], ripple_slope1(block[q], params), lanes[q], offset, lr,
                                 noise)
        else:
            for q in range(n):
                block[q] = _step(block[q], quadratic_slope1(block[q], params), lanes[q], offset,
                                 lr, noise)
        offset += stride
        if record:
            path[step + 1] = block


@njit
def _sgd_steps_user(slope, params, block, lanes, stride, steps, lr, noise, path):
    """As :func:`_sgd_steps_builtin` for a user's jitted ``slope(s, params)``."""
    n = block.shape[0]
    record = path.shape[0] > 0
    if record:
        path[0] = block
    offset = np.uint64(0)
    for step in range(steps):
        for q in range(n):
            block[q] = _step(block[q], slope(block[q], params), lanes[q], offset, lr, noise)
        offset += stride
        if record:
            path[step + 1] = block


def sgd_steps(slope, params, block, lanes, stride, steps, lr, noise, path):
    """SGD steps on one block of coordinates, for a built-in slope id or a user's function."""


@overload(sgd_steps)
def _sgd_steps_overload(slope, params, block, lanes, stride, steps, lr, noise, path):
    if isinstance(slope, types.Integer):
        return lambda slope, params, block, lanes, stride, steps, lr, noise, path: (
            _sgd_steps_builtin(slope, params, block, lanes, stride, steps, lr, noise, path))
    return lambda slope, params, block, lanes, stride, steps, lr, noise, path: (
        _sgd_steps_user(slope, params, block, lanes, stride, steps, lr, noise, path))
