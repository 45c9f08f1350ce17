"""Explorers that compute in the reader's browser (the built HTML book).

A chapter cell returns a :class:`LiveExplorer`: in the page it is a ``<div class="sgdlab-live">``
with the explorer's settings as JSON and a static picture inside. The book's JavaScript
(``book/_static/live/``: ``core.js`` is sgdlab's random stream and formulas, one script per
explorer) replaces the picture with controls and a figure that it recomputes as the reader
moves them; with JavaScript off, or in Jupyter, the picture stays. Jupyter's live explorers are
the ipywidgets ones of the chapter modules (``sgd_explorer``, ``theorem1_explorer``,
``step_size_explorer``).

:func:`sgdlab.book.motivating_example.explorer_runs` is what the motivating example's
explorer computes, in Python: the JavaScript equals it bit for bit (``tests/js/``,
``tests/test_live_explorers.py``).
"""

import base64
import html
import json

from .. import _validate as validate

__all__ = ["SEED_LIMIT", "page_seed", "explorer_html", "LiveExplorer"]


SEED_LIMIT = 2**53
"""The bound on a live explorer's seeds, 2**53. The page's JavaScript holds a seed in a double,
which is exact up to there."""


def page_seed(name, value):
    """A seed the page's JavaScript can take: an integer in [0, 2**53) (sgdlab itself takes
    seeds up to 2**63)."""
    value = validate.integer(name, value, low=0)
    if value >= SEED_LIMIT:
        validate.fail(name, "an integer >= 0 and < 2**53 (the page computes in doubles)", value)
    return value


def explorer_html(kind, config, png, *, alt):
    """The HTML of a live explorer: a ``div`` that the script for ``kind`` mounts on.

    Parameters
    ----------
    kind : str
        The explorer (``"motivating"``, ``"figure4"``): the value of ``data-explorer``.
    config : dict
        Its settings, written as JSON to ``data-config`` (numbers, strings, lists, dicts).
    png : bytes
        The static picture shown until the script runs (and for good with JavaScript off).
    alt : str
        The picture's text alternative.

    Returns
    -------
    str
    """
    if not isinstance(kind, str) or not kind.isidentifier():
        validate.fail("kind", "an explorer name (letters and digits)", kind)
    if not isinstance(config, dict):
        validate.fail("config", "a dict", error=TypeError, shown=type(config).__name__)
    if not isinstance(png, bytes):
        validate.fail("png", "PNG bytes", error=TypeError, shown=type(png).__name__)
    data = html.escape(json.dumps(config, allow_nan=False), quote=True)
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (f'<div class="sgdlab-live" data-explorer="{kind}" data-config="{data}">'
            f'<img class="sgdlab-live-static" src="{src}" alt="{html.escape(alt, quote=True)}">'
            "</div>")


class LiveExplorer:
    """A live explorer in a notebook cell's output (see the module's description).

    Parameters
    ----------
    kind, config, png, alt
        As in :func:`explorer_html`.
    """

    def __init__(self, kind, config, png, *, alt):
        self.kind, self.config, self.png, self.alt = kind, config, png, alt
        self.html = explorer_html(kind, config, png, alt=alt)

    def _repr_html_(self):
        return self.html
