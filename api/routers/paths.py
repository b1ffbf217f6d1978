"""Relationship paths between two entities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AuditDep, SettingsDep, StoreDep, ViewerDep
from api.errors import ERROR_RESPONSES
from api.present import entity_out, path_out
from api.schemas import PathsOut
from api.scope import hidden_note

__all__ = ["router"]

router = APIRouter(prefix="/paths", tags=["paths"], responses=ERROR_RESPONSES)
EntityId = Annotated[str, Query(min_length=1, max_length=200, description="entity id")]


@router.get("", response_model=PathsOut)
def paths(source: EntityId, target: EntityId, viewer: ViewerDep, store: StoreDep, settings: SettingsDep,
          audit: AuditDep, max_hops: Annotated[int, Query(ge=1, le=6)] = 4,
          k: Annotated[int, Query(ge=1, le=10, description="how many paths")] = 3,
          lang: Annotated[str | None, Query(pattern="^(zh|en)$")] = None) -> PathsOut:
    """The k shortest typed paths from source to target, each explained in words."""
    from graph.paths import find_paths  # lazy: the API starts even before paths exist

    for end in (source, target):
        viewer.require_scope(store.require_node(end))
    found = viewer.scope.filter_paths(find_paths(store, source, target, max_hops=max_hops, k=k))
    ids = sorted({n for p in found for n in p.get("nodes", [])})
    entities = {i: entity_out(viewer, node) for i in ids if (node := store.node(i)) is not None}
    out = PathsOut(paths=[path_out(viewer, p, lang or settings.lang) for p in found], entities=entities,
                   hidden_paths=viewer.scope.hidden.paths,
                   hidden_note=hidden_note(viewer.scope.hidden, lang or settings.lang))
    persons = [i for i, e in entities.items() if e.kind == "Person"]
    if persons:
        audit.record(viewer.user, "paths", ids=persons, rows=len(out.paths))
    return out
