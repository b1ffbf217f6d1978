"""The lead board: merge across families, hygiene, routing, claims, dispositions, precision, refit."""

from __future__ import annotations

import json
import threading

import pandas as pd
import pytest

from graph.errors import Conflict, InvalidRequest
from leads.board import board_page, build_board, claim_lead, ledger, record_disposition
from leads.refit import precision_at_k, refit_weights
from leads.state import LeadLedger
from scoring.explain import Evidence, Prospect, Reason
from scoring.run import rank


def _p(family: str, kind: str, pid: str, score: float, manager: str | None = None, branch: str = "B1",
       deepening: bool = False, ev: str = "amount") -> Prospect:
    return Prospect(family=family, kind=kind, prospect_id=pid, name=f"名{pid}",
                    evidence=[Evidence(name=ev, label_en=ev, label_zh=ev, value=1, contribution=score)],
                    reasons=[Reason(en=f"{family} reason for {pid}", zh=f"{family}理由{pid}")],
                    manager_id=manager, branch_id=branch, is_deepening=deepening)


@pytest.fixture()
def board_store(store):
    enterprises = pd.DataFrame({
        "id": ["E1", "E2", "E3", "E4", "E5", "E6", "G1"],
        "name": ["甲", "乙", "丙", "丁", "戊", "己", "集团"],
        "is_client": [False, False, True, True, False, False, True],
        "do_not_contact": [False, False, False, False, True, False, False],
        "branch_id": ["B1"] * 7,
        "parent_id": [None, None, None, None, None, "G1", None],
        "registered_capital": [1e6, 2e6, 3e6, 4e6, 5e6, 1e6, 9e6],
    })
    managers = pd.DataFrame({"id": ["M1", "M2", "M3", "R1"], "name": ["一", "二", "三", "零售"],
                             "kind": ["corporate", "corporate", "corporate", "retail"],
                             "branch_id": ["B1", "B1", "B1", "B1"]})
    prospects = rank([
        _p("supply_chain", "upstream", "E1", 70, manager="M1"),
        _p("referral", "member", "E1", 50, manager="M2"),
        _p("ecosystem", "group", "E1", 40, manager="M1"),
        _p("supply_chain", "upstream", "E2", 60),  # no manager: balanced
        _p("supply_chain", "upstream", "E3", 90, manager="M1"),  # a client, not deepening: out
        _p("supply_chain", "upstream", "E4", 30, manager="M1", deepening=True),  # a deepening client: in
        _p("referral", "member", "E5", 80, manager="M2"),  # do-not-contact: out
        _p("ecosystem", "group", "E6", 20),  # no manager: balanced
        _p("referral", "association_target", "A1", 99, manager="M2"),  # a campaign, not a lead
    ])
    store.write({"enterprises": enterprises, "managers": managers, "prospects": prospects})
    return store


def test_one_row_per_entity_with_merged_reasons(board_store):
    board = build_board(board_store)
    assert board["entity_id"].is_unique
    assert set(board["entity_id"]) == {"E1", "E2", "E4", "E6"}
    e1 = board.set_index("entity_id").loc["E1"]
    assert e1["best_family"] == "supply_chain" and e1["score"] == 70
    assert e1["families"] == ["ecosystem", "referral", "supply_chain"]
    assert len(e1["reasons"]) == 3 and e1["reasons"][0].startswith("supply_chain")
    assert list(board["score"]) == sorted(board["score"], reverse=True)


def test_referrer_manager_wins_then_balanced_within_branch(board_store):
    board = build_board(board_store).set_index("entity_id")
    assert board.loc["E1", "owner"] == "M2" and board.loc["E1", "owner_source"] == "referrer"
    assert board.loc["E4", "owner"] == "M1" and board.loc["E4", "owner_source"] == "anchor"
    balanced = board[board["owner_source"] == "balanced"]
    assert set(balanced.index) == {"E2", "E6"}
    # M3 holds nothing else, so the best unowned lead goes to M3; the next to the least loaded one
    assert board.loc["E2", "owner"] == "M3"
    assert board.loc["E6", "owner"] != board.loc["E2", "owner"]


def test_claim_refused_with_owner_and_board_follows_claim(board_store):
    claim_lead(board_store, "E2", "M1", by="alice")
    with pytest.raises(Conflict, match="M1"):
        claim_lead(board_store, "E2", "M2", by="bob")
    board = build_board(board_store).set_index("entity_id")
    assert board.loc["E2", "owner"] == "M1" and board.loc["E2", "status"] == "open"
    assert set(build_board(board_store, status="new")["entity_id"]) == {"E1", "E4", "E6"}
    assert set(build_board(board_store, manager="M1")["entity_id"]) >= {"E2", "E4"}


def test_a_page_is_the_board_cut_with_the_count_before_paging(board_store):
    whole = build_board(board_store)
    page, total = board_page(board_store, offset=1, limit=2)
    assert total == len(whole) and list(page["entity_id"]) == list(whole["entity_id"][1:3])
    assert list(page["rank"]) == [2, 3] and list(page["reasons"]) == list(whole["reasons"][1:3])
    seen, total = board_page(board_store, visible=lambda b: b["entity_id"] != whole["entity_id"][0])
    assert total == len(whole) - 1 and list(seen["rank"]) == list(whole["rank"][1:])  # ranked before the cut


def test_the_version_board_is_built_once_and_claims_apply_per_request(board_store, monkeypatch):
    import leads.board as board_module

    built = []
    real = board_module._candidates
    monkeypatch.setattr(board_module, "_candidates", lambda *a: built.append(1) or real(*a))
    first = build_board(board_store).set_index("entity_id")
    build_board(board_store, manager="M1")
    assert len(built) == 1  # the second request reused the version's board
    claim_lead(board_store, "E2", "M1", by="alice")  # an owner changes: no rebuild, the claim shows
    after = build_board(board_store).set_index("entity_id")
    assert len(built) == 1 and after.loc["E2", "owner"] == "M1" != first.loc["E2", "owner"]
    record_disposition(board_store, "E6", "do_not_contact", by="alice")  # who is a candidate changes
    assert "E6" not in build_board(board_store)["entity_id"].tolist() and len(built) == 2


def test_concurrent_claims_leave_exactly_one_owner(board_store):
    winners, errors = [], []

    def attempt(owner: str) -> None:
        try:
            LeadLedger(board_store.state_dir).claim("E6", owner, by=owner)
            winners.append(owner)
        except Conflict:
            errors.append(owner)

    threads = [threading.Thread(target=attempt, args=(f"M{i % 3 + 1}",)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    owners = {c.owner for c in ledger(board_store).claims().values()}
    assert len(owners) == 1
    assert set(winners) == owners  # only the first owner's (idempotent) claims succeeded
    assert errors


def test_disposition_survives_a_new_store_version_and_dnc_hides_the_entity(board_store):
    record_disposition(board_store, "E1", "contacted", by="alice")
    record_disposition(board_store, "E6", "do_not_contact", by="alice")
    prospects = board_store.read("prospects")
    board_store.write({"prospects": prospects}, note="re-score")  # a later ingest/score makes a new version
    board = build_board(board_store).set_index("entity_id")
    assert board.loc["E1", "status"] == "contacted" and board.loc["E1", "owner"] == "M2"
    assert "E6" not in board.index
    history = ledger(board_store).history("E1")
    assert history[-1]["recorded_by"] == "alice" and history[-1]["family"] == "supply_chain"
    with pytest.raises(InvalidRequest):
        record_disposition(board_store, "E1", "maybe", by="alice")


def test_group_companies_collapse_under_their_group(store):
    enterprises = pd.DataFrame({"id": ["G", "S1", "S2"], "name": ["集团", "子一", "子二"],
                                "is_client": [True, False, False], "parent_id": [None, "G", "G"]})
    store.write({"enterprises": enterprises, "prospects": rank([
        _p("ecosystem", "group", "S1", 40, manager="M1"), _p("ecosystem", "group", "S2", 30, manager="M1")])})
    collapsed = build_board(store, collapse_groups=True)
    assert len(collapsed) == 1 and collapsed.iloc[0]["entity_id"] == "S1"
    assert collapsed.iloc[0]["members"] == ["S2"] and collapsed.iloc[0]["group_id"] == "G"


def test_a_collapsed_group_shows_only_what_the_viewer_may_see(store):
    """The group's best lead is in another branch: a branch-B2 viewer gets its own subsidiaries,
    headed by the best of them, and never the other branch's id among the members."""
    enterprises = pd.DataFrame({"id": ["G", "S1", "S2", "S3"], "name": ["集团", "子一", "子二", "子三"],
                                "is_client": [True, False, False, False], "parent_id": [None, "G", "G", "G"],
                                "branch_id": ["B1", "B1", "B2", "B2"]})
    store.write({"enterprises": enterprises, "prospects": rank([
        _p("ecosystem", "group", "S1", 40, branch="B1"), _p("ecosystem", "group", "S2", 30, branch="B2"),
        _p("ecosystem", "group", "S3", 20, branch="B2")])})
    whole, _ = board_page(store, collapse_groups=True)
    assert list(whole["entity_id"]) == ["S1"] and sorted(whole.iloc[0]["members"]) == ["S2", "S3"]
    mine, total = board_page(store, collapse_groups=True, visible=lambda b: b["branch_id"] == "B2")
    assert total == 1 and mine.iloc[0]["entity_id"] == "S2" and list(mine.iloc[0]["members"]) == ["S3"]
    assert mine.iloc[0]["rank"] == 2  # its own rank on the bank's board


def test_precision_and_refit_learn_which_evidence_predicts_wins(store):
    rows = []
    for i in range(30):
        good = i % 2 == 0
        ev = [Evidence(name="signal", label_en="s", label_zh="s", contribution=40.0 if good else 5.0),
              Evidence(name="noise", label_en="n", label_zh="n", contribution=50.0 - (i % 7) * 7)]
        rows.append(Prospect(family="supply_chain", kind="upstream", prospect_id=f"X{i:02d}", name=f"X{i}",
                             evidence=ev, reasons=[Reason(en="r", zh="r")], manager_id="M1"))
    store.write({"prospects": rank(rows)})
    for i in range(30):
        record_disposition(store, f"X{i:02d}", "won" if i % 2 == 0 else "not_interested", by="t", owner="M1")
    prec = precision_at_k(ledger(store), k=10)
    assert prec.iloc[0]["labelled"] == 30 and prec.iloc[0]["positive"] == 15
    by_owner = precision_at_k(ledger(store), k=5, by="owner")
    assert list(by_owner["owner"]) == ["M1"]
    pytest.importorskip("sklearn", reason="scikit-learn (the ml extra) is not installed: refit not tested")
    result = refit_weights(store, ledger(store), "supply_chain", k=10)
    assert result.multipliers["signal"] > result.multipliers["noise"]
    assert result.precision_after is not None and result.precision_before is not None
    assert result.precision_after >= result.precision_before
    assert result.precision_after == 1.0
    saved = json.loads((store.state_dir / "refit.json").read_text())
    assert saved["supply_chain"]["labelled"] == 30
    with pytest.raises(InvalidRequest, match="at least"):
        refit_weights(store, ledger(store), "referral")



def test_refit_without_scikit_learn_says_how_to_install_it(store, monkeypatch):
    import sys

    from graph.errors import NotImplementedYet

    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)  # as if the ml extra were absent
    with pytest.raises(NotImplementedYet, match=r"prospect-graph\[ml\]"):
        refit_weights(store, ledger(store), "supply_chain")

def test_routing_uses_the_best_row_of_a_family(store):
    """Two referral rows for one entity: the stronger referrer's manager owns the lead."""
    store.write({"enterprises": pd.DataFrame({"id": ["E1"], "name": ["甲"], "is_client": [False]}),
                 "prospects": rank([_p("referral", "member", "E1", 80, manager="M_STRONG"),
                                    _p("referral", "association_target", "E1", 99, manager="M_CAMPAIGN"),
                                    _p("ecosystem", "group", "E1", 30, manager="M_WEAK")])})
    prospects = store.read("prospects")
    weaker = prospects.iloc[[0]].copy()
    weaker["family"], weaker["kind"], weaker["score"], weaker["manager_id"] = "referral", "member", 10.0, "M_WEAKER"
    weaker["prospect_id"] = "E1"
    store.write({"prospects": pd.concat([prospects, weaker], ignore_index=True)})
    board = build_board(store).set_index("entity_id")
    assert board.loc["E1", "owner"] == "M_STRONG" and board.loc["E1", "owner_source"] == "referrer"


def test_rows_are_judged_by_their_own_family_kind_and_entity_kind(store):
    """Each row's rights come from its own (family, kind, entity kind), judged once per distinct
    combination; a row missing its family is judged as having none (no role works it)."""
    from api.auth import User
    from api.masking import Viewer

    rows = pd.DataFrame({
        "branch_id": ["B1"] * 6,
        "best_family": pd.Series(["supply_chain", "retail_linkage", "retail_linkage", "retail_linkage", None,
                                  "referral"], dtype="string"),
        "best_kind": pd.Series(["upstream", "payroll", "outflow", "outflow", "upstream", "member"], dtype="string"),
        "entity_kind": pd.Series(["Enterprise", "Person", "Enterprise", "Person", "Enterprise", "Person"],
                                 dtype="string"),
        "shared_with": [[]] * 6})
    corporate = Viewer(store, User(name="c", role="corporate_manager", branch="B1"))
    retail = Viewer(store, User(name="r", role="retail_manager", branch="B1"))
    for viewer in (corporate, retail):
        expected = [viewer.may_work(f, k, e) if isinstance(f, str) else False
                    for f, k, e in zip(rows["best_family"].astype(object).where(rows["best_family"].notna(), None),
                                       rows["best_kind"], rows["entity_kind"], strict=True)]
        assert viewer.sees_rows(rows) == expected
    assert corporate.sees_rows(rows)[:4] == [True, False, True, False]  # outflow: an enterprise's only
    assert retail.sees_rows(rows)[1] is True and not retail.sees_rows(rows)[4]

def test_a_branch_manager_sees_shared_rows_but_not_rows_of_an_unknown_branch(store):
    """Rows of no branch (None, "") are everyone's; a lead whose branch is not known (NaN: its
    entity is not in the store) is no branch manager's, as `Viewer.in_scope` judges it."""
    from api.auth import User
    from api.masking import Viewer

    rows = pd.DataFrame({"branch_id": pd.Series(["B1", "B2", None, "", float("nan")], dtype=object),
                         "best_family": ["supply_chain"] * 5, "best_kind": ["upstream"] * 5,
                         "entity_kind": ["Enterprise"] * 5, "shared_with": [[], [], [], [], []]})
    b1 = Viewer(store, User(name="m", role="corporate_manager", branch="B1"))
    assert b1.sees_rows(rows) == [True, False, True, True, False]
    assert Viewer(store, User(name="a", role="admin")).sees_rows(rows) == [True] * 5
    shared = rows.assign(shared_with=[[], ["M9"], [], [], []])
    assert Viewer(store, User(name="m9", role="corporate_manager", branch="B1", manager="M9")).sees_rows(shared)[1] is False
    # a summary's branch (an employer's, a falling client's) the data does not give is no branch's: shared
    assert b1.in_scope_column(rows["branch_id"]).tolist() == [True, False, True, True, True]
    assert b1.in_scope_column(pd.Series(["B1", None, "B2"], dtype="string")).tolist() == [True, True, False]
    assert Viewer(store, User(name="a", role="admin")).in_scope_column(rows["branch_id"]).tolist() == [True] * 5


def test_the_version_board_outlives_a_burst_of_other_answers(board_store, monkeypatch):
    """Pictures and paths fill the weighed answers of a version; the board stays kept."""
    import leads.board as board_module
    from graph.store import ANSWER_BUDGET

    board_page(board_store, limit=5)
    for i in range(8):  # heavy answers, each up to half the budget: all but the last pushed out
        board_store.remembered(("burst", i), lambda n=i: n, lambda v: v, lambda _: ANSWER_BUDGET // 2)

    def built_again(*args, **kwargs):
        raise AssertionError("the version's board was built again")

    monkeypatch.setattr(board_module, "_routed", built_again)
    page, total = board_page(board_store, limit=5)
    assert total and len(page) <= 5
