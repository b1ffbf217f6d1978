"""The ingest job end to end on hand-made canonical bundles: graph, reports, incremental, idempotent."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from graph.errors import Conflict, InvalidData, NotFound
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from tests.ingest.helpers import ENTERPRISES, PAYMENTS_FEB, PAYMENTS_JAN, rejects_of


def test_canonical_bundle_builds_the_graph(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN,
                          "roles.csv": "person_id,enterprise_id,role\nP1,E0001,董事长/董事\n",
                          "persons.csv": "person_id,name,branch_id,manager_id\nP1,张三,B01,M03\n"})
    summary = run_ingest(store, bundle)
    assert summary.rows_read == 3 + 4 + 1 + 1
    assert summary.rejected == 0 and summary.accepted == summary.rows_read
    ent = store.read("enterprises").set_index("id")
    assert ent.loc["E0001", "is_client"] and ent.loc["E0001", "is_credit_client"]
    assert not ent.loc["E0002", "is_external"]
    externals = ent[ent["is_external"]]
    assert externals["name"].tolist() == ["苏州新材料有限公司"]  # three spellings, one node
    ext_id = externals.index[0]
    assert ext_id.startswith("ext:")
    edges = store.read("edges")
    pays = edges[edges["kind"] == "PAYS"].set_index(["src", "dst"])
    assert pays.loc[("E0001", "E0002"), "amount"] == 1000.0
    assert pays.loc[("E0001", "E0002"), "other_bank_amount"] == 1000.0  # 工商银行 is another bank
    assert pays.loc[("E0001", ext_id), "amount"] == 40_000.0  # two identical rows are two payments
    assert pays.loc[("E0001", ext_id), "count"] == 2
    assert pays.loc[("E0003", ext_id), "other_bank_amount"] == 0.0  # 本行 is our own bank
    kinds = set(edges["kind"])
    assert {"PAYS", "HOLDS_ROLE", "MANAGES", "IN_BRANCH", "PARENT_OF"} <= kinds
    role = edges[edges["kind"] == "HOLDS_ROLE"].iloc[0]
    assert (role["src"], role["dst"], role["role"]) == ("P1", "E0001", "director")
    assert set(store.read("branches")["id"]) == {"B01", "B02"}  # derived from branch ids
    assert {"M01", "M02", "M03"} <= set(store.read("managers")["id"])
    assert set(edges.query("kind == 'PAYS'")["months_active"]) == {1}  # every payment in January 2024


def test_reports_are_written(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN + "E0001,乙,abc,2024-01-01,\n"})
    summary = run_ingest(store, bundle)
    assert summary.report_dir is not None and summary.report_dir.parent == store.reports_dir
    rejects = rejects_of(summary.report_dir)
    assert rejects[["file", "row", "column", "value", "action"]].values.tolist() == [
        ["payments.csv", "6", "amount", "abc", "row rejected"]]
    data = json.loads((summary.report_dir / "summary.json").read_text(encoding="utf-8"))
    assert data["rejected"] == 1 and data["rows_read"] == 8
    resolutions = pd.read_csv(summary.report_dir / "resolutions.csv")
    by_name = resolutions.set_index("source_name")
    assert by_name.loc["华东精工机械(苏州)有限责任公司", "method"] == "name"
    assert by_name.loc["苏州新材料有限公司", "method"] == "external"
    text = summary.render()
    assert "rows read 8, accepted 7, rejected 1" in text and str(summary.report_dir) in text


def test_resolutions_report_is_safe_to_open_in_a_spreadsheet(store: NetworkxStore,
                                                             make_bundle: Callable[..., Path]) -> None:
    hostile = '=HYPERLINK("http://x","贸易")'
    bundle = make_bundle({"enterprises.csv": ENTERPRISES,
                          "payments.csv": PAYMENTS_JAN + f'E0001,"{hostile.replace(chr(34), chr(34) * 2)}",88,2024-01-09,\n'})
    summary = run_ingest(store, bundle)
    assert summary.report_dir is not None
    raw = (summary.report_dir / "resolutions.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())  # Excel shows the Chinese names
    resolutions = pd.read_csv(summary.report_dir / "resolutions.csv", dtype=str, keep_default_na=False,
                              encoding="utf-8-sig").set_index("source_name")
    assert "'" + hostile in resolutions.index and hostile not in resolutions.index  # shown, never run
    assert resolutions.loc["'" + hostile, "method"] == "external"
    assert resolutions.loc["华东精工机械(苏州)有限责任公司", "score"] == "100.0"  # as pandas writes a float
    stored = store.read("resolutions").set_index("source_name")
    assert hostile in stored.index  # the store keeps the name as it came


def test_idempotent_and_incremental(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    jan = make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN}, "jan")
    first = run_ingest(store, jan)
    tables = {t: store.read(t) for t in ("enterprises", "payments", "edges")}
    again = run_ingest(store, jan)
    assert again.new_facts == 0 and first.new_facts == 4
    for name, before in tables.items():
        pd.testing.assert_frame_equal(store.read(name), before, check_like=False)
    feb = make_bundle({"payments_feb.csv": PAYMENTS_FEB}, "feb")
    (feb / "mapping.yaml").write_text("tables:\n  payments:\n    - file: payments_feb.csv\n", encoding="utf-8")
    run_ingest(store, feb)
    pays = store.read("edges").query("kind == 'PAYS'")
    ext = store.read("enterprises").query("is_external")["id"].iloc[0]
    edge = pays[(pays["src"] == "E0001") & (pays["dst"] == ext)].iloc[0]
    assert edge["amount"] == 43_000.0 and edge["count"] == 3 and edge["months_active"] == 2
    assert edge["first_on"] == pd.Timestamp(2024, 1, 6) and edge["last_on"] == pd.Timestamp(2024, 2, 3)
    assert len(store.read("payments")) == 5


def test_fixed_file_replaces_its_rows_instead_of_duplicating(store: NetworkxStore,
                                                             make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN})
    run_ingest(store, bundle)
    run_ingest(store, bundle)
    assert len(store.read("payments")) == 4


def test_nodes_merge_by_id_new_values_override(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES}))
    run_ingest(store, make_bundle({"enterprises.csv": "enterprise_id,name,industry\nE0003,惠民连锁超市有限公司,零售\n"}))
    ent = store.read("enterprises").set_index("id")
    assert ent.loc["E0003", "industry"] == "零售"
    assert ent.loc["E0003", "is_client"]  # not given the second time: kept
    assert len(ent) == 3


def test_external_node_folds_into_a_later_listed_enterprise(store: NetworkxStore,
                                                           make_bundle: Callable[..., Path]) -> None:
    run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN}))
    later = "enterprise_id,name\nE0009,苏州新材料有限公司\n"
    run_ingest(store, make_bundle({"enterprises.csv": later}))
    ent = store.read("enterprises")
    assert not ent["is_external"].any()
    assert set(store.read("payments")["payee_id"]) == {"E0002", "E0009"}


def test_references_to_unknown_nodes_are_rejected(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES,
                          "persons.csv": "person_id,name\nP1,张三\n",
                          "roles.csv": "person_id,enterprise_id,role\nP1,E0001,股东\nP9,E0001,股东\nP1,E9999,股东\n"
                                       "P1,E0003,保安\n",
                          "payroll.csv": "employer_id,person_id,month,amount\nE0003,P1,2024-01,5000\n"
                                         "E0003,P1,2024-01,800\nE0003,P7,2024-01,5000\n"})
    summary = run_ingest(store, bundle)
    rejects = rejects_of(summary.report_dir)
    reasons = set(zip(rejects["row"], rejects["reason"], strict=True))
    assert ("3", "unknown person person_id") in reasons
    assert ("4", "unknown enterprise enterprise_id") in reasons
    assert summary.by_table["roles"] == {"read": 4, "accepted": 2, "rejected": 2}
    roles = store.read("roles").set_index("enterprise_id")
    assert roles.loc["E0003", ["role", "title"]].tolist() == ["other", "保安"]  # an unknown title is kept
    assert summary.unrecognised_titles == {"保安": 1}
    payroll = store.read("payroll")
    assert payroll["amount"].tolist() == [5800.0]  # two runs in one month of one file add up


def test_negative_amounts_are_rejected_unless_the_mapping_keeps_credits(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    payments = "payer_id,payee_name,amount,paid_on\nE0001,乙公司,-100,2024-01-05\nE0001,乙公司,(50),2024-01-06\n"
    summary = run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": payments}))
    assert summary.rejected == 2
    assert set(rejects_of(summary.report_dir)["reason"].str.slice(0, 15)) == {"negative amount"}
    keep = make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": payments, "mapping.yaml":
                        "tables:\n  payments:\n    - file: payments.csv\n      negative_amounts: keep\n"})
    assert run_ingest(store, keep).rejected == 0
    assert sorted(store.read("payments")["amount"]) == [-100.0, -50.0]


def test_missing_bundle_and_missing_enterprises(store: NetworkxStore, tmp_path: Path,
                                               make_bundle: Callable[..., Path]) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        run_ingest(store, tmp_path / "nope")
    with pytest.raises(NotFound, match="no enterprises file"):
        run_ingest(store, make_bundle({"payments.csv": PAYMENTS_JAN}))
    assert store.version is None


def test_unreadable_file_fails_the_job_and_leaves_the_store(store: NetworkxStore,
                                                            make_bundle: Callable[..., Path]) -> None:
    run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES}))
    version = store.version
    bad = make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": b"\x00\x01\x02binary" * 100})
    with pytest.raises(InvalidData, match="payments.csv"):
        run_ingest(store, bad)
    assert store.version == version and len(store.read("enterprises")) == 3


def test_a_file_failing_after_tables_were_written_aside_leaves_the_store(store: NetworkxStore,
                                                                         make_bundle: Callable[..., Path]) -> None:
    """The persons and the payments are merged and written aside (the persons on a thread of their
    own) before the payroll is read: its failure throws the whole new version away."""
    persons = "person_id,name,branch_id\nP1,张三,B1\n"
    run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES, "persons.csv": persons}))
    version, folders = store.version, sorted((store.root / "versions").iterdir())
    bad = make_bundle({"enterprises.csv": ENTERPRISES, "persons.csv": persons + "P2,李四,B2\n",
                       "payments.csv": PAYMENTS_JAN, "payroll.csv": b"\x00\x01\x02binary" * 100})
    with pytest.raises(InvalidData, match="payroll.csv"):
        run_ingest(store, bad)
    assert store.version == version and store.read("persons")["id"].tolist() == ["P1"]
    assert store.read("payments").empty
    assert sorted((store.root / "versions").iterdir()) == folders  # no temporary folder left


def test_a_second_concurrent_ingest_is_refused(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES})
    with store.writer(), pytest.raises(Conflict):
        run_ingest(store, bundle)


def test_do_not_contact_and_payee_bank_extras(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": "enterprise_id,name,禁止营销\nE1,甲公司,是\nE2,乙公司,\n",
                          "persons.csv": "person_id,name,do_not_contact\nP1,张三,Y\n"})
    run_ingest(store, bundle)
    assert store.read("enterprises").set_index("id")["do_not_contact"].to_dict() == {"E1": True, "E2": False}
    assert bool(store.read("persons")["do_not_contact"].iloc[0])


def test_xlsx_and_parquet_bundle_files(store: NetworkxStore, tmp_path: Path) -> None:
    bundle = tmp_path / "mixed"
    bundle.mkdir()
    pd.DataFrame({"企业编号": ["007", "008"], "企业名称": ["甲有限公司", "乙有限公司"], "是否我行客户": ["是", "否"],
                  "注册资本": ["12.5万元", "3,000,000"]}).to_excel(bundle / "enterprises.xlsx", index=False)
    pd.DataFrame({"payer_id": ["007"], "payee_name": ["乙有限责任公司"], "amount": [1234.5],
                  "paid_on": pd.to_datetime(["2024-03-05"])}).to_parquet(bundle / "payments.parquet")
    summary = run_ingest(store, bundle)
    assert summary.rejected == 0 and summary.files == ["enterprises.xlsx", "payments.parquet"]
    ent = store.read("enterprises").set_index("id")
    assert ent.loc["007", "is_client"] and ent.loc["007", "registered_capital"] == 125_000.0
    pays = store.read("payments")
    assert pays[["payer_id", "payee_id", "amount", "month"]].values.tolist() == [["007", "008", 1234.5, "2024-03"]]
