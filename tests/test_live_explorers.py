"""The motivating example's live explorer in the built page, with the network blocked: it
mounts, and what it computes in Chromium equals sgdlab bit for bit, through its public
function and through its controls (``book/_static/live/``; the node tests in ``tests/js/``
check the same formulas without a browser)."""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import console_errors, open_explorer_page

from sgdlab.landscapes import spiky
from sgdlab.book import motivating_example

pytestmark = [pytest.mark.book, pytest.mark.slow]

PAGE = "book/motivating_example.html"

_MOUNTED = """
const done = arguments[arguments.length - 1];
(async () => {
  const deadline = Date.now() + 20000;
  const found = () => (window.sgdlabLive && sgdlabLive.mounted || [])
    .filter(e => e.kind === 'motivating');
  while (Date.now() < deadline && found().length === 0) await new Promise(r => setTimeout(r, 50));
  const explorer = found()[0];
  if (!explorer) { done({error: 'no motivating explorer mounted'}); return; }
  const img = explorer.element.querySelector('img.sgdlab-live-static');
  done({settings: explorer.settings(), staticShown: !!img && img.offsetParent !== null,
        labels: Array.from(explorer.element.querySelectorAll('input, select'))
          .filter(c => c.type !== 'range').map(c => c.labels.length ? c.labels[0].textContent : null)});
})().catch(err => done({error: String(err && err.stack || err)}));
"""

_SET = """
const done = arguments[arguments.length - 1];
const explorer = sgdlabLive.mounted.filter(e => e.kind === 'motivating')[0];
explorer.set(arguments[0]).then(() => done(explorer.last()))
  .catch(err => done({error: String(err && err.stack || err)}));
"""

# Moves the seed box as a reader would (value, then a change event) and waits for the rerun.
_TYPE_SEED = """
const done = arguments[arguments.length - 1];
const explorer = sgdlabLive.mounted.filter(e => e.kind === 'motivating')[0];
const box = Array.from(explorer.element.querySelectorAll('input[type=number]'))
  .find(c => c.labels.length && /seed/i.test(c.labels[0].textContent));
const before = JSON.stringify(explorer.last().stages[0].x);
box.value = String(arguments[0]);
box.dispatchEvent(new Event('input', {bubbles: true}));
box.dispatchEvent(new Event('change', {bubbles: true}));
(async () => {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    const last = explorer.last();
    if (last && last.settings.seed === arguments[0] && JSON.stringify(last.stages[0].x) !== before) {
      done(last); return;
    }
    await new Promise(r => setTimeout(r, 50));
  }
  done({error: 'no rerun after the seed moved'});
})();
"""


def _sgdlab(settings):
    """explorer_runs and explorer_rows at the page's settings: the reference."""
    land = spiky(beta=settings["beta"], period=settings["period"], growth=settings["growth"],
                 width=settings["width"])
    run = motivating_example.explorer_runs(land, **{k: settings[k] for k in (
        "lr", "noise", "trials", "steps", "stages", "seed", "restart")})
    return run, motivating_example.explorer_rows(land, run)


def _assert_equal(page, settings):
    assert "error" not in page, page.get("error")
    run, rows = _sgdlab(settings)
    assert len(page["stages"]) == len(run.stages)
    for k, (shown, stage, row) in enumerate(zip(page["stages"], run.stages, rows)):
        x = np.array([math.nan if v is None else v for v in shown["x"]], dtype=float)
        assert np.array_equal(x, stage.x[:, 0], equal_nan=True), f"stage {k}: final iterates"
        assert shown["within"] == row["within"] and shown["spurious"] == row["spurious"]
        assert shown["spuriousInside"] == row["spurious inside"]
        assert shown["diverged"] == row["diverged"]


@pytest.fixture(scope="module")
def page(built_book: Path, server: str, browser):
    return open_explorer_page(browser, f"{server}/{PAGE}", _MOUNTED)


def test_the_page_ships_the_static_figure_for_readers_without_javascript(built_book: Path):
    class Finder(HTMLParser):
        found = []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "div" and a.get("data-explorer") == "motivating":
                self.found.append(json.loads(a["data-config"]))
            if tag == "img" and "sgdlab-live-static" in (a.get("class") or ""):
                self.found.append(a["src"][:22])

    finder = Finder()
    finder.feed((built_book / PAGE).read_text(encoding="utf-8"))
    config, src = finder.found
    assert src == "data:image/png;base64,"
    assert set(config) == {"landscape", "settings", "limits", "levels"}


def test_it_mounts_in_place_of_the_static_figure_with_labelled_controls(page):
    assert page["staticShown"] is False
    assert None not in page["labels"] and len(page["labels"]) >= 7


def test_its_first_run_is_figure3_row3_bit_for_bit(page, browser):
    settings = page["settings"]
    assert (settings["stages"], settings["restart"]) == (4, "new")
    _assert_equal(browser.execute_async_script(_SET, {}), settings)


@pytest.mark.parametrize("change", [
    {"noise": 0.0},                                             # GD
    {"trials": 1, "steps": 6000, "stages": 1},                  # one trial
    {"restart": "continue", "stages": 6, "seed": 11},           # run_schedule from iterates
    {"noise": 50.0, "lr": 0.01, "seed": 3},                     # large noise
    {"trials": 1000, "steps": 20000, "stages": 1, "seed": 5},   # the largest sizes
], ids=["gd", "one-trial", "continue", "large-noise", "largest"])
def test_set_equals_sgdlab(page, browser, change):
    result = browser.execute_async_script(_SET, change)
    _assert_equal(result, result["settings"])
    assert {k: result["settings"][k] for k in change} == change


def test_moving_a_control_reruns_and_equals_sgdlab(page, browser):
    browser.execute_async_script(_SET, {"trials": 50, "steps": 500, "stages": 2, "seed": 0})
    result = browser.execute_async_script(_TYPE_SEED, 7)
    _assert_equal(result, result["settings"])
    console = console_errors(browser)
    assert not console, console


def test_dark_theme_redraws_without_errors(page, browser):
    image = """
    return sgdlabLive.mounted.filter(e => e.kind === 'motivating')[0]
      .element.querySelector('canvas').toDataURL();"""
    light = browser.execute_script(image)
    browser.execute_script("document.documentElement.dataset.theme = 'dark';")
    browser.execute_async_script("setTimeout(arguments[0], 500);")
    dark = browser.execute_script(image)
    browser.execute_script("document.documentElement.dataset.theme = 'light';")
    assert light != dark  # redrawn in the theme's colours
    console = console_errors(browser)
    assert not console, console


@pytest.fixture(scope="module")
def no_javascript():
    """Headless Chromium with JavaScript turned off for pages (WebDriver can still inspect)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from conftest import CHROMEDRIVER, CHROMIUM

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1600",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    yield driver
    driver.quit()


@pytest.mark.parametrize("page_path, kind", [(PAGE, "motivating"),
                                             ("book/step_size.html", "figure4"),
                                             ("book/main_theorem.html", "theorem1")])
def test_without_javascript_the_static_figure_shows(server, no_javascript, page_path, kind):
    from selenium.webdriver.common.by import By

    no_javascript.get(f"{server}/{page_path}")
    div = no_javascript.find_element(By.CSS_SELECTOR, f'div.sgdlab-live[data-explorer="{kind}"]')
    img = div.find_element(By.CSS_SELECTOR, "img.sgdlab-live-static")
    assert img.is_displayed() and img.size["width"] > 100 and img.size["height"] > 100
    assert "is-mounted" not in (div.get_attribute("class") or "")
