# Every target installs what it needs first, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean chromium nightly baseline

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) chromium

# Debian's Chromium, for the test that opens report.html headless. Installed only when missing
# and we are root (CI runs as root on a bare Debian machine); a no-op otherwise.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium (for the HTML report test)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && \
		apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi

# The emulator as Bedrock and moto as CloudWatch, both local: no AWS account needed.
demo: $(STAMP)
	$(BIN)/python -m loadgen.commands.demo

test: $(STAMP) chromium
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check loadgen tests benchmarks
	$(BIN)/ruff format --check loadgen
	$(BIN)/mypy loadgen
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The AWS CLI (v1) pins botocore exactly, which can clash with aioboto3's pin: it gets a venv
# of its own, which tests/e2e/test_emulator_apis.py uses to call the emulator.
AWSCLI_STAMP := .venv-awscli/.installed
$(AWSCLI_STAMP):
	$(PYTHON) -m venv .venv-awscli
	.venv-awscli/bin/pip install --quiet awscli
	touch $(AWSCLI_STAMP)

install test: $(AWSCLI_STAMP)

# Nightly regression run (docs/cli.md "Nightly runs"): each scenario is run, its report written to
# reports/nightly/<UTC date>/<scenario>/ and compared with baselines/<target>/<scenario>/report.json.
# Fails on a significant regression (the recipe exits 4), a baseline recorded against something
# else (9: another emulator version or profile, scenario, dataset or load; record it again with
# `make baseline`) or a failed threshold (99).
# BEDROCK=1 sends to real Bedrock (it costs money); otherwise the built-in emulator serves.
# Record baselines with the same NIGHTLY_RPS and NIGHTLY_DURATION as the nightly runs: another
# rate is another test (refused), and with the scenario's seed the same duration sends the same
# arrivals and prompts, so only a real change moves the figures (tests/e2e/test_nightly.py).
# 6 req/s for 20 s: about 40 requests per model of email_summary, above compare's --min-samples.
NIGHTLY_SCENARIOS ?= scenarios/email_summary.yaml
NIGHTLY_RPS ?= 6
NIGHTLY_DURATION ?= 20s
NIGHTLY_FLAGS ?=
NIGHTLY_COMPARE_FLAGS ?=
NIGHTLY_DATE := $(shell date -u +%Y-%m-%d)
NIGHTLY_DIR ?= reports/nightly/$(NIGHTLY_DATE)
BASELINE_DIR ?= baselines
ifeq ($(BEDROCK),1)
NIGHTLY_TARGET := bedrock
NIGHTLY_TARGET_FLAGS :=
else
NIGHTLY_TARGET := emulator
NIGHTLY_TARGET_FLAGS := --emulate
endif
NIGHTLY_RUN = $(BIN)/loadgen run $$scenario --force --rps $(NIGHTLY_RPS) --duration $(NIGHTLY_DURATION) \
	$(NIGHTLY_TARGET_FLAGS) $(NIGHTLY_FLAGS)

nightly: $(STAMP)
	@regressed=0; thresholds=0; \
	for scenario in $(NIGHTLY_SCENARIOS); do \
	  name=$$(basename $$scenario .yaml); out=$(NIGHTLY_DIR)/$$name; \
	  baseline=$(BASELINE_DIR)/$(NIGHTLY_TARGET)/$$name/report.json; \
	  if [ ! -f $$baseline ]; then \
	    echo "nightly: no baseline $$baseline; make it with: make baseline" >&2; exit 2; fi; \
	  echo "nightly: $$scenario against the $(NIGHTLY_TARGET) -> $$out"; \
	  $(NIGHTLY_RUN) --out $$out; code=$$?; \
	  if [ $$code -eq 99 ]; then thresholds=1; \
	  elif [ $$code -ne 0 ]; then echo "nightly: $$name: run failed (exit $$code)" >&2; exit $$code; fi; \
	  $(BIN)/loadgen compare $$baseline $$out --json $$out/compare.json $(NIGHTLY_COMPARE_FLAGS); code=$$?; \
	  if [ $$code -eq 4 ]; then regressed=1; \
	  elif [ $$code -eq 9 ]; then \
	    echo "nightly: $$baseline was recorded against something else (above); record it again: make baseline" >&2; \
	    exit 9; \
	  elif [ $$code -ne 0 ]; then exit $$code; fi; \
	done; \
	if [ $$regressed -eq 1 ]; then echo "nightly: significant regression (exit 4)" >&2; exit 4; fi; \
	if [ $$thresholds -eq 1 ]; then echo "nightly: a threshold failed (exit 99)" >&2; exit 99; fi; \
	echo "nightly: no regression; reports in $(NIGHTLY_DIR)"

baseline: $(STAMP)
	@for scenario in $(NIGHTLY_SCENARIOS); do \
	  name=$$(basename $$scenario .yaml); out=$(NIGHTLY_DIR)/baseline-$$name; \
	  dir=$(BASELINE_DIR)/$(NIGHTLY_TARGET)/$$name; \
	  $(NIGHTLY_RUN) --out $$out; code=$$?; \
	  if [ $$code -ne 0 ] && [ $$code -ne 99 ]; then \
	    echo "baseline: $$name: run failed (exit $$code); baseline kept" >&2; exit $$code; fi; \
	  mkdir -p $$dir && cp $$out/report.json $$dir/report.json && echo "baseline: $$dir/report.json"; \
	done
