# filedock: `make run` serves on SQLite + ./data; `make test` installs and runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed
# Every install is pinned by constraints.txt (a known-good resolution of the whole tree),
# so a fresh machine gets what the tests ran with and pip never backtracks into old wheels.
PIP := $(BIN)/python -m pip install --quiet -c constraints.txt
TUS_JS := tests/tus/node
TUS_JS_STAMP := $(TUS_JS)/node_modules/.installed

.PHONY: install deps run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# tus-js-client for the real-client tests (run with node); versions pinned by the lock file.
$(TUS_JS_STAMP): $(TUS_JS)/package.json $(TUS_JS)/package-lock.json
	npm ci --prefix $(TUS_JS) --no-audit --no-fund
	touch $(TUS_JS_STAMP)

# Machine packages whose real servers the tests start (sshd); installed only when missing.
deps:
	bash .ci/deps.sh

run: $(RUN_STAMP)
	$(BIN)/filedock serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: deps install lint $(TUS_JS_STAMP)
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) data bench/results $(TUS_JS)/node_modules
