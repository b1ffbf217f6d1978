"""The scoring run: every family scores the store, rows are ranked and written as `prospects`.

A family is a module `scoring.<family>` with a function
``score(store: GraphStore, settings: ScoringSettings) -> pa.Table | list[Prospect]``: a
columnar frame (`scoring.frame`) or, for families not yet converted, `Prospect` objects.
Ranking and the stored form are one DuckDB query; `scoring.stored` reads the stored rows back
(pages filtered and sorted in SQL).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph import nested
from graph.errors import NotFound
from graph.index_cache import copy_aside, stored_arrow
from graph.progress import stages
from graph.schema import FAMILIES, conform_arrow
from graph.settings import get_settings
from graph.store import GraphStore
from scoring.explain import Evidence, Prospect, Reason
from scoring.features import duckdb_cursor
from scoring.frame import empty_frame, from_prospects
from scoring.parallel import plan, process_count, run_groups
from scoring.settings import ScoringSettings
from scoring.stored import decode

__all__ = ["score_all", "score_family", "family_rows", "collector_paused", "ScoreSummary", "as_frame", "stored_rows",
           "frame_prospects", "rank"]


@dataclass
class ScoreSummary:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: the `prospects` rows written and the store version holding them, for `index_cache.warm`
    #: (the API's copy of the table is made from them instead of read back from the file)
    prospects: pa.Table | None = field(default=None, repr=False)
    version: str | None = None


def _module(family: str) -> Any:
    if family not in FAMILIES:
        raise NotFound(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    return importlib.import_module(f"scoring.{family}")


def score_family(store: GraphStore, family: str, settings: ScoringSettings | None = None) -> list[Prospect]:
    """A family's rows as `Prospect`s (for tests and callers that want objects; not the hot path)."""
    result = _module(family).score(store, settings or get_settings().scoring)
    if isinstance(result, pa.Table):
        return frame_prospects(result)
    return list(result)


def frame_prospects(frame: pa.Table) -> list[Prospect]:
    """A frame's rows as `Prospect` objects in rank order (tests and small callers; per row)."""
    return [_as_prospect(decode(r, "en"), decode(r, "zh")) for r in stored_rows(frame).to_pylist()]


def as_frame(result: pa.Table | Iterable[Prospect]) -> pa.Table:
    """A family's result as a frame: columnar families return one, legacy ones a list of Prospects."""
    return result if isinstance(result, pa.Table) else from_prospects(result)


# The stored form of the prospects table, as two named steps an analyst can read: the rank of
# each row within its family and kind (best first, ties by id) and the order rows are stored
# in, computed on the narrow columns only; then the rows in that order (`stored`: each row's
# position), their nested columns kept as lists (`graph.nested`). Sorting the wide rows inside
# the window query cost twice as much; an Arrow `take` of the rows afterwards held them twice.
_ORDER_SQL = """
SELECT seq, row_number() OVER (PARTITION BY family, kind ORDER BY score DESC, prospect_id, seq) AS rank
FROM frame
ORDER BY family, kind, rank
"""
_STORED_SELECT = """
SELECT family, kind, prospect_id, name, score, rank,
       coalesce(reasons, []) AS reasons, coalesce(evidence, []) AS evidence, coalesce(path, []) AS path,
       coalesce(suggested_products, []) AS suggested_products,
       manager_id, branch_id, anchor_id, association_id, employer_id, is_deepening,
       coalesce(details, '{}') AS details
"""
_STORED_SQL = _STORED_SELECT + "FROM frame JOIN stored USING (seq) ORDER BY stored.position"  # noqa: S608
# The same rows unsorted, each with its rank and its place in the stored order: a scoring worker
# writes them so (`write_unsorted`) and puts them in order (`in_stored_order`) once its frame is
# freed (`scoring.parallel`). Sorting the wide rows is about half of this step's peak (at 2M payments
# +0.63 GiB sorted, +0.35 for the projection unsorted and streamed): at 20M the referral worker
# peaked at 8.8 GiB sorting them (the top of the whole run), at 3.8 GiB writing them unsorted.
_UNSORTED_SQL = _STORED_SELECT + ", position FROM frame JOIN stored USING (seq)"  # noqa: S608


def stored_rows(frame: pa.Table) -> pa.Table:
    """The frame ranked within family and kind (best first, ties by id) in the stored form."""
    con = duckdb_cursor()
    try:
        _ranked(con, frame)
        return con.sql(_STORED_SQL).to_arrow_table()
    finally:
        con.close()


def write_unsorted(frame: pa.Table, target: Path) -> None:
    """`stored_rows(frame)` unsorted, each row with its `position` in the stored order, streamed
    into the Arrow IPC file `target` (`in_stored_order` reads them back in order)."""
    con = duckdb_cursor()
    try:
        _ranked(con, frame)
        reader = con.sql(_UNSORTED_SQL).fetch_record_batch(65_536)
        with pa.OSFile(str(target), "wb") as sink, pa.ipc.new_file(sink, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
    finally:
        con.close()


def in_stored_order(rows: pa.Table) -> pa.Table:
    """Rows written by `write_unsorted` as `stored_rows` gives them: in the stored order, without
    `position`; taken a column at a time, each let go once taken."""
    where = np.empty(rows.num_rows, dtype=np.int64)
    where[rows["position"].to_numpy()] = np.arange(rows.num_rows)
    index = pa.array(where)
    rows = rows.drop_columns(["position"])
    taken = {}
    for name in rows.column_names:
        taken[name] = rows[name].take(index)
        rows = rows.drop_columns([name])
    return pa.table(taken)


def _ranked(con: duckdb.DuckDBPyConnection, frame: pa.Table) -> None:
    """Registers the frame (as `frame`, with `seq`) and its stored order (as `stored`: `seq`,
    `position`, `rank`) in `con`."""
    frame = frame.append_column("seq", pa.array(np.arange(len(frame), dtype=np.int64)))
    con.register("frame", frame)
    order = con.sql(_ORDER_SQL).to_arrow_table()
    con.register("stored", pa.table({"seq": order["seq"], "position": pa.array(np.arange(len(order), dtype=np.int64)),
                                     "rank": order["rank"]}))


def rank(prospects: list[Prospect] | pa.Table) -> pd.DataFrame:
    """Rows of the `prospects` table, ranked within family and kind (best first, ties by id)."""
    return nested.to_pandas(stored_rows(as_frame(prospects)))


def family_rows(store: GraphStore, family: str, settings: ScoringSettings) -> tuple[pa.Table, float]:
    """One family's rows in the stored form (`stored_rows`) and the seconds its scoring took."""
    frame, seconds = family_frame(store, family, settings)
    # ranked within family and kind, so each family's rows take the stored form at once and
    # its nested frame is freed before the next family scores (all frames held until the
    # end added 0.4 GiB to the peak at 2M payments)
    rows = stored_rows(frame)
    del frame
    store.release_tables()  # each family reads its own columns: free the last one's tables
    return rows, seconds


def family_frame(store: GraphStore, family: str, settings: ScoringSettings) -> tuple[pa.Table, float]:
    """One family's frame (`scoring.frame.FRAME_SCHEMA`) and the seconds its scoring took."""
    started = time.perf_counter()
    frame = as_frame(_module(family).score(store, settings))
    seconds = time.perf_counter() - started
    if frame.num_rows and pc.any(pc.not_equal(frame["family"], family)).as_py():
        raise ValueError(f"family {family} returned rows of another family")
    return frame, seconds


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the families score, then collect once.

    The families not yet columnar (referral above all) allocate hundreds of thousands of small
    objects; the collector's repeated passes over them, and over the tables the store keeps in
    memory, cost about a third of their time at 500k payments, while reference counting frees
    almost everything anyway. One collection at the end of the run frees what cycles remain.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def score_all(store: GraphStore, settings: ScoringSettings | None = None,
              families: list[str] | None = None, graph_caches: bool = False) -> ScoreSummary:
    """Score every family and write the `prospects` table in one new version.

    `graph_caches`: also build the API's graph caches (`graph.index_cache.warm_graph`) in the
    scoring worker once its families are done, beside the families this process scores (with
    one process they are left to `index_cache.warm`), and the API's copy of `prospects`
    (`index_cache.copy_aside`) while the store writes them."""
    chosen = families or list(FAMILIES)
    with stages("score", [*chosen, "write prospects"]) as step, collector_paused():
        return _score_all(store, settings, families, step, graph_caches)


def _score_all(store: GraphStore, settings: ScoringSettings | None, families: list[str] | None,
               step: Callable[[str], None], graph_caches: bool = False) -> ScoreSummary:
    settings = settings or get_settings().scoring
    summary = ScoreSummary()
    parts: dict[str, pa.Table] = {}
    groups = plan(families or list(FAMILIES), process_count(settings))
    scored = run_groups(store, groups, settings, family_rows, step, graph_caches)
    try:
        # every family's rows, then `prospects` is written while a worker may still be building
        # the graph caches (`run_groups` waits for them after its last family): the workers read
        # a pinned version, which a store keeping two versions keeps through this write (one
        # keeping only the current version waits for them first)
        early = getattr(store, "keep_versions", 2) >= 2
        for family, rows, seconds in itertools.islice(scored, sum(len(g) for g in groups) if early else None):
            summary.seconds[family] = seconds
            summary.rows[family] = rows.num_rows
            parts[family] = rows
        _write_prospects(store, summary, parts, families, step, api_copy=graph_caches)
        for _ in scored:  # nothing more is yielded: the graph caches are done when this ends
            pass
    finally:
        scored.close()  # on an error here its workers stop
    return summary


def _write_prospects(store: GraphStore, summary: ScoreSummary, parts: dict[str, pa.Table],
                     families: list[str] | None, step: Callable[[str], None], api_copy: bool = False) -> None:
    # the stored order is family, kind, rank: the families' rows by name, in Arrow (nested lists
    # never become Python objects)
    table = pa.concat_tables([conform_arrow("prospects", parts.pop(f)) for f in sorted(parts)]) if parts \
        else conform_arrow("prospects", stored_rows(empty_frame()))
    if families:  # keep the other families' rows
        old = stored_arrow(store, "prospects")
        old = old.filter(pc.invert(pc.is_in(old["family"], value_set=pa.array(families, pa.string()))))
        table = pa.concat_tables([old, table]).sort_by([("family", "ascending"), ("kind", "ascending"),
                                                       ("rank", "ascending")])
    step("write prospects")
    place = copy_aside(store, "prospects", table) if api_copy else None
    stored = False
    try:
        summary.version = store.write({"prospects": table}, note="score")
        stored = summary.version == store.version  # still the current version: its copy is the API's
    finally:
        if place is not None:
            place(stored)
    summary.prospects = table


def _as_prospect(en: dict[str, Any], zh: dict[str, Any]) -> Prospect:
    """A decoded row as a `Prospect` (both languages of its reasons)."""
    fields: dict[str, Any] = {k: en.get(k) for k in Prospect.model_fields if k not in ("evidence", "reasons")}
    fields = {k: v for k, v in fields.items() if v is not None}
    return Prospect(**fields, evidence=[Evidence(**e) for e in en["evidence"]],
                    reasons=[Reason(en=a, zh=b) for a, b in zip(en["reasons"], zh["reasons"], strict=True)])
