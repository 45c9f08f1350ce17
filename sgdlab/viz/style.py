"""The book's shared figure style and the plots of final iterates (Figure 3's panels)."""

import io

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["STYLE", "use_style", "plot_curve", "plot_final_iterates", "figure_to_png"]

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
FUNCTION_COLOR = "#1f4e79"
DOT_COLOR = "#c0392b"
BAR_COLOR = "#5d8fc9"


def use_style():
    """Apply the book's style to matplotlib (idempotent)."""
    plt.rcParams.update(STYLE)


def plot_curve(ax, xs, values, *, title=None, color=FUNCTION_COLOR):
    """A landscape (or its convolution) sampled at ``xs``."""
    ax.plot(xs, values, color=color)
    ax.set_xlim(xs[0], xs[-1])
    if title:
        ax.set_title(title)
    return ax


def plot_final_iterates(ax, x_final, *, span=3.0, bins=60, title=None, curve=None):
    """Figure 3, row 2 style: final iterates as red dots on the x axis, with blue bars of
    the cumulative count of trials (from the left) and, optionally, the landscape.

    ``x_final`` holds one number per trial (1-D landscapes); non-finite values (diverged
    trials) are left out of the dots and counted in the title.
    """
    x_final = np.asarray(x_final, dtype=float).ravel()
    finite = x_final[np.isfinite(x_final)]
    edges = np.linspace(-span, span, bins + 1)
    counts, _ = np.histogram(np.clip(finite, -span, span), bins=edges)
    cumulative = np.cumsum(counts) + np.count_nonzero(finite < -span)
    ax.bar(edges[:-1], cumulative, width=edges[1] - edges[0], align="edge", color=BAR_COLOR,
           alpha=0.55, label="cumulative count")
    top = max(len(x_final), 1)
    if curve is not None:
        xs, values = curve
        scaled = (values - np.min(values)) / max(np.ptp(values), 1e-300) * top
        ax.plot(xs, scaled, color=FUNCTION_COLOR, lw=0.8, alpha=0.8)
    ax.plot(np.clip(finite, -span, span), np.zeros_like(finite), "o", color=DOT_COLOR, ms=3,
            alpha=0.7, clip_on=False, label="final iterates")
    ax.set_xlim(-span, span)
    ax.set_ylim(0, top * 1.05)
    lost = len(x_final) - len(finite)
    if title:
        ax.set_title(title + (f" ({lost} diverged)" if lost else ""))
    return ax


def figure_to_png(fig):
    """PNG bytes of a figure (closes it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
