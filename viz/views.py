"""View builders: the subgraph each page shows, read from the store, as a `Picture`.

`ego_picture` and `person_picture` live here; the supply-chain and referral views are in
`viz.chains`, the payroll view in `viz.payroll` (all re-exported).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from graph.errors import InvalidRequest
from graph.region import Region
from graph.schema import EDGE_KINDS
from graph.store import GraphStore
from viz.chains import referral_picture, supply_chain_picture
from viz.facts import ViewContext, make_edge, make_node, money_total, read_ahead
from viz.payroll import payroll_picture
from viz.picture import MAX_MEMBERS, Picture, VEdge, VNode, fold_tree, radial_positions, spring_positions
from viz.style import text

__all__ = ["ViewContext", "ego_picture", "person_picture", "supply_chain_picture", "referral_picture",
           "payroll_picture", "parse_kinds", "more_node"]


DEFAULT_SKIPPED_KINDS = ("IN_BRANCH",)
RADIAL_FROM = 12  # bigger neighbourhoods are laid out in rings: readable, and a force layout of 500 takes seconds
FIRST_VIEW_FROM = 40  # bigger neighbourhoods open framed on their centre and first ring


def parse_kinds(raw: str | None) -> list[str] | None:
    """`PAYS,BILL` -> ['PAYS', 'BILL']; unknown kinds are a clear 400."""
    if not raw:
        return None
    kinds = [k.strip().upper() for k in raw.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in EDGE_KINDS]
    if unknown:
        raise InvalidRequest(f"unknown edge kind(s) {', '.join(unknown)}; choose from {', '.join(EDGE_KINDS)}")
    return kinds or None


def more_node(parent: str, folded: list[str], names: dict[str, str], amount: float, ctx: ViewContext,
              kinds: dict[str, str] | None = None) -> VNode:
    """The "+N more" node standing for the folded neighbours of `parent`: "+228 企业", "+40 个人"."""
    sample = [names.get(n, n) for n in folded[:5]]
    facts = [(text("folded", ctx.lang), "、".join(sample) + ("…" if len(folded) > 5 else ""))]
    found = Counter((kinds or {}).get(n, "") for n in folded)
    what = text(found.most_common(1)[0][0], ctx.lang) if len(found) == 1 and "" not in found else \
        text("more", ctx.lang, n="").strip().lstrip("+").strip()
    return VNode(id=f"more:{parent}", name=text("more_of", ctx.lang, n=len(folded), what=what), kind="More",
                 amount=amount or None, facts=facts, folded=len(folded), parent=parent)


def _masked_persons(region: Region, ctx: ViewContext) -> set[str]:
    """The persons of the region whose links' amounts this viewer may not see (`ViewContext.edge`:
    a link touching them), looked up at once."""
    persons = [str(i) for i in region.ids[region.kinds == "Person"].tolist()]
    if not persons:
        return set()
    ctx.prefetch(persons)
    return {p for p in persons if ctx.edge(p, p, {"amount": 1.0})["amount"] is None}


def _without_masked(region: Region, node_id: str, masked: set[str]) -> Region:
    """Under a minimum amount, the `masked` persons are left out (with what only they linked): a
    link whose amount is withheld meets no minimum, so the picture cannot be asked again and again
    to bound a masked person's pay."""
    keep = ~np.isin(region.ids, list(masked)) | (region.ids == node_id)
    if keep.all():
        return region
    inner = region.keep(keep)
    return inner.keep(inner.linked(inner.index_of(node_id)))


def _hide_strengths(parent: dict[str, str | None], strength: dict[str, float], masked: set[str]) -> None:
    """A link's strength as the viewer may see its amount: 0 where a `masked` person is at either
    end, so the neighbours drawn first, the folds' totals and the members' amounts neither show
    nor rank by a masked person's pay (ties go by id)."""
    for n in strength:
        if n in masked or parent.get(n) in masked:
            strength[n] = 0.0


def ego_picture(store: GraphStore, node_id: str, ctx: ViewContext, depth: int = 1,
                kinds: Iterable[str] | None = None, min_amount: float | None = None) -> Picture:
    """The neighbourhood of an entity, `depth` hops, strongest neighbours drawn, the rest folded.

    The neighbourhood is chosen on columns (`GraphStore.ego_region`: a couple of thousand nodes
    and tens of thousands of edges around a hub, as arrays); only the nodes and edges drawn are
    then read from the store.
    """
    if not 1 <= depth <= 3:
        raise InvalidRequest("depth must be 1, 2 or 3")
    if min_amount is not None and min_amount < 0:
        raise InvalidRequest("min_amount must not be negative")
    # A branch links everyone in it: followed by default, it would drown every neighbourhood.
    wanted = list(kinds) if kinds else [k for k in EDGE_KINDS if k not in DEFAULT_SKIPPED_KINDS]
    # per hop only the strongest neighbours are loaded (a hub's two-hop ball can hold a whole
    # city): twice what is drawn, so the "+N more" folds still count what lies just beyond
    # and only the neighbours that can be drawn are followed outwards (twice `keep`: the ranking by
    # the strongest single edge here and by the pair's total in `fold_tree` may differ a little)
    region = store.ego_region(node_id, kinds=wanted, min_amount=min_amount, hops=depth, limit=2 * ctx.max_nodes,
                              expand=2 * ctx.keep)
    masked = _masked_persons(region, ctx)
    if min_amount is not None and masked:
        region = _without_masked(region, node_id, masked)
    # each node's parent is its strongest link one hop nearer; strength = the amount on that pair
    parent, strength = region.tree(region.index_of(node_id))
    if masked:
        _hide_strengths(parent, strength, masked)
    kept, folds = fold_tree(parent, strength, keep=ctx.keep, max_nodes=ctx.max_nodes,
                             keep_deeper=min(ctx.keep, ctx.keep_deeper))
    keep_set = set(kept)
    direct = {par: [f for f in folded if parent.get(f) == par] for par, folded in folds.items()}
    members = {par: found[:MAX_MEMBERS] for par, found in direct.items()}
    # attributes only of what is drawn or named: the kept nodes, the folds' members and first five
    attrs = region.attrs([*kept, *(m for found in members.values() for m in found),
                          *(n for folded in folds.values() for n in folded[:5])])
    read_ahead(store, ctx, {n: attrs[n] for n in [*kept, *(m for found in members.values() for m in found)]})
    drawn = region.graph(kept, attrs)  # the kept nodes and the edges among them, in the region's order
    nodes = [make_node(store, n, ctx, attrs={**attrs[n]}) for n in kept]
    by_id = {n.id: n for n in nodes}
    for n in nodes:
        n.amount = money_total(drawn, n.id, keep_set, ctx) or None
    by_id[node_id].focus = True
    edges: list[VEdge] = [make_edge(u, v, ctx.edge(u, v, data), ctx.lang) for u, v, data in drawn.edges(data=True)]
    # the "+N more" nodes name the first few they fold
    names = {n: _display_name(attrs[n], n, ctx) for folded in folds.values() for n in folded[:5]}
    kind_of = dict(zip(region.ids.tolist(), region.kinds.tolist(), strict=True))
    for par, folded in folds.items():
        # a folded node's pair strength with its parent is its tree strength (none on a masked
        # person's link: `_hide_strengths`)
        amount = sum(strength[f] for f in direct[par])
        kinds_of = {f: kind_of.get(f, "") for f in folded}
        more = more_node(par, folded, names, amount, ctx, kinds_of)
        more.members = [make_node(store, f, ctx, attrs={**attrs[f]}) for f in members[par]]
        for m in more.members:
            m.amount = strength.get(m.id) or None
        more.member_edge = "PAYS" if any(m.amount for m in more.members) else "LINK"
        nodes.append(more)
        edges.append(VEdge(src=par, dst=more.id, kind="FOLD", amount=amount or None))
    if len(nodes) > RADIAL_FROM:
        tree: dict[str, str | None] = {n: parent[n] for n in kept}
        tree.update({f"more:{par}": par for par in folds})
        pos = radial_positions(tree, min_gap=110.0)  # room for a label (about 130 px) beside each node
        for n in nodes:
            n.x, n.y = pos.get(n.id, (0.0, 0.0))
    else:
        _place(nodes, edges, node_id)
    folded_total = sum(len(f) for f in folds.values())
    name = by_id[node_id].name
    # a big neighbourhood opens on the centre and its first ring, whose names can be read at
    # once; the outer rings are a zoom away (drawn whole, they would shrink every label to dots)
    first_ring = [n for n in kept if parent.get(n) == node_id]
    first_view = [node_id, *first_ring] if len(kept) > FIRST_VIEW_FROM and len(first_ring) > 1 else []
    subtitle = (f"{text('depth', ctx.lang)} {depth} · {len(kept)} / {len(parent)}"
                + (f" · {text('folded', ctx.lang)} {folded_total}" if folded_total else "")
                + (f" · {text('zoom_out_for_more', ctx.lang)}" if first_view else ""))
    params = {"depth": str(depth), "kinds": ",".join(kinds or []),
              "min_amount": "" if min_amount is None else f"{min_amount:g}", "limit": str(ctx.keep)}
    return Picture(view="ego", title=text("title_ego", ctx.lang, name=name), nodes=nodes, edges=edges,
                   subtitle=subtitle, lang=ctx.lang, params=params, first_view=first_view)


def _display_name(attrs: dict[str, Any], node_id: str, ctx: ViewContext) -> str:
    return ctx.name_of(attrs, node_id)


def _place(nodes: list[VNode], edges: list[VEdge], centre: str) -> None:
    pos = spring_positions([n.id for n in nodes], [(e.src, e.dst) for e in edges], centre=centre)
    for n in nodes:
        n.x, n.y = pos.get(n.id, (0.0, 0.0))


def person_picture(store: GraphStore, person_id: str, ctx: ViewContext) -> Picture:
    """A person, the enterprises they hold roles in or are paid by, their associations and the managers."""
    attrs = store.require_node(person_id)
    if attrs["kind"] != "Person":
        raise InvalidRequest(f"{person_id} is not a person; open /viz/ego/{person_id}")
    # the person's own edges, then the managers of their enterprises: a local subgraph, not the whole graph
    near = store.neighbors(person_id, hops=1)
    adjacency = store.adjacency()
    managers = [m for n, d in near.nodes(data=True) if d.get("kind") == "Enterprise"
                for m in adjacency.ball(n, 1, kinds=["MANAGES"])[1:]]
    named = [d.get("manager_id") for _, d in near.nodes(data=True) if d.get("manager_id")]
    g = store.subgraph([*near.nodes, *managers, *named])
    ids: dict[str, None] = {person_id: None}
    edges_raw: list[tuple[str, str, dict[str, Any]]] = []
    for _, v, data in g.out_edges(person_id, data=True):
        if data.get("kind") in ("HOLDS_ROLE", "MEMBER_OF"):
            ids[v] = None
            edges_raw.append((person_id, v, data))
    for u, _, data in g.in_edges(person_id, data=True):
        if data.get("kind") in ("PAYROLL", "MANAGES"):
            ids[u] = None
            edges_raw.append((u, person_id, data))
    for ent in [n for n in ids if g.nodes[n].get("kind") == "Enterprise"]:
        for u, _, data in g.in_edges(ent, data=True):
            if data.get("kind") == "MANAGES":
                ids[u] = None
                edges_raw.append((u, ent, data))
    for node in list(ids):  # managers named on the rows when no MANAGES edge was derived
        mgr = g.nodes[node].get("manager_id")
        if mgr and mgr in g and mgr not in ids and g.nodes[mgr].get("kind") == "Manager":
            ids[mgr] = None
            edges_raw.append((mgr, node, {"kind": "MANAGES"}))
    nodes = [make_node(store, n, ctx, attrs={**g.nodes[n]}) for n in ids]
    keep = set(ids)
    for n in nodes:
        n.amount = money_total(g, n.id, keep, ctx) or None
    nodes[0].focus = True
    edges = [make_edge(u, v, ctx.edge(u, v, data), ctx.lang) for u, v, data in edges_raw]
    _place(nodes, edges, person_id)
    kinds = Counter(n.kind for n in nodes[1:])
    subtitle = " · ".join(f"{text(kind, ctx.lang)} {count}" for kind, count in sorted(kinds.items()))
    return Picture(view="person", title=text("title_person", ctx.lang, name=nodes[0].name), nodes=nodes,
                   edges=edges, subtitle=subtitle, lang=ctx.lang)
