"""The chapters read as a book (DESIGN.md, "Chapters"): short visible cells, lines that fit the
page, and prose whose every number is glued or is a documented constant (book/_constants.yml).

These tests read the Markdown sources only (no execution), so they run in ``make test-fast``.
"""

import re
from pathlib import Path

import jupytext
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (REPO / "book").glob("*.md")
                  if "\nkernelspec:" in p.read_text(encoding="utf-8").split("\n---", 1)[0])
HIDDEN = {"hide-input", "remove-input", "remove-cell"}
MAX_CELL, MAX_CHAPTER, MAX_WIDTH = 15, 150, 88

# A number right after one of these words names a part of the paper or of the book, not a
# measured value ("Section 5.1", "Figure 3", "row 2", "Step 1").
REFERENCE_WORDS = (
    "section", "sections", "figure", "figures", "fig.", "theorem", "theorems", "lemma",
    "lemmas", "corollary", "assumption", "definition", "remark", "step", "steps", "equation",
    "eq.", "row", "rows", "table", "chapter", "stage", "stages", "exercise", "panel", "panels",
    "appendix", "item", "claim", "claims", "part")
# "Sections 5.1 and 5.2": after a plural reference word, a joined number is a reference too.
JOINERS = ("and", "or", "to", "-")
# A number not glued to a word ("ResNet-34", "x2", "v1.0"); "-0.004" is a number.
NUMBER = re.compile(r"(?<![\w./])(?<!\w-)\d[\d,]*(?:\.\d+)?(?![\w])")


def _cells(path):
    return jupytext.read(path).cells


def _visible_code(path):
    return [c for c in _cells(path) if c.cell_type == "code"
            and not HIDDEN & set(c.metadata.get("tags", []))]


def _lines(cell):
    return [line for line in cell.source.splitlines() if line.strip()]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_visible_cells_are_short(path):
    sizes = [len(_lines(c)) for c in _visible_code(path)]
    long = [(i, n) for i, n in enumerate(sizes) if n > MAX_CELL]
    assert not long, f"{path.name}: visible cells over {MAX_CELL} lines (index, lines): {long}"
    assert sum(sizes) <= MAX_CHAPTER, (f"{path.name}: {sum(sizes)} visible code lines, "
                                       f"at most {MAX_CHAPTER}")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_lines_fit_the_page(path):
    wide = [line for c in _cells(path) if c.cell_type == "code"
            for line in c.source.splitlines() if len(line) > MAX_WIDTH]
    assert not wide, f"{path.name}: code lines over {MAX_WIDTH} characters: {wide[:5]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_hide_input_only_for_plots(path):
    """``hide-input`` hides plotting code; a hidden cell that does not plot hides work."""
    for c in _cells(path):
        if c.cell_type == "code" and "hide-input" in c.metadata.get("tags", []):
            assert re.search(r"\bplt\.|\bax\.|axes|fig|plot|slider|explorer", c.source), (
                f"{path.name}: a hide-input cell that does not plot:\n{c.source[:300]}")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_removed_input_only_renders(path):
    """A ``remove-input`` / ``remove-cell`` cell calls one rendering helper: the work it does
    is not hidden from the reader."""
    for c in _cells(path):
        if c.cell_type == "code" and {"remove-input", "remove-cell"} & set(
                c.metadata.get("tags", [])):
            assert len(_lines(c)) <= 2, f"{path.name}: a hidden cell does work:\n{c.source}"


def constants():
    """The numbers the prose may type: the paper's constants and our settings, each with why."""
    table = yaml.safe_load((REPO / "book" / "_constants.yml").read_text(encoding="utf-8"))
    assert all(isinstance(why, str) and why.strip() for why in table.values()), \
        "every constant in book/_constants.yml needs a reason"
    return {str(k) for k in table}


def prose(text):
    """The Markdown ``text`` without math, code, roles, labels, link targets, directive
    options and HTML comments: what remains is read as words."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"```\{(code-cell|literalinclude|math|code|eval-rst|code-block)\}.*?```", " ",
                  text, flags=re.S)
    text = re.sub(r"^```.*$", " ", text, flags=re.M)
    text = re.sub(r"^:[\w-]+:.*$", " ", text, flags=re.M)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$.+?(?<!\\)\$", " ", text)
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " GLUED ", text)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"^\([\w-]+\)=\s*$", " ", text, flags=re.M)
    return text


def typed_numbers(text, allowed):
    """Numbers in the prose of ``text`` that are neither a reference ("Figure 3") nor in
    ``allowed``."""
    words = prose(text)
    found, plural_reference = [], -1
    for match in NUMBER.finditer(words):
        before = words[:match.start()].split()
        word = before[-1].lower().strip("([") if before else ""
        if word in REFERENCE_WORDS:
            plural_reference = len(before) if word.endswith("s") else -1
            continue
        if word in JOINERS and plural_reference == len(before) - 2:
            plural_reference = len(before)
            continue
        if match.group().rstrip(",") not in allowed:
            found.append(match.group().rstrip(","))
    return found


def test_prose_scanner_finds_typed_numbers():
    text = ("We ran 165,800 points; see Figure 3 and $x^2 = 4$, `code 5`, {glue}`n-7`.\n"
            "```{code-cell} ipython3\nx = 12\n```\nThe ResNet-34 reached 97.3% in Section 5.1."
            " Sections 5.1 and 5.2, up to 8. Figure 3 and 12% moved by -0.004.")
    assert typed_numbers(text, set()) == ["165,800", "97.3", "8", "12", "0.004"]
    assert typed_numbers(text, {"97.3", "8", "12", "0.004"}) == ["165,800"]


@pytest.mark.parametrize("path", sorted(set(CHAPTERS) | {REPO / "book" / "intro.md"}),
                         ids=lambda p: p.stem)
def test_prose_numbers_are_glued_or_constants(path):
    markdown = "\n".join(c.source for c in _cells(path) if c.cell_type == "markdown")
    found = typed_numbers(markdown, constants())
    assert not found, (f"{path.name}: numbers typed in the prose (glue them, or add a paper "
                       f"constant / setting to book/_constants.yml with its reason): {found}")
