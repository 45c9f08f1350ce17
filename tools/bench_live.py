"""Time the motivating example's live explorer in headless Chromium against sgdlab (Numba).

``python tools/bench_live.py [--trials 100] [--steps 6000] [--stages 1] [--rounds 5]``

A page with ``book/_static/live/core.js`` only (no book build) is served from a temporary
folder on 127.0.0.1 and opened in headless Chromium (``make browser``). Each round times one
whole recompute in the page, ``sgdlabLive.runExplorer`` (random starts, SGD, the spurious
basins of g on its 7,001-point grid, the shares), and then the same work in this process with
sgdlab, :func:`sgdlab.book.motivating_example.explorer_runs` and ``explorer_rows``: the reference,
measured in the same run, alternated. One warm-up of each comes first (the JIT, Numba's
cache). The final iterates of the two are compared bit for bit in every round.

Prints one JSON object: the medians and ranges in ms, the ratio JavaScript / Numba per round
(median and range), the goal (100 trials x 6,000 steps in at most 100 ms) and whether the
median meets it.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "book" / "_static" / "live" / "core.js"
GOAL_MS = 100.0
SETTING = dict(beta=0.1, period=0.1, growth=0, lr=0.004, noise=12.5)  # the chapter's pick

_RUN = """
const done = arguments[arguments.length - 1];
const result = sgdlabLive.runExplorer(arguments[0]);
done({ms: result.ms, x: result.stages.map(s => Array.from(s.x))});
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(folder):
    handler = functools.partial(_Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path="/usr/bin/chromedriver"))
    driver.set_script_timeout(600)
    return driver


def _numba_round(settings):
    from sgdlab.landscapes import spiky
    from sgdlab.book import motivating_example

    started = time.perf_counter()
    land = spiky(beta=settings["beta"], period=settings["period"], growth=settings["growth"])
    result = motivating_example.explorer_runs(land, **{k: settings[k] for k in (
        "lr", "noise", "trials", "steps", "stages", "seed", "restart")})
    motivating_example.explorer_rows(land, result)
    return (time.perf_counter() - started) * 1e3, [stage.x[:, 0] for stage in result.stages]


def _summary(values):
    return {"median": round(statistics.median(values), 2),
            "range": [round(min(values), 2), round(max(values), 2)]}


def run(*, trials=100, steps=6000, stages=1, rounds=5):
    """Alternate ``rounds`` timed recomputes in Chromium and in sgdlab; return the report."""
    settings = dict(SETTING, trials=trials, steps=steps, stages=stages, seed=0, restart="new")
    folder = Path(tempfile.mkdtemp(prefix="sgdlab-bench-live-"))
    shutil.copy(CORE, folder / "core.js")
    (folder / "index.html").write_text('<!doctype html><script src="core.js"></script>')
    httpd, driver = _serve(folder), _chromium()
    js, numba, ratios, equal = [], [], [], True
    try:
        driver.get(f"http://127.0.0.1:{httpd.server_address[1]}/index.html")
        for round_ in range(rounds + 1):  # round 0 warms both up
            page = driver.execute_async_script(_RUN, dict(settings, seed=round_))
            ms, xs = _numba_round(dict(settings, seed=round_))
            equal &= all(np.array_equal(np.array(a, dtype=float), b, equal_nan=True)
                         for a, b in zip(page["x"], xs))
            if round_:
                js.append(page["ms"])
                numba.append(ms)
                ratios.append(page["ms"] / ms)
    finally:
        driver.quit()
        httpd.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    return {"settings": settings, "rounds": rounds, "browser": "headless Chromium",
            "js_ms": _summary(js), "numba_ms": _summary(numba),
            "js_over_numba": _summary(ratios), "bitwise_equal": bool(equal),
            "goal_ms": GOAL_MS if (trials, steps, stages) == (100, 6000, 1) else None,
            "goal_met": statistics.median(js) <= GOAL_MS
            if (trials, steps, stages) == (100, 6000, 1) else None}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--stages", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(run(trials=args.trials, steps=args.steps, stages=args.stages,
                         rounds=args.rounds), indent=1))


if __name__ == "__main__":
    main()
