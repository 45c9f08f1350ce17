"""User-defined landscapes shared by the test modules.

Every distinct user function makes Numba compile the session (non-cached) kernels again
(several seconds each on two cores), so the tests reuse these few, defined once.
"""

import numba
import numpy as np

from sgdlab import Landscape


# -- a general (non-separable) 3-D landscape: a Rosenbrock valley plus a quadratic ----------
@numba.njit
def valley_f(x):
    return (1.0 - x[0]) ** 2 + 5.0 * (x[1] - x[0] * x[0]) ** 2 + 0.5 * x[2] * x[2]


@numba.njit
def valley_grad(x):
    out = np.empty(3)
    r = x[1] - x[0] * x[0]
    out[0] = -2.0 * (1.0 - x[0]) - 20.0 * x[0] * r
    out[1] = 10.0 * r
    out[2] = x[2]
    return out


def valley_f_numpy(x):
    """valley_f on rows of a (n, 3) array."""
    return (1.0 - x[:, 0]) ** 2 + 5.0 * (x[:, 1] - x[:, 0] * x[:, 0]) ** 2 + 0.5 * x[:, 2] ** 2


def valley_grad_numpy(x):
    """valley_grad on rows of a (n, 3) array, same operations in the same order."""
    r = x[:, 1] - x[:, 0] * x[:, 0]
    return np.stack([-2.0 * (1.0 - x[:, 0]) - 20.0 * x[:, 0] * r, 10.0 * r, x[:, 2]], axis=1)


VALLEY = Landscape(valley_f, valley_grad, 3, [1.0, 1.0, 0.0], name="valley")


# -- a separable double well without an antiderivative ---------------------------------------
@numba.njit
def well_f1(s, params):
    q = s * s - 1.0
    return params[0] * q * q / 4.0


@numba.njit
def well_grad1(s, params):
    return params[0] * s * (s * s - 1.0)


WELL_PARAMS = (2.0,)


def well_f1_numpy(s):
    q = s * s - 1.0
    return WELL_PARAMS[0] * q * q / 4.0


def well_grad_numpy(x):
    return WELL_PARAMS[0] * x * (x * x - 1.0)


WELL = Landscape.separable(well_f1, well_grad1, WELL_PARAMS, dim=2, x_star=1.0, name="well")


# -- a 1-D rippled quadratic centred at 0.3, with an antiderivative (exact smoothing) --------
# f1(s) = a/2 (s - c)^2 + A/2 (1 - cos(k s)); params: a, A, k, c. Its target x* is c.
@numba.njit
def tilted_f1(s, params):
    a, amp, k, c = params[0], params[1], params[2], params[3]
    return 0.5 * a * (s - c) ** 2 + 0.5 * amp * (1.0 - np.cos(k * s))


@numba.njit
def tilted_grad1(s, params):
    a, amp, k, c = params[0], params[1], params[2], params[3]
    return a * (s - c) + 0.5 * amp * k * np.sin(k * s)


@numba.njit
def tilted_antiderivative1(s, params):
    a, amp, k, c = params[0], params[1], params[2], params[3]
    return a * (s - c) ** 3 / 6.0 + 0.5 * amp * (s - np.sin(k * s) / k)


TILTED_CENTRE = 0.3
TILTED = Landscape.separable(tilted_f1, tilted_grad1, [1.0, 0.02, 2 * np.pi / 0.2, TILTED_CENTRE],
                             x_star=TILTED_CENTRE, antiderivative1=tilted_antiderivative1,
                             name="tilted")
