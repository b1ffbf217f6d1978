"""What changed in an ingest, as alerts a manager can act on.

Compares the tables before and after an ingest: a new supplier of a client (a client pays,
or draws a bill to, a counterparty it did not pay before), a new executive at a client, a new
association member, a person's financial assets crossing the CNY 50,000 threshold, and
assets falling to the outflow levels (80% / 50% of the earlier level). Alerts are appended
to ``STORE/state/alerts.jsonl`` with links to the pictures.

An alert is stored as a reason template id and its parameters (`scoring.templates`), never as
a finished sentence: a person's name is a ``{KEY:person}`` field with the person's id in
``KEY_id``, so each reader renders the sentence for its viewer (`alert_text`; the API passes
`Viewer.person_name`, and a masked person reads ``覃*`` inside a whole sentence). Alerts logged
before templates carry ``text_en``/``text_zh`` only: they are read as the legacy sentence, which
the caller's `LegacyGuard` judges (the API withholds one that names a masked person). Nothing
else of a person (assets, ids beyond their own) is stored in an alert.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.duck import own_database
from graph.store import GraphStore
from graph.vocabulary import ASSET_THRESHOLD, OUTFLOW_QUERY_RATIO, OUTFLOW_WARNING_RATIO, threshold_words
from scoring.templates import LegacyGuard, PersonMask, register, render

__all__ = ["TRIGGER_TABLES", "ALERT_TEMPLATES", "detect_changes", "record_alerts", "read_alerts", "alert_text"]

TRIGGER_TABLES = ("enterprises", "persons", "payments", "bills", "roles", "memberships", "associations")
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
    con = own_database()
    try:
        con.register("old_pairs", pa.concat_tables([t.cast(old[0].schema) for t in old]))
        con.register("new_pairs", pa.concat_tables([t.cast(new[0].schema) for t in new]))
        fresh = con.sql(_NEW_PAIRS_SQL).fetchall()
    finally:
        con.close()
    return [(str(x), str(y)) for x, y in fresh]


#: alert kind -> (English, Chinese); the template id is ``alert.<kind>``. Persons are
#: ``{KEY:person}`` fields (their id in ``KEY_id``); a member may be a person or a firm.
ALERT_TEMPLATES: dict[str, tuple[str, str]] = {
    "new_supplier": ("{supplier} is a new supplier of client {client}", "{supplier} 成为客户 {client} 的新供应商"),
    "new_executive": ("{person:person} is a new executive or owner at client {client}",
                      "{person:person} 成为客户 {client} 的新高管或股东"),
    "new_member": ("{member:person} joined association {association}", "{member:person} 加入协会 {association}"),
    "crossed_threshold_up": ("{person:person}: financial assets passed {line_en}", "{person:person} 金融资产突破{line_zh}"),
    "crossed_threshold_down": ("{person:person}: financial assets fell below {line_en}",
                               "{person:person} 金融资产跌破{line_zh}"),
    "outflow_warning": ("{person:person}: assets fell to {ratio:.0%} or less of the earlier level",
                        "{person:person} 资产降至前期的{ratio:.0%}及以下（预警）"),
    "outflow_query": ("{person:person}: assets fell to {ratio:.0%} or less of the earlier level",
                      "{person:person} 资产降至前期的{ratio:.0%}及以下（查询提示）"),
}
register({f"alert.{kind}": words for kind, words in ALERT_TEMPLATES.items()})


def _alert(kind: str, entity_id: str, related_id: str | None, params: dict[str, Any], link: str) -> dict[str, Any]:
    return {"kind": kind, "entity_id": entity_id, "related_id": related_id, "template": f"alert.{kind}",
            "params": {k: v for k, v in params.items() if v is not None}, "link": link}


def alert_text(alert: dict[str, Any], lang: str = "zh", person: PersonMask | None = None,
               legacy: LegacyGuard | None = None) -> str:
    """An alert's sentence in `lang` for one viewer: persons' fields passed through `person`
    before the sentence is built; an alert logged before templates (``text_en``/``text_zh``
    only) is its stored sentence, judged by `legacy` (None: shown as stored)."""
    template = alert.get("template")
    if template:
        return render(str(template), alert.get("params") or {}, lang, person)
    text = str(alert.get(f"text_{'en' if lang == 'en' else 'zh'}") or "")
    return legacy(text, lang) if legacy is not None else text


def _names(table: pd.DataFrame | None) -> dict[str, str]:
    """id -> name of a node table's named rows (persons, associations; {} when absent)."""
    if table is None or table.empty or "name" not in table.columns:
        return {}
    named = table[table["name"].notna()]
    return dict(zip(named["id"].astype(str), named["name"].astype(str), strict=True))


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
            alerts.append(_alert("new_supplier", payee, payer, {"supplier": q, "client": p},
                                 f"/viz/supply-chain/{payer}"))

    old_roles = _pairs(before["roles"], "person_id", "enterprise_id")
    roles = after["roles"]
    roles = roles[roles["role"].isin(EXECUTIVE_ROLES)]
    fresh_roles = [(p, e) for p, e in _new_pairs([old_roles], [_pairs(roles, "person_id", "enterprise_id")])
                   if e in clients]
    old_members = _pairs(before["memberships"], "association_id", "member_id")
    fresh_members = _new_pairs([old_members], [_pairs(after["memberships"], "association_id", "member_id")])
    people = _names(after["persons"]) if fresh_roles or fresh_members else {}
    associations = _names(after.get("associations")) if fresh_members else {}
    for person, ent in fresh_roles:
        alerts.append(_alert("new_executive", person, ent, {"person": people.get(person, person), "person_id": person,
                                                            "client": names.get(ent, ent)}, f"/viz/person/{person}"))
    for assoc, member in fresh_members:
        m = names.get(member) or people.get(member, member)
        alerts.append(_alert("new_member", member, assoc, {"member": m, "member_id": member, "association": associations.get(assoc, assoc),
                                                             "association_id": assoc},
                             f"/viz/ego/{member}"))

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
    hits = np.flatnonzero(up | down | warned | queried)
    names = after["name"].iloc[hits] if "name" in after.columns else pd.Series([pd.NA] * len(hits))
    for pos, name in zip(hits.tolist(), names.tolist(), strict=True):  # the hits only
        pid = str(ids[pos])
        who = {"person": pid if name is None or pd.isna(name) else str(name), "person_id": pid}
        link = f"/viz/person/{pid}"
        if up[pos]:
            alerts.append(_alert("crossed_threshold_up", pid, None, {**who, "line_en": line_en, "line_zh": line_zh}, link))
        elif down[pos]:
            alerts.append(_alert("crossed_threshold_down", pid, None, {**who, "line_en": line_en, "line_zh": line_zh},
                                 link))
        if warned[pos]:
            alerts.append(_alert("outflow_warning", pid, None, {**who, "ratio": warning}, link))
        elif queried[pos]:
            alerts.append(_alert("outflow_query", pid, None, {**who, "ratio": query}, link))
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


class _AlertLog:
    """The parsed alert log of one store, kept per process and extended by what was appended
    since the last read (the log is append-only): a request parses only new lines, and finds
    one kind's or one entity's alerts by index instead of scanning every alert."""

    def __init__(self) -> None:
        self.key: tuple[int, int] | None = None  # (device, inode) of the file parsed
        self.offset = 0
        self.rows: list[dict[str, Any]] = []
        self.by_kind: dict[str, list[int]] = {}
        self.by_entity: dict[str, list[int]] = {}

    def refresh(self, path: Path) -> None:
        stat = path.stat()
        key = (stat.st_dev, stat.st_ino)
        if key != self.key or stat.st_size < self.offset:  # a new or rewritten file: read it all
            self.__init__()  # type: ignore[misc]
            self.key = key
        if stat.st_size == self.offset:
            return
        with open(path, "rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read(stat.st_size - self.offset)
        end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next read
        self.offset += end
        for line in chunk[:end].decode("utf-8").splitlines():  # the appended lines only
            if line.strip():
                self._add(json.loads(line))

    def _add(self, row: dict[str, Any]) -> None:
        at = len(self.rows)
        self.rows.append(row)
        self.by_kind.setdefault(str(row.get("kind")), []).append(at)
        for key in {row.get("entity_id"), row.get("related_id")} - {None}:
            self.by_entity.setdefault(str(key), []).append(at)


_LOGS: dict[Path, _AlertLog] = {}
_LOGS_LOCK = threading.Lock()


def read_alerts(store: GraphStore, limit: int = 200, kind: str | None = None,
                entity: str | None = None) -> list[dict[str, Any]]:
    """The latest `limit` alerts as stored (newest first), of one `kind` and/or about one `entity`
    (its `entity_id` or `related_id`): template rows or legacy text rows; render one with
    `alert_text`, never show `params` (they hold persons' names unmasked). The rows are the
    log's own (kept between reads): read them, never change them."""
    path = store.state_dir / "alerts.jsonl"
    if not path.exists():
        return []
    with _LOGS_LOCK:
        log = _LOGS.setdefault(path.resolve(), _AlertLog())
        log.refresh(path)
        picks: list[int] | range = range(len(log.rows))
        if kind is not None:
            picks = log.by_kind.get(kind, [])
        if entity is not None:
            about = log.by_entity.get(str(entity), [])
            picks = about if kind is None else sorted(set(picks) & set(about))
        return [log.rows[i] for i in picks[-limit:][::-1]]
