# Greenpair — `make run` to use it, `make test` to test it. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# Models provisioned by `make setup`: the default model and the tiny test model.
MODELS ?= qwen2.5-coder-1.5b smollm2-135m
export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup system-deps python-deps models run test test-core lint bench screenshots clean

setup: system-deps python-deps models

system-deps:
	@bash packaging/linux/install-system-deps.sh

python-deps: $(STAMP)

# torch==2.13.0 first: the CPU wheel on disk. Installed later, as a dependency of
# sentence-transformers, pip would fetch a multi-GB CUDA build.
$(STAMP): pyproject.toml packaging/install-llama.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel setuptools
	$(PIP) install -q torch==2.13.0
	bash packaging/install-llama.sh $(PIP) 0.3.36
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

models: python-deps
	$(PY) -m greenpair models pull $(MODELS)
	$(PY) -m greenpair.core.index.embedder --prepare

run: setup
	$(VENV)/bin/greenpair

# pytest ends with a one-line skip summary; under CI=true (.ci/run) a skipped model or
# X11 test fails the run (tests/helpers/skip_guard.py).
test: setup
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

test-core: setup
	$(PY) -m pytest -m "not gui and not x11"

lint: python-deps
	$(VENV)/bin/ruff check app tests benchmarks
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) benchmarks/retrieval.py

screenshots: setup
	$(PY) -m greenpair.ui.screenshots docs/screenshots

clean:
	rm -rf $(VENV) build dist app/*.egg-info
