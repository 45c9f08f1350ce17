"""Jupyter explorers: a live ipywidgets explorer (needs a kernel) and a kernel-free slider
over precomputed frames, which keeps working in the static HTML book."""

import base64
import html
import itertools

import numpy as np

from .. import landscapes
from .style import plot_final_iterates, use_style
from ..sgd import run_schedule

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
    from IPython.display import display

    landscape = landscapes.spiky() if landscape is None else landscape
    if landscape.dim != 1:
        raise ValueError(f"landscape must be 1-dimensional for this explorer, got dim={landscape.dim}")

    def update(noise, lr, trials, stages):
        fig, _ = explorer_figure(landscape, lr=lr, noise=noise, trials=trials, stages=stages,
                                 steps=steps)
        display(fig)  # works with any matplotlib backend, unlike plt.show(fig)
        plt.close(fig)

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
        PNG images (e.g. from :func:`sgdlab.viz.style.figure_to_png`).
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


# -- Theorem 3: the step-size explorer (chapter step-size) ----------------------------------
def _step_size_point(landscape, x_t):
    """Validated (landscape, x_t) for the Figure-4 pictures: a 2-D landscape with an x*."""
    from ..sgd import _as_landscape

    land = _as_landscape(landscape)
    if land.dim != 2:
        raise ValueError(f"landscape must be 2-dimensional for this picture, got dim={land.dim}")
    if land.x_star is None:
        raise ValueError(f"landscape {land.name!r} has no x_star; the ball around x* needs one")
    try:
        x = np.array(x_t, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"x_t must be a point (2 numbers), got {x_t!r}") from None
    if x.shape != (2,) or not np.all(np.isfinite(x)):
        raise ValueError(f"x_t must be 2 finite numbers, got {x_t!r}")
    if np.array_equal(x, land.x_star):
        raise ValueError(f"x_t must differ from x* = {land.x_star.tolist()}: the ball through "
                         "x_t has radius 0 there")
    return land, x


def plot_step_picture(ax, landscape, x_t, lrs, *, cloud=None, levels=8):
    """Figure 4 of the paper: level sets of f, the ball around x* through x_t, and one GD step
    :math:`x_{t+1} = x_t - \\eta\\nabla f(x_t)` for each step size of ``lrs`` (green when it
    ends inside the ball, red when outside). ``cloud`` (points, shape (n, 2)), e.g. one SGD step
    from x_t for many noise draws, is drawn as grey dots. Chapter :ref:`step-size`.

    The level sets are those through :math:`x^* + s(x_t - x^*)`; for a one-point convex f, f
    increases along every ray from x*, so these levels are increasing."""
    import matplotlib.pyplot as plt

    land, x = _step_size_point(landscape, x_t)
    lrs = [float(lr) for lr in np.atleast_1d(lrs)]
    if not lrs or any(not (np.isfinite(lr) and lr > 0) for lr in lrs):
        raise ValueError(f"lrs must be finite step sizes > 0, got {lrs!r}")
    x_star = land.x_star
    g = land.grad(x)
    radius = float(np.linalg.norm(x - x_star))
    ends = np.array([x - lr * g for lr in lrs])
    shown = [x_star - radius, x_star + radius, ends]
    if cloud is not None:
        cloud = np.asarray(cloud, dtype=np.float64).reshape(-1, 2)
        finite = cloud[np.all(np.isfinite(cloud), axis=1)]
        if len(finite):
            shown.append(np.quantile(finite, [0.01, 0.99], axis=0))
    box = np.vstack([np.atleast_2d(p) for p in shown])
    box = box[np.all(np.isfinite(box), axis=1)]
    centre = 0.5 * (box.min(axis=0) + box.max(axis=0))
    half = 0.6 * float(np.max(box.max(axis=0) - box.min(axis=0)))
    lo, hi = centre - half, centre + half
    xs, ys = np.linspace(lo[0], hi[0], 121), np.linspace(lo[1], hi[1], 121)
    gx, gy = np.meshgrid(xs, ys)
    values = land.f(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)
    ray = x_star + np.outer(np.geomspace(0.2, 2.0 * max(half / radius, 1.0), levels), x - x_star)
    lv = np.unique(land.f(ray))
    ax.contour(gx, gy, values, levels=lv, colors="#1f4e79", linewidths=0.7, alpha=0.6)
    ax.add_patch(plt.Circle(x_star, radius, fill=False, ls="--", color="k", lw=1.0))
    if cloud is not None and len(cloud):
        ax.plot(cloud[:, 0], cloud[:, 1], ".", color="0.45", ms=2, alpha=0.5,
                label="one SGD step (noise draws)")
    for lr, end in zip(lrs, ends):
        ratio = float(np.linalg.norm(end - x_star)) / radius
        color = "#1e8449" if ratio < 1 else "#c0392b"
        ax.annotate("", xy=end, xytext=x, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.3))
        ax.plot(*end, "o", color=color, ms=5,
                label=f"GD, lr={lr:.3g}: distance x{ratio:.2f}")
    ax.plot(*x_star, "*", color="k", ms=10, label="x*")
    ax.plot(*x, "o", color="k", ms=4)
    ax.annotate("x_t", x, textcoords="offset points", xytext=(5, 5))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=7, framealpha=0.85)
    return ax


def step_size_figure(landscape, x_t, *, lr, noise=0.0, steps=20, trials=200, c_prime=None,
                     seed=0, lr_range=(1e-3, 10.0)):
    """Theorem 3 at one point x_t of a 2-D landscape, for one step size and noise bound.

    Left: :func:`plot_step_picture` with the GD step and, when ``noise > 0``, ``trials`` SGD
    steps. Right: the squared distance after one step relative to before, against the step size:
    for GD the exact identity

    .. math:: \\|x_{t+1}-x^*\\|^2 - \\|x_t-x^*\\|^2 = \\eta(\\eta\\|\\nabla f\\|^2
              - 2\\langle\\nabla f, x_t-x^*\\rangle),

    and for SGD its mean, which adds :math:`\\eta^2 E\\|w\\|^2 = \\eta^2 d W^2/3`; with the
    exact threshold (``overshoot_lr``), Theorem 3's (when ``c_prime`` is given) and the noisy
    break-even :math:`2\\langle\\nabla f, x_t-x^*\\rangle/(\\|\\nabla f\\|^2 + dW^2/3)`.
    Chapter :ref:`step-size`.

    Returns (figure, info): info holds plain floats: ``dist_sq`` (before), ``gd_one_step``,
    ``sgd_one_step_mean`` and ``sgd_one_step_stderr`` (measured over ``trials`` draws),
    ``sgd_one_step_predicted``, ``overshoot_lr``, ``theorem3_lr`` (nan without ``c_prime``),
    ``noisy_lr``, ``gd_after_steps``, ``sgd_after_steps_mean`` (squared distances after
    ``steps`` steps; inf when diverged) and ``sgd_diverged`` (count).
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullLocator

    from .. import theory
    from ..sgd import _check_int, _check_real, run_sgd

    land, x = _step_size_point(landscape, x_t)
    lr = _check_real(lr, "lr", positive=True)
    noise = _check_real(noise, "noise")
    steps = _check_int(steps, "steps")
    trials = _check_int(trials, "trials")
    if steps < 1 or trials < 2:
        raise ValueError(f"steps must be >= 1 and trials >= 2, got steps={steps}, trials={trials}")
    low, high = (float(v) for v in lr_range)
    if not 0 < low < high:
        raise ValueError(f"lr_range must be (low, high) with 0 < low < high, got {lr_range!r}")
    use_style()
    point = x[None, :]
    e = x - land.x_star
    g = land.grad(x)
    dist_sq, g_sq, inner = float(e @ e), float(g @ g), float(g @ e)
    noise_sq = land.dim * noise**2 / 3.0  # E||w||^2 for w uniform in [-W, W]^d
    eta0 = float(theory.overshoot_lr(land, point)[0])
    eta3 = (float(theory.theorem3_threshold(land, point, c_prime)[0]) if c_prime is not None
            else float("nan"))
    eta_w = 2.0 * inner / (g_sq + noise_sq) if g_sq + noise_sq > 0 else float("inf")
    gd_one = dist_sq + float(theory.gd_distance_change(land, point, lr)[0])
    predicted = gd_one + lr**2 * noise_sq
    cloud = None
    if noise > 0:
        one = run_sgd(land, np.repeat(point, trials, axis=0), lr=lr, noise=noise, steps=1,
                      seed=seed)
        cloud = one.x
        d1 = one.distance() ** 2
        sgd_one, sgd_err = float(d1.mean()), float(d1.std(ddof=1) / np.sqrt(trials))
    else:
        sgd_one, sgd_err = gd_one, 0.0
    gd_run = run_sgd(land, point, lr=lr, noise=0.0, steps=steps)
    gd_t = float(gd_run.distance()[0] ** 2)
    if noise > 0:
        run = run_sgd(land, np.repeat(point, trials, axis=0), lr=lr, noise=noise, steps=steps,
                      seed=seed + 1)
        sgd_t, diverged = float(np.mean(run.distance() ** 2)), int(run.diverged.sum())
    else:
        sgd_t, diverged = gd_t, int(gd_run.diverged.sum())

    # Fixed margins and no mathtext: a redraw stays well under a second (layout engines and
    # TeX-like labels dominate the drawing time otherwise).
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.3))
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.12, top=0.92, wspace=0.22)
    plot_step_picture(left, land, x, [lr], cloud=cloud)
    where = "inside" if gd_one < dist_sq else "outside"
    left.set_title(f"lr={lr:.3g}, W={noise:g}: the GD step ends {where} the ball")
    grid_lr = np.geomspace(low, high, 300)
    gd_curve = 1.0 + grid_lr * (grid_lr * g_sq - 2.0 * inner) / dist_sq
    right.loglog(grid_lr, gd_curve, color="#1f4e79", label="GD (exact identity)")
    if noise > 0:
        right.loglog(grid_lr, gd_curve + grid_lr**2 * noise_sq / dist_sq, color="#e67e22",
                     label="SGD, mean (identity + lr^2 d W^2/3)")
        right.errorbar([lr], [sgd_one / dist_sq], yerr=[2 * sgd_err / dist_sq], fmt="o",
                       color="#e67e22", ms=4, label=f"SGD measured ({trials} draws)")
    right.plot([lr], [gd_one / dist_sq], "o", color="#1f4e79", ms=4)
    right.axhline(1.0, color="k", lw=0.8)
    # thresholds are drawn where they are positive and finite (not at a zero gradient, nor
    # where the point is not one-point convex and every step moves away)
    if 0 < eta0 < np.inf:
        right.axvline(eta0, color="k", ls="--", lw=0.9, label=f"exact threshold {eta0:.3g}")
    if 0 < eta3 < np.inf:
        right.axvline(eta3, color="#8e44ad", ls=":", lw=1.2, label=f"Theorem 3 {eta3:.3g}")
    if noise > 0 and 0 < eta_w < np.inf:
        right.axvline(eta_w, color="#e67e22", ls="-.", lw=0.9, label=f"noisy break-even {eta_w:.3g}")
    right.axvline(lr, color="0.5", lw=2, alpha=0.4)
    right.set_xlabel("step size lr")
    right.set_ylabel("squared distance to x* after one step / before")
    for axis in (right.xaxis, right.yaxis):
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_locator(NullLocator())
    right.set_title(f"after {steps} steps: GD x{gd_t / dist_sq:.3g}, SGD mean x{sgd_t / dist_sq:.3g}"
                    + (f" ({diverged} diverged)" if diverged else ""))
    right.legend(fontsize=7, loc="upper left")
    info = {"dist_sq": dist_sq, "gd_one_step": gd_one, "sgd_one_step_mean": sgd_one,
            "sgd_one_step_stderr": sgd_err, "sgd_one_step_predicted": float(predicted),
            "overshoot_lr": eta0, "theorem3_lr": eta3, "noisy_lr": float(eta_w),
            "gd_after_steps": gd_t, "sgd_after_steps_mean": sgd_t, "sgd_diverged": diverged}
    return fig, info


def step_size_explorer(landscape, x_t, *, lr=0.1, noise=0.0, steps=20, trials=200,
                       c_prime=None, lr_range=(1e-3, 10.0), noise_max=None, seed=0):
    """Sliders for the step size, the noise bound W and the number of steps that redraw
    :func:`step_size_figure` live (Theorem 3, Figure 4).

    Returns an ``ipywidgets.VBox`` (the sliders above an ``Image``); each change redraws the
    figure straight into the image, without the notebook's figure machinery, so a refresh costs
    one run and one PNG. ``box.info`` is the latest ``info`` dict of
    :func:`step_size_figure`, ``box.controls`` the three sliders. ``noise_max`` defaults to twice
    the gradient's largest coordinate at x_t (at least 1)."""
    import io

    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    land, x = _step_size_point(landscape, x_t)
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
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        image.value = buffer.getvalue()
        box.info = info

    for control in controls.values():
        control.observe(update, names="value")
    update()
    return box


__all__ += ["plot_step_picture", "step_size_figure", "step_size_explorer"]


# -- Theorem 1: the constants against a measured SGD run (chapter main-theorem) --------------
def theorem1_measurements(landscape, domain, *, lr, noise, trials=1000, x0=None, steps=None,
                          max_steps=2000, quantile=0.9, seed=0):
    """Theorem 1's constants measured on ``domain`` for one (lr, noise), next to SGD itself.

    L, c and the rest come from :func:`sgdlab.theory.measure` (exact smoothing for separable
    landscapes). Then ``trials`` SGD runs start from ``x0`` (default: rows of ``domain`` drawn
    at random) and run ``steps`` steps; by default Theorem 1's
    :math:`T_1 = \\log(\\lambda\\max\\|y_0-x^*\\|^2/b)/\\lambda`, rounded up, or ``max_steps``
    when :math:`T_1` is undefined (:math:`\\lambda \\le 0`) or larger. Chapter
    :ref:`main-theorem`.

    Returns (theorem, dist_sq, info): the :class:`sgdlab.theory.Theorem1`, the final
    :math:`\\|y_T-x^*\\|^2` per trial (inf when diverged) and a dict of plain Python numbers:
    ``L``, ``c``, ``violations``, ``r``, ``lam``, ``b``, ``radius_sq`` (:math:`20b/\\lambda`,
    inf when :math:`\\lambda \\le 0`), ``T1`` (nan when undefined), ``dist0_sq`` (the largest
    :math:`\\|y_0-x^*\\|^2`), ``steps``, ``step_size_ok``, ``failing`` (the step-size bounds
    that fail, comma-separated), ``quantile``, ``measured`` (that quantile of
    :math:`\\|y_T-x^*\\|^2`), ``share_within`` (share of trials with
    :math:`\\|y_T-x^*\\|^2 \\le 20b/\\lambda`) and ``diverged``.
    """
    import math

    from .. import theory
    from ..sgd import _as_landscape, _as_start, _check_int, _check_real, run_sgd

    land = _as_landscape(landscape)
    lr = _check_real(lr, "lr", positive=True)
    noise = _check_real(noise, "noise")
    trials = _check_int(trials, "trials")
    max_steps = _check_int(max_steps, "max_steps")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
    theorem = theory.measure(land, domain, lr=lr, noise=noise)
    if x0 is None:
        if trials < 1:
            raise ValueError(f"trials must be >= 1, got {trials}")
        points = theorem.assumption.x
        x0 = points[np.random.default_rng(seed).integers(points.shape[0], size=trials)]
    x = _as_start(x0, land.dim)
    y0 = x - lr * land.grad(x) - land.x_star
    dist0_sq = float(np.einsum("ij,ij->i", y0, y0).max())
    T1 = theory.theorem1(lr=lr, L=theorem.L, c=theorem.c, r=theorem.r, dist0_sq=dist0_sq).T1
    if steps is None:
        steps = max_steps if not math.isfinite(T1) else min(max(math.ceil(T1), 1), max_steps)
    steps = _check_int(steps, "steps")
    run = run_sgd(land, x, lr=lr, noise=noise, steps=steps, seed=seed)
    with np.errstate(invalid="ignore", over="ignore"):
        e = run.y - land.x_star
        dist_sq = np.einsum("ij,ij->i", e, e)
    dist_sq = np.where(run.diverged | ~np.isfinite(dist_sq), np.inf, dist_sq)
    radius_sq = theorem.radius_sq if theorem.lam > 0 else math.inf
    info = {"L": float(theorem.L), "c": float(theorem.c),
            "violations": int(theorem.assumption.violations), "r": float(theorem.r),
            "lam": float(theorem.lam), "b": float(theorem.b), "radius_sq": float(radius_sq),
            "T1": float(T1), "dist0_sq": dist0_sq, "steps": int(steps),
            "step_size_ok": bool(theorem.step_size_ok),
            "failing": ", ".join(theorem.failing) if theorem.c > 0 else "c <= 0",
            "quantile": float(quantile), "measured": float(np.quantile(dist_sq, quantile)),
            "share_within": (float(np.mean(dist_sq <= radius_sq)) if math.isfinite(radius_sq)
                             else math.nan),
            "diverged": int(run.diverged.sum())}
    return theorem, dist_sq, info


def theorem1_figure(landscape, domain, *, lr, noise, trials=1000, x0=None, steps=None,
                    max_steps=2000, quantile=0.9, seed=0):
    """Draw :func:`theorem1_measurements`: left, the Assumption 1 ratio
    :math:`\\langle -\\nabla g(y), x^*-y\\rangle / \\|x^*-y\\|^2` over the domain with c; right,
    the distribution of :math:`\\|y_T - x^*\\|^2` over the trials against :math:`2b/\\lambda`
    and Theorem 1's :math:`20b/\\lambda`. Returns (figure, info). Chapter :ref:`main-theorem`."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    from ..sgd import _as_landscape

    landscape = _as_landscape(landscape)
    theorem, dist_sq, info = theorem1_measurements(
        landscape, domain, lr=lr, noise=noise, trials=trials, x0=x0, steps=steps,
        max_steps=max_steps, quantile=quantile, seed=seed)
    use_style()
    check = theorem.assumption
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    fig.subplots_adjust(left=0.085, right=0.98, bottom=0.15, top=0.84, wspace=0.25)
    ratios = check.ratios
    keep = np.isfinite(ratios)
    if check.y.shape[1] == 1:
        order = np.argsort(check.y[keep, 0])
        left.plot(check.y[keep, 0][order], ratios[keep][order], color="#1f4e79", lw=1.0)
        left.set_xlabel("y = x - lr * grad f(x)")
    else:
        dist = np.linalg.norm(check.y - np.asarray(landscape.x_star), axis=1)
        left.plot(dist[keep], ratios[keep], ".", color="#1f4e79", ms=1.5, alpha=0.4,
                  rasterized=True)
        left.set_xlabel("|y - x*|")
    left.axhline(0.0, color="k", lw=0.8)
    left.axhline(info["c"], color="#c0392b", ls="--", lw=1.0, label=f"c = {info['c']:.3g}")
    if keep.any():
        top = float(np.quantile(ratios[keep], 0.99))
        low = min(info["c"], 0.0)
        left.set_ylim(low - 0.1 * (top - low + 1e-12), top + 0.1 * (top - low + 1e-12))
    # plain-text labels: mathtext parsing would cost a tenth of a second per redraw
    left.set_ylabel("<-grad g(y), x* - y> / |x* - y|^2")
    verdict = "holds" if info["step_size_ok"] else f"fails ({info['failing']})"
    left.set_title(f"lr={lr:.3g}, W={noise:.3g} (radius {lr * noise:.3g}): L={info['L']:.3g}, "
                   f"lambda={info['lam']:.3g}\nstep-size condition {verdict}", y=1.0)
    left.legend(loc="lower right", fontsize=8)
    finite = np.sort(dist_sq[np.isfinite(dist_sq)])
    if finite.size:
        floor = max(finite[0], 1e-12 * max(finite[-1], 1e-300), 1e-300)
        right.step(np.maximum(finite, floor), np.arange(1, finite.size + 1) / dist_sq.size,
                   where="post", color="#1f4e79", label="SGD, measured")
        right.set_xscale("log")
        right.xaxis.set_major_locator(LogLocator(base=10, numticks=6))
        right.xaxis.set_minor_locator(NullLocator())
        right.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    right.axvline(info["measured"], color="#c0392b", lw=1.2,
                  label=f"{info['quantile']:.0%} quantile {info['measured']:.3g}")
    if np.isfinite(info["radius_sq"]):
        right.axvline(0.1 * info["radius_sq"], color="0.5", ls=":", lw=1.0,
                      label=f"2b/lambda = {0.1 * info['radius_sq']:.3g}")
        right.axvline(info["radius_sq"], color="k", ls="--", lw=1.0,
                      label=f"20b/lambda = {info['radius_sq']:.3g}")
    right.set_ylim(0, 1.02)
    right.set_xlabel("|y_T - x*|^2")
    right.set_ylabel("share of trials")
    right.set_title(f"{dist_sq.size} trials, T={info['steps']} steps: "
                    + (f"{info['share_within']:.1%} within 20b/lambda"
                       if np.isfinite(info["radius_sq"]) else "no bound (lambda <= 0)")
                    + (f" ({info['diverged']} diverged)" if info["diverged"] else ""), y=1.0)
    # (a given y skips matplotlib's automatic title placement, a tenth of a second per draw)
    right.legend(loc="upper left", fontsize=7)
    return fig, info


def theorem1_explorer(landscape, domain, *, lr, noise, trials=1000, x0=None, max_steps=2000,
                      quantile=0.9, noise_max=None, seed=0):
    """Sliders for the step size and the noise bound W (so r) that redraw
    :func:`theorem1_figure` live: c, lambda, b, the bound :math:`20b/\\lambda` and SGD's
    measured radius after :math:`T_1` steps. Returns the ``ipywidgets.interactive`` widget;
    its ``result`` is the latest ``info`` dict. ``noise_max`` defaults to 4 W (at least 1).
    Chapter :ref:`main-theorem`."""
    import io

    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    from ..sgd import _check_real

    lr = _check_real(lr, "lr", positive=True)
    noise = _check_real(noise, "noise")
    noise_max = max(4.0 * noise, 1.0) if noise_max is None else _check_real(noise_max, "noise_max")
    noise_max = max(noise_max, noise)

    def update(lr, noise):
        fig, info = theorem1_figure(landscape, domain, lr=lr, noise=noise, trials=trials, x0=x0,
                                    max_steps=max_steps, quantile=quantile, seed=seed)
        buffer = io.BytesIO()  # one draw, no tight bounding box: fast enough to drag a slider
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        display(Image(data=buffer.getvalue(), format="png"))
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


def theorem1_slider(landscape, domain, *, lr, noises, trials=1000, x0=None, max_steps=2000,
                    quantile=0.9, seed=0, start=0, title=None):
    """The kernel-free version of :func:`theorem1_explorer`: an :func:`image_slider` over
    :func:`theorem1_figure` at step size ``lr`` and each noise bound of ``noises``, computed
    now. Each frame is drawn once (fixed margins, no tight bounding box). Chapter
    :ref:`main-theorem`."""
    import io

    import matplotlib.pyplot as plt

    noises = [float(noise) for noise in noises]
    if not noises:
        raise ValueError("noises must hold at least one noise bound, got none")
    frames, labels = [], []
    for noise in noises:
        fig, info = theorem1_figure(landscape, domain, lr=lr, noise=noise, trials=trials, x0=x0,
                                    max_steps=max_steps, quantile=quantile, seed=seed)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
        frames.append(buffer.getvalue())
        verdict = "holds" if info["step_size_ok"] else "fails"
        labels.append(f"W = {noise:g}: c = {info['c']:.3f}, step-size condition {verdict}")
    if title is None:
        title = f"Theorem 1's bound against SGD, step size {lr:g}"
    return image_slider(frames, labels, title=title, start=start)


__all__ += ["theorem1_measurements", "theorem1_figure", "theorem1_explorer", "theorem1_slider"]
