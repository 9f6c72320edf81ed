# Parcours QPV — `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
GRANTS := $(BIN)/grants

.DEFAULT_GOAL := help
.PHONY: help run test test-pg lint bench install db demo serve clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est requis")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/.installed ## Create the virtual environment and install everything (missing Debian packages too)
	@bash scripts/system-packages.sh

db: install ## Create or upgrade the database schema (migrations)
	$(GRANTS) db upgrade

demo: db ## Load the demo data (idempotent, whatever the database holds) and print the demo logins
	$(GRANTS) demo-data

run: db ## Install, migrate, load demo data if the database is empty, serve on http://127.0.0.1:5000
	$(GRANTS) demo-data --if-empty
	@echo "Parcours QPV : http://127.0.0.1:$(PORT)"
	GRANTS_BASE_URL=$${GRANTS_BASE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

test: install ## Run the whole test suite (SQLite; PostgreSQL when TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest

test-pg: install ## Run the suite on the local PostgreSQL (127.0.0.1:5432, database test)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest

lint: install ## Static analysis: ruff (bugs, security, style) and bandit (medium and high findings)
	$(BIN)/ruff check grants migrations scripts tests wsgi.py
	$(BIN)/bandit --quiet -c pyproject.toml -r grants -ll

# BENCH_DATABASE_URL is an admin connection to a PostgreSQL server: the benchmark creates its
# own database grants_bench_<pid> there and drops it at the end. BENCH_ARGS passes options,
# e.g. `make bench BENCH_ARGS=--quick` or `BENCH_ARGS="--dossiers 20000"` (see bench/README.md).
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

bench: install ## Benchmarks on PostgreSQL (about 7 min; BENCH_ARGS=--quick: 3 min), figures in bench/results/
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench $(BENCH_ARGS)

clean: ## Remove the virtual environment and the local SQLite database
	rm -rf $(VENV) instance
