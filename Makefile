# tiktok-publisher: every target bootstraps what it needs (python3, pip, node and npm are the only prerequisites).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
CHECKOV_VERSION := 3.3.30
PYTHON ?= python3
LAMBDA_PYTHON := 3.14
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV := .tools/checkov/bin/checkov
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export UV_PYTHON_DOWNLOADS := never
export TZ := UTC
# The suites run on two workers, a test file per worker at a time (its module fixtures built once):
# PYTEST_FLAGS="-n 0" runs them in one process, e.g. to debug.
PYTEST_FLAGS ?= -n 2 --dist loadfile

.PHONY: help dev lint format typecheck synth security test test-fast demo local bench deploy destroy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV): $(UV)
	$(UV) venv --quiet --python $(PYTHON) .tools/checkov
	$(UV) pip install --quiet --python .tools/checkov/bin/python "checkov==$(CHECKOV_VERSION)"

dev: $(VENV)/.synced node_modules/.installed $(CHECKOV) ## prepare .venv/ (Python) and node_modules/ (CDK CLI, dynalite)

lint: dev ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: dev ## fix what lint reports and can fix by itself (ruff --fix, ruff format)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: dev ## mypy --strict on functions/, local/ and infra/
	$(VENV)/bin/mypy

synth: dev ## cdk.out/ without Docker or AWS credentials; cdk-nag fails it on any unacknowledged finding
	$(PY) -m infra.app

security: synth ## cfn-lint (errors), checkov (reviewed skip list), bandit
	$(VENV)/bin/cfn-lint --non-zero-exit-code error --ignore-checks W3005 -- cdk.out/*.template.json
	$(CHECKOV) -d cdk.out --config-file infra/checkov.yaml
	$(VENV)/bin/bandit -q -c pyproject.toml -r functions local infra publisher_cli

test: lint typecheck security ## everything CI runs: lint, types, synth + security gates, every offline test suite
	$(PY) -m pytest $(PYTEST_FLAGS)

test-fast: dev ## the test suites alone
	$(PY) -m pytest $(PYTEST_FLAGS)

demo: dev ## the whole flow locally: connect, post a photo set and a generated video, follow them to PUBLISH_COMPLETE
	$(PY) -m local.demo

local: dev ## long-running local stack (sandbox, S3/DynamoDB endpoint, HTTP API); LOCAL_FLAGS="--api-port 0 ..." for other ports
	$(PY) -m local.serve $(LOCAL_FLAGS)

bench: dev ## benchmarks: bench/results.json and bench/results.png (about 40 minutes on 2 cores; sections alone: bench/README.md)
	$(PY) -m bench.run

# The Lambda runtime's CPython (downloaded by uv): the assets then ship bytecode compiled by it (infra/bundling.py).
deploy: dev ## deploy to the AWS account of your credentials (bootstrapped with cdk bootstrap)
	UV_PYTHON_DOWNLOADS=automatic $(UV) python install $(LAMBDA_PYTHON)
	$(MAKE) synth
	npx cdk deploy --app cdk.out --require-approval broadening

destroy: dev ## delete the deployed stack (a prod stage keeps its tables, bucket and secrets: see README)
	$(MAKE) synth
	npx cdk destroy --app cdk.out --force

clean: ## remove build outputs (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache test-artifacts
