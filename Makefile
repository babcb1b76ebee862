# squrl: every task a person runs. `make dev` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs Python 3.13: use it for the venv when it runs here (on PATH, or through pyenv),
# else the system python3. Older than 3.11 is refused with a clear message.
PYTHON ?= $(shell for p in python3.13 "$$(pyenv prefix 3.13 2>/dev/null)/bin/python3" python3; do \
	"$$p" -c 'import sys' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
# The oldest Python squrl supports (pyproject's requires-python): CI runs the unit tests on it too.
OLDEST_PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
ENV ?= dev
# Extra CDK context for preflight, deploy, diff and destroy, e.g. CONTEXT='-c squrl.dev.account=...'
CONTEXT ?=
# Only these stacks (names or globs) instead of the whole environment, for deploy and destroy.
STACKS ?=
STACK_SELECTION = $(if $(strip $(STACKS)),--exclusively $(STACKS),--all)
# checkov lives in a venv of its own: its dependencies are not squrl's (requirements-checkov.txt).
CHECKOV_VENV ?= .venv-checkov
# Synthesized for checkov by `make lint`: every environment, rebuilt when an input changes.
LINT_ASSEMBLY := .build/cdk.lint
SYNTH_INPUTS := app.py cdk.json requirements.lock $(shell git ls-files stacks cdk_constructs \
	squrl_config functions shared 2>/dev/null)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: help install dev openapi test test-unit test-oldest test-infra test-e2e test-web web lint checkov format typecheck synth preflight bootstrap deploy diff destroy bench cost clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "squrl needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
		echo "Install 3.13 (what Lambda runs) or 3.11+, or point PYTHON= at one." >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	# The `squrl` command (squrl_cli/) onto the venv's PATH; the lock above holds its dependencies.
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed ## Install Python (venv) and the pinned CDK CLI

dev: $(VENV)/.installed ## Run squrl locally on http://127.0.0.1:$${SQURL_PORT:-8080} (ARGS=--fresh starts empty)
	$(PY) -m devserver $(ARGS)

openapi: $(VENV)/.installed ## Regenerate docs/openapi.json from the route table and the models
	$(PY) -m tools.openapi

test: install ## Run every test (unit, handlers, infrastructure, end-to-end)
	$(PY) -m pytest -n 2 --dist loadgroup

test-unit: $(VENV)/.installed ## Run the unit tests only (offline, moto; about a minute)
	$(PY) -m pytest -n 2 tests/unit

test-oldest: ## Run the unit tests on the oldest supported Python (3.11) in a venv of its own
	$(MAKE) test-unit PYTHON=$(OLDEST_PYTHON) VENV=.venv-oldest

test-infra: install ## Run the infrastructure tests only (one synth per session)
	$(PY) -m pytest -n 2 --dist loadgroup tests/infra

test-e2e: $(VENV)/.installed ## Run the end-to-end tests only (over HTTP, local server)
	$(PY) -m pytest -n 2 tests/e2e

test-web: $(VENV)/.installed ## Run the web app's tests only (Chromium, Playwright; tests/web)
	$(PY) -m pytest -n 2 --dist loadgroup tests/web

web: $(VENV)/.installed ## Build the web app into .build/web/ and print its first-load size
	$(PY) -m tools.build_web --check

lint: $(VENV)/.installed typecheck checkov ## ruff, mypy, the import contracts and checkov
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

$(LINT_ASSEMBLY)/manifest.json: $(SYNTH_INPUTS) | install
	$(CDK) synth --quiet -o $(LINT_ASSEMBLY)

checkov: $(VENV)/.installed $(CHECKOV_VENV)/.installed $(LINT_ASSEMBLY)/manifest.json ## checkov over every template; fails on a finding checkov-baseline.toml does not accept
	$(PY) -m tools.checkov_gate --checkov $(CHECKOV_VENV)/bin/checkov \
		--baseline checkov-baseline.toml $(LINT_ASSEMBLY)

typecheck: $(VENV)/.installed ## mypy over the runtime, the local server and the CDK app
	$(VENV)/bin/mypy shared functions devserver squrl_config cdk_constructs stacks tools squrl_cli app.py

format: $(VENV)/.installed ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

synth: install ## Synthesize every environment (cdk-nag included) into cdk.out/
	$(CDK) synth --quiet

preflight: $(VENV)/.installed ## Check ENV's cdk.json values offline before a deploy; names the manual steps
	$(PY) -m squrl_config.preflight $(ENV) $(CONTEXT)

bootstrap: install ## Bootstrap the CDK in every region ENV deploys into (AWS credentials needed)
	$(CDK) bootstrap $(shell $(PY) -m squrl_config.preflight --bootstrap-targets $(ENV) $(CONTEXT))

# Stacks are created with CloudFormation's auto-import, so what a `make destroy` kept under a
# fixed name (the table) is adopted instead of failing with "already exists".
deploy: preflight install ## Deploy one environment: make deploy ENV=dev|staging|prod (preflight first)
	$(CDK) deploy --context env=$(ENV) $(CONTEXT) $(STACK_SELECTION) \
		--require-approval broadening --import-existing-resources

diff: install ## Show what a deploy of ENV would change
	$(CDK) diff --context env=$(ENV) $(CONTEXT)

destroy: install ## Tear down one environment: make destroy ENV=... (prints what it keeps first)
	$(CDK) synth --quiet --context env=$(ENV) $(CONTEXT) -o .build/cdk.destroy
	$(PY) -m squrl_config.teardown .build/cdk.destroy $(ENV)
	$(CDK) destroy --app .build/cdk.destroy $(STACK_SELECTION) $(if $(FORCE),--force)

bench: $(VENV)/.installed ## Run the benchmarks under bench/
	$(PY) -m bench

cost: $(VENV)/.installed $(LINT_ASSEMBLY)/manifest.json ## Price every environment from its templates (docs/cost.md); rewrites the figures the docs and preflight quote
	$(PY) -m tools.cost_model $(LINT_ASSEMBLY) --write

clean: ## Remove build output (keeps the venv)
	rm -rf cdk.out .build .pytest_cache .hypothesis
