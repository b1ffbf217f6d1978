"""The derived table rebuilt from the facts and nodes on every ingest: `edges`.

ARCHITECTURE.md "Table semantics": one `edges` row per (src, dst, kind[, role]).

* PAYS (payer → payee), BILL (drawer → payee), ENDORSES (endorser → endorsee) and PAYROLL
  (employer → person) carry amount, count, first_on, last_on and months_active; PAYS also
  `other_bank_amount`, the part paid to a payee at another bank (a non-empty `payee_bank`
  that is not one of the bank's own names).
* HOLDS_ROLE (person → enterprise) carries role and share_pct; MEMBER_OF (member →
  association) carries position; PARENT_OF (parent → child); MANAGES (manager → client);
  IN_BRANCH (enterprise, person or manager → branch).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from graph.arrays import stable_sort
from graph.duck import own_database
from graph.memory import release_memory
from graph.schema import arrow_schema, as_frame, conform, conform_arrow
from graph.stage import arrow_columns
from ingest.normalise import id_set

__all__ = ["derive_edges", "derive_edge_table", "edge_parts", "EdgesAhead", "derive_branches", "derive_managers", "frames_reader",
           "month_of", "TableFile", "TableReader"]

# Columns of a node or fact table as Arrow in the stored schema: `read(table, columns)`
TableReader = Callable[[str, list[str]], pa.Table]
# The Parquet file a table is read from, if it lives in one (`graph.stage.Stage.parquet_file`)
TableFile = Callable[[str], Path | None]


def month_of(dates: pd.Series) -> pd.Series:
    """'YYYY-MM' of each date, with no Python object per row: each date's day since 1970 indexes
    a table of the months of the days from the first date to the last (at most 213,000 days in
    datetime64[ns]; numpy's own conversion to months works out the calendar for every row, 10x
    the time), and Arrow takes each month's label into the column."""
    d = pd.to_datetime(dates, errors="coerce")
    present = d.notna().to_numpy()
    if not present.any():
        return pd.Series(pd.NA, index=dates.index, dtype="string")
    days = d.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").view(np.int64)
    first_day, last_day = int(days[present].min()), int(days[present].max())
    month_of_day = np.arange(first_day, last_day + 1).astype("datetime64[D]").astype("datetime64[M]").view(np.int64)
    low = int(month_of_day[0])
    labels = pa.array([f"{1970 + m // 12:04d}-{m % 12 + 1:02d}" for m in range(low, int(month_of_day[-1]) + 1)],
                      pa.large_string())
    month = month_of_day[np.where(present, days - first_day, 0)] - low
    taken = labels.take(pa.array(month, mask=~present))
    return pd.Series(pd.arrays.ArrowStringArray(taken), index=dates.index)


# The money facts of each kind, in the order of `kind_order` (1, 2 ...): (src, dst, amount, on_day,
# month, other_bank), with the tables each reads. An endorsement without an endorser is endorsed by the previous holder:
# the previous endorsee of the bill, else the bill's payee.
_MONEY_KINDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("PAYS", ("payments",), """
SELECT payer_id AS src, payee_id AS dst, amount, paid_on AS on_day, month,
       coalesce(payee_bank <> '' AND NOT list_contains($own_banks, payee_bank), false) AS other_bank
FROM payments"""),
    ("BILL", ("bills",), """
SELECT drawer_id AS src, payee_id AS dst, amount, issued_on AS on_day,
       strftime(issued_on, '%Y-%m') AS month, false AS other_bank
FROM bills"""),
    ("ENDORSES", ("endorsements", "bills"), """
WITH hops AS (
    SELECT coalesce(e.from_id,
                    lag(e.to_id) OVER (PARTITION BY e.bill_id ORDER BY e.seq),
                    b.payee_id)                        AS src,
           e.to_id                                     AS dst,
           b.amount                                    AS amount,
           e.endorsed_on                               AS on_day
    FROM endorsements e LEFT JOIN bills b USING (bill_id)
)
SELECT src, dst, amount, on_day, strftime(on_day, '%Y-%m') AS month,
       false AS other_bank
FROM hops"""),
    ("PAYROLL", ("payroll",), """
SELECT employer_id AS src, person_id AS dst, amount,
       try_strptime(month || '-01', '%Y-%m-%d') AS on_day, month, false AS other_bank
FROM payroll"""),
)

# Each kind's facts (`_FACTS_SQL`, one DuckDB query over the staged Parquet files or Arrow
# tables) become one edge per (src, dst) with its totals, first and last day, the months with
# activity and the part paid to payees at other banks (`_kind_edges`): as `GROUP BY src, dst
# ORDER BY src, dst` with `count(DISTINCT month)`, but by one numpy sort of integer ranks and
# `reduceat` over its runs (a DuckDB GROUP BY and ORDER BY on the strings cost about 3x the CPU
# at 2M payments; each sum follows the facts' order, never thread timing, so every ingest of the
# same facts stores the same bits). Each kind is derived on its own (those whose facts are final
# early, on `EdgesAhead`'s thread) and the kinds are put one after the other in this order, so the
# rows are sorted by (kind, src, dst). No table of monthly rows is kept (issue #15:
# nothing read it, and at 20M payments it was 44M rows built and written on every ingest).
_FACTS_SQL = """
WITH money AS ({money})
SELECT src, dst, month, coalesce(amount, 0) AS amount, on_day, coalesce(other_bank, false) AS other_bank
FROM money
WHERE src IS NOT NULL AND dst IS NOT NULL
"""

_MONEY_COLUMNS = {
    "payments": ["payer_id", "payee_id", "payee_bank", "amount", "paid_on", "month"],
    "bills": ["bill_id", "drawer_id", "payee_id", "amount", "issued_on"],
    "endorsements": ["bill_id", "seq", "from_id", "to_id", "endorsed_on"],
    "payroll": ["employer_id", "person_id", "month", "amount"],
}


def _money_edges(read: TableReader, own_bank_names: Iterable[str], files: TableFile | None = None,
                 kinds: Iterable[str] | None = None, ahead: EdgesAhead | None = None) -> dict[str, pa.Table]:
    """`edges` of the money kinds (`kinds`, else every one), by kind: each kind's facts by DuckDB
    over the staged tables (`_source`), summed per (src, dst) by `_kind_edges`. With `ahead`, the
    kinds run on its thread: leaving it interrupts the running query and stops before the next kind."""
    own = {"own_banks": sorted({n.strip() for n in own_bank_names})}
    wanted = None if kinds is None else set(kinds)
    edges: dict[str, pa.Table] = {}
    for kind, needs, money in _MONEY_KINDS:
        if wanted is not None and kind not in wanted:
            continue
        con = own_database()  # one per kind: its buffers are freed before the next kind's
        try:
            if ahead is not None:
                ahead.running(con)
            con.execute("SET arrow_large_buffer_size = true")  # large_string: the stored type
            for name in needs:
                _source(con, name, read, files)
            sql = _FACTS_SQL.format(money=money)
            facts = (con.sql(sql, params=own) if "$own_banks" in money else con.sql(sql)).to_arrow_table()
        finally:
            if ahead is not None:
                ahead.running(None)
            con.close()
        edges[kind] = _kind_edges(facts, kind)
        del facts
        release_memory()  # the kind's facts leave before the next kind
    return edges


class EdgesAhead:
    """The edges of the money kinds whose fact tables are final, derived on a thread of their own
    while the ingest goes on: `run_ingest` starts it once the payments are written (before the
    payroll is read) and again once every fact table is read (the payroll's edges, beside the
    merge's end and the node tables' writing), and `edge_parts` takes what it made. At 20M
    payments the first kinds took ~25 s of the derive step (45 → 19 s), run at the end after
    everything else; beside the payroll's read and merge (about 1.3 cores busy) they use the
    core left idle.

    A context manager: leaving it (an ingest that failed or was cancelled) stops the thread (the
    running query interrupted, no next kind begun) and waits for it, so nothing reads the staged
    files once the stage is thrown away.

    >>> with EdgesAhead() as ahead:                                          # doctest: +SKIP
    ...     ahead.start(["payments"], stage.read, own_banks, stage.parquet_file)
    ...     stage.put_parts("edges", edge_parts(stage.read, own_banks, stage.parquet_file, ahead))
    """

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._made: list[Future[dict[str, pa.Table]]] = []
        self._started: set[str] = set()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def start(self, final: Iterable[str], read: TableReader, own_bank_names: Iterable[str],
              files: TableFile | None = None) -> None:
        """Derive the money kinds whose fact tables are all among `final` and that no earlier
        call started (nothing if none); the kinds of several calls run one after the other."""
        done = set(final)
        kinds = [kind for kind, needs, _ in _MONEY_KINDS if set(needs) <= done and kind not in self._started]
        if not kinds:
            return
        self._started.update(kinds)
        self._pool = self._pool or ThreadPoolExecutor(max_workers=1, thread_name_prefix="edges-ahead")
        self._made.append(self._pool.submit(_money_edges, read, list(own_bank_names), files, kinds, self))

    def take(self) -> dict[str, pa.Table]:
        """The edges made ahead, by kind (empty if none were started), waited for; the first error
        raised here. A later `start` begins afresh."""
        made, self._made, self._started = self._made, [], set()
        edges: dict[str, pa.Table] = {}
        for future in made:
            edges.update(future.result())
        return edges

    def running(self, con: duckdb.DuckDBPyConnection | None) -> None:
        """The connection of the kind being derived (None between kinds); stopped: raise."""
        with self._lock:
            if con is not None and self._stopped.is_set():
                raise InterruptedError("the ingest stopped: no more edges are derived ahead")
            self._con = con

    def __enter__(self) -> EdgesAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._stopped.set()
            if self._con is not None:
                self._con.interrupt()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._made, self._started = [], set()


def _source(con: duckdb.DuckDBPyConnection, name: str, read: TableReader, files: TableFile | None) -> None:
    """Table `name`'s money columns as a view of `con`: a scan of its Parquet file where it has
    them in the stored types (DuckDB reads it in place: about 0.6x the CPU of an Arrow read handed
    over, and the table is never held whole), else the Arrow columns `read` gives."""
    columns = _MONEY_COLUMNS[name]
    path = None if files is None else files(name)
    if path is not None:
        try:
            schema = pq.read_schema(path)
        except (OSError, pa.ArrowException):
            schema = None  # `read` reports what is wrong with the file
        stored = arrow_schema(name)
        if schema is not None and all(schema.get_field_index(col) >= 0
                                      and schema.field(col).type == stored.field(col).type for col in columns):
            con.read_parquet(str(path)).select(*columns).create_view(name)
            return
    con.register(name, read(name, columns))


_KEYS = ("src", "dst", "month")
_PACKED_BITS = 62  # the three keys' fields of bits that still pack into a non-negative int64


def _kind_edges(facts: pa.Table, kind: str) -> pa.Table:
    """One edge per (src, dst) of one kind's facts, in the order of ORDER BY src, dst: amount,
    count, first and last day, the months with activity (distinct months; a missing month is
    not one) and, for PAYS, the amount paid to payees at other banks.

    Each key column is replaced by its rank among its distinct values sorted (Arrow compares
    strings byte by byte, as DuckDB does), the ranks are packed into one int64 and sorted
    (`graph.arrays.stable_sort`: a run keeps its facts' order), and each edge's run is summed by
    `reduceat`; a month counts where the sorted key changes inside an edge. The key strings are
    taken from their distinct values, one per edge.
    """
    size = facts.num_rows
    if size == 0:
        return arrow_schema("edges").empty_table()
    # the three columns ranked two at a time (Arrow's dictionary encoding frees the GIL)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ranks") as pool:
        (src_rank, src_ids), (dst_rank, dst_ids), (month_rank, months) = pool.map(
            _ranks, [facts.column(col) for col in _KEYS])
    missing_month = month_rank == len(months) if facts.column("month").null_count else None
    bits = [len(distinct).bit_length() for distinct in (src_ids, dst_ids, months)]
    new_month = np.ones(size, dtype=bool)  # the first row of its (src, dst, month) in the sorted rows
    if sum(bits) <= _PACKED_BITS:
        # each key's ranks 0 .. len(distinct) (a missing value ranks last) fill a field of bits
        packed = src_rank.astype(np.int64)
        for rank, width in ((dst_rank, bits[1]), (month_rank, bits[2])):
            packed <<= width
            packed |= rank
        del src_rank, dst_rank, month_rank
        packed, order = stable_sort(packed)
        np.not_equal(packed[1:], packed[:-1], out=new_month[1:])
        packed >>= bits[2]  # the (src, dst) key
        starts = np.flatnonzero(np.concatenate(([True], packed[1:] != packed[:-1])))
        # each edge's ranks unpacked from its key by a shift and a mask (no gather of the ranks by
        # the order; numpy's integer division and remainder, for fields of any width, cost 5x)
        key = packed[starts]
        del packed
        ends = (key >> bits[1], key & ((1 << bits[1]) - 1))
    else:  # too many distinct values to pack into one integer: sort on the ranks
        order = np.lexsort((month_rank, dst_rank, src_rank))
        src_sorted, dst_sorted, month_sorted = src_rank[order], dst_rank[order], month_rank[order]
        del src_rank, dst_rank, month_rank
        new_edge = np.concatenate(([True], (src_sorted[1:] != src_sorted[:-1]) | (dst_sorted[1:] != dst_sorted[:-1])))
        np.not_equal(month_sorted[1:], month_sorted[:-1], out=new_month[1:])
        new_month |= new_edge
        starts = np.flatnonzero(new_edge)
        ends = (src_sorted[starts], dst_sorted[starts])
        del src_sorted, dst_sorted, month_sorted, new_edge
    if missing_month is not None:
        new_month &= ~missing_month[order]
    columns: dict[str, Any] = {
        name: distinct.take(pa.array(ranked, mask=ranked == len(distinct)))
        for name, distinct, ranked in (("src", src_ids, ends[0]), ("dst", dst_ids, ends[1]))}
    columns["kind"] = pa.repeat(pa.scalar(kind, pa.large_string()), len(starts))
    amount = pc.cast(facts.column("amount"), pa.float64()).to_numpy()[order]
    columns["amount"] = np.add.reduceat(amount, starts)
    columns["count"] = np.diff(np.append(starts, size))
    latest, earliest = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    days = pc.fill_null(pc.cast(facts.column("on_day"), pa.timestamp("ns")).cast(pa.int64()), latest)
    days = days.to_numpy()[order]  # a missing day: after every day, so never an edge's first
    first = np.minimum.reduceat(days, starts)
    days[days == latest] = earliest  # and now before every day, so never an edge's last
    last = np.maximum.reduceat(days, starts)
    del days
    for name, out, blank in (("first_on", first, latest), ("last_on", last, earliest)):
        columns[name] = pa.array(out, mask=out == blank).cast(pa.timestamp("ns"))  # no day in the run: null
    columns["months_active"] = np.add.reduceat(new_month, starts, dtype=np.int64)
    if kind == "PAYS":  # the other kinds' `other_bank_amount` stays null
        other = facts.column("other_bank").to_numpy(zero_copy_only=False)[order]
        np.putmask(amount, ~other, 0.0)
        columns["other_bank_amount"] = np.add.reduceat(amount, starts)
    return conform_arrow("edges", pa.table(columns))


def _ranks(values: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Each value's rank among the distinct values sorted (a null: their number), and those.

    One hash pass (a dictionary encoding), then the distinct values are sorted and each code is
    replaced by its value's place: about 0.8x the CPU of `unique` then `index_in` (two hash passes)
    at 2M rows. The chunks are joined first (else every chunk's dictionary is unified with the
    others', which cost twice as much). The ranks are int32 where they fit (half the memory)."""
    encoded = pc.dictionary_encode(values.combine_chunks())
    distinct, codes = encoded.dictionary, encoded.indices
    order = pc.array_sort_indices(distinct)
    rank_of_code = np.empty(len(distinct) + 1, dtype=np.int32 if len(distinct) < 2**31 - 1 else np.int64)
    rank_of_code[order.to_numpy()] = np.arange(len(distinct))
    rank_of_code[-1] = len(distinct)  # a null
    codes = pc.fill_null(codes, len(distinct)) if codes.null_count else codes
    return rank_of_code[codes.to_numpy()], distinct.take(order)


def _part(kind: str, columns: dict[str, pa.ChunkedArray]) -> pa.Table:
    """Edges of one kind from node or fact columns (in their order), in the stored schema."""
    size = len(next(iter(columns.values())))
    arrays = {**columns, "kind": pa.repeat(pa.scalar(kind, pa.large_string()), size)}
    return conform_arrow("edges", pa.table(arrays))


def derive_edge_table(read: TableReader, own_bank_names: Iterable[str],
                      files: TableFile | None = None, ahead: EdgesAhead | None = None) -> pa.Table:
    """`edges` from the node and fact tables that `read(table, columns)` gives
    as Arrow in the stored schema (`graph.stage.Stage.read`: the tables an ingest has put aside),
    as an Arrow table in the stored schema (`GraphStore.write` writes them as they are): the
    parts of `edge_parts`, one after the other (no copy)."""
    return pa.concat_tables(list(edge_parts(read, own_bank_names, files, ahead)))


def edge_parts(read: TableReader, own_bank_names: Iterable[str],
               files: TableFile | None = None, ahead: EdgesAhead | None = None) -> Iterator[pa.Table]:
    """`edges` as parts in the stored order (by kind, then src, dst), each in the stored schema,
    made as they are asked for: the kinds `ahead` derived already come first, taken from it, so
    an ingest writes them (`graph.stage.Stage.put_parts`) while the later parts are made (at
    20M payments the PAYS edges' 8 s of writing beside the payroll's 12 s of deriving). Where
    `files(table)` names a table's Parquet file (`graph.stage.Stage.parquet_file`), DuckDB scans
    the money facts there instead. Every part is unique by (src, dst, kind, role) by construction
    (facts are keyed), so no global de-duplication or sort is needed."""
    own = list(own_bank_names)
    money = ahead.take() if ahead is not None else {}
    for kind, _, _ in _MONEY_KINDS:
        if kind not in money:
            money.update(_money_edges(read, own, files, [kind]))
        yield money.pop(kind)
    roles = read("roles", ["person_id", "enterprise_id", "role", "share_pct", "title", "first_on", "last_on"])
    yield _part("HOLDS_ROLE", {"src": roles["person_id"], "dst": roles["enterprise_id"], "role": roles["role"],
                               "share_pct": roles["share_pct"], "title": roles["title"],
                               "first_on": roles["first_on"], "last_on": roles["last_on"]})
    del roles
    mem = read("memberships", ["member_id", "association_id", "position"])
    yield _part("MEMBER_OF", {"src": mem["member_id"], "dst": mem["association_id"], "position": mem["position"]})
    del mem
    # each node table read once, with every column its edges need
    nodes = {"enterprises": read("enterprises", ["id", "parent_id", "manager_id", "branch_id"]),
             "persons": read("persons", ["id", "manager_id", "branch_id"]),
             "managers": read("managers", ["id", "branch_id"])}
    ent = nodes["enterprises"]
    parent_id = ent["parent_id"]
    named = pc.and_(pc.is_in(parent_id, value_set=pc.unique(ent["id"])), pc.not_equal(parent_id, ent["id"]))
    parent = ent.filter(pc.fill_null(named, False))
    yield _part("PARENT_OF", {"src": parent["parent_id"], "dst": parent["id"]})
    for table in ("enterprises", "persons"):
        managed = nodes[table].filter(pc.is_valid(nodes[table]["manager_id"]))
        yield _part("MANAGES", {"src": managed["manager_id"], "dst": managed["id"]})
    for table in ("enterprises", "persons", "managers"):
        placed = nodes[table].filter(pc.is_valid(nodes[table]["branch_id"]))
        yield _part("IN_BRANCH", {"src": placed["id"], "dst": placed["branch_id"]})


def frames_reader(tables: Mapping[str, pd.DataFrame]) -> TableReader:
    """A `TableReader` over schema-shaped frames held in memory."""
    return lambda name, columns: arrow_columns(name, tables[name], columns)


def derive_edges(tables: dict[str, pd.DataFrame], own_bank_names: Iterable[str]) -> pd.DataFrame:
    """`derive_edge_table` of frames held in memory, as a conformed DataFrame (for callers that want pandas)."""
    return as_frame("edges", derive_edge_table(frames_reader(tables), own_bank_names))


def derive_branches(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Branch nodes: the given branch table plus every branch id nodes name (name = id)."""
    given = tables["branches"]
    ids = pd.concat([tables[t]["branch_id"] for t in ("enterprises", "persons", "managers")]).dropna().unique()
    missing = sorted(set(map(str, ids)) - id_set(given["id"]))
    extra = pd.DataFrame({"id": missing, "name": missing})
    return conform("branches", pd.concat([given, conform("branches", extra)], ignore_index=True))


def derive_managers(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Manager nodes: the given managers plus every manager id a client names (name = id)."""
    given = tables["managers"]
    rows = []
    known = id_set(given["id"])
    for table, kind in (("enterprises", "corporate"), ("persons", "retail")):
        for mid in sorted(id_set(tables[table]["manager_id"]) - known):
            rows.append({"id": mid, "name": mid, "kind": kind})
            known.add(mid)
    if not rows:
        return given
    return conform("managers", pd.concat([given, conform("managers", pd.DataFrame(rows))], ignore_index=True))
