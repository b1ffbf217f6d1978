"""Values as real exports write them: an Excel serial date in a CSV month column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from ingest.normalise import to_date, to_month
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
