# Two commands do all set-up on a fresh machine (Python 3.11, Java 17, make, gcc):
#   make run    creates .venv, installs b3lake, runs the whole pipeline on the bundled sample
#   make test   the same with the dev extras, then the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LAKE   ?= lake
PYTEST_ARGS ?=

.PHONY: run test package lint typecheck clean tools bench property

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[local]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.run-installed

# checkov lives in its own venv: it replaces python-hcl2's package with its fork.
.venv-checkov/bin/checkov:
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install -q --upgrade pip
	.venv-checkov/bin/pip install -q 'checkov>=3.2,<4'

# The IAM policy evaluator of tests/aws (Node + @cloud-copilot/iam-simulate, pinned by its
# package-lock.json); Node from Debian's packages when the machine has none.
IAM_SIM := tests/aws/iam/node_modules/@cloud-copilot/iam-simulate/package.json
$(IAM_SIM): tests/aws/iam/package.json tests/aws/iam/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "no npm and no root apt-get: the IAM permission tests will skip"; fi; }
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/aws/iam --no-audit --no-fund --silent && touch $@; fi

# Headless Chromium for the report's browser test (Debian package); the test skips with a
# visible reason when it cannot be installed.
tools: .venv-checkov/bin/checkov $(IAM_SIM)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: the browser test will skip"; \
	  else echo "chromium not installed and no root apt-get: the browser test will skip"; fi; }

run: $(VENV)/.run-installed
	$(BIN)/b3lake --lake $(LAKE) run --report report.html

# The suite on every core (pytest-xdist), one worker more than the cores: a part of it waits on
# subprocesses and servers (Terraform's provider against moto, pip, Chromium). Tests sharing a costly
# session fixture (Spark, the sample pipeline's lake) share a worker (tests/conftest.py); the slowest
# are listed at the end. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
test: $(VENV)/.dev-installed tools
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15 $(PYTEST_ARGS)

package: $(VENV)/.dev-installed
	$(BIN)/python scripts/package.py

# Benchmarks print figures (ratios against a baseline run in the same script); never timed tests.
bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/bench_cotahist_parse.py
	$(BIN)/python benchmarks/bench_refine.py
	$(BIN)/python benchmarks/bench_history.py --years 20 --partitioned 100
	$(BIN)/python benchmarks/bench_burst.py --sessions 500
	$(BIN)/python benchmarks/bench_corporate_actions.py
	$(MAKE) property

# The incremental = full property with many random landing histories (CI runs 5, derandomised).
property: $(VENV)/.dev-installed
	B3LAKE_PROPERTY_EXAMPLES=$${B3LAKE_PROPERTY_EXAMPLES:-200} B3LAKE_PROPERTY_SEED=random \
	  $(BIN)/python -m pytest -p no:cacheprovider -q tests/jobs/test_incremental_equals_full.py

lint: $(VENV)/.dev-installed
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/ruff check src tests benchmarks scripts

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

clean:
	rm -rf $(LAKE) dist build report.html .pytest_cache
