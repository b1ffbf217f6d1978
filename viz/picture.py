"""What a picture is before it is drawn: nodes, edges, words; plus folding and server-side layout.

View builders (`viz.views`) produce a `Picture`; the renderer (`viz.render`) turns it into a
page. Positions are computed here, on the server, so the browser draws at once with physics
off — 500 nodes settle as fast as 5.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

__all__ = ["VNode", "VEdge", "Picture", "Box", "fold_tree", "spring_positions", "radial_positions",
           "column_positions", "separate_boxes", "MAX_MEMBERS"]

MAX_MEMBERS = 40  # folded nodes drawn inside one cluster (the rest stay counted only)


@dataclass
class VNode:
    """A node to draw. `facts` are (label, value) lines; `explanation` the score's reasons and parts."""

    id: str
    name: str
    kind: str
    status: str = "other"
    amount: float | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    score: float | None = None
    focus: bool = False
    highlight: bool = False
    faint: bool = False
    near_threshold: bool = False
    x: float | None = None
    y: float | None = None
    link: str | None = None  # the node's own picture
    folded: int = 0  # for a "+N more" node: how many it stands for
    # for a "+N more" node: the first folded nodes, drawn inside a cluster that opens on click,
    # each linked to `parent` by an edge of `member_edge` (their amount on it)
    members: list[VNode] = field(default_factory=list)
    parent: str | None = None
    member_edge: str = "FOLD"


@dataclass
class VEdge:
    """An edge to draw; `label` overrides the default (the amount in 万元 for money edges)."""

    src: str
    dst: str
    kind: str
    amount: float | None = None
    label: str | None = None
    highlight: bool = False
    faint: bool = False
    facts: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Picture:
    """A titled network picture of one view."""

    view: str
    title: str
    nodes: list[VNode]
    edges: list[VEdge]
    subtitle: str = ""
    notes: list[str] = field(default_factory=list)
    lang: str = "zh"
    params: dict[str, str] = field(default_factory=dict)  # the view's query (for its form)
    first_view: list[str] = field(default_factory=list)  # nodes the first view frames (empty: all)
    amount_window: str = ""  # the months the edges' amounts cover ('2025-04至2026-03'); empty: all time

    def node_ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def entity_count(self) -> int:
        """Nodes that stand for something (headings excluded)."""
        return sum(1 for n in self.nodes if n.kind != "Header")


def fold_tree(
    parent: dict[str, str | None],
    strength: dict[str, float],
    keep: int,
    max_nodes: int,
    keep_deeper: int | None = None,
) -> tuple[list[str], dict[str, list[str]]]:
    """Keep each node's strongest children; fold the rest (and what hangs below) per parent.

    `parent` maps every node of a BFS tree to its parent (the root to None). Children are
    ranked by `strength` (then id, so the result is deterministic). The root keeps `keep`
    children; nodes further out keep `keep_deeper` each (default: `keep`), so a hub's second
    ring shows each partner's few strongest links instead of a wall of leaves. At most
    `max_nodes` nodes are kept overall, nearer hops first. Returns the kept nodes in BFS order
    and, per parent, the nodes folded into its "+N more" node (descendants of a folded node
    count as folded too).

    >>> kept, folds = fold_tree({"r": None, "a": "r", "b": "r", "a1": "a", "a2": "a"},
    ...                         {"a": 2.0, "b": 1.0, "a1": 5.0, "a2": 1.0}, keep=2, max_nodes=10, keep_deeper=1)
    >>> kept, folds
    (['r', 'a', 'b', 'a1'], {'a': ['a2']})
    """
    children: dict[str | None, list[str]] = {}
    for node, par in parent.items():
        children.setdefault(par, []).append(node)
    roots = children.get(None, [])
    kept: list[str] = list(roots)
    folds: dict[str, list[str]] = {}
    frontier = list(roots)
    fan_out = keep
    while frontier:
        nxt: list[str] = []
        for par in frontier:
            ranked = sorted(children.get(par, []), key=lambda n: (-strength.get(n, 0.0), str(n)))
            room = max(0, min(fan_out, max_nodes - len(kept)))
            kept.extend(ranked[:room])
            nxt.extend(ranked[:room])
            if ranked[room:]:
                folds[par] = [d for n in ranked[room:] for d in _subtree(n, children)]
        frontier = nxt
        fan_out = keep if keep_deeper is None else keep_deeper
    return kept, folds


def _subtree(node: str, children: dict[str | None, list[str]]) -> list[str]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(children.get(n, []))
    return out


def spring_positions(nodes: Iterable[str], edges: Iterable[tuple[str, str]], centre: str | None = None,
                     spread: float = 90.0) -> dict[str, tuple[float, float]]:
    """Force-directed positions computed once on the server (deterministic: fixed seed)."""
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_edges_from((u, v) for u, v in edges if u in g and v in g and u != v)
    n = g.number_of_nodes()
    if n == 0:
        return {}
    if n == 1:
        return {next(iter(g.nodes)): (0.0, 0.0)}
    fixed = None
    pos0 = None
    if centre is not None and centre in g:
        pos0 = {centre: (0.0, 0.0)}
        fixed = [centre]
    layout = nx.spring_layout(g, seed=7, iterations=60 if n <= 300 else 35, pos=pos0, fixed=fixed,
                              k=1.6 / math.sqrt(n))
    scale = max(spread * math.sqrt(n), 420.0)  # a few nodes still fill the canvas
    xs = [p[0] for p in layout.values()]
    ys = [p[1] for p in layout.values()]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    cx = layout[centre][0] if centre in layout else (max(xs) + min(xs)) / 2
    cy = layout[centre][1] if centre in layout else (max(ys) + min(ys)) / 2
    return {str(k): (round((p[0] - cx) / span * scale, 1), round((p[1] - cy) / span * scale, 1))
            for k, p in layout.items()}


def radial_positions(parent: dict[str, str | None], ring: float = 260.0,
                     min_gap: float = 40.0) -> dict[str, tuple[float, float]]:
    """A tree in rings around its root: each subtree gets a sector as wide as its leaves need.

    Linear in the number of nodes (a force layout of 500 nodes takes seconds), deterministic,
    and readable: hop 1 on the first ring, hop 2 fanned out behind its parent.
    """
    children: dict[str | None, list[str]] = {}
    for node, par in parent.items():
        children.setdefault(par, []).append(node)
    for kids in children.values():
        kids.sort(key=str)
    roots = children.get(None, [])
    if not roots:
        return {}
    leaves: dict[str, int] = {}

    def count(node: str) -> int:
        kids = children.get(node, [])
        leaves[node] = max(1, sum(count(k) for k in kids)) if kids else 1
        return leaves[node]

    depth: dict[str, int] = {}
    for root in roots:
        count(root)
    pos: dict[str, tuple[float, float]] = {}
    per_depth: dict[int, int] = {}
    stack = [(r, 0) for r in roots]
    while stack:
        node, d = stack.pop()
        depth[node] = d
        per_depth[d] = per_depth.get(d, 0) + 1
        stack.extend((k, d + 1) for k in children.get(node, []))
    deepest = max(per_depth)
    # a crowded ring is staggered into three bands, so it needs a third of the circumference
    bands = {d: 3 if per_depth[d] > 24 else 1 for d in per_depth}
    outer = max([ring * deepest] + [per_depth[d] * min_gap / (2 * math.pi) / bands[d] * deepest / d
                                    for d in per_depth if d])
    radius = {d: outer * d / deepest for d in per_depth}  # rings evenly spaced out to the outer one
    sectors = [(roots[0], 0.0, 2 * math.pi, 0)]
    while sectors:
        node, a0, a1, nth = sectors.pop()
        mid = (a0 + a1) / 2
        d = depth[node]
        r = radius[d] + (nth % bands[d]) * ring * 0.4
        pos[node] = (round(r * math.cos(mid), 1), round(r * math.sin(mid), 1))
        kids = children.get(node, [])
        total = sum(leaves[k] for k in kids) or 1
        start = a0
        for i, k in enumerate(kids):
            width = (a1 - a0) * leaves[k] / total
            sectors.append((k, start, start + width, i))
            start += width
    return pos


def column_positions(columns: dict[float, list[str]], gap_x: float = 260.0,
                     gap_y: float = 70.0) -> dict[str, tuple[float, float]]:
    """Nodes in vertical columns: `columns` maps a column index (may be negative) to its nodes, top first."""
    pos: dict[str, tuple[float, float]] = {}
    for col, ids in columns.items():
        top = -(len(ids) - 1) * gap_y / 2
        for i, node in enumerate(ids):
            pos[node] = (round(col * gap_x, 1), round(top + i * gap_y, 1))
    return pos


@dataclass
class Box:
    """A node's drawn extent (shape and label) around its position: left/right/up/down of (x, y)."""

    id: str
    x: float
    y: float
    left: float
    right: float
    up: float
    down: float
    fixed: bool = False


def separate_boxes(boxes: list[Box], gap: float = 6.0, rounds: int = 120) -> dict[str, tuple[float, float]]:
    """Nudge boxes apart until none overlap (or `rounds` passes): collision-aware label placement.

    Each pass finds every overlapping pair at once (numpy, all pairs: a picture holds at most
    a few hundred nodes) and pushes each pair apart along the axis where they overlap least,
    half each (a fixed box does not move). Layouts that already leave room come back unchanged.
    """
    if len(boxes) < 2:
        return {b.id: (round(b.x, 1), round(b.y, 1)) for b in boxes}
    x = np.array([b.x for b in boxes], dtype=float)
    y = np.array([b.y for b in boxes], dtype=float)
    left = np.array([b.left for b in boxes]) + gap / 2
    right = np.array([b.right for b in boxes]) + gap / 2
    up = np.array([b.up for b in boxes]) + gap / 2
    down = np.array([b.down for b in boxes]) + gap / 2
    free = np.array([0.0 if b.fixed else 1.0 for b in boxes])
    def crowded() -> bool:
        dx = np.minimum((x + right)[:, None], (x + right)[None, :]) - np.maximum((x - left)[:, None], (x - left)[None, :])
        dy = np.minimum((y + down)[:, None], (y + down)[None, :]) - np.maximum((y - up)[:, None], (y - up)[None, :])
        return bool((upper & (dx > gap / 2) & (dy > gap / 2)).any())

    upper = np.triu(np.ones((len(boxes), len(boxes)), dtype=bool), 1)
    if not crowded():
        return {b.id: (round(b.x, 1), round(b.y, 1)) for b in boxes}
    # a layout too dense for its labels is first spread out evenly (rings and columns keep their shape)
    area = float(((left + right) * (up + down)).sum())
    span = float((x.max() - x.min() + right.mean() * 2) * (y.max() - y.min() + down.mean() * 2))
    if span > 0 and area * 4.0 > span:  # boxes may cover a quarter of the picture
        factor = min(math.sqrt(area * 4.0 / span), 4.0)
        cx, cy = (x[free == 0].mean(), y[free == 0].mean()) if (free == 0).any() else (x.mean(), y.mean())
        x, y = cx + (x - cx) * factor, cy + (y - cy) * factor
    for _ in range(rounds):
        dx = np.minimum((x + right)[:, None], (x + right)[None, :]) - np.maximum((x - left)[:, None], (x - left)[None, :])
        dy = np.minimum((y + down)[:, None], (y + down)[None, :]) - np.maximum((y - up)[:, None], (y - up)[None, :])
        hit = upper & (dx > gap / 2) & (dy > gap / 2)  # at least half the gap stays between any two
        i, j = np.nonzero(hit)
        if not len(i):
            break
        if len(i) <= 64:  # the last few: one pair at a time (pushes no longer cancel out in a crowd)
            for a, b in zip(i.tolist(), j.tolist(), strict=True):
                ox = min(x[a] + right[a], x[b] + right[b]) - max(x[a] - left[a], x[b] - left[b])
                oy = min(y[a] + down[a], y[b] + down[b]) - max(y[a] - up[a], y[b] - up[b])
                total = free[a] + free[b]
                if ox <= gap / 2 or oy <= gap / 2 or total == 0:
                    continue
                if oy <= ox:
                    sign = 1.0 if y[b] > y[a] or (y[b] == y[a] and b > a) else -1.0
                    y[a] -= sign * (oy + 0.5) * free[a] / total
                    y[b] += sign * (oy + 0.5) * free[b] / total
                else:
                    sign = 1.0 if x[b] > x[a] or (x[b] == x[a] and b > a) else -1.0
                    x[a] -= sign * (ox + 0.5) * free[a] / total
                    x[b] += sign * (ox + 0.5) * free[b] / total
            continue
        pdx, pdy = dx[i, j], dy[i, j]
        weight = free[i] + free[j]
        keep = weight > 0
        i, j, pdx, pdy, weight = i[keep], j[keep], pdx[keep], pdy[keep], weight[keep]
        if not len(i):
            break
        share_i, share_j = free[i] / weight, free[j] / weight
        vertical = pdy <= pdx
        sign_y = np.where(y[j] >= y[i], 1.0, -1.0)
        sign_x = np.where(x[j] >= x[i], 1.0, -1.0)
        move_x = np.zeros(len(boxes))
        move_y = np.zeros(len(boxes))
        np.add.at(move_y, i, np.where(vertical, -sign_y * pdy * share_i, 0.0))
        np.add.at(move_y, j, np.where(vertical, sign_y * pdy * share_j, 0.0))
        np.add.at(move_x, i, np.where(vertical, 0.0, -sign_x * pdx * share_i))
        np.add.at(move_x, j, np.where(vertical, 0.0, sign_x * pdx * share_j))
        x += move_x * 0.6  # damped: a box pushed by several neighbours at once does not overshoot
        y += move_y * 0.6
    return {b.id: (round(float(px), 1), round(float(py), 1)) for b, px, py in zip(boxes, x, y, strict=True)}
