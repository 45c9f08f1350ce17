"""The command line's wiring (``python -m sgdlab run``): ranks and the process group through
sgdlab.nn.distributed, and what a failed run tells its user. The experiments themselves are
replaced by fakes here (tests/test_experiments.py and tests/test_distributed.py run them)."""

import pytest

from sgdlab import __main__ as cli
from sgdlab.nn import distributed, experiments

RESULT = {"world_size": 2, "config": {"experiment": "trajectory"}, "summary": {"trials": 1}}


@pytest.fixture
def rank_one(monkeypatch):
    """This process as rank 1 of 2 under torchrun (not joined to any process group)."""
    for name, value in (("RANK", "1"), ("LOCAL_RANK", "1"), ("WORLD_SIZE", "2")):
        monkeypatch.setenv(name, value)


@pytest.fixture
def shutdowns(monkeypatch):
    """The calls of distributed.shutdown: (context, wait)."""
    calls = []
    monkeypatch.setattr(distributed, "shutdown",
                        lambda context, *, wait=True: calls.append((context, wait)))
    return calls


def test_current_context_without_joining(monkeypatch, rank_one):
    assert distributed.current() == distributed.Context(rank=1, world_size=2, local_rank=1)
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert distributed.current() is distributed.SINGLE
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name)
    assert distributed.current() is distributed.SINGLE


def test_cli_ranks_and_shutdown_come_from_distributed(tmp_path, monkeypatch, capsys, rank_one,
                                                      shutdowns):
    monkeypatch.setattr(experiments, "run", lambda *args, **kwargs: RESULT)
    assert cli.main(["run", "trajectory", "--scale", "tiny", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""  # rank 1 does not print
    assert shutdowns == [(distributed.Context(rank=1, world_size=2, local_rank=1), True)]
    monkeypatch.setenv("RANK", "0")
    assert cli.main(["run", "trajectory", "--scale", "tiny", "--out", str(tmp_path)]) == 0
    assert '"world_size": 2' in capsys.readouterr().out  # rank 0 prints
    assert shutdowns[-1] == (distributed.Context(rank=0, world_size=2, local_rank=1), True)


def test_cli_leaves_the_group_without_waiting_after_an_error(tmp_path, monkeypatch, capsys,
                                                             shutdowns):
    def failing(*args, **kwargs):
        raise ValueError("rho must be a finite number > 0, got -1.0")

    monkeypatch.setattr(experiments, "run", failing)
    assert cli.main(["run", "neighbourhood", "--scale", "tiny", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "error: rho must be a finite number > 0, got -1.0\n"
    # the other ranks may never reach a last barrier: leave at once
    assert shutdowns == [(distributed.SINGLE, False)]


# -- errors: out of memory, tracebacks, --debug ----------------------------------------------
OOM = ("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 "
       "GiB of which 1.06 GiB is free. Including non-PyTorch memory, this process has 78.12 GiB "
       "memory in use. Of the allocated memory 76.50 GiB is allocated by PyTorch, and 1.10 GiB "
       "is reserved by PyTorch but unallocated.")


def _raising(err):
    def run(*args, **kwargs):
        raise err

    return run


def _oom(kind):
    import torch

    return torch.cuda.OutOfMemoryError(OOM) if kind == "torch" else RuntimeError(OOM)


@pytest.mark.parametrize("kind", ["torch", "plain"])  # torch >= 2.1's class, older torch's
def test_out_of_memory_names_device_size_options_and_the_log(tmp_path, monkeypatch, capsys,
                                                             shutdowns, kind):
    monkeypatch.setattr(experiments, "run", _raising(_oom(kind)))
    out = tmp_path / "run"
    status = cli.main(["run", "neighbourhood", "--scale", "paper", "--probe-batch", "250",
                       "--out", str(out)])
    assert status == 2
    err = capsys.readouterr().err
    log = out / "error.log"
    assert err == (
        "error: out of memory on cuda:0: torch tried to allocate 2.00 GiB (1.06 GiB of 79.19 "
        "GiB free). Lower what a run holds at once with --memory-gb (the probes' vmap budget "
        "in GiB; now a share of the free GPU memory), --probe-batch (training images per "
        "probe gradient chunk; now 250) or --batch-size (training mini-batch; now 128). Full "
        f"traceback in {log} (or rerun with --debug).\n")
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "in run" in text and OOM in text
    assert "neighbourhood --scale paper --probe-batch 250" in text  # the command
    assert shutdowns == [(distributed.SINGLE, False)]


def test_out_of_memory_in_the_probes_names_the_probes_options(tmp_path, monkeypatch, capsys):
    import torch

    from sgdlab.nn import nets, probe

    model = nets.build("resnet", (1, 8, 8), 10)
    theta, x, y = nets.flatten_params(model), torch.zeros(4, 1, 8, 8), torch.zeros(4).long()

    def run(*args, **kwargs):  # an allocation inside a probe fails
        monkeypatch.setattr(nets, "functional_loss", _raising(_oom("torch")))
        probe.full_batch_grad(model, theta, x, y)

    monkeypatch.setattr(experiments, "run", run)
    out = tmp_path / "run"
    assert cli.main(["run", "allpairs", "--scale", "paper", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: out of memory on cuda:0 in the probes: torch tried to "
                          "allocate 2.00 GiB (1.06 GiB of 79.19 GiB free). Lower what a run "
                          "holds at once with --memory-gb (")
    assert "--probe-batch (training images per probe gradient chunk; now 500)" in err
    assert "--batch-size" not in err and f"Full traceback in {out / 'error.log'}" in err
    assert "full_batch_grad" in (out / "error.log").read_text()


def test_out_of_memory_on_the_cpu_in_training(tmp_path, monkeypatch, capsys):
    import torch

    from sgdlab.nn import nets, train

    model = nets.build("resnet", (1, 8, 8), 10)
    x, y = torch.zeros(4, 1, 8, 8), torch.zeros(4).long()
    message = ("[enforce fail at alloc_cpu.cpp:114] data. DefaultCPUAllocator: not enough "
               "memory: you tried to allocate 3221225472 bytes.")

    def run(*args, **kwargs):
        monkeypatch.setattr(train.F, "cross_entropy", _raising(RuntimeError(message)))
        train.sgd_epoch(model, torch.optim.SGD(model.parameters(), lr=0.1), x, y,
                        torch.arange(4).reshape(1, 4), 0.1)

    monkeypatch.setattr(experiments, "run", run)
    assert cli.main(["run", "trajectory", "--scale", "book", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == ("error: out of memory on cpu in training: torch tried to allocate 3.00 GiB. "
                   "Lower "
                   "what a run holds at once with --batch-size (training mini-batch; now 64). "
                   f"Full traceback in {tmp_path / 'error.log'} (or rerun with --debug).\n")


def test_without_out_the_log_is_a_temporary_file(monkeypatch, capsys):
    from sgdlab.nn import plan

    monkeypatch.setattr(plan, "estimate", _raising(RuntimeError("NCCL error: unhandled "
                                                                "system error")))
    assert cli.main(["run", "spectrum", "--scale", "tiny", "--plan"]) == 2
    err = capsys.readouterr().err
    first, rest = err.split("\n", 1)
    assert first == "error: NCCL error: unhandled system error"
    assert rest.startswith("Full traceback in ") and rest.endswith(
        ".log (or rerun with --debug).\n")
    path = rest[len("Full traceback in "):-len(" (or rerun with --debug).\n")]
    try:
        assert "NCCL error" in open(path).read() and "estimate" in open(path).read()
    finally:
        import os

        os.unlink(path)


def test_a_rank_writes_its_own_log(tmp_path, monkeypatch, capsys, rank_one, shutdowns):
    monkeypatch.setattr(experiments, "run", _raising(_oom("torch")))
    assert cli.main(["run", "spectrum", "--scale", "paper", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: out of memory on cuda:0: ")  # the GPU torch names
    assert f"Full traceback in {tmp_path / 'error-rank1.log'} " in err
    assert (tmp_path / "error-rank1.log").is_file() and not (tmp_path / "error.log").exists()


@pytest.mark.parametrize("err", [RuntimeError(OOM), ValueError("rho must be > 0, got -1.0")])
def test_debug_raises_with_the_full_traceback(tmp_path, monkeypatch, shutdowns, err):
    monkeypatch.setattr(experiments, "run", _raising(err))
    with pytest.raises(type(err)) as info:
        cli.main(["run", "spectrum", "--scale", "tiny", "--out", str(tmp_path), "--debug"])
    assert info.value is err and not list(tmp_path.iterdir())  # no log: Python prints it
    assert shutdowns == [(distributed.SINGLE, False)]


def test_debug_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    assert "--debug" in capsys.readouterr().out
