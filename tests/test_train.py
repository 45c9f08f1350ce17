"""Tests of sgdlab.nn.train: schedules, a tiny run, files, resumption, ensembles."""

import json

import numpy as np
import pytest
import torch
from torch.func import stack_module_state

from sgdlab.nn import data, nets
from sgdlab.nn import io as nn_io
from sgdlab.nn import train as train_mod
from sgdlab.nn.train import (ENSEMBLE_METHODS, METRICS, TrainConfig, ensemble_batches,
                          epoch_batches, load_result, lr_at, sgd_epoch_ensemble,
                          sgd_epoch_sequential, train, train_ensemble)

pytestmark = pytest.mark.usefixtures("torch_one_thread")

TINY = dict(dataset="digits", arch="resnet", epochs=4, batch_size=32, limit=160)



def _same_metrics(a, b):
    for name in METRICS:
        if name != "seconds":
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


# --------------------------------------------------------------------------- schedules

def test_lr_schedules():
    paper = TrainConfig(epochs=300, lr=0.1, schedule="step")
    assert [lr_at(paper, e) for e in (0, 149, 150, 224, 225, 299)] == \
        [0.1, 0.1, 0.1 / 10, 0.1 / 10, 0.1 / 100, 0.1 / 100]
    four = TrainConfig(epochs=4, lr=1.0)
    assert [lr_at(four, e) for e in range(4)] == [1.0, 1.0, 0.1, 0.01]
    assert lr_at(TrainConfig(epochs=1, lr=0.5), 0) == 0.5
    smooth = TrainConfig(epochs=300, lr=0.1, schedule="smooth")
    np.testing.assert_allclose([lr_at(smooth, e) for e in (0, 1, 100)],
                               [0.1, 0.099, 0.1 * 0.99 ** 100])
    constant = TrainConfig(epochs=10, lr=0.01, schedule="constant")
    assert {lr_at(constant, e) for e in range(10)} == {0.01}
    with pytest.raises(ValueError, match="epoch"):
        lr_at(paper, -1)


@pytest.mark.parametrize("field, value, error", [
    ("dataset", "mnist", ValueError), ("arch", "vgg", ValueError), ("epochs", 0, ValueError),
    ("epochs", 2.5, TypeError), ("batch_size", 0, ValueError), ("lr", 0.0, ValueError),
    ("lr", float("nan"), ValueError), ("lr", -1, ValueError), ("lr", True, TypeError),
    ("schedule", "cosine", ValueError), ("seed", -1, ValueError), ("device", "tpu", ValueError),
    ("init_seed", -2, ValueError), ("limit", 0, ValueError), ("data_dir", 3, TypeError),
    ("momentum", 1.0, ValueError), ("momentum", -0.1, ValueError), ("momentum", "0.9", TypeError),
    ("weight_decay", -1e-4, ValueError), ("augment", 1, TypeError), ("augment", True, ValueError),
    ("bn_eval", "train", ValueError), ("val_split", "val", ValueError),
])
def test_bad_config_values(field, value, error):
    with pytest.raises(error, match=f"{field} must be"):
        TrainConfig(**{field: value})


def test_config_round_trip_and_errors(tmp_path):
    config = TrainConfig(data_dir=tmp_path, lr=1, init_seed=3)
    assert config.data_dir == str(tmp_path) and isinstance(config.lr, float)
    assert config.weights_seed == 3 and TrainConfig(seed=5).weights_seed == 5
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="unknown TrainConfig field"):
        TrainConfig.from_dict({"nesterov": True})
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train({"epochs": 1}, tmp_path)
    with pytest.raises(ValueError, match="batch_size must be <= the number of training images"):
        train(TrainConfig(limit=10, batch_size=64), tmp_path / "a", progress=False)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"device='cuda' was requested but"):
            train(TrainConfig(device="cuda", limit=64), tmp_path / "b", progress=False)


def test_epoch_batches_depend_on_seed_and_epoch_only():
    a = epoch_batches(100, 32, seed=3, epoch=5)
    assert a.shape == (3, 32) and a.dtype == torch.long
    assert len(set(a.flatten().tolist())) == 96  # a permutation, the rest dropped
    assert torch.equal(a, epoch_batches(100, 32, seed=3, epoch=5))
    assert not torch.equal(a, epoch_batches(100, 32, seed=3, epoch=6))
    assert not torch.equal(a, epoch_batches(100, 32, seed=4, epoch=5))
    both = ensemble_batches(100, 32, 2, [3, 4], 5)
    assert both.shape == (2, 3, 32)
    assert torch.equal(both[0], a) and torch.equal(both[1], epoch_batches(100, 32, 4, 5))
    with pytest.raises(ValueError, match="one seed per member"):
        ensemble_batches(100, 32, 3, [3, 4], 5)


# --------------------------------------------------------------------------- one run

@pytest.mark.slow
def test_tiny_run_files_and_metrics(tmp_path):
    config = TrainConfig(**TINY)
    result = train(config, tmp_path, progress=False)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["checkpoint.pt", "config.json", "result.json", "result.npz",
                     "weights.npy"]  # and no temporary files left behind
    model = nets.build("resnet", (1, 8, 8), 10, seed=0)
    P = nets.count_parameters(model)
    assert result.weights.shape == (5, P) and result.weights.dtype == np.float32
    np.testing.assert_array_equal(result.weights[0], nets.flatten_params(model).numpy())
    assert np.all(np.any(np.diff(result.weights, axis=0) != 0, axis=1))  # it moved every epoch
    assert result.epochs == 4 and result.parameters == P and result.config == config
    for name in METRICS:
        values = getattr(result, name)
        assert values.shape == (4,) and np.all(np.isfinite(values)), name
    np.testing.assert_allclose(result.lr, [0.1, 0.1, 0.01, 0.001])
    assert np.all(result.grad_norm_min <= result.grad_norm_mean)
    assert np.all(result.grad_norm_mean <= result.grad_norm_max)
    np.testing.assert_allclose(result.step_length_max, result.lr * result.grad_norm_max)
    np.testing.assert_allclose(result.step_length_mean, result.lr * result.grad_norm_mean)
    assert np.all((0 <= result.val_accuracy) & (result.val_accuracy <= 1))
    assert result.train_loss[-1] < np.log(10)  # it learned something in 4 epochs

    saved = load_result(tmp_path)
    np.testing.assert_array_equal(saved.weights, result.weights)
    _same_metrics(saved, result)
    meta = json.loads((tmp_path / "result.json").read_text())
    assert meta["config"] == config.to_dict() and meta["summary"]["epochs"] == 4
    assert meta["summary"]["parameters"] == P
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 4
    final = torch.cat([v.reshape(-1) for v in state["model"].values()]).numpy()
    np.testing.assert_array_equal(final, result.weights[-1])
    # the final metrics are those of the final weights
    ds = data.load("digits", limit=160)
    loss = torch.nn.functional.cross_entropy(
        torch.func.functional_call(model, nets.unflatten_params(
            model, torch.from_numpy(np.array(result.weights[-1]))), (ds.x_val,)), ds.y_val)
    np.testing.assert_allclose(result.val_loss[-1], float(loss), rtol=1e-5)
    with pytest.raises(FileNotFoundError, match="no finished training run"):
        load_result(tmp_path / "nothing")


@pytest.mark.slow
def test_resume_after_kill_is_bitwise_identical(tmp_path, monkeypatch):
    config = TrainConfig(**TINY)
    reference = train(config, tmp_path / "ref", progress=False)

    # kill 1: right after the checkpoint of epoch 2 was written
    real_write = nn_io.save_checkpoint

    def dying_write(path, state):
        real_write(path, state)
        if state["epoch"] == 2:
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(nn_io, "save_checkpoint", dying_write)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "run", progress=False)
    monkeypatch.undo()
    assert not (tmp_path / "run" / "result.json").exists()

    # kill 2: in the middle of the third epoch, after its SGD steps, before anything is saved
    def dying_evaluate(*args):
        raise RuntimeError("killed mid-epoch")

    monkeypatch.setattr(train_mod, "_evaluate", dying_evaluate)
    with pytest.raises(RuntimeError, match="killed mid-epoch"):
        train(config, tmp_path / "run", resume=True, progress=False)
    monkeypatch.undo()
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["epoch"] == 2

    resumed = train(config, tmp_path / "run", resume=True, progress=False)
    np.testing.assert_array_equal(resumed.weights, reference.weights)
    _same_metrics(resumed, reference)

    # resuming a finished run returns it without training again
    stamp = (tmp_path / "run" / "weights.npy").stat().st_mtime_ns
    again = train(config, tmp_path / "run", resume=True, progress=False)
    np.testing.assert_array_equal(again.weights, reference.weights)
    assert (tmp_path / "run" / "weights.npy").stat().st_mtime_ns == stamp


def test_another_config_in_the_same_folder_is_refused(tmp_path):
    from sgdlab.nn.runs import ConfigMismatchError

    config = TrainConfig(**dict(TINY, epochs=1, limit=64))
    train(config, tmp_path, progress=False)
    stamp = (tmp_path / "weights.npy").stat().st_mtime_ns
    for resume in (False, True):
        with pytest.raises(ConfigMismatchError,
                           match=r"out_dir '.*' holds a run with another config or start: "
                                 r"config\.epochs: saved 1, asked 2; config\.lr: saved 0\.1, "
                                 r"asked 0\.05\. Choose another out_dir, or train with the "
                                 r"saved settings") as err:
            train(TrainConfig(**dict(TINY, epochs=2, lr=0.05, limit=64)), tmp_path,
                  resume=resume, progress=False)
        assert isinstance(err.value, ValueError)
    assert (tmp_path / "weights.npy").stat().st_mtime_ns == stamp  # refused before any work
    # where the data were read from is not part of the run: a finished run is returned
    again = train(TrainConfig(**dict(TINY, epochs=1, limit=64, data_dir=str(tmp_path))),
                  tmp_path, resume=True, progress=False)
    assert (tmp_path / "weights.npy").stat().st_mtime_ns == stamp and again.epochs == 1


@pytest.mark.slow
def test_start_params_continue_a_run(tmp_path):
    constant = dict(TINY, schedule="constant")
    full = train(TrainConfig(**constant), tmp_path / "full", progress=False)
    # continuing from epoch 2 with the same seed and start_epoch=2 repeats epochs 2..4
    tail = train(TrainConfig(**dict(constant, epochs=2)), tmp_path / "tail", progress=False,
                 start_params=full.weights[2], start_epoch=2)
    np.testing.assert_array_equal(tail.weights, full.weights[2:])
    assert tail.start_epoch == 2
    # a new seed from the same point (Section 5.3) or a smaller lr (Section 5.4) differ
    other = train(TrainConfig(**dict(constant, epochs=2, seed=9, lr=0.01)), tmp_path / "other",
                  progress=False, start_params=torch.from_numpy(np.array(full.weights[2])),
                  start_epoch=2)
    np.testing.assert_array_equal(other.weights[0], full.weights[2])
    assert not np.array_equal(other.weights[-1], full.weights[-1])
    with pytest.raises(ValueError, match="start_params must be of shape"):
        train(TrainConfig(**constant), tmp_path / "bad", start_params=np.zeros(3),
              progress=False)
    with pytest.raises(ValueError, match="another config or start"):
        train(TrainConfig(**dict(constant, epochs=2)), tmp_path / "tail", progress=False,
              start_params=full.weights[1], start_epoch=2)


# --------------------------------------------------------------------------- ensembles

def test_ensemble_in_a_folder_appends_each_epoch_and_resumes(tmp_path, monkeypatch):
    from sgdlab.nn.runs import ConfigMismatchError

    config = TrainConfig(**dict(TINY, epochs=3, limit=64))
    dataset = data.load("digits", limit=64)
    memory = train_ensemble(config, [1, 2], progress=False, dataset=dataset)
    real, calls = train_mod.sgd_epoch_ensemble, []

    def dying(*args, **kwargs):  # killed during the third epoch
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed mid-epoch")
        return real(*args, **kwargs)

    monkeypatch.setattr(train_mod, "sgd_epoch_ensemble", dying)
    with pytest.raises(KeyboardInterrupt):
        train_ensemble(config, [1, 2], progress=False, out_dir=tmp_path, dataset=dataset)
    weights = tmp_path / "weights.npy"
    inode, size = weights.stat().st_ino, weights.stat().st_size
    assert json.loads((tmp_path / "progress.json").read_text()) == {"epochs": 2}
    assert not (tmp_path / "result.json").exists()
    with pytest.raises(FileNotFoundError, match="holds no finished ensemble"):
        train_mod.load_ensemble(tmp_path)
    calls.clear()
    resumed = train_ensemble(config, [1, 2], progress=False, out_dir=tmp_path, resume=True,
                             dataset=dataset)
    assert len(calls) == 1  # the one epoch left
    np.testing.assert_array_equal(resumed, memory)  # bitwise an uninterrupted ensemble
    # the weights file was allocated once, (E + 1) rows, and written row by row in place
    assert weights.stat().st_ino == inode and weights.stat().st_size == size
    assert size - memory.nbytes < 256  # the .npy header
    np.testing.assert_array_equal(train_mod.load_ensemble(tmp_path), memory)
    calls.clear()
    train_ensemble(config, [1, 2], progress=False, out_dir=tmp_path, resume=True)
    assert calls == []  # finished: returned as it is
    with pytest.raises(ConfigMismatchError, match=r"config\.epochs: saved 3, asked 2"):
        train_ensemble(TrainConfig(**dict(TINY, epochs=2, limit=64)), [1, 2], progress=False,
                       out_dir=tmp_path, resume=True)
    with pytest.raises(ConfigMismatchError, match=r"seeds: saved \[1, 2\], asked \[1, 3\]"):
        train_ensemble(config, [1, 3], progress=False, out_dir=tmp_path)
    with pytest.raises(ValueError, match="dataset must be the digits data"):
        train_ensemble(config, [1, 2], dataset=data.load("digits", limit=64,
                                                        val_split="holdout"))


def _ensemble_case(arch, dtype, members=3):
    ds = data.load("digits", limit=200)
    models = [nets.build(arch, ds.shape, 10, seed=s).to(dtype) for s in range(members)]
    params, _ = stack_module_state(models)
    batches = ensemble_batches(200, 16, members, list(range(members)), epoch=0)
    return models[0], params, ds.x_train.to(dtype), ds.y_train, batches


@pytest.mark.parametrize("method", ENSEMBLE_METHODS)
@pytest.mark.parametrize("arch", ["resnet", "densenet"])
def test_ensemble_epoch_matches_sequential_in_float64(arch, method):
    # float64: no rounding flips a ReLU, so the trajectories must agree to rounding for steps
    model, params, x, y, batches = _ensemble_case(arch, torch.float64)
    batches = batches[:, :4]
    fast = sgd_epoch_ensemble(model, params, x, y, batches, 0.1, method=method)
    slow = sgd_epoch_sequential(model, params, x, y, batches, 0.1)
    assert list(fast) == list(slow) == [n for n, _ in nets.param_names_shapes(model)]
    for name in fast:
        assert fast[name].shape == params[name].shape and fast[name].dtype == torch.float64
        np.testing.assert_allclose(fast[name], slow[name], rtol=1e-10, atol=1e-12, err_msg=name)
        assert not torch.equal(fast[name], params[name].detach()) or "bn" in name


@pytest.mark.parametrize("method", ENSEMBLE_METHODS)
@pytest.mark.parametrize("arch", ["resnet", "densenet"])
def test_ensemble_step_matches_sequential_in_float32(arch, method):
    # one float32 step: the same to rounding (later steps can part at a ReLU kink, see
    # sgdlab.nn.train)
    model, params, x, y, batches = _ensemble_case(arch, torch.float32)
    fast = sgd_epoch_ensemble(model, params, x, y, batches[:, :1], 0.1, method=method)
    slow = sgd_epoch_sequential(model, params, x, y, batches[:, :1], 0.1)
    for name in fast:
        np.testing.assert_allclose(fast[name], slow[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_ensemble_epoch_rejects_bad_arguments():
    model, params, x, y, batches = _ensemble_case("resnet", torch.float32)
    with pytest.raises(ValueError, match="same leading dimension"):
        sgd_epoch_ensemble(model, params, x, y, batches[:2], 0.1)
    with pytest.raises(ValueError, match="lr"):
        sgd_epoch_ensemble(model, params, x, y, batches, 0)
    with pytest.raises(ValueError, match="method must be one of"):
        sgd_epoch_ensemble(model, params, x, y, batches, 0.1, method="loop")
    with pytest.raises(ValueError, match="method must be one of"):
        train_ensemble(TrainConfig(**TINY), [0, 1], method="loop", progress=False)


@pytest.mark.slow
def test_ensemble_member_reproduces_train(tmp_path):
    # vmap happens to round like train() on this run, so the bookkeeping (seeds, batches,
    # schedule) is checked on whole trajectories; "grouped" is checked step by step above
    config = TrainConfig(**dict(TINY, epochs=2))
    weights = train_ensemble(config, [3, 5], progress=False, method="vmap")
    P = nets.count_parameters(nets.build("resnet", (1, 8, 8), 10))
    assert weights.shape == (3, 2, P) and weights.dtype == np.float32
    for m, seed in enumerate([3, 5]):
        single = train(TrainConfig(**dict(TINY, epochs=2, seed=seed)), tmp_path / str(seed),
                       progress=False)
        np.testing.assert_array_equal(weights[0, m], single.weights[0])
        np.testing.assert_allclose(weights[:, m], single.weights, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("method", ENSEMBLE_METHODS)
def test_ensemble_from_a_shared_start(tmp_path, method):
    config = TrainConfig(**dict(TINY, epochs=1, schedule="constant"))
    shared = train(config, tmp_path, progress=False)
    start = np.array(shared.weights[-1])
    weights = train_ensemble(config, [0, 1, 2], start_params=start, start_epoch=1,
                             progress=False, method=method)
    assert weights.shape == (2, 3, start.size)
    np.testing.assert_array_equal(weights[0], np.repeat(start[None], 3, axis=0))
    # different seeds, different trajectories
    assert not np.allclose(weights[1, 0], weights[1, 1])
    per_member = train_ensemble(config, [0, 1], start_params=np.stack([start, start]),
                                start_epoch=1, progress=False, method=method)
    if method == "vmap":
        np.testing.assert_array_equal(per_member, weights[:, :2])
    else:   # grouped convolutions round differently for another number of members
        np.testing.assert_allclose(per_member, weights[:, :2], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="start_params must be of shape"):
        train_ensemble(config, [0, 1], start_params=np.zeros((3, start.size)), progress=False)


# --------------------------------------------------------------------------- files

def test_atomic_writes_leave_the_old_file_or_the_new(tmp_path):
    path = tmp_path / "result.json"
    nn_io.write_json(path, {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}

    def dying(f):
        f.write(b"half")
        raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        nn_io.write_atomic(path, dying)
    assert json.loads(path.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]  # no temporary left
    nn_io.write_npz(tmp_path / "a.npz", {"x": np.arange(3)})
    nn_io.write_npy(tmp_path / "b.npy", np.ones(2))
    with np.load(tmp_path / "a.npz") as npz:
        np.testing.assert_array_equal(npz["x"], np.arange(3))
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), np.ones(2))
    nn_io.save_checkpoint(tmp_path / "c.pt", {"epoch": 3, "w": torch.ones(2)})
    state = nn_io.load_checkpoint(tmp_path / "c.pt", "cpu")
    assert state["epoch"] == 3 and torch.equal(state["w"], torch.ones(2))


# --------------------------------------------------------------------------- protocol options

def _reference_sgd(model, x, y, batches, lr, momentum, weight_decay, epochs):
    """The update of sgdlab.nn.train's docstring written out: g = grad f_B(x) + lambda x,
    v <- mu v + g (v = g at the first step), x <- x - lr v; one flat float64 vector."""
    loss = nets.functional_loss(model)
    theta = nets.flatten_params(model).detach().clone()
    velocity = None
    for epoch in range(epochs):
        for index in batches[epoch]:
            g = torch.func.grad(loss)(theta, x[index], y[index]) + weight_decay * theta
            velocity = g if velocity is None else momentum * velocity + g
            theta = theta - lr * velocity
    return theta


@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.0, 0.05),
                                                    (0.9, 5e-4)])
def test_momentum_and_weight_decay_follow_the_update_in_float64(momentum, weight_decay):
    ds = data.load("digits", limit=96)
    x, y = ds.x_train.double(), ds.y_train
    config = TrainConfig(momentum=momentum, weight_decay=weight_decay, lr=0.05)
    model = nets.build("resnet", ds.shape, 10, seed=1).double()
    start = nets.flatten_params(model).detach().clone()
    batches = [epoch_batches(96, 32, 0, e) for e in range(2)]
    expected = _reference_sgd(model, x, y, batches, 0.05, momentum, weight_decay, 2)
    optimizer = train_mod.sgd_optimizer(config, model)
    for epoch in range(2):  # the optimiser (and its momentum buffer) carries over epochs
        norms = train_mod.sgd_epoch(model, optimizer, x, y, batches[epoch], 0.05)
        assert norms.shape == (3,) and np.all(norms > 0)
    got = nets.flatten_params(model).detach()
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    plain = _reference_sgd(nets.build("resnet", ds.shape, 10, seed=1).double(), x, y, batches,
                           0.05, 0.0, 0.0, 2)
    moved = float((got - start).norm())
    assert (float((got - plain).norm()) > 1e-3 * moved) == (momentum > 0 or weight_decay > 0)


def test_resume_with_momentum_is_bitwise_identical(tmp_path, monkeypatch):
    config = TrainConfig(**dict(TINY, epochs=3, momentum=0.9, weight_decay=5e-4))
    reference = train(config, tmp_path / "ref", progress=False)
    plain = train(TrainConfig(**dict(TINY, epochs=3)), tmp_path / "plain", progress=False)
    assert not np.array_equal(reference.weights[-1], plain.weights[-1])
    real_write = nn_io.save_checkpoint

    def dying_write(path, state):
        real_write(path, state)
        if state["epoch"] == 1:
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(nn_io, "save_checkpoint", dying_write)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "run", progress=False)
    monkeypatch.undo()
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert all("momentum_buffer" in s for s in state["optimizer"]["state"].values())
    resumed = train(config, tmp_path / "run", resume=True, progress=False)
    np.testing.assert_array_equal(resumed.weights, reference.weights)
    _same_metrics(resumed, reference)


def test_keep_running_stats_leaves_training_steps_alone():
    ds = data.load("digits", limit=64)
    model = nets.build("resnet", ds.shape, 10, seed=0)
    before = model(ds.x_train)
    assert train_mod.keep_running_stats(model) is model
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(m.track_running_stats for m in bns)
    torch.testing.assert_close(model(ds.x_train), before, rtol=0, atol=0)
    assert all(int(m.num_batches_tracked) == 1 for m in bns)
    stem = bns[0]  # its input is the stem's output: the running mean moved 0.1 of the way
    with torch.no_grad():
        first = model.stem(ds.x_train)
    torch.testing.assert_close(stem.running_mean, 0.1 * first.mean(dim=(0, 2, 3)))
    assert nets.count_parameters(model) == nets.count_parameters(
        nets.build("resnet", ds.shape, 10, seed=0))


def test_bn_eval_running_changes_evaluation_not_training(tmp_path):
    batch = train(TrainConfig(**dict(TINY, epochs=2)), tmp_path / "batch", progress=False)
    config = TrainConfig(**dict(TINY, epochs=2, bn_eval="running"))
    running = train(config, tmp_path / "running", progress=False)
    np.testing.assert_array_equal(running.weights, batch.weights)
    np.testing.assert_array_equal(running.grad_norm_max, batch.grad_norm_max)
    assert np.all(running.val_loss != batch.val_loss)
    # the reported loss is the model's with the checkpointed running statistics, in eval mode
    ds = data.load("digits", limit=TINY["limit"])
    model = train_mod.keep_running_stats(nets.build("resnet", ds.shape, 10))
    state = torch.load(tmp_path / "running" / "checkpoint.pt", weights_only=True)
    model.load_state_dict(state["model"])
    assert int(model.bn.num_batches_tracked) == 2 * (TINY["limit"] // TINY["batch_size"])
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model.eval()(ds.x_val), ds.y_val)
    np.testing.assert_allclose(running.val_loss[-1], float(loss), rtol=1e-5)


def test_holdout_trains_on_the_rest_and_validates_on_the_holdout(tmp_path):
    config = TrainConfig(**dict(TINY, epochs=1, val_split="holdout"))
    result = train(config, tmp_path, progress=False)
    ds = data.load("digits", limit=TINY["limit"], val_split="holdout")
    assert ds.x_train.shape[0] == 144 and ds.x_val.shape[0] == 16
    model = nets.build("resnet", ds.shape, 10)
    loss = nets.functional_loss(model)(torch.from_numpy(np.array(result.weights[-1])),
                                       ds.x_val, ds.y_val)
    np.testing.assert_allclose(result.val_loss[-1], float(loss), rtol=1e-5)


def test_augmentation_is_drawn_per_seed_and_epoch(tmp_path, monkeypatch):
    folder = data.write_fake_cifar(tmp_path / "data", "cifar10", n_per_batch=16, seed=2)
    cifar = dict(dataset="cifar10", data_dir=str(folder), arch="resnet", epochs=2,
                 batch_size=16, schedule="constant", limit=32)
    on = train(TrainConfig(**cifar, augment=True), tmp_path / "on", progress=False)
    again = train(TrainConfig(**cifar, augment=True), tmp_path / "again", progress=False)
    np.testing.assert_array_equal(on.weights, again.weights)
    off = train(TrainConfig(**cifar), tmp_path / "off", progress=False)
    assert not np.array_equal(on.weights[1], off.weights[1])
    # with the identity crop and no flips, augmentation is a no-op, bitwise
    identity = []

    def no_change(n, seed, epoch):
        identity.append((seed, epoch))
        return torch.full((n, 2), data.PAD), torch.zeros(n, dtype=torch.bool)

    monkeypatch.setattr(data, "augmentation", no_change)
    same = train(TrainConfig(**cifar, augment=True), tmp_path / "same", progress=False)
    np.testing.assert_array_equal(same.weights, off.weights)
    assert identity == [(0, 0), (0, 1)]
