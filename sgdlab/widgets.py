"""Jupyter explorers: a live ipywidgets explorer (needs a kernel) and a kernel-free slider
over precomputed frames, which keeps working in the static HTML book."""

import base64
import html
import itertools

import numpy as np

from . import landscapes
from .plotting import plot_final_iterates, use_style
from .sgd import run_schedule

__all__ = ["sgd_explorer", "image_slider", "explorer_figure"]

_slider_ids = itertools.count()


def explorer_figure(landscape, *, lr, noise, trials, stages, steps, seed=0, span=3.0):
    """Run SGD in ``stages`` stages (noise halved at each) from uniform starts in
    [-span, span] and draw the final iterates of the last stage. Returns (figure, result)."""
    import matplotlib.pyplot as plt

    use_style()
    starts = np.random.default_rng(seed).uniform(-span, span, size=(trials, 1))
    schedule = [(lr, noise / 2**k, steps) for k in range(stages)]
    result = run_schedule(landscape, starts, schedule, seed=seed)
    fig, ax = plt.subplots(figsize=(6, 2.6))
    xs = np.linspace(-span, span, 1201)
    last = result.stages[-1]
    plot_final_iterates(
        ax, last.x[:, 0], span=span, curve=(xs, landscape.f(xs)),
        title=(f"lr={lr:g}, noise={noise:g} (radius {lr * noise:.3g}), {stages} stage(s): "
               f"{last.share_within(1.5):.0%} within 1.5, std {np.nanstd(last.x):.3f}"),
    )
    return fig, result


def sgd_explorer(landscape=None, *, lr=5e-4, noise=100.0, trials=100, stages=1, steps=6000):
    """Sliders for noise, step size, trials and stages that rerun SGD live (Figure 3).

    Each change reruns :func:`sgdlab.run_schedule` (a few milliseconds once compiled) and
    redraws the final iterates. Returns the ``ipywidgets.interactive`` widget.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    landscape = landscapes.spiky() if landscape is None else landscape
    if landscape.dim != 1:
        raise ValueError(f"landscape must be 1-dimensional for this explorer, got dim={landscape.dim}")

    def update(noise, lr, trials, stages):
        fig, _ = explorer_figure(landscape, lr=lr, noise=noise, trials=trials, stages=stages,
                                 steps=steps)
        plt.show(fig)

    return widgets.interactive(
        update,
        noise=widgets.FloatLogSlider(value=noise, base=10, min=0, max=3, step=0.05,
                                     description="noise W", continuous_update=False),
        lr=widgets.FloatLogSlider(value=lr, base=10, min=-4, max=-2.5, step=0.05,
                                  description="lr", continuous_update=False,
                                  readout_format=".1e"),
        trials=widgets.IntSlider(value=trials, min=10, max=1000, step=10,
                                 description="trials", continuous_update=False),
        stages=widgets.IntSlider(value=stages, min=1, max=5, description="stages",
                                 continuous_update=False),
    )


def image_slider(frames, labels, *, title="", start=0):
    """A kernel-free slider over precomputed PNG frames: plain HTML and JavaScript.

    Parameters
    ----------
    frames : sequence of bytes
        PNG images (e.g. from :func:`sgdlab.plotting.figure_to_png`).
    labels : sequence of str
        One caption per frame, shown beside the slider.
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
