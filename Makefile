# Greenpair — `make run` to use it, `make test` to test it. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
# GREENPAIR_GPU=cuda|vulkan|metal selects a GPU build of llama.cpp (default: portable CPU).
GREENPAIR_GPU ?=
export GREENPAIR_GPU
LLAMA_STAMP := $(VENV)/.llama-$(or $(GREENPAIR_GPU),cpu)
# Models provisioned by `make setup`: the default model and the tiny test model.
MODELS ?= qwen2.5-coder-1.5b smollm2-135m
export QT_QPA_PLATFORM ?= offscreen

.PHONY: setup system-deps python-deps models run test test-core lint bench screenshots wheel package clean

setup: system-deps python-deps models

system-deps:
	@sh packaging/linux/install-system-deps.sh

python-deps: $(STAMP)

# torch==2.13.0 first: the CPU wheel on disk. Installed later, as a dependency of
# sentence-transformers (the `export` extra), pip would fetch a multi-GB CUDA build.
# The app itself runs without torch; the extra exports the embedder at setup/build time.
$(STAMP): pyproject.toml $(LLAMA_STAMP)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[dev,export]'
	touch $(STAMP)

$(LLAMA_STAMP): packaging/install-llama.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel setuptools
	sh packaging/install-llama.sh $(PIP) 0.3.36
	rm -f $(VENV)/.llama-*
	touch $(LLAMA_STAMP)

models: python-deps
	$(PY) -m greenpair models pull --yes $(MODELS)
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
	$(VENV)/bin/ruff check app tests benchmarks tools packaging
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) benchmarks/retrieval.py

screenshots: setup
	$(PY) tools/screenshots.py docs/screenshots

# The wheel, with the verified ONNX embedder inside (installs and runs without torch).
wheel: setup
	$(PY) packaging/build_wheel.py --out dist

# The desktop package for this OS (Linux: .deb and .tar.gz in dist/). Not part of `test`.
package: setup
	$(PIP) install -q -e '.[dev,export,package]'
	$(PY) packaging/build_package.py --out dist

clean:
	rm -rf $(VENV) build dist app/*.egg-info
