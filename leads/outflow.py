"""Branch outflow (DOMAIN.md, outflow): watched per branch, with where the money went.

- a client is falling when its assets are at or below `query_ratio` (80%) of the earlier level,
  and at warning level at or below `warning_ratio` (50%) — retail_linkage.outflow's levels;
- a branch with more than `notice_clients` (10) falling clients gets a query notice, with more
  than that many at warning level a warning;
- a falling client first seen falling more than `win_back_days` (90) ago and not won back
  (assets still falling, no `won` disposition since) is flagged;
- for each falling client, the banks receiving its outgoing payments, where the data shows it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from graph.settings import get_settings
from graph.store import GraphStore
from leads.alerts import read_alerts
from leads.settings import load_rhythm
from leads.state import LeadLedger
from scoring.features import store_views
from scoring.retail_linkage.settings import load_settings as retail_settings
from scoring.settings import ScoringSettings

__all__ = ["falling_clients", "branch_notices", "money_went"]


def falling_clients(store: GraphStore, settings: ScoringSettings | None = None,
                    today: date | None = None) -> pd.DataFrame:
    """Retail clients whose assets fell to the query level or below, with level and flag; the
    warnings first, each level by its ratio (the largest fall first), then by id."""
    settings = settings or get_settings().scoring
    levels = retail_settings(settings).outflow
    conf = load_rhythm(settings).outflow
    today = today or datetime.now(UTC).date()
    per = store.read("persons", ["id", "name", "aum", "aum_prev", "branch_id", "manager_id", "is_retail_client"])
    aum = pd.to_numeric(per["aum"], errors="coerce").fillna(0.0)
    prev = pd.to_numeric(per["aum_prev"], errors="coerce")
    ratio = aum / prev.where(prev >= levels.min_prev_aum)
    per = per.assign(ratio=ratio.round(4))[ratio <= levels.query_ratio].copy()
    per["level"] = (per["ratio"] <= levels.warning_ratio).map({True: "warning", False: "query"})
    seen = pd.DataFrame([a for kind in ("outflow_warning", "outflow_query")  # found by the log's kind index
                         for a in read_alerts(store, limit=1_000_000, kind=kind)], columns=["entity_id", "at"])
    first = pd.to_datetime(seen.groupby("entity_id")["at"].min(), utc=True)
    history = pd.DataFrame(LeadLedger(store.state_dir).history(), columns=["entity_id", "status", "recorded_at"])
    won = pd.to_datetime(history[history["status"] == "won"].groupby("entity_id")["recorded_at"].max(), utc=True)
    first_at = pd.to_datetime(per["id"].map(first.to_dict()), utc=True)
    per["first_seen"] = first_at.dt.date
    won_after = pd.to_datetime(per["id"].map(won.to_dict()), utc=True) > first_at
    age = (pd.Timestamp(today, tz="UTC") - first_at).dt.days
    per["flagged"] = (age > conf.win_back_days).fillna(False) & ~won_after.fillna(False)
    per = per.sort_values(["level", "ratio", "id"], ascending=[False, True, True], kind="stable")  # warning > query
    return per.drop(columns=["aum_prev"]).reset_index(drop=True)


def branch_notices(store: GraphStore, settings: ScoringSettings | None = None,
                   today: date | None = None) -> list[dict[str, Any]]:
    """One row per branch with falling clients: counts, and the notice it gets (query, warning or none)."""
    settings = settings or get_settings().scoring
    limit = load_rhythm(settings).outflow.notice_clients
    falling = falling_clients(store, settings, today)
    if falling.empty:
        return []
    falling["branch_id"] = falling["branch_id"].fillna("")
    per = falling.groupby("branch_id").agg(falling=("id", "size"),
                                           warning=("level", lambda s: int((s == "warning").sum())),
                                           flagged=("flagged", "sum"))
    names = store.read("branches", ["id", "name"]).set_index("id")["name"]
    out = []
    for branch, row in per.sort_values("falling", ascending=False).iterrows():  # one row per branch
        notice = "warning" if row["warning"] > limit else ("query" if row["falling"] > limit else None)
        out.append({"branch_id": branch or None, "branch_name": names.get(branch), "falling": int(row["falling"]),
                    "warning": int(row["warning"]), "flagged": int(row["flagged"]), "notice": notice,
                    "notice_clients": limit})
    return out


# Where the payers' money went: each receiving bank's total, other than this bank's own names
# (compared trimmed, as ingest keeps the bank's text as given), and its share of the payer's
# money paid to other banks. DuckDB reads the payments file's three columns; only the banks'
# totals come back.
_WENT_SQL = """
SELECT payer_id, payee_bank AS bank, sum(amount) AS amount
FROM payments
WHERE payer_id IN (SELECT payer_id FROM payers)
  AND ($payees IS NULL OR list_contains($payees, payee_id))
  AND trim(payee_bank) <> '' AND NOT list_contains($own, trim(payee_bank))
GROUP BY payer_id, payee_bank
"""


def money_went(store: GraphStore, payer_ids: list[str], payee_ids: list[str] | None = None) -> pd.DataFrame:
    """Banks receiving the outgoing payments of `payer_ids` (own bank left out), largest first;
    to `payee_ids` only when given (the payees a viewer may see)."""
    con = store_views(store, {"payments": ("payer_id", "payee_id", "payee_bank", "amount")})
    try:
        con.register("payers", pa.table({"payer_id": pa.array([str(p) for p in payer_ids], pa.string())}))
        own = sorted({w.strip() for w in get_settings().ingest.own_bank_names})
        went = con.sql(_WENT_SQL, params={"own": own, "payees": payee_ids}).to_arrow_table()
    finally:
        con.close()
    per = went.to_pandas()
    if per.empty:
        return pd.DataFrame(columns=["payer_id", "bank", "amount", "share"])
    per["share"] = (per["amount"] / per.groupby("payer_id")["amount"].transform("sum")).round(4)
    return per.sort_values(["payer_id", "amount", "bank"], ascending=[True, False, True]).reset_index(drop=True)


