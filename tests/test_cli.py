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
