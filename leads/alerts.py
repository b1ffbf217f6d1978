"""What changed in an ingest, as alerts a manager can act on.

Compares the tables before and after an ingest: a new supplier of a client (a client pays,
or draws a bill to, a counterparty it did not pay before), a new executive at a client, a new
association member, a person's financial assets crossing the CNY 50,000 threshold, and
assets falling to the outflow levels (80% / 50% of the earlier level). Alerts are appended
to ``STORE/state/alerts.jsonl`` with links to the pictures; they carry ids and names of
enterprises only, never a person's personal data beyond their id.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.store import GraphStore
from graph.vocabulary import ASSET_THRESHOLD, OUTFLOW_QUERY_RATIO, OUTFLOW_WARNING_RATIO, threshold_words

__all__ = ["TRIGGER_TABLES", "detect_changes", "record_alerts", "read_alerts"]

TRIGGER_TABLES = ("enterprises", "persons", "payments", "bills", "roles", "memberships")
EXECUTIVE_ROLES = {"legal_rep", "director", "executive", "actual_controller", "finance", "shareholder"}


def _pairs(df: pd.DataFrame, a: str, b: str) -> pa.Table:
    """The (a, b) columns of a table as an Arrow table with columns `x`, `y` (no copy to Python)."""
    if df.empty or a not in df.columns or b not in df.columns:
        return pa.table({"x": pa.array([], pa.string()), "y": pa.array([], pa.string())})
    return pa.table({"x": pa.array(df[a].astype("string").array), "y": pa.array(df[b].astype("string").array)})


# An anti-join of pair sets in DuckDB: millions of payments never become Python objects; only
# the new pairs (the alerts) do, in a stable order.
_NEW_PAIRS_SQL = """
SELECT x, y FROM new_pairs WHERE x IS NOT NULL AND y IS NOT NULL
EXCEPT
SELECT x, y FROM old_pairs
ORDER BY x, y
"""


def _new_pairs(old: list[pa.Table], new: list[pa.Table]) -> list[tuple[str, str]]:
    """Distinct pairs of the `new` tables found in none of the `old` ones."""
    con = duckdb.connect()
    try:
        con.register("old_pairs", pa.concat_tables([t.cast(old[0].schema) for t in old]))
        con.register("new_pairs", pa.concat_tables([t.cast(new[0].schema) for t in new]))
        fresh = con.sql(_NEW_PAIRS_SQL).fetchall()
    finally:
        con.close()
    return [(str(x), str(y)) for x, y in fresh]


def _alert(kind: str, entity_id: str, related_id: str | None, en: str, zh: str, link: str) -> dict[str, Any]:
    return {"kind": kind, "entity_id": entity_id, "related_id": related_id, "text_en": en, "text_zh": zh,
            "link": link}


def detect_changes(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame],
                   threshold: float = ASSET_THRESHOLD, query: float = OUTFLOW_QUERY_RATIO,
                   warning: float = OUTFLOW_WARNING_RATIO) -> list[dict[str, Any]]:
    """Alerts for what is new in `after` compared with `before` (tables keyed by name)."""
    alerts: list[dict[str, Any]] = []
    ents = after["enterprises"]
    names = dict(zip(ents["id"].astype(str), ents["name"].astype(str), strict=True))
    clients = set(ents.loc[ents["is_client"].fillna(False).astype(bool), "id"].astype(str))

    old_supply = [_pairs(before["payments"], "payer_id", "payee_id"), _pairs(before["bills"], "drawer_id", "payee_id")]
    new_supply = [_pairs(after["payments"], "payer_id", "payee_id"), _pairs(after["bills"], "drawer_id", "payee_id")]
    for payer, payee in _new_pairs(old_supply, new_supply):
        if payer in clients and payee not in clients:
            p, q = names.get(payer, payer), names.get(payee, payee)
            alerts.append(_alert("new_supplier", payee, payer, f"{q} is a new supplier of client {p}",
                                 f"{q} 成为客户 {p} 的新供应商", f"/viz/supply-chain/{payer}"))

    old_roles = _pairs(before["roles"], "person_id", "enterprise_id")
    roles = after["roles"]
    roles = roles[roles["role"].isin(EXECUTIVE_ROLES)]
    for person, ent in _new_pairs([old_roles], [_pairs(roles, "person_id", "enterprise_id")]):
        if ent in clients:
            e = names.get(ent, ent)
            alerts.append(_alert("new_executive", person, ent, f"a new executive or owner at client {e}",
                                 f"客户 {e} 有新的高管或股东", f"/viz/person/{person}"))

    old_members = _pairs(before["memberships"], "association_id", "member_id")
    for assoc, member in _new_pairs([old_members], [_pairs(after["memberships"], "association_id", "member_id")]):
        m = names.get(member, member)
        alerts.append(_alert("new_member", member, assoc, f"{m} joined association {assoc}",
                             f"{m} 加入协会 {assoc}", f"/viz/ego/{member}"))

    alerts.extend(_asset_alerts(before["persons"], after["persons"], threshold, query, warning))
    return alerts


def _asset_alerts(before: pd.DataFrame, after: pd.DataFrame, threshold: float, query: float,
                  warning: float) -> list[dict[str, Any]]:
    """Threshold crossings and outflows, as masks over all persons; objects only for the hits."""
    if after.empty:
        return []
    ids = pa.array(after["id"].astype("string").array)
    aum = after["aum"].to_numpy(dtype="float64", na_value=np.nan)
    prev = after["aum_prev"].to_numpy(dtype="float64", na_value=np.nan)
    was = np.full(len(after), np.nan)
    if not before.empty:  # each person's stored assets (NaN for a new person)
        at = pc.index_in(ids, value_set=pa.array(before["id"].astype("string").array))
        found = pc.is_valid(at).to_numpy(zero_copy_only=False)
        old_aum = before["aum"].to_numpy(dtype="float64", na_value=np.nan)
        was[found] = old_aum[pc.drop_null(at).to_numpy().astype(np.int64)]
    with np.errstate(divide="ignore", invalid="ignore"):
        known, seen = ~np.isnan(aum), ~np.isnan(was)
        up = known & seen & (was < threshold) & (threshold <= aum)
        down = known & seen & ~up & (was >= threshold) & (threshold > aum)
        based = known & ~np.isnan(prev) & (prev > 0)
        ratio = aum / prev
        old_ratio = np.where(seen, was / prev, 1.0)
        warned = based & (ratio <= warning) & (warning < old_ratio)
        queried = based & ~warned & (ratio <= query) & (query < old_ratio) & (ratio > warning)
    alerts = []
    line_en, line_zh = threshold_words(threshold)
    for pos in np.flatnonzero(up | down | warned | queried).tolist():
        pid = str(ids[pos])
        if up[pos]:
            alerts.append(_alert("crossed_threshold_up", pid, None, f"financial assets passed {line_en}",
                                 f"金融资产突破{line_zh}", f"/viz/person/{pid}"))
        elif down[pos]:
            alerts.append(_alert("crossed_threshold_down", pid, None, f"financial assets fell below {line_en}",
                                 f"金融资产跌破{line_zh}", f"/viz/person/{pid}"))
        if warned[pos]:
            alerts.append(_alert("outflow_warning", pid, None, f"assets fell to {warning:.0%} or less of the earlier level",
                                 f"资产降至前期的{warning:.0%}及以下（预警）", f"/viz/person/{pid}"))
        elif queried[pos]:
            alerts.append(_alert("outflow_query", pid, None, f"assets fell to {query:.0%} or less of the earlier level",
                                 f"资产降至前期的{query:.0%}及以下（查询提示）", f"/viz/person/{pid}"))
    return alerts


def record_alerts(store: GraphStore, alerts: list[dict[str, Any]], version: str | None) -> list[dict[str, Any]]:
    """Append alerts to the store's alert log, stamped with the ingest's time and version."""
    if not alerts:
        return alerts
    at = datetime.now(UTC).isoformat(timespec="seconds")
    with open(store.state_dir / "alerts.jsonl", "a", encoding="utf-8") as fh:
        for alert in alerts:
            fh.write(json.dumps({**alert, "at": at, "version": version}, ensure_ascii=False) + "\n")
    return alerts


def read_alerts(store: GraphStore, limit: int = 200, kind: str | None = None) -> list[dict[str, Any]]:
    path = store.state_dir / "alerts.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if kind is not None:
        rows = [r for r in rows if r["kind"] == kind]
    return rows[-limit:][::-1]
