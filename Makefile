# Two commands do all set-up on a fresh machine with Python 3.11:
#   make book   -> installs into .venv, builds the HTML book (default `cpu` scale) into _build/html
#   make test   -> installs, then unit tests, every chapter under nbval (fast scale), strict book build
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ismarl-installed
TIMED  := bash .ci/timed
FAST   := ISMARL_SCALE=fast JAX_PLATFORMS=cpu
SCALE  ?= cpu

.PHONY: install book book-fast test test-unit test-notebooks bench clean sync

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(TIMED) "install" sh -c '\
	  [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/python -m pip install -q --upgrade pip && \
	  $(BIN)/python -m pip install -q -r requirements.txt && \
	  $(BIN)/python -m pip install -q --no-deps -e . && \
	  $(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null'
	@touch $(STAMP)

book: $(STAMP)
	@$(TIMED) "book ($(SCALE) scale)" env ISMARL_SCALE=$(SCALE) $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open $(CURDIR)/_build/html/index.html"

book-fast: $(STAMP)
	@$(TIMED) "book (fast scale, strict)" env $(FAST) $(BIN)/jupyter-book build . -W -n --keep-going --path-output _build/fast

test-unit: $(STAMP)
	@$(TIMED) "unit and property tests" env JAX_PLATFORMS=cpu $(BIN)/python -m pytest tests -q -m "not shipped"
	@$(TIMED) "tests on shipped results" env JAX_PLATFORMS=cpu $(BIN)/python -m pytest tests -q -m shipped

test-notebooks: $(STAMP)
	@$(TIMED) "notebooks under nbval (fast scale)" env $(FAST) $(BIN)/python -m pytest -q \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:cacheprovider book/chapters

test: test-unit test-notebooks book-fast
	@echo "make test: all stages passed"

bench: $(STAMP)
	@for f in bench/bench_*.py; do env JAX_PLATFORMS=cpu $(BIN)/python $$f || exit 1; done

# Re-pair notebooks after editing a chapter's .md (never run in CI).
sync: $(STAMP)
	$(BIN)/jupytext --sync book/chapters/*.md

clean:
	rm -rf _build
