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

# The AWS CLI (v1) pins botocore exactly, which can clash with aioboto3's pin: it gets a venv
# of its own, which tests/test_emulator_apis.py uses to call the emulator.
AWSCLI_STAMP := .venv-awscli/.installed
$(AWSCLI_STAMP):
	$(PYTHON) -m venv .venv-awscli
	.venv-awscli/bin/pip install --quiet awscli
	touch $(AWSCLI_STAMP)

install test: $(AWSCLI_STAMP)
