"""The live Figure 4 explorer of chapter step-size (``book/_static/live/figure4.js``) in the
built page, in headless Chromium with the network blocked, against sgdlab itself: the change
of the squared distance (:func:`sgdlab.theory.gd_distance_change`), the exact threshold
(:func:`sgdlab.theory.overshoot_lr`) and Theorem 3's (:func:`sgdlab.theory.theorem3_threshold`)
at the points the test moves x_t and lr to, through ``set`` and through the controls.

``SGDLAB_BUILT_BOOK`` may point at any folder with an ``index.html`` and a
``book/step_size.html`` that holds the explorer (``live_figure4(...).html``).
"""

import json

import numpy as np
import pytest
from conftest import console_errors
from numpy.testing import assert_allclose
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from js.fixture_figure4 import A, BETA, BOWL, OMEGA
from sgdlab import theory
from sgdlab.book import step_size

pytestmark = [pytest.mark.book, pytest.mark.slow]

DIV = 'document.querySelector(\'div.sgdlab-live[data-explorer="figure4"]\')'
# Infinity and NaN survive as strings (WebDriver's JSON has neither).
AS_JSON = "return JSON.stringify(%s, (k, v) => typeof v === 'number' && !isFinite(v) ? String(v) : v);"
SET = f"const n = {DIV}.sgdlabExplorer.set(arguments[0]);" + AS_JSON % "n"
NUMBERS = AS_JSON % f"{DIV}.sgdlabExplorer.numbers()"
RTOL = 1e-12


def _read(text):
    return {k: float(v) if isinstance(v, str) and k not in ("regime", "sentence") else v
            for k, v in json.loads(text).items()}


@pytest.fixture(scope="module")
def page(built_book, server, browser):
    browser.get("about:blank")
    browser.get_log("browser")
    browser.get(f"{server}/book/step_size.html")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        f"return !!({DIV} && {DIV}.sgdlabExplorer) && (window.sgdlabLive.mounted || []).length"))
    config = json.loads(browser.execute_script(f"return {DIV}.dataset.config"))
    return browser, config


def _sgdlab(config, x_t, lr):
    x = np.array([x_t], dtype=np.float64)
    c_prime = config["c_prime"]
    return {"change": theory.gd_distance_change(BOWL, x, lr=lr)[0],
            "eta0": theory.overshoot_lr(BOWL, x)[0],
            "eta3": theory.theorem3_threshold(BOWL, x, c_prime=c_prime)[0],
            "grad": BOWL.grad(x)[0], "dist_sq": float(x[0] @ x[0])}


def _compare(numbers, config, x_t, lr):
    """The page's numbers against sgdlab's; returns the largest relative difference."""
    want = _sgdlab(config, x_t, lr)
    assert numbers["x_t"] == list(x_t) and numbers["lr"] == lr
    scale = max(want["dist_sq"], numbers["dist_sq_after"], abs(want["change"]))
    assert abs(numbers["change"] - want["change"]) <= RTOL * scale, (x_t, lr)
    for key in ("eta0", "eta3"):
        assert_allclose(numbers[key], want[key], rtol=RTOL, err_msg=f"{key} at {x_t}, {lr}")
    assert_allclose(numbers["grad"], want["grad"], rtol=RTOL)
    assert numbers["inside"] == (numbers["change"] < 0)
    worst = [abs(numbers["change"] - want["change"]) / scale if scale else 0.0]
    worst += [abs(numbers[k] - want[k]) / abs(want[k]) for k in ("eta0", "eta3")
              if np.isfinite(want[k]) and want[k] != 0]
    return max(worst)


def test_explorer_replaces_the_picture_and_has_labelled_controls(page):
    browser, config = page
    assert config["A"] == A.tolist() and (config["beta"], config["omega"]) == (BETA, OMEGA)
    assert browser.execute_script(
        f"return getComputedStyle({DIV}.querySelector('img.sgdlab-live-static')).display"
    ) == "none"
    unlabelled = browser.execute_script(
        f"return Array.from({DIV}.querySelectorAll('input')).filter("
        "i => !document.querySelector(`label[for=\"${i.id}\"]`)).length")
    assert unlabelled == 0
    sizes = browser.execute_script(
        f"const c = {DIV}.querySelector('canvas.sgdlab-f4-picture');"
        "return [c.width, c.getBoundingClientRect().width, devicePixelRatio,"
        f" {DIV}.getBoundingClientRect().width];")
    assert sizes[0] == round(sizes[1] * sizes[2]) and 0 < sizes[1] <= sizes[3]


def test_set_equals_sgdlab(page):
    browser, config = page
    eta0 = float(theory.overshoot_lr(BOWL, [config["x_t"]])[0])
    rng = np.random.default_rng(3)
    cases = [(config["x_t"], config["lr"]), (config["x_t"], eta0), ([0.0, 1.3], 0.1),
             ([-0.7, 0.0], 3.0), ([0.5, 1.5], 1e-9), ([0.5, 1.5], 1e6), ([3.0, -2.5], 0.05)]
    cases += [(list(x), float(lr)) for x, lr in zip(rng.uniform(-2, 2, (20, 2)),
                                                     10 ** rng.uniform(-2, 1, 20))]
    worst = max(_compare(_read(browser.execute_script(SET, {"x_t": x, "lr": lr})), config, x, lr)
                for x, lr in cases)
    print(f"\nlargest relative difference page vs sgdlab: {worst:.3g}")
    at_star = _read(browser.execute_script(SET, {"x_t": [0.0, 0.0], "lr": 1.0}))
    want = _sgdlab(config, [0.0, 0.0], 1.0)
    assert at_star["eta3"] == want["eta3"] == np.inf and at_star["eta0"] == np.inf
    assert at_star["change"] == want["change"] == 0.0 and at_star["regime"] == "still"


def test_sentence_follows_figure4s_three_step_sizes(page):
    browser, config = page
    picture = step_size.figure4_steps(BOWL, config["x_t"], c_prime=config["c_prime"])
    for name, regime, outcome in (("small", "below", "closer to x*"),
                                  ("between", "between", "farther from x*"),
                                  ("large", "above", "farther from x*")):
        numbers = _read(browser.execute_script(
            SET, {"x_t": config["x_t"], "lr": picture.lrs[name]}))
        assert numbers["regime"] == regime
        assert f"the step ends {outcome}" in numbers["sentence"]
        assert_allclose(numbers["ratio"], picture.ratios[name], rtol=1e-12)
        shown = browser.execute_script(f"return {DIV}.querySelector('.sgdlab-f4-sentence').textContent")
        assert shown == numbers["sentence"]


def test_controls_move_the_numbers(page):
    browser, config = page
    browser.execute_script(SET, {"x_t": config["x_t"], "lr": config["lr"]})
    box = browser.find_element(By.CSS_SELECTOR, ".sgdlab-f4-controls input[type=number][min='0']")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("2")
    numbers = _read(browser.execute_script(NUMBERS))
    assert numbers["lr"] == 2.0
    _compare(numbers, config, config["x_t"], 2.0)
    slider = browser.find_element(By.CSS_SELECTOR, ".sgdlab-f4-controls input[type=range]")
    slider.send_keys(Keys.ARROW_LEFT)
    moved = _read(browser.execute_script(NUMBERS))
    assert moved["lr"] < 2.0 and box.get_attribute("value") == f"{moved['lr']:.6g}"
    _compare(moved, config, config["x_t"], moved["lr"])
    canvas = browser.find_element(By.CSS_SELECTOR, "canvas.sgdlab-f4-picture")
    canvas.click()  # the centre of the picture: x_t jumps to x*
    centre = _read(browser.execute_script(NUMBERS))
    assert np.hypot(*centre["x_t"]) < 0.05
    canvas.send_keys(Keys.ARROW_UP)
    up = _read(browser.execute_script(NUMBERS))
    assert_allclose(up["x_t"], [centre["x_t"][0], centre["x_t"][1] + config["half_width"] / 100])
    _compare(up, config, up["x_t"], up["lr"])
    ActionChains(browser).move_to_element(canvas).click_and_hold().move_by_offset(40, -30) \
        .release().perform()
    dragged = _read(browser.execute_script(NUMBERS))
    assert dragged["x_t"][0] > 0 and dragged["x_t"][1] > 0
    _compare(dragged, config, dragged["x_t"], dragged["lr"])


def test_theme_switch_redraws_and_no_console_errors(page):
    browser, _ = page
    corner = (f"const c = {DIV}.querySelector('canvas.sgdlab-f4-picture');"
              "return Array.from(c.getContext('2d').getImageData(4, 4, 1, 1).data);")
    before = browser.execute_script(corner)
    theme = browser.execute_script("return document.documentElement.dataset.theme")
    browser.execute_script("document.documentElement.dataset.theme = arguments[0]",
                           "light" if theme == "dark" else "dark")
    after = browser.execute_script(corner)
    browser.execute_script("document.documentElement.dataset.theme = arguments[0]", theme)
    assert before != after
    errors = console_errors(browser)
    assert not errors, errors
