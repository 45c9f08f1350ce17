"""The paper's Figures 1 and 2 from runs: one SGD step x_t -> y_t -> x_{t+1}, and how often
it leaves a sharp basin.

Section 1 splits a step of SGD in two: the full gradient step
:math:`y_t = x_t - \\eta\\nabla f(x_t)`, then the noise, :math:`x_{t+1} = y_t - \\eta w_t`.
When :math:`-\\nabla f(x_t)` points into a narrow basin around a bad minimum :math:`x_\\circ`,
the noise can carry :math:`x_{t+1}` out of it: "getting out of the basin means the negative
gradient at :math:`x_{t+1}` no longer points to :math:`x_\\circ`". :func:`one_step` measures
that with :func:`sgdlab.run_sgd`; :func:`plot_one_step` draws it in 1-D (Figure 1) or 2-D
(Figure 2, which the paper draws in 3-D).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate as validate
from ..landscapes import as_landscape
from ..sgd import run_sgd

__all__ = ["OneStep", "one_step", "plot_one_step"]


@dataclass
class OneStep:
    """Outcome of :func:`one_step`."""

    x_t: np.ndarray
    """The start, shape (dim,)."""
    y_t: np.ndarray
    """:math:`y_t = x_t - \\eta\\nabla f(x_t)`, shape (dim,)."""
    x_next: np.ndarray
    """:math:`x_{t+1} = y_t - \\eta w_t`, one per trial, shape (trials, dim)."""
    x_min: np.ndarray
    """The minimum :math:`x_\\circ` of the basin of :math:`x_t` (where GD from it stops: see
    :func:`one_step`)."""
    escaped: np.ndarray
    """One bool per trial, true where :math:`\\langle -\\nabla f(x_{t+1}), x_\\circ - x_{t+1}\\rangle \\le 0`."""
    lr: float
    noise: float

    @property
    def share_escaped(self):
        """Share of trials whose one noisy step left the basin."""
        return float(self.escaped.mean())


_GD_TOL, _GD_CHUNK, _GD_CAP = 1e-9, 1_000, 1_000_000


def _basin_minimum(land, start, fine):
    """Steepest descent with the small step ``fine`` from ``start`` (1, dim) until the
    gradient's norm is at most ``_GD_TOL`` (the basin's own minimum), at most ``_GD_CAP``
    steps."""
    x = start
    for _ in range(_GD_CAP // _GD_CHUNK + 1):
        if np.linalg.norm(land.grad(x)) <= _GD_TOL:
            return x[0].copy()
        x = run_sgd(land, x, lr=fine, noise=0.0, steps=_GD_CHUNK).x
    validate.fail("lr", f"large enough that GD with step lr/20 = {fine:g} reaches the basin's "
                  f"minimum (gradient norm <= {_GD_TOL:g}) within {_GD_CAP:,} steps",
                  shown=f"{20.0 * fine:g}")


def one_step(landscape, x_t, *, lr, noise, trials=200, seed=0):
    """One SGD step from ``x_t`` in ``trials`` independent trials (Figures 1 and 2).

    .. math:: y_t = x_t - \\eta\\nabla f(x_t), \\qquad x_{t+1} = y_t - \\eta w_t,
              \\qquad w_t \\sim U[-W, W]^d

    The basin's minimum :math:`x_\\circ` is where GD with a step :math:`\\eta/20` from ``x_t``
    stops: the first iterate (checked every 1,000 steps) whose gradient has norm at most
    1e-9. A ``ValueError`` is raised when it has not stopped within 1,000,000 steps (a step
    too small for the basin). A trial escapes when the negative gradient at :math:`x_{t+1}`
    no longer points to it.

    Returns
    -------
    OneStep
    """
    land = as_landscape(landscape)
    lr = validate.real("lr", lr, above=0)
    noise = validate.real("noise", noise, low=0)
    trials = validate.integer("trials", trials, low=1)
    seed = validate.seed("seed", seed)
    try:
        start = np.asarray(x_t, dtype=np.float64).reshape(1, -1)
    except (TypeError, ValueError):
        validate.fail("x_t", "a point (an array of numbers)", error=TypeError,
                      shown=type(x_t).__name__)
    start = validate.points("x_t", start, land.dim)
    x_min = _basin_minimum(land, start, lr / 20.0)
    y_t = start[0] - lr * land.grad(start)[0]
    step = run_sgd(land, np.repeat(start, trials, axis=0), lr=lr, noise=noise, steps=1,
                   seed=seed)
    inward = np.sum(-land.grad(step.x) * (x_min - step.x), axis=1)
    return OneStep(x_t=start[0], y_t=y_t, x_next=step.x, x_min=x_min, escaped=inward <= 0,
                   lr=lr, noise=noise)


def _plot_1d(ax, land, step, half):
    from .style import PALETTE

    centre = step.x_min[0]
    xs = np.linspace(centre - half, centre + half, 1201)
    ax.plot(xs, land.f(xs), color=PALETTE["function"], label="f")
    x1 = step.x_next[:, 0]
    for mask, colour, label in ((step.escaped, PALETTE["good"], "left the basin"),
                                (~step.escaped, PALETTE["alert"], "still in it")):
        ax.plot(x1[mask], land.f(x1[mask]), "o", ms=3, alpha=0.6, color=colour,
                label=f"$x_{{t+1}}$: {label}")
    for point, name in ((step.x_t, "x_t"), (step.y_t, "y_t"), (step.x_min, "x_\\circ")):
        ax.plot(point[0], land.f(point[0]), "s", color=PALETTE["reference"], ms=5)
        ax.annotate(f"${name}$", (point[0], land.f(point[0])), textcoords="offset points",
                    xytext=(0, 8), ha="center")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")


def _plot_2d(ax, land, step, half):
    from .style import PALETTE

    c = step.x_min
    g = np.linspace(-half, half, 241)
    gx, gy = np.meshgrid(c[0] + g, c[1] + g)
    values = land.f(np.stack([gx, gy], axis=-1))
    ax.contour(gx, gy, values, levels=14, colors=PALETTE["muted"], linewidths=0.6)
    for mask, colour, label in ((step.escaped, PALETTE["good"], "left the basin"),
                                (~step.escaped, PALETTE["alert"], "still in it")):
        ax.plot(step.x_next[mask, 0], step.x_next[mask, 1], "o", ms=3, alpha=0.6,
                color=colour, label=f"$x_{{t+1}}$: {label}")
    ax.annotate("", step.y_t, step.x_t, arrowprops={"arrowstyle": "->"})
    for point, name in ((step.x_t, "x_t"), (step.y_t, "y_t"), (step.x_min, "x_\\circ")):
        ax.plot(*point, "s", color=PALETTE["reference"], ms=5)
        ax.annotate(f"${name}$", point, textcoords="offset points", xytext=(4, 4))
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def plot_one_step(ax, landscape, step, *, half=None):
    """Draw a :class:`OneStep` on ``ax``: f (1-D) or its level sets (2-D) around
    :math:`x_\\circ` (half-width ``half``, default 1.5 times the farthest point), the points
    :math:`x_t`, :math:`y_t`, :math:`x_\\circ`, and the cloud of :math:`x_{t+1}`, green
    where the step left the basin and red where it did not. Returns ``ax``."""
    land = as_landscape(landscape)
    if not isinstance(step, OneStep):
        validate.fail("step", "a OneStep", error=TypeError, shown=type(step).__name__)
    if half is None:
        half = 1.5 * float(np.max(np.abs(np.vstack([step.x_next, step.x_t]) - step.x_min)))
    half = validate.real("half", half, above=0)
    (_plot_1d if land.dim == 1 else _plot_2d)(ax, land, step, half)
    ax.legend(loc="upper center", fontsize=7)
    return ax
