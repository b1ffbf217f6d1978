"""The package layout of docs/ARCHITECTURE.md holds: imports go one way, modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What each package may import (lazy imports inside functions count too). docs/ARCHITECTURE.md
ALLOWED = {
    "graph": set(),
    "ingest": {"graph"},
    "scoring": {"graph"},
    "leads": {"graph", "ingest", "scoring"},  # ingest: only the IngestWatcher protocol (leads.watchers)
    "demo": {"graph", "ingest"},  # ingest: the header words the bundle is written with
    "viz": {"graph", "scoring", "leads"},
    "api": {"graph", "ingest", "scoring", "leads", "demo", "viz"},
}
MAX_LINES = 500


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_go_one_way(package: str) -> None:
    wrong = {str(path.relative_to(ROOT)): sorted(used)
             for path in _modules(package)
             if (used := _imported_packages(path) - ALLOWED[package] - {package})}
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package])}: {wrong}"


def test_the_rule_is_checked_on_real_imports() -> None:
    assert _imported_packages(ROOT / "leads" / "watchers.py") == {"graph", "ingest", "leads"}
    assert _imported_packages(ROOT / "ingest" / "job.py") == {"graph", "ingest"}  # no leads: watchers are passed in


def test_every_module_is_under_500_lines() -> None:
    long = {str(path.relative_to(ROOT)): n for package in [*ALLOWED, "bench"] for path in _modules(package)
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules (house rule: under {MAX_LINES} lines): {long}"


def test_product_databases_are_opened_by_graph_duck_only() -> None:
    """DuckDB draws a progress bar of its own on a query over 2 s unless told not to (a 20M
    ingest's log held two): the product opens its databases through `graph.duck`, which turns it
    off (bench/ runs its reference pipeline on plain DuckDB, as an analyst would)."""
    calls = {str(path.relative_to(ROOT)) for package in ALLOWED for path in _modules(package)
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect"
             and isinstance(node.func.value, ast.Name) and node.func.value.id == "duckdb"}
    assert calls == {"graph/duck.py"}
