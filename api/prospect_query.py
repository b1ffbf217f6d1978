"""Listing prospects for one viewer: family rights, branch scope, filters and paging."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.masking import Viewer
from api.present import person_ids, prospect_out
from api.schemas import ProspectOut
from graph.errors import Forbidden, InvalidRequest, NotFound
from graph.schema import FAMILIES, KINDS_BY_FAMILY
from scoring.stored import decode, page_prospects

__all__ = ["ProspectQuery", "query_prospects"]


class ProspectQuery(BaseModel):
    """The filters of GET /prospects/{family}."""

    model_config = {"extra": "forbid"}

    kind: str | None = Field(default=None, max_length=64, description="a sub-case, e.g. upstream, payroll")
    anchor: str | None = Field(default=None, max_length=200, description="only prospects of this anchor client")
    association: str | None = Field(default=None, max_length=200, description="only this association's")
    employer: str | None = Field(default=None, max_length=200, description="only this payroll employer's")
    branch: str | None = Field(default=None, max_length=200,
                               description="only rows of this branch (not the shared ones, of no branch); "
                                           "a branch token may name its own branch only")
    manager: str | None = Field(default=None, max_length=200, description="only rows for this manager")
    min_score: float | None = Field(default=None, ge=0, le=100, description="lowest score, 0-100")
    band: Literal["near_threshold", "below_threshold", "above_threshold"] | None = Field(
        default=None, description="retail rows in this band of the financial-assets threshold")
    limit: int | None = Field(default=None, ge=1, le=100_000, description="rows per page")
    offset: int = Field(default=0, ge=0, le=10_000_000, description="rows to skip")
    format: Literal["json", "csv", "xlsx"] = Field(default="json", description="json, or a csv/xlsx file")
    lang: Literal["zh", "en"] | None = Field(default=None, description="reasons and headers; default: setting")

    def filters(self) -> dict[str, Any]:
        return self.model_dump(exclude={"format", "lang", "limit", "offset"}, exclude_none=True)


def query_prospects(viewer: Viewer, family: str, q: ProspectQuery, lang: str, limit: int
                    ) -> tuple[list[ProspectOut], int]:
    """The page of `family` rows this viewer may see, and the count before paging."""
    if family not in FAMILIES:
        raise NotFound(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    if q.kind is not None and q.kind not in KINDS_BY_FAMILY[family]:
        raise InvalidRequest(f"unknown kind {q.kind!r} for {family}; choose one of "
                             f"{', '.join(KINDS_BY_FAMILY[family])}")
    kinds = viewer.allowed_kinds(family)
    # kinds this role works only where the prospect is an enterprise (a corporate client's outflow)
    by_enterprise = viewer.policy.enterprise_kinds.get(family, ()) if kinds is not None else ()
    if q.kind is not None and kinds is not None and q.kind not in kinds and q.kind not in by_enterprise:
        raise Forbidden(f"the {viewer.user.role} role cannot list {family} prospects of kind {q.kind}")
    # `branch` keeps exactly that branch's rows, whoever asks; the token's scope (its branch's rows
    # and the shared ones) is applied in `prospect_rights`, so the filter narrows it, never widens it
    if viewer.user.branch is not None and q.branch is not None and q.branch != viewer.user.branch:
        raise Forbidden(f"your token is limited to branch {viewer.user.branch}")
    page, total = page_prospects(viewer.store, family, kind=q.kind, anchor=q.anchor, association=q.association,
                                 employer=q.employer, branch=q.branch, manager=q.manager, min_score=q.min_score,
                                 band=q.band, rights=viewer.prospect_rights(), limit=limit,
                                 offset=q.offset, as_rows=True)
    persons = person_ids(viewer.store)
    rows = [prospect_out(viewer, decode(r, lang, viewer.person_name, viewer.text), lang, persons)
            for r in page]  # only the page
    return rows, total
