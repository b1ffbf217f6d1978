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

from viz.picture import Picture, VEdge, VNode
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
    legend,
    node_colour,
    node_size,
    text,
)

__all__ = ["CSP", "FONT_FACE", "vis_data", "json_for_script", "render_picture", "render_page", "templates"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
FONT_FACE = "WenQuanYi Zen Hei, Noto Sans CJK SC, Microsoft YaHei, sans-serif"
TEMPLATES = Path(__file__).with_name("templates")
_MAX_LABEL = 16
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


def _short(name: str) -> str:
    return name if len(name) <= _MAX_LABEL else name[: _MAX_LABEL - 1] + "…"


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


def _edge_options(edge: VEdge, span: tuple[float, float], lang: Lang) -> dict[str, Any]:
    colour, dashed = EDGE_STYLES.get(edge.kind, EDGE_STYLES["LINK"])
    if edge.highlight:
        colour = HIGHLIGHT_EDGE
    label = edge.label
    if label is None:
        label = format_wan(edge.amount) if edge.kind in MONEY_EDGES or edge.kind == "FOLD" else ""
    title = [text(edge.kind, lang)] + ([format_wan(edge.amount)] if edge.amount else [])
    title += [f"{k}: {v}" for k, v in edge.facts]
    width = edge_width(edge.amount, span[1], span[0]) if edge.amount and not edge.faint else 1.0
    return {
        "label": label,
        "title": "\n".join(title),
        "width": width + (2 if edge.highlight else 0),
        "dashes": dashed,
        "color": {"color": faded(colour, 0.2) if edge.faint else colour, "highlight": HIGHLIGHT_EDGE},
        "font": {"face": FONT_FACE, "size": 10, "align": "middle",
                 "color": "rgba(66,66,66,0.3)" if edge.faint else "#424242", "strokeWidth": 3},
    }


def _span(amounts: Iterable[float | None]) -> tuple[float, float]:
    values = [a for a in amounts if a and a > 0]
    return (min(values), max(values)) if values else (0.0, 0.0)


def vis_data(picture: Picture) -> dict[str, Any]:
    """The vis-network nodes, edges and options of a picture (assembled with pyvis), plus details."""
    lang: Lang = "en" if picture.lang == "en" else "zh"
    net = Network(directed=True, cdn_resources="local")
    node_span = _span(n.amount for n in picture.nodes if n.kind not in ("More", "Band"))
    edge_span = _span(e.amount for e in picture.edges)
    details: dict[str, Any] = {}
    for node in picture.nodes:
        net.add_node(node.id, label=_short(node.name) or node.id, shape=SHAPES.get(node.kind, "dot"),
                     **_node_options(node, node_span, lang))
        details[node.id] = {
            "name": node.name, "kind": text(node.kind, lang),
            "status": text(node.status, lang) if node.kind in ("Enterprise", "Person") else "",
            "facts": [[k, v] for k, v in node.facts], "explanation": node.explanation,
            "link": node.link or "", "score": node.score,
        }
    known = set(picture.node_ids())
    for edge in picture.edges:
        if edge.src in known and edge.dst in known:
            net.add_edge(edge.src, edge.dst, **_edge_options(edge, edge_span, lang))
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
            "entityCount": picture.entity_count(),
            "labels": {"details": text("details", lang), "reasons": text("reasons", lang),
                       "open": text("open_picture", lang), "score": text("score", lang)}}


def render_picture(picture: Picture, user: str = "", nav: list[tuple[str, str]] | None = None) -> str:
    """The full HTML page of a picture: title, legend, the canvas, a details panel."""
    lang: Lang = "en" if picture.lang == "en" else "zh"
    data = vis_data(picture)
    node_keys = {(n.kind, n.status if n.kind in ("Enterprise", "Person") else "") for n in picture.nodes
                 if not n.near_threshold}
    edge_kinds = {e.kind for e in picture.edges}
    items = legend(lang, node_keys, edge_kinds, near_threshold=any(n.near_threshold for n in picture.nodes))
    return render_page("graph.html", lang=lang, picture=picture, legend=items, user=user, nav=nav or [],
                       data_json=json_for_script(data), node_count=picture.entity_count(),
                       t=lambda key, **kw: text(key, lang, **kw))


def render_page(template: str, **context: Any) -> str:
    """Render one of viz/templates with autoescape on."""
    lang = context.get("lang", "zh")
    context.setdefault("t", lambda key, **kw: text(key, lang, **kw))
    context.setdefault("html_lang", "zh-CN" if lang == "zh" else "en")
    return _env.get_template(template).render(**context)
