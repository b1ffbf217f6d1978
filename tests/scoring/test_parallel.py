"""Scoring in several processes (`scoring.parallel`): the same stored rows as in one process,
a worker's error raised as it would be in one process, progress for every family."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import scoring.parallel as parallel
import scoring.run as run
from graph.duck import duckdb_cursor
from graph.errors import InvalidRequest
from graph.index_cache import GRAPH_CACHES, warm_graph
from graph.networkx_store import NetworkxStore
from graph.schema import FAMILIES, arrow_schema, conform_arrow
from graph.settings import ScoringSettings
from scoring.parallel import duckdb_threads, plan, process_count, worker_store


def _copy(store: NetworkxStore, tmp_path: Path) -> NetworkxStore:
    shutil.copytree(store.root, tmp_path / "store")
    return NetworkxStore(tmp_path / "store")


def _prospects(store: NetworkxStore) -> object:
    entry = store.manifest()["tables"]["prospects"]
    return pq.read_table(store.root / entry["file"])


def test_two_processes_store_the_same_prospects_as_one(demo_store: NetworkxStore, tmp_path: Path) -> None:
    one, two = _copy(demo_store, tmp_path / "one"), _copy(demo_store, tmp_path / "two")
    single = run.score_all(one, ScoringSettings(processes=1))
    double = run.score_all(two, ScoringSettings(processes=2))
    assert single.rows == double.rows and sum(single.rows.values()) > 0
    assert sorted(double.seconds) == sorted(FAMILIES)  # the worker's families report their time too
    assert _prospects(one).equals(_prospects(two))
    assert not list(two.root.glob(".score-*"))  # the workers' rows are removed with their folder


def test_a_workers_family_is_scored_in_another_process(demo_store: NetworkxStore, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    store = _copy(demo_store, tmp_path)
    here: list[str] = []
    real = run.family_rows

    def spying(reader: object, family: str, settings: ScoringSettings) -> object:
        here.append(family)
        return real(reader, family, settings)  # type: ignore[arg-type]

    monkeypatch.setattr(run, "family_rows", spying)  # in this process only: a worker imports its own
    summary = run.score_all(store, ScoringSettings(processes=2))
    elsewhere = plan(list(FAMILIES), 2)[0]  # the worker's group
    assert sorted(here) == sorted(set(FAMILIES) - set(elsewhere))
    assert all(summary.rows[f] > 0 for f in elsewhere)  # scored all the same, by the worker


def test_a_workers_error_is_raised_with_its_type_and_message(demo_store: NetworkxStore, tmp_path: Path) -> None:
    weights = tmp_path / "weights.yaml"
    weights.write_text("referral:\n  no_such_weight: 3\n", encoding="utf-8")
    messages = []
    for processes in (1, 2):
        store = _copy(demo_store, tmp_path / str(processes))
        before = store.version
        with pytest.raises(InvalidRequest) as caught:
            run.score_all(store, ScoringSettings(weights=weights, processes=processes))
        messages.append(str(caught.value))
        assert store.version == before  # nothing written
        assert not list(store.root.glob(".score-*"))
    assert "referral" in messages[0]
    assert messages[0] == messages[1]


def test_progress_names_every_family_then_the_write(demo_store: NetworkxStore, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store = _copy(demo_store, tmp_path)
    seen: list[tuple[str, list[str]]] = []

    @contextlib.contextmanager
    def recording(description: str, names: Sequence[str], console: object = None) -> Iterator[Callable[[str], None]]:
        calls: list[str] = []
        seen.append((description, calls))
        assert list(names) == [*FAMILIES, "write prospects"]
        yield calls.append

    monkeypatch.setattr(run, "stages", recording)
    run.score_all(store, ScoringSettings(processes=2))
    (description, calls), = seen
    assert len(calls) == len(FAMILIES) + 1  # one step per family and the write: the bar ends full
    assert calls[-1] == "write prospects"
    assert {c.split(" ")[0] for c in calls[:-1]} == set(FAMILIES)


def test_plan_balances_by_cost_and_keeps_the_order() -> None:
    assert plan(list(FAMILIES), 2) == [["referral", "ecosystem"], ["supply_chain", "retail_linkage"]]
    assert plan(list(FAMILIES), 1) == [list(FAMILIES)]
    assert plan(["ecosystem"], 2) == [["ecosystem"]]
    assert sorted(f for g in plan(list(FAMILIES), 8) for f in g) == sorted(FAMILIES)


def test_process_count_setting_else_at_most_two() -> None:
    assert process_count(ScoringSettings(processes=3)) == 3
    assert 1 <= process_count(ScoringSettings()) <= 2


def test_a_store_that_cannot_travel_is_scored_here(demo_store: NetworkxStore, tmp_path: Path) -> None:
    store = _copy(demo_store, tmp_path)
    store.unpicklable = lambda: None  # type: ignore[attr-defined] - a live connection, say
    snapshot = store.snapshot
    store.snapshot = lambda: (s := snapshot(), setattr(s, "unpicklable", lambda: None), s)[-1]  # type: ignore[method-assign]
    assert worker_store(store) is None
    summary = run.score_all(store, ScoringSettings(processes=2))
    assert summary.rows["referral"] > 0


@pytest.mark.parametrize("processes", [1, 2])
def test_graph_caches_are_built_beside_the_scoring(demo_store: NetworkxStore, tmp_path: Path, processes: int) -> None:
    """With a worker, `graph_caches` leaves the adjacency and node caches on disk (built by
    whichever process was free first), the same arrays a build in this process gives, and the
    same prospects; with one process they are left to `index_cache.warm`. Either way the API's
    copy of the prospects is written beside the store's and is what `load_arrow` maps."""
    import numpy as np

    from graph.adjacency import Adjacency
    from graph.index_cache import (
        CACHE_DIR,
        cache_info,
        load_adjacency,
        load_file,
        load_node_index,
        stored_arrow,
    )

    store = _copy(demo_store, tmp_path)
    shutil.rmtree(store.root / CACHE_DIR, ignore_errors=True)
    summary = run.score_all(store, ScoringSettings(processes=processes), graph_caches=True)
    kinds = {name.split("-")[0] for name in cache_info(store)}
    assert "table_prospects" in kinds and not list((store.root / CACHE_DIR).glob(".tmp-*"))
    copy = load_file(store, "prospects", store.root / "no such file")  # found: never read from this path
    assert copy.equals(summary.prospects) and copy.equals(stored_arrow(store, "prospects"))
    if processes == 1:
        assert not kinds & {"adjacency", "nodes"}
        return
    assert {"adjacency", "nodes"} <= kinds
    fresh = Adjacency(stored_arrow(store, "edges"))
    cached = load_adjacency(store)
    for name, values in fresh.arrays().items():
        assert np.array_equal(values, cached.arrays()[name]), name
    assert load_node_index(store).get(str(stored_arrow(store, "enterprises")["id"][0])) == ("enterprises", 0)
    single = _copy(demo_store, tmp_path / "single")
    run.score_all(single, ScoringSettings(processes=1))
    assert _prospects(single).equals(_prospects(store))


def _threads() -> int:
    con = duckdb_cursor()
    try:
        return int(con.execute("SELECT current_setting('threads')").fetchall()[0][0])
    finally:
        con.close()


@pytest.fixture
def four_cores(monkeypatch: pytest.MonkeyPatch) -> Iterator[duckdb.DuckDBPyConnection]:
    """The process seen as having four cores, its DuckDB database on four threads (put back after)."""
    monkeypatch.setattr(parallel, "_cores", lambda: 4)
    original = _threads()
    con = duckdb_cursor()
    con.execute("SET threads = 4").fetchall()
    try:
        yield con
    finally:
        con.execute(f"SET threads = {original}").fetchall()
        con.close()


def test_each_process_takes_its_share_of_the_cores_then_every_core_again(four_cores) -> None:
    with duckdb_threads(2) as every_core:
        assert _threads() == 2  # two processes on four cores: two each
        every_core()
        assert _threads() == 4  # the others are done
    with duckdb_threads(3):
        assert _threads() == 1  # never below one
    assert _threads() == 4  # restored on leaving
    four_cores.execute("SET threads = 1").fetchall()
    with duckdb_threads(1):
        assert _threads() == 1  # a share is never more than the process had


def test_referrals_own_database_takes_the_process_share(four_cores) -> None:
    from scoring.referral.score import _connect

    with duckdb_threads(4):
        own = _connect()
        try:
            assert own.execute("SELECT current_setting('threads')").fetchall()[0][0] == 1
        finally:
            own.close()


class _Pool:
    """Stands in for `FamilyWorkers`: records which worker is given which graph cache; `busy`
    leaves the futures pending (the worker still building), else they are done at once."""

    def __init__(self, busy: bool = False) -> None:
        self.submitted: list[tuple[int, str]] = []
        self.pending: list[Future[float]] = []
        self.busy = busy

    def submit_graph_caches(self, group: int, part: str) -> Future[float]:
        self.submitted.append((group, part))
        future: Future[float] = Future()
        if self.busy:
            self.pending.append(future)
        else:
            future.set_result(0.0)
        return future


def test_each_graph_cache_is_built_once_by_whoever_is_free_first() -> None:
    pool = _Pool()
    caches = parallel._CacheParts(pool, GRAPH_CACHES)  # type: ignore[arg-type]
    caches.offer(0)  # a worker's last family completed first: it builds them, one after the other
    caches.offer(1)
    assert pool.submitted == [(0, "adjacency"), (0, "nodes")]
    assert caches.take() is None  # the run's process has nothing left to build
    caches.wait()

    pool = _Pool(busy=True)
    caches = parallel._CacheParts(pool, GRAPH_CACHES)  # type: ignore[arg-type]
    caches.offer(0)  # the worker is free first: the costlier cache
    assert caches.take() == "nodes"  # the run's process, free while the worker builds, the other
    assert caches.take() is None
    pool.pending[0].set_result(0.0)  # the worker's cache is done: nothing left for it
    assert pool.submitted == [(0, "adjacency")]
    caches.wait()

    pool = _Pool()
    caches = parallel._CacheParts(pool, GRAPH_CACHES)  # type: ignore[arg-type]
    assert caches.take() == "adjacency"  # the run's process is free first
    caches.offer(0)  # the worker, free next, builds the other
    assert pool.submitted == [(0, "nodes")]
    assert caches.take() is None

    pool = _Pool()
    caches = parallel._CacheParts(pool, ())  # type: ignore[arg-type]
    caches.offer(0)
    assert pool.submitted == [] and caches.take() is None  # not asked for


def test_warm_graph_builds_the_part_asked_for(demo_store: NetworkxStore, tmp_path: Path) -> None:
    store = _copy(demo_store, tmp_path)
    cache = store.root / "cache"
    shutil.rmtree(cache, ignore_errors=True)  # the shared demo store may be warmed already
    warm_graph(store, ("nodes",))
    assert [p.name.split("-")[0] for p in cache.iterdir()] == ["nodes"]
    warm_graph(store, ("adjacency",))
    assert sorted(p.name.split("-")[0] for p in cache.iterdir()) == ["adjacency", "nodes"]
    with pytest.raises(ValueError, match="no graph cache named"):
        warm_graph(store, ("edges",))


# the stored form as one DuckDB query over the whole rows (the way `stored_rows` made it before
# it put the rows in order with Arrow): the reference its rows must equal
_SORTED_WHOLE_SQL = """
SELECT family, kind, prospect_id, name, score, rank,
       coalesce(reasons, []) AS reasons, coalesce(evidence, []) AS evidence, coalesce(path, []) AS path,
       coalesce(suggested_products, []) AS suggested_products,
       manager_id, branch_id, anchor_id, association_id, employer_id, is_deepening,
       coalesce(details, '{}') AS details
FROM (SELECT *, row_number() OVER (PARTITION BY family, kind ORDER BY score DESC, prospect_id, seq) AS rank
      FROM frame)
ORDER BY family, kind, rank
"""


@pytest.mark.parametrize("family", ["referral", "supply_chain"])
def test_stored_rows_put_in_order_by_arrow_equal_the_rows_sorted_whole(demo_store: NetworkxStore, family: str) -> None:
    """`stored_rows` ranks on the narrow columns and takes the wide ones into that order a
    column at a time: the same rows as sorting them whole, whatever order the frame came in,
    with missing lists stored empty and missing details as '{}'; given in a list, the frame is
    taken out of it (its columns let go as they are taken)."""
    import numpy as np
    import pyarrow as pa

    frame, _ = run.family_frame(demo_store, family, ScoringSettings())
    assert frame.num_rows > 2
    frame = frame.take(pa.array(np.random.default_rng(7).permutation(frame.num_rows)))
    blank = np.zeros(frame.num_rows, dtype=bool)
    blank[::3] = True  # some rows with no path and no details
    for name in ("path", "details"):
        at = frame.schema.get_field_index(name)
        frame = frame.set_column(at, name, pa.array(frame[name].to_pylist(), frame.schema.field(name).type,
                                                    mask=blank))
    con = duckdb_cursor()
    con.register("frame", frame.append_column("seq", pa.array(np.arange(frame.num_rows))))
    expected = conform_arrow("prospects", con.sql(_SORTED_WHOLE_SQL).to_arrow_table())
    con.close()
    frames = [frame]
    got = run.stored_rows(frames)
    assert frames == []
    assert got.equals(expected, check_metadata=True)
    assert got.schema.equals(arrow_schema("prospects"), check_metadata=True)  # nothing left to conform
    assert [] in got["path"].to_pylist() and "{}" in got["details"].to_pylist()
