"""The pictures of the demo bundle's planted cases (ingested and scored once per session)."""

from __future__ import annotations

import json

from demo import cases as dc
from viz.facts import ViewContext
from viz.views import ego_picture, payroll_picture, referral_picture, supply_chain_picture


def test_supply_chain_of_the_core_manufacturer(demo_store) -> None:
    picture = supply_chain_picture(demo_store, dc.CORE, ViewContext(keep=50))
    x = {n.id: n.x for n in picture.nodes if n.x is not None}
    shown_suppliers = [s for s in dc.SUPPLIERS if s in x]
    assert shown_suppliers and all(x[s] < 0 for s in shown_suppliers)
    assert all(x[b] > 0 for b in dc.BUYERS if b in x) and any(b in x for b in dc.BUYERS)
    # The endorsee holds the core's own bill: tier 1 on the bill chain; a supplier's payee is beyond.
    assert x[dc.TIER2_ENDORSED] == max(x[s] for s in shown_suppliers)
    assert x[dc.TIER2_SUPPLIERS[0]] < max(x[s] for s in shown_suppliers)
    assert any(e.kind == "ENDORSES" for e in picture.edges)


def test_referral_of_an_association_member_highlights_the_scored_chain(demo_store) -> None:
    prospect = dc.ASSOC_PROSPECT_MEMBERS[0]
    rows = demo_store.read("prospects")
    row = rows[(rows["family"] == "referral") & (rows["prospect_id"] == prospect)].iloc[0]
    best = json.loads(row["path"])
    picture = referral_picture(demo_store, prospect, ViewContext())
    highlighted = {n.id for n in picture.nodes if n.highlight}
    assert set(best) == highlighted
    assert any(n.faint for n in picture.nodes)  # the alternatives


def test_payroll_of_the_supermarket_highlights_the_planted_near_threshold_staff(demo_store) -> None:
    picture = payroll_picture(demo_store, dc.SUPERMARKET, ViewContext(), per_band=200)
    near_band = next(n for n in picture.nodes if n.kind == "Band" and n.near_threshold)
    in_near = {e.dst for e in picture.edges if e.src == near_band.id}
    assert set(dc.NEAR_THRESHOLD_STAFF) <= in_near


def test_ego_leaves_the_branch_out_unless_asked(demo_store) -> None:
    plain = ego_picture(demo_store, dc.CORE, ViewContext(), depth=2)
    assert not any(n.kind == "Branch" for n in plain.nodes)
    asked = ego_picture(demo_store, dc.CORE, ViewContext(), depth=1, kinds=["IN_BRANCH", "PAYS"])
    assert any(n.kind == "Branch" for n in asked.nodes)
