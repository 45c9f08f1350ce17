"""sgdlab.book.tables: the one number format, the glue helpers, Markdown tables and phrases."""

import numpy as np
import pytest

from sgdlab.book import tables


@pytest.mark.parametrize("value, text", [
    (165800, "165,800"), (np.int64(343000), "343,000"), (12345.0, "12,345"),
    (0.0123, "0.0123"), (2.5, "2.5"), (3.0, "3"), (97.34, "97.3"), (-0.004567, "-0.00457"),
    (1.2e-7, "1.2 \u00d7 10\u207b\u2077"), (1e16, "1 \u00d7 10\u00b9\u2076"), (0.0, "0"),
    (float("nan"), "n/a"), (float("inf"), "\u221e"), (np.float32(0.5), "0.5"),
    (38_662_742_200.0, "3.87 \u00d7 10\u00b9\u2070"), (999_999.4, "999,999"),
    (1_234_567.0, "1.23 \u00d7 10\u2076"), (21_282_122, "21,282,122"),
])
def test_number(value, text):
    assert tables.number(value) == text


def test_number_digits_and_errors():
    assert tables.number(np.pi, digits=5) == "3.1416"
    assert tables.number(1234.5678, digits=6) == "1,234.57"
    with pytest.raises(TypeError, match="value must be a real number, got True"):
        tables.number(True)
    with pytest.raises(TypeError, match="value must be a real number"):
        tables.number("3")
    with pytest.raises(ValueError, match="digits must be"):
        tables.number(1.5, digits=0)


def test_percent_and_phrases():
    assert tables.percent(0.973) == "97.3%"
    assert (tables.percent(0), tables.percent(1)) == ("0%", "100%")
    assert tables.count_phrase(3, 1000, "trials") == "3 of the 1,000 trials"
    assert tables.count_phrase(7, 7, "balls") == "every one of the 7 balls"
    assert tables.count_phrase(0, 7, "balls") == "none of the 7 balls"
    assert tables.count_phrase(1, 1, "trials") == "the only one of the trials"
    assert tables.count_phrase(0, 1, "trials") == "none of the trials"
    with pytest.raises(ValueError, match="count must be <= total = 2, got 3"):
        tables.count_phrase(3, 2, "x")
    assert (tables.verdict(np.bool_(True)), tables.verdict(False)) == ("yes", "no")


def test_markdown_table_formats_and_keeps_pipes_in_cells():
    table = tables.markdown_table([{"panel": "at |x| = 3", "share": 0.25, "ok": True},
                                   {"panel": r"$\|y\|^2$ and $|x|$", "share": 1234567,
                                    "ok": np.bool_(False)}])
    lines = table.data.splitlines()
    assert lines[0] == "| panel | share | ok |"
    assert lines[1] == "|:---|---:|---:|"
    assert lines[2] == r"| at \|x\| = 3 | 0.25 | yes |"
    assert lines[3] == r"| $\Vert y\Vert ^2$ and $\vert x\vert $ | 1,234,567 | no |"
    for line in lines:  # every row has exactly the columns' separators
        assert len([c for i, c in enumerate(line) if c == "|" and line[i - 1] != "\\"]) == 4


def test_markdown_table_errors():
    with pytest.raises(ValueError, match="rows must be a non-empty list"):
        tables.markdown_table([])
    with pytest.raises(ValueError, match="align must be 2 letters"):
        tables.markdown_table([{"a": 1, "b": 2}], align="lrr")
    with pytest.raises(ValueError, match=r"rows must be every row to have the columns \['b'\]"):
        tables.markdown_table([{"a": 1, "b": 2}, {"a": 3}])


def test_glue_helpers_glue_formatted_text(monkeypatch):
    glued = {}
    import myst_nb
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: glued.update(
        {name: (repr(value), display)}))
    assert str(tables.glue_number("n", 165800)) == "165,800"
    tables.glue_percent("share", 0.5)
    tables.glue_numbers("run", {"steps": 6000, "word": "at |x| = 3", "ok": True})
    assert glued == {"n": ("165,800", False), "share": ("50%", False),
                     "run-steps": ("6,000", False), "run-word": ("at |x| = 3", False),
                     "run-ok": ("yes", False)}


def test_by_dimension_says_one_value_when_the_dimensions_agree():
    assert tables.by_dimension({1: 0, 10: 0}, unit="points") == "0 points in both dimensions"
    assert tables.by_dimension({1: 0.3, 10: 0.7}) == "0.3 in one dimension and 0.7 in ten"
    assert (tables.by_dimension({1: 3, 10: 0}, unit="points")
            == "3 points in one dimension and 0 in ten")
    assert tables.by_dimension({1: 0.99971, 10: 0.99974}, fmt=lambda v: tables.number(v, 4)) \
        == "0.9997 in both dimensions"
    assert tables.by_dimension({2: 1.0, 5: 2.0}) == "1 in two dimensions and 2 in 5"
    with pytest.raises(ValueError, match="values must be a non-empty dict"):
        tables.by_dimension({})
