"""The Theorem 1 explorer (chapter main-theorem): measured constants, SGD radius, the widget."""

import math

import matplotlib
import numpy as np
import pytest
from numpy.testing import assert_allclose

import sgdlab
import sgdlab.reference
from sgdlab import theory
from sgdlab.book.style import figure_to_png
from sgdlab.book.main_theorem import theorem1_explorer
from sgdlab.book.main_theorem import theorem1_figure
from sgdlab.book.main_theorem import theorem1_measurements

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def ripple():
    return sgdlab.landscapes.ripple()


@pytest.fixture(scope="module")
def domain():
    return theory.grid(-3.0, 3.0, 401)


def ripple_grad(x, *, a=1.0, depth=6.0, period=0.1):
    """Closed-form gradient of ``ripple()``: a x + A k sin(k x) / 2, A = a depth p^2 / (2 pi^2),
    k = 2 pi / p (NumPy, independent of sgdlab's kernels)."""
    amplitude, k = a * depth * period**2 / (2 * np.pi**2), 2 * np.pi / period
    return a * x + 0.5 * amplitude * k * np.sin(k * x)


def y_dist_sq(x, lr):
    """||x - lr grad f(x) - x*||^2 per row, x* = 0, in NumPy."""
    y = x - lr * ripple_grad(x)
    return (y**2).sum(axis=1)


def test_measurements_match_theory_and_an_independent_run(ripple, domain):
    lr, noise = 0.01, 5.0
    x0 = np.random.default_rng(3).uniform(-3, 3, size=(200, 1))
    theorem, dist_sq, info = theorem1_measurements(ripple, domain, lr=lr, noise=noise, x0=x0,
                                                   seed=7)
    ref = theory.measure(ripple, domain, lr=lr, noise=noise)
    assert_allclose([theorem.L, theorem.c, theorem.lam, theorem.b], [ref.L, ref.c, ref.lam, ref.b])
    assert_allclose(theorem.assumption.ratios, ref.assumption.ratios)
    # Theorem 1's T1 = log(lambda max||y_0 - x*||^2 / b) / lambda, computed here by hand
    dist0_sq = y_dist_sq(x0, lr).max()
    T1 = math.log(ref.lam * dist0_sq / ref.b) / ref.lam
    assert_allclose([info["dist0_sq"], info["T1"]], [dist0_sq, T1], rtol=1e-12)
    assert info["steps"] == math.ceil(T1)
    assert_allclose([info["L"], info["c"], info["lam"], info["b"], info["radius_sq"]],
                    [ref.L, ref.c, ref.lam, ref.b, 20 * ref.b / ref.lam])
    assert_allclose(info["c"], 1.0, rtol=1e-9)  # radius lr * noise = period / 2: exact smoothing
    assert info["step_size_ok"] is True and info["failing"] == "" and info["violations"] == 0
    # SGD by the NumPy reference (same seed, the closed-form gradient above), y_T by hand
    x_T = sgdlab.reference.run_sgd_numpy(ripple, x0, lr=lr, noise=noise, steps=info["steps"],
                                         seed=7, grad=ripple_grad)
    expected = y_dist_sq(x_T, lr)
    assert_allclose(dist_sq, expected, rtol=1e-9)
    assert_allclose(info["measured"], np.quantile(expected, 0.9), rtol=1e-9)
    assert info["share_within"] == np.mean(expected <= 20 * ref.b / ref.lam)
    assert info["diverged"] == 0 and np.all(np.isfinite(dist_sq))


def test_diverged_trials_are_infinitely_far(ripple, domain):
    _, dist_sq, info = theorem1_measurements(ripple, domain, lr=50.0, noise=0.0,
                                             x0=[[1.0], [2.0]], steps=200)
    assert info["diverged"] == 2 and np.all(np.isinf(dist_sq)) and info["measured"] == np.inf


def test_info_holds_plain_python_values(ripple, domain):
    _, _, info = theorem1_measurements(ripple, domain, lr=0.01, noise=5.0, trials=50)
    assert {type(v) for v in info.values()} <= {float, int, bool, str}
    assert set(info) >= {"L", "c", "lam", "b", "radius_sq", "T1", "steps", "measured",
                         "share_within", "step_size_ok", "failing", "diverged", "dist0_sq"}


def test_failed_assumption_has_no_bound_and_runs_max_steps(ripple):
    fine = theory.grid(-3.0, 3.0, 2001)  # the dip of the ratio below 0 near x* is narrow
    _, dist_sq, info = theorem1_measurements(ripple, fine, lr=0.01, noise=8.0, trials=50,
                                             max_steps=123)
    assert info["c"] < 0 and info["failing"] == "c <= 0" and not info["step_size_ok"]
    assert math.isinf(info["radius_sq"]) and math.isnan(info["T1"])
    assert math.isnan(info["share_within"])
    assert info["steps"] == 123 and dist_sq.shape == (50,)


def test_steps_can_be_given_or_capped(ripple, domain):
    _, _, given = theorem1_measurements(ripple, domain, lr=0.01, noise=5.0, trials=20, steps=7)
    assert given["steps"] == 7
    _, _, capped = theorem1_measurements(ripple, domain, lr=0.01, noise=5.0, trials=20,
                                         max_steps=10)
    assert capped["steps"] == 10 < capped["T1"]


def test_default_starts_are_rows_of_the_domain(ripple, domain):
    theorem, _, info = theorem1_measurements(ripple, domain, lr=0.01, noise=5.0, trials=30,
                                             steps=0)
    y_dist = ((domain - 0.01 * ripple.grad(domain)) ** 2).sum(axis=1)
    assert info["dist0_sq"] <= y_dist.max() + 1e-12
    assert np.any(np.isclose(y_dist, info["dist0_sq"]))


def test_works_in_ten_dimensions():
    land = sgdlab.landscapes.ripple(dim=10)
    domain = theory.ball(6.0, 2000, 10, seed=1)
    fig, info = theorem1_figure(land, domain, lr=0.02, noise=2.5, trials=100)
    assert_allclose(info["c"], 1.0, rtol=1e-9)
    assert_allclose(info["radius_sq"], 20 * info["b"] / info["lam"])
    assert figure_to_png(fig).startswith(b"\x89PNG")


def test_figure_has_two_panels():
    fig, info = theorem1_figure("ripple", theory.grid(-3.0, 3.0, 2001), lr=0.01, noise=8.0,
                                trials=50, max_steps=50)  # a landscape's name works too
    assert len(fig.axes) == 2
    assert "fails" in fig.axes[0].get_title()
    assert figure_to_png(fig).startswith(b"\x89PNG")


def test_explorer_has_lr_and_noise_and_reruns(ripple, domain):
    widget = theorem1_explorer(ripple, domain, lr=0.01, noise=5.0, trials=50, max_steps=200)
    labels = [child.description for child in widget.children[:-1]]
    assert labels == ["lr", "noise W"]
    assert_allclose(widget.result["c"], 1.0, rtol=1e-9)  # drawn once when built
    widget.children[1].value = 4.0  # a change reruns the measurement (errors would be swallowed)
    assert widget.result["c"] < 0.9 and widget.result["r"] == pytest.approx(4.0)
    widget.children[0].value = 0.02
    assert widget.result["steps"] >= 1 and not widget.result["step_size_ok"]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": -0.1, "noise": 1.0}, ValueError, "lr"),
    ({"lr": 0.01, "noise": 1.0, "quantile": 1.5}, ValueError, "quantile"),
    ({"lr": 0.01, "noise": 1.0, "trials": 2.5}, TypeError, "trials"),
    ({"lr": 0.01, "noise": 1.0, "trials": 0}, ValueError, "trials"),
    ({"lr": 0.01, "noise": 1.0, "x0": np.zeros((3, 2))}, ValueError, "x0"),
])
def test_bad_input(ripple, domain, kwargs, error, match):
    with pytest.raises(error, match=match):
        theorem1_measurements(ripple, domain, **kwargs)
