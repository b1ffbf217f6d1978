"""Pictures to HTML: pyvis assembles the vis-network nodes and edges, our Jinja2 templates the page.

pyvis's own template loads vis-network from a CDN, so it is not used: our template
references `/static/vis-network.min.js` (served by the product) and keeps every script out
of the page — the network data travels in a `<script type="application/json">` block that
`/static/graph.js` reads, which a strict Content-Security-Policy allows. Names are text
everywhere: Jinja2 autoescapes the page, vis-network draws labels on a canvas and shows
string tooltips with `innerText`, and the JSON block escapes `<`, `>` and `&`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pyvis.network import Network

from graph.schema import EDGE_KINDS
from viz.picture import MAX_MEMBERS, Box, Picture, VEdge, VNode, separate_boxes
from viz.style import (
    EDGE_STYLES,
    FOCUS_BORDER,
    HIGHLIGHT_EDGE,
    MONEY_EDGES,
    SHAPES,
    Lang,
    edge_width,
    faded,
    format_wan,
    label_px,
    legend,
    node_colour,
    node_size,
    text,
    width_samples,
)

__all__ = ["CSP", "FONT_FACE", "vis_data", "json_for_script", "render_picture", "render_page", "templates"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
FONT_FACE = "WenQuanYi Zen Hei, Noto Sans CJK SC, Microsoft YaHei, sans-serif"
TEMPLATES = Path(__file__).with_name("templates")
_MAX_LABEL_PX = 132.0  # a label longer than this (10 CJK characters) ends in "…"; the tooltip has it whole
_MAX_TOOLTIP_LINES = 14

_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


def templates() -> Environment:
    """The Jinja2 environment of the pages (autoescape on)."""
    return _env


def json_for_script(value: Any) -> Markup:
    """JSON safe inside a `<script type="application/json">` block (no `</script>` breakout)."""
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    raw = (raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
           .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return Markup(raw)  # noqa: S704 - escaped above for the script-data context


def _short(name: str, size: float = 13.0, max_px: float = _MAX_LABEL_PX) -> str:
    """The name cut with an ellipsis to fit `max_px` (at font 13; wider for a larger font)."""
    if label_px(name, size) <= max_px * size / 13.0:
        return name
    cut = name
    while cut and label_px(cut + "…", size) > max_px * size / 13.0:
        cut = cut[:-1]
    return cut + "…"


def _label(name: str, focus_name: str, size: float) -> str:
    """A node's label: the name cut to fit; a name that repeats the focus's (a chain's stores:
    "康宁大药房连锁有限公司杭州西湖店") drops the shared part, so what tells them apart shows."""
    shared = 0
    for a, b in zip(name, focus_name, strict=False):
        if a != b:
            break
        shared += 1
    if shared >= 4 and len(name) - shared >= 2 and label_px(name, size) > _MAX_LABEL_PX * size / 13.0:
        name = "…" + name[shared:]
    return _short(name, size)


def _box(node_id: str, opts: dict[str, Any], label: str, fixed: bool) -> Box:
    """The extent vis-network draws a node in: its shape and the label below it (or inside a box)."""
    size = float(opts.get("size") or 10.0)
    font = float(opts["font"].get("size") or 13.0)
    width = label_px(label, font) * 1.06 + 4
    line = font * 1.3
    shape = opts.get("shape", "dot")
    if shape in ("box", "text"):
        half_w = width / 2 + (6 if shape == "box" else 0)
        half_h = line / 2 + (6 if shape == "box" else 0)
        return Box(node_id, float(opts["x"]), float(opts["y"]), half_w, half_w, half_h, half_h, fixed)
    half_w = max(size, width / 2)
    return Box(node_id, float(opts["x"]), float(opts["y"]), half_w, half_w, size, size + 4 + line, fixed)


def _tooltip(node: VNode, lang: Lang) -> str:
    lines = [node.name, f"{text(node.kind, lang)} · {text(node.status, lang)}"
             if node.kind in ("Enterprise", "Person") else text(node.kind, lang)]
    lines += [f"{k}: {v}" for k, v in node.facts]
    if node.explanation:
        lines.append("——")
        lines += node.explanation
    if len(lines) > _MAX_TOOLTIP_LINES:
        lines = lines[: _MAX_TOOLTIP_LINES - 1] + ["…"]
    return "\n".join(lines)


def _node_options(node: VNode, span: tuple[float, float], lang: Lang) -> dict[str, Any]:
    colour = node_colour(node.kind, node.status, node.near_threshold)
    shape = SHAPES.get(node.kind, "dot")
    border = FOCUS_BORDER if node.focus or node.highlight else colour
    background = faded(colour) if node.faint else colour
    opts: dict[str, Any] = {
        "title": _tooltip(node, lang),
        "color": {"background": background, "border": faded(border) if node.faint else border,
                  "highlight": {"background": colour, "border": FOCUS_BORDER},
                  "hover": {"background": colour, "border": FOCUS_BORDER}},
        "borderWidth": 4 if node.focus else (3 if node.highlight else 1),
        "font": {"face": FONT_FACE, "size": 16 if node.focus else 13,
                 "color": "rgba(33,33,33,0.35)" if node.faint else "#212121"},
    }
    if shape in ("box", "text"):
        opts["font"]["color"] = "#ffffff" if node.kind == "Band" else opts["font"]["color"]
        if node.kind == "Header":
            opts["font"].update({"size": 18, "bold": True})
    else:
        opts["size"] = node_size(node.amount, span[1], span[0]) + (6 if node.focus else 0)
    if node.x is not None and node.y is not None:
        opts["x"], opts["y"] = node.x, node.y
    return opts


def _period(picture: Picture, lang: Lang) -> str:
    """The months a picture's edge amounts cover, in words ('2025-04至2026-03'; else all time)."""
    return picture.amount_window or text("all_time", lang)


def _edge_options(edge: VEdge, span: tuple[float, float], lang: Lang, period: str) -> dict[str, Any]:
    colour, dashed = EDGE_STYLES.get(edge.kind, EDGE_STYLES["LINK"])
    if edge.highlight:
        colour = HIGHLIGHT_EDGE
    label = edge.label
    if label is None:
        label = format_wan(edge.amount) if edge.kind in MONEY_EDGES or edge.kind == "FOLD" else ""
    title = [text(edge.kind, lang)] + ([f"{period} {format_wan(edge.amount)}"]
                                      if edge.amount else [])
    title += [f"{k}: {v}" for k, v in edge.facts]
    width = edge_width(edge.amount, span[1], span[0]) if edge.amount else 1.0
    return {
        "label": label,
        "amount": edge.amount,  # read by the tests (width monotone in amount); vis-network ignores it
        "title": "\n".join(title),
        "width": width,  # one scale per picture: a highlighted edge is told by its colour, not a wider line
        "dashes": dashed,
        "color": {"color": faded(colour, 0.2) if edge.faint else colour, "highlight": HIGHLIGHT_EDGE},
        "font": {"face": FONT_FACE, "size": 10, "align": "middle",
                 "color": "rgba(66,66,66,0.3)" if edge.faint else "#424242", "strokeWidth": 3},
    }


def _span(amounts: Iterable[float | None]) -> tuple[float, float]:
    values = [a for a in amounts if a and a > 0]
    return (min(values), max(values)) if values else (0.0, 0.0)


def _member_positions(more: VNode, members: list[VNode], sign: float, edge_x: float) -> dict[str, tuple[float, float]]:
    """Where a cluster's members stand once it opens: a grid in free space beyond the picture's
    edge (`edge_x`, on the side of the "+N" node), level with the "+N" node."""
    col_w = max((label_px(_short(m.name)) for m in members), default=60.0) + 36.0
    rows = 8
    y0 = float(more.y or 0.0)
    return {m.id: (round(edge_x + sign * (i // rows + 0.5) * col_w, 1), round(y0 + (i % rows - (rows - 1) / 2) * 60.0, 1))
            for i, m in enumerate(members)}


def vis_data(picture: Picture) -> dict[str, Any]:
    """The vis-network nodes, edges and options of a picture (assembled with pyvis), plus details.

    Labels are cut to fit and then moved apart until no two nodes' boxes (shape and label)
    overlap. A "+N" node with members becomes a cluster in the browser (`folds`): its
    members travel hidden inside it and open on click.
    """
    lang: Lang = "en" if picture.lang == "en" else "zh"
    net = Network(directed=True, cdn_resources="local")
    period = _period(picture, lang)
    members = [(more, m) for more in picture.nodes for m in more.members[:MAX_MEMBERS]]
    node_span = _span(n.amount for n in [*picture.nodes, *(m for _, m in members)] if n.kind not in ("More", "Band"))
    edge_span = _span([*(e.amount for e in picture.edges), *(m.amount for more, m in members
                                                             if more.member_edge in MONEY_EDGES)])
    details: dict[str, Any] = {}
    opts_of: dict[str, dict[str, Any]] = {}
    boxes: list[Box] = []
    focus_name = next((n.name for n in picture.nodes if n.focus), "")
    for node in picture.nodes:
        opts = _node_options(node, node_span, lang)
        opts["shape"] = SHAPES.get(node.kind, "dot")
        opts["label"] = (_short(node.name, float(opts["font"]["size"]), 220.0 if node.kind in ("More", "Header") else _MAX_LABEL_PX)
                         if node.focus or node.kind in ("More", "Header")
                         else _label(node.name, focus_name, float(opts["font"]["size"]))) or node.id
        opts_of[node.id] = opts
        if "x" in opts:
            boxes.append(_box(node.id, opts, opts["label"], fixed=node.focus))
    for node_id, (x, y) in separate_boxes(boxes).items():
        opts_of[node_id]["x"], opts_of[node_id]["y"] = x, y
    folds: dict[str, dict[str, Any]] = {}
    for node in picture.nodes:
        opts = opts_of[node.id]
        net.add_node(node.id, **opts)
        details[node.id] = _details(node, lang)
        if node.members:
            shown = node.members[:MAX_MEMBERS]
            node.x, node.y = opts.get("x", node.x), opts.get("y", node.y)
            sign = 1.0 if (node.x or 0.0) >= 0 else -1.0
            edge_x = (max((opts_of[b.id]["x"] + b.right for b in boxes), default=0.0) + 60.0 if sign > 0
                      else min((opts_of[b.id]["x"] - b.left for b in boxes), default=0.0) - 60.0)
            pos = _member_positions(node, shown, sign, edge_x)
            for m in shown:
                m_opts = _node_options(m, node_span, lang)
                m_opts["x"], m_opts["y"] = pos[m.id]
                net.add_node(m.id, label=_label(m.name, focus_name, 13.0) or m.id, shape=SHAPES.get(m.kind, "dot"),
                             cluster=node.id, **m_opts)
                details[m.id] = _details(m, lang)
            rest = node.folded - len(shown)
            folds[node.id] = {"label": opts["label"],
                              "rest": node.name.replace(f"{node.folded:,}", f"{rest:,}", 1) if rest > 0 else "",
                              "title": opts["title"] + "\n" + text("expand_hint", lang)}
    known = set(picture.node_ids())
    for edge in picture.edges:
        if edge.src in known and edge.dst in known:
            net.add_edge(edge.src, edge.dst, **_edge_options(edge, edge_span, lang, period))
    for more, m in members:
        if more.parent is not None and more.parent in known:
            edge = VEdge(src=more.parent, dst=m.id, kind=more.member_edge, label="",
                         amount=m.amount if more.member_edge in MONEY_EDGES else None, faint=True)
            net.add_edge(edge.src, edge.dst, **_edge_options(edge, edge_span, lang, period))
    nodes, edges = net.nodes, net.edges
    big = len(nodes) > 200
    options = {
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False},
        "interaction": {"hover": True, "tooltipDelay": 150, "hideEdgesOnDrag": big,
                        "hideEdgesOnZoom": big, "multiselect": False},
        "edges": {"smooth": False, "arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}},
        "nodes": {"font": {"face": FONT_FACE}},
    }
    return {"view": picture.view, "nodes": nodes, "edges": edges, "options": options, "details": details,
            "entityCount": picture.entity_count(), "folds": folds, "firstView": picture.first_view,
            "widths": [[format_wan(a), w] for a, w in width_samples(edge_span[1], edge_span[0])],
            "labels": {"details": text("details", lang), "reasons": text("reasons", lang),
                       "open": text("open_picture", lang), "score": text("score", lang)}}


def _details(node: VNode, lang: Lang) -> dict[str, Any]:
    return {
        "name": node.name, "kind": text(node.kind, lang),
        "status": text(node.status, lang) if node.kind in ("Enterprise", "Person") else "",
        "facts": [[k, v] for k, v in node.facts], "explanation": node.explanation,
        "link": node.link or "", "score": node.score,
    }


def render_picture(picture: Picture, user: str = "", nav: list[tuple[str, str]] | None = None) -> str:
    """The full HTML page of a picture: title, legend, the canvas, a details panel."""
    lang: Lang = "en" if picture.lang == "en" else "zh"
    data = vis_data(picture)
    node_keys = {(n.kind, n.status if n.kind in ("Enterprise", "Person") else "") for n in picture.nodes
                 if not n.near_threshold}
    edge_kinds = {e.kind for e in picture.edges}
    items = legend(lang, node_keys, edge_kinds, near_threshold=any(n.near_threshold for n in picture.nodes))
    return render_page("graph.html", lang=lang, picture=picture, legend=items, user=user, nav=nav or [],
                       period=_period(picture, lang),
                       widths=data["widths"], edge_kinds=list(EDGE_KINDS),
                       data_json=json_for_script(data), node_count=picture.entity_count(),
                       t=lambda key, **kw: text(key, lang, **kw))


def render_page(template: str, **context: Any) -> str:
    """Render one of viz/templates with autoescape on."""
    lang = context.get("lang", "zh")
    context.setdefault("t", lambda key, **kw: text(key, lang, **kw))
    context.setdefault("html_lang", "zh-CN" if lang == "zh" else "en")
    return _env.get_template(template).render(**context)
