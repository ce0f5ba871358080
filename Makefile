# Hybrid Chat: `make run` starts the app, `make test` runs every test.
# Both set up what they need on a fresh machine: the virtual environment from the
# pinned requirements.txt, the embedded model, and (for tests) Debian packages.

VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install prepare-model prepare-webgpu-demo system-deps lock bench clean

## run: install, prepare the embedded model once, start the app on http://$(HOST):$(PORT)
run: install prepare-model prepare-webgpu-demo
	@bash scripts/serve.sh "$(HOST)" "$(PORT)"

## test: install everything the tests need, then run them all
test: install prepare-model prepare-webgpu-demo system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

## install: the virtual environment with every pinned package (re-run when requirements.txt changes)
install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "Installing the pinned packages into $(VENV) (a few minutes the first time)..."
	@bash scripts/pip-install.sh $(PY) requirements.txt
	@touch $@

## prepare-model: convert the embedded SmolLM2 model for Foundry Local (once, ~30 s)
prepare-model: install
	@$(PY) -m router.embedded_model

## prepare-webgpu-demo: the /webgpu page's npm packages and ONNX embedding model (once ~20 s, then <1 s)
prepare-webgpu-demo: install
	@$(PY) -m scripts.prepare_webgpu_demo

## system-deps: Debian packages the tests use (chromium, postgresql, haproxy)
system-deps:
	@bash scripts/system-deps.sh

## lock: recompile requirements.txt from requirements.in (needs network access to PyPI)
lock: install
	$(PY) -m pip install -q uv
	$(VENV)/bin/uv pip compile requirements.in --overrides requirements-overrides.txt \
		--find-links /opt/wheels --python-version 3.11 --quiet -o requirements.txt

## bench: run every benchmark in bench/ and print its figures
bench: install prepare-model prepare-webgpu-demo
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache webgpu-demo/node_modules
