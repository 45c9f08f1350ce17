"""The book's numbers in words: one number format, glued values, Markdown tables, verdicts.

Every measured number a chapter prints in its prose goes through :func:`number` (thousands
separators, a few significant digits, no exponent unless the value is tiny or huge) and is
glued with :func:`glue_number`; a chapter writes ``{glue}`name``` in its text. Wording that
depends on an outcome is chosen by code (:func:`count_phrase`, :func:`verdict`) and glued
with :func:`glue_text`. Tables are lists of rows rendered by :func:`markdown_table`.
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

from .. import _validate as validate

__all__ = ["Text", "number", "percent", "cell", "verdict", "count_phrase", "markdown_table",
           "glue_number", "glue_percent", "glue_text", "glue_numbers"]

_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075"
                             "\u2076\u2077\u2078\u2079")


class Text:
    """A string that displays without quotes (so ``{glue}`name``` prints it as it is)."""

    def __init__(self, text):
        self.text = str(text)

    def __repr__(self):
        return self.text

    def __str__(self):
        return self.text

    def __eq__(self, other):
        return str(other) == self.text

    def __hash__(self):
        return hash(self.text)


def _strip_zeros(text):
    return text.rstrip("0").rstrip(".") if "." in text else text


def number(value, digits=3):
    """``value`` as prose: ``165,800``; ``0.0123``; ``2.5``; ``1.2 × 10⁻⁷``.

    Integers keep every digit, with thousands separators; so does every real of at least
    ``10**digits`` (rounded to a whole number: ``number(165834.7) == "165,835"``). Other reals
    keep ``digits`` significant digits, trailing zeros dropped; below ``1e-4`` or from ``1e15``
    they use a power of ten. NaN prints ``n/a``.

    Parameters
    ----------
    value : int or float
        A NumPy scalar is fine; a bool is not.
    digits : int
        Significant digits of a non-integer (at least 1).
    """
    digits = validate.integer("digits", digits, low=1)
    if isinstance(value, (bool,)) or not isinstance(value, numbers.Real):
        validate.fail("value", "a real number", value, TypeError)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,d}"
    value = float(value)
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "\u221e" if value > 0 else "-\u221e"
    if value == 0:
        return "0"
    size = abs(value)
    if size < 1e-4 or size >= 1e15:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        power = str(int(exponent)).translate(_SUPERSCRIPT)
        return f"{_strip_zeros(mantissa)} \u00d7 10{power}"
    decimals = max(0, digits - 1 - math.floor(math.log10(size)))
    text = f"{value:,.{decimals}f}"
    return _strip_zeros(text) if decimals else text


def percent(share, digits=3):
    """A share in [0, 1] (or beyond) as a percentage: ``percent(0.973) == "97.3%"``; exact 0
    and 1 print ``0%`` and ``100%``."""
    share = validate.real("share", share)
    return f"{number(share * 100, digits)}%"


def cell(value, digits=3):
    """One table cell: text as it is (a ``|`` escaped, so it stays in its column),
    ``yes``/``no`` for a bool, :func:`number` otherwise."""
    if isinstance(value, (str, Text)):
        return _pipes(str(value))
    if isinstance(value, (bool, np.bool_)):
        return verdict(value)
    if value is None:
        return "n/a"
    return number(value, digits)


def _pipes(text):
    """``text`` with every ``|`` kept inside its table cell: escaped in words, and written
    ``\\vert`` / ``\\Vert`` inside ``$...$`` math (where an escape would change its meaning)."""
    parts = re.split(r"(\$[^$]*\$)", text)
    for i, part in enumerate(parts):
        if part.startswith("$") and part.endswith("$") and len(part) > 1:
            parts[i] = part.replace("\\|", "\\Vert ").replace("|", "\\vert ")
        else:
            parts[i] = part.replace("\\|", "|").replace("|", "\\|")
    return "".join(parts)


def verdict(ok):
    """``"yes"`` or ``"no"`` for a computed agreement (a NumPy bool is fine)."""
    return "yes" if bool(ok) else "no"


def count_phrase(count, total, noun, *, every="every", none="none"):
    """How many of ``total`` ``noun`` have a property, in words chosen by the counts:
    ``"every one of the 100 trials"``, ``"none of the 100 trials"``, ``"97 of the 100
    trials"``."""
    count = validate.integer("count", count, low=0)
    total = validate.integer("total", total, low=1)
    if count > total:
        validate.fail("count", f"<= total = {total}", count)
    if total == 1:  # "the only trial": a plural noun needs no number here
        return f"{'the only one of the' if count else none + ' of the'} {noun}"
    things = f"the {number(total)} {noun}"
    if count == total:
        return f"{every} one of {things}"
    if count == 0:
        return f"{none} of {things}"
    return f"{number(count)} of {things}"


def markdown_table(rows, columns=None, *, digits=3, align=None):
    """Render rows (dicts, column name -> value) as a Markdown table (an IPython
    ``Markdown`` object, which a notebook and the built book display as a table).

    Parameters
    ----------
    rows : list of dict
        One dict per row; values go through :func:`cell`.
    columns : list of str, optional
        Column order and subset (default: the first row's keys).
    digits : int
        Significant digits of non-integer numbers.
    align : str, optional
        One of ``l``, ``r``, ``c`` per column (default: left for the first, right for the rest).
    """
    from IPython.display import Markdown

    rows = list(rows)
    if not rows:
        validate.fail("rows", "a non-empty list of dicts", rows)
    columns = list(rows[0]) if columns is None else list(columns)
    align = align or "l" + "r" * (len(columns) - 1)
    if len(align) != len(columns) or set(align) - set("lrc"):
        validate.fail("align", f"{len(columns)} letters from 'l', 'r', 'c'", align)
    rule = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(rule[a] for a in align) + "|"]
    for row in rows:
        missing = [c for c in columns if c not in row]
        if missing:
            validate.fail("rows", f"every row to have the columns {missing}", row)
        lines.append("| " + " | ".join(cell(row[c], digits) for c in columns) + " |")
    return Markdown("\n".join(lines))


def glue_text(name, text):
    """Glue ``text`` under ``name`` for the prose (``{glue}`name```) and return it."""
    from myst_nb import glue

    text = Text(text)
    glue(name, text, display=False)
    return text


def glue_number(name, value, digits=3):
    """Glue :func:`number` of ``value`` under ``name``; returns the text."""
    return glue_text(name, number(value, digits))


def glue_percent(name, share, digits=3):
    """Glue :func:`percent` of ``share`` (a share in [0, 1]) under ``name``."""
    return glue_text(name, percent(share, digits))


def glue_numbers(prefix, values, digits=3):
    """Glue every item of the dict ``values`` as ``{prefix}-{key}`` (numbers through
    :func:`number`, text as it is); returns the dict of texts."""
    out = {}
    for key, value in values.items():
        name = f"{prefix}-{key}"
        text = value if isinstance(value, (str, Text)) else cell(value, digits)
        out[name] = glue_text(name, text)  # prose, not a table cell: no pipe escaped
    return out
