"""The benchmark reports numbers that agree with each other (no assertion on a machine's speed)."""

import json
import subprocess
import sys
import time

import numba
import pytest

from sgdlab.bench import core as bench

TRIALS = (3, 20)
# which way each goal is met: a time at most its goal, a speed-up at least its goal
DIRECTION = {"single_thread_ns_10k": "<=", "worst_landscape_ns_10k": "<=",
             "speedup_vs_numpy_10k": ">=",
             "speedup_vs_numpy_100": ">=", "speedup_vs_python": ">=", "import_s": "<=",
             "widget_refresh_ms": "<="}


@pytest.fixture(scope="module")
def report():
    return bench.run(trials=TRIALS, steps=5, python_trials=2, python_steps=3, repeats=1,
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
    assert report["config"]["trials"] == list(TRIALS)


def test_ratios_are_the_reported_times_ratios(report):
    ns, threads = report["ns_per_trial_step"], report["machine"]["numba_threads"]
    expected = {
        "numpy_over_numba_3": ns["numpy_3"] / ns[f"numba_3_{threads}threads"],
        "numpy_over_numba_20": ns["numpy_20"] / ns[f"numba_20_{threads}threads"],
        "numpy_over_numba_20_1thread": ns["numpy_20"] / ns["numba_20_1thread"],
        "python_over_numba_1thread": ns["python"] / ns["numba_20_1thread"],
        "python_over_numba": ns["python"] / ns[f"numba_20_{threads}threads"],
    }
    assert set(report["ratios"]) == set(expected)
    for name, value in expected.items():  # ns are rounded to 3 decimals, ratios to 2
        assert report["ratios"][name] == pytest.approx(value, rel=1e-3, abs=0.006), name


def test_goals_measure_the_reported_numbers(report):
    ns, ratios = report["ns_per_trial_step"], report["ratios"]
    by_landscape = report["ns_per_trial_step_1thread_by_landscape"]
    reported = {"single_thread_ns_10k": ns["numba_20_1thread"],
                "worst_landscape_ns_10k": max(v["median"] for v in by_landscape.values()),
                "speedup_vs_numpy_10k": ratios["numpy_over_numba_20"],
                "speedup_vs_numpy_100": ratios["numpy_over_numba_3"],
                "speedup_vs_python": ratios["python_over_numba_1thread"],
                "import_s": report["import_s"],
                "widget_refresh_ms": report["widget_refresh_ms"]}
    assert set(report["goals"]) == set(bench.GOALS) == set(reported)
    for name, entry in report["goals"].items():
        assert entry["goal"] == bench.GOALS[name]
        assert entry["measured"] == pytest.approx(reported[name], rel=1e-3, abs=0.006), name


def test_every_landscape_is_timed(report):
    by_landscape = report["ns_per_trial_step_1thread_by_landscape"]
    assert set(by_landscape) == set(bench.LANDSCAPES)
    for entry in by_landscape.values():
        assert 0 < entry["low"] <= entry["median"] <= entry["high"]


def test_goal_pass_flags_follow_goal_versus_measured(report):
    for name, entry in report["goals"].items():
        assert entry["meets_when"] == DIRECTION[name], name
        met = (entry["measured"] <= entry["goal"] if DIRECTION[name] == "<="
               else entry["measured"] >= entry["goal"])
        assert entry["pass"] is met, name
    assert report["all_goals_met"] is all(e["pass"] for e in report["goals"].values())


def test_goal_report_on_chosen_numbers():
    just_met = {name: goal for name, goal in bench.GOALS.items()}
    assert all(e["pass"] for e in bench.goal_report(just_met).values())
    for name, goal in bench.GOALS.items():
        worse = dict(just_met, **{name: goal * (1.5 if DIRECTION[name] == "<=" else 0.5)})
        flags = {k: e["pass"] for k, e in bench.goal_report(worse).items()}
        assert flags == {k: k != name for k in bench.GOALS}, name


def test_time_min_keeps_the_fastest_timed_call():
    durations = iter([0.2, 0.06, 0.02, 0.04])  # the first call is the untimed warm-up
    calls = []

    def func():
        calls.append(1)
        time.sleep(next(durations))

    best = bench.time_min(func, repeats=3)
    assert len(calls) == 4
    assert 0.02 <= best < 0.04


def test_single_measurements():
    before = numba.get_num_threads()
    assert bench.ns_numba(5, 4, threads=1, repeats=1) > 0
    assert numba.get_num_threads() == before  # the thread count is restored
    assert bench.ns_numpy(5, 4, repeats=1) > 0
    assert bench.ns_python(2, 2, repeats=1) > 0
    assert bench.widget_refresh_ms(trials=3, steps=4, repeats=1) > 0


def test_command_line(capsys):
    bench.main(["--quick"])
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["steps"] == 50 and "goals" in out


def test_python_dash_m_runs_the_core_benchmark():
    out = subprocess.run([sys.executable, "-m", "sgdlab.bench", "--quick"], capture_output=True,
                         text=True, check=True, timeout=600)
    report = json.loads(out.stdout)
    assert report["config"]["trials"] == [10, 100] and report["torch_imported"] is False
