"""Independent reference implementations of sgdlab's SGD, for tests and benchmarks.

Nothing here calls Numba code: the same update and the same counter-based random stream as
:func:`sgdlab.run_sgd` are written once with NumPy arrays vectorised over trials
(:func:`run_sgd_numpy`) and once with plain Python loops (:func:`run_sgd_python`).

The random stream (all arithmetic on unsigned 64-bit integers, modulo :math:`2^{64}`):

* ``key = seed_key(seed, stream) = mix64(mix64(seed ^ M2) + stream * GOLDEN)``
  (``stream`` 0 for :func:`sgdlab.run_sgd`, ``k`` for stage ``k`` of
  :func:`sgdlab.run_schedule`, ``2**32`` for the Monte Carlo draws of :func:`sgdlab.convolve`,
  ``2**32 + 1`` and ``2**32 + 2`` for those of :func:`sgdlab.theory.one_point_convexity` and
  :func:`sgdlab.theory.one_step`, ``2**32 + 3`` for :func:`sgdlab.random_starts` (whose
  stage ``k`` reads positions ``k * dim + j``, the stream's "step" k), ``2**32 + 4`` for
  :func:`sgdlab.random_rows` (:func:`random_rows_python`): the streams that
  ``sgdlab._rng.Stream`` names);
* the key of trial ``i`` is ``mix64(key + (i + 1) * GOLDEN)``;
* coordinate ``j`` of that trial at step ``t`` uses
  ``pm1 = 2 * bitcast_double((mix64(trial_key + (t * dim + j + 1) * GOLDEN) >> 12)
  | 0x3FF0000000000000) - 3``, a uniform number in :math:`[-1, 1)`;
* the step is :math:`x_{t+1} = x_t - \\eta(\\nabla f(x_t) + W\\,\\mathrm{pm1})`.

``mix64`` is the splitmix64 finaliser.
"""

import math
import struct

import numpy as np

from ._validate import fail
from .landscapes import as_landscape

__all__ = ["GOLDEN", "M1", "M2", "mix64", "seed_key", "trial_keys", "uniforms",
           "run_sgd_numpy", "run_sgd_python", "mix64_python", "seed_key_python",
           "random_rows_python"]

GOLDEN = 0x9E3779B97F4A7C15
"""The splitmix64 increment (the golden ratio as a 64-bit fraction) that spaces keys apart."""
M1 = 0xBF58476D1CE4E5B9
"""The first multiplier of :func:`mix64` (splitmix64)."""
M2 = 0x94D049BB133111EB
"""The second multiplier of :func:`mix64` (splitmix64); also XOR-ed into the seed."""
_MASK = (1 << 64) - 1
_ONE_BITS = 0x3FF0000000000000

_U_GOLDEN = np.uint64(GOLDEN)
_U_M1 = np.uint64(M1)
_U_M2 = np.uint64(M2)
_U_ONE_BITS = np.uint64(_ONE_BITS)


# -- NumPy ---------------------------------------------------------------------------------
def mix64(z):
    """splitmix64 finaliser of a uint64 NumPy array or scalar (wraps modulo 2**64).

    Parameters
    ----------
    z : numpy.uint64 or ndarray of uint64

    Returns
    -------
    numpy.uint64 or ndarray of uint64
    """
    with np.errstate(over="ignore"):
        z = np.asarray(z, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * _U_M1
        z = (z ^ (z >> np.uint64(27))) * _U_M2
        return z ^ (z >> np.uint64(31))


def seed_key(seed, stream=0):
    """64-bit key of ``(seed, stream)``: ``mix64(mix64(seed ^ M2) + stream * GOLDEN)``.

    Parameters
    ----------
    seed : int
        Non-negative seed, below 2**63.
    stream : int
        0 for :func:`sgdlab.run_sgd`; ``k`` for stage ``k`` of :func:`sgdlab.run_schedule`;
        ``2**32`` for the Monte Carlo draws of :func:`sgdlab.convolve` (module docstring).

    Returns
    -------
    numpy.uint64
    """
    with np.errstate(over="ignore"):
        inner = mix64(np.uint64(seed) ^ _U_M2)
        return np.uint64(mix64(inner + np.uint64(stream) * _U_GOLDEN))


def trial_keys(key, trials, first_trial=0):
    """Keys ``mix64(key + (i + 1) * GOLDEN)`` of trials ``first_trial .. first_trial+trials-1``.

    Returns
    -------
    ndarray of uint64, shape (trials,)
    """
    index = np.arange(first_trial, first_trial + trials, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return mix64(np.uint64(key) + (index + np.uint64(1)) * _U_GOLDEN)


def _pm1_from_bits(z):
    """Uniform in [-1, 1) from the top 52 bits of each uint64 (exact bit cast)."""
    return 2.0 * ((z >> np.uint64(12)) | _U_ONE_BITS).view(np.float64) - 3.0


def _lanes(keys, dim):
    """``trial_key + (j + 1) * GOLDEN`` for every trial and coordinate, shape (trials, dim)."""
    with np.errstate(over="ignore"):
        return keys[:, None] + (np.arange(1, dim + 1, dtype=np.uint64) * _U_GOLDEN)[None, :]


def _step_uniforms(lanes, step, dim):
    """Uniforms of every trial and coordinate at ``step`` from precomputed lanes."""
    with np.errstate(over="ignore"):
        offset = np.uint64(step) * np.uint64(dim) * _U_GOLDEN
        return _pm1_from_bits(mix64(lanes + offset))


def uniforms(seed, trials, steps, dim, *, stream=0, first_trial=0):
    """Every uniform number that SGD draws, shape (steps, trials, dim), values in [-1, 1).

    ``uniforms(...)[t, i, j]`` multiplies ``noise`` for coordinate ``j`` of trial
    ``first_trial + i`` at step ``t`` of a run with this ``seed`` and ``stream``.

    Parameters
    ----------
    seed : int
    trials, steps, dim : int
    stream : int
        See :func:`seed_key`.
    first_trial : int
        Index of the first trial.

    Returns
    -------
    ndarray, shape (steps, trials, dim)
    """
    lanes = _lanes(trial_keys(seed_key(seed, stream), trials, first_trial), dim)
    out = np.empty((steps, trials, dim))
    for t in range(steps):
        out[t] = _step_uniforms(lanes, t, dim)
    return out


def _slope_numpy(kind, params, s):
    """Derivative of the built-in scalar formula ``kind`` at every element of ``s``."""
    if kind == "quadratic":
        return params[0] * s
    if kind == "ripple":
        return params[0] * s + 0.5 * params[1] * params[2] * np.sin(params[2] * s)
    beta, inv_period, growth, wide = params[0], params[1], params[2], params[3]
    u = np.sqrt(np.abs(s)) * inv_period if wide else s * inv_period
    t = u - np.floor(u)
    q = t * (1.0 - t)
    bump = 16.0 * q * q
    bump_slope = 32.0 * t * (1.0 - t) * (1.0 - 2.0 * t)
    amp = beta * np.abs(s) ** growth
    if wide:  # d u / d s = u / (2 s)
        return 2.0 * s + amp * s * ((2.0 + growth) * bump + 0.5 * u * bump_slope)
    return 2.0 * s + amp * ((2.0 + growth) * s * bump + s * s * bump_slope * inv_period)


def _start(landscape, x0):
    land = as_landscape(landscape)  # a built-in name or a Landscape; no Numba code runs
    x = np.array(x0, dtype=np.float64)
    if land.dim == 1 and x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != land.dim:
        fail("x0", f"of shape (trials, {land.dim})", shown=f"shape {x.shape}")
    return land, x


def _params(land, grad):
    kind = land.builtin
    if kind is None and grad is None:
        raise ValueError(
            f"landscape {land.name!r} is not a built-in one: pass grad=, a NumPy function "
            "mapping a (trials, dim) array to its gradients"
        )
    return kind, (None if land.params is None else [float(p) for p in land.params])


def run_sgd_numpy(landscape, x0, *, lr, noise, steps, seed=0, stream=0, first_trial=0,
                  grad=None):
    """Reference SGD with NumPy, vectorised over trials: same numbers as :func:`sgdlab.run_sgd`.

    .. math:: x_{t+1} = x_t - \\eta\\,(\\nabla f(x_t) + W u_t), \\qquad
              u_t \\in [-1, 1)^d \\text{ from the counter-based stream}

    Parameters
    ----------
    landscape : Landscape or str
        A built-in landscape (``spiky``, ``quadratic``, any ``dim``), or any landscape
        together with ``grad``.
    x0 : array_like, shape (trials, dim)
        Starting points ((trials,) when dim is 1).
    lr, noise : float
        Step size and noise bound.
    steps : int
    seed : int
    stream : int
        0 as in :func:`sgdlab.run_sgd`; ``k`` reproduces stage ``k`` of a schedule.
    first_trial : int
        Index of the first trial (as in :func:`sgdlab.run_sgd`).
    grad : callable, optional
        NumPy gradient ``grad(x) -> array`` of a (trials, dim) array. When given it replaces
        the built-in formula, and (as the general kernel does) a trial whose iterate stops
        being finite is frozen there.

    Returns
    -------
    ndarray, shape (trials, dim)
        Final iterates.
    """
    land, x = _start(landscape, x0)
    kind, params = _params(land, grad)
    trials, dim = x.shape
    lanes = _lanes(trial_keys(seed_key(seed, stream), trials, first_trial), dim)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            w = noise * _step_uniforms(lanes, t, dim)
            if grad is None:
                x = x - lr * (_slope_numpy(kind, params, x) + w)
            else:
                live = np.all(np.isfinite(x), axis=1)
                step = x[live] - lr * (np.asarray(grad(x[live]), dtype=np.float64) + w[live])
                x = x.copy()
                x[live] = step
    return x


# -- pure Python ---------------------------------------------------------------------------
def mix64_python(z):
    """splitmix64 finaliser on a Python int (masked to 64 bits)."""
    z = ((z ^ (z >> 30)) * M1) & _MASK
    z = ((z ^ (z >> 27)) * M2) & _MASK
    return z ^ (z >> 31)


def seed_key_python(seed, stream=0):
    """:func:`seed_key` with Python ints."""
    return mix64_python((mix64_python((seed & _MASK) ^ M2) + stream * GOLDEN) & _MASK)


def random_rows_python(seed, trials, n_points, *, stream):
    """The row indices of :func:`sgdlab.random_rows` with Python ints: index ``i`` is
    ``(z * n_points) >> 64`` (the exact floor of :math:`n z / 2^{64}`), where ``z`` is the
    first word of trial i's stream, ``mix64(trial_key + GOLDEN)``.

    Parameters
    ----------
    seed : int
    trials, n_points : int
    stream : int
        The stream's number (``sgdlab._rng.Stream.ROWS``, ``2**32 + 4``).

    Returns
    -------
    list of int
    """
    key = seed_key_python(seed, stream)
    out = []
    for i in range(trials):
        trial_key = mix64_python((key + (i + 1) * GOLDEN) & _MASK)
        z = mix64_python((trial_key + GOLDEN) & _MASK)
        out.append((z * n_points) >> 64)
    return out


_PACK_U64 = struct.Struct("<Q").pack
_UNPACK_F64 = struct.Struct("<d").unpack


def _slope_python(kind, params, s):
    if kind == "quadratic":
        return params[0] * s
    if kind == "ripple":
        return params[0] * s + 0.5 * params[1] * params[2] * math.sin(params[2] * s)
    beta, inv_period, growth, wide = params
    u = (math.sqrt(abs(s)) if math.isfinite(s) else math.inf) * inv_period if wide \
        else s * inv_period
    t = u - math.floor(u) if math.isfinite(u) else math.nan
    q = t * (1.0 - t)
    bump = 16.0 * q * q
    bump_slope = 32.0 * t * (1.0 - t) * (1.0 - 2.0 * t)
    amp = beta * abs(s) ** growth
    if wide:  # d u / d s = u / (2 s)
        return 2.0 * s + amp * s * ((2.0 + growth) * bump + 0.5 * u * bump_slope)
    return 2.0 * s + amp * ((2.0 + growth) * s * bump + s * s * bump_slope * inv_period)


def run_sgd_python(landscape, x0, *, lr, noise, steps, seed=0, stream=0, first_trial=0):
    """Reference SGD with plain Python loops (ints masked to 64 bits, ``struct`` bit casts).

    The same update and random stream as :func:`run_sgd_numpy` and :func:`sgdlab.run_sgd`,
    one trial, step and coordinate at a time; for built-in landscapes only.

    Parameters
    ----------
    landscape : Landscape or str
        A built-in landscape (``spiky``, ``quadratic``).
    x0 : array_like, shape (trials, dim)
    lr, noise : float
    steps : int
    seed : int
    stream, first_trial : int
        As in :func:`run_sgd_numpy`.

    Returns
    -------
    ndarray, shape (trials, dim)
        Final iterates.
    """
    land, x = _start(landscape, x0)
    kind, params = _params(land, None)
    trials, dim = x.shape
    key = seed_key_python(seed, stream)
    lr, noise = float(lr), float(noise)
    out = []
    for i in range(trials):
        tk = mix64_python((key + (first_trial + i + 1) * GOLDEN) & _MASK)
        xi = [float(v) for v in x[i]]
        for t in range(steps):
            for j in range(dim):
                z = mix64_python((tk + (t * dim + j + 1) * GOLDEN) & _MASK)
                pm1 = 2.0 * _UNPACK_F64(_PACK_U64((z >> 12) | _ONE_BITS))[0] - 3.0
                s = xi[j]
                xi[j] = s - lr * (_slope_python(kind, params, s) + noise * pm1)
        out.append(xi)
    return np.array(out, dtype=np.float64).reshape(trials, dim)
