"""Runs under torchrun (gloo on this CPU) against one process; killed ranks and --resume;
the --plan estimate."""

import dataclasses
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from sgdlab.nn import distributed, experiments, plan

REPO = Path(__file__).resolve().parents[1]
TORCHRUN = Path(sys.executable).with_name("torchrun")


def _env(**extra):
    """One thread per process (as torchrun sets), no inherited torchrun variables."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), **extra)
    return env


_KILLER = """
import os, signal, sys
import torch
from sgdlab import __main__ as cli
from sgdlab.nn import train

rank, after = (int(v) for v in os.environ["KILL_AFTER_STEPS"].split(":"))
done = [0]

def counted(real):
    def step(*args, **kwargs):
        out = real(*args, **kwargs)
        done[0] += 1
        if int(os.environ.get("RANK", "0")) == rank and done[0] >= after:
            os.kill(os.getpid(), signal.SIGKILL)  # before the epoch's files are written
        return out
    return step

torch.optim.SGD.step = counted(torch.optim.SGD.step)
train.sgd_epoch_ensemble = counted(train.sgd_epoch_ensemble)
sys.exit(cli.main(sys.argv[1:]))
"""
"""A launcher of ``python -m sgdlab`` that kills rank R (SIGKILL) after N training steps
(``KILL_AFTER_STEPS=R:N``; an ensemble epoch counts as one step): in the middle of an epoch."""


def _sgdlab(args, *, ranks=1, check=True, measure=None, script=None, **env):
    """``python -m sgdlab run ...`` in a subprocess, under torchrun when ranks > 1; with
    ``measure`` (a path), through ``tools/measure_collectives.py``, which writes the bytes
    each rank sends through torch's object collectives to ``MEASURE.rank{R}.json``; with
    ``script`` (a path), through that script instead of ``-m sgdlab``."""
    launcher = ([str(TORCHRUN), "--standalone", f"--nproc_per_node={ranks}"] if ranks > 1
                else [sys.executable])
    command = (["-m", "sgdlab"] if measure is None
               else [str(REPO / "tools" / "measure_collectives.py"), str(measure), "--"])
    if script is not None:
        command = [str(script)]
    proc = subprocess.run(launcher + command + ["run", *args, "--quiet"], cwd=REPO,
                          env=_env(**env), capture_output=True, text=True, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def _assert_same_result(a, b):
    assert a["config"] == b["config"]
    assert a["summary"] == b["summary"]
    assert sorted(a["arrays"]) == sorted(b["arrays"])
    for name, value in a["arrays"].items():
        np.testing.assert_array_equal(value, b["arrays"][name], err_msg=name)


def _assert_shared_out(result, experiment, ranks):
    units = result["units"]
    assert result["world_size"] == ranks and len(units) == ranks
    expected = [name for _, names in experiments.units_of(experiment, "tiny")
                for name in names]
    ran = [name for names in units for name in names]
    assert sorted(ran) == sorted(expected) and len(ran) == len(set(ran))  # disjoint, complete
    assert all(units)  # every rank ran something


# -- the process group and the shares, without torchrun --------------------------------------
def test_launched_only_with_torchruns_variables_and_more_than_one_rank(monkeypatch):
    for name, value in (("RANK", "0"), ("LOCAL_RANK", "0"), ("WORLD_SIZE", "2")):
        monkeypatch.setenv(name, value)
    assert distributed.launched()
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert not distributed.launched()
    monkeypatch.delenv("WORLD_SIZE")
    assert not distributed.launched()


def test_the_process_group_keeps_torchs_default_timeout(monkeypatch):
    """No collective waits for a unit (ranks wait on the file system), so none needs a
    longer timeout than torch's default, which keeps a hung rank detected."""
    import torch.distributed as dist

    for name, value in (("RANK", "1"), ("LOCAL_RANK", "1"), ("WORLD_SIZE", "2")):
        monkeypatch.setenv(name, value)
    calls = []
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda *a, **k: calls.append((a, k)))
    monkeypatch.setattr(dist, "get_rank", lambda: 1)
    monkeypatch.setattr(dist, "get_world_size", lambda: 2)
    context = distributed.init("cpu")
    assert calls == [(("gloo",), {})]  # no timeout argument
    assert context == distributed.Context(rank=1, world_size=2, local_rank=1, backend="gloo")
    assert not hasattr(distributed, "TIMEOUT_MINUTES")


def test_single_process_context_and_collectives(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    context = distributed.init("cpu")
    assert context == distributed.SINGLE and context.main and context.world_size == 1
    assert distributed.all_gather(context, {"a": 1}) == [{"a": 1}]
    assert distributed.gather(context, [1, 2]) == [[1, 2]]
    distributed.barrier(context)
    distributed.shutdown(context)


@pytest.mark.parametrize("count, world", [(0, 1), (5, 1), (5, 2), (3, 4), (50, 8)])
def test_shares_are_disjoint_and_complete(count, world):
    shares = [distributed.share(count, distributed.Context(rank=r, world_size=world))
              for r in range(world)]
    flat = sorted(i for share in shares for i in share)
    assert flat == list(range(count))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_distributed_bad_arguments():
    with pytest.raises(ValueError, match="device must be one of"):
        distributed.init("tpu")
    with pytest.raises(ValueError, match="count must be an integer >= 0"):
        distributed.share(-1, distributed.SINGLE)
    with pytest.raises(TypeError, match="context must be a distributed.Context, got int"):
        distributed.barrier(3)


@pytest.mark.parametrize("members, groups", [
    (1, [(0, 1)]), (2, [(0, 1), (1, 2)]), (3, [(0, 2), (2, 3)]), (8, [(0, 4), (4, 8)]),
    (50, [(0, 10), (10, 20), (20, 30), (30, 40), (40, 50)])])
def test_member_groups(members, groups):
    assert experiments.member_groups(members) == groups
    sizes = [b - a for a, b in experiments.member_groups(members)]
    assert max(sizes) <= experiments.MEMBERS_PER_GROUP


def test_units_of_each_experiment():
    phases = dict(experiments.units_of("neighbourhood", "tiny", probe_every=2, epochs=5))
    assert phases == {"training": ["train"], "balls": ["ball0", "ball2", "ball4"]}
    assert experiments.units_of("trajectory", "tiny", trials=3) == [
        ("trials", ["trial0", "trial1", "trial2"]),
        ("probes", ["trial0-probe0", "trial1-probe0", "trial2-probe0"])]
    blocks = dict(experiments.units_of("trajectory", "tiny", trials=1, epochs=60))["probes"]
    assert blocks == ["trial0-probe0", "trial0-probe1", "trial0-probe2"]  # 25 + 25 + 10
    pairs = dict(experiments.units_of("allpairs", "tiny", shared_epochs=0))
    assert list(pairs) == ["members", "pairs"] and pairs["pairs"] == ["pairs0", "pairs1",
                                                                       "pairs2"]
    assert experiments.units_of("spectrum", "tiny") == [("base", ["base"]),
                                                        ("restarts", ["from0", "from3"])]


# -- the plan's arithmetic, from given timings ----------------------------------------------
def _timings(**changes):
    values = dict(step_seconds=0.5, forward_seconds_per_image=0.001,
                  grad_seconds_per_image=0.002, train_bytes=10**8, grad_bytes=3 * 10**8,
                  data_bytes=10**7, parameters=1000, train_images=1000, val_images=200,
                  sample_images=100, measured_memory=False)
    values.update(changes)
    return plan.Timings(**values)


def test_plan_arithmetic_of_trajectory_and_ranks():
    t = _timings()
    epoch = 10 * 0.5 + 1200 * 0.001
    unit = 4 * (epoch + 1000 * 0.002)
    one = plan.estimate("trajectory", scale="tiny", ranks=1, timings=t, trials=3, epochs=4,
                        batch_size=100)
    two = plan.estimate("trajectory", scale="tiny", ranks=2, timings=t, trials=3, epochs=4,
                        batch_size=100)
    assert one.work_seconds == pytest.approx(3 * unit) == two.work_seconds
    assert one.wall_seconds == pytest.approx(3 * unit)
    assert two.wall_seconds == pytest.approx(2 * unit)  # trials 0 and 2 on rank 0
    assert [p.name for p in two.phases] == ["trials", "probes"]
    long = plan.estimate("trajectory", scale="tiny", ranks=1, timings=t, trials=1, epochs=60,
                         batch_size=100)
    assert long.phases[1].unit_seconds == pytest.approx([25 * 2.0, 25 * 2.0, 10 * 2.0])
    assert one.peak_bytes == 3 * 10**8 + 10**7
    assert one.disk_bytes == 3 * (5 * 4000 + 2 * 4000)
    text = plan.report([one, two])
    assert "trajectory (scale tiny, device cpu, 2 rank(s)" in text and "all 2:" in text


def test_plan_of_every_experiment_has_its_units():
    t = _timings()
    for name in experiments.EXPERIMENTS:
        estimate = plan.estimate(name, scale="tiny", ranks=3, timings=t)
        phases = experiments.units_of(name, "tiny")
        assert [p.name for p in estimate.phases] == [phase for phase, _ in phases]
        for p, (_, units) in zip(estimate.phases, phases):
            assert len(p.unit_seconds) == len(units) and min(p.unit_seconds) > 0
            assert max(p.unit_seconds) <= p.wall_seconds <= p.work_seconds + 1e-12


def test_plan_peak_counts_the_probes_vmap_width(monkeypatch):
    """Where the probes vmap (CUDA; pretended here) the peak holds ``w`` gradients at once,
    ``w`` the probes' own width for the widest unit and ``memory_gb``."""
    from sgdlab.nn import probe

    t = _timings(vmap_width=4)
    estimate = plan.estimate("neighbourhood", scale="tiny", ranks=1, timings=t)
    assert estimate.peak_bytes == 4 * 3 * 10**8 + 10**7
    assert "probes map 4 points at once" in plan.report(estimate)
    cfg = experiments.config_for("neighbourhood", "tiny", k=6, memory_gb=1.0)
    assert plan.measure(cfg).vmap_width == 1  # the CPU loops
    monkeypatch.setattr(probe, "prefers_vmap", lambda device: True)
    measured = plan.measure(cfg)
    assert measured.vmap_width == 6  # all of a ball's k points fit in 1 GiB
    one = plan.estimate("neighbourhood", scale="tiny", ranks=1, timings=dataclasses.replace(
        measured, vmap_width=1))
    wide = plan.estimate("neighbourhood", scale="tiny", ranks=1, timings=measured)
    assert wide.peak_bytes == max(measured.train_bytes, 6 * measured.grad_bytes) \
        + measured.data_bytes > one.peak_bytes


def test_plan_bad_arguments():
    with pytest.raises(ValueError, match="ranks must be an integer >= 1"):
        plan.estimate("trajectory", scale="tiny", ranks=0, timings=_timings())
    with pytest.raises(TypeError, match="timings must be a plan.Timings"):
        plan.estimate("trajectory", scale="tiny", timings={"step_seconds": 1})
    with pytest.raises(TypeError, match="plans must be a Plan"):
        plan.report([])


@pytest.mark.slow  # builds and times the paper's ResNet-34 on the CPU
def test_plan_prints_an_estimate_without_training(tmp_path):
    from sgdlab.nn import data

    data.write_fake_cifar(tmp_path / "data", "cifar10", n_per_batch=26)  # >= a batch of 128
    proc = _sgdlab(["trajectory", "--scale", "paper", "--dataset", "cifar10", "--data-dir",
                    str(tmp_path / "data"), "--device", "cpu", "--plan", "--ranks", "4"])
    text = proc.stdout
    assert "trajectory (scale paper, device cpu, 4 rank(s)" in text
    assert "130 training images" in text  # the generated files: 5 batches of 26
    for word in ("trials", "total", "peak memory per process", "disk"):
        assert word in text
    assert not list(tmp_path.glob("**/result.json"))
    small = _sgdlab(["trajectory", "--scale", "paper", "--dataset", "cifar10", "--data-dir",
                     str(tmp_path / "data"), "--device", "cpu", "--plan", "--limit", "100"],
                    check=False)
    assert small.returncode == 2
    assert "batch_size must be <= the 100 training images, got 128" in small.stderr


# -- torchrun against one process ----------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", experiments.EXPERIMENTS)
def test_two_ranks_give_the_single_process_result_killed_and_resumed_too(name, tmp_path):
    # two of them with a probe chunk (f as a mean over chunks of 100 images) and a vmap budget
    # and one with the other protocol options of training
    extra = {"trajectory": ["--probe-batch", "100"],
             "allpairs": ["--probe-batch", "100", "--memory-gb", "0.5"],
             "spectrum": ["--val-split", "holdout", "--momentum", "0.9", "--weight-decay",
                          "0.0005"]}.get(name, [])
    _sgdlab([name, "--scale", "tiny", "--out", str(tmp_path / "one")] + extra)
    _sgdlab([name, "--scale", "tiny", "--out", str(tmp_path / "2" / "two")] + extra, ranks=2,
            measure=tmp_path / "bytes")
    one, two = experiments.load(tmp_path / "one"), experiments.load(tmp_path / "2" / "two")
    _assert_same_result(one, two)
    _assert_shared_out(two, name, 2)
    assert one["world_size"] == 1 and one["protocol"] == two["protocol"]
    assert json.loads((tmp_path / "2" / "two" / "result.json").read_text())["world_size"] == 2
    assert one["runs"]["keys"] == two["runs"]["keys"] and two["runs"]["keys"]
    # the ranks exchanged no arrays: every object through a collective is a few bytes
    for rank in (0, 1):
        sent = json.loads((tmp_path / f"bytes.rank{rank}.json").read_text())["calls"]
        assert sent and max(call["bytes"] for call in sent) <= 1024, sent
    # rank 0 killed in the middle of a training epoch, then resumed: the same result
    script = tmp_path / "killer.py"
    script.write_text(_KILLER)
    steps = "5" if name == "allpairs" else "6"  # the ensemble's epoch; the 2nd step of epoch 1
    out = tmp_path / "3" / "three"
    killed = _sgdlab([name, "--scale", "tiny", "--out", str(out)] + extra, ranks=2,
                     check=False, script=script, KILL_AFTER_STEPS=f"0:{steps}")
    assert killed.returncode != 0 and not (out / "result.json").exists()
    assert list((tmp_path / "3" / "runs").glob("*/checkpoint.pt"))  # an epoch was saved
    _sgdlab([name, "--scale", "tiny", "--out", str(out), "--resume"] + extra, ranks=2)
    _assert_same_result(one, experiments.load(out))


@pytest.mark.slow
def test_a_killed_rank_then_resume(tmp_path):
    args = ["neighbourhood", "--scale", "tiny", "--k", "3", "--epochs", "4"]
    _sgdlab(args + ["--out", str(tmp_path / "one")])
    out = tmp_path / "two"
    killed = _sgdlab(args + ["--out", str(out)], ranks=2, check=False,
                     SGDLAB_KILL_AFTER_UNITS="1:1")
    assert killed.returncode != 0 and not (out / "result.json").exists()
    kept = {p.name: p.stat().st_mtime_ns for p in (out / "units").glob("*.npz")}
    assert "ball1" + ".npz" in kept  # rank 1's first ball was written before it was killed
    changed = _sgdlab(args[:-1] + ["5", "--out", str(out), "--resume"], ranks=2, check=False)
    assert changed.returncode != 0  # every rank refuses the changed config, before any work
    assert changed.stderr.count("holds neighbourhood results of another config: epochs: "
                                "saved 4, asked 5") == 2, changed.stderr[-3000:]
    for name, mtime in kept.items():
        assert (out / "units" / name).stat().st_mtime_ns == mtime
    _sgdlab(args + ["--out", str(out), "--resume"], ranks=2)
    for name, mtime in kept.items():  # finished units are reused, not recomputed
        assert (out / "units" / name).stat().st_mtime_ns == mtime
    _assert_same_result(experiments.load(tmp_path / "one"), experiments.load(out))


def test_cli_plan_options(capsys):
    from sgdlab import __main__ as cli

    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "all", "--scale", "tiny", "--out", "nowhere"])
    assert stop.value.code == 2 and "'all' is for --plan only" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "trajectory", "--scale", "tiny"])
    assert stop.value.code == 2 and "--out" in capsys.readouterr().err
    assert cli.main(["run", "trajectory", "--scale", "tiny", "--plan", "--ranks", "0"]) == 2
    assert "ranks must be an integer >= 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    help_text = capsys.readouterr().out
    assert "--plan" in help_text and "--ranks" in help_text and "torchrun" in help_text


@pytest.mark.slow
@pytest.mark.usefixtures("torch_one_thread")
def test_member_group_resumes_from_its_last_epoch(tmp_path, monkeypatch):
    from sgdlab.nn import train

    out = tmp_path / "allpairs"
    first = experiments.run("allpairs", scale="tiny", out=out, progress=False)
    epochs = []
    real = train.sgd_epoch_ensemble
    monkeypatch.setattr(train, "sgd_epoch_ensemble", lambda model, params, x, y, batches, lr,
                        **kw: epochs.append(batches.shape[0]) or real(model, params, x, y,
                                                                      batches, lr, **kw))
    group = tmp_path / "runs" / first["runs"]["keys"]["members0-2"]
    weights = group / "weights.npy"  # (epochs + 1, members, P), one row written per epoch
    assert np.load(weights, mmap_mode="r").shape[:2] == (3, 2)  # epochs 0..2, members 0, 1
    # as if killed during the last epoch: its row is not final yet
    (group / "progress.json").write_text(json.dumps({"epochs": 1}))
    (group / "result.json").unlink()
    for path in [out / "result.json", *(out / "units").glob("pairs*.npz")]:
        path.unlink()
    again = experiments.run("allpairs", scale="tiny", out=out, progress=False, resume=True)
    assert np.load(weights, mmap_mode="r").shape[:2] == (3, 2)
    assert epochs == [2]  # one epoch of members 0 and 1, nothing else
    _assert_same_result(first, again)


def test_a_rank_waits_for_the_others_units_on_the_file_system(tmp_path, monkeypatch, capsys):
    """No collective: the files; a progress line while waiting; a failed rank stops it."""
    from sgdlab.nn import runs

    config = experiments.config_for("neighbourhood", "tiny")
    work = experiments._Work(config, tmp_path, tmp_path / "runs",
                             distributed.Context(rank=1, world_size=2), False, True)
    monkeypatch.setattr(runs, "LOG_SECONDS", 0.0)
    monkeypatch.setattr(runs, "POLL_SECONDS", 0.05)
    other = experiments._Work(config, tmp_path, tmp_path / "runs", distributed.SINGLE, False,
                              False)
    writer = threading.Timer(0.4, lambda: other.cached("ball0", lambda: {"v": np.ones(2)}))
    writer.start()
    (got,) = work.phase(["ball0"], lambda i: pytest.fail("rank 0's unit"))
    writer.join()
    np.testing.assert_array_equal(got["v"], np.ones(2))
    assert "rank 1: waiting for 1 unit(s) of other ranks: ball0 (rank 0)" in capsys.readouterr().err
    assert work.record() == [["ball0"], []]
    (tmp_path / "failed-rank0.txt").write_text("MemoryError: out of memory")
    with pytest.raises(RuntimeError, match="rank 0 failed, so rank 1 stops: MemoryError: out of "
                       "memory"):
        work.phase(["ball2"], lambda i: pytest.fail("rank 0's unit"))
