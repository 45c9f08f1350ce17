"""The package's three floors and its wiring (DESIGN.md, "Layout"), checked from the source.

Imports only go down: the core (``sgdlab/*.py``) imports neither torch, matplotlib nor
ipywidgets, nor ``sgdlab.nn`` / ``sgdlab.book``; ``sgdlab.nn`` does not import ``sgdlab.book``
(nor matplotlib or ipywidgets). No module uses an underscored name that another module
defines (the core may import the private modules ``_rng``, ``_builtin``, ``_kernels`` and
``_validate`` and their names; ``sgdlab.nn`` may import ``_validate``, the one validation
module of both).
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sgdlab"
PRIVATE_MODULES = {"_rng", "_builtin", "_kernels", "_validate"}
SHARED_PRIVATE = {"core": PRIVATE_MODULES, "nn": {"_validate"}, "book": {"_validate"}}  # per floor
PLOTTING = {"matplotlib", "ipywidgets", "IPython"}
FORBIDDEN = {
    "core": {"torch", "sklearn", "sgdlab.nn", "sgdlab.book", "sgdlab.bench"} | PLOTTING,
    "nn": {"sgdlab.book", "sgdlab.bench"} | PLOTTING,
    "book": {"sgdlab.bench"},
    "bench": {"sgdlab.book"} | PLOTTING,
}


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _dotted(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _floor(path):
    rel = path.relative_to(PACKAGE).parts
    if len(rel) == 1:
        return "app" if rel[0] == "__main__.py" else "core"
    return rel[0]


def _imports(path):
    """(absolute module imported, names taken from it) for every import in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    package = _dotted(path) if path.name == "__init__.py" else _dotted(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [alias.name for alias in node.names]
            found.append((base, names))
            # ``from . import x`` imports the module ``package.x``
            found += [(f"{base}.{n}", []) for n in names if node.module is None]
    return found


def _within(module, prefixes):
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: _dotted(p) or "sgdlab")
def test_imports_only_go_down(path):
    forbidden = FORBIDDEN.get(_floor(path), set())
    bad = sorted({m for m, _ in _imports(path) if _within(m, forbidden)})
    assert not bad, f"{_dotted(path)} ({_floor(path)} floor) imports {bad}"


def _defined_here(tree):
    """Names a module defines: functions, classes, assigned names and attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return names


def _private(name):
    return name.startswith("_") and not name.startswith("__")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: _dotted(p) or "sgdlab")
def test_no_private_name_crosses_modules(path):
    tree = ast.parse(path.read_text(), str(path))
    core = _floor(path) == "core"
    shared = SHARED_PRIVATE.get(_floor(path), set())
    bad = []
    for module, names in _imports(path):
        if not module.startswith("sgdlab"):
            continue
        last = module.rpartition(".")[2]
        allowed_module = last in shared and module.count(".") == 1
        if _private(last) and not allowed_module:
            bad.append(f"imports the private module {module}")
        if not allowed_module:
            bad += [f"imports {n} from {module}" for n in names
                    if _private(n) and not (module == "sgdlab" and n in shared)]
    here = _defined_here(tree)
    ours = set().union(*(_defined_here(ast.parse(p.read_text())) for p in _modules()))
    for node in ast.walk(tree):
        # an underscored attribute that another sgdlab module defines (third-party names,
        # such as pickle's, are not the package's wiring)
        if (isinstance(node, ast.Attribute) and _private(node.attr) and node.attr in ours
                and node.attr not in here):
            target = ast.unparse(node.value)
            if core and target in PRIVATE_MODULES:
                continue
            bad.append(f"line {node.lineno}: {target}.{node.attr}")
    assert not bad, f"{_dotted(path)} uses private names of other modules: {bad}"


def test_import_sgdlab_is_torch_free():
    code = ("import sys, sgdlab, sgdlab.nn, sgdlab.book; "
            "print(sorted(m for m in ('torch', 'matplotlib', 'ipywidgets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


BOOK = PACKAGE / "book"
CHAPTER_FILES = sorted(p.stem for p in (PACKAGE.parent / "book").glob("*.md")
                       if p.stem not in ("intro", "api"))


def test_every_chapter_has_one_module_named_after_it():
    """``book/X.md`` is served by ``sgdlab/book/X.py`` (DESIGN.md, "Layout")."""
    from sgdlab import book

    modules = sorted(p.stem for p in BOOK.glob("*.py") if p.stem != "__init__")
    assert sorted(book.CHAPTERS) == CHAPTER_FILES
    assert sorted(book.SUBMODULES) == modules
    assert not set(book.SHARED) & set(CHAPTER_FILES)


@pytest.mark.parametrize("name", ["style", "tables", "live", "results"])
def test_shared_book_modules_import_no_chapter_module(name):
    chapters = {f"sgdlab.book.{c}" for c in CHAPTER_FILES}
    bad = sorted({m for m, _ in _imports(BOOK / f"{name}.py") if _within(m, chapters)})
    assert not bad, f"sgdlab.book.{name} (shared) imports chapter modules {bad}"


def test_a_chapter_module_imports_no_other_chapter_module():
    for chapter in CHAPTER_FILES:
        others = {f"sgdlab.book.{c}" for c in CHAPTER_FILES if c != chapter}
        bad = sorted({m for m, _ in _imports(BOOK / f"{chapter}.py") if _within(m, others)})
        assert not bad, f"sgdlab.book.{chapter} imports {bad}"
