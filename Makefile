# The two commands of the README:
#   make start  - install SpikeStudio and start the workbench (opens a sample project)
#   make test   - install everything (incl. Debian's Chromium) and run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 5006

.PHONY: start test install install-test chromium warm lint bench

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(PY)
	$(PY) -m pip install --quiet -e .

install-test: $(PY)
	$(PY) -m pip install --quiet -e '.[test,nir,neo]'

# Browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Compile and cache the numba kernels so the first Run in the browser is fast.
warm:
	$(VENV)/bin/spikestudio warm

start: install warm
	$(VENV)/bin/spikestudio serve --port $(PORT)

lint: install-test
	$(VENV)/bin/ruff check .

test: install-test chromium warm
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -p no:cacheprovider

bench: install-test
	$(PY) bench/cuba.py
