"""A bundle's files as exports name them: `.xls` workbooks (real or HTML), upper-case names, and
every data file the product cannot read listed with why."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from graph.errors import InvalidData
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from ingest.mapping import plan_bundle
from tests.ingest.helpers import rejects_of

# an Excel 97–2003 workbook (BIFF, written by xlwt 1.3): a cover sheet 说明; 1月 with a title, the
# headers and a payer merged over its two payments; a hidden 底稿 with the same two payments
XLS = Path(__file__).parents[1] / "fixtures" / "ingest" / "xls" / "payments.xls"
ENTERPRISES = "企业编号,企业名称,是否我行客户\nE1,华东精密制造有限公司,是\n"
HTML = ('<html><head><meta charset="utf-8"></head><body><table><tr><th>代发单位客户号</th><th>员工客户号</th>'
        "<th>代发月份</th><th>实发金额</th></tr><tr><td>E1</td><td>P1</td><td>2024-05</td><td>5000</td></tr>"
        "</table></body></html>")


def test_an_xls_workbook_is_read_as_an_xlsx_is(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES})
    shutil.copy(XLS, bundle / "payments.xls")
    summary = run_ingest(store, bundle)
    pays = store.read("payments").sort_values("amount")
    assert pays["amount"].tolist() == [100.0, 200.0] and set(pays["payer_id"]) == {"E1"}  # the merged payer filled down
    assert summary.files == ["enterprises.csv", "payments.xls[1月]"]
    assert summary.hidden_sheets == {"payments.xls[底稿]": ("payments", False)}  # the hidden copy: not counted twice
    assert summary.unread_sheets == {"payments.xls[说明]": ("payments", [])}
    assert summary.header_rows == {"payments.xls[1月]": 2}


# an online bank's statement page saved as .xls: GBK as its meta says, a title table above the
# data table, padded cells, a payer merged over its two payments (rowspan), a totals row
STATEMENT_PAGE = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>
<table><tr><td colspan="4">单位客户交易明细</td></tr><tr><td>查询日期：</td><td>2024-05-31</td></tr></table>
<table border="1">
<tr><th>付款人编号</th><th>收款人名称</th><th>金额</th><th>交易日期</th></tr>
<tr><td rowspan="2">&nbsp;E1&nbsp;</td><td>乙贸易<br/>有限公司</td><td>1,200.00</td><td>2024-05-03</td></tr>
<tr><td><span>丙公司</span></td><td>300</td><td>2024-05-09</td></tr>
<tr><td>合计</td><td></td><td>1,500.00</td><td></td></tr>
</table></body></html>"""
# an Excel 2003 XML spreadsheet saved as .xls (GB2312 as its declaration says): a title, the
# headers, a payer merged down over its two payments, a skipped column (ss:Index), a hidden sheet
XML_SPREADSHEET = """<?xml version="1.0" encoding="gb2312"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:x="urn:schemas-microsoft-com:office:excel">
 <Worksheet ss:Name="交易明细"><Table>
  <Row><Cell ss:MergeAcross="3"><Data ss:Type="String">单位客户交易明细</Data></Cell></Row>
  <Row><Cell><Data ss:Type="String">付款人编号</Data></Cell><Cell><Data ss:Type="String">收款人名称</Data></Cell>
   <Cell ss:Index="4"><Data ss:Type="String">金额</Data></Cell><Cell><Data ss:Type="String">交易日期</Data></Cell></Row>
  <Row><Cell ss:MergeDown="1"><Data ss:Type="String">E1</Data></Cell><Cell><Data ss:Type="String">乙贸易有限公司</Data></Cell>
   <Cell ss:Index="4"><Data ss:Type="Number">1200</Data></Cell><Cell><Data ss:Type="String">2024-05-03</Data></Cell></Row>
  <Row><Cell ss:Index="2"><Data ss:Type="String">丙公司</Data></Cell><Cell ss:Index="4"><Data ss:Type="Number">300</Data></Cell>
   <Cell><Data ss:Type="String">2024-05-09</Data></Cell></Row>
 </Table></Worksheet>
 <Worksheet ss:Name="底稿"><Table><Row><Cell><Data ss:Type="String">付款人编号</Data></Cell>
  <Cell><Data ss:Type="String">收款人名称</Data></Cell><Cell><Data ss:Type="String">金额</Data></Cell>
  <Cell><Data ss:Type="String">交易日期</Data></Cell></Row><Row><Cell><Data ss:Type="String">E1</Data></Cell>
  <Cell><Data ss:Type="String">丙公司</Data></Cell><Cell><Data ss:Type="Number">300</Data></Cell>
  <Cell><Data ss:Type="String">2024-05-09</Data></Cell></Row></Table>
  <WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel"><Visible>SheetHidden</Visible></WorksheetOptions>
 </Worksheet>
</Workbook>"""


def test_an_html_page_saved_as_xls_is_read_as_excel_shows_it(store: NetworkxStore,
                                                              make_bundle: Callable[..., Path]) -> None:
    summary = run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES,
                                             "payments/2024-05.xls": STATEMENT_PAGE.encode("gbk")}))
    pays = store.read("payments").sort_values("amount")
    assert pays["amount"].tolist() == [300.0, 1_200.0] and set(pays["payer_id"]) == {"E1"}  # merged payer filled down
    names = store.read("enterprises").set_index("id")["name"]
    assert sorted(names[pays["payee_id"]]) == ["丙公司", "乙贸易 有限公司"]
    assert summary.header_rows == {"payments/2024-05.xls": 3}  # the title table's rows above the headers skipped
    rejects = rejects_of(summary.report_dir)
    assert rejects[["file", "row", "reason"]].values.tolist() == [
        ["payments/2024-05.xls", "6", "a totals row (合计), not a record"]]
    # a UTF-16 page (no meta charset) of payroll reads too
    run_ingest(store, make_bundle({"persons.csv": "person_id,name\nP1,张三\n", "payroll.xls": HTML.encode("utf-16")}))
    assert store.read("payroll")[["employer_id", "person_id", "amount"]].values.tolist() == [["E1", "P1", 5000.0]]


def test_an_xml_spreadsheet_saved_as_xls_is_read_as_excel_shows_it(store: NetworkxStore,
                                                                   make_bundle: Callable[..., Path]) -> None:
    summary = run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES,
                                             "payments.xls": XML_SPREADSHEET.encode("gb2312")}))
    pays = store.read("payments").sort_values("amount")
    assert pays["amount"].tolist() == [300.0, 1_200.0] and set(pays["payer_id"]) == {"E1"}  # merged payer filled down
    assert summary.files == ["enterprises.csv", "payments.xls[交易明细]"] and summary.header_rows == {
        "payments.xls[交易明细]": 2}
    assert summary.hidden_sheets == {"payments.xls[底稿]": ("payments", False)}  # a hidden copy: not counted twice
    # a broken file fails saying what it is, and the store is as it was
    before = store.read("payments")
    with pytest.raises(InvalidData, match=r"payments\.xls: an Excel XML spreadsheet that is not well-formed XML"):
        run_ingest(store, make_bundle({"payments.xls": XML_SPREADSHEET[:600]}))
    assert store.read("payments").equals(before)


def test_a_data_file_no_reader_takes_is_listed_with_why(store: NetworkxStore,
                                                         make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES, "payments-2024-04.xls": XML_SPREADSHEET.encode("gb2312"),
                          "payroll.ods": "PK", "2024/exports.zip": "PK", "readme.md": "not data",
                          "2024/代发工资.xls": HTML})
    summary = run_ingest(store, bundle)
    assert summary.unread_files == {"2024/exports.zip": [], "payments-2024-04.xls": ["payments"], "payroll.ods": [],
                                    "2024/代发工资.xls": ["payroll"]}  # markup .xls are read: their headers tell
    text = summary.render()
    assert "not read: payroll.ods (an OpenDocument spreadsheet (.ods): open it in Excel or WPS and save it as .xlsx" in text
    assert "not read: 2024/exports.zip (an archive: unpack its files into the bundle)" in text


def test_table_names_match_whatever_their_case(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    head = "付款人编号,收款人名称,金额,交易日期\n"
    bundle = make_bundle({"ENTERPRISES.CSV": ENTERPRISES, "Payments/2026-02.CSV": head + "E1,乙公司,200,2026-02-05\n"})
    book = openpyxl.Workbook()
    for row in (head.strip().split(","), ["E1", "甲公司", "100", "2026-01-05"]):
        book.active.append(row)
    book.save(bundle / "payments.xlsx")
    (bundle / "payments.xlsx").rename(bundle / "payments.XLSX")
    assert {t: [s.file for s in sources] for t, sources in plan_bundle(bundle).items()} == {
        "enterprises": ["ENTERPRISES.CSV"], "payments": ["payments.XLSX", "Payments/2026-02.CSV"]}
    summary = run_ingest(store, bundle)
    assert sorted(store.read("payments")["amount"]) == [100.0, 200.0] and summary.unread_files == {}


def test_a_second_file_of_a_table_is_listed_without_advice_to_take_its_own_name(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    head = "付款人编号,收款人名称,金额,交易日期\n"
    bundle = make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": head + "E1,甲公司,1,2026-01-05\n",
                          "PAYMENTS.CSV": head + "E1,乙公司,2,2026-01-06\n",
                          "2026/payments.CSV": head + "E1,丙公司,3,2026-01-07\n"})
    summary = run_ingest(store, bundle)
    assert len(store.read("payments")) == 1 and len(summary.unread_files) == 2
    text = summary.render()
    assert "name it payments" not in text
    unread = next(f for f in summary.unread_files if "/" not in f)
    assert f"not read: {unread} (another payments file beside it is read: put both in payments/, or map it)" in text
    assert ("not read: 2026/payments.CSV (it is in 2026/, a folder of no table: put it in payments/ or beside the "
            "others, or map it)") in text
