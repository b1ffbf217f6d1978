"""A payment's transaction reference (流水号) makes its id: the same payment in another export (not
the same bytes: two overlapping months, another export time) is added once; a store first
ingested before such ids keeps the ids its files gave."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from graph.networkx_store import NetworkxStore
from ingest import job
from ingest import repeats as repeats_module
from ingest.job import run_ingest
from ingest.load import fact_ids

FIRMS = "企业编号,企业名称,是否我行客户\nE1,华东精密制造有限公司,是\n"
HEAD = "交易流水号,付款人编号,收款人名称,金额,交易日期\n"
MAR = "T0301,E1,乙贸易有限公司,100,2024-03-03\nT0302,E1,丙公司,200,2024-03-09\n"
APR = "T0401,E1,乙贸易有限公司,300,2024-04-03\n Ｔ0402 ,E1,丙公司,400,2024-04-09\n"
MAY = "T0501,E1,乙贸易有限公司,500,2024-05-03\n"


def _total(store: NetworkxStore) -> float:
    return float(store.read("payments")["amount"].sum())


def test_overlapping_exports_add_each_payment_once(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    run_ingest(store, make_bundle({"enterprises.csv": FIRMS, "payments/2024-03_04.csv": HEAD + MAR + APR}))
    assert _total(store) == 1_000.0
    # April again, in an export of April and May saved at another time: other bytes, other name
    later = run_ingest(store, make_bundle({"payments/交易明细_0405.csv": HEAD + APR.replace(" Ｔ0402 ", "T0402") + MAY}))
    assert later.repeated_files == {}  # not the same bytes: read
    assert later.new_facts == 1 and _total(store) == 1_500.0  # May's one payment added, April's kept once
    assert len(store.read("payments")) == 5
    state = json.loads((store.state_dir / "files.json").read_text(encoding="utf-8"))
    assert state["fact_ids"] == "reference"
    # in one bundle too: the two files' April rows are one payment each
    other = NetworkxStore(store.root.parent / "other")
    run_ingest(other, make_bundle({"enterprises.csv": FIRMS, "payments/a.csv": HEAD + MAR + APR,
                                   "payments/b.csv": HEAD + APR + MAY}))
    assert _total(other) == 1_500.0


def test_rows_without_a_reference_are_told_apart_by_their_file(store: NetworkxStore,
                                                               make_bundle: Callable[..., Path]) -> None:
    plain = "付款人编号,收款人名称,金额,交易日期\nE1,乙贸易有限公司,300,2024-04-03\n"
    run_ingest(store, make_bundle({"enterprises.csv": FIRMS, "payments/a.csv": plain}))
    run_ingest(store, make_bundle({"payments/b.csv": plain + "E1,丙公司,1,2024-04-04\n"}))
    assert _total(store) == 601.0  # no reference: the same row in two files is two payments (documented)
    # a blank reference is none: that row's id is its file's, the other's is not
    frame = pd.DataFrame({"payer_id": ["E1", "E1"], "amount": ["5", "5"], "reference": ["  ", "R1"]}, dtype="string")
    a, b = fact_ids(frame, ["payer_id", "amount"], "a.csv"), fact_ids(frame, ["payer_id", "amount"], "b.csv")
    assert a[0] != b[0] and a[1] == b[1]
    assert fact_ids(frame, ["payer_id", "amount"], "a.csv", by_reference=False)[1] != a[1]


def test_the_same_reference_for_another_payment_is_another_fact(store: NetworkxStore,
                                                                make_bundle: Callable[..., Path]) -> None:
    # a reference shared by lines of one transaction (a council's invoice lines): amounts differ
    lines = HEAD + "T9,E1,乙贸易有限公司,100,2024-03-03\nT9,E1,乙贸易有限公司,250,2024-03-03\n"
    repeated = "T9,E1,乙贸易有限公司,100,2024-03-03\n"  # the same line twice in one file: two payments
    run_ingest(store, make_bundle({"enterprises.csv": FIRMS, "payments.csv": lines + repeated}))
    assert _total(store) == 450.0 and len(store.read("payments")) == 3


def test_a_store_ingested_before_reference_ids_keeps_its_file_ids(store: NetworkxStore,
                                                                  make_bundle: Callable[..., Path],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = make_bundle({"enterprises.csv": FIRMS, "payments.csv": HEAD + MAR})
    class Before(repeats_module.Repeats):  # as the product did before: no reference read into an id
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.by_reference = False

    with monkeypatch.context() as patched:
        patched.setattr(job, "Repeats", Before)
        run_ingest(store, bundle)
    path = store.state_dir / "files.json"
    state = json.loads(path.read_text(encoding="utf-8"))
    assert state.pop("fact_ids") == "file"
    path.write_text(json.dumps(state), encoding="utf-8")  # an old record: no scheme written
    again = run_ingest(store, bundle)  # the same file read again changes nothing
    assert again.new_facts == 0 and _total(store) == 300.0
    assert json.loads(path.read_text(encoding="utf-8"))["fact_ids"] == "file"


def test_a_statement_exported_twice_over_overlapping_days(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    head = "交易日期,交易流水号,户名,对方户名,借贷标志,交易金额\n"
    first = "2026-03-01,S1,华东精密制造有限公司,苏州宏达包装材料有限公司,借,12000\n"
    second = "2026-03-02,S2,华东精密制造有限公司,上海远景贸易有限公司,贷,35000\n"
    run_ingest(store, make_bundle({"enterprises.csv": FIRMS, "payments/0301.csv": head + first + second}))
    later = run_ingest(store, make_bundle({"payments/0302.csv": head + second + first.replace("S1", "S9")}))
    assert later.new_facts == 1  # S2 again changes nothing; S9 (another reference) is another payment
    assert _total(store) == 59_000.0
