"""sgdlab.nn.probe against direct loops, finite differences and closed forms (tiny models)."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

torch = pytest.importorskip("torch")
from hypothesis import given, settings, strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from sgdlab import theory  # noqa: E402
from sgdlab.nn import probe  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")

CLASSES = 3


def tiny_convnet():
    """Conv -> BatchNorm with batch statistics -> ReLU -> Linear on 1 x 4 x 4 inputs."""
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2, track_running_stats=False), nn.ReLU(),
        nn.Flatten(), nn.Linear(2 * 4 * 4, CLASSES))


def tiny_mlp():
    """No batch statistics: a batch's loss is a sum of per-sample terms."""
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 5), nn.Tanh(), nn.Linear(5, CLASSES))




@pytest.fixture
def seed():
    return 20180710


@pytest.fixture
def data(seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(24, 1, 4, 4, generator=gen, dtype=torch.float64)
    y = torch.randint(0, CLASSES, (24,), generator=gen)
    return x, y


def make(builder, seed, dtype=torch.float64):
    torch.manual_seed(seed)
    model = builder()
    return model, torch.nn.utils.parameters_to_vector(model.parameters()).detach().to(dtype)


def direct_grad(model, theta, x, y):
    """Plain autograd on the module with theta loaded: an independent reference."""
    model = model.double()
    torch.nn.utils.vector_to_parameters(theta.clone(), model.parameters())
    model.zero_grad()
    model.eval()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


# --------------------------------------------------------------------------- loss and gradient

@pytest.mark.parametrize("builder", [tiny_convnet, tiny_mlp])
def test_full_batch_grad_matches_central_differences(builder, data, seed):
    x, y = data
    model, theta = make(builder, seed)
    g = probe.full_batch_grad(model, theta, x, y)
    h = 1e-6
    fd = torch.empty_like(theta)
    for i in range(theta.numel()):
        e = torch.zeros_like(theta)
        e[i] = h
        fd[i] = (probe.loss_at(model, theta + e, x, y) - probe.loss_at(model, theta - e, x, y)) / (2 * h)
    assert g.shape == theta.shape and g.dtype == torch.float64
    assert_allclose(g.numpy(), fd.numpy(), rtol=1e-6, atol=1e-8)


def test_full_batch_grad_matches_plain_autograd(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    assert_allclose(probe.full_batch_grad(model, theta, x, y).numpy(),
                    direct_grad(model, theta, x, y).numpy(), rtol=1e-10, atol=1e-12)


def test_batched_data_is_exact_without_batch_statistics(data, seed):
    x, y = data
    model, theta = make(tiny_mlp, seed)
    full = probe.full_batch_grad(model, theta, x, y)
    for batch_size in (1, 5, 7, 24, 100):
        assert_allclose(probe.full_batch_grad(model, theta, x, y, batch_size=batch_size).numpy(),
                        full.numpy(), rtol=1e-10, atol=1e-13)
        assert math.isclose(probe.loss_at(model, theta, x, y, batch_size=batch_size),
                            probe.loss_at(model, theta, x, y), rel_tol=1e-12)


def test_training_mode_is_restored(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    model.train()
    probe.full_batch_grad(model, theta, x, y)
    assert all(m.training for m in model.modules())


# --------------------------------------------------------------------------- Figure 5a

def test_trajectory_inner_products_match_loop(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    gen = torch.Generator().manual_seed(seed)
    thetas = theta + 0.3 * torch.randn(5, theta.numel(), generator=gen, dtype=torch.float64)
    target = thetas[-1]
    expected = torch.stack([-(probe.full_batch_grad(model, t, x, y) @ (target - t))
                            for t in thetas[:-1]])
    got = probe.trajectory_inner_products(model, thetas, x, y, chunk=3)
    assert got.shape == (4,)
    assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    explicit = probe.trajectory_inner_products(model, thetas[:-1], x, y, target=target)
    assert_allclose(explicit.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    looped = probe.trajectory_inner_products(model, thetas, x, y, vectorize=False)
    assert_allclose(looped.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    cos = probe.trajectory_inner_products(model, thetas, x, y, cosine=True)
    norms = torch.stack([probe.full_batch_grad(model, t, x, y).norm() * (target - t).norm()
                         for t in thetas[:-1]])
    assert_allclose(cos.numpy(), (expected / norms).numpy(), rtol=1e-10)
    assert bool((cos.abs() <= 1).all())


def test_trajectory_controls_match_loop(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    gen = torch.Generator().manual_seed(seed)
    thetas = theta + 0.3 * torch.randn(4, theta.numel(), generator=gen, dtype=torch.float64)
    target, other = thetas[-1], theta - 0.5
    got = probe.trajectory_controls(model, thetas[:-1], target, x, y, other=other, chunk=2)
    grads = [probe.full_batch_grad(model, t, x, y) for t in thetas[:-1]]
    for point, suffix in ((target, ""), (other, "_other")):
        inner = torch.stack([-(g @ (point - t)) for g, t in zip(grads, thetas[:-1])])
        norms = torch.stack([g.norm() * (point - t).norm() for g, t in zip(grads, thetas[:-1])])
        assert_allclose(got["inner" + suffix].numpy(), inner.numpy(), rtol=1e-10, atol=1e-12)
        assert_allclose(got["cosine" + suffix].numpy(), (inner / norms).numpy(), rtol=1e-10)
    assert_allclose(got["grad_norm"].numpy(), [g.norm().item() for g in grads], rtol=1e-12)
    alone = probe.trajectory_controls(model, thetas[:-1], target, x, y)
    assert set(alone) == {"inner", "cosine", "grad_norm"}
    with pytest.raises(ValueError, match="other"):
        probe.trajectory_controls(model, thetas[:-1], target, x, y, other=target[:-1])


def test_trajectory_cosine_is_zero_where_direction_vanishes(data, seed):
    x, y = data
    model, theta = make(tiny_mlp, seed)
    cos = probe.trajectory_inner_products(model, theta[None], x, y, target=theta, cosine=True)
    assert cos.tolist() == [0.0]


# --------------------------------------------------------------------------- Figure 5b

@settings(max_examples=25, deadline=None)
@given(dim=st.integers(1, 50), rho=st.floats(1e-3, 1e3), k=st.integers(1, 30),
       seed=st.integers(0, 2**31))
def test_sample_ball_points_lie_in_ball(dim, rho, k, seed):
    center = torch.linspace(-1, 1, dim, dtype=torch.float64)
    points = probe.sample_ball(center, rho, k, generator=seed)
    assert points.shape == (k, dim) and points.dtype == torch.float64
    assert bool(((points - center).norm(dim=1) <= rho * (1 + 1e-12)).all())


def test_sample_ball_radius_distribution(seed):
    """P(|w - c| <= s rho) = s^d: Kolmogorov-Smirnov distance of the radii (d = 5)."""
    dim, count, rho = 5, 4000, 0.5
    center = torch.full((dim,), 3.0, dtype=torch.float64)
    points = probe.sample_ball(center, rho, count, generator=torch.Generator().manual_seed(seed))
    s = np.sort(((points - center).norm(dim=1) / rho).numpy())
    cdf = s ** dim
    ks = max(np.max(np.arange(1, count + 1) / count - cdf), np.max(cdf - np.arange(count) / count))
    assert ks < 1.63 / math.sqrt(count)  # 1% critical value
    for q in (0.5, 0.8, 0.9, 0.97):
        share = np.mean(s <= q)
        sd = math.sqrt(q ** dim * (1 - q ** dim) / count)
        assert abs(share - q ** dim) < 4.5 * sd
    # uniform directions: the mean of the offsets is near 0
    assert float((points - center).mean(0).norm()) < 4.5 * rho / math.sqrt(count)


def test_sample_ball_float32_and_reproducible(seed):
    center = torch.zeros(7)
    a = probe.sample_ball(center, 0.5, 4, generator=seed)
    b = probe.sample_ball(center, 0.5, 4, generator=torch.Generator().manual_seed(seed))
    assert a.dtype == torch.float32 and torch.equal(a, b)


def test_neighbourhood_probe_matches_loop(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    target = theta + 1.0
    k, rho = 7, 0.5
    result = probe.neighbourhood_probe(model, theta, target, x, y, k=k, rho=rho, seed=seed,
                                       chunk=3)
    points = probe.neighbourhood_points(theta, rho, k, seed=seed)
    assert points.shape == (k, theta.numel())
    assert bool(((points - theta).norm(dim=1) <= rho * (1 + 1e-12)).all())
    expected = torch.stack([-(direct_grad(model, w, x, y) @ (target - theta)) for w in points])
    assert result.values.shape == (k,)
    assert_allclose(result.values.numpy(), expected.numpy(), rtol=1e-9, atol=1e-12)
    v = result.values.numpy()
    assert math.isclose(result.mean, v.mean()) and result.min == v.min() and result.max == v.max()
    assert math.isclose(result.std, v.std(ddof=1))
    assert math.isclose(result.distance, float((target - theta).norm()))
    assert math.isclose(result.confidence, theory.hoeffding_confidence(v))
    assert math.isclose(result.hoeffding_bound, theory.hoeffding_bound(v))
    assert result.to_dict()["k"] == k and len(result.to_dict()["values"]) == k
    # the points depend on the seed only, not on the chunking
    again = probe.neighbourhood_probe(model, theta, target, x, y, k=k, rho=rho, seed=seed,
                                      chunk=16)
    assert_allclose(again.values.numpy(), result.values.numpy(), rtol=1e-12)
    looped = probe.neighbourhood_probe(model, theta, target, x, y, k=k, rho=rho, seed=seed,
                                       vectorize=False)
    assert_allclose(looped.values.numpy(), result.values.numpy(), rtol=1e-10)
    assert torch.equal(probe.neighbourhood_points(theta, rho, k, seed=seed, start=2, stop=5),
                       points[2:5])


def test_neighbourhood_probe_hoeffding_bounds_passed_through(data, seed):
    x, y = data
    model, theta = make(tiny_mlp, seed)
    target = theta - 0.5 * probe.full_batch_grad(model, theta, x, y)
    result = probe.neighbourhood_probe(model, theta, target, x, y, k=5, seed=seed, low=-50,
                                       high=50)
    assert (result.low, result.high) == (-50.0, 50.0)
    assert math.isclose(result.confidence,
                        theory.hoeffding_confidence(result.values.numpy(), low=-50,
                                                    high=50))


# --------------------------------------------------------------------------- Figure 5c

@pytest.mark.parametrize("builder", [tiny_convnet, tiny_mlp])
def test_per_sample_vmap_equals_loop(builder, data, seed):
    x, y = data
    model, theta = make(builder, seed)
    fast = probe.per_sample_grad_norms(model, theta, x, y, chunk=5)
    slow = probe.per_sample_grad_norms_loop(model, theta, x, y)
    assert fast.shape == (24,)
    assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-10, atol=1e-13)
    manual = [float(direct_grad(model, theta, x[i:i + 1], y[i:i + 1]).norm()) for i in (0, 9)]
    assert_allclose(fast[[0, 9]].numpy(), manual, rtol=1e-10)


def test_minibatch_grad_norms(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    norms = probe.minibatch_grad_norms(model, theta, x, y, batch_size=6, batches=9, seed=seed,
                                       chunk=4)
    assert norms.shape == (9,) and bool((norms > 0).all())
    again = probe.minibatch_grad_norms(model, theta, x, y, batch_size=6, batches=9, seed=seed)
    assert_allclose(norms.numpy(), again.numpy(), rtol=1e-12)
    # the same draws, by hand
    gen = torch.Generator().manual_seed(seed)
    index = [torch.randperm(24, generator=gen)[:6] for _ in range(9)]
    manual = [float(direct_grad(model, theta, x[i], y[i]).norm()) for i in index]
    assert_allclose(norms.numpy(), manual, rtol=1e-10)
    # a mini-batch of all N samples is the full batch (in some order)
    full = probe.minibatch_grad_norms(model, theta, x, y, batch_size=24, batches=2)
    assert_allclose(full.numpy(), [float(probe.full_batch_grad(model, theta, x, y).norm())] * 2,
                    rtol=1e-10)


# --------------------------------------------------------------------------- Section 5.3

def test_all_pairs_hand_made(data, seed):
    """Shared start p; final solutions p - g (downhill) and p + g (uphill)."""
    x, y = data
    model, p = make(tiny_mlp, seed)
    g = probe.full_batch_grad(model, p, x, y)
    down, up = p - g, p + g
    trajectories = torch.stack([torch.stack([p, down]), torch.stack([p, up])])
    result = probe.all_pairs_inner_products(model, trajectories, x, y)
    g2 = float(g @ g)
    assert result.values.shape == (2, 2, 2)
    assert_allclose(result.values[:, 0, :].numpy(), [[g2, -g2], [g2, -g2]], rtol=1e-10)
    assert_allclose(torch.diagonal(result.values[:, -1, :]).numpy(), [0, 0], atol=1e-12)
    # n != m over t < T: values[0, 0, 1] < 0, values[1, 0, 0] > 0
    assert (result.count_not_positive, result.total) == (1, 2)
    assert result.share_not_positive == 0.5
    assert (result.count_not_positive_with_self, result.total_with_self) == (2, 4)
    assert math.isclose(result.min_value, -g2)
    assert math.isclose(result.min_final_distance, 2 * float(g.norm()), rel_tol=1e-12)
    assert set(result.to_dict()) >= {"share_not_positive", "total", "min_final_distance"}


def test_all_pairs_match_loop(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    gen = torch.Generator().manual_seed(seed)
    members, rows = 3, 4
    trajectories = theta + 0.5 * torch.randn(members, rows, theta.numel(), generator=gen,
                                             dtype=torch.float64)
    result = probe.all_pairs_inner_products(model, trajectories, x, y, chunk=5)
    expected = torch.empty(members, rows, members, dtype=torch.float64)
    for m in range(members):
        for t in range(rows):
            g = direct_grad(model, trajectories[m, t], x, y)
            for n in range(members):
                expected[m, t, n] = -(g @ (trajectories[n, -1] - trajectories[m, t]))
    assert_allclose(result.values.numpy(), expected.numpy(), rtol=1e-9, atol=1e-11)
    looped = probe.all_pairs_inner_products(model, trajectories, x, y, vectorize=False)
    assert_allclose(looped.values.numpy(), expected.numpy(), rtol=1e-9, atol=1e-11)
    counted = expected[:, :-1, :].numpy()
    others = ~np.eye(members, dtype=bool)[:, None, :].repeat(rows - 1, axis=1)
    assert result.total == members * (members - 1) * (rows - 1) == others.sum()
    assert result.count_not_positive == int((counted[others] <= 0).sum())
    assert result.count_not_positive_with_self == int((counted <= 0).sum())
    assert result.total_with_self == counted.size
    assert math.isclose(result.share_not_positive, result.count_not_positive / result.total)
    finals = trajectories[:, -1]
    dists = [float((finals[a] - finals[b]).norm()) for a in range(3) for b in range(a + 1, 3)]
    assert math.isclose(result.min_final_distance, min(dists), rel_tol=1e-12)


@pytest.mark.parametrize("vectorize", [False, True])  # the loop (CPU) and vmap (CUDA) paths
def test_all_pairs_of_some_members_are_those_rows_of_all(data, seed, vectorize):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    gen = torch.Generator().manual_seed(seed)
    members, rows = 4, 3
    trajectories = theta + 0.5 * torch.randn(members, rows, theta.numel(), generator=gen,
                                             dtype=torch.float64)
    full = probe.all_pairs_inner_products(model, trajectories, x, y, vectorize=vectorize)
    # contracted one trajectory at a time (chunk = its rows), the rows are bitwise those
    by_member = probe.all_pairs_inner_products(model, trajectories, x, y, chunk=rows,
                                               vectorize=vectorize)
    for some in ([2], [3, 0], (1, 2, 3), np.array([0, 1, 2, 3]), torch.tensor([1])):
        part = probe.all_pairs_inner_products(model, trajectories, x, y, members=some,
                                              chunk=rows, vectorize=vectorize)
        index = [int(m) for m in some]
        assert part.values.shape == (len(index), rows, members)
        assert torch.equal(part.values, by_member.values[index])
        assert_allclose(part.values.numpy(), full.values[index].numpy(), rtol=1e-12,
                        atol=1e-14)
        # the counts are those of these rows (n != m: each row's own final solution left out)
        counted = full.values[index, :-1].numpy()
        others = np.ones(counted.shape, dtype=bool)
        for k, m in enumerate(index):
            others[k, :, m] = False
        assert (part.total, part.total_with_self) == (others.sum(), counted.size)
        assert part.count_not_positive == int((counted[others] <= 0).sum())
        assert part.count_not_positive_with_self == int((counted <= 0).sum())
        assert part.min_value == float(counted[others].min())
        assert part.min_final_distance == full.min_final_distance  # all final solutions
    every = probe.all_pairs_inner_products(model, trajectories, x, y, vectorize=vectorize,
                                           members=range(members))
    assert torch.equal(every.values, full.values)
    assert every.to_dict() == full.to_dict()


def test_all_pairs_members_are_checked(data, seed):
    x, y = data
    model, theta = make(tiny_mlp, seed)
    trajectories = theta.repeat(3, 2, 1)
    for members, error, message in (
            ([], ValueError, r"^members must be distinct indices of the 3 trajectories "
                             r"\(0 \.\. 2\), at least one, got \[\]$"),
            ([3], ValueError, r"^members must be distinct indices .*, got \[3\]$"),
            ([-1], ValueError, r"^members must be distinct indices .*, got \[-1\]$"),
            ([1, 1], ValueError, r"^members must be distinct indices .*, got \[1, 1\]$"),
            ([0.5], TypeError, r"^members must be a sequence of integers, got \[0.5\]$"),
            ("01", TypeError, r"^members must be a sequence of integers, got '01'$"),
            (2, TypeError, r"^members must be a sequence of integers, got 2$")):
        with pytest.raises(error, match=message):
            probe.all_pairs_inner_products(model, trajectories, x, y, members=members)


def test_one_point_convex_share():
    assert probe.one_point_convex_share([1.0, -1.0, 0.0, 2.0]) == 0.5
    assert probe.one_point_convex_share(torch.ones(2, 3)) == 1.0
    with pytest.raises(ValueError, match="inner_products"):
        probe.one_point_convex_share([])


# --------------------------------------------------------------------------- bad arguments

def test_bad_arguments_are_rejected(data, seed):
    x, y = data
    model, theta = make(tiny_mlp, seed)
    p = theta.numel()
    with pytest.raises(ValueError, match=r"rho must be a finite number > 0, got 0"):
        probe.sample_ball(theta, 0, 3, generator=0)
    with pytest.raises(ValueError, match=r"rho must be .*got -0.5"):
        probe.neighbourhood_probe(model, theta, theta, x, y, rho=-0.5)
    with pytest.raises(ValueError, match=r"rho must be .*got nan"):
        probe.sample_ball(theta, float("nan"), 3, generator=0)
    with pytest.raises(ValueError, match=r"k must be an integer >= 1, got 0"):
        probe.sample_ball(theta, 0.5, 0, generator=0)
    with pytest.raises(ValueError, match=r"k must be .*got 0"):
        probe.neighbourhood_probe(model, theta, theta, x, y, k=0)
    with pytest.raises(ValueError, match=rf"theta must be a 1-D tensor of length P = {p}.*"
                                         rf"got shape \({p - 1},\)"):
        probe.full_batch_grad(model, theta[:-1], x, y)
    with pytest.raises(ValueError, match=rf"target must be a 1-D tensor of length P = {p}"):
        probe.neighbourhood_probe(model, theta, theta[:3], x, y)
    with pytest.raises(ValueError, match=r"thetas must be of shape \(T \+ 1, P\)"):
        probe.trajectory_inner_products(model, theta, x, y)
    with pytest.raises(ValueError, match=r"x must be a non-empty batch"):
        probe.loss_at(model, theta, x[:0], y[:0])
    with pytest.raises(ValueError, match=r"y must be a 1-D tensor of N = 24"):
        probe.per_sample_grad_norms(model, theta, x, y[:5])
    with pytest.raises(ValueError, match=r"trajectories must be .*M >= 2"):
        probe.all_pairs_inner_products(model, theta.reshape(1, 1, p).repeat(1, 3, 1), x, y)
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1 and "
                                         r"<= 24, got 25"):
        probe.minibatch_grad_norms(model, theta, x, y, batch_size=25, batches=2)
    with pytest.raises(ValueError, match=r"chunk must be .*got 0"):
        probe.per_sample_grad_norms(model, theta, x, y, chunk=0)
    with pytest.raises(ValueError, match=r"theta must be finite"):
        probe.loss_at(model, theta * float("nan"), x, y)
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module"):
        probe.loss_at(lambda z: z, theta, x, y)
    with pytest.raises(TypeError, match=r"vectorize must be True or False, got 1"):
        probe.trajectory_inner_products(model, theta[None], x, y, target=theta, vectorize=1)
    with pytest.raises(TypeError, match=r"generator must be a torch.Generator or an integer seed"):
        probe.sample_ball(theta, 0.5, 2, generator="seed")


# --------------------------------------------------------------------------- f at scale, memory

def convnet_activations_per_image():
    """tiny_convnet's leaf outputs for one 1x4x4 image, by hand: Conv2d, BatchNorm2d and ReLU
    2 x 4 x 4 each, Flatten 32, Linear 3."""
    return 3 * 2 * 4 * 4 + 2 * 4 * 4 + CLASSES


def test_point_memory_bytes_by_hand_and_bounded_in_n(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    per_image, p = convnet_activations_per_image(), theta.numel()
    for batch_size, images in [(None, 24), (5, 5), (100, 24)]:
        expected = 8 * (probe.ACTIVATION_COPIES * per_image * images
                        + probe.PARAMETER_COPIES * p)
        assert probe.point_memory_bytes(model, theta, x, batch_size=batch_size) == expected
    # with a probe chunk the estimate does not grow with the number of images
    big = x.repeat(10, 1, 1, 1)
    assert (probe.point_memory_bytes(model, theta, big, batch_size=5)
            == probe.point_memory_bytes(model, theta, x, batch_size=5))
    assert (probe.point_memory_bytes(model, theta, big)
            > 9 * probe.point_memory_bytes(model, theta, x) // 2)
    assert probe.point_memory_bytes(model, theta.float(), x, batch_size=5) < \
        probe.point_memory_bytes(model, theta, x, batch_size=5)


@pytest.mark.parametrize("memory_gb", [1e-9, 2e-5, 1e-4, 3e-4, 10.0])
def test_vmap_width_is_the_budget_over_one_point(data, seed, memory_gb):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    per_point = probe.point_memory_bytes(model, theta, x, batch_size=4)
    width = probe.vmap_width(model, theta, x, points=50, batch_size=4, memory_gb=memory_gb)
    assert width == min(50, max(1, math.floor(memory_gb * 2**30 / per_point)))
    assert 1 <= width <= 50
    smaller = probe.vmap_width(model, theta, x, points=50, batch_size=4, memory_gb=memory_gb / 2)
    assert smaller <= width


def test_default_budget_and_path_per_device():
    assert 0 < probe.default_memory_gb("cpu") <= probe.CPU_MEMORY_GB
    assert probe.prefers_vmap("cpu") is False
    assert probe.prefers_vmap(torch.device("cuda")) is True
    assert probe.prefers_vmap("cuda:1") is True


def test_probes_take_their_width_from_the_budget(data, seed, monkeypatch):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    target = theta + 0.3
    calls = []
    real_width = probe.vmap_width

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_width(*args, **kwargs)

    monkeypatch.setattr(probe, "vmap_width", spy)
    budget = 3 * probe.point_memory_bytes(model, theta, x, batch_size=8) / 2**30
    got = probe.neighbourhood_probe(model, theta, target, x, y, k=7, batch_size=8,
                                    memory_gb=budget, vectorize=True)
    assert calls == [dict(points=7, batch_size=8, memory_gb=budget)]
    assert real_width(model, theta, x, points=7, batch_size=8, memory_gb=budget) == 3
    ref = probe.neighbourhood_probe(model, theta, target, x, y, k=7, batch_size=8, chunk=3,
                                    vectorize=True)
    assert torch.equal(got.values, ref.values)
    probe.all_pairs_inner_products(model, torch.stack([theta, target])[:, None].repeat(1, 2, 1),
                                   x, y, memory_gb=budget)
    probe.trajectory_inner_products(model, torch.stack([theta, target]), x, y, memory_gb=budget)
    probe.per_sample_grad_norms(model, theta, x, y, memory_gb=budget)
    probe.minibatch_grad_norms(model, theta, x, y, batch_size=6, batches=3, memory_gb=budget)
    assert [c["points"] for c in calls[1:]] == [4, 1, 24, 3]
    assert [c["batch_size"] for c in calls[1:]] == [None, None, 1, 6]
    assert all(c["memory_gb"] == budget for c in calls)


def test_default_path_gives_the_loop_numbers(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    target = theta + 0.3
    default = probe.neighbourhood_probe(model, theta, target, x, y, k=5, batch_size=7)
    looped = probe.neighbourhood_probe(model, theta, target, x, y, k=5, batch_size=7,
                                       vectorize=False)
    assert torch.equal(default.values, looped.values)
    assert probe.prefers_vmap("cpu") is False  # so the default above was the loop

def chunk_reference(model, theta, x, y, batch_size):
    """f and its gradient on consecutive chunks, by plain autograd on the module."""
    model = model.double()
    torch.nn.utils.vector_to_parameters(theta.clone(), model.parameters())
    model.zero_grad()
    model.eval()
    n = x.shape[0]
    total = 0
    for start in range(0, n, batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        total = total + nn.functional.cross_entropy(model(xb), yb) * xb.shape[0] / n
    total.backward()
    return float(total.detach()), torch.cat([p.grad.reshape(-1) for p in model.parameters()])


def test_chunked_f_matches_a_direct_reference(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    for batch_size in (5, 7, 24):      # 24 = 4 * 5 + 4 and 3 * 7 + 3: shorter last chunks
        loss, grad_ref = chunk_reference(model, theta, x, y, batch_size)
        assert math.isclose(probe.loss_at(model, theta, x, y, batch_size=batch_size), loss,
                            rel_tol=1e-12)
        assert_allclose(probe.full_batch_grad(model, theta, x, y, batch_size=batch_size),
                        grad_ref, rtol=1e-10, atol=1e-13)


def test_chunking_error(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    result = probe.chunking_error(model, theta, x, y, [5, 24, 12])
    assert result.batch_sizes == [5, 24, 12] and result.n == 24
    loss, grad_ref = chunk_reference(model, theta, x, y, 24)
    assert math.isclose(result.loss, loss, rel_tol=1e-12)
    assert math.isclose(result.grad_norm, float(grad_ref.norm()), rel_tol=1e-10)
    assert result.loss_rel_diff[1] < 1e-14 and result.grad_rel_diff[1] < 1e-12
    assert math.isclose(result.cosine[1], 1.0, rel_tol=1e-12)
    chunked_loss, chunked_grad = chunk_reference(model, theta, x, y, 5)
    assert math.isclose(result.loss_rel_diff[0], abs(chunked_loss - loss) / loss, rel_tol=1e-6)
    cosine = float(chunked_grad @ grad_ref) / float(chunked_grad.norm() * grad_ref.norm())
    assert math.isclose(result.cosine[0], cosine, rel_tol=1e-10)
    assert result.loss_rel_diff[0] > 1e-6          # BatchNorm: chunking changes f
    assert result.to_dict()["cosine"] == result.cosine
    mlp, theta_mlp = make(tiny_mlp, seed)            # no batch statistics: exact
    exact = probe.chunking_error(mlp, theta_mlp, x, y, [5])
    assert exact.loss_rel_diff[0] < 1e-14 and exact.grad_rel_diff[0] < 1e-13


def test_bad_memory_arguments_are_rejected(data, seed):
    x, y = data
    model, theta = make(tiny_convnet, seed)
    with pytest.raises(ValueError, match=r"memory_gb must be a finite number > 0 or None, got 0"):
        probe.neighbourhood_probe(model, theta, theta + 1, x, y, k=2, memory_gb=0)
    with pytest.raises(TypeError, match=r"memory_gb must be .*got '1'"):
        probe.vmap_width(model, theta, x, points=2, memory_gb="1")
    with pytest.raises(ValueError, match=r"points must be an integer >= 1, got 0"):
        probe.vmap_width(model, theta, x, points=0)
    with pytest.raises(ValueError, match=r"batch_sizes must be at least one chunk size"):
        probe.chunking_error(model, theta, x, y, [])
    with pytest.raises(ValueError, match=r"batch_sizes must be an integer >= 1, got 0"):
        probe.chunking_error(model, theta, x, y, [4, 0])
    with pytest.raises(TypeError, match=r"batch_sizes must be a sequence"):
        probe.chunking_error(model, theta, x, y, 4)


@pytest.mark.slow
def test_chunked_gradient_memory_does_not_grow_with_images():
    """tools/measure_memory.py: one chunked gradient's growth in resident memory, each in a
    fresh process, for 8x more images, against the growth of the one-pass estimate."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from sgdlab.nn import nets

    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "tools/measure_memory.py", "memory", "--arch",
                           "resnet", "--images", "256", "2048", "--batch-size", "64"],
                          cwd=repo, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    small, large = json.loads(proc.stdout)["rows"]
    assert (small["images"], large["images"]) == (256, 2048)
    model = nets.build("resnet", (3, 32, 32), 10, seed=0)
    theta = nets.flatten_params(model)
    x = torch.zeros(2048, 3, 32, 32)
    one_pass_growth = (probe.point_memory_bytes(model, theta, x)
                       - probe.point_memory_bytes(model, theta, x[:256])) / 2**20
    assert abs(large["above_data_mb"] - small["above_data_mb"]) < 0.1 * one_pass_growth
    assert large["estimate_mb"] == small["estimate_mb"]


def test_batchnorm_bias_vanishes_with_one_batch():
    from sgdlab.nn import nets
    from sgdlab.nn.experiments import config_for

    one = config_for("trajectory", "tiny", batch_size=256)  # limit 256: one batch per epoch
    rows = probe.batchnorm_bias("resnet", config=one)
    assert [r["batches"] for r in rows] == [1] and rows[0]["epoch"] == 0
    assert rows[0]["relative"] < 1e-5 and rows[0]["cosine"] > 1 - 1e-6
    # several batches: BatchNorm with mini-batch statistics gives a real bias
    config = config_for("trajectory", "tiny", batch_size=64, seed=2)
    init = nets.flatten_params(nets.build("resnet", (1, 8, 8), 10, seed=2)).numpy()
    rows = probe.batchnorm_bias("resnet", np.stack([init] * 5), config=config)
    assert [r["epoch"] for r in rows] == [0, 2, 4] and rows[0]["batches"] == 4
    assert rows[0]["relative"] > 1e-3 and -1 <= rows[0]["cosine"] < 1 - 1e-9
    # the same weights give the same rows; without weights, the initialisation of the seed
    values = [{k: v for k, v in r.items() if k != "epoch"} for r in rows]
    assert values[0] == values[1] == values[2]
    assert probe.batchnorm_bias("resnet", config=config) == rows[:1]


def test_batchnorm_bias_needs_digits():
    from sgdlab.nn.experiments import config_for

    with pytest.raises(ValueError, match="config must be a digits experiment .*, got dataset "
                       "'cifar10'"):
        probe.batchnorm_bias("resnet", config=config_for("trajectory", "paper"))
