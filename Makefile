# Two entry points for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint setup clean browser axe data-dictionary

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Debian's chromium for the dashboard browser tests (tests/dashboard): installed when missing
# and we are root with apt-get; otherwise a note (in CI those tests then fail, saying why).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "== installing Debian's chromium for the dashboard browser tests =="; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends chromium >/dev/null) \
		|| echo "chromium could not be installed: the dashboard browser tests will fail in CI"; \
	else \
		echo "chromium is missing (need root and apt-get to install it): browser tests skip, fail in CI"; \
	fi

# axe-core (pinned in package.json/package-lock.json) for the accessibility checks of every
# dashboard page (tests/dashboard/axe.py), from the npm registry with the machine's npm.
AXE_STAMP := node_modules/.installed
$(AXE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --ignore-scripts --silent && touch $(AXE_STAMP); \
	else \
		echo "npm is missing: the dashboard accessibility checks will fail, saying why"; \
	fi

axe: $(AXE_STAMP)

setup: $(STAMP) browser axe

# docs/data-dictionary.md from the field specification (registry/records/fields.py)
data-dictionary: $(STAMP)
	$(BIN)/registry docs data-dictionary --out docs/data-dictionary.md

# exec: make passes a SIGTERM to its child; a shell in between would swallow it, leaving the
# registry (and its embedded PostgreSQL) running
run: $(STAMP)
	exec $(BIN)/registry serve --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) browser axe lint
	$(BIN)/pytest
	@if [ -x /usr/lib/postgresql/15/bin/initdb ]; then \
		echo "== again on the machine's PostgreSQL 15 =="; \
		REGISTRY_TEST_PG=system $(BIN)/pytest -m "not slow"; \
	fi

clean:
	rm -rf $(VENV) .registry node_modules
