"""The Figure 3 explorer of the notebook (ipywidgets) and its figure."""

import IPython.display
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from numpy.testing import assert_array_equal

import sgdlab
from sgdlab.book.motivating_example import sgd_explorer
from sgdlab.book.motivating_example import explorer_figure
from sgdlab.book.style import figure_to_png, plot_final_iterates

matplotlib.use("Agg")


def direct_schedule(land, *, lr, noise, trials, stages, steps, seed=0, span=3.0):
    """What the explorer should run: uniform starts in [-span, span], noise halved per stage."""
    starts = sgdlab.random_starts(trials, span=span, seed=seed)
    return sgdlab.run_schedule(land, starts, [(lr, noise / 2**k, steps) for k in range(stages)],
                               seed=seed)


def final_iterates_drawn(fig):
    """The x positions of the red dots (the final iterates) in an explorer figure."""
    (ax,) = fig.axes
    (dots,) = [line for line in ax.lines if line.get_label() == "final iterates"]
    return np.asarray(dots.get_xdata())


@pytest.fixture
def shown(monkeypatch):
    """Every object the explorers pass to IPython's ``display``."""
    objects = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **_: objects.append(obj))
    return objects


def test_explorer_figure_draws_the_schedule_it_runs():
    land = sgdlab.landscapes.spiky()
    settings = dict(lr=5e-4, noise=100.0, trials=20, stages=2, steps=200, seed=4)
    fig, result = explorer_figure(land, **settings)
    expected = direct_schedule(land, **settings)
    assert [stage.noise for stage in result.stages] == [100.0, 50.0]
    assert_array_equal(result.stages[-1].x, expected.stages[-1].x)
    assert_array_equal(final_iterates_drawn(fig), np.clip(expected.stages[-1].x[:, 0], -3, 3))
    share = expected.stages[-1].share_within(1.5)
    assert f"{share:.0%} within 1.5" in fig.axes[0].get_title()
    assert figure_to_png(fig).startswith(b"\x89PNG")


def test_cumulative_count_counts_points_beyond_the_span_once():
    fig, ax = plt.subplots()
    plot_final_iterates(ax, [-4.0, 0.0, 3.5, np.nan], span=3.0, bins=6)
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [1, 1, 1, 2, 2, 3]  # -4 in the first bar, 3.5 in the last, nan out
    plt.close(fig)


def test_sgd_explorer_reruns_with_the_slider_settings(shown):
    land = sgdlab.landscapes.spiky()
    widget = sgd_explorer(land, steps=100, trials=20)
    labels = [child.description for child in widget.children[:-1]]
    assert labels == ["noise W", "lr", "trials", "stages"]
    first = shown[-1]  # drawn once when built, with the initial settings
    assert_array_equal(final_iterates_drawn(first), np.clip(direct_schedule(
        land, lr=5e-4, noise=100.0, trials=20, stages=1, steps=100).stages[-1].x[:, 0], -3, 3))
    widget.children[0].value = 10.0  # noise W
    widget.children[3].value = 2  # stages
    assert len(shown) == 3 and shown[-1] is not first
    expected = direct_schedule(land, lr=5e-4, noise=10.0, trials=20, stages=2, steps=100)
    drawn = final_iterates_drawn(shown[-1])
    assert_array_equal(drawn, np.clip(expected.stages[-1].x[:, 0], -3, 3))
    assert not np.array_equal(drawn, final_iterates_drawn(first))


def test_sgd_explorer_draws_a_figure_with_any_backend(shown):
    """``interactive`` swallows exceptions into its output: call its function directly."""
    widget = sgd_explorer(steps=50, trials=10)
    shown.clear()
    widget.f(**widget.kwargs)  # raised TypeError under Agg when it called plt.show(fig)
    assert len(shown) == 1 and isinstance(shown[0], Figure) and len(shown[0].axes) == 1
    assert final_iterates_drawn(shown[0]).shape == (10,)


def test_sgd_explorer_rejects_other_dimensions():
    with pytest.raises(ValueError, match="1-dimensional"):
        sgd_explorer(sgdlab.landscapes.spiky(dim=2))
    with pytest.raises(ValueError, match="1-dimensional"):
        sgd_explorer(sgdlab.landscapes.ripple(dim=3))


def test_explorers_take_a_landscape_name(shown):
    sgd_explorer("ripple", steps=10, trials=10)
    expected = direct_schedule(sgdlab.landscapes.ripple(), lr=5e-4, noise=100.0, trials=10,
                               stages=1, steps=10)
    drawn = final_iterates_drawn(shown[-1])
    assert_array_equal(drawn, np.clip(expected.stages[-1].x[:, 0], -3, 3))
