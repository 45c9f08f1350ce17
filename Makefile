# sgdlab: set-up, book, tests (test, test-fast), benchmarks. Every target creates .venv first if it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The book's execution cache only sees cell code; key it also on the package's source (and on
# the book's Sphinx extension, whose changes Sphinx does not notice by itself).
SGDLAB_HASH = $(shell cat $$(find sgdlab book/_ext -name '*.py' | LC_ALL=C sort) | sha256sum | cut -c1-16)

.PHONY: setup assets browser book test test-fast test-js bench notebooks clean

setup: $(STAMP) assets

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Offline copies of MathJax 3, require.js and the ipywidgets 8 HTML manager (npm registry, pinned
# by package-lock.json), served from the built book (_static/vendor/) so it renders with no network.
# embed-amd.js bundles @jupyter-widgets/base, controls and output; the Font Awesome fonts it
# references are resolved next to it, so the whole dist/ folder is copied. MathJax fetches its
# CHTML fonts from [mathjax]/output/chtml/fonts, i.e. inside vendor/mathjax.
VENDOR := book/_static/vendor
WIDGETS_DIST := node_modules/@jupyter-widgets/html-manager/dist

assets: $(VENDOR)/.stamp

$(VENDOR)/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/html-manager
	cp -r node_modules/mathjax/es5 $(VENDOR)/mathjax
	cp node_modules/mathjax/LICENSE $(VENDOR)/mathjax/LICENSE
	cp node_modules/requirejs/require.js $(VENDOR)/require.js
	cp $(WIDGETS_DIST)/embed-amd.js $(WIDGETS_DIST)/*.woff2 $(WIDGETS_DIST)/*.woff \
	   $(WIDGETS_DIST)/*.ttf $(WIDGETS_DIST)/*.eot $(WIDGETS_DIST)/*.svg $(VENDOR)/html-manager/
	touch $@

# Headless Chromium + chromedriver (Debian) for the built-HTML browser tests (tests/test_book_html.py).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

book: setup
	@mkdir -p _build
	@if [ "$$(cat _build/.sgdlab-hash 2>/dev/null)" != "$(SGDLAB_HASH)" ]; then \
	  echo "sgdlab changed: invalidating the execution cache"; \
	  rm -rf _build/.jupyter_cache _build/.doctrees _build/html; fi
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "$(SGDLAB_HASH)" > _build/.sgdlab-hash

test: setup browser test-js
	$(PY) -m pytest

# The live explorers' JavaScript (book/_static/live/) against known answers that sgdlab writes
# now (tests/js/write_fixtures.py), with node's built-in test runner.
JS_FIXTURES := _build/js-fixtures
test-js: setup
	$(PY) tests/js/write_fixtures.py $(JS_FIXTURES)
	SGDLAB_JS_FIXTURES=$(abspath $(JS_FIXTURES)) node --test tests/js/*.test.mjs

# The quick loop (a couple of minutes on 2 cores): unit tests only, no book build, no chapter
# execution, no network training (markers in pyproject.toml).
test-fast: setup test-js
	$(PY) -m pytest -m "not slow and not book"

bench: setup
	$(PY) -m sgdlab.bench

# Open any chapter as a notebook: writes .ipynb copies next to the .md chapters (git-ignored).
notebooks: setup
	$(VENV)/bin/jupytext --to notebook book/*.md
	@echo "Open them with: $(VENV)/bin/jupyter lab book/  (JupyterLab with jupytext also opens the .md chapters directly as notebooks)"

clean:
	rm -rf _build book/_static/vendor node_modules .pytest_cache
