"""The main-theorem chapter's live Theorem 1 explorer in the built page, with the network
blocked: it mounts in place of the static picture with labelled controls, and what it computes
in Chromium (``book/_static/live/theorem1.js``) agrees with sgdlab: the rows of the domain the
trials start from (:func:`sgdlab.random_rows`, drawn by the page) bit for bit, L, c, lambda, b,
T1 and 20b/lambda to rtol 1e-9, the steps and verdicts exactly, the final iterates and the
measured quantile to the rounding that Math.sin's last bit lets SGD amplify (``tests/js/``
checks the same formulas in node)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import console_errors, open_explorer_page
from js.fixture_theorem1 import DOMAIN, sgdlab_answer, starts

pytestmark = [pytest.mark.book, pytest.mark.slow]

PAGE = "book/main_theorem.html"
RTOL = 1e-9          # the constants: the measured differences are 0 or a few ulps
X_RTOL = 1e-12       # the final iterates after up to 2,000 steps: measured at most 3e-14
EXACT = ("steps", "violations", "n_points", "step_size_ok", "failing", "diverged")
CLOSE = ("L", "c", "lam", "b", "radius_sq", "T1", "dist0_sq", "lr_max", "measured",
         "share_within")

_MOUNTED = """
const done = arguments[arguments.length - 1];
(async () => {
  const deadline = Date.now() + 20000;
  const found = () => (window.sgdlabLive && sgdlabLive.mounted || [])
    .filter(e => e.kind === 'theorem1');
  while (Date.now() < deadline && !(found().length && found()[0].last())) {
    await new Promise(r => setTimeout(r, 50));
  }
  const explorer = found()[0];
  if (!explorer) { done({error: 'no theorem1 explorer mounted'}); return; }
  const img = explorer.element.querySelector('img.sgdlab-live-static');
  done({settings: explorer.settings(), staticShown: !!img && img.offsetParent !== null,
        config: JSON.parse(explorer.element.dataset.config), ms: explorer.last().ms,
        labels: Array.from(explorer.element.querySelectorAll('input'))
          .map(c => c.labels.length ? c.labels[0].textContent : c.getAttribute('aria-label'))});
})().catch(err => done({error: String(err && err.stack || err)}));
"""

# set(...), then the numbers with non-finite values as strings (JSON has no inf or nan)
_SET = """
const done = arguments[arguments.length - 1];
const explorer = sgdlabLive.mounted.filter(e => e.kind === 'theorem1')[0];
const plain = v => typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
explorer.set(arguments[0]).then(n => {
  const out = {};
  for (const [k, v] of Object.entries(n)) out[k] = Array.isArray(v) ? v.map(plain) : plain(v);
  done(out);
}).catch(err => done({error: String(err && err.stack || err)}));
"""

_THEME = """
return sgdlabLive.mounted.filter(e => e.kind === 'theorem1')[0]
  .element.querySelector('canvas').toDataURL();"""


def _floats(values):
    return np.array([float(v) for v in values])


def _compare(page, config):
    """The page's numbers against sgdlab's at the same (lr, noise); sgdlab's answer."""
    assert "error" not in page, page["error"]
    want = sgdlab_answer(DOMAIN, config, page["lr"], page["noise"])
    assert page["starts"] == starts(DOMAIN, config).tolist()  # drawn by the page, bit for bit
    for key in EXACT:
        assert page[key] == want[key], key
    for key in CLOSE:
        np.testing.assert_allclose(float(page[key]), float(want[key]), rtol=RTOL, err_msg=key)
    np.testing.assert_allclose(_floats(page["x"]), _floats(want["x"]), rtol=X_RTOL, atol=0)
    np.testing.assert_allclose(_floats(page["dist_sq"]), _floats(want["dist_sq"]),
                               rtol=1e-11, atol=1e-15)
    return want


@pytest.fixture(scope="module")
def page(built_book: Path, server: str, browser):
    return open_explorer_page(browser, f"{server}/{PAGE}", _MOUNTED)


def test_it_mounts_in_place_of_the_static_picture_with_labelled_controls(page):
    assert page["staticShown"] is False
    assert None not in page["labels"] and len(page["labels"]) == 4  # 2 sliders, 2 boxes
    assert page["config"]["landscape"]["name"] == "ripple"
    assert "starts" not in page["config"]  # the page draws the rows (sgdlab.random_rows)
    assert page["config"]["limits"]["lr"] == [1e-9, 10.0]


@pytest.mark.parametrize("change", [
    {"lr": 0.01, "noise": 5.0},           # the chapter's default: every hypothesis holds
    {"lr": 0.02, "noise": 2.5},           # the chapter's main setting
    {"lr": 0.01, "noise": 0.0},           # GD: b = 0, c <= 0
    {"lr": 0.01, "noise": 2.0},           # c > 0, lambda <= 0: T1 undefined
    {"lr": 0.04, "noise": 5.0},           # the step-size condition fails, lambda > 0
    {"lr": 0.003, "noise": 8.0},          # T1 above max_steps
], ids=["default", "chapter", "gd", "lambda-negative", "lr-fails", "capped"])
def test_set_agrees_with_sgdlab(page, browser, change):
    result = browser.execute_async_script(_SET, change)
    want = _compare(result, page["config"])
    assert {key: result[key] for key in change} == change
    assert ("Every hypothesis holds" in result["sentence"]) == want["step_size_ok"]


def test_moving_the_noise_box_reruns_and_agrees(page, browser):
    browser.execute_async_script(_SET, {"lr": 0.01, "noise": 5.0})
    script = """
    const done = arguments[arguments.length - 1];
    const explorer = sgdlabLive.mounted.filter(e => e.kind === 'theorem1')[0];
    const box = Array.from(explorer.element.querySelectorAll('input[type=number]'))
      .find(c => /noise/i.test(c.labels[0].textContent));
    box.value = '3.5';
    box.dispatchEvent(new Event('change', {bubbles: true}));
    (async () => {
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline) {
        const last = explorer.last();
        if (last && last.noise === 3.5) { done(last); return; }
        await new Promise(r => setTimeout(r, 50));
      }
      done({error: 'no rerun after the noise box moved'});
    })();"""
    result = browser.execute_async_script(script)
    _compare(result, page["config"])
    assert not console_errors(browser)


def test_a_stale_run_is_cancelled(page, browser):
    script = """
    const done = arguments[arguments.length - 1];
    const explorer = sgdlabLive.mounted.filter(e => e.kind === 'theorem1')[0];
    const first = explorer.set({noise: 0.0, lr: 0.01});
    const second = explorer.set({noise: 5.0});
    Promise.all([first, second]).then(([a, b]) => done([a.noise, b.noise, explorer.last().noise]));
    """
    # the first run never finishes: both promises get the newer run, which includes both changes
    assert browser.execute_async_script(script) == [5.0, 5.0, 5.0]


def test_dark_theme_redraws_without_errors(page, browser):
    light = browser.execute_script(_THEME)
    browser.execute_script("document.documentElement.dataset.theme = 'dark';")
    browser.execute_async_script("setTimeout(arguments[0], 300);")
    dark = browser.execute_script(_THEME)
    browser.execute_script("document.documentElement.dataset.theme = 'light';")
    assert light != dark
    assert not console_errors(browser)


def test_unknown_or_bad_settings_are_refused(page, browser):
    script = """
    const done = arguments[arguments.length - 1];
    const explorer = sgdlabLive.mounted.filter(e => e.kind === 'theorem1')[0];
    Promise.allSettled([explorer.set({trials: 5}), explorer.set({lr: 'x'})])
      .then(r => done(r.map(x => x.status + ': ' + (x.reason && x.reason.message))));"""
    first, second = browser.execute_async_script(script)
    assert first.startswith("rejected") and "lr, noise" in first
    assert second.startswith("rejected") and "lr must be a finite number" in second
