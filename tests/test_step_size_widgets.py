"""The Theorem 3 (step size) explorer: the Figure-4 picture, its numbers, and the live widget."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from numpy.testing import assert_allclose

import sgdlab
from sgdlab import theory
from sgdlab.book.style import figure_to_png
from sgdlab.book.step_size import step_size_explorer
from sgdlab.book.step_size import plot_step_picture, step_size_figure

X_T = np.array([0.8, 0.5])


@pytest.fixture(scope="module")
def land():
    # built-in, so its kernels come from Numba's disk cache; non-convex (depth > 1) but
    # one-point convex (depth < 4.6)
    return sgdlab.landscapes.ripple(dim=2, depth=3.0, period=1.0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_figure_numbers_match_the_identity_and_theory(land):
    lr, noise = 0.7, 0.4
    fig, info = step_size_figure(land, X_T, lr=lr, noise=noise, steps=5, trials=50,
                                 c_prime=4.0)
    assert figure_to_png(fig).startswith(b"\x89PNG")
    e = X_T - land.x_star
    g = land.grad(X_T)
    assert_allclose(info["dist_sq"], e @ e)
    # the exact identity ||x_{t+1} - x*||^2 - ||x_t - x*||^2 = lr (lr ||g||^2 - 2 <g, x_t - x*>)
    assert_allclose(info["gd_one_step"] - info["dist_sq"], lr * (lr * g @ g - 2 * g @ e),
                    rtol=1e-12)
    assert_allclose(info["overshoot_lr"], theory.overshoot_lr(land, X_T[None])[0])
    assert_allclose(info["theorem3_lr"],
                    theory.theorem3_threshold(land, X_T[None], c_prime=4.0)[0])
    assert_allclose(info["noisy_lr"], 2 * g @ e / (g @ g + 2 * noise**2 / 3))
    assert_allclose(info["sgd_one_step_predicted"],
                    info["gd_one_step"] + lr**2 * 2 * noise**2 / 3)
    assert all(isinstance(v, (float, int)) and not isinstance(v, np.generic)
               for v in info.values())


def test_gd_side_of_the_thresholds(land):
    eta0 = theory.overshoot_lr(land, X_T[None])[0]
    eta3 = theory.theorem3_threshold(land, X_T[None], c_prime=4.0)[0]
    _, below = step_size_figure(land, X_T, lr=0.5 * eta0, steps=1, trials=2)
    _, above = step_size_figure(land, X_T, lr=1.1 * eta3, steps=1, trials=2)
    assert below["gd_one_step"] < below["dist_sq"]
    assert above["gd_one_step"] >= above["dist_sq"]
    # no noise: SGD is GD, and one step of the T-step run is the one-step GD result
    assert below["sgd_one_step_mean"] == below["gd_one_step"]
    assert_allclose(below["gd_after_steps"], below["gd_one_step"], rtol=1e-12)
    assert np.isnan(below["theorem3_lr"])


def test_sgd_one_step_mean_matches_the_formula(land):
    _, info = step_size_figure(land, X_T, lr=0.5, noise=1.0, steps=2, trials=4000, seed=3)
    z = (info["sgd_one_step_mean"] - info["sgd_one_step_predicted"]) / info["sgd_one_step_stderr"]
    assert abs(z) < 5


def test_picture_colours_inside_and_outside(land):
    eta0 = theory.overshoot_lr(land, X_T[None])[0]
    fig, ax = plt.subplots()
    plot_step_picture(ax, land, X_T, [0.5 * eta0, 2.0 * eta0], cloud=np.zeros((3, 2)))
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any("distance x0." in label for label in labels)  # inside the ball
    assert any("distance x1." in label or "distance x2." in label for label in labels)


def test_explorer_redraws_on_change(land):
    box = step_size_explorer(land, X_T, lr=0.1, noise=0.5, steps=3, trials=20, c_prime=4.0)
    assert set(box.controls) == {"lr", "noise", "steps"}
    image = box.children[1]
    first = image.value
    assert bytes(first).startswith(b"\x89PNG")
    box.controls["lr"].value = 1.0
    change = theory.gd_distance_change(land, X_T[None], lr=box.controls["lr"].value)[0]
    assert box.info["gd_one_step"] == pytest.approx(box.info["dist_sq"] + change)
    fig, direct = step_size_figure(land, X_T, lr=1.0, noise=0.5, steps=3, trials=20,
                                   c_prime=4.0)
    assert box.info == direct  # the same numbers as a direct call with the sliders' settings
    assert bytes(image.value) == figure_to_png(fig, tight=False)  # and the same picture
    assert image.value != first
    box.controls["noise"].value = 0.0
    assert box.info["sgd_one_step_mean"] == box.info["gd_one_step"]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"x_t": [0.0, 0.0]}, ValueError, "differ from x"),
    ({"x_t": [1.0, 2.0, 3.0]}, ValueError, "2 finite numbers"),
    ({"x_t": [np.nan, 1.0]}, ValueError, "2 finite numbers"),
    ({"x_t": "ab"}, TypeError, "x_t must be a point"),
    ({"lr": 0.0}, ValueError, "lr must be"),
    ({"noise": -1.0}, ValueError, "noise must be"),
    ({"steps": 0}, ValueError, "steps must be an integer >= 1"),
    ({"lr_range": (1.0, 0.1)}, ValueError, "lr_range"),
])
def test_bad_input(land, kwargs, error, match):
    args = {"x_t": X_T, "lr": 0.1} | kwargs
    x_t = args.pop("x_t")
    with pytest.raises(error, match=match):
        step_size_figure(land, x_t, **args)


def test_rejects_other_dimensions():
    with pytest.raises(ValueError, match="2-dimensional"):
        step_size_figure(sgdlab.landscapes.quadratic(dim=3), [1.0, 0.0, 0.0], lr=0.1)
    with pytest.raises(ValueError, match="2-dimensional"):
        step_size_explorer(sgdlab.landscapes.quadratic(dim=1), [1.0])


def test_point_that_is_not_one_point_convex():
    # depth 6 > 4.6: ripples with spurious minima; at (0.7, 0.7) the gradient points away from
    # x*, so overshoot_lr is negative and every step size moves away
    deep = sgdlab.landscapes.ripple(dim=2, depth=6.0, period=1.0)
    x = [0.7, 0.7]
    assert theory.overshoot_lr(deep, np.array([x]))[0] < 0
    fig, info = step_size_figure(deep, x, lr=0.01, noise=0.5, steps=2, trials=10, c_prime=7.0)
    assert figure_to_png(fig).startswith(b"\x89PNG")
    assert info["gd_one_step"] > info["dist_sq"]


def test_figure_fits_the_page_width(land):
    """The page's text is about 8 inches wide: a wider figure is shrunk and its labels with it."""
    fig, _ = step_size_figure(land, X_T, lr=0.3, noise=0.5, steps=2, trials=10)
    assert fig.get_size_inches()[0] <= 8
