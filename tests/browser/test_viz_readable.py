"""Pictures a manager reads at a glance, checked in the real Chromium after the first frame.

For every page kind of the demo store, in zh and en: no two node labels' boxes overlap
(boxes as vis-network drew them: `labelModule.size` of every visible node, clusters
included), edge widths grow with the amount, zh pages show no English code words (page
text, tooltips and the details of every node), and a screenshot per page and language
lands in tests/artifacts/screens/readable-*.png. A folded group opens on click.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pagekit import (
    SCREENS,
    Served,
    Watched,
    assert_drawn,
    handmade,
    load_picture,
    node_point,
    open_page,
    own_nodes,
)

from demo import cases as dc

pytestmark = pytest.mark.browser

PAGES = {
    "ego": f"/viz/ego/{dc.CORE}?depth=2",
    "chain": f"/viz/ego/{dc.PHARMACY}",
    "supply-chain": f"/viz/supply-chain/{dc.CORE}",
    "referral": f"/viz/referral/{dc.ASSOC_PROSPECT_MEMBERS[0]}",
    "association": f"/viz/referral/{dc.ASSOC_INSULATION}",
    "market": f"/viz/referral/{dc.MARKET}",
    "payroll": f"/viz/payroll/{dc.SUPERMARKET}",
    "person": f"/viz/person/{dc.SECRETARY_GENERAL}",
}

# Codes the data and the scoring speak in; a zh page must show the words instead.
CODE_WORDS = ("upstream", "downstream", "corporate_from_retail", "association_target", "branch_store",
              "bill_discounting", "factoring", "supply_chain_finance", "working_capital_loan", "cash_management",
              "vip", "private", "mass", "potential", "member", "payroll", "executive", "outflow", "group",
              "supply_chain", "retail_linkage", "ecosystem", "referral", "legal_rep", "actual_controller",
              "shareholder", "director", "secretary_general", "vice_president", "president",
              "credit_client", "prospect", "admin", "analyst", "corporate_manager", "retail_manager",
              "Enterprise", "Person", "Association", "Manager", "PAYS", "BILL", "ENDORSES", "PAYROLL",
              "HOLDS_ROLE", "MEMBER_OF", "MANAGES", "more", "tier", "settlement_account", "association_salon",
              "batch_credit_package", "inclusive_finance_loan", "deposit", "wealth_management")
_CODE = re.compile(r"(?<![A-Za-z_])(" + "|".join(CODE_WORDS) + r")(?![A-Za-z_])")

# vis-network measures a label only when it draws it, and it skips labels too small at the
# current zoom (a big picture fitted to the screen): draw every label once, whatever the zoom,
# so every box is measured where the manager will see it after zooming in.
_LABEL_BOXES = """() => {
  const net = window.__network; const out = [];
  net.setOptions({nodes: {scaling: {label: {drawThreshold: 0}}}});
  net.redraw();
  for (const id of net.body.nodeIndices) {
    const n = net.body.nodes[id];
    if (n.options.hidden || !n.options.label) { continue; }
    const s = n.labelModule.size;
    if (!(s.width > 0)) { throw new Error("label of " + id + " not measured"); }
    if (n.options.shape === "box") {  // the label is the box (its label size carries no position)
      const b = n.shape.boundingBox;
      out.push([String(id), b.left, b.top, b.right - b.left, b.bottom - b.top]);
    } else {
      out.push([String(id), s.left, s.top, s.width, s.height]);
    }
  }
  return out;
}"""


def label_overlaps(watched: Watched) -> list[tuple[str, str]]:
    """Pairs of visible nodes whose drawn label boxes overlap (by more than a pixel each way)."""
    boxes = watched.page.evaluate(_LABEL_BOXES)
    assert boxes, "no labels read from the canvas"
    boxes.sort(key=lambda b: b[1])
    hits = []
    for i, (a, ax, ay, aw, ah) in enumerate(boxes):
        for b, bx, by, bw, bh in boxes[i + 1:]:
            if bx >= ax + aw - 1:
                break
            if min(ay + ah, by + bh) - max(ay, by) > 1 and min(ax + aw, bx + bw) - max(ax, bx) > 1:
                hits.append((a, b))
    return hits


def assert_widths_monotone(data: dict[str, Any]) -> None:
    """Within the picture, a larger amount is never drawn thinner."""
    money = sorted((float(e["amount"]), float(e["width"])) for e in data["edges"] if e.get("amount"))
    for (a1, w1), (a2, w2) in zip(money, money[1:], strict=False):
        assert w2 >= w1, f"{a2} drawn at {w2} but {a1} at {w1}"
    if len(money) >= 2 and money[-1][0] > 2 * money[0][0]:
        assert money[-1][1] > money[0][1]  # the scale really grows


def zh_codes(watched: Watched, data: dict[str, Any] | None) -> set[str]:
    """English code words on a zh page: its text, and the tooltips and details of every node and edge."""
    shown = [watched.page.inner_text("main"), watched.page.inner_text("header.top nav")]  # not the user name
    if data is not None:
        shown += [str(n.get("title", "")) for n in data["nodes"]] + [str(e.get("title", "")) for e in data["edges"]]
        shown += [str(n.get("label", "")) for n in data["nodes"]] + [str(e.get("label", "")) for e in data["edges"]]
        shown += [json.dumps({k: v for k, v in d.items() if k != "link"}, ensure_ascii=False)
                  for d in data["details"].values()]
    return {m.group(1) for text in shown for m in _CODE.finditer(text)}


def drawn_and_folds(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The entities drawn and the "+N" folds (a cluster's members travel hidden inside it)."""
    shown = [n for n in data["nodes"] if "cluster" not in n]
    return ([n for n in shown if not str(n["id"]).startswith("more:")],
            [n for n in shown if str(n["id"]).startswith("more:")])


def assert_reads_at_a_glance(watched: Watched, data: dict[str, Any], lang: str) -> None:
    """No two labels overlap, widths grow with the amount, a zh page shows no code word."""
    assert label_overlaps(watched) == []
    assert_widths_monotone(data)
    if lang == "zh":
        assert zh_codes(watched, data) == set()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_picture_reads_at_a_glance(browser: Any, demo_server: Served, name: str, lang: str) -> None:
    watched = open_page(browser, demo_server)
    try:
        data = load_picture(watched, f"{demo_server.base}{PAGES[name]}{'&' if '?' in PAGES[name] else '?'}lang={lang}")
        assert_drawn(watched, f"readable-{name}-{lang}")
        assert_reads_at_a_glance(watched, data, lang)
        assert watched.page.locator("#width-scale li").count() >= 1 or not any(e.get("amount") for e in data["edges"])
        watched.assert_clean()
    finally:
        watched.page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_hubs_two_hop_neighbourhood_reads_at_a_glance(browser: Any, handmade_server: Served, lang: str) -> None:
    """A hub of 20 partners with 30 firms each (621 entities at depth 2): the first ring whole,
    each partner's strongest few beyond it, the rest folded per partner; no label overlaps."""
    watched = open_page(browser, handmade_server)
    try:
        data = load_picture(watched, f"{handmade_server.base}/viz/ego/{handmade.HUB}?depth=2&lang={lang}")
        assert_drawn(watched, f"readable-hub-{lang}")
        drawn, folds = drawn_and_folds(data)
        assert 21 < len(drawn) <= 150 and len(folds) == 20
        assert_reads_at_a_glance(watched, data, lang)
        watched.assert_clean()
    finally:
        watched.page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_240_store_chain_reads_at_a_glance(browser: Any, handmade_server: Served, lang: str) -> None:
    """A chain of 240 stores: its strongest stores drawn with their names, the rest one fold
    ("+215 …") that opens on click; no label overlaps, widths grow with the amount."""
    watched = open_page(browser, handmade_server)
    try:
        data = load_picture(watched, f"{handmade_server.base}/viz/ego/{handmade.CHAIN}?lang={lang}")
        drawn, folds = drawn_and_folds(data)
        assert len(drawn) == 1 + 25 and len(folds) == 1
        assert f"+{240 - 25:,}" in str(folds[0]["label"])
        assert_drawn(watched, f"readable-chain240-{lang}")
        assert_reads_at_a_glance(watched, data, lang)
        before = watched.page.evaluate("() => window.__network.body.nodeIndices.length")
        watched.page.evaluate(f"() => window.__openFold('cluster:{folds[0]['id']}')")
        assert watched.page.evaluate("() => window.__network.body.nodeIndices.length") > before
        watched.assert_clean()
    finally:
        watched.page.context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_landing_reads_at_a_glance(browser: Any, demo_server: Served, lang: str) -> None:
    watched = open_page(browser, demo_server)
    try:
        watched.page.goto(f"{demo_server.base}/?lang={lang}&limit=12")
        SCREENS.mkdir(parents=True, exist_ok=True)
        watched.page.screenshot(path=str(SCREENS / f"readable-landing-{lang}.png"), full_page=True)
        for table in watched.page.locator("table.prospects").all():  # one rank column: 1, 2, 3 … per list
            ranks = [int(t) for t in table.locator("tbody td.num:first-child").all_inner_texts()]
            assert ranks == list(range(1, len(ranks) + 1))
        assert watched.page.locator("select[name=kind] option").count() > 4
        managers = watched.page.locator("select[name=manager] option").all_inner_texts()
        assert len(managers) > 2 and not any(re.fullmatch(r"M\d+", m) for m in managers)  # names, not ids
        cut = watched.page.locator("#charts text", has_text="…").count()
        assert cut == 0, "a chart label is cut"
        if lang == "zh":
            assert zh_codes(watched, None) == set()
        watched.page.select_option("select[name=kind]", "upstream")
        watched.page.click("form.filters button[type=submit]")
        assert "kind=upstream" in watched.page.url
        assert watched.page.locator("#family-supply_chain tbody tr td a").count() >= 1, watched.page.inner_text("body")
        watched.assert_clean()
    finally:
        watched.page.context.close()


def test_a_folded_group_opens_on_click(browser: Any, demo_server: Served) -> None:
    """The supermarket's 2,000 staff: a band's "+N" cluster opens into its members on click."""
    watched = open_page(browser, demo_server)
    try:
        data = load_picture(watched, f"{demo_server.base}/viz/payroll/{dc.SUPERMARKET}")
        assert data["folds"], "nothing folded"
        more = next(iter(data["folds"]))
        members = [n["id"] for n in data["nodes"] if n.get("cluster") == more]
        assert members
        visible = watched.page.evaluate("() => window.__network.body.nodeIndices.length")
        assert visible == len(own_nodes(data)) - len(data["folds"]) + len(data["folds"])  # a cluster per fold
        cluster = f"cluster:{more}"
        assert watched.page.evaluate("([id]) => window.__network.isCluster(id)", [cluster])
        watched.page.mouse.click(*node_point(watched, cluster))
        watched.page.wait_for_selector("#network[data-opened='1']", timeout=5_000)
        after = watched.page.evaluate("() => window.__network.body.nodeIndices.length")
        assert after >= visible + len(members) - 1
        assert watched.page.evaluate("([id]) => window.__network.body.nodes[id] === undefined", [cluster])
        x, y = node_point(watched, members[0])  # a member is drawn where the server placed it
        assert x > 0 and y > 0
        assert_drawn(watched, "readable-payroll-opened")
        watched.assert_clean()
    finally:
        watched.page.context.close()
