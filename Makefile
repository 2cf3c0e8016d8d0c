# loopml: the two commands of the README, and the checks `make test` runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export OMP_NUM_THREADS ?= 1

.PHONY: quickstart test lint services unit clean

quickstart: $(VENV)/.installed
	$(BIN)/loopml quickstart

test: $(VENV)/.installed-dev services lint
	$(BIN)/pytest

unit: $(VENV)/.installed-dev
	$(BIN)/pytest -m "not slow and not postgres and not s3"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check loopml tests benchmarks
	$(BIN)/ruff format --check loopml tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

services:
	./scripts/services.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]' -c constraints.txt
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) .loopml .pytest_cache .mypy_cache .ruff_cache build *.egg-info
