"""Known answers for ``tests/js/core.test.mjs``, computed by sgdlab now: the random stream,
the spiky formulas, random starts, random rows, SGD, the spurious basins and the explorer's
runs; the named streams' numbers."""

import json

import numpy as np

import sgdlab
from sgdlab import _builtin, _rng
from sgdlab.book import motivating_example


def _numbers(values):
    """Floats for JSON, bit for bit (repr round-trips); non-finite ones as strings."""
    return [float(v) if np.isfinite(v) else str(float(v)) for v in np.ravel(values)]


def _hex(value):
    return f"{int(value):016x}"


def _stream():
    keys = [{"seed": s, "stream": st, "key": _hex(_rng.seed_key(s, st))}
            for s in (0, 1, 7, 2**40 + 3, 2**53 - 1)
            for st in (0, 1, 5, int(_rng.Stream.STARTS), int(_rng.Stream.ROWS),
                       int(_rng.Stream.CONVOLVE))]
    draws = []
    for seed, trial, counter in ((0, 0, 0), (3, 12, 5999), (2**31, 999, 2**33 + 1),
                                 (12345, 2**40, 7)):
        key = _rng.seed_key(seed, 0)
        value = _rng.uniform_pm1(_rng.stream_key(key, trial), counter)
        draws.append({"seed": seed, "trial": trial, "counter": counter, "value": float(value)})
    return {"keys": keys, "draws": draws}


def _rows():
    """sgdlab.random_rows at the ends: one row, 2**32 - 1 rows, the largest page seed."""
    return [{"trials": n, "n_points": points, "seed": seed,
             "rows": sgdlab.random_rows(n, n_points=points, seed=seed).tolist()}
            for n, points, seed in ((1000, 2001, 0), (50, 1, 3), (200, 2**32 - 1, 2**53 - 1),
                                    (300, 601, 7), (100, 2**31 + 5, 2**40))]


def _formulas():
    cases = []
    for beta, period, growth, width in (
            (0.1, 0.1, 0, "fixed"), (0.3, 0.2, 2, "fixed"), (0.05, 0.1, 5, "fixed"),
            (1e-6, 0.3, 12, "fixed"), (0.2, 0.001, 3, "fixed"), (0.1, 0.08, 0, "sqrt"),
            (0.3, 0.05, 2, "sqrt"), (0.05, 0.002, 4, "sqrt")):
        land = sgdlab.landscapes.spiky(beta=beta, period=period, growth=growth, width=width)
        s = np.r_[np.linspace(-3.5, 3.5, 57), 0.0, 1e-9, -2.05, 0.5 * period, 3.0 * period,
                  5.0, -4.2]
        formula = (_builtin.spiky_antiderivative if width == "fixed"
                   else _builtin.spiky_antiderivative_wide)
        anti = [formula(v, beta, 1.0 / period, float(growth)) for v in s]
        smoothed = {str(r): _numbers(land.smoothed(s, radius=r)) for r in (0.0, 0.0125, 0.05, 0.4)}
        cases.append({"beta": beta, "period": period, "growth": growth, "width": width,
                      "s": _numbers(s),
                      "value": _numbers(land.f(s)), "slope": _numbers(land.grad(s)),
                      "antiderivative": _numbers(anti), "smoothed": smoothed})
    return cases


def _starts():
    return [{"trials": n, "span": span, "seed": seed, "stage": stage,
             "x": _numbers(sgdlab.random_starts(n, span=span, seed=seed, stage=stage))}
            for n, span, seed, stage in ((5, 3.0, 0, 0), (7, 1.5, 3, 1), (3, 0.375, 2**40, 5))]


def _runs():
    """run_sgd from random starts: GD, one trial, growth, divergence, the largest sizes."""
    out = []
    for beta, period, growth, lr, noise, trials, steps, seed, width in (
            (0.1, 0.08, 0, 0.004, 12.5, 100, 750, 0, "sqrt"),   # widening spikes, growth 0
            (0.1, 0.05, 2, 0.002, 20.0, 50, 1500, 6, "sqrt"),   # widening, growing spikes
            (0.1, 0.1, 0, 0.004, 12.5, 100, 750, 0, "fixed"),     # fixed width, right noise
            (0.1, 0.1, 0, 0.004, 0.0, 50, 750, 1, "fixed"),       # noise 0: GD
            (0.1, 0.1, 0, 0.004, 6.25, 1, 6000, 2, "fixed"),      # one trial
            (0.05, 0.1, 4, 5e-4, 100.0, 20, 3000, 3, "fixed"),    # growing spikes
            (0.3, 0.2, 2, 2.0, 50.0, 4, 400, 4, "fixed"),         # diverges: inf, then nan
            (0.1, 0.1, 0, 0.004, 12.5, 1000, 20000, 5, "fixed")):  # the largest sizes
        land = sgdlab.landscapes.spiky(beta=beta, period=period, growth=growth, width=width)
        x0 = sgdlab.random_starts(trials, span=3.0, seed=seed)
        run = sgdlab.run_sgd(land, x0, lr=lr, noise=noise, steps=steps, seed=seed)
        out.append({"beta": beta, "period": period, "growth": growth, "width": width,
                    "lr": lr, "noise": noise,
                    "trials": trials, "steps": steps, "seed": seed, "x": _numbers(run.x)})
    return out


def _basins():
    x = np.r_[np.linspace(-3.6, 3.6, 401), np.nan, np.inf]
    return [{"radius": r, "span": 3.5, "nPoints": 7001, "x": _numbers(x), "width": width,
             "period": period,
             "spurious": sgdlab.smoothing.in_spurious_basin(
                 sgdlab.landscapes.spiky(beta=0.1, period=period, width=width), x, radius=r,
                 span=3.5, n_points=7001).astype(int).tolist()}
            for r in (0.0, 0.025, 0.05) for width, period in (("fixed", 0.1), ("sqrt", 0.08))]


def _explorer():
    """explorer_runs and explorer_rows, as the live explorer prints them."""
    out = []
    for settings in (dict(beta=0.1, period=0.08, growth=0, width="sqrt", lr=0.004, noise=12.5,
                          trials=100, steps=750, stages=4, seed=0, restart="new"),
                     dict(beta=0.1, period=0.1, growth=0, lr=0.004, noise=12.5, trials=100,
                          steps=750, stages=4, seed=0, restart="new"),
                     dict(beta=0.1, period=0.1, growth=0, lr=0.004, noise=25.0, trials=30,
                          steps=400, stages=3, seed=9, restart="continue"),
                     dict(beta=0.05, period=0.2, growth=2, lr=0.002, noise=0.0, trials=40,
                          steps=500, stages=2, seed=1, restart="new"),
                     dict(beta=0.3, period=0.2, growth=0, lr=1.5, noise=1.0, trials=6,
                          steps=400, stages=2, seed=2, restart="continue")):  # diverges
        land = sgdlab.landscapes.spiky(beta=settings["beta"], period=settings["period"],
                                       growth=settings["growth"],
                                       width=settings.get("width", "fixed"))
        run = motivating_example.explorer_runs(land, **{k: settings[k] for k in (
            "lr", "noise", "trials", "steps", "stages", "seed", "restart")})
        rows = motivating_example.explorer_rows(land, run)
        stages = [{"x": _numbers(stage.x), "within": row["within"],
                   "spurious": row["spurious"], "spuriousInside": row["spurious inside"],
                   "radius": row["radius"], "noise": row["W"], "diverged": row["diverged"]}
                  for stage, row in zip(run.stages, rows)]
        out.append({"settings": settings, "stages": stages})
    return out


def write(folder):
    with np.errstate(over="ignore", invalid="ignore"):  # the diverging runs
        return _write(folder)


def _write(folder):
    data = {"stream": _stream(), "streams": {s.name: int(s) for s in _rng.Stream},
            "formulas": _formulas(), "starts": _starts(), "rows": _rows(), "runs": _runs(),
            "basins": _basins(), "explorer": _explorer()}
    (folder / "core.json").write_text(json.dumps(data))
