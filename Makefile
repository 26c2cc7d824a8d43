# Two commands do all set-up on a fresh machine with Python 3.11:
#   make book   -> installs into .venv, builds the HTML book (default `cpu` scale) into _build/html
#   make test   -> installs, then unit tests, every chapter under nbval (fast scale), strict book build,
#                  and every built page checked offline in headless Chromium (make check-html)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ismarl-installed
TIMED  := bash .ci/timed
# The test stages share one JAX compilation cache: a program compiled once (by a unit test, by nbval,
# by the strict build running the same chapters) is loaded, not compiled, the next time. A loaded
# program is the same executable, so every number is unchanged; only compile time is saved.
JAX_CACHE := JAX_COMPILATION_CACHE_DIR=$(CURDIR)/_build/jax-cache JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0
FAST   := ISMARL_SCALE=fast JAX_PLATFORMS=cpu $(JAX_CACHE)
# The pytest stages run in this many processes (pytest-xdist; `make test TEST_WORKERS=0` runs them in one).
# Unit tests are dealt out a file at a time (a file's module fixtures are built once), nbval a
# notebook at a time (its cells in order), the shipped-result tests one test at a time.
TEST_WORKERS ?= 2
SCALE  ?= cpu
# MathJax, require.js and the widget manager, fetched from the npm registry for offline pages.
OFFLINE       := _build/offline
OFFLINE_STAMP := $(OFFLINE)/.fetched
BROWSER_STAMP := $(VENV)/.ismarl-browser-installed
APT_GET       := DEBIAN_FRONTEND=noninteractive apt-get
# The build that check-html opens (`make check-html HTML_DIR=_build/html` checks `make book`'s).
HTML_DIR      ?= _build/fast/_build/html

.PHONY: install offline-assets book book-fast check-html test test-unit test-notebooks bench clean sync

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(TIMED) "install" sh -c '\
	  [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/python -m pip install -q --upgrade pip && \
	  $(BIN)/python -m pip install -q -r requirements.txt && \
	  $(BIN)/python -m pip install -q --no-deps -e . && \
	  $(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null'
	@touch $(STAMP)

offline-assets: $(OFFLINE_STAMP)

$(OFFLINE_STAMP): book/_ext/fetch_offline_assets.sh
	@command -v npm >/dev/null || ($(APT_GET) update -q && $(APT_GET) install -y -q npm)
	@$(TIMED) "offline assets (npm registry)" bash book/_ext/fetch_offline_assets.sh $(OFFLINE)
	@touch $@

book: $(STAMP) $(OFFLINE_STAMP)
	@$(TIMED) "book ($(SCALE) scale)" env ISMARL_SCALE=$(SCALE) $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open $(CURDIR)/_build/html/index.html"

book-fast: $(STAMP) $(OFFLINE_STAMP)
	@$(TIMED) "book (fast scale, strict)" env $(FAST) $(BIN)/jupyter-book build . -W -n --keep-going --path-output _build/fast

# Debian's Chromium and the Python driver for it (no browser download).
$(BROWSER_STAMP): $(STAMP) requirements-browser.txt
	@$(TIMED) "install browser check" sh -c '\
	  { command -v chromium >/dev/null || { $(APT_GET) update -q && $(APT_GET) install -y -q chromium; }; } && \
	  $(BIN)/python -m pip install -q -r requirements-browser.txt'
	@touch $@

# Every built page in headless Chromium with the network blocked; screenshots in _build/screenshots.
check-html: $(BROWSER_STAMP)
	@$(TIMED) "built pages in headless Chromium" $(BIN)/python tests/browser/check_html.py \
	  $(HTML_DIR) --screenshots _build/screenshots

test-unit: $(STAMP) $(BROWSER_STAMP)
	@$(TIMED) "unit and property tests" env JAX_PLATFORMS=cpu $(JAX_CACHE) $(BIN)/python -m pytest tests -q -m "not shipped" --durations=15 \
	  -n $(TEST_WORKERS) --dist loadfile
	@$(TIMED) "tests on shipped results" env JAX_PLATFORMS=cpu $(JAX_CACHE) $(BIN)/python -m pytest tests -q -m shipped --durations=5 \
	  -n $(TEST_WORKERS) --dist load

test-notebooks: $(STAMP)
	@$(TIMED) "notebooks under nbval (fast scale)" env $(FAST) $(BIN)/python -m pytest -q \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:cacheprovider \
	  -n $(TEST_WORKERS) --dist loadscope book/intro.ipynb book/chapters

test: test-unit test-notebooks book-fast check-html
	@echo "make test: all stages passed"

bench: $(STAMP)
	@for f in bench/bench_*.py; do env JAX_PLATFORMS=cpu $(BIN)/python $$f || exit 1; done

# Re-pair notebooks after editing a chapter's .md (never run in CI).
sync: $(STAMP)
	$(BIN)/jupytext --sync book/intro.md book/chapters/*.md

clean:
	rm -rf _build
