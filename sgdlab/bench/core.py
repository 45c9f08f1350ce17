"""Benchmarks of sgdlab's SGD kernel: ``python -m sgdlab.bench`` (or ``make bench``).

Prints one JSON object, measured in one run: nanoseconds per trial-step of
:func:`sgdlab.run_sgd` on ``spiky()`` on one thread and on all threads, beside the NumPy
reference vectorised over trials and the pure-Python reference doing the same work
(:mod:`sgdlab.reference`, which produce the same numbers); the time of ``import sgdlab``
in a fresh interpreter with a warm Numba cache; and the time of one widget refresh. Every
timing is the minimum over repeats after a warm-up (``time.perf_counter``).

``python -m sgdlab.bench probe`` runs the PyTorch benchmark instead (:mod:`sgdlab.bench.probe`).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numba
import numpy as np

from .. import reference
from ..landscapes import motivating, spiky
from ..sgd import run_sgd

__all__ = ["GOALS", "DEFINITIONS", "LANDSCAPES", "time_min", "ns_numba", "ns_numpy",
           "ns_python", "import_time", "widget_refresh_ms", "speeds", "per_landscape",
           "speed_ratios", "goal_report", "run", "main"]

# Setting of the motivating example (chapter motivating-example): radius lr * noise = 0.05.
LR = 5e-4
NOISE = 100.0
WIDGET_NOISES = (25.0, 50.0, 100.0, 400.0)

LANDSCAPES = {
    "spiky()": lambda: spiky(),
    "spiky(growth=2)": lambda: spiky(beta=0.01, growth=2),
    "spiky(growth=12)": lambda: spiky(beta=1e-6, growth=12),
    "spiky(width='sqrt')": lambda: spiky(width="sqrt", beta=0.1, period=0.08),
    "spiky(width='sqrt', growth=4)": lambda: spiky(width="sqrt", beta=0.01, period=0.08,
                                                   growth=4),
    "motivating()": lambda: motivating(),
}
"""The landscapes whose kernel :func:`per_landscape` times: every branch of the built-in
spiky SGD loop (fixed or widening spikes, growth 0 or not) and the book's motivating f."""

GOALS = {
    "single_thread_ns_10k": 3,
    "worst_landscape_ns_10k": 1.5,
    "speedup_vs_numpy_10k": 5,
    "speedup_vs_numpy_100": 50,
    "speedup_vs_python": 300,
    "import_s": 1,
    "widget_refresh_ms": 20,
}
"""The benchmark's goals by name, each a time (at most) or a speed-up (at least); see
:func:`goal_report`."""
# Which way each goal is met: a time at most the goal, a speed-up at least the goal.
_AT_MOST = {"single_thread_ns_10k", "worst_landscape_ns_10k", "import_s",
            "widget_refresh_ms"}


def time_min(func, repeats=5):
    """Minimum wall time in seconds of ``func()`` over ``repeats`` calls after one warm-up.

    Parameters
    ----------
    func : callable
        Called with no arguments.
    repeats : int
        Number of timed calls (at least 1).

    Returns
    -------
    float
    """
    func()
    best = np.inf
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def _starts(trials):
    return np.random.default_rng(0).uniform(-3.0, 3.0, (trials, 1))


def ns_numba(trials, steps, threads=None, repeats=5, landscape=None):
    """Nanoseconds per trial-step of :func:`sgdlab.run_sgd` on ``landscape`` (default
    ``spiky()``).

    Parameters
    ----------
    trials, steps : int
    threads : int or None
        Numba threads for the measurement (None: all); restored afterwards.
    repeats : int
    landscape : sgdlab.Landscape, optional

    Returns
    -------
    float
    """
    land, x0 = landscape or spiky(), _starts(trials)
    before = numba.get_num_threads()
    numba.set_num_threads(threads or numba.config.NUMBA_NUM_THREADS)
    try:
        seconds = time_min(lambda: run_sgd(land, x0, lr=LR, noise=NOISE, steps=steps),
                           repeats)
    finally:
        numba.set_num_threads(before)
    return seconds / (trials * steps) * 1e9


def ns_numpy(trials, steps, repeats=5):
    """Nanoseconds per trial-step of :func:`sgdlab.reference.run_sgd_numpy` (same work as
    :func:`ns_numba`).

    Parameters
    ----------
    trials, steps : int
    repeats : int

    Returns
    -------
    float
    """
    return _ns_reference(reference.run_sgd_numpy, trials, steps, repeats)


def ns_python(trials, steps, repeats=5):
    """Nanoseconds per trial-step of :func:`sgdlab.reference.run_sgd_python` (same work as
    :func:`ns_numba`).

    Parameters
    ----------
    trials, steps : int
    repeats : int

    Returns
    -------
    float
    """
    return _ns_reference(reference.run_sgd_python, trials, steps, repeats)


def _ns_reference(runner, trials, steps, repeats):
    """Nanoseconds per trial-step of a reference runner on the benchmark's setting."""
    land, x0 = spiky(), _starts(trials)
    seconds = time_min(lambda: runner(land, x0, lr=LR, noise=NOISE, steps=steps), repeats)
    return seconds / (trials * steps) * 1e9


_IMPORT_CODE = """\
import sys, time
start = time.perf_counter()
import sgdlab
elapsed = time.perf_counter() - start
print(elapsed, any(m == "torch" or m.startswith("torch.") for m in sys.modules))
"""


def import_time(repeats=5):
    """Seconds of ``import sgdlab`` in a fresh interpreter (minimum over ``repeats``
    subprocesses), and whether that imported torch.

    Returns
    -------
    (float, bool)
    """
    best, torch_imported = np.inf, False
    for _ in range(max(1, repeats)):
        out = subprocess.run([sys.executable, "-c", _IMPORT_CODE], capture_output=True,
                             text=True, check=True, timeout=300)
        seconds, torch_flag = out.stdout.split()
        best = min(best, float(seconds))
        torch_imported = torch_imported or torch_flag == "True"
    return best, torch_imported


def widget_refresh_ms(trials=100, steps=1000, noises=WIDGET_NOISES, repeats=5):
    """Milliseconds of one widget refresh: :func:`sgdlab.run_sgd` on ``spiky()`` at each of
    ``noises`` (4 levels, 100 trials, 1,000 steps by default), warm.

    Parameters
    ----------
    trials, steps : int
    noises : sequence of float
    repeats : int

    Returns
    -------
    float
    """
    land, x0 = spiky(), _starts(trials)

    def refresh():
        for noise in noises:
            run_sgd(land, x0, lr=LR, noise=noise, steps=steps, seed=1)

    return time_min(refresh, repeats) * 1e3


def speeds(trials=(100, 10_000), steps=1000, python_trials=10, python_steps=200, repeats=5):
    """Nanoseconds per trial-step of every SGD implementation (Numba on 1 and all threads).

    Parameters
    ----------
    trials : (int, int)
        The small and the large number of trials.
    steps : int
        Steps of every Numba and NumPy run.
    python_trials, python_steps : int
        Size of the pure-Python run.
    repeats : int

    Returns
    -------
    dict
        ``numba_{N}_1thread``, ``numba_{N}_{T}threads`` (T: all Numba threads) and
        ``numpy_{N}`` for both N of ``trials``, and ``python``.
    """
    small, large = trials
    all_threads = numba.config.NUMBA_NUM_THREADS
    return {
        f"numba_{small}_1thread": ns_numba(small, steps, 1, repeats),
        f"numba_{small}_{all_threads}threads": ns_numba(small, steps, None, repeats),
        f"numba_{large}_1thread": ns_numba(large, steps, 1, repeats),
        f"numba_{large}_{all_threads}threads": ns_numba(large, steps, None, repeats),
        f"numpy_{small}": ns_numpy(small, steps, repeats),
        f"numpy_{large}": ns_numpy(large, steps, repeats),
        "python": ns_python(python_trials, python_steps, repeats),
    }


def per_landscape(trials=10_000, steps=1000, repeats=3, runs=3):
    """Nanoseconds per trial-step of :func:`sgdlab.run_sgd` on one thread for each of
    :data:`LANDSCAPES`: ``runs`` rounds, each timing every landscape once (the minimum of
    ``repeats``) in turn, so that the machine's load falls on all of them alike.

    Returns
    -------
    dict
        Per landscape: ``median``, ``low`` and ``high`` over the rounds.
    """
    lands = {name: make() for name, make in LANDSCAPES.items()}
    times = {name: [] for name in lands}
    for _ in range(max(1, runs)):
        for name, land in lands.items():
            times[name].append(ns_numba(trials, steps, 1, repeats, landscape=land))
    return {name: {"median": round(float(np.median(t)), 3), "low": round(min(t), 3),
                   "high": round(max(t), 3)} for name, t in times.items()}


def speed_ratios(ns, trials):
    """Speed-ups from :func:`speeds`' report ``ns`` for ``trials = (small, large)``.

    Returns
    -------
    dict
        ``numpy_over_numba_{N}`` (all threads) for both N, ``numpy_over_numba_{large}_1thread``,
        ``python_over_numba_1thread`` and ``python_over_numba`` (large, all threads).
    """
    small, large = trials
    all_threads = numba.config.NUMBA_NUM_THREADS
    numba_small = ns[f"numba_{small}_{all_threads}threads"]
    numba_large = ns[f"numba_{large}_{all_threads}threads"]
    return {
        f"numpy_over_numba_{small}": ns[f"numpy_{small}"] / numba_small,
        f"numpy_over_numba_{large}": ns[f"numpy_{large}"] / numba_large,
        f"numpy_over_numba_{large}_1thread": ns[f"numpy_{large}"] / ns[f"numba_{large}_1thread"],
        "python_over_numba_1thread": ns["python"] / ns[f"numba_{large}_1thread"],
        "python_over_numba": ns["python"] / numba_large,
    }


def goal_report(measured):
    """Each goal of :data:`GOALS` with its measured value and whether it is met.

    Parameters
    ----------
    measured : dict
        One number per goal name.

    Returns
    -------
    dict
        Per goal: ``goal``, ``measured`` (rounded to 4 decimals), ``meets_when`` (``"<="`` for
        a time, ``">="`` for a speed-up) and ``pass``.
    """
    report = {}
    for name, goal in GOALS.items():
        value = measured[name]
        ok = value <= goal if name in _AT_MOST else value >= goal
        report[name] = {"goal": goal, "measured": round(value, 4),
                        "meets_when": "<=" if name in _AT_MOST else ">=", "pass": bool(ok)}
    return report


DEFINITIONS = {
    "worst_landscape_ns_10k": "the largest median, over LANDSCAPES, of run_sgd on 1 thread, "
                              "10,000 trials (3 interleaved rounds)",
    "speedup_vs_numpy_N": "NumPy reference / run_sgd on all Numba threads, N trials",
    "speedup_vs_python": "pure-Python reference / run_sgd on 1 thread (10,000 "
                         "trials); both one core",
    "import_s": "import sgdlab in a fresh interpreter, warm Numba cache, min",
    "widget_refresh_ms": "4 noise levels x trials x steps of run_sgd, warm",
}
"""What each reported goal measures (copied into the report)."""


def _machine():
    return {"cpu_count": os.cpu_count(), "numba_threads": numba.config.NUMBA_NUM_THREADS,
            "python": platform.python_version(), "numba": numba.__version__,
            "numpy": np.__version__, "platform": platform.platform()}


def run(trials=(100, 10_000), steps=1000, python_trials=10, python_steps=200, repeats=5,
        import_repeats=5, widget=(100, 1000)):
    """Run every measurement once and return the JSON-ready report (a dict).

    Parameters
    ----------
    trials : (int, int)
        The small and the large number of trials (goals refer to 100 and 10,000).
    steps : int
        Steps of every Numba and NumPy run.
    python_trials, python_steps : int
        Size of the pure-Python run (it is reported per trial-step).
    repeats : int
        Timed repeats of each measurement (the minimum is kept).
    import_repeats : int
        Fresh interpreters started to time ``import sgdlab``.
    widget : (int, int)
        Trials and steps of one widget refresh (at 4 noise levels).

    Returns
    -------
    dict
        ``machine``, ``config``, ``ns_per_trial_step`` (:func:`speeds`), ``ratios``
        (:func:`speed_ratios`), ``import_s``, ``torch_imported``, ``widget_refresh_ms``,
        ``goals`` (:func:`goal_report`), ``all_goals_met``, ``total_s``.
    """
    t_start = time.perf_counter()
    small, large = trials
    ns = speeds(trials, steps, python_trials, python_steps, repeats)
    ratios = speed_ratios(ns, trials)
    landscapes = per_landscape(large, steps, repeats=max(1, repeats // 2), runs=3)
    import_s, torch_imported = import_time(import_repeats)
    widget_ms = widget_refresh_ms(*widget, repeats=repeats)
    goals = goal_report({
        "single_thread_ns_10k": ns[f"numba_{large}_1thread"],
        "worst_landscape_ns_10k": max(v["median"] for v in landscapes.values()),
        "speedup_vs_numpy_10k": ratios[f"numpy_over_numba_{large}"],
        "speedup_vs_numpy_100": ratios[f"numpy_over_numba_{small}"],
        "speedup_vs_python": ratios["python_over_numba_1thread"],
        "import_s": import_s, "widget_refresh_ms": widget_ms})
    return {
        "benchmark": "sgdlab.run_sgd on spiky(), ns per trial-step (min over repeats)",
        "machine": _machine(),
        "config": {"lr": LR, "noise": NOISE, "steps": steps, "trials": list(trials),
                   "python_trials": python_trials, "python_steps": python_steps,
                   "repeats": repeats, "import_repeats": import_repeats, "widget": {
                       "noises": list(WIDGET_NOISES), "trials": widget[0], "steps": widget[1]}},
        "ns_per_trial_step": {k: round(v, 3) for k, v in ns.items()},
        "ns_per_trial_step_1thread_by_landscape": landscapes,
        "ratios": {k: round(v, 2) for k, v in ratios.items()},
        "definitions": dict(DEFINITIONS),
        "import_s": round(import_s, 4),
        "torch_imported": torch_imported,
        "widget_refresh_ms": round(widget_ms, 3),
        "goals": goals,
        "all_goals_met": all(r["pass"] for r in goals.values()),
        "total_s": round(time.perf_counter() - t_start, 2),
    }


def main(argv=None):
    """Command line: print the benchmark's JSON report (``--quick`` for a smoke run).

    ``python -m sgdlab.bench probe [--quick] [--device cpu|cuda]`` runs the PyTorch
    benchmark of :mod:`sgdlab.bench.probe` instead (only that imports torch).

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    dict
        The report that was printed.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["probe"]:
        from . import probe as bench_probe
        return bench_probe.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m sgdlab.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (seconds): checks that the benchmark runs")
    args = parser.parse_args(argv)
    if args.quick:
        report = run(trials=(10, 100), steps=50, python_trials=2, python_steps=20,
                     repeats=1, import_repeats=1, widget=(10, 50))
    else:
        report = run()
    print(json.dumps(report, indent=2))
    return report


