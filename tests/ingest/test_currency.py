"""Amounts are stored in yuan, so nothing in another currency is read as yuan: a money column whose
header names a foreign currency ('Amount (USD)', '金额(万美元)') fails the ingest with what to do,
unless yuan is there too or a mapping names the column; a payment whose currency column (币种)
names another currency is rejected with its row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from graph.errors import InvalidData
from graph.networkx_store import NetworkxStore
from ingest.aliases import split_currency
from ingest.job import run_ingest
from tests.ingest.helpers import rejects_of

CLIENT = "enterprise_id,name,is_client\nE1,甲公司,是\n"


@pytest.mark.parametrize(("header", "split"), [
    ("Amount (USD)", ("amount", "USD")), ("金额（万美元）", ("金额", "USD")), ("交易金额（单位：港元）", ("交易金额", "HKD")),
    ("Amount (US$)", ("amount", "USD")), ("金额(万元)", ("金额万元", None)), ("金额", ("金额", None)),
    ("日元", ("日元", None)),  # nothing but a currency: not split
])
def test_a_header_names_its_foreign_currency(header: str, split: tuple[str, str | None]) -> None:
    assert split_currency(header) == split


@pytest.mark.parametrize("header", ["Amount (USD)", "金额(美元)", "交易金额（万港元）"])
def test_a_money_column_in_another_currency_fails_and_changes_nothing(
        store: NetworkxStore, make_bundle: Callable[..., Path], header: str) -> None:
    run_ingest(store, make_bundle({"enterprises.csv": CLIENT}))
    before = store.version
    bundle = make_bundle({"enterprises.csv": CLIENT,
                          "payments.csv": f"付款人编号,收款人名称,{header},交易日期\nE1,乙公司,100,2026-01-02\n"})
    with pytest.raises(InvalidData, match=r"is in (USD|HKD), and amounts are stored in yuan \(CNY\)"):
        run_ingest(store, bundle)
    assert store.version == before


def test_the_yuan_column_is_read_beside_a_foreign_one(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": CLIENT,
                          "payments.csv": "付款人编号,收款人名称,币种,原币金额(美元),折人民币金额,交易日期\n"
                                          "E1,乙公司,美元,100,710.5,2026-01-02\n"})
    summary = run_ingest(store, bundle)
    assert store.read("payments")["amount"].tolist() == [710.5]  # 币种 is the original amount's: not a reject
    assert summary.rejected == 0
    assert summary.ignored_columns["payments.csv"] == ["币种", "原币金额(美元)"]


def test_a_mapping_reads_a_foreign_column_by_name(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "enterprises.csv": CLIENT,
        "pay.csv": "payer,payee,Amount (GBP),day\nE1,ACME Ltd,12.5,2019-04-01\n",
        "mapping.yaml": "tables:\n  payments:\n    - file: pay.csv\n"
                        "      columns: {payer_id: payer, payee_name: payee, amount: Amount (GBP), paid_on: day}\n",
    })
    run_ingest(store, bundle / "mapping.yaml")
    assert store.read("payments")["amount"].tolist() == [12.5]


def test_a_payment_in_another_currency_is_rejected_with_its_row(store: NetworkxStore,
                                                                make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": CLIENT, "payments.csv": (
        "付款人编号,收款人名称,币种,金额,交易日期\n"
        "E1,乙公司,人民币,100,2026-01-02\nE1,丙公司,USD,200,2026-01-03\nE1,丁公司,,300,2026-01-04\n"
        "E1,戊公司,ＣＮＹ,400,2026-01-05\nE1,己公司,美元,500,2026-01-06\nE1,庚公司,156,600,2026-01-07\n")})
    summary = run_ingest(store, bundle)
    assert sorted(store.read("payments")["amount"]) == [100.0, 300.0, 400.0, 600.0]
    rejects = rejects_of(summary.report_dir)
    assert rejects[["row", "column", "value"]].values.tolist() == [["3", "currency", "USD"], ["6", "currency", "美元"]]
    assert set(rejects["reason"]) == {"a currency other than yuan (CNY): amounts are stored in yuan; "
                                      "convert the row before ingest"}  # the value is in its own column


def test_a_value_written_in_another_currency_is_no_yuan(store: NetworkxStore,
                                                        make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": CLIENT, "payments.csv": (
        "付款人编号,收款人名称,金额,交易日期\n"
        "E1,乙公司,\"$1,200\",2026-01-02\nE1,丙公司,USD 300,2026-01-03\nE1,丁公司,500美元,2026-01-04\n"
        "E1,戊公司,¥800,2026-01-05\nE1,己公司,RMB 900,2026-01-06\nE1,庚公司,待定,2026-01-07\n")})
    summary = run_ingest(store, bundle)
    assert sorted(store.read("payments")["amount"]) == [800.0, 900.0]
    rejects = rejects_of(summary.report_dir)
    foreign = "an amount in another currency, not yuan (CNY): convert it before ingest"
    assert rejects[["row", "value", "reason"]].values.tolist() == [
        ["2", "$1,200", foreign], ["3", "USD 300", foreign], ["4", "500美元", foreign], ["7", "待定", "not an amount"]]
