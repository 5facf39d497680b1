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

# The emulator as Bedrock and moto as CloudWatch, both local: no AWS account needed.
demo: $(STAMP)
	$(BIN)/python -m loadgen.demo_cloudwatch

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check loadgen tests benchmarks
	$(BIN)/ruff format --check loadgen
	$(BIN)/mypy loadgen

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
