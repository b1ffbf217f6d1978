"""Batching and deltas of the Neo4j backend, checked without a server.

A recording runner stands in for Bolt only to capture the statements and parameters the
store sends for an empty database; that the statements really run is checked on FalkorDB
(tests/neo4j/test_falkordb_cypher.py) and on a real Neo4j (the store suite).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pandas as pd
import pytest

import graph.neo4j_cypher as cy
from graph.neo4j_rows import batched, encode_records, plan_delta, row_keys
from graph.neo4j_store import Neo4jStore
from graph.schema import conform, empty
from graph.settings import StoreSettings


class RecordingRunner:
    """An empty database that records what a write sends."""

    native_dates = True

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.schema_statements: list[str] = []

    def read(self, query: str, params: dict[str, Any], fetch_size: int) -> Iterator[dict[str, Any]]:
        return iter([])

    def write(self, work: Callable[[Any], Any]) -> Any:
        return work(self)

    def run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append((query, params))
        return [{"version": None}] if query == cy.LOCK_VERSION else []

    def schema(self, statements: Iterable[str]) -> None:
        self.schema_statements.extend(statements)

    def close(self) -> None:
        pass


def test_batched_splits_by_size():
    assert [len(b) for b in batched(list(range(7)), 3)] == [3, 3, 1]
    assert list(batched([], 3)) == []
    assert [b for b in batched(list(range(4)), 4)] == [[0, 1, 2, 3]]
    with pytest.raises(ValueError):
        list(batched([1], 0))


@pytest.mark.parametrize("batch_size,expected", [(3, [3, 3, 1]), (5000, [7]), (1, [1] * 7)])
def test_a_write_sends_unwind_batches_of_the_batch_size(tmp_path, batch_size, expected):
    runner = RecordingRunner()
    store = Neo4jStore(tmp_path, StoreSettings(neo4j_batch_size=batch_size, neo4j_namespace="bank-a"),
                       runner=runner)
    ents = pd.DataFrame({"id": [f"E{i}" for i in range(7)], "name": [f"企业{i}" for i in range(7)]})
    assert store.write({"enterprises": ents}) == "000001"
    upserts = [p for q, p in runner.calls if q == cy.UPSERT_NODES["Enterprise"]]
    assert [len(p["rows"]) for p in upserts] == expected
    assert [r["id"] for p in upserts for r in p["rows"]] == list(ents["id"])
    assert runner.calls[0][0] == cy.LOCK_VERSION and runner.calls[-1][0] == cy.SET_VERSION
    assert runner.calls[-1][1]["version"] == "000001" and runner.calls[-1][1]["tables"] == ["enterprises"]
    assert all(p["store"] == "bank-a" for _, p in runner.calls)
    assert set(runner.schema_statements) == set(cy.SCHEMA)


def test_edges_go_to_their_relationship_type(tmp_path):
    runner = RecordingRunner()
    store = Neo4jStore(tmp_path, StoreSettings(neo4j_batch_size=2), runner=runner)
    edges = pd.DataFrame({"src": ["E1", "E1", "P1"], "dst": ["E2", "E3", "E1"],
                          "kind": ["PAYS", "PAYS", "HOLDS_ROLE"], "amount": [1.0, 2.0, None],
                          "role": [None, None, "legal_rep"]})
    store.write({"edges": edges})
    pays = [p for q, p in runner.calls if q == cy.UPSERT_EDGES["PAYS"]]
    roles = [p for q, p in runner.calls if q == cy.UPSERT_EDGES["HOLDS_ROLE"]]
    assert [len(p["rows"]) for p in pays] == [2] and [len(p["rows"]) for p in roles] == [1]
    row = roles[0]["rows"][0]
    assert (row["src"], row["dst"]) == ("P1", "E1")
    assert row["props"]["role"] == "legal_rep" and "amount" not in row["props"]  # missing = no property


def test_delta_sends_only_changes():
    old = conform("payments", pd.DataFrame({"fact_id": ["a", "b", "c"], "amount": [1.0, 2.0, 3.0]}))
    same = plan_delta("payments", old, old, "ns")
    assert same.rows_sent == 0
    new = conform("payments", pd.DataFrame({"fact_id": ["a", "b", "d"], "amount": [1.0, 2.5, 4.0]}))
    delta = plan_delta("payments", old, new, "ns")
    assert [r["key"] for r in delta.upserts["Payment"]] == ["b", "d"]
    assert delta.deletes["Payment"] == ["c"]
    first = plan_delta("payments", empty("payments"), new, "ns")
    assert [r["props"]["_pos"] for r in first.upserts["Payment"]] == [0, 1, 2]


def test_repeated_keys_get_ordinals_and_node_ids_must_be_unique():
    df = conform("memberships", pd.DataFrame({"association_id": ["A", "A"], "member_id": ["E", "E"]}))
    keys = row_keys("memberships", df)
    assert len(set(keys)) == 2 and keys[1].startswith(keys[0])
    from graph.errors import InvalidData

    with pytest.raises(InvalidData, match="duplicate id"):
        row_keys("persons", conform("persons", pd.DataFrame({"id": ["P", "P"]})))


def test_dates_encode_as_neo4j_dates_or_iso_text():
    df = conform("payments", pd.DataFrame({"fact_id": ["a"], "paid_on": ["2024-01-31"]}))
    import datetime as dt

    assert encode_records(df)[0]["paid_on"] == dt.date(2024, 1, 31)
    assert encode_records(df, native_dates=False)[0]["paid_on"] == "2024-01-31"
