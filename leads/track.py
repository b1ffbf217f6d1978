"""Tracking over time: each ingest keeps a small snapshot of campaign metrics, versioned.

Metrics (computed column-wise with pandas group-bys, never row by row):
- employer: `payroll_staff`, `staff_over_threshold` (holding at least the retail threshold,
  CNY 50,000) and `retention` (assets kept at the bank / a year's pay): the payroll family's
  `employer_summaries`, so the words mean what they mean on the employer page;
- association: `members`, `client_members`;
- chain (an anchor with at least `MIN_STORES` stores, `parent_id`): `stores`, `stores_opened` (stores that are clients);
- manager: `leads_won` (ledger).
The snapshots live in ``STORE/state/track.parquet`` (unversioned state, like the lead ledger):
rows of {version, as_of, scope, scope_id, metric, value}; a re-recorded version replaces its rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import pandas as pd

from graph.errors import InvalidRequest
from graph.store import GraphStore
from leads.campaigns import MIN_STORES
from leads.state import LeadLedger
from scoring.features import store_views
from scoring.retail_linkage import employer_tracking_metrics
from scoring.settings import ScoringSettings

__all__ = ["compute_metrics", "record_snapshot", "read_series", "SCOPES", "TRACK_COLUMNS"]

Scope = Literal["employer", "association", "anchor", "manager"]
SCOPES: tuple[Scope, ...] = ("employer", "association", "anchor", "manager")
TRACK_COLUMNS = ["version", "as_of", "scope", "scope_id", "metric", "value"]
FILE = "track.parquet"


def _long(df: pd.DataFrame, scope: str, key: str, metrics: list[str]) -> pd.DataFrame:
    out = df.melt(id_vars=[key], value_vars=metrics, var_name="metric", value_name="value")
    out = out.rename(columns={key: "scope_id"})
    out["scope"] = scope
    return out


def _as_of(store: GraphStore) -> str:
    """The latest payroll or payment month (DuckDB over the store's files), else this month."""
    con = store_views(store, {"payroll": ["month"], "payments": ["month"]})
    try:
        found = con.execute("SELECT max(m) FROM (SELECT max(CAST(month AS VARCHAR)) AS m FROM payroll UNION ALL "
                            "SELECT max(CAST(month AS VARCHAR)) FROM payments)").fetchone()
    finally:
        con.close()
    return str(found[0]) if found and found[0] is not None else datetime.now(UTC).strftime("%Y-%m")


def compute_metrics(store: GraphStore, settings: ScoringSettings | None = None) -> pd.DataFrame:
    """The metrics of the store's current version: rows of {scope, scope_id, metric, value}."""
    parts: list[pd.DataFrame] = []
    # the payroll family's employer summary (its three columns, one aggregation): one
    # definition of staff, threshold and retention
    per = employer_tracking_metrics(store, settings).rename(columns={
        "staff": "payroll_staff", "staff_above_threshold": "staff_over_threshold", "retention_rate": "retention"})
    if len(per):
        parts.append(_long(per, "employer", "employer_id", ["payroll_staff", "staff_over_threshold", "retention"]))
    enterprises = store.read("enterprises", ["id", "is_client", "parent_id"])
    client = enterprises.set_index("id")["is_client"].fillna(False).astype(bool)
    members = store.read("memberships", ["association_id", "member_id"]).dropna()
    if len(members):
        members = members.assign(client=members["member_id"].map(client).fillna(False).astype(bool))
        per = members.groupby("association_id").agg(members=("member_id", "nunique"), client_members=("client", "sum"))
        parts.append(_long(per.reset_index(), "association", "association_id", ["members", "client_members"]))
    stores = enterprises.dropna(subset=["parent_id"])
    if len(stores):
        stores = stores.assign(opened=stores["is_client"].fillna(False).astype(bool))
        per = stores.groupby("parent_id").agg(stores=("id", "size"), stores_opened=("opened", "sum"))
        per = per[per["stores"] >= MIN_STORES]  # chains only, as in the chain campaigns
        parts.append(_long(per.reset_index(), "anchor", "parent_id", ["stores", "stores_opened"]))
    claims = pd.DataFrame([c.__dict__ for c in LeadLedger(store.state_dir).claims().values()],
                          columns=["owner", "status"])
    managers = store.read("managers", ["id"])
    won = claims[claims["status"] == "won"].groupby("owner").size()
    per = pd.DataFrame({"id": managers["id"], "leads_won": managers["id"].map(won).fillna(0)})
    if len(per):
        parts.append(_long(per, "manager", "id", ["leads_won"]))
    if not parts:
        return pd.DataFrame(columns=["scope", "scope_id", "metric", "value"])
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(float)
    return out[["scope", "scope_id", "metric", "value"]]


def _read(store: GraphStore) -> pd.DataFrame:
    path = store.state_dir / FILE
    return pd.read_parquet(path) if path.exists() else pd.DataFrame(columns=TRACK_COLUMNS)


def record_snapshot(store: GraphStore, version: str | None = None,
                    settings: ScoringSettings | None = None) -> pd.DataFrame:
    """Compute the current version's metrics and keep them (replacing that version's rows)."""
    version = version or store.version
    snap = compute_metrics(store, settings)
    snap.insert(0, "as_of", _as_of(store))
    snap.insert(0, "version", str(version))
    old = _read(store)
    old = old[old["version"] != str(version)]
    both = pd.concat([old, snap], ignore_index=True) if len(old) else snap
    tmp = store.state_dir / f".{FILE}.tmp"
    both[TRACK_COLUMNS].to_parquet(tmp, index=False)
    tmp.replace(store.state_dir / FILE)
    return snap


def read_series(store: GraphStore, scope: str, scope_id: str | None = None) -> pd.DataFrame:
    """The kept series of a scope (and id), oldest version first: {version, as_of, scope_id, metric, value}."""
    if scope not in SCOPES:
        raise InvalidRequest(f"unknown tracking scope {scope!r}; choose one of {', '.join(SCOPES)}")
    rows = _read(store)
    rows = rows[rows["scope"] == scope]
    if scope_id is not None:
        rows = rows[rows["scope_id"] == scope_id]
    return rows.sort_values(["scope_id", "metric", "version"]).reset_index(drop=True)
