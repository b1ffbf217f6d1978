"""The process's table cache: a write frees the tables it replaced, keeps the ones it did not
(shared by both versions), and `release_tables` frees a store's tables without changing reads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import graph.store as store_module
from graph.networkx_store import NetworkxStore


def _cached(store: NetworkxStore) -> set[tuple[str, ...]]:
    """(table, token[, columns]) of the store's cached tables."""
    scope = store._cache_scope()  # noqa: SLF001
    return {key[1:] for key in list(store_module._TABLES._items) if key[0] == scope}  # noqa: SLF001


def _store(root: Path) -> NetworkxStore:
    store = NetworkxStore(root)
    store.write({"enterprises": pd.DataFrame({"id": ["E1", "E2"], "name": ["甲", "乙"]}),
                 "persons": pd.DataFrame({"id": ["P1"], "name": ["张三"]})})
    return store


def test_a_write_frees_the_tables_it_replaced_and_keeps_the_others(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    old_persons = store._table_token("persons")  # noqa: SLF001
    store.read("enterprises")
    store.read("persons")
    store.read("persons", ["id"])
    store.write({"persons": pd.DataFrame({"id": ["P1", "P2"], "name": ["张三", "李四"]})})
    cached = _cached(store)
    assert all(key[0] != "persons" for key in cached)  # the old version's persons: gone (whole and columns)
    assert ("enterprises", store._table_token("enterprises")) in cached  # noqa: SLF001 - unchanged: kept
    assert store._table_token("persons") != old_persons  # noqa: SLF001
    assert store.read("persons")["id"].tolist() == ["P1", "P2"]


def test_release_tables_frees_the_cache_and_reads_stay_the_same(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    part = store.read("enterprises", ["id"])  # before the whole table: cached on its own
    before = {t: store.read(t) for t in ("enterprises", "persons")}
    assert len(_cached(store)) == 3
    other = _store(tmp_path / "other")
    other.read("enterprises")
    store.release_tables()
    assert _cached(store) == set()
    assert len(_cached(other)) == 1  # another store's tables are left alone
    for table, df in before.items():
        pd.testing.assert_frame_equal(store.read(table), df)
    pd.testing.assert_frame_equal(store.read("enterprises", ["id"]), part)
