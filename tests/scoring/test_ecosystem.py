"""Ecosystem family: group companies (parent tree, shared controller, look-through) and stores."""

from __future__ import annotations

import re

import pytest
from builders import MemoryStore, StoreBuilder, months

from scoring import ecosystem
from scoring.explain import Prospect
from scoring.run import as_frame, frame_prospects
from scoring.settings import ScoringSettings


def eco_score(store, settings: ScoringSettings) -> list[Prospect]:
    """The family's frame as `Prospect` objects, in rank order."""
    return frame_prospects(as_frame(ecosystem.score(store, settings)))


SETTINGS = ScoringSettings(lang="en", as_of="2024-12-31")


def _score(store) -> dict[tuple[str, str], Prospect]:
    return {(p.kind, p.prospect_id): p for p in eco_score(store, SETTINGS)}


def _group() -> StoreBuilder:
    b = StoreBuilder()
    b.firm("C", "顺达物流有限公司", client=True, credit=True, manager="M1", branch_id="B1", parent="HOLD")
    b.firm("HOLD", "顺达控股集团有限公司").firm("SUB", "顺达物流（宁波）有限公司", parent="C")
    b.firm("SIB", "顺达国际贸易有限公司", parent="HOLD").firm("GRAND", "顺达冷链有限公司", parent="SUB")
    b.firm("CTRL", "远航贸易有限公司").firm("NOSTAKE", "远航二号有限公司").firm("FAR", "无关企业有限公司")
    b.person("P1", "甲").role("P1", "C", "actual_controller", 60).role("P1", "CTRL", "actual_controller", 70)
    b.role("P1", "NOSTAKE", "actual_controller")  # controller without a known stake: not a group link
    # Look-through: C holds 80% of MID, MID holds 75% of DEEP -> C holds 60% of DEEP.
    b.firm("MID", "中间持股有限公司").firm("DEEP", "穿透子公司有限公司").firm("THIN", "少数持股有限公司")
    b.role("C", "MID", "shareholder", 80).role("MID", "DEEP", "shareholder", 75).role("MID", "THIN", "shareholder", 30)
    return b


def test_group_links_from_parent_tree_controller_and_lookthrough():
    rows = _score(_group().write(MemoryStore()))
    relation = {k[1]: p.details["relation"] for k, p in rows.items() if k[0] == "group"}
    assert relation == {"HOLD": "parent", "SUB": "subsidiary", "SIB": "sibling", "GRAND": "grandchild",
                        "CTRL": "controller", "MID": "owned_by_client", "DEEP": "owned_by_client"}
    deep = rows["group", "DEEP"]
    assert deep.details["stake_pct"] == pytest.approx(60.0)
    assert rows["group", "CTRL"].details["stake_pct"] == pytest.approx(70.0)
    assert rows["group", "CTRL"].path == ["M1", "C", "P1", "CTRL"]
    assert rows["group", "SIB"].path == ["M1", "C", "HOLD", "SIB"]
    for p in rows.values():
        assert p.anchor_id == "C" and p.manager_id == "M1" and p.branch_id == "B1"
        assert 0 <= p.score <= 100 and p.score == pytest.approx(sum(e.contribution for e in p.evidence))
        assert p.reasons and all(r.en and r.zh for r in p.reasons) and p.suggested_products


def test_direct_links_outrank_looser_ones_and_payments_add():
    b = _group()
    for month in months("2024-01", 12):
        b.pay("C", "SIB", 200_000, f"{month}-10")
    rows = _score(b.write(MemoryStore()))
    assert rows["group", "SUB"].score > rows["group", "GRAND"].score
    assert rows["group", "SIB"].score > rows["group", "GRAND"].score  # 12 months of payments with the client
    assert "supply_chain_finance" in rows["group", "SIB"].suggested_products


def test_flow_labels_name_the_configured_window(tmp_path):
    (tmp_path / "w.yaml").write_text("ecosystem: {window_months: 6}\n", encoding="utf-8")
    six = ScoringSettings(lang="en", as_of="2024-12-31", weights=tmp_path / "w.yaml")
    for settings, months_ in ((SETTINGS, 12), (six, 6)):
        sib = {(p.kind, p.prospect_id): p for p in eco_score(_group().write(MemoryStore()), settings)}["group", "SIB"]
        labels = {e.name: (e.label_en, e.label_zh) for e in sib.evidence}
        assert labels["flows"] == (f"payments with the client, {months_} months", f"近{months_}个月与客户的往来金额")


def test_clients_and_unlinked_firms_are_not_group_prospects():
    b = _group().firm("C2", "顺达物流二号有限公司", client=True, credit=True, parent="C")
    rows = _score(b.write(MemoryStore()))
    assert ("group", "C2") not in rows and ("group", "FAR") not in rows and ("group", "THIN") not in rows


def test_stores_by_parent_and_by_name_under_their_client():
    b = StoreBuilder().firm("PH", "康宁大药房连锁有限公司", client=True, manager="M1")
    b.monthly("PH", "X", 1_000, months("2024-01", 12)).firm("X", "供货商有限公司")
    for i in range(5):
        b.firm(f"S{i}", f"康宁大药房连锁有限公司{i}号门店", parent="PH")
    b.firm("N1", "康宁大药房鼓楼分店")  # no parent on record: found by its name
    b.firm("Z", "宁波另一家门店")  # a store of nobody we know
    rows = _score(b.write(MemoryStore()))
    stores = {k[1]: p for k, p in rows.items() if k[0] == "branch_store"}
    assert set(stores) == {"S0", "S1", "S2", "S3", "S4", "N1"}
    assert {p.anchor_id for p in stores.values()} == {"PH"}
    assert stores["S0"].details["relation"] == "store_parent" and stores["N1"].details["relation"] == "store_name"
    assert stores["S0"].score > stores["N1"].score
    assert stores["S0"].details["stores_of_client"] == 6 and stores["S0"].path == ["M1", "PH", "S0"]
    assert "payroll" in stores["S0"].suggested_products
    assert not any(k[0] == "group" and k[1].startswith("S") for k in rows)  # a store is listed once, as a store


def test_demo_pharmacy_stores_and_core_subsidiary(demo_store):
    from demo import cases as dc
    from scoring.stored import decode, load_prospects

    def rows(kind: str) -> dict[str, dict]:
        df = load_prospects(demo_store, "ecosystem", kind=kind)
        return {r["prospect_id"]: decode({str(k): v for k, v in r.items()}, "zh") for r in df.to_dict("records")}

    stores = rows("branch_store")
    for eid in dc.PHARMACY_STORES:
        assert stores[eid]["anchor_id"] == dc.PHARMACY and stores[eid]["manager_id"] == dc.MGR_CORE
        assert stores[eid]["details"]["stores_of_client"] >= len(dc.PHARMACY_STORES)
        assert any("门店" in r for r in stores[eid]["reasons"])
    group = rows("group")
    sub = group[dc.CORE_SUBSIDIARY]
    assert sub["anchor_id"] == dc.CORE and sub["details"]["relation"] == "subsidiary"
    assert sub["path"] == [dc.MGR_CORE, dc.CORE, dc.CORE_SUBSIDIARY]
    assert not set(dc.PHARMACY_STORES) & set(group)


def _says(p: Prospect, words: str) -> bool:
    return any(words in r.en for r in p.reasons)


def test_payments_sentence_only_in_the_top_quartile_of_the_kind():
    # Issue #17: eight subsidiaries all trade with the client; only the two biggest traders' rows
    # (two in eight: the top quartile) say so, the others keep the link and their evidence.
    b = StoreBuilder().firm("C", "海川制造有限公司", client=True, credit=True, manager="M1")
    for i in range(8):
        b.firm(f"S{i}", f"海川子公司{i}号有限公司", parent="C")
        b.monthly("C", f"S{i}", 10_000 * (i + 1) ** 3, months("2024-01", 6))
    rows = {k[1]: p for k, p in _score(b.write(MemoryStore())).items() if k[0] == "group"}
    said = {pid for pid, p in rows.items() if _says(p, "of payments with the client")}
    assert said == {"S6", "S7"}
    flows = {pid: next(e.value for e in p.evidence if e.name == "flows") for pid, p in rows.items()}
    assert all(v > 0 for v in flows.values()) and max(flows, key=flows.__getitem__) == "S7"


def test_batch_sentence_only_where_the_chain_is_in_the_top_quartile():
    # Client A has 3 stores, B 2, and ten clients one each: A's stores (3 of 15 rows) are told to
    # open together; B's (5 of 15 rows reach a chain of 2 or more) are not.
    b = StoreBuilder().firm("A", "甲连锁有限公司", client=True, manager="MA")
    b.firm("B", "乙连锁有限公司", client=True, manager="MB")
    for i in range(3):
        b.firm(f"A{i}", f"甲连锁{i}号门店", parent="A")
    for i in range(2):
        b.firm(f"B{i}", f"乙连锁{i}号门店", parent="B")
    for i in range(10):
        b.firm(f"C{i}", f"丙{i}号有限公司", client=True).firm(f"D{i}", f"丙{i}号分店", parent=f"C{i}")
    rows = {k[1]: p for k, p in _score(b.write(MemoryStore())).items() if k[0] == "branch_store"}
    assert len(rows) == 15
    said = {pid for pid, p in rows.items() if _says(p, "open them together")}
    assert said == {"A0", "A1", "A2"}
    assert rows["B0"].details["stores_of_client"] == 2  # the fact stays in the details and the evidence


_AMOUNT_EN = re.compile(r"CNY [0-9][0-9.,]*[mk]?")
_AMOUNT_ZH = re.compile(r"[0-9][0-9.,]*(万|亿)?元")


def test_every_amount_in_a_reason_names_its_window(demo_store):
    from scoring.stored import decode, load_prospects

    checked = 0
    for family in ("supply_chain", "ecosystem"):
        df = load_prospects(demo_store, family)
        for rec in df.to_dict("records"):
            row = {str(k): v for k, v in rec.items()}
            for en, zh in zip(decode(row, "en")["reasons"], decode(row, "zh")["reasons"], strict=True):
                if _AMOUNT_EN.search(en):
                    checked += 1
                    assert "last 12 months" in en, en
                if _AMOUNT_ZH.search(zh):
                    assert "近12个月" in zh, zh
    assert checked > 10


def test_stems_of_a_column_equal_the_stem_of_each_name():
    import pandas as pd

    from scoring.ecosystem.links import EcosystemSettings, stem, stems

    suffixes = EcosystemSettings().legal_suffixes
    names = pd.Series(["康宁大药房连锁有限公司", "顺达物流（宁波）有限公司", "ACME Holdings Ltd.", "集团",
                       "某某集团有限公司 ", "Foo Co Limited", ""])
    assert stems(names, suffixes).tolist() == [stem(n, suffixes) for n in names]
    assert stems(pd.Series([], dtype=object), suffixes).tolist() == []


def test_no_clients_or_no_stores_give_no_store_rows():
    b = StoreBuilder().firm("X", "某某门店").firm("Y", "普通贸易有限公司")
    assert not [k for k in _score(b.write(MemoryStore())) if k[0] == "branch_store"]
    b = StoreBuilder().firm("C", "甲连锁有限公司", client=True).firm("Y", "普通贸易有限公司")
    assert not [k for k in _score(b.write(MemoryStore())) if k[0] == "branch_store"]
