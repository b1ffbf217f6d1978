"""The scoring run: every family scores the store, rows are ranked and written as `prospects`.

A family is a module `scoring.<family>` with a function
``score(store: GraphStore, settings: ScoringSettings) -> pa.Table | list[Prospect]``: a
columnar frame (`scoring.frame`) or, for families not yet converted, `Prospect` objects.
Ranking is one DuckDB query on the narrow columns and Arrow puts the rows in that order
(`stored_rows`); `scoring.stored` reads the stored rows back (pages filtered and sorted in SQL).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph import nested
from graph.arrays import one_array
from graph.errors import NotFound
from graph.index_cache import copy_aside, stored_arrow
from graph.progress import stages
from graph.schema import FAMILIES, arrow_schema, conform_arrow
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


# The stored form of the prospects table, in two steps: the rank of each row within its family
# and kind (best first, ties by id) and the order rows are stored in, one DuckDB query an analyst
# can read, on the narrow columns only; then the rows put in that order by Arrow, a column at a
# time (`stored_rows`), a missing list stored as an empty one and missing details as '{}', in
# the stored schema. Taking the wide rows through DuckDB instead (their nested columns copied
# into it and out again, then cast to the stored schema) took 3.1 s for referral's rows at 2M
# payments, against 0.6 s; a scoring worker streamed them out of DuckDB unsorted and put them
# in order from that file (1.0-1.5 s at 2M, 16 s at 20M) before writing them again.
_ORDER_SQL = """
SELECT seq, row_number() OVER (PARTITION BY family, kind ORDER BY score DESC, prospect_id, seq) AS rank
FROM frame
ORDER BY family, kind, rank
"""
_EMPTY_WHEN_MISSING = {"reasons": [], "evidence": [], "path": [], "suggested_products": [], "details": "{}"}


def stored_rows(frame: pa.Table | list[pa.Table]) -> pa.Table:
    """The frame ranked within family and kind (best first, ties by id) in the stored form
    (`graph.schema.arrow_schema("prospects")`).

    Given in a one-item list, the frame is taken out of it and each of its columns is let go once
    put in order: the peak is then the frame and one column, not the frame twice."""
    if isinstance(frame, list):
        frame = frame.pop()
    schema = arrow_schema("prospects")
    order, ranks = _stored_order(frame)
    columns: list[pa.ChunkedArray | pa.Array] = []
    for fld in schema:
        if fld.name == "rank":
            columns.append(ranks)
            continue
        values = frame[fld.name].take(order)
        frame = frame.drop_columns([fld.name])
        if fld.name in _EMPTY_WHEN_MISSING and values.null_count:
            values = pc.fill_null(values, pa.scalar(_EMPTY_WHEN_MISSING[fld.name], values.type))
        columns.append(values.cast(fld.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _stored_order(frame: pa.Table) -> tuple[pa.Array, pa.Array]:
    """The frame's rows in the stored order (their positions in the frame) and each one's rank."""
    narrow = frame.select(["family", "kind", "prospect_id", "score"])
    narrow = narrow.append_column("seq", pa.array(np.arange(len(frame), dtype=np.int64)))
    con = duckdb_cursor()
    try:
        con.register("frame", narrow)
        order = con.sql(_ORDER_SQL).to_arrow_table()
    finally:
        con.close()
    return one_array(order["seq"]), one_array(order["rank"]).cast(pa.int64())


def rank(prospects: list[Prospect] | pa.Table) -> pd.DataFrame:
    """Rows of the `prospects` table, ranked within family and kind (best first, ties by id)."""
    return nested.to_pandas(stored_rows(as_frame(prospects)))


def family_rows(store: GraphStore, family: str, settings: ScoringSettings) -> tuple[pa.Table, float]:
    """One family's rows in the stored form (`stored_rows`) and the seconds its scoring took."""
    frame, seconds = family_frame(store, family, settings)
    # ranked within family and kind, so each family's rows take the stored form at once and
    # its nested frame is freed, a column at a time, before the next family scores (all frames
    # held until the end added 0.4 GiB to the peak at 2M payments)
    frames = [frame]
    del frame
    rows = stored_rows(frames)
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
