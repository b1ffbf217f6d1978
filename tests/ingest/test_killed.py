"""A killed ingest (SIGKILL in the middle of writing the new version) leaves the previous store usable."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from tests.graph.whole import whole_graph
from tests.ingest.helpers import ENTERPRISES, PAYMENTS_FEB, PAYMENTS_JAN

KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import pyarrow.parquet as pq
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest

    real_write = pq.write_table
    written = []

    def write_then_die(table, where, *args, **kwargs):
        real_write(table, where, *args, **kwargs)
        written.append(where)
        last = sys.argv[3] == "edges" and Path(str(where)).name == "edges.parquet"  # the last before the commit
        if last or sys.argv[3].isdigit() and len(written) == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no finally: like a power cut

    pq.write_table = write_then_die
    real_close = pq.ParquetWriter.close

    def close_then_die(self):  # a table written in parts (the derived `edges`)
        real_close(self)
        if sys.argv[3] == "edges" and Path(str(self.where)).name == "edges.parquet":
            os.kill(os.getpid(), signal.SIGKILL)

    pq.ParquetWriter.close = close_then_die
    if sys.argv[3] == "derive":  # once every merged table is written aside: the derive step dies
        import ingest.job

        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)

        ingest.job.edge_parts = die
    run_ingest(NetworkxStore(sys.argv[1]), Path(sys.argv[2]))
""")


# the 2nd Parquet file written; the derived `edges` written (the last before the commit); the derive step
@pytest.mark.parametrize("kill_at", ["2", "edges", "derive"])
def test_killed_ingest_leaves_the_previous_version(tmp_path: Path, make_bundle: Callable[..., Path],
                                                   kill_at: str) -> None:
    store_dir = tmp_path / "store"
    store = NetworkxStore(store_dir)
    run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN}))
    version = store.version
    before = {t: store.read(t) for t in ("enterprises", "payments", "edges")}

    feb = make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN + PAYMENTS_FEB.split("\n", 1)[1]})
    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(store_dir), str(feb), kill_at], cwd=Path.cwd(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    left = [p for p in (store_dir / "versions").iterdir() if p.name.startswith(".tmp-")]
    assert len(left) == 1  # died mid-write: the tables written aside are in a folder no reader opens
    if kill_at == "derive":
        assert "payments.parquet" in {p.name for p in left[0].iterdir()}  # the changed table, written aside

    reopened = NetworkxStore(store_dir)
    assert reopened.version == version
    for table, frame in before.items():
        pd.testing.assert_frame_equal(reopened.read(table), frame)
    assert whole_graph(reopened).number_of_edges() == len(before["edges"])

    summary = run_ingest(reopened, feb)  # the lock died with the process; the next ingest works
    assert summary.new_facts == 1 and reopened.version != version
    assert len(reopened.read("payments")) == len(before["payments"]) + 1


def test_a_failed_derive_leaves_the_previous_version_and_no_files(tmp_path: Path, make_bundle: Callable[..., Path],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = NetworkxStore(tmp_path / "store")
    run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN}))
    version, payments = store.version, store.read("payments")
    feb = make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN + PAYMENTS_FEB.split("\n", 1)[1]})

    def fail(*args: object, **kwargs: object) -> None:
        raise MemoryError("derive ran out of memory")

    monkeypatch.setattr("ingest.job.edge_parts", fail)
    with pytest.raises(MemoryError):
        run_ingest(store, feb)
    assert store.version == version
    pd.testing.assert_frame_equal(store.read("payments"), payments)
    assert sorted(p.name for p in (tmp_path / "store" / "versions").iterdir()) == [version]  # the staged files went
    monkeypatch.undo()
    assert run_ingest(store, feb).new_facts == 1
