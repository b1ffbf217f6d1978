"""Cypher is never built from data: values are $parameters, names come from the whitelist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import graph.neo4j_cypher as cy

ROOT = Path(__file__).resolve().parents[2]
NEO4J_MODULES = ["graph/neo4j_store.py", "graph/neo4j_bolt.py", "graph/neo4j_rows.py", "graph/neo4j_export.py"]
CYPHER_WORDS = re.compile(r"\b(MATCH|MERGE|UNWIND|CREATE|DETACH|RETURN)\b")


def all_statements() -> list[str]:
    out: list[str] = []
    for name in cy.__all__:
        value = getattr(cy, name)
        if isinstance(value, str) and CYPHER_WORDS.search(value):
            out.append(value)
        elif isinstance(value, dict | tuple):
            items = value.values() if isinstance(value, dict) else value
            out.extend(v for v in items if isinstance(v, str) and CYPHER_WORDS.search(v))
    return out


def test_there_are_statements_to_check():
    statements = all_statements()
    assert len(statements) > 80  # per-label and per-type statements included
    assert any("UNWIND $rows AS row MERGE" in s for s in statements)


def test_labels_and_types_in_statements_are_whitelisted():
    for statement in all_statements():
        names = re.findall(r"[(\[]\s*\w*\s*:\s*([A-Za-z_]\w*)", statement)
        names += re.findall(r"\b(?:SET|REMOVE) \w+:([A-Za-z_]\w*)", statement)
        assert names, statement
        for name in names:
            assert name in cy.WHITELIST, f"{name!r} in {statement!r}"


def test_values_only_as_parameters():
    for statement in all_statements():
        if statement.startswith("CREATE "):  # schema statements carry no values at all
            assert "$" not in statement and "'" not in statement and '"' not in statement
            continue
        assert "$store" in statement, statement  # every data statement is scoped to its namespace
        assert "'" not in statement and '"' not in statement, f"literal text in {statement!r}"
        for template_left in ("<NAME>", "<name>", "<PROP>", "{}", "%s"):
            assert template_left not in statement, statement


def test_cypher_module_has_no_string_building():
    tree = ast.parse((ROOT / "graph/neo4j_cypher.py").read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) and _looks_like_cypher(n)]
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod)]


def _looks_like_cypher(node: ast.JoinedStr) -> bool:
    text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return bool(CYPHER_WORDS.search(text))


def test_backend_modules_do_not_build_cypher():
    """No f-string, .format or % near a Cypher keyword, and no Cypher literal outside neo4j_cypher."""
    for rel in NEO4J_MODULES:
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef) and n.body
                      and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                assert not _looks_like_cypher(node), f"{rel}:{node.lineno} builds Cypher in an f-string"
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                assert not re.search(r"\b(MATCH|MERGE|UNWIND|DETACH DELETE)\b", node.value), \
                    f"{rel}:{node.lineno} holds Cypher outside graph/neo4j_cypher.py"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
                raise AssertionError(f"{rel}:{node.lineno} uses str.format")
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
                raise AssertionError(f"{rel}:{node.lineno} uses % formatting")


def test_whitelist_refuses_data_names():
    import pytest

    with pytest.raises(ValueError):
        cy._fill("MATCH (n:<NAME>) RETURN n", "Enterprise) DETACH DELETE (m")
