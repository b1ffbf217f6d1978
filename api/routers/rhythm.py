"""The working rhythm: contact plan, customer 360, tracking, chain and market campaigns, branch outflow.

Every route masks and scopes through the one `api.masking.Viewer`, like the lead board.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import AuditDep, CurrentUser, SettingsDep, StoreDep, ViewerDep
from api.errors import ERROR_RESPONSES, status_for
from api.masking import Viewer
from graph.errors import AppError, Forbidden, NotFound

__all__ = ["router", "mask_360"]

router = APIRouter(tags=["rhythm"], responses=ERROR_RESPONSES)
EntityId = Annotated[str, Path(min_length=1, max_length=200, description="entity id")]


class PlanItem(BaseModel):
    entity_id: str
    name: str | None
    entity_kind: str
    tier: Literal["A", "B", "C"]
    next_action: str
    due_on: date
    overdue: bool
    family: str
    kind: str
    score: float
    owner: str | None
    status: str = Field(description="new, open, contacted or meeting (won and declined leads leave the plan)")
    branch_id: str | None
    reasons: list[str]
    shared_with: list[str] = Field(default_factory=list, description="managers the lead is shared with (see /leads)")


class PlanPage(BaseModel):
    total: int
    items: list[PlanItem]


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=10, description="tags from settings (rhythm.tags)")


def _allowed(viewer: Viewer, family: str, kind: str, entity_kind: str | None = None) -> bool:
    return viewer.may_work(family, kind, entity_kind)


def _page_user() -> Any:
    from api.routers.pages import page_user

    return page_user


def _require_kind(viewer: Viewer, family: str, kind: str) -> None:
    if not _allowed(viewer, family, kind):
        raise Forbidden(f"the {viewer.user.role} role cannot see {family} {kind} rows")


def _person_name(viewer: Viewer, person_id: Any, name: Any) -> Any:
    """A person's name as the viewer may see it: by who the person is, never by the row's branch."""
    return viewer.person_name(str(person_id), name)


@router.get("/plan", response_model=PlanPage)
def plan(viewer: ViewerDep, audit: AuditDep,
         manager: Annotated[str | None, Query(max_length=64)] = None,
         branch: Annotated[str | None, Query(max_length=64)] = None,
         due_before: Annotated[date | None, Query(description="only items due on or before this day")] = None,
         limit: Annotated[int, Query(ge=1, le=1000)] = 50,
         offset: Annotated[int, Query(ge=0)] = 0) -> PlanPage:
    """The contact plan: what is due, overdue first, each with its tier, next action and due date."""
    from leads.plan import plan_items, plan_page

    found, total = plan_page(viewer.store, manager=manager, branch=branch, due_before=due_before,
                             visible=viewer.sees_rows, offset=offset, limit=limit, person=viewer.person_name,
                             legacy=viewer.text)
    page = []
    for r in plan_items(found):  # the page only
        if r["entity_kind"] == "Person":
            r["name"] = _person_name(viewer, r["entity_id"], r["name"])
        page.append(PlanItem.model_validate(r))
    persons = [i.entity_id for i in page if i.entity_kind == "Person"]
    if persons:
        audit.record(viewer.user, "plan", ids=persons, rows=len(page))
    return PlanPage(total=total, items=page)


def _visible_prospects(viewer: Viewer, block: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in block:
        if not viewer.in_scope(row.get("branch_id")) or not _allowed(viewer, row["family"], row["kind"], row.get("entity_kind")):
            continue
        if row.get("entity_kind") == "Person":
            row = {**row, "name": _person_name(viewer, row["entity_id"], row["name"])}
        out.append(row)
    return out


_NAMED = frozenset({"name", "other_name"})  # fields masked by person in the 360 view
_RENDERED_BLOCKS = ("leads_to", "reached_through", "leads", "alerts")  # rows rendered per viewer


def mask_360(viewer: Viewer, view: dict[str, Any]) -> dict[str, Any]:
    """The 360 view as `viewer` may see it: the entity masked, out-of-scope parties left out,
    persons' names and personal amounts hidden, masked names scrubbed from every text."""
    node = view["entity"]
    viewer.require_scope(node)
    sees = node.get("kind") != "Person" or viewer.sees_person(node)
    out = dict(view, entity=viewer.node(node))
    relations = []
    for rel in view["relations"]:
        items = []
        for item in rel["items"]:
            if not viewer.in_scope(item["other_branch"]):
                continue
            if item["other_kind"] == "Person" and not viewer.sees_person(
                    {"kind": "Person", "branch_id": item["other_branch"]}):
                item = {**item, "other_name": _person_name(viewer, item["other_id"], item["other_name"]),
                        "amount": None}
            if not sees:  # a masked person's pay, payments and shares stay hidden
                item = {**item, "amount": None, "other_bank_amount": None, "share_pct": None}
            items.append(item)
        relations.append({**rel, "items": items, "amount": rel["amount"] if sees else None})
    out["relations"] = relations
    for key in ("leads_to", "reached_through"):
        items = _visible_prospects(viewer, view[key]["items"])
        out[key] = {"total": view[key]["total"], "items": items}
    out["leads"] = _visible_prospects(viewer, view["leads"])
    out["alerts"] = [a for a in view["alerts"] if viewer.sees_alert(a)]  # the /alerts rule
    if not sees:  # a masked person: no money, no notes (they are personal), statuses only
        out["money"] = None
        out["service"] = {"dispositions": [{k: d[k] for k in ("status", "recorded_at")}
                                           for d in view["service"]["dispositions"]], "notes": []}
    # names were masked by who the person is (above, `Viewer.node`, `_person_name`) and reasons and
    # alert texts rendered for this viewer (persons' fields masked, legacy sentences guarded):
    # guarding them again by name would withhold a person the viewer sees whenever a masked person
    # shares the name — which /entities/{id}, /leads and /alerts show. Free text (notes) is guarded.
    masked = viewer.deep({k: v for k, v in out.items() if k not in _RENDERED_BLOCKS}, keep=_NAMED)
    for key in _RENDERED_BLOCKS:
        masked[key] = viewer.deep(out[key], keep=_NAMED | {"reasons", "text"})
    return masked  # type: ignore[no-any-return]


@router.get("/entities/{entity_id:node}/360")
def customer_360(entity_id: EntityId, viewer: ViewerDep, store: StoreDep, audit: AuditDep) -> dict[str, Any]:
    """The customer 360 view: products, managers, relations, money, prospects, leads, alerts, timeline, service."""
    from leads.customer import customer_360 as build

    viewer.require_scope(store.require_node(entity_id))
    out = mask_360(viewer, build(store, entity_id, person=viewer.person_name, legacy=viewer.text))
    if out["entity"].get("kind") == "Person":
        audit.record(viewer.user, "view_360", ids=[entity_id], masked=out["entity"].get("masked"))
    return out


@router.post("/entities/{entity_id:node}/notes")
def add_note(entity_id: EntityId, body: NoteIn, user: CurrentUser, viewer: ViewerDep,
             store: StoreDep) -> dict[str, Any]:
    """Keep a note about an entity, with tags (e.g. home_purchase); returns the offers its tags trigger."""
    from graph.settings import get_settings
    from leads.notes import add_note as keep
    from leads.notes import offers_for
    from leads.settings import load_rhythm

    node = store.require_node(entity_id)
    viewer.require_scope(node)
    if node.get("kind") == "Person" and not viewer.sees_person(node):
        raise Forbidden(f"the {user.role} role cannot keep notes about this person")
    settings = get_settings().scoring
    conf = load_rhythm(settings)
    note = keep(store, conf, entity_id, body.text, body.tags, by=user.name)
    return {"ok": True, **note, "offers": offers_for(conf, note["tags"], settings.lang)}


@router.get("/track/{scope}/{scope_id:node}")
def track(scope: Literal["employer", "association", "anchor", "manager"],
          scope_id: Annotated[str, Path(min_length=1, max_length=200)], viewer: ViewerDep,
          store: StoreDep) -> dict[str, Any]:
    """A campaign's metrics over ingests: a series of {version, as_of, metric, value}."""
    from leads.track import read_series

    if scope == "manager":
        found = store.read("managers", ["id", "branch_id"])
        found = found[found["id"] == scope_id]
        if found.empty:
            raise NotFound(f"no manager with id {scope_id!r}")
        branch = found.iloc[0]["branch_id"]
        viewer.require_scope({"id": scope_id, "branch_id": branch if isinstance(branch, str) else None})
    else:
        viewer.require_scope(store.require_node(scope_id))
    rows = read_series(store, scope, scope_id)
    return {"scope": scope, "id": scope_id,
            "items": [{"version": r["version"], "as_of": r["as_of"], "metric": r["metric"], "value": float(r["value"])}
                      for r in rows.to_dict("records")]}


@router.get("/campaigns/chains")
def chains(viewer: ViewerDep, anchor: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    """Store chains as one campaign row each: stores, opened, pending and the next stores to open."""
    from leads.campaigns import chain_campaigns

    _require_kind(viewer, "ecosystem", "branch_store")
    rows = [r for r in chain_campaigns(viewer.store, anchor=anchor) if viewer.in_scope(r["branch_id"])]
    return {"items": rows}


@router.get("/campaigns/markets")
def markets(viewer: ViewerDep, association: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    """Markets and clusters: their merchants in three classes by yearly settlement volume and scale."""
    from leads.campaigns import market_campaigns

    _require_kind(viewer, "referral", "member")
    return {"items": market_campaigns(viewer.store, association=association, in_scope=viewer.in_scope)}


@router.get("/outflow/branches")
def outflow_branches(viewer: ViewerDep) -> dict[str, Any]:
    """Branch outflow: falling clients per branch and the notice each branch gets (query, warning)."""
    from leads.outflow import branch_notices

    _require_kind(viewer, "retail_linkage", "outflow")
    return {"items": [r for r in branch_notices(viewer.store) if viewer.in_scope(r["branch_id"])]}


@router.get("/outflow/clients")
def outflow_clients(viewer: ViewerDep, audit: AuditDep, settings: SettingsDep,
                    branch: Annotated[str | None, Query(max_length=64)] = None,
                    limit: Annotated[int | None, Query(ge=1, le=100_000, description="rows per page (default 50, "
                                                                                    "at most 1,000)")] = None,
                    offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """A page of falling clients, largest fall first: level, ratio, first seen, flag, where the money went."""
    from leads.outflow import falling_clients, money_went

    _require_kind(viewer, "retail_linkage", "outflow")
    table = falling_clients(viewer.store)
    if branch is not None:
        table = table[table["branch_id"] == branch]
    table = table[viewer.in_scope_column(table["branch_id"])]
    total = len(table)
    limit = min(limit or settings.page_limit, settings.max_page_limit)
    table = table.iloc[offset:offset + limit]
    went = money_went(viewer.store, table["id"].astype(str).tolist())
    by_payer = {payer: rows for payer, rows in went.groupby("payer_id", sort=False)}
    nothing = went.iloc[0:0]
    items = []
    for r in table.to_dict("records"):  # the rows shown: in scope only
        seen = viewer.sees_person({"kind": "Person", "branch_id": r["branch_id"]})
        banks = by_payer.get(r["id"], nothing)
        items.append({"id": r["id"], "name": _person_name(viewer, r["id"], r["name"]),
                      "branch_id": r["branch_id"], "manager_id": r["manager_id"], "level": r["level"],
                      "ratio": float(r["ratio"]), "aum": float(r["aum"]) if seen else None,
                      "first_seen": None if r["first_seen"] is None or r["first_seen"] != r["first_seen"]
                      else str(r["first_seen"]), "flagged": bool(r["flagged"]),
                      "money_went": [{"bank": b, "amount": float(a) if seen else None, "share": float(s)}
                                     for b, a, s in zip(banks["bank"], banks["amount"], banks["share"], strict=True)]})
    if items:
        audit.record(viewer.user, "outflow_clients", ids=[i["id"] for i in items], rows=len(items))
    return {"total": total, "items": items}


@router.get("/viz/customer/{entity_id:node}", include_in_schema=False)
def customer_page(entity_id: EntityId, request: Request, store: StoreDep, settings: SettingsDep, audit: AuditDep,
                  user: Annotated[Any, Depends(_page_user())], lang: Annotated[Literal["zh", "en"] | None, Query()] = None,
                  ) -> Response:
    """The customer 360 page: the masked 360 view with line charts of what is tracked about it."""
    from api.routers import pages
    from leads.customer import customer_360 as build
    from viz.customer import render_customer

    lang = lang or settings.lang
    if user is None:
        return pages._to_login(request, lang)
    viewer = Viewer(store, user)
    try:
        viewer.require_scope(store.require_node(entity_id))
        view = mask_360(viewer, build(store, entity_id, person=viewer.person_name, legacy=viewer.text))
    except AppError as exc:
        return pages._error(request, status_for(exc), str(exc), lang)
    if view["entity"].get("kind") == "Person":
        audit.record(user, "view_page", ids=[entity_id], page="customer", path=request.url.path)
    return pages._html(render_customer(view, "en" if lang == "en" else "zh", user=f"{user.name} · {user.role}",
                                       nav=pages._nav(lang)))
