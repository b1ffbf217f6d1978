"""Derived tables rebuilt from the facts and nodes on every ingest: `edges` and `edge_months`.

ARCHITECTURE.md "Table semantics": one `edges` row per (src, dst, kind[, role]).

* PAYS (payer → payee), BILL (drawer → payee), ENDORSES (endorser → endorsee) and PAYROLL
  (employer → person) carry amount, count, first_on, last_on and months_active; PAYS also
  `other_bank_amount`, the part paid to a payee at another bank (a non-empty `payee_bank`
  that is not one of the bank's own names).
* HOLDS_ROLE (person → enterprise) carries role and share_pct; MEMBER_OF (member →
  association) carries position; PARENT_OF (parent → child); MANAGES (manager → client);
  IN_BRANCH (enterprise, person or manager → branch).

`edge_months` holds the monthly activity of PAYS, BILL and PAYROLL.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.schema import arrow_schema, as_frame, conform, conform_arrow
from graph.store import release_memory
from ingest.normalise import id_set, isin

__all__ = ["derive_edges", "derive_edge_tables", "derive_branches", "derive_managers", "month_of"]


def month_of(dates: pd.Series) -> pd.Series:
    """'YYYY-MM' of each date (computed over distinct months, so cheap on millions of rows)."""
    d = pd.to_datetime(dates, errors="coerce")
    key = d.dt.year * 100 + d.dt.month
    codes, uniques = pd.factorize(key)
    labels = np.array([f"{int(u) // 100:04d}-{int(u) % 100:02d}" for u in uniques], dtype=object)
    out = np.full(len(d), None, dtype=object)
    ok = codes >= 0
    out[ok] = labels[codes[ok]]
    return pd.Series(out, index=dates.index, dtype="string")


# The money facts of each kind: (kind_order, kind, src, dst, amount, on_day, month, other_bank), with
# the tables each reads. An endorsement without an endorser is endorsed by the previous holder:
# the previous endorsee of the bill, else the bill's payee.
_MONEY_KINDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("PAYS", ("payments",), """
SELECT 1 AS kind_order, 'PAYS' AS kind, payer_id AS src, payee_id AS dst, amount, paid_on AS on_day, month,
       coalesce(payee_bank <> '' AND NOT list_contains($own_banks, payee_bank), false) AS other_bank
FROM payments"""),
    ("BILL", ("bills",), """
SELECT 2 AS kind_order, 'BILL' AS kind, drawer_id AS src, payee_id AS dst, amount, issued_on AS on_day,
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
SELECT 3 AS kind_order, 'ENDORSES' AS kind, src, dst, amount, on_day, strftime(on_day, '%Y-%m') AS month,
       false AS other_bank
FROM hops"""),
    ("PAYROLL", ("payroll",), """
SELECT 4 AS kind_order, 'PAYROLL' AS kind, employer_id AS src, person_id AS dst, amount,
       try_strptime(month || '-01', '%Y-%m-%d') AS on_day, month, false AS other_bank
FROM payroll"""),
)

# One pass over the money facts of a kind: one row per (src, dst, month) with its totals, first
# and last day and the part paid to payees at other banks. The kinds are aggregated one after the
# other (DuckDB's hash table holds one kind at a time); each kind's rows are sorted by edge then
# month (`_by_edge`) and the kinds put one after the other, so the rows are sorted by (kind, src,
# dst, month). `edge_months` is these rows (but endorsements) and `edges` sums each edge's run of
# rows (`_edges_of`): the facts are hashed once, sorted once, and `months_active` counts rows (no
# DISTINCT aggregate).
_BY_MONTH_SQL = """
WITH money AS ({money})
SELECT kind_order, kind, src, dst, month,
       sum(coalesce(amount, 0))                                          AS amount,
       count(*)                                                          AS count,
       min(on_day)                                                       AS first_on,
       max(on_day)                                                       AS last_on,
       sum(CASE WHEN other_bank THEN coalesce(amount, 0) ELSE 0 END)     AS other_bank_amount
FROM money
WHERE src IS NOT NULL AND dst IS NOT NULL
GROUP BY kind_order, kind, src, dst, month
"""
_BY_MONTH_SCHEMA = pa.schema([("kind_order", pa.int32()), ("kind", pa.large_string()), ("src", pa.large_string()),
                              ("dst", pa.large_string()), ("month", pa.large_string()), ("amount", pa.float64()),
                              ("count", pa.int64()), ("first_on", pa.timestamp("ns")),
                              ("last_on", pa.timestamp("ns")), ("other_bank_amount", pa.float64())])

_MONEY_COLUMNS = {
    "payments": ["payer_id", "payee_id", "payee_bank", "amount", "paid_on", "month"],
    "bills": ["bill_id", "drawer_id", "payee_id", "amount", "issued_on"],
    "endorsements": ["bill_id", "seq", "from_id", "to_id", "endorsed_on"],
    "payroll": ["employer_id", "person_id", "month", "amount"],
}


def _money_edges(tables: dict[str, pd.DataFrame], own_bank_names: Iterable[str]) -> tuple[pa.Table, pa.Table]:
    """`edges` of the money kinds and `edge_months`, by GROUP BY in DuckDB over Arrow tables."""
    own = {"own_banks": sorted({n.strip() for n in own_bank_names})}
    parts = []
    for _, needs, money in _MONEY_KINDS:
        con = duckdb.connect()  # one per kind: its buffers are freed before the next kind's
        try:
            con.execute("SET arrow_large_buffer_size = true")  # large_string: the stored type
            for name in needs:
                con.register(name, pa.Table.from_pandas(tables[name][_MONEY_COLUMNS[name]], preserve_index=False))
            sql = _BY_MONTH_SQL.format(money=money)
            part = con.sql(sql, params=own) if "$own_banks" in money else con.sql(sql)
            parts.append(_by_edge(part.to_arrow_table().cast(_BY_MONTH_SCHEMA)))
        finally:
            con.close()
        release_memory()  # DuckDB's sort and hash buffers leave before the next kind
    by_month = pa.concat_tables(parts)
    months = pa.concat_tables([part.select(["src", "dst", "kind", "month", "amount", "count"])
                               for (kind, _, _), part in zip(_MONEY_KINDS, parts, strict=True) if kind != "ENDORSES"])
    if months.column("month").null_count:
        months = months.filter(pc.is_valid(months.column("month")))
    return _edges_of(by_month), conform_arrow("edge_months", months)


def _by_edge(rows: pa.Table) -> pa.Table:
    """The rows of one kind in the order of ORDER BY src, dst, month NULLS LAST (unique keys).

    One numpy sort of integers: each key column is replaced by its rank among its distinct
    values sorted (Arrow compares strings byte by byte, as DuckDB does), the ranks are packed
    into one int64, and the sorted key columns are taken from their distinct values (a DuckDB
    ORDER BY on the strings cost 3-8x more CPU at 2M payments, a take of the strings 2x more).
    """
    if rows.num_rows < 2:
        return rows
    keys = {col: _ranks(rows.column(col)) for col in ("src", "dst", "month")}
    sizes = [len(distinct) + 1 for _, distinct in keys.values()]  # + 1: a missing value ranks last
    if np.prod(np.array(sizes, dtype=np.float64)) < 2.0 ** 62:
        packed = np.zeros(rows.num_rows, dtype=np.int64)
        for (rank, _), size in zip(keys.values(), sizes, strict=True):
            packed = packed * size + rank
        order = np.argsort(packed)
    else:  # too many distinct values to pack into one integer: sort on the ranks
        order = np.lexsort([rank for rank, _ in reversed(keys.values())])
    taken = pa.array(order)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name in rows.column_names:
        if name in keys:
            rank, distinct = keys[name]
            ranked = rank[order]
            columns[name] = distinct.take(pa.array(ranked, mask=ranked == len(distinct)))
        elif name in ("kind_order", "kind"):  # one kind per call: its value repeated (no take)
            columns[name] = pa.repeat(rows.column(name)[0], rows.num_rows)
        else:
            columns[name] = rows.column(name).take(taken)
    return pa.table(columns, schema=rows.schema)


def _ranks(values: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Each value's rank among the distinct values sorted (a null: their number), and those."""
    # one dictionary for every chunk (each chunk's is a prefix of the last one's)
    codes = pa.table({"v": values.dictionary_encode()}).unify_dictionaries().column("v")
    dictionary = codes.chunk(0).dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank_of = np.empty(len(dictionary) + 1, dtype=np.int64)
    rank_of[order] = np.arange(len(dictionary))
    rank_of[-1] = len(dictionary)
    indices = pa.chunked_array([chunk.indices for chunk in codes.chunks], type=codes.type.index_type)
    return rank_of[pc.fill_null(indices, -1).to_numpy(zero_copy_only=False)], dictionary.take(pa.array(order))


_PAYS = 1  # kind_order of PAYS in _MONEY_KINDS


def _edges_of(by_month: pa.Table) -> pa.Table:
    """One edge per run of (kind, src, dst) in the sorted monthly rows: totals, first and last
    day, the months with activity; PAYS also the part paid to payees at other banks."""
    size = by_month.num_rows
    if size == 0:
        return arrow_schema("edges").empty_table()
    starts_run = np.zeros(size, dtype=bool)
    starts_run[0] = True
    for col in ("kind_order", "src", "dst"):  # never null (kind_order by construction; ids by the WHERE)
        values = by_month.column(col)
        starts_run[1:] |= pc.not_equal(values.slice(1), values.slice(0, size - 1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(starts_run)
    taken = pa.array(starts)
    firsts = by_month.select(["src", "dst", "kind", "kind_order"]).take(taken)

    def total(col: str) -> np.ndarray:
        return np.add.reduceat(by_month.column(col).to_numpy(zero_copy_only=False), starts)

    def extreme(col: str, first: bool) -> pa.Array:
        days = by_month.column(col).cast(pa.timestamp("ns")).cast(pa.int64())
        blank = np.iinfo(np.int64).max if first else np.iinfo(np.int64).min
        values = pc.fill_null(days, blank).to_numpy(zero_copy_only=False)
        out = (np.minimum if first else np.maximum).reduceat(values, starts)
        return pa.array(out, mask=out == blank).cast(pa.timestamp("ns"))

    has_month = by_month.column("month").is_valid().to_numpy(zero_copy_only=False).astype(np.int64)
    not_pays = firsts.column("kind_order").to_numpy() != _PAYS
    return conform_arrow("edges", pa.table({
        "src": firsts.column("src"), "dst": firsts.column("dst"), "kind": firsts.column("kind"),
        "amount": total("amount"), "count": total("count"),
        "first_on": extreme("first_on", True), "last_on": extreme("last_on", False),
        "months_active": np.add.reduceat(has_month, starts),
        "other_bank_amount": pa.array(total("other_bank_amount"), mask=not_pays),
    }))


def _part(kind: str, columns: dict[str, pd.Series]) -> pa.Table:
    """Edges of one kind from node or fact columns (in their order), in the stored schema."""
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {name: pa.array(col) for name, col in columns.items()}
    size = len(next(iter(columns.values())))
    arrays["kind"] = pa.repeat(pa.scalar(kind, pa.large_string()), size)
    return conform_arrow("edges", pa.table(arrays))


def derive_edge_tables(tables: dict[str, pd.DataFrame], own_bank_names: Iterable[str]) -> dict[str, pa.Table]:
    """`edges` and `edge_months` from the store's node and fact tables (schema-shaped frames), as
    Arrow tables in the stored schema (`GraphStore.write` writes them as they are)."""
    money, months = _money_edges(tables, own_bank_names)
    parts: list[pa.Table] = [money]
    roles = tables["roles"]
    parts.append(_part("HOLDS_ROLE", {"src": roles["person_id"], "dst": roles["enterprise_id"], "role": roles["role"],
                                      "share_pct": roles["share_pct"], "title": roles["title"],
                                      "first_on": roles["first_on"], "last_on": roles["last_on"]}))
    mem = tables["memberships"]
    parts.append(_part("MEMBER_OF", {"src": mem["member_id"], "dst": mem["association_id"],
                                     "position": mem["position"]}))
    ent = tables["enterprises"]
    known = ent["id"]
    # the mask picks two columns only (filtering whole node tables copies every column)
    parent = ent.loc[ent["parent_id"].notna() & isin(ent["parent_id"], known) & (ent["parent_id"] != ent["id"]),
                     ["id", "parent_id"]]
    parts.append(_part("PARENT_OF", {"src": parent["parent_id"], "dst": parent["id"]}))
    for table in ("enterprises", "persons"):
        nodes = tables[table]
        managed = nodes.loc[nodes["manager_id"].notna(), ["id", "manager_id"]]
        parts.append(_part("MANAGES", {"src": managed["manager_id"], "dst": managed["id"]}))
    for table in ("enterprises", "persons", "managers"):
        nodes = tables[table]
        placed = nodes.loc[nodes["branch_id"].notna(), ["id", "branch_id"]]
        parts.append(_part("IN_BRANCH", {"src": placed["id"], "dst": placed["branch_id"]}))
    # every part is unique by (src, dst, kind, role) by construction (facts are keyed), and in a
    # deterministic order, so no global de-duplication or sort is needed; the parts' chunks are
    # put one after the other (no copy)
    return {"edges": pa.concat_tables(parts), "edge_months": months}


def derive_edges(tables: dict[str, pd.DataFrame], own_bank_names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """`derive_edge_tables` as conformed DataFrames (for callers that want pandas)."""
    return {name: as_frame(name, table) for name, table in derive_edge_tables(tables, own_bank_names).items()}


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
