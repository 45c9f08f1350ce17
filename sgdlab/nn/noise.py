"""The real mini-batch noise of a network against the paper's model, and the paper's smoothed
loss g measured with it.

Kleinberg, Li and Yuan (ICML 2018), Section 3, write an SGD step as a gradient step plus noise,

.. math::

    x_{t+1} = x_t - \\eta\\,\\big(\\nabla f(x_t) + w_t\\big), \\qquad \\mathbb{E}\\,w_t = 0,

and follow the points :math:`y_t = x_t - \\eta \\nabla f(x_t)` (:func:`paper_point`), which
move by eq. (1),

.. math::

    y_{t+1} = y_t - \\eta w_t - \\eta \\nabla f(y_t - \\eta w_t),

gradient descent in expectation on the smoothed loss
:math:`g(y) = \\mathbb{E}_w f(y - \\eta w)`. Assumption 1, eq. (2), asks g to be one point
convex towards :math:`x^*`:

.. math::

    \\langle -\\nabla \\mathbb{E}_w f(y - \\eta w),\\; x^* - y \\rangle \\ge c\\, \\|x^* - y\\|^2 .

The theory takes w bounded, :math:`\\|w\\| \\le r` (the book's landscapes: uniform in the cube
:math:`[-W, W]^d`, :math:`r = W \\sqrt{d}`; Section 5.2: uniform in a ball of radius 0.5 in
step space). This module measures the noise SGD really has on a network,

.. math::

    w_s = \\nabla f_{B_s}(\\theta) - \\nabla f(\\theta)

(:func:`minibatch_noise`), compares its size, tail and shape with the model
(:func:`noise_stats`, :func:`alignment`, :func:`model_radius`, :func:`effective_radius`), and
evaluates the inner product of eq. (2) with g smoothed by either noise
(:func:`smoothed_inner`, with :func:`ball_shifts` for the model's noise).

Conventions are those of :mod:`sgdlab.nn.probe`: ``model`` is a functional template,
parameters are flat vectors of length ``P``, the model runs in ``eval()`` mode (BatchNorm with
``track_running_stats=False`` normalises by the batch it is given, as in training), TF32 is
off on CUDA, and ``batch_size`` / ``probe_batch`` is the probe chunk that defines f. Every
function that differentiates takes ``loss``: None is :func:`sgdlab.nn.nets.functional_loss`
(mean cross-entropy, integer labels ``y``); a callable ``loss(params, xb, yb)`` returns the mean
loss of the batch ``(xb, yb)`` as a scalar tensor (any ``y`` with one row per row of ``x``;
floating ``y`` takes ``theta``'s dtype), for instance least squares for closed-form checks.

Ours, not the paper's: with BatchNorm's batch statistics :math:`\\mathbb{E}\\,w \\ne 0`
(:func:`sgdlab.nn.probe.batchnorm_bias`; :attr:`NoiseStats.mean_norm` shows it), and the
principal directions of ``n`` samples span at most ``n - 1`` dimensions, so for
``n << P`` even isotropic noise puts about ``j / (n - 1)`` of its sample variance in its top
``j`` sample directions, not ``j / P``: compare :attr:`NoiseStats.top_share` with
:attr:`NoiseStats.isotropic_sample_share`; :func:`alignment` against fixed directions has no
such bias.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch.func import grad, vmap

from .. import _validate as validate
from . import checks, nets, probe

__all__ = ["minibatch_noise", "NoiseStats", "noise_stats", "principal_directions",
           "alignment", "model_radius", "effective_radius", "SmoothedInner",
           "smoothed_inner", "ball_shifts", "paper_point", "least_squares_covariance",
           "least_squares_check", "QUANTILES", "ISOTROPIC_DRAWS"]

QUANTILES = (0.5, 0.9, 0.99)
"""The quantiles of :math:`\\|w\\|` in :attr:`NoiseStats.quantiles` (with the maximum)."""

ISOTROPIC_DRAWS = 32
"""Monte Carlo draws behind :attr:`NoiseStats.isotropic_sample_share` (seeded, so fixed) for
up to 64 samples; ``max(2, 2048 // n)`` for ``n`` above, where the shares concentrate and
each draw costs :math:`O(n^3)`."""


# --------------------------------------------------------------------------- shared helpers

def _loss(model, loss, like):
    """The loss function: ``nets.functional_loss`` for None, else the callable given."""
    if loss is None:
        return nets.functional_loss(model, like)
    if not callable(loss):
        validate.fail("loss", "None or a callable loss(params, xb, yb)", error=TypeError,
                      shown=type(loss).__name__)
    return loss


def _data(x, y, like, loss):
    """``checks.data`` for the cross-entropy; for a given loss any ``y`` with N rows."""
    if loss is None:
        return checks.data(x, y, like)
    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, torch.Tensor):
            validate.fail(name, "a torch.Tensor", error=TypeError, shown=type(value).__name__)
    if x.ndim < 1 or x.shape[0] == 0:
        validate.fail("x", "a non-empty batch of inputs (N >= 1 along dim 0)",
                      shown=f"shape {tuple(x.shape)}")
    if y.ndim < 1 or y.shape[0] != x.shape[0]:
        validate.fail("y", f"a tensor of N = {x.shape[0]} rows (one per row of x)",
                      shown=f"shape {tuple(y.shape)}")
    x, y = x.detach().to(like.device), y.detach().to(like.device)
    return (x.to(like.dtype) if x.is_floating_point() else x,
            y.to(like.dtype) if y.is_floating_point() else y)


def _setup(model, theta, x, y, loss, name="theta"):
    """Checked ``(theta, x, y, loss function)`` of a model, in that order of checks."""
    length = checks.model("model", model)
    theta = checks.vector(name, theta, length)
    func = _loss(model, loss, theta)
    x, y = _data(x, y, theta, loss)
    return theta, x, y, func


def _vectorize(vectorize):
    """None: ``vmap`` (the faster path of both functions on every device we measured)."""
    return True if vectorize is None else validate.flag("vectorize", vectorize)


def _width(chunk, vectorize, model, theta, x, points, batch_size):
    """Points per ``vmap`` call: ``chunk``, else :func:`sgdlab.nn.probe.vmap_width`."""
    if chunk is not None:
        return validate.integer("chunk", chunk, low=1)
    if not vectorize:
        return points
    return probe.vmap_width(model, theta, x, points=points, batch_size=batch_size)


def _map(func, vectorize, width, *columns):
    """``func`` over the rows of ``columns`` (``vmap`` ``width`` rows at a time, or a loop)."""
    if not vectorize:
        return torch.stack([func(*row) for row in zip(*columns)])
    mapped = vmap(func)
    return torch.cat([mapped(*(c[i:i + width] for c in columns))
                      for i in range(0, columns[0].shape[0], width)])


# --------------------------------------------------------------------------- the real noise

def minibatch_noise(model, theta, x, y, *, batch_size, batches, seed=0, probe_batch=None,
                    loss=None, vectorize=None, chunk=None):
    """Samples of the real SGD noise at ``theta``: mini-batch gradients less the full gradient,

    .. math::

        w_s = \\nabla f_{B_s}(\\theta) - \\nabla f(\\theta), \\qquad s = 1, \\dots, S,

    the :math:`w_t` of the paper's step :math:`x_{t+1} = x_t - \\eta(\\nabla f(x_t) + w_t)`.
    :math:`B_s` is the first ``batch_size`` indices of a ``torch.randperm(N)`` drawn from
    ``torch.Generator().manual_seed(seed)``, one permutation per batch, all drawn before any
    mapping: ``batch_size`` distinct samples, the marginal law of a batch of SGD's epoch
    permutation (the draws of :func:`sgdlab.nn.probe.minibatch_grad_norms` for the same
    seed). :math:`f_{B_s}` is the batch's loss in one pass, in eval mode: BatchNorm uses the
    batch's statistics, as in training. :math:`\\nabla f` is the gradient of
    :func:`sgdlab.nn.probe.full_batch_grad` with ``batch_size=probe_batch``
    (:func:`sgdlab.nn.probe.full_gradient_function`, which takes ``loss``).

    Parameters
    ----------
    model : torch.nn.Module
    theta : torch.Tensor
        Shape ``(P,)``.
    x, y : torch.Tensor
        The training data, ``N`` rows.
    batch_size : int
        SGD's batch, ``1 <= batch_size <= N``.
    batches : int
        Samples ``S``, >= 2.
    seed : int
        Seeds the batches (same seed, same noise).
    probe_batch : int or None
        The probe chunk of f (None: one pass over all ``N``).
    loss : callable or None
        ``loss(params, xb, yb)``; None: :func:`sgdlab.nn.nets.functional_loss` (see the module).
    vectorize : bool or None
        ``vmap`` over batches (True) or a Python loop (False), same numbers to rounding; None:
        ``vmap`` on every device, the faster path here (unlike the probes' full-batch
        gradients, :func:`sgdlab.nn.probe.prefers_vmap`). ``python -m sgdlab.bench probe``
        (``noise_paths``) on the 2-core CPU, the book's ResNet, batch 64, 64 batches, one
        thread, median of 5 alternated rounds: ``vmap`` 1.52x faster than the loop on 256
        digits (range 1.28-1.73), 1.70x on all 1,437 (1.67-1.78).
    chunk : int or None
        Batches per ``vmap`` call; None: :func:`sgdlab.nn.probe.vmap_width`.

    Returns
    -------
    torch.Tensor
        Shape ``(batches, P)``, ``theta``'s dtype and device, detached.
    """
    theta, x, y, func = _setup(model, theta, x, y, loss)
    n = x.shape[0]
    batch_size = validate.integer("batch_size", batch_size, low=1, high=n)
    batches = validate.integer("batches", batches, low=2)
    seed = validate.seed("seed", seed)
    probe_batch = validate.integer("probe_batch", probe_batch, low=1, allow_none=True)
    vectorize = _vectorize(vectorize)
    width = _width(chunk, vectorize, model, theta, x, batches, batch_size)
    index = probe.random_batches(n, batch_size, batches, seed).to(x.device)
    with probe.evaluating(model, theta.device):
        full = probe.full_gradient_function(func, x, y, probe_batch)(theta).detach()
        stochastic = _minibatch_grads(grad(func), theta, x, y, index, vectorize, width)
    return stochastic.detach() - full


def _minibatch_grads(grad_loss, theta, x, y, index, vectorize, width):
    """(batches, P): the gradient of each batch's loss in one pass (gathered per chunk)."""
    if not vectorize:
        return torch.stack([grad_loss(theta, x[i], y[i]) for i in index])
    mapped = vmap(lambda xb, yb: grad_loss(theta, xb, yb))
    return torch.cat([mapped(x[index[s:s + width]], y[index[s:s + width]])
                      for s in range(0, index.shape[0], width)])


# --------------------------------------------------------------------------- its statistics

def _samples(samples):
    """Noise samples as a finite float64 array (n, P), n >= 2."""
    if isinstance(samples, torch.Tensor):
        samples = samples.detach().cpu().double().numpy()
    try:
        arr = np.asarray(samples, dtype=np.float64)
    except (TypeError, ValueError):
        validate.fail("samples", "an array (n, P) of noise samples", error=TypeError,
                      shown=type(samples).__name__)
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        validate.fail("samples", "of shape (n, P) with n >= 2 samples and P >= 1",
                      shown=f"shape {arr.shape}")
    return validate.finite("samples", arr)


def _svd(arr):
    """Singular values and right singular vectors (rows) of the centred samples."""
    centred = arr - arr.mean(axis=0)
    _, values, rows = np.linalg.svd(centred, full_matrices=False)
    return values, rows


def principal_directions(samples, k):
    """The top ``k`` principal directions of the noise samples and their variances.

    From the thin SVD of the centred samples :math:`X_c = U \\Sigma V^T` (``(n, P)``, cost
    :math:`O(n^2 P)` for :math:`n \\le P`, never a :math:`P \\times P` matrix): the columns of
    :math:`V` and :math:`\\sigma_j^2 / (n - 1)`, the eigenvalues of the sample covariance.

    Parameters
    ----------
    samples : torch.Tensor or array_like
        Shape ``(n, P)``, ``n >= 2`` (e.g. :func:`minibatch_noise`).
    k : int
        >= 1; at most ``min(n, P)`` are returned.

    Returns
    -------
    directions : numpy.ndarray
        Shape ``(P, k)``, orthonormal columns, largest variance first.
    variances : numpy.ndarray
        Shape ``(k,)``.
    """
    arr = _samples(samples)
    k = validate.integer("k", k, low=1)
    values, rows = _svd(arr)
    k = min(k, values.size)
    return rows[:k].T.copy(), values[:k] ** 2 / (arr.shape[0] - 1)


def _isotropic_sample_share(n, dim, k, seed=0):
    """Mean top-``k`` variance share of ``n`` isotropic Gaussian samples in ``dim``
    dimensions (centred): the nonzero eigenvalues of the centred Gram matrix are those of a
    Wishart matrix of size ``n - 1`` with ``dim`` degrees of freedom (Bartlett's
    decomposition when ``dim >= n - 1``), so a draw costs :math:`O(n^3)` whatever ``dim``."""
    rng = np.random.default_rng(seed)
    m = n - 1
    shares = np.zeros(k)
    draws = max(2, min(ISOTROPIC_DRAWS, 2048 // n))
    for _ in range(draws):
        if dim >= m:
            lower = np.tril(rng.standard_normal((m, m)), -1)
            lower[np.diag_indices(m)] = np.sqrt(rng.chisquare(dim - np.arange(m)))
            eig = np.linalg.eigvalsh(lower @ lower.T)[::-1]
        else:
            eig = np.linalg.svd(rng.standard_normal((m, dim)), compute_uv=False) ** 2
        eig = np.concatenate([eig, np.zeros(max(0, k - eig.size))])
        shares += np.cumsum(eig)[:k] / eig.sum()
    return shares / draws


@dataclass
class NoiseStats:
    """Size, tail and shape of noise samples at one point (:func:`noise_stats`).

    Attributes
    ----------
    batches, parameters : int
        ``n`` samples of dimension ``P``.
    norms : numpy.ndarray
        Shape ``(n,)``: :math:`\\|w_s\\|`.
    mean_square, mean_square_se : float
        :math:`\\overline{\\|w\\|^2}` (uncentred, the :math:`\\mathbb{E}\\|w\\|^2` of the paper's
        model) and its standard error, ``std(ddof=1) / sqrt(n)`` of :math:`\\|w_s\\|^2`.
    mean_norm : float
        :math:`\\|\\bar w\\|`, the norm of the sample mean: about
        :math:`\\sqrt{\\operatorname{tr} C / n}` for zero-mean noise, more where
        :math:`\\mathbb{E} w \\ne 0` (BatchNorm's bias).
    quantiles : dict
        ``{"0.5", "0.9", "0.99", "max"}`` of :math:`\\|w\\|` (numpy's linear quantiles).
    tail_ratio : float
        ``quantiles["0.99"] / quantiles["0.5"]``: about 1 for the paper's bounded,
        concentrated noise (uniform in a cube or ball in high dimension), large for a heavy
        tail (inf if the median is 0).
    top_share : numpy.ndarray
        Shape ``(k,)``: the share of the total sample variance (the trace of the sample
        covariance) in the top ``1 .. k`` principal directions of the samples.
    isotropic_share : numpy.ndarray
        Shape ``(k,)``: the same share for isotropic noise, :math:`j / P` (the paper's model).
    isotropic_sample_share : numpy.ndarray
        Shape ``(k,)``: the mean ``top_share`` of ``n`` isotropic Gaussian samples measured
        the same way (seeded Monte Carlo, :data:`ISOTROPIC_DRAWS` draws): about
        :math:`j / (n - 1)` for ``n << P`` (the top ones above it by about
        :math:`2 \\sqrt{n / P}`, relatively), since ``n`` samples span ``n - 1`` directions.
        ``top_share`` above it means anisotropic noise.
    """

    batches: int
    parameters: int
    norms: np.ndarray = field(repr=False)
    mean_square: float
    mean_square_se: float
    mean_norm: float
    quantiles: dict
    tail_ratio: float
    top_share: np.ndarray
    isotropic_share: np.ndarray
    isotropic_sample_share: np.ndarray

    def to_dict(self):
        """JSON-ready copy (arrays as lists of floats)."""
        return {key: value.tolist() if isinstance(value, np.ndarray) else value
                for key, value in asdict(self).items()}


def noise_stats(samples, *, k=10):
    """Summarise noise samples against the paper's bounded, isotropic-looking model.

    Parameters
    ----------
    samples : torch.Tensor or array_like
        Shape ``(n, P)``, ``n >= 2`` (e.g. :func:`minibatch_noise`).
    k : int
        Principal directions, >= 1 (at most ``min(n, P)`` are kept).

    Returns
    -------
    NoiseStats
    """
    arr = _samples(samples)
    k = validate.integer("k", k, low=1)
    n, dim = arr.shape
    norms = np.linalg.norm(arr, axis=1)
    squares = norms ** 2
    values, _ = _svd(arr)
    k = min(k, values.size)
    power = values ** 2
    top = np.cumsum(power)[:k] / power.sum() if power.sum() > 0 else np.zeros(k)
    quantiles = {f"{q:g}": float(v) for q, v in zip(QUANTILES, np.quantile(norms, QUANTILES))}
    quantiles["max"] = float(norms.max())
    median = quantiles["0.5"]
    return NoiseStats(
        batches=n, parameters=dim, norms=norms, mean_square=float(squares.mean()),
        mean_square_se=float(squares.std(ddof=1) / math.sqrt(n)),
        mean_norm=float(np.linalg.norm(arr.mean(axis=0))), quantiles=quantiles,
        tail_ratio=quantiles["0.99"] / median if median > 0 else math.inf,
        top_share=top, isotropic_share=np.arange(1, k + 1) / dim,
        isotropic_sample_share=_isotropic_sample_share(n, dim, k))


def alignment(samples, directions):
    """Share of the noise's mean square in the span of given directions,

    .. math::

        a_j = \\frac{\\overline{\\|V_j^T w\\|^2}}{\\overline{\\|w\\|^2}}, \\qquad
        j = 1, \\dots, m,

    :math:`V_j` the first ``j`` columns of ``directions`` (orthonormal, e.g. the Hessian's top
    eigenvectors). Isotropic noise gives :math:`j / P`. The directions are fixed, not taken
    from the samples, so the estimate has no small-sample bias.

    Parameters
    ----------
    samples : torch.Tensor or array_like
        Shape ``(n, P)``, ``n >= 2``.
    directions : torch.Tensor or array_like
        Shape ``(P, m)``, ``m >= 1``, orthonormal columns (to 1e-4).

    Returns
    -------
    numpy.ndarray
        Shape ``(m,)``, non-decreasing, in [0, 1].
    """
    arr = _samples(samples)
    if isinstance(directions, torch.Tensor):
        directions = directions.detach().cpu().double().numpy()
    try:
        basis = np.asarray(directions, dtype=np.float64)
    except (TypeError, ValueError):
        validate.fail("directions", "an array (P, m)", error=TypeError,
                      shown=type(directions).__name__)
    if basis.ndim != 2 or basis.shape[0] != arr.shape[1] or basis.shape[1] < 1:
        validate.fail("directions", f"of shape (P, m) with P = {arr.shape[1]} and m >= 1",
                      shown=f"shape {basis.shape}")
    gram = validate.finite("directions", basis).T @ basis
    if np.abs(gram - np.eye(basis.shape[1])).max() > 1e-4:
        validate.fail("directions", "orthonormal columns (V^T V = I to 1e-4)",
                      shown=f"max |V^T V - I| = {np.abs(gram - np.eye(len(gram))).max():.3g}")
    total = float((arr ** 2).sum(axis=1).mean())
    along = ((arr @ basis) ** 2).mean(axis=0)
    return np.cumsum(along) / total if total > 0 else np.zeros(basis.shape[1])


def model_radius(samples, lr):
    """The step-space radius of the paper's model fitted to the samples.

    The model's noise is uniform in the cube :math:`[-W, W]^P`, with
    :math:`\\mathbb{E}\\|w\\|^2 = P W^2 / 3`; matching the samples' mean square gives
    :math:`W`, and the model's bound :math:`r = W \\sqrt{P}` is

    .. math::

        r = \\sqrt{3\\, \\overline{\\|w\\|^2}}, \\qquad \\text{returned: } \\eta\\, r .

    Parameters
    ----------
    samples : torch.Tensor or array_like
        Shape ``(n, P)``, ``n >= 2``.
    lr : float
        Step size :math:`\\eta`, > 0.

    Returns
    -------
    float
    """
    arr = _samples(samples)
    lr = validate.real("lr", lr, above=0)
    return lr * math.sqrt(3 * float((arr ** 2).sum(axis=1).mean()))


def effective_radius(samples, lr, *, quantile=0.99):
    """The step-space radius that holds a share ``quantile`` of the real noise:
    :math:`\\eta` times that quantile of :math:`\\|w\\|` (numpy's linear quantile; 1 gives
    the maximum).

    Parameters
    ----------
    samples : torch.Tensor or array_like
        Shape ``(n, P)``, ``n >= 2``.
    lr : float
        > 0.
    quantile : float
        In (0, 1].

    Returns
    -------
    float
    """
    arr = _samples(samples)
    lr = validate.real("lr", lr, above=0)
    quantile = validate.real("quantile", quantile, above=0, high=1)
    return lr * float(np.quantile(np.linalg.norm(arr, axis=1), quantile))


# --------------------------------------------------------------------------- the smoothed g

@dataclass
class SmoothedInner:
    """The one-point-convexity inner product of eq. (2) for the smoothed g at one point
    (:func:`smoothed_inner`).

    Attributes
    ----------
    values : numpy.ndarray
        Shape ``(S,)``: :math:`\\langle -\\nabla f(y - \\delta_s), x^* - y \\rangle`.
    mean, standard_error : float
        Their mean, the Monte Carlo estimate of :math:`\\langle -\\nabla g(y), x^* - y
        \\rangle`, and ``std(ddof=1) / sqrt(S)``.
    f_value : float
        :math:`\\langle -\\nabla f(y), x^* - y \\rangle`: the unsmoothed f at the same y.
    distance : float
        :math:`\\|x^* - y\\|` (eq. (2)'s right side is :math:`c` times its square).
    """

    values: np.ndarray = field(repr=False)
    mean: float
    standard_error: float
    f_value: float
    distance: float

    def to_dict(self):
        """JSON-ready copy (``values`` as a list)."""
        out = asdict(self)
        out["values"] = self.values.tolist()
        return out


def _gradients(model, func, points, x, y, batch_size, vectorize, chunk):
    """Full-batch gradients of f at the rows of ``points`` (S, P)."""
    width = _width(chunk, vectorize, model, points[0], x, points.shape[0], batch_size)
    with probe.evaluating(model, points.device):
        gradient = probe.full_gradient_function(func, x, y, batch_size)
        return _map(gradient, vectorize, width, points).detach()


def smoothed_inner(model, y_point, target, shifts, x, y, *, batch_size=None, loss=None,
                   vectorize=None, chunk=None):
    """Monte Carlo estimate of Assumption 1's inner product for the smoothed loss,

    .. math::

        \\langle -\\nabla g(y),\\; x^* - y \\rangle
        \\approx \\frac{1}{S} \\sum_{s=1}^{S} \\langle -\\nabla f(y - \\delta_s),\\; x^* - y
        \\rangle, \\qquad g(y) = \\mathbb{E}\\, f(y - \\delta),

    eq. (2) with :math:`\\delta = \\eta w`: ``shifts`` are ``lr * minibatch_noise(...)`` for the
    real noise, or :func:`ball_shifts` for the paper's model. Also returns f's own inner product
    at ``y`` (:math:`\\delta = 0`, computed as one more point of the same map). Gradients in
    float of ``y_point``'s dtype, contracted in float64.

    Parameters
    ----------
    model : torch.nn.Module
    y_point : torch.Tensor
        Shape ``(P,)``: the point y (e.g. :func:`paper_point`).
    target : torch.Tensor
        Shape ``(P,)``: :math:`x^*`.
    shifts : torch.Tensor
        Shape ``(S, P)``, ``S >= 2``: the :math:`\\delta_s`.
    x, y : torch.Tensor
        The training data.
    batch_size : int or None
        The probe chunk of f.
    loss, vectorize, chunk
        As in :func:`minibatch_noise` (``vmap`` or a loop over the ``S + 1`` points; None:
        ``vmap`` on every device). ``python -m sgdlab.bench probe`` (``noise_paths``) on the
        2-core CPU, the book's ResNet, 16 shifts, one thread, median of 5 alternated rounds:
        ``vmap`` 1.49x faster than the loop on 256 digits (range 1.45-1.77), 0.96x on all
        1,437 (0.80-1.06, a tie), so ``vmap`` is the default.

    Returns
    -------
    SmoothedInner
    """
    y_point, x, y, func = _setup(model, y_point, x, y, loss, name="y_point")
    length = y_point.shape[0]
    target = checks.vector("target", target, length).to(y_point.device, y_point.dtype)
    shifts = checks.stack("shifts", shifts, length, 2, "(S, P)")
    if shifts.shape[0] < 2:
        validate.fail("shifts", "of shape (S, P) with S >= 2", shown=f"shape "
                      f"{tuple(shifts.shape)}")
    batch_size = validate.integer("batch_size", batch_size, low=1, allow_none=True)
    vectorize = _vectorize(vectorize)
    points = torch.cat([y_point[None], y_point - shifts.to(y_point.device, y_point.dtype)])
    grads = _gradients(model, func, points, x, y, batch_size, vectorize, chunk)
    direction = target.double() - y_point.double()
    inner = -(grads.double() * direction).sum(dim=1).cpu().numpy()
    values = inner[1:]
    return SmoothedInner(values=values, mean=float(values.mean()),
                         standard_error=float(values.std(ddof=1) / math.sqrt(values.size)),
                         f_value=float(inner[0]), distance=float(direction.norm()))


def ball_shifts(radius, count, parameters, *, seed=0, dtype=torch.float32):
    """The paper's model noise in step space: ``count`` points :math:`\\eta w` uniform in the
    ball :math:`\\|\\eta w\\| \\le` ``radius`` around 0 (Section 5.2 uses radius 0.5), drawn by
    :func:`sgdlab.nn.probe.sample_ball` with ``torch.Generator().manual_seed(seed)``.

    Parameters
    ----------
    radius : float
        > 0.
    count : int
        >= 1.
    parameters : int
        ``P`` >= 1.
    seed : int
    dtype : torch.dtype
        Floating point.

    Returns
    -------
    torch.Tensor
        Shape ``(count, P)``, on the CPU.
    """
    radius = validate.real("radius", radius, above=0)
    count = validate.integer("count", count, low=1)
    parameters = validate.integer("parameters", parameters, low=1)
    seed = validate.seed("seed", seed)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        validate.fail("dtype", "a floating torch.dtype", dtype, TypeError)
    gen = torch.Generator().manual_seed(seed)
    return probe.sample_ball(torch.zeros(parameters, dtype=dtype), radius, count,
                             generator=gen)


def paper_point(model, x_t, lr, x, y, *, batch_size=None, loss=None):
    """The paper's analysis point :math:`y_t = x_t - \\eta \\nabla f(x_t)` (Section 3).

    Parameters
    ----------
    model : torch.nn.Module
    x_t : torch.Tensor
        Shape ``(P,)``.
    lr : float
        :math:`\\eta`, > 0.
    x, y : torch.Tensor
        The training data.
    batch_size : int or None
        The probe chunk of f.
    loss : callable or None
        As in :func:`minibatch_noise`.

    Returns
    -------
    torch.Tensor
        Shape ``(P,)``, ``x_t``'s dtype and device.
    """
    x_t, x, y, func = _setup(model, x_t, x, y, loss, name="x_t")
    lr = validate.real("lr", lr, above=0)
    batch_size = validate.integer("batch_size", batch_size, low=1, allow_none=True)
    with probe.evaluating(model, x_t.device):
        return (x_t - lr * probe.full_gradient_function(func, x, y, batch_size)(x_t)).detach()


# --------------------------------------------------------------------------- closed form

def least_squares_covariance(a, b, theta, batch_size):
    """The covariance of least squares' mini-batch noise, in closed form.

    For :math:`f(\\theta) = \\frac{1}{2N}\\|A\\theta - b\\|^2`, row ``i``'s gradient is
    :math:`g_i = a_i (a_i^\\top\\theta - b_i)`, and the mean over ``B`` distinct rows drawn
    at random (without replacement, as :func:`minibatch_noise` draws them) less the mean over
    all rows has the covariance (the finite-population correction)

    .. math::

        \\operatorname{Cov} w = \\frac{N - B}{B (N - 1)} \\cdot
        \\frac{1}{N} \\sum_{i=1}^{N} (g_i - \\bar g)(g_i - \\bar g)^\\top .

    Parameters
    ----------
    a : torch.Tensor
        The rows, ``(N, P)``.
    b : torch.Tensor
        The targets, ``(N,)``.
    theta : torch.Tensor
        The point, ``(P,)``.
    batch_size : int
        ``1 <= B <= N``.

    Returns
    -------
    numpy.ndarray
        ``(P, P)``, float64.
    """
    a, b, theta = (np.asarray(v.detach().cpu() if torch.is_tensor(v) else v, dtype=np.float64)
                   for v in (a, b, theta))
    n = a.shape[0]
    batch_size = validate.integer("batch_size", batch_size, low=1, high=n)
    rows = a * (a @ theta - b)[:, None]
    centred = rows - rows.mean(axis=0)
    factor = (n - batch_size) / (batch_size * (n - 1)) if n > 1 else 0.0
    return factor * centred.T @ centred / n


def least_squares_check(a, b, *, theta=None, batch_size, batches, seed=0):
    """:func:`minibatch_noise` and :func:`noise_stats` on least squares, against
    :func:`least_squares_covariance`.

    Parameters
    ----------
    a, b : torch.Tensor
        Rows ``(N, P)`` and targets ``(N,)`` (float64 for a tight check).
    theta : torch.Tensor, optional
        The point; default 0.
    batch_size, batches, seed
        As in :func:`minibatch_noise`.

    Returns
    -------
    dict
        ``parameters``, ``rows``, ``mean_square`` (measured :math:`\\mathbb{E}\\|w\\|^2`) and
        its ``mean_square_se``, ``closed_form`` (the trace of the closed-form covariance),
        ``mean_square_z`` (their distance in standard errors), ``covariance_error`` (relative
        Frobenius error of the sample covariance) and, to show the check has power,
        ``with_replacement_z``: the same distance from the law of batches drawn *with*
        replacement (factor :math:`1/B`), which the samples must reject.
    """
    if not torch.is_tensor(a) or a.ndim != 2:
        validate.fail("a", "a 2-D tensor (N, P)", error=TypeError, shown=repr(a)[:40])
    theta = torch.zeros(a.shape[1], dtype=a.dtype) if theta is None else theta
    model = torch.nn.Linear(a.shape[1], 1, bias=False).to(a.dtype)

    def loss(params, xb, yb):
        return 0.5 * ((xb @ params - yb) ** 2).mean()

    w = minibatch_noise(model, theta, a, b, batch_size=batch_size, batches=batches,
                        seed=seed, loss=loss)
    stats = noise_stats(w, k=1)
    cov = least_squares_covariance(a, b, theta, batch_size)
    n = a.shape[0]
    replaced = np.trace(cov) * (n - 1) / (n - batch_size) if n > batch_size else math.inf
    sample = np.cov(w.cpu().numpy().T)
    return {"parameters": int(a.shape[1]), "rows": int(n), "batch_size": int(batch_size),
            "batches": int(batches), "mean_square": stats.mean_square,
            "mean_square_se": stats.mean_square_se, "closed_form": float(np.trace(cov)),
            "mean_square_z": float(abs(stats.mean_square - np.trace(cov)) / stats.mean_square_se),
            "covariance_error": float(np.linalg.norm(sample - cov) / np.linalg.norm(cov)),
            "with_replacement_z": float(abs(stats.mean_square - replaced) / stats.mean_square_se)}
