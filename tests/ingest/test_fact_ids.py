"""Fact ids: the vectorised, threaded path gives the ids a plain per-row reading of the rule gives."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from ingest.load import fact_ids, load_table
from ingest.mapping import plan_bundle
from ingest.settings import IngestSettings
from ingest.validate import Context

_M = (1 << 64) - 1


def _mix(x: int) -> int:
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M
    return x ^ (x >> 31)


def _plain_ids(rows: list[list[str]], file: str) -> list[str]:
    """The documented rule, one row at a time: keyed BLAKE2b of the joined fields, mixed with
    the row's ordinal among identical rows of the file."""
    key = hashlib.blake2b(file.encode("utf-8"), digest_size=32).digest()
    seen: dict[bytes, int] = {}
    out = []
    for row in rows:
        digest = hashlib.blake2b("\x1f".join(row).encode("utf-8"), digest_size=16, key=key).digest()
        ordinal = seen.get(digest, 0)
        seen[digest] = ordinal + 1
        low, high = int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")
        spread = _mix((ordinal * 0x9E3779B97F4A7C15) & _M)
        out.append(f"{low ^ spread}-{_mix(high ^ spread)}")
    return out


COLUMNS = ["payer_id", "payee_name", "amount", "paid_on"]


def test_fact_ids_follow_the_rule_and_repeated_rows_differ() -> None:
    rows = [["E1", "甲公司", "100", "2024-01-02"], ["E1", "甲公司", "100", "2024-01-02"], ["E2", "", "5", "2024-02-01"],
            ["E1", "甲公司", "100", "2024-01-02"]]
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype="string")
    frame.loc[2, "payee_name"] = pd.NA  # a blank field hashes as an empty one
    ids = fact_ids(frame, [*COLUMNS, "payee_bank"], "payments.csv").tolist()
    assert ids == _plain_ids([[*r, ""] for r in rows], "payments.csv")
    assert len(set(ids)) == 4


def test_ordinals_count_the_kept_rows_of_a_file(tmp_path: Path) -> None:
    """A rejected row between two identical ones does not change the second one's id."""
    (tmp_path / "enterprises.csv").write_text("enterprise_id,name\nE1,甲\n", encoding="utf-8")
    (tmp_path / "payments.csv").write_text(
        "payer_id,payee_name,amount,paid_on\nE1,乙,100,2024-01-02\nE1,乙,oops,2024-01-02\nE1,乙,100,2024-01-02\n",
        encoding="utf-8")
    ctx = Context(IngestSettings(), "salt", root=tmp_path)
    rows, read, _ = load_table("payments", plan_bundle(tmp_path, None)["payments"], ctx)
    assert read == 3 and rows["_row"].tolist() == [2, 4]
    # the fields in load.py's order: payer_id, payer_name, payee_id, payee_name, payee_bank, amount, paid_on
    plain = [["E1", "", "", "乙", "", "100", "2024-01-02"]] * 2
    assert rows["fact_id"].tolist() == _plain_ids(plain, "payments.csv")


def test_deferred_ids_of_several_files_are_the_ids_made_at_once(tmp_path: Path) -> None:
    """`defer_fact_ids`: the last file's ids come with `settle`, the same ids in the same rows."""
    import yaml

    for month, text in (("01", "E1,乙,100,2024-01-02\nE1,乙,oops,2024-01-02\nE1,乙,100,2024-01-02\n"),
                        ("02", "E1,乙,100,2024-01-02\nE1,丙,5,2024-02-03\n")):
        (tmp_path / f"pay-{month}.csv").write_text("payer_id,payee_name,amount,paid_on\n" + text, encoding="utf-8")
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump({"tables": {"payments": [{"file": "pay-*.csv"}]}}), encoding="utf-8")
    sources = plan_bundle(tmp_path, tmp_path / "mapping.yaml")["payments"]
    now, _, _ = load_table("payments", sources, Context(IngestSettings(), "salt", root=tmp_path))
    ctx = Context(IngestSettings(), "salt", root=tmp_path, defer_fact_ids=True)
    later, _, files = load_table("payments", sources, ctx)
    assert len(files) == 2 and len(ctx.pending) == 1 and "fact_id" not in later.columns
    ctx.settle()
    pd.testing.assert_frame_equal(later, now)
    assert now["fact_id"].tolist()[:2] == _plain_ids([["E1", "", "", "乙", "", "100", "2024-01-02"]] * 2, "pay-01.csv")
    assert now["fact_id"].iloc[2] == _plain_ids([["E1", "", "", "乙", "", "100", "2024-01-02"]], "pay-02.csv")[0]


def test_ids_of_several_slices_of_chunked_columns_follow_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows hashed a slice at a time over chunked Arrow columns, with empty fields, repeated
    rows and multi-byte text: the ids of the rule."""
    import ingest.load

    rows = [[f"E{i % 7}", ["甲公司", "", "Ünïcode Ltd", "乙"][i % 4], str(i % 5), "2024-01-02"] for i in range(300)]
    halves = [pd.DataFrame(rows[:170], columns=COLUMNS, dtype="string"),
              pd.DataFrame(rows[170:], columns=COLUMNS, dtype="string")]
    frame = pd.concat(halves, ignore_index=True)  # chunked Arrow columns
    monkeypatch.setattr(ingest.load, "_DIGEST_SLICE", 64)
    expected = _plain_ids([[*r, ""] for r in rows], "payments.csv")
    assert fact_ids(frame, [*COLUMNS, "payee_bank"], "payments.csv").tolist() == expected
