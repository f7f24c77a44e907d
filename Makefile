# Steward — the two commands a fresh machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test demo test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(STAMP)

install: $(STAMP) ## create .venv and install Steward

install-test: $(TEST_STAMP)

demo: $(STAMP) ## run the end-to-end demo in a fresh workspace (STEWARD_HOME to keep it)
	$(BIN)/python scripts/demo.py

lint: $(TEST_STAMP) ## exactly what CI runs: ruff format check, ruff lint, import contracts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/lint-imports

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

pytest: $(TEST_STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint typecheck pytest ## lint + mypy --strict + the whole test suite

bench: $(TEST_STAMP) ## print the figures the issues ask for (ledger, intake, PII, licences, evaluation, runtime gate, release gate)
	$(BIN)/python benchmarks/ledger_bench.py
	$(BIN)/python benchmarks/intake_bench.py
	$(BIN)/python benchmarks/pii_bench.py
	$(BIN)/python benchmarks/license_bench.py
	$(BIN)/python benchmarks/eval_bench.py
	$(BIN)/python benchmarks/gate_bench.py
	$(BIN)/python benchmarks/release_bench.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
