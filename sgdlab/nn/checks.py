"""The checks of the tensor arguments of :mod:`sgdlab.nn`: models, parameter vectors, data.

Scalars (sizes, seeds, radii, names) are checked by the package's one validation module; this
module adds what needs torch, in the same style: a bad argument raises ``TypeError`` (wrong
kind) or ``ValueError`` (wrong shape or value) with the message ``"NAME must be ..., got
VALUE"``. Each returns the argument ready to use (detached, converted).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import _validate as validate

__all__ = ["model", "vector", "stack", "data", "start_vector", "ensemble"]


def _shape(tensor):
    return f"shape {tuple(tensor.shape)}"


def model(name, value):
    """A :class:`torch.nn.Module` with at least one parameter; returns its parameter count."""
    if not isinstance(value, nn.Module):
        validate.fail(name, "a torch.nn.Module", error=TypeError, shown=type(value).__name__)
    count = sum(p.numel() for p in value.parameters())
    if count == 0:
        validate.fail(name, "a module with at least one parameter", shown="none")
    return count


def _floating(name, value, expected):
    if not isinstance(value, torch.Tensor):
        validate.fail(name, expected, error=TypeError, shown=type(value).__name__)
    if not value.is_floating_point():
        validate.fail(name, "a floating-point tensor", error=TypeError,
                      shown=f"dtype {value.dtype}")


def _finite(name, value):
    if not bool(torch.isfinite(value).all()):
        validate.fail(name, "finite", shown="NaN or inf")
    return value.detach()


def vector(name, value, length):
    """A finite floating-point parameter vector of shape (length,), detached."""
    expected = f"a 1-D tensor of length P = {length} (the model's parameters in " \
               "named_parameters() order)"
    _floating(name, value, expected)
    if value.ndim != 1 or value.shape[0] != length:
        validate.fail(name, expected, shown=_shape(value))
    return _finite(name, value)


def stack(name, value, length, ndim, what):
    """A finite floating-point stack of parameter vectors, ``ndim`` dimensions, the last of
    size ``length`` (``what`` names the shape, e.g. ``"(T + 1, P)"``), detached."""
    expected = f"of shape {what} with P = {length} (the model's parameter count)"
    _floating(name, value, f"a torch.Tensor {expected}")
    if value.ndim != ndim or value.shape[-1] != length:
        validate.fail(name, expected, shown=_shape(value))
    return _finite(name, value)


def data(x, y, like):
    """Inputs ``x`` (N, ...) and integer labels ``y`` (N,), N >= 1, moved to the device of
    ``like`` (and floating ``x`` to its dtype); ``y`` as int64."""
    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, torch.Tensor):
            validate.fail(name, "a torch.Tensor", error=TypeError, shown=type(value).__name__)
    if x.ndim < 1 or x.shape[0] == 0:
        validate.fail("x", "a non-empty batch of inputs (N >= 1 along dim 0)", shown=_shape(x))
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        validate.fail("y", f"a 1-D tensor of N = {x.shape[0]} class labels (one per row of x)",
                      shown=_shape(y))
    if y.dtype.is_floating_point or y.dtype == torch.bool:
        validate.fail("y", "integer class labels", error=TypeError, shown=f"dtype {y.dtype}")
    x = x.detach().to(like.device)
    if x.is_floating_point():
        x = x.to(like.dtype)
    return x, y.detach().to(like.device, torch.long)


def start_vector(name, value, length, leading=()):
    """Start weights as a new C-contiguous float32 array of shape ``leading + (length,)``
    (a copy: the value may be a read-only memory map), finite."""
    shape = leading + (length,)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        value = np.array(value, dtype=np.float32)
    except (TypeError, ValueError):
        validate.fail(name, f"an array of shape {shape}", shown=type(value).__name__)
    if value.shape != shape:
        validate.fail(name, f"of shape {shape} (P = {length}, the model's parameter count)",
                      shown=f"shape {value.shape}")
    if not np.all(np.isfinite(value)):
        validate.fail(name, "finite", shown="NaN or inf")
    return np.ascontiguousarray(value)


def ensemble(params, x, y, batches, lr):
    """The arguments of one ensemble epoch (:func:`sgdlab.nn.train.sgd_epoch_ensemble`):
    stacked parameters (leading dimension M), data, batches (M, steps, batch_size), a step
    size > 0; returns ``lr`` as a float."""
    if not isinstance(params, dict) or not params:
        validate.fail("params", "a non-empty dict name -> stacked tensor (leading dimension "
                      "M), as from torch.func.stack_module_state", error=TypeError,
                      shown=type(params).__name__)
    members = {int(v.shape[0]) for v in params.values()}
    if not isinstance(batches, torch.Tensor) or batches.ndim != 3 or batches.dtype != torch.long:
        validate.fail("batches", "a LongTensor (M, steps, batch_size)",
                      shown=f"{getattr(batches, 'dtype', type(batches).__name__)} "
                            f"{tuple(getattr(batches, 'shape', ()))}")
    if members != {batches.shape[0]}:
        validate.fail("params and batches", "of the same leading dimension M",
                      shown=f"{sorted(members)} and {batches.shape[0]}")
    lr = validate.real("lr", lr, above=0)
    if x.shape[0] != y.shape[0]:
        validate.fail("x and y", "of the same length", shown=f"{x.shape[0]} and {y.shape[0]}")
    return lr
