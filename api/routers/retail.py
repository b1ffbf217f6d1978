"""The retail side: a retail manager's clients with their enterprises, and payroll employer summaries."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Path, Query

from api.deps import AuditDep, SettingsDep, StoreDep, ViewerDep
from api.errors import ERROR_RESPONSES
from api.masking import Viewer, mask_name, person_branches
from graph.errors import Forbidden, NotFound
from graph.store import GraphStore
from graph.vocabulary import jsonable

__all__ = ["router"]

router = APIRouter(prefix="/retail", tags=["retail"], responses=ERROR_RESPONSES)


# A retail client's row names an enterprise: these fields are left empty when it is another branch's.
_ENTERPRISE_FIELDS = ("enterprise_id", "enterprise_name", "enterprise_is_client", "corporate_manager_id",
                      "corporate_manager_name", "opportunity")


def _enterprises_in_scope(viewer: Viewer, store: GraphStore, rows: list[dict[str, Any]],
                          managers: pd.DataFrame) -> dict[str, bool]:
    """The rows' enterprises in the viewer's scope (one the store does not hold has no branch: shared),
    each with whether its corporate manager is in scope too: every node a request touches is
    scoped, not only the manager asked for."""
    corporate = {str(r["enterprise_id"]): r["corporate_manager_id"] for r in rows}
    found = store.nodes(corporate)
    staff = {str(i): jsonable(b) for i, b in zip(managers["id"], managers["branch_id"], strict=True)}
    return {eid: corp is None or viewer.in_scope(staff.get(str(corp)))
            for eid, corp in corporate.items() if viewer.in_scope((found.get(eid) or {}).get("branch_id"))}


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
    enterprises = _enterprises_in_scope(viewer, store, rows, managers)
    shown = []
    for row in rows:
        row = {k: jsonable(v) for k, v in row.items()}
        if not viewer.in_scope(branches.get(str(row["person_id"]))):  # another branch's person: left out
            continue
        if not viewer.sees_person_id(str(row["person_id"])):  # who the person is, not the manager's branch
            row.update(person_name=mask_name(row["person_name"]), aum=None, masked=True)
        # an enterprise or corporate manager of another branch is left out of the row (field by field)
        row["enterprise_restricted"] = str(row["enterprise_id"]) not in enterprises
        if row["enterprise_restricted"]:  # the client's role stays; whose enterprise it is does not
            row.update(dict.fromkeys(_ENTERPRISE_FIELDS))
        elif not enterprises[str(row["enterprise_id"])]:  # its corporate manager is another branch's
            row.update(corporate_manager_id=None, corporate_manager_name=None)
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
    # each figure over the staff of the caller's branch scope only (an employer whose staff are all
    # another branch's shows zeros, as /track does): `employer_summaries(admits=…)`
    from scoring.retail_linkage import employer_summaries

    if not viewer.policy.payroll_figures:  # payroll aggregates are the retail side's (`Policy.payroll_figures`)
        raise Forbidden(f"the {viewer.user.role} role cannot see payroll employer summaries")
    # every figure counts only the staff of the caller's scope (its branch's and those of no branch)
    table = employer_summaries(store, admits=viewer.in_scope_column)
    table = table[viewer.in_scope_column(table["branch_id"])]  # an employer of no known branch is shared
    limit = min(limit or settings.page_limit, settings.max_page_limit)
    page = table.iloc[offset:offset + limit]
    rows = json.loads(page.to_json(orient="records", force_ascii=False, date_format="iso"))  # the page only
    if rows:
        audit.record(viewer.user, "retail_employers", ids=[str(r.get("employer_id") or r.get("id")) for r in rows],
                     rows=len(rows))
    return {"total": len(table), "items": rows}
