"""Turning store rows, subgraphs and paths into response bodies, through a `Viewer`.

Everything a router returns passes here, so masking and branch scope are applied once.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from api.masking import Viewer, mask_name
from api.person_branches import PersonBranches, person_branches
from api.schemas import EdgeOut, EntityDetailOut, EntityOut, EvidenceOut, PathOut, ProspectOut, SubgraphOut
from api.scope import Hidden, hidden_note
from graph.display import display_text
from graph.store import GraphStore
from graph.vocabulary import jsonable

__all__ = ["jsonable", "entity_out", "entity_detail", "subgraph_out", "path_out", "prospect_out",
           "person_ids"]

_HIDDEN = {"id", "kind", "name", "table", "masked", "restricted"}


def entity_out(viewer: Viewer, node: dict[str, Any], match: str | None = None,
               score: float | None = None) -> EntityOut:
    seen = viewer.node(node)
    name = seen.get("name")
    return EntityOut(id=str(node["id"]), kind=str(node.get("kind")), name=display_text(name) if name else None,
                     is_client=jsonable(seen.get("is_client")), is_external=jsonable(seen.get("is_external")),
                     branch_id=jsonable(seen.get("branch_id")), masked=bool(seen.get("masked")),
                     restricted=bool(seen.get("restricted")), match=match, match_score=score)


def entity_detail(viewer: Viewer, store: GraphStore, node: dict[str, Any]) -> EntityDetailOut:
    """Everything about one entity the viewer may see, plus its edges counted by kind."""
    seen = viewer.node(node)
    base = entity_out(viewer, node).model_dump()
    attributes = {k: jsonable(v) for k, v in seen.items() if k not in _HIDDEN}
    degree = store.degree(str(node["id"]))
    return EntityDetailOut(**base, attributes=attributes, degree=dict(sorted(degree.items())))


def _node_dict(g: nx.MultiDiGraph, node_id: Any) -> dict[str, Any]:
    attrs = dict(g.nodes[node_id])
    attrs["id"] = str(node_id)
    return attrs


def subgraph_out(viewer: Viewer, g: nx.MultiDiGraph, center: str, hidden: Hidden | None = None,
                 lang: str = "zh") -> SubgraphOut:
    nodes = [entity_out(viewer, _node_dict(g, n)) for n in sorted(g.nodes, key=lambda n: (n != center, str(n)))]
    fields = EdgeOut.model_fields
    edges = [
        EdgeOut(src=str(u), dst=str(v), **{k: jsonable(seen.get(k)) for k in fields if k not in ("src", "dst")})
        for u, v, d in g.edges(data=True) for seen in (viewer.edge(u, v, d),)
    ]
    hidden = hidden or Hidden()
    return SubgraphOut(center=center, nodes=nodes, edges=edges, hidden_nodes=hidden.nodes,
                       hidden_edges=hidden.edges, hidden_note=hidden_note(hidden, lang))


def path_out(viewer: Viewer, path: dict[str, Any], lang: str) -> PathOut:
    text = str(path.get(f"text_{lang}") or path.get("text") or "")
    return PathOut(nodes=[str(n) for n in path.get("nodes", [])], edges=[str(e) for e in path.get("edges", [])],
                   text=viewer.text(text, lang))


def person_ids(store: GraphStore) -> PersonBranches:
    """Person id → branch id, cached per store version (`api.masking.person_branches`)."""
    return person_branches(store)


def prospect_out(viewer: Viewer, row: dict[str, Any], lang: str, persons: PersonBranches) -> ProspectOut:
    """One decoded `prospects` row, masked for the viewer when the prospect is a person.

    The row is decoded for this viewer (`scoring.stored.decode(row, lang, viewer.person_name,
    viewer.text)`): its reasons are rendered from masked and scoped fields already, so they pass as
    given; its details name only the other anchors and managers of the viewer's branches.
    """
    pid = str(row.get("prospect_id"))
    masked = pid in persons and not viewer.sees_person({"kind": "Person", "branch_id": persons[pid]})
    name = row.get("name")
    evidence = [
        EvidenceOut(name=str(e.get("name")), label=viewer.text(str(e.get(f"label_{lang}") or e.get("name")), lang),
                    value=viewer.deep(jsonable(e.get("value")), lang), contribution=float(e.get("contribution") or 0.0))
        for e in row.get("evidence") or []
    ]
    return ProspectOut(
        family=str(row.get("family")), kind=str(row.get("kind")), prospect_id=pid,
        name=mask_name(name) if masked else jsonable(name),
        score=float(row.get("score") or 0.0), rank=jsonable(row.get("rank")),
        reasons=[str(r) for r in row.get("reasons") or []], evidence=evidence,
        path=[str(p) for p in row.get("path") or []],
        suggested_products=[str(p) for p in row.get("suggested_products") or []],
        manager_id=jsonable(row.get("manager_id")), branch_id=jsonable(row.get("branch_id")),
        anchor_id=jsonable(row.get("anchor_id")), association_id=jsonable(row.get("association_id")),
        employer_id=jsonable(row.get("employer_id")), is_deepening=jsonable(row.get("is_deepening")),
        masked=masked, details=viewer.deep(jsonable(viewer.details(row.get("details") or {})), lang),
    )
