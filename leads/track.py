"""Tracking over time: each ingest keeps a small snapshot of campaign metrics, versioned.

Metrics (computed column-wise, never row by row: DuckDB over the store's files, pandas for the managers):
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

import duckdb
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


# The association and chain metrics, one DuckDB query each over the store's files (no pandas
# frame of the enterprises): rows sorted by id, as a pandas group-by gives them. A member counts
# as a client where it is an enterprise that is a client (each membership row once).
_ASSOCIATIONS_SQL = """
SELECT m.association_id AS association_id, count(DISTINCT m.member_id) AS members,
       sum(CASE WHEN e.is_client THEN 1 ELSE 0 END) AS client_members
FROM memberships m LEFT JOIN enterprises e ON e.id = m.member_id
WHERE m.association_id IS NOT NULL AND m.member_id IS NOT NULL
GROUP BY m.association_id ORDER BY m.association_id"""
_CHAINS_SQL = """
SELECT parent_id, count(*) AS stores, sum(CASE WHEN is_client THEN 1 ELSE 0 END) AS stores_opened
FROM enterprises WHERE parent_id IS NOT NULL
GROUP BY parent_id HAVING count(*) >= $min_stores ORDER BY parent_id"""
_AS_OF_SQL = """
SELECT max(m) FROM (SELECT max(CAST(month AS VARCHAR)) AS m FROM payroll UNION ALL
                    SELECT max(CAST(month AS VARCHAR)) FROM payments)"""


def _as_of(con: duckdb.DuckDBPyConnection) -> str:
    """The latest payroll or payment month, else this month."""
    found = con.execute(_AS_OF_SQL).fetchone()
    return str(found[0]) if found and found[0] is not None else datetime.now(UTC).strftime("%Y-%m")


def _views(store: GraphStore) -> duckdb.DuckDBPyConnection:
    return store_views(store, {"payroll": ["month"], "payments": ["month"], "memberships": ["association_id", "member_id"],
                               "enterprises": ["id", "is_client", "parent_id"]})


def compute_metrics(store: GraphStore, settings: ScoringSettings | None = None,
                    con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """The metrics of the store's current version: rows of {scope, scope_id, metric, value}
    (`con`: a connection with the store's views, as `_views` makes, else one of its own)."""
    parts: list[pd.DataFrame] = []
    # the payroll family's employer summary (its three columns, one aggregation): one
    # definition of staff, threshold and retention
    per = employer_tracking_metrics(store, settings).rename(columns={
        "staff": "payroll_staff", "staff_above_threshold": "staff_over_threshold", "retention_rate": "retention"})
    if len(per):
        parts.append(_long(per, "employer", "employer_id", ["payroll_staff", "staff_over_threshold", "retention"]))
    own = con is None
    con = _views(store) if con is None else con
    try:
        per = con.execute(_ASSOCIATIONS_SQL).df()
        if len(per):
            parts.append(_long(per, "association", "association_id", ["members", "client_members"]))
        per = con.execute(_CHAINS_SQL, {"min_stores": MIN_STORES}).df()  # chains only, as in the chain campaigns
        if len(per):
            parts.append(_long(per, "anchor", "parent_id", ["stores", "stores_opened"]))
    finally:
        if own:
            con.close()
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
    con = _views(store)
    try:
        snap = compute_metrics(store, settings, con)
        snap.insert(0, "as_of", _as_of(con))
    finally:
        con.close()
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
