"""Numba kernels (private). Their callers are :class:`sgdlab.landscapes.Landscape`, which
picks the separable or the general version, :func:`sgdlab.random_starts` (:func:`uniform_box`)
and :func:`sgdlab.random_rows` (:func:`uniform_rows`); the public functions of
:mod:`sgdlab.sgd`, :mod:`sgdlab.smoothing` and :mod:`sgdlab.theory` validate inputs, allocate
outputs and ask the landscape.

Randomness comes from :mod:`sgdlab._rng` (counter based: independent of thread count and
batching).
"""

import numpy as np
from numba import njit, prange

from ._builtin import apply1, sgd_steps
from ._rng import GOLDEN, stream_key, uniform_index, uniform_pm1

# Numba's disk cache keys each kernel on the contents of this file only, not on the formulas
# of ``_builtin`` that it inlines: bump this after changing a built-in formula.
FORMULA_REVISION = 8  # 2-5: spiky takes a growth exponent; 6: closed-form sums over whole
# cells; 7: spiky takes a width (fixed or widening as sqrt(|x|)); 8: a vectorisable power

# Trials are updated in blocks, step by step, so that independent trials fill the pipeline.
BLOCK = 256


class _Kernel:
    """A parallel kernel compiled twice: cached on disk when its landscape argument is a
    built-in formula id, and per session when it is a user's jitted function (Numba cannot
    cache a function that receives another function)."""

    def __init__(self, py_func):
        self.__doc__ = py_func.__doc__
        self.cached = njit(cache=True, parallel=True)(py_func)
        self.session = njit(parallel=True)(py_func)

    def __call__(self, fn, *args):
        kernel = self.cached if isinstance(fn, (int, np.integer)) else self.session
        return kernel(fn, *args)


def kernel(py_func):
    """Decorator of every parallel kernel below."""
    return _Kernel(py_func)


@kernel
def sgd_separable(grad1, params, x, lr, noise, steps, key, trial_offset, first_step, path):
    """SGD on a separable landscape f(x) = sum_j f1(x_j), in place on ``x`` (trials, dim).

    x_{t+1} = x_t - lr * (grad f(x_t) + w_t), w_t uniform in [-noise, noise]^dim.
    ``path`` is (steps + 1, trials, dim) to record every iterate, or (0, 0, 0) not to.
    The noise is that of steps ``first_step, first_step + 1, ...`` of each trial's stream.
    Coordinates are processed as one flat array so that the inner loop vectorises.
    """
    trials, dim = x.shape
    flat = x.reshape(-1)
    flat_path = path.reshape(path.shape[0], path.shape[1] * path.shape[2])
    n_blocks = (trials + BLOCK - 1) // BLOCK
    for b in prange(n_blocks):
        lo = b * BLOCK * dim
        hi = min(lo + BLOCK * dim, trials * dim)
        lanes = np.empty(hi - lo, dtype=np.uint64)
        for q in range(lo, hi):
            k = stream_key(key, trial_offset + q // dim)
            lanes[q - lo] = k + (np.uint64(q % dim) + np.uint64(1)
                                 + np.uint64(first_step) * np.uint64(dim)) * GOLDEN
        sgd_steps(grad1, params, flat[lo:hi], lanes, np.uint64(dim) * GOLDEN, steps, lr, noise,
                  flat_path[:, lo:hi])


@njit(parallel=True)
def sgd_general(grad, x, lr, noise, steps, key, trial_offset, first_step, path):
    """SGD on a landscape with a vector gradient ``grad(x) -> array``, in place on ``x``.

    Same update and random stream as :func:`sgd_separable`. A trial whose iterate stops
    being finite is frozen there (the caller flags it as diverged).
    """
    trials, dim = x.shape
    record = path.shape[0] > 0
    for i in prange(trials):
        k = stream_key(key, trial_offset + i)
        xi = x[i].copy()
        if record:
            path[0, i] = xi
        for step in range(steps):
            if np.all(np.isfinite(xi)):
                g = grad(xi)
                base = (first_step + step) * dim
                for j in range(dim):
                    xi[j] = xi[j] - lr * (g[j] + noise * uniform_pm1(k, base + j))
            if record:
                path[step + 1, i] = xi
        x[i] = xi


@njit(cache=True, parallel=True)
def uniform_box(key, span, first_counter, out):
    """out[i, j] = span * u, u uniform in [-1, 1): position ``first_counter + j`` of trial i's
    stream of ``key`` (counter based, as the noise of :func:`sgd_separable`)."""
    trials, dim = out.shape
    for i in prange(trials):
        k = stream_key(key, i)
        for j in range(dim):
            out[i, j] = span * uniform_pm1(k, first_counter + j)


@njit(cache=True, parallel=True)
def uniform_rows(key, n, out):
    """out[i] = an integer uniform in [0, n): position 0 of trial i's stream of ``key``
    (:func:`sgdlab._rng.uniform_index`)."""
    for i in prange(out.shape[0]):
        out[i] = uniform_index(stream_key(key, i), 0, n)


@kernel
def grad_rows_separable(grad1, params, x, out):
    """out[i, j] = f1'(x[i, j])."""
    n, dim = x.shape
    for i in prange(n):
        for j in range(dim):
            out[i, j] = apply1(grad1, x[i, j], params)


@kernel
def value_rows_separable(f1, params, x, out):
    """out[i] = sum_j f1(x[i, j])."""
    n, dim = x.shape
    for i in prange(n):
        s = 0.0
        for j in range(dim):
            s += apply1(f1, x[i, j], params)
        out[i] = s


@njit(parallel=True)
def grad_rows_general(grad, x, out):
    """out[i] = grad(x[i])."""
    for i in prange(x.shape[0]):
        out[i] = grad(x[i].copy())


@njit(parallel=True)
def value_rows_general(f, x, out):
    """out[i] = f(x[i])."""
    for i in prange(x.shape[0]):
        out[i] = f(x[i].copy())


@kernel
def smoothed_separable(antiderivative1, f1, params, x, radius, out):
    """Exact box smoothing of a separable landscape, out[i] = E f(x[i] - u), u ~ U[-r, r]^d.

    Per coordinate, E f1(s - u) = (F1(s + r) - F1(s - r)) / (2 r) with F1' = f1.
    """
    n, dim = x.shape
    for i in prange(n):
        s = 0.0
        for j in range(dim):
            if radius == 0.0:
                s += apply1(f1, x[i, j], params)
            else:
                s += (apply1(antiderivative1, x[i, j] + radius, params)
                      - apply1(antiderivative1, x[i, j] - radius, params)) / (2.0 * radius)
        out[i] = s


@njit(cache=True, inline="always")
def _box_sample(x, i, radius, k, s, z):
    """z = x[i] - u for the s-th draw u ~ U[-radius, radius]^d of stream k."""
    dim = z.shape[0]
    for j in range(dim):
        z[j] = x[i, j] - radius * uniform_pm1(k, s * dim + j)


@njit(parallel=True)
def smoothed_mc_general(f, x, radius, samples, key, out_mean, out_sq):
    """Monte Carlo box smoothing: mean and mean square of f(x[i] - u) over ``samples`` draws."""
    n, dim = x.shape
    for i in prange(n):
        k = stream_key(key, i)
        acc = 0.0
        acc2 = 0.0
        z = np.empty(dim)
        for s in range(samples):
            _box_sample(x, i, radius, k, s, z)
            v = f(z)
            acc += v
            acc2 += v * v
        out_mean[i] = acc / samples
        out_sq[i] = acc2 / samples


@kernel
def smoothed_mc_separable(f1, params, x, radius, samples, key, out_mean, out_sq):
    """As :func:`smoothed_mc_general` for f(x) = sum_j f1(x_j) (same draws)."""
    n, dim = x.shape
    for i in prange(n):
        k = stream_key(key, i)
        acc = 0.0
        acc2 = 0.0
        z = np.empty(dim)
        for s in range(samples):
            _box_sample(x, i, radius, k, s, z)
            v = 0.0
            for j in range(dim):
                v += apply1(f1, z[j], params)
            acc += v
            acc2 += v * v
        out_mean[i] = acc / samples
        out_sq[i] = acc2 / samples


# -- kernels of sgdlab.theory ----------------------------------------------------------------
@kernel
def smoothed_grad_separable(f1, grad1, params, y, radius, out):
    """Exact gradient of the box smoothing of f(x) = sum_j f1(x_j) at the rows of ``y``:
    d/dy_j E f1(y_j - u) = (f1(y_j + r) - f1(y_j - r)) / (2 r), and f1'(y_j) when r = 0."""
    n, dim = y.shape
    for i in prange(n):
        for j in range(dim):
            if radius == 0.0:
                out[i, j] = apply1(grad1, y[i, j], params)
            else:
                out[i, j] = (apply1(f1, y[i, j] + radius, params)
                             - apply1(f1, y[i, j] - radius, params)) / (2.0 * radius)


@kernel
def projected_grad_mc_separable(grad1, params, y, v, radius, samples, key, out_mean, out_sq):
    """Monte Carlo of s = <-grad f(y[i] - u), v[i]>, u ~ U[-radius, radius]^d: the mean and
    mean square of s over ``samples`` draws (draws as in :func:`smoothed_mc_general`)."""
    n, dim = y.shape
    for i in prange(n):
        k = stream_key(key, i)
        acc = 0.0
        acc2 = 0.0
        z = np.empty(dim)
        for s in range(samples):
            _box_sample(y, i, radius, k, s, z)
            p = 0.0
            for j in range(dim):
                p -= apply1(grad1, z[j], params) * v[i, j]
            acc += p
            acc2 += p * p
        out_mean[i] = acc / samples
        out_sq[i] = acc2 / samples


@njit(parallel=True)
def projected_grad_mc_general(grad, y, v, radius, samples, key, out_mean, out_sq):
    """As :func:`projected_grad_mc_separable` for a vector ``grad(x)``."""
    n, dim = y.shape
    for i in prange(n):
        k = stream_key(key, i)
        acc = 0.0
        acc2 = 0.0
        z = np.empty(dim)
        for s in range(samples):
            _box_sample(y, i, radius, k, s, z)
            p = -np.dot(grad(z), v[i])
            acc += p
            acc2 += p * p
        out_mean[i] = acc / samples
        out_sq[i] = acc2 / samples


@kernel
def one_step_mc_separable(grad1, params, y, x_star, lr, radius, samples, key, out_mean, out_sq):
    """Monte Carlo of q = ||z - lr grad f(z) - x*||^2 with z = y[i] - u, u ~ U[-radius, radius]^d
    (one step of the y_t chain, eq. 1, with radius = lr * noise): mean and mean square of q."""
    n, dim = y.shape
    for i in prange(n):
        k = stream_key(key, i)
        acc = 0.0
        acc2 = 0.0
        z = np.empty(dim)
        for s in range(samples):
            _box_sample(y, i, radius, k, s, z)
            q = 0.0
            for j in range(dim):
                e = z[j] - lr * apply1(grad1, z[j], params) - x_star[j]
                q += e * e
            acc += q
            acc2 += q * q
        out_mean[i] = acc / samples
        out_sq[i] = acc2 / samples


@njit(parallel=True)
def one_step_mc_general(grad, y, x_star, lr, radius, samples, key, out_mean, out_sq):
    """As :func:`one_step_mc_separable` for a vector ``grad(x)``."""
    n, dim = y.shape
    for i in prange(n):
        k = stream_key(key, i)
        acc = 0.0
        acc2 = 0.0
        z = np.empty(dim)
        for s in range(samples):
            _box_sample(y, i, radius, k, s, z)
            e = z - lr * grad(z) - x_star
            q = np.dot(e, e)
            acc += q
            acc2 += q * q
        out_mean[i] = acc / samples
        out_sq[i] = acc2 / samples
