"""`score` then the API caches: the prospects cache made from the rows a score run just wrote is
the table the store's file holds (same rows, types and pandas metadata), and a page read from it
equals a page read from the file; rows of a version that is no longer current are not used."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from graph.index_cache import CACHE_DIR, load_arrow, warm
from graph.networkx_store import NetworkxStore
from graph.store import GraphStore
from scoring.run import score_all
from scoring.stored import page_prospects


def _copy(store: GraphStore, to: Path) -> NetworkxStore:
    shutil.copytree(store.root, to, ignore=shutil.ignore_patterns(CACHE_DIR))
    return NetworkxStore(to)


def _file_table(store: NetworkxStore):  # noqa: ANN202 - a pyarrow table
    return pq.read_table(store.root / store.manifest()["tables"]["prospects"]["file"])


def test_the_cache_from_the_written_rows_is_the_file(demo_store: GraphStore, tmp_path: Path) -> None:
    store = _copy(demo_store, tmp_path / "s")
    summary = score_all(store)
    assert summary.version == store.version and summary.prospects is not None
    warm(store, summary.prospects, summary.version)
    # the cache is on disk now: the reader passed here is never called
    cached = load_arrow(store, "prospects", lambda: (_ for _ in ()).throw(AssertionError("read again")))
    file_table = _file_table(store)
    assert cached.num_rows == len(summary.prospects) > 0
    assert cached.equals(file_table, check_metadata=True)
    page, total = page_prospects(store, "supply_chain", limit=25)
    other = _copy(store, tmp_path / "from-file")  # the same version, its cache read from the file
    warm(other)
    page_file, total_file = page_prospects(other, "supply_chain", limit=25)
    assert total == total_file > 0
    pd.testing.assert_frame_equal(page, page_file)


def test_rows_of_an_older_version_are_not_cached(demo_store: GraphStore, tmp_path: Path) -> None:
    store = _copy(demo_store, tmp_path / "s")
    summary = score_all(store, families=["ecosystem"])
    stale = summary.prospects
    assert stale is not None
    store.write({"prospects": stale.slice(0, 3)}, note="a later score")  # the version moved on
    warm(store, stale, summary.version)
    cached = load_arrow(store, "prospects", lambda: (_ for _ in ()).throw(AssertionError("read again")))
    assert cached.num_rows == 3
    assert cached.equals(_file_table(store), check_metadata=True)
