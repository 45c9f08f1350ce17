"""Tests of sgdlab.nn.nets: shapes, parameter counts, parameter vectors, torch.func use."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap

from sgdlab.nn import nets

pytestmark = pytest.mark.usefixtures("torch_one_thread")

SHAPES = [(1, 8, 8), (3, 32, 32)]




@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("arch", nets.ARCHS)
def test_every_arch_builds_and_runs(arch, shape):
    model = nets.build(arch, shape, 10, seed=0)
    x = torch.randn((3,) + shape, generator=torch.Generator().manual_seed(0))
    out = model(x)
    assert out.shape == (3, 10) and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    assert list(model.buffers()) == []
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert norms and all(not m.track_running_stats for m in norms)
    assert all(isinstance(m, nn.BatchNorm2d) for m in norms)


def test_parameter_counts_match_the_docstring_and_the_paper():
    expected = {  # the table of the module docstring
        ("resnet", (1, 8, 8)): 11_302, ("resnet", (3, 32, 32)): 11_374,
        ("densenet", (1, 8, 8)): 8_570, ("densenet", (3, 32, 32)): 8_714,
        ("resnet34", (3, 32, 32)): 1_173_355, ("densenet100", (3, 32, 32)): 769_162,
    }
    for (arch, shape), count in expected.items():
        assert nets.count_parameters(nets.build(arch, shape, 10)) == count
        assert f"{count:,}" in nets.__doc__
    assert nets.count_parameters(nets.build("resnet34", (3, 32, 32), 100)) == 1_184_245
    assert nets.count_parameters(nets.build("densenet100", (3, 32, 32), 100)) == 800_032
    paper = {"resnet": 10_000, "densenet": 10_000, "resnet34": 1_200_000,
             "densenet100": 800_000}
    for arch, target in paper.items():
        for shape in SHAPES:
            count = nets.count_parameters(nets.build(arch, shape, 10))
            assert abs(count - target) <= 0.15 * target, (arch, shape, count)


def test_depths():
    resnet34 = nets.build("resnet34", (3, 32, 32), 10)
    # 33 convolutions on the main path + the linear layer = 34 layers
    main = [n for n, m in resnet34.named_modules()
            if isinstance(m, nn.Conv2d) and "shortcut" not in n]
    assert len(main) == 33
    dense = nets.build("densenet100", (3, 32, 32), 10)
    # stem + 48 layers x 2 convolutions + 2 transitions + linear = 100 layers
    assert sum(isinstance(m, nn.Conv2d) for m in dense.modules()) == 99


def test_same_seed_same_init_and_global_rng_untouched():
    state = torch.get_rng_state()
    a = nets.flatten_params(nets.build("resnet", (1, 8, 8), 10, seed=7))
    b = nets.flatten_params(nets.build("resnet", (1, 8, 8), 10, seed=7))
    c = nets.flatten_params(nets.build("resnet", (1, 8, 8), 10, seed=8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(torch.get_rng_state(), state)


def test_flatten_unflatten_round_trip():
    model = nets.build("densenet", (1, 8, 8), 10, seed=1)
    vector = nets.flatten_params(model)
    assert vector.shape == (nets.count_parameters(model),) and vector.ndim == 1
    pieces = nets.unflatten_params(model, vector)
    names = nets.param_names_shapes(model)
    assert [(k, tuple(v.shape)) for k, v in pieces.items()] == names
    # views of the vector: no copy
    for piece in pieces.values():
        assert piece.untyped_storage().data_ptr() == vector.untyped_storage().data_ptr()
    assert torch.equal(nets.flatten_params(pieces), vector)
    copy = nets.params_dict(model)
    assert torch.equal(nets.flatten_params(copy), vector)
    first = next(iter(copy))
    copy[first].add_(1.0)  # a copy: the model is unchanged
    assert torch.equal(nets.flatten_params(model), vector)
    x = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(functional_call(model, pieces, (x,)).detach(),
                               model(x).detach(), rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"vector must be of shape \(\d+,\)"):
        nets.unflatten_params(model, vector[:-1])


def test_loss_is_a_pure_function_of_the_parameters():
    model = nets.build("resnet", (1, 8, 8), 10, seed=0)
    x = torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    train_out = model(x).detach()
    model.eval()
    eval_out = model(x).detach()
    model.train()
    assert torch.equal(train_out, eval_out)  # batch statistics in both modes, no buffers
    assert torch.equal(model(x).detach(), train_out)


@pytest.mark.parametrize("arch", ["resnet", "densenet"])
def test_functional_call_under_vmap(arch):
    models = [nets.build(arch, (1, 8, 8), 10, seed=s) for s in range(3)]
    params, buffers = stack_module_state(models)
    assert buffers == {}
    params = {k: v.detach() for k, v in params.items()}
    x = torch.randn(3, 8, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    y = torch.randint(0, 10, (3, 8), generator=torch.Generator().manual_seed(3))
    out = vmap(lambda p, xb: functional_call(models[0], p, (xb,)))(params, x)

    def loss(p, xb, yb):
        return F.cross_entropy(functional_call(models[0], p, (xb,)), yb)

    grads = vmap(grad(loss))(params, x, y)
    for m, model in enumerate(models):
        np.testing.assert_allclose(out[m].detach(), model(x[m]).detach(), atol=1e-5)
        model.zero_grad()
        F.cross_entropy(model(x[m]), y[m]).backward()
        for name, p in model.named_parameters():
            np.testing.assert_allclose(grads[name][m], p.grad, atol=1e-5, rtol=1e-4)
    # vectors under vmap too
    vectors = torch.stack([nets.flatten_params(m) for m in models])
    out2 = vmap(lambda v, xb: functional_call(models[0], nets.unflatten_params(models[0], v),
                                              (xb,)))(vectors, x)
    np.testing.assert_allclose(out2.detach(), out.detach(), atol=1e-6)


@pytest.mark.parametrize("args, kwargs, error, message", [
    (("vgg", (3, 32, 32), 10), {}, ValueError,
     r"arch must be one of \('resnet', 'densenet', 'resnet34', 'densenet100'\), got 'vgg'"),
    (("resnet", 5, 10), {}, TypeError, r"in_shape must be a tuple \(C, H, W\), got 5"),
    (("resnet", (3, 32), 10), {}, ValueError,
     r"in_shape must be \(C, H, W\) with positive sizes, got \(3, 32\)"),
    (("resnet", (0, 8, 8), 10), {}, ValueError,
     r"in_shape must be \(C, H, W\) with positive sizes, got \(0, 8, 8\)"),
    (("resnet", (3, 2, 2), 10), {}, ValueError,
     r"in_shape must be of images of at least 4x4 pixels \(the networks downsample twice\), "
     r"got \(3, 2, 2\)"),
    (("resnet", (3, 32, 32), 0), {}, ValueError, r"classes must be an integer >= 1, got 0$"),
    (("resnet", (3, 32, 32), 2.5), {}, TypeError, r"classes must be an integer >= 1, got 2\.5$"),
    (("resnet", (3, 32, 32), 10), dict(seed=-1), ValueError,
     r"seed must be an integer >= 0 and < 9\.22337e\+18, got -1$"),
    (("resnet", (3, 32, 32), 10), dict(seed="0"), TypeError,
     r"seed must be an integer >= 0 and < .*, got '0'$"),
])
def test_bad_arguments(args, kwargs, error, message):
    """Each message names the argument, what it must be and the value received."""
    with pytest.raises(error, match=message):
        nets.build(*args, **kwargs)


def test_functional_loss_is_the_models_loss():
    model = nets.build("densenet", (1, 8, 8), 10, seed=2)
    x = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    y = torch.arange(6) % 10
    vector = nets.flatten_params(model)
    loss = nets.functional_loss(model)
    direct = F.cross_entropy(model(x), y)
    # a vector and a dict give bitwise the same loss, the model's own to rounding
    assert torch.equal(loss(vector, x, y), loss(nets.params_dict(model), x, y))
    np.testing.assert_allclose(float(loss(vector, x, y)), float(direct.detach()), rtol=1e-6)
    logits = nets.functional_forward(model)(vector, x)
    assert torch.equal(F.cross_entropy(logits, y), loss(vector, x, y))
    # a pure function of the parameters: under grad and vmap too
    g = grad(loss)(vector, x, y)
    direct.backward()
    np.testing.assert_allclose(g, torch.cat([p.grad.reshape(-1) for p in model.parameters()]),
                               rtol=1e-4, atol=1e-6)
    both = vmap(loss, in_dims=(0, None, None))(torch.stack([vector, vector]), x, y)
    np.testing.assert_allclose(both, [float(direct.detach())] * 2, rtol=1e-6)
