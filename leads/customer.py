"""The customer 360 view (客户全息视图): everything the bank knows about one client or prospect.

`customer_360` returns plain data, unmasked; the API masks and scopes it by role
(`api.routers.rhythm`), the CLI prints it for the local operator. One part of the scope is
applied here, because only here are all of the entity's links at hand: given `visible` (the
viewer's branch scope), each relation lists and sums only the links whose other end is in scope
and counts the rest (`hidden`), and the managers, money and tracked metrics shown are the in-scope
ones. Given
`rights` (the viewer's branch scope and family rights as DuckDB conditions), each prospect part's
best rows and its `total` are taken among the rows the viewer may see, never cut from all branches'
rows. The lead work carries the branch it belongs to (the owner's, each disposition's owner's, each
note's writer's) for the API to judge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from graph.settings import get_settings
from graph.store import GraphStore
from graph.vocabulary import HELD_PRODUCT_WORDS, jsonable
from leads.alerts import alert_text, read_alerts
from leads.board import ledger
from leads.notes import NoteBook, offers_for
from leads.outflow import money_went
from leads.settings import load_rhythm
from leads.track import scoped_series
from scoring.settings import ScoringSettings
from scoring.stored import ProspectRights, entity_prospects
from scoring.templates import LegacyGuard, PersonMask, render_reasons

__all__ = ["customer_360", "PRODUCT_WORDS"]

PRODUCT_WORDS = HELD_PRODUCT_WORDS  # products held at the bank, as shown (graph.vocabulary)
MAX_PER_KIND = 10
_EDGE_FIELDS = ["amount", "count", "first_on", "last_on", "months_active", "other_bank_amount", "role",
                "share_pct", "position"]


def _names(store: GraphStore, ids: Iterable[str]) -> pd.DataFrame:
    """Name, branch and kind of the entities shown (one node-index search), indexed by id."""
    found = store.nodes(ids)
    return pd.DataFrame({"name": [n.get("name") for n in found.values()],
                         "branch_id": [n.get("branch_id") for n in found.values()],
                         "kind": [n.get("kind") for n in found.values()]},
                        index=pd.Index(list(found), dtype=object), dtype=object)


def _edges_of(store: GraphStore, eid: str) -> pd.DataFrame:
    """The `edges` rows touching `eid`, in or out (the adjacency index: no whole-table read)."""
    adjacency = store.adjacency()
    return adjacency.edge_rows(adjacency.rows(np.array([adjacency.code(eid)], dtype=np.int64)))


def _products(node: dict[str, Any], edges: pd.DataFrame, lang: str) -> list[str]:
    held = []
    if node.get("is_client"):
        held.append("settlement")
    if node.get("is_credit_client"):
        held.append("credit")
    if ((edges["kind"] == "PAYROLL") & (edges["src"] == str(node["id"]))).any():  # it runs payroll here
        held.append("payroll")
    if node.get("is_retail_client"):
        held.append("retail")
    return [PRODUCT_WORDS[p][0 if lang == "en" else 1] for p in held]


def _mine(edges: pd.DataFrame, eid: str) -> pd.DataFrame:
    """The entity's edges with their direction and other end, by kind then amount (largest first)."""
    mine = edges.copy()
    mine["direction"] = (mine["src"] == eid).map({True: "out", False: "in"})
    mine["other_id"] = mine["dst"].where(mine["src"] == eid, mine["src"])
    return mine.sort_values(["kind", "amount"], ascending=[True, False])


def _in_scope(mine: pd.DataFrame, found: dict[str, dict[str, Any]], visible: Callable[[Any], bool]) -> np.ndarray:
    """Which of the entity's links have their other end (`found`: the other ends' nodes) in the
    viewer's scope (`visible` of its branch; an end the store does not hold has no branch: shared)."""
    others = mine["other_id"].astype(str)
    seen = {o: visible(jsonable((found.get(o) or {}).get("branch_id"))) for o in others.unique()}
    return others.map(seen).to_numpy(dtype=bool)


def _shown_others(mine: pd.DataFrame) -> list[str]:
    """The other ends listed under each kind and direction (the first MAX_PER_KIND of each)."""
    return mine.groupby(["kind", "direction"], sort=False).head(MAX_PER_KIND)["other_id"].astype(str).tolist()


def _relations(mine: pd.DataFrame, names: pd.DataFrame, hidden: pd.DataFrame,
               persons: dict[str, Any]) -> list[dict[str, Any]]:
    """Each kind and direction: its links in scope (`mine`: count, amount, window, the first items)
    and how many were left out (`hidden`: a count only, never their amounts, names or dates);
    `person_branches`: the branches of every person among its other ends (`persons`: person id ->
    branch), listed or not, so the API withholds a total that would tell a masked person's amount."""
    left_out: dict[tuple[str, str], int] = {}
    for k in zip(hidden["kind"].astype(str), hidden["direction"].astype(str), strict=True):
        left_out[k] = left_out.get(k, 0) + 1
    groups = {(str(k), str(d)): g for (k, d), g in mine.groupby(["kind", "direction"], sort=False)}
    out = []
    for kind, direction in sorted({*groups, *left_out}):
        group = groups.get((kind, direction), mine.iloc[0:0])
        shown = group.head(MAX_PER_KIND)
        other = names.reindex(shown["other_id"].astype(str))
        items = []
        for rec, name, branch, okind in zip(shown.to_dict("records"), other["name"], other["branch_id"],
                                            other["kind"], strict=True):
            items.append({"other_id": str(rec["other_id"]), "other_name": jsonable(name),
                          "other_kind": jsonable(okind), "other_branch": jsonable(branch),
                          **{f: jsonable(rec.get(f)) for f in _EDGE_FIELDS}})
        amount = pd.to_numeric(group["amount"], errors="coerce")
        people = [persons[o] for o in group["other_id"].astype(str).unique() if o in persons]
        out.append({"kind": str(kind), "direction": str(direction), "count": int(len(group)),
                    "amount": round(float(amount.sum()), 2), "first_on": jsonable(group["first_on"].min()),
                    "last_on": jsonable(group["last_on"].max()), "items": items,
                    "hidden": int(left_out.get((kind, direction), 0)),
                    "person_branches": list(dict.fromkeys(jsonable(b) for b in people))})
    return out


def _money(store: GraphStore, mine: pd.DataFrame, eid: str, scoped: bool) -> dict[str, Any]:
    """What it paid out (to the payees in scope, `mine` when `scoped`), the part paid to other
    banks, and by bank."""
    pays = mine[(mine["direction"] == "out") & (mine["kind"] == "PAYS")]
    total = float(pd.to_numeric(pays["amount"], errors="coerce").sum())
    other = float(pd.to_numeric(pays["other_bank_amount"], errors="coerce").sum())
    banks = money_went(store, [eid], pays["other_id"].astype(str).unique().tolist() if scoped else None)
    return {"paid_out": round(total, 2), "paid_to_other_banks": round(other, 2),
            "other_bank_share": round(other / total, 4) if total else None,
            "banks": [{"bank": str(b), "amount": round(float(a), 2), "share": float(s)}
                      for b, a, s in zip(banks["bank"], banks["amount"], banks["share"], strict=True)]}


def _manager_branches(store: GraphStore) -> dict[str, str]:
    """Manager id -> branch id, "" for a manager of no branch (staff: a small table); a manager
    the table does not hold is not in it (its branch is unknown: None where it is asked)."""
    found = store.read("managers", ["id", "branch_id"])
    return {str(i): jsonable(b) or "" for i, b in zip(found["id"], found["branch_id"], strict=True)}


def _prospect_rows(rows: pd.DataFrame, lang: str, names: pd.DataFrame,
                   person: PersonMask | None = None, legacy: LegacyGuard | None = None) -> list[dict[str, Any]]:
    """The rows shown (`entity_prospects` gives the best first), with each prospect's kind."""
    kinds = names["kind"].reindex(rows["prospect_id"].astype(str)).fillna("Enterprise").tolist()
    return [{"entity_id": str(r["prospect_id"]), "name": jsonable(r["name"]), "entity_kind": kind,
             "family": r["family"], "kind": r["kind"],
             "score": round(float(r["score"]), 2), "branch_id": jsonable(r["branch_id"]),
             "reasons": render_reasons(r["reasons"], lang, person, legacy)}
            for r, kind in zip(rows.to_dict("records"), kinds, strict=True)]


def customer_360(store: GraphStore, entity_id: str, settings: ScoringSettings | None = None,
                 person: PersonMask | None = None, legacy: LegacyGuard | None = None,
                 visible: Callable[[Any], bool] | None = None,
                 rights: ProspectRights | None = None) -> dict[str, Any]:
    """Who it is, products, managers, relations, money, prospects, leads, alerts, timeline, service.

    `person` masks persons' fields inside reasons and alerts as they are rendered (the API's
    `Viewer.person_name`) and `legacy` judges sentences stored written out (`Viewer.text`), as
    on /leads and /alerts; `visible` says whether a branch is in the viewer's scope
    (`Viewer.in_scope`; None: every branch) for the relations, managers, money and the tracked
    metrics (`timeline`: over the branches in scope; `timeline_hidden`, points withheld: of
    snapshots kept over every branch, `leads.track.scoped_series`); `rights` says
    which stored prospect rows it may see (`Viewer.prospect_rights`; None: every row), the rows and
    totals of `leads`, `leads_to` and `reached_through`; everything else is plain data the API
    masks afterwards."""
    settings = settings or get_settings().scoring
    lang = settings.lang
    conf = load_rhythm(settings)
    node = store.require_node(entity_id)
    edges = _edges_of(store, entity_id)
    managers = {m for m in [node.get("manager_id")] if isinstance(m, str) and m}
    managers |= set(edges.loc[(edges["dst"] == entity_id) & (edges["kind"] == "MANAGES"), "src"].astype(str))
    claims = ledger(store).claims()
    claim = claims.get(entity_id)
    shown = entity_prospects(store, entity_id, MAX_PER_KIND * 2, rights)
    (about, _), (leads_to, leads_total), (through, through_total) = (shown[p] for p in ("about", "leads_to", "through"))
    mine = _mine(edges, entity_id)
    hidden = mine.iloc[0:0]
    found = store.nodes(mine["other_id"].astype(str).unique().tolist()) if len(mine) else {}
    if visible is not None and len(mine):
        keep = _in_scope(mine, found, visible)
        mine, hidden = mine[keep], mine[~keep]
    persons = {o: n.get("branch_id") for o, n in found.items() if n.get("kind") == "Person"}
    # every entity named on the page, found in one search of the node index
    names = _names(store, [*managers, *_shown_others(mine),
                           *(str(i) for rows in (about, leads_to, through) for i in rows["prospect_id"])])
    alerts = read_alerts(store, limit=100_000, entity=entity_id)
    tracked, withheld = scoped_series(store, None, entity_id, visible)  # over the branches in scope
    tracked = tracked.sort_values(["metric", "version"], kind="stable")
    history = [{k: v for k, v in h.items() if k != "evidence"} for h in ledger(store).history(entity_id)]
    branch_of = _manager_branches(store)
    for row in history:  # the branch whose work it is: its owner's ("" none, None unknown)
        row["owner_branch"] = branch_of.get(str(row.get("owner")))
    notes = NoteBook(store.state_dir).notes(entity_id)
    for note in notes:
        note["offers"] = offers_for(conf, note["tags"], lang)
    shown_managers = [{"id": m, "name": jsonable(names["name"].get(m)), "branch_id": jsonable(names["branch_id"].get(m))}
                      for m in sorted(managers)]
    return {
        "entity": {k: jsonable(v) for k, v in node.items()},
        "products": _products(node, edges, lang),
        "managers": [m for m in shown_managers if visible is None or visible(m["branch_id"])],
        "owner": None if claim is None else claim.owner,
        "owner_branch": None if claim is None else branch_of.get(claim.owner),
        "relations": _relations(mine, names, hidden, persons),
        "money": _money(store, mine, entity_id, visible is not None),
        "leads_to": {"total": leads_total, "items": _prospect_rows(leads_to, lang, names, person, legacy)},
        "reached_through": {"total": through_total, "items": _prospect_rows(through, lang, names, person, legacy)},
        "leads": [{**row, "status": "new" if claim is None else claim.status}
                  for row in _prospect_rows(about, lang, names, person, legacy)],
        "alerts": [{"kind": a["kind"], "at": a["at"], "version": a.get("version"), "entity_id": a.get("entity_id"),
                    "related_id": a.get("related_id"), "text": alert_text(a, lang, person, legacy),
                    "link": a.get("link")} for a in alerts],
        "timeline": [{k: jsonable(v) for k, v in r.items()} for r in tracked.to_dict("records")],
        "timeline_hidden": withheld,
        "service": {"dispositions": history, "notes": notes},
    }
