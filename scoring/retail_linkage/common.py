"""Shared pieces of the `retail_linkage` family: labels, vectorised helpers, row building.

Inputs come from one DuckDB connection over the store (`connect`: the store's Parquet files,
the `people` who may be contacted and the `HOLDS_ROLE`, `PAYROLL` and `PAYS` edges); scores are
computed column-wise (numpy, pandas columns) and each kind's rows become a columnar frame
(`kind_frame`, see scoring/frame.py): evidence, reasons (template ids + parameters), products,
path and details are built as whole columns, with no object per row. Sums that reach a point
or a detail are compensated sums in DuckDB (`fsum`), lists per row are built by Arrow
(`lists_for`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import one_array
from graph.store import GraphStore
from graph.vocabulary import PRODUCT_WORDS, TIER_WORDS, format_amount
from graph.vocabulary import ROLE_LABELS as _ROLE_LABELS
from scoring.explain import Reason
from scoring.features import store_views
from scoring.frame import Bar, ReasonSlot, build_frame

__all__ = [
    "FAMILY",
    "PRODUCTS",
    "ROLE_LABELS",
    "TIER_LABELS",
    "Bar",
    "ReasonSlot",
    "kind_frame",
    "clean",
    "clip01",
    "log_scaled_series",
    "month_label",
    "as_of_month",
    "contactable_persons",
    "spread_evenly",
    "money_en",
    "money_zh",
    "reason",
    "lists_for",
    "list_lengths",
    "first_of",
    "connect",
    "opened",
    "register_ids",
    "query",
    "run",
    "arrow",
    "best_rows",
]

FAMILY = "retail_linkage"

# the shared words (graph.vocabulary), under the names this family uses
PRODUCTS = PRODUCT_WORDS
ROLE_LABELS = _ROLE_LABELS
TIER_LABELS = TIER_WORDS


def clip01(values: pd.Series | np.ndarray) -> pd.Series:
    return pd.Series(np.clip(np.asarray(values, dtype="float64"), 0.0, 1.0))


def log_scaled_series(amount: pd.Series, full_at: float) -> pd.Series:
    """Vectorised `scoring.explain.log_scaled`: 0..1, monotone in the amount."""
    a = pd.to_numeric(amount, errors="coerce").fillna(0.0).clip(lower=0.0).to_numpy()
    out = np.log10(1.0 + a) / np.log10(1.0 + full_at)
    return pd.Series(np.clip(out, 0.0, 1.0), index=amount.index)


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def as_of_month(as_of: str | None, observed: pd.Series) -> int | None:
    """The month scoring looks back from: the `as_of` setting, else the latest observed month."""
    if as_of:
        stamp = pd.Timestamp(as_of)
        return int(stamp.year * 12 + stamp.month - 1)
    observed = observed.dropna()
    return int(observed.max()) if len(observed) else None


def contactable_persons(store: GraphStore) -> pd.DataFrame:
    """Persons who may be listed: anyone marked do-not-contact is dropped here, once.

    `id_hash` and `phone_masked` are left behind so no personal key can leak into a row.
    """
    persons = store.read("persons")
    keep = ~persons["do_not_contact"].fillna(False).astype(bool)
    cols = ["id", "name", "is_retail_client", "aum", "aum_prev", "tier", "branch_id", "manager_id"]
    out = persons.loc[keep, cols].copy()
    out["is_retail_client"] = out["is_retail_client"].fillna(False).astype(bool)
    out["aum"] = out["aum"].fillna(0.0)
    out["tier"] = out["tier"].astype("string").str.strip().str.lower()
    return out.reset_index(drop=True)


#: the store tables the family reads, with the columns its SQL uses
TABLES: dict[str, tuple[str, ...]] = {
    "persons": ("id", "name", "is_retail_client", "aum", "aum_prev", "tier", "branch_id", "manager_id",
                "do_not_contact"),
    "enterprises": ("id", "name", "is_client", "is_credit_client", "registered_capital", "branch_id",
                    "manager_id", "do_not_contact"),
    "payroll": ("employer_id", "person_id", "month", "amount"),
    "payments": ("payer_id", "payee_id", "payee_bank", "amount", "month", "paid_on"),
    "edges": ("src", "dst", "kind", "amount", "role", "share_pct"),
}

# Persons who may be listed (do-not-contact dropped here, once), and the derived edges the
# family reads: HOLDS_ROLE (person -> enterprise), PAYROLL (employer -> person), PAYS.
_VIEWS = """
CREATE TEMP {relation} people AS
SELECT id, name, coalesce(is_retail_client, false) AS is_retail_client, coalesce(aum, 0.0) AS aum, aum_prev,
       lower(trim(tier)) AS tier, branch_id, manager_id
FROM persons WHERE NOT coalesce(do_not_contact, false);
CREATE TEMP {relation} holds_role AS
SELECT src AS person_id, dst AS enterprise_id, role, share_pct
FROM edges WHERE kind = 'HOLDS_ROLE' AND src IS NOT NULL AND dst IS NOT NULL AND role IS NOT NULL;
CREATE TEMP VIEW payroll_edges AS SELECT src AS employer_id, dst AS person_id FROM edges WHERE kind = 'PAYROLL';
CREATE TEMP VIEW pays_edges AS SELECT src, dst, amount FROM edges WHERE kind = 'PAYS';
"""


_STRINGS = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow")}


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Execute a statement (or a query with few rows) and fetch its rows."""
    return con.execute(sql, dict(params or {})).fetchall()


def arrow(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
    """A query's result as an Arrow table."""
    return con.sql(sql, params=dict(params or {})).to_arrow_table()


def query(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """A query's result as a DataFrame (text as Arrow-backed strings, as `store.read` gives)."""
    return arrow(con, sql, params).to_pandas(types_mapper=_STRINGS.get)


def register_ids(con: duckdb.DuckDBPyConnection, name: str, ids: pd.Series) -> None:
    """The listed rows' ids as a one-column relation `name(id)`, for semi-joins in SQL."""
    con.register(name, pa.table({"id": pa.array(ids.astype("string"), pa.string())}))


def opened(store: GraphStore, con: duckdb.DuckDBPyConnection | None
           ) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """The connection given (one scoring run shares it across the kinds), else a new one;
    and whether the caller opened it (and so closes it)."""
    return (con, False) if con is not None else (connect(store), True)


def connect(store: GraphStore, *, materialise: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection over the store's tables (`scoring.features.store_views`) with the
    family's views: `people` (contactable persons), `holds_role`, `payroll_edges`, `pays_edges`.

    `materialise`: `people` and `holds_role` become temporary tables, read from the store once
    (a scoring run reads them for several kinds; a single look-up does not need to).
    """
    con = store_views(store, TABLES)
    for statement in _VIEWS.format(relation="TABLE" if materialise else "VIEW").split(";"):
        if statement.strip():
            run(con, statement)
    return con


def spread_evenly(rows: pd.DataFrame, branch_col: str, managers: pd.DataFrame, kind: str) -> pd.Series:
    """Round-robin the rows (already best-first) over the branch's managers of `kind`.

    DOMAIN.md: clients brought in a batch are spread evenly; taking the rows best-first and
    dealing them out in turn balances both the count and the value each manager gets.
    Rows whose branch has no such manager get NA. Column-wise: a row's turn within its branch
    picks the manager by index (the loop below is over branches, not rows).
    """
    pool = managers[managers["kind"].astype("string").str.lower() == kind]
    by_branch = {str(b): np.array(sorted(g["id"].astype(str)), dtype=object) for b, g in pool.groupby("branch_id")}
    out = np.full(len(rows), None, dtype=object)
    if by_branch and len(rows):
        branch = rows[branch_col].astype("string").fillna("\x00").to_numpy(dtype=object)
        turn = rows.groupby(branch_col, dropna=False).cumcount().to_numpy()
        for b, ids in by_branch.items():
            mask = branch == b
            out[mask] = ids[turn[mask] % len(ids)]
    return pd.Series(out, index=rows.index, dtype="string")


def money_en(amount: float) -> str:
    return format_amount(amount, "en")


def money_zh(amount: float) -> str:
    return format_amount(amount, "zh")


def reason(en: str, zh: str) -> Reason:
    """A reason in both languages."""
    return Reason(en=en, zh=zh)


def lists_for(ids: pd.Series, keys: pa.Array | pa.ChunkedArray | pd.Series,
              values: pa.Array | pa.ChunkedArray | pd.Series, *, unique: bool = False,
              limit: int | None = None) -> pd.Series:
    """One list per id in `ids` (in that order; an Arrow-backed column on a fresh index): the
    `values` whose key is that id, in the order given (empty where none). `unique` keeps a
    value's first occurrence; `limit` caps a list. Column-wise: Arrow's hash look-up finds each
    pair's row, a stable sort groups them.
    """
    n = len(ids)
    id_arr = pa.array(ids.astype("string"), pa.string()) if isinstance(ids, pd.Series) else ids
    key_arr = pa.array(keys.astype("string"), pa.string()) if isinstance(keys, pd.Series) else keys
    val_arr = pa.array(values, from_pandas=True) if isinstance(values, pd.Series) else values
    if isinstance(key_arr, pa.ChunkedArray):
        key_arr = key_arr.combine_chunks()
    if isinstance(val_arr, pa.ChunkedArray):
        val_arr = val_arr.combine_chunks()
    pos = pc.index_in(key_arr.cast(pa.string()), value_set=pa.array(id_arr, pa.string()))
    pos = np.asarray(pc.fill_null(pos, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    keep = np.flatnonzero(pos >= 0)
    if unique and len(keep):
        codes = pd.factorize(pd.Series(val_arr.take(pa.array(keep)).to_pandas(), dtype=object).astype(str))[0]
        first = ~pd.DataFrame({"p": pos[keep], "v": codes}).duplicated().to_numpy()
        keep = keep[first]
    keep = keep[np.argsort(pos[keep], kind="stable")]
    grouped = pos[keep]
    counts = np.bincount(grouped, minlength=n)
    if limit is not None and len(keep):
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        within = np.arange(len(keep)) - starts
        keep, grouped = keep[within < limit], grouped[within < limit]
        counts = np.bincount(grouped, minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    lists = pa.ListArray.from_arrays(pa.array(offsets), val_arr.take(pa.array(keep, pa.int64())))
    return pd.Series(pd.arrays.ArrowExtensionArray(lists))


def _list_array(lists: pd.Series) -> pa.ListArray:
    arr = pa.array(lists)
    return one_array(arr)


def list_lengths(lists: pd.Series) -> np.ndarray:
    """The length of each list of a `lists_for` column (0 for an empty list)."""
    lengths = pc.fill_null(pc.list_value_length(_list_array(lists)), 0)
    return np.asarray(lengths.to_numpy(zero_copy_only=False), dtype=np.int64)


def first_of(lists: pd.Series) -> pd.Series:
    """The first item of each list of a `lists_for` column (NA for an empty list)."""
    arr = _list_array(lists)
    out = np.full(len(arr), None, dtype=object)
    parents = np.asarray(pc.list_parent_indices(arr).to_numpy(zero_copy_only=False), dtype=np.int64)
    if len(parents):
        rows, first = np.unique(parents, return_index=True)
        out[rows] = pc.list_flatten(arr).take(pa.array(first)).to_numpy(zero_copy_only=False)
    return pd.Series(out, index=lists.index, dtype="string")


def clean(values: pd.Series) -> pd.Series:
    """`clean_id` over a column: text stripped, empty or missing as NA."""
    text = values.astype("string").str.strip()
    return text.where(text != "")


def kind_frame(rows: pd.DataFrame, kind: str, bars: Iterable[Bar], reasons: Iterable[ReasonSlot],
               products: Iterable[tuple[str, str | None]], path: Iterable[str],
               details: Mapping[str, Any]) -> pa.Table:
    """A kind's frame from its scored rows (columns `prospect_id`, `name`, `manager_id`,
    `branch_id`, `employer_id`, `anchor_id` where present, and each bar's value/points).

    `details` values are columns or constants (a constant is the same for every row).
    """
    rows = rows.reset_index(drop=True)
    n = len(rows)
    cols = {k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else
                v if isinstance(v, pa.Array) else pa.repeat(pa.scalar(v), n)) for k, v in details.items()}
    return build_frame(rows, family=FAMILY, kind=kind, bars=bars, reasons=reasons, products=products,
                       path=path, details=cols)


def best_rows(rows: pd.DataFrame, n: int, key: str) -> pd.DataFrame:
    """``rows.sort_values(["score", key], ascending=[False, True]).head(n)`` for unique `key`s,
    sorting only the rows that can make the first `n`: those scoring at least the n-th best
    score (numpy's partition over the scores), so a million rows do not sort their ids."""
    values = rows["score"].to_numpy(dtype="float64")
    if len(rows) > n > 0 and np.isfinite(values).all():
        cut = np.partition(values, len(values) - n)[len(values) - n]  # the n-th best score
        rows = rows[values >= cut]
    return rows.sort_values(["score", key], ascending=[False, True]).head(n)
