"""Checks of the arguments that only :mod:`sgdlab.viz` takes (trial counts, quantiles, slider
ranges); everything else is checked where it enters sgdlab's core.

Same signatures and messages as the core's checks: ``check(name, value, ...)`` returns the
value converted and raises ``TypeError`` for a value of the wrong kind, ``ValueError`` for one
out of range, with the message ``"NAME must be EXPECTED, got VALUE"``.
"""

import math
from numbers import Integral, Real

__all__ = ["integer", "real"]


def _expected(kind, low, above, below):
    bounds = ([f"> {above:g}"] if above is not None else []) + (
        [f">= {low:g}"] if low is not None else []) + (
        [f"< {below:g}"] if below is not None else [])
    return kind + (" " + " and ".join(bounds) if bounds else "")


def integer(name, value, *, low=None):
    """An integer (not a bool) ``>= low``, as ``int``.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : object
    low : int, optional

    Returns
    -------
    int
    """
    expected = _expected("an integer", low, None, None)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def real(name, value, *, low=None, above=None, below=None):
    """A finite real number within the bounds (``low`` inclusive, ``above``/``below``
    strict), as ``float``.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : object
    low, above, below : float, optional

    Returns
    -------
    float
    """
    expected = _expected("a finite number", low, above, below)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and (low is None or value >= low)
            and (above is None or value > above) and (below is None or value < below)):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value
