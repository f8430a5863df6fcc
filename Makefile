# Guardian — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint typecheck unit services services-stop bench clean

$(STAMP): pyproject.toml setup.py src/guardian/_native/fsync.c clients/python/pyproject.toml
	scripts/report-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet -e clients/python
	touch $(STAMP)

install: $(STAMP)

## Start Guardian on 127.0.0.1:8000 with the demo organisation on embedded defaults.
run: $(STAMP)
	$(BIN)/guardian serve

## Install everything, check the code, start slapd/PostgreSQL/OpenSearch, run every test.
test: $(STAMP)
	$(BIN)/ruff check src tests bench scripts clients examples
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_test_layout.py
	$(BIN)/guardian policy lint
	$(BIN)/guardian policy test
	scripts/run-tests.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts clients examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

services:
	scripts/services.sh start all

services-stop:
	scripts/services.sh stop everything

bench: $(STAMP)
	$(BIN)/python bench/decide.py --rules 10000

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
