"""The explorers: the live ipywidgets one and the kernel-free slider."""

import numpy as np
import pytest

import sgdlab
from sgdlab.viz.style import figure_to_png
from sgdlab.viz.explorers import image_slider, sgd_explorer
from sgdlab.viz.figures import explorer_figure


def test_explorer_figure_runs_the_schedule():
    land = sgdlab.landscapes.spiky()
    fig, result = explorer_figure(land, lr=5e-4, noise=100.0, trials=20, stages=2, steps=200)
    assert len(result.stages) == 2
    assert result.stages[1].noise == 50.0
    png = figure_to_png(fig)
    assert png.startswith(b"\x89PNG")


def test_sgd_explorer_has_the_four_controls():
    widget = sgd_explorer(steps=100, trials=20)
    labels = [child.description for child in widget.children[:-1]]
    assert labels == ["noise W", "lr", "trials", "stages"]
    widget.children[0].value = 10.0  # a change reruns the experiment without error
    assert widget.children[0].value == pytest.approx(10.0)


def test_sgd_explorer_draws_a_figure_with_any_backend():
    """``interactive`` swallows exceptions into its output: check what it shows."""
    widget = sgd_explorer(steps=50, trials=10)
    widget.f(**widget.kwargs)  # raised TypeError under Agg when it called plt.show(fig)


def test_sgd_explorer_rejects_other_dimensions():
    with pytest.raises(ValueError, match="1-dimensional"):
        sgd_explorer(sgdlab.landscapes.spiky(dim=2))


def test_image_slider_embeds_every_frame():
    png = figure_to_png(explorer_figure(sgdlab.landscapes.spiky(), lr=5e-4, noise=10.0,
                                        trials=5, stages=1, steps=10)[0])
    out = image_slider([png, png, png], ["a", "b", "c"], title="t", start=1).data
    assert out.count("<img") == 3 and 'type="range"' in out and 'max="2"' in out
    assert "http" not in out


@pytest.mark.parametrize("frames, labels, start, match", [
    ([], [], 0, "non-empty"),
    ([b"x"], ["a", "b"], 0, "equal length"),
    ([b"x"], ["a"], 3, "start"),
])
def test_image_slider_bad_input(frames, labels, start, match):
    with pytest.raises(ValueError, match=match):
        image_slider(frames, labels, start=start)
