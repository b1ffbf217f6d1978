"""A file delivered twice (the same bytes under another name) is read once, in one bundle and
across ingests; the record of the files read is kept only for a committed version."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from graph.errors import InvalidData
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest

FIRMS = "企业编号,企业名称,是否我行客户\nE1,华东精密制造有限公司,是\n"
MAY = "付款人编号,收款人名称,金额,交易日期\nE1,乙贸易有限公司,100,2024-05-03\nE1,丙公司,200,2024-05-09\n"
JUNE = "付款人编号,收款人名称,金额,交易日期\nE1,乙贸易有限公司,300,2024-06-03\nE1,丙公司,400,2024-06-09\n"


def _total(store: NetworkxStore) -> float:
    return float(store.read("payments")["amount"].sum())


def test_a_file_saved_twice_in_one_bundle_is_read_once(store: NetworkxStore,
                                                       make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": FIRMS, "payments/2024-05.csv": MAY, "payments/2024-05 (1).csv": MAY,
                          "payments/2024-06.csv": JUNE})  # June: the same size as May, other bytes
    summary = run_ingest(store, bundle)
    assert _total(store) == 1_000.0
    assert summary.files == ["enterprises.csv", "payments/2024-05.csv", "payments/2024-06.csv"]
    assert summary.repeated_files == {"payments/2024-05 (1).csv": "the same bytes as payments/2024-05.csv, "
                                                                  "read in this ingest"}
    assert "not read: payments/2024-05 (1).csv (the same bytes as payments/2024-05.csv" in summary.render()


def test_a_file_delivered_again_under_another_name_is_not_read_again(store: NetworkxStore,
                                                                     make_bundle: Callable[..., Path]) -> None:
    first = run_ingest(store, make_bundle({"enterprises.csv": FIRMS, "payments.csv": MAY}))
    assert _total(store) == 300.0
    again = run_ingest(store, make_bundle({"payments/交易明细_20240602.csv": MAY, "payments/2024-06.csv": JUNE}))
    assert _total(store) == 1_000.0  # May once, June added
    assert again.repeated_files == {"payments/交易明细_20240602.csv":
                                    f"the same bytes as payments.csv, read in version {first.version}"}
    same = run_ingest(store, make_bundle({"payments.csv": MAY}))  # the same name: read, and changes nothing
    assert same.repeated_files == {} and same.new_facts == 0 and _total(store) == 1_000.0
    recorded = json.loads((store.state_dir / "files.json").read_text(encoding="utf-8"))["files"]
    assert sorted(e["file"] for e in recorded.values()) == ["payments.csv", "payments/2024-06.csv"]  # payments only


def test_a_failed_ingest_records_no_file(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    run_ingest(store, make_bundle({"enterprises.csv": FIRMS}))
    before = (store.state_dir / "files.json").read_text(encoding="utf-8")
    broken = make_bundle({"payments.csv": MAY, "payroll.csv": "x,y\n1,2\n"})  # payroll lacks its columns
    with pytest.raises(InvalidData):
        run_ingest(store, broken)
    assert (store.state_dir / "files.json").read_text(encoding="utf-8") == before
    assert run_ingest(store, make_bundle({"payments/again.csv": MAY})).repeated_files == {}  # not taken as read


def test_only_payment_files_are_told_apart_by_their_bytes(store: NetworkxStore,
                                                          make_bundle: Callable[..., Path]) -> None:
    # every other table merges by its key: a node file sent again (to restore a field) is read
    run_ingest(store, make_bundle({"enterprises.csv": FIRMS}))
    again = run_ingest(store, make_bundle({"enterprises/客户清单.csv": FIRMS}))
    assert again.repeated_files == {} and again.files == ["enterprises/客户清单.csv"]
