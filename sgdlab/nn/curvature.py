"""The curvature of f at a point: Hessian-vector products with :mod:`torch.func`, the top
eigenvalues by Lanczos (:func:`scipy.sparse.linalg.eigsh`), the trace by Hutchinson's
estimator, and a dense Hessian for checks.

The function is the probes' :math:`f` (:mod:`sgdlab.nn.probe`): the mean cross-entropy of a
functional ``model`` over the data ``x, y`` as a function of a flat parameter vector
:math:`\\theta \\in \\mathbb{R}^P` (``model.named_parameters()`` order), the model in
``eval()`` mode, and, with ``batch_size`` (the probe chunk), the weighted sum over the fixed
consecutive chunks :math:`B_1, \\dots, B_C` of the data,

.. math::

    f(\\theta) = \\sum_{c=1}^{C} \\frac{|B_c|}{N}\\, f_{B_c}(\\theta), \\qquad
    H(\\theta) = \\nabla^2 f(\\theta) = \\sum_{c=1}^{C} \\frac{|B_c|}{N}\\,
    \\nabla^2 f_{B_c}(\\theta),

each chunk's BatchNorm normalising with that chunk's statistics. Nothing here forms
:math:`H` except :func:`dense_hessian`: :func:`hvp_function` gives :math:`v \\mapsto Hv` at
the cost of about two gradients, :func:`top_eigen` the largest eigenvalues (the *sharpness*
is the top one), :func:`hutchinson_trace` an unbiased estimate of :math:`\\operatorname{tr}
H`, and :func:`dense_check` compares both with the dense matrix on a network small enough for
it (:func:`sgdlab.nn.nets.build_mini`).

Hessian-vector products are reverse-over-reverse (:func:`torch.func.vjp` of
:func:`torch.func.grad`; :math:`H` is symmetric, so :math:`v^\\top H = (Hv)^\\top`). On the
2-core CPU, for ``nets.build("resnet", (1, 8, 8), 10)`` on the 1,437 digits training images
in float32, forward-over-reverse (:func:`torch.func.jvp` of :func:`torch.func.grad`) took 1.25
times as long (medians of 7 alternations: 0.26 s against 0.21 s per product; another run 0.20
s against 0.15 s); the two agree to 8e-7 relative. Many products at once (:func:`dense_hessian`,
:func:`hutchinson_trace`) map blocks of vectors with :func:`torch.func.vmap`: 1.5 to 3 times
faster per vector than a loop on that CPU (:data:`DENSE_BLOCK`, :data:`TRACE_BLOCK`).

Inputs are moved to the device and floating dtype of ``theta`` and results come back
detached; on CUDA, TF32 is off for the duration of a call, as in the probes.

Importing :mod:`sgdlab` does not import this module (nor torch).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from torch.func import grad, vjp, vmap

from .. import _validate as validate
from . import checks, nets, probe

__all__ = ["hvp_function", "TopEigen", "top_eigen", "TraceEstimate", "hutchinson_trace",
           "dense_hessian", "eigen_error", "trace_z", "dense_check", "DENSE_BLOCK", "TRACE_BLOCK"]

DENSE_BLOCK = 32
"""Basis vectors per :func:`torch.func.vmap` call in :func:`dense_hessian`. On the 2-core CPU,
``build_mini`` on 96-256 digits in float64: 6-20 ms per column in blocks of 8-64 (32 about
best), against 20-50 ms for one product at a time."""

TRACE_BLOCK = 4
"""Probe vectors per :func:`torch.func.vmap` call in :func:`hutchinson_trace` (memory: this
many products' activations). On the 2-core CPU, ``build("resnet")`` on the digits training
set in float32: 0.09-0.11 s per vector in blocks of 4 or 16, against 0.15-0.25 s in a loop."""


# --------------------------------------------------------------------------- set-up

def _arguments(model, theta, x, y, batch_size):
    """Checked ``(P, theta, x, y, batch_size)``: data on theta's device and dtype."""
    length = checks.model("model", model)
    theta = checks.vector("theta", theta, length)
    x, y = checks.data(x, y, theta)
    batch_size = validate.integer("batch_size", batch_size, low=1, allow_none=True)
    return length, theta, x, y, batch_size


def _hvp(model, theta, x, y, batch_size):
    """The raw ``v -> H v`` (no mode switch, no checks), traceable by ``vmap``."""
    grad_loss = grad(nets.functional_loss(model, theta))
    chunks = probe.chunks(x, y, batch_size)

    def hvp(v):
        total = 0
        for xc, yc, weight in chunks:
            _, pull = vjp(lambda t: grad_loss(t, xc, yc), theta)
            total = total + pull(v)[0] * weight
        return total

    return hvp


def _mapped(hvp, blocks):
    """``H v`` for every row ``v`` of every block (one ``vmap`` call per block), as rows."""
    return torch.cat([vmap(hvp)(block) for block in blocks])


# --------------------------------------------------------------------------- products

def hvp_function(model, theta, x, y, *, batch_size=None):
    """The Hessian-vector product :math:`v \\mapsto H(\\theta)\\, v` of the probes' f.

    .. math::

        H(\\theta)\\, v = \\sum_{c=1}^{C} \\frac{|B_c|}{N}\\, \\nabla_\\theta
        \\big\\langle \\nabla f_{B_c}(\\theta), v \\big\\rangle ,

    reverse-over-reverse (:func:`torch.func.vjp` of :func:`torch.func.grad`), one chunk at a
    time: about the cost of two gradients of f, the memory of one chunk.

    Parameters
    ----------
    model : torch.nn.Module
        Functional template (its parameter values are never read); in ``eval()`` mode for
        the duration of each call, restored afterwards.
    theta : torch.Tensor
        The point, shape ``(P,)``.
    x, y : torch.Tensor
        Inputs ``(N, ...)`` and integer labels ``(N,)``, ``N >= 1``.
    batch_size : int or None
        The probe chunk: None for one pass over all ``N`` samples, otherwise the weighted sum
        over consecutive chunks of ``batch_size`` (the f of :func:`sgdlab.nn.probe.loss_at`
        and :func:`sgdlab.nn.probe.full_batch_grad`).

    Returns
    -------
    callable
        ``hvp(v)``: ``v`` a finite tensor of shape ``(P,)`` (moved to theta's device and
        dtype), returns :math:`Hv`, detached, shaped, typed and placed like ``theta``.
    """
    length, theta, x, y, batch_size = _arguments(model, theta, x, y, batch_size)
    raw = _hvp(model, theta, x, y, batch_size)

    def hvp(v):
        v = checks.vector("v", v, length).to(theta.device, theta.dtype)
        with probe.evaluating(model, theta.device):
            return raw(v).detach()

    return hvp


# --------------------------------------------------------------------------- top eigenvalues

@dataclass
class TopEigen:
    """The largest eigenvalues of the Hessian and their eigenvectors (:func:`top_eigen`).

    Attributes
    ----------
    eigenvalues : numpy.ndarray
        Shape ``(k,)``, float64, in descending order; ``eigenvalues[0]`` is the sharpness.
    eigenvectors : numpy.ndarray
        Shape ``(P, k)``, float64, unit columns, column ``i`` for ``eigenvalues[i]``.
    matvecs : int
        Hessian-vector products Lanczos used (the residuals' ``k`` more are not counted).
    residuals : numpy.ndarray
        Shape ``(k,)``: :math:`\\|H v_i - \\lambda_i v_i\\|`, one more product each.
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    matvecs: int
    residuals: np.ndarray

    def to_dict(self):
        """JSON-ready copy without the eigenvectors (plain lists, floats and ints)."""
        return {"eigenvalues": [float(v) for v in self.eigenvalues],
                "matvecs": int(self.matvecs),
                "residuals": [float(v) for v in self.residuals]}


def _operator(hvp, theta, length, counter):
    """``hvp`` as a float64 :class:`scipy.sparse.linalg.LinearOperator`, counting calls."""
    def matvec(v):
        counter[0] += 1
        v = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))
        return hvp(v.to(theta.device, theta.dtype)).to("cpu", torch.float64).numpy()

    return LinearOperator((length, length), matvec=matvec, dtype=np.float64)


def top_eigen(model, theta, x, y, *, k=1, tol=1e-3, seed=0, batch_size=None, maxiter=None):
    """The ``k`` largest (algebraic) eigenvalues of :math:`H(\\theta)` by Lanczos.

    Implicitly restarted Lanczos (ARPACK, :func:`scipy.sparse.linalg.eigsh` with
    ``which="LA"``) on :math:`v \\mapsto Hv` (:func:`hvp_function`): the vectors are float64
    on the NumPy side, the products in theta's dtype. It stops when every Ritz value
    :math:`\\lambda_i` satisfies ARPACK's test

    .. math::

        \\|H v_i - \\lambda_i v_i\\| \\le \\mathrm{tol}\\; |\\lambda_i| ,

    so ``tol`` is a relative accuracy of the eigenvalues (down to the products' rounding:
    about 1e-6 in float32). The sharpness is :math:`\\lambda_1 = \\lambda_{\\max}(H)`.

    Parameters
    ----------
    model, theta, x, y, batch_size
        As in :func:`hvp_function`.
    k : int, default 1
        How many eigenvalues, ``1 <= k < P``.
    tol : float, default 1e-3
        Relative accuracy, > 0.
    seed : int, default 0
        Seed of the start vector (standard normal, :func:`numpy.random.default_rng`).
    maxiter : int or None
        ARPACK's restart limit, >= 1; None: its default, ``10 P``.

    Returns
    -------
    TopEigen

    Raises
    ------
    RuntimeError
        Lanczos did not converge within ``maxiter`` restarts to ``tol``.
    """
    length, theta, x, y, batch_size = _arguments(model, theta, x, y, batch_size)
    k = validate.integer("k", k, low=1, below=length)
    tol = validate.real("tol", tol, above=0)
    seed = validate.seed("seed", seed)
    maxiter = validate.integer("maxiter", maxiter, low=1, allow_none=True)
    hvp = hvp_function(model, theta, x, y, batch_size=batch_size)
    counter = [0]
    operator = _operator(hvp, theta, length, counter)
    start = np.random.default_rng(seed).standard_normal(length)
    try:
        values, vectors = eigsh(operator, k=k, which="LA", tol=tol, v0=start, maxiter=maxiter)
    except ArpackNoConvergence as error:
        raise RuntimeError(
            f"Lanczos (eigsh) found {len(error.eigenvalues)} of k = {k} eigenvalues to "
            f"tol = {tol:g} within maxiter = {maxiter} restarts ({counter[0]} Hessian-vector "
            "products): raise tol (float32 products cannot go much below 1e-6) or maxiter"
        ) from error
    matvecs = counter[0]
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    vectors = vectors / np.linalg.norm(vectors, axis=0)
    residuals = np.array([np.linalg.norm(operator.matvec(vectors[:, i]) - values[i] * vectors[:, i])
                          for i in range(k)])
    return TopEigen(values.astype(np.float64), vectors.astype(np.float64), matvecs, residuals)


# --------------------------------------------------------------------------- trace

@dataclass
class TraceEstimate:
    """Hutchinson's estimate of :math:`\\operatorname{tr} H` (:func:`hutchinson_trace`).

    Attributes
    ----------
    mean : float
        The estimate, the mean of ``samples``.
    standard_error : float
        The samples' standard deviation (``ddof=1``) over the square root of their number.
    samples : numpy.ndarray
        Shape ``(samples,)``, float64: the values :math:`z_s^\\top H z_s`.
    """

    mean: float
    standard_error: float
    samples: np.ndarray

    def to_dict(self):
        """JSON-ready copy (plain floats and a list)."""
        return {"mean": float(self.mean), "standard_error": float(self.standard_error),
                "samples": [float(v) for v in self.samples]}


def hutchinson_trace(model, theta, x, y, *, samples=32, seed=0, batch_size=None):
    """Hutchinson's unbiased estimate of the trace of :math:`H(\\theta)`.

    With Rademacher vectors :math:`z_s \\in \\{-1, 1\\}^P` (independent uniform signs),
    :math:`\\mathbb{E}[z z^\\top] = I`, so

    .. math::

        \\operatorname{tr} H = \\mathbb{E}\\big[z^\\top H z\\big] \\approx
        \\frac{1}{S} \\sum_{s=1}^{S} z_s^\\top H z_s ,
        \\qquad \\operatorname{Var}\\big[z^\\top H z\\big]
        = 2 \\sum_{i \\ne j} H_{ij}^2 ,

    exact for a diagonal :math:`H`. The products are mapped :data:`TRACE_BLOCK` at a time.

    Parameters
    ----------
    model, theta, x, y, batch_size
        As in :func:`hvp_function`.
    samples : int, default 32
        Number of probe vectors :math:`S`, >= 2 (for a standard error).
    seed : int, default 0
        Seed of the signs: a :class:`torch.Generator` on the CPU (the same vectors on every
        device), then moved to theta's device.

    Returns
    -------
    TraceEstimate
    """
    length, theta, x, y, batch_size = _arguments(model, theta, x, y, batch_size)
    samples = validate.integer("samples", samples, low=2)
    seed = validate.seed("seed", seed)
    generator = torch.Generator().manual_seed(seed)
    signs = torch.randint(0, 2, (samples, length), generator=generator)
    z = (2 * signs - 1).to(theta.device, theta.dtype)
    hvp = _hvp(model, theta, x, y, batch_size)
    with probe.evaluating(model, theta.device):
        products = _mapped(hvp, torch.split(z, TRACE_BLOCK))
    values = (z * products).sum(dim=1).to("cpu", torch.float64).numpy()
    error = float(values.std(ddof=1) / np.sqrt(samples))
    return TraceEstimate(float(values.mean()), error, values)


# --------------------------------------------------------------------------- dense checks

def _basis_blocks(theta, length, block):
    """The unit vectors ``e_0 .. e_{P-1}`` in blocks of ``block`` rows, made one at a time."""
    for start in range(0, length, block):
        rows = min(block, length - start)
        basis = torch.zeros(rows, length, dtype=theta.dtype, device=theta.device)
        basis[torch.arange(rows), torch.arange(start, start + rows)] = 1
        yield basis


def dense_hessian(model, theta, x, y, *, batch_size=None, max_parameters=5000):
    """The full Hessian :math:`H(\\theta)`, a ``(P, P)`` matrix, for checks on small networks.

    Column :math:`j` is :math:`H e_j` (:func:`hvp_function`'s product on a unit vector),
    :data:`DENSE_BLOCK` columns per :func:`torch.func.vmap` call; the result is symmetrised,
    :math:`(H + H^\\top)/2`, to remove the products' rounding asymmetry.

    Parameters
    ----------
    model, theta, x, y, batch_size
        As in :func:`hvp_function`.
    max_parameters : int, default 5000
        The largest ``P`` accepted, >= 1: the matrix takes :math:`P^2` numbers and ``P``
        products (:func:`sgdlab.nn.nets.build_mini` has 1,384 parameters on digits).

    Returns
    -------
    torch.Tensor
        Shape ``(P, P)``, theta's dtype and device, detached, symmetric.

    Raises
    ------
    ValueError
        ``theta`` has more than ``max_parameters`` entries.
    """
    length, theta, x, y, batch_size = _arguments(model, theta, x, y, batch_size)
    max_parameters = validate.integer("max_parameters", max_parameters, low=1)
    if length > max_parameters:
        gigabytes = length**2 * theta.element_size() / 1e9
        validate.fail("theta", f"at most max_parameters = {max_parameters} parameters for a "
                      f"dense Hessian (its {length} x {length} matrix would need "
                      f"{gigabytes:.3g} GB)", shown=f"{length} parameters")
    hvp = _hvp(model, theta, x, y, batch_size)
    with probe.evaluating(model, theta.device):
        rows = _mapped(hvp, _basis_blocks(theta, length, DENSE_BLOCK)).detach()
    return (rows + rows.T) / 2


def eigen_error(eigenvalues, reference):
    """The largest relative difference of matched eigenvalues, :math:`\\max_i |\\lambda_i -
    \\mu_i| / |\\mu_i|` (a zero reference counts as the smallest normal float64).

    Parameters
    ----------
    eigenvalues, reference : array_like
        Shape ``(k,)`` each, matched in order.

    Returns
    -------
    float
    """
    eigenvalues = validate.finite("eigenvalues", np.asarray(eigenvalues, dtype=np.float64))
    reference = validate.finite("reference", np.asarray(reference, dtype=np.float64))
    if eigenvalues.ndim != 1 or eigenvalues.shape != reference.shape or not len(reference):
        validate.fail("eigenvalues and reference", "1-D arrays of one non-zero length",
                      shown=f"shapes {eigenvalues.shape} and {reference.shape}")
    scale = np.maximum(np.abs(reference), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(eigenvalues - reference) / scale))


def trace_z(estimate, trace):
    """How many standard errors Hutchinson's estimate is from the trace,
    :math:`|\\hat t - \\operatorname{tr} H| / \\widehat{\\mathrm{se}}` (0 when they agree with
    a zero standard error, inf when they differ).

    Parameters
    ----------
    estimate : TraceEstimate
    trace : float
        The reference :math:`\\operatorname{tr} H`.

    Returns
    -------
    float
    """
    if not isinstance(estimate, TraceEstimate):
        validate.fail("estimate", "a TraceEstimate", error=TypeError,
                      shown=type(estimate).__name__)
    miss = abs(estimate.mean - validate.real("trace", trace))
    if estimate.standard_error > 0:
        return float(miss / estimate.standard_error)
    return 0.0 if miss == 0 else float("inf")


def dense_check(model, theta, x, y, *, k=3, samples=64, seed=0, batch_size=None, tol=1e-6):
    """:func:`top_eigen` and :func:`hutchinson_trace` against the dense Hessian.

    The top ``k`` eigenvalues by Lanczos against those of :func:`numpy.linalg.eigvalsh` on
    :func:`dense_hessian` (:func:`eigen_error`), and Hutchinson's estimate against
    :math:`\\operatorname{tr} H` in standard errors,

    .. math::

        z = \\frac{|\\hat t - \\operatorname{tr} H|}{\\widehat{\\mathrm{se}}} ,

    about :math:`|N(0, 1)|` for a correct estimator and a few dozen samples.

    Parameters
    ----------
    model, theta, x, y, batch_size
        As in :func:`hvp_function`; ``P`` at most 5000 (:func:`dense_hessian`).
    k, tol
        As in :func:`top_eigen` (``tol`` default 1e-6, float64 products recommended).
    samples, seed
        As in :func:`hutchinson_trace` (``seed`` also seeds Lanczos' start vector).

    Returns
    -------
    dict
        ``parameters``, ``eigenvalues`` and ``dense_eigenvalues`` (lists, descending),
        ``max_relative_eigen_error``, ``trace``, ``trace_estimate``,
        ``trace_standard_error``, ``trace_z`` (:func:`trace_z`) and ``seconds`` (wall time
        of the check).
    """
    start = time.perf_counter()
    length, theta, x, y, batch_size = _arguments(model, theta, x, y, batch_size)
    k = validate.integer("k", k, low=1, below=length)
    samples = validate.integer("samples", samples, low=2)
    tol = validate.real("tol", tol, above=0)
    options = dict(seed=validate.seed("seed", seed), batch_size=batch_size)
    hessian = dense_hessian(model, theta, x, y, batch_size=batch_size).to("cpu", torch.float64)
    top = top_eigen(model, theta, x, y, k=k, tol=tol, **options)
    estimate = hutchinson_trace(model, theta, x, y, samples=samples, **options)
    dense = np.linalg.eigvalsh(hessian.numpy())[::-1][:k]
    exact = float(torch.trace(hessian))
    return {"parameters": length, "eigenvalues": [float(v) for v in top.eigenvalues],
            "dense_eigenvalues": [float(v) for v in dense],
            "max_relative_eigen_error": eigen_error(top.eigenvalues, dense),
            "trace": exact, "trace_estimate": estimate.mean,
            "trace_standard_error": estimate.standard_error,
            "trace_z": trace_z(estimate, exact),
            "seconds": time.perf_counter() - start}
