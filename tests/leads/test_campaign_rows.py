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
