"""The lead board: one row per entity across all families, routed to one owner.

Rules (DOMAIN.md, "Assignment rules"):
- hygiene: existing clients are left out unless the row is a deepening case (retail upgrade and
  retention rows of the retail family are deepening by nature); do-not-contact entities, by data
  or by disposition, never appear; an entity already held by an open lead keeps its owner;
- merge: an entity's rows of every family become one lead, its reasons merged best first, its
  best family and score kept;
- routing: a claim in the ledger wins; else the referrer's manager (referral), else the anchor's
  manager (supply chain, ecosystem), else the row's manager, else the manager of the right kind
  in the lead's branch with the fewest leads, then the least assets routed so far.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field

from graph.settings import get_settings
from graph.store import GraphStore
from leads.state import LeadLedger
from scoring.answer import best_links
from scoring.campaigns import CampaignSettings, split_campaigns
from scoring.settings import ScoringSettings, family_settings
from scoring.templates import LegacyGuard, PersonMask, render_reasons

__all__ = ["LeadSettings", "build_board", "ledger", "ROUTING_ORDER", "BOARD_COLUMNS", "request_joint_visit",
           "board_row"]

ROUTING_ORDER = ("referral", "supply_chain", "ecosystem", "retail_linkage")
#: the board's columns; `shared_with`: managers of the prospect's other anchors, who see the row
#: too; `joint_visits`: those of them who asked the owner for a joint visit
BOARD_COLUMNS = ["entity_id", "name", "entity_kind", "best_family", "best_kind", "score", "families",
                 "reasons", "owner", "owner_source", "status", "branch_id", "group_id", "members", "rank",
                 "row_kind", "campaign", "shared_with", "joint_visits"]


class LeadSettings(BaseModel):
    exclude_kinds: list[str] = Field(default_factory=lambda: ["association_target"],
                                     description="kinds that are campaigns, not entity leads")
    deepening_kinds: list[str] = Field(default_factory=lambda: ["payroll", "executive", "outflow"],
                                       description="kinds whose existing clients are still leads")
    apply_refit: bool = Field(default=False, description="rank with weights refit from dispositions")


def ledger(store: GraphStore) -> LeadLedger:
    return LeadLedger(store.state_dir)


def _entities(store: GraphStore) -> pd.DataFrame:
    ent = store.read("enterprises", ["id", "is_client", "do_not_contact", "branch_id", "parent_id",
                                     "registered_capital"])
    ent = ent.rename(columns={"is_client": "client", "registered_capital": "assets"})
    ent["entity_kind"] = "Enterprise"
    per = store.read("persons", ["id", "is_retail_client", "do_not_contact", "branch_id", "aum"])
    per = per.rename(columns={"is_retail_client": "client", "aum": "assets"})
    per["entity_kind"] = "Person"
    per["parent_id"] = pd.NA
    both = pd.concat([ent, per], ignore_index=True)
    both["client"] = both["client"].fillna(False).astype(bool)
    both["do_not_contact"] = both["do_not_contact"].fillna(False).astype(bool)
    both["assets"] = pd.to_numeric(both["assets"], errors="coerce").fillna(0.0)
    return both.drop_duplicates("id").set_index("id")


def _refit_multipliers(store: GraphStore, on: bool) -> dict[str, dict[str, float]]:
    if not on:
        return {}
    path = store.state_dir / "refit.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {fam: res.get("multipliers", {}) for fam, res in data.items()}


def _rescore(row: pd.Series, multipliers: dict[str, dict[str, float]]) -> float:
    mult = multipliers.get(row["family"])
    if not mult:
        return float(row["score"])
    evidence = json.loads(row["evidence"] or "[]")
    total = sum(float(e.get("contribution") or 0.0) * mult.get(e.get("name", ""), 1.0) for e in evidence)
    return float(min(100.0, max(0.0, total)))


def build_board(store: GraphStore, settings: ScoringSettings | None = None, *, manager: str | None = None,
                branch: str | None = None, family: str | None = None, status: str | None = None,
                collapse_groups: bool = False, limit: int | None = None, person: PersonMask | None = None,
                legacy: LegacyGuard | None = None) -> pd.DataFrame:
    """The lead board, best first. `status` is a ledger status or `new` (not yet claimed).

    Reasons are rendered for one viewer: persons' fields through `person`, legacy sentences
    through `legacy` (`scoring.templates.render_reasons`; the API passes its `Viewer`'s)."""
    settings = settings or get_settings().scoring
    conf = family_settings(settings, "leads", LeadSettings)
    lang = settings.lang
    rows = store.read("prospects")
    rows = rows[~rows["kind"].isin(conf.exclude_kinds)].copy()
    columns = BOARD_COLUMNS
    if rows.empty:
        return pd.DataFrame(columns=columns)
    multipliers = _refit_multipliers(store, conf.apply_refit)
    if multipliers:
        rows["score"] = rows.apply(_rescore, axis=1, multipliers=multipliers)
    ents = _entities(store)
    info = ents.reindex(rows["prospect_id"].astype(str))
    rows["client"] = info["client"].fillna(False).astype(bool).to_numpy()
    rows["dnc"] = info["do_not_contact"].fillna(False).astype(bool).to_numpy()
    rows["entity_kind"] = info["entity_kind"].fillna("Enterprise").to_numpy()
    rows["entity_branch"] = info["branch_id"].to_numpy()
    rows["parent_id"] = info["parent_id"].to_numpy()
    rows["assets"] = info["assets"].fillna(0.0).to_numpy()
    deepening = rows["is_deepening"].fillna(False).astype(bool) | rows["kind"].isin(conf.deepening_kinds)
    claims = ledger(store).claims()
    banned = {eid for eid, c in claims.items() if c.status == "do_not_contact"}
    rows = rows[(~rows["client"] | deepening) & ~rows["dnc"] & ~rows["prospect_id"].isin(banned)]
    # Each prospect by its best anchor link; long tails of staff and members become campaign rows.
    rows = best_links(rows).sort_values(["score", "family", "kind"], ascending=[False, True, True])
    assoc = store.read("associations", ["id", "name"])
    rows, campaigns = split_campaigns(rows, family_settings(settings, "campaigns", CampaignSettings), lang,
                                      dict(zip(assoc["id"].astype(str), assoc["name"].astype(str), strict=True)))

    # one pass over plain records (rows are best first): iterrows per lead cost seconds per request
    grouped: dict[str, list[dict[str, Any]]] = {}
    for rec in rows.to_dict("records"):
        grouped.setdefault(str(rec["prospect_id"]), []).append({str(k): v for k, v in rec.items()})
    leads: list[dict[str, Any]] = []
    for entity_id, group in grouped.items():
        best = group[0]
        reasons: list[str] = []
        by_family: dict[str, dict[str, Any]] = {}
        for row in group:
            by_family.setdefault(row["family"], row)  # the best row of each family
            for text in render_reasons(row["reasons"], lang, person, legacy):
                if text not in reasons:
                    reasons.append(text)
        owner, source = None, None
        for fam in ROUTING_ORDER:
            fam_row = by_family.get(fam)
            if fam_row is not None and isinstance(fam_row["manager_id"], str) and fam_row["manager_id"]:
                owner, source = fam_row["manager_id"], "referrer" if fam == "referral" else (
                    "anchor" if fam in ("supply_chain", "ecosystem") else "family")
                break
        leads.append({
            "entity_id": entity_id, "name": best["name"], "entity_kind": best["entity_kind"],
            "best_family": best["family"], "best_kind": best["kind"], "score": round(float(best["score"]), 2),
            "families": sorted(by_family), "reasons": reasons,
            "owner": owner, "owner_source": source,
            "branch_id": best["branch_id"] if isinstance(best["branch_id"], str) else best["entity_branch"],
            "assets": float(best["assets"]), "parent_id": best["parent_id"],
            "row_kind": "lead", "campaign": None, "shared_with": _shared_with(by_family.get("supply_chain")),
        })
    leads.extend(campaigns)
    board = pd.DataFrame(leads)
    _apply_claims(board, claims)
    asked: dict[str, list[str]] = {}
    for req in ledger(store).joint_visits():
        asked.setdefault(str(req["entity_id"]), []).append(str(req["manager"]))
    board["joint_visits"] = [asked.get(e, []) for e in board["entity_id"]]
    _balance(board, store)
    board["group_id"] = _group_roots(board, ents) if len(board) else []
    board["members"] = [[] for _ in range(len(board))]
    if collapse_groups and len(board):
        board = _collapse(board)
    if manager is not None:  # a shared row is on the board of every manager of its anchors
        board = board[(board["owner"] == manager) | board["shared_with"].apply(lambda m: manager in (m or []))]
    if branch is not None:
        board = board[board["branch_id"] == branch]
    if family is not None:
        # a list mask: `.apply` on an empty board returned a frame and lost the columns (a 500)
        board = board[pd.Series([family in fams for fams in board["families"]], index=board.index, dtype=bool)]
    if status is not None:
        board = board[board["status"] == status]
    board = board.sort_values(["score", "entity_id"], ascending=[False, True]).reset_index(drop=True)
    board["rank"] = range(1, len(board) + 1)
    if limit is not None:
        board = board.head(limit)
    return board[columns]


def _shared_with(row: dict[str, Any] | None) -> list[str]:
    """Managers of a prospect's other anchors (they may ask the owner for a joint visit)."""
    if row is None or not isinstance(row.get("details"), str):
        return []
    return list(json.loads(row["details"]).get("shared_with", []))


def board_row(store: GraphStore, entity_id: str, settings: ScoringSettings | None = None) -> dict[str, Any]:
    """One row of the board (a lead or a campaign row) as routed now; NotFound when not on it."""
    board = build_board(store, settings)
    row = board[board["entity_id"] == entity_id]
    if row.empty:
        from graph.errors import NotFound

        raise NotFound(f"{entity_id} is not on the lead board")
    return {str(k): v for k, v in row.iloc[0].to_dict().items()}


def request_joint_visit(store: GraphStore, row: dict[str, Any], manager: str, by: str,
                        note: str | None = None) -> dict[str, Any]:
    """`manager`, one the board `row` is shared with, asks its owner for a joint visit.

    Refused (InvalidRequest) unless `manager` is in the row's `shared_with` (the managers of a
    prospect's other anchors; an employer's corporate manager for its payroll-day campaign) and
    is not its owner; recorded in the lead ledger, where the owner sees it (`joint_visits`).
    """
    from graph.errors import InvalidRequest

    entity_id, owner = str(row["entity_id"]), row.get("owner")
    shared = list(row.get("shared_with") or [])
    if manager not in shared:
        raise InvalidRequest(f"{entity_id} is not shared with {manager} (shared with: {', '.join(shared) or 'no one'}):"
                             " only a manager it is shared with can ask its owner for a joint visit")
    if owner == manager:
        raise InvalidRequest(f"{manager} owns {entity_id}: a joint visit is asked of the owner by another manager")
    return ledger(store).request_joint_visit(entity_id, manager, by, owner=owner if isinstance(owner, str) else None,
                                             note=note)


def _apply_claims(board: pd.DataFrame, claims: dict[str, Any]) -> None:
    status, owners, sources = [], [], []
    for eid, owner, source in zip(board["entity_id"], board["owner"], board["owner_source"], strict=True):
        claim = claims.get(eid)
        if claim is not None:
            status.append(claim.status)
            owners.append(claim.owner)
            sources.append("claim")
        else:
            status.append("new")
            owners.append(owner)
            sources.append(source)
    board["status"], board["owner"], board["owner_source"] = status, owners, sources


def _balance(board: pd.DataFrame, store: GraphStore) -> None:
    """Give unowned leads to the branch's manager of the right kind with the fewest leads, then assets."""
    managers = store.read("managers")
    if board.empty or managers.empty:
        return
    load: dict[str, list[float]] = {m: [0, 0.0] for m in managers["id"].astype(str)}
    for owner, assets in zip(board["owner"], board["assets"], strict=True):
        if isinstance(owner, str) and owner in load:
            load[owner][0] += 1
            load[owner][1] += assets
    for i in board.index[board["owner"].isna()]:
        want = "retail" if board.at[i, "entity_kind"] == "Person" else "corporate"
        pool = managers[(managers["kind"] == want) & (managers["branch_id"] == board.at[i, "branch_id"])]
        if pool.empty:
            pool = managers[managers["kind"] == want]
        if pool.empty:
            continue
        chosen = min(pool["id"].astype(str), key=lambda m: (load[m][0], load[m][1], m))
        board.at[i, "owner"] = chosen
        board.at[i, "owner_source"] = "balanced"
        load[chosen][0] += 1
        load[chosen][1] += float(board.at[i, "assets"] or 0.0)  # type: ignore[arg-type]


def _group_roots(board: pd.DataFrame, ents: pd.DataFrame) -> list[str]:
    parent = ents["parent_id"].dropna().astype(str).to_dict()
    roots = []
    for eid in board["entity_id"]:
        node, seen = eid, set()
        while node in parent and node not in seen:
            seen.add(node)
            node = parent[node]
        roots.append(node)
    return roots


def _collapse(board: pd.DataFrame) -> pd.DataFrame:
    board = board.sort_values(["score", "entity_id"], ascending=[False, True])
    heads = []
    for _, group in board.groupby("group_id", sort=False):
        head = group.iloc[0].copy()
        head["members"] = group["entity_id"].tolist()[1:]
        heads.append(head)
    return pd.DataFrame(heads)


def _best_row(store: GraphStore, entity_id: str) -> pd.Series | None:
    rows = store.read("prospects")
    rows = rows[rows["prospect_id"] == entity_id].sort_values("score", ascending=False)
    return None if rows.empty else rows.iloc[0]


def claim_lead(store: GraphStore, entity_id: str, owner: str, by: str) -> dict[str, Any]:
    """Claim an entity for `owner`; refused with who owns it when another manager holds it."""
    best = _best_row(store, entity_id)
    if best is None and store.node(entity_id) is None:
        from graph.errors import NotFound

        raise NotFound(f"no entity with id {entity_id!r}")
    claim = ledger(store).claim(entity_id, owner, by, family=None if best is None else str(best["family"]),
                                score=None if best is None else float(best["score"]))
    return claim.__dict__


def record_disposition(store: GraphStore, entity_id: str, status: str, by: str, owner: str | None = None,
                       note: str | None = None) -> dict[str, Any]:
    """Record what happened with a lead, with the family, score and evidence it had then."""
    best = _best_row(store, entity_id)
    if best is None and store.node(entity_id) is None:
        from graph.errors import NotFound

        raise NotFound(f"no entity with id {entity_id!r}")
    book = ledger(store)
    if owner is None and entity_id not in book.claims():
        routed = build_board(store)
        routed = routed[routed["entity_id"] == entity_id]
        owner = None if routed.empty else routed.iloc[0]["owner"]
    return book.record(
        entity_id, status, by, owner=owner,
        family=None if best is None else str(best["family"]),
        score=None if best is None else float(best["score"]),
        evidence=None if best is None else str(best["evidence"]), note=note)
