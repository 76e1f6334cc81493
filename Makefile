# Two commands on a fresh machine: `make run` (the platform) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

.PHONY: run test lint bench browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/tessera up

# Debian's Chromium and its driver, for the website-tag test (CI runs as root).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

# PostgreSQL tests run when a server answers at 127.0.0.1:5432; each run creates and drops its own databases.
# analytics-next, Segment's own browser library, pinned for the compatibility test (npm registry).
tests/tracking/js/node_modules/.package-lock.json: tests/tracking/js/package-lock.json
	npm ci --prefix tests/tracking/js --no-audit --no-fund --loglevel=error

test: $(VENV)/.installed browser tests/tracking/js/node_modules/.package-lock.json
	@if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
	  export TESSERA_TEST_POSTGRES_URL=$${TESSERA_TEST_POSTGRES_URL:-$(PG_URL)}; \
	  echo "PostgreSQL found: database tests run on SQLite and PostgreSQL"; \
	else echo "No PostgreSQL at 127.0.0.1:5432: database tests run on SQLite only"; fi; \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy shared services tessera

bench: $(VENV)/.installed
	@for f in bench/[a-z]*.py; do m=$$(basename $$f .py); [ $$m = loadgen ] && continue; \
	  echo "== bench.$$m"; $(BIN)/python -m bench.$$m || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
