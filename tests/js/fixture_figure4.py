"""Known answers of the live Figure 4 explorer (``book/_static/live/figure4.js``), computed by
sgdlab now on the rippled bowl of chapter step-size (Theorem 3, Figure 4).

Also the bowl itself, shared with ``tests/test_book_step_size.py`` and
``tests/test_live_figure4.py`` (``from js.fixture_figure4 import BOWL``): the chapter's
``bowl_f`` / ``bowl_grad``, defined once so that Numba compiles its kernels once per session.
"""

import json
import math

import numba
import numpy as np

from sgdlab import Landscape, theory

ANGLE, BETA, OMEGA = np.pi / 6, 0.375, 2.0
ROTATION = np.array([[np.cos(ANGLE), -np.sin(ANGLE)], [np.sin(ANGLE), np.cos(ANGLE)]])
A = ROTATION @ np.diag([1.0, 6.0]) @ ROTATION.T


@numba.njit
def bowl_f(x):
    quadratic = A[0, 0] * x[0] ** 2 + 2 * A[0, 1] * x[0] * x[1] + A[1, 1] * x[1] ** 2
    return 0.5 * quadratic + BETA * np.sin(OMEGA * x[0]) ** 2


@numba.njit
def bowl_grad(x):
    ripple = BETA * OMEGA * np.sin(2 * OMEGA * x[0])
    first = A[0, 0] * x[0] + A[0, 1] * x[1] + ripple
    return np.array([first, A[1, 0] * x[0] + A[1, 1] * x[1]])


BOWL = Landscape(bowl_f, bowl_grad, dim=2, x_star=[0.0, 0.0], name="rippled bowl")
X_T = (0.5, 1.5)  # the chapter's x_t


def c_prime():
    """Theorem 3's c' of the bowl on a grid of [-2, 2]^2 (the chapter uses a finer domain)."""
    return float(theory.one_point_upper(BOWL, theory.grid(-2.0, 2.0, 101, dim=2)).c_prime)


def cases(seed=11):
    """(x_t, lr) pairs: random points and step sizes, and the edge cases (x_t on an axis, at
    x*, far away; tiny and huge lr; lr exactly at the exact threshold eta0)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.5, 2.5, (300, 2))
    lr = 10.0 ** rng.uniform(-3, 1.5, 300)
    edges_x = np.array([X_T, [0.0, 1.3], [-0.7, 0.0], [0.0, 0.0], [1e-9, -2e-9], [40.0, -25.0],
                        [-1e-300, 0.0], [2.0, 2.0]])
    edges_lr = [0.1, 0.2, 3.0, 1.0, 0.5, 1e-3, 1.0, 5e-324]
    tiny_huge = np.array([X_T, X_T, [1.2, -0.4], [1.2, -0.4]])
    x = np.vstack([x, edges_x, tiny_huge])
    lr = np.concatenate([lr, edges_lr, [1e-12, 1e12, 1e-300, 1e300]])
    eta0 = theory.overshoot_lr(BOWL, x[:40])
    tie = np.isfinite(eta0) & (eta0 > 0)  # + the boundary eta = eta0
    return np.vstack([x, x[:40][tie]]), np.concatenate([lr, eta0[tie]])


def _number(value):
    """A float for JSON: inf and nan as the strings JavaScript's Number() reads."""
    value = float(value)
    return value if np.isfinite(value) else {np.inf: "Infinity", -np.inf: "-Infinity"}.get(
        value, "NaN")


def answers(x, lr, c):
    """What sgdlab says at each (x_t, lr)."""
    with np.errstate(all="ignore"):  # huge lr overflows to inf; x* gives 0 / 0
        before = np.linalg.norm(x - BOWL.x_star, axis=1)
        after = np.linalg.norm(x - lr[:, None] * BOWL.grad(x) - BOWL.x_star, axis=1)
        ratio = after / before
    return {"f": BOWL.f(x), "grad": BOWL.grad(x),
            # the C library's sines in f and grad: where Math.sin agrees, JS must be bitwise equal
            "sin_f": np.array([math.sin(OMEGA * p[0]) for p in x]),
            "sin_grad": np.array([math.sin(2 * OMEGA * p[0]) for p in x]),
            "change": theory.gd_distance_change(BOWL, x, lr=lr),
            "eta0": theory.overshoot_lr(BOWL, x),
            "eta3": theory.theorem3_threshold(BOWL, x, c_prime=c), "ratio": ratio}


def write(folder):
    c = c_prime()
    x, lr = cases()
    known = answers(x, lr, c)
    rows = [{"x_t": x[i].tolist(), "lr": float(lr[i]),
             **{key: (value[i].tolist() if value.ndim == 2 else _number(value[i]))
                for key, value in known.items()}} for i in range(len(lr))]
    config = {"A": A.tolist(), "beta": BETA, "omega": OMEGA, "x_star": BOWL.x_star.tolist(),
              "c_prime": c}
    (folder / "figure4.json").write_text(json.dumps({"config": config, "cases": rows},
                                                    allow_nan=False))
