# Every target sets up what it needs. The virtualenv is built from the pinned dependencies in pyproject.toml.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

CHECKOV := .tools/checkov/bin/checkov
CHECKOV_VERSION := 3.3.30
# Lab probes (sslyze, sipvicious' svmap) in their own tool environment, pinned.
PROBES := .tools/probes/.installed
SSLYZE_VERSION := 6.3.1
SIPVICIOUS_VERSION := 0.3.8

.PHONY: setup audit test lint unit bench checkov clean lab-tools demo lab-down

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Python 3.11 is required)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

## checkov: checkov in its own tool environment (its pinned dependencies conflict with ansible-core and others)
$(CHECKOV):
	$(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/pip install --quiet --upgrade pip
	.tools/checkov/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

checkov: $(CHECKOV)

$(PROBES):
	$(PYTHON) -m venv .tools/probes
	.tools/probes/bin/pip install --quiet --upgrade pip
	.tools/probes/bin/pip install --quiet sslyze==$(SSLYZE_VERSION) sipvicious==$(SIPVICIOUS_VERSION)
	@touch $(PROBES)

lab-tools: $(PROBES)

## demo: render + plan rules, lab hosts up, converge twice, reboot, host policies and probes, report, lab down
demo: $(STAMP) $(PROBES)
	$(BIN)/python scripts/avg-voip lab demo

lab-down: $(STAMP)
	$(BIN)/python scripts/avg-voip lab down

## audit: render every example stack offline and judge it against the AVG rule catalogue
audit: $(STAMP)
	$(BIN)/python scripts/avg-voip audit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: $(STAMP) $(CHECKOV) $(PROBES)
	$(BIN)/python -m pytest -q

## test: ruff and the whole test suite
test: lint unit

bench: $(STAMP) $(CHECKOV)
	$(BIN)/python scripts/bench

clean:
	rm -rf $(VENV) .tools/checkov .tools/probes reports .pytest_cache .ruff_cache .hypothesis
