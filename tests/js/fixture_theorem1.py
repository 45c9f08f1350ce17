"""Known answers of the live Theorem 1 explorer (``book/_static/live/theorem1.js``), computed by
sgdlab now: the config that :func:`sgdlab.book.main_theorem.live_theorem1` writes for the
main-theorem chapter's ripple and domain, the rows of the domain the trials start from
(:func:`sgdlab.random_rows`, which the page draws itself), and at several (lr, W) what
:func:`sgdlab.book.main_theorem.theorem1_measurements` and :func:`sgdlab.theory.measure` say,
with the final iterates of :func:`sgdlab.run_sgd` from the same starts.

The cases: the chapter's default (every hypothesis holds), its main setting, W = 0 (GD: b = 0,
T1 infinite, c <= 0), radii where Assumption 1 fails, a step size that fails the condition with
lambda > 0, and one with lambda <= 0 (T1 undefined); a second config has a domain given by
its points (not a grid).

Also shared with ``tests/test_live_theorem1.py`` (``from js.fixture_theorem1 import ...``).
"""

import json
import math

import numpy as np

from sgdlab import random_rows, run_sgd, theory
from sgdlab.landscapes import ripple
from sgdlab.book.main_theorem import theorem1_measurements
from sgdlab.book.main_theorem import live_theorem1

LAND = ripple()
DOMAIN = theory.grid(-3.0, 3.0, 2001)   # the chapter's explore_domain
DEFAULTS = {"lr": 0.01, "noise": 5.0}   # the chapter's explorer
CASES = [(0.01, 5.0), (0.02, 2.5), (0.01, 0.0), (0.01, 2.0), (0.01, 3.5), (0.04, 5.0),
         (0.05, 5.0), (0.003, 8.0), (0.0004, 17.0), (0.03, 10.0 / 3.0)]
POINTS_CASES = [(0.01, 5.0), (0.015, 1.0)]


def points_domain():
    """A domain that is not a grid: uneven points on [-2.4, 2.6]."""
    s = np.linspace(-1.0, 1.0, 601)
    return (2.5 * np.sign(s) * np.abs(s) ** 1.5 + 0.1)[:, None]


def number(value):
    """A float for JSON: inf and nan as the strings JavaScript's Number() reads."""
    value = float(value)
    return value if math.isfinite(value) else {math.inf: "Infinity", -math.inf: "-Infinity"}.get(
        value, "NaN")


def starts(domain, config):
    """The rows theorem1_measurements starts from: sgdlab.random_rows of the config's seed."""
    s = config["settings"]
    return random_rows(s["trials"], n_points=len(domain), seed=s["seed"])


def sgdlab_answer(domain, config, lr, noise):
    """What sgdlab says at (lr, noise) for this config's settings."""
    s = config["settings"]
    theorem, dist_sq, info = theorem1_measurements(
        LAND, domain, lr=lr, noise=noise, trials=s["trials"], max_steps=s["max_steps"],
        quantile=s["quantile"], seed=s["seed"])
    x0 = np.asarray(domain)[starts(domain, config)]
    run = run_sgd(LAND, x0, lr=lr, noise=noise, steps=info["steps"], seed=s["seed"])
    assert np.array_equal(theory.y_distance_sq(LAND, run.x, lr=lr)[run.x[:, 0] == run.x[:, 0]],
                          dist_sq[run.x[:, 0] == run.x[:, 0]])  # the starts are the same
    out = {key: (number(v) if isinstance(v, float) else v) for key, v in info.items()}
    out.update(lr=lr, noise=noise, lr_max=number(theorem.lr_max),
               L_at=float(theorem.smoothness.at[0]),
               c_at_y=float(theorem.assumption.at_y[0]),
               n_points=int(theorem.assumption.n_points),
               x=[number(v) for v in run.x[:, 0]], dist_sq=[number(v) for v in dist_sq])
    return out


def write(folder):
    fixtures = []
    for domain, cases in ((DOMAIN, CASES), (points_domain(), POINTS_CASES)):
        config = live_theorem1(LAND, domain, **DEFAULTS).config
        fixtures.append({"config": config, "starts": starts(domain, config).tolist(),
                         "cases": [sgdlab_answer(domain, config, lr, w) for lr, w in cases]})
    (folder / "theorem1.json").write_text(json.dumps({"configs": fixtures}, allow_nan=False))
