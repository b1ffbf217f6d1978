"""The lead board: one row per entity across all families, routed to one owner.

Rules (DOMAIN.md, "Assignment rules"):
- hygiene: existing clients are left out unless the row is a deepening case (retail upgrade and
  retention rows of the retail family are deepening by nature); do-not-contact entities, by data
  or by disposition, never appear; an entity already held by an open lead keeps its owner;
- merge: an entity's rows of every family become one lead, its reasons merged best first, its
  best family and score kept;
- routing: a claim in the ledger wins; else the referrer's manager (referral), else the anchor's
  manager (supply chain, ecosystem), else the row's manager, else the manager of the right kind
  in the lead's branch with the fewest leads, then the least assets routed so far. An owner is
  a manager of the lead's branch: a rule naming another branch's (a referrer who is another
  branch's client) is skipped; a viewer is shown only the shared-with managers of its branches;
- scope: reasons come from a lead's rows of the viewer's branches; another branch's referral
  chain reads "a client of another branch can introduce it", naming no one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, Field

from graph.adjacency import take_rows
from graph.settings import get_settings
from graph.store import GraphStore
from leads.state import LeadLedger
from scoring.answer import best_links
from scoring.campaigns import CampaignSettings, split_campaigns
from scoring.features import duckdb_cursor
from scoring.settings import ScoringSettings, family_settings
from scoring.stored import entity_prospects, prospects_arrow, register_prospects
from scoring.templates import LegacyGuard, PersonMask, row_reasons, scoped_managers

__all__ = ["LeadSettings", "build_board", "board_page", "board_reasons", "board_managers", "ledger", "ROUTING_ORDER", "BOARD_COLUMNS", "request_joint_visit",
           "board_row", "prepare_board"]

ROUTING_ORDER = ("referral", "supply_chain", "ecosystem", "retail_linkage")
#: the board's columns; `shared_with`: managers of the prospect's other anchors, who see the row
#: too; `joint_visits`: those of them who asked the owner for a joint visit
BOARD_COLUMNS = ["entity_id", "name", "entity_kind", "best_family", "best_kind", "score", "families",
                 "reasons", "owner", "owner_source", "status", "branch_id", "group_id", "members", "rank",
                 "row_kind", "campaign", "shared_with", "joint_visits"]
_PAGE_LISTS = ("joint_visits", "members")  # made for the rows a page returns


class LeadSettings(BaseModel):
    exclude_kinds: list[str] = Field(default_factory=lambda: ["association_target"],
                                     description="kinds that are campaigns, not entity leads")
    deepening_kinds: list[str] = Field(default_factory=lambda: ["payroll", "executive", "outflow"],
                                       description="kinds whose existing clients are still leads")
    apply_refit: bool = Field(default=False, description="rank with weights refit from dispositions")


def ledger(store: GraphStore) -> LeadLedger:
    return LeadLedger(store.state_dir)


def _entities(store: GraphStore, wanted: pd.Series) -> pd.DataFrame:
    """Every enterprise (their parent links make the groups) and the persons among `wanted`."""
    ent = store.read("enterprises", ["id", "is_client", "do_not_contact", "branch_id", "parent_id",
                                     "registered_capital"])
    ent = ent.rename(columns={"is_client": "client", "registered_capital": "assets"})
    ent["entity_kind"] = "Enterprise"
    per = store.read("persons", ["id", "is_retail_client", "do_not_contact", "branch_id", "aum"])
    per = per[per["id"].isin(wanted.to_numpy()).to_numpy()]  # the persons of no lead: not looked up
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


# The board's candidate rows: every stored row but the campaign kinds, its narrow columns and the
# few details the board uses, pulled out of the JSON by DuckDB (no stored row becomes a dict). Only
# payroll rows are split into campaigns by their band, tier and assets, and only supply-chain rows
# are shared: the JSON of those rows alone is parsed, once each (a list of paths is one parse).
_ROWS_SQL = """
WITH rows AS (
    SELECT row_pos, family, kind, prospect_id, name, score, manager_id, branch_id, anchor_id, association_id,
           employer_id, coalesce(is_deepening, false) AS is_deepening,
           CASE WHEN kind = 'payroll' THEN json_extract_string(details, ['$.band', '$.tier', '$.financial_assets',
                '$.employer_name', '$.employer_manager_id']) END AS payroll,
           CASE WHEN family = 'supply_chain' THEN json_extract_string(details, '$.shared_with[*]') END AS shared_with
    FROM prospects
    WHERE NOT list_contains($exclude, kind)
)
SELECT row_pos, family, kind, prospect_id, name, score, manager_id, branch_id, anchor_id, association_id,
       employer_id, is_deepening,
       coalesce(payroll[1], '') AS band,
       lower(coalesce(payroll[2], '')) AS tier,
       coalesce(TRY_CAST(payroll[3] AS DOUBLE), 0.0) AS financial_assets,
       coalesce(payroll[4], '') AS employer_name,
       coalesce(payroll[5], '') AS employer_manager_id,
       shared_with
FROM rows
"""

# Scores with the weights refit from dispositions: each row's evidence contributions times its
# family's multipliers (1 for a feature without one), clamped to 0-100.
_REFIT_SQL = """
WITH ev AS (
    SELECT row_pos, family,
           unnest(evidence) AS e
    FROM prospects
    WHERE list_contains($families, family)
)
SELECT row_pos, least(100.0, greatest(0.0, sum(coalesce(e.contribution, 0.0) * coalesce(m.mult, 1.0)))) AS score
FROM ev LEFT JOIN mults m ON m.family = ev.family AND m.name = e.name
GROUP BY row_pos
"""


class _Routed(NamedTuple):
    """The board of one store version before any request's claims and filters: one row per lead
    (reasons not rendered) and per campaign, and the stored rows of each lead, best first."""

    board: pd.DataFrame
    order: pd.DataFrame  # prospect_id, row_pos: the rows each lead's reasons are rendered from
    shared: pd.DataFrame  # entity_id, manager: whom each row is shared with (the manager filter)
    manager_branch: dict[str, Any]  # each manager's branch: whom a viewer's page may name (`board_managers`)


def _candidates(store: GraphStore, conf: LeadSettings, multipliers: dict[str, dict[str, float]]) -> pd.DataFrame:
    con = duckdb_cursor()
    try:
        register_prospects(con, store, True, extra=("name", "is_deepening", *(("evidence",) if multipliers else ())))
        rows = con.sql(_ROWS_SQL, params={"exclude": list(conf.exclude_kinds)}).to_arrow_table().to_pandas()
        if multipliers and len(rows):
            con.register("mults", pa.table({
                "family": [f for f, m in multipliers.items() for _ in m],
                "name": [n for m in multipliers.values() for n in m],
                "mult": pa.array([float(v) for m in multipliers.values() for v in m.values()], pa.float64())}))
            fams = [f for f, m in multipliers.items() if m]
            rescored = con.sql(_REFIT_SQL, params={"families": fams}).to_arrow_table().to_pandas()
            new = rows["row_pos"].map(rescored.set_index("row_pos")["score"]).fillna(0.0)
            rows["score"] = rows["score"].where(~rows["family"].isin(fams), new)
    finally:
        con.close()
    return rows.set_index(rows["row_pos"].to_numpy())  # index: the stored order (`best_links` keeps it)


def _routed(store: GraphStore, settings: ScoringSettings, conf: LeadSettings,
            multipliers: dict[str, dict[str, float]], banned: tuple[str, ...]) -> _Routed:
    """The board's leads and campaigns, routed by family (claims come later, per request)."""
    rows = _candidates(store, conf, multipliers)
    where = dict(zip(*store.read("managers", ["id", "branch_id"]).astype({"id": str}).to_dict("list").values(), strict=True))
    if rows.empty:
        return _Routed(pd.DataFrame(columns=[*BOARD_COLUMNS, "assets", "parent_id"]),
                       pd.DataFrame({"prospect_id": pd.Series(dtype=object), "row_pos": pd.Series(dtype=np.int64)}),
                       pd.DataFrame({"entity_id": pd.Series(dtype=object), "manager": pd.Series(dtype=object)}), where)
    ents = _entities(store, rows["prospect_id"])
    info = ents.reindex(rows["prospect_id"].astype(str))
    client = info["client"].fillna(False).astype(bool).to_numpy()
    dnc = info["do_not_contact"].fillna(False).astype(bool).to_numpy()
    rows["entity_kind"] = info["entity_kind"].fillna("Enterprise").to_numpy()
    rows["entity_branch"] = info["branch_id"].to_numpy()
    rows["parent_id"] = info["parent_id"].to_numpy()
    rows["assets"] = info["assets"].fillna(0.0).to_numpy()
    deepening = rows["is_deepening"].astype(bool).to_numpy() | rows["kind"].isin(conf.deepening_kinds).to_numpy()
    rows = rows[(~client | deepening) & ~dnc & ~rows["prospect_id"].isin(banned).to_numpy()]
    # Each prospect by its best anchor link; long tails of staff and members become campaign rows.
    rows = best_links(rows).sort_values(["score", "family", "kind"], ascending=[False, True, True])
    assoc = store.read("associations", ["id", "name"])
    rows, campaigns = split_campaigns(rows, family_settings(settings, "campaigns", CampaignSettings), settings.lang,
                                      dict(zip(assoc["id"].astype(str), assoc["name"].astype(str), strict=True)))
    leads = _leads(rows, where)
    board = pd.concat([leads, pd.DataFrame(campaigns, columns=leads.columns)], ignore_index=True) if campaigns else leads
    board["group_id"] = _group_roots(board, ents)
    board["_seq"] = np.arange(len(board))  # the order unowned leads are balanced in
    # ranked once per version: claims and balancing change owners, never scores or ids (unique)
    board = board.sort_values(["score", "entity_id"], ascending=[False, True]).reset_index(drop=True)
    board["_families"] = board["_families"].fillna(0).astype(np.int64)  # a campaign is in no family's bits
    shared = board[["entity_id", "shared_with"]].explode("shared_with").dropna()
    return _Routed(board, rows[["prospect_id", "row_pos"]].reset_index(drop=True),
                   shared.rename(columns={"shared_with": "manager"}).reset_index(drop=True), where)


def _leads(rows: pd.DataFrame, manager_branch: dict[str, Any]) -> pd.DataFrame:
    """One lead per entity from its rows (best first): the best row's name, family, kind, score and
    branch; the families it is in; its owner by `ROUTING_ORDER` (the best row of the first family
    naming a manager of the lead's branch, `manager_branch`); whom it is shared with (supply chain's)."""
    best = rows.drop_duplicates("prospect_id")
    # the row's branch, else the entity's; an entity the store does not hold has none known (NaN,
    # which no branch-limited viewer sees: `Viewer.sees_rows`)
    branch = best["branch_id"].where(best["branch_id"].notna(), best["entity_branch"]).astype(object)
    lead_branch = pd.Series(branch.to_numpy(dtype=object), index=best["prospect_id"].to_numpy(dtype=object))
    per_family = rows.drop_duplicates(["prospect_id", "family"])  # the best row of each family
    ids = best["prospect_id"].to_numpy(dtype=object)
    bits = per_family["family"].map({f: 1 << i for i, f in enumerate(_FAMILY_ORDER)}).fillna(0).astype(np.int64)
    mask = bits.groupby(per_family["prospect_id"].to_numpy(), sort=False).sum()
    bitmask = mask.reindex(ids).to_numpy(dtype=np.int64)
    families = [_FAMILY_LISTS[m] for m in bitmask.tolist()]
    named = per_family["manager_id"].notna() & (per_family["manager_id"].astype(str) != "")
    # a manager known to be of another branch than the lead's is no owner of it (the next rule applies)
    theirs = per_family["manager_id"].astype(str).map(manager_branch)
    ours = lead_branch.reindex(per_family["prospect_id"].to_numpy(dtype=object)).to_numpy(dtype=object)
    named &= ~(theirs.notna().to_numpy() & pd.notna(ours) & (theirs.to_numpy(dtype=object) != ours))
    priority = per_family["family"].map({f: i for i, f in enumerate(ROUTING_ORDER)})
    routed = (per_family[named & priority.notna()].assign(_p=priority).sort_values("_p", kind="stable")
              .drop_duplicates("prospect_id").set_index("prospect_id"))
    owner = routed["manager_id"].reindex(ids)
    source = routed["family"].map(_OWNER_SOURCE).reindex(ids)
    chain = per_family[per_family["family"] == "supply_chain"].set_index("prospect_id")["shared_with"]
    shared = chain.reindex(ids).to_numpy(dtype=object)
    n = len(best)
    return pd.DataFrame({
        "entity_id": ids, "name": best["name"].to_numpy(dtype=object),
        "entity_kind": best["entity_kind"].to_numpy(dtype=object),
        "best_family": best["family"].to_numpy(dtype=object), "best_kind": best["kind"].to_numpy(dtype=object),
        # Python's round (numpy's rounds some halves the other way): once per version, kept
        "score": [round(v, 2) for v in best["score"].astype(float).tolist()], "families": families,
        "reasons": [None] * n, "owner": owner.astype(object).where(owner.notna(), None).to_numpy(),
        "owner_source": source.astype(object).where(source.notna(), None).to_numpy(),
        "branch_id": branch.to_numpy(dtype=object), "assets": best["assets"].astype(float).to_numpy(),
        "parent_id": best["parent_id"].to_numpy(dtype=object), "row_kind": "lead", "campaign": None,
        "shared_with": [[str(m) for m in s] if s is not None and not isinstance(s, float) else [] for s in shared],
        "_families": bitmask,  # `families` as bits of _FAMILY_ORDER: the family filter of a request
    })


_FAMILY_ORDER = sorted(ROUTING_ORDER)  # a lead's `families` are listed in this (alphabetical) order
_FAMILY_LISTS = [[f for i, f in enumerate(_FAMILY_ORDER) if m >> i & 1] for m in range(1 << len(_FAMILY_ORDER))]
_OWNER_SOURCE = {"referral": "referrer", "supply_chain": "anchor", "ecosystem": "anchor", "retail_linkage": "family"}


def build_board(store: GraphStore, settings: ScoringSettings | None = None, *, manager: str | None = None,
                branch: str | None = None, family: str | None = None, status: str | None = None,
                collapse_groups: bool = False, limit: int | None = None, person: PersonMask | None = None,
                legacy: LegacyGuard | None = None) -> pd.DataFrame:
    """The lead board, best first. `status` is a ledger status or `new` (not yet claimed).

    Reasons are rendered for one viewer: persons' fields through `person`, legacy sentences
    through `legacy` (`scoring.templates.render_reasons`; the API passes its `Viewer`'s)."""
    board, _ = board_page(store, settings, manager=manager, branch=branch, family=family, status=status,
                          collapse_groups=collapse_groups, limit=limit, person=person, legacy=legacy)
    return board


def board_page(store: GraphStore, settings: ScoringSettings | None = None, *, manager: str | None = None,
               branch: str | None = None, family: str | None = None, status: str | None = None,
               collapse_groups: bool = False, visible: Callable[[pd.DataFrame], Any] | None = None,
               offset: int = 0, limit: int | None = None, person: PersonMask | None = None,
               legacy: LegacyGuard | None = None, render: bool = True) -> tuple[pd.DataFrame, int]:
    """One page of the lead board (ranked as `build_board` ranks it) and the rows before paging.

    `visible` (a mask over the ranked board, e.g. a viewer's scope) leaves rows out after
    ranking. The version's leads and campaigns are built once (`GraphStore.remembered`, keyed by
    the settings and the do-not-contact claims); each request applies the ledger's claims, the
    balancing and its filters to columns, and renders reasons and lists only for the rows it
    returns (none with `render=False`: `board_reasons`, `board_managers` for the rows a caller keeps)."""
    settings = settings or get_settings().scoring
    book = ledger(store)
    claims = book.claims()
    routed = _version_board(store, settings, claims)
    board = routed.board.copy()
    if board.empty:
        return pd.DataFrame(columns=BOARD_COLUMNS), 0
    _apply_claims(board, claims)
    _balance(board, store)
    if manager is not None:  # a shared row is on the board of every manager of its anchors
        shared = routed.shared.loc[routed.shared["manager"] == manager, "entity_id"]
        board = board[(board["owner"] == manager).to_numpy() | board["entity_id"].isin(shared).to_numpy()]
    if branch is not None:
        board = board[board["branch_id"] == branch]
    if family is not None:
        bit = 1 << _FAMILY_ORDER.index(family) if family in _FAMILY_ORDER else 0  # no such family: no row
        board = board[(board["_families"].to_numpy() & bit) != 0]
    if status is not None:
        board = board[board["status"] == status]
    board = board.reset_index(drop=True)  # ranked already (`_routed`)
    board["rank"] = range(1, len(board) + 1)
    if visible is not None and len(board):
        board = board[np.asarray(visible(board), dtype=bool)].reset_index(drop=True)
    if collapse_groups:  # after the scope cut: a group is headed and listed by what the viewer may see
        board = _collapse(board)
    total = len(board)
    board = (board.iloc[offset:] if limit is None else board.iloc[offset:offset + limit]).reset_index(drop=True)
    if not render:  # the caller keeps a few rows of its own choosing and renders those
        return board[[c for c in BOARD_COLUMNS if c not in _PAGE_LISTS]], total
    # the page's lists: reasons, the managers named, the joint visits asked, a collapsed group's members
    board["reasons"] = _reasons(store, board, routed.order, settings.lang, person, legacy)
    asked: dict[str, list[str]] = {}
    for req in book.joint_visits():
        asked.setdefault(str(req["entity_id"]), []).append(str(req["manager"]))
    board["shared_with"] = [scoped_managers(list(m), routed.manager_branch, person) for m in board["shared_with"]]
    board["joint_visits"] = [scoped_managers(asked.get(e, []), routed.manager_branch, person)
                             for e in board["entity_id"]]
    if not collapse_groups:
        board["members"] = [[] for _ in range(len(board))]
    return board[BOARD_COLUMNS], total


def prepare_board(store: GraphStore, settings: ScoringSettings | None = None) -> int:
    """Build the version's board for the current settings and do-not-contact claims, as the
    first lead board or contact plan request would (a served process warms it); returns its rows."""
    return len(_version_board(store, settings or get_settings().scoring, ledger(store).claims()).board)


def _version_board(store: GraphStore, settings: ScoringSettings, claims: dict[str, Any]) -> _Routed:
    """The version's routed board for these settings and do-not-contact claims, built once."""
    conf = family_settings(settings, "leads", LeadSettings)
    banned = tuple(sorted(eid for eid, c in claims.items() if c.status == "do_not_contact"))
    multipliers = _refit_multipliers(store, conf.apply_refit)
    key = ("lead-board", settings.lang, conf.model_dump_json(),
           family_settings(settings, "campaigns", CampaignSettings).model_dump_json(),
           json.dumps(multipliers, sort_keys=True), banned)
    # kept apart from the weighed answers: a burst of pictures and paths must not push it out
    return store.remembered(key, lambda: _routed(store, settings, conf, multipliers, banned), lambda r: r, keep=True)


def board_managers(store: GraphStore, lists: Iterable[Any], person: PersonMask | None,
                   settings: ScoringSettings | None = None) -> list[list[str]]:
    """The managers each row taken with `render=False` names, as the viewer may see them (`scoped_managers`)."""
    routed = _version_board(store, settings or get_settings().scoring, ledger(store).claims())
    return [scoped_managers(list(ids), routed.manager_branch, person) for ids in lists]


def board_reasons(store: GraphStore, rows: pd.DataFrame, settings: ScoringSettings | None = None,
                  person: PersonMask | None = None, legacy: LegacyGuard | None = None) -> list[list[str]]:
    """The reasons of board rows taken with `render=False` (e.g. the contact plan's page)."""
    settings = settings or get_settings().scoring
    routed = _version_board(store, settings, ledger(store).claims())
    return _reasons(store, rows, routed.order, settings.lang, person, legacy)


def _reasons(store: GraphStore, board: pd.DataFrame, order: pd.DataFrame, lang: str, person: PersonMask | None,
             legacy: LegacyGuard | None) -> list[list[str]]:
    """Each shown lead's reasons: those of all its rows (another branch's as `row_reasons`), best row
    first, each sentence once (a campaign row keeps its own)."""
    leads = board.loc[board["row_kind"] == "lead", "entity_id"]
    mine = order[order["prospect_id"].isin(leads)]
    texts = take_rows(prospects_arrow(store)[1].select(["reasons", "family", "branch_id"]),
                      mine["row_pos"].to_numpy()).to_pydict()
    per: dict[str, list[str]] = {}
    for eid, raw, family, branch in zip(mine["prospect_id"], texts["reasons"], texts["family"], texts["branch_id"],
                                        strict=True):  # only the rows shown
        out = per.setdefault(str(eid), [])
        for text in row_reasons(raw, lang, person, legacy, family=family, branch=branch):
            if text not in out:
                out.append(text)
    return [per.get(str(e), []) if kind == "lead" else list(r or [])
            for e, kind, r in zip(board["entity_id"], board["row_kind"], board["reasons"], strict=True)]


def board_row(store: GraphStore, entity_id: str, settings: ScoringSettings | None = None) -> dict[str, Any]:
    """One row of the board (a lead or a campaign row) as routed now; NotFound when not on it."""
    board, _ = board_page(store, settings, visible=lambda b: b["entity_id"] == entity_id)
    if board.empty:
        from graph.errors import NotFound

        raise NotFound(f"{entity_id} is not on the lead board")
    return {str(k): v for k, v in board.iloc[0].to_dict().items()}


def request_joint_visit(store: GraphStore, row: dict[str, Any], manager: str, by: str,
                        note: str | None = None) -> dict[str, Any]:
    """`manager`, one the board `row` is shared with, asks its owner for a joint visit. Refused
    (InvalidRequest) unless `manager` is in the row's `shared_with` (the managers of a prospect's
    other anchors; an employer's corporate manager for its payroll-day campaign) and is not its
    owner; recorded in the lead ledger, where the owner sees it (`joint_visits`)."""
    from graph.errors import InvalidRequest

    entity_id, owner = str(row["entity_id"]), row.get("owner")
    if manager not in list(row.get("shared_with") or []):
        raise InvalidRequest(f"{entity_id} is not shared with {manager}: only a manager it is shared with can ask "
                             "its owner for a joint visit")
    if owner == manager:
        raise InvalidRequest(f"{manager} owns {entity_id}: a joint visit is asked of the owner by another manager")
    return ledger(store).request_joint_visit(entity_id, manager, by, owner=owner if isinstance(owner, str) else None,
                                             note=note)


def _apply_claims(board: pd.DataFrame, claims: dict[str, Any]) -> None:
    """A claim in the ledger wins: its owner and status; every other lead is `new`."""
    ids = board["entity_id"]
    claimed = ids.isin(list(claims)).to_numpy()
    status = np.full(len(board), "new", dtype=object)  # looked up for the claimed leads only
    status[claimed] = ids[claimed].map({e: c.status for e, c in claims.items()}).to_numpy(dtype=object)
    board["status"] = status
    if claimed.any():
        board.loc[claimed, "owner"] = ids[claimed].map({e: c.owner for e, c in claims.items()})
        board.loc[claimed, "owner_source"] = "claim"


def _balance(board: pd.DataFrame, store: GraphStore) -> None:
    """Give unowned leads to the branch's manager of the right kind with the fewest leads, then assets."""
    managers = store.read("managers")
    if board.empty or managers.empty:
        return
    ids = managers["id"].astype(str)
    owned = board[board["owner"].isin(set(ids))]
    counts = owned.groupby("owner").size()
    sums = owned.groupby("owner")["assets"].sum()
    load: dict[str, list[float]] = {m: [int(counts.get(m, 0)), float(sums.get(m, 0.0))] for m in ids}
    pools: dict[Any, list[str]] = {}
    for mid, kind, mbranch in zip(ids, managers["kind"], managers["branch_id"], strict=True):
        pools.setdefault((kind, mbranch), []).append(mid)
        pools.setdefault(kind, []).append(mid)
    unowned = board.index[board["owner"].isna()]
    for i in unowned[np.argsort(board.loc[unowned, "_seq"].to_numpy(), kind="stable")]:  # only the unowned
        want = "retail" if board.at[i, "entity_kind"] == "Person" else "corporate"
        lead_branch = board.at[i, "branch_id"]  # a lead of no branch: any manager of its kind
        pool = (pools.get((want, lead_branch)) if isinstance(lead_branch, str) else None) or pools.get(want)
        if not pool:
            continue
        chosen = min(pool, key=lambda m: (load[m][0], load[m][1], m))
        board.at[i, "owner"] = chosen
        board.at[i, "owner_source"] = "balanced"
        load[chosen][0] += 1
        load[chosen][1] += float(board.at[i, "assets"] or 0.0)  # type: ignore[arg-type]


def _group_roots(board: pd.DataFrame, ents: pd.DataFrame) -> list[str]:
    """Each entity's top parent (itself when it has none), up the enterprises' parent links at
    once for every lead; a loop of parents stops where it comes back, as a walk would."""
    parent = ents["parent_id"].dropna().astype(str)
    parent = parent[parent.index.notna()]
    roots = board["entity_id"].astype(str)
    for _ in range(64):
        up = roots.map(parent)
        moved = up.notna().to_numpy() & (up != roots).to_numpy()
        if not moved.any():
            return roots.tolist()
        roots = up.where(moved, roots)
    # chains longer than 64 or loops: the few still moving are walked one by one
    out = roots.tolist()
    lookup = parent.to_dict()
    for i in np.flatnonzero(roots.map(parent).notna().to_numpy() & (roots.map(parent) != roots).to_numpy()):
        node, seen = str(board["entity_id"].iloc[i]), set()
        while node in lookup and node not in seen:
            seen.add(node)
            node = lookup[node]
        out[i] = node
    return out


def _collapse(board: pd.DataFrame) -> pd.DataFrame:
    """A group's best lead stands for it, the others listed as its `members`; the heads keep
    their own rank on the board and its order."""
    board = board.sort_values(["score", "entity_id"], ascending=[False, True])
    shared = board["group_id"].duplicated(keep=False).to_numpy()
    members = board[shared].groupby("group_id", sort=False)["entity_id"].agg(list)
    heads = board[~board["group_id"].duplicated().to_numpy()].copy()
    heads["members"] = [list(members[g][1:]) if g in members.index else [] for g in heads["group_id"]]
    return heads.sort_values("rank", kind="stable").reset_index(drop=True)


def _best_row(store: GraphStore, entity_id: str) -> pd.Series | None:
    rows, _ = entity_prospects(store, entity_id, 1)["about"]
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
        routed, _ = board_page(store, visible=lambda b: b["entity_id"] == entity_id, render=False)
        owner = None if routed.empty else routed.iloc[0]["owner"]
    return book.record(
        entity_id, status, by, owner=owner,
        family=None if best is None else str(best["family"]),
        score=None if best is None else float(best["score"]),
        evidence=None if best is None else str(best["evidence"]), note=note)
