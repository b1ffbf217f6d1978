"""The shared store suite: every backend must pass the same tests (networkx, Neo4j, FalkorDB).

`neo4j` runs against a real server when NEO4J_URI is set and skips otherwise; `falkordb`
runs the Neo4j backend's Cypher on an embedded FalkorDB where `falkordblite` is installed
(Python >= 3.12) and skips otherwise. Results are compared with what went in, and graph
queries with the embedded store's answers on the same data.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest

from graph.errors import Conflict, InvalidData, NotFound
from graph.networkx_store import NetworkxStore
from graph.schema import conform
from graph.store import GraphStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "neo4j"))
from neo4j_backends import BACKENDS, dispose, make_store, sample_tables  # noqa: E402

from tests.graph.whole import whole_graph


@pytest.fixture(params=BACKENDS)
def backend_store(request: pytest.FixtureRequest, tmp_path: Path):
    store = make_store(request.param, tmp_path / "store", neo4j_batch_size=3)
    yield store
    dispose(store)


def _expected(table: str, df: pd.DataFrame) -> pd.DataFrame:
    return conform(table, df)


def _dump(g: nx.MultiDiGraph) -> tuple[list[Any], list[Any]]:
    nodes = sorted((str(n), sorted(d.items())) for n, d in g.nodes(data=True))
    edges = sorted((str(u), str(v), str(k), sorted(d.items())) for u, v, k, d in g.edges(keys=True, data=True))
    return nodes, edges


def _reference(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> NetworkxStore:
    ref = NetworkxStore(tmp_path / "reference")
    ref.write(tables)
    return ref


def test_empty_store_reads_empty_tables(backend_store: GraphStore):
    assert backend_store.version is None
    df = backend_store.read("edges")
    assert df.empty and list(df.columns) == list(conform("edges", pd.DataFrame()).columns)
    assert backend_store.node("E1") is None
    with pytest.raises(NotFound):
        backend_store.read("no_such_table")


def test_round_trip_keeps_values_order_and_dtypes(backend_store: GraphStore):
    tables = sample_tables()
    backend_store.write(tables, note="first")
    for table, df in tables.items():
        pd.testing.assert_frame_equal(backend_store.read(table), _expected(table, df), check_exact=True)


def test_write_keeps_other_tables_and_versions_increase(backend_store: GraphStore):
    tables = sample_tables()
    v1 = backend_store.write({"enterprises": tables["enterprises"]})
    v2 = backend_store.write({"payments": tables["payments"]})
    assert (v1, v2) == ("000001", "000002") and backend_store.version == v2
    assert list(backend_store.read("enterprises")["id"]) == list(tables["enterprises"]["id"])
    assert len(backend_store.read("payments")) == 4


def test_rewrite_is_idempotent_and_new_rows_are_incremental(backend_store: GraphStore):
    tables = sample_tables()
    backend_store.write(tables)
    backend_store.write(tables)
    for table, df in tables.items():
        pd.testing.assert_frame_equal(backend_store.read(table), _expected(table, df))
    sent = getattr(backend_store, "last_write_rows", None)
    if sent is not None:  # Neo4j: the same data again sends nothing
        assert sent == 0
    more = pd.concat([tables["payments"], pd.DataFrame({
        "fact_id": ["f5"], "payer_id": ["E3"], "payee_id": ["E4"], "amount": [7.0],
        "paid_on": ["2024-03-02"], "month": ["2024-03"]})], ignore_index=True)
    backend_store.write({"payments": more}, note="a new month")
    pd.testing.assert_frame_equal(backend_store.read("payments"), _expected("payments", more))
    if sent is not None:
        assert backend_store.last_write_rows == 1  # only the new row travelled


def test_removed_rows_disappear(backend_store: GraphStore):
    tables = sample_tables()
    backend_store.write(tables)
    fewer = {
        "enterprises": tables["enterprises"].iloc[[0, 1, 3]],
        "edges": tables["edges"].iloc[[0, 3, 4]],
        "memberships": tables["memberships"].iloc[[2]],
    }
    backend_store.write(fewer)
    for table, df in fewer.items():
        pd.testing.assert_frame_equal(backend_store.read(table), _expected(table, df.reset_index(drop=True)))
    assert backend_store.node("E3") is None and backend_store.node("E4")["kind"] == "Enterprise"
    g = whole_graph(backend_store)
    assert "ghost" not in g and g.number_of_edges() == 3


def test_node_lookup_matches_the_embedded_store(backend_store: GraphStore, tmp_path: Path):
    tables = sample_tables()
    backend_store.write(tables)
    ref = _reference(tmp_path, tables)
    for node_id in ["E1", "E2", "E3", "ext:0a1b2c3d4e5f", "P1", "A1"]:
        assert backend_store.node(node_id) == ref.node(node_id), node_id
    assert backend_store.node("E3")["name"] == "多行\n名称"
    assert backend_store.node("ghost") is None  # an edge endpoint in no node table
    assert backend_store.require_node("P1")["kind"] == "Person"
    with pytest.raises(NotFound):
        backend_store.require_node("nope")


@pytest.mark.parametrize("query", [
    {}, {"kinds": ["PAYS"], "min_amount": 10}, {"hops": 2}, {"hops": 3, "limit": 1}, {"hops": 2, "expand": 1},
    {"kinds": ["HOLDS_ROLE", "MEMBER_OF"], "hops": 2},
])
def test_neighbors_match_the_embedded_store(backend_store: GraphStore, tmp_path: Path, query):
    tables = sample_tables()
    backend_store.write(tables)
    ref = _reference(tmp_path, tables)
    assert _dump(backend_store.neighbors("E1", **query)) == _dump(ref.neighbors("E1", **query))


def test_whole_graph_matches_the_embedded_store(backend_store: GraphStore, tmp_path: Path):
    tables = sample_tables()
    backend_store.write(tables)
    assert _dump(whole_graph(backend_store)) == _dump(whole_graph(_reference(tmp_path, tables)))


def test_a_node_can_move_between_tables(backend_store: GraphStore):
    backend_store.write({"persons": pd.DataFrame({"id": ["X1"], "name": ["王五"]})})
    backend_store.write({"persons": pd.DataFrame({"id": ["P9"], "name": ["赵六"]}),
                         "enterprises": pd.DataFrame({"id": ["X1"], "name": ["王五商行"]})})
    found = backend_store.node("X1")
    assert found["kind"] == "Enterprise" and found["name"] == "王五商行"
    assert list(backend_store.read("persons")["id"]) == ["P9"]


def test_local_state_writer_lock_and_salt(backend_store: GraphStore):
    salt = backend_store.secret("salt")
    assert len(salt) == 64 and backend_store.secret("salt") == salt
    assert backend_store.reports_dir.is_dir() and backend_store.state_dir.is_dir()
    other = type(backend_store).__new__(type(backend_store))
    GraphStore.__init__(other, backend_store.root)
    with backend_store.writer(), pytest.raises(Conflict), other.writer():
        pass


def test_every_backend_refuses_what_it_cannot_store(backend_store: GraphStore):
    bad_kind = pd.DataFrame({"src": ["E1"], "dst": ["E2"], "kind": ["LIKES"]})
    with pytest.raises(InvalidData, match="LIKES"):
        backend_store.write({"edges": bad_kind})
    with pytest.raises(InvalidData, match="duplicate id"):
        backend_store.write({"enterprises": pd.DataFrame({"id": ["E1", "E1"], "name": ["a", "b"]})})
    assert backend_store.version is None  # nothing was written


@pytest.mark.parametrize("query", [{}, {"kinds": ["PAYS"]}, {"min_amount": 10.0}])
def test_subgraph_and_adjacency_match_the_embedded_store(backend_store: GraphStore, tmp_path: Path, query):
    tables = sample_tables()
    backend_store.write(tables)
    ref = _reference(tmp_path, tables)
    ids = ["E1", "E2", "E3", "ghost", "nope", "P1"]
    assert _dump(backend_store.subgraph(ids, **query)) == _dump(ref.subgraph(ids, **query))
    assert backend_store.adjacency().ball("E1", 2) == ref.adjacency().ball("E1", 2)


def test_a_staged_version_is_invisible_until_committed(backend_store: GraphStore):
    tables = sample_tables()
    v1 = backend_store.write({"enterprises": tables["enterprises"], "payments": tables["payments"]})
    more = pd.concat([tables["payments"], pd.DataFrame({
        "fact_id": ["f5"], "payer_id": ["E3"], "payee_id": ["E4"], "amount": [7.0],
        "paid_on": ["2024-03-02"], "month": ["2024-03"]})], ignore_index=True)
    with backend_store.stage(note="staged") as stage:
        stage.put("payments", more)
        stage.put("persons", tables["persons"])
        assert backend_store.version == v1 and len(backend_store.read("payments")) == 4  # nothing visible yet
        # what the new version will hold, as Arrow: the put table, and the kept one of the current version
        assert stage.read("payments", ["fact_id", "amount"]).column("fact_id").to_pylist()[-1] == "f5"
        assert stage.read("enterprises", ["id"]).column("id").to_pylist() == list(tables["enterprises"]["id"])
        assert stage.read("associations", ["id"]).num_rows == 0  # in no version yet
        v2 = stage.commit()
    assert backend_store.version == v2 != v1
    pd.testing.assert_frame_equal(backend_store.read("payments"), _expected("payments", more))
    pd.testing.assert_frame_equal(backend_store.read("persons"), _expected("persons", tables["persons"]))
    assert list(backend_store.read("enterprises")["id"]) == list(tables["enterprises"]["id"])  # kept


def test_a_stage_left_without_commit_changes_nothing(backend_store: GraphStore):
    tables = sample_tables()
    v1 = backend_store.write({"enterprises": tables["enterprises"]})
    with pytest.raises(RuntimeError, match="derive failed"), backend_store.stage() as stage:
        stage.put("enterprises", tables["enterprises"].iloc[:2])
        raise RuntimeError("derive failed")
    with pytest.raises(InvalidData, match="duplicate id"), backend_store.stage() as stage:
        stage.put("enterprises", pd.DataFrame({"id": ["E1", "E1"], "name": ["a", "b"]}))
    with pytest.raises(RuntimeError, match="committed or aborted"):
        stage.put("persons", tables["persons"])
    assert backend_store.version == v1
    assert list(backend_store.read("enterprises")["id"]) == list(tables["enterprises"]["id"])
    versions = backend_store.root / "versions"
    if versions.is_dir():  # the embedded store: no temporary folder left behind
        assert sorted(p.name for p in versions.iterdir()) == [v1]
