"""The scoring run on several cores: groups of families scored in worker processes.

The families are mostly Python between DuckDB queries, so one process keeps one core busy
for much of a run. `score_all` splits the families into groups balanced by their measured
cost (`plan`); the run's own process scores the last group while each other group is scored
in a worker process of its own, and the families' rows come back in their stored form (Arrow)
as each family finishes. The rows are the same as scored in one process: every family is
deterministic and the stored table is put together in family order whatever finishes first.

Workers are spawned (a new interpreter: DuckDB's threads and a fork of a process using them do
not mix); one starts while this process scores its own first family. A worker reads the version the run started on (`GraphStore.snapshot`), with the run's
settings; an error in a worker is raised again in the run's process with its own type and
message. `ScoringSettings.processes` (``PROSPECT_GRAPH_SCORING__PROCESSES``) sets the number
of processes: unset = min(2, cores), 1 = every family in the run's own process.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import os
import pickle
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc  # noqa: F401 - pa.ipc

from graph.duck import duckdb_cursor
from graph.index_cache import GRAPH_CACHES, warm_graph
from graph.memory import lean_allocator
from graph.settings import Settings, get_settings, override_settings
from graph.store import GraphStore
from scoring.settings import ScoringSettings

__all__ = ["plan", "process_count", "worker_store", "FamilyWorkers", "run_groups", "duckdb_threads"]

log = logging.getLogger("prospect_graph.scoring")

# A family's weight in the plan: its seconds in a 20M-payment run on two processes (one
# DuckDB thread each; bench/RESULTS.md "Round 10"), so on two processes referral and ecosystem
# go to the worker, supply chain and retail stay here. Until referral's ranking moved into
# DuckDB it took 190 s there and went alone (an earlier split with ecosystem beside it was not
# faster beyond the spread, "Round 8"). A family not listed weighs 1.
_COST = {"referral": 113.0, "retail_linkage": 85.0, "supply_chain": 67.0, "ecosystem": 34.0}


def process_count(settings: ScoringSettings) -> int:
    """The processes a run uses: the setting, else min(2, the cores this process may use)."""
    if settings.processes is not None:
        return settings.processes
    return max(1, min(2, _cores()))


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@contextlib.contextmanager
def duckdb_threads(processes: int) -> Iterator[Callable[[], None]]:
    """DuckDB's threads in this process set to its share of the cores while `processes`
    processes score side by side; yields a function that gives it every core again (the other
    processes are done). The setting is the process database's (`graph.duck`), restored on leaving.

    Two processes of two DuckDB threads each on two cores paid about 5% more CPU time than one
    thread each (threads waiting for each other and for the core; 2M payments, every family):
    a process's share keeps them at one thread per core."""
    con = duckdb_cursor()
    try:
        before = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        share = max(1, _cores() // max(1, processes))

        def restore() -> None:
            con.execute(f"SET threads = {int(before)}").fetchall()

        if share < int(before):
            con.execute(f"SET threads = {share}").fetchall()
        try:
            yield restore
        finally:
            restore()
    finally:
        con.close()


def plan(families: Sequence[str], processes: int) -> list[list[str]]:
    """The families in at most `processes` groups of about equal cost, each in the given order.

    Longest first, each to the group with the least cost so far (ties: the first group); groups
    without a family are left out.

    >>> plan(["supply_chain", "referral", "retail_linkage", "ecosystem"], 2)
    [['referral', 'ecosystem'], ['supply_chain', 'retail_linkage']]
    >>> plan(["supply_chain", "referral"], 1)
    [['supply_chain', 'referral']]
    """
    groups: list[list[str]] = [[] for _ in range(max(1, processes))]
    load = [0.0] * len(groups)
    for family in sorted(families, key=lambda f: -_COST.get(f, 1.0)):
        least = load.index(min(load))
        groups[least].append(family)
        load[least] += _COST.get(family, 1.0)
    order = {f: i for i, f in enumerate(families)}
    return [sorted(g, key=order.__getitem__) for g in groups if g]


def worker_store(store: GraphStore) -> bytes | None:
    """The store pinned to its current version, pickled for a worker; None when it cannot travel
    to another process (a backend holding a live connection), and the families then run here."""
    try:
        return pickle.dumps(store.snapshot())
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


def _context() -> multiprocessing.context.BaseContext:
    # spawned, not forked: DuckDB's threads and a fork of a process using them do not mix; not a
    # fork server either, whose start-up (importing the scoring modules) the run would wait for
    # and which would stay in memory beside the worker
    return multiprocessing.get_context("spawn")


class FamilyWorkers:
    """One worker process per group of families; `submit` queues a family in its group's worker.

    A worker writes a family's rows as an Arrow IPC file in `folder` and `rows` maps it back,
    so the rows reach this process only when it asks for them (a result sent back through the
    pipe would be copied in, all at once, while this process still scores its own families).
    Use as a context manager: on leaving normally the workers are shut down; on an error
    (here or in a worker) they are stopped at once, so no worker outlives a failed run.
    """

    def __init__(self, store_blob: bytes, groups: int, settings: ScoringSettings, folder: Path) -> None:
        self._store = store_blob
        self._settings: Settings = get_settings().model_copy(update={"scoring": settings})
        self._folder = folder
        lean_allocator()  # the workers' allocator, read by their interpreters as they start
        self._pools = [ProcessPoolExecutor(max_workers=1, mp_context=_context()) for _ in range(groups)]

    def submit(self, group: int, family: str) -> Future[float]:
        return self._pools[group].submit(_score_in_worker, self._store, family, self._settings,
                                         self._folder / f"{family}.arrow", len(self._pools) + 1)

    def submit_graph_caches(self, group: int, part: str) -> Future[float]:
        """Queue the build of one of the store's graph caches (`graph.index_cache.GRAPH_CACHES`)
        in the group's worker, after the families queued there."""
        return self._pools[group].submit(_graph_caches_in_worker, self._store, self._settings, part)

    def rows(self, family: str) -> pa.Table:
        """A family's rows in the stored order, as its worker wrote them (memory-mapped)."""
        return pa.ipc.open_file(pa.memory_map(str(self._folder / f"{family}.arrow"))).read_all()

    def __enter__(self) -> FamilyWorkers:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        for pool in self._pools:
            if kind is not None:
                # ProcessPoolExecutor has no public way to stop a running task before Python 3.14
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    process.terminate()
            pool.shutdown(wait=kind is None, cancel_futures=kind is not None)


def _score_in_worker(store_blob: bytes, family: str, settings: Settings, target: Path, processes: int) -> float:
    """In a worker: one family's rows written to `target` (Arrow IPC); the seconds its scoring took."""
    from scoring.run import collector_paused, family_frame, stored_rows

    store: GraphStore = pickle.loads(store_blob)  # noqa: S301 - our own snapshot, from the parent
    with override_settings(settings), collector_paused(), duckdb_threads(processes):
        try:
            frame, seconds = family_frame(store, family, settings.scoring)
            store.release_tables()
            # the rows in their stored order, put so here, a column at a time, each of the frame's
            # let go once taken: the run's own process only maps them (putting them in order
            # there, after its own families, took 13-17 s at 20M payments, while this worker was
            # done and idle)
            frames = [frame]
            del frame
            rows = stored_rows(frames)
            with pa.OSFile(str(target), "wb") as sink, pa.ipc.new_file(sink, rows.schema) as writer:
                writer.write_table(rows)
            del rows
        except Exception as exc:
            raise _travelling(exc) from None
        return seconds


def _graph_caches_in_worker(store_blob: bytes, settings: Settings, part: str) -> float:
    """In a worker: one of the store's graph caches (the adjacency or the node index) written to
    its disk cache; the seconds taken."""
    store: GraphStore = pickle.loads(store_blob)  # noqa: S301 - our own snapshot, from the parent
    started = time.perf_counter()
    with override_settings(settings):
        try:
            warm_graph(store, (part,))
        except Exception as exc:
            raise _travelling(exc) from None
    return time.perf_counter() - started


def _travelling(exc: Exception) -> Exception:
    """`exc` if it survives the trip back to the run's process, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own object
        return exc
    except Exception:  # noqa: BLE001 - any failure to travel is reported the same way
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def run_groups(store: GraphStore, groups: list[list[str]], settings: ScoringSettings,
               score_here: Callable[[GraphStore, str, ScoringSettings], tuple[pa.Table, float]],
               step: Callable[[str], None], graph_caches: bool = False) -> Generator[tuple[str, pa.Table, float], None, None]:
    """Score `groups`: the last in this process (`score_here`), the others in workers; yields
    (family, stored rows, seconds) for each family, this process's own first.

    `graph_caches`: also build the store's graph caches (`graph.index_cache.GRAPH_CACHES`: they
    depend on the edges and node tables only, which a score run never changes), each on
    whichever process is free first: a worker as soon as its families are done (queued from its
    last family's completion, while this process may still score) or its last cache is built,
    and this process once its own families are done. Without workers nothing is built here."""
    blob = worker_store(store) if len(groups) > 1 else None
    if blob is None:
        for family in [f for g in groups for f in g]:
            step(family)
            yield (family, *score_here(store, family, settings))
        return
    reader: GraphStore = pickle.loads(blob)  # noqa: S301 - the same pinned version as the workers
    # the workers' rows are client data: a private folder (0700) in the store's own folder
    with tempfile.TemporaryDirectory(dir=store.root, prefix=".score-", ignore_cleanup_errors=True) as folder, \
            FamilyWorkers(blob, len(groups) - 1, settings, Path(folder)) as workers:
        pending = [(f, workers.submit(i, f)) for i, group in enumerate(groups[:-1]) for f in group]
        caches = _CacheParts(workers, GRAPH_CACHES if graph_caches else ())
        for i, group in enumerate(groups[:-1]):  # a worker runs its families in order: its last is its end
            last = dict(pending)[group[-1]]
            last.add_done_callback(functools.partial(caches.offer, i))
        elsewhere = ", ".join(f for f, _ in pending)
        with duckdb_threads(len(groups)) as every_core:
            for family in groups[-1]:
                step(f"{family} (with {elsewhere})")
                yield (family, *score_here(reader, family, settings))
                if all(future.done() for _, future in pending):
                    every_core()  # the workers are done: this process's queries may use every core
        while (part := caches.take()) is not None:  # a cache no worker has taken: built here meanwhile
            _graph_caches_here(reader, part)
        for family, future in pending:
            step(family)
            seconds = future.result()
            yield family, workers.rows(family), seconds
        caches.wait()


class _CacheParts:
    """The graph caches of a run, each built once, the costlier first: by a worker once its
    families are done (`offer`, called from the pool's thread as its last family or its last
    cache completes) or by the run's own process once its families are done (`take`),
    whichever is free first. Two processes free at about the same time build one each."""

    def __init__(self, workers: FamilyWorkers, parts: Sequence[str]) -> None:
        self._workers, self._todo, self._lock = workers, list(parts), threading.Lock()
        self._futures: list[Future[float]] = []

    def offer(self, group: int, _done: Future[float] | None = None) -> None:
        with self._lock:
            if not self._todo:
                return
            try:
                future = self._workers.submit_graph_caches(group, self._todo[0])
            except RuntimeError:  # the pool is shutting down (the run failed): nothing to build
                self._todo.clear()
                return
            self._todo.pop(0)
            self._futures.append(future)
        # outside the lock: a future already done runs its callback here, at once
        future.add_done_callback(functools.partial(self.offer, group))

    def take(self) -> str | None:
        with self._lock:
            return self._todo.pop(0) if self._todo else None

    def wait(self) -> None:
        with self._lock:
            futures = list(self._futures)
        for future in futures:
            try:
                future.result()
            except Exception:  # noqa: BLE001 - the scores stand; the caches are built when next needed
                log.warning("building the graph caches in a scoring worker failed", exc_info=True)


def _graph_caches_here(store: GraphStore, part: str) -> None:
    try:
        warm_graph(store, (part,))
    except Exception:  # noqa: BLE001 - the scores stand; the caches are built when next needed
        log.warning("building the graph caches beside the scoring failed", exc_info=True)
