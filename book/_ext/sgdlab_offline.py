"""Sphinx extension: keep the built book loadable with no network (DESIGN.md, "Known traps").

Loaded by ``_config.yml`` (``sphinx.local_extensions``). It

* drops sphinx-thebe's page scripts while thebe is off: they name an external address
  (``THEBE_JS_URL``), and Jupyter Book adds the inline one twice, which is a SyntaxError in every page;
* drops the saved widget state and the widget manager's scripts from a page that shows no
  widget view (a notebook-only ipywidgets cell, ``remove-cell``, still saves its state);
* on pages that embed widgets (myst-nb adds ``vendor/html-manager/embed-amd.js``), adds an
  inline script before it that (1) points the HTML manager's webpack public path at
  ``_static/vendor/html-manager/`` (a RequireJS ``paths`` entry: the bundle derives the path
  from its module's URL) so its Font Awesome fonts load from the build, and
  (2) gives MathJax 3 the ``MathJax.Hub.Queue`` call that ``@jupyter-widgets/base`` still
  makes (MathJax 2 API) to typeset widget labels, instead of throwing a TypeError;
* sets the template's ``default_mode`` to ``auto`` where it is empty (sphinx-book-theme leaves
  it empty, which pydata-sphinx-theme reports as a console error on a first visit);
* after the build, warns (an error under ``-W``) about any page that loads something from
  outside the book.
"""

from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

WIDGETS_JS = "vendor/html-manager/embed-amd.js"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# Runs on pages with widget views, before require.js and embed-amd.js.
WIDGETS_PRELUDE = r"""
(function () {
  var root = document.documentElement.dataset.content_root || "";
  var assets = new URL(root + "_static/vendor/html-manager/", document.baseURI).href;
  window.__jupyter_widgets_assets_path__ = assets;
  // RequireJS reads a global `require` object as its configuration when it loads. The bundle
  // derives its webpack public path (where its fonts are) from this module's URL.
  window.require = {paths: {"@jupyter-widgets/html-manager/dist": assets.slice(0, -1)}};
  document.addEventListener("DOMContentLoaded", function () {
    var MJ = window.MathJax;
    if (!MJ || MJ.Hub || !MJ.startup) return;
    MJ.Hub = {Queue: function () {
      Array.prototype.forEach.call(arguments, function (job) {
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
          MJ.startup.promise.then(function () { return MJ.typesetPromise([job[2]]); })
            .catch(function (err) { console.warn("MathJax typeset failed", err); });
        }
      });
    }};
  });
})();
""".strip()

# A tag that makes the browser fetch its URL: script/img/iframe/source/video/audio/embed src,
# and link href unless the link is only navigation (rel=prev/next/index/search/canonical...).
_LOAD_TAG = re.compile(r"<(script|img|iframe|source|video|audio|embed|input)\b[^>]*?\ssrc\s*=\s*[\"']?(?:https?:)?//", re.I)
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.I)
_LINK_HREF_EXTERNAL = re.compile(r"\shref\s*=\s*[\"']?(?:https?:)?//", re.I)
_LINK_NAV_REL = re.compile(r"\srel\s*=\s*[\"']?(?:prev|next|index|search|canonical|author|license|help|alternate|top|up|first|last|copyright|glossary|genindex)\b", re.I)


def _thebe_enabled(app: Sphinx) -> bool:
    launch = (app.config.html_theme_options or {}).get("launch_buttons") or {}
    always = (getattr(app.config, "thebe_config", None) or {}).get("always_load")
    return bool(launch.get("thebe")) or always in (True, "true", "True")


def _src(js) -> str:
    return str(getattr(js, "filename", js) or "").split("?")[0]


def _is_widget_script(js) -> bool:
    """myst-nb's saved widget state, or the scripts that render it (RequireJS, the manager)."""
    kind = str(getattr(js, "attributes", {}).get("type", ""))
    return kind == WIDGET_STATE or _src(js).endswith((WIDGETS_JS, "vendor/require.js"))


def _page_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    if not context.get("default_mode"):
        context["default_mode"] = "auto"  # pydata-sphinx-theme's own fallback, without the error
    scripts = context.get("script_files")  # the builder's per-page list: edit it in place
    if not scripts:
        return
    if not _thebe_enabled(app):
        scripts[:] = [
            js for js in scripts
            if not _src(js).endswith("sphinx-thebe.js")
            and "THEBE_JS_URL" not in str(getattr(js, "attributes", {}).get("body", ""))
        ]
    if WIDGET_VIEW not in context.get("body", ""):  # no view: no state, no manager to load
        scripts[:] = [js for js in scripts if not _is_widget_script(js)]
    amd = [js for js in scripts if _src(js).endswith((WIDGETS_JS, "vendor/require.js"))]
    if any(_src(js).endswith(WIDGETS_JS) for js in amd):
        first = min(getattr(js, "priority", 500) for js in amd)
        app.add_js_file(None, body=WIDGETS_PRELUDE, priority=first - 1)


def external_loads(html: str) -> list[str]:
    """The tags of one page's HTML that load from an external address (the test suite also
    looks for known CDN names anywhere in the output)."""
    found = [m.group(0)[:120] for m in _LOAD_TAG.finditer(html)]
    for m in _LINK_TAG.finditer(html):
        tag = m.group(0)
        if _LINK_HREF_EXTERNAL.search(tag) and not _LINK_NAV_REL.search(tag):
            found.append(tag[:120])
    return found


def _check_output(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in sorted(Path(app.outdir).rglob("*.html")):
        found = external_loads(page.read_text(encoding="utf-8", errors="replace"))
        if found:
            logger.warning(
                "%s loads from outside the book (it must render offline): %s",
                page.relative_to(app.outdir), "; ".join(sorted(set(found))),
                type="sgdlab", subtype="offline",
            )


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _page_scripts, priority=900)
    app.connect("build-finished", _check_output)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
