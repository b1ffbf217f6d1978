"""The retail_linkage family on hand-made stores (exact cases) and on the demo bundle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.errors import InvalidRequest, NotFound
from graph.networkx_store import NetworkxStore
from graph.schema import conform, empty
from graph.store import GraphStore
from ingest.derive import derive_edges
from scoring import retail_linkage
from scoring.explain import Prospect
from scoring.retail_linkage import (
    employer_summaries,
    employer_tracking_metrics,
    retail_manager_view,
    scoped_summaries,
)
from scoring.retail_linkage import outflow as retail_outflow
from scoring.retail_linkage import payroll as retail_payroll
from scoring.retail_linkage import roles as retail_roles
from scoring.retail_linkage.settings import load_settings
from scoring.run import frame_prospects, score_all
from scoring.settings import ScoringSettings
from scoring.stored import load_prospects

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
SECRET_HASH = "deadbeefcafe0123456789"
SECRET_PHONE = "139****4321"
RS = load_settings(ScoringSettings())


def _persons() -> pd.DataFrame:
    rows = [
        # id, name, retail, aum, aum_prev, tier, branch, manager, dnc
        ("S1", "近门槛员工", True, 45_000, 44_000, "potential", "B1", "MR1", False),
        ("S2", "普通员工甲", True, 20_000, 20_000, "mass", "B1", None, False),
        ("S3", "高资产员工", True, 80_000, 80_000, "vip", "B1", "MR2", False),
        ("S4", "普通员工乙", True, 1_000, 1_000, "mass", "B1", None, False),
        ("SDNC", "勿扰员工", True, 48_000, 48_000, "potential", "B1", None, True),
        ("X1", "法人代表", False, None, None, None, None, None, False),
        ("X2", "贵宾董事", True, 900_000, 900_000, "vip", "B1", "MR1", False),
        ("X3", "财务人员", True, 10_000, 10_000, "mass", "B1", None, False),
        ("XDNC", "勿扰高管", False, None, None, None, None, None, True),
        ("R1", "私行客户", True, 6_000_000, 6_100_000, "private", "B1", "MR1", False),
        ("R2", "大众客户", True, 30_000, 30_000, "mass", "B1", "MR2", False),
        ("O1", "流失提示", True, 70_000, 100_000, "vip", "B1", "MR1", False),
        ("O2", "流失预警", True, 40_000, 100_000, "vip", "B1", "MR1", False),
        ("O3", "稳定客户", True, 90_000, 100_000, "vip", "B1", "MR1", False),
    ]
    df = pd.DataFrame(rows, columns=["id", "name", "is_retail_client", "aum", "aum_prev", "tier", "branch_id",
                                     "manager_id", "do_not_contact"])
    df["id_hash"] = SECRET_HASH
    df["phone_masked"] = SECRET_PHONE
    return df


def _tables() -> dict[str, pd.DataFrame]:
    enterprises = pd.DataFrame([
        ("EMP", "惠民超市", True, False, "B1", "MC", 10_000_000.0, False),
        ("FIRM", "精工制造", True, True, "B1", "MC", 50_000_000.0, False),
        ("NC1", "文斌贸易", False, False, "B1", None, 20_000_000.0, False),
        ("NC2", "小微商行", False, False, "B1", None, 500_000.0, False),
        ("NCDNC", "勿扰公司", False, False, "B1", None, 1_000_000.0, True),
        ("EXT", "外行供应商", False, False, None, None, None, False),
    ], columns=["id", "name", "is_client", "is_credit_client", "branch_id", "manager_id", "registered_capital",
                "do_not_contact"])
    managers = pd.DataFrame([("MC", "对公经理", "corporate", "B1"), ("MR1", "零售甲", "retail", "B1"),
                             ("MR2", "零售乙", "retail", "B1")], columns=["id", "name", "kind", "branch_id"])
    payroll = pd.DataFrame([("EMP", p, m, 4000.0) for p in ("S1", "S2", "S3", "S4", "SDNC") for m in MONTHS],
                           columns=["employer_id", "person_id", "month", "amount"])
    roles = pd.DataFrame([
        ("X1", "FIRM", "legal_rep", None), ("X1", "FIRM", "shareholder", 35.0),
        ("X2", "FIRM", "director", None), ("X3", "FIRM", "finance", None), ("XDNC", "FIRM", "director", None),
        ("R1", "NC1", "actual_controller", 80.0), ("R2", "NC2", "shareholder", 10.0),
        ("R1", "NCDNC", "legal_rep", None), ("R1", "FIRM", "shareholder", 5.0),
    ], columns=["person_id", "enterprise_id", "role", "share_pct"])
    pays = []
    for i, m in enumerate(MONTHS[6:]):  # FIRM's payments to another bank grow x3
        amount = 100_000.0 if i < 3 else 300_000.0
        pays.append((f"F{i}", "FIRM", "EXT", "招商银行", amount, f"{m}-15", m))
        pays.append((f"G{i}", "FIRM", "EMP", "本行", 50_000.0, f"{m}-15", m))
    payments = pd.DataFrame(pays, columns=["fact_id", "payer_id", "payee_id", "payee_bank", "amount", "paid_on",
                                           "month"])
    return {"persons": _persons(), "enterprises": enterprises, "managers": managers, "payroll": payroll,
            "roles": roles, "payments": payments}


def _with_edges(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables plus the `edges` an ingest derives from them (the family reads HOLDS_ROLE,
    PAYROLL and PAYS edges)."""
    full = {name: conform(name, tables[name]) if name in tables else empty(name)
            for name in ("payments", "bills", "endorsements", "payroll", "roles", "memberships", "enterprises",
                         "persons", "managers")}
    return {**tables, "edges": derive_edges(full, [])}


@pytest.fixture()
def handmade(store: NetworkxStore) -> NetworkxStore:
    store.write(_with_edges(_tables()))
    return store


@pytest.fixture(scope="module")
def handmade_rows() -> list:
    """The family's rows on the hand-made tables, scored once for the tests that only read them."""
    return score(_memory(_tables()), ScoringSettings())


class MemoryStore(GraphStore):
    """A store held in memory, for property tests that build many small stores."""

    backend = "memory"

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent-memory-store"))
        self._tables: dict[str, pd.DataFrame] = {}
        self._n = 0

    def _read_table(self, table: str) -> pd.DataFrame | None:
        return self._tables.get(table)

    def _commit(self, tables: dict[str, pd.DataFrame], note: str) -> str:
        self._tables.update(tables)
        self._n += 1
        return str(self._n)

    def _version(self) -> str | None:
        return str(self._n) if self._n else None


# The family builds columnar frames; these tests read its rows as Prospect objects.
def score(store: GraphStore, settings: ScoringSettings) -> list[Prospect]:
    return frame_prospects(retail_linkage.score(store, settings))


def payroll_prospects(*args: object) -> list[Prospect]:
    return frame_prospects(retail_payroll.payroll_prospects(*args))  # type: ignore[arg-type]


def executive_prospects(*args: object) -> list[Prospect]:
    return frame_prospects(retail_roles.executive_prospects(*args))  # type: ignore[arg-type]


def corporate_from_retail_prospects(*args: object) -> list[Prospect]:
    return frame_prospects(retail_roles.corporate_from_retail_prospects(*args))  # type: ignore[arg-type]


def retail_outflow_prospects(*args: object) -> list[Prospect]:
    return frame_prospects(retail_outflow.retail_outflow_prospects(*args))  # type: ignore[arg-type]


def corporate_outflow_prospects(*args: object) -> list[Prospect]:
    return frame_prospects(retail_outflow.corporate_outflow_prospects(*args))  # type: ignore[arg-type]


def _memory(tables: dict[str, pd.DataFrame]) -> MemoryStore:
    store = MemoryStore()
    store.write(_with_edges(tables))
    return store


def _by_kind(rows: list) -> dict[str, list]:
    out: dict[str, list] = {}
    for p in sorted(rows, key=lambda p: (-p.score, p.prospect_id)):
        out.setdefault(p.kind, []).append(p)
    return out


# ------------------------------------------------------------------ hand-made
def test_payroll_near_threshold_staff_first_and_explained(handmade_rows):
    rows = _by_kind(handmade_rows)["payroll"]
    ids = [p.prospect_id for p in rows]
    assert ids[0] == "S1"  # 45k of 50k, a few months of pay short
    assert ids.index("S3") > ids.index("S2")  # already above the threshold: deepening, lower
    first = rows[0]
    assert first.employer_id == "EMP" and first.path == ["MC", "EMP", "S1"]
    assert first.details["band"] == "near" and first.details["gap_to_threshold"] == pytest.approx(5_000)
    assert first.details["avg_monthly_pay"] == pytest.approx(4_000)
    assert first.details["retention"] == pytest.approx(45_000 / 48_000, abs=1e-4)
    assert "payroll_card_upgrade" in first.suggested_products
    for p in rows:
        assert p.score == pytest.approx(sum(e.contribution for e in p.evidence), abs=1e-6)
        assert 0 <= p.score <= 100
        assert p.reasons and p.reasons[0].zh and p.reasons[0].en


def test_payroll_managers_follow_the_rules(handmade_rows):
    rows = {p.prospect_id: p for p in _by_kind(handmade_rows)["payroll"]}
    assert rows["S1"].manager_id == "MR1" and rows["S1"].details["manager_rule"] == "own_retail_manager"
    spread = [rows[p] for p in ("S2", "S4")]
    assert {p.details["manager_rule"] for p in spread} == {"branch_retail_manager"}
    # dealt out in turn over the branch's two retail managers: both get one
    assert {p.manager_id for p in spread} == {"MR1", "MR2"}


def test_do_not_contact_never_listed_and_personal_keys_never_leave(handmade_rows):
    rows = handmade_rows
    listed = {p.prospect_id for p in rows}
    assert not listed & {"SDNC", "XDNC", "NCDNC"}
    for p in rows:
        text = json.dumps(p.to_record(), ensure_ascii=False)
        assert SECRET_HASH not in text and SECRET_PHONE not in text
        assert "SDNC" not in text and "XDNC" not in text


def test_employer_summary_counts(handmade):
    summary = employer_summaries(handmade).set_index("employer_id")
    row = summary.loc["EMP"]
    tables = _tables()
    staff_assets = tables["persons"].set_index("id").loc[["S1", "S2", "S3", "S4", "SDNC"], "aum"]
    total = tables["payroll"]["amount"].sum()
    assert row["staff"] == 5 and row["months"] == 12
    assert row["payroll_total_12m"] == pytest.approx(total)
    assert row["avg_monthly_pay"] == pytest.approx(4_000)
    assert row["retained_assets"] == pytest.approx(staff_assets.sum())
    assert row["retention_rate"] == pytest.approx(staff_assets.sum() / total, abs=1e-5)
    assert row["median_retention"] == pytest.approx((staff_assets / 48_000).median(), abs=1e-4)
    assert row["staff_near_threshold"] == 1  # S1; SDNC is near too but may not be contacted
    assert row["staff_above_threshold"] == 1 and row["staff_contactable"] == 4
    assert 1.0 <= row["product_depth"] <= 4.0


def _tracked(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[retail_payroll.METRIC_COLUMNS].reset_index(drop=True)


@pytest.mark.parametrize("as_of", [None, "2024-06-30"])
def test_tracking_metrics_are_the_employer_summary_columns(store, as_of):
    """The snapshot's one-aggregation metrics equal the summary's (same employers, order, values),
    with staff outside the persons table, rows before the window and unreadable months."""
    tables = _tables()
    extra = pd.DataFrame([("FIRM", "GHOST", "2024-12", 9_000.0), ("FIRM", "X2", "2024-11", 20_000.0),
                          ("FIRM", "X3", "2022-01", 5_000.0), ("FIRM", "X1", "2024-03", 6_000.0),
                          ("FIRM", "X3", "not-a-month", 7_000.0),
                          ("FIRM", "XDNC", "2024-12", 8_000.0), ("NC1", "R1", "2023-01", 1_000.0)],
                         columns=["employer_id", "person_id", "month", "amount"])
    tables["payroll"] = pd.concat([tables["payroll"], extra], ignore_index=True)
    store.write(_with_edges(tables))
    settings = ScoringSettings(as_of=as_of)
    summary = employer_summaries(store, settings)
    metrics = employer_tracking_metrics(store, settings)
    assert len(summary) >= 2 and summary["staff_above_threshold"].sum() >= 1
    pd.testing.assert_frame_equal(metrics, _tracked(summary), check_dtype=False)
    # per branch of the staff (the snapshot's: a viewer is given its branches' part), adding up
    parts = employer_tracking_metrics(store, settings, by_branch=True)
    assert set(parts["branch_id"]) == {"B1", ""}  # '': staff of no branch, or not in the persons table
    summed = parts.groupby("employer_id")[["staff", "staff_above_threshold", "payroll_total_12m",
                                          "retained_assets"]].sum()
    whole = summary.set_index("employer_id").loc[summed.index]
    assert summed["staff"].tolist() == whole["staff"].tolist()
    assert summed["staff_above_threshold"].tolist() == whole["staff_above_threshold"].tolist()
    ratio = (summed["retained_assets"] / summed["payroll_total_12m"]).round(5)
    assert ratio.tolist() == pytest.approx(whole["retention_rate"].tolist())
    # every figure of the summary, added up from its parts over every branch, is the summary
    every = retail_payroll.employer_metrics(store, load_settings(settings), as_of, by_branch=True)
    pd.testing.assert_frame_equal(scoped_summaries(summary, every, np.ones(len(every), dtype=bool)), summary,
                                  check_dtype=False, check_exact=False, rtol=1e-12)
    # a viewer who sees the staff of no branch only: each figure over those staff, the same employers
    shared = employer_summaries(store, settings, admits=lambda branches: np.asarray(branches == ""))
    feats = retail_payroll.payroll_features(store, load_settings(settings), as_of)
    mine = feats[feats["branch_id"].isna() | (feats["branch_id"] == "")].groupby("employer_id")
    assert set(shared["employer_id"]) == set(summary["employer_id"])
    got = shared.set_index("employer_id")
    expected = mine.size().reindex(got.index).fillna(0).astype(int)
    assert got["staff"].tolist() == expected.tolist() and got["staff"].sum() < summary["staff"].sum()
    total = mine["total"].sum().reindex(got.index).fillna(0.0)
    assert got["payroll_total_12m"].tolist() == pytest.approx(total.tolist())
    held = mine["assets"].sum().reindex(got.index).fillna(0.0)
    assert got["retention_rate"].tolist() == pytest.approx((held / total).fillna(0.0).round(5).tolist())
    hidden = feats[feats["branch_id"] == "B1"]["employer_id"].unique()
    assert len(hidden) and got.loc[hidden, "median_retention"].isna().all()  # a median does not add up: withheld
    totals = got["payroll_total_12m"].tolist()
    assert totals == sorted(totals, reverse=True)  # the biggest payroll the viewer sees first


def test_tracking_metrics_of_an_empty_store(store):
    assert employer_tracking_metrics(store).empty


def test_executives_below_vip_of_client_firms(handmade_rows):
    rows = _by_kind(handmade_rows)["executive"]
    ids = [p.prospect_id for p in rows]
    assert "X2" not in ids  # a VIP already
    assert ids[0] == "X1"  # legal representative with a 35% stake outranks finance staff
    assert "X3" in ids and "R1" not in ids  # R1 is a private-banking client
    x1 = rows[0]
    assert x1.anchor_id == "FIRM" and x1.details["role"] == "legal_rep"
    assert {"enterprise_id": "FIRM", "role": "shareholder"} in x1.details["roles"]
    assert x1.manager_id in ("MR1", "MR2") and x1.details["firm_manager_id"] == "MC"


def test_corporate_from_retail_names_both_managers(handmade_rows):
    rows = _by_kind(handmade_rows)["corporate_from_retail"]
    ids = [p.prospect_id for p in rows]
    assert ids[:2] == ["NC1", "NC2"]  # the private-banking controller's firm first
    assert "FIRM" not in ids and "NCDNC" not in ids
    nc1 = rows[0]
    assert nc1.details["retail_client_id"] == "R1" and nc1.details["retail_manager_id"] == "MR1"
    assert nc1.details["corporate_manager_id"] == "MC" and nc1.manager_id == "MC"
    assert nc1.path == ["MR1", "R1", "NC1"] and "corporate_account" in nc1.suggested_products


def test_outflow_levels(handmade_rows):
    rows = {p.prospect_id: p for p in _by_kind(handmade_rows)["outflow"]}
    assert rows["O1"].details["level"] == "query" and rows["O2"].details["level"] == "warning"
    assert "O3" not in rows  # 90% of the earlier level: no alert
    assert rows["O2"].score > rows["O1"].score
    firm = rows["FIRM"]
    assert firm.details["subject"] == "corporate" and firm.details["level"] == "warning"
    assert firm.details["growth"] == pytest.approx(3.0)
    assert firm.details["top_other_bank_payees"] == ["EXT"] and firm.manager_id == "MC"


def test_outflow_thresholds_come_from_settings(handmade, tmp_path: Path, monkeypatch):
    weights = tmp_path / "w.yaml"
    weights.write_text("retail_linkage:\n  outflow:\n    query_ratio: 0.95\n    warning_ratio: 0.75\n")
    custom = ScoringSettings(weights=weights)
    rows = {p.prospect_id: p for p in _by_kind(score(handmade, custom))["outflow"]}
    assert rows["O3"].details["level"] == "query" and rows["O1"].details["level"] == "warning"


def test_bad_weights_are_a_clear_error(handmade, tmp_path: Path):
    weights = tmp_path / "w.yaml"
    weights.write_text("retail_linkage:\n  payroll:\n    w_assets: 90\n")
    with pytest.raises(InvalidRequest, match="more than 100"):
        score(handmade, ScoringSettings(weights=weights))


def test_retail_manager_view(handmade):
    view = retail_manager_view(handmade, "MR1")
    r1 = [v for v in view if v["person_id"] == "R1"]
    assert {v["enterprise_id"] for v in r1} == {"NC1", "NCDNC", "FIRM"}
    firm = next(v for v in r1 if v["enterprise_id"] == "FIRM")
    assert firm["enterprise_is_client"] and firm["corporate_manager_id"] == "MC"
    assert firm["corporate_manager_name"] == "对公经理" and firm["roles"] == ["shareholder"]
    assert next(v for v in r1 if v["enterprise_id"] == "NC1")["opportunity"] == "corporate_from_retail"
    s1 = [v for v in view if v["person_id"] == "S1"]
    assert s1 and s1[0]["roles"] == ["payroll"] and s1[0]["enterprise_id"] == "EMP"
    assert view[0]["person_id"] == "R1"  # private banking first
    with pytest.raises(NotFound):
        retail_manager_view(handmade, "NOPE")


def test_rows_reach_the_prospects_table(handmade):
    score_all(handmade, families=["retail_linkage"])
    df = load_prospects(handmade, "retail_linkage", kind="payroll", employer="EMP")
    assert len(df) == 4 and df.iloc[0]["prospect_id"] == "S1"
    assert set(load_prospects(handmade, "retail_linkage")["kind"]) == {
        "payroll", "executive", "corporate_from_retail", "outflow"}


def test_as_of_moves_the_payroll_window(handmade):
    rows = {p.prospect_id: p for p in score(handmade, ScoringSettings(as_of="2024-06-30")) if p.kind == "payroll"}
    s1 = rows["S1"].details
    assert s1["window"] == ["2023-07", "2024-06"] and s1["months_paid"] == 6 and s1["tenure_months"] == 6
    summary = employer_summaries(handmade, ScoringSettings(as_of="2024-06-30")).set_index("employer_id")
    assert summary.loc["EMP", "payroll_total_12m"] == pytest.approx(5 * 6 * 4_000)
    assert summary.loc["EMP", "months"] == 6


def test_empty_store_scores_nothing(store):
    assert score(store, ScoringSettings()) == []
    assert employer_summaries(store).empty


# ---------------------------------------------------------------- properties
_amounts = st.floats(min_value=0, max_value=5_000_000, allow_nan=False)


@settings(max_examples=6, deadline=None)
@given(assets=st.lists(_amounts, min_size=1, max_size=6), pay=st.floats(min_value=100, max_value=200_000),
       months=st.integers(min_value=1, max_value=12), prev=st.lists(_amounts, min_size=6, max_size=6))
def test_scores_sum_and_stay_in_range(assets, pay, months, prev):
    t = _tables()
    staff = [f"Q{i}" for i in range(len(assets))]
    t["persons"] = pd.concat([t["persons"], pd.DataFrame({
        "id": staff, "name": staff, "is_retail_client": True, "aum": assets, "aum_prev": prev[: len(assets)],
        "tier": "mass", "branch_id": "B1"})], ignore_index=True)
    t["payroll"] = pd.concat([t["payroll"], pd.DataFrame(
        [("EMP", p, m, pay) for p in staff for m in MONTHS[-months:]],
        columns=["employer_id", "person_id", "month", "amount"])], ignore_index=True)
    store = _memory(t)
    rows = (payroll_prospects(store, RS, None) + executive_prospects(store, RS)
            + corporate_from_retail_prospects(store, RS) + retail_outflow_prospects(store, RS)
            + corporate_outflow_prospects(store, RS, None))
    assert rows
    for p in rows:
        assert 0 <= p.score <= 100
        assert p.score == pytest.approx(sum(e.contribution for e in p.evidence), abs=1e-6)


def _payroll_score(months: int, pay: float) -> float:
    t = _tables()
    t["payroll"] = t["payroll"][(t["payroll"]["person_id"] != "S2") | t["payroll"]["month"].isin(MONTHS[-months:])]
    t["payroll"].loc[t["payroll"]["person_id"] == "S2", "amount"] = pay
    rows = {p.prospect_id: p for p in payroll_prospects(_memory(t), RS, None)}
    return rows["S2"].score


@settings(max_examples=6, deadline=None)
@given(months=st.integers(min_value=1, max_value=11), pay=st.floats(min_value=500, max_value=50_000))
def test_another_month_of_pay_never_lowers_the_score(months, pay):
    assert _payroll_score(months + 1, pay) >= _payroll_score(months, pay)


@settings(max_examples=8, deadline=None)
@given(now=st.floats(min_value=0, max_value=79_000), less=st.floats(min_value=0, max_value=1.0))
def test_a_deeper_fall_never_lowers_the_alert(now, less):
    def alert(aum: float) -> float:
        t = _tables()
        t["persons"].loc[t["persons"]["id"] == "O1", "aum"] = aum
        return next(p.score for p in retail_outflow_prospects(_memory(t), RS) if p.prospect_id == "O1")

    assert alert(now * less) >= alert(now)


def test_spread_evenly_deals_in_turn_per_branch():
    from scoring.retail_linkage.common import spread_evenly

    rows = pd.DataFrame({"b": ["B1", None, "B1", "B2", "B1"]})
    managers = pd.DataFrame({"id": ["R2", "R1", "C1"], "kind": ["retail", "retail", "corporate"],
                             "branch_id": ["B1", "B1", "B1"]})
    got = spread_evenly(rows, "b", managers, "retail")
    assert got.iloc[[0, 2, 4]].tolist() == ["R1", "R2", "R1"]
    assert got.iloc[[1, 3]].isna().all()  # no branch, or a branch without retail managers


@pytest.mark.parametrize("role", ["legal_rep", "shareholder", "finance"])
def test_another_role_never_lowers_a_score(role):
    def scores(extra: list[tuple[str, str, str, float | None]]) -> dict[tuple[str, str], float]:
        t = _tables()
        t["roles"] = pd.concat([t["roles"], pd.DataFrame(extra, columns=list(t["roles"].columns))],
                               ignore_index=True)
        store = _memory(t)
        rows = executive_prospects(store, RS) + corporate_from_retail_prospects(store, RS)
        return {(p.kind, p.prospect_id): p.score for p in rows}

    before = scores([])
    after = scores([("X3", "FIRM", role, 12.0), ("X3", "EMP", role, None), ("R1", "NC2", role, 3.0),
                    ("O1", "NC2", role, None)])
    assert after[("executive", "X3")] >= before[("executive", "X3")]
    assert after[("corporate_from_retail", "NC2")] >= before[("corporate_from_retail", "NC2")]
    assert all(after[k] >= v for k, v in before.items())


# ------------------------------------------------------------------ demo bundle
@pytest.fixture(scope="module")
def demo_rows(demo_store) -> pd.DataFrame:
    return load_prospects(demo_store, "retail_linkage")


def _kind(rows: pd.DataFrame, kind: str) -> pd.DataFrame:
    return rows[rows["kind"] == kind].sort_values("rank").reset_index(drop=True)


def test_demo_near_threshold_staff_rank_first(demo_rows):
    from demo import cases as dc

    payroll = _kind(demo_rows, "payroll")
    supermarket = payroll[payroll["employer_id"] == dc.SUPERMARKET]
    assert len(supermarket) == dc.SUPERMARKET_STAFF  # nobody on the demo payroll is do-not-contact
    near = set(dc.NEAR_THRESHOLD_STAFF)
    assert set(payroll["prospect_id"].iloc[: len(near)]) == near
    ranks = payroll.set_index("prospect_id")["rank"]
    assert ranks[list(dc.ABOVE_THRESHOLD_STAFF)].min() > ranks[list(near)].max()
    top = json.loads(payroll.iloc[0]["details"])
    assert top["band"] == "near" and top["employer_id"] == dc.SUPERMARKET
    assert payroll.iloc[0]["manager_id"] == dc.MGR_RETAIL_EAST  # the staff's own retail manager


def test_demo_tracking_metrics_are_the_employer_summary_columns(demo_store):
    summary = employer_summaries(demo_store)
    assert len(summary) == 1 and summary["staff_above_threshold"].iloc[0] > 0  # the supermarket
    pd.testing.assert_frame_equal(employer_tracking_metrics(demo_store), _tracked(summary), check_dtype=False)


def test_demo_do_not_contact_never_listed(demo_rows):
    from demo import cases as dc

    assert dc.DO_NOT_CONTACT not in set(demo_rows["prospect_id"])
    for col in ("path", "details", "evidence"):
        assert not demo_rows[col].str.contains(dc.DO_NOT_CONTACT, regex=False).any()


def test_demo_executives(demo_rows):
    from demo import cases as dc

    execs = _kind(demo_rows, "executive")
    listed = set(execs["prospect_id"])
    assert set(dc.CLIENT_EXECUTIVES) - {dc.DO_NOT_CONTACT} <= listed
    # actual controllers with a stake outrank a director without one
    ranks = execs.set_index("prospect_id")["rank"]
    assert max(ranks[dc.CLIENT_EXECUTIVES[0]], ranks[dc.CLIENT_EXECUTIVES[3]]) < ranks[dc.CLIENT_EXECUTIVES[1]]
    assert dc.SECRETARY_GENERAL not in listed  # a retail VIP already


def test_demo_retail_vips_behind_non_client_companies(demo_rows):
    from demo import cases as dc

    cfr = _kind(demo_rows, "corporate_from_retail")
    assert set(cfr["prospect_id"].iloc[:3]) == set(dc.VIP_COMPANIES)
    for company, owner in zip(dc.VIP_COMPANIES, dc.RETAIL_VIP_OWNERS, strict=True):
        details = json.loads(cfr.set_index("prospect_id").loc[company, "details"])
        assert details["retail_client_id"] == owner
        assert details["retail_manager_id"] in (dc.MGR_RETAIL_EAST, dc.MGR_RETAIL_WEST)
        assert details["corporate_manager_id"]


def test_demo_outflow_levels(demo_rows):
    from demo import cases as dc

    outflow = _kind(demo_rows, "outflow").set_index("prospect_id")
    assert json.loads(outflow.loc[dc.OUTFLOW_QUERY, "details"])["level"] == "query"
    assert json.loads(outflow.loc[dc.OUTFLOW_WARNING, "details"])["level"] == "warning"
    assert not set(outflow.index) & set(dc.ORDINARY_RETAIL)  # steady clients raise no alert


def test_demo_supermarket_summary(demo_store):
    from demo import cases as dc

    summary = employer_summaries(demo_store).set_index("employer_id")
    row = summary.loc[dc.SUPERMARKET]
    payroll = demo_store.read("payroll")
    paid = payroll[payroll["employer_id"] == dc.SUPERMARKET]
    persons = demo_store.read("persons").set_index("id")
    assets = persons.loc[paid["person_id"].unique(), "aum"].fillna(0).sum()
    assert row["staff"] == dc.SUPERMARKET_STAFF
    assert row["avg_monthly_pay"] >= dc.SUPERMARKET_PAY_MIN
    assert row["retention_rate"] == pytest.approx(assets / paid["amount"].sum(), abs=1e-5)
    assert row["median_retention"] == pytest.approx(dc.SUPERMARKET_RETENTION, abs=0.002)
    assert row["staff_near_threshold"] == len(dc.NEAR_THRESHOLD_STAFF)
    assert row["staff_above_threshold"] == len(dc.ABOVE_THRESHOLD_STAFF)
    assert row["manager_id"] == dc.MGR_CORE


def test_demo_retail_manager_view(demo_store):
    from demo import cases as dc

    view = retail_manager_view(demo_store, dc.MGR_RETAIL_EAST)
    owners = {v["person_id"]: v for v in view if v["enterprise_id"] in dc.VIP_COMPANIES}
    assert dc.RETAIL_VIP_OWNERS[0] in owners and not owners[dc.RETAIL_VIP_OWNERS[0]]["enterprise_is_client"]
    staff = [v for v in view if v["enterprise_id"] == dc.SUPERMARKET]
    assert staff and all(v["corporate_manager_id"] == dc.MGR_CORE for v in staff)
