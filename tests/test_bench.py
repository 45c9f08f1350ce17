"""The benchmark runs and reports every number (no timing assertions)."""

import json

import pytest

from sgdlab.bench import core as bench


@pytest.fixture(scope="module")
def report():
    return bench.run(trials=(3, 20), steps=5, python_trials=2, python_steps=3, repeats=1,
                     import_repeats=1, widget=(4, 5))


def test_report_is_json(report):
    assert json.loads(json.dumps(report)) == report


def test_report_keys_and_positive_numbers(report):
    assert {"machine", "config", "ns_per_trial_step", "ratios", "import_s", "torch_imported",
            "widget_refresh_ms", "goals", "all_goals_met", "total_s"} <= set(report)
    threads = report["machine"]["numba_threads"]
    assert report["machine"]["cpu_count"] >= 1 and threads >= 1
    assert set(report["ns_per_trial_step"]) == {
        "numba_3_1thread", f"numba_3_{threads}threads", "numba_20_1thread",
        f"numba_20_{threads}threads", "numpy_3", "numpy_20", "python"}
    assert all(v > 0 for v in report["ns_per_trial_step"].values())
    assert all(v > 0 for v in report["ratios"].values())
    assert report["import_s"] > 0 and report["widget_refresh_ms"] > 0
    assert report["torch_imported"] is False


def test_goals(report):
    assert set(report["goals"]) == set(bench.GOALS)
    for name, entry in report["goals"].items():
        assert entry["goal"] == bench.GOALS[name]
        assert entry["measured"] > 0 and isinstance(entry["pass"], bool)
    assert report["all_goals_met"] == all(e["pass"] for e in report["goals"].values())


def test_single_measurements():
    assert bench.time_min(lambda: None, repeats=2) >= 0
    assert bench.ns_numba(5, 4, threads=1, repeats=1) > 0
    assert bench.ns_numpy(5, 4, repeats=1) > 0
    assert bench.ns_python(2, 2, repeats=1) > 0
    assert bench.widget_refresh_ms(trials=3, steps=4, repeats=1) > 0


def test_command_line(capsys):
    bench.main(["--quick"])
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["steps"] == 50 and "goals" in out
