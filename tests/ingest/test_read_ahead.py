"""Reading ahead: the next table's file parsed on a thread of its own while one is validated."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from graph.errors import InvalidData
from ingest.load import load_table, read_ahead
from ingest.mapping import plan_bundle
from ingest.settings import IngestSettings
from ingest.validate import Context


def test_a_file_read_ahead_gives_the_rows_and_errors_of_a_file_read_in_its_turn(tmp_path: Path) -> None:
    """`read_ahead` (the next table's file parsed while one is validated) changes no row, and a
    file that cannot be read is still an error of its own table's turn."""
    (tmp_path / "payments.csv").write_text(
        "payer_id,payee_name,amount,paid_on\nE1,乙,100,2024-01-02\nE1,乙,oops,2024-01-02\nE1,乙,100,2024-01-02\n",
        encoding="utf-8")
    (tmp_path / "persons.csv").write_bytes(b"\x00\x01binary\x00" * 50)
    plan = plan_bundle(tmp_path, None)
    plain = Context(IngestSettings(), "salt", root=tmp_path)
    expected, _, _ = load_table("payments", plan["payments"], plain)
    ctx = Context(IngestSettings(), "salt", root=tmp_path)
    read_ahead([plan["payments"], plan["persons"]], ctx)  # no error yet
    assert len(ctx.reads) == 2
    read_ahead([plan["payments"], plan["persons"]], ctx)  # each file read once
    assert len(ctx.reads) == 2
    rows, read, _ = load_table("payments", plan["payments"], ctx)
    pd.testing.assert_frame_equal(rows, expected)
    assert read == 3 and len(ctx.reads) == 1  # the file read ahead was taken, not read again
    assert ctx.rejects.frame()["row"].tolist() == plain.rejects.frame()["row"].tolist() == [3]
    with pytest.raises(InvalidData, match="persons.csv"):
        load_table("persons", plan["persons"], ctx)


def test_files_are_read_ahead_in_order_within_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.load

    for table in ("persons", "roles", "payments"):
        (tmp_path / f"{table}.csv").write_text("a,b\n" + "x,y\n" * 50, encoding="utf-8")
    size = (tmp_path / "persons.csv").stat().st_size
    monkeypatch.setattr(ingest.load, "_READ_AHEAD_MAX_BYTES", 2 * size)
    plan = plan_bundle(tmp_path, None)
    ctx = Context(IngestSettings(), "salt", root=tmp_path)
    read_ahead([plan["persons"], plan["roles"], plan["payments"]], ctx)
    assert [key[0].name for key in ctx.reads] == ["persons.csv", "roles.csv"]  # the third waits
    ctx.reads.pop(next(iter(ctx.reads))).result()  # persons taken: room for one more
    read_ahead([plan["roles"], plan["payments"]], ctx)
    assert [key[0].name for key in ctx.reads] == ["roles.csv", "payments.csv"]
    ctx.settle()
    assert ctx.reader is None


def test_an_ingest_stopped_early_lets_its_read_ahead_go(tmp_path: Path) -> None:
    """A bundle whose first table fails: the files read ahead for the tables after it are let go
    and the reading thread ends (a failed or cancelled job must not keep parsing them)."""
    import threading
    import time

    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest

    (tmp_path / "enterprises.csv").write_text("enterprise_id,name,is_client\nE1,甲,1\n", encoding="utf-8")
    (tmp_path / "persons.csv").write_bytes(b"\x00\x01binary\x00" * 50)  # fails in its turn
    (tmp_path / "payments.csv").write_text("payer_id,payee_name,amount,paid_on\nE1,乙,100,2024-01-02\n",
                                           encoding="utf-8")
    store = NetworkxStore(tmp_path / "store")
    before = set(threading.enumerate())  # another test's reader may still be idle
    with pytest.raises(InvalidData):
        run_ingest(store, tmp_path)
    deadline = time.monotonic() + 10
    while any(t.name.startswith("read-ahead") for t in set(threading.enumerate()) - before):
        assert time.monotonic() < deadline, "a read-ahead thread outlived its ingest"
        time.sleep(0.02)
    assert store.version is None  # nothing was written
