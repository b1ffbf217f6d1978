"""The lead board a manager can work: individual leads where a manager acts person by person,
one campaign row per employer (payroll day) and per association beyond the top members."""

from __future__ import annotations

from leads.board import build_board
from scoring.settings import ScoringSettings


def test_payroll_staff_tail_is_one_campaign_row_on_the_demo(demo_store):
    from demo import cases as dc

    board = build_board(demo_store, ScoringSettings(lang="en"))
    campaigns = board[board["row_kind"] == "campaign"]
    payroll = campaigns[campaigns["best_kind"] == "payroll_campaign"]
    assert list(payroll["entity_id"]) == [f"campaign:payroll:{dc.SUPERMARKET}"]
    info = payroll.iloc[0]["campaign"]
    staff_leads = board[(board["best_kind"] == "payroll") & (board["row_kind"] == "lead")]
    # Every payroll staff member is either an individual lead or counted in the campaign.
    assert info["staff"] + len(staff_leads) == dc.SUPERMARKET_STAFF
    assert set(dc.NEAR_THRESHOLD_STAFF) <= set(staff_leads["entity_id"])
    assert len(staff_leads) < 100 and info["staff"] > 1800
    assert sum(info["bands"].values()) == info["staff"] and info["bands"]["near"] == 0
    assert info["expected_conversions"] == round(info["staff"] * 0.26)
    assert "Payroll-day campaign" in payroll.iloc[0]["reasons"][0]
    # The board shrinks to rows a manager can work: no longer thousands.
    assert len(board) < 300


def test_market_members_beyond_the_top_ten_are_one_campaign(demo_store):
    from demo import cases as dc

    board = build_board(demo_store, ScoringSettings(lang="zh"))
    market = board[board["entity_id"] == f"campaign:association:{dc.MARKET}"]
    assert len(market) == 1 and market.iloc[0]["campaign"]["members"] >= 30
    assert "A002" not in market.iloc[0]["reasons"][0]  # Chinese text names the market, not its code
    members = board[(board["best_kind"] == "member") & board["entity_id"].isin(dc.MARKET_PROSPECT_MERCHANTS)]
    assert 0 < len(members) <= 10


def test_campaign_aggregates_match_a_per_group_reading():
    """Two employers and two associations, with missing managers and branches and a tie for the
    most frequent manager: each campaign's figures are those of its group's rows (pandas'
    groupby, read per group, is the oracle)."""
    import numpy as np
    import pandas as pd

    from scoring.campaigns import CampaignSettings, split_campaigns

    rows = pd.DataFrame({
        "kind": ["payroll"] * 7 + ["member"] * 5,
        "employer_id": ["EB", "EA", "EB", "EA", "EB", "EA", "EB"] + [None] * 5,
        "association_id": [None] * 7 + ["A2", "A1", "A2", "A2", "A1"],
        "band": ["below", "above", "below", "below", "near", "above", "above"] + [""] * 5,
        "tier": [""] * 12,
        "financial_assets": [10.0, 20.0, 30.5, 40.0, 50.0, 60.0, 70.25] + [0.0] * 5,
        "employer_name": ["乙", "", "乙", "", "乙", "", "乙"] + [""] * 5,
        "employer_manager_id": ["MB", "MA", "MB", "MA", "MB", "MA", "MB"] + [""] * 5,
        "manager_id": [None, "R2", "R9", "R1", None, None, "R1"] + [None, "M1", None, "M2", "M3"],
        "branch_id": [None, "B2", "B1", None, None, "B3", "B2"] + [None, None, "B5", "B6", "B7"],
        "score": [50.0, 90.0, 70.0, 60.0, 99.0, 30.0, 80.0, 40.0, 35.0, 45.0, 20.0, 25.0],
    })
    kept, campaigns = split_campaigns(rows, CampaignSettings(top_members=0), "en", {"A1": "Chamber"})
    by_id = {c["entity_id"]: c for c in campaigns}
    assert list(by_id) == ["campaign:payroll:EA", "campaign:payroll:EB",
                           "campaign:association:A1", "campaign:association:A2"]
    staff = rows[(rows["kind"] == "payroll") & (rows["band"] != "near")]
    for employer, g in staff.groupby("employer_id"):
        c = by_id[f"campaign:payroll:{employer}"]
        mode = g["manager_id"].dropna().mode()
        owner = mode.iloc[0] if len(mode) else g["employer_manager_id"].iloc[0]
        assert c["owner"] == owner and c["score"] == g["score"].max()
        assert c["branch_id"] == (g["branch_id"].dropna().iloc[0] if g["branch_id"].notna().any() else None)
        assert c["campaign"]["staff"] == len(g) and c["campaign"]["assets_total"] == round(g["financial_assets"].sum(), 2)
        assert c["campaign"]["assets_median"] == round(float(np.median(g["financial_assets"])), 2)
        assert c["campaign"]["bands"] == {b: int((g["band"] == b).sum()) for b in ("below", "near", "above")}
        assert c["name"] == (g["employer_name"].iloc[0] or employer)
    assert by_id["campaign:payroll:EA"]["owner"] == "R1"  # R1 and R2 once each: the smaller id
    for assoc, g in rows[rows["kind"] == "member"].groupby("association_id"):
        c = by_id[f"campaign:association:{assoc}"]
        assert c["campaign"]["members"] == len(g) and c["score"] == g["score"].max()
        assert c["owner"] == g["manager_id"].dropna().iloc[0]
        assert c["branch_id"] == g["branch_id"].dropna().iloc[0]
    assert by_id["campaign:association:A1"]["name"] == "Chamber" and list(kept["band"]) == ["near"]
