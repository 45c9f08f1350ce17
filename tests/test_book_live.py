"""sgdlab.book.live: the HTML a live explorer mounts on, and the page's seeds."""

import html
import json
import re

import pytest

from sgdlab.book.live import SEED_LIMIT, LiveExplorer, explorer_html, page_seed

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_html_carries_the_settings_and_the_static_picture():
    config = {"label": "a <b> & \"quoted\" 'text'", "x": [0.1, 2e-300], "n": 3}
    text = explorer_html("motivating", config, PNG, alt='f "and" g')
    match = re.fullmatch(r'<div class="sgdlab-live" data-explorer="motivating" '
                         r'data-config="([^"]*)"><img class="sgdlab-live-static" '
                         r'src="data:image/png;base64,([^"]+)" alt="([^"]*)"></div>', text)
    assert match, text
    assert json.loads(html.unescape(match.group(1))) == config  # exact, through the escaping
    assert html.unescape(match.group(3)) == 'f "and" g'
    live = LiveExplorer("figure4", {"a": 1}, PNG, alt="x")
    assert live._repr_html_() == explorer_html("figure4", {"a": 1}, PNG, alt="x")


@pytest.mark.parametrize("args, error, message", [
    (("two words", {}, PNG), ValueError, "kind must be an explorer name"),
    (("motivating", [], PNG), TypeError, "config must be a dict"),
    (("motivating", {}, "png"), TypeError, "png must be PNG bytes"),
    (("motivating", {"x": float("nan")}, PNG), ValueError, "Out of range float values"),
])
def test_bad_arguments_are_named(args, error, message):
    with pytest.raises(error, match=message):
        explorer_html(*args, alt="x")


def test_page_seeds_stop_at_two_to_the_53():
    assert page_seed("seed", SEED_LIMIT - 1) == 2**53 - 1
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0 and < 2\*\*53"):
        page_seed("seed", SEED_LIMIT)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        page_seed("seed", -1)
