# The two commands of the README: `make demo` (the main job) and `make test` (everything).
# Both set up what they need on a fresh machine (Python 3.11, pip, git, make, Node 20).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_DIR := .cache/npm
EVERYTHING := $(NPM_DIR)/node_modules/.bin/mcp-server-everything

.PHONY: demo test lint typecheck pytest conformance setup regen clean bench bytecode

demo: $(STAMP) bytecode
	$(BIN)/python examples/demo.py

test: $(STAMP) bytecode $(EVERYTHING) lint typecheck pytest conformance

setup: $(STAMP) bytecode $(EVERYTHING)

$(STAMP): pyproject.toml requirements-dev.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements-dev.lock -e '.[dev,testing]'
	touch $(STAMP)

# Bytecode for the project's own modules: an editable install compiles none, and a Python run
# with PYTHONDONTWRITEBYTECODE set would then compile every module of mcpkit at each start
# (~100 ms of a stdio server's start-up). Quick when nothing changed.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q src bench examples

# The npm reference server the interop tests talk to (a legacy-only server).
$(EVERYTHING): tests/interop/package.json
	mkdir -p $(NPM_DIR)
	cp tests/interop/package.json $(NPM_DIR)/package.json
	cd $(NPM_DIR) && npm install --no-audit --no-fund --silent
	touch $(EVERYTHING)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/gen_wire_types.py --check

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	MCPKIT_NPM_DIR=$(abspath $(NPM_DIR)) $(BIN)/pytest -q

# The official conformance suite against `mcpkit server everything` over HTTP (server side) and
# conformance/client.py (client side), both eras + extensions, and `mcpkit auth-server` (the
# authorization-server scenarios); the expected-failures files may
# only shrink.
conformance: $(STAMP)
	conformance/run-server
	conformance/run-client
	conformance/run-authorization

# mcpkit against the official Python SDK, side by side (bench/run.py --help for options;
# bench/RESULTS.md for recorded numbers).
bench: $(STAMP) bytecode
	$(BIN)/python bench/run.py

regen: $(STAMP)
	$(BIN)/python scripts/gen_wire_types.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
