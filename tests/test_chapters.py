"""Every chapter runs top to bottom as a notebook (the second way people use the book)."""

from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


def _chapters():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]]
    for entry in toc.get("chapters", []):
        files.append(entry["file"])
    return [REPO / f"{name}.md" for name in files]


def test_toc_lists_every_chapter():
    listed = {path.name for path in _chapters()}
    on_disk = {path.name for path in (REPO / "book").glob("*.md")}
    assert listed == on_disk, f"chapters not in _toc.yml: {on_disk - listed}"


@pytest.mark.book
@pytest.mark.parametrize("chapter", _chapters(), ids=lambda p: p.stem)
def test_chapter_executes_as_notebook(chapter, monkeypatch):
    # The Section 5 chapters read the scale of their experiments from SGDLAB_SCALE: "tiny"
    # runs them in seconds here; the book build uses the "book" scale.
    monkeypatch.setenv("SGDLAB_SCALE", "tiny")
    notebook = jupytext.read(chapter)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(chapter.parent)}})
    client.execute()
    errors = [out for cell in notebook.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, errors
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells and all(cell.get("execution_count") for cell in code_cells)
    nbformat.validate(notebook)


@pytest.mark.book
def test_built_pages_have_no_stderr_or_tracebacks(built_book):
    """Warnings (e.g. a kernel that could not be cached) or errors would show up in the page."""
    for page in sorted((built_book / "book").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert "output stderr" not in text, f"{page.name} shows stderr output"
        assert "Traceback" not in text, f"{page.name} shows a traceback"
