# Two commands on a fresh machine: `make run` (the platform) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

.PHONY: run demo test lint bench soak browser clean web

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	touch $@

# The web app (web/): `npm ci` when the lock file changed, `npm run build` (web/dist, served by the console) when its
# sources changed. npm and Node 20+ come from the machine.
WEB_SOURCES := $(shell find web/src web/openapi web/public -type f 2>/dev/null) web/index.html web/package.json \
	web/vite.config.ts web/routes.ts web/tsconfig.json
web/node_modules/.package-lock.json: web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --loglevel=error

web/dist/.stamp: web/node_modules/.package-lock.json $(WEB_SOURCES)
	npm run --prefix web build
	touch $@

web: web/dist/.stamp

run: $(VENV)/.installed web
	$(BIN)/tessera up

# Simulated customers through the whole platform: a summary, and charts in var/demo/ (about 2 minutes).
demo: $(VENV)/.installed
	$(BIN)/tessera demo

# Debian's Chromium and its driver, for the website-tag test (CI runs as root).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

# PostgreSQL tests run when a server answers at 127.0.0.1:5432; each run creates and drops its own databases.
# analytics-next, Segment's own browser library, pinned for the compatibility test (npm registry).
tests/tracking/js/node_modules/.package-lock.json: tests/tracking/js/package-lock.json
	npm ci --prefix tests/tracking/js --no-audit --no-fund --loglevel=error

test: $(VENV)/.installed browser tests/tracking/js/node_modules/.package-lock.json web
	@if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
	  export TESSERA_TEST_POSTGRES_URL=$${TESSERA_TEST_POSTGRES_URL:-$(PG_URL)}; \
	  echo "PostgreSQL found: database tests run on SQLite and PostgreSQL"; \
	else echo "No PostgreSQL at 127.0.0.1:5432: database tests run on SQLite only"; fi; \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy shared services tessera

# Every benchmark (minutes each), then bench/results.md from their JSON lines. `make bench BENCH_ARGS=--quick`:
# small sizes, to check the pipeline end to end (results.md then says "quick mode").
BENCH_RESULTS := bench/results/latest.jsonl
bench: $(VENV)/.installed
	@mkdir -p bench/results; rm -f $(BENCH_RESULTS); failed=; \
	for f in bench/[a-z]*.py; do m=$$(basename $$f .py); \
	  case $$m in loadgen|results|report|soak) continue;; esac; \
	  echo "== bench.$$m"; \
	  TESSERA_BENCH_RESULTS=$(BENCH_RESULTS) $(BIN)/python -m bench.$$m $(BENCH_ARGS) || failed="$$failed $$m"; \
	done; \
	$(BIN)/python -m bench.report --input $(BENCH_RESULTS) --output bench/results.md --failed "$$failed"; \
	[ -z "$$failed" ] || { echo "failed:$$failed"; exit 1; }

# Not in CI: 10 minutes at 200 events/s through the whole stack, RSS of each process (`SOAK_ARGS=--minutes 2`).
soak: $(VENV)/.installed
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache web/node_modules web/dist
