"""The node index and adjacency index on disk: a restarted process memory-maps them and answers
exactly as a fresh build does; a new `edges` content gets a new cache; a damaged one is rebuilt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import graph.store as store_module
from graph.index_cache import CACHE_DIR, load_adjacency, load_node_index
from graph.networkx_store import NetworkxStore

IDS = ["E1", "E2", "E3", "供应商甲", "E10", "Z"]


def _edges(extra: bool = False) -> pd.DataFrame:
    rows = [("E1", "E2", "PAYS", 100.0), ("E2", "E3", "PAYS", 50.0), ("E1", "供应商甲", "BILL", 70.0),
            ("供应商甲", "E10", "PAYS", 10.0), ("P1", "E1", "HOLDS_ROLE", None)]
    if extra:
        rows.append(("E10", "Z", "PAYS", 5.0))
    return pd.DataFrame(rows, columns=["src", "dst", "kind", "amount"]).assign(
        role=lambda d: np.where(d["kind"] == "HOLDS_ROLE", "director", None))


def _store(root: Path, extra: bool = False) -> NetworkxStore:
    store = NetworkxStore(root)
    store.write({"enterprises": pd.DataFrame({"id": IDS, "name": [f"name {i}" for i in IDS],
                                              "registered_capital": [1.0, 2.0, None, 4.0, 5.0, 6.0]}),
                 "persons": pd.DataFrame({"id": ["P1"], "name": ["张三"]}),
                 "edges": _edges(extra)})
    return store


def _forget() -> None:
    """What a restarted server has in memory: nothing."""
    store_module._DERIVED._items.clear()  # noqa: SLF001
    store_module._TABLES._items.clear()  # noqa: SLF001


def _folders(root: Path) -> list[str]:
    return sorted(p.name for p in (root / CACHE_DIR).iterdir() if p.is_dir())


def test_a_restarted_process_maps_the_cache_and_answers_the_same(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    _forget()
    built = {"ball": store.adjacency().ball("E1", 2), "node": store.node("供应商甲"),
             "sub": store.subgraph(["E1", "E2", "供应商甲", "nope"]), "degree": store.degree("E1")}
    assert len(_folders(store.root)) == 2  # the adjacency and the node index
    _forget()
    adjacency = store.adjacency()
    assert isinstance(adjacency.src.base, np.memmap)  # mapped from disk (a plain view of the map), not built again
    assert isinstance(store._node_index().keys, np.memmap)  # noqa: SLF001
    assert adjacency.ball("E1", 2) == built["ball"] == ["E1", "E2", "供应商甲", "P1", "E3", "E10"]
    assert store.node("供应商甲") == built["node"]
    assert store.node("供应商甲")["registered_capital"] == 4.0
    assert store.node("P1")["kind"] == "Person" and store.node("nope") is None
    sub = store.subgraph(["E1", "E2", "供应商甲", "nope"])
    assert sorted(sub.edges(keys=True)) == sorted(built["sub"].edges(keys=True))
    assert dict(sub.nodes(data=True)) == dict(built["sub"].nodes(data=True))
    assert store.degree("E1") == built["degree"] == {"BILL": 1, "HOLDS_ROLE": 1, "PAYS": 1}


@pytest.mark.parametrize("ends", ["complete", "a missing end"])
def test_edge_rows_from_the_cache_equal_the_stored_table(tmp_path: Path, ends: str) -> None:
    """The cache keeps the edge rows less their ends and kind (the index's own arrays give them
    back) where every edge has both; an edge without one keeps the whole rows."""
    store = _store(tmp_path / "s")
    if ends != "complete":
        store.write({"edges": _edges().assign(dst=lambda d: d["dst"].where(d.index != 1, None))})
    _forget()
    load_adjacency(store)
    cached = load_adjacency(store)
    assert isinstance(cached.src.base, np.memmap)  # from disk
    kept = set(cached.edge_table.column_names)
    assert ({"src", "dst", "kind"} & kept == set()) == (ends == "complete") and {"amount", "role"} <= kept
    for rows in (np.array([4, 0, 2]), np.arange(5), np.array([], dtype=np.int64)):
        expected = store.read("edges").iloc[rows].reset_index(drop=True)
        pd.testing.assert_frame_equal(cached.edge_rows(rows), expected)


def test_a_score_run_keeps_the_cache_and_new_edges_get_a_new_one(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    store.adjacency()
    store._node_index()  # noqa: SLF001
    before = _folders(store.root)
    store.write({"prospects": store.read("prospects")}, note="score")  # edges and nodes unchanged
    _forget()
    store.adjacency()
    store._node_index()  # noqa: SLF001
    assert _folders(store.root) == before
    store.write({"edges": _edges(extra=True)}, note="ingest")
    _forget()
    assert store.adjacency().ball("E10", 1) == ["E10", "供应商甲", "Z"]
    assert len(_folders(store.root)) == 3  # a new adjacency; the node tables did not change


def test_a_store_made_again_at_the_same_path_never_reads_the_old_cache(tmp_path: Path) -> None:
    root = tmp_path / "s"
    old = _store(root)
    old.adjacency()
    cache = root / CACHE_DIR
    kept = tmp_path / "kept-cache"
    cache.rename(kept)
    for path in root.iterdir():  # the store is deleted and made again with other edges...
        if path.is_dir():
            import shutil

            shutil.rmtree(path)
        else:
            path.unlink()
    kept.rename(cache)  # ...but the old cache folder survived
    _forget()
    new = _store(root, extra=True)
    assert "Z" in new.adjacency().ball("E10", 1)


@pytest.mark.parametrize("damage", ["truncate", "no-done"])
def test_a_damaged_cache_is_rebuilt(tmp_path: Path, damage: str) -> None:
    store = _store(tmp_path / "s")
    store.adjacency()
    folder = next((store.root / CACHE_DIR).glob("adjacency-*"))
    if damage == "truncate":
        (folder / "src.npy").write_bytes(b"\x93NUMPY")
    else:
        (folder / "done").unlink()
    _forget()
    assert store.adjacency().ball("E1", 1) == ["E1", "E2", "供应商甲", "P1"]
    assert isinstance(store.adjacency().src.base, np.memmap)  # written again, whole


def test_node_index_lookup_is_exact(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    index = load_node_index(store)
    assert len(index) == len(IDS) + 1
    assert index.get("E1") == ("enterprises", 0) and index.get("E10") == ("enterprises", 4)
    assert "供应商甲" in index and "E" not in index and "E100" not in index and "" not in index
    assert index.get("P1") == ("persons", 0)
    located = index.locate(["P1", "E10", "nope", "E1"])
    assert located == {"persons": [0], "enterprises": [4, 0]} and list(located) == ["persons", "enterprises"]


def test_cache_files_are_private(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    store.adjacency()
    for folder in (store.root / CACHE_DIR).iterdir():
        assert folder.stat().st_mode & 0o077 == 0
        for f in folder.iterdir():
            assert f.stat().st_mode & 0o077 == 0, f


def test_a_read_of_a_few_columns_reads_only_those_and_equals_the_full_read(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    _forget()
    part = store.read("enterprises", ["id", "registered_capital", "branch_id"])
    assert store_module._TABLES.get((store._cache_scope(), "enterprises", store._table_token("enterprises"))) is None  # noqa: SLF001
    full = store.read("enterprises")
    pd.testing.assert_frame_equal(part, full[["id", "registered_capital", "branch_id"]])
    assert part["branch_id"].isna().all()  # not stored: null, as in the full read


def test_warm_builds_every_cache_once(tmp_path: Path) -> None:
    from graph.index_cache import warm

    store = _store(tmp_path / "s")
    store.write({"prospects": store.read("prospects")}, note="score")
    warm(store)
    made = _folders(store.root)
    assert [name.split("-")[0] for name in made] == ["adjacency", "nodes", "table_prospects"]
    _forget()
    warm(store)
    assert _folders(store.root) == made


@pytest.mark.parametrize("stored", [True, False])
def test_a_copy_written_aside_is_placed_once_the_store_holds_the_rows(tmp_path: Path, stored: bool) -> None:
    import pyarrow as pa

    import graph.index_cache as index_cache

    store = _store(tmp_path / "s")
    rows = pa.table({"x": [1, 2, 3]})
    place = index_cache.copy_aside(store, "prospects", rows)
    version = store.write({"prospects": store.read("prospects")}, note="score")
    place(stored)
    assert not list((store.root / CACHE_DIR).glob(".tmp-*"))  # placed or thrown away, never left
    assert ([name.split("-")[0] for name in _folders(store.root)] == ["table_prospects"]) == stored

    def never() -> pa.Table:
        raise AssertionError("the copy was made again")

    if stored:
        assert store.version == version and index_cache.load_arrow(store, "prospects", never).equals(rows)


def test_a_failed_write_of_the_store_raises_its_own_error_not_the_copys(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa

    import graph.index_cache as index_cache

    store = _store(tmp_path / "s")

    def broken(*_: object) -> None:
        raise RuntimeError("the copy broke")

    monkeypatch.setattr(index_cache, "_write_aside", broken)
    index_cache.copy_aside(store, "prospects", pa.table({"x": [1]}))(False)  # the write failed: nothing raised here
    with pytest.raises(RuntimeError, match="the copy broke"):
        index_cache.copy_aside(store, "prospects", pa.table({"x": [1]}))(True)


def test_a_memory_mapped_table_is_opened_once_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa

    import graph.index_cache as index_cache

    store = _store(tmp_path / "s")
    table = pa.table({"x": [1, 2, 3]})
    first = index_cache.load_arrow(store, "edges", lambda: table)
    assert first.equals(table)

    def opened(*args: object) -> None:
        raise AssertionError("the cache folder was opened again")

    monkeypatch.setattr(index_cache, "_read", opened)
    again = index_cache.load_arrow(store, "edges", lambda: pa.table({"x": [9]}))
    assert again is first  # the same mapping, not the file opened, mapped and touched again
