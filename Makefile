# Every target installs what it needs first, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/loadgen run scenarios/email_summary.yaml --rps 5 --duration 20s --emulate

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check loadgen tests benchmarks
	$(BIN)/ruff format --check loadgen
	$(BIN)/mypy loadgen

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
