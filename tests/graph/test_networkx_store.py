"""The embedded store: versions, atomic commits, corruption, locking."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from graph.errors import Conflict, StoreCorrupted
from graph.networkx_store import NetworkxStore


def _enterprises(*ids: str) -> pd.DataFrame:
    return pd.DataFrame({"id": list(ids), "name": [f"企业{i}" for i in ids], "is_client": [True] * len(ids)})


def test_empty_store_reads_empty_tables(tmp_path):
    store = NetworkxStore(tmp_path / "s")
    assert store.version is None
    df = store.read("enterprises")
    assert df.empty and "is_credit_client" in df.columns


def test_write_then_read_keeps_other_tables(tmp_path):
    store = NetworkxStore(tmp_path / "s")
    v1 = store.write({"enterprises": _enterprises("E1", "E2")})
    v2 = store.write({"associations": pd.DataFrame({"id": ["A1"], "name": ["协会"]})})
    assert (v1, v2) == ("000001", "000002")
    assert list(store.read("enterprises")["id"]) == ["E1", "E2"]
    assert store.node("A1")["kind"] == "Association"
    assert store.node("E2")["name"] == "企业E2"
    assert store.node("nope") is None


def test_a_table_the_schema_no_longer_has_is_not_carried_into_the_next_version(tmp_path):
    """A store written before a table was dropped (`edge_months`, issue #15) keeps its file in
    that version, but the next commit no longer links it, and the rest are carried as ever."""
    store = NetworkxStore(tmp_path / "s")
    store.write({"enterprises": _enterprises("E1")})
    manifest_path = tmp_path / "s" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    old = tmp_path / "s" / "versions" / "000001" / "edge_months.parquet"
    old.write_bytes(b"PAR1")
    manifest["tables"]["edge_months"] = {"file": "versions/000001/edge_months.parquet", "rows": 0,
                                         "written": "versions/000001/edge_months.parquet"}
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    store.write({"associations": pd.DataFrame({"id": ["A1"], "name": ["协会"]})})
    tables = json.loads(manifest_path.read_text(encoding="utf-8"))["tables"]
    assert "edge_months" not in tables and {"enterprises", "associations"} <= set(tables)
    assert not (tmp_path / "s" / "versions" / "000002" / "edge_months.parquet").exists()
    assert list(store.read("enterprises")["id"]) == ["E1"]


def test_old_versions_are_collected(tmp_path):
    store = NetworkxStore(tmp_path / "s", keep_versions=2)
    for i in range(4):
        store.write({"enterprises": _enterprises(f"E{i}")})
    kept = sorted(p.name for p in (tmp_path / "s" / "versions").iterdir())
    assert kept == ["000003", "000004"]


def test_failed_commit_leaves_previous_version(tmp_path, monkeypatch):
    store = NetworkxStore(tmp_path / "s")
    store.write({"enterprises": _enterprises("E1")})
    import graph.networkx_store as mod

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(mod.pq, "write_table", boom)
    with pytest.raises(OSError):
        store.write({"enterprises": _enterprises("E9")})
    fresh = NetworkxStore(tmp_path / "s")
    assert list(fresh.read("enterprises")["id"]) == ["E1"]
    assert not list((tmp_path / "s" / "versions").glob(".tmp-*"))


def test_corrupted_manifest_and_missing_file_are_named(tmp_path):
    store = NetworkxStore(tmp_path / "s")
    store.write({"enterprises": _enterprises("E1")})
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    (tmp_path / "s" / manifest["tables"]["enterprises"]["file"]).unlink()
    with pytest.raises(StoreCorrupted, match="enterprises.parquet"):
        NetworkxStore(tmp_path / "s").read("enterprises")
    (tmp_path / "s" / "manifest.json").write_text("{not json")
    with pytest.raises(StoreCorrupted, match="manifest.json"):
        NetworkxStore(tmp_path / "s").read("enterprises")


def test_second_writer_is_refused(tmp_path):
    store = NetworkxStore(tmp_path / "s")
    other = NetworkxStore(tmp_path / "s")
    with store.writer(), pytest.raises(Conflict), other.writer():
        pass


def test_salt_is_stable_and_private(tmp_path):
    store = NetworkxStore(tmp_path / "s")
    salt = store.secret("salt")
    assert salt == NetworkxStore(tmp_path / "s").secret("salt") and len(salt) == 64
    assert (store.state_dir / "salt.secret").stat().st_mode & 0o077 == 0


def test_neighbors_filter_by_kind_and_amount(tmp_path):
    store = NetworkxStore(tmp_path / "s")
    store.write({
        "enterprises": _enterprises("E1", "E2", "E3", "E4"),
        "edges": pd.DataFrame({
            "src": ["E1", "E1", "E3", "E4"], "dst": ["E2", "E3", "E4", "E1"],
            "kind": ["PAYS", "PAYS", "PAYS", "PARENT_OF"], "amount": [100.0, 5.0, 50.0, None],
        }),
    })
    one = store.neighbors("E1", kinds=["PAYS"], min_amount=10)
    assert set(one.nodes) == {"E1", "E2"}
    two = store.neighbors("E1", hops=2)
    assert set(two.nodes) == {"E1", "E2", "E3", "E4"}
    assert two.nodes["E4"]["kind"] == "Enterprise"


def test_snapshot_pins_one_version_and_shares_unchanged_tables(tmp_path):
    store = NetworkxStore(tmp_path / "s")
    store.write({"enterprises": _enterprises("E1"), "associations": pd.DataFrame({"id": ["A1"], "name": ["协会"]})})
    pinned = store.snapshot()
    store.write({"enterprises": _enterprises("E1", "E2")})
    assert list(pinned.read("enterprises")["id"]) == ["E1"]
    assert list(store.read("enterprises")["id"]) == ["E1", "E2"]
    assert pinned.version == "000001" and store.version == "000002"
    # the associations table did not change: both versions share one frame in memory
    assert pinned.read("associations") is store.read("associations")
    with pytest.raises(StoreCorrupted):
        pinned.write({"enterprises": _enterprises("E3")})


def test_a_store_made_again_at_the_same_path_is_not_served_from_cache(tmp_path):
    import shutil

    store = NetworkxStore(tmp_path / "s")
    store.write({"enterprises": _enterprises("E1")})
    assert store.node("E1") is not None
    shutil.rmtree(tmp_path / "s")
    again = NetworkxStore(tmp_path / "s")
    again.write({"enterprises": _enterprises("E9")})
    assert again.version == "000001"
    assert again.node("E1") is None and again.node("E9") is not None
    assert list(again.read("enterprises")["id"]) == ["E9"]


def test_an_arrow_table_is_stored_like_the_same_frame(tmp_path):
    """`write` takes Arrow tables (ingest's derived tables): same file schema, same rows read back."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from graph.errors import InvalidData
    from graph.schema import arrow_schema

    edges = pd.DataFrame({"src": ["E1", "P1"], "dst": ["E2", "E1"], "kind": ["PAYS", "HOLDS_ROLE"],
                          "amount": [5.0, None], "count": [2, None], "first_on": [pd.Timestamp("2024-01-03"), None],
                          "role": [None, "director"]})
    by_frame, by_arrow = NetworkxStore(tmp_path / "f"), NetworkxStore(tmp_path / "a")
    by_frame.write({"edges": edges})
    by_arrow.write({"edges": pa.Table.from_pandas(edges, preserve_index=False)})  # not in the stored schema
    pd.testing.assert_frame_equal(by_arrow.read("edges"), by_frame.read("edges"))
    stored = pq.read_schema(tmp_path / "a" / by_arrow.manifest()["tables"]["edges"]["file"])
    assert stored.equals(arrow_schema("edges"), check_metadata=True)
    bad = pa.table({"src": ["E1"], "dst": ["E2"], "kind": ["LIKES"]})
    with pytest.raises(InvalidData, match="LIKES"):
        by_arrow.write({"edges": bad})
    assert by_arrow.version == "000001"  # a refused write makes no version
    with pytest.raises(InvalidData, match="duplicate id"):
        by_arrow.write({"enterprises": pa.table({"id": ["E1", "E1"], "name": ["a", "b"]})})
