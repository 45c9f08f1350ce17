"""The chapters' explorers. Live ones (ipywidgets, need a kernel) rerun SGD and redraw a figure
of :mod:`sgdlab.viz.figures` at each slider change: :func:`sgd_explorer` (Figure 3),
:func:`step_size_explorer` (Theorem 3), :func:`theorem1_explorer` (Theorem 1). Kernel-free
ones, which keep working in the static HTML book, slide over frames computed at build time:
:func:`image_slider` and :func:`theorem1_slider`.
"""

import base64
import html
import itertools

import numpy as np

from .. import landscapes
from .. import _validate as validate
from .figures import explorer_figure, step_size_figure, theorem1_figure
from .measurements import step_point
from .style import figure_to_png

__all__ = ["sgd_explorer", "step_size_explorer", "theorem1_explorer", "image_slider",
           "theorem1_slider"]

_slider_ids = itertools.count()


def sgd_explorer(landscape=None, *, lr=5e-4, noise=100.0, trials=100, stages=1, steps=6000):
    """Sliders for noise, step size, trials and stages that rerun SGD live (Figure 3).

    Each change reruns :func:`sgdlab.run_schedule` through
    :func:`sgdlab.viz.figures.explorer_figure` (a few milliseconds once compiled) and redraws
    the final iterates.

    Parameters
    ----------
    landscape : sgdlab.Landscape or str, optional
        A 1-D landscape or a built-in one's name (default ``sgdlab.landscapes.spiky()``).
    lr, noise : float
        Initial step size and noise bound W.
    trials, stages : int
        Initial trials and stages (noise halved at each).
    steps : int
        Steps per stage.

    Returns
    -------
    ipywidgets.interactive
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    landscape = landscapes.spiky() if landscape is None else landscapes.as_landscape(landscape)
    if landscape.dim != 1:
        raise ValueError(f"landscape must be 1-dimensional for this explorer, "
                         f"got dim={landscape.dim}")

    def update(noise, lr, trials, stages):
        fig, _ = explorer_figure(landscape, lr=lr, noise=noise, trials=trials, stages=stages,
                                 steps=steps)
        display(fig)  # works with any matplotlib backend, unlike plt.show(fig)
        plt.close(fig)

    return widgets.interactive(
        update,
        noise=widgets.FloatLogSlider(value=noise, base=10, min=0, max=3, step=0.05,
                                     description="noise W", continuous_update=False),
        lr=widgets.FloatLogSlider(value=lr, base=10, min=-4, max=-2, step=0.05,
                                  description="lr", continuous_update=False,
                                  readout_format=".1e"),
        trials=widgets.IntSlider(value=trials, min=10, max=1000, step=10,
                                 description="trials", continuous_update=False),
        stages=widgets.IntSlider(value=stages, min=1, max=5, description="stages",
                                 continuous_update=False),
    )


def step_size_explorer(landscape, x_t, *, lr=0.1, noise=0.0, steps=20, trials=200,
                       c_prime=None, lr_range=(1e-3, 10.0), noise_max=None, seed=0):
    """Sliders for the step size, the noise bound W and the number of steps that redraw
    :func:`sgdlab.viz.figures.step_size_figure` live (Theorem 3, Figure 4).

    Each change redraws the figure straight into an ``Image``, without the notebook's figure
    machinery, so a refresh costs one run and one PNG. Arguments as for
    :func:`sgdlab.viz.figures.step_size_figure`; ``noise_max`` (the noise slider's end)
    defaults to twice the gradient's largest coordinate at x_t (at least 1).

    Returns
    -------
    ipywidgets.VBox
        The sliders above the image; ``box.info`` is the latest ``info`` dict of
        :func:`sgdlab.viz.figures.step_size_figure`, ``box.controls`` the three sliders.
    """
    import ipywidgets as widgets

    land, x = step_point(landscape, x_t)
    low, high = (float(v) for v in lr_range)
    if not 0 < low < high:
        raise ValueError(f"lr_range must be (low, high) with 0 < low < high, got {lr_range!r}")
    if noise_max is None:
        noise_max = max(1.0, 2.0 * float(np.abs(land.grad(x)).max()))
    noise_max = max(float(noise_max), float(noise))
    controls = {
        "lr": widgets.FloatLogSlider(value=lr, base=10, min=np.log10(low), max=np.log10(high),
                                     step=0.02, description="lr", continuous_update=False,
                                     readout_format=".3g"),
        "noise": widgets.FloatSlider(value=noise, min=0.0, max=noise_max, step=noise_max / 100,
                                     description="noise W", continuous_update=False),
        "steps": widgets.IntSlider(value=steps, min=1, max=200, description="steps",
                                   continuous_update=False),
    }
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
    box = widgets.VBox([widgets.HBox(list(controls.values())), image])
    box.controls = controls

    def update(change=None):
        fig, info = step_size_figure(land, x, lr=controls["lr"].value,
                                     noise=controls["noise"].value,
                                     steps=controls["steps"].value, trials=trials,
                                     c_prime=c_prime, seed=seed, lr_range=(low, high))
        image.value = figure_to_png(fig, tight=False)
        box.info = info

    for control in controls.values():
        control.observe(update, names="value")
    update()
    return box


def theorem1_explorer(landscape, domain, *, lr, noise, trials=1000, x0=None, max_steps=2000,
                      quantile=0.9, noise_max=None, seed=0):
    """Sliders for the step size and the noise bound W (so r) that redraw
    :func:`sgdlab.viz.figures.theorem1_figure` live: c, lambda, b, the bound
    :math:`20b/\\lambda` and SGD's measured radius after :math:`T_1` steps. Arguments as for
    :func:`sgdlab.viz.measurements.theorem1_measurements`; ``noise_max`` (the noise slider's
    end) defaults to 4 W (at least 1). Chapter :ref:`main-theorem`.

    Returns
    -------
    ipywidgets.interactive
        Its ``result`` is the latest ``info`` dict.
    """
    import ipywidgets as widgets
    from IPython.display import Image, display

    lr = validate.real("lr", lr, above=0)
    noise = validate.real("noise", noise, low=0)
    noise_max = (max(4.0 * noise, 1.0) if noise_max is None
                 else validate.real("noise_max", noise_max, low=0))
    noise_max = max(noise_max, noise)

    def update(lr, noise):
        fig, info = theorem1_figure(landscape, domain, lr=lr, noise=noise, trials=trials, x0=x0,
                                    max_steps=max_steps, quantile=quantile, seed=seed)
        # one draw, no tight bounding box: fast enough to drag a slider
        display(Image(data=figure_to_png(fig, tight=False, dpi=80), format="png"))
        return info

    centre = float(np.log10(lr))
    return widgets.interactive(
        update,
        lr=widgets.FloatLogSlider(value=lr, base=10, min=centre - 1.5, max=centre + 0.7,
                                  step=0.01, description="lr", continuous_update=False,
                                  readout_format=".3g"),
        noise=widgets.FloatSlider(value=noise, min=0.0, max=float(noise_max),
                                  step=float(noise_max) / 200, description="noise W",
                                  continuous_update=False, readout_format=".3g"),
    )


def image_slider(frames, labels, *, title="", start=0):
    """A kernel-free slider over precomputed PNG frames: plain HTML and JavaScript.

    Parameters
    ----------
    frames : sequence of bytes
        PNG images (e.g. from :func:`sgdlab.viz.style.figure_to_png`).
    labels : sequence of str
        One caption per frame, shown beside the slider.
    title : str
        Shown above the slider.
    start : int
        The frame shown first.

    Returns
    -------
    IPython.display.HTML
        The images (base64 data URLs, nothing fetched) and a few lines of JavaScript.
    """
    frames, labels = list(frames), [str(label) for label in labels]
    if not frames or len(frames) != len(labels):
        raise ValueError(f"frames and labels must be non-empty and of equal length, got "
                         f"{len(frames)} frames and {len(labels)} labels")
    if not 0 <= start < len(frames):
        raise ValueError(f"start must index a frame (0..{len(frames) - 1}), got {start}")
    from IPython.display import HTML

    uid = f"sgdlab-slider-{next(_slider_ids)}-{np.random.default_rng().integers(1 << 30)}"
    sources = [f"data:image/png;base64,{base64.b64encode(f).decode()}" for f in frames]
    images = "".join(
        f'<img src="{src}" alt="{html.escape(label)}" style="max-width:100%;'
        f'display:{"block" if k == start else "none"}">'
        for k, (src, label) in enumerate(zip(sources, labels))
    )
    label_json = "[" + ",".join('"' + html.escape(label).replace('"', "&quot;") + '"'
                                for label in labels) + "]"
    return HTML(f"""
<div id="{uid}" class="sgdlab-slider">
  <div style="font-weight:600">{html.escape(title)}</div>
  <input type="range" min="0" max="{len(frames) - 1}" value="{start}" step="1"
         aria-label="{html.escape(title) or 'frame'}" style="width:60%">
  <span class="sgdlab-slider-label">{html.escape(labels[start])}</span>
  <div class="sgdlab-slider-frames">{images}</div>
</div>
<script>
(function() {{
  var root = document.getElementById("{uid}");
  var labels = {label_json};
  var input = root.querySelector("input");
  var label = root.querySelector(".sgdlab-slider-label");
  var imgs = root.querySelectorAll(".sgdlab-slider-frames img");
  input.addEventListener("input", function() {{
    var k = parseInt(input.value, 10);
    imgs.forEach(function(img, j) {{ img.style.display = (j === k) ? "block" : "none"; }});
    label.innerHTML = labels[k];
  }});
}})();
</script>
""")


def theorem1_slider(landscape, domain, *, lr, noises, trials=1000, x0=None, max_steps=2000,
                    quantile=0.9, seed=0, start=0, title=None):
    """The kernel-free version of :func:`theorem1_explorer`: an :func:`image_slider` over
    :func:`sgdlab.viz.figures.theorem1_figure` at step size ``lr`` and each noise bound of
    ``noises``, computed now. Each frame is drawn once (fixed margins, no tight bounding box).
    Chapter :ref:`main-theorem`.

    Returns
    -------
    IPython.display.HTML
        One frame per noise bound, labelled with c and the step-size verdict.
    """
    noises = [float(noise) for noise in noises]
    if not noises:
        raise ValueError("noises must hold at least one noise bound, got none")
    frames, labels = [], []
    for noise in noises:
        fig, info = theorem1_figure(landscape, domain, lr=lr, noise=noise, trials=trials, x0=x0,
                                    max_steps=max_steps, quantile=quantile, seed=seed)
        frames.append(figure_to_png(fig, tight=False))
        verdict = "holds" if info["step_size_ok"] else "fails"
        labels.append(f"W = {noise:g}: c = {info['c']:.3f}, step-size condition {verdict}")
    if title is None:
        title = f"Theorem 1's bound against SGD, step size {lr:g}"
    return image_slider(frames, labels, title=title, start=start)
