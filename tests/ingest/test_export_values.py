"""Values as real exports write them: an Excel serial date in a CSV month column, share columns
in percent or in fractions (decided per column of a file), and Excel-safe text (`="E0001"`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from graph.errors import InvalidMapping
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from ingest.normalise import to_date, to_month, to_percent
from tests.ingest.helpers import ENTERPRISES, rejects_of


def s(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype="string")


def test_a_five_digit_serial_is_an_excel_date_and_a_year_out_of_bounds_is_no_month() -> None:
    values, bad = to_month(s("45741", "12341", "1234-05", "4574-01", "2024-03", "99999"))
    assert values.tolist()[:2] == ["2025-03", "1933-10"]  # Excel's day 45741 is 2025-03-25
    assert values.iloc[4] == "2024-03"
    assert bad.tolist() == [False, False, True, True, False, False]  # 99999: 2173-10-14, inside the bounds
    days, bad = to_date(s("45741", "2024-03-02", "1234-05-06"))
    assert days.iloc[0] == pd.Timestamp(2025, 3, 25)
    assert bad.tolist() == [False, False, True]


def test_an_excel_serial_payroll_month_is_read_and_an_old_year_rejected_with_its_reason(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES,
                          "persons.csv": "person_id,name\nP1,张三\nP2,李四\n",
                          "payroll.csv": "代发单位编号,员工编号,代发月份,代发金额\nE0003,P1,45741,5000\n"
                                         "E0003,P2,1234-01,5000\n"})
    summary = run_ingest(store, bundle)  # derive edges used to fail on the month 4574-01
    assert store.read("payroll")["month"].tolist() == ["2025-03"]
    rejects = rejects_of(summary.report_dir)
    assert rejects[["row", "column", "value"]].values.tolist() == [["3", "month", "1234-01"]]
    assert "outside 1900–2200" in rejects["reason"].iloc[0]


def test_a_share_column_with_a_value_above_one_is_in_percent() -> None:
    values, bad = to_percent(s("60", "39.5", "0.5", "1"))
    assert values.tolist() == pytest.approx([60.0, 39.5, 0.5, 1.0])
    values, _ = to_percent(s("0.5", "30%"))  # a % anywhere: the column is in percent
    assert values.tolist() == pytest.approx([0.5, 30.0])
    values, bad = to_percent(s("0.6", "0.395", "0.005", "1", None))  # every value within [0, 1]: fractions
    assert values.tolist()[:4] == pytest.approx([60.0, 39.5, 0.5, 100.0])
    assert not bad.any()


def test_shares_of_one_file_share_one_scale_and_a_total_over_100_is_flagged(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES,
                          "persons.csv": "person_id,name\nP1,张三\nP2,李四\nP3,王五\n",
                          "roles.csv": "人员编号,企业编号,职务,持股比例\nP1,E0001,股东,60\nP2,E0001,股东,39.5\n"
                                       "P3,E0001,股东,0.5\nP1,E0003,股东,1\nP2,E0002,股东,70\nP3,E0002,股东,40\n"})
    summary = run_ingest(store, bundle)
    roles = store.read("roles").set_index(["person_id", "enterprise_id"])["share_pct"]
    assert roles[("P3", "E0001")] == pytest.approx(0.5)  # not 50: 60 in the same column says percent
    assert roles[("P1", "E0003")] == pytest.approx(1.0)
    rejects = rejects_of(summary.report_dir)
    flagged = rejects[rejects["reason"].str.contains("add up to")]
    assert sorted(flagged["row"].tolist()) == ["6", "7"] and set(flagged["action"]) == {"value kept"}
    assert summary.rejected == 0


@pytest.mark.parametrize(("header", "expected"), [
    ("持股比例(%)", [0.5, 1.0, 0.8]), ("持股比例（%）", [0.5, 1.0, 0.8]), ("出资比例％", [0.5, 1.0, 0.8]),
    ("Share %", [0.5, 1.0, 0.8]), ("share (%)", [0.5, 1.0, 0.8]),
    ("持股比例", [50.0, 100.0, 80.0]),  # no % in the header: every value within [0, 1] still says fractions
    ("股权比例(%)", [0.5, 1.0, 0.8]), ("持股占比", [50.0, 100.0, 80.0]), ("认缴出资比例%", [0.5, 1.0, 0.8]),
])
def test_a_share_header_that_says_percent_is_read_as_percent_whatever_its_values(
        header: str, expected: list[float], store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES,
                          "persons.csv": "person_id,name\nP1,张三\nP2,李四\nP3,王五\n",
                          "roles.csv": f"人员编号,企业编号,职务,{header}\nP1,E0001,股东,0.5\nP2,E0001,股东,1\n"
                                       "P3,E0002,股东,0.8\n"})
    summary = run_ingest(store, bundle)
    assert summary.rejected == 0 and summary.ignored_columns == {}  # the header is read, not left out
    assert summary.amount_units == {}  # a share's % is no unit of money: not listed with them
    roles = store.read("roles").set_index("person_id")["share_pct"]
    assert [roles["P1"], roles["P2"], roles["P3"]] == pytest.approx(expected)


def test_a_mapped_share_header_that_says_percent_is_read_as_percent(store: NetworkxStore,
                                                                    make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES, "persons.csv": "person_id,name\nP1,张三\n",
                          "holders.csv": "who,company,stake (%)\nP1,E0001,0.5\n",
                          "mapping.yaml": "tables:\n  roles:\n    - file: holders.csv\n      columns: "
                                          "{person_id: who, enterprise_id: company, share_pct: 'stake (%)'}\n"})
    run_ingest(store, bundle)
    assert store.read("roles")["share_pct"].tolist() == pytest.approx([0.5])


def test_a_mapping_may_say_a_share_column_is_in_percent(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    # the header says nothing ('stake'), the values are all within [0, 1]: the mapping says percent
    holders = "who,company,stake\nP1,E0001,0.5\nP2,E0001,1\n"
    mapping = ("tables:\n  roles:\n    - file: holders.csv\n      columns: {person_id: who, enterprise_id: company, "
               "share_pct: stake}\n      units: {share_pct: '％'}\n")
    bundle = make_bundle({"enterprises.csv": ENTERPRISES, "persons.csv": "person_id,name\nP1,张三\nP2,李四\n",
                          "holders.csv": holders, "mapping.yaml": mapping})
    summary = run_ingest(store, bundle)
    assert summary.amount_units == {}
    assert store.read("roles").sort_values("person_id")["share_pct"].tolist() == pytest.approx([0.5, 1.0])
    for unit, column in (("万元", "share_pct"), ("%", "amount")):
        wrong = make_bundle({"enterprises.csv": ENTERPRISES, "holders.csv": holders,
                             "mapping.yaml": mapping.replace("share_pct: '％'", f"{column}: '{unit}'")})
        with pytest.raises(InvalidMapping, match="no unit of a share|not a money column|not a unit of money"):
            run_ingest(store, wrong)


def test_excel_safe_text_is_unwrapped_in_every_column(store: NetworkxStore,
                                                      make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": ENTERPRISES,
                          "payments.csv": 'payer_id,payee_name,amount,paid_on\n'
                                          '="E0001",="宁波明达模具有限公司",="1000.00",="2024-03-02"\n'
                                          '"=""E0003""","=""惠民连锁超市有限公司""","=""2,000""","=""2024-03-05"""\n'})
    summary = run_ingest(store, bundle)
    assert summary.rejected == 0 and summary.warnings == 0  # no formula flagged: the wrapping is gone
    payments = store.read("payments").sort_values("amount")
    assert payments["amount"].tolist() == [1000.0, 2000.0]
    assert payments["payer_id"].tolist() == ["E0001", "E0003"]
    assert payments["paid_on"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-02", "2024-03-05"]
    assert summary.excel_text == {"payments.csv": ["payer_id", "payee_name", "amount", "paid_on"]}
    assert 'written as ="…" (Excel-safe text) in payments.csv' in summary.render()


def test_a_payroll_employer_or_a_roles_enterprise_given_by_name_is_read_as_that_enterprise(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    # a payroll export's 代发单位 is most often the employer's name, not its customer number: every
    # row was rejected as an unknown enterprise. Exact names only (as normalised), no fuzzy guess.
    bundle = make_bundle({
        "enterprises.csv": "企业编号,企业名称,是否我行客户\nE1,华东精密制造有限公司,是\n",
        "persons.csv": "人员编号,姓名\nP1,张伟\nP2,李娜\nP3,王芳\n",
        # two files (a month each): their rows come as one column of two chunks
        "payroll/2026-01.csv": ("代发单位,员工编号,代发月份,代发金额\n华东精密制造有限公司,P1,2026-01,8000\n"
                                "华东精密制造（有限责任公司）,P2,2026-01,9000\nE1,P3,2026-01,7000\n"),
        "payroll/2026-02.csv": "代发单位,员工编号,代发月份,代发金额\n华东精密制造厂,P3,2026-02,7000\n",
        "roles.csv": "人员编号,企业编号,职务\nP1,华东精密制造有限公司,总经理\n",
    })
    summary = run_ingest(store, bundle)
    pay = store.read("payroll")
    assert sorted(pay["person_id"]) == ["P1", "P2", "P3"] and set(pay["employer_id"]) == {"E1"}
    assert store.read("roles")["enterprise_id"].tolist() == ["E1"]
    assert summary.named_ids == {"payroll.employer_id": 2, "roles.enterprise_id": 1}
    rejects = rejects_of(summary.report_dir)
    assert rejects[["file", "value"]].values.tolist() == [["payroll/2026-02.csv", "华东精密制造厂"]]  # no fuzzy guess
    assert "payroll.employer_id given as names in 2 row(s)" in summary.render()
