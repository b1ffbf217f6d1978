"""The lead board, claims, dispositions, precision, refit and alerts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.audit import AuditLog
from api.deps import AuditDep, CurrentUser, SettingsDep, StoreDep, ViewerDep, require_role
from api.errors import ERROR_RESPONSES
from api.export import MEDIA_TYPES, board_columns, render
from api.lanes import run_handler
from api.lead_access import check_joint_visit, check_lead_write, check_manager, lead_facts, manager_branch
from api.masking import Viewer
from api.settings import ApiSettings
from graph.errors import Forbidden, InvalidRequest
from leads.state import DISPOSITIONS

__all__ = ["router"]

router = APIRouter(tags=["leads"], responses=ERROR_RESPONSES)
EntityId = Annotated[str, Path(min_length=1, max_length=200, description="entity id")]


class LeadOut(BaseModel):
    rank: int
    entity_id: str
    name: str | None
    entity_kind: str
    best_family: str
    best_kind: str
    score: float
    families: list[str]
    reasons: list[str]
    owner: str | None
    owner_source: str | None = Field(description="claim, referrer, anchor, family or balanced")
    status: str = Field(description="new (unclaimed), open, contacted, meeting, won, lost, ...")
    branch_id: str | None
    group_id: str | None
    members: list[str] = Field(description="with collapse_groups: the group's other leads")
    row_kind: str = Field(default="lead", description="lead (person by person) or campaign (a batch: payroll day, "
                                                       "association members beyond the top N)")
    campaign: dict[str, Any] | None = Field(default=None, description="a campaign's size, bands and expected "
                                                                      "conversions")
    shared_with: list[str] = Field(default_factory=list, description="managers of the prospect's other anchors: "
                                                                     "the row is on their board too (joint visit)")
    joint_visits: list[str] = Field(default_factory=list, description="managers of `shared_with` who asked the "
                                                                      "owner for a joint visit")


class LeadsPage(BaseModel):
    total: int
    items: list[LeadOut]


class ClaimIn(BaseModel):
    manager: str | None = Field(default=None, max_length=64,
                                description="owner to claim for (admin only; others claim for themselves)")


class JointVisitIn(BaseModel):
    manager: str | None = Field(default=None, max_length=64,
                                description="the manager asking (admin only; others ask for themselves)")
    note: str | None = Field(default=None, max_length=2000)


class DispositionIn(BaseModel):
    status: Literal["contacted", "meeting", "won", "lost", "not_interested", "do_not_contact"]
    note: str | None = Field(default=None, max_length=2000)


def _allowed(viewer: Viewer, family: str, kind: str, entity_kind: str | None = None) -> bool:
    return viewer.may_work(family, kind, entity_kind)


def _lead_out(viewer: Viewer, row: dict[str, Any]) -> LeadOut:
    name = row["name"]
    if row["entity_kind"] == "Person":  # masked by who the person is, not by the lead's branch
        name = viewer.person_name(str(row["entity_id"]), name)
    clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
    clean.update(name=name)  # reasons: rendered from masked fields by `build_board`
    return LeadOut.model_validate(clean)


def _owner_for(user: Any, manager: str | None) -> str:
    if manager is not None and manager != user.manager and user.role != "admin":
        raise Forbidden("only an admin can claim or record a lead for another manager")
    owner = manager or user.manager
    if not owner:
        raise InvalidRequest("this token is not linked to a manager: give `manager` (admin) or use a manager's token")
    return str(owner)


_FILES: dict[int | str, dict[str, Any]] = {200: {"content": {
    "text/csv": {"schema": {"type": "string"}},
    MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}}


@router.get("/leads", response_model=LeadsPage, responses=_FILES)
async def leads(request: Request, viewer: ViewerDep, audit: AuditDep, settings: SettingsDep,
                manager: Annotated[str | None, Query(max_length=64)] = None,
                branch: Annotated[str | None, Query(max_length=64)] = None,
                family: Annotated[Literal["supply_chain", "referral", "retail_linkage", "ecosystem"] | None,
                                  Query()] = None,
                status: Annotated[str | None, Query(max_length=32)] = None,
                collapse_groups: bool = False,
                limit: Annotated[int | None, Query(ge=1, le=100_000, description="rows per page (JSON: default 50, "
                                                                                "at most 1,000; files: the whole "
                                                                                "board)")] = None,
                offset: Annotated[int, Query(ge=0)] = 0,
                format: Annotated[Literal["json", "csv", "xlsx"], Query(description="json, or a csv/xlsx file")] = "json",
                lang: Annotated[Literal["zh", "en"] | None, Query(description="file headers; default: setting")] = None,
                ) -> Any:
    """The lead board, best first, with owner and status; format=csv|xlsx downloads it."""
    return await run_handler(request, format != "json", _leads, viewer, audit, settings, manager, branch, family,
                             status, collapse_groups, limit, offset, format, lang)


def _leads(viewer: Viewer, audit: AuditLog, settings: ApiSettings, manager: str | None, branch: str | None,
           family: str | None, status: str | None, collapse_groups: bool, limit: int | None, offset: int,
           format: str, lang: str | None) -> Any:
    from leads.board import board_page

    if format == "json":
        limit = min(limit or settings.page_limit, settings.max_page_limit)
    else:
        limit = min(limit or settings.max_export_rows, settings.max_export_rows)
    if manager is not None:  # another branch's manager: whose leads, or shared with whom, is not this caller's
        manager_branch(viewer.store, manager, viewer.user.branch, required=False)
    board, total = board_page(viewer.store, manager=manager, branch=branch, family=family, status=status,
                              collapse_groups=collapse_groups, visible=viewer.sees_rows, offset=offset, limit=limit,
                              person=viewer.person_name, legacy=viewer.text)
    page = [_lead_out(viewer, {str(k): v for k, v in r.items()}) for r in board.to_dict("records")]  # the page only
    if page:  # every id the board reveals, persons or not
        audit.record(viewer.user, "list_leads" if format == "json" else "export_leads",
                     ids=[lead.entity_id for lead in page], rows=len(page))
    if format == "json":
        return LeadsPage(total=total, items=page)
    words = lang or settings.lang
    body = render([lead.model_dump() for lead in page], format, words, "leads", board_columns(words))
    return Response(body, media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="leads.{format}"', "X-Total-Count": str(total)})


@router.post("/leads/{entity_id:node}/claim")
def claim(entity_id: EntityId, body: ClaimIn, user: CurrentUser, store: StoreDep, audit: AuditDep) -> dict[str, Any]:
    """Claim a lead; 409 naming the owner when another manager holds it."""
    from leads.board import claim_lead

    facts = lead_facts(store, entity_id)
    check_lead_write(user, facts)
    owner = _owner_for(user, body.manager)
    check_manager(store, owner, facts, user.branch)
    out = claim_lead(store, entity_id, owner, by=user.name)
    audit.record(user, "claim", ids=[entity_id], owner=owner)
    return {"ok": True, **out}


@router.post("/leads/{entity_id:node}/joint-visit")
def joint_visit(entity_id: EntityId, body: JointVisitIn, user: CurrentUser, store: StoreDep,
                audit: AuditDep) -> dict[str, Any]:
    """A manager a shared lead names asks its owner for a joint visit (shown on the owner's board)."""
    # kept in the lead ledger; the lead's branch must be in the caller's scope; the asker is the
    # caller's manager (an admin names one) and must be in the row's `shared_with`
    from leads.board import board_row, request_joint_visit

    row = board_row(store, entity_id)
    manager = _owner_for(user, body.manager)
    check_joint_visit(store, user, row, manager)
    out = request_joint_visit(store, row, manager, by=user.name, note=body.note)
    audit.record(user, "joint_visit", ids=[entity_id], manager=manager)
    return {"ok": True, **out}


@router.post("/leads/{entity_id:node}/disposition")
def disposition(entity_id: EntityId, body: DispositionIn, user: CurrentUser, store: StoreDep,
                audit: AuditDep) -> dict[str, Any]:
    """Record what happened with a lead (contacted, meeting, won, lost, not_interested, do_not_contact)."""
    from leads.board import record_disposition

    facts = lead_facts(store, entity_id)
    check_lead_write(user, facts)
    owner = None if user.role == "admin" and not user.manager else _owner_for(user, None)
    if owner is not None:
        check_manager(store, owner, facts, user.branch)
    row = record_disposition(store, entity_id, body.status, by=user.name, owner=owner, note=body.note)
    audit.record(user, "disposition", ids=[entity_id], status=body.status)
    return {"ok": True, **{k: v for k, v in row.items() if k != "evidence"}}


@router.get("/leads/precision")
def precision(store: StoreDep, viewer: ViewerDep, k: Annotated[int, Query(ge=1, le=1000)] = 10,
              by: Annotated[Literal["family", "owner"], Query()] = "family") -> dict[str, Any]:
    """Precision at k of the rankings per family or per owner, from the outcomes of the caller's branch only."""
    from leads.board import ledger
    from leads.refit import precision_at_k

    owners = None  # a branch's figures: the outcomes of leads its managers owned
    if viewer.user.branch is not None or (by == "owner" and viewer.user.role not in ("admin", "analyst")):
        managers = store.read("managers", ["id", "branch_id"])
        mine = managers[[viewer.user.branch is None or b == viewer.user.branch for b in managers["branch_id"]]]
        if by == "owner" and viewer.user.role in ("corporate_manager", "retail_manager") \
                and viewer.user.branch is None:
            mine = mine[mine["id"] == viewer.user.manager]  # an unscoped manager sees their own figure
        owners = mine["id"].astype(str).tolist()
    table = precision_at_k(ledger(store), k=k, by=by, owners=owners)
    if by == "family":
        table = table[table["family"].isin(viewer.families)]
    return {"k": k, "by": by, "statuses": list(DISPOSITIONS),
            "rows": [{str(a): (None if isinstance(b, float) and b != b else b) for a, b in r.items()}
                     for r in table.to_dict("records")]}


@router.post("/leads/refit/{family}", dependencies=[Depends(require_role("admin"))])
def refit(family: Annotated[Literal["supply_chain", "referral", "retail_linkage", "ecosystem"], Path()],
          store: StoreDep, k: Annotated[int, Query(ge=1, le=1000)] = 10) -> dict[str, Any]:
    """Refit a family's evidence weights from dispositions (admin); returns precision before and after."""
    from leads.board import ledger
    from leads.refit import refit_weights

    return {"ok": True, **refit_weights(store, ledger(store), family, k=k).as_dict()}


@router.get("/alerts")
def alerts(store: StoreDep, viewer: ViewerDep, audit: AuditDep, kind: Annotated[str | None, Query(max_length=64)] = None,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """What changed in recent ingests: new suppliers, executives, members, threshold crossings."""
    from leads.alerts import read_alerts

    items = []
    for alert in read_alerts(store, limit=1_000_000, kind=kind):
        if not viewer.sees_alert(alert):
            continue
        items.append(viewer.alert(alert))
        if len(items) >= limit:
            break
    if items:
        audit.record(viewer.user, "alerts", ids=sorted({str(a["entity_id"]) for a in items}), rows=len(items))
    return {"items": items}
