"""Counter-based random numbers: splitmix64 of (key, trial, counter).

The uniform number used for coordinate ``j`` of trial ``i`` at step ``t`` is a pure function
of ``(key, i, t * dim + j)``, so results do not depend on the number of threads nor on how
the trials are split into batches (DESIGN.md, "Known traps").
"""

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
def uniform_pm1(trial_key, counter):
    """Uniform number in [-1, 1) for position ``counter`` of a trial's stream:
    ``pm1_from_bits(mix64(trial_key + (counter + 1) * GOLDEN))``."""
    return pm1_from_bits(mix64(np.uint64(trial_key) + (np.uint64(counter) + np.uint64(1)) * GOLDEN))


@njit(cache=True, inline="always")
def uniform_pm1_lane(lane, step_offset):
    """:func:`uniform_pm1` with the counter split as ``lane = trial_key + (coord + 1) * GOLDEN``
    and ``step_offset = step * dim * GOLDEN`` (the same number, one multiply fewer)."""
    return pm1_from_bits(mix64(lane + step_offset))


@njit(cache=True)
def seed_key(seed, stream):
    """64-bit key of (seed, stream); ``stream`` separates e.g. the stages of a schedule."""
    return mix64(mix64(np.uint64(seed) ^ _M2) + np.uint64(stream) * GOLDEN)
