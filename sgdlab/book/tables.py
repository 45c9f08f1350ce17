"""The book's numbers in words, shared by every chapter: one number format, glued values,
Markdown tables, verdicts and phrases.

Every measured number a chapter prints in its prose goes through :func:`number` (thousands
separators, a few significant digits, no exponent unless the value is tiny or huge) and is
glued with :func:`glue_number`; a chapter writes ``{glue}`name``` in its text. Wording that
depends on an outcome is chosen by code (:func:`count_phrase`, :func:`verdict`,
:func:`counted`, :func:`for_runs`) and glued with :func:`glue_text`. Tables are lists of rows
rendered by :func:`markdown_table`.
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

from .. import _validate as validate

__all__ = ["Text", "number", "percent", "cell", "verdict", "count_phrase", "markdown_table",
           "glue_text", "glue_number", "glue_percent", "glue_numbers", "joined", "run_name",
           "is_or_are", "counted", "by_dimension", "each_run", "grouped_runs",
           "glue_texts", "for_runs", "counted_runs", "large", "large_in_text"]


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

    Integers keep every digit, with thousands separators; so does every real from
    ``10**digits`` below a million (rounded to a whole number: ``number(165834.7) ==
    "165,835"``). Other reals keep ``digits`` significant digits, trailing zeros dropped;
    below ``1e-4`` or from a million they use a power of ten (``3.87 × 10¹⁰``), so no real
    shows more than 6 significant digits. NaN prints ``n/a``.

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
    if size < 1e-4 or size >= max(1e6, 10.0**digits):
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


def joined(items, last="and"):
    """``["a", "b", "c"]`` as ``"a, b and c"``."""
    items = [str(i) for i in items]
    if not items:
        validate.fail("items", "a non-empty list", items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def run_name(label):
    """A run's label in a sentence: ``"ResNet-14, digits"`` -> ``"ResNet-14 on digits"``."""
    return str(label).replace(", ", " on ", 1)


def is_or_are(count, total):
    """The verb after :func:`sgdlab.book.tables.count_phrase`: ``"1 of the 36 values is"``,
    ``"3 of the 36 values are"``."""
    return "is" if count in (0, 1, total) else "are"


def counted(count, total, noun, what):
    """``"every one of the 36 values is positive"`` / ``"3 of the 36 values are ..."``."""
    return f"{count_phrase(count, total, noun)} {is_or_are(count, total)} {what}"


def by_dimension(values, fmt=number, unit=""):
    """``{dim: value}`` in words, one value per dimension unless all read the same:
    ``"0.3 in one dimension and 0.7 in ten"``, ``"1 in both dimensions"``; ``unit`` follows
    the first value (``"0 points in both dimensions"``)."""
    values = dict(values)
    if not values:
        validate.fail("values", "a non-empty dict {dimension: value}", values)
    texts = {d: fmt(v) for d, v in values.items()}
    unit = f" {unit}" if unit else ""
    if len(set(texts.values())) == 1:
        every = {1: "", 2: " in both dimensions"}.get(len(texts), " in every dimension")
        return f"{next(iter(texts.values()))}{unit}{every}"
    words = {1: "one", 2: "two", 3: "three", 10: "ten", 100: "a hundred"}
    parts = [f"{t} in {words.get(d, number(d))}" for d, t in texts.items()]
    first = parts[0].replace(" in ", f"{unit} in ", 1)
    first += " dimension" if next(iter(texts)) == 1 else " dimensions"
    return joined([first] + parts[1:])


def each_run(values, fmt=number):
    """``{label: value}`` as ``"1.2 (ResNet-14 on digits) and 3.4 (DenseNet-BC-22 on
    digits)"``; one value for several runs once: ``"0.5 (every run shown)"``."""
    texts = {k: fmt(v) for k, v in values.items()}
    if len(texts) > 1 and len(set(texts.values())) == 1:
        return f"{next(iter(texts.values()))} (every run shown)"
    return joined(f"{t} ({run_name(k)})" for k, t in texts.items())


def _by_phrase(phrases):
    """``{label: phrase}`` as ``{phrase: [run names]}``, runs with the same phrase together."""
    groups = {}
    for label, phrase in dict(phrases).items():
        groups.setdefault(phrase, []).append(run_name(label))
    return groups


def grouped_runs(phrases):
    """``{label: phrase}`` as ``"phrase for every run shown"`` or ``"p1 for A and p2 for
    B"``, runs with the same phrase together."""
    groups = _by_phrase(phrases)
    if len(groups) == 1 and len(phrases) > 1:
        return f"{next(iter(groups))} for every run shown"
    return joined(f"{phrase} for {joined(names)}" for phrase, names in groups.items())


def glue_texts(prefix, texts):
    """Glue every ``{key: text}`` as ``{prefix}-{key}``; returns the texts."""
    for key, text in texts.items():
        glue_text(f"{prefix}-{key}", text)
    return texts


def for_runs(flags, yes, no):
    """A verdict per run in words: ``"grows for every run shown"``, ``"does not grow for any
    run shown"``, ``"grows for A; does not grow for B"`` (one run: ``"grows for A"``)."""
    flags = dict(flags)
    if not flags:
        validate.fail("flags", "a non-empty dict of run -> bool", flags)
    good = [run_name(k) for k, ok in flags.items() if ok]
    bad = [run_name(k) for k, ok in flags.items() if not ok]
    if len(flags) == 1:
        return f"{yes if good else no} for {(good or bad)[0]}"
    if not bad:
        return f"{yes} for every run shown"
    if not good:
        return f"{no} for any run shown"
    return f"{yes} for {joined(good)}; {no} for {joined(bad)}"


def counted_runs(counts, noun, what):
    """:func:`counted` per run, runs with the same phrase together: ``"for every run shown,
    every one of the 36 values is positive"``, or ``"for A, 35 of the 36 values are
    positive; for B, every one of the 36 values is positive"``.

    Parameters
    ----------
    counts : dict
        Run label -> ``(count, total)``.
    noun, what : str
        As for :func:`counted`.
    """
    groups = _by_phrase({label: counted(count, total, noun, what)
                         for label, (count, total) in dict(counts).items()})
    if not groups:
        validate.fail("counts", "a non-empty dict of run -> (count, total)", counts)
    if len(groups) == 1 and len(counts) > 1:
        return f"for every run shown, {next(iter(groups))}"
    return "; ".join(f"for {joined(names)}, {phrase}" for phrase, names in groups.items())


def large(value, digits=3):
    """A count in words to ``digits`` significant digits: ``large(21_282_122) ==
    "21.3 million"``; below a million, :func:`number` of it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        validate.fail("value", "a real number", value, TypeError)
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(value) >= size:
            return f"{number(value / size, digits)} {word}"
    return number(value, digits)


def large_in_text(text, digits=3):
    """``text`` with every whole number of a million or more written by :func:`large`
    (``"has 21,282,122 parameters"`` -> ``"has 21.3 million parameters"``)."""
    return re.sub(r"(?<![\d.,])\d{1,3}(?:,\d{3}){2,}(?![\d.]|,\d)",
                  lambda m: large(int(m.group(0).replace(",", "")), digits), str(text))
