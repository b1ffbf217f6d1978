"""Prospect lists of each family: filters, paging and CSV/XLSX export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.audit import AuditLog
from api.deps import AuditDep, SettingsDep, ViewerDep
from api.errors import ERROR_RESPONSES
from api.export import MEDIA_TYPES, render
from api.lanes import run_handler
from api.masking import Viewer
from api.present import person_ids
from api.prospect_query import ProspectQuery, query_prospects
from api.schemas import FamiliesOut, ProspectPage
from api.settings import ApiSettings

__all__ = ["router"]

router = APIRouter(prefix="/prospects", tags=["prospects"], responses=ERROR_RESPONSES)
_FILES: dict[int | str, dict[str, Any]] = {200: {"content": {
    "text/csv": {"schema": {"type": "string"}},
    MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}}}}}


@router.get("", response_model=FamiliesOut)
def families(viewer: ViewerDep) -> FamiliesOut:
    """The prospect families the caller's role may list."""
    return FamiliesOut(families=viewer.families)


@router.get("/{family}", response_model=ProspectPage, responses=_FILES)
async def prospects(request: Request, family: Annotated[str, Path(max_length=64)], viewer: ViewerDep,
                    settings: SettingsDep, audit: AuditDep, q: Annotated[ProspectQuery, Query()]) -> Any:
    """Prospects of a family, best first, filtered and paged; format=csv|xlsx downloads a file."""
    return await run_handler(request, q.format != "json", _prospects, family, viewer, settings, audit, q)


def _prospects(family: str, viewer: Viewer, settings: ApiSettings, audit: AuditLog, q: ProspectQuery) -> Any:
    lang = q.lang or settings.lang
    if q.format == "json":
        limit = min(q.limit or settings.page_limit, settings.max_page_limit)
    else:
        limit = min(q.limit or settings.max_export_rows, settings.max_export_rows)
    rows, total = query_prospects(viewer, family, q, lang, limit)
    known = person_ids(viewer.store)
    persons = [r.prospect_id for r in rows if r.prospect_id in known]
    if q.format == "json":
        if persons:
            audit.record(viewer.user, "list_prospects", ids=persons, family=family, filters=q.filters(), rows=len(rows))
        return ProspectPage(family=family, total=total, limit=limit, offset=q.offset, items=rows)
    audit.record(viewer.user, "export", family=family, format=q.format, filters=q.filters(), rows=len(rows))
    body = render([dict(r) for r in rows], q.format, lang, family)
    headers = {"Content-Disposition": f'attachment; filename="prospects-{family}.{q.format}"',
               "X-Total-Count": str(total)}
    return Response(body, media_type=MEDIA_TYPES[q.format], headers=headers)
