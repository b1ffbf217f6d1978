"""The pictures of the demo bundle's planted cases in the real Chromium (screenshots: demo-*.png)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pagekit import (
    SCREENS,
    Served,
    assert_drawn,
    click_node,
    load_picture,
    open_page,
    own_nodes,
    record_figure,
)

from demo import cases as dc
from viz.facts import ViewContext
from viz.views import ego_picture, payroll_picture, person_picture, referral_picture, supply_chain_picture

pytestmark = pytest.mark.browser

DEMO_PAGES = {
    "demo-ego": (f"/viz/ego/{dc.CORE}?depth=2", dc.CORE,
                 lambda s: ego_picture(s, dc.CORE, ViewContext(), depth=2)),
    "demo-supply-chain": (f"/viz/supply-chain/{dc.CORE}", dc.CORE,
                          lambda s: supply_chain_picture(s, dc.CORE, ViewContext(keep=20))),
    "demo-referral": (f"/viz/referral/{dc.ASSOC_PROSPECT_MEMBERS[0]}", dc.ASSOC_PROSPECT_MEMBERS[0],
                      lambda s: referral_picture(s, dc.ASSOC_PROSPECT_MEMBERS[0], ViewContext())),
    "demo-payroll": (f"/viz/payroll/{dc.SUPERMARKET}", dc.SUPERMARKET,
                     lambda s: payroll_picture(s, dc.SUPERMARKET, ViewContext())),
    "demo-person": (f"/viz/person/{dc.SECRETARY_GENERAL}", dc.SECRETARY_GENERAL,
                    lambda s: person_picture(s, dc.SECRETARY_GENERAL, ViewContext())),
}


@pytest.mark.parametrize("name", list(DEMO_PAGES))
def test_demo_picture(browser: Any, demo_server: Served, name: str) -> None:
    url, focus, build = DEMO_PAGES[name]
    watched = open_page(browser, demo_server)
    try:
        started = time.perf_counter()
        data = load_picture(watched, demo_server.base + url)
        seconds = time.perf_counter() - started
        assert int(watched.page.get_attribute("#network", "data-node-count") or -1) == len(own_nodes(data)) \
            == len(build(demo_server.store).nodes)
        assert_drawn(watched, name)
        assert click_node(watched, focus) == str(demo_server.store.node(focus)["name"])
        watched.assert_clean()
        if name == "demo-ego":  # a figure for the notes, not an assertion (speed lives in benchmarks)
            record_figure(demo_ego_depth2_load_s=round(seconds, 3),
                          demo_ego_depth2_draw_ms=int(watched.page.get_attribute("#network", "data-render-ms") or -1))
    finally:
        watched.page.context.close()


def test_demo_landing_links_every_family(browser: Any, demo_server: Served) -> None:
    watched = open_page(browser, demo_server)
    try:
        watched.page.goto(demo_server.base + "/")
        for family in ("supply_chain", "referral", "retail_linkage", "ecosystem"):
            assert watched.page.locator(f"#family-{family} tbody tr td a").count() >= 1, family
        assert watched.page.locator("#charts svg").count() == 3
        SCREENS.mkdir(parents=True, exist_ok=True)
        watched.page.screenshot(path=str(SCREENS / "demo-landing.png"), full_page=True)
        watched.page.locator("#family-retail_linkage a", has_text="代发分档").first.click()
        watched.page.wait_for_selector("#network[data-ready='1']", timeout=15_000)
        watched.assert_clean()
    finally:
        watched.page.context.close()
