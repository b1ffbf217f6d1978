"""Tracking over time: each ingest keeps a small snapshot of campaign metrics, versioned.

Metrics (computed column-wise, never row by row: DuckDB over the store's files, pandas for the managers):
- employer: `payroll_staff`, `staff_over_threshold` (holding at least the retail threshold,
  CNY 50,000) and `retention` (assets kept at the bank / a year's pay): the payroll family's
  `employer_summaries`, so the words mean what they mean on the employer page;
- association: `members`, `client_members`;
- chain (an anchor with at least `MIN_STORES` stores, `parent_id`): `stores`, `stores_opened` (stores that are clients);
- manager: `leads_won` (ledger).
The snapshots live in ``STORE/state/track.parquet`` (unversioned state, like the lead ledger):
rows of {version, as_of, scope, scope_id, metric, value, branch_id}; a re-recorded version replaces
its rows.

Branch scope: each figure is kept per branch of what it counts — an employer's staff by the
persons' branch, an association's members by the member's, a chain's stores by the store's, a
manager's leads won by the manager's ('' none: shared) — so a reader is given the sum over the
branches it sees (`scoped_series`: a viewer's `Viewer.in_scope`), never a figure counting another
branch's persons or stores. Retention, a ratio, is kept as its two sums (`RATIOS`) and read back as
the ratio of the sums seen. A snapshot kept before figures had a branch (no `branch_id`, or null)
counts every branch: only a reader of every branch is given it; a branch's reader has those points
withheld and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from graph.duck import duckdb_cursor
from graph.errors import InvalidRequest
from graph.store import GraphStore
from leads.campaigns import MIN_STORES, in_scope_mask
from leads.state import LeadLedger
from scoring.features import store_views
from scoring.retail_linkage import employer_tracking_metrics
from scoring.settings import ScoringSettings

__all__ = ["compute_metrics", "record_snapshot", "read_series", "scoped_series", "SCOPES", "TRACK_COLUMNS",
           "SERIES_COLUMNS", "RATIOS"]

Scope = Literal["employer", "association", "anchor", "manager"]
SCOPES: tuple[Scope, ...] = ("employer", "association", "anchor", "manager")
SERIES_COLUMNS = ["version", "as_of", "scope", "scope_id", "metric", "value"]  # a point as read
TRACK_COLUMNS = [*SERIES_COLUMNS, "branch_id"]  # a row as kept: one branch's part of a point
FILE = "track.parquet"
_CODED = pa.dictionary(pa.int32(), pa.string())  # the file's text columns: few distinct values, many rows
SCHEMA = pa.schema([(c, pa.float64() if c == "value" else _CODED) for c in TRACK_COLUMNS])
#: a ratio kept as its two sums per branch (numerator, denominator), read back as their ratio
RATIOS = {"retention": ("retention_assets", "retention_pay")}
#: the branch of a figure kept over every branch (a snapshot of before branches were kept): none
#: has it, so `Viewer.in_scope` admits it for a viewer of every branch only
EVERY_BRANCH = "\x00every branch"


def _long(df: pd.DataFrame, scope: str, key: str, metrics: list[str]) -> pd.DataFrame:
    out = df.melt(id_vars=[key, "branch_id"], value_vars=metrics, var_name="metric", value_name="value")
    out = out.rename(columns={key: "scope_id"})
    out["scope"] = scope
    return out


# The association and chain metrics, one DuckDB query each over the store's files (no pandas
# frame of the enterprises), per branch of the member or store ('' none): rows sorted by id, as a
# pandas group-by gives them. A member counts as a client where it is an enterprise that is a
# client (each membership row once); a member has one branch, so the branches' counts add up.
_ASSOCIATIONS_SQL = """
SELECT m.association_id AS association_id, coalesce(e.branch_id, p.branch_id, '') AS branch_id,
       count(DISTINCT m.member_id) AS members, sum(CASE WHEN e.is_client THEN 1 ELSE 0 END) AS client_members
FROM memberships m LEFT JOIN enterprises e ON e.id = m.member_id LEFT JOIN persons p ON p.id = m.member_id
WHERE m.association_id IS NOT NULL AND m.member_id IS NOT NULL
GROUP BY ALL ORDER BY m.association_id, branch_id"""
_CHAINS_SQL = """
SELECT parent_id, coalesce(branch_id, '') AS branch_id, count(*) AS stores,
       sum(CASE WHEN is_client THEN 1 ELSE 0 END) AS stores_opened
FROM enterprises
WHERE parent_id IN (SELECT parent_id FROM enterprises WHERE parent_id IS NOT NULL
                    GROUP BY parent_id HAVING count(*) >= $min_stores)
GROUP BY ALL ORDER BY parent_id, branch_id"""
_AS_OF_SQL = """
SELECT max(m) FROM (SELECT max(CAST(month AS VARCHAR)) AS m FROM payroll UNION ALL
                    SELECT max(CAST(month AS VARCHAR)) FROM payments)"""


def _as_of(con: duckdb.DuckDBPyConnection) -> str:
    """The latest payroll or payment month, else this month."""
    found = con.execute(_AS_OF_SQL).fetchone()
    return str(found[0]) if found and found[0] is not None else datetime.now(UTC).strftime("%Y-%m")


def _views(store: GraphStore) -> duckdb.DuckDBPyConnection:
    return store_views(store, {"payroll": ["month"], "payments": ["month"], "memberships": ["association_id", "member_id"],
                               "enterprises": ["id", "is_client", "parent_id", "branch_id"],
                               "persons": ["id", "branch_id"]})


def compute_metrics(store: GraphStore, settings: ScoringSettings | None = None,
                    con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """The metrics of the store's current version, each per branch of what it counts: rows of
    {scope, scope_id, metric, value, branch_id} (`con`: a connection with the store's views, as
    `_views` makes, else one of its own)."""
    parts: list[pd.DataFrame] = []
    # the payroll family's employer summary (its columns, one aggregation, per staff branch): one
    # definition of staff, threshold and retention (kept as its two sums: `RATIOS`)
    per = employer_tracking_metrics(store, settings, by_branch=True).rename(columns={
        "staff": "payroll_staff", "staff_above_threshold": "staff_over_threshold",
        "retained_assets": RATIOS["retention"][0], "payroll_total_12m": RATIOS["retention"][1]})
    if len(per):
        parts.append(_long(per, "employer", "employer_id", ["payroll_staff", "staff_over_threshold",
                                                             *RATIOS["retention"]]))
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
    managers = store.read("managers", ["id", "branch_id"])
    won = claims[claims["status"] == "won"].groupby("owner").size()
    per = pd.DataFrame({"id": managers["id"], "branch_id": managers["branch_id"].fillna(""),
                        "leads_won": managers["id"].map(won).fillna(0)})  # the manager's own branch
    if len(per):
        parts.append(_long(per, "manager", "id", ["leads_won"]))
    columns = ["scope", "scope_id", "metric", "value", "branch_id"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(float)
    out["branch_id"] = out["branch_id"].fillna("").astype(str)  # no branch: '' (shared), never 'None' or 'nan'
    return out[columns]


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
    kept = pa.Table.from_pandas(snap[TRACK_COLUMNS], preserve_index=False).cast(SCHEMA)
    path = store.state_dir / FILE
    if path.exists():  # the other versions' rows as they are, coded in Arrow (no pandas frame of the file)
        old = pq.read_table(path, read_dictionary=[c for c in TRACK_COLUMNS if c != "value"])
        if "branch_id" not in old.column_names:  # kept before branches were: every branch's figures
            old = old.append_column("branch_id", pa.nulls(old.num_rows, _CODED))
        old = old.select(TRACK_COLUMNS).cast(SCHEMA)
        kept = pa.concat_tables([old.filter(pc.not_equal(old["version"], str(version))), kept])
    tmp = store.state_dir / f".{FILE}.tmp"
    pq.write_table(kept, tmp)
    tmp.replace(path)
    return snap


def read_series(store: GraphStore, scope: str, scope_id: str | None = None) -> pd.DataFrame:
    """The kept series of a scope (and id) over every branch, oldest version first:
    {version, as_of, scope, scope_id, metric, value} (the local operator's: `scoped_series`)."""
    return scoped_series(store, scope, scope_id)[0]


# A reader's points: each (version, scope id, metric)'s sum over the kept rows of the branches it
# sees (`seen`: each distinct branch judged once), and whether it is shown: a point of a snapshot
# kept per branch always (its value over what the reader sees), one kept over every branch
# ($every) only where the reader sees that. `file` is the kept Parquet file, read by DuckDB: only
# the columns needed, no pandas frame of it.
_POINTS_SQL = """
WITH judged AS (
    SELECT f.*, seen.seen
    FROM (SELECT version, as_of, scope, scope_id, metric, value, coalesce({branch}, $every) AS branch_id
          FROM file WHERE ($scope IS NULL OR scope = $scope) AND ($scope_id IS NULL OR scope_id = $scope_id)) f
    JOIN seen ON seen.branch_id = f.branch_id
)
SELECT version, as_of, scope, scope_id, metric, sum(CASE WHEN seen THEN value ELSE 0.0 END) AS value,
       bool_or(seen OR branch_id <> $every) AS shown
FROM judged GROUP BY ALL"""


def scoped_series(store: GraphStore, scope: str | None, scope_id: str | None = None,
                  in_scope: Callable[[Any], bool] | None = None) -> tuple[pd.DataFrame, int]:
    """The kept series of a scope (None: any) and id as a reader sees them, oldest version first:
    {version, as_of, scope, scope_id, metric, value}, each value the sum over the branches
    `in_scope` admits (a viewer's `Viewer.in_scope`; None: every branch), a ratio the ratio of
    those sums (0 where its denominator is); and how many points were withheld: those of
    snapshots kept over every branch, which only a reader of every branch is given. A point of a
    snapshot kept per branch is there for every reader, its value over what the reader sees."""
    if scope is not None and scope not in SCOPES:
        raise InvalidRequest(f"unknown tracking scope {scope!r}; choose one of {', '.join(SCOPES)}")
    path = store.state_dir / FILE
    if not path.exists():
        return pd.DataFrame(columns=SERIES_COLUMNS), 0
    branch = "branch_id" if "branch_id" in pq.read_schema(path).names else "NULL"  # none: kept before branches
    con = duckdb_cursor()
    try:
        con.register("file", con.read_parquet(path.as_posix()))
        found = con.sql(f"SELECT DISTINCT coalesce({branch}, $every) AS b FROM file",  # noqa: S608 - a column name
                        params={"every": EVERY_BRANCH}).to_arrow_table()["b"].to_pandas()
        con.register("seen", pa.table({"branch_id": pa.array(found.tolist(), pa.string()),
                                       "seen": pa.array(in_scope_mask(found, in_scope).tolist(), pa.bool_())}))
        params = {"every": EVERY_BRANCH, "scope": scope, "scope_id": scope_id}
        points = con.sql(_POINTS_SQL.format(branch=branch), params=params).to_arrow_table().to_pandas()
    finally:
        con.close()
    shown = points.pop("shown").to_numpy(dtype=bool)
    withheld = int((~shown).sum())
    points = _ratios(points[shown], ["version", "as_of", "scope", "scope_id", "metric"])
    points = points.sort_values(["scope_id", "metric", "version"], kind="stable").reset_index(drop=True)
    return points[SERIES_COLUMNS], withheld


def _ratios(points: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each ratio of `RATIOS` as the ratio of its two summed parts (rounded as the employer summary
    rounds retention), the parts themselves dropped; a point kept as a ratio (an old snapshot) stays."""
    out = [points[~points["metric"].isin([part for parts in RATIOS.values() for part in parts])]]
    at = [k for k in keys if k != "metric"]
    for name, (numerator, denominator) in RATIOS.items():
        num = points[points["metric"] == numerator].set_index(at)["value"]
        den = points[points["metric"] == denominator].set_index(at)["value"]
        if num.empty and den.empty:
            continue
        num, den = num.align(den, fill_value=0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(den.to_numpy() > 0, num.to_numpy() / den.to_numpy(), 0.0).round(5)
        out.append(num.index.to_frame(index=False).assign(metric=name, value=ratio))
    return pd.concat(out, ignore_index=True)
