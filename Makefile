# Binôme — the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
OWNER_FILE := .stack/started-by-make-test

.PHONY: demo demo-stop test lint format docs install stack-up stack-down stack-reset clean

$(INSTALLED): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11+ is required (Debian: apt-get install python3 python3-venv)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(INSTALLED)

## demo: set up everything, start Kafka, PostgreSQL and the three services, show them talking.
demo: $(INSTALLED)
	$(BIN)/python -m binome_devstack.demo up

## demo-stop: stop the services and the stack the demo started.
demo-stop: $(INSTALLED)
	$(BIN)/python -m binome_devstack.demo down

## test: lint, type-check, then unit, integration and e2e tests on a real Kafka and PostgreSQL.
test: $(INSTALLED)
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
	rm -rf $(VENV) .stack .pytest_cache .mypy_cache .ruff_cache
