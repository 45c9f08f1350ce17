"""Counter-based random numbers: splitmix64 of (key, trial, counter).

The uniform number used for coordinate ``j`` of trial ``i`` at step ``t`` is a pure function
of ``(key, i, t * dim + j)``, so results do not depend on the number of threads nor on how
the trials are split into batches (DESIGN.md, "Known traps").

Every use of randomness has its own stream, named in :class:`Stream`: the key of a run is
``seed_key(seed, stream)``, so two uses with the same seed never share draws.
"""

from enum import IntEnum

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S12 = np.uint64(12)
_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)
_ONE_BITS = np.uint64(0x3FF0000000000000)  # bit pattern of 1.0


@njit(cache=True, inline="always")
def mix64(z):
    """splitmix64 finaliser: a bijective avalanche of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def stream_key(key, trial):
    """Key of one trial's random stream."""
    return mix64(np.uint64(key) + (np.uint64(trial) + np.uint64(1)) * GOLDEN)


@intrinsic
def _as_float64(typingctx, bits):
    """Reinterpret the bits of a uint64 as a float64 (vectorises, unlike a conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.uint64), codegen


@njit(cache=True, inline="always")
def pm1_from_bits(z):
    """Uniform number in [-1, 1) from the top 52 bits of ``z`` (exact: a multiple of 2**-51)."""
    return 2.0 * _as_float64((z >> _S12) | _ONE_BITS) - 3.0


@njit(cache=True, inline="always")
def index_from_bits(z, n):
    """Integer in [0, n) from the 64 bits of ``z``: :math:`\\lfloor n z / 2^{64}\\rfloor`
    exactly, for 1 <= n < 2**32 (two 32 x 32-bit products, each exact in a uint64; the top
    half ``(z >> 32) * n + ((z & (2**32 - 1)) * n >> 32)`` stays below 2**64)."""
    n = np.uint64(n)
    return ((z >> _S32) * n + (((z & _LOW32) * n) >> _S32)) >> _S32


@njit(cache=True, inline="always")
def stream_bits(trial_key, counter):
    """The 64 bits at position ``counter`` of a trial's stream:
    ``mix64(trial_key + (counter + 1) * GOLDEN)``."""
    return mix64(np.uint64(trial_key) + (np.uint64(counter) + np.uint64(1)) * GOLDEN)


@njit(cache=True, inline="always")
def uniform_pm1(trial_key, counter):
    """Uniform number in [-1, 1) for position ``counter`` of a trial's stream:
    ``pm1_from_bits(stream_bits(trial_key, counter))``."""
    return pm1_from_bits(stream_bits(trial_key, counter))


@njit(cache=True, inline="always")
def uniform_index(trial_key, counter, n):
    """Integer uniform in [0, n) (1 <= n < 2**32) for position ``counter`` of a trial's
    stream: ``index_from_bits(stream_bits(trial_key, counter), n)``."""
    return index_from_bits(stream_bits(trial_key, counter), n)


@njit(cache=True, inline="always")
def uniform_pm1_lane(lane, step_offset):
    """:func:`uniform_pm1` with the counter split as ``lane = trial_key + (coord + 1) * GOLDEN``
    and ``step_offset = step * dim * GOLDEN`` (the same number, one multiply fewer)."""
    return pm1_from_bits(mix64(lane + step_offset))


@njit(cache=True)
def seed_key(seed, stream):
    """64-bit key of (seed, stream); ``stream`` separates e.g. the stages of a schedule."""
    return mix64(mix64(np.uint64(seed) ^ _M2) + np.uint64(stream) * GOLDEN)


STAGES = 2**32
"""Schedule stages are numbered 0 .. STAGES - 1; stage k uses the stream ``Stream.SGD + k``."""


class Stream(IntEnum):
    """The named random streams (the ``stream`` of :func:`seed_key`).

    ``SGD`` (0) is :func:`sgdlab.run_sgd` and stage 0 of :func:`sgdlab.run_schedule`; stage k
    uses ``SGD + k`` (:func:`stage_stream`), for k < :data:`STAGES`. The Monte Carlo streams lie
    above that range, so they never share draws with a schedule stage.
    """

    SGD = 0
    CONVOLVE = STAGES
    """Monte Carlo box smoothing, :func:`sgdlab.convolve` with ``samples``."""
    PROJECTED_GRADIENT = STAGES + 1
    """Monte Carlo smoothed gradient of :func:`sgdlab.theory.one_point_convexity`."""
    ONE_STEP = STAGES + 2
    """Monte Carlo step of the y_t chain, :func:`sgdlab.theory.one_step`."""
    STARTS = STAGES + 3
    """Random starting points, :func:`sgdlab.random_starts` (stage k: positions k * dim ...)."""
    ROWS = STAGES + 4
    """Random rows of a set of points, :func:`sgdlab.random_rows` (trial i: position 0)."""
    BALL = STAGES + 5
    """Random points of a ball, :func:`sgdlab.theory.ball` (point i: trial i's stream)."""


def stage_stream(k):
    """Stream of stage ``k`` of a schedule: ``Stream.SGD + k`` (0 <= k < STAGES)."""
    if not 0 <= k < STAGES:
        raise ValueError(f"stage must be an integer >= 0 and < {STAGES}, got {k!r}")
    return int(Stream.SGD) + int(k)


def make_key(seed, stream):
    """The 64-bit key (``numpy.uint64``) of a validated seed and a :class:`Stream` (or
    :func:`stage_stream`)."""
    return np.uint64(seed_key(int(seed), int(stream)))
