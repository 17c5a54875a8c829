# sessionlens — common tasks.  `make demo` runs the main job; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test lint test-python test-extension e2e perf schemas clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/.installed
	bash scripts/system-deps.sh

## The main job: index your Codex / Claude Code logs (or the bundled sample logs) and print a summary.
demo: setup
	$(BIN)/sessionlens

## Every test: Python (unit, store, search, LSP over stdio, Neovim), the extension's unit tests,
## and the extension end to end in a real VS Code (code-server + headless Chromium).
test: setup lint test-python test-extension e2e

## Lint (ruff) and type check (mypy: strict on lsp/ and the contract; see [tool.mypy] in pyproject.toml).
lint: setup
	$(BIN)/ruff check server tests scripts
	$(BIN)/mypy

test-python: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-extension:
	cd vscode-extension && (test -d node_modules || npm ci --no-audit --no-fund --loglevel=error) \
	  && npm run --silent typecheck && npm test --silent

e2e: setup
	SESSIONLENS_PYTHON=$(abspath $(BIN)/python) bash vscode-extension/e2e/run.sh

perf: setup
	$(BIN)/python -m tests.perf.run

schemas: setup
	$(BIN)/sessionlens schemas --out schemas

clean:
	rm -rf $(VENV) vscode-extension/node_modules vscode-extension/dist artifacts
