"""Every picture and the landing page in the real Chromium: drawn, complete, clickable, offline, safe.

Screenshots land in tests/artifacts/screens/ (kept as test artefacts, gitignored).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from pagekit import (
    SCREENS,
    Served,
    Watched,
    assert_drawn,
    click_node,
    handmade,
    hover_node,
    load_picture,
    open_page,
    own_nodes,
    record_figure,
)

from viz.facts import ViewContext
from viz.style import ASSET_BANDS
from viz.views import ego_picture

pytestmark = pytest.mark.browser

# The demo store's pictures are all checked in test_viz_demo_pages.py; here the hand-made
# store's ego (folding) and payroll (an expected count worked out from the tables) pages.
PAGES = {
    "ego": (f"/viz/ego/{handmade.ANCHOR}?depth=2", handmade.ANCHOR,
            lambda s: ego_picture(s, handmade.ANCHOR, ViewContext(), depth=2)),
    "payroll": (f"/viz/payroll/{handmade.EMPLOYER}", handmade.EMPLOYER, None),
}


def _payroll_expected(store: Any, per_band: int = 12) -> int:
    """Employer + one box per non-empty band + its first `per_band` staff + a fold per bigger band."""
    pay = store.read("payroll")
    staff = pay.loc[pay["employer_id"] == handmade.EMPLOYER, "person_id"].unique()
    aum = store.read("persons").set_index("id").loc[staff, "aum"].fillna(0.0)
    count = 1
    for low, high in ASSET_BANDS:
        size = int(((aum >= low) & (aum < high)).sum())
        if size:
            count += 1 + min(size, per_band) + (1 if size > per_band else 0)
    return count


@pytest.mark.parametrize("name", list(PAGES))
def test_picture_page_draws_every_node_and_shows_details(browser: Any, handmade_server: Served, name: str) -> None:
    url, focus, build = PAGES[name]
    watched = open_page(browser, handmade_server)
    try:
        data = load_picture(watched, handmade_server.base + url)
        expected = _payroll_expected(handmade_server.store) if build is None else len(build(handmade_server.store).nodes)
        drawn = int(watched.page.get_attribute("#network", "data-node-count") or -1)
        assert drawn == len(own_nodes(data)) == expected
        assert_drawn(watched, name)
        store_name = str(handmade_server.store.node(focus)["name"])
        assert click_node(watched, focus) == store_name
        assert watched.page.locator("#legend li").count() >= 2
        assert (watched.page.text_content("#picture-title") or "").endswith(store_name)
        watched.assert_clean()
    finally:
        watched.page.context.close()


def test_a_company_named_script_shows_as_text(browser: Any, handmade_server: Served) -> None:
    watched = open_page(browser, handmade_server)
    try:
        load_picture(watched, f"{handmade_server.base}/viz/supply-chain/{handmade.ANCHOR}")
        tooltip = hover_node(watched, handmade.EVIL)  # the facts and the score's explanation, as text
        assert tooltip.startswith(handmade.EVIL_NAME) and "评分" in tooltip and "近12个月金额" in tooltip
        # its lines wrap inside the box, in the page's font (vis-network's own style: one line, Verdana)
        fits = watched.page.eval_on_selector(
            "div.vis-tooltip", "e => [e.scrollWidth <= e.clientWidth + 1, getComputedStyle(e).whiteSpace,"
            " getComputedStyle(e).fontFamily]")
        assert fits[0] and fits[1] != "nowrap" and "WenQuanYi" in fits[2], fits
        assert click_node(watched, handmade.EVIL) == handmade.EVIL_NAME
        assert watched.page.locator("#details ul.explanation li").count() >= 2
        watched.page.goto(f"{handmade_server.base}/")
        assert watched.page.locator("td.name", has_text=handmade.EVIL_NAME).count() >= 1
        watched.assert_clean()  # includes: no alert() dialog fired
    finally:
        watched.page.context.close()


def test_landing_page_lists_charts_and_links_to_pictures(browser: Any, handmade_server: Served) -> None:
    watched = open_page(browser, handmade_server)
    try:
        response = watched.page.goto(f"{handmade_server.base}/")
        assert response is not None and response.status == 200
        assert watched.page.locator("#charts svg").count() == 3  # scores, payroll retention, amounts by tier
        for family in ("supply_chain", "referral", "retail_linkage"):
            assert watched.page.locator(f"#family-{family} tbody tr").count() >= 1
        assert_drawn_page(watched, "landing")
        watched.page.locator("#family-referral a", has_text="推荐链").first.click()
        watched.page.wait_for_selector("#network[data-ready='1']", timeout=15_000)
        assert urlparse(watched.page.url).path == f"/viz/referral/{handmade.PROSPECT}"
        watched.assert_clean()
    finally:
        watched.page.context.close()


def assert_drawn_page(watched: Watched, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    watched.page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_five_hundred_nodes_are_drawn_at_once(browser: Any, handmade_server: Served) -> None:
    """The hub's 621-node neighbourhood: 500 drawn, the rest folded, laid out on the server."""
    watched = open_page(browser, handmade_server)
    try:
        data = load_picture(watched, f"{handmade_server.base}/viz/ego/{handmade.HUB}?depth=2&limit=30&outer=30")
        entities = [n for n in own_nodes(data) if not str(n["id"]).startswith("more:")]
        assert len(entities) == 500
        assert data["options"]["physics"] == {"enabled": False}  # nothing left to settle
        assert all("x" in n and "y" in n for n in data["nodes"])
        assert_drawn(watched, "ego-500")
        render_ms = int(watched.page.get_attribute("#network", "data-render-ms") or -1)
        assert render_ms >= 0
        record_figure(ego_500_nodes_draw_ms=render_ms)
        watched.assert_clean()
    finally:
        watched.page.context.close()


def test_sign_in_form_then_sign_out(browser: Any, handmade_server: Served) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{handmade_server.base}/viz/ego/{handmade.ANCHOR}")
        assert urlparse(page.url).path == "/login"
        assert parse_qs(urlparse(page.url).query)["next"] == [f"/viz/ego/{handmade.ANCHOR}"]
        page.fill("input[name=token]", "wrong")
        page.click("button[type=submit]")
        assert page.locator(".error").count() == 1
        page.fill("input[name=token]", handmade_server.tokens["analyst"])
        page.click("button[type=submit]")
        page.wait_for_selector("#network[data-ready='1']", timeout=15_000)
        assert urlparse(page.url).path == f"/viz/ego/{handmade.ANCHOR}"
        cookie = next(c for c in context.cookies() if c["name"] == "pg_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        page.goto(f"{handmade_server.base}/logout")
        assert urlparse(page.url).path == "/login"
        page.goto(f"{handmade_server.base}/")
        assert urlparse(page.url).path == "/login"
    finally:
        context.close()


def test_a_token_link_signs_in_once_and_leaves_the_address_bar(browser: Any, handmade_server: Served) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        token = handmade_server.tokens["retail_manager"]
        page.goto(f"{handmade_server.base}/viz/person/{handmade.DIRECTOR}?token={token}")
        page.wait_for_selector("#network[data-ready='1']", timeout=15_000)
        assert "token" not in page.url
        page.goto(f"{handmade_server.base}/viz/payroll/{handmade.EMPLOYER}")  # the cookie carries on
        page.wait_for_selector("#network[data-ready='1']", timeout=15_000)
    finally:
        context.close()
