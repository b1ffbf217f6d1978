"""A killed ingest (SIGKILL in the middle of writing the new version) leaves the previous store usable."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd

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
        if len(written) == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no finally: like a power cut

    pq.write_table = write_then_die
    run_ingest(NetworkxStore(sys.argv[1]), Path(sys.argv[2]))
""")


def test_killed_ingest_leaves_the_previous_version(tmp_path: Path, make_bundle: Callable[..., Path]) -> None:
    store_dir = tmp_path / "store"
    store = NetworkxStore(store_dir)
    run_ingest(store, make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN}))
    version = store.version
    before = {t: store.read(t) for t in ("enterprises", "payments", "edges")}

    feb = make_bundle({"enterprises.csv": ENTERPRISES, "payments.csv": PAYMENTS_JAN + PAYMENTS_FEB.split("\n", 1)[1]})
    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(store_dir), str(feb), "4"], cwd=Path.cwd(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert any(p.name.startswith(".tmp-") for p in (store_dir / "versions").iterdir())  # died mid-write

    reopened = NetworkxStore(store_dir)
    assert reopened.version == version
    for table, frame in before.items():
        pd.testing.assert_frame_equal(reopened.read(table), frame)
    assert whole_graph(reopened).number_of_edges() == len(before["edges"])

    summary = run_ingest(reopened, feb)  # the lock died with the process; the next ingest works
    assert summary.new_facts == 1 and reopened.version != version
    assert len(reopened.read("payments")) == len(before["payments"]) + 1
