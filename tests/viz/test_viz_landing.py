"""The landing page: links to the pictures a role may open, the charts, escaping."""

from __future__ import annotations

import handmade

from scoring.stored import ProspectRights
from viz.landing import landing_charts, picture_links, render_landing
from viz.style import format_wan

ALL_VIEWS = {"ego", "person", "supply-chain", "referral", "payroll"}


def test_links_lead_to_the_pictures_of_a_row_that_the_role_may_open() -> None:
    row = {"family": "supply_chain", "kind": "upstream", "prospect_id": "S01", "anchor_id": "E1"}
    assert [h for _, h in picture_links(row, "zh", ALL_VIEWS)] == ["/viz/supply-chain/E1", "/viz/ego/S01"]
    assert [h for _, h in picture_links(row, "zh", {"ego", "person"})] == ["/viz/ego/S01"]
    payroll = {"family": "retail_linkage", "kind": "payroll", "prospect_id": "P 1/2", "employer_id": "W1"}
    assert [h for _, h in picture_links(payroll, "en", ALL_VIEWS)] == ["/viz/payroll/W1", "/viz/person/P%201%2F2"]


def test_three_charts_and_amounts_by_tier(viz_store) -> None:
    charts = landing_charts(viz_store, ["supply_chain", "referral", "retail_linkage", "ecosystem"], "zh")
    assert [c for c, _ in charts] == ["评分分布", "代发单位留存率", "各层级金额(万元)"]
    e = viz_store.read("edges")
    tier2 = sum(float(e[(e["src"] == a) & (e["dst"] == b)]["amount"].sum())
                for a, b in ((handmade.SUPPLIERS[0], handmade.TIER2[0]), (handmade.SUPPLIERS[1], handmade.TIER2[1])))
    assert format_wan(tier2) in str(charts[2][1])
    corporate = landing_charts(viz_store, ["supply_chain", "referral", "retail_linkage"], "en", payroll=False)
    assert [c for c, _ in corporate] == ["Score distribution", "Amounts by tier (万元)"]


def test_landing_escapes_names() -> None:
    rows = [{"family": "supply_chain", "kind": "upstream", "prospect_id": "E666", "name": handmade.EVIL_NAME,
             "score": 75.0, "rank": 1, "reasons": [handmade.EVIL_NAME], "manager_id": None, "anchor_id": "E1"}]
    html = render_landing([{"family": "supply_chain", "rows": rows, "total": 1}], [], "zh", {}, ["supply_chain"],
                          ALL_VIEWS, user="<b>x</b>")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>x</b>" not in html
    assert 'href="/viz/supply-chain/E1"' in html


def _in(branch: str):  # a viewer's branch rule (`Viewer.in_scope`)
    return lambda b: b in (None, "") or b == branch


def test_the_retention_chart_names_only_the_viewers_branchs_employers(viz_store) -> None:
    families, employer = ["retail_linkage"], viz_store.node(handmade.EMPLOYER)["name"]  # a B01 client
    b01 = ProspectRights(branch="B01")
    assert employer in str(dict(landing_charts(viz_store, families, "zh", b01, in_scope=_in("B01")))["代发单位留存率"])
    assert employer in str(dict(landing_charts(viz_store, families, "zh"))["代发单位留存率"])
    other = dict(landing_charts(viz_store, families, "zh", ProspectRights(branch="B02"), in_scope=_in("B02")))
    assert "代发单位留存率" in other and employer not in str(other["代发单位留存率"])  # the chart, empty


def test_the_tracking_charts_draw_an_employer_of_no_branch_for_every_branch(tmp_path) -> None:
    """An employer whose branch is '' is shared, as one of None is: a B01 page drew neither
    (only None was taken for shared) and fell back to no chart."""
    import pandas as pd

    from api.auth import User
    from api.masking import Viewer
    from viz.trends import tracking_charts

    class _Store:  # the enterprises the tracked ids are looked up in, and the kept snapshots
        state_dir = tmp_path

        def read(self, table: str, columns: list[str]) -> pd.DataFrame:
            return pd.DataFrame({"id": ["W0", "W1", "W2"], "name": ["共享代发单位", "西城代发单位", "东城代发单位"],
                                 "branch_id": ["", "B02", None]})[columns]

    staff = {"W0": 40, "W1": 90, "W2": 20}  # W1, another branch's, is the largest
    pd.DataFrame([{"version": str(v), "as_of": f"2025-0{v}", "scope": "employer", "scope_id": e,
                   "metric": metric, "value": float(n + v), "branch_id": ""}  # staff of no branch: shared
                  for v in (1, 2) for e, n in staff.items() for metric in ("payroll_staff", "staff_over_threshold")]
                 ).to_parquet(tmp_path / "track.parquet", index=False)
    b01 = Viewer(_Store(), User(name="b01", role="corporate_manager", branch="B01"))
    captions = [c for c, _ in tracking_charts(_Store(), "zh", b01.in_scope)]
    assert captions and all(c.startswith("共享代发单位") for c in captions)
    assert all(c.startswith("西城代发单位") for c, _ in tracking_charts(_Store(), "zh"))
