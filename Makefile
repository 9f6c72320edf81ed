# Parcours QPV — `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.DEFAULT_GOAL := help
.PHONY: help run test test-pg install db demo serve clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est requis")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/.installed ## Create the virtual environment and install everything

db: install ## Create or upgrade the database schema (migrations)
	$(FLASK) grants db upgrade

demo: db ## Load the demo data (idempotent) and print the demo logins
	$(FLASK) grants demo-data

run: demo ## Install, migrate, load demo data, serve on http://127.0.0.1:5000
	@echo "Parcours QPV : http://127.0.0.1:$(PORT)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install ## Run the whole test suite (SQLite; PostgreSQL when TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest

test-pg: install ## Run the suite on the local PostgreSQL (127.0.0.1:5432, database test)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest

clean: ## Remove the virtual environment and the local SQLite database
	rm -rf $(VENV) instance
