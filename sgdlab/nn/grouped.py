"""M networks of one architecture as a single network with member-grouped channels.

Section 5.3 of Kleinberg, Li and Yuan (ICML 2018) trains 50 copies of a small network from one
shared point with different seeds. :func:`ensemble_template` turns one of the
:mod:`sgdlab.nn.nets` networks into a template that evaluates M copies at once: member ``m``'s
channels are channels ``m*C .. (m+1)*C - 1`` of one batch of shape (B, M*C, H, W), and

* every convolution is one convolution with ``groups = M`` (times its own groups): member
  ``m``'s output channels see only member ``m``'s input channels;
* every BatchNorm is one ``batch_norm`` over M*C channels: each channel is normalised with the
  statistics of its own member's batch, as in the member's own network;
* the linear head maps (B, M*C) to logits (B, M, K) with one weight matrix per member;
* DenseNet's concatenations (:class:`sgdlab.nn.nets.ChannelConcat`) concatenate per member.

Element-wise layers and pooling act on each channel alone, so they need no change. The
template takes the members' parameters stacked along a leading dimension M, with the names of
the original network (``torch.func.stack_module_state``), through
:func:`torch.func.functional_call`; its own parameters are never used. Every member's loss is
then a function of its own parameters only, so one backward pass of the sum of the members'
losses (:func:`ensemble_loss`) gives every member its own gradient.

This is what :func:`torch.func.vmap` makes of the network too (it batches a convolution over
members into a grouped convolution), but without vmap's batching rules, which on the CPU add
layout copies and split every BatchNorm into several strided passes; and it runs the
activations channels-last, the layout in which the CPU's grouped convolutions are fastest,
and the convolutions of maps of at most ``DENSE_PIXELS`` pixels as M dense matrix
products (faster there than a grouped convolution).
:func:`sgdlab.nn.train.sgd_epoch_ensemble` uses it by default; the check is the member-by-member
reference :func:`sgdlab.nn.train.sgd_epoch_sequential` (equal to float64 rounding in float64).
"""

from __future__ import annotations

import copy
import functools
import itertools

import torch
import torch.nn.functional as F
from torch import nn

from .. import _validate as validate
from . import nets

__all__ = ["ensemble_template", "ensemble_input", "ensemble_loss"]


DENSE_PIXELS = 4
"""Convolutions (other than 1x1) of maps of at most this many pixels run as dense matrix
products."""


class _GroupedConv2d(nn.Conv2d):
    """``Conv2d`` for M members: weight (M, C_out, C_in / groups, k, k), bias (M, C_out)."""

    def forward(self, x):
        weight, bias = self.weight, self.bias
        members = weight.shape[0]
        if (x.shape[2] * x.shape[3] <= DENSE_PIXELS and self.groups == 1
                and weight.shape[3] * weight.shape[4] > 1
                and not isinstance(self.padding, str)):
            out = _dense_conv(x, weight, self.stride, self.padding, self.dilation)
        else:
            out = F.conv2d(x, weight.flatten(0, 1), None, self.stride, self.padding,
                           self.dilation, members * self.groups)
        return out if bias is None else out + bias.flatten()[:, None, None]


@functools.lru_cache(maxsize=64)
def _dense_index(shape, stride, padding, dilation, height, width):
    """Where each entry of the dense matrix of a convolution comes from in the flattened
    weight (C_out, C_in, kh, kw); ``C_out * C_in * kh * kw`` (one past the end) for a zero.
    Rows: (output pixel, C_out), columns: (input pixel, C_in), pixels row-major."""
    c_out, c_in, kh, kw = shape
    out_h = (height + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (width + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    index = torch.full((out_h, out_w, c_out, height, width, c_in), c_out * c_in * kh * kw)
    channels = torch.arange(c_out)[:, None] * c_in + torch.arange(c_in)[None, :]
    for oy, ox, ky, kx in itertools.product(range(out_h), range(out_w), range(kh), range(kw)):
        iy = oy * stride[0] - padding[0] + ky * dilation[0]
        ix = ox * stride[1] - padding[1] + kx * dilation[1]
        if 0 <= iy < height and 0 <= ix < width:
            index[oy, ox, :, iy, ix, :] = (channels * kh + ky) * kw + kx
    return index.reshape(out_h * out_w * c_out, height * width * c_in), out_h, out_w


def _from_stored(stored):
    """(B, H, W, M, C) in memory -> the grouped batch (B, M*C, H, W), channels-last: merging
    M and C is a view with channel stride 1."""
    return stored.permute(0, 3, 4, 1, 2).flatten(1, 2)


def _dense_conv(x, weight, stride, padding, dilation):
    """The grouped convolution of a small map as M dense matrix products (faster on a CPU
    than a grouped convolution when the map has a few pixels). Output channels-last."""
    members, c_out, c_in = weight.shape[:3]
    batch, _, height, width = x.shape
    index, out_h, out_w = _dense_index(tuple(weight.shape[1:]), tuple(stride), tuple(padding),
                                       tuple(dilation), height, width)
    flat = torch.cat([weight.flatten(1), weight.new_zeros(members, 1)], 1)
    dense = flat[:, index.to(weight.device)]            # (M, out pixels * C_out, pixels * C_in)
    inputs = x.unflatten(1, (members, c_in)).permute(1, 0, 3, 4, 2).reshape(members, batch, -1)
    out = torch.bmm(inputs, dense.transpose(1, 2))      # (M, B, out pixels * C_out)
    out = out.view(members, batch, out_h, out_w, c_out).permute(1, 2, 3, 0, 4).contiguous()
    return _from_stored(out)


class _GroupedBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` without running statistics for M members: weight and bias (M, C)."""

    def forward(self, x):
        return F.batch_norm(x, None, None, self.weight.flatten(), self.bias.flatten(),
                            training=True, momentum=0.0, eps=self.eps)


class _GroupedLinear(nn.Linear):
    """``Linear`` for M members: (B, M*C) -> (B, M, K); weight (M, K, C), bias (M, K)."""

    def forward(self, x):
        weight, bias = self.weight, self.bias
        out = torch.einsum("bmc,mkc->bmk", x.reshape(x.shape[0], weight.shape[0], -1), weight)
        return out if bias is None else out + bias


class _GroupedConcat(nets.ChannelConcat):
    """Channel concatenation per member: (B, M*C1, H, W), (B, M*C2, H, W) -> (B, M*(C1+C2), H, W)."""

    members = 1

    def forward(self, *tensors):
        m = self.members
        # concatenate in the (B, H, W, M, C) order, so the result is channels-last
        parts = [t.permute(0, 2, 3, 1).unflatten(-1, (m, -1)) for t in tensors]
        return _from_stored(torch.cat(parts, -1))


_GROUPED = {nn.Conv2d: _GroupedConv2d, nn.BatchNorm2d: _GroupedBatchNorm2d,
            nn.Linear: _GroupedLinear, nets.ChannelConcat: _GroupedConcat}


def ensemble_template(model, members):
    """A copy of ``model`` that evaluates ``members`` copies of it at once (see the module).

    Parameters
    ----------
    model : torch.nn.Module
        A network of :func:`sgdlab.nn.nets.build` (its layers: ``Conv2d``, ``BatchNorm2d``
        without running statistics, ``Linear``, :class:`sgdlab.nn.nets.ChannelConcat`, and
        layers without parameters that act on each channel alone). Not changed.
    members : int
        M, the number of networks.

    Returns
    -------
    torch.nn.Module
        Call it as ``functional_call(template, stacked_params, (ensemble_input(xb),))`` with
        parameters of shape (M, ...) named as ``model``'s; it returns logits (B, M, K).
    """
    members = validate.integer("members", members, low=1)
    template = copy.deepcopy(model)
    for module in template.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            validate.fail("model", "without BatchNorm running statistics (they cannot be "
                          "grouped)", shown=f"a {type(module).__name__} with running statistics")
        if type(module) in _GROUPED:
            module.__class__ = _GROUPED[type(module)]
            if isinstance(module, _GroupedConcat):
                module.members = members
        elif list(module.parameters(recurse=False)):
            validate.fail("model", "made of layers that can be grouped (Conv2d, BatchNorm2d, "
                          "Linear, ChannelConcat, layers without parameters)",
                          shown=f"a {type(module).__name__} layer, which it cannot group")
    return template


def ensemble_input(xb):
    """Member batches (M, B, C, H, W) as one grouped batch (B, M*C, H, W), channels-last."""
    if xb.ndim != 5:
        validate.fail("xb", "of shape (M, B, C, H, W)", shown=f"shape {tuple(xb.shape)}")
    return _from_stored(xb.permute(1, 3, 4, 0, 2).contiguous())


def ensemble_loss(template, params, xb, yb):
    """Sum over members of each member's mean cross-entropy on its own batch.

    Parameters
    ----------
    template : torch.nn.Module
        From :func:`ensemble_template`.
    params : dict[str, torch.Tensor]
        Stacked parameters, leading dimension M.
    xb : torch.Tensor
        (M, B, C, H, W): member ``m``'s batch is ``xb[m]``.
    yb : torch.LongTensor
        (M, B) labels.

    Returns
    -------
    torch.Tensor
        Scalar :math:`\\sum_m f_{B_m}(x^{(m)})`; its gradient with respect to ``params[name][m]``
        is member ``m``'s mini-batch gradient.
    """
    logits = nets.functional_forward(template)(params, ensemble_input(xb))   # (B, M, K)
    losses = F.cross_entropy(logits.transpose(1, 2), yb.T, reduction="none")  # (B, M)
    return losses.mean(0).sum()
