# sessionlens — common tasks.  `make demo` runs the main job; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test lint test-python test-extension e2e perf perf-scale schemas clean phoenix

$(BIN)/.installed: pyproject.toml
	@echo "[setup] creating $(VENV) and installing sessionlens and its Python dependencies (a minute or two the first time)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[test]'
	touch $@

## Everything the tests need: the venv plus Debian packages (Neovim, ripgrep, zsh, fish: tests only).
setup: $(BIN)/.installed
	bash scripts/system-deps.sh

## The main job: index your Codex / Claude Code logs (or the bundled sample logs) and print a summary.
## Needs only the venv (no system packages).
demo: $(BIN)/.installed
	$(BIN)/sessionlens

## Every test: Python (unit, store, search, LSP over stdio, Neovim), the extension's unit tests,
## and the extension end to end in a real VS Code (code-server + headless Chromium).
test: setup lint test-python test-extension e2e

## Lint and format check (ruff) and type check (mypy: strict on lsp/ and the contract; see [tool.mypy] in pyproject.toml).
lint: setup
	$(BIN)/ruff check server tests scripts
	$(BIN)/ruff format --check server tests scripts
	$(BIN)/mypy

## Arize Phoenix, the OTLP backend of the export's round-trip test, in a venv of its own (the main install stays lean).
PHOENIX_VENV ?= .venv-phoenix
PHOENIX_VERSION ?= 20.26.1
$(PHOENIX_VENV)/bin/phoenix:
	@echo "[setup] installing Arize Phoenix $(PHOENIX_VERSION) into $(PHOENIX_VENV) (the OTLP backend of the tests)" >&2
	test -x $(PHOENIX_VENV)/bin/python || $(PYTHON) -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/python -m pip install -q --upgrade pip
	$(PHOENIX_VENV)/bin/python -m pip install -q 'arize-phoenix==$(PHOENIX_VERSION)'

phoenix: $(PHOENIX_VENV)/bin/phoenix

test-python: setup phoenix
	SESSIONLENS_PHOENIX=$(abspath $(PHOENIX_VENV)/bin/phoenix) $(BIN)/python -m pytest -q -p no:cacheprovider

test-extension:
	cd vscode-extension && (test -d node_modules || npm ci --no-audit --no-fund --loglevel=error) \
	  && npm run --silent typecheck && npm test --silent

e2e: setup
	SESSIONLENS_PYTHON=$(abspath $(BIN)/python) bash vscode-extension/e2e/run.sh

## Benchmarks (not part of `make test`): every figure with its baseline; writes tests/perf/RESULTS.md and the
## README's performance table.  SESSIONLENS_CORPUS (default ../shared/corpus) gives the real logs to compare with.
SESSIONLENS_CORPUS ?= $(abspath ../shared/corpus)
perf: setup
	SESSIONLENS_CORPUS=$(SESSIONLENS_CORPUS) $(BIN)/python -m tests.perf.run $(PERF_ARGS)

## The 10 GB scale report (reported, not asserted; deletes its corpus and store afterwards).
perf-scale: setup
	SESSIONLENS_CORPUS=$(SESSIONLENS_CORPUS) $(BIN)/python -m tests.perf.run --scale 10GB $(PERF_ARGS)

## The contract: JSON Schemas, the extension's generated protocol types, the docs' command table.
schemas: setup
	$(BIN)/sessionlens schemas --out schemas
	$(BIN)/python -m sessionlens.schemas --docs docs/ARCHITECTURE.md
	node vscode-extension/scripts/gen-protocol.mjs

clean:
	rm -rf $(VENV) $(PHOENIX_VENV) vscode-extension/node_modules vscode-extension/dist artifacts
