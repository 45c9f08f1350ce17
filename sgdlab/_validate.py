"""The only argument checks of sgdlab (core and :mod:`sgdlab.nn` alike).

Every check has the signature ``check(name, value, ...)``, returns the value converted
(``float``, ``int``, a C-contiguous float64 array ...) and raises ``TypeError`` for a value of
the wrong kind and ``ValueError`` for one out of range, always with the message
``"NAME must be EXPECTED, got VALUE"``. Each public argument is checked once, where it enters
the package. Numpy only: importing this module imports neither numba nor torch.
"""

import math
import os
from numbers import Integral, Real

import numpy as np

__all__ = ["fail", "real", "integer", "count", "seed", "choice", "flag", "path", "finite",
           "points", "SEED_LIMIT", "COUNT_LIMIT"]

SEED_LIMIT = 2**63
"""Seeds are integers in [0, 2**63): they are mixed into 64-bit keys (``sgdlab._rng``)."""
COUNT_LIMIT = 2**62
"""Counts the Numba kernels loop over (SGD steps, Monte Carlo samples) are below 2**62: the
kernels count in 64-bit integers, and a step's counter ``first_step + t`` (each below 2**62)
must not overflow either."""


def fail(name, expected, value=None, error=ValueError, *, shown=None):
    """Raise ``error("NAME must be EXPECTED, got VALUE")``; ``shown`` replaces ``repr(value)``
    (e.g. ``"shape (3, 2)"``)."""
    raise error(f"{name} must be {expected}, got {repr(value) if shown is None else shown}")


def _bounds(low, high, above, below):
    parts = []
    if above is not None:
        parts.append(f"> {above:g}")
    elif low is not None:
        parts.append(f">= {low:g}")
    if below is not None:
        parts.append(f"< {below:g}")
    elif high is not None:
        parts.append(f"<= {high:g}")
    return " and ".join(parts)


def _in_range(value, low, high, above, below):
    return not ((low is not None and value < low) or (high is not None and value > high)
                or (above is not None and value <= above)
                or (below is not None and value >= below))


def real(name, value, *, low=None, high=None, above=None, below=None, allow_none=False):
    """A finite real number within the bounds (``low``/``high`` inclusive, ``above``/``below``
    strict), as ``float``; None passes through when ``allow_none``."""
    if allow_none and value is None:
        return None
    none = " or None" if allow_none else ""
    bounds = _bounds(low, high, above, below)
    expected = "a finite number" + (f" {bounds}" if bounds else "") + none
    if isinstance(value, bool) or not isinstance(value, Real):
        fail(name, expected, value, TypeError)
    value = float(value)
    if not math.isfinite(value) or not _in_range(value, low, high, above, below):
        fail(name, expected, value)
    return value


def integer(name, value, *, low=None, high=None, below=None, allow_none=False):
    """An integer (not a bool) within the bounds, as ``int``; None passes with ``allow_none``."""
    if allow_none and value is None:
        return None
    none = " or None" if allow_none else ""
    bounds = _bounds(low, high, None, below)
    expected = "an integer" + (f" {bounds}" if bounds else "") + none
    if isinstance(value, bool) or not isinstance(value, Integral):
        fail(name, expected, value, TypeError)
    value = int(value)
    if not _in_range(value, low, high, None, below):
        fail(name, expected, value)
    return value


def count(name, value, *, low=0, allow_none=False):
    """A count of the kernels' loops (steps, samples): an integer >= ``low`` and below
    :data:`COUNT_LIMIT`, as ``int``; None passes with ``allow_none``.

    A value below ``low`` (or of the wrong kind) gets the message of :func:`integer` with
    ``low``; one at or above the limit gets a message that names the limit.
    """
    value = integer(name, value, low=low, allow_none=allow_none)
    if value is not None and value >= COUNT_LIMIT:
        fail(name, f"an integer < 2**62 = {COUNT_LIMIT} (the kernels count in 64-bit integers)",
             value)
    return value


def seed(name, value):
    """A seed: an integer in [0, 2**63)."""
    return integer(name, value, low=0, below=SEED_LIMIT)


def choice(name, value, options):
    """One of ``options`` (compared with ``==``)."""
    if isinstance(value, (list, dict, set)) or value not in tuple(options):
        fail(name, f"one of {tuple(options)}", value)
    return value


def flag(name, value):
    """A bool (numpy bools included)."""
    if not isinstance(value, (bool, np.bool_)):
        fail(name, "True or False", value, TypeError)
    return bool(value)


def path(name, value, *, allow_none=False):
    """A path (``str`` or ``os.PathLike``); None passes with ``allow_none``."""
    if allow_none and value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        fail(name, "a path" + (" or None" if allow_none else ""), value, TypeError)
    return value


def points(name, value, dim, *, copy=True):
    """Points of a ``dim``-dimensional space as a C-contiguous float64 array of shape
    (n, dim), n >= 1, all finite. Shape (n,) is accepted when ``dim`` is 1."""
    try:
        pts = np.array(value, dtype=np.float64, copy=copy)
    except (TypeError, ValueError):
        fail(name, "an array of numbers", error=TypeError, shown=type(value).__name__)
    if dim == 1 and pts.ndim == 1:
        pts = pts[:, None]
    if pts.ndim != 2 or pts.shape[1] != dim:
        fail(name, f"of shape (n, {dim}) for this {dim}-dimensional landscape",
             shown=f"shape {pts.shape}")
    if pts.shape[0] == 0:
        fail(name, "at least one point", shown="an empty array")
    return np.ascontiguousarray(finite(name, pts))


def finite(name, array):
    """``array`` (a NumPy array) unchanged if all its values are finite; otherwise
    ``ValueError("NAME must be finite, got K non-finite value(s)")``."""
    if not np.all(np.isfinite(array)):
        fail(name, "finite", shown=f"{int(np.count_nonzero(~np.isfinite(array)))} non-finite "
             "value(s)")
    return array
