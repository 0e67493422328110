# Two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= sqlite:///./footfall.db
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install dev lint typecheck imports pytest bench assets dist clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

run: install
	$(BIN)/footfall demo --db $(DB) --if-empty
	$(BIN)/footfall sites add demo.footfall.dev --public --db $(DB) --if-missing 2>/dev/null || true
	$(BIN)/footfall serve --db $(DB) --host $(HOST) --port $(PORT)

lint: dev
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: dev
	$(BIN)/mypy

# Which part of footfall may import which: the contracts in pyproject.toml.
imports: dev
	$(BIN)/lint-imports

pytest: dev
	$(BIN)/pytest

test: lint typecheck imports pytest

bench: dev
	$(BIN)/python bench/run.py

# Rebuild the served browser script from js/footfall.js (terser pinned in js/package-lock.json).
assets:
	cd js && npm ci --no-audit --no-fund && npm run build

# A wheel and an sdist in dist/ (`pip install 'dist/footfall-VERSION-py3-none-any.whl[postgres]'`).
# Needs only `build` (not the dev extra); it fetches setuptools into an isolated env.
dist: $(BIN)/python
	$(BIN)/pip install --quiet 'build>=1.2'
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info
