"""The corpus of bad files (tests/fixtures/ingest/bad): each fails clearly or is reported row by row."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from graph.errors import InvalidData
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from tests.ingest.helpers import FIXTURES, rejects_of

BAD = FIXTURES / "ingest" / "bad"
ENTERPRISES = "enterprise_id,name\nE1,甲公司\n"


def bundle_with(tmp_path: Path, name: str, table: str, extra: dict[str, str] | None = None) -> Path:
    out = tmp_path / f"bundle-{name}"
    out.mkdir()
    suffix = Path(name).suffix
    shutil.copy(BAD / name, out / f"{table}{suffix}")
    if table != "enterprises":
        (out / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
    for file, text in (extra or {}).items():
        (out / file).write_text(text, encoding="utf-8")
    return out


@pytest.mark.parametrize(("name", "table", "message"), [
    ("empty.csv", "payments", "payments.csv: the file is empty"),
    ("binary.csv", "payments", "payments.csv: looks like a binary file"),
    ("not_a_workbook.xlsx", "enterprises", "enterprises.xlsx: not a readable XLSX"),
    ("truncated.parquet", "payments", "payments.parquet: cannot be read"),
    ("missing_required.csv", "roles", "lacks required column.*person_id"),  # a name may come from another source
])
def test_unreadable_files_fail_the_job_and_leave_the_store(store: NetworkxStore, tmp_path: Path,
                                                          name: str, table: str, message: str) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
    run_ingest(store, good)
    version = store.version
    with pytest.raises(InvalidData, match=message):
        run_ingest(store, bundle_with(tmp_path, name, table))
    assert store.version == version
    assert store.read("enterprises")["id"].tolist() == ["E1"]


def test_wrong_declared_encoding(store: NetworkxStore, tmp_path: Path) -> None:
    bundle = bundle_with(tmp_path, "gbk_declared_utf8.csv", "enterprises",
                         {"mapping.yaml": "tables:\n  enterprises:\n    - file: enterprises.csv\n      encoding: utf-8\n"})
    with pytest.raises(InvalidData, match="not valid utf-8"):
        run_ingest(store, bundle)
    assert store.version is None


def test_header_only_file_is_zero_rows(store: NetworkxStore, tmp_path: Path) -> None:
    summary = run_ingest(store, bundle_with(tmp_path, "header_only.csv", "enterprises"))
    assert summary.rows_read == 0 and summary.rejected == 0


def test_truncated_last_line_and_duplicate_ids_are_rejected_rows(store: NetworkxStore, tmp_path: Path) -> None:
    summary = run_ingest(store, bundle_with(tmp_path, "truncated.csv", "enterprises"))
    rejects = rejects_of(summary.report_dir)
    assert rejects[["row", "column", "reason"]].values.tolist() == [["4", "(row)", "row has 2 fields, expected 3"]]
    assert sorted(store.read("enterprises")["id"]) == ["E1", "E2"]

    summary = run_ingest(store, bundle_with(tmp_path, "duplicate_ids.csv", "enterprises"))
    rejects = rejects_of(summary.report_dir)
    assert rejects[["row", "value", "reason"]].values.tolist() == [
        ["4", "E1", "duplicate enterprise_id (first at row 2)"]]
    assert store.read("enterprises").set_index("id").loc["E1", "name"] == "甲公司"


def test_bad_dates_and_amounts(store: NetworkxStore, tmp_path: Path) -> None:
    summary = run_ingest(store, bundle_with(tmp_path, "bad_values.csv", "payments"))
    rejects = rejects_of(summary.report_dir)
    got = rejects[["row", "column", "value", "reason"]].values.tolist()
    assert got == [
        ["3", "amount", "一百元", "not an amount"],
        ["4", "paid_on", "2024-02-30", "not a date (ISO, YYYY/MM/DD, YYYYMMDD, YYYY年MM月DD日)"],
        ["5", "amount", "", "required amount is missing"],
        ["6", "paid_on", "", "required paid_on is missing"],
        ["7", "amount", "1e400", "not an amount"],
    ]
    assert summary.by_table["payments"] == {"read": 7, "accepted": 2, "rejected": 5}
    assert sorted(store.read("payments")["amount"]) == [100.0, 1000.5]


def test_hostile_names_are_kept_flagged_and_never_lose_a_payment(store: NetworkxStore, tmp_path: Path) -> None:
    summary = run_ingest(store, bundle_with(tmp_path, "hostile_names.csv", "payments"))
    rejects = rejects_of(summary.report_dir)
    assert rejects["reason"].tolist() == [
        "name contains HTML markup (kept, shown escaped)", "name looks like a spreadsheet formula (kept, shown escaped)",
        "name looks like a spreadsheet formula (kept, shown escaped)", "name longer than 200 characters (kept, shown escaped)"]
    assert set(rejects["action"]) == {"value kept"} and summary.rejected == 0 and summary.warnings == 4
    assert len(rejects["value"].iloc[3]) <= 121  # the report keeps a short, marked excerpt
    assert rejects["value"].iloc[1].startswith("'=cmd|")  # safe to open in a spreadsheet
    assert not rejects.map(lambda cell: cell[:1] in ("=", "+", "@", "\t")).any().any()
    assert len(store.read("payments")) == 5  # every payment kept: the odd name is a display problem
    names = store.read("enterprises")["name"].tolist()
    assert "AT&T Inc." in names and "<script>alert(1)</script>有限公司" in names
    assert any(len(n) > 200 for n in names)


def test_rows_read_always_equal_accepted_plus_rejected(store: NetworkxStore,
                                                       make_bundle: Callable[..., Path]) -> None:
    files = {name: (BAD / name).read_text(encoding="utf-8") for name in ("bad_values.csv", "hostile_names.csv")}
    bundle = make_bundle({"enterprises.csv": ENTERPRISES + "E1,重复\n", "payments.csv": files["bad_values.csv"],
                          "extra/p2.csv": files["hostile_names.csv"],
                          "mapping.yaml": "tables:\n  payments:\n    - file: payments.csv\n    - file: extra/p2.csv\n"})
    summary = run_ingest(store, bundle)
    assert summary.rows_read == summary.accepted + summary.rejected == 2 + 7 + 5
    for counts in summary.by_table.values():
        assert counts["read"] == counts["accepted"] + counts["rejected"]
