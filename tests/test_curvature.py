"""sgdlab.nn.curvature against dense Hessians, finite differences of plain-autograd gradients
and the closed-form Hessian of a linear softmax model."""

import copy
import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from sgdlab.nn import curvature, data, nets  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")

CLASSES = 10


def tiny_convnet():
    """Conv -> BatchNorm with batch statistics -> ReLU -> pool -> Linear on 1x8x8 digits
    (112 parameters): a dense Hessian in well under a second."""
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1, bias=False), nn.BatchNorm2d(2, track_running_stats=False),
        nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(8, CLASSES))


def linear_model():
    """Softmax regression on the 64 pixels (650 parameters): a closed-form Hessian."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, CLASSES))


@pytest.fixture(scope="module")
def digits():
    d = data.load("digits", None, limit=64)
    return d.x_train.double(), d.y_train


@pytest.fixture
def seed():
    return 20180710


def make(builder, seed):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = builder().double()
    return model, nets.flatten_params(model)


def unit(theta, seed):
    v = torch.randn(theta.shape, generator=torch.Generator().manual_seed(seed),
                    dtype=theta.dtype)
    return v / v.norm()


def autograd_grad(model, theta, x, y):
    """Plain autograd on a copy of the module with theta loaded: an independent gradient."""
    model = copy.deepcopy(model).eval()
    torch.nn.utils.vector_to_parameters(theta.clone(), model.parameters())
    loss = nn.functional.cross_entropy(model(x), y)
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))])


def linear_hessian(theta, x):
    """The closed form: with p = softmax(W x + b) and A = diag(p) - p p^T per image, the
    parameters (W row-major, then b) see the logits through J = [I (x) x^T, I], and
    H = mean over images of J^T A J (independent of the labels)."""
    x = x.reshape(len(x), -1)
    w, b = theta[:CLASSES * 64].reshape(CLASSES, 64), theta[CLASSES * 64:]
    p = torch.softmax(x @ w.T + b, dim=1)
    eye = torch.eye(CLASSES, dtype=x.dtype)
    hessian = 0
    for xn, pn in zip(x, p):
        jac = torch.cat([torch.kron(eye, xn[None]), eye], dim=1)
        hessian = hessian + jac.T @ (torch.diag(pn) - torch.outer(pn, pn)) @ jac
    return hessian / len(x)


def linear_trace(theta, x):
    """tr H = mean over images of (1 - |p|^2)(|x|^2 + 1), from tr(A (x) x x^T) = tr A |x|^2."""
    x = x.reshape(len(x), -1)
    w, b = theta[:CLASSES * 64].reshape(CLASSES, 64), theta[CLASSES * 64:]
    p = torch.softmax(x @ w.T + b, dim=1)
    return float(((1 - (p**2).sum(1)) * ((x**2).sum(1) + 1)).mean())


def top_dense(hessian, k):
    return np.linalg.eigvalsh(hessian.numpy())[::-1][:k]


# --------------------------------------------------------------------------- products

def test_hvp_matches_dense_hessian(digits, seed):
    x, y = digits
    model, theta = make(tiny_convnet, seed)
    hessian = curvature.dense_hessian(model, theta, x, y)
    v = unit(theta, seed)
    hv = curvature.hvp_function(model, theta, x, y)(v)
    assert hv.shape == theta.shape and hv.dtype == torch.float64 and not hv.requires_grad
    assert_allclose(hv.numpy(), (hessian @ v).numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("builder", [tiny_convnet, nets.build_mini])
def test_hvp_matches_finite_differences_of_autograd_gradients(builder, digits, seed):
    x, y = digits
    builder = (lambda: nets.build_mini((1, 8, 8), CLASSES)) if builder is nets.build_mini \
        else builder
    model, theta = make(builder, seed)
    v, h = unit(theta, seed), 1e-5
    fd = (autograd_grad(model, theta + h * v, x, y)
          - autograd_grad(model, theta - h * v, x, y)) / (2 * h)
    hv = curvature.hvp_function(model, theta, x, y)(v)
    assert_allclose(hv.numpy(), fd.numpy(), rtol=1e-6, atol=1e-6 * float(fd.abs().max()))


def test_chunked_f_is_the_weighted_sum_of_the_chunks(digits, seed):
    x, y = digits
    model, theta = make(tiny_convnet, seed)
    v = unit(theta, seed)
    chunks = [(0, 24), (24, 48), (48, 64)]
    hv = curvature.hvp_function(model, theta, x, y, batch_size=24)(v)
    parts = sum(curvature.hvp_function(model, theta, x[a:b], y[a:b])(v) * (b - a) / 64
                for a, b in chunks)
    assert_allclose(hv.numpy(), parts.numpy(), rtol=1e-12, atol=1e-14)
    dense = curvature.dense_hessian(model, theta, x, y, batch_size=24)
    dense_parts = sum(curvature.dense_hessian(model, theta, x[a:b], y[a:b]) * (b - a) / 64
                      for a, b in chunks)
    assert_allclose(dense.numpy(), dense_parts.numpy(), rtol=1e-12, atol=1e-14)
    one_pass = curvature.hvp_function(model, theta, x, y)(v)
    assert float((one_pass - hv).norm()) > 1e-6 * float(hv.norm())  # BatchNorm: a different f


def test_mini_net_chunked_hvp(digits, seed):
    x, y = digits
    model = nets.build_mini((1, 8, 8), CLASSES).double()
    theta = nets.flatten_params(model)
    v = unit(theta, seed)
    hv = curvature.hvp_function(model, theta, x, y, batch_size=40)(v)
    parts = (curvature.hvp_function(model, theta, x[:40], y[:40])(v) * 40 / 64
             + curvature.hvp_function(model, theta, x[40:], y[40:])(v) * 24 / 64)
    assert_allclose(hv.numpy(), parts.numpy(), rtol=1e-12, atol=1e-14)


def test_model_mode_restored_and_float32_follows_theta(digits, seed):
    x, y = digits
    model, theta = make(tiny_convnet, seed)
    model.float().train()
    hv = curvature.hvp_function(model, theta.float(), x, y)(unit(theta, seed))
    assert hv.dtype == torch.float32 and model.training
    assert all(m.training for m in model.modules())


# --------------------------------------------------------------------------- closed form

@pytest.fixture(scope="module")
def linear(digits):
    x, y = digits
    model, theta = make(linear_model, 7)
    return model, theta, x, y, linear_hessian(theta, x)


def test_linear_model_hvp_and_dense_match_the_closed_form(linear):
    model, theta, x, y, hessian = linear
    v = unit(theta, 3)
    assert_allclose(curvature.hvp_function(model, theta, x, y)(v).numpy(),
                    (hessian @ v).numpy(), rtol=1e-10, atol=1e-13)
    assert_allclose(curvature.dense_hessian(model, theta, x, y).numpy(), hessian.numpy(),
                    rtol=1e-10, atol=1e-13)


def test_linear_model_top_eigen_matches_the_closed_form(linear):
    model, theta, x, y, hessian = linear
    top = curvature.top_eigen(model, theta, x, y, k=3, tol=1e-10)
    assert curvature.eigen_error(top.eigenvalues, top_dense(hessian, 3)) < 1e-6


def test_linear_model_hutchinson_matches_the_closed_form_trace(linear):
    model, theta, x, y, hessian = linear
    trace = linear_trace(theta, x)
    assert_allclose(trace, float(torch.trace(hessian)), rtol=1e-12)
    estimate = curvature.hutchinson_trace(model, theta, x, y, samples=64, seed=1)
    assert curvature.trace_z(estimate, trace) < 4
    assert estimate.standard_error < 0.2 * abs(trace)  # the test has power


# --------------------------------------------------------------------------- eigenvalues, trace

def test_top_eigen_matches_eigvalsh_and_eigenvectors(digits, seed):
    x, y = digits
    model, theta = make(tiny_convnet, seed)
    hessian = curvature.dense_hessian(model, theta, x, y)
    top = curvature.top_eigen(model, theta, x, y, k=3, tol=1e-10, seed=seed)
    assert top.eigenvalues.shape == (3,) and top.eigenvectors.shape == (theta.numel(), 3)
    assert np.all(np.diff(top.eigenvalues) <= 0) and top.matvecs > 3
    assert curvature.eigen_error(top.eigenvalues, top_dense(hessian, 3)) < 1e-6
    vectors = top.eigenvectors
    assert_allclose(np.linalg.norm(vectors, axis=0), 1, rtol=1e-12)
    scale = top.eigenvalues[0]
    assert_allclose(hessian.numpy() @ vectors, vectors * top.eigenvalues, atol=1e-6 * scale)
    assert np.all(top.residuals < 1e-6 * scale)
    json.dumps(top.to_dict())


def test_hutchinson_near_the_dense_trace_and_seeded(digits, seed):
    x, y = digits
    model, theta = make(tiny_convnet, seed)
    trace = float(torch.trace(curvature.dense_hessian(model, theta, x, y)))
    estimate = curvature.hutchinson_trace(model, theta, x, y, samples=48, seed=seed)
    assert estimate.samples.shape == (48,) and estimate.samples.dtype == np.float64
    assert_allclose(estimate.mean, estimate.samples.mean())
    assert_allclose(estimate.standard_error, estimate.samples.std(ddof=1) / np.sqrt(48))
    assert curvature.trace_z(estimate, trace) < 4
    again = curvature.hutchinson_trace(model, theta, x, y, samples=48, seed=seed)
    assert_allclose(again.samples, estimate.samples, rtol=0, atol=0)
    other = curvature.hutchinson_trace(model, theta, x, y, samples=48, seed=seed + 1)
    assert not np.allclose(other.samples, estimate.samples)
    json.dumps(estimate.to_dict())


def test_dense_check_says_yes_and_a_wrong_hessian_says_no(digits, seed):
    x, y = digits
    model, theta = make(tiny_convnet, seed)
    report = curvature.dense_check(model, theta, x, y, k=3, samples=48, seed=seed)
    json.dumps(report)
    assert report["parameters"] == theta.numel() and report["seconds"] > 0
    assert report["max_relative_eigen_error"] < 1e-6 and report["trace_z"] < 4
    # The same comparisons against deliberately wrong Hessians: scaled by 1.001 (a chunk
    # weight off by 0.1 %), a bump of 1 % of the sharpness along the top eigenvector, and a
    # diagonal shift worth 10 standard errors of the trace estimate.
    hessian = curvature.dense_hessian(model, theta, x, y)
    assert curvature.eigen_error(report["eigenvalues"], top_dense(1.001 * hessian, 3)) > 5e-4
    top = torch.from_numpy(np.linalg.eigh(hessian.numpy())[1][:, -1])
    bumped = hessian + 0.01 * report["dense_eigenvalues"][0] * torch.outer(top, top)
    assert curvature.eigen_error(report["eigenvalues"], top_dense(bumped, 3)) > 5e-3
    estimate = curvature.hutchinson_trace(model, theta, x, y, samples=48, seed=seed)
    shifted = hessian + torch.eye(len(theta)) * 10 * estimate.standard_error / len(theta)
    assert curvature.trace_z(estimate, float(torch.trace(shifted))) > 4


# --------------------------------------------------------------------------- the mini net

@pytest.fixture(scope="module")
def mini(digits):
    x, y = digits
    model = nets.build_mini((1, 8, 8), CLASSES, seed=3).double()
    theta = nets.flatten_params(model)
    return model, theta, x, y, curvature.dense_hessian(model, theta, x, y)


@pytest.mark.slow
def test_mini_net_hvp_and_top_eigen_match_dense(mini):
    model, theta, x, y, hessian = mini
    assert_allclose(hessian.numpy(), hessian.numpy().T, rtol=0, atol=0)
    v = unit(theta, 5)
    assert_allclose(curvature.hvp_function(model, theta, x, y)(v).numpy(),
                    (hessian @ v).numpy(), rtol=1e-10, atol=1e-12)
    top = curvature.top_eigen(model, theta, x, y, k=3, tol=1e-10)
    assert curvature.eigen_error(top.eigenvalues, top_dense(hessian, 3)) < 1e-6
    assert_allclose(hessian.numpy() @ top.eigenvectors, top.eigenvectors * top.eigenvalues,
                    atol=1e-6 * top.eigenvalues[0])


@pytest.mark.slow
def test_mini_net_hutchinson_near_dense_trace(mini):
    model, theta, x, y, hessian = mini
    estimate = curvature.hutchinson_trace(model, theta, x, y, samples=64, seed=11)
    assert curvature.trace_z(estimate, float(torch.trace(hessian))) < 4


def test_build_mini_size_and_seed():
    model = nets.build_mini((1, 8, 8), 10)
    assert nets.count_parameters(model) == 1384
    assert nets.count_parameters(nets.build_mini((3, 32, 32), 10)) == 1420
    state = torch.random.get_rng_state()
    a, b = nets.build_mini((1, 8, 8), 10, seed=4), nets.build_mini((1, 8, 8), 10, seed=4)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(nets.flatten_params(a), nets.flatten_params(b))
    assert not torch.equal(nets.flatten_params(a), nets.flatten_params(model))
    assert all(not isinstance(m, nn.BatchNorm2d) or not m.track_running_stats
               for m in model.modules())


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, name", [
    (lambda m, t, x, y: curvature.top_eigen(m, t, x, y, k=0), "k"),
    (lambda m, t, x, y: curvature.top_eigen(m, t, x, y, k=len(t)), "k"),
    (lambda m, t, x, y: curvature.top_eigen(m, t, x, y, tol=0.0), "tol"),
    (lambda m, t, x, y: curvature.top_eigen(m, t, x, y, tol=-1e-3), "tol"),
    (lambda m, t, x, y: curvature.top_eigen(m, t, x, y, seed=-1), "seed"),
    (lambda m, t, x, y: curvature.top_eigen(m, t, x, y, maxiter=0), "maxiter"),
    (lambda m, t, x, y: curvature.hutchinson_trace(m, t, x, y, samples=1), "samples"),
    (lambda m, t, x, y: curvature.dense_check(m, t, x, y, samples=1), "samples"),
    (lambda m, t, x, y: curvature.dense_check(m, t, x, y, k=0), "k"),
    (lambda m, t, x, y: curvature.dense_check(m, t, x, y, tol=0), "tol"),
    (lambda m, t, x, y: curvature.dense_hessian(m, t, x, y, max_parameters=100), "theta"),
    (lambda m, t, x, y: curvature.hvp_function(m, t, x, y, batch_size=0), "batch_size"),
    (lambda m, t, x, y: curvature.hvp_function(m, t[:-1], x, y), "theta"),
    (lambda m, t, x, y: curvature.hvp_function(m, t, x, y[:-1]), "y"),
    (lambda m, t, x, y: curvature.hvp_function(m, t, x, y)(t[:-1]), "v"),
])
def test_bad_arguments_name_themselves(call, name, digits, seed):
    x, y = digits
    model, theta = make(tiny_convnet, seed)
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        call(model, theta, x, y)


def test_dense_hessian_refusal_says_the_memory(digits):
    x, y = digits
    model = nets.build("resnet", (1, 8, 8), CLASSES)
    with pytest.raises(ValueError, match=r"^theta must be .*11302 x 11302.* 0\.511 GB"):
        curvature.dense_hessian(model, nets.flatten_params(model), x, y)


def test_lanczos_without_convergence_raises_runtime_error(digits, seed):
    x, y = digits
    model, theta = make(tiny_convnet, seed)
    with pytest.raises(RuntimeError, match="tol = 1e-14 within maxiter = 1"):
        curvature.top_eigen(model, theta, x, y, k=3, tol=1e-14, maxiter=1)


def test_wrong_kinds_are_type_errors(digits, seed):
    x, y = digits
    model, theta = make(tiny_convnet, seed)
    with pytest.raises(TypeError, match="^k must be"):
        curvature.top_eigen(model, theta, x, y, k=1.5)
    with pytest.raises(TypeError, match="^model must be"):
        curvature.hutchinson_trace("resnet", theta, x, y)
