"""Shared pieces of the `retail_linkage` family: labels, vectorised helpers, row building.

Scores are computed column-wise on DataFrames and each kind's rows become a columnar frame
(`kind_frame`, see scoring/frame.py): evidence, reasons (template ids + parameters), products,
path and details are built as whole columns, with no object per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.store import GraphStore
from graph.vocabulary import PRODUCT_WORDS, TIER_WORDS, format_amount
from graph.vocabulary import ROLE_LABELS as _ROLE_LABELS
from scoring.explain import Reason
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
    "month_index",
    "month_label",
    "as_of_month",
    "contactable_persons",
    "blocked_persons",
    "spread_evenly",
    "money_en",
    "money_zh",
    "clean_id",
    "reason",
    "lists_by",
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


def month_index(months: pd.Series) -> pd.Series:
    """'YYYY-MM' strings as integers (year*12 + month-1); unparseable months become NA."""
    s = months.astype("string")
    year = pd.to_numeric(s.str.slice(0, 4), errors="coerce")
    month = pd.to_numeric(s.str.slice(5, 7), errors="coerce")
    return (year * 12 + month - 1).astype("Int64")


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


def blocked_persons(store: GraphStore) -> set[str]:
    persons = store.read("persons", ["id", "do_not_contact"])
    return set(persons.loc[persons["do_not_contact"].fillna(False).astype(bool), "id"].astype(str))


def spread_evenly(rows: pd.DataFrame, branch_col: str, managers: pd.DataFrame, kind: str) -> pd.Series:
    """Round-robin the rows (already best-first) over the branch's managers of `kind`.

    DOMAIN.md: clients brought in a batch are spread evenly; taking the rows best-first and
    dealing them out in turn balances both the count and the value each manager gets.
    Rows whose branch has no such manager get NA.
    """
    pool = managers[managers["kind"].astype("string").str.lower() == kind]
    by_branch = {str(b): sorted(g["id"].astype(str)) for b, g in pool.groupby("branch_id")}
    out = pd.Series(pd.NA, index=rows.index, dtype="string")
    if not by_branch or rows.empty:
        return out
    turn = rows.groupby(branch_col, dropna=False).cumcount()
    for branch, ids in by_branch.items():
        mask = (rows[branch_col].astype("string") == branch).fillna(False).astype(bool)
        if mask.any():
            out[mask] = [ids[i % len(ids)] for i in turn[mask]]
    return out


def clean_id(value: Any) -> str | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = str(value).strip()
    return text or None


def money_en(amount: float) -> str:
    return format_amount(amount, "en")


def money_zh(amount: float) -> str:
    return format_amount(amount, "zh")


def reason(en: str, zh: str) -> Reason:
    """A reason in both languages."""
    return Reason(en=en, zh=zh)


def lists_by(keys: pd.Series, values: pd.Series, *, unique: bool = False, limit: int | None = None
             ) -> dict[str, list[str]]:
    """Group `values` into lists per key, keeping their order (a vectorised groupby-to-list)."""
    k = keys.astype("string").fillna("").to_numpy(dtype=object)
    v = values.astype("string").fillna("").to_numpy(dtype=object)
    order = np.argsort(k, kind="stable")
    k, v = k[order], v[order]
    if not len(k):
        return {}
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[starts[1:], len(k)]
    out: dict[str, list[str]] = {}
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        items = list(dict.fromkeys(v[s:e])) if unique else list(v[s:e])
        out[str(k[s])] = items[:limit] if limit is not None else items
    return out


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
                v if isinstance(v, pa.Array) else pa.array([v] * n)) for k, v in details.items()}
    return build_frame(rows, family=FAMILY, kind=kind, bars=bars, reasons=reasons, products=products,
                       path=path, details=cols)
