"""The working rhythm: contact plan, customer 360, tracking, chain and market campaigns, branch outflow.

Every route masks and scopes through the one `api.masking.Viewer`, like the lead board. The
customer 360 view is built within the viewer's branch scope (`view_360`): a relation's totals are
over the links in scope, and another branch's links and lead work (owner, dispositions, notes) are
counted, never shown; its prospect parts' rows and totals are only those the viewer may see
(branch and family rights, in DuckDB: `Viewer.prospect_rights`). Tracked metrics (`/track`, the
360 timeline) count only the persons, members and stores of the viewer's scope (kept per branch:
`leads.track.scoped_series`); points of an old snapshot kept over every branch are withheld from
a branch's viewer and counted (`hidden`, `hidden_note`); an employer's payroll figures are the
retail side's (`Policy.payroll_figures`, as `/retail/employers`). A chain campaign (`/campaigns/chains`)
is listed when its head is in scope, with only the stores in scope named and counted; another
branch's stores are counted in `hidden` (`hidden_note`: "3 个主体不在您的权限范围内").
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import AuditDep, CurrentUser, SettingsDep, StoreDep, ViewerDep
from api.errors import ERROR_RESPONSES, status_for
from api.lead_access import manager_branch
from api.masking import PERSONAL_EDGE_FIELDS, Viewer
from api.scope import Hidden, hidden_note
from graph.errors import AppError, Forbidden
from graph.settings import get_settings

__all__ = ["router", "mask_360", "view_360", "OTHER_BRANCH"]

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

    if manager is not None:  # as /leads: another branch's manager is not this caller's to filter by
        manager_branch(viewer.store, manager, viewer.user.branch, required=False)
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
    """The rows the viewer may see, persons' names masked: a last guard, as `view_360` builds the
    view with the viewer's `prospect_rights` (the same rule, in DuckDB), which leaves none out."""
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
OTHER_BRANCH = "other_branch"  # a lead's status where another branch works it (its status is that branch's)


def _writers(viewer: Viewer) -> dict[str, str]:
    """Token name -> branch ("" none): whose lead work it is where the ledger kept no branch."""
    from api.auth import list_tokens

    return {str(t.get("name")): str(t.get("branch") or "") for t in list_tokens(viewer.store)}


def _lead_work(viewer: Viewer, view: dict[str, Any]) -> tuple[bool, list[dict[str, Any]], list[dict[str, Any]]]:
    """Whether the viewer sees the lead's owner, and the dispositions and notes it sees: lead work
    belongs to a branch (the owner's, each disposition's owner's, each note's writer's; "" none);
    where that branch is unknown (None: a note kept before notes had one, an owner no longer
    among the managers) its writer's token says, and work of no known writer is left out."""
    service = view["service"]
    if viewer.user.branch is None:
        return True, service["dispositions"], service["notes"]
    writers: dict[str, str] | None = None

    def sees(branch: Any, by: Any) -> bool:
        nonlocal writers
        if branch is None:
            writers = _writers(viewer) if writers is None else writers
            if str(by) not in writers:
                return False
            branch = writers[str(by)]
        return viewer.in_scope(branch)

    owner = view.get("owner") is None or sees(view.get("owner_branch"), None)
    return (owner, [d for d in service["dispositions"] if sees(d.get("owner_branch"), d.get("recorded_by"))],
            [n for n in service["notes"] if sees(n.get("branch_id"), n.get("recorded_by"))])


def _relations(viewer: Viewer, relations: list[dict[str, Any]], sees: bool, lang: str) -> list[dict[str, Any]]:
    """Each relation's items as the viewer may see them, its totals over those (`customer_360`
    computed them over the links in scope), and the count of links left out, in words."""
    out = []
    for rel in relations:
        items, hidden = [], int(rel.get("hidden") or 0)
        # a total over a masked person's amount would tell it (one employee: the total is the pay),
        # whether that person is listed or not; an employer's payroll totals are the retail side's
        # (`Policy.payroll_figures`)
        people = rel.pop("person_branches", None) or []
        total_shown = sees and (rel["kind"] != "PAYROLL" or viewer.policy.payroll_figures) and all(
            viewer.sees_person({"kind": "Person", "branch_id": b}) for b in people if viewer.in_scope(b))
        for item in rel["items"]:
            if not viewer.in_scope(item["other_branch"]):
                hidden += 1
                continue
            if item["other_kind"] == "Person" and not viewer.sees_person(
                    {"kind": "Person", "branch_id": item["other_branch"]}):
                item = {**item, "other_name": _person_name(viewer, item["other_id"], item["other_name"]),
                        **dict.fromkeys(PERSONAL_EDGE_FIELDS)}  # the one rule of `Viewer.edge`
                total_shown = False
            if not sees:  # a masked person's pay, payments and shares stay hidden
                item = {**item, "amount": None, "other_bank_amount": None, "share_pct": None}
            items.append(item)
        unscoped = hidden > int(rel.get("hidden") or 0)  # a link the view's own scope let through
        rel = {**rel, "items": items, "amount": rel["amount"] if total_shown else None, "hidden": hidden,
               "hidden_note": hidden_note(Hidden(edges=hidden), lang)}
        if unscoped:  # its totals counted what is hidden here: none are given
            rel.update(count=len(items), amount=None, first_on=None, last_on=None)
        out.append(rel)
    return out


def mask_360(viewer: Viewer, view: dict[str, Any], lang: str = "zh") -> dict[str, Any]:
    """The 360 view as `viewer` may see it: the entity masked, out-of-scope parties, links and lead
    work left out (counted, in `lang`), persons' names and personal amounts hidden, masked names
    scrubbed from every text. `view` is `customer_360` built with this viewer's scope and rights
    (`view_360`): a prospect part's `total` counts the rows this viewer may see, as its items are."""
    node = view["entity"]
    viewer.require_scope(node)
    sees = node.get("kind") != "Person" or viewer.sees_person(node)
    out = dict(view, entity=viewer.node(node))
    out["relations"] = _relations(viewer, view["relations"], sees, lang)
    for key in ("leads_to", "reached_through"):
        items = _visible_prospects(viewer, view[key]["items"])
        out[key] = {"total": view[key]["total"], "items": items}
    out["leads"] = _visible_prospects(viewer, view["leads"])
    out["alerts"] = [a for a in view["alerts"] if viewer.sees_alert(a)]  # the /alerts rule
    owner, dispositions, notes = _lead_work(viewer, view)
    if not owner:  # another branch works it: who and how far is that branch's
        out.update(owner=None, owner_branch=None)
        out["leads"] = [{**row, "status": OTHER_BRANCH} for row in out["leads"]]
    hidden = len(view["service"]["dispositions"]) - len(dispositions) + len(view["service"]["notes"]) - len(notes)
    if not sees:  # a masked person: no money, no notes (they are personal), statuses only
        out["money"] = None
        dispositions, notes = [{k: d[k] for k in ("status", "recorded_at")} for d in dispositions], []
    out["service"] = {"dispositions": dispositions, "notes": notes, "hidden": hidden,
                      "hidden_note": hidden_note(Hidden(records=hidden), lang)}
    out["timeline_note"] = hidden_note(Hidden(records=int(view.get("timeline_hidden") or 0)), lang)
    if not viewer.policy.payroll_figures:  # an employer's staff and retention are the retail side's
        out["timeline"] = [p for p in view["timeline"] if p.get("scope") != "employer"]
    # names were masked by who the person is (above, `Viewer.node`, `_person_name`) and reasons and
    # alert texts rendered for this viewer (persons' fields masked, legacy sentences guarded):
    # guarding them again by name would withhold a person the viewer sees whenever a masked person
    # shares the name — which /entities/{id}, /leads and /alerts show. Free text (notes) is guarded.
    masked = viewer.deep({k: v for k, v in out.items() if k not in _RENDERED_BLOCKS}, keep=_NAMED)
    for key in _RENDERED_BLOCKS:
        masked[key] = viewer.deep(out[key], keep=_NAMED | {"reasons", "text"})
    return masked  # type: ignore[no-any-return]


def view_360(viewer: Viewer, entity_id: str, lang: str) -> dict[str, Any]:
    """The customer 360 view of `entity_id` built within the viewer's scope and masked for it."""
    from leads.customer import customer_360 as build

    viewer.require_scope(viewer.store.require_node(entity_id))
    scoring = get_settings().scoring  # in the page's language: its reasons, products and offers too
    view = build(viewer.store, entity_id, scoring.model_copy(update={"lang": lang}), person=viewer.person_name,
                 legacy=viewer.text, visible=viewer.in_scope, rights=viewer.prospect_rights())
    return mask_360(viewer, view, lang)


@router.get("/entities/{entity_id:node}/360")
def customer_360(entity_id: EntityId, viewer: ViewerDep, audit: AuditDep, settings: SettingsDep) -> dict[str, Any]:
    """The customer 360 view: products, managers, relations, money, prospects, leads, alerts, timeline, service."""
    out = view_360(viewer, entity_id, settings.lang)
    if out["entity"].get("kind") == "Person":
        audit.record(viewer.user, "view_360", ids=[entity_id], masked=out["entity"].get("masked"))
    return out


@router.post("/entities/{entity_id:node}/notes")
def add_note(entity_id: EntityId, body: NoteIn, user: CurrentUser, viewer: ViewerDep,
             store: StoreDep) -> dict[str, Any]:
    """Keep a note about an entity, with tags (e.g. home_purchase); returns the offers its tags trigger."""
    from leads.notes import add_note as keep
    from leads.notes import offers_for
    from leads.settings import load_rhythm

    node = store.require_node(entity_id)
    viewer.require_scope(node)
    if node.get("kind") == "Person" and not viewer.sees_person(node):
        raise Forbidden(f"the {user.role} role cannot keep notes about this person")
    settings = get_settings().scoring
    conf = load_rhythm(settings)
    note = keep(store, conf, entity_id, body.text, body.tags, by=user.name, branch=user.branch)
    return {"ok": True, **note, "offers": offers_for(conf, note["tags"], settings.lang)}


@router.get("/track/{scope}/{scope_id:node}")
def track(scope: Literal["employer", "association", "anchor", "manager"],
          scope_id: Annotated[str, Path(min_length=1, max_length=200)], viewer: ViewerDep,
          store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    """A campaign's metrics over ingests: a series of {version, as_of, metric, value}."""
    from leads.track import scoped_series

    if scope == "employer" and not viewer.policy.payroll_figures:  # as /retail/employers: the retail side's
        raise Forbidden(f"the {viewer.user.role} role cannot see payroll figures")
    if scope == "manager":
        manager_branch(store, scope_id, viewer.user.branch)
    else:
        viewer.require_scope(store.require_node(scope_id))
    # each value counts the persons, members or stores of the caller's scope only
    rows, withheld = scoped_series(store, scope, scope_id, viewer.in_scope)
    return {"scope": scope, "id": scope_id,
            "items": [{"version": r["version"], "as_of": r["as_of"], "metric": r["metric"], "value": float(r["value"])}
                      for r in rows.to_dict("records")],
            "hidden": withheld, "hidden_note": hidden_note(Hidden(records=withheld), settings.lang)}


@router.get("/campaigns/chains")
def chains(viewer: ViewerDep, settings: SettingsDep,
           anchor: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    """Store chains as one campaign row each: stores, opened, pending and the next stores to open."""
    from leads.campaigns import chain_campaigns

    _require_kind(viewer, "ecosystem", "branch_store")
    # the chains whose head is in scope; their stores, counts and next stores in scope only
    return _noted(chain_campaigns(viewer.store, anchor=anchor, in_scope=viewer.in_scope), settings.lang)


@router.get("/campaigns/markets")
def markets(viewer: ViewerDep, settings: SettingsDep,
            association: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    """Markets and clusters: their merchants in three classes by yearly settlement volume and scale."""
    from leads.campaigns import market_campaigns

    _require_kind(viewer, "referral", "member")
    # the merchants in scope only; those left out counted and said, as a chain's stores are
    return _noted(market_campaigns(viewer.store, association=association, in_scope=viewer.in_scope), settings.lang)


def _noted(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """Campaign rows, each with the words for what it left out (its `hidden` entities)."""
    return {"items": [{**r, "hidden_note": hidden_note(Hidden(nodes=r["hidden"]), lang)} for r in rows]}


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
    from viz.customer import render_customer

    lang = lang or settings.lang
    if user is None:
        return pages._to_login(request, lang)
    viewer = Viewer(store, user)
    try:
        view = view_360(viewer, entity_id, "en" if lang == "en" else "zh")
    except AppError as exc:
        return pages._error(request, status_for(exc), str(exc), lang)
    if view["entity"].get("kind") == "Person":
        audit.record(user, "view_page", ids=[entity_id], page="customer", path=request.url.path)
    return pages._html(render_customer(view, "en" if lang == "en" else "zh", user=pages._who(user, lang),
                                       nav=pages._nav(lang)))
