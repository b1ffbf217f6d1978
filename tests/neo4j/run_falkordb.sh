#!/usr/bin/env bash
# Run the Neo4j backend's tests on an embedded FalkorDB, a real openCypher engine.
# falkordblite needs Python >= 3.12 while the project's venv may be 3.11, so this uses a
# venv of its own (FALKORDB_VENV) built from a Python 3.12 interpreter (PY312).
# Usage: bash tests/neo4j/run_falkordb.sh   (or: make test-falkordb)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${PY312:-}" ]; then
    for candidate in "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python python3.13 python3.12; do
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            PY312="$candidate"
            break
        fi
    done
fi
if [ -z "${PY312:-}" ]; then
    echo "skipped: no Python >= 3.12 found for falkordblite (set PY312=/path/to/python3.12)"
    exit 0
fi
VENV="${FALKORDB_VENV:-/tmp/prospect-graph-falkordb-venv}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY312" -m venv "$VENV"
fi
# the project's dependencies as pyproject.toml lists them now: a venv built for older ones is topped up
WANTED="$("$VENV/bin/python" - <<'PY'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["neo4j"]))
PY
)"
if ! "$VENV/bin/python" -c 'import redislite.falkordb_client, pandas, neo4j, pytest' 2>/dev/null \
        || [ "$WANTED" != "$(cat "$VENV/requirements.txt" 2>/dev/null)" ]; then
    printf '%s\n' "$WANTED" > "$VENV/requirements.txt"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$VENV/requirements.txt" falkordblite pytest
fi
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$PWD" PROSPECT_GRAPH_NO_PROGRESS=1 "$VENV/bin/python" -m pytest -q \
    -p no:cacheprovider tests/neo4j tests/graph/test_store_suite.py -k "falkordb or test_falkordb_cypher" "$@"
