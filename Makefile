# squrl: every task a person runs. `make dev` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs Python 3.13: use it for the venv when it runs here (on PATH, or through pyenv),
# else the system python3. Older than 3.11 is refused with a clear message.
PYTHON ?= $(shell for p in python3.13 "$$(pyenv prefix 3.13 2>/dev/null)/bin/python3" python3; do \
	"$$p" -c 'import sys' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
ENV ?= dev
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: help install dev test test-unit test-infra test-e2e lint format typecheck synth deploy diff bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed ## Install Python (venv) and the pinned CDK CLI

dev: $(VENV)/.installed ## Run squrl locally on http://127.0.0.1:$${SQURL_PORT:-8080} (ARGS=--fresh starts empty)
	$(PY) -m devserver $(ARGS)

test: install ## Run every test (unit, handlers, infrastructure, end-to-end)
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(VENV)/.installed ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared functions devserver

format: $(VENV)/.installed ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

synth: install ## Synthesize every environment (cdk-nag included) into cdk.out/
	$(CDK) synth --quiet

deploy: install ## Deploy one environment: make deploy ENV=dev|staging|prod
	$(CDK) deploy --context env=$(ENV) --all --require-approval broadening

diff: install ## Show what a deploy of ENV would change
	$(CDK) diff --context env=$(ENV)

bench: $(VENV)/.installed ## Run the benchmarks under bench/
	$(PY) -m bench

clean: ## Remove build output (keeps the venv)
	rm -rf cdk.out .build .pytest_cache .hypothesis
