"""Entities: search, details and neighbourhoods."""

from __future__ import annotations

from typing import Annotated

import networkx as nx
from fastapi import APIRouter, Query

from api.deps import AuditDep, SettingsDep, StoreDep, ViewerDep
from api.errors import ERROR_RESPONSES
from api.masking import Viewer
from api.present import entity_detail, entity_out, subgraph_out
from api.schemas import EntityDetailOut, SearchOut, SubgraphOut
from api.search import search_entities
from graph.errors import InvalidRequest
from graph.schema import EDGE_KINDS

__all__ = ["router"]

router = APIRouter(prefix="/entities", tags=["entities"], responses=ERROR_RESPONSES)
EdgeKinds = Annotated[list[str] | None, Query(description="edge kinds to follow, e.g. PAYS, BILL")]


@router.get("", response_model=SearchOut)
def search(viewer: ViewerDep, store: StoreDep, settings: SettingsDep, audit: AuditDep,
           q: Annotated[str, Query(min_length=1, max_length=200, description="id, USCC or name")],
           limit: Annotated[int | None, Query(ge=1, le=200)] = None) -> SearchOut:
    """Search entities by id, USCC or name (name contains, then fuzzy)."""
    # a role that never sees person details cannot probe for a person by name either
    hits = search_entities(store, q, limit=limit or settings.search_limit, threshold=settings.search_threshold,
                           person_names=viewer.policy.person_details != "none", branch=viewer.user.branch)
    nodes = [(store.require_node(h.id), h) for h in hits]
    # a masked person is found by id only: a name hit (score 100) would confirm the name (#19)
    items = [entity_out(viewer, n, h.match, h.score) for n, h in nodes if viewer.in_scope(n.get("branch_id"))
             and (n.get("kind") != "Person" or h.match == "id" or viewer.sees_person(n))]
    persons = [i.id for i in items if i.kind == "Person"]
    if persons:
        audit.record(viewer.user, "search", ids=persons, rows=len(items))
    return SearchOut(items=items)


@router.get("/{entity_id:node}", response_model=EntityDetailOut)
def detail(entity_id: str, viewer: ViewerDep, store: StoreDep, audit: AuditDep) -> EntityDetailOut:
    """One entity's details (persons masked by role)."""
    node = store.require_node(entity_id)
    viewer.require_scope(node)
    out = entity_detail(viewer, store, node)
    audit.record(viewer.user, "view_entity", ids=[out.id], kind=out.kind, masked=out.masked)
    return out


@router.get("/{entity_id:node}/neighbors", response_model=SubgraphOut)
def neighbors(entity_id: str, viewer: ViewerDep, store: StoreDep, audit: AuditDep, settings: SettingsDep,
              kinds: EdgeKinds = None,
              min_amount: Annotated[float | None, Query(ge=0, le=1e15)] = None,
              hops: Annotated[int, Query(ge=1, le=3)] = 1,
              limit: Annotated[int | None, Query(ge=1, le=1000, description="strongest neighbours per hop")] = 50,
              ) -> SubgraphOut:
    """The ego network: neighbours within `hops`, filtered by edge kind and amount."""
    wanted = sorted({k.strip().upper() for part in kinds or [] for k in part.split(",") if k.strip()})
    unknown = [k for k in wanted if k not in EDGE_KINDS]
    if unknown:
        raise InvalidRequest(f"unknown edge kind(s) {', '.join(unknown)}; choose from {', '.join(EDGE_KINDS)}")
    viewer.require_scope(store.require_node(entity_id))
    g = store.neighbors(entity_id, kinds=wanted or None, min_amount=min_amount, hops=hops, limit=limit)
    g = viewer.scope.filter_graph(g, entity_id)  # every node and edge, not only the centre
    if min_amount is not None:
        g = _without_hidden_amounts(viewer, g, entity_id)
    out = subgraph_out(viewer, g, entity_id, viewer.scope.hidden, settings.lang)
    persons = [n.id for n in out.nodes if n.kind == "Person"]
    if persons:
        audit.record(viewer.user, "neighbors", ids=persons, center=entity_id, rows=len(out.nodes))
    return out


def _without_hidden_amounts(viewer: Viewer, g: nx.MultiDiGraph, center: str) -> nx.MultiDiGraph:
    """Under `min_amount`, the links whose amount this viewer may not see (`Viewer.edge`) are left
    out, with what only they linked: a withheld amount meets no minimum, so asking again and again
    with other minimums cannot bound a masked person's pay."""
    if viewer.sees_everyone:
        return g
    viewer.prefetch(g.nodes)
    hidden = [(u, v, k) for u, v, k, d in g.edges(keys=True, data=True)
              if d.get("amount") is not None and viewer.edge(u, v, d).get("amount") is None]
    if not hidden:
        return g
    kept = g.copy()
    kept.remove_edges_from(hidden)
    if center in kept:
        linked = nx.node_connected_component(kept.to_undirected(as_view=True), center)
        kept.remove_nodes_from([n for n in list(kept.nodes) if n not in linked])
    return kept
