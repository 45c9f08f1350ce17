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

# Bump h(t) = 16 t^2 (1 - t)^2 on each unit cell (t = frac(u)): C^2, periodic, range [0, 1].
# Moments over one cell: int h = 8/15, int t h = 4/15, int t^2 h = 16/105.
_H_M0, _H_M1, _H_M2 = 8.0 / 15.0, 4.0 / 15.0, 16.0 / 105.0


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
def spiky_value(s, beta, inv_period):
    return s * s * (1.0 + beta * _bump(s * inv_period))


@njit(cache=True, inline="always")
def spiky_slope(s, beta, inv_period):
    u = s * inv_period
    return 2.0 * s * (1.0 + beta * _bump(u)) + beta * s * s * _bump_slope(u) * inv_period


@njit(cache=True, inline="always")
def spiky_antiderivative(s, beta, inv_period):
    """F1(s) = s^3/3 + beta p^3 G(s/p), G(U) = int_0^U v^2 h(v) dv in closed form."""
    u = s * inv_period
    n = np.floor(u)
    t = u - n
    whole = _H_M0 * (n - 1.0) * n * (2.0 * n - 1.0) / 6.0 + _H_M1 * n * (n - 1.0) + _H_M2 * n
    part = n * n * _bump_partial(t, 0) + 2.0 * n * _bump_partial(t, 1) + _bump_partial(t, 2)
    return s * s * s / 3.0 + beta * (whole + part) / inv_period**3


@njit(cache=True)
def spiky_slope1(s, params):
    return spiky_slope(s, params[0], params[1])


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
    if landscape == SPIKY:  # params: beta, 1 / period
        if role == SLOPE:
            return spiky_slope1(s, params)
        if role == VALUE:
            return spiky_value(s, params[0], params[1])
        return spiky_antiderivative(s, params[0], params[1])
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
        if slope == SPIKY * 4 + SLOPE:
            for q in range(n):
                block[q] = _step(block[q], spiky_slope1(block[q], params), lanes[q], offset, lr,
                                 noise)
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
