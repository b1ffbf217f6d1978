"""Scoring on the Neo4j backend ranks exactly as on the embedded store, for the same data.

The demo bundle is ingested once into the embedded store (session fixture); its tables are
copied into a Neo4j-backed store (a real server when NEO4J_URI is set; the embedded
FalkorDB where falkordblite is installed) and into a fresh embedded store, both are scored
with `score_all`, and the `prospects` tables must match row for row.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from neo4j_backends import dispose, make_store

from graph.networkx_store import NetworkxStore
from graph.schema import TABLES


@pytest.fixture(params=["neo4j", "falkordb"])
def backend_copy(request: pytest.FixtureRequest, tmp_path: Path):
    store = make_store(request.param, tmp_path / "backend", neo4j_batch_size=500)  # skips first
    demo_store = request.getfixturevalue("demo_store")
    tables = {t: demo_store.read(t) for t in TABLES if t != "prospects" and not demo_store.read(t).empty}
    store.write(tables, note="copy of the demo store")
    yield store, tables
    dispose(store)


def _ranked(store) -> pd.DataFrame:
    df = store.read("prospects")
    return df.sort_values(["family", "kind", "rank"]).reset_index(drop=True)


def test_same_tables_then_same_rankings(backend_copy, tmp_path: Path):
    from scoring.run import score_all

    backend, tables = backend_copy
    for table, df in tables.items():  # the data scoring sees is the same, row for row
        pd.testing.assert_frame_equal(backend.read(table), df, obj=table)
    reference = NetworkxStore(tmp_path / "reference")
    reference.write(tables)
    score_all(reference)
    score_all(backend)
    expected, got = _ranked(reference), _ranked(backend)
    assert len(expected) > 20 and expected["family"].nunique() >= 2
    key = ["family", "kind", "rank", "prospect_id"]
    pd.testing.assert_frame_equal(got[key], expected[key])
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
