"""An HTML page or an Excel XML spreadsheet saved as .xls, read as Excel lays it out
(`ingest.html_tables`, `ingest.xml_sheets`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import InvalidData
from ingest.html_tables import html_cells
from ingest.readers import read_file
from ingest.xml_sheets import xml_sheets


def _page(tmp_path: Path, body: str, encoding: str = "utf-8", name: str = "page.xls") -> Path:
    path = tmp_path / name
    path.write_bytes(f"<html><body>{body}</body></html>".encode(encoding))
    return path


def test_spans_nested_tables_and_hidden_text(tmp_path: Path) -> None:
    body = ("<table><tr><td><table><tr><td>户名：甲公司</td></tr></table></td></tr></table>"  # a layout table
            "<table><tr><th rowspan='2'>交易日期</th><th colspan='2'>对方</th><th rowspan='2'>金额</th></tr>"
            "<tr><th>户名</th><th>行名</th></tr>"
            "<tr><td>2024-05-03</td><td>乙公司<script>alert(1)</script><!-- x --></td><td>工商银行</td><td>10</td></tr>"
            "</table>")
    cells, merged = html_cells(_page(tmp_path, body))
    assert cells.values.tolist() == [["户名：甲公司", "", "", ""],
                                     ["交易日期", "对方", "", "金额"],
                                     ["", "户名", "行名", ""],
                                     ["2024-05-03", "乙公司", "工商银行", "10"]]
    assert merged == [(1, 0, 2, 0), (1, 1, 1, 2), (1, 3, 2, 3)]


def test_a_page_read_as_a_table_with_its_title_and_two_header_rows(tmp_path: Path) -> None:
    body = ("<table><tr><td>户名：华东精密制造有限公司</td></tr>"
            "<tr><th rowspan='2'>交易日期</th><th colspan='2'>对方</th><th rowspan='2'>交易金额</th></tr>"
            "<tr><th>户名</th><th>行名</th></tr>"
            "<tr><td>2024-05-03</td><td>乙公司</td><td>工商银行</td><td>0012</td></tr></table>")
    raw = read_file(_page(tmp_path, body, "gb18030").with_name("page.xls"))
    assert raw.header_row == 2 and raw.header_depth == 2
    assert list(raw.frame.columns) == ["交易日期", "对方户名", "对方行名", "交易金额"]  # known words together
    assert raw.frame.iloc[0].tolist() == ["2024-05-03", "乙公司", "工商银行", "0012"]  # text kept as written
    assert raw.rows.tolist() == [4]


def test_a_page_with_no_rows_or_broken_text_fails_saying_so(tmp_path: Path) -> None:
    with pytest.raises(InvalidData, match="no table rows"):
        read_file(_page(tmp_path, "<p>查询无记录</p>"))
    broken = tmp_path / "broken.xls"
    broken.write_bytes(b'<html><head><meta charset="utf-8"></head><body><table><tr><td>\xb1\xea</td></tr></table>')
    with pytest.raises(InvalidData, match="not utf-8 text as it says"):
        read_file(broken)


_BOOK = ('<?xml version="1.0"?>{doctype}<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
         'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="S"><Table>{rows}</Table>'
         '</Worksheet></Workbook>')


def test_an_xml_spreadsheet_keeps_its_row_numbers_and_cuts_a_span_at_a_thousand(tmp_path: Path) -> None:
    rows = ('<Row ss:Index="3"><Cell><Data ss:Type="String">付款人编号</Data></Cell><Cell><Data ss:Type="String">'
            '收款人名称</Data></Cell><Cell><Data ss:Type="String">金额</Data></Cell><Cell><Data ss:Type="String">交易日期'
            '</Data></Cell></Row><Row ss:Index="5"><Cell><Data ss:Type="String">E1</Data></Cell>'
            '<Cell ss:MergeAcross="999999999"><Data ss:Type="String"><Font>乙</Font>公司</Data></Cell>'
            '<Cell ss:Index="1003"><Data ss:Type="Number">5</Data></Cell></Row>')
    path = tmp_path / "book.xls"
    path.write_text(_BOOK.format(doctype="", rows=rows), encoding="utf-8")
    (sheet,) = xml_sheets(path)
    assert sheet.merged == [(4, 1, 4, 1001)]  # a span past 1,000 columns is cut there
    raw = read_file(path)
    assert raw.header_row == 3 and raw.rows.tolist() == [5]  # the blank rows the indexes skip keep their numbers
    assert raw.frame.iloc[0].tolist()[:2] == ["E1", "乙公司"]


@pytest.mark.parametrize(("doctype", "rows", "says"), [
    ('<!DOCTYPE Workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
     '<Row><Cell><Data ss:Type="String">&xxe;</Data></Cell></Row>', "with a DOCTYPE"),
    ('<!DOCTYPE Workbook [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
     '<Row><Cell ss:StyleID="&b;"><Data ss:Type="String">x</Data></Cell></Row>', "with a DOCTYPE"),
    ("", '<Row ss:Index="0"><Cell><Data ss:Type="String">x</Data></Cell></Row>', "row index 0 does not follow"),
    ("", '<Row ss:Index="4"/><Row ss:Index="2"/>', "row index 2 does not follow row 4"),
    ("", '<Row><Cell ss:Index="-3"><Data ss:Type="String">x</Data></Cell></Row>', "cell index -3 does not follow"),
    ("", '<Row><Cell ss:Index="1000000"><Data ss:Type="String">x</Data></Cell></Row>', "wider than a sheet"),
    ("", '<Row><Cell ss:Index="16000"/></Row><Row ss:Index="2000000"><Cell/></Row>', "of more than 20,000,000 cells"),
    ("", "<Row><Cell><Data>x</Data></Cell>", "not well-formed XML"),
])
def test_a_hostile_or_broken_xml_spreadsheet_fails_saying_why(tmp_path: Path, doctype: str, rows: str,
                                                              says: str) -> None:
    path = tmp_path / "book.xls"
    path.write_text(_BOOK.format(doctype=doctype, rows=rows), encoding="utf-8")
    with pytest.raises(InvalidData, match=f"book.xls: an Excel XML spreadsheet .*{says}"):
        read_file(path)


def test_a_span_ends_with_its_table_and_a_comment_keeps_the_text_after_it(tmp_path: Path) -> None:
    body = ("<!-- exported --><table><tr><td rowspan='9'>甲</td><td>1</td></tr></table>"
            "<table><tr><td>付款人编号</td><td><!-- n -->1,234.00</td></tr></table>")
    cells, merged = html_cells(_page(tmp_path, body))
    assert cells.values.tolist() == [["甲", "1"], ["付款人编号", "1,234.00"]]  # the next table's row not pushed right
    assert merged == [(0, 0, 0, 0)]  # the rowspan cut at its table's last row


def test_a_page_wider_or_larger_than_a_sheet_fails(tmp_path: Path) -> None:
    wide = "<table><tr>" + "<td colspan='1000'>x</td>" * 17 + "</tr></table>"
    with pytest.raises(InvalidData, match="wider than a sheet"):
        html_cells(_page(tmp_path, wide))
    spans = "<table>" + "<tr><td rowspan='1000' colspan='1000'>x</td></tr>" * 3 + "</table>"
    cells, merged = html_cells(_page(tmp_path, spans, name="spans.xls"))  # spans kept as ranges: small
    assert cells.shape == (3, 3000) and merged[0] == (0, 0, 2, 999)  # each row pushed right, as a browser does
