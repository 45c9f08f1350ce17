"""Convolution of a landscape with the noise kernel: the paper's g_t (Section 1).

With noise uniform in the box :math:`[-W, W]^d` and step size :math:`\\eta`,

.. math:: g(y) = E_\\omega f(y - \\eta\\omega) = E_u f(y - u), \\qquad u \\sim U[-r, r]^d,
          \\quad r = \\eta W.
"""

import numpy as np

from . import _kernels
from .landscapes import _check_radius
from .sgd import _as_landscape, _check_int

__all__ = ["convolve"]


def convolve(landscape, xs, radius, samples=None, seed=0, *, return_error=False):
    """f convolved with the uniform box of half-width ``radius``, at the points ``xs``.

    Parameters
    ----------
    landscape : Landscape or str
    xs : array_like
        Points, shape (..., dim) (any shape when dim is 1).
    radius : float
        Half-width r >= 0 of the box; for SGD, ``lr * noise``.
    samples : int or None
        None: the exact closed form (the landscape must have one). An integer: a Monte Carlo
        average over that many draws per point; its error shrinks like 1/sqrt(samples).
    seed : int
        Seed of the Monte Carlo draws (counter based, as in :func:`sgdlab.run_sgd`).
    return_error : bool
        Also return the standard error of each value (zeros when exact).

    Returns
    -------
    ndarray, or (values, stderr) with ``return_error``.
    """
    land = _as_landscape(landscape)
    radius = _check_radius(radius)
    if samples is None:
        values = land.smoothed(xs, radius)
        return (values, np.zeros_like(values)) if return_error else values
    samples = _check_int(samples, "samples")
    if samples < 1:
        raise ValueError(f"samples must be >= 1 (or None for the exact form), got {samples}")
    seed = _check_int(seed, "seed", upper=2**63)
    pts, shape = land._points(xs, "xs")
    mean = np.empty(pts.shape[0])
    mean_sq = np.empty(pts.shape[0])
    key = np.uint64(_kernels.seed_key(seed, 1))
    if land.is_separable:
        _kernels.smoothed_mc_separable(land._f1, land.params, pts, radius, samples, key,
                                       mean, mean_sq)
    else:
        _kernels.smoothed_mc_general(land._f, pts, radius, samples, key, mean, mean_sq)
    values = mean.reshape(shape)[()]
    if not return_error:
        return values
    var = np.maximum(mean_sq - mean * mean, 0.0) * samples / max(samples - 1, 1)
    return values, np.sqrt(var / samples).reshape(shape)[()]
