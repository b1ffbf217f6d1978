"""The referral family on a hand-made fixture: chains, assignment, targets, do-not-contact, weights."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.errors import InvalidRequest
from graph.networkx_store import NetworkxStore
from graph.store import GraphStore
from scoring import referral
from scoring.explain import Prospect
from scoring.run import frame_prospects
from scoring.settings import ScoringSettings

ENTERPRISES = [
    # id, name, is_client, is_credit_client, manager, industry, opened_on, capital, parent, do_not_contact
    ("C1", "宁波华盛保温材料有限公司", True, True, "M1", "保温材料", "2018-01-01", 10e6, None, False),
    ("C2", "宁波恒泰节能科技有限公司", True, False, "M3", "保温材料", "2023-01-01", 5e6, "G1", False),
    ("W1", "宁波金盾新型建材有限公司", True, False, "M3", "保温材料", "2024-06-01", 3e6, None, False),
    ("X1", "宁波振华保温材料有限公司", False, False, None, "保温材料", None, 2e6, None, False),
    ("X2", "宁波安居节能科技有限公司", False, False, None, "建材", None, 1e6, None, False),
    ("X3", "宁波东升建材有限公司", False, False, None, "建材", None, 1e6, None, False),
    ("X4", "宁波利达建材有限公司", False, False, None, "建材", None, 1e6, None, False),
    ("X5", "宁波永固保温材料有限公司", False, False, None, "保温材料", None, 1e6, None, True),
    ("X6", "宁波恒泰新材料有限公司", False, False, None, "新材料", None, 1e6, "G1", False),
    ("G1", "恒泰控股集团有限公司", False, False, None, "投资", None, 50e6, None, False),
]
PERSONS = [
    # id, name, is_retail_client, aum, tier, manager, do_not_contact
    ("PS", "周秘书", True, 900_000.0, "vip", "M2", False),
    ("PD", "吴董事", False, None, None, None, False),
    ("PN", "郑勿扰", False, None, None, None, True),
    ("PX", "孙会员", False, None, None, None, False),
    ("PQ", "钱勿扰", False, None, None, None, True),
]
MEMBERS = [("A1", m, p) for m, p in [("C1", "member"), ("C2", "member"), ("W1", "member"), ("X1", "member"),
                                     ("X2", "member"), ("X5", "member"), ("PS", "secretary_general"),
                                     ("PX", "member"), ("PQ", "member")]] + [("A2", "X2", "president")]
ROLES = [("PD", "C1", "director"), ("PD", "X3", "director"), ("PN", "C1", "director"), ("PN", "X4", "legal_rep")]


def tables(enterprises=ENTERPRISES, persons=PERSONS, members=MEMBERS, roles=ROLES) -> dict[str, pd.DataFrame]:
    """The fixture's tables and the `edges` an ingest would derive from them (the family reads both)."""
    return with_edges(node_and_fact_tables(enterprises, persons, members, roles))


def with_edges(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    from graph.schema import conform, empty
    from ingest.derive import derive_edges

    needed = ("enterprises", "persons", "managers", "memberships", "roles", "payments", "bills", "endorsements",
              "payroll")
    full = {t: conform(t, frames[t]) if t in frames else empty(t) for t in needed}
    return {**frames, "edges": derive_edges(full, [])}


def node_and_fact_tables(enterprises, persons, members, roles) -> dict[str, pd.DataFrame]:
    cols = ["id", "name", "is_client", "is_credit_client", "manager_id", "industry", "opened_on",
            "registered_capital", "parent_id", "do_not_contact"]
    return {
        "enterprises": pd.DataFrame(enterprises, columns=cols),
        "persons": pd.DataFrame(persons, columns=["id", "name", "is_retail_client", "aum", "tier", "manager_id",
                                                  "do_not_contact"]),
        "associations": pd.DataFrame({"id": ["A1", "A2"], "name": ["保温材料行业协会", "建材商会"],
                                      "kind": ["industry_association", "chamber_of_commerce"]}),
        "memberships": pd.DataFrame(members, columns=["association_id", "member_id", "position"]),
        "roles": pd.DataFrame(roles, columns=["person_id", "enterprise_id", "role"]),
        "managers": pd.DataFrame({"id": ["M1", "M2", "M3"], "name": ["李晓梅", "刘洋", "陈磊"],
                                  "branch_id": ["B2", "B2", "B1"]}),
        "payroll": pd.DataFrame({"employer_id": ["C2"], "person_id": ["PX"], "month": ["2024-12"], "amount": [5000.0]}),
        "payments": pd.DataFrame({"fact_id": ["f1"], "payer_id": ["C1"], "payee_id": ["X1"], "amount": [1.0],
                                  "paid_on": ["2024-12-31"], "month": ["2024-12"]}),
    }


@pytest.fixture()
def fixture_store(store):
    store.write(tables())
    return store


def prospects(store, settings: ScoringSettings) -> list[Prospect]:
    """The family's frame as `Prospect` objects (reasons rendered in both languages)."""
    return frame_prospects(referral.score(store, settings))


def rows_by_id(store) -> dict[tuple[str, str], Prospect]:
    return {(p.kind, p.prospect_id): p for p in prospects(store, ScoringSettings(lang="en"))}


def test_fellow_member_goes_to_the_credit_clients_manager(fixture_store):
    rows = rows_by_id(fixture_store)
    x1 = rows[("member", "X1")]
    assert x1.family == "referral" and x1.association_id == "A1"
    assert x1.details["best_chain"]["referrer"] == "C1"
    assert x1.manager_id == "M1" and x1.path[:2] == ["M1", "C1"] and x1.path[-1] == "X1"
    # the secretary-general is the key person of the best chain, the association the social proof
    assert x1.path[2] == "PS" and x1.details["best_chain"]["kind"] == "officer"
    others = {o["id"]: o["manager_id"] for o in x1.details["other_introducers"]}
    assert others == {"C2": "M3", "W1": "M3", "PS": "M2"}
    assert x1.details["association_members"] == 9 and x1.details["association_client_members"] == 4
    names = {e.name for e in x1.evidence}
    assert {"referrer_credit", "referrer_position", "association_penetration", "fit_industry",
            "fit_credit_design", "chain_length", "independent_introducers"} <= names
    assert any("secretary-general" in r.en for r in x1.reasons)
    assert x1.reasons[-1].en.startswith("Approach: 李晓梅 meets 周秘书 with 宁波华盛保温材料有限公司")
    assert x1.reasons[-1].zh.startswith("建议：李晓梅与宁波华盛保温材料有限公司一同拜访周秘书")
    assert x1.suggested_products[0] == "inclusive_finance_loan"


def test_shared_director_chain(fixture_store):
    x3 = rows_by_id(fixture_store)[("member", "X3")]
    assert x3.path == ["M1", "C1", "PD", "X3"]
    assert x3.details["best_chain"]["kind"] == "interlock" and x3.association_id is None
    assert any("吴董事 is a director of 宁波华盛保温材料有限公司 and a director of 宁波东升建材有限公司" in r.en
               for r in x3.reasons)


def test_reasons_are_templates_with_names_as_parameters(fixture_store):
    """Reasons are stored as template ids and parameters, names in fields of their own, so a
    masking policy can mask a person before the sentence is rendered."""
    from scoring.templates import TEXT, render

    rows = referral.score(fixture_store, ScoringSettings()).to_pylist()
    assert rows and all(r["template"] != TEXT for row in rows for r in row["reasons"])
    x3 = next(r for r in rows if r["kind"] == "member" and r["prospect_id"] == "X3")
    first = x3["reasons"][0]
    assert first["template"] == "referral.introducer.credit.interlock"
    params = {p["key"]: p["value"] for p in first["params"]}
    assert params["via"] == "吴董事" and params["referrer"] == "宁波华盛保温材料有限公司"
    assert params["manager"] == "李晓梅"
    masked = render(first["template"], {**params, "via": "吴**"}, "zh")
    assert "吴**既是宁波华盛保温材料有限公司的董事" in masked and "吴董事" not in masked
    # persons are `{KEY:person}` fields with their ids: the viewer's policy masks them by id
    seen: list[tuple[str | None, str]] = []

    def policy(pid: str | None, name: str) -> str:
        seen.append((pid, name))
        return name[0] + "*" if pid == params["via_id"] else name

    by_policy = render(first["template"], params, "zh", person=policy)
    assert "吴*既是宁波华盛保温材料有限公司的董事" in by_policy
    assert (params["via_id"], "吴董事") in seen and (x3["anchor_id"], params["referrer"]) in seen


def test_group_chains(fixture_store):
    rows = rows_by_id(fixture_store)
    assert rows[("member", "X6")].path == ["M3", "C2", "G1", "X6"]
    assert rows[("member", "G1")].path == ["M3", "C2", "G1"]
    assert rows[("member", "G1")].details["best_chain"]["position"] == "group:parent"


# Equal-weight ties. C1 sits twice in each association AT<i>, under two positions of equal weight
# (codes the settings do not weigh: 0 points each), and T<i> is a fellow member: two chains on
# one path with equal points. PL is both legal representative and actual controller of X8 (8
# points each) and a director of C1 (an interlock).
_TIE_CODES = [("treasurer", "auditor"), ("adviser", "honorary"), ("deputy", "councillor"), ("founder", "standing"),
              ("zeta", "alpha"), ("observer", "liaison"), ("b2", "b1"), ("kappa", "omega")]
_TIE_ENTERPRISES = ENTERPRISES + [(f"T{i}", f"宁波鼎新建材{i}号有限公司", False, False, None, "建材", None, 1e6, None, False)
                                  for i in range(len(_TIE_CODES))] + [
    ("X8", "宁波华腾建材有限公司", False, False, None, "建材", None, 1e6, None, False)]
_TIE_PERSONS = PERSONS + [("PL", "冯法人", False, None, None, None, False)]
_TIE_MEMBERS = MEMBERS + [m for i, (a, b) in enumerate(_TIE_CODES)
                          for m in ((f"AT{i}", "C1", a), (f"AT{i}", f"T{i}", "member"), (f"AT{i}", "C1", b))]
_TIE_ROLES = ROLES + [("PL", "X8", "legal_rep"), ("PL", "C1", "director"), ("PL", "X8", "actual_controller")]


@pytest.mark.parametrize("reverse", [False, True])
def test_equal_weight_positions_tie_break_by_code_whatever_the_row_order(tmp_path, reverse):
    """A tie between equal-weight positions or roles goes to the first code, so the best chain and
    its `referrer_position` bar never depend on row order, hashing or threads."""
    from graph.networkx_store import NetworkxStore

    order = (lambda rows: rows[::-1]) if reverse else (lambda rows: rows)
    frames = node_and_fact_tables(order(_TIE_ENTERPRISES), order(_TIE_PERSONS), order(_TIE_MEMBERS),
                                  order(_TIE_ROLES))
    frames["associations"] = pd.concat([frames["associations"], pd.DataFrame(
        {"id": [f"AT{i}" for i in range(len(_TIE_CODES))], "name": [f"建材协会{i}" for i in range(len(_TIE_CODES))],
         "kind": "industry_association"})], ignore_index=True)
    store = NetworkxStore(tmp_path / "store")
    store.write(with_edges(frames))
    rows = rows_by_id(store)
    expected = {f"T{i}": min(codes) for i, codes in enumerate(_TIE_CODES)} | {"X8": "role:actual_controller"}
    for pid, position in expected.items():
        row = rows[("member", pid)]
        assert row.details["chains_total"] >= 1 + pid.startswith("T")  # T<i>: one chain per position, tied
        assert (row.details["best_chain"]["position"], {e.name: e.value for e in row.evidence}["referrer_position"]
                ) == (position, position), pid
        assert [c["position"] for c in row.details["other_chains"]][:1] == (
            [max(_TIE_CODES[int(pid[1:])])] if pid.startswith("T") else [])


def test_do_not_contact_never_listed_nor_used(fixture_store):
    rows = rows_by_id(fixture_store)
    listed = {pid for _, pid in rows}
    assert not listed & {"X5", "PQ", "PN"}
    assert "X4" not in listed  # its only chain runs through a do-not-contact person
    for p in rows.values():
        chains = [p.details.get("best_chain", {})] + p.details.get("other_chains", [])
        assert all("PN" not in c.get("path", []) for c in chains)


def test_weak_client_and_person_members(fixture_store):
    rows = rows_by_id(fixture_store)
    w1 = rows[("member", "W1")]
    assert w1.is_deepening and w1.manager_id == "M3"  # deepening stays with its own manager
    assert any("weak client" in r.en for r in w1.reasons)
    assert ("member", "C2") not in rows  # payroll client with two products: not weak
    px = rows[("member", "PX")]
    assert px.suggested_products == ["deposit", "wealth_management"] and not px.is_deepening


def test_strongest_chain_wins_the_assignment(store):
    flipped = [(e[0], e[1], e[2], e[0] == "C2", *e[4:]) if e[0] in ("C1", "C2") else e for e in ENTERPRISES]
    store.write(tables(enterprises=flipped))
    x1 = rows_by_id(store)[("member", "X1")]
    assert x1.details["best_chain"]["referrer"] == "C2" and x1.manager_id == "M3"
    assert "C1" in {o["id"] for o in x1.details["other_introducers"]}
    points = [x1.details["best_chain"]["points"]] + [c["points"] for c in x1.details["other_chains"]]
    assert points == sorted(points, reverse=True)


def test_association_target_with_penetration(fixture_store):
    rows = rows_by_id(fixture_store)
    a1 = rows[("association_target", "A1")]
    assert a1.association_id == "A1" and a1.manager_id == "M1" and a1.path == ["M1", "C1", "A1"]
    assert a1.details["members"] == 9 and a1.details["client_members"] == 4
    assert a1.details["penetration"] == pytest.approx(4 / 9, abs=1e-4)
    assert a1.details["reachable_members"] == 4  # X1, X2, W1, PX (X5, PQ do-not-contact)
    assert [o["id"] for o in a1.details["client_officers"]] == ["PS"]
    assert a1.details["managers"] == ["M1", "M2", "M3"]
    assert ("association_target", "A2") not in rows  # no way in


def test_weights_come_from_the_settings_file(fixture_store, tmp_path):
    base = rows_by_id(fixture_store)[("member", "X1")].score
    heavier = tmp_path / "w.yaml"
    heavier.write_text("referral:\n  chain:\n    same_industry: 4\n", encoding="utf-8")
    tuned = {(p.kind, p.prospect_id): p for p in prospects(fixture_store, ScoringSettings(weights=heavier))}
    assert tuned[("member", "X1")].score == pytest.approx(base - 6)
    for text in ("referral:\n  chain:\n    penetration: -3\n", "referral:\n  chain:\n    same_industy: 3\n"):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(InvalidRequest):
            referral.score(fixture_store, ScoringSettings(weights=bad))


def test_shipped_weights_are_the_documented_defaults():
    from scoring.settings import family_settings

    assert family_settings(ScoringSettings(), "referral", referral.ReferralSettings) == referral.ReferralSettings()


def test_scores_are_deterministic_and_rankable(fixture_store):
    from scoring.run import rank

    first = rank(referral.score(fixture_store, ScoringSettings()))
    second = rank(referral.score(fixture_store, ScoringSettings()))
    pd.testing.assert_frame_equal(first, second)
    assert set(first["kind"]) == {"member", "association_target"}



def test_member_rows_come_in_prospect_id_order_with_details_of_their_own(fixture_store):
    """The family's member rows come out by prospect id (the order their details are put
    together in), each with the details of its own best chain, so two runs give the same frame
    row for row before any ranking."""
    frame = referral.score(fixture_store, ScoringSettings())
    members = frame.filter(pc.equal(frame["kind"], "member"))
    ids = members["prospect_id"].to_pylist()
    assert len(ids) > 3 and ids == sorted(ids)
    for pid, text in zip(ids, members["details"].to_pylist(), strict=True):
        details = json.loads(text)
        assert details["best_chain"]["path"][-1] == pid
        assert details["chains_total"] >= 1 + len(details["other_chains"])

# ------------------------------------------------------------ property tests
ids = [e[0] for e in ENTERPRISES] + [p[0] for p in PERSONS]
flags = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=len(ENTERPRISES), max_size=len(ENTERPRISES))
extra_members = st.lists(st.tuples(st.sampled_from(["A1", "A2"]), st.sampled_from(ids),
                                   st.sampled_from(["member", "director", "president", "secretary_general"])),
                         max_size=6)
extra_roles = st.lists(st.tuples(st.sampled_from(["PD", "PX", "PS"]), st.sampled_from([e[0] for e in ENTERPRISES]),
                                 st.sampled_from(["director", "legal_rep", "executive"])), max_size=4)


class MemoryStore(GraphStore):
    """The GraphStore contract held in memory: property tests write hundreds of tiny versions."""

    def __init__(self) -> None:
        super().__init__("/nonexistent-memory-store")
        self._tables: dict[str, pd.DataFrame] = {}
        self._number = 0

    def _read_table(self, table: str) -> pd.DataFrame | None:
        return self._tables.get(table)

    def _commit(self, tables: dict[str, pd.DataFrame], note: str) -> str:
        self._tables.update(tables)
        self._number += 1
        return f"{self._number:06d}"

    def _version(self) -> str | None:
        return f"{self._number:06d}" if self._number else None


def _variant(flag_list, members, roles) -> dict[str, pd.DataFrame]:
    ents = [(e[0], e[1], c, c and k, *e[4:]) for e, (c, k) in zip(ENTERPRISES, flag_list, strict=True)]
    seen: dict[tuple[str, str], str] = {(a, m): p for a, m, p in MEMBERS}
    for a, m, p in members:
        seen.setdefault((a, m), p)
    return tables(enterprises=ents, members=[(a, m, p) for (a, m), p in seen.items()],
                  roles=sorted(set(ROLES) | set(roles)))


@settings(max_examples=15, deadline=None)
@given(flag_list=flags, members=extra_members, roles=extra_roles)
def test_contributions_sum_to_score_within_bounds(flag_list, members, roles):
    store = MemoryStore()
    store.write(_variant(flag_list, members, roles))
    dnc = {e[0] for e in ENTERPRISES if e[-1]} | {p[0] for p in PERSONS if p[-1]}
    for row in prospects(store, ScoringSettings()):
        assert row.score == pytest.approx(sum(e.contribution for e in row.evidence), abs=1e-6)
        assert 0.0 <= row.score <= 100.0
        assert row.prospect_id not in dnc


@settings(max_examples=10, deadline=None)
@given(flag_list=flags, roles=extra_roles,
       joins=st.lists(st.tuples(st.sampled_from(["A1", "A2"]), st.sampled_from([e[0] for e in ENTERPRISES])),
                      max_size=3))
def test_adding_a_chain_never_lowers_a_score(flag_list, roles, joins):
    """New roles, and clients joining an association, only add chains and introducers.

    (A non-client joining lowers the association's penetration: that is not evidence for anyone.)
    """
    clients = {e[0] for e, (is_client, _) in zip(ENTERPRISES, flag_list, strict=True) if is_client}
    store = MemoryStore()
    store.write(_variant(flag_list, [], []))
    before = {(p.kind, p.prospect_id): p.score for p in prospects(store, ScoringSettings())
              if p.kind == "member"}
    store.write(_variant(flag_list, [(a, m, "member") for a, m in joins if m in clients], roles))
    after = {(p.kind, p.prospect_id): p.score for p in prospects(store, ScoringSettings())}
    for key, score in before.items():
        assert after[key] >= score - 1e-9


# ------------------------------------------------------------ the demo bundle
def _demo_rows(demo_store, kind: str) -> list[dict]:
    from scoring.stored import decode, load_prospects

    df = load_prospects(demo_store, "referral", kind=kind)
    return [decode({str(k): v for k, v in r.items()}, "en") for r in df.to_dict("records")]


def test_demo_association_members_come_through_the_credit_client(demo_store):
    from demo import cases as dc

    rows = _demo_rows(demo_store, "member")
    top = rows[:len(dc.ASSOC_PROSPECT_MEMBERS)]
    assert {r["prospect_id"] for r in top} == set(dc.ASSOC_PROSPECT_MEMBERS)
    for r in top:
        assert r["details"]["best_chain"]["referrer"] == dc.ASSOC_CREDIT_MEMBER
        assert r["manager_id"] == dc.MGR_ASSOC and r["path"][:2] == [dc.MGR_ASSOC, dc.ASSOC_CREDIT_MEMBER]
        assert r["association_id"] == dc.ASSOC_INSULATION
        assert r["score"] == pytest.approx(sum(e["contribution"] for e in r["evidence"]), abs=1e-6)
        # the secretary-general is the key person, and as a retail client also an introducer
        assert dc.SECRETARY_GENERAL in r["path"]
        assert dc.SECRETARY_GENERAL in {o["id"] for o in r["details"]["other_introducers"]}
    # the shared director adds an independent way in to the first member
    first = next(r for r in rows if r["prospect_id"] == dc.ASSOC_PROSPECT_MEMBERS[0])
    chains = [first["details"]["best_chain"], *first["details"]["other_chains"]]
    assert any(c["kind"] == "interlock" and c["via"] == dc.INTERLOCK_DIRECTOR for c in chains)
    assert first["rank"] == 1
    assert dc.DO_NOT_CONTACT not in {r["prospect_id"] for r in rows}


def test_demo_association_targets(demo_store):
    from demo import cases as dc

    rows = _demo_rows(demo_store, "association_target")
    assert rows[0]["prospect_id"] == dc.ASSOC_INSULATION and rows[0]["manager_id"] == dc.MGR_ASSOC
    details = rows[0]["details"]
    assert details["non_client_members"] == len(dc.ASSOC_PROSPECT_MEMBERS)
    assert details["credit_client_members"] == 1
    assert details["penetration"] == pytest.approx(details["client_members"] / details["members"], abs=1e-4)
    assert dc.SECRETARY_GENERAL in {o["id"] for o in details["client_officers"]}
    assert dc.MARKET in {r["prospect_id"] for r in rows}


def test_demo_shared_director_path(demo_store):
    from demo import cases as dc
    from graph.paths import find_paths

    best = find_paths(demo_store, dc.ASSOC_CREDIT_MEMBER, dc.ASSOC_PROSPECT_MEMBERS[0], max_hops=2)[0]
    assert best["nodes"] == [dc.ASSOC_CREDIT_MEMBER, dc.INTERLOCK_DIRECTOR, dc.ASSOC_PROSPECT_MEMBERS[0]]
    assert best["edges"] == ["HOLDS_ROLE:director", "HOLDS_ROLE:director"]
    assert "董事" in best["text_zh"]


# ------------------------------------------------------------ real data: CNCF members
CNCF = __import__("pathlib").Path(__file__).parents[1] / "fixtures" / "real" / "cncf" / "mapping.yaml"
CNCF_CLIENTS = {  # name: (is_credit_client, manager)
    "Alibaba Cloud": (True, "MC1"), "Tencent Cloud": (False, "MC2"), "DaoCloud": (False, "MC2")}


@pytest.fixture(scope="module")
def cncf_store(tmp_path_factory):
    if not CNCF.exists():
        pytest.skip(f"the CNCF fixture {CNCF} is not in this checkout")
    from ingest.job import run_ingest

    store = NetworkxStore(tmp_path_factory.mktemp("cncf") / "store")
    run_ingest(store, CNCF)
    ents = store.read("enterprises").copy()
    for name, (credit, manager) in CNCF_CLIENTS.items():
        hit = ents["name"] == name
        assert hit.sum() == 1, name
        ents.loc[hit, ["is_client", "is_credit_client", "manager_id", "opened_on"]] = \
            [True, credit, manager, pd.Timestamp("2020-01-01")]
    ents.loc[ents["name"] == "Baidu", "do_not_contact"] = True
    managers = pd.DataFrame({"id": ["MC1", "MC2"], "name": ["林经理", "高经理"], "branch_id": ["B1", "B2"]})
    store.write({"enterprises": ents, "managers": managers}, note="mark a few CNCF members as clients")
    return store


def test_cncf_members_referred_by_the_marked_clients(cncf_store):
    ents = cncf_store.read("enterprises").set_index("name")["id"]
    members = cncf_store.read("memberships")
    rows = {(p.kind, p.prospect_id): p for p in prospects(cncf_store, ScoringSettings(lang="en"))}
    listed = {pid for kind, pid in rows if kind == "member"}
    # every member but the credit client and the do-not-contact one; the two account-only
    # clients are weak clients, listed for deepening with their own manager
    assert listed == set(members["member_id"]) - {ents["Alibaba Cloud"], ents["Baidu"]}
    alibaba, weak = ents["Alibaba Cloud"], {ents["Tencent Cloud"], ents["DaoCloud"]}
    for pid in listed:
        row = rows[("member", pid)]
        assert row.details["best_chain"]["referrer"] == alibaba
        assert row.path == ["MC1", alibaba, "CNCF", pid] and row.association_id == "CNCF"
        assert row.is_deepening == (pid in weak)
        assert row.manager_id == ("MC2" if pid in weak else "MC1")
        assert {o["id"] for o in row.details["other_introducers"]} == weak - {pid}
        assert row.score == pytest.approx(sum(e.contribution for e in row.evidence), abs=1e-6)
        assert 0 < row.score <= 100
    target = rows[("association_target", "CNCF")]
    assert target.details["client_members"] == 3 and target.details["members"] == len(members)
    assert target.details["penetration"] == pytest.approx(3 / len(members), abs=1e-4)
    assert target.details["reachable_members"] == len(listed)
    assert target.details["managers"] == ["MC1", "MC2"]


def test_cncf_path_between_members(cncf_store):
    from graph.paths import find_paths

    ents = cncf_store.read("enterprises").set_index("name")["id"]
    best = find_paths(cncf_store, ents["Alibaba Cloud"], ents["DaoCloud"])[0]
    assert best["nodes"] == [ents["Alibaba Cloud"], "CNCF", ents["DaoCloud"]]
    assert best["text_en"] == ("Alibaba Cloud is a council member of Cloud Native Computing Foundation; "
                               "DaoCloud is a member of Cloud Native Computing Foundation")
