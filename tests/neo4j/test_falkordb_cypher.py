"""Every data statement of graph/neo4j_cypher.py, executed on a real openCypher engine.

FalkorDB (embedded by `falkordblite`, Python >= 3.12) parses and runs the statements for
every label and relationship type: MERGE is idempotent, reads return what was written,
deletes and the orphan sweep remove what they should, namespaces stay apart. It does not
speak Bolt and has neither Neo4j 5's constraint syntax nor multi-statement transactions,
so the schema statements, the driver and atomicity are not exercised here.
"""

from __future__ import annotations

import uuid

import pytest
from neo4j_backends import NO_FALKOR, falkordb_available, shared_falkor_runner

import graph.neo4j_cypher as cy

pytestmark = pytest.mark.skipif(not falkordb_available(), reason=NO_FALKOR)


@pytest.fixture()
def run():
    runner = shared_falkor_runner()
    store = f"cypher-{uuid.uuid4().hex[:10]}"

    def go(query: str, **params):
        return runner.run(query, {"store": store, **params})

    go.store = store  # type: ignore[attr-defined]
    yield go
    for statement in cy.DROP_NAMESPACE:
        go(statement)


@pytest.mark.parametrize("label", sorted(cy.NODE_LABELS.values()))
def test_node_statements_for_every_label(run, label):
    rows = [{"id": "N1", "props": {"_store": run.store, "id": "N1", "_pos": 0, "name": "名称 \"甲\""}}]
    run(cy.UPSERT_NODES[label], rows=rows)
    run(cy.UPSERT_NODES[label], rows=rows)  # MERGE: the same row twice is one node
    got = run(cy.READ_NODES[label])
    assert [r["p"]["name"] for r in got] == ['名称 "甲"']
    found = run(cy.NODE, id="N1")
    assert len(found) == 1 and set(found[0]["labels"]) == {cy.ENTITY, label}
    run(cy.DELETE_NODES[label], ids=["N1"])
    assert run(cy.READ_NODES[label]) == []
    run(cy.DROP_ORPHANS, ids=["N1"])
    assert run(cy.NODE, id="N1") == []


@pytest.mark.parametrize("label", sorted(cy.ROW_LABELS.values()))
def test_row_statements_for_every_label(run, label):
    rows = [{"key": k, "props": {"_store": run.store, "_key": k, "_pos": i, "amount": 1.5}}
            for i, k in enumerate(["a", "b\x1fc"])]
    run(cy.UPSERT_ROWS[label], rows=rows)
    run(cy.UPSERT_ROWS[label], rows=rows)
    assert sorted(r["p"]["_key"] for r in run(cy.READ_ROWS[label])) == ["a", "b\x1fc"]
    run(cy.DELETE_ROWS[label], keys=["a"])
    assert [r["p"]["_key"] for r in run(cy.READ_ROWS[label])] == ["b\x1fc"]


@pytest.mark.parametrize("kind", cy.EDGE_TYPES)
def test_edge_statements_for_every_type(run, kind):
    rows = [{"src": "S", "dst": "D", "key": "S|D", "props": {"_key": "S|D", "_pos": 0, "amount": 9.0}}]
    run(cy.UPSERT_EDGES[kind], rows=rows)
    run(cy.UPSERT_EDGES[kind], rows=rows)
    got = run(cy.READ_EDGES, types=list(cy.EDGE_TYPES))
    assert [(r["src"], r["dst"], r["kind"], r["p"]["amount"]) for r in got] == [("S", "D", kind, 9.0)]
    step = run(cy.NEIGHBOUR_STEP, frontier=["S"], kinds=[kind], money=["PAYS"], min_amount=None)
    assert step == [{"id": "D", "amount": 9.0}]
    assert len(run(cy.SUBGRAPH_EDGES, ids=["S", "D"])) == 1
    run(cy.DELETE_EDGES[kind], rows=rows)
    assert run(cy.READ_EDGES, types=list(cy.EDGE_TYPES)) == []
    run(cy.DROP_ORPHANS, ids=["S", "D"])  # bare endpoints with no relationship left go
    assert run(cy.NODES_BY_IDS, ids=["S", "D"]) == []


def test_version_node_and_namespaces_stay_apart(run):
    assert run(cy.LOCK_VERSION, token="t1") == [{"version": None}]
    run(cy.SET_VERSION, version="000001", tables=["enterprises"], history="[]")
    assert run(cy.GET_VERSION)[0]["version"] == "000001"
    other = shared_falkor_runner().run(cy.GET_VERSION, {"store": "some-other-namespace"})
    assert other == []
