"""Chain views: an anchor's supply chain by tier, and the referral chains that lead to a prospect.

Supply chain: upstream tiers to the left of the anchor, downstream tiers to the right, one
column per tier with its heading; each column keeps its best prospects and folds the rest.
The rows come from the scored `prospects` table (their `path` from the anchor and `details`);
before scoring has run, tiers are read off the payment and bill edges instead.

Referral: the best chain on the middle lane, highlighted; the alternatives on lanes above
and below, faint.
"""

from __future__ import annotations

import json
import math
from typing import Any

import networkx as nx

from graph import nested
from graph.errors import InvalidRequest, NotFound
from graph.store import GraphStore
from scoring.stored import decode, load_prospects
from viz.facts import ViewContext, make_edge, make_node, money_total
from viz.picture import MAX_MEMBERS, Picture, VEdge, VNode
from viz.style import label_px, text

__all__ = ["supply_chain_picture", "referral_picture", "association_picture", "chain_nodes", "supply_items"]

_GROUPS = ("prospect", "other", "client", "credit_client", "vip")  # targets first, then members already clients

_UP_KINDS = ("PAYS", "BILL", "ENDORSES")  # money flows from the anchor to its suppliers
_MAX_TIER = 3


def _json(value: Any, default: Any) -> Any:
    if isinstance(value, str) and value:
        try:
            return json.loads(value)
        except ValueError:
            return default
    return default


def supply_items(store: GraphStore, anchor: str) -> list[dict[str, Any]]:
    """(id, side, tier, score, path) of the anchor's chain: scored rows, else the edges' tiers."""
    rows = load_prospects(store, "supply_chain", anchor=anchor)
    items: list[dict[str, Any]] = []
    for rec in rows.to_dict("records"):
        path = [str(p) for p in nested.cell(rec.get("path"), "path")]
        if anchor in path:  # scoring may start the path at the anchor's manager
            path = path[path.index(anchor):]
        details = _json(rec.get("details"), {})
        tier = details.get("tier") if isinstance(details, dict) else None
        if not isinstance(tier, int) or tier < 1:
            tier = max(1, len(path) - 1)
        items.append({"id": str(rec["prospect_id"]), "side": str(rec["kind"]), "tier": min(int(tier), _MAX_TIER),
                      "score": float(rec["score"]), "path": path})
    if items:
        return items
    # no scored rows: walk the money edges around the anchor, strongest first, never the whole graph
    g = store.neighbors(anchor, kinds=list(_UP_KINDS), hops=_MAX_TIER, limit=200)
    for side, reverse in (("upstream", False), ("downstream", True)):
        view = g.reverse(copy=False) if reverse else g
        sub = nx.subgraph_view(view, filter_edge=lambda u, v, k: k in _UP_KINDS)
        for node, hops in nx.single_source_shortest_path_length(sub, anchor, cutoff=_MAX_TIER).items():
            if hops and g.nodes[node].get("kind") == "Enterprise":
                path = nx.shortest_path(sub, anchor, node)
                items.append({"id": str(node), "side": side, "tier": hops, "score": 0.0, "path": path})
    return items


def supply_chain_picture(store: GraphStore, anchor: str, ctx: ViewContext) -> Picture:
    """The anchor's upstream (left) and downstream (right), tier by tier, best first in each tier."""
    attrs = store.require_node(anchor)
    if attrs["kind"] != "Enterprise":
        raise InvalidRequest(f"{anchor} is not an enterprise")
    items = supply_items(store, anchor)
    g = store.subgraph([anchor, *(n for it in items for n in [it["id"], *it["path"]])])
    placed: dict[str, tuple[str, int, float]] = {}
    for it in sorted(items, key=lambda i: (i["tier"], -i["score"], i["id"])):
        placed.setdefault(it["id"], (it["side"], it["tier"], it["score"]))
    for it in items:  # intermediates sit at their own tier, ranked by the best row behind them
        for depth, hop in enumerate(it["path"][1:-1], start=1):
            if hop != anchor and hop in g:
                side, tier, score = placed.get(hop, (it["side"], min(depth, _MAX_TIER), 0.0))
                placed[hop] = (side, tier, max(score, it["score"]))
    placed.pop(anchor, None)
    via = {hop for it in items for hop in it["path"][1:-1] if hop in placed}
    columns: dict[tuple[str, int], list[str]] = {}
    for pid, (side, tier, _score) in placed.items():
        columns.setdefault((side, tier), []).append(pid)
    nodes: list[VNode] = [make_node(store, anchor, ctx, attrs={**g.nodes[anchor]}, focus=True)]
    edges: list[VEdge] = []
    layout: dict[tuple[str, int], list[str]] = {}
    drawn: set[str] = {anchor}
    for (side, tier), members in sorted(columns.items()):
        # a firm the chain runs through stays drawn, or its deeper tiers would hang loose
        members.sort(key=lambda m: (m not in via, -placed[m][2], str(m)))
        shown, rest = members[: ctx.keep], members[ctx.keep:]
        header = VNode(id=f"hdr:{side}:{tier}", name=f"{text(side, ctx.lang)} {text('tier', ctx.lang, n=tier)}",
                       kind="Header")
        nodes.append(header)
        column = [header.id]
        for pid in shown:
            nodes.append(make_node(store, pid, ctx, attrs={**g.nodes[pid]} if pid in g else None))
            column.append(pid)
            drawn.add(pid)
        if rest:
            more = VNode(id=f"more:{side}:{tier}", name=text("more_of", ctx.lang, n=len(rest), what=text("firms", ctx.lang)),
                         kind="More", folded=len(rest), parent=column[-1] if len(column) > 1 else anchor,
                         member_edge="LINK",
                         facts=[(text("folded", ctx.lang), "、".join(_name(g, r, ctx) for r in rest[:5]))])
            more.members = [make_node(store, r, ctx, attrs={**g.nodes[r]} if r in g else None)
                            for r in rest[:MAX_MEMBERS]]
            nodes.append(more)
            column.append(more.id)
        layout[(side, tier)] = column
    for u, v, data in g.edges(drawn, data=True):
        if v in drawn and data.get("kind") in _UP_KINDS:
            edges.append(make_edge(u, v, ctx.edge(u, v, data), ctx.lang))
    linked = {(e.src, e.dst) for e in edges} | {(e.dst, e.src) for e in edges}
    for it in items:  # a chain step with no drawn money edge still shows as a link
        for a, b in zip(it["path"], it["path"][1:], strict=False):
            if a in drawn and b in drawn and (a, b) not in linked:
                edges.append(VEdge(src=a, dst=b, kind="LINK"))
                linked |= {(a, b), (b, a)}
    for n in nodes:
        if n.kind not in ("Header", "More"):
            n.amount = money_total(g, n.id, drawn, ctx) or None
    pos = _tier_positions(anchor, layout, {n.id: min(label_px(n.name), 140.0) for n in nodes})
    for n in nodes:
        n.x, n.y = pos.get(n.id, (0.0, 0.0))
    ups = sum(1 for s, _, _ in placed.values() if s == "upstream")
    subtitle = f"{text('upstream', ctx.lang)} {ups} · {text('downstream', ctx.lang)} {len(placed) - ups}"
    return Picture(view="supply_chain", title=text("title_supply", ctx.lang, name=nodes[0].name), nodes=nodes,
                   edges=edges, subtitle=subtitle, lang=ctx.lang)


def _tier_positions(anchor: str, layout: dict[tuple[str, int], list[str]], widths: dict[str, float],
                    wrap: int = 10, gap_y: float = 88.0) -> dict[str, tuple[float, float]]:
    """Upstream tiers leftwards, downstream rightwards; a long tier wraps into sub-columns outwards.

    Each (sub-)column is as wide as its widest label plus a gap, so labels in neighbouring
    columns never meet; rows are as tall as the largest node and its label.
    """
    pos: dict[str, tuple[float, float]] = {anchor: (0.0, 0.0)}
    half_anchor = max(widths.get(anchor, 80.0) / 2, 60.0)
    for side, sign in (("upstream", -1.0), ("downstream", 1.0)):
        x = sign * (half_anchor + 60.0)
        for tier in range(1, _MAX_TIER + 1):
            column = layout.get((side, tier))
            if not column:
                continue
            header, members = column[0], column[1:]
            chunks = [members[i:i + wrap] for i in range(0, len(members), wrap)] or [[]]
            top = -(min(len(members), wrap) - 1) * gap_y / 2
            first_x = None
            for n, chunk in enumerate(chunks):
                half = max([widths.get(m, 80.0) / 2 for m in chunk] + [40.0])
                x += sign * half
                first_x = x if first_x is None else first_x
                for i, node in enumerate(chunk):
                    pos[node] = (round(x, 1), round(top + i * gap_y + (gap_y / 2 if n % 2 else 0.0), 1))
                x += sign * (half + 30.0)
            pos[header] = (round(((first_x or x) + x - sign * 30.0) / 2, 1), top - 80.0)
            x += sign * 70.0
    return pos


def _name(g: nx.MultiDiGraph, node: str, ctx: ViewContext) -> str:
    return ctx.name_of({**g.nodes[node]}, node) if node in g else str(node)


def chain_nodes(chain: Any) -> list[str]:
    """A chain as node ids: a list of ids, or a dict with `nodes` / `path`."""
    if isinstance(chain, dict):
        chain = chain.get("nodes") or chain.get("path") or []
    return [str(n) for n in chain] if isinstance(chain, list) else []


def _referral_chains(row: dict[str, Any]) -> list[list[str]]:
    details = _json(row.get("details"), {})
    details = details if isinstance(details, dict) else {}
    best = chain_nodes(details.get("best_chain")) or [str(p) for p in nested.cell(row.get("path"), "path")]
    chains = [best] if best else []
    for key in ("other_chains", "alternatives", "chains"):
        for chain in details.get(key) or []:
            nodes = chain_nodes(chain)
            if nodes and nodes not in chains:
                chains.append(nodes)
    return chains


def referral_picture(store: GraphStore, prospect_id: str, ctx: ViewContext, max_chains: int = 9) -> Picture:
    """The chains from the bank's side to a referral prospect: the best highlighted, the others faint."""
    rows = load_prospects(store, "referral")
    rows = rows[rows["prospect_id"] == prospect_id]
    attrs = store.node(prospect_id)
    if attrs is not None and attrs.get("kind") == "Association":
        row0 = {str(k): v for k, v in rows.iloc[0].to_dict().items()} if not rows.empty else {}
        return association_picture(store, prospect_id, ctx, row0)
    if rows.empty:
        store.require_node(prospect_id)
        raise NotFound(f"{prospect_id} is not a referral prospect")
    row = {str(k): v for k, v in rows.iloc[0].to_dict().items()}
    chains = _referral_chains(row) or [[prospect_id]]
    shown = chains[:max_chains]
    g = store.subgraph([n for chain in shown for n in chain])
    pos: dict[str, tuple[float, float]] = {}
    best_nodes = set(shown[0])
    for lane_no, chain in enumerate(shown):
        lane = (lane_no + 1) // 2 * (1 if lane_no % 2 else -1)
        for j, node in enumerate(chain):
            pos.setdefault(node, ((j - len(chain) + 1) * 240.0, lane * 110.0))
    nodes = []
    for node in pos:
        vn = make_node(store, node, ctx, attrs={**g.nodes[node]} if node in g else None,
                       highlight=node in best_nodes, faint=node not in best_nodes)
        vn.x, vn.y = pos[node]
        vn.focus = node == prospect_id
        nodes.append(vn)
    edges: list[VEdge] = []
    seen: set[frozenset[str]] = set()
    for lane_no, chain in enumerate(shown):
        for a, b in zip(chain, chain[1:], strict=False):
            if frozenset((a, b)) in seen:
                continue
            seen.add(frozenset((a, b)))
            edges.append(_step_edge(g, a, b, ctx, best=lane_no == 0))
    drawn = set(pos)
    for n in nodes:
        n.amount = money_total(g, n.id, drawn, ctx) or None
    notes = [text("other_chain", ctx.lang) + f": {len(chains) - len(shown)} …"] if len(chains) > len(shown) else []
    subtitle = f"{text('best_chain', ctx.lang)} · {text('other_chain', ctx.lang)} {len(shown) - 1}"
    name = next((n.name for n in nodes if n.id == prospect_id), prospect_id)
    return Picture(view="referral", title=text("title_referral", ctx.lang, name=name),
                   nodes=nodes, edges=edges, subtitle=subtitle, notes=notes, lang=ctx.lang)


def _step_edge(g: nx.MultiDiGraph, a: str, b: str, ctx: ViewContext, best: bool) -> VEdge:
    """The stored edge behind a chain step (either direction), else a plain link."""
    for u, v in ((a, b), (b, a)):
        if u in g and v in g and g.has_edge(u, v):
            data = next(iter(g.get_edge_data(u, v).values()))
            return make_edge(u, v, ctx.edge(u, v, data), ctx.lang, highlight=best, faint=not best)
    return VEdge(src=a, dst=b, kind="LINK", highlight=best, faint=not best)


def association_picture(store: GraphStore, assoc: str, ctx: ViewContext, row: dict[str, Any]) -> Picture:
    """An association (or market) as a batch target: the introducer chain on top, its members below.

    The chain (manager → the client who opens the door → the association) is the scored
    row's path. Members are grouped by status — the targets (prospects, non-clients) first,
    then the members already banking with us — one column each; beyond `ctx.keep` a
    column folds into a "+N" cluster that opens on click.
    """
    row = decode(row, ctx.lang, ctx.person) if row else {}
    sub = store.neighbors(assoc, kinds=["MEMBER_OF"], hops=1)
    chain = [str(p) for p in row.get("path") or []] or [assoc]
    if chain[-1] != assoc:
        chain.append(assoc)
    g = store.subgraph([*chain, *sub.nodes])
    nodes: list[VNode] = []
    edges: list[VEdge] = []
    for j, node in enumerate(chain):
        vn = make_node(store, node, ctx, attrs={**g.nodes[node]} if node in g else None, highlight=True,
                       focus=node == assoc)
        vn.x, vn.y = (j - len(chain) + 1) * 260.0, -260.0 if node != assoc else 0.0
        if node == assoc:
            vn.x = 0.0
        nodes.append(vn)
    for a, b in zip(chain, chain[1:], strict=False):
        edges.append(_step_edge(g, a, b, ctx, best=True))
    placed = set(chain)
    groups: dict[str, list[VNode]] = {}
    for member in sorted(n for n in sub.nodes if n != assoc and n not in placed):
        vn = make_node(store, member, ctx, attrs={**g.nodes[member]})
        groups.setdefault(vn.status, []).append(vn)
    blocks = []  # a group is a block of up to five columns: wide rather than tall, so labels stay legible
    for status in sorted(groups, key=lambda st: _GROUPS.index(st) if st in _GROUPS else 99):
        members = sorted(groups[status], key=lambda n: (-(n.score or 0.0), n.name))
        cell = max([min(label_px(m.name), 140.0) for m in members[: ctx.keep]] + [60.0]) + 40.0
        drawn_here = min(len(members), ctx.keep) + (1 if len(members) > ctx.keep else 0)
        blocks.append((status, members, cell, min(5, max(1, math.ceil(math.sqrt(drawn_here))))))
    total_w = sum(cell * cols for _, _, cell, cols in blocks) + 80.0 * (len(blocks) - 1)
    left = -total_w / 2
    for status, members, cell, cols in blocks:
        centre = left + cell * (cols - 1) / 2
        header = VNode(id=f"hdr:{status}", name=f"{text(status, ctx.lang)} · {len(members)}", kind="Header",
                       x=centre, y=170.0)
        nodes.append(header)
        cells = [(left + (i % cols) * cell, 250.0 + (i // cols) * 88.0) for i in range(min(len(members), ctx.keep) + 1)]
        for i, vn in enumerate(members[: ctx.keep]):
            vn.x, vn.y = cells[i]
            nodes.append(vn)
            edges.append(VEdge(src=vn.id, dst=assoc, kind="MEMBER_OF", faint=True))
        rest = members[ctx.keep:]
        if rest:
            more = VNode(id=f"more:{status}", name=text("more_of", ctx.lang, n=len(rest), what=text(status, ctx.lang)),
                         kind="More", folded=len(rest), parent=assoc, member_edge="MEMBER_OF",
                         x=cells[-1][0], y=cells[-1][1],
                         facts=[(text("folded", ctx.lang), "、".join(m.name for m in rest[:5]))],
                         members=rest[:MAX_MEMBERS])
            nodes.append(more)
            edges.append(VEdge(src=more.id, dst=assoc, kind="FOLD"))
        left += cell * cols + 80.0
    targets = len(groups.get("prospect", [])) + len(groups.get("other", []))
    name = next(n.name for n in nodes if n.id == assoc)
    subtitle = (f"{text('introducers', ctx.lang)} · {text('targets', ctx.lang)} {targets} · "
                f"{text('member', ctx.lang)} {sum(len(v) for v in groups.values())}")
    return Picture(view="referral", title=text("title_association", ctx.lang, name=name), nodes=nodes, edges=edges,
                   subtitle=subtitle, notes=_row_notes(row, ctx), lang=ctx.lang)


def _row_notes(row: dict[str, Any], ctx: ViewContext) -> list[str]:
    """A decoded row's reasons and suggested products, in the viewer's words."""
    notes = [ctx.scrub(str(r)) for r in (row.get("reasons") or [])[:4]]
    products = [text(str(p), ctx.lang) for p in row.get("suggested_products") or []]
    if products:
        notes.append(f"{text('products', ctx.lang)}: {('、' if ctx.lang == 'zh' else ', ').join(products)}")
    return notes
