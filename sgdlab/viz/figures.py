"""The chapters' static figures, each a function that returns a matplotlib figure (and the
numbers it shows): Figure 3's final iterates (:func:`explorer_figure`), Figure 4's step
picture (:func:`plot_step_picture`, :func:`step_size_figure`) and Theorem 1 against SGD
(:func:`theorem1_figure`). The explorers of :mod:`sgdlab.viz.explorers` redraw these.

The numbers come from :mod:`sgdlab.viz.measurements`; colours from
:data:`sgdlab.viz.style.PALETTE`. Figures that an explorer redraws use fixed margins and
plain-text labels: layout engines and TeX-like labels would dominate the drawing time.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from .. import landscapes
from .measurements import (one_step_ratios, step_point, step_size_measurements,
                           theorem1_measurements)
from .style import PALETTE, plot_final_iterates, use_style

__all__ = ["explorer_figure", "plot_step_picture", "step_size_figure", "theorem1_figure"]


def _plain_log_ticks(*axes):
    """Tick labels as plain numbers (``0.01``, not ``10^{-2}``), no minor ticks."""
    for axis in axes:
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_locator(NullLocator())


# -- Figure 3: final iterates after SGD in stages (chapter motivating-example) ---------------
def explorer_figure(landscape, *, lr, noise, trials, stages, steps, seed=0, span=3.0,
                    restart="continue"):
    """Run SGD in ``stages`` stages (noise halved at each) from uniform starts in
    [-span, span] (:func:`sgdlab.viz.motivating.explorer_runs`) and draw the final iterates of
    the last stage (:func:`sgdlab.viz.style.plot_final_iterates`).

    Parameters
    ----------
    landscape : sgdlab.Landscape or str
        A 1-D landscape, or a built-in one's name.
    lr, noise : float
        Step size and the noise bound W of the first stage.
    trials, stages, steps : int
        Trials, stages, and steps per stage.
    seed : int
    span : float
    restart : {"continue", "new"}
        Later stages continue from the previous iterates, or start from new points in a
        halving region (Figure 3's row 3).

    Returns
    -------
    fig : matplotlib.figure.Figure
    result : sgdlab.ScheduleResult
    """
    from .motivating import explorer_runs

    landscape = landscapes.as_landscape(landscape)
    use_style()
    result = explorer_runs(landscape, lr=lr, noise=noise, trials=trials, steps=steps,
                           stages=stages, seed=seed, restart=restart, span=span)
    fig, ax = plt.subplots(figsize=(6, 2.6))
    xs = np.linspace(-span, span, 1201)
    last = result.stages[-1]
    plot_final_iterates(
        ax, last.x[:, 0], span=span, curve=(xs, landscape.f(xs)),
        title=(f"lr={lr:g}, noise={noise:g} (radius {lr * noise:.3g}), {stages} stage(s): "
               f"{last.share_within(1.5):.0%} within 1.5, std {np.nanstd(last.x):.3f}"),
    )
    return fig, result


# -- Figure 4 and Theorem 3 (chapter step-size) ----------------------------------------------
def _picture_box(x_star, x, ends, cloud):
    """Square-ish bounds (lo, hi) that hold the ball through x, the step ends and most of the
    cloud, with a margin; and the half-width."""
    radius = float(np.linalg.norm(x - x_star))
    shown = [x_star - radius, x_star + radius, ends]
    if cloud is not None:
        finite = cloud[np.all(np.isfinite(cloud), axis=1)]
        if len(finite):
            shown.append(np.quantile(finite, [0.01, 0.99], axis=0))
    box = np.vstack([np.atleast_2d(p) for p in shown])
    box = box[np.all(np.isfinite(box), axis=1)]
    centre = 0.5 * (box.min(axis=0) + box.max(axis=0))
    half = 0.6 * float(np.max(box.max(axis=0) - box.min(axis=0)))
    return centre - half, centre + half, half


def _level_sets(ax, land, x, lo, hi, half, levels):
    """Contours of f through :math:`x^* + s(x - x^*)` for ``levels`` values of s."""
    x_star = land.x_star
    radius = float(np.linalg.norm(x - x_star))
    xs, ys = np.linspace(lo[0], hi[0], 121), np.linspace(lo[1], hi[1], 121)
    gx, gy = np.meshgrid(xs, ys)
    values = land.f(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)
    ray = x_star + np.outer(np.geomspace(0.2, 2.0 * max(half / radius, 1.0), levels), x - x_star)
    ax.contour(gx, gy, values, levels=np.unique(land.f(ray)), colors=PALETTE["function"],
               linewidths=0.7, alpha=0.6)


def plot_step_picture(ax, landscape, x_t, lrs, *, cloud=None, levels=8):
    """Figure 4 of the paper: level sets of f, the ball around x* through x_t, and one GD step
    :math:`x_{t+1} = x_t - \\eta\\nabla f(x_t)` for each step size of ``lrs`` (green when it
    ends inside the ball, red when outside). Chapter :ref:`step-size`.

    The level sets are those through :math:`x^* + s(x_t - x^*)`; for a one-point convex f, f
    increases along every ray from x*, so these levels are increasing.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    landscape : sgdlab.Landscape or str
        A 2-D landscape with an ``x_star``.
    x_t : array_like, shape (2,)
    lrs : float or sequence of float
        Step sizes > 0.
    cloud : array_like, shape (n, 2), optional
        Points drawn as grey dots, e.g. one SGD step from x_t for many noise draws.
    levels : int
        Number of level sets.

    Returns
    -------
    matplotlib.axes.Axes
    """
    land, x = step_point(landscape, x_t)
    lrs = [float(lr) for lr in np.atleast_1d(lrs)]
    if not lrs or any(not (np.isfinite(lr) and lr > 0) for lr in lrs):
        raise ValueError(f"lrs must be finite step sizes > 0, got {lrs!r}")
    x_star, radius = land.x_star, float(np.linalg.norm(x - land.x_star))
    ends = np.array([x - lr * land.grad(x) for lr in lrs])
    if cloud is not None:
        cloud = np.asarray(cloud, dtype=np.float64).reshape(-1, 2)
    lo, hi, half = _picture_box(x_star, x, ends, cloud)
    _level_sets(ax, land, x, lo, hi, half, levels)
    ax.add_patch(plt.Circle(x_star, radius, fill=False, ls="--", color=PALETTE["reference"],
                            lw=1.0))
    if cloud is not None and len(cloud):
        ax.plot(cloud[:, 0], cloud[:, 1], ".", color=PALETTE["cloud"], ms=2, alpha=0.5,
                label="one SGD step (noise draws)")
    for lr, end in zip(lrs, ends):
        ratio = float(np.linalg.norm(end - x_star)) / radius
        color = PALETTE["good"] if ratio < 1 else PALETTE["alert"]
        ax.annotate("", xy=end, xytext=x, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.3))
        ax.plot(*end, "o", color=color, ms=5, label=f"GD, lr={lr:.3g}: distance x{ratio:.2f}")
    ax.plot(*x_star, "*", color=PALETTE["reference"], ms=10, label="x*")
    ax.plot(*x, "o", color=PALETTE["reference"], ms=4)
    ax.annotate("x_t", x, textcoords="offset points", xytext=(5, 5))
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize="small", framealpha=0.85)
    return ax


def _step_thresholds(ax, info, noise):
    """Vertical lines at the step sizes where one step stops getting closer, where they are
    positive and finite (not at a zero gradient, nor where the point is not one-point convex
    and every step moves away)."""
    eta0, eta3, eta_w = info["overshoot_lr"], info["theorem3_lr"], info["noisy_lr"]
    if 0 < eta0 < np.inf:
        ax.axvline(eta0, color=PALETTE["reference"], ls="--", lw=0.9,
                   label=f"exact threshold {eta0:.3g}")
    if 0 < eta3 < np.inf:
        ax.axvline(eta3, color=PALETTE["theorem"], ls=":", lw=1.2, label=f"Theorem 3 {eta3:.3g}")
    if noise > 0 and 0 < eta_w < np.inf:
        ax.axvline(eta_w, color=PALETTE["smoothed"], ls="-.", lw=0.9,
                   label=f"noisy break-even {eta_w:.3g}")


def _plot_one_step_ratios(ax, land, x, info, *, lr, noise, steps, trials, lr_range):
    """Right panel of :func:`step_size_figure`: squared distance after one step over before,
    against the step size."""
    dist_sq = info["dist_sq"]
    grid_lr = np.geomspace(*lr_range, 300)
    gd_curve, sgd_curve = one_step_ratios(land, x, grid_lr, noise=noise)
    ax.loglog(grid_lr, gd_curve, color=PALETTE["function"], label="GD (exact identity)")
    if noise > 0:
        ax.loglog(grid_lr, sgd_curve, color=PALETTE["smoothed"],
                  label="SGD, mean (identity + lr^2 d W^2/3)")
        ax.errorbar([lr], [info["sgd_one_step_mean"] / dist_sq],
                    yerr=[2 * info["sgd_one_step_stderr"] / dist_sq], fmt="o",
                    color=PALETTE["smoothed"], ms=4, label=f"SGD measured ({trials} draws)")
    ax.plot([lr], [info["gd_one_step"] / dist_sq], "o", color=PALETTE["function"], ms=4)
    ax.axhline(1.0, color=PALETTE["reference"], lw=0.8)
    _step_thresholds(ax, info, noise)
    ax.axvline(lr, color=PALETTE["muted"], lw=2, alpha=0.4)
    ax.set_xlabel("step size lr")
    ax.set_ylabel("squared distance to x* after one step / before")
    _plain_log_ticks(ax.xaxis, ax.yaxis)
    diverged = info["sgd_diverged"]
    ax.set_title(f"after {steps} steps: GD x{info['gd_after_steps'] / dist_sq:.3g}, SGD mean "
                 f"x{info['sgd_after_steps_mean'] / dist_sq:.3g}"
                 + (f" ({diverged} diverged)" if diverged else ""))
    ax.legend(loc="upper left", fontsize="small")


def step_size_figure(landscape, x_t, *, lr, noise=0.0, steps=20, trials=200, c_prime=None,
                     seed=0, lr_range=(1e-3, 10.0)):
    """Theorem 3 at one point x_t of a 2-D landscape, for one step size and noise bound.

    Left: :func:`plot_step_picture` with the GD step and, when ``noise > 0``, ``trials`` SGD
    steps. Right: the squared distance after one step relative to before, against the step
    size in ``lr_range``: for GD the exact identity, for SGD its mean, with the thresholds
    of :func:`sgdlab.viz.measurements.step_size_measurements` (Theorem 3's when ``c_prime``
    is given). Chapter :ref:`step-size`.

    Returns
    -------
    fig : matplotlib.figure.Figure
    info : dict
        The numbers of :func:`sgdlab.viz.measurements.step_size_measurements`.
    """
    land, x = step_point(landscape, x_t)
    low, high = (float(v) for v in lr_range)
    if not 0 < low < high:
        raise ValueError(f"lr_range must be (low, high) with 0 < low < high, got {lr_range!r}")
    info, cloud = step_size_measurements(land, x, lr=lr, noise=noise, steps=steps,
                                         trials=trials, c_prime=c_prime, seed=seed)
    use_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 4))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.92, wspace=0.25)
    plot_step_picture(left, land, x, [lr], cloud=cloud)
    where = "inside" if info["gd_one_step"] < info["dist_sq"] else "outside"
    left.set_title(f"lr={lr:.3g}, W={noise:g}: the GD step ends {where} the ball")
    _plot_one_step_ratios(right, land, x, info, lr=float(lr), noise=float(noise), steps=steps,
                          trials=trials, lr_range=(low, high))
    return fig, info


# -- Theorem 1 against SGD (chapter main-theorem) --------------------------------------------
def _plot_assumption(ax, land, check, info, *, lr, noise):
    """Left panel of :func:`theorem1_figure`: the Assumption 1 ratio over the domain, and c."""
    ratios = check.ratios
    keep = np.isfinite(ratios)
    if check.y.shape[1] == 1:
        order = np.argsort(check.y[keep, 0])
        ax.plot(check.y[keep, 0][order], ratios[keep][order], color=PALETTE["function"], lw=1.0)
        ax.set_xlabel("y = x - lr * grad f(x)")
    else:
        dist = np.linalg.norm(check.y - np.asarray(land.x_star), axis=1)
        ax.plot(dist[keep], ratios[keep], ".", color=PALETTE["function"], ms=1.5, alpha=0.4,
                rasterized=True)
        ax.set_xlabel("|y - x*|")
    ax.axhline(0.0, color=PALETTE["reference"], lw=0.8)
    ax.axhline(info["c"], color=PALETTE["alert"], ls="--", lw=1.0, label=f"c = {info['c']:.3g}")
    if keep.any():
        top = float(np.quantile(ratios[keep], 0.99))
        low = min(info["c"], 0.0)
        ax.set_ylim(low - 0.1 * (top - low + 1e-12), top + 0.1 * (top - low + 1e-12))
    ax.set_ylabel("<-grad g(y), x* - y> / |x* - y|^2")
    verdict = "holds" if info["step_size_ok"] else f"fails ({info['failing']})"
    ax.set_title(f"lr={lr:.3g}, W={noise:.3g} (radius {lr * noise:.3g}): L={info['L']:.3g}, "
                 f"lambda={info['lam']:.3g}\nstep-size condition {verdict}", y=1.0)
    ax.legend(loc="lower right", fontsize=8)


def _plot_radius(ax, dist_sq, info):
    """Right panel of :func:`theorem1_figure`: the distribution of :math:`\\|y_T-x^*\\|^2`
    against :math:`2b/\\lambda` and :math:`20b/\\lambda`."""
    finite = np.sort(dist_sq[np.isfinite(dist_sq)])
    if finite.size:
        floor = max(finite[0], 1e-12 * max(finite[-1], 1e-300), 1e-300)
        ax.step(np.maximum(finite, floor), np.arange(1, finite.size + 1) / dist_sq.size,
                where="post", color=PALETTE["function"], label="SGD, measured")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=6))
        _plain_log_ticks(ax.xaxis)
    ax.axvline(info["measured"], color=PALETTE["alert"], lw=1.2,
               label=f"{info['quantile']:.0%} quantile {info['measured']:.3g}")
    bounded = np.isfinite(info["radius_sq"])
    if bounded:
        ax.axvline(0.1 * info["radius_sq"], color=PALETTE["muted"], ls=":", lw=1.0,
                   label=f"2b/lambda = {0.1 * info['radius_sq']:.3g}")
        ax.axvline(info["radius_sq"], color=PALETTE["reference"], ls="--", lw=1.0,
                   label=f"20b/lambda = {info['radius_sq']:.3g}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("|y_T - x*|^2")
    ax.set_ylabel("share of trials")
    ax.set_title(f"{dist_sq.size} trials, T={info['steps']} steps: "
                 + (f"{info['share_within']:.1%} within 20b/lambda" if bounded
                    else "no bound (lambda <= 0)")
                 + (f" ({info['diverged']} diverged)" if info["diverged"] else ""), y=1.0)
    ax.legend(loc="upper left", fontsize=7)


def theorem1_figure(landscape, domain, *, lr, noise, trials=1000, x0=None, steps=None,
                    max_steps=2000, quantile=0.9, seed=0):
    """Draw :func:`sgdlab.viz.measurements.theorem1_measurements` (same arguments): left,
    the Assumption 1 ratio :math:`\\langle -\\nabla g(y), x^*-y\\rangle / \\|x^*-y\\|^2` over
    the domain with c; right, the distribution of :math:`\\|y_T - x^*\\|^2` over the trials
    against :math:`2b/\\lambda` and Theorem 1's :math:`20b/\\lambda`. Chapter
    :ref:`main-theorem`.

    Returns
    -------
    fig : matplotlib.figure.Figure
    info : dict
        The numbers of :func:`sgdlab.viz.measurements.theorem1_measurements`.
    """
    land = landscapes.as_landscape(landscape)
    theorem, dist_sq, info = theorem1_measurements(
        land, domain, lr=lr, noise=noise, trials=trials, x0=x0, steps=steps,
        max_steps=max_steps, quantile=quantile, seed=seed)
    use_style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    fig.subplots_adjust(left=0.085, right=0.98, bottom=0.15, top=0.84, wspace=0.25)
    # plain-text labels and titles at a given y: mathtext parsing and matplotlib's automatic
    # title placement would each cost a tenth of a second per redraw
    _plot_assumption(left, land, theorem.assumption, info, lr=lr, noise=noise)
    _plot_radius(right, dist_sq, info)
    return fig, info
