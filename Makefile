# Prospect Graph — the two commands a fresh machine needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PIP_FLAGS ?= -q --disable-pip-version-check
PYTEST_ARGS ?=
SERVE ?=

.PHONY: install demo test lint typecheck pytest system-deps bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) -m pip install $(PIP_FLAGS) -e ".[dev,neo4j]"
	@touch $@

demo: install
	$(BIN)/prospect-graph demo $(if $(SERVE),--serve,)

# System packages the browser tests use: Debian's Chromium and a CJK font.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk'; then \
		echo "installing chromium and a CJK font (apt-get)"; \
		(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei fontconfig >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

pytest: install system-deps
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# The Neo4j backend's Cypher also runs for real on an embedded FalkorDB (own Python 3.12 venv).
test: lint typecheck test-falkordb pytest

bench: install
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) prospect-graph-store demo-bundle .pytest_cache .mypy_cache .ruff_cache

# The Neo4j backend's Cypher on an embedded FalkorDB (needs a Python >= 3.12; see docs/neo4j.md).
.PHONY: test-falkordb
test-falkordb: install
	FALKORDB_VENV=$(CURDIR)/.venv-falkordb bash tests/neo4j/run_falkordb.sh
