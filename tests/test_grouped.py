"""Tests of sgdlab.nn.grouped: M networks as one network with member-grouped channels, checked
against each member's own network (float64, so that rounding cannot flip a ReLU)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state

from sgdlab.nn import grouped, nets

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _members(arch, in_shape, members=3):
    return [nets.build(arch, in_shape, 10, seed=s).double() for s in range(members)]


@pytest.mark.parametrize("arch, in_shape", [("resnet", (1, 8, 8)), ("densenet", (1, 8, 8)),
                                            ("resnet", (3, 6, 5)), ("resnet34", (3, 8, 8)),
                                            ("densenet100", (1, 8, 8))])
def test_template_gives_every_members_logits(arch, in_shape):
    models = _members(arch, in_shape, members=2 if arch.endswith(("34", "100")) else 3)
    params, _ = stack_module_state(models)
    gen = torch.Generator().manual_seed(0)
    xb = torch.randn(len(models), 5, *in_shape, generator=gen, dtype=torch.float64)
    template = grouped.ensemble_template(models[0], len(models))
    logits = functional_call(template, params, (grouped.ensemble_input(xb),))
    assert logits.shape == (5, len(models), 10)
    for m, model in enumerate(models):
        np.testing.assert_allclose(logits[:, m].detach(), model(xb[m]).detach(), rtol=1e-10,
                                   atol=1e-12, err_msg=f"member {m}")


def test_loss_gradient_is_every_members_own_gradient():
    models = _members("densenet", (1, 8, 8))
    params, _ = stack_module_state(models)
    gen = torch.Generator().manual_seed(1)
    xb = torch.randn(3, 6, 1, 8, 8, generator=gen, dtype=torch.float64)
    yb = torch.randint(0, 10, (3, 6), generator=gen)
    template = grouped.ensemble_template(models[0], 3)
    leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    loss = grouped.ensemble_loss(template, leaves, xb, yb)
    grads = torch.autograd.grad(loss, list(leaves.values()))
    for m, model in enumerate(models):
        own = F.cross_entropy(model(xb[m]), yb[m])
        expected = torch.autograd.grad(own, list(model.parameters()))
        for name, got, want in zip(leaves, grads, expected):
            np.testing.assert_allclose(got[m], want, rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("c_in, c_out, size, kernel, stride, padding, dilation", [
    (4, 6, (2, 2), 3, 1, 1, 1),
    (3, 5, (2, 1), 3, 1, 1, 1),
    (2, 3, (2, 2), 2, 1, 0, 1),
    (5, 2, (4, 4), 3, 2, 1, 1),
    (2, 2, (3, 3), 3, 1, 2, 2),
    (3, 4, (1, 1), 3, 1, 1, 1),
])
def test_dense_convolution_equals_each_members_convolution(c_in, c_out, size, kernel, stride,
                                                           padding, dilation):
    members, batch = 3, 4
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(batch, members * c_in, *size, generator=gen, dtype=torch.float64)
    weight = torch.randn(members, c_out, c_in, kernel, kernel, generator=gen,
                         dtype=torch.float64)
    x.requires_grad_(True)
    weight.requires_grad_(True)
    out = grouped._dense_conv(x, weight, (stride, stride), (padding, padding),
                              (dilation, dilation))
    assert out.is_contiguous(memory_format=torch.channels_last)
    want = torch.cat([F.conv2d(x[:, m * c_in:(m + 1) * c_in], weight[m], stride=stride,
                               padding=padding, dilation=dilation) for m in range(members)], 1)
    np.testing.assert_allclose(out.detach(), want.detach(), rtol=1e-12, atol=1e-12)
    seed = torch.randn(want.shape, generator=gen, dtype=torch.float64)
    got = torch.autograd.grad(out, (x, weight), seed)
    expected = torch.autograd.grad(want, (x, weight), seed)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def test_ensemble_input_is_channels_last_and_member_major():
    xb = torch.arange(2 * 3 * 2 * 4 * 4, dtype=torch.float32).reshape(2, 3, 2, 4, 4)
    batch = grouped.ensemble_input(xb)
    assert batch.shape == (3, 4, 4, 4)
    assert batch.is_contiguous(memory_format=torch.channels_last)
    # member m's channels are channels m*C .. (m+1)*C - 1
    assert torch.equal(batch, xb.permute(1, 0, 2, 3, 4).reshape(3, 4, 4, 4))
    with pytest.raises(ValueError, match=r"xb must be of shape \(M, B, C, H, W\)"):
        grouped.ensemble_input(xb[0])


def test_bad_templates_are_rejected():
    model = nets.build("resnet", (1, 8, 8), 10)
    for members in (0, -1, 2.0, True):
        error = ValueError if type(members) is int else TypeError
        with pytest.raises(error, match="members must be an integer >= 1"):
            grouped.ensemble_template(model, members)
    with pytest.raises(ValueError, match="running statistics"):
        grouped.ensemble_template(nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)), 2)
    with pytest.raises(ValueError, match="got a LayerNorm layer, which it cannot group"):
        grouped.ensemble_template(nn.Sequential(nn.Conv2d(1, 2, 3), nn.LayerNorm(2)), 2)
    # the model itself is not changed
    assert type(model.stem[0]) is nn.Conv2d


def test_template_with_biases_and_a_flattening_head():
    torch.manual_seed(3)
    # 2x2 maps: both convolutions take the dense path, with biases
    models = [nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(),
                            nn.Conv2d(3, 2, 3, padding=1), nn.Flatten(),
                            nn.Linear(2 * 2 * 2, 4)).double() for _ in range(3)]
    params, _ = stack_module_state(models)
    xb = torch.randn(3, 5, 2, 2, 2, dtype=torch.float64)
    template = grouped.ensemble_template(models[0], 3)
    logits = functional_call(template, params, (grouped.ensemble_input(xb),))
    for m, model in enumerate(models):
        np.testing.assert_allclose(logits[:, m].detach(), model(xb[m]).detach(), rtol=1e-10,
                                   atol=1e-12)
