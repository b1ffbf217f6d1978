"""Account statements (流水) read as payments: a file naming the account holder, the counterparty
and a debit/credit flag (借贷标志) or a debit and a credit amount column (借方/贷方发生额) becomes
payer → payee rows, the holder paying on a debit and being paid on a credit. A row whose direction
cannot be read is rejected with its row number; a statement without a side is a clear error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.errors import InvalidData, InvalidMapping, NotFound
from graph.networkx_store import NetworkxStore
from ingest.aliases import canonical_header
from ingest.job import run_ingest
from ingest.mapping import Source, load_mapping
from ingest.readers import header_index, joined_headers
from ingest.statement import (
    DIRECTION_REASON,
    REVERSAL_REASON,
    REVERSED_REASON,
    holder_from_title,
    to_payments,
)
from ingest.values import CREDIT, DEBIT
from tests.ingest.helpers import rejects_of

CLIENT = "企业编号,企业名称,是否我行客户\nE1,华东精密制造有限公司,是\nE2,上海远景贸易有限公司,否\n"


def _flows(store: NetworkxStore) -> list[tuple[str, str, float, str | None]]:
    """(payer name, payee name, amount, payee bank) of each stored payment, in date order."""
    names = store.read("enterprises").set_index("id")["name"]
    pays = store.read("payments").sort_values("paid_on")
    bank = pays["payee_bank"].astype(object).where(pays["payee_bank"].notna(), None)
    return list(zip(pays["payer_id"].map(names), pays["payee_id"].map(names), pays["amount"], bank, strict=True))


@pytest.mark.parametrize(("header", "column"), [
    ("借贷标志", "direction"), ("收/支", "direction"), ("Dr/Cr", "direction"), ("对方户名", "counterparty_name"),
    ("对方开户行名称", "counterparty_bank"), ("户名", "holder_name"), ("本方客户号", "holder_id"),
    ("借方发生额", "debit_amount"), ("贷方金额", "credit_amount"), ("记账日期", "paid_on"),
    ("对方账号", None), ("账号", None),  # an account number is no party's id
    ("付款户名", "payer_name"), ("收款单位", "payee_name"), ("付款账户名称", "payer_name"),
    ("收款人姓名", "payee_name"), ("收款账户名", "payee_name"), ("摘要", "memo"), ("用途", "memo"),
])
def test_statement_headers_are_known(header: str, column: str | None) -> None:
    assert canonical_header("payments", header) == column


def test_a_flagged_statement_reads_debits_as_paid_by_the_holder(store: NetworkxStore,
                                                                 make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "enterprises.csv": CLIENT,
        "payments.csv": (
            "交易日期,户名,账号,对方户名,对方账号,对方行名,借贷标志,交易金额,摘要\n"
            "2026-03-01 10:22:01,华东精密制造有限公司,6222001,苏州宏达包装材料有限公司,6228001,工商银行,借,"
            "\"12,000.00\",货款\n"
            "2026-03-02,华东精密制造有限公司,6222001,上海远景贸易有限公司,6228002,招商银行,贷,35000,回款\n"
            "2026-03-03,华东精密制造有限公司,6222001,苏州宏达包装材料有限公司,6228001,工商银行,转,500,?\n"
            "2026-03-04,华东精密制造有限公司,6222001,苏州宏达包装材料有限公司,6228001,工商银行,D,800,货款\n"),
    })
    summary = run_ingest(store, bundle)
    assert _flows(store) == [
        ("华东精密制造有限公司", "苏州宏达包装材料有限公司", 12_000.0, "工商银行"),
        ("上海远景贸易有限公司", "华东精密制造有限公司", 35_000.0, None),  # the payer's bank: `payer_bank`
        ("华东精密制造有限公司", "苏州宏达包装材料有限公司", 800.0, "工商银行"),
    ]
    rejects = rejects_of(summary.report_dir)
    assert rejects[["row", "column", "value", "reason"]].values.tolist() == [
        ["4", "direction", "转", DIRECTION_REASON]]
    assert summary.statements == {"payments.csv": {DEBIT: 2, CREDIT: 1, "other": 1}}
    assert "2 debits (the holder pays), 1 credits (the holder is paid), 1 neither (rejected)" in summary.render()
    assert summary.ignored_columns["payments.csv"] == ["账号", "对方账号"]  # 摘要 is read: it says 货款


def test_a_memo_that_says_reversal_or_bank_charges_leaves_the_row_out(store: NetworkxStore,
                                                                     make_bundle: Callable[..., Path]) -> None:
    # a statement's 摘要 is often the only word that a row undoes an earlier one (the flag says 借
    # or 贷 as ever), or that it is the bank's own interest or fee, not a payment to a supplier
    bundle = make_bundle({
        "enterprises.csv": CLIENT,
        "payments.csv": (
            "交易日期,户名,对方户名,借贷标志,交易金额,摘要\n"
            "2026-03-01,华东精密制造有限公司,苏州宏达包装材料有限公司,借,12000,货款\n"
            "2026-03-02,华东精密制造有限公司,苏州宏达包装材料有限公司,贷,12000,冲 正\n"
            "2026-03-03,华东精密制造有限公司,上海远景贸易有限公司,贷,900,汇款退汇（户名不符）\n"
            "2026-03-04,华东精密制造有限公司,应付利息,贷,35.2,活期结息\n"
            "2026-03-05,华东精密制造有限公司,手续费收入,借,15,跨行汇划手续费\n"
            "2026-03-06,华东精密制造有限公司,利息支出户,贷,8,利息\n"
            "2026-03-07,华东精密制造有限公司,上海远景贸易有限公司,借,5000,借款利息\n"
            "2026-03-08,华东精密制造有限公司,上海远景贸易有限公司,贷,700,\n"),
    })
    summary = run_ingest(store, bundle)
    assert _flows(store) == [
        ("华东精密制造有限公司", "苏州宏达包装材料有限公司", 12_000.0, None),
        ("华东精密制造有限公司", "上海远景贸易有限公司", 5_000.0, None),  # one company's interest to another
        ("上海远景贸易有限公司", "华东精密制造有限公司", 700.0, None),
    ]
    rejects = rejects_of(summary.report_dir)
    assert rejects[["row", "column", "value"]].values.tolist() == [
        ["3", "memo", "冲 正"], ["4", "memo", "汇款退汇（户名不符）"], ["5", "memo", "活期结息"],
        ["6", "memo", "跨行汇划手续费"], ["7", "memo", "利息"]]
    assert rejects["reason"].str.startswith("the memo says").all()
    assert "memo" not in store.read("payments").columns and "应付利息" not in set(store.read("enterprises")["name"])
    # with the red-ink reversals netted by their sign, a reversal's memo leaves no row out
    kept = make_bundle({"enterprises.csv": CLIENT, "mapping.yaml": "tables:\n  payments:\n    - file: p.csv\n"
                        "      negative_amounts: keep\n", "p.csv": "交易日期,户名,对方户名,借贷标志,交易金额,摘要\n"
                        "2026-03-01,华东精密制造有限公司,上海远景贸易有限公司,贷,900,货款\n"
                        "2026-03-02,华东精密制造有限公司,上海远景贸易有限公司,贷,-900,冲正\n"})
    run_ingest(store, kept / "mapping.yaml")
    pays = store.read("payments")
    assert sorted(pays.loc[pays["amount"].abs() == 900, "amount"]) == [-900.0, 900.0]  # netted to nothing


def test_debit_and_credit_columns_give_the_direction_and_the_amount(store: NetworkxStore,
                                                                    make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "enterprises.csv": CLIENT,
        "statement.csv": (
            "对公账户交易明细\n"
            "导出时间：2026-03-31\n"
            "记账日期,对方户名,对方开户行,借方发生额(万元),贷方发生额(万元),余额\n"
            "20260301,苏州宏达包装材料有限公司,工商银行,1.2,0.00,100\n"
            "20260302,上海远景贸易有限公司,招商银行,,3.5,103.5\n"
            "20260303,上海远景贸易有限公司,招商银行,1,1,103.5\n"
            "20260304,上海远景贸易有限公司,招商银行,0,,103.5\n"
            "20260305,上海远景贸易有限公司,招商银行,待定,,103.5\n"
            "20260306,上海远景贸易有限公司,招商银行,-,0.2,103.5\n"),  # a dash: nothing on that side
        "mapping.yaml": "tables:\n  payments:\n    - file: statement.csv\n      defaults: {holder_id: E1}\n",
    })
    summary = run_ingest(store, bundle / "mapping.yaml")
    assert _flows(store) == [
        ("华东精密制造有限公司", "苏州宏达包装材料有限公司", 12_000.0, "工商银行"),  # 万元, as the header says
        ("上海远景贸易有限公司", "华东精密制造有限公司", 35_000.0, None),
        ("上海远景贸易有限公司", "华东精密制造有限公司", 2_000.0, None),
    ]
    rejects = rejects_of(summary.report_dir)
    assert rejects[["row", "column", "value"]].values.tolist() == [
        ["6", "direction", "debit 1 / credit 1"],  # both filled
        ["7", "direction", "debit 0 / credit –"],  # neither
        ["8", "amount", "待定"],  # filled with no amount: a debit that is no amount
    ]
    assert summary.amount_units == {"statement.csv": {"amount": "万元"}}


def test_a_mapping_names_other_flags(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "enterprises.csv": CLIENT,
        "flow.csv": "日期,客户,对手,标志,金额\n2026-01-05,E1,苏州宏达包装材料有限公司,1,900\n"
                    "2026-01-06,E1,上海远景贸易有限公司,2,700\n",
        "mapping.yaml": (
            "tables:\n  payments:\n    - file: flow.csv\n"
            "      columns: {holder_id: 客户, counterparty_name: 对手, direction: 标志, amount: 金额, paid_on: 日期}\n"
            "      values: {direction: {'1': 借, '2': credit}}\n"),
    })
    summary = run_ingest(store, bundle / "mapping.yaml")
    assert summary.rejected == 0
    assert [(a, b) for a, b, _, _ in _flows(store)] == [("华东精密制造有限公司", "苏州宏达包装材料有限公司"),
                                                         ("上海远景贸易有限公司", "华东精密制造有限公司")]


def test_a_file_naming_payer_and_payee_is_read_as_they_say(store: NetworkxStore,
                                                           make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "enterprises.csv": CLIENT,
        "payments.csv": "付款人编号,收款人名称,借贷标志,对方户名,金额,交易日期\n"
                        "E1,上海远景贸易有限公司,贷,别的公司,100,2026-01-05\n",
    })
    summary = run_ingest(store, bundle)
    assert [(a, b) for a, b, _, _ in _flows(store)] == [("华东精密制造有限公司", "上海远景贸易有限公司")]
    assert summary.statements == {}


@pytest.mark.parametrize(("payments", "says"), [
    ("交易日期,户名,对方户名,金额\n2026-01-05,甲,乙,1\n", "not which way the money went"),
    ("交易日期,户名,借贷标志,金额\n2026-01-05,甲,借,1\n", "names no counterparty"),
    ("交易日期,对方户名,借贷标志,金额\n2026-01-05,乙,借,1\n", "names no account holder"),
    ("交易日期,付款人名称,对方户名,借贷标志,金额\n2026-01-05,甲,乙,借,1\n", "names one side as payer or payee"),
])
def test_a_statement_without_a_side_fails_clearly_and_changes_nothing(
        store: NetworkxStore, make_bundle: Callable[..., Path], payments: str, says: str) -> None:
    run_ingest(store, make_bundle({"enterprises.csv": CLIENT}))
    before = store.version
    with pytest.raises(InvalidData, match=says):
        run_ingest(store, make_bundle({"enterprises.csv": CLIENT, "payments.csv": payments}))
    assert store.version == before


def test_a_mapping_may_state_the_statement_columns_and_their_unit(make_bundle: Callable[..., Path]) -> None:
    ok = make_bundle({"mapping.yaml": "tables:\n  payments:\n    - file: a.csv\n"
                                      "      columns: {holder_name: 户名, debit_amount: 支出}\n"
                                      "      units: {debit_amount: 万元}\n"})
    assert load_mapping(ok / "mapping.yaml").tables["payments"][0].units == {"debit_amount": "万元"}
    bad = make_bundle({"mapping.yaml": "tables:\n  payroll:\n    - file: a.csv\n      columns: {holder_name: x}\n"})
    with pytest.raises(InvalidMapping, match="'holder_name' is not a column of payroll"):
        load_mapping(bad / "mapping.yaml")


def test_statement_rows_keep_their_fact_ids_when_read_again(store: NetworkxStore,
                                                            make_bundle: Callable[..., Path]) -> None:
    files = {"enterprises.csv": CLIENT,
             "payments.csv": "交易日期,户名,对方户名,借贷标志,金额\n2026-01-05,华东精密制造有限公司,乙公司,借,100\n"
                             "2026-01-06,华东精密制造有限公司,乙公司,贷,100\n"}
    run_ingest(store, make_bundle(files, folder="a"))
    first = store.read("payments")
    again = run_ingest(store, make_bundle(files, folder="a"))
    assert again.new_facts == 0
    pd.testing.assert_frame_equal(store.read("payments"), first)


def test_a_statement_makes_its_counterparties_supply_chain_prospects(store: NetworkxStore,
                                                                     make_bundle: Callable[..., Path]) -> None:
    from scoring import supply_chain
    from scoring.run import as_frame, frame_prospects, score_all
    from scoring.settings import ScoringSettings

    rows = ["交易日期,户名,对方户名,对方行名,借贷标志,交易金额"]
    for month in range(1, 13):
        rows.append(f"2026-{month:02d}-05,华东精密制造有限公司,苏州宏达包装材料有限公司,工商银行,借,200000")
        rows.append(f"2026-{month:02d}-09,华东精密制造有限公司,苏州远景贸易有限公司,招商银行,贷,300000")
        rows.append(f"2026-{month:02d}-10,华东精密制造有限公司,无锡同城商贸有限公司,本行,贷,300000")
    run_ingest(store, make_bundle({"enterprises.csv": CLIENT, "payments.csv": "\n".join(rows) + "\n"}))
    pays = store.read("payments").drop_duplicates("payee_id").set_index("payee_id")
    score_all(store, families=["supply_chain"])
    found = store.read("prospects").set_index("name")
    assert found.loc["苏州宏达包装材料有限公司", "kind"] == "upstream"  # the client pays it
    assert found.loc["苏州远景贸易有限公司", "kind"] == "downstream"  # it pays the client
    assert set(found["anchor_id"]) == {"E1"}
    # a credit's counterparty bank is the payer's: where the buyer keeps its account
    assert pays.loc["E1", "payee_bank"] is pd.NA and set(store.read("payments")["payer_bank"].dropna()) == {"招商银行", "本行"}
    rows_of = frame_prospects(as_frame(supply_chain.score(store, ScoringSettings())))
    leak = {p.name: next(e.value for e in p.evidence if e.name == "other_bank") for p in rows_of}
    assert leak["苏州远景贸易有限公司"] == pytest.approx(3_600_000) and leak["无锡同城商贸有限公司"] == 0  # 本行: ours


@pytest.mark.parametrize(("title", "holder"), [
    ([["对公账户交易明细"], ["户名：华东精密制造有限公司  账号：6222001"], ["导出时间：2026-03-31"]],
     {"holder_name": "华东精密制造有限公司"}),
    ([["户名", "华东精密制造有限公司", "账号", "6222001"], ["客户号：C00123 币种：人民币"]],
     {"holder_name": "华东精密制造有限公司", "holder_id": "C00123"}),
    ([["账户名称:", "上海某某有限公司"]], {"holder_name": "上海某某有限公司"}),
    ([["Account name: ACME Trading Co Ltd  Account no: 123"]], {"holder_name": "ACME Trading Co Ltd"}),
    ([["户名：张三 证件号码：110101199003074518"]], {"holder_name": "张三"}),
    ([["户名：张三110101199003074518"]], {"holder_name": "张三110101********4518"}),  # masked, never kept raw
    ([["交易明细"], ["账号：6222001"]], {}),
    ([["户    名：华东精密制造有限公司      账    号：6222001"]], {"holder_name": "华东精密制造有限公司"}),  # padded
    ([["户\u3000\u3000名：华东精密制造有限公司(基本户)"]], {"holder_name": "华东精密制造有限公司(基本户)"}),
])
def test_the_holder_is_read_from_a_statements_title(title: list[list[str]], holder: dict[str, str]) -> None:
    assert holder_from_title(title) == holder


def test_one_known_word_in_a_title_does_not_make_it_the_header_row() -> None:
    rows = [["户名", "华东精密制造有限公司", "账号", "6222001"], ["交易日期", "对方户名", "借贷标志", "交易金额"],
            ["2026-03-01", "乙公司", "借", "1"]]
    assert header_index(rows) == 1
    assert header_index([["金额"], ["100"]]) == 0  # a one-column file keeps its header row


def test_a_statement_workbook_names_its_holder_above_the_headers(store: NetworkxStore,
                                                                make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": CLIENT})
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["户名", "华东精密制造有限公司", "账号", "6222001"], ["币种：人民币"],
                ["交易时间", "对方户名", "对方行名", "收支", "发生额"],
                ["2026-03-01 09:00:00", "苏州宏达包装材料有限公司", "工商银行", "支出", "900"],
                ["2026-03-02 09:00:00", "上海远景贸易有限公司", "", "收入", "700"]):
        sheet.append(row)
    book.save(bundle / "payments.xlsx")
    summary = run_ingest(store, bundle, mapping=None)
    assert [(a, b) for a, b, _, _ in _flows(store)] == [("华东精密制造有限公司", "苏州宏达包装材料有限公司"),
                                                         ("上海远景贸易有限公司", "华东精密制造有限公司")]
    assert summary.statement_holders == {"payments.xlsx": {"holder_name": "华东精密制造有限公司"}}
    assert "the account holder, from the title above the headers: 华东精密制造有限公司" in summary.render()
    assert summary.header_rows == {"payments.xlsx": 3}


_FLAGS = {"借": DEBIT, "D": DEBIT, "支出": DEBIT, "转出": DEBIT, "贷": CREDIT, "Cr": CREDIT, "收入": CREDIT, "入": CREDIT}


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from([*_FLAGS, "冲", "", "?"]), st.sampled_from(["甲", "乙", "丙"]),
                               st.integers(0, 10**6)), min_size=1, max_size=30))
def test_each_row_is_paid_the_way_its_flag_says(rows: list[tuple[str, str, int]]) -> None:
    frame = pd.DataFrame({"holder_name": "本公司", "counterparty_name": [r[1] for r in rows],
                          "direction": [r[0] for r in rows], "amount": [str(r[2]) for r in rows]}, dtype="string")
    units: dict[str, str] = {}
    out, read = to_payments(frame, units, "s.csv", Source(rows=[]))
    assert read.holder == {} and read.unsigned == [] and units == {}
    for (flag, other, amount), (_, got) in zip(rows, out.iterrows(), strict=True):
        way = _FLAGS.get(flag)
        assert got["direction"] == (way or flag)  # an unknown flag is kept as it was, for the report
        payer, payee = ("本公司", other) if way == DEBIT else (other, "本公司")
        assert (got["payer_name"], got["payee_name"], got["amount"]) == (payer, payee, str(amount))


def test_a_file_named_after_no_table_is_reported_with_what_it_looks_like(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    statement = "交易日期,户名,对方户名,借贷标志,金额\n2026-01-05,华东精密制造有限公司,乙公司,借,100\n"
    bundle = make_bundle({"enterprises.csv": CLIENT, "交易流水.csv": statement, "notes.csv": "a,b\n1,2\n",
                          "~$交易流水.xlsx": "lock", "readme.md": "not data"})
    summary = run_ingest(store, bundle)
    assert summary.unread_files == {"notes.csv": [], "交易流水.csv": ["payments"]}
    assert ("not read: 交易流水.csv (named after no table, not in the mapping; it looks like payments: "
            "name it payments.csv, put it in payments/, or map it)") in summary.render()
    assert store.read("payments").empty  # told, never guessed into the store
    alone = make_bundle({"交易流水.csv": statement})
    with pytest.raises(NotFound, match=r"has no tables.*交易流水\.csv .*looks like payments"):
        run_ingest(store, alone)


def test_a_mappings_files_are_read_files(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": CLIENT, "flow.csv": "日期,户名,对手,方向,金额\n2026-01-05,E1,乙公司,借,1\n",
                          "mapping.yaml": "tables:\n  payments:\n    - file: flow.csv\n"
                                          "      columns: {holder_id: 户名, counterparty_name: 对手, direction: 方向, "
                                          "paid_on: 日期}\n"})
    assert run_ingest(store, bundle / "mapping.yaml").unread_files == {}


def test_totals_rows_and_repeated_headers_are_no_records(store: NetworkxStore,
                                                         make_bundle: Callable[..., Path]) -> None:
    page = "交易日期,户名,对方户名,借贷标志,金额\n"
    rows = "2026-01-0{d},华东精密制造有限公司,乙公司,借,100\n"
    bundle = make_bundle({"enterprises.csv": CLIENT,
                          "payments.csv": page + rows.format(d=1) + "本页合计,,,,100\n" + page + rows.format(d=2)
                          + "合计,,,,200\n"})
    summary = run_ingest(store, bundle)
    assert store.read("payments")["amount"].tolist() == [100.0, 100.0]
    rejects = rejects_of(summary.report_dir)
    assert rejects[["row", "column", "reason"]].values.tolist() == [
        ["3", "(row)", "a totals row (本页合计), not a record"], ["4", "(row)", "the header row again, not a record"],
        ["6", "(row)", "a totals row (合计), not a record"]]
    assert summary.by_table["payments"] == {"read": 5, "accepted": 2, "rejected": 3}


def test_a_signed_amount_says_the_direction_when_a_mapping_says_so(store: NetworkxStore,
                                                                   make_bundle: Callable[..., Path]) -> None:
    statement = ("交易日期,户名,对方户名,交易金额\n2026-01-05,华东精密制造有限公司,苏州宏达包装材料有限公司,\"-1,200.00\"\n"
                 "2026-01-06,华东精密制造有限公司,上海远景贸易有限公司,800\n"
                 "2026-01-07,华东精密制造有限公司,上海远景贸易有限公司,（300）\n"
                 "2026-01-08,华东精密制造有限公司,上海远景贸易有限公司,--5\n")
    with pytest.raises(InvalidData, match="negative_amounts: debit"):  # no flag: not guessed
        run_ingest(store, make_bundle({"enterprises.csv": CLIENT, "payments.csv": statement}))
    bundle = make_bundle({"enterprises.csv": CLIENT, "payments.csv": statement,
                          "mapping.yaml": "tables:\n  payments:\n    - file: payments.csv\n"
                                          "      negative_amounts: debit\n"})
    summary = run_ingest(store, bundle / "mapping.yaml")
    assert [(a, b, amount) for a, b, amount, _ in _flows(store)] == [
        ("华东精密制造有限公司", "苏州宏达包装材料有限公司", 1_200.0), ("上海远景贸易有限公司", "华东精密制造有限公司", 800.0),
        ("华东精密制造有限公司", "上海远景贸易有限公司", 300.0)]
    assert rejects_of(summary.report_dir)[["row", "column"]].values.tolist() == [["5", "amount"]]  # '--5'
    canonical = make_bundle({"enterprises.csv": CLIENT, "payments.csv": "付款人编号,收款人名称,金额,交易日期\nE1,乙,-1,2026-01-01\n",
                             "mapping.yaml": "tables:\n  payments:\n    - file: payments.csv\n"
                                             "      negative_amounts: debit\n"})
    with pytest.raises(InvalidData, match="this file is not one"):
        run_ingest(store, canonical / "mapping.yaml")


_SIGNED = ("交易日期,户名,对方户名,对方行名,借贷标志,交易金额\n"
           "2026-03-01,华东精密制造有限公司,苏州宏达包装材料有限公司,工商银行,借,\"-12,000.00\"\n"
           "2026-03-02,华东精密制造有限公司,苏州宏达包装材料有限公司,工商银行,借,300.00-\n"
           "2026-03-03,华东精密制造有限公司,上海远景贸易有限公司,招商银行,贷,\"35,000.00\"\n"
           "2026-03-04,华东精密制造有限公司,上海远景贸易有限公司,招商银行,贷,-500.00\n"
           "2026-03-05,华东精密制造有限公司,上海远景贸易有限公司,招商银行,冲正,700\n")


def test_a_flagged_statements_signed_debits_are_payments_and_its_red_credits_reversals(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    # every debit written with a minus: the flag says so already; one credit among positive ones
    # with a minus: a reversal (红字), left out unless a mapping nets it
    summary = run_ingest(store, make_bundle({"enterprises.csv": CLIENT, "payments.csv": _SIGNED}))
    assert [(a, b, amount) for a, b, amount, _ in _flows(store)] == [
        ("华东精密制造有限公司", "苏州宏达包装材料有限公司", 12_000.0), ("华东精密制造有限公司", "苏州宏达包装材料有限公司", 300.0),
        ("上海远景贸易有限公司", "华东精密制造有限公司", 35_000.0)]
    assert rejects_of(summary.report_dir)[["row", "column", "reason"]].values.tolist() == [
        ["5", "amount", REVERSED_REASON], ["6", "direction", REVERSAL_REASON]]
    assert summary.statement_signs == {"payments.csv": ["debit"]}
    assert "the minus on every debit taken as its direction, not as a negative amount" in summary.render()
    kept = make_bundle({"enterprises.csv": CLIENT, "payments.csv": _SIGNED,
                        "mapping.yaml": "tables:\n  payments:\n    - file: payments.csv\n      negative_amounts: keep\n"})
    run_ingest(store, kept / "mapping.yaml")
    assert [amount for *_, amount, _ in _flows(store)] == [12_000.0, 300.0, 35_000.0, -500.0]  # netted


def test_a_zero_debit_among_signed_ones_leaves_them_signed_by_the_flag(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    # a 0.00 row (a fee waived) is no sign at all: the other debits' minus is still the flag's,
    # not a reversal of each of them
    statement = ("交易日期,户名,对方户名,借贷标志,交易金额\n"
                 "2026-03-01,华东精密制造有限公司,苏州宏达包装材料有限公司,借,\"-1,200.00\"\n"
                 "2026-03-02,华东精密制造有限公司,苏州宏达包装材料有限公司,借,0.00\n"
                 "2026-03-03,华东精密制造有限公司,苏州宏达包装材料有限公司,借,-300.00\n")
    summary = run_ingest(store, make_bundle({"enterprises.csv": CLIENT, "payments.csv": statement}))
    assert sorted(amount for *_, amount, _ in _flows(store) if amount) == [300.0, 1_200.0]
    assert summary.statement_signs == {"payments.csv": ["debit"]}
    assert REVERSED_REASON not in set(rejects_of(summary.report_dir)["reason"])


def test_a_minus_on_some_debits_only_marks_reversals(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    statement = ("记账日期,户名,对方户名,借方发生额,贷方发生额\n"
                 "20260301,华东精密制造有限公司,苏州宏达包装材料有限公司,1200,\n"
                 "20260302,华东精密制造有限公司,苏州宏达包装材料有限公司,-1200,\n"
                 "20260303,华东精密制造有限公司,上海远景贸易有限公司,,-800\n")  # the one credit: signed as a side
    summary = run_ingest(store, make_bundle({"enterprises.csv": CLIENT, "payments.csv": statement}))
    assert [(a, amount) for a, _, amount, _ in _flows(store)] == [
        ("华东精密制造有限公司", 1_200.0), ("上海远景贸易有限公司", 800.0)]
    assert rejects_of(summary.report_dir)[["row", "column", "reason"]].values.tolist() == [
        ["3", "amount", REVERSED_REASON]]


@pytest.mark.parametrize(("top", "below", "names"), [
    (["交易日期", "对方", "", "金额(元)", ""], ["", "户名", "行名", "借方", "贷方"],
     ["交易日期", "对方户名", "对方行名", "借方金额(元)", "贷方金额(元)"]),  # the joined words name known columns
    (["交易日期", "对方信息", "", "借贷标志"], ["", "户名", "开户行", ""],
     ["交易日期", "对方信息/户名", "对方信息/开户行", "借贷标志"]),  # 户名 alone would be the holder's: never read so
    (["交易日期", "付款人名称", "金额"], ["2024-01-01", "甲", "100"], None),  # a data row
    (["交易日期", "对方户名", "", "金额"], ["", "甲", "", "100"], None),  # a cell under a column standing alone
    (["交易日期", "对方", ""], ["", "户名", ""], None),  # one name below: no second header row
    (["a", "b", "c", "", ""], ["", "", "3", "x", "y"], None),  # unnamed columns over a data row with a number
])
def test_headers_over_two_rows_are_joined(top: list[str], below: list[str], names: list[str] | None) -> None:
    assert joined_headers(top, below) == names


def test_a_statement_workbook_with_two_header_rows(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": CLIENT})
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["户名：华东精密制造有限公司"], ["交易日期", "对方", None, "金额(万元)", None, "摘要"],
                [None, "户名", "行名", "借方", "贷方", None],
                ["2026-03-01", "苏州宏达包装材料有限公司", "工商银行", "1.5", None, "货款"],
                ["2026-03-02", "上海远景贸易有限公司", "招商银行", None, "2", "回款"]):
        sheet.append(row)
    sheet.merge_cells("B2:C2")
    sheet.merge_cells("D2:E2")
    book.save(bundle / "payments.xlsx")
    summary = run_ingest(store, bundle)
    assert _flows(store) == [("华东精密制造有限公司", "苏州宏达包装材料有限公司", 15_000.0, "工商银行"),
                             ("上海远景贸易有限公司", "华东精密制造有限公司", 20_000.0, None)]
    assert summary.joined_headers == {"payments.xlsx": 2} and summary.rejected == 0
    assert "headers over rows 2–3 of payments.xlsx joined" in summary.render()
    csv_bundle = make_bundle({"enterprises.csv": CLIENT, "payments.csv": (
        "交易日期,对方信息,,借贷标志,金额\n,户名,开户行,,\n2026-03-01,苏州宏达包装材料有限公司,工商银行,借,100\n"),
        "mapping.yaml": "tables:\n  payments:\n    - file: payments.csv\n"
                        "      columns: {counterparty_name: 对方信息/户名, counterparty_bank: 对方信息/开户行}\n"
                        "      defaults: {holder_id: E1}\n"})
    assert run_ingest(store, csv_bundle / "mapping.yaml").rejected == 0  # the mapping names the joined headers
    pays = store.read("payments")
    assert ((pays["amount"] == 100.0) & (pays["payer_id"] == "E1") & (pays["payee_bank"] == "工商银行")).sum() == 1


def test_a_totals_row_below_two_header_rows_keeps_them_joined(store: NetworkxStore,
                                                              make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": CLIENT, "payments.csv": (
        "交易日期,对方,,借贷标志,金额\n,户名,行名,,\n2026-03-01,苏州宏达包装材料有限公司,工商银行,借,100\n合计,,,,100\n"),
        "mapping.yaml": "tables:\n  payments:\n    - file: payments.csv\n      defaults: {holder_id: E1}\n"})
    summary = run_ingest(store, bundle / "mapping.yaml")
    assert summary.joined_headers == {"payments.csv": 1}
    assert rejects_of(summary.report_dir)[["row", "reason"]].values.tolist() == [["4", "a totals row (合计), not a record"]]
    assert store.read("payments")["payee_bank"].tolist() == ["工商银行"]


def test_a_page_repeating_two_header_rows_and_totals_beside_a_blank_number(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    # a printed report: 序号 left blank on its totals rows, both header rows again on each page
    head = "序号,交易日期,对方,,借贷标志,金额\n,,户名,行名,,\n"
    bundle = make_bundle({"enterprises.csv": CLIENT, "payments.csv": (
        head + "1,2026-03-01,苏州宏达包装材料有限公司,工商银行,借,100\n,本页合计, ,,,100\n"
        + head + "2,2026-03-02,上海远景贸易有限公司,招商银行,贷,50\n,合\u3000计,,,,150\n"),
        "mapping.yaml": "tables:\n  payments:\n    - file: payments.csv\n      defaults: {holder_id: E1}\n"})
    summary = run_ingest(store, bundle / "mapping.yaml")
    assert rejects_of(summary.report_dir)[["row", "reason"]].values.tolist() == [
        ["4", "a totals row (本页合计), not a record"], ["5", "the header row again, not a record"],
        ["6", "the header row again, not a record"], ["8", "a totals row (合\u3000计), not a record"]]
    assert [(a, amount) for a, _, amount, _ in _flows(store)] == [
        ("华东精密制造有限公司", 100.0), ("上海远景贸易有限公司", 50.0)]


def test_a_name_like_a_header_word_below_a_blank_cell_is_a_record(store: NetworkxStore,
                                                                  make_bundle: Callable[..., Path]) -> None:
    # the lower header row is matched cell for cell, never by one word
    bundle = make_bundle({"enterprises.csv": CLIENT, "payments.csv": (
        "交易日期,对方,,借贷标志,金额\n,户名,行名,,\n2026-03-01,苏州宏达包装材料有限公司,工商银行,借,100\n"
        ",户名,招商银行,贷,50\n"),
        "mapping.yaml": "tables:\n  payments:\n    - file: payments.csv\n      defaults: {holder_id: E1}\n"})
    summary = run_ingest(store, bundle / "mapping.yaml")
    assert rejects_of(summary.report_dir)[["row", "column"]].values.tolist() == [["4", "paid_on"]]  # no date


def test_clearing_accounts_and_persons_matching_no_client_are_not_added_as_firms(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    # a statement's transit, clearing and treasury accounts, a payment platform, and individuals
    # were each made an external "enterprise": a new supplier alert, a supply-chain prospect, and
    # a person's name stored and shown as a firm's, unmasked
    rows = [("待清算款项", "借"), ("应解汇款及临时存款", "贷"), ("银联清算资金", "贷"), ("国家金库宁波市中心支库", "借"),
            ("个人网银跨行汇款过渡户", "贷"), ("财付通支付科技有限公司", "借"), ("黄斌", "借"), ("张 三", "借"),
            ("阿依古丽·买买提", "借"), ("上海远景贸易有限公司", "借"), ("宏达厂", "借"), ("远景", "借")]
    bundle = make_bundle({
        "enterprises.csv": CLIENT + "E3,远景,否\n",  # a short name that IS an enterprise the bank lists
        "payments.csv": "交易日期,户名,对方户名,借贷标志,交易金额\n" + "".join(
            f"2026-03-{i + 1:02d},华东精密制造有限公司,{name},{way},100\n" for i, (name, way) in enumerate(rows)),
    })
    summary = run_ingest(store, bundle)
    firms = store.read("enterprises")
    assert set(firms["name"]) == {"华东精密制造有限公司", "上海远景贸易有限公司", "远景", "宏达厂"}
    assert len(store.read("payments")) == 3  # 远景贸易, 宏达厂 (an organisation's word) and the listed 远景
    rejects = rejects_of(summary.report_dir)
    assert rejects["value"].tolist() == [name for name, _ in rows[:9]]
    assert rejects["reason"].str.contains("clearing or transit account").sum() == 6
    assert rejects["reason"].str.contains("reads as one person's").sum() == 3
