"""The built HTML book renders completely offline: figures, math and widgets.

Static checks read ``_build/html``; the browser check loads every page in headless Chromium
(Debian ``chromium`` + ``chromium-driver``, installed by ``make browser``) with every host name
but 127.0.0.1 unresolvable, and asserts that images loaded, math was typeset, widget views
rendered, and that there were no console errors and no failed requests.
"""

from __future__ import annotations

import importlib
import html
import inspect
import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import console_errors

pytestmark = [pytest.mark.book, pytest.mark.slow]  # they build the whole book (`make book`)

# Host names of CDNs (and other third-party hosts) a Sphinx/Jupyter Book page may load from.
CDN_HOSTS = (
    "cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "fonts.googleapis.com",
    "fonts.gstatic.com", "code.jquery.com", "cdn.plot.ly", "polyfill.io", "mybinder.org",
    "ajax.googleapis.com", "stackpath.bootstrapcdn.com", "use.fontawesome.com",
)
REPO = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# <link rel=...> values that make the browser fetch the href (the rest are navigation hints).
LOADING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch", "preconnect", "dns-prefetch",
                "icon", "shortcut", "apple-touch-icon", "manifest", "mask-icon"}
# Pages whose JavaScript is third-party and pinned (package-lock.json): the CDN names they
# contain are fallbacks the book never triggers (MathJax's speech-rule engine, loaded only if
# a reader turns on the accessibility explorer; the widget manager's loader for modules it does
# not bundle, which no page loads: test_no_page_ships_widget_state). The
# browser test shows they fetch nothing.
VENDORED_JS = ("_static/vendor/mathjax/", "_static/vendor/html-manager/")


# --------------------------------------------------------------------------- helpers

class _Page(HTMLParser):
    """Collects the loads, scripts and math of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[tuple[str, str]] = []  # (tag description, url)
        self.scripts: list[tuple[str, str]] = []  # (type, body) of inline scripts
        self.math = 0
        self._script: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if "math" in a.get("class", "").split():
            self.math += 1
        urls = []
        if tag in ("script", "img", "iframe", "source", "video", "audio", "embed", "track", "input"):
            urls.append(a.get("src", ""))
        if tag in ("img", "source"):
            urls += [part.strip().split(" ")[0] for part in a.get("srcset", "").split(",")]
        if tag == "video":
            urls.append(a.get("poster", ""))
        if tag == "object":
            urls.append(a.get("data", ""))
        if tag == "link" and LOADING_RELS & set(a.get("rel", "").lower().split()):
            urls.append(a.get("href", ""))
        for url in filter(None, urls):
            self.loads.append((f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs if k in ('rel', 'type'))}>", url))
        if tag == "script" and not a.get("src"):
            self._script = (a.get("type", ""), [])

    def handle_data(self, data):
        if self._script is not None:
            self._script[1].append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _is_external(url: str) -> bool:
    scheme = urlsplit(url).scheme.lower()
    return url.startswith("//") or scheme not in ("", "data", "blob", "about", "javascript", "mailto")


def _pages(html: Path) -> list[Path]:
    """Every built page: all .html files outside Sphinx's _static/_sources/_images folders."""
    pages = sorted(p for p in html.rglob("*.html")
                   if not p.relative_to(html).parts[0].startswith("_"))
    assert pages, f"no pages in {html}"
    return pages


@pytest.fixture(scope="module")
def pages(built_book: Path) -> list[Path]:
    return _pages(built_book)


# --------------------------------------------------------------------------- static checks

def test_no_cdn_or_external_load_in_pages(built_book: Path, pages: list[Path]) -> None:
    problems = []
    for path in pages:
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(built_book)
        problems += [f"{rel}: names {host}" for host in CDN_HOSTS if host in text]
        problems += [f"{rel}: {tag} loads {url}" for tag, url in _parse(path).loads if _is_external(url)]
    assert not problems, "pages load from outside the book:\n" + "\n".join(problems)


def test_local_references_exist(built_book: Path, pages: list[Path]) -> None:
    """Every script, stylesheet and image a page loads is in the build (relative URLs resolve)."""
    missing = []
    for path in pages:
        for tag, url in _parse(path).loads:
            if _is_external(url) or url.startswith(("data:", "blob:", "#")) or not url:
                continue
            target = (path.parent / unquote(urlsplit(url).path)).resolve()
            if not target.is_file() or not target.is_relative_to(built_book.resolve()):
                missing.append(f"{path.relative_to(built_book)}: {tag} {url}")
    assert not missing, "references that do not resolve to a built file:\n" + "\n".join(missing)


def test_css_and_js_load_nothing_external(built_book: Path, pages: list[Path]) -> None:
    """No stylesheet in the build imports or uses an external URL; no script a page loads names a CDN."""
    problems = []
    url_re = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"]?)\s*((?:https?:)?//[^'")\s]+)""", re.I)
    for css in built_book.rglob("*.css"):
        text = css.read_text(errors="replace")
        problems += [f"{css.relative_to(built_book)}: {m.group(1)}" for m in url_re.finditer(text)]
    scripts = set()
    for path in pages:
        for tag, url in _parse(path).loads:
            if tag.startswith("<script") and not _is_external(url):
                scripts.add((path.parent / unquote(urlsplit(url).path)).resolve())
    for js in sorted(s for s in scripts if s.is_file()):
        rel = js.relative_to(built_book.resolve()).as_posix()
        if rel.startswith(VENDORED_JS):
            continue
        text = js.read_text(errors="replace")
        problems += [f"{rel}: names {host}" for host in CDN_HOSTS if host in text]
    assert not problems, "CSS/JS that loads from outside the book:\n" + "\n".join(problems)


def test_api_page_documents_every_public_name(built_book: Path) -> None:
    """book/api.html shows every public function and class (each module's ``__all__``) of every
    module it documents, and loads nothing from outside the book."""
    page = built_book / "book" / "api.html"
    assert page.is_file(), "book/api.html was not built (book/api.md in _toc.yml?)"
    text = page.read_text(encoding="utf-8")
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    modules = sorted(i.removeprefix("module-") for i in ids if i.startswith("module-sgdlab"))
    assert "sgdlab" in modules and "sgdlab.theory" in modules, f"modules on the API page: {modules}"
    import sgdlab

    missing = []
    for name in modules:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if inspect.ismodule(obj) or not (inspect.isclass(obj) or callable(obj)):
                continue
            # A name that sgdlab itself exports is documented once, as sgdlab.NAME.
            if f"{name}.{attr}" not in ids and not (
                    getattr(sgdlab, attr, None) is obj and f"sgdlab.{attr}" in ids):
                missing.append(f"{name}.{attr}")
    assert not missing, "public names without an entry on the API page:\n" + "\n".join(missing)
    problems = [f"names {host}" for host in CDN_HOSTS if host in text]
    problems += [f"{tag} loads {url}" for tag, url in _parse(page).loads if _is_external(url)]
    assert not problems, "book/api.html loads from outside the book:\n" + "\n".join(problems)


def test_section5_pages_show_figures_open_choices_and_glued_verdicts(built_book: Path) -> None:
    """The Section 5 chapters (book/nn_trajectory.md, book/nn_landscape.md): their figures,
    the table of the training choices the paper leaves open, and the glued tally of the
    three-valued verdicts (sgdlab.book.verdicts), filled in."""
    figures = {"nn_trajectory": ("fig-nn-trajectory-5a", "fig-nn-trajectory-5b",
                                 "fig-nn-trajectory-5c"),
               "nn_landscape": ("fig-nn-landscape-allpairs", "fig-nn-landscape-spectrum")}
    verdicts = re.compile(r"[\d,]+ yes, [\d,]+ no and [\d,]+ can(&#8217;|\u2019|')t tell")
    for stem, names in figures.items():
        text = (built_book / "book" / f"{stem}.html").read_text(encoding="utf-8")
        ids = set(re.findall(r'\bid="([^"]+)"', text))
        assert set(names) <= ids, f"{stem}: figures missing: {sorted(set(names) - ids)}"
        assert verdicts.search(text), f"{stem}: the glued summary of the verdicts is missing"
    text = (built_book / "book" / "nn_trajectory.html").read_text(encoding="utf-8")
    assert "momentum" in text and "weight decay" in text, "the open choices table is missing"


def _prose(path: Path) -> str:
    """A page's text as a reader sees it, without code cells, their outputs, scripts and
    styles: what the glued prose and the tables say."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<pre\b.*?</pre>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text))


# a numeral with more than 6 significant digits (trailing zeros of a whole number don't count)
_LONG_NUMBER = re.compile(r"(?<![\w.,{])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w{}])")
# the same value twice where one value per run or dimension was meant: "0 and 0 points"
_SAME_TWICE = re.compile(r"(?<![\w.,])(\d[\d,.]*%?) and \1(?![\w.,%]*\d)")
# an empty clause, or a clause said twice in a row
_EMPTY_OR_REPEATED = re.compile(r"(?<!\w)\(\s*\)|[;,]\s*[;,]|\b(\w+(?: \w+){2,})[;,] \1\b")


def _long_numbers(text: str) -> list[str]:
    out = []
    for m in _LONG_NUMBER.finditer(text):
        whole, frac = m.group(1).replace(",", ""), (m.group(2) or "")[1:]
        digits = (whole + frac).lstrip("0") if frac else whole.lstrip("0").rstrip("0")
        if len(digits) > 6:
            out.append(text[max(0, m.start() - 40):m.end() + 10])
    return out


def test_prose_checks_catch_what_they_look_for() -> None:
    assert _long_numbers("The measured L is 6.99999961 here") and \
        _long_numbers("at 38,662,742,200 steps") and not _long_numbers("1,000,000 and 0.000583%")
    assert _SAME_TWICE.search("it rises at 0 and 0 steps") and \
        not _SAME_TWICE.search("between 0 and 0.5, and 2 and 20")
    assert _EMPTY_OR_REPEATED.search("a verdict (); then") and \
        _EMPTY_OR_REPEATED.search("every one is positive; every one is positive") and \
        not _EMPTY_OR_REPEATED.search("sgdlab.run_sgd() and f(x), g(x)")


def test_prose_has_no_long_numbers_doubled_values_or_empty_clauses(built_book: Path) -> None:
    """What a reader sees (issue 19): numbers to meaningful digits, one value where the runs
    or dimensions agree, and no clause left empty or said twice."""
    problems = []
    for path in sorted((built_book / "book").glob("*.html")):
        if path.stem in ("api",):
            continue
        text = _prose(path)
        problems += [f"{path.stem}: long number: {t!r}" for t in _long_numbers(text)]
        problems += [f"{path.stem}: same value twice: {text[max(0, m.start() - 40):m.end() + 20]!r}"
                     for m in _SAME_TWICE.finditer(text)]
        problems += [f"{path.stem}: empty or repeated: {text[max(0, m.start() - 40):m.end() + 20]!r}"
                     for m in _EMPTY_OR_REPEATED.finditer(text)]
    assert not problems, "\n".join(problems)


def test_motivating_example_shows_figures_1_2_3_search_and_ledger(built_book: Path) -> None:
    """book/motivating_example.md: Figures 1-2 (one step), the search figure, Figure 3, the
    glued outcome of the search (chosen by sgdlab.book.motivating_example), the ledger, the live
    explorer (in place of the saved-state widget and the picture slider)."""
    text = (built_book / "book" / "motivating_example.html").read_text(encoding="utf-8")
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    names = {"fig-figure3", "fig-motivating-search", "fig-motivating-one-step"}
    assert names <= ids, f"figures missing: {sorted(names - ids)}"
    assert re.search(r"satisfies (all five claims in each of its|[0-4] of the five claims)",
                     text)
    assert "{glue}" not in text
    assert "shrinks at every stage" in text or "does not shrink at every stage" in text
    assert text.count("<th") >= 3 and "verdict" in text, "the ledgers are missing"
    assert 'data-explorer="motivating"' in text, "the live explorer is missing"
    assert 'class="sgdlab-slider"' not in text and WIDGET_VIEW not in text


def test_offline_assets_are_served(built_book: Path, pages: list[Path]) -> None:
    """What the pages really load from the vendored assets is in the build: every page with math
    loads the local MathJax, and the CHTML font MathJax fetches at run time sits next to it."""
    vendor = (built_book / "_static" / "vendor").resolve()
    loaded, missing_math = set(), []
    for path in pages:
        page = _parse(path)
        here = {(path.parent / unquote(urlsplit(url).path)).resolve() for _, url in page.loads
                if not _is_external(url) and url and not url.startswith(("data:", "blob:", "#"))}
        vendored = {p.relative_to(vendor).as_posix() for p in here if p.is_relative_to(vendor)}
        if page.math and "mathjax/tex-chtml.js" not in vendored:
            missing_math.append(str(path.relative_to(built_book)))
        loaded |= vendored
    assert not missing_math, f"pages with math that do not load the local MathJax: {missing_math}"
    assert "mathjax/tex-chtml.js" in loaded, f"no page loads the local MathJax: {sorted(loaded)}"
    assert all((vendor / rel).is_file() for rel in loaded), sorted(loaded)
    font = vendor / "mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff"
    assert font.is_file(), "MathJax's CHTML fonts are missing (run `make assets`)"


def test_no_page_ships_widget_state(built_book: Path, pages: list[Path]) -> None:
    """In the HTML the explorers are the live JavaScript ones; the ipywidgets cells are
    notebook-only (``remove-cell``) but still save their state, which the book's Sphinx extension
    drops: no page carries a widget view or saved widget state, or loads the widget manager."""
    chapters = [p for p in (REPO / "book").glob("*.md")
                if "remove-cell" in p.read_text() and "_explorer(" in p.read_text()]
    assert chapters, "no chapter has a notebook-only widget cell: this test checks nothing"
    problems = []
    for path in pages:
        page = _parse(path)
        rel = path.relative_to(built_book)
        kinds = {kind for kind, _ in page.scripts} & {WIDGET_VIEW, WIDGET_STATE}
        problems += [f"{rel}: carries {kind}" for kind in sorted(kinds)]
        problems += [f"{rel}: loads {url}" for tag, url in page.loads if tag.startswith("<script")
                     and urlsplit(url).path.endswith(("embed-amd.js", "require.js"))]
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- browser check

# Runs in the page once it has loaded: waits for MathJax and the widget manager, then reports.
_INSPECT = r"""
const done = arguments[arguments.length - 1];
const sleep = ms => new Promise(r => setTimeout(r, ms));
(async () => {
  const deadline = Date.now() + 20000;
  const views = Array.from(document.querySelectorAll('script[type="%s"]'));
  const rendered = s => s.parentElement && s.parentElement.querySelector('.jupyter-widgets') !== null;
  while (Date.now() < deadline && !views.every(rendered)) await sleep(50);
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await Promise.race([MathJax.startup.promise, sleep(Math.max(0, deadline - Date.now()))]);
  }
  const imgs = Array.from(document.images);
  imgs.forEach(img => { img.loading = 'eager'; });
  await Promise.race([
    Promise.all(imgs.map(img => img.complete ? null :
      new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); }))),
    sleep(Math.max(0, deadline - Date.now())),
  ]);
  await sleep(300);  // let late font/CSS requests settle into the log
  const main = document.querySelector('main') || document.body;
  done({
    views: views.length,
    unrendered: views.filter(s => !rendered(s)).map(s => s.textContent.slice(0, 120)),
    widgets: document.querySelectorAll('.jupyter-widgets').length,
    math: main.querySelectorAll('.math').length,
    mjx: main.querySelectorAll('mjx-container').length,
    // TeX errors: MathJax renders them as <merror>, and undefined macros as red <mtext>\name.
    mjxErrors: (window.MathJax && MathJax.startup && MathJax.startup.document && MathJax.startup.toMML)
      ? Array.from(MathJax.startup.document.math)
          .filter(it => it.root && /<merror|<mtext mathcolor="red">\\/.test(MathJax.startup.toMML(it.root)))
          .map(it => it.math.slice(0, 200))
      : [],
    mathjax: !!(window.MathJax && MathJax.startup && MathJax.startup.document),
    brokenImages: imgs.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src.slice(0, 120)),
    images: imgs.length,
    // What scrolls sideways at this window's text width: tables, and the code of cells.
    wide: Array.from(main.querySelectorAll('table, div.cell_input pre'))
      .filter(el => el.scrollWidth > el.clientWidth + 1 ||
              el.getBoundingClientRect().width > (el.closest('article') || main).clientWidth + 1)
      .map(el => el.tagName + ': ' + el.textContent.trim().slice(0, 80)),
  });
})().catch(err => done({error: String(err && err.stack || err)}));
""" % WIDGET_VIEW


def _network_problems(entries: list[dict], origin: str) -> list[str]:
    urls, problems = {}, []
    for entry in entries:
        msg = json.loads(entry["message"])["message"]
        method, params = msg["method"], msg.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            urls[params["requestId"]] = url
            if not url.startswith((origin, "data:", "blob:", "about:", "chrome:", "devtools:")):
                problems.append(f"request to outside the book: {url}")
        elif method == "Network.responseReceived":
            response = params["response"]
            if response.get("status", 200) >= 400 and not response["url"].endswith("/favicon.ico"):
                problems.append(f"HTTP {response['status']}: {response['url']}")
        elif method == "Network.loadingFailed":
            url = urls.get(params["requestId"], "?")
            if not url.endswith("/favicon.ico"):
                problems.append(f"failed ({params.get('errorText')}): {url}")
    return problems


def test_every_page_renders_offline(built_book: Path, pages: list[Path], server: str, browser) -> None:
    browser.get("about:blank")
    browser.get_log("browser"), browser.get_log("performance")  # drop start-up noise
    failures, summary = [], []
    started = time.perf_counter()
    for path in pages:
        rel = path.relative_to(built_book).as_posix()
        browser.get(f"{server}/{rel}")
        report = browser.execute_async_script(_INSPECT)
        console = console_errors(browser)
        network = _network_problems(browser.get_log("performance"), server)
        problems = []
        if "error" in report:
            problems.append(f"inspection script failed: {report['error']}")
        else:
            problems += [f"widget view not rendered: {v}" for v in report["unrendered"]]
            if report["math"] and not report["mathjax"]:
                problems.append(f"{report['math']} math elements but MathJax did not start")
            elif report["mjx"] < report["math"]:
                problems.append(f"math not typeset: {report['mjx']} mjx-container for {report['math']} math elements")
            problems += [f"TeX error: {e}" for e in report["mjxErrors"]]
            problems += [f"image not loaded: {src}" for src in report["brokenImages"]]
            problems += [f"scrolls sideways: {w}" for w in report["wide"]]
            summary.append(f"{rel}: {report['images']} img, {report['mjx']} math, {report['views']} widget views")
        problems += [f"console error: {m}" for m in console]
        problems += network
        failures += [f"{rel}: {p}" for p in problems]
    elapsed = time.perf_counter() - started
    print(f"\nloaded {len(pages)} pages offline in {elapsed:.1f} s\n" + "\n".join(summary))
    assert not failures, "pages that do not render offline:\n" + "\n".join(failures)
