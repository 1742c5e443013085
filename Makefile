# Binôme — the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CONTRACT_CHECK := tools/contract-check
NODE_INSTALLED := $(CONTRACT_CHECK)/node_modules/.installed
OWNER_FILE := .stack/started-by-make-test

.PHONY: demo demo-stop test lint format docs install contract-tools stack-up stack-down stack-reset clean

$(INSTALLED): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11+ is required (Debian: apt-get install python3 python3-venv)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# The contract tests run the official AsyncAPI parser and Ajv under node 18+ (see
# tools/contract-check); versions are pinned by its package-lock.json.
$(NODE_INSTALLED): $(CONTRACT_CHECK)/package-lock.json
	@command -v npm >/dev/null || { echo "node 18+ and npm are required (Debian: apt-get install nodejs npm)"; exit 2; }
	npm ci --prefix $(CONTRACT_CHECK) --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

contract-tools: $(NODE_INSTALLED)

install: $(INSTALLED) $(NODE_INSTALLED)

## demo: set up everything, start Kafka, PostgreSQL and the three services, show them talking.
demo: $(INSTALLED)
	$(BIN)/python -m binome_devstack.demo up

## demo-stop: stop the services and the stack the demo started.
demo-stop: $(INSTALLED)
	$(BIN)/python -m binome_devstack.demo down

## test: lint, type-check, then unit, integration and e2e tests on a real Kafka and PostgreSQL.
test: $(INSTALLED) $(NODE_INSTALLED)
	@mkdir -p .stack
	$(BIN)/binome-stack up --owner-file $(OWNER_FILE)
	@status=0; \
	$(MAKE) --no-print-directory lint || status=$$?; \
	$(BIN)/pytest || status=$$?; \
	$(BIN)/binome-stack down --owner-file $(OWNER_FILE); \
	exit $$status

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/binome-docs check

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: $(INSTALLED)
	$(BIN)/binome-docs generate

stack-up: $(INSTALLED)
	$(BIN)/binome-stack up

stack-down: $(INSTALLED)
	$(BIN)/binome-stack down

stack-reset: $(INSTALLED)
	$(BIN)/binome-stack reset

clean: stack-down
	rm -rf $(VENV) .stack .pytest_cache .mypy_cache .ruff_cache .import_linter_cache \
		$(CONTRACT_CHECK)/node_modules
