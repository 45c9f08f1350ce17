"""Probes of a neural network's loss surface (Section 5 of the paper), with ``torch.func``.

Kleinberg, Li and Yuan (ICML 2018), Section 5, look at the loss surface of trained networks
through a few inner products and norms:

* 5.1 / Figure 5a: along an SGD trajectory :math:`x_0, x_1, \\dots, x_T` (one point per
  epoch), the inner product :math:`\\langle -\\nabla f(x_t), x_T - x_t \\rangle` is positive:
  the trajectory is *one point convex* with respect to the final solution
  (:func:`trajectory_inner_products`);
* 5.2 / Figure 5b: the same holds at random points :math:`w` of the ball of radius 0.5 around
  :math:`x_t` (Assumption 1 for the smoothed loss; :func:`neighbourhood_probe`,
  :func:`sample_ball`), and Hoeffding's inequality (Lemma 6) turns 100 positive samples into a
  confidence that the expectation is positive (:func:`sgdlab.theory.hoeffding_confidence`);
* 5.2 / Figure 5c: stochastic gradients are short, so one SGD step, ``lr`` times a mini-batch
  gradient norm, stays inside that ball (:func:`minibatch_grad_norms`,
  :func:`per_sample_grad_norms`);
* 5.3: for 50 trajectories and their 50 final solutions, the inner product between the
  negative gradient at *any* epoch of *any* trajectory and the direction to *any* final
  solution is almost always positive (:func:`all_pairs_inner_products`);
* ours, not the paper's: with BatchNorm's batch statistics, the mean of an epoch's
  mini-batch gradients is not the full-batch gradient (:func:`batchnorm_bias`).

Conventions shared by every function:

* ``model`` is an :class:`torch.nn.Module` used only as a functional template
  (:func:`torch.func.functional_call`); its own parameter values are never read or changed.
  Parameters are passed as flat *vectors*: 1-D float tensors of length ``P``, the parameters
  of ``model.named_parameters()`` concatenated in that order, as
  ``torch.nn.utils.parameters_to_vector(model.parameters())`` or
  :func:`sgdlab.nn.nets.flatten_params` make them.
* The loss :math:`f` is the mean cross-entropy over the data ``x, y`` (the full training set
  in the paper). The model is evaluated in ``eval()`` mode (restored afterwards), so dropout is
  off and a batch's loss is a pure function of the parameters. BatchNorm layers built with
  ``track_running_stats=False`` (as in :mod:`sgdlab.nn.nets`) then normalise with the statistics
  of the batch they are given, which is what makes :func:`torch.func.vmap` work; layers with
  running statistics use them.
* Inputs are moved to the device and floating dtype of the parameter vector, and results come
  back as detached tensors (result objects hold CPU tensors and Python floats). On CUDA, TF32
  is switched off in convolutions and matrix products for the duration of a call (and
  restored): with PyTorch's default TF32 convolutions the probes' inner products moved by
  several percent on an H100.
* Everything random is drawn *outside* the vmapped functions (``vmap`` refuses randomness).

**The probed f at scale** (``batch_size``, the probe chunk). With ``batch_size=None`` f is the
loss of one forward pass over all ``N`` images: every BatchNorm normalises with the statistics
of the whole data set (the book's digits). Its memory grows with ``N`` (for a full CIFAR
training set, tens to hundreds of GB), so for large data f is defined on one *fixed
partition* of the data into consecutive chunks :math:`B_1, \\dots, B_C` of ``batch_size``
images, in the order of ``x`` (``B_c`` = images ``(c-1) b .. c b - 1``; the last chunk holds
the ``N - (C-1) b`` remaining images and may be shorter):

.. math::

    f(\\theta) = \\sum_{c=1}^{C} \\frac{|B_c|}{N}\\, f_{B_c}(\\theta),

where :math:`f_{B_c}` is the mean cross-entropy of chunk :math:`B_c` with every BatchNorm
normalising by the statistics of that chunk alone. It is an ordinary deterministic function of
the parameters (the partition never changes), its gradient is the same weighted sum of the
chunks' gradients, and the peak memory of one gradient is that of one chunk, whatever ``N``.
For a network without batch statistics it equals the one-pass f exactly; with BatchNorm it
differs from it by the change of statistics (:func:`chunking_error` measures how much), and a
very short last chunk normalises with noisy statistics (a chunk of one image fails where a
BatchNorm sees a 1x1 map). Every function that computes full-batch gradients takes the same
``batch_size``, and the Section 5 experiments pass ``ExperimentConfig.probe_batch``.

**Memory budget and the two paths.** The functions that need full-batch gradients at many
points (and the per-sample and mini-batch norms) map ``chunk`` points at a time with ``vmap``.
``chunk=None`` (the default) chooses that width from a memory budget ``memory_gb``
(:func:`vmap_width`: the budget over :func:`point_memory_bytes`, the estimated memory of one
point's gradient; default :func:`default_memory_gb`, a fraction of the free memory on CUDA, a
few GB on a CPU), never a fixed number. ``vectorize=True`` maps the points with ``vmap``,
``vectorize=False`` loops over them in Python (same numbers, one point in memory at a time),
and ``vectorize=None`` takes the faster path for the device (:func:`prefers_vmap`): the loop on
a CPU, where under ``vmap`` every convolution with per-point weights becomes a grouped
convolution whose backward pass is slow (``python -m sgdlab.bench probe`` measures both),
``vmap`` on CUDA.

Importing :mod:`sgdlab` does not import this module (nor torch).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch.func import grad, vmap

from .. import _validate as validate
from ..theory import hoeffding_bound, hoeffding_confidence
from . import checks, nets
from .seeds import Purpose, derive

__all__ = [
    "loss_at", "full_batch_grad",
    "trajectory_inner_products", "sample_ball", "neighbourhood_points", "neighbourhood_probe",
    "NeighbourhoodResult", "per_sample_grad_norms",
    "per_sample_grad_norms_loop", "minibatch_grad_norms", "inner_products_towards",
    "all_pairs_inner_products", "AllPairsResult", "one_point_convex_share", "ChunkingError", "chunking_error",
    "prefers_vmap", "default_memory_gb", "point_memory_bytes", "vmap_width",
    "CPU_MEMORY_GB", "CUDA_MEMORY_FRACTION", "ACTIVATION_COPIES", "PARAMETER_COPIES",
    "batchnorm_bias",
    "trajectory_controls", "chunks", "full_gradient_function", "evaluating", "random_batches",
]


# --------------------------------------------------------------------------- functional core

def _check_batch_size(batch_size):
    return validate.integer("batch_size", batch_size, low=1, allow_none=True)


def _check_rho(rho):
    return validate.real("rho", rho, above=0)


def chunks(x, y, batch_size):
    """The fixed partition that defines the probed f (see the module): ``[(x_c, y_c, w_c),
    ...]``, consecutive chunks of ``batch_size`` samples in the order of ``x`` (None: one
    chunk of all ``N``), each with its weight :math:`w_c = |B_c| / N`."""
    n = x.shape[0]
    step = n if batch_size is None else batch_size
    return [(x[s:s + step], y[s:s + step], min(step, n - s) / n) for s in range(0, n, step)]


def full_gradient_function(loss, x, y, batch_size):
    """``theta -> grad f(theta)`` for ``loss(theta, xb, yb)`` (a batch's mean loss): the
    probed f's gradient, :math:`\\sum_c w_c \\nabla f_{B_c}` over :func:`chunks` (one pass
    when ``batch_size`` is None or covers the data). Traceable by ``vmap``; no checks, no
    mode switch (see :func:`evaluating`)."""
    grad_loss = grad(loss)
    if batch_size is None or batch_size >= x.shape[0]:
        return lambda theta: grad_loss(theta, x, y)
    parts = chunks(x, y, batch_size)

    def accumulated(theta):
        total = 0
        for xb, yb, weight in parts:
            total = total + grad_loss(theta, xb, yb) * weight
        return total

    return accumulated


@contextlib.contextmanager
def _no_tf32(device):
    """Full float32 precision in cuDNN convolutions and cuBLAS matrix products on CUDA.

    PyTorch lets cuDNN use TF32 (a 10-bit mantissa) for float32 convolutions by default. A
    probe's inner products are sums of many terms with cancellation, and a BatchNorm over few
    values amplifies rounding, so TF32 can move them by percents (and flip signs near 0).
    """
    if torch.device(device).type != "cuda":
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


@contextlib.contextmanager
def evaluating(model, device="cpu"):
    """The probes' setting for a block of work: ``model`` in eval() mode (every submodule's
    mode restored afterwards), without TF32 on CUDA."""
    modes = [m.training for m in model.modules()]
    model.eval()
    try:
        with _no_tf32(device):
            yield
    finally:
        for module, mode in zip(model.modules(), modes):
            module.training = mode


def _mapper(func, vectorize):
    """points (R, P) -> stacked func(point): ``vmap(func)``, or a Python loop."""
    if vectorize:
        return vmap(func)
    return lambda points: torch.stack([func(point) for point in points])


def _check_vectorize(vectorize, device):
    """``vectorize`` as a bool: None -> :func:`prefers_vmap` for ``device``."""
    if vectorize is None:
        return prefers_vmap(device)
    return validate.flag("vectorize", vectorize)


# --------------------------------------------------------------------------- memory and paths

CPU_MEMORY_GB = 2.0
"""Default vmap budget on a CPU, in GiB (at most a quarter of the available memory)."""

CUDA_MEMORY_FRACTION = 0.5
"""The default vmap budget on CUDA, as this fraction of the device's free memory."""

ACTIVATION_COPIES = 3
"""Copies of the forward activations one gradient holds at its peak, in
:func:`point_memory_bytes` (saved for the backward pass, their gradients, a transient)."""

PARAMETER_COPIES = 4
"""Copies of the parameter vector per point (the point, its split views' gradient, the
accumulated gradient, a transient), in :func:`point_memory_bytes`."""


def prefers_vmap(device):
    """The faster path of the probes' full-batch gradients at many points on ``device``.

    ``vmap`` over points on CUDA (one kernel launch serves many points); the Python loop on
    a CPU, where ``vmap`` turns every convolution with per-point weights into a grouped
    convolution whose backward pass is slower than the points' plain convolutions one after
    another (``python -m sgdlab.bench probe``: ``neighbourhood_probe.speedup``, vmap
    over loop).

    Parameters
    ----------
    device : str or torch.device

    Returns
    -------
    bool
    """
    return torch.device(device).type == "cuda"


def default_memory_gb(device):
    """The default memory budget of the ``vmap``-ped probes on ``device``, in GiB.

    CUDA: :data:`CUDA_MEMORY_FRACTION` of the device's free memory
    (``torch.cuda.mem_get_info``). CPU: :data:`CPU_MEMORY_GB`, or a quarter of the available
    memory (``os.sysconf``) if that is less.

    Returns
    -------
    float
    """
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return CUDA_MEMORY_FRACTION * free / 2**30
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (ValueError, OSError, AttributeError):
        return CPU_MEMORY_GB
    return min(CPU_MEMORY_GB, 0.25 * available)


def _activations_per_image(model, theta, x):
    """Elements of all leaf modules' outputs for one image (two images, halved, when there
    are two: a BatchNorm of one image fails on a 1x1 map)."""
    sample = x[:2]
    counts = []
    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(lambda _m, _i, out: counts.append(out.numel()))
             for m in leaves]
    try:
        with evaluating(model, theta.device), torch.no_grad():
            nets.functional_forward(model)(theta, sample)
    finally:
        for hook in hooks:
            hook.remove()
    return math.ceil(sum(counts) / sample.shape[0])


def point_memory_bytes(model, theta, x, *, batch_size=None):
    """Estimated peak memory of one full-batch gradient at one point, in bytes.

    .. math::

        m = s \\,\\big(a\\, A\\, \\min(N, b) + c\\, P\\big),

    with :math:`s` the bytes of ``theta``'s dtype, :math:`A` the elements of all leaf modules'
    outputs for one image (counted with forward hooks on two images of ``x``),
    :math:`\\min(N, b)` the images of one probe chunk (:math:`N` for ``batch_size=None``),
    :math:`P` the parameters, :math:`a` = :data:`ACTIVATION_COPIES` and :math:`c` =
    :data:`PARAMETER_COPIES`. It does not depend on :math:`N` once ``batch_size`` is set.

    Parameters
    ----------
    model : torch.nn.Module
    theta : torch.Tensor
        Shape ``(P,)``.
    x : torch.Tensor
        The data (``N >= 1`` images).
    batch_size : int or None
        The probe chunk (see the module's definition of f).

    Returns
    -------
    int
    """
    length = checks.model("model", model)
    theta = checks.vector("theta", theta, length)
    if not isinstance(x, torch.Tensor) or x.ndim < 1 or x.shape[0] < 1:
        validate.fail("x", "a tensor of N >= 1 inputs", x, TypeError,
                      shown=type(x).__name__ if not isinstance(x, torch.Tensor)
                      else f"shape {tuple(x.shape)}")
    batch_size = _check_batch_size(batch_size)
    x = x.to(theta.device, theta.dtype)
    images = x.shape[0] if batch_size is None else min(x.shape[0], batch_size)
    per_image = _activations_per_image(model, theta, x)
    size = theta.element_size()
    return size * (ACTIVATION_COPIES * per_image * images + PARAMETER_COPIES * length)


def vmap_width(model, theta, x, *, points, batch_size=None, memory_gb=None):
    """How many points to map at once: the budget over one point's memory.

    .. math::

        \\text{width} = \\min\\Big(\\text{points},\\; \\max\\Big(1, \\Big\\lfloor
        \\frac{2^{30}\\,\\text{memory\\_gb}}{m} \\Big\\rfloor\\Big)\\Big),

    with :math:`m` = :func:`point_memory_bytes`.

    Parameters
    ----------
    model, theta, x, batch_size
        As in :func:`point_memory_bytes`.
    points : int
        Points to differentiate, >= 1 (the width never exceeds it).
    memory_gb : float or None
        Budget in GiB, > 0; None: :func:`default_memory_gb` of ``theta``'s device.

    Returns
    -------
    int
    """
    points = validate.integer("points", points, low=1)
    memory_gb = _check_memory_gb(memory_gb)
    per_point = point_memory_bytes(model, theta, x, batch_size=batch_size)
    if memory_gb is None:
        memory_gb = default_memory_gb(theta.device)
    return min(points, max(1, int(memory_gb * 2**30 // per_point)))


def _check_memory_gb(memory_gb):
    return validate.real("memory_gb", memory_gb, above=0, allow_none=True)


def _width(chunk, model, theta, x, points, batch_size, memory_gb):
    """``chunk`` if given, else :func:`vmap_width`."""
    memory_gb = _check_memory_gb(memory_gb)
    if chunk is not None:
        return validate.integer("chunk", chunk, low=1)
    return vmap_width(model, theta, x, points=points, batch_size=batch_size,
                      memory_gb=memory_gb)


# --------------------------------------------------------------------------- loss and gradient

def loss_at(model, theta, x, y, *, batch_size=None):
    """The training loss :math:`f(\\theta)`: mean cross-entropy of ``model`` over ``x, y``.

    Parameters
    ----------
    model : torch.nn.Module
        Functional template.
    theta : torch.Tensor
        Parameter vector, shape ``(P,)``.
    x, y : torch.Tensor
        Inputs ``(N, ...)`` and integer labels ``(N,)``, ``N >= 1``.
    batch_size : int or None
        None: one forward pass over all ``N`` samples. Otherwise the f of the module's
        definition: the mean of the losses of consecutive chunks of ``batch_size`` samples
        weighted by chunk size (equal to the one-pass value for a network without batch
        statistics; with BatchNorm using batch statistics each chunk is normalised with its
        own statistics, so the value differs slightly: :func:`chunking_error`).

    Returns
    -------
    float
    """
    length = checks.model("model", model)
    theta = checks.vector("theta", theta, length)
    x, y = checks.data(x, y, theta)
    batch_size = _check_batch_size(batch_size)
    loss = nets.functional_loss(model, theta)
    n = x.shape[0]
    step = n if batch_size is None else batch_size
    with evaluating(model, theta.device), torch.no_grad():
        total = sum(float(loss(theta, x[s:s + step], y[s:s + step])) * min(step, n - s) / n
                    for s in range(0, n, step))
    return total


def full_batch_grad(model, theta, x, y, *, batch_size=None):
    """The full-batch gradient :math:`\\nabla f(\\theta)` of the mean cross-entropy.

    Parameters
    ----------
    model : torch.nn.Module
    theta : torch.Tensor
        Shape ``(P,)``.
    x, y : torch.Tensor
        The data, ``N >= 1`` samples.
    batch_size : int or None
        None: one pass over all samples. Otherwise the gradient of the f of the module's
        definition: the gradients of consecutive chunks of ``batch_size`` samples, weighted by
        ``len(chunk) / N`` and summed (memory of one chunk, whatever ``N``). Exact for
        networks without batch statistics; with BatchNorm normalising by batch statistics
        (``track_running_stats=False``) each chunk uses its own statistics, so the result
        differs slightly from the one-pass gradient (:func:`chunking_error`).

    Returns
    -------
    torch.Tensor
        Shape ``(P,)``, the dtype and device of ``theta``.
    """
    length = checks.model("model", model)
    theta = checks.vector("theta", theta, length)
    x, y = checks.data(x, y, theta)
    batch_size = _check_batch_size(batch_size)
    with evaluating(model, theta.device):
        gradient = full_gradient_function(nets.functional_loss(model, theta), x, y, batch_size)
        return gradient(theta).detach()


@dataclass
class ChunkingError:
    """The chunked f of the module's definition against the one-pass f, at one point
    (:func:`chunking_error`). Lists have one entry per probe chunk size.

    Attributes
    ----------
    batch_sizes : list of int
        The probe chunk sizes ``b``.
    n : int
        Images ``N``.
    loss, grad_norm : float
        The one-pass :math:`f` and :math:`\\|\\nabla f\\|`.
    chunked_loss, chunked_grad_norm : list of float
        :math:`f_b` and :math:`\\|\\nabla f_b\\|`.
    loss_rel_diff : list of float
        :math:`|f_b - f| / |f|`.
    grad_norm_rel_diff : list of float
        :math:`|\\,\\|\\nabla f_b\\| - \\|\\nabla f\\|\\,| / \\|\\nabla f\\|`.
    grad_rel_diff : list of float
        :math:`\\|\\nabla f_b - \\nabla f\\| / \\|\\nabla f\\|`.
    cosine : list of float
        :math:`\\langle \\nabla f_b, \\nabla f \\rangle / (\\|\\nabla f_b\\|\\,\\|\\nabla f\\|)`.
    """

    batch_sizes: list
    n: int
    loss: float
    grad_norm: float
    chunked_loss: list
    chunked_grad_norm: list
    loss_rel_diff: list
    grad_norm_rel_diff: list
    grad_rel_diff: list
    cosine: list

    def to_dict(self):
        """JSON-ready copy (plain lists and floats)."""
        return asdict(self)


def chunking_error(model, theta, x, y, batch_sizes):
    """How far the chunked f (the module's definition) and its gradient are from one pass.

    For every probe chunk size ``b``: :func:`loss_at` and :func:`full_batch_grad` with
    ``batch_size=b`` against ``batch_size=None``, as relative differences of f, of the
    gradient norm and of the gradient, and the cosine between the two gradients (computed in
    float64 from ``theta``'s dtype).

    Parameters
    ----------
    model : torch.nn.Module
    theta : torch.Tensor
        Shape ``(P,)``.
    x, y : torch.Tensor
        The data; the one-pass gradient needs memory for all of it at once.
    batch_sizes : sequence of int
        Chunk sizes, each >= 1.

    Returns
    -------
    ChunkingError
    """
    if isinstance(batch_sizes, (str, bytes)) or not hasattr(batch_sizes, "__iter__"):
        validate.fail("batch_sizes", "a sequence of integers >= 1", batch_sizes, TypeError)
    sizes = [validate.integer("batch_sizes", b, low=1) for b in batch_sizes]
    if not sizes:
        validate.fail("batch_sizes", "at least one chunk size", shown="none")
    loss = loss_at(model, theta, x, y)
    exact = full_batch_grad(model, theta, x, y).double()
    norm = float(exact.norm())
    rows = {key: [] for key in ("loss", "norm", "loss_rel", "norm_rel", "grad_rel", "cos")}
    for size in sizes:
        value = loss_at(model, theta, x, y, batch_size=size)
        chunked = full_batch_grad(model, theta, x, y, batch_size=size).double()
        chunked_norm = float(chunked.norm())
        rows["loss"].append(value)
        rows["norm"].append(chunked_norm)
        rows["loss_rel"].append(abs(value - loss) / abs(loss))
        rows["norm_rel"].append(abs(chunked_norm - norm) / norm)
        rows["grad_rel"].append(float((chunked - exact).norm()) / norm)
        rows["cos"].append(float(chunked @ exact) / (chunked_norm * norm))
    return ChunkingError(
        batch_sizes=sizes, n=int(x.shape[0]), loss=loss, grad_norm=norm,
        chunked_loss=rows["loss"], chunked_grad_norm=rows["norm"],
        loss_rel_diff=rows["loss_rel"], grad_norm_rel_diff=rows["norm_rel"],
        grad_rel_diff=rows["grad_rel"], cosine=rows["cos"])


def batchnorm_bias(arch, weights=None, *, config):
    """How far the mean of one epoch's mini-batch gradients is from the full-batch gradient.

    With BatchNorm normalising by the statistics of the batch it is given, the loss of a
    mini-batch is not the mean of its images' losses, so the average of the mini-batch
    gradients of an epoch differs from the gradient of the same images taken as one batch
    (without BatchNorm the two are equal): SGD's stochastic gradient is a biased estimate of
    :math:`\\nabla f`. Measured on the digits of ``config`` at the first, middle and last of
    ``weights`` with :func:`full_batch_grad`, over the full mini-batches of
    :func:`sgdlab.nn.train.epoch_batches` with seed 0 and epoch 0 (a fixed partition of the
    images, less the last incomplete batch).

    Parameters
    ----------
    arch : str
        A network of :func:`sgdlab.nn.nets.build`.
    weights : array_like, optional
        Shape ``(E + 1, P)``: weights at every epoch start; default: the initialisation of
        seed ``config.seed`` only.
    config : sgdlab.nn.config.ExperimentConfig
        Its ``dataset`` (digits), ``limit``, ``batch_size`` and ``seed``.

    Returns
    -------
    list of dict
        Per epoch measured: ``epoch``, ``batches`` (full mini-batches of the epoch),
        ``relative`` (:math:`\\|\\bar g - g\\| / \\|g\\|`) and ``cosine`` (of :math:`\\bar g` and
        :math:`g`), :math:`\\bar g` the mean of the mini-batch gradients, :math:`g` the gradient
        of their union.

    Raises
    ------
    ValueError
        ``config`` is not a digits experiment.
    """
    from . import data
    from .train import epoch_batches

    if getattr(config, "dataset", None) != "digits":
        validate.fail("config", "a digits experiment (the bias is measured on digits)",
                      shown=f"dataset {getattr(config, 'dataset', None)!r}")
    digits = data.load("digits", limit=config.limit)
    model = nets.build(arch, digits.shape, digits.classes, seed=config.seed)
    if weights is None:
        weights = nets.flatten_params(model).numpy()[None]
    weights = np.asarray(weights)
    batches = epoch_batches(len(digits.y_train), config.batch_size, 0, 0)
    used = batches.reshape(-1)  # the images of the epoch's full batches
    rows = []
    for epoch in sorted({0, (len(weights) - 1) // 2, len(weights) - 1}):
        theta = torch.as_tensor(weights[epoch])
        whole = full_batch_grad(model, theta, digits.x_train[used], digits.y_train[used])
        mean = torch.stack([full_batch_grad(model, theta, digits.x_train[b], digits.y_train[b])
                            for b in batches]).mean(0)
        rows.append({"epoch": epoch, "batches": len(batches),
                     "relative": float((mean - whole).norm() / whole.norm()),
                     "cosine": float(mean @ whole / (mean.norm() * whole.norm()))})
    return rows


# --------------------------------------------------------------------------- Figure 5a

def trajectory_inner_products(model, thetas, x, y, *, target=None, cosine=False, chunk=None,
                              batch_size=None, memory_gb=None, vectorize=None):
    """Inner products :math:`\\langle -\\nabla f(x_t), x_T - x_t \\rangle` along a trajectory.

    Section 5.1, Figure 5a: for the start :math:`x_t` of every epoch, the negative full-batch
    gradient against the direction to the final solution :math:`x_T`. All positive means the
    trajectory is one point convex with respect to :math:`x_T` (the inequality of Assumption 1
    of the paper for :math:`f` itself, evaluated at the trajectory's own points).

    Parameters
    ----------
    model : torch.nn.Module
    thetas : torch.Tensor
        Shape ``(T + 1, P)`` when ``target`` is None: epoch starts :math:`x_0 .. x_{T-1}` and the
        final solution :math:`x_T` as last row. Shape ``(T, P)`` when ``target`` is given: the
        epoch starts only.
    x, y : torch.Tensor
        The training data (the loss is the mean over all of it).
    target : torch.Tensor or None
        Shape ``(P,)``; None: the last row of ``thetas`` (which is then not itself probed, its
        inner product with itself being 0).
    cosine : bool
        If True return the cosine :math:`\\langle -g, d\\rangle / (\\|g\\| \\|d\\|)` instead (0 where
        the gradient or the direction is 0).
    chunk : int or None
        Points differentiated together under ``vmap``; None: :func:`vmap_width` of
        ``memory_gb``.
    batch_size : int or None
        The probe chunk of every full-batch gradient (the module's definition of f; None: one
        pass over all the data).
    memory_gb : float or None
        Memory budget of the ``vmap`` (GiB) when ``chunk`` is None; None:
        :func:`default_memory_gb`.
    vectorize : bool or None
        ``vmap`` over points (True) or a Python loop (False), same numbers; None:
        :func:`prefers_vmap` for the device.

    Returns
    -------
    torch.Tensor
        Shape ``(T,)``, one value per epoch start.
    """
    length = checks.model("model", model)
    if target is None:
        thetas = checks.stack("thetas", thetas, length, 2, "(T + 1, P)")
        if thetas.shape[0] < 2:
            validate.fail("thetas", "at least 2 rows (epoch starts and the final solution as "
                          "the last row)", shown=f"shape {tuple(thetas.shape)}")
        rows, target = thetas[:-1], thetas[-1]
    else:
        rows = checks.stack("thetas", thetas, length, 2, "(T, P)")
        if rows.shape[0] < 1:
            validate.fail("thetas", "at least 1 row", shown=f"shape {tuple(rows.shape)}")
        target = checks.vector("target", target, length).to(rows.device, rows.dtype)
    grads = _gradients_at(model, rows, x, y, chunk=chunk, batch_size=batch_size,
                          memory_gb=memory_gb, vectorize=vectorize)
    directions = target - rows
    inner = -(grads * directions).sum(dim=1)
    if not cosine:
        return inner
    norms = grads.norm(dim=1) * directions.norm(dim=1)
    return torch.where(norms > 0, inner / torch.where(norms > 0, norms, 1), 0)


def _gradient_chunks(model, rows, x, y, *, chunk, batch_size, memory_gb, vectorize):
    """The full-batch gradient of f at the rows of ``rows`` (checked points), ``chunk`` rows
    at a time (vmap or the loop), in eval mode: yields ``(points, gradients)`` per chunk."""
    x, y = checks.data(x, y, rows)
    batch_size = _check_batch_size(batch_size)
    vectorize = _check_vectorize(vectorize, rows.device)
    chunk = _width(chunk, model, rows[0], x, rows.shape[0], batch_size, memory_gb)
    mapped = _mapper(full_gradient_function(nets.functional_loss(model, rows), x, y, batch_size),
                     vectorize)
    with evaluating(model, rows.device):
        for i in range(0, rows.shape[0], chunk):
            yield rows[i:i + chunk], mapped(rows[i:i + chunk]).detach()


def _gradients_at(model, rows, x, y, **options):
    """:func:`_gradient_chunks` stacked: shape ``(T, P)``."""
    return torch.cat([g for _, g in _gradient_chunks(model, rows, x, y, **options)])


def trajectory_controls(model, thetas, target, x, y, *, other=None, chunk=None,
                        batch_size=None, memory_gb=None, vectorize=None):
    """Figure 5a's inner products with their cosines, and a control: the same probe towards
    another point.

    For every epoch start :math:`x_t` (a row of ``thetas``) the gradient is computed once and
    gives :math:`\\langle -\\nabla f(x_t), d\\rangle` and its cosine
    :math:`\\langle -\\nabla f(x_t), d\\rangle / (\\|\\nabla f(x_t)\\| \\|d\\|)` for
    :math:`d = x_T - x_t` (``target``) and, as a control, :math:`d = x' - x_t` (``other``, for
    instance another trial's final solution). Late in training :math:`x_T - x_t` is a few
    epochs of :math:`-\\eta \\nabla f`, so a positive inner product towards the own
    :math:`x_T` is close to automatic there; the control says what "positive" is worth.

    Parameters
    ----------
    model : torch.nn.Module
    thetas : torch.Tensor
        Shape ``(T, P)``: the epoch starts.
    target : torch.Tensor
        Shape ``(P,)``: the final solution :math:`x_T`.
    x, y : torch.Tensor
        The training data.
    other : torch.Tensor or None
        Shape ``(P,)``: the control's target; None: no control.
    chunk, batch_size, memory_gb, vectorize
        As for :func:`trajectory_inner_products`.

    Returns
    -------
    dict of torch.Tensor
        Shape ``(T,)`` each: ``inner``, ``cosine``, ``grad_norm``, and with ``other``
        ``inner_other`` and ``cosine_other``.
    """
    length = checks.model("model", model)
    rows = checks.stack("thetas", thetas, length, 2, "(T, P)")
    if rows.shape[0] < 1:
        validate.fail("thetas", "at least 1 row", shown=f"shape {tuple(rows.shape)}")
    targets = {"": checks.vector("target", target, length).to(rows.device, rows.dtype)}
    if other is not None:
        targets["_other"] = checks.vector("other", other, length).to(rows.device, rows.dtype)
    grads = _gradients_at(model, rows, x, y, chunk=chunk, batch_size=batch_size,
                          memory_gb=memory_gb, vectorize=vectorize)
    out = {"grad_norm": grads.norm(dim=1)}
    for suffix, point in targets.items():
        directions = point - rows
        inner = -(grads * directions).sum(dim=1)
        norms = out["grad_norm"] * directions.norm(dim=1)
        out["inner" + suffix] = inner
        out["cosine" + suffix] = torch.where(norms > 0, inner / torch.where(norms > 0, norms, 1),
                                             0)
    return out


# --------------------------------------------------------------------------- Figure 5b

def _generator(generator, device):
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return torch.Generator(device=device).manual_seed(int(generator))
    validate.fail("generator", "a torch.Generator or an integer seed", generator, TypeError)


def sample_ball(center, rho, k, *, generator):
    """``k`` points uniformly distributed in the ball of radius ``rho`` around ``center``.

    A uniform point of the :math:`P`-dimensional ball is :math:`c + \\rho\\, U^{1/P}\\,
    g / \\|g\\|` with :math:`g` standard Gaussian (a uniform direction) and :math:`U` uniform on
    [0, 1], since :math:`\\Pr(\\|w - c\\| \\le s \\rho) = s^P`. This is the noise of the smoothed
    loss that Assumption 1 and Section 5.2 use (radius 0.5 there). For large :math:`P` almost
    all the mass is near the sphere.

    Parameters
    ----------
    center : torch.Tensor
        Shape ``(P,)``, floating point.
    rho : float
        Radius, > 0.
    k : int
        Number of points, >= 1.
    generator : torch.Generator or int
        Source of randomness (an integer seeds a new generator on ``center``'s device). The
        draws happen on the generator's device and are moved to ``center``'s.

    Returns
    -------
    torch.Tensor
        Shape ``(k, P)``, ``center``'s dtype and device.
    """
    if not isinstance(center, torch.Tensor) or not center.is_floating_point():
        validate.fail("center", "a floating-point torch.Tensor", error=TypeError,
                      shown=type(center).__name__)
    if center.ndim != 1 or center.shape[0] == 0:
        validate.fail("center", "a 1-D tensor of length P >= 1",
                      shown=f"shape {tuple(center.shape)}")
    rho = _check_rho(rho)
    k = validate.integer("k", k, low=1)
    gen = _generator(generator, center.device)
    dim = center.shape[0]
    directions = torch.randn(k, dim, generator=gen, dtype=center.dtype, device=gen.device)
    uniforms = torch.rand(k, generator=gen, dtype=torch.float64, device=gen.device)
    radii = rho * torch.exp(torch.log(uniforms) / dim)
    directions = directions.to(center.device)
    norms = directions.norm(dim=1, keepdim=True)
    scale = (radii.to(center.device, center.dtype)[:, None]
             / torch.where(norms > 0, norms, 1))
    return center.detach() + directions * scale


def neighbourhood_points(center, rho, k, *, seed=0, start=0, stop=None):
    """The points :func:`neighbourhood_probe` draws: rows ``start:stop`` of ``k`` uniform points
    in the ball of radius ``rho`` around ``center``.

    Point ``i`` is ``sample_ball(center, rho, 1, generator=G_i)`` with ``G_i`` seeded by
    ``derive(seed, Purpose.BALL_POINT, i)`` (:func:`sgdlab.nn.seeds.derive`), so the points
    depend on ``seed`` only, not on how they are chunked.

    Parameters
    ----------
    center : torch.Tensor
        Shape ``(P,)``.
    rho : float
    k : int
    seed : int
    start, stop : int
        Half-open range of point indices (default all ``k``).

    Returns
    -------
    torch.Tensor
        Shape ``(stop - start, P)``.
    """
    k = validate.integer("k", k, low=1)
    seed = validate.seed("seed", seed)
    stop = k if stop is None else stop
    if not 0 <= start < stop <= k:
        validate.fail("start, stop", f"0 <= start < stop <= k = {k}", shown=f"{start!r}, "
                      f"{stop!r}")
    device = center.device if isinstance(center, torch.Tensor) else "cpu"
    return torch.cat([
        sample_ball(center, rho, 1,
                    generator=torch.Generator(device=device).manual_seed(
                        derive(seed, Purpose.BALL_POINT, i)))
        for i in range(start, stop)
    ])


@dataclass
class NeighbourhoodResult:
    """Inner products :math:`\\langle -\\nabla f(w), x_T - x_t \\rangle` at ``k`` random points
    :math:`w` of the ball around :math:`x_t` (:func:`neighbourhood_probe`).

    Attributes
    ----------
    values : torch.Tensor
        Shape ``(k,)``, CPU.
    mean, min, max, std : float
        Of ``values`` (``std`` with Bessel's correction; 0 for ``k == 1``).
    hoeffding_bound, confidence : float
        :func:`sgdlab.theory.hoeffding_bound` and :func:`sgdlab.theory.hoeffding_confidence`
        of ``values`` over ``[low, high]``.
    low, high : float
        The bound used (the observed min / max unless given).
    rho : float
    k, seed : int
    distance : float
        :math:`\\|x_T - x_t\\|`.
    """

    values: torch.Tensor = field(repr=False)
    mean: float
    min: float
    max: float
    std: float
    hoeffding_bound: float
    confidence: float
    low: float
    high: float
    rho: float
    k: int
    seed: int
    distance: float

    def to_dict(self):
        """JSON-ready summary (every field but ``values``, plus ``values`` as a list)."""
        out = {k: v for k, v in asdict(self).items() if k != "values"}
        out["values"] = self.values.tolist()
        return out


def neighbourhood_probe(model, theta_t, target, x, y, *, k=100, rho=0.5, seed=0, chunk=None,
                        batch_size=None, memory_gb=None, low=None, high=None,
                        vectorize=None):
    """Assumption 1 around one epoch's point: inner products at random points of its ball.

    Section 5.2, Figure 5b: for ``k`` points :math:`w` uniform in the ball of radius
    :math:`\\rho` around :math:`x_t` (:func:`neighbourhood_points`), the values
    :math:`\\langle -\\nabla f(w), x_T - x_t \\rangle` (the direction is fixed, from the ball's
    centre to the target). All positive, with a small spread, is the paper's evidence that the
    loss smoothed by the ball is one point convex along the trajectory; Hoeffding's bound
    (Lemma 6) turns them into a confidence that their expectation is positive.

    Parameters
    ----------
    model : torch.nn.Module
    theta_t : torch.Tensor
        The ball's centre :math:`x_t`, shape ``(P,)``.
    target : torch.Tensor
        The final solution :math:`x_T`, shape ``(P,)``.
    x, y : torch.Tensor
        The training data.
    k : int
        Points, >= 1 (100 in the paper).
    rho : float
        Radius, > 0 (0.5 in the paper).
    seed : int
        Seeds the points (independent of ``chunk``).
    chunk : int or None
        Points differentiated together under ``vmap``; None: :func:`vmap_width` of
        ``memory_gb``.
    batch_size : int or None
        The probe chunk of every full-batch gradient (the module's definition of f; None: one
        pass over all the data).
    memory_gb : float or None
        Memory budget of the ``vmap`` (GiB) when ``chunk`` is None; None:
        :func:`default_memory_gb`.
    vectorize : bool or None
        ``vmap`` over points (True) or a Python loop (False), same numbers; None:
        :func:`prefers_vmap` for the device.
    low, high : float or None
        Bound for :func:`sgdlab.theory.hoeffding_confidence` (default: observed min / max).

    Returns
    -------
    NeighbourhoodResult
    """
    length = checks.model("model", model)
    theta_t = checks.vector("theta_t", theta_t, length)
    target = checks.vector("target", target, length).to(theta_t.device, theta_t.dtype)
    rho = _check_rho(rho)
    k = validate.integer("k", k, low=1)
    seed = validate.seed("seed", seed)
    x, y = checks.data(x, y, theta_t)
    batch_size = _check_batch_size(batch_size)
    vectorize = _check_vectorize(vectorize, theta_t.device)
    chunk = _width(chunk, model, theta_t, x, k, batch_size, memory_gb)
    direction = target - theta_t
    loss = nets.functional_loss(model, theta_t)
    mapped = _mapper(full_gradient_function(loss, x, y, batch_size), vectorize)
    parts = []
    with evaluating(model, theta_t.device):
        for start in range(0, k, chunk):
            points = neighbourhood_points(theta_t, rho, k, seed=seed, start=start,
                                          stop=min(k, start + chunk))
            parts.append(-(mapped(points).detach() @ direction))
    values = torch.cat(parts).cpu()
    arr = values.double()
    low_used = float(arr.min()) if low is None else float(low)
    high_used = float(arr.max()) if high is None else float(high)
    return NeighbourhoodResult(
        values=values, mean=float(arr.mean()), min=float(arr.min()), max=float(arr.max()),
        std=float(arr.std()) if k > 1 else 0.0,
        hoeffding_bound=hoeffding_bound(arr.numpy(), low_used, high_used),
        confidence=hoeffding_confidence(arr.numpy(), low_used, high_used),
        low=low_used, high=high_used, rho=rho, k=k, seed=seed,
        distance=float(direction.double().norm()))


# --------------------------------------------------------------------------- Figure 5c

def per_sample_grad_norms(model, theta, x, y, *, chunk=None, memory_gb=None):
    """Norms :math:`\\|\\nabla f_i(\\theta)\\|` of the gradients of single samples, via
    ``vmap(grad)`` over samples.

    Each sample is a batch of one; with BatchNorm normalising by batch statistics that is the
    network applied to that sample alone (its feature maps supply the statistics), not that
    sample's share of a mini-batch gradient. Section 5.2 (Figure 5c) bounds the length of an
    SGD step, ``lr`` times a stochastic gradient norm.

    Parameters
    ----------
    model : torch.nn.Module
    theta : torch.Tensor
        Shape ``(P,)``.
    x, y : torch.Tensor
        ``N >= 1`` samples.
    chunk : int or None
        Samples mapped together; None: :func:`vmap_width` of ``memory_gb`` (a point being a
        batch of one sample).
    memory_gb : float or None
        Budget in GiB when ``chunk`` is None; None: :func:`default_memory_gb`.

    Returns
    -------
    torch.Tensor
        Shape ``(N,)``.
    """
    length = checks.model("model", model)
    theta = checks.vector("theta", theta, length)
    x, y = checks.data(x, y, theta)
    chunk = _width(chunk, model, theta, x, x.shape[0], 1, memory_gb)
    grad_loss = grad(nets.functional_loss(model, theta))

    def norm_one(xi, yi):
        return grad_loss(theta, xi.unsqueeze(0), yi.unsqueeze(0)).norm()

    mapped = vmap(norm_one)
    with evaluating(model, theta.device):
        return torch.cat([mapped(x[i:i + chunk], y[i:i + chunk])
                          for i in range(0, x.shape[0], chunk)]).detach()


def per_sample_grad_norms_loop(model, theta, x, y):
    """Reference for :func:`per_sample_grad_norms`: a Python loop of ``torch.autograd.grad``
    calls, one sample at a time (the same numbers, much slower).

    Returns
    -------
    torch.Tensor
        Shape ``(N,)``.
    """
    length = checks.model("model", model)
    theta = checks.vector("theta", theta, length)
    x, y = checks.data(x, y, theta)
    loss = nets.functional_loss(model, theta)
    leaf = theta.clone().requires_grad_(True)
    norms = torch.empty(x.shape[0], dtype=theta.dtype, device=theta.device)
    with evaluating(model, theta.device), torch.enable_grad():
        for i in range(x.shape[0]):
            (g,) = torch.autograd.grad(loss(leaf, x[i:i + 1], y[i:i + 1]), leaf)
            norms[i] = g.norm()
    return norms


def random_batches(n, batch_size, batches, seed):
    """The mini-batches of :func:`minibatch_grad_norms` and
    :func:`sgdlab.nn.noise.minibatch_noise`: a LongTensor (batches, batch_size), row ``b`` the
    first ``batch_size`` indices of a fresh :func:`torch.randperm` of ``range(n)``, all drawn
    from one CPU generator seeded by ``seed`` (so the marginal law of a batch of SGD's epoch
    permutation: distinct samples). No checks: the callers check their arguments."""
    gen = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randperm(n, generator=gen)[:batch_size] for _ in range(batches)])


def minibatch_grad_norms(model, theta, x, y, *, batch_size, batches, seed=0, chunk=None,
                         memory_gb=None):
    """Norms of stochastic gradients of random mini-batches at ``theta`` (Figure 5c).

    Draws ``batches`` mini-batches of ``batch_size`` distinct samples (a random permutation's
    first ``batch_size`` indices each, drawn before mapping) and returns
    :math:`\\|\\nabla f_B(\\theta)\\|` for each, computed under ``vmap`` over batches. An SGD step
    has length ``lr * norm``: Section 5.2 finds it below 0.5, the radius of the ball of
    :func:`neighbourhood_probe`.

    Parameters
    ----------
    model : torch.nn.Module
    theta : torch.Tensor
        Shape ``(P,)``.
    x, y : torch.Tensor
        ``N`` samples.
    batch_size : int
        ``1 <= batch_size <= N``.
    batches : int
        Number of mini-batches, >= 1.
    seed : int
    chunk : int or None
        Mini-batches mapped together; None: :func:`vmap_width` of ``memory_gb`` (a point
        being one mini-batch).
    memory_gb : float or None
        Budget in GiB when ``chunk`` is None; None: :func:`default_memory_gb`.

    Returns
    -------
    torch.Tensor
        Shape ``(batches,)``.
    """
    length = checks.model("model", model)
    theta = checks.vector("theta", theta, length)
    x, y = checks.data(x, y, theta)
    n = x.shape[0]
    batch_size = validate.integer("batch_size", batch_size, low=1, high=n)
    batches = validate.integer("batches", batches, low=1)
    seed = validate.seed("seed", seed)
    chunk = _width(chunk, model, theta, x, batches, batch_size, memory_gb)
    index = random_batches(n, batch_size, batches, seed).to(x.device)
    grad_loss = grad(nets.functional_loss(model, theta))
    mapped = vmap(lambda xb, yb: grad_loss(theta, xb, yb).norm())
    with evaluating(model, theta.device):
        return torch.cat([mapped(x[index[i:i + chunk]], y[index[i:i + chunk]])
                          for i in range(0, batches, chunk)]).detach()


# --------------------------------------------------------------------------- Section 5.3

@dataclass
class AllPairsResult:
    """Inner products between every trajectory point and every final solution
    (:func:`all_pairs_inner_products`).

    Attributes
    ----------
    values : torch.Tensor
        Shape ``(M, T + 1, M)`` (``(len(members), T + 1, M)`` for a part), float64, CPU:
        ``values[m, t, n]`` =
        :math:`\\langle -\\nabla f(x_{m,t}), x_n^{final} - x_{m,t} \\rangle` with
        :math:`x_n^{final}` = ``trajectories[n, -1]``. Every row and every ``n`` is kept.
    count_not_positive, total, share_not_positive :
        Over the epoch starts ``t = 0 .. T - 1`` and the *other* final solutions ``n != m``:
        ``total = M (M - 1) T`` values (50 * 49 * 140 = 343,000, the paper's total; that
        the paper leaves out ``n == m`` is our inference: 343,000 is also 70 ** 3).
    count_not_positive_with_self, total_with_self, share_not_positive_with_self :
        The same with ``n == m`` included (``M * M * T`` values): the trajectory's own final
        solution, Figure 5a's case.
    min_value : float
        Smallest value counted (``n != m``, ``t < T``).
    min_final_distance : float
        Smallest distance between two different final solutions (40 in the paper).
    """

    values: torch.Tensor = field(repr=False)
    count_not_positive: int
    total: int
    share_not_positive: float
    count_not_positive_with_self: int
    total_with_self: int
    share_not_positive_with_self: float
    min_value: float
    min_final_distance: float

    def to_dict(self):
        """JSON-ready summary (every field but ``values``)."""
        return {k: v for k, v in asdict(self).items() if k != "values"}


def inner_products_towards(model, points, targets, x, y, *, chunk=None, batch_size=None,
                           memory_gb=None, vectorize=None):
    """Inner products of the negative full-batch gradient at each point with the direction
    to each target (Section 5.3's quantity for one trajectory):

    .. math::

        v_{r,n} = \\langle -\\nabla f(p_r),\\; q_n - p_r \\rangle
                = \\nabla f(p_r) \\cdot p_r - \\nabla f(p_r) \\cdot q_n .

    Gradients are computed ``chunk`` points at a time (``vmap`` or the loop, as in
    :func:`trajectory_inner_products`) and contracted in float64 one point at a time, so that
    on the loop path a row does not depend on ``chunk``; the memory is ``O(chunk * P + N * P)``
    besides the ``vmap``.

    Parameters
    ----------
    model : torch.nn.Module
    points : torch.Tensor
        Shape ``(R, P)``, ``R >= 1``: the points :math:`p_r` (for example one trajectory).
    targets : torch.Tensor
        Shape ``(N, P)``, ``N >= 1``: the targets :math:`q_n` (for example every final
        solution).
    x, y, chunk, batch_size, memory_gb, vectorize
        As in :func:`trajectory_inner_products`.

    Returns
    -------
    torch.Tensor
        Shape ``(R, N)``, float64, on the CPU.
    """
    length = checks.model("model", model)
    points = checks.stack("points", points, length, 2, "(R, P)")
    targets = checks.stack("targets", targets, length, 2, "(N, P)")
    for name, value in (("points", points), ("targets", targets)):
        if value.shape[0] < 1:
            validate.fail(name, "at least 1 row", shown=f"shape {tuple(value.shape)}")
    targets = targets.to(points.device, torch.float64)
    rows = []
    for pts, grads in _gradient_chunks(model, points, x, y, chunk=chunk,
                                       batch_size=batch_size, memory_gb=memory_gb,
                                       vectorize=vectorize):
        rows.extend((g * p.double()).sum() - targets @ g for g, p in zip(grads.double(), pts))
    return torch.stack(rows).cpu()


def _check_members(members, count):
    """``members`` as a list of distinct indices ``0 .. count - 1`` (None: all)."""
    if members is None:
        return list(range(count))
    items = members.tolist() if isinstance(members, (np.ndarray, torch.Tensor)) else members
    if (not isinstance(items, (list, tuple, range))
            or not all(isinstance(m, numbers.Integral) and not isinstance(m, bool)
                       for m in items)):
        validate.fail("members", "a sequence of integers", members, TypeError)
    items = [int(m) for m in items]
    if not items or len(set(items)) < len(items) or not all(0 <= m < count for m in items):
        validate.fail("members", f"distinct indices of the {count} trajectories "
                      f"(0 .. {count - 1}), at least one", members)
    return items


def all_pairs_inner_products(model, trajectories, x, y, *, members=None, chunk=None,
                             batch_size=None, memory_gb=None, vectorize=None):
    """Section 5.3: is the loss surface a "slope" towards *every* final solution?

    For ``M`` trajectories of ``T + 1`` points each (for example epochs 10 .. 150 of runs that
    share their first 10 epochs), computes for every point :math:`x_{m,t}` and every final
    solution :math:`x_n^{final}`

    .. math::

        \\langle -\\nabla f(x_{m,t}),\\; x_n^{final} - x_{m,t} \\rangle

    (:func:`inner_products_towards`, trajectory by trajectory).

    The last row of each trajectory is its final solution. It is kept in ``values`` but left
    out of the counts, where its value against its own final solution is exactly 0; the counts
    run over the ``T`` epoch starts. The headline share excludes ``n == m`` (the trajectory's
    own target, Section 5.1's case): ``M (M - 1) T`` = 50 * 49 * 140 = 343,000 matches the
    paper's total, so we infer that the paper leaves ``n == m`` out (it does not say so, and
    343,000 is also 70 ** 3); the share including ``n == m`` is reported too.

    Parameters
    ----------
    model : torch.nn.Module
    trajectories : torch.Tensor
        Shape ``(M, T + 1, P)`` with ``M >= 2`` and ``T >= 1``.
    x, y : torch.Tensor
        The training data.
    members : sequence of int or None
        The trajectories to probe (distinct indices in ``0 .. M - 1``), against every final
        solution; None: all. Their rows are those of the whole probe (bitwise on the loop
        path; on the ``vmap`` path when ``chunk`` is a multiple of ``T + 1``), so the
        trajectories can be probed in parts, on several processes.
    chunk : int or None
        Points differentiated together under ``vmap``; None: :func:`vmap_width` of
        ``memory_gb``.
    batch_size : int or None
        The probe chunk of every full-batch gradient (the module's definition of f; None: one
        pass over all the data).
    memory_gb : float or None
        Memory budget of the ``vmap`` (GiB) when ``chunk`` is None; None:
        :func:`default_memory_gb`.
    vectorize : bool or None
        ``vmap`` over points (True) or a Python loop (False), same numbers; None:
        :func:`prefers_vmap` for the device. Gradients are contracted with the final
        solutions point by point (float64), so besides the ``vmap`` the memory is
        ``O(chunk * P + M * P)``.

    Returns
    -------
    AllPairsResult
        Over the probed members only: ``values`` of shape ``(len(members), T + 1, M)`` and
        the counts of their rows (``min_final_distance`` is over all final solutions).
    """
    length = checks.model("model", model)
    trajectories = checks.stack("trajectories", trajectories, length, 3, "(M, T + 1, P)")
    count, rows = trajectories.shape[:2]
    if count < 2 or rows < 2:
        validate.fail("trajectories", "of shape (M, T + 1, P) with M >= 2 trajectories and "
                      "T + 1 >= 2 points each", shown=f"shape {tuple(trajectories.shape)}")
    index = _check_members(members, count)
    finals = trajectories[:, -1]
    points = trajectories[index].reshape(len(index) * rows, length)
    values = inner_products_towards(model, points, finals, x, y, chunk=chunk,
                                    batch_size=batch_size, memory_gb=memory_gb,
                                    vectorize=vectorize).reshape(len(index), rows, count)
    counted = values[:, :-1, :]
    others = torch.ones(counted.shape, dtype=torch.bool)
    for k, m in enumerate(index):
        others[k, :, m] = False
    not_positive = counted <= 0
    found = int(not_positive[others].sum())
    total = int(others.sum())
    found_self = int(not_positive.sum())
    total_self = counted.numel()
    finals = finals.double()
    distances = torch.cdist(finals[None], finals[None],
                            compute_mode="donot_use_mm_for_euclid_dist")[0].cpu()
    distances.fill_diagonal_(math.inf)
    return AllPairsResult(
        values=values, count_not_positive=found, total=total,
        share_not_positive=found / total,
        count_not_positive_with_self=found_self, total_with_self=total_self,
        share_not_positive_with_self=found_self / total_self,
        min_value=float(counted[others].min()),
        min_final_distance=float(distances.min()))


def one_point_convex_share(inner_products):
    """Share of strictly positive inner products (1.0: one point convex at every point probed).

    Parameters
    ----------
    inner_products : array_like or torch.Tensor
        Any shape, at least one finite value.

    Returns
    -------
    float
    """
    if isinstance(inner_products, torch.Tensor):
        inner_products = inner_products.detach().cpu().numpy()
    arr = np.asarray(inner_products, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        validate.fail("inner_products", "at least one value", shown="an empty array")
    if not np.isfinite(arr).all():
        validate.fail("inner_products", "finite", shown="NaN or inf")
    return float((arr > 0).mean())
