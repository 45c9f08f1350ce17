"""Shared pytest fixtures."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from unittest import mock
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


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


# -- the built book in headless Chromium, with the network blocked (tests/test_book_html.py,
# tests/test_live_*.py)
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server(built_book: Path):
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built_book)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
        pytest.fail(f"{CHROMIUM} / {CHROMEDRIVER} missing: run `make browser` (Debian chromium, chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # pragma: no cover
        pytest.fail("selenium is not installed: run `make setup` (it is pinned in requirements.txt)")

    profile = tempfile.mkdtemp(prefix="sgdlab-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-default-apps", "--window-size=1280,1600",
        # The network is blocked: no host name resolves except the local server's address.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
    # An explicit driver path: Selenium Manager never runs, nothing is downloaded.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)




def console_errors(browser) -> list[str]:
    """The page's console errors since the last call (a missing favicon is not one)."""
    return [e["message"] for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]


def open_explorer_page(browser, url: str, mounted_script: str) -> dict:
    """Load ``url``, drop the log so far, and return what ``mounted_script`` (an async script
    that waits for the explorer to mount) reports; it fails on a reported error."""
    browser.get(url)
    browser.get_log("browser")
    report = browser.execute_async_script(mounted_script)
    assert "error" not in report, report["error"]
    return report


@pytest.fixture
def glued():
    """The texts glued while a test runs, by name."""
    found = {}
    with mock.patch("myst_nb.glue", lambda name, value, display=False:
                    found.__setitem__(name, str(value))):
        yield found
