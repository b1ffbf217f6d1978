"""Real exports ingest whole (issue #16): merged sources, free-text titles, deltas, odd text kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.main import create_app
from graph.errors import InvalidData, InvalidMapping, NotFound
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from ingest.values import classify_title
from scoring.run import score_all
from scoring.stored import load_prospects
from tests.ingest.helpers import ENTERPRISES, FIXTURES, PAYMENTS_FEB, PAYMENTS_JAN, rejects_of

DOCS = Path(__file__).parents[2] / "docs" / "ingest.md"
TITLES = FIXTURES / "ingest" / "titles"


def _yaml_blocks(page: Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


# ------------------------------------------------------------------ mapping as documented
def test_the_mapping_in_docs_ingest_md_works_as_written(store: NetworkxStore,
                                                       make_bundle: Callable[..., Path]) -> None:
    mapping = _yaml_blocks(DOCS)[0]
    assert "our_clients.csv" in mapping and "name" not in mapping.split("our_clients.csv")[1].split("\n")[1]
    bundle = make_bundle({
        "mapping.yaml": mapping,
        "stock.csv": "stock_id:ID(Stock),name\nS1,甲股份有限公司\nS2,乙有限公司\n",
        # the CRM's flags over the registry list: no name column; S7 is named by no source
        "our_clients.csv": "code,flag,rm\nS2,是,M9\nS7,是,M9\n",
        "executive_stock.csv": ":START_ID(Executive),:END_ID(Stock),jobs\nX1,S1,监事会主席\nX2,S2,董事长/董事\n",
        "persons.csv": "person_id,name\nX1,张三\nX2,李四\n",
        "exports/2019-01.csv": "payer_id;payee_id;payee_name;amount;paid_on\n"
                               "BMDC;S2;乙有限公司;1000;05/01/2019\nBMDC;ONETIME;Widgets (member);250;06/01/2019\n",
    })
    book = openpyxl.Workbook()
    for row in (["日期", "交易对手", "标志", "金额"], ["2019-02-01", "乙有限公司", "1", "300"],
                ["2019-02-02", "丙有限公司", "2", "400"]):
        book.active.append(row)
    (bundle / "statements").mkdir()
    book.save(bundle / "statements" / "acct-6222001.xlsx")
    summary = run_ingest(store, bundle)
    ent = store.read("enterprises").set_index("id")
    assert ent.loc["S2", "is_client"] and ent.loc["S2", "manager_id"] == "M9" and ent.loc["S2", "name"] == "乙有限公司"
    assert not ent.loc["S1", "is_client"]  # `defaults: {is_client: false}` of the first source
    assert ent.loc["BMDC", "is_client"]  # the inline row
    assert "S7" not in ent.index
    rejects = rejects_of(summary.report_dir)
    assert rejects[["table", "file", "row", "column", "value"]].values.tolist() == [
        ["enterprises", "our_clients.csv", "3", "name", "S7"]]
    assert rejects["reason"].iloc[0].startswith("no source gives enterprises id name")
    assert store.read("roles").set_index("person_id")["role"].to_dict() == {"X1": "executive", "X2": "director"}
    pays = store.read("payments")
    assert len(pays) == 4 and "Widgets" in set(ent["name"])  # " (member)" stripped, ONETIME is no id
    assert sorted(pays["amount"]) == [250.0, 300.0, 400.0, 1000.0] and summary.amount_units == {}  # `units: {amount: 元}`
    statement = pays[pays["paid_on"] >= "2019-02-01"].sort_values("paid_on")  # the statement: 1 paid out, 2 paid in
    assert statement[["payer_id", "payee_id"]].values.tolist() == [["BMDC", "S2"], [ent.index[ent["name"] == "丙有限公司"][0],
                                                                                   "BMDC"]]


def test_a_second_source_adds_flags_from_an_xlsx_without_names(store: NetworkxStore,
                                                               make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "registry/companies-1.csv": "reg_no,company_name\nR1,丙科技有限公司\nR2,丁贸易有限公司\n",
        "registry/companies-2.csv": "reg_no,company_name\nR3,戊物流有限公司\n",
        "mapping.yaml": """
tables:
  enterprises:
    - file: registry/companies-*.csv
      columns: {enterprise_id: reg_no, name: company_name}
      defaults: {is_client: false}
    - file: crm_clients.xlsx
      columns: {enterprise_id: cust_no, is_client: flag, manager_id: rm}
"""})
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["cust_no", "flag", "rm"], ["R3", "Y", "M1"], ["R1", "N", "M2"]):
        sheet.append(row)
    book.save(bundle / "crm_clients.xlsx")
    summary = run_ingest(store, bundle)
    assert summary.rejected == 0
    ent = store.read("enterprises").set_index("id")
    assert ent.loc["R3", ["name", "is_client", "manager_id"]].tolist() == ["戊物流有限公司", True, "M1"]
    assert ent.loc["R1", ["is_client", "manager_id"]].tolist() == [False, "M2"]


# ------------------------------------------------------------------ titles
@pytest.mark.parametrize(("title", "role"), [
    ("EVP & CFO", "executive"), ("Chief Accounting Officer", "finance"), ("Controller & CAO", "finance"),
    ("See Remarks", "other"), ("10% Owner", "shareholder"), ("Director", "director"), ("", "related"),
    ("Director, 10% Owner", "director"), ("Chairman & CEO", "director"), ("Sales Director", "executive"),
    ("副总经理兼财务总监", "executive"), ("董事长/董事", "director"), ("董事会秘书", "executive"),
    ("监事会主席", "executive"), ("采购总监", "executive"), ("销售经理", "employee"), ("财务总监", "finance"),
    ("实际控制人/法定代表人", "actual_controller"), ("股东、法定代表人", "legal_rep"), ("保安", "other"),
])
def test_titles_are_classified_by_their_words(title: str, role: str) -> None:
    assert classify_title(title) == role


def test_a_values_entry_still_wins_over_the_words() -> None:
    assert classify_title("See Remarks", {"See Remarks": "executive"}) == "executive"


def test_english_insider_filings_with_blanks_and_repeats(store: NetworkxStore) -> None:
    summary = run_ingest(store, TITLES / "sec_mapping.yaml")
    raw = pd.read_csv(TITLES / "sec_insider_owners.csv", dtype=str, keep_default_na=False)
    counts = summary.by_table["roles"]
    assert counts["read"] == len(raw) and counts["accepted"] >= 0.99 * counts["read"]  # no `values:` by hand
    roles = store.read("roles")
    pairs = raw.groupby(["RPTOWNERCIK", "ISSUERCIK"])
    assert len(roles) == pairs.ngroups  # one relation per owner and issuer, however many filings
    dates = pd.to_datetime(raw["FILING_DATE"], format="%d-%b-%Y")
    span = dates.groupby([raw["RPTOWNERCIK"], raw["ISSUERCIK"]]).agg(["min", "max"])
    got = roles.set_index(["person_id", "enterprise_id"]).sort_index()
    assert (got["first_on"] == span["min"].sort_index()).all() and (got["last_on"] == span["max"].sort_index()).all()
    by_title = roles.assign(title=roles["title"].fillna("")).groupby("title")["role"].first().to_dict()
    assert by_title["EVP & CFO"] == "executive" and by_title["Chief Accounting Officer"] == "finance"
    assert by_title["See Remarks"] == "other" and by_title[""] == "related"
    per_class = raw.assign(role=raw["RPTOWNER_TITLE"].map(classify_title))["role"].value_counts().to_dict()
    assert summary.role_classes == per_class  # rows per class, as read
    assert summary.unrecognised_titles["See Remarks"] == int(raw["RPTOWNER_TITLE"].str.lower().eq("see remarks").sum())
    assert "roles by class:" in summary.render() and "'See Remarks'" in summary.render()
    edges = store.read("edges").query("kind == 'HOLDS_ROLE' and role == 'other'")
    assert set(edges["title"]) == {"See Remarks", "See remarks", "Co-Founder"}
    again = run_ingest(store, TITLES / "sec_mapping.yaml")
    assert again.new_facts == 0 and store.read("roles").equals(roles)


def test_chinese_officer_titles(store: NetworkxStore) -> None:
    summary = run_ingest(store, TITLES / "zh_mapping.yaml")
    assert summary.rejected == 0
    got = store.read("roles").assign(title=lambda d: d["title"].fillna("")).groupby("title")["role"].first()
    assert got[["董事会秘书", "副总经理兼财务总监", "监事会主席", "采购总监", "销售经理", "董事长/董事", ""]].tolist() == [
        "executive", "executive", "executive", "executive", "employee", "director", "related"]
    ent = store.read("enterprises").set_index("id")
    assert ent.loc["E000", "name"] == "杭州恒信精密机械股份有限公司"  # 企业名称, not the person's 姓名
    assert set(summary.unrecognised_titles) == {"证券事务代表", "核心技术人员"}


# ------------------------------------------------------------------ delta bundles
def test_a_payments_only_delta_resolves_against_the_store(store: NetworkxStore,
                                                          make_bundle: Callable[..., Path]) -> None:
    with pytest.raises(NotFound, match="first ingest"):
        run_ingest(store, make_bundle({"payments.csv": PAYMENTS_JAN}))
    assert store.version is None
    run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN}))
    delta = make_bundle({"payments.csv": PAYMENTS_FEB}, folder="delta-2024-02")
    first = run_ingest(store, delta)
    assert first.rejected == 0 and first.new_facts == 1
    payments = store.read("payments")
    assert set(payments["month"]) == {"2024-01", "2024-02"}
    feb = payments[payments["month"] == "2024-02"]
    assert feb["payer_id"].tolist() == ["E0001"]
    assert feb["payee_id"].isin(store.read("enterprises")["id"]).all()  # 苏州新材料 resolved to the stored node
    again = run_ingest(store, delta)
    assert again.new_facts == 0 and store.read("payments").equals(payments)


def test_a_payroll_and_persons_delta(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES}))
    delta = make_bundle({"persons.csv": "person_id,name\nP1,张三\n",
                         "payroll.csv": "employer_id,person_id,month,amount\nE0003,P1,2024-01,5000\n"
                                        "E9999,P1,2024-01,100\n"})
    summary = run_ingest(store, delta)
    assert summary.by_table["payroll"] == {"read": 2, "accepted": 1, "rejected": 1}
    assert rejects_of(summary.report_dir)["reason"].tolist() == ["unknown enterprise employer_id"]
    payroll = store.read("payroll")
    assert run_ingest(store, delta).new_facts == 0 and store.read("payroll").equals(payroll)


# ------------------------------------------------------------------ odd text
EVIL = "<script>alert(1)</script>恶意测试有限公司"
RTL = "\u202egnp.exe有限公司"
HOSTILE = {
    "enterprises.csv": "enterprise_id,name,is_client\nE1,我行客户有限公司,是\n"
                       f"E2,{EVIL},否\nE3,{RTL},否\nE4,\"=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\",否\n"
                       f"E5,控制\x07字符有限公司,否\nE6,{'长' * 230},否\n<b>E7,标签编号有限公司,否\n",
    "payments.csv": "payer_id,payee_id,payee_name,amount,paid_on\n"
                    "E1,E2,,100,2024-01-05\nE1,E3,,200,2024-01-06\nE1,E4,,300,2024-01-07\n"
                    "E1,E5,,400,2024-01-08\nE1,E6,,500,2024-01-09\nE1,<b>E7,,600,2024-01-10\n"
                    f"E1,,\"@SUM(1+1)*cmd|' /C calc'!A0\",700,2024-01-11\nE1,,{EVIL},800,2024-01-12\n"
                    "E1,,无金额有限公司,,2024-01-13\n",
}


def test_a_hostile_bundle_keeps_every_payment_and_its_pages_escape(store: NetworkxStore,
                                                                  make_bundle: Callable[..., Path]) -> None:
    summary = run_ingest(store, make_bundle(HOSTILE))
    rejects = rejects_of(summary.report_dir)
    refused = rejects[rejects["action"] == "row rejected"]
    assert refused[["table", "row", "column"]].values.tolist() == [["payments", "10", "amount"]]  # only no amount
    assert summary.by_table["payments"] == {"read": 9, "accepted": 8, "rejected": 1}
    warned = rejects[rejects["action"] == "value kept"]
    assert {"bidi control characters (value kept; not shown on pages)", "control characters removed (value kept)",
            "name contains HTML markup (kept, shown escaped)", "name longer than 200 characters (kept, shown escaped)",
            "name looks like a spreadsheet formula (kept, shown escaped)",
            "id contains HTML markup (kept, shown escaped)"} <= set(warned["reason"])
    assert summary.warnings == len(warned)
    ent = store.read("enterprises").set_index("id")
    assert ent.loc["E2", "name"] == EVIL and ent.loc["E3", "name"] == RTL and ent.loc["E5", "name"] == "控制字符有限公司"
    assert store.read("payments")["amount"].sum() == 100 + 200 + 300 + 400 + 500 + 600 + 700 + 800
    assert store.read("edges").query("kind == 'PAYS' and src == 'E1'")["count"].sum() == 8

    token = add_token(store, "t", "admin")
    client = TestClient(create_app(store.root))
    client.get(f"/me?token={token}")
    for node in ("E2", "E3", "<b>E7"):
        page = client.get(f"/viz/ego/{quote(node, safe='')}")
        assert page.status_code == 200, node
        assert "<script>alert(1)" not in page.text and "<b>E7" not in page.text and "\u202e" not in page.text
    page = client.get("/viz/ego/E2")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;恶意测试有限公司" in page.text  # shown, as text
    assert "gnp.exe有限公司" in client.get("/viz/ego/E3").text
    found = client.get("/entities/E3", headers={"Authorization": f"Bearer {token}"}).json()
    assert found["name"] == "gnp.exe有限公司"


def test_other_and_related_roles_are_not_taken_for_executives(store: NetworkxStore,
                                                               make_bundle: Callable[..., Path]) -> None:
    run_ingest(store, make_bundle({
        "enterprises.csv": ENTERPRISES,
        "persons.csv": "person_id,name\nP1,张三\nP2,李四\nP3,王五\n",
        "roles.csv": "person_id,enterprise_id,role\nP1,E0001,总经理\nP2,E0001,See Remarks\nP3,E0001,\n",
    }))
    assert store.read("roles").set_index("person_id")["role"].to_dict() == {"P1": "executive", "P2": "other",
                                                                           "P3": "related"}
    score_all(store)
    executives = load_prospects(store, "retail_linkage", kind="executive")
    assert set(executives["prospect_id"]) == {"P1"}


def test_a_relation_seen_again_later_keeps_its_first_date(store: NetworkxStore,
                                                          make_bundle: Callable[..., Path]) -> None:
    people = "person_id,name\nP1,张三\n"
    run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES, "persons.csv": people,
                                   "roles.csv": "人员编号,企业编号,职务,公告日期\nP1,E0001,总经理,2023-03-01\n"
                                                "P1,E0001,总经理,2023-01-05\n"}))
    run_ingest(store, make_bundle({"roles.csv": "人员编号,企业编号,职务,公告日期\nP1,E0001,总经理,2024-06-30\n"}))
    roles = store.read("roles")
    assert len(roles) == 1
    assert [d.strftime("%Y-%m-%d") for d in roles[["first_on", "last_on"]].iloc[0]] == ["2023-01-05", "2024-06-30"]
    edge = store.read("edges").query("kind == 'HOLDS_ROLE'").iloc[0]
    assert edge["first_on"] == roles["first_on"].iloc[0] and edge["title"] == "总经理"


# ------------------------------------------------------------------ workbooks of several sheets
def _workbook(path: Path, sheets: dict[str, list[list[str]]]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)


_HEAD = ["付款人名称", "收款人名称", "金额", "交易日期"]
_ROW = ["华东精密制造有限公司", "苏州宏达包装材料有限公司", "100", "2026-01-05"]


def test_every_sheet_of_a_workbook_holding_the_table_is_read(store: NetworkxStore,
                                                            make_bundle: Callable[..., Path]) -> None:
    # a cover sheet, then a sheet a month; the same payment twice in one month is two payments,
    # and a row in another month's sheet identical to one of January's is a payment of its own
    bundle = make_bundle({"enterprises.csv": "企业编号,企业名称,是否我行客户\nE1,华东精密制造有限公司,是\n"})
    _workbook(bundle / "payments.xlsx", {"1月": [_HEAD, _ROW, _ROW]})
    first = run_ingest(store, bundle)
    assert len(store.read("payments")) == 2 and first.unread_sheets == {}
    january = set(store.read("payments")["fact_id"])
    _workbook(bundle / "payments.xlsx", {"说明": [["本表由网银导出"], ["导出时间：2026-03-01"]],
                                         "1月": [_HEAD, _ROW, _ROW], "2月": [_HEAD, _ROW, ["甲", "乙", "x", "2026-02-01"]],
                                         "空白": []})
    summary = run_ingest(store, bundle)
    pays = store.read("payments")
    assert len(pays) == 3 and january < set(pays["fact_id"])  # January's ids unchanged: nothing twice
    assert summary.files == ["enterprises.csv", "payments.xlsx[1月]", "payments.xlsx[2月]"]
    assert rejects_of(summary.report_dir)[["file", "row", "column"]].values.tolist() == [
        ["payments.xlsx[2月]", "3", "amount"]]
    assert summary.unread_sheets == {"payments.xlsx[说明]": ("payments", [])}
    assert "sheet not read: payments.xlsx[说明] (its headers lack the payments columns)" in summary.render()


def test_a_hidden_sheet_is_read_only_when_no_visible_sheet_holds_the_table(store: NetworkxStore,
                                                                           make_bundle: Callable[..., Path]) -> None:
    # an export's hidden working copy of the visible sheet would count every payment twice
    bundle = make_bundle({"enterprises.csv": "企业编号,企业名称,是否我行客户\nE1,华东精密制造有限公司,是\n"})
    _workbook(bundle / "payments.xlsx", {"1月": [_HEAD, _ROW], "底稿": [_HEAD, _ROW, _ROW]})
    book = openpyxl.load_workbook(bundle / "payments.xlsx")
    book["底稿"].sheet_state = "hidden"
    book.save(bundle / "payments.xlsx")
    summary = run_ingest(store, bundle)
    assert len(store.read("payments")) == 1 and summary.files == ["enterprises.csv", "payments.xlsx[1月]"]
    assert summary.hidden_sheets == {"payments.xlsx[底稿]": ("payments", False)}
    assert "hidden sheet not read: payments.xlsx[底稿] (it has the payments columns" in summary.render()
    # the visible sheet only a cover: the hidden one holds the rows and is read, and said so
    book = openpyxl.load_workbook(bundle / "payments.xlsx")
    book["1月"].delete_rows(1, 2)
    book["1月"].append(["本表由网银导出"])
    book.save(bundle / "payments.xlsx")
    summary = run_ingest(store, bundle)
    assert len(store.read("payments")) == 2 and summary.files == ["enterprises.csv", "payments.xlsx[底稿]"]
    assert summary.hidden_sheets == {"payments.xlsx[底稿]": ("payments", True)}
    assert summary.unread_sheets == {"payments.xlsx[1月]": ("payments", [])}
    assert "hidden sheet read: payments.xlsx[底稿] (no visible sheet has the payments columns)" in summary.render()


def test_a_workbook_with_no_sheet_of_the_table_fails_naming_its_sheets(store: NetworkxStore,
                                                                       make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": "企业编号,企业名称\nE1,甲\n"})
    _workbook(bundle / "payments.xlsx", {"说明": [["本表由网银导出"]], "数据": [["日期", "对手", "数"], ["1", "2", "3"]]})
    with pytest.raises(InvalidData, match=r"payments.xlsx: no sheet has the payments columns .*说明: 本表由网银导出; 数据: "
                                          r"日期, 对手, 数"):
        run_ingest(store, bundle)
    assert store.read("enterprises").empty  # the store as it was
    mapped = make_bundle({"enterprises.csv": "企业编号,企业名称\nE1,甲\n", "mapping.yaml": (
        "tables:\n  payments:\n    - file: payments.xlsx\n      sheet: 数据\n"
        "      columns: {payer_id: 对手, payee_name: 日期, amount: 数}\n      defaults: {paid_on: '2026-01-01'}\n")})
    _workbook(mapped / "payments.xlsx", {"说明": [["本表由网银导出"]], "数据": [["日期", "对手", "数"], ["乙", "E1", "3"]]})
    assert run_ingest(store, mapped / "mapping.yaml").files == ["enterprises.csv", "payments.xlsx"]
    # no sheet named: the mapping's headers pick the sheet, spelt as loosely as they match a column
    loose = make_bundle({"enterprises.csv": "企业编号,企业名称\nE1,甲\n", "mapping.yaml": (
        "tables:\n  payments:\n    - file: payments.xlsx\n"
        "      columns: {payer_id: Payer ID, payee_name: To, amount: Sum}\n      defaults: {paid_on: '2026-01-01'}\n")})
    _workbook(loose / "payments.xlsx", {"说明": [["本表由网银导出"]], "数据": [["payer id", "to", "SUM"], ["E1", "乙", "3"]]})
    summary = run_ingest(store, loose / "mapping.yaml")
    assert summary.files == ["enterprises.csv", "payments.xlsx[数据]"] and summary.rejected == 0


def test_a_mapping_names_a_sheet_whatever_its_case_and_surrounding_spaces(store: NetworkxStore,
                                                                         make_bundle: Callable[..., Path]) -> None:
    def read_rows(sheet: str, sheets: dict[str, list[list[str]]]) -> int:
        bundle = make_bundle({"enterprises.csv": "企业编号,企业名称,是否我行客户\nE1,华东精密制造有限公司,是\n",
                              "mapping.yaml": f"tables:\n  payments:\n    - file: payments.xlsx\n      sheet: '{sheet}'\n"})
        _workbook(bundle / "payments.xlsx", sheets)
        summary = run_ingest(store, bundle / "mapping.yaml")
        assert summary.files == ["enterprises.csv", "payments.xlsx"] and summary.rejected == 0
        return summary.by_table["payments"]["read"]

    # the rows are in 'Payments ' (a trailing space, as typed in Excel); the mapping says ' payments'
    sheets = {"说明": [["本表由网银导出"]], "Payments ": [_HEAD, _ROW, _ROW], "Cover": [_HEAD, _ROW]}
    assert read_rows(" payments", sheets) == 2
    assert read_rows("payments ", sheets) == 2
    # an exact name first: 'Cover ' is that sheet, not 'Cover' (which it matches but for spaces)
    assert read_rows("Cover ", {**sheets, "Cover ": [_HEAD, _ROW, _ROW, _ROW]}) == 3
    # two sheets that match only but for case or spaces: which one was meant is not guessed
    with pytest.raises(InvalidMapping, match=r"payments.xlsx: sheet 'DATA' named by the mapping matches several "
                                             r"sheets but for case or spaces \('Data', 'data '\)"):
        read_rows("DATA", {"Data": [_HEAD, _ROW], "data ": [_HEAD, _ROW]})
    with pytest.raises(InvalidData, match="payments.xlsx: Worksheet named 'Nope' not found"):
        read_rows("Nope", sheets)  # no such sheet: the error it always was


def test_an_unnamed_workbook_is_described_by_its_first_sheet_that_looks_like_a_table(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": "企业编号,企业名称\nE1,甲\n"})
    _workbook(bundle / "交易流水.xlsx", {"说明": [["本表由网银导出"]], "1月": [_HEAD, _ROW]})
    assert run_ingest(store, bundle).unread_files == {"交易流水.xlsx": ["payments"]}


def test_a_payer_merged_down_over_its_rows_pays_each_of_them(store: NetworkxStore,
                                                            make_bundle: Callable[..., Path]) -> None:
    # a printed report groups the rows under merged cells; calamine gives the value in the first
    # row only. The header's merged cells are left to the header joining (test_statements.py).
    bundle = make_bundle({"enterprises.csv": "企业编号,企业名称,是否我行客户\nE1,华东精密制造有限公司,是\n"})
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["付款明细"], _HEAD, [_ROW[0], "甲公司", "100", "2026-01-05"], [None, "乙公司", "200", "2026-01-06"],
                [None, "丙公司", "300", None], ["合计", None, "600", None], [None, "丁公司", "50", "2026-01-08"]):
        sheet.append(row)
    sheet.merge_cells("A1:D1")  # the title: above the headers, never filled down
    sheet.merge_cells("A3:A5")  # the payer, over its three payments
    sheet.merge_cells("D4:D5")  # a day's date, over its two payments
    sheet.merge_cells("A6:B6")  # the totals label across two cells
    book.save(bundle / "payments.xlsx")
    summary = run_ingest(store, bundle)
    pays = store.read("payments").sort_values("amount")
    assert pays["amount"].tolist() == [100.0, 200.0, 300.0]
    assert set(pays["payer_id"]) == {"E1"} and pays["paid_on"].astype(str).tolist()[-1] == "2026-01-06"
    assert rejects_of(summary.report_dir)[["row", "column"]].values.tolist() == [
        ["6", "(row)"], ["7", "payer_name"]]  # the totals row; 丁公司's payer cell is blank, not merged


def test_a_totals_row_padded_with_whitespace_is_no_record(store: NetworkxStore,
                                                          make_bundle: Callable[..., Path]) -> None:
    # a report pads its labels: ASCII, full-width (U+3000) and no-break spaces, tabs; 合　计 spaced out
    bundle = make_bundle({"enterprises.csv": "企业编号,企业名称,是否我行客户\nE1,华东精密制造有限公司,是\n",
                          "payments/1月.csv": ",".join(_HEAD) + "\n" + ",".join(_ROW) + "\n  合计  ,,100,\n"
                                          "\u3000小计\u3000,,100,\n\u00a0Total ,,100,\n 合\u3000计 ,,100,\n"})
    book = openpyxl.Workbook()
    for row in (["序号", *_HEAD], ["1", *_ROW], [" ", "合计\t", None, "100", None], ["\u00a0总计：\u3000", None, None, "200", None]):
        book.active.append(row)  # 合计 beside a 序号 of nothing but a space; 总计： with a colon
    book.save(bundle / "payments" / "2月.xlsx")
    summary = run_ingest(store, bundle)
    assert store.read("payments")["amount"].tolist() == [100.0, 100.0]  # the two payments only
    rejects = rejects_of(summary.report_dir)
    assert rejects[["file", "row", "column", "reason"]].values.tolist() == [
        ["payments/1月.csv", "3", "(row)", "a totals row (合计), not a record"],
        ["payments/1月.csv", "4", "(row)", "a totals row (小计), not a record"],
        ["payments/1月.csv", "5", "(row)", "a totals row (Total), not a record"],
        ["payments/1月.csv", "6", "(row)", "a totals row (合\u3000计), not a record"],
        ["payments/2月.xlsx", "3", "(row)", "a totals row (合计), not a record"],
        ["payments/2月.xlsx", "4", "(row)", "a totals row (总计：), not a record"]]
    assert summary.by_table["payments"] == {"read": 8, "accepted": 2, "rejected": 6}
