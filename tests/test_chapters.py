"""Every chapter runs top to bottom as a notebook (the second way people use the book), and the
API page names every public module of the package."""

import re
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


def _notebooks():
    """The chapters that are notebooks (a jupytext header with a kernel); book/api.md is not."""
    return [path for path in _chapters() if "\nkernelspec:" in path.read_text(encoding="utf-8").split("\n---", 1)[0]]


def _public_modules():
    """sgdlab's public modules on disk: no leading underscore, no ``__main__``."""
    package = REPO / "sgdlab"
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts) or "__pycache__" in path.parts:
            continue
        names.append(".".join(parts))
    return names


def test_toc_lists_every_chapter():
    listed = {path.name for path in _chapters()}
    on_disk = {path.name for path in (REPO / "book").glob("*.md")}
    assert listed == on_disk, f"chapters not in _toc.yml: {on_disk - listed}"


def test_api_page_lists_every_public_module():
    """book/api.md has one ``automodule`` per public module: a new module must be added there."""
    listed = re.findall(r"^\.\. automodule:: (\S+)$", (REPO / "book" / "api.md").read_text(), re.M)
    assert len(listed) == len(set(listed)), f"modules listed twice in book/api.md: {listed}"
    missing = sorted(set(_public_modules()) - set(listed))
    assert not missing, f"public modules missing from book/api.md (add an automodule block): {missing}"
    assert not set(listed) - set(_public_modules()), "book/api.md lists modules that do not exist"


@pytest.mark.slow
@pytest.mark.book
@pytest.mark.parametrize("chapter", _notebooks(), ids=lambda p: p.stem)
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


@pytest.mark.slow
@pytest.mark.book
def test_built_pages_have_no_stderr_or_tracebacks(built_book):
    """Warnings (e.g. a kernel that could not be cached) or errors would show up in the page."""
    for page in sorted((built_book / "book").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert "output stderr" not in text, f"{page.name} shows stderr output"
        assert "Traceback" not in text, f"{page.name} shows a traceback"
