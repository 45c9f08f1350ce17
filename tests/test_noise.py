"""sgdlab.nn.noise against closed forms: least squares (the noise of batches drawn without
replacement), quadratic smoothing, known spectra, the uniform cube; and the same draws by hand."""

import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from sgdlab.nn import noise, probe  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")

N, P, B = 40, 5, 10          # least squares: rows, parameters, batch
DRAWS = 20_000               # noise samples of the closed-form checks
Z_LIMIT = 4.0                # |mean_square - trace| within 4 standard errors
FROBENIUS_LIMIT = 0.05       # relative Frobenius error of the sample covariance
# at 20,000 draws the covariance's sampling error was 0.8% - 2.3% over 10 problem seeds (z of
# the mean square within +-2.8); the with-replacement factor 1/B is 21% - 24% and z 34 - 48 away


@pytest.fixture
def seed():
    return 20180710


def least_squares(params, xb, yb):
    """f_B(theta) = (1 / 2|B|) ||A_B theta - b_B||^2."""
    return 0.5 * ((xb @ params - yb) ** 2).mean()


@pytest.fixture
def problem(seed):
    """A linear model (nn.Linear, no bias) with anisotropic rows A, targets b, a point."""
    gen = torch.Generator().manual_seed(seed)
    scales = torch.tensor([3.0, 2.0, 1.0, 0.5, 0.25], dtype=torch.float64)
    a = torch.randn(N, P, generator=gen, dtype=torch.float64) * scales
    b = torch.randn(N, generator=gen, dtype=torch.float64)
    theta = torch.randn(P, generator=gen, dtype=torch.float64)
    return nn.Linear(P, 1, bias=False).double(), theta, a, b


def row_gradients(theta, a, b):
    """(N, P): the gradient of row i's loss, g_i = a_i (a_i . theta - b_i)."""
    return (a * (a @ theta - b)[:, None]).numpy()


def closed_form_cov(rows, batch, factor=None):
    """Cov of the mean of `batch` distinct rows less the mean of all rows: the finite
    population correction (N - B) / (B (N - 1)) times the rows' covariance (1/N)."""
    n = rows.shape[0]
    centred = rows - rows.mean(axis=0)
    if factor is None:
        factor = (n - batch) / (batch * (n - 1))
    return factor * centred.T @ centred / n


def verdict(samples, cov):
    """(z of mean ||w||^2 against trace(cov), relative Frobenius error of the sample
    covariance): the two numbers the closed-form test accepts or rejects on."""
    stats = noise.noise_stats(samples)
    z = (stats.mean_square - np.trace(cov)) / stats.mean_square_se
    frob = np.linalg.norm(np.cov(samples.T) - cov) / np.linalg.norm(cov)
    return z, frob


def agrees(samples, cov):
    z, frob = verdict(samples, cov)
    return abs(z) < Z_LIMIT and frob < FROBENIUS_LIMIT


# --------------------------------------------------------------------------- closed form

def test_least_squares_noise_is_the_without_replacement_closed_form(problem, seed):
    model, theta, a, b = problem
    w = noise.minibatch_noise(model, theta, a, b, batch_size=B, batches=DRAWS, seed=seed,
                              loss=least_squares, vectorize=True)
    assert w.shape == (DRAWS, P) and w.dtype == torch.float64
    samples = w.numpy()
    cov = closed_form_cov(row_gradients(theta, a, b), B)
    stats = noise.noise_stats(samples, k=P)
    # E w = 0, coordinate by coordinate, within 4 standard errors
    se = np.sqrt(np.diag(cov) / DRAWS)
    assert np.all(np.abs(samples.mean(axis=0)) < 4 * se)
    assert agrees(samples, cov), verdict(samples, cov)
    # shape: the closed form's eigenvectors and their eigenvalue shares
    eigenvalues, vectors = np.linalg.eigh(cov)
    eigenvalues, vectors = eigenvalues[::-1], vectors[:, ::-1]
    shares = np.cumsum(eigenvalues) / eigenvalues.sum()
    assert_allclose(noise.alignment(samples, vectors), shares, atol=0.01)
    assert_allclose(stats.top_share, shares, atol=0.01)
    directions, variances = noise.principal_directions(samples, 2)
    assert_allclose(variances, eigenvalues[:2], rtol=0.05)
    assert_allclose(np.abs(directions.T @ vectors[:, :2]), np.eye(2), atol=0.05)


def test_minibatch_noise_is_the_batch_mean_less_the_full_mean_by_hand(problem, seed):
    model, theta, a, b = problem
    w = noise.minibatch_noise(model, theta, a, b, batch_size=B, batches=50, seed=seed,
                              loss=least_squares)
    rows = row_gradients(theta, a, b)
    gen = torch.Generator().manual_seed(seed)
    index = [torch.randperm(N, generator=gen)[:B].numpy() for _ in range(50)]
    by_hand = np.stack([rows[i].mean(axis=0) for i in index]) - rows.mean(axis=0)
    assert_allclose(w.numpy(), by_hand, rtol=1e-10, atol=1e-12)


def test_closed_form_check_says_no_to_the_wrong_law(problem, seed):
    model, theta, a, b = problem
    rows = row_gradients(theta, a, b)
    cov = closed_form_cov(rows, B)
    # batches drawn with replacement, the same number of samples: rejected
    gen = np.random.default_rng(seed)
    index = gen.integers(0, N, size=(DRAWS, B))
    replaced = rows[index].mean(axis=1) - rows.mean(axis=0)
    assert not agrees(replaced, cov), verdict(replaced, cov)
    assert agrees(replaced, closed_form_cov(rows, B, factor=1 / B))
    # the real (without replacement) noise against the with-replacement factor 1/B: rejected
    w = noise.minibatch_noise(model, theta, a, b, batch_size=B, batches=DRAWS, seed=seed,
                              loss=least_squares, vectorize=True).numpy()
    wrong = closed_form_cov(rows, B, factor=1 / B)
    assert not agrees(w, wrong), verdict(w, wrong)
    assert abs(verdict(w, wrong)[0]) > 10


# --------------------------------------------------------------------------- networks

CLASSES = 3


def tiny_convnet():
    """Conv -> BatchNorm with batch statistics -> ReLU -> Linear on 1 x 4 x 4 inputs."""
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2, track_running_stats=False), nn.ReLU(),
        nn.Flatten(), nn.Linear(2 * 4 * 4, CLASSES))


@pytest.fixture
def convnet(seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(24, 1, 4, 4, generator=gen, dtype=torch.float64)
    y = torch.randint(0, CLASSES, (24,), generator=gen)
    torch.manual_seed(seed)
    model = tiny_convnet().double()
    return model, nn.utils.parameters_to_vector(model.parameters()).detach(), x, y


def test_network_noise_by_hand_and_reproducible(convnet, seed):
    model, theta, x, y = convnet
    w = noise.minibatch_noise(model, theta, x, y, batch_size=6, batches=9, seed=seed,
                              probe_batch=8)
    full = probe.full_batch_grad(model, theta, x, y, batch_size=8)
    gen = torch.Generator().manual_seed(seed)
    index = [torch.randperm(24, generator=gen)[:6] for _ in range(9)]
    by_hand = torch.stack([probe.full_batch_grad(model, theta, x[i], y[i]) for i in index])
    assert_allclose(w.numpy(), (by_hand - full).numpy(), rtol=1e-10, atol=1e-13)
    # the draws of probe.minibatch_grad_norms; the same seed, the same noise
    norms = probe.minibatch_grad_norms(model, theta, x, y, batch_size=6, batches=9, seed=seed)
    assert_allclose((w + full).norm(dim=1).numpy(), norms.numpy(), rtol=1e-10)
    again = noise.minibatch_noise(model, theta, x, y, batch_size=6, batches=9, seed=seed,
                                  probe_batch=8)
    assert torch.equal(w, again)
    other = noise.minibatch_noise(model, theta, x, y, batch_size=6, batches=9, seed=seed + 1,
                                  probe_batch=8)
    assert not torch.equal(w, other)
    vmapped = noise.minibatch_noise(model, theta, x, y, batch_size=6, batches=9, seed=seed,
                                    probe_batch=8, vectorize=True, chunk=4)
    assert_allclose(vmapped.numpy(), w.numpy(), rtol=1e-10, atol=1e-13)
    assert model.training  # the mode is restored


def test_paper_point(convnet):
    model, theta, x, y = convnet
    point = noise.paper_point(model, theta, 0.3, x, y, batch_size=8)
    expected = theta - 0.3 * probe.full_batch_grad(model, theta, x, y, batch_size=8)
    assert_allclose(point.numpy(), expected.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- the smoothed g

def test_smoothed_inner_with_zero_shifts_is_f(convnet, seed):
    model, theta, x, y = convnet
    target = theta + 0.1
    for vectorize in (False, True):
        result = noise.smoothed_inner(model, theta, target, torch.zeros(3, theta.numel()), x, y,
                                      batch_size=8, vectorize=vectorize)
        g = probe.full_batch_grad(model, theta, x, y, batch_size=8).double()
        f_value = float(-(g * (target - theta).double()).sum())
        assert_allclose(result.f_value, f_value, rtol=1e-12)
        if not vectorize:  # the loop computes the very same gradient
            assert np.all(result.values == result.f_value)
        assert_allclose(result.values, result.f_value, rtol=1e-12)
        assert result.standard_error == pytest.approx(0, abs=1e-14)
        assert result.distance == pytest.approx(0.1 * math.sqrt(theta.numel()))


def test_smoothed_inner_of_a_quadratic_is_closed_form(problem, seed):
    model, theta, a, b = problem
    hessian = (a.T @ a / N).numpy()
    target = torch.zeros(P, dtype=torch.float64)
    direction = (target - theta).numpy()
    g = row_gradients(theta, a, b).mean(axis=0)
    gen = torch.Generator().manual_seed(seed)
    shifts = 0.3 * torch.randn(7, P, generator=gen, dtype=torch.float64)
    # grad f(y - s) = grad f(y) - H s, for any shifts
    result = noise.smoothed_inner(model, theta, target, shifts, a, b, loss=least_squares)
    expected = -(g - shifts.numpy() @ hessian) @ direction
    assert_allclose(result.values, expected, rtol=1e-10)
    assert_allclose(result.f_value, -g @ direction, rtol=1e-12)
    assert_allclose(result.standard_error, expected.std(ddof=1) / math.sqrt(7), rtol=1e-9)
    # symmetric shifts +s / -s: grad g(y) = grad f(y) exactly
    symmetric = torch.cat([shifts, -shifts])
    result = noise.smoothed_inner(model, theta, target, symmetric, a, b, loss=least_squares)
    assert_allclose(result.mean, result.f_value, rtol=1e-12)
    assert json.loads(json.dumps(result.to_dict()))["values"] == result.values.tolist()


def test_ball_shifts(seed):
    shifts = noise.ball_shifts(0.5, 200, 30, seed=seed)
    assert shifts.shape == (200, 30) and shifts.dtype == torch.float32
    norms = shifts.double().norm(dim=1)
    assert bool((norms <= 0.5 * (1 + 1e-6)).all()) and float(norms.min()) > 0.3
    assert torch.equal(shifts, noise.ball_shifts(0.5, 200, 30, seed=seed))
    same = probe.sample_ball(torch.zeros(30), 0.5, 200,
                             generator=torch.Generator().manual_seed(seed))
    assert torch.equal(shifts, same)
    assert noise.ball_shifts(1.0, 3, 4, dtype=torch.float64).dtype == torch.float64


# --------------------------------------------------------------------------- statistics

def test_top_share_of_a_known_spectrum(seed):
    spectrum = np.array([8.0, 4.0, 2.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25])
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    samples = rng.standard_normal((20_000, 10)) * np.sqrt(spectrum) @ basis.T
    stats = noise.noise_stats(samples, k=4)
    assert_allclose(stats.top_share, np.cumsum(spectrum)[:4] / spectrum.sum(), atol=0.01)
    assert_allclose(noise.alignment(samples, basis)[:4], stats.top_share, atol=0.01)
    assert_allclose(stats.isotropic_share, np.arange(1, 5) / 10)


def test_isotropic_samples(seed):
    rng = np.random.default_rng(seed)
    many = noise.noise_stats(rng.standard_normal((20_000, 10)), k=10)
    assert_allclose(many.top_share, np.arange(1, 11) / 10, atol=0.02)
    assert_allclose(many.top_share, many.isotropic_sample_share, atol=0.005)
    assert_allclose(many.isotropic_sample_share, many.isotropic_share, atol=0.02)
    # few samples in many dimensions: n samples span n - 1 directions, not P
    few = noise.noise_stats(rng.standard_normal((33, 4000)), k=5)
    assert_allclose(few.isotropic_share, np.arange(1, 6) / 4000)
    # ~ j / (n - 1) = j / 32 (the top ones a little above: sqrt(n / P) spread), 100x j / P
    assert_allclose(few.isotropic_sample_share, np.arange(1, 6) / 32, rtol=0.25)
    assert_allclose(few.top_share, few.isotropic_sample_share, rtol=0.1)
    assert noise.noise_stats(rng.standard_normal((4, 3)), k=10).top_share.shape == (3,)


def test_cube_radius_and_tails(seed):
    rng = np.random.default_rng(seed)
    width, dim = 0.2, 2000
    cube = rng.uniform(-width, width, size=(200, dim))
    assert noise.model_radius(cube, 0.5) == pytest.approx(0.5 * width * math.sqrt(dim),
                                                          rel=0.01)
    stats = noise.noise_stats(cube)
    assert stats.tail_ratio == pytest.approx(1, abs=0.05)
    assert stats.quantiles["max"] <= width * math.sqrt(dim)
    norms = np.linalg.norm(cube, axis=1)
    assert noise.effective_radius(cube, 0.5, quantile=1) == pytest.approx(0.5 * norms.max())
    assert noise.effective_radius(cube, 0.5) == pytest.approx(0.5 * np.quantile(norms, 0.99))
    heavy = rng.standard_t(1.5, size=(500, 1)) * rng.standard_normal((500, 50))
    assert noise.noise_stats(heavy).tail_ratio > 5
    record = json.loads(json.dumps(stats.to_dict()))
    assert record["batches"] == 200 and len(record["norms"]) == 200
    assert record["mean_square_se"] == pytest.approx(
        np.std(norms ** 2, ddof=1) / math.sqrt(200))


# --------------------------------------------------------------------------- arguments

def test_bad_arguments_are_rejected(problem):
    model, theta, a, b = problem
    kw = dict(loss=least_squares)
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1 and <= 40, "
                                         r"got 41"):
        noise.minibatch_noise(model, theta, a, b, batch_size=41, batches=3, **kw)
    with pytest.raises(ValueError, match=r"batches must be an integer >= 2, got 1"):
        noise.minibatch_noise(model, theta, a, b, batch_size=4, batches=1, **kw)
    with pytest.raises(TypeError, match=r"loss must be None or a callable"):
        noise.minibatch_noise(model, theta, a, b, batch_size=4, batches=3, loss="mse")
    with pytest.raises(TypeError, match=r"y must be integer class labels"):
        noise.minibatch_noise(model, theta, a, b, batch_size=4, batches=3)
    with pytest.raises(ValueError, match=r"y must be a tensor of N = 40 rows"):
        noise.paper_point(model, theta, 0.1, a, b[:3], **kw)
    with pytest.raises(ValueError, match=r"k must be an integer >= 1, got 0"):
        noise.noise_stats(np.ones((3, 2)), k=0)
    with pytest.raises(ValueError, match=r"samples must be of shape \(n, P\) with n >= 2"):
        noise.noise_stats(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"quantile must be a finite number > 0 and <= 1, "
                                         r"got 1.5"):
        noise.effective_radius(np.ones((3, 2)), 0.1, quantile=1.5)
    with pytest.raises(ValueError, match=r"quantile must be .*got 0"):
        noise.effective_radius(np.ones((3, 2)), 0.1, quantile=0)
    with pytest.raises(ValueError, match=r"radius must be a finite number > 0, got 0"):
        noise.ball_shifts(0, 3, 4)
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got -1"):
        noise.model_radius(np.ones((3, 2)), -1)
    with pytest.raises(ValueError, match=r"shifts must be of shape \(S, P\) with P = 5"):
        noise.smoothed_inner(model, theta, theta, torch.zeros(3, 4), a, b, **kw)
    with pytest.raises(ValueError, match=r"shifts must be of shape \(S, P\) with S >= 2"):
        noise.smoothed_inner(model, theta, theta, torch.zeros(1, 5), a, b, **kw)
    with pytest.raises(ValueError, match=r"directions must be orthonormal columns"):
        noise.alignment(np.ones((3, 2)), np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"directions must be of shape \(P, m\) with P = 2"):
        noise.alignment(np.ones((3, 2)), np.eye(3))
    with pytest.raises(TypeError, match=r"dtype must be a floating torch.dtype"):
        noise.ball_shifts(1.0, 3, 4, dtype=torch.int64)
    with pytest.raises(TypeError, match=r"vectorize must be True or False, got 1"):
        noise.minibatch_noise(model, theta, a, b, batch_size=4, batches=3, vectorize=1, **kw)
    with pytest.raises(ValueError, match=r"samples must be finite"):
        noise.model_radius(np.full((3, 2), np.nan), 0.1)


# --------------------------------------------------------------------------- the book's resnet

def test_resnet_loop_and_vmap_agree(seed):
    from sgdlab.nn import data, nets

    digits = data.load("digits", None, limit=128)
    model = nets.build("resnet", digits.shape, digits.classes)
    theta = nets.flatten_params(model)
    x, y = digits.x_train, digits.y_train
    options = dict(batch_size=16, batches=4, seed=seed)
    loop = noise.minibatch_noise(model, theta, x, y, vectorize=False, **options)
    vmapped = noise.minibatch_noise(model, theta, x, y, vectorize=True, **options)
    assert loop.shape == (4, theta.numel()) and loop.dtype == torch.float32
    assert_allclose(vmapped.numpy(), loop.numpy(), atol=1e-5 * float(loop.abs().max()))
    shifts = 0.1 * loop
    inner = [noise.smoothed_inner(model, theta, theta * 0.9, shifts, x, y, vectorize=v)
             for v in (False, True)]
    assert_allclose(inner[1].values, inner[0].values, rtol=1e-4,
                    atol=1e-5 * float(np.abs(inner[0].values).max()))
    assert inner[0].f_value == pytest.approx(inner[1].f_value, rel=1e-4)
