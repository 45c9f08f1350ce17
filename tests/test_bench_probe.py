"""``python -m sgdlab.bench probe --quick`` runs and prints one JSON report (no timing goals
asserted: the numbers of a quick run mean little)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("torch")


def _run(*args, timeout=300, cwd=REPO):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "sgdlab.bench", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    # one thread: two OpenMP threads crawl on a 2-core machine that is busy with other work;
    # run in an empty folder, which must stay empty (the benchmark only prints its report)
    folder = tmp_path_factory.mktemp("bench-probe")
    proc = _run("probe", "--quick", "--threads", "1", cwd=folder)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert not any(folder.iterdir()), sorted(p.name for p in folder.iterdir())
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


def _close(a, b):
    """Equal to the report's rounding (5 significant digits per number)."""
    return a == pytest.approx(b, rel=2e-4)


def _ratios_agree(entry, prefix=""):
    """``speedup`` is the median of the rounds' ratios, ``speedup_range`` their extremes."""
    runs = entry[f"{prefix}speedup_runs"]
    assert len(runs) == entry["rounds"] >= 1
    assert _close(entry[f"{prefix}speedup"], float(np.median(runs)))
    assert entry[f"{prefix}speedup_range"] == [min(runs), max(runs)]


@pytest.mark.slow
def test_report_numbers(report):
    from sgdlab.bench.probe import ROUNDS
    from sgdlab.nn import probe

    cfg = report["config"]
    per_sample, ensemble = report["per_sample_grad_norms"], report["ensemble_epoch"]
    neighbourhood, training = report["neighbourhood_probe"], report["resnet34_training"]
    # counts: the quick settings the report states
    assert per_sample["n"] == cfg["per_sample"]["n"]
    assert per_sample["rounds"] == cfg["per_sample"]["repeats"] == 1
    assert ensemble["members"] == cfg["ensemble"]["members"]
    assert ensemble["rounds"] == cfg["ensemble"]["repeats"] == 1
    assert ensemble["n_train"] == cfg["ensemble"]["limit"]
    assert ensemble["steps_per_epoch"] == ensemble["n_train"] // ensemble["batch_size"]
    assert neighbourhood["k"] == cfg["neighbourhood"]["k"]
    assert neighbourhood["chunk"] == cfg["neighbourhood"]["chunk"]
    assert neighbourhood["n_train"] == cfg["neighbourhood"]["limit"]
    assert neighbourhood["rounds"] == ROUNDS  # the quick run keeps the default rounds
    assert (training["steps"], training["batch_size"], training["warmup_steps"]) == (
        cfg["resnet34"]["steps"], cfg["resnet34"]["batch_size"], cfg["resnet34"]["warmup"])
    # ratios: each the median of its rounds' ratios; one round: the quotient of the two times
    for entry, prefix in [(per_sample, ""), (ensemble, ""), (ensemble, "vmap_"),
                          (neighbourhood, "")]:
        _ratios_agree(entry, prefix)
    assert _close(per_sample["speedup"], per_sample["loop_s"] / per_sample["vmap_s"])
    assert _close(ensemble["speedup"], ensemble["sequential_s"] / ensemble["grouped_s"])
    assert _close(ensemble["vmap_speedup"], ensemble["sequential_s"] / ensemble["vmap_s"])
    # rates: counts over times
    steps = ensemble["members"] * ensemble["steps_per_epoch"]
    for path in ("grouped", "vmap", "sequential"):
        assert _close(ensemble[f"member_steps_per_s_{path}"], steps / ensemble[f"{path}_s"])
    assert _close(neighbourhood["points_per_s"], neighbourhood["k"] / neighbourhood["vmap_s"])
    assert _close(neighbourhood["loop_points_per_s"],
                  neighbourhood["k"] / neighbourhood["loop_s"])
    assert _close(training["images_per_s"],
                  training["steps"] * training["batch_size"] / training["seconds"])
    # the default path is the probe's own choice on this device, and its gain over the loop
    vmap = probe.prefers_vmap("cpu")
    assert neighbourhood["default_path"] == ("vmap" if vmap else "loop")
    assert neighbourhood["default_over_loop"] == (neighbourhood["speedup"] if vmap else 1)
    # the goals report the measured speed-ups; the whole run took at least the timed parts
    assert report["goals"]["per_sample_vmap_speedup"]["measured"] == per_sample["speedup"]
    assert report["goals"]["ensemble_speedup"]["measured"] == ensemble["speedup"]
    timed = (per_sample["vmap_s"] + per_sample["loop_s"] + ensemble["grouped_s"]
             + ensemble["vmap_s"] + ensemble["sequential_s"] + neighbourhood["vmap_s"]
             + neighbourhood["loop_s"] + training["seconds"])
    assert report["total_s"] >= timed * (1 - 2e-4)
    # the fast paths compute the same numbers as their loops
    assert per_sample["max_rel_diff"] < 1e-3
    assert neighbourhood["max_abs_diff_vs_loop"] < 1e-2
    for name in ("minibatch_noise", "smoothed_inner"):  # sgdlab.nn.noise's two paths
        paths = report["noise_paths"][name]
        assert paths["max_abs_diff"] < 1e-3 and paths["speedup"] > 0 and paths["vmap_s"] > 0
    for name in ("minibatch_noise", "smoothed_inner"):  # vmap on every device: the faster
        assert report["noise_paths"][name]["default_path"] == "vmap"
    assert training["device"] == "cpu" and "note" in training


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
