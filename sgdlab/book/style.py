"""The book's one figure style, shared by every chapter: matplotlib settings, the colour
palette, PNG rendering, and the plots several chapters draw (final iterates, curves, Section
5's runs, bands and log axes).

Every colour a figure of :mod:`sgdlab.book` uses is named in :data:`PALETTE`; every PNG is
rendered by :func:`figure_to_png`.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, NullLocator

from .. import _validate as validate

__all__ = ["STYLE", "PALETTE", "use_style", "plot_curve", "plot_final_iterates", "figure_to_png",
           "RUN_COLORS", "run_colors", "log_or_symlog", "plot_band"]


STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "lines.linewidth": 1.2,
}
"""matplotlib ``rcParams`` of every figure (applied by :func:`use_style`)."""


PALETTE = {
    "function": "#1f4e79",  # f and GD: landscapes, level sets, exact curves, measured runs
    "smoothed": "#e67e22",  # the smoothed f and SGD's noise: means, break-even step sizes
    "alert": "#c0392b",     # final iterates, a step that ends farther, c, a measured quantile
    "good": "#1e8449",      # a step that ends closer to x*
    "theorem": "#8e44ad",   # a theorem's threshold
    "bar": "#5d8fc9",       # histogram bars
    "reference": "k",       # x*, the ball around it, exact thresholds, zero lines
    "muted": "0.5",         # secondary reference lines and markers
    "cloud": "0.45",        # clouds of noisy points
    "contrast": "w",        # a line drawn over a dark colour map
}
"""The book's colours by role (matplotlib colour strings)."""


def use_style():
    """Apply the book's style (:data:`STYLE`) to matplotlib's ``rcParams`` (idempotent).

    Returns
    -------
    None
    """
    plt.rcParams.update(STYLE)


def plot_curve(ax, xs, values, *, title=None, color=PALETTE["function"]):
    """A landscape (or its convolution) sampled at ``xs``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    xs, values : array_like
        The points (increasing) and the values there.
    title : str, optional
    color : str
        A matplotlib colour (default ``PALETTE["function"]``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax.plot(xs, values, color=color)
    ax.set_xlim(xs[0], xs[-1])
    if title:
        ax.set_title(title)
    return ax


def plot_final_iterates(ax, x_final, *, span=3.0, bins=60, title=None, curve=None):
    """Figure 3, row 2 style: final iterates as red dots on the x axis, with blue bars of
    the cumulative count of trials (from the left) and, optionally, the landscape.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x_final : array_like
        One number per trial (1-D landscapes); non-finite values (diverged trials) are left
        out of the dots and counted in the title.
    span : float
        The x axis runs from ``-span`` to ``span``.
    bins : int
        Bars of the cumulative count.
    title : str, optional
    curve : (array_like, array_like), optional
        ``(xs, f(xs))``, drawn scaled to the height of the bars.

    Returns
    -------
    matplotlib.axes.Axes
    """
    x_final = np.asarray(x_final, dtype=float).ravel()
    finite = x_final[np.isfinite(x_final)]
    edges = np.linspace(-span, span, bins + 1)
    # clipped, a point beyond -span falls in the first bar (counted once)
    counts, _ = np.histogram(np.clip(finite, -span, span), bins=edges)
    cumulative = np.cumsum(counts)
    ax.bar(edges[:-1], cumulative, width=edges[1] - edges[0], align="edge",
           color=PALETTE["bar"], alpha=0.55, label="cumulative count")
    top = max(len(x_final), 1)
    if curve is not None:
        xs, values = curve
        scaled = (values - np.min(values)) / max(np.ptp(values), 1e-300) * top
        ax.plot(xs, scaled, color=PALETTE["function"], lw=0.8, alpha=0.8)
    ax.plot(np.clip(finite, -span, span), np.zeros_like(finite), "o", color=PALETTE["alert"],
            ms=3, alpha=0.7, clip_on=False, label="final iterates")
    ax.set_xlim(-span, span)
    ax.set_ylim(0, top * 1.05)
    lost = len(x_final) - len(finite)
    if title:
        ax.set_title(title + (f" ({lost} diverged)" if lost else ""))
    return ax


def figure_to_png(fig, *, tight=True, dpi=None):
    """PNG bytes of a figure; closes it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    tight : bool
        Crop to the drawn content (``bbox_inches="tight"``, which draws the figure twice);
        False keeps the figure's own margins, faster for an explorer's redraw.
    dpi : float, optional
        Default ``STYLE["savefig.dpi"]`` (via matplotlib's ``savefig.dpi``).

    Returns
    -------
    bytes
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    plt.close(fig)
    return buffer.getvalue()


def plain_log_ticks(*axes):
    """Tick labels as plain numbers (``0.01``, not ``10^{-2}``), no minor ticks."""
    for axis in axes:
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_locator(NullLocator())


RUN_COLORS = ("function", "alert", "smoothed", "good", "theorem", "bar")
"""The roles of :data:`sgdlab.book.style.PALETTE` that colour the runs of a figure, in order."""


def run_colors(labels):
    """A colour of :data:`sgdlab.book.style.PALETTE` for each run shown, in order.

    Parameters
    ----------
    labels : iterable of str

    Returns
    -------
    dict
        Label -> colour; at most six runs.
    """
    labels = list(labels)
    if len(labels) > len(RUN_COLORS):
        validate.fail("labels", f"at most {len(RUN_COLORS)} runs", labels)
    return {label: PALETTE[role] for label, role in zip(labels, RUN_COLORS)}


def log_or_symlog(ax, values):
    """A log y axis when every value is positive, else a symmetric log around 0 with a zero
    line (Figures 5a, 5b: the inner products span decades, and their sign is the point).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    values : array_like
        Every value the axis shows (finite).

    Returns
    -------
    str
        ``"log"`` or ``"symlog"``.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0 or not np.isfinite(values).all():
        validate.fail("values", "a non-empty array of finite values", shown=f"{values!r}")
    if np.all(values > 0):
        ax.set_yscale("log")
        return "log"
    ax.set_yscale("symlog", linthresh=max(1e-3 * float(np.max(np.abs(values))), 1e-12))

    ax.axhline(0, color=PALETTE["reference"], lw=0.8)
    return "symlog"


def plot_band(ax, x, mean, low, high, *, color, label=None, alpha=0.25):
    """A solid mean line and a shaded band from ``low`` to ``high`` (Figures 5b and 5c).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x, mean, low, high : array_like
        1-D, all of one length.
    color : str
        A matplotlib colour (e.g. from :data:`sgdlab.book.style.PALETTE`).
    label : str, optional
    alpha : float
        Opacity of the band.

    Returns
    -------
    matplotlib.axes.Axes
    """
    x, mean, low, high = (np.asarray(v, dtype=np.float64) for v in (x, mean, low, high))
    if not (x.shape == mean.shape == low.shape == high.shape) or x.ndim != 1:
        raise ValueError(f"x, mean, low, high must be 1-D arrays of one length, got shapes "
                         f"{x.shape}, {mean.shape}, {low.shape}, {high.shape}")
    ax.fill_between(x, low, high, color=color, alpha=alpha, linewidth=0)
    ax.plot(x, mean, color=color, label=label)
    return ax
