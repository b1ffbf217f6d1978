"""Headers as exports write them. Money in the unit its export states: a header's unit
('金额(万元)') or a mapping's `units:` scales the column's plain numbers; a value's own unit
('12.5万元') wins over both. Other notes in brackets ('交易日期(YYYY-MM-DD)') are read past,
core-banking names (客户号, 所属机构, 关联关系 …) are known, and a title above the headers is
skipped with every row keeping its number in the file."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from graph.errors import InvalidMapping
from graph.networkx_store import NetworkxStore
from ingest.aliases import split_unit, unit_scale, without_hint
from ingest.job import run_ingest
from ingest.mapping import load_mapping
from ingest.normalise import to_amount
from ingest.readers import header_index, read_file
from tests.ingest.helpers import rejects_of


@pytest.mark.parametrize(("header", "split"), [
    ("金额(万元)", ("金额", "万元")),
    ("注册资本（万元）", ("注册资本", "万元")),
    ("交易金额（人民币万元）", ("交易金额", "人民币万元")),
    ("余额（单位：元）", ("余额", "元")),
    ("Amount (CNY)", ("amount", "cny")),
    ("金额百万元", ("金额", "百万元")),
    ("金额", ("金额", None)),
    ("万元", ("万元", None)),  # nothing but a unit: not split
    ("payee_name", ("payeename", None)),
])
def test_a_header_splits_into_its_name_and_unit(header: str, split: tuple[str, str | None]) -> None:
    assert split_unit(header) == split


def test_units_scale_plain_numbers_and_a_value_keeps_its_own() -> None:
    text = pd.Series(["500", "3.55", "12.35", "12.5万元", "800元", "1.2亿", "(2)", "待定", "", "1e305"],
                     dtype="string")
    values, bad = to_amount(text, unit_scale("万元") or 1)
    assert values.tolist()[:7] == [5_000_000.0, 35_500.0, 123_500.0, 125_000.0, 800.0, 120_000_000.0, -20_000.0]
    assert bad.tolist() == [False] * 7 + [True, False, True]  # 1e305 万元 is too large a number
    plain, _ = to_amount(text)  # yuan: as before
    assert plain.tolist()[:3] == [500.0, 3.55, 12.35]
    assert unit_scale("ＣＮＹ") == 1 and unit_scale("千元") == 1_000 and unit_scale("斤") is None


def test_headers_with_units_are_read_in_them(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "enterprises.csv": "企业编号,企业名称,注册资本(万元),是否我行客户\nE1,甲公司,500,是\nE2,乙公司,12.5万元,否\n",
        "persons.csv": "客户编号,姓名,金融资产（万元）,上期金融资产（万元）\nP1,张三,4.5,6\n",
        "payments.csv": "付款人编号,收款人名称,金额（万元）,交易日期\nE1,乙公司,3.5,2024-01-02\n",
        "payroll.csv": "代发单位编号,员工编号,代发月份,代发金额（元）\nE1,P1,2024-01,8000\n",
    })
    summary = run_ingest(store, bundle)
    assert summary.rejected == 0
    capital = store.read("enterprises").set_index("id")["registered_capital"]
    assert capital.to_dict() == {"E1": 5_000_000.0, "E2": 125_000.0}
    person = store.read("persons").iloc[0]
    assert (person["aum"], person["aum_prev"]) == (45_000.0, 60_000.0)  # below the 5万元 threshold, as stated
    assert store.read("payments")["amount"].tolist() == [35_000.0]
    assert store.read("payroll")["amount"].tolist() == [8_000.0]  # 元: no scaling, nothing to report
    assert summary.amount_units == {"enterprises.csv": {"registered_capital": "万元"},
                                    "persons.csv": {"aum": "万元", "aum_prev": "万元"},
                                    "payments.csv": {"amount": "万元"}}
    assert "payments.csv: amount 万元 (×10,000)" in summary.render()


def test_a_mapping_states_a_unit_and_wins_over_the_header(store: NetworkxStore,
                                                          make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "enterprises.csv": "enterprise_id,name\nE1,甲公司\n",
        "pay.csv": "payer,payee,amt,day\nE1,乙公司,2.5,2024-01-02\n",
        "wan.csv": "payer,payee,金额(万元),day\nE1,丙公司,7,2024-01-03\n",
        "mapping.yaml": (
            "tables:\n  payments:\n"
            "    - file: pay.csv\n"
            "      columns: {payer_id: payer, payee_name: payee, amount: amt, paid_on: day}\n"
            "      units: {amount: 千元}\n"
            "    - file: wan.csv\n"
            "      columns: {payer_id: payer, payee_name: payee, amount: 金额(万元), paid_on: day}\n"
            "      units: {amount: 元}\n"),
    })
    summary = run_ingest(store, bundle / "mapping.yaml")
    assert sorted(store.read("payments")["amount"].tolist()) == [7.0, 2_500.0]
    assert summary.amount_units == {"pay.csv": {"amount": "千元"}}


def test_a_mapping_header_with_a_unit_is_read_in_it(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "enterprises.csv": "enterprise_id,name\nE1,甲公司\n",
        "pay.csv": "payer,payee,Value (万元),day\nE1,乙公司,2.5,2024-01-02\n",
        "mapping.yaml": ("tables:\n  payments:\n    - file: pay.csv\n      columns: "
                         "{payer_id: payer, payee_name: payee, amount: Value (万元), paid_on: day}\n"),
    })
    run_ingest(store, bundle / "mapping.yaml")
    assert store.read("payments")["amount"].tolist() == [25_000.0]


@pytest.mark.parametrize(("units", "message"), [
    ("{amount: 斤}", "'斤' \\(for amount\\) is not a unit of money; use one of 元, "),
    ("{payee_name: 万元}", "units: 'payee_name' is not a money column of payments \\(money columns: amount, debit_amount, credit_amount\\)"),
])
def test_a_mapping_unit_that_cannot_be_used_is_a_named_error(tmp_path: Path, units: str, message: str) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(f"tables:\n  payments:\n    - file: x.csv\n      units: {units}\n", encoding="utf-8")
    with pytest.raises(InvalidMapping, match=message):
        load_mapping(path)


def test_headers_ending_with_a_note_are_found_without_it(store: NetworkxStore,
                                                         make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "enterprises.csv": "企业编号,企业名称（全称）,备注(内部)\nE1,甲公司,x\n",
        "payments.csv": "付款方编号,收款方名称,收款方开户行,交易金额（元）,交易日期(YYYY-MM-DD)\n"
                        "E1,乙公司,某银行,100,2024-01-02\n",
    })
    summary = run_ingest(store, bundle)
    assert store.read("enterprises").set_index("id").loc["E1", "name"] == "甲公司"
    pay = store.read("payments").iloc[0]
    assert (pay["payee_bank"], pay["amount"], str(pay["paid_on"])[:10]) == ("某银行", 100.0, "2024-01-02")
    assert summary.ignored_columns == {"enterprises.csv": ["备注(内部)"]}  # a note on an unknown header: still unknown
    assert without_hint("金额") is None and without_hint("(全称)") is None


def _in_wan(text: str | None) -> str | None:
    """A yuan amount as an export in 万元 writes it: the plain number / 10,000 (exact, in decimal
    text); a value naming its own unit, or no amount at all, as it was."""
    if text is None or pd.isna(text):
        return text
    amount, bad = to_amount(pd.Series([text], dtype="string"))
    if bad.iloc[0] or pd.isna(amount.iloc[0]) or str(text).strip().endswith(("元", "万")):
        return text
    return format(Decimal(repr(float(amount.iloc[0]))) / 10_000, "f")


def test_the_demo_exported_in_wan_is_the_same_store(demo_bundle: Path, tmp_path: Path) -> None:
    """The demo bundle with its assets and payments re-exported in 万元 (headers `金融资产(万元)`,
    `金额(万元)`, numbers / 10,000) ingests to the same amounts, rows and rejects as in yuan."""
    wan = tmp_path / "wan"
    shutil.copytree(demo_bundle, wan)
    for name, columns in (("persons.csv", ("金融资产", "上期金融资产")), ("payments.csv", ("金额",))):
        frame = read_file(demo_bundle / name).frame
        for col in columns:
            frame[col] = frame[col].map(_in_wan, na_action="ignore")
        frame = frame.rename(columns={col: f"{col}(万元)" for col in columns})
        frame.to_csv(wan / name, index=False, encoding="utf-8")
    yuan_store, wan_store = NetworkxStore(tmp_path / "yuan-store"), NetworkxStore(tmp_path / "wan-store")
    yuan, scaled = run_ingest(yuan_store, demo_bundle), run_ingest(wan_store, wan)
    assert (scaled.accepted, scaled.rejected) == (yuan.accepted, yuan.rejected)
    assert scaled.amount_units["payments.csv"] == {"amount": "万元"}
    for table, columns in (("persons", ["id", "aum", "aum_prev"]), ("payments", ["payer_id", "payee_id", "paid_on", "amount"])):
        got, want = (s.read(table)[columns].sort_values(columns).reset_index(drop=True) for s in (wan_store, yuan_store))
        assert want["aum" if table == "persons" else "amount"].notna().sum() > 10
        pd.testing.assert_frame_equal(got, want)


def test_a_core_banking_style_export_ingests_by_its_own_headers(store: NetworkxStore,
                                                                make_bundle: Callable[..., Path]) -> None:
    """Headers as a core-banking or CRM export names them (客户号, 所属机构, 管户客户经理, 关联关系,
    代发单位客户号, 发放日期, 实发金额 …): every column found, no mapping file needed."""
    bundle = make_bundle({
        "enterprises.csv": "客户号,客户名称,行业分类,注册资金(万元),是否对公客户,所属机构,管户客户经理\n"
                           "E1,甲制造有限公司,制造业,800,是,B01,M01\n",
        "persons.csv": "客户号,客户姓名,金融资产余额(万元),上月末金融资产(万元),是否我行客户,所属机构\n"
                       "P1,张三,4.8,5.2,是,B01\n",
        "roles.csv": "企业客户号,关联人客户号,关联关系\nE1,P1,法定代表人\n",
        "payroll.csv": "代发单位客户号,员工客户号,发放日期,实发金额\nE1,P1,2024-03-15,9000\n",
        "branches.csv": "机构号,机构名称\nB01,城东支行\n",
    })
    summary = run_ingest(store, bundle)
    assert summary.rejected == 0 and summary.ignored_columns == {}
    ent = store.read("enterprises").set_index("id").loc["E1"]
    assert (ent["industry"], ent["registered_capital"], bool(ent["is_client"]), ent["branch_id"], ent["manager_id"]) == \
        ("制造业", 8_000_000.0, True, "B01", "M01")
    person = store.read("persons").set_index("id").loc["P1"]
    assert (person["name"], person["aum"], person["aum_prev"], bool(person["is_retail_client"])) == \
        ("张三", 48_000.0, 52_000.0, True)  # fell below the 5万元 threshold this month
    assert store.read("roles")[["person_id", "enterprise_id", "role"]].values.tolist() == [["P1", "E1", "legal_rep"]]
    assert store.read("payroll")[["employer_id", "person_id", "month", "amount"]].values.tolist() == \
        [["E1", "P1", "2024-03", 9000.0]]
    assert store.read("branches").set_index("id").loc["B01", "name"] == "城东支行"


def test_a_title_above_the_headers_is_skipped_and_rows_keep_their_numbers(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    """对公客户清单 / 导出时间 above the headers (CSV), a title and a blank row above them (XLSX):
    the headers are found below, and every reject names the file's own row."""
    bundle = make_bundle({
        "enterprises.csv": "对公客户清单\n导出时间：2024-05-01,,,\n企业编号,企业名称,注册资本,是否我行客户\n"
                           "E1,甲公司,500,是\nE2,乙公司,abc,否\nE3,丙公司,1,2,3,4,5\n",
    })
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["XX银行 对公付款流水"], [], ["付款人编号", "收款人名称", "金额", "交易日期"],
                ["E1", "丁公司", "100", "2024-01-02"], ["E1", "", "5", "2024-01-03"]):
        sheet.append(row)
    book.save(bundle / "payments.xlsx")
    summary = run_ingest(store, bundle)
    assert summary.header_rows == {"enterprises.csv": 3, "payments.xlsx": 3}
    assert "headers on row 3 of 2 files (enterprises.csv …): the 2 row(s) above them skipped" in summary.render()
    assert store.read("enterprises").set_index("id").loc[["E1", "E2"], "name"].tolist() == ["甲公司", "乙公司"]
    rejects = rejects_of(summary.report_dir)
    assert rejects[["file", "row", "column"]].values.tolist() == [
        ["enterprises.csv", "5", "registered_capital"], ["enterprises.csv", "6", "(row)"],
        ["payments.xlsx", "5", "payee_name"]]


def test_the_header_row_is_found_by_the_mappings_headers_or_left_first() -> None:
    rows = [["Supplier payments 2019"], ["Vendor", "Net", "Posted"], ["ACME", "12", "2019-01-02"]]
    assert header_index(rows) == 0  # nothing known anywhere: the first row, as the file says
    assert header_index(rows, ("Vendor", "Net", "Posted")) == 1  # the mapping's headers
    assert header_index([["企业编号", "乙"], ["E1", "甲公司"]]) == 0  # the first row names one, none below more: kept
    assert header_index([["户名", "甲公司"], ["企业编号", "企业名称"]]) == 1  # a title's label: the row naming more
    assert header_index([["清单"], ["金额(万元)", "交易日期(YYYY-MM-DD)"]]) == 1  # units and notes count
    assert header_index([]) == 0


_TITLES = ["对公客户清单", "导出时间：2024-05-01", "XX银行 代发工资明细", "单位：元", "", "第1页", "制表人：张三"]


@settings(max_examples=40, deadline=None)
@given(title=st.lists(st.lists(st.sampled_from(_TITLES), min_size=1, max_size=3), max_size=5),
       amounts=st.lists(st.one_of(st.integers(0, 10**9).map(str), st.sampled_from(["abc", "", "12.5万元"])),
                        min_size=1, max_size=8),
       extra_fields=st.sets(st.integers(0, 7), max_size=2))
@example(title=[[""], ["对公客户清单", "", ""], ["单位：元"]], amounts=["1", "abc"], extra_fields={1})  # blank line, 单位
def test_any_title_above_the_headers_keeps_every_row_at_its_number(
        tmp_path_factory: pytest.TempPathFactory, title: list[list[str]], amounts: list[str],
        extra_fields: set[int]) -> None:
    """Whatever title rows sit above the headers (CSV), the headers are found, every data row is
    read or reported, and each kept or rejected row carries its own line number in the file."""
    head = len(title)
    lines = [",".join(row) for row in title] + ["付款人编号,收款人名称,金额,交易日期"]
    for i, amount in enumerate(amounts):
        fields = ["E1", f"乙{i}", amount, "2024-01-02"] + (["x"] if i in extra_fields else [])
        lines.append(",".join(fields))
    path = tmp_path_factory.mktemp("titled") / "payments.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_file(path)
    assert raw.header_row == head + 1 and list(raw.frame.columns) == ["付款人编号", "收款人名称", "金额", "交易日期"]
    bad = {b.row for b in raw.bad_rows}
    assert bad == {head + 2 + i for i in extra_fields if i < len(amounts)}
    kept = [head + 2 + i for i in range(len(amounts)) if i not in extra_fields]
    assert raw.rows.tolist() == kept
    assert raw.frame["收款人名称"].tolist() == [f"乙{i}" for i in range(len(amounts)) if i not in extra_fields]


def test_a_unit_stated_above_the_headers_scales_the_money_columns_without_their_own(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    # a report's title block says '单位：万元' once for the table; reading 12.5 as 12.5 yuan was off
    # by 10,000. A header naming its own unit keeps it; a mapping's unit still wins.
    bundle = make_bundle({
        "enterprises.csv": "enterprise_id,name,registered_capital\nE1,甲公司,100\n",
        "payments.csv": ("2024年3月对公客户付款明细表,,,\n,,,单位：万元\n"
                         "付款人编号,收款人名称,交易金额,交易日期\nE1,乙公司,12.5,2024-03-05\n"),
        "bills.csv": ("票据明细,（金额单位：人民币万元）,,,\n"
                      "票据号,出票人编号,收款人名称,票面金额(元),出票日期\nB1,E1,乙公司,3000,2024-03-01\n"),
    })
    summary = run_ingest(store, bundle)
    assert store.read("payments")["amount"].tolist() == [125_000.0]
    assert store.read("bills")["amount"].tolist() == [3_000.0]  # its header says 元
    firms = store.read("enterprises").set_index("id")
    assert firms.loc["E1", "registered_capital"] == 100.0  # no title above its headers: as written
    assert summary.amount_units == {"payments.csv": {"amount": "万元"}}
    assert "amounts scaled by their stated unit in payments.csv: amount 万元 (×10,000)" in summary.render()
