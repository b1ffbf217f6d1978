"""The renderer: escaping, the JSON data block, the legend, 万元 labels, sizes and the CSP."""

from __future__ import annotations

import json
import re

import handmade
import numpy as np

from viz.charts import bar_chart, histogram
from viz.facts import ViewContext
from viz.picture import Picture, VEdge, VNode
from viz.render import CSP, json_for_script, render_picture, vis_data
from viz.style import edge_width, format_wan, legend, node_size
from viz.views import ego_picture, payroll_picture, supply_chain_picture

EVIL = handmade.EVIL_NAME


def _graph_data(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', html, re.S)
    assert block is not None
    return json.loads(block.group(1))


def test_a_script_name_is_text_everywhere_in_the_page() -> None:
    picture = Picture(view="ego", title=f"网络:{EVIL}", subtitle=EVIL,
                      nodes=[VNode(id="x<1>", name=EVIL, kind="Enterprise", facts=[("行业", EVIL)],
                                   explanation=[EVIL]), VNode(id="y", name="乙", kind="Enterprise")],
                      edges=[VEdge(src="x<1>", dst="y", kind="PAYS", amount=1.0, facts=[("x", EVIL)])])
    html = render_picture(picture, user=EVIL)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the title, subtitle and user: escaped text
    # only the three script elements of the template: vis-network, graph.js and the JSON data
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script src="/static/vis-network.min.js" defer>', '<script src="/static/graph.js" defer>',
                       '<script type="application/json" id="graph-data">']
    data = _graph_data(html)
    assert data["details"]["x<1>"]["name"] == EVIL  # the panel gets the exact name, shown with textContent
    assert data["nodes"][0]["title"].startswith(EVIL)  # a string title: vis-network shows it as innerText


def test_json_for_script_cannot_close_the_block() -> None:
    raw = str(json_for_script({"name": "</script><script>alert(1)</script>", "amp": "a&b", "sep": "\u2028"}))
    assert "<" not in raw and ">" not in raw and "&" not in raw and "\u2028" not in raw
    assert json.loads(raw)["name"] == "</script><script>alert(1)</script>"


def test_no_cdn_and_a_strict_policy() -> None:
    html = render_picture(Picture(view="ego", title="t", nodes=[VNode(id="a", name="甲", kind="Enterprise")],
                                  edges=[]))
    assert "http://" not in html and "https://" not in html
    assert "script-src 'self'" in CSP and "unsafe-eval" not in CSP and "default-src 'self'" in CSP


def test_money_edges_are_labelled_in_wan(viz_store) -> None:
    picture = ego_picture(viz_store, handmade.ANCHOR, ViewContext(keep=200))
    data = vis_data(picture)
    edges = viz_store.read("edges")
    pays = edges[(edges["src"] == handmade.ANCHOR) & (edges["kind"] == "PAYS")]
    expected = {(r.src, r.dst): format_wan(r.amount) for r in pays.itertuples()}
    drawn = {(e["from"], e["to"]): e["label"] for e in data["edges"]
             if (e["from"], e["to"]) in expected and e["title"].startswith("付款")}  # PAYS, not the BILL beside it
    assert drawn == expected
    assert all(label.endswith("万元") for label in drawn.values())


def test_format_wan() -> None:
    assert format_wan(1_234_567.0) == "123万元"
    assert format_wan(56_000.0) == "5.6万元"
    assert format_wan(4_000.0) == "0.40万元"
    assert format_wan(None) == ""


def test_sizes_and_widths_grow_with_the_amount() -> None:
    sizes = [node_size(a, 1e7, 1e3) for a in (1e3, 1e4, 1e5, 1e7)]
    widths = [edge_width(a, 1e7, 1e3) for a in (1e3, 1e4, 1e5, 1e7)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert widths == sorted(widths) and widths[0] < widths[-1]


def test_legend_lists_what_the_picture_shows(viz_store) -> None:
    picture = payroll_picture(viz_store, handmade.EMPLOYER, ViewContext())
    html = render_picture(picture)
    items = legend("zh", {(n.kind, n.status) for n in picture.nodes}, {e.kind for e in picture.edges},
                   near_threshold=True)
    labels = [i.label for i in items]
    assert any("临界" in label for label in labels)
    assert "代发工资" in labels
    for label in labels:
        assert label in html
    assert 'id="legend"' in html


def test_english_pictures() -> None:
    picture = Picture(view="ego", title="t", lang="en", nodes=[VNode(id="a", name="A", kind="Enterprise",
                                                                     status="client")], edges=[])
    html = render_picture(picture)
    assert "Enterprise · Client" in html and "Legend" in html


def test_charts_escape_names_and_scale_bars() -> None:
    svg = str(bar_chart([(EVIL, 10.0, "#000000"), ("乙", 5.0, "#000000")], "t"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    widths = [float(w) for w in re.findall(r'<rect x="170" y="\d+" width="([\d.]+)"', svg)]
    assert widths[0] == 2 * widths[1]
    hist = str(histogram({"supply_chain": [5.0, 15.0, 15.0, 99.0]}, {"supply_chain": "供应链"}, "scores"))
    assert hist.startswith("<svg") and "供应链 (4)" in hist
    edges = str(histogram({"x": np.array([-3.0, 0.0, 9.99, 10.0, 100.0, 120.0])}, {"x": "x"}, "edges"))
    counts = {int(lo): int(n) for lo, n in re.findall(r"<title>x (\d+)–\d+: (\d+)</title>", edges)}
    assert counts == {0: 3, 10: 1, 90: 2}  # below 0 into the first bin, 100 and above into the last


def test_supply_chain_upstream_left_downstream_right(viz_store) -> None:
    picture = supply_chain_picture(viz_store, handmade.ANCHOR, ViewContext())
    x = {n.id: n.x for n in picture.nodes}
    assert x[handmade.ANCHOR] == 0.0
    assert all(x[b] > 0 for b in handmade.BUYERS)
    assert x[handmade.EVIL] < 0
    assert x[handmade.TIER2[0]] < min(x[s] for s in handmade.SUPPLIERS if s in x)  # tier 2 beyond tier 1
    headers = [n.name for n in picture.nodes if n.kind == "Header"]
    assert {"上游 第1层", "上游 第2层", "下游 第1层"} <= set(headers)
