"""Prospect-anchor links: a prospect reached from several anchors is listed under each of them,
with that anchor's own evidence; overall lists show it once; ranks are positions in the answer."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from builders import MemoryStore, StoreBuilder, months

from graph.errors import InvalidRequest
from scoring import ecosystem, supply_chain
from scoring.explain import Prospect
from scoring.run import as_frame, frame_prospects, score_all
from scoring.settings import ScoringSettings
from scoring.stored import decode, load_prospects


def sc_score(store, settings: ScoringSettings) -> list[Prospect]:
    """The family's frame as `Prospect` objects, in rank order."""
    return frame_prospects(as_frame(supply_chain.score(store, settings)))


def eco_score(store, settings: ScoringSettings) -> list[Prospect]:
    """The family's frame as `Prospect` objects, in rank order."""
    return frame_prospects(as_frame(ecosystem.score(store, settings)))


YEAR = months("2024-01", 12)
SETTINGS = ScoringSettings(lang="en", as_of="2024-12-31")


def _shared() -> MemoryStore:
    """S is paid by A (credit, M1) every month and by B (credit, M2) for half a year; X only by B."""
    b = StoreBuilder().firm("A", "甲制造有限公司", client=True, credit=True, manager="M1", branch_id="B1")
    b.firm("B", "乙制造有限公司", client=True, credit=True, manager="M2", branch_id="B2")
    for eid in ("S", "X", "T"):
        b.firm(eid)
    b.monthly("A", "S", 100_000, YEAR, bank="他行")
    b.monthly("B", "S", 90_000, YEAR[6:])
    b.monthly("B", "X", 10_000, YEAR[:3])
    b.monthly("S", "T", 5_000, YEAR[9:])
    return b.write(MemoryStore())


def test_a_supplier_of_two_anchors_has_a_row_under_each_with_its_own_evidence():
    rows = [p for p in sc_score(_shared(), SETTINGS) if p.kind == "upstream" and p.prospect_id == "S"]
    by_anchor = {p.anchor_id: p for p in rows}
    assert set(by_anchor) == {"A", "B"}
    a, b = by_anchor["A"], by_anchor["B"]
    ev = {k: {e.name: e.value for e in p.evidence} for k, p in by_anchor.items()}
    assert ev["A"]["amount_12m"] == pytest.approx(1_200_000) and ev["A"]["payments"] == 12
    assert ev["B"]["amount_12m"] == pytest.approx(540_000) and ev["B"]["payments"] == 6
    assert ev["A"]["other_bank"] == pytest.approx(1_200_000) and ev["B"]["other_bank"] == 0
    assert a.path == ["M1", "A", "S"] and b.path == ["M2", "B", "S"]
    assert (a.manager_id, b.manager_id, a.branch_id, b.branch_id) == ("M1", "M2", "B1", "B2")
    assert a.score > b.score
    # Each row names the other anchor and its manager, who sees the row as shared.
    assert a.details["shared_with"] == ["M2"] and b.details["shared_with"] == ["M1"]
    assert any("Also supplies B (M2)" in r.en for r in a.reasons)
    assert any("同时是B（客户经理M2）的供应商" in r.zh for r in a.reasons)
    for p in rows:
        assert p.score == pytest.approx(sum(e.contribution for e in p.evidence), abs=1e-6)


class _BranchMask:
    """A viewer's field mask limited to one branch (the API's `FieldMask`): persons as given."""

    def __init__(self, branch: str) -> None:
        self.branch = branch

    def __call__(self, person_id, name):
        return name

    def in_scope(self, branch) -> bool:
        return branch in (None, "", self.branch)


def test_the_other_anchors_are_fields_with_their_branches_shown_per_viewer():
    from scoring.templates import scoped_details

    store = _shared()
    score_all(store, SETTINGS, families=["supply_chain"])
    rows = load_prospects(store, "supply_chain", kind="upstream", anchor="A")
    row = rows[rows["prospect_id"] == "S"].iloc[0].to_dict()
    everyone, b1, b2 = decode(row, "en"), decode(row, "en", _BranchMask("B1")), decode(row, "zh", _BranchMask("B2"))
    assert "Also supplies B (M2)." in everyone["reasons"]
    assert not any("Also" in r or "M2" in r for r in b1["reasons"])  # B is B2's: not named to B1
    assert everyone["details"]["anchor_branches"] == ["B1", "B2"]
    assert scoped_details(everyone["details"], _BranchMask("B1"))["anchor_ids"] == ["A"]
    assert scoped_details(everyone["details"], _BranchMask("B1"))["shared_with"] == []
    assert scoped_details(b2["details"], _BranchMask("B2"))["anchor_ids"] == ["B"]
    assert scoped_details(everyone["details"], None)["shared_with"] == ["M2"]


def test_the_also_sentence_names_three_in_scope_anchors_and_counts_the_rest():
    from scoring.templates import render

    parties = json.dumps({"named": [{"id": f"A{i}", "m": f"M{i}", "b": "B1" if i % 2 else "B2"} for i in range(8)],
                          "count": [{"b": "B1", "n": 4}, {"b": "B2", "n": 4}, {"b": "", "n": 1}]})
    text = render("supply_chain.upstream.also", {"also": parties}, "en", _BranchMask("B1"))
    assert text == "Also supplies A1 (M1), A3 (M3), A5 (M5) and 2 more."  # B1's four and the one of no branch
    assert render("supply_chain.upstream.also", {"also": parties}, "zh") == \
        "同时是A0（客户经理M0）、A1（客户经理M1）、A2（客户经理M2）等9家的供应商。"
    assert render("supply_chain.upstream.also", {"also_en": "B (M2)"}, "en") == ""  # stored before: left out


def test_anchor_lists_all_its_links_and_the_overall_list_each_prospect_once():
    store = _shared()
    score_all(store, SETTINGS, families=["supply_chain"])
    under_b = load_prospects(store, "supply_chain", anchor="B", kind="upstream")
    assert set(under_b["prospect_id"]) == {"S", "X"} and set(under_b["anchor_id"]) == {"B"}
    assert list(under_b["rank"]) == list(range(1, len(under_b) + 1))  # positions, no gaps
    overall = load_prospects(store, "supply_chain", kind="upstream")
    assert overall["prospect_id"].is_unique and set(overall["prospect_id"]) == {"S", "X", "T"}
    s = decode(overall[overall["prospect_id"] == "S"].iloc[0].to_dict(), "en")
    assert s["anchor_id"] == "A" and s["details"]["anchor_ids"] == ["A", "B"]
    paged = load_prospects(store, "supply_chain", kind="upstream", offset=1, limit=1)
    assert list(paged["rank"]) == [2] and paged["prospect_id"].iloc[0] == overall["prospect_id"].iloc[1]


def test_a_bad_band_is_refused():
    store = _shared()
    score_all(store, SETTINGS, families=["supply_chain"])
    with pytest.raises(InvalidRequest):
        load_prospects(store, "supply_chain", band="rich")


def test_a_reason_every_row_shares_is_not_shown():
    """Six suppliers of A, each living on the chain (100% dependence): the sentence separates none."""
    b = StoreBuilder().firm("A", client=True, credit=True, manager="M1")
    for i in range(6):
        b.firm(f"S{i}")
        b.monthly("A", f"S{i}", 10_000 * (i + 1), YEAR[i:])
    rows = sc_score(b.write(MemoryStore()), SETTINGS)
    assert len(rows) == 6 and all(p.details["chain_share"] == 1.0 for p in rows)
    assert not any("depends on it" in r.en for p in rows for r in p.reasons)
    # Months active differ: only the top quartile (the two steadiest) says so.
    said = {p.prospect_id for p in rows if any("Active in" in r.en for r in p.reasons)}
    assert said == {"S0"} or said == {"S0", "S1"}


# ---------------------------------------------------------------- the demo bundle
def _direct(store, anchor: str, side: str) -> set[str]:
    """The anchor's direct non-client counterparties in the 12-month window."""
    pays = store.read("payments", ["payer_id", "payee_id", "amount", "paid_on"])
    as_of = pd.Timestamp(pays["paid_on"].max()).normalize()
    pays = pays[(pays["paid_on"] > as_of - pd.DateOffset(months=12)) & (pays["amount"] > 0)]
    mine, theirs = ("payer_id", "payee_id") if side == "upstream" else ("payee_id", "payer_id")
    ids = set(pays.loc[pays[mine] == anchor, theirs].dropna().astype(str)) - {anchor}
    ent = store.read("enterprises").set_index("id")
    ok = ~ent["is_client"].fillna(False).astype(bool) & ~ent["do_not_contact"].fillna(False).astype(bool)
    return {i for i in ids if i in ent.index and bool(ok.get(i, False)) and "REDACTED" not in str(ent.at[i, "name"])}


@pytest.mark.parametrize("side", ["upstream", "downstream"])
def test_anchor_recall_of_direct_counterparties_on_the_demo(demo_store, side):
    from demo import cases as dc

    for anchor in (dc.CORE, dc.ASSOC_CREDIT_MEMBER):
        expected = _direct(demo_store, anchor, side)
        got = set(load_prospects(demo_store, "supply_chain", anchor=anchor, kind=side)["prospect_id"])
        if anchor == dc.CORE:
            assert len(expected) >= 6
        missing = expected - got
        assert not missing, f"{anchor} {side}: {sorted(missing)} not listed"


def test_bill_discounting_lead_reaches_the_top_ten_on_the_demo(demo_store):
    from demo import cases as dc

    top = load_prospects(demo_store, "supply_chain", limit=10)
    assert dc.TIER2_ENDORSED in set(top["prospect_id"])
    row = decode(top[top["prospect_id"] == dc.TIER2_ENDORSED].iloc[0].to_dict(), "en")
    assert row["reasons"][0].startswith("Discounted 2 chain bill(s) at another bank in the last 12 months")


def test_a_shared_supplier_is_owned_once_and_on_the_other_managers_board(tmp_path):
    from graph.networkx_store import NetworkxStore
    from leads.board import build_board

    store = NetworkxStore(tmp_path / "store")
    source = _shared()
    store.write({t: source.read(t) for t in ("enterprises", "payments")}, note="test")
    score_all(store, SETTINGS, families=["supply_chain"])
    board = build_board(store, SETTINGS)
    s = board[board["entity_id"] == "S"]
    assert len(s) == 1 and s.iloc[0]["owner"] == "M1" and s.iloc[0]["shared_with"] == ["M2"]
    assert "S" in set(build_board(store, SETTINGS, manager="M2")["entity_id"])  # shared: on M2's board too
    assert "S" not in set(board[board["owner"] == "M2"]["entity_id"])


def test_a_group_company_of_two_clients_has_a_row_under_each():

    # P is C1's subsidiary and C2's fellow subsidiary (both under C1); C2 pays P, C1 does not.
    b = StoreBuilder().firm("C1", "甲集团有限公司", client=True, credit=True, manager="M1")
    b.firm("C2", "甲物流有限公司", client=True, manager="M2", parent="C1").firm("P", "甲贸易有限公司", parent="C1")
    b.monthly("C2", "P", 50_000, YEAR)
    rows = [p for p in eco_score(b.write(MemoryStore()), SETTINGS) if p.prospect_id == "P"]
    by_anchor = {p.anchor_id: p for p in rows}
    assert set(by_anchor) == {"C1", "C2"}
    flows = {a: next(e.value for e in p.evidence if e.name == "flows") for a, p in by_anchor.items()}
    assert flows["C2"] == pytest.approx(600_000) and not flows["C1"]
    assert by_anchor["C1"].details["relation"] == "subsidiary" and by_anchor["C2"].details["relation"] == "sibling"
    assert by_anchor["C1"].details["shared_with"] == ["M2"] and by_anchor["C2"].manager_id == "M2"
    assert any("Also linked to client C2 (M2)" in r.en for r in by_anchor["C1"].reasons)


@pytest.mark.parametrize("family", ["supply_chain", "referral", "ecosystem"])
def test_each_anchors_rows_come_from_the_anchor_index_exactly_as_a_filter_of_the_table(demo_store, family):
    """`/prospects?anchor=` pre-selects the anchor's rows by the version's anchor index: every
    anchor (and one nobody has, and ids a prefix or an extension of a real one) gets exactly the
    rows, order and count a filter of the whole table gives."""
    from scoring.stored import anchor_rows, page_prospects, prospects_arrow

    table = prospects_arrow(demo_store)[1].to_pandas()
    table = table[table["family"] == family]
    anchors = sorted(table["anchor_id"].dropna().unique())
    assert anchors, "the demo has anchors in this family"
    probes = [*anchors, "no-such-anchor", anchors[0][:-1], anchors[-1] + "0", ""]
    for anchor in probes:
        expected = table[table["anchor_id"] == anchor].sort_values(
            ["score", "kind", "prospect_id", "rank"], ascending=[False, True, True, True], kind="stable")
        page, total = page_prospects(demo_store, family, anchor=anchor, limit=5)
        assert total == len(expected), anchor
        assert list(page["prospect_id"]) == list(expected["prospect_id"][:5]), anchor
        assert (page["anchor_id"] == anchor).all()
    at = anchor_rows(demo_store, anchors[0])
    assert at is not None and len(at) >= 1 and list(at) == sorted(at)  # the index answered, in table order


def test_the_overall_list_takes_each_prospects_best_link_from_the_versions_link_order(demo_store):
    """The overall list (no anchor) shows each prospect of a kind once, by its best-scored link:
    read from link orders computed once per version, asked twice (the second from the cache)."""
    from scoring.answer import LINKED_FAMILIES
    from scoring.stored import page_prospects, prospects_arrow

    table = prospects_arrow(demo_store)[1].to_pandas()
    for family in LINKED_FAMILIES:
        rows = table[table["family"] == family]
        best = rows.groupby(["kind", "prospect_id"])["score"].max()
        for _ in range(2):
            page, total = page_prospects(demo_store, family)
            assert total == len(best) == len(page)
            assert not page.duplicated(["kind", "prospect_id"]).any()
            got = page.set_index(["kind", "prospect_id"])["score"].sort_index()
            assert got.tolist() == best.sort_index().tolist()
