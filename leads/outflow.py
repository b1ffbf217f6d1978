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

from graph.settings import get_settings
from graph.store import GraphStore
from leads.alerts import read_alerts
from leads.settings import load_rhythm
from leads.state import LeadLedger
from scoring.retail_linkage.settings import load_settings as retail_settings
from scoring.settings import ScoringSettings

__all__ = ["falling_clients", "branch_notices", "money_went"]


def falling_clients(store: GraphStore, settings: ScoringSettings | None = None,
                    today: date | None = None) -> pd.DataFrame:
    """Retail clients whose assets fell to the query level or below, with level and flag."""
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


def money_went(store: GraphStore, payer_ids: list[str]) -> pd.DataFrame:
    """Banks receiving the outgoing payments of `payer_ids` (own bank left out), largest first."""
    pays = store.read("payments", ["payer_id", "payee_bank", "amount"])
    pays = pays[pays["payer_id"].isin(payer_ids)]
    bank = pays["payee_bank"].astype("string").str.strip()
    own = {w.strip() for w in get_settings().ingest.own_bank_names}
    pays = pays[bank.notna() & (bank != "") & ~bank.isin(own)]
    if pays.empty:
        return pd.DataFrame(columns=["payer_id", "bank", "amount", "share"])
    per = pays.groupby(["payer_id", "payee_bank"])["amount"].sum().reset_index()
    per["share"] = (per["amount"] / per.groupby("payer_id")["amount"].transform("sum")).round(4)
    per = per.rename(columns={"payee_bank": "bank"}).sort_values(["payer_id", "amount"], ascending=[True, False])
    return per.reset_index(drop=True)
