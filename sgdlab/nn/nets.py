"""ResNets and DenseNets for the Section 5 experiments, small and paper-sized.

Kleinberg, Li and Yuan (ICML 2018), Section 5, probe the loss surfaces of a ResNet
(He et al., 2016; "34 layers, about 1.2M parameters") and a DenseNet (Huang et al., 2016;
"100 layers, about 0.8M parameters") trained on CIFAR-10/100 (Sections 5.1, 5.2), and of
"smaller networks (each with about 10K parameters)" (Sections 5.3, 5.4). :func:`build` makes
all four (:data:`~sgdlab.nn.names.ARCHS`):

============  ==========================================  =========================
arch          layout                                      parameters, 10 classes
============  ==========================================  =========================
resnet        ResNet-14: basic blocks [2, 2, 2],          11,302 (1x8x8),
              widths 4-8-16                               11,374 (3x32x32)
densenet      DenseNet-BC-22: growth 4, 3 blocks of 3     8,570 (1x8x8),
              bottleneck layers, compression 0.5          8,714 (3x32x32)
resnet34      ResNet-34: basic blocks [3, 4, 6, 3],       1,173,355 (3x32x32)
              widths 15-30-60-120                         (1,184,245 for 100 classes)
densenet100   DenseNet-BC-100: growth 12, 3 blocks of     769,162 (3x32x32)
              16 bottleneck layers, compression 0.5       (800,032 for 100 classes)
============  ==========================================  =========================

:func:`build_mini` adds a ResNet-8 (basic blocks [1, 1, 1], widths 2-4-8; 1,384 parameters for
1x8x8, 10 classes) small enough for a dense Hessian (:mod:`sgdlab.nn.curvature`'s checks).

ResNet-34 has the layout of He et al. (2016) (33 convolutions and a linear layer) with the
widths divided by about 4.3 (64 -> 15), to match the paper's "about 1.2M parameters";
DenseNet-BC-100 with growth rate 12 is exactly the CIFAR network of Huang et al.

The stem adapts to the input: a 3x3 convolution with stride 1 (CIFAR style, no max pooling)
for images smaller than 64 pixels, so 1x8x8 digits and 3x32x32 CIFAR images both work; the
ImageNet stem (7x7 stride 2 and max pooling) only for 64 pixels and up.

**BatchNorm without running statistics.** Every normalisation layer is
``nn.BatchNorm2d(..., track_running_stats=False)``: it normalises with the statistics of the
batch it is given, in training *and* in evaluation mode, and the model has no buffers. So the
loss on a given batch is a pure function of the parameter vector, which is what the paper's
probes need (the inner products of Section 5 and Assumption 1 are about a function
:math:`f(x)` of the weights alone, not of running-statistics buffers that depend on the
history of training), and the model works inside :func:`torch.func.functional_call` and
:func:`torch.func.vmap` (no in-place buffer updates). The price: a prediction depends on the
other images of its batch, so evaluate with large batches.

Parameter vectors are the parameters of ``model.named_parameters()`` flattened and
concatenated in that order (:func:`flatten_params`, :func:`unflatten_params`), the convention
of :mod:`sgdlab.nn.probe` and :mod:`sgdlab.nn.train`. :func:`functional_loss` is the loss
:math:`f` of a model as a function of its parameters (a vector or a dict), the one function
that training, the ensembles and the probes differentiate.

Importing :mod:`sgdlab` does not import this module (nor torch).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from .. import _validate as validate
from .names import ARCHS

__all__ = ["ARCHS", "ChannelConcat", "build", "build_mini", "count_parameters",
           "param_names_shapes", "flatten_params", "unflatten_params", "params_dict",
           "functional_forward", "functional_loss"]


def _bn(channels):
    return nn.BatchNorm2d(channels, track_running_stats=False)


def _stem(in_channels, out_channels, size):
    """3x3 stride-1 stem below 64 pixels (digits, CIFAR); ImageNet stem from 64 up."""
    if size < 64:
        return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False))
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 7, stride=2, padding=3,
                                   bias=False),
                         _bn(out_channels), nn.ReLU(),
                         nn.MaxPool2d(3, stride=2, padding=1))


# --------------------------------------------------------------------------- ResNet

class BasicBlock(nn.Module):
    """He et al. (2016) basic block: two 3x3 convolutions and an identity (or 1x1) shortcut."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = _bn(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = _bn(out_channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                _bn(out_channels))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """ResNet with basic blocks: stem, stages of ``blocks[i]`` blocks of width ``widths[i]``
    (stride 2 at the start of every stage but the first), global average pooling, linear."""

    def __init__(self, in_shape, classes, widths, blocks):
        super().__init__()
        channels, height, width = in_shape
        self.stem = _stem(channels, widths[0], min(height, width))
        self.bn = _bn(widths[0])
        stages, current = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            layers = []
            for j in range(n):
                layers.append(BasicBlock(current, w, 2 if (i > 0 and j == 0) else 1))
                current = w
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(current, classes)

    def forward(self, x):
        out = F.relu(self.bn(self.stem(x)))
        out = self.stages(out)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.fc(out)


# --------------------------------------------------------------------------- DenseNet

class ChannelConcat(nn.Module):
    """``torch.cat(tensors, 1)`` as a layer, so that :mod:`sgdlab.nn.grouped` can concatenate
    per member when it evaluates many networks at once. No parameters."""

    def forward(self, *tensors):
        return torch.cat(tensors, 1)


class DenseLayer(nn.Module):
    """DenseNet-BC layer: BN-ReLU-conv1x1 (4k channels)-BN-ReLU-conv3x3 (k), concatenated."""

    def __init__(self, in_channels, growth):
        super().__init__()
        self.bn1 = _bn(in_channels)
        self.conv1 = nn.Conv2d(in_channels, 4 * growth, 1, bias=False)
        self.bn2 = _bn(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)
        self.concat = ChannelConcat()

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return self.concat(x, out)


class Transition(nn.Module):
    """BN-ReLU-conv1x1 (compression) then 2x2 average pooling."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.bn = _bn(in_channels)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)


class DenseNet(nn.Module):
    """DenseNet-BC (Huang et al.): stem of ``2 * growth`` channels, three dense blocks of
    ``layers`` bottleneck layers, transitions halving the channels (compression 0.5),
    BN-ReLU, global average pooling, linear. Depth = 6 * layers + 4."""

    def __init__(self, in_shape, classes, growth, layers, compression=0.5):
        super().__init__()
        channels, height, width = in_shape
        current = 2 * growth
        self.stem = _stem(channels, current, min(height, width))
        blocks = []
        for i in range(3):
            block = []
            for _ in range(layers):
                block.append(DenseLayer(current, growth))
                current += growth
            blocks.append(nn.Sequential(*block))
            if i < 2:
                out = int(math.floor(current * compression))
                blocks.append(Transition(current, out))
                current = out
        self.blocks = nn.Sequential(*blocks)
        self.bn = _bn(current)
        self.fc = nn.Linear(current, classes)

    def forward(self, x):
        out = self.blocks(self.stem(x))
        out = F.relu(self.bn(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.fc(out)


# --------------------------------------------------------------------------- building

_SPECS = {
    "resnet": (ResNet, dict(widths=(4, 8, 16), blocks=(2, 2, 2))),
    "densenet": (DenseNet, dict(growth=4, layers=3)),
    "resnet34": (ResNet, dict(widths=(15, 30, 60, 120), blocks=(3, 4, 6, 3))),
    "densenet100": (DenseNet, dict(growth=12, layers=16)),
}


def _init(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(m.in_features)
            nn.init.uniform_(m.weight, -bound, bound)
            nn.init.zeros_(m.bias)


def _check_in_shape(in_shape):
    try:
        in_shape = tuple(int(v) for v in in_shape)
    except TypeError:
        validate.fail("in_shape", "a tuple (C, H, W)", in_shape, TypeError)
    if len(in_shape) != 3 or min(in_shape) < 1:
        validate.fail("in_shape", "(C, H, W) with positive sizes", in_shape)
    if min(in_shape[1:]) < 4:
        validate.fail("in_shape", "of images of at least 4x4 pixels (the networks downsample "
                      "twice)", in_shape)
    return in_shape


def build(arch, in_shape, classes, *, seed=0):
    """Build one of the Section 5 networks with a deterministic initialisation.

    Parameters
    ----------
    arch : {"resnet", "densenet", "resnet34", "densenet100"}
        See the table in :mod:`sgdlab.nn.nets`: small (about 10K parameters, paper Sections
        5.3-5.4) or paper-sized (about 1.2M / 0.8M, Sections 5.1-5.2).
    in_shape : tuple of int
        (C, H, W) of one input image, e.g. (1, 8, 8) for digits, (3, 32, 32) for CIFAR.
    classes : int
        Number of outputs.
    seed : int, default 0
        Seed of the initialisation (Kaiming normal convolutions, unit BatchNorm scales, zero
        biases). The global torch RNG is left as it was.

    Returns
    -------
    torch.nn.Module
        On the CPU, float32, in training mode, without buffers.
    """
    validate.choice("arch", arch, ARCHS)
    in_shape = _check_in_shape(in_shape)
    classes = validate.integer("classes", classes, low=1)
    seed = validate.seed("seed", seed)
    cls, kwargs = _SPECS[arch]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = cls(in_shape, classes, **kwargs)
        _init(model)
    return model


_MINI = dict(widths=(2, 4, 8), blocks=(1, 1, 1))


def build_mini(in_shape, classes, *, seed=0):
    """A ResNet-8 small enough for a dense Hessian: the network of the curvature checks.

    Basic blocks [1, 1, 1], widths 2-4-8: 1,384 parameters for 1x8x8 digits and 10 classes
    (1,420 for 3x32x32), so that :func:`sgdlab.nn.curvature.dense_hessian` (a P x P matrix,
    P products) and :func:`sgdlab.nn.curvature.dense_check` run on a CPU: about 8 s on 64 and
    30 s on 256 digits in float64 on 2 cores. Same BatchNorm (batch statistics, no buffers)
    and initialisation as :func:`build`.

    Parameters
    ----------
    in_shape : tuple of int
        (C, H, W) of one input image.
    classes : int
        Number of outputs.
    seed : int, default 0
        Seed of the initialisation; the global torch RNG is left as it was.

    Returns
    -------
    torch.nn.Module
        On the CPU, float32, in training mode, without buffers.
    """
    in_shape = _check_in_shape(in_shape)
    classes = validate.integer("classes", classes, low=1)
    seed = validate.seed("seed", seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ResNet(in_shape, classes, **_MINI)
        _init(model)
    return model


# --------------------------------------------------------------------------- parameter vectors

def count_parameters(model):
    """Number of scalar parameters of ``model`` (the length P of its parameter vectors)."""
    return int(sum(p.numel() for p in model.parameters()))


def param_names_shapes(model):
    """``[(name, shape), ...]`` of ``model.named_parameters()``, the order of the vectors."""
    return [(name, tuple(p.shape)) for name, p in model.named_parameters()]


def flatten_params(params_dict):
    """Concatenate ``{name: tensor}`` (in its order) into one 1-D tensor.

    Parameters
    ----------
    params_dict : dict[str, torch.Tensor], or torch.nn.Module
        For a module, its ``named_parameters()``.

    Returns
    -------
    torch.Tensor
        Shape (P,), detached, a new tensor.
    """
    if isinstance(params_dict, nn.Module):
        params_dict = dict(params_dict.named_parameters())
    tensors = [t.detach() for t in params_dict.values()]
    if not tensors:
        validate.fail("params_dict", "at least one tensor", shown="none")
    return torch.cat([t.reshape(-1) for t in tensors])


def unflatten_params(model, vector):
    """Split a parameter vector into ``{name: tensor}`` shaped like ``model``'s parameters.

    The pieces are views of ``vector`` (no copy), so gradients flow back to it and the
    function works inside :func:`torch.func.vmap` and :func:`torch.func.grad`.

    Parameters
    ----------
    model : torch.nn.Module
    vector : torch.Tensor
        Shape (P,), in ``model.named_parameters()`` order.

    Returns
    -------
    dict[str, torch.Tensor]
    """
    shapes = param_names_shapes(model)
    sizes = [math.prod(shape) for _, shape in shapes]
    if vector.ndim != 1 or vector.shape[0] != sum(sizes):
        validate.fail("vector", f"of shape ({sum(sizes)},) (the model's parameter count)",
                      shown=f"shape {tuple(vector.shape)}")
    pieces = torch.split(vector, sizes)
    return {name: piece.view(shape) for (name, shape), piece in zip(shapes, pieces)}


def params_dict(model):
    """A detached copy ``{name: tensor}`` of ``model``'s parameters."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


# --------------------------------------------------------------------------- the loss f

def functional_forward(model, like=None):
    """``model`` as a pure function of its parameters: ``forward(params, x) -> logits``.

    ``params`` is a parameter vector (P,) in ``model.named_parameters()`` order, split into
    views shaped like the parameters, or a dict ``{name: tensor}``. The model is called with
    :func:`torch.func.functional_call`; its own parameter values are never used. Works under
    :func:`torch.func.grad` and :func:`torch.func.vmap`.

    Parameters
    ----------
    model : torch.nn.Module
        Functional template.
    like : torch.Tensor, optional
        The model's buffers (none for :func:`build`'s networks) are moved to the device of
        ``like`` (floating ones to its dtype too); default: as they are.
    """
    shapes = [(name, p.shape) for name, p in model.named_parameters()]
    numels = [math.prod(shape) for _, shape in shapes]
    buffers = {
        name: (b.detach() if like is None else b.detach().to(like.device, like.dtype)
               if b.is_floating_point() else b.detach().to(like.device))
        for name, b in model.named_buffers()
    }

    def forward(params, x):
        if isinstance(params, torch.Tensor):
            pieces = torch.split(params, numels)
            params = {name: piece.reshape(shape) for (name, shape), piece in zip(shapes, pieces)}
        return functional_call(model, (params, buffers), (x,))

    return forward


def functional_loss(model, like=None):
    """The loss :math:`f_B` of ``model`` as a pure function of its parameters: ``loss(params,
    x, y)``, the mean cross-entropy of the logits :func:`functional_forward` gives on the
    batch ``x`` with labels ``y``,

    .. math::

        f_B(\\theta) = \\frac{1}{|B|} \\sum_{(x, y) \\in B} -\\log
        \\operatorname{softmax}(\\text{model}_\\theta(x))_y .

    ``params``: a vector (P,) or a dict ``{name: tensor}``; ``like`` as in
    :func:`functional_forward`.
    """
    forward = functional_forward(model, like)

    def loss(params, x, y):
        return F.cross_entropy(forward(params, x), y)

    return loss
