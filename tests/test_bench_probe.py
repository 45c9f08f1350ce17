"""``python -m sgdlab.bench probe --quick`` runs and prints one JSON report (no timing goals
asserted: the numbers of a quick run mean little)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("torch")


def _run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "sgdlab.bench", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def report():
    # one thread: two OpenMP threads crawl on a 2-core machine that is busy with other work
    proc = _run("probe", "--quick", "--threads", "1")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_report_keys(report):
    from sgdlab.bench import probe as bench_probe
    assert {"benchmark", "machine", "quick", "config", "per_sample_grad_norms",
            "ensemble_epoch", "neighbourhood_probe", "resnet34_training", "definitions",
            "goals", "all_goals_met", "total_s"} <= set(report)
    assert report["quick"] is True and report["machine"]["threads"] == 1
    assert {"torch", "threads", "device", "device_name"} <= set(report["machine"])
    assert set(report["goals"]) == set(bench_probe.GOALS)
    for name, entry in report["goals"].items():
        assert entry["goal"] == bench_probe.GOALS[name] and isinstance(entry["pass"], bool)
        assert entry["measured"] > 0
    assert report["all_goals_met"] == all(e["pass"] for e in report["goals"].values())


@pytest.mark.slow
def test_report_numbers(report):
    per_sample = report["per_sample_grad_norms"]
    assert per_sample["vmap_s"] > 0 and per_sample["loop_s"] > 0 and per_sample["speedup"] > 0
    assert per_sample["max_rel_diff"] < 1e-3          # vmap and loop: the same numbers
    ensemble = report["ensemble_epoch"]
    assert ensemble["steps_per_epoch"] >= 1 and ensemble["speedup"] > 0
    assert min(ensemble["grouped_s"], ensemble["vmap_s"], ensemble["sequential_s"]) > 0
    neighbourhood = report["neighbourhood_probe"]
    assert neighbourhood["points_per_s"] > 0 and neighbourhood["max_abs_diff_vs_loop"] < 1e-2
    assert neighbourhood["default_path"] == "loop" and neighbourhood["default_over_loop"] == 1
    for entry, prefix in [(per_sample, ""), (ensemble, ""), (ensemble, "vmap_"),
                          (neighbourhood, "")]:
        runs = entry[f"{prefix}speedup_runs"]
        assert len(runs) == entry["rounds"] >= 1
        low, high = entry[f"{prefix}speedup_range"]
        assert low == min(runs) and high == max(runs) and low <= entry[f"{prefix}speedup"] <= high
    training = report["resnet34_training"]
    assert training["device"] == "cpu" and training["images_per_s"] > 0 and "note" in training


def test_plain_benchmark_does_not_import_torch():
    code = ("import sys, sgdlab.bench; "
            "print(any(m == 'torch' or m.startswith('torch.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"


def test_cuda_request_without_cuda_is_refused(capsys):
    import torch
    from sgdlab.bench import core as bench
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["probe", "--device", "cuda"])
    assert exit_info.value.code == 2
    assert "--device cuda: CUDA is not available" in capsys.readouterr().err


def test_bad_thread_count_is_refused(capsys):
    from sgdlab.bench import core as bench
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["probe", "--threads", "0"])
    assert exit_info.value.code == 2
    assert "--threads: expected an integer >= 1, got 0" in capsys.readouterr().err


def test_time_alternately_alternates_and_keeps_every_round():
    from sgdlab.bench import probe as bench_probe
    calls = []
    times = bench_probe.time_alternately(lambda: calls.append("A"), lambda: calls.append("B"),
                                         repeats=3, warmup=1)
    assert calls == ["A", "B"] * 4
    assert len(times) == 2 and all(len(t) == 3 and min(t) >= 0 for t in times)


def test_ratio_summary_is_the_median_of_round_ratios():
    from sgdlab.bench import probe as bench_probe
    summary = bench_probe.ratio_summary([10.0, 9.0, 30.0, 8.0], [2.0, 3.0, 5.0, 1.0])
    assert summary["speedup_runs"] == [5.0, 3.0, 6.0, 8.0]
    assert summary["speedup"] == 5.5 and summary["speedup_range"] == [3.0, 8.0]
