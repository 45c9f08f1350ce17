"""Shared pytest fixtures."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book once per session (``make book``) and return ``_build/html``.

    ``make book`` is incremental (Jupyter Book's execution cache, invalidated when ``sgdlab``
    changes), so a second session is quick. Set ``SGDLAB_BUILT_BOOK`` to the path of an
    already-built ``html`` folder to test that instead without building.
    """
    prebuilt = os.environ.get("SGDLAB_BUILT_BOOK")
    if prebuilt:
        html = Path(prebuilt).resolve()
        assert (html / "index.html").is_file(), f"SGDLAB_BUILT_BOOK={prebuilt} has no index.html"
        return html
    proc = subprocess.run(
        ["make", "book"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, (
        f"`make book` failed with exit status {proc.returncode}\n"
        f"--- stdout (tail) ---\n{proc.stdout[-6000:]}\n--- stderr (tail) ---\n{proc.stderr[-6000:]}"
    )
    html = REPO / "_build" / "html"
    assert (html / "index.html").is_file(), "`make book` succeeded but wrote no _build/html/index.html"
    return html


@pytest.fixture(scope="module")
def torch_one_thread():
    """Run a module's torch work on one thread, restored afterwards: tiny networks gain
    nothing from threads, and two OpenMP threads crawl on a busy 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
