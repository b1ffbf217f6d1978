"""The retail side: a retail manager's clients with their enterprises, and payroll employer summaries."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import AuditDep, SettingsDep, StoreDep, ViewerDep
from api.errors import ERROR_RESPONSES
from api.masking import mask_name, person_branches
from graph.errors import Forbidden, NotFound
from graph.vocabulary import jsonable

__all__ = ["router"]

router = APIRouter(prefix="/retail", tags=["retail"], responses=ERROR_RESPONSES)


@router.get("/view/{manager_id}")
def manager_view(manager_id: Annotated[str, Path(min_length=1, max_length=64)], viewer: ViewerDep,
                 store: StoreDep, audit: AuditDep) -> dict[str, Any]:
    """A retail manager's clients: their enterprises, roles, and the corporate managers covering them."""
    from scoring.retail_linkage import retail_manager_view

    if viewer.allowed_kinds("retail_linkage") is not None:  # corporate managers see enterprises only
        raise Forbidden(f"the {viewer.user.role} role cannot open a retail manager's view")
    if viewer.user.role == "retail_manager" and viewer.user.manager not in (None, manager_id):
        raise Forbidden("a retail manager sees their own clients only")
    managers = store.read("managers", ["id", "branch_id"])
    found = managers[managers["id"] == manager_id]
    if found.empty:
        raise NotFound(f"no manager with id {manager_id!r}")
    branch = found.iloc[0]["branch_id"]
    viewer.require_scope({"id": manager_id, "branch_id": None if branch is None or branch != branch else branch})
    rows = retail_manager_view(store, manager_id)
    branches = person_branches(store)
    shown = []
    for row in rows:
        row = {k: jsonable(v) for k, v in row.items()}
        if not viewer.in_scope(branches.get(str(row["person_id"]))):  # another branch's person: left out
            continue
        if not viewer.sees_person_id(str(row["person_id"])):  # who the person is, not the manager's branch
            row.update(person_name=mask_name(row["person_name"]), aum=None, masked=True)
        shown.append(row)
    if shown:
        audit.record(viewer.user, "retail_view", ids=sorted({r["person_id"] for r in shown}), rows=len(shown))
    return {"manager_id": manager_id, "items": shown}


@router.get("/employers")
def employers(viewer: ViewerDep, store: StoreDep, audit: AuditDep, settings: SettingsDep,
              limit: Annotated[int | None, Query(ge=1, le=100_000, description="rows per page (default 50, "
                                                                             "at most 1,000)")] = None,
              offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """Payroll employers, largest payroll first: staff, pay, retention, staff near/above CNY 50,000, products."""
    from scoring.retail_linkage import employer_summaries

    if viewer.allowed_kinds("retail_linkage") is not None:  # payroll aggregates are the retail side's
        raise Forbidden(f"the {viewer.user.role} role cannot see payroll employer summaries")
    table = employer_summaries(store)
    table = table[viewer.in_scope_column(table["branch_id"])]  # an employer of no known branch is shared
    limit = min(limit or settings.page_limit, settings.max_page_limit)
    page = table.iloc[offset:offset + limit]
    rows = json.loads(page.to_json(orient="records", force_ascii=False, date_format="iso"))  # the page only
    if rows:
        audit.record(viewer.user, "retail_employers", ids=[str(r.get("employer_id") or r.get("id")) for r in rows],
                     rows=len(rows))
    return {"total": len(table), "items": rows}
