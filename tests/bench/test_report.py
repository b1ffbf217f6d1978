"""The benchmark's tables: ratios, percentiles and target checks on a hand-made result (no run)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

from bench.report import percentile, ratio, render_report, targets, write_report


def _result(size: int = 2_000_000) -> dict:
    lat = {name: {"first_ms": 900.0, "single_p50_ms": 20.0, "single_p95_ms": single, "p50_ms": 50.0,
                  "p95_ms": many, "single_requests": 30, "requests": 120, "single_errors": 0, "errors": err}
           for name, single, many, err in [("prospects (anchor)", 80.0, 200.0, 0), ("entity", 30.0, 120.0, 0),
                                           ("path", 350.0, 700.0, 1), ("ego picture", 400.0, 1000.0, 0)]}
    return {"size": size, "generate_s": 6.0,
            "pyarrow_read": {"seconds": 2.0, "peak_mib": 500.0},
            "ingest": {"seconds": 6.0, "peak_mib": 1500.0},
            "score": {"seconds": 10.0, "peak_mib": 2500.0, "families": {"supply_chain": 2.0, "referral": 8.0}},
            "score_supply_chain": {"seconds": 3.0, "scoring_seconds": 2.0, "peak_mib": 900.0},
            "duckdb_upstream": {"seconds": 1.0, "peak_mib": 300.0},
            "duckdb_pipeline": {"seconds": 8.0, "peak_mib": 1000.0},
            "networkx_naive": {"seconds": 30.0, "peak_mib": 3000.0},
            "api": {"ready_s": 4.0, "clients": 8, "latency": lat}}


def test_ratios_and_percentiles() -> None:
    assert ratio(16.0, 2.0) == 8.0
    assert math.isnan(ratio(1.0, 0.0)) and math.isnan(ratio(None, 2.0))
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile(list(range(1, 101)), 0.95) == 95
    assert percentile([7.0], 0.95) == 7.0 and math.isnan(percentile([], 0.95))


def test_targets_at_2m_are_checked_against_issue_15() -> None:
    got = {t.name: t for t in targets(_result())}
    assert got["ingest+score / pyarrow read"].value == 8.0 and got["ingest+score / pyarrow read"].met
    assert got["ingest+score / DuckDB pipeline"].value == 2.0 and got["ingest+score / DuckDB pipeline"].met is False
    assert math.isclose(got["peak memory GiB"].value, 2500 / 1024) and got["peak memory GiB"].met is False
    assert got["serve ready s"].met
    assert got["prospects (anchor) p95 ms"].met and got["entity p95 ms"].met
    assert got["path p95 ms"].met is False and got["ego picture p95 ms"].met
    assert got["entity p95 8 clients / 1"].value == 4.0 and got["entity p95 8 clients / 1"].met is False
    assert got["path p95 8 clients / 1"].value == 2.0 and got["path p95 8 clients / 1"].met
    assert got["API errors"].value == 1 and got["API errors"].met is False
    assert got["ingest+score s"].limit is None  # the 5-minute limit is for 20M


def test_smaller_sizes_are_reported_without_verdicts() -> None:
    small = targets(_result(500_000))
    assert all(t.met is None for t in small if t.name != "API errors")
    assert [t.name for t in small] == [t.name for t in targets(_result())]


def test_the_report_has_one_row_per_size_and_keeps_earlier_sections(tmp_path: Path) -> None:
    text = render_report([_result(500_000), _result()], "2 cores", "plot.png", datetime(2026, 1, 2, tzinfo=UTC))
    target_rows = [line for line in text.splitlines() if line.startswith(("| 500,000 | 8.00x", "| 2,000,000 | 8.00x"))]
    assert len(target_rows) == 2
    assert "8.00x ✓" in target_rows[1] and "2.00x ✗" in target_rows[1] and "✓" not in target_rows[0]
    assert "| 2,000,000 | path | 900 | 20.00 | 350.0 | 50.00 | 700.0 | 2.00 | 150 | 1 |" in text
    out = tmp_path / "RESULTS.md"
    out.write_text("# old\n\n## Earlier measurements\n\nhand-written figures\n", encoding="utf-8")
    write_report([_result()], "2 cores", out, tmp_path / "plot.png")
    written = out.read_text(encoding="utf-8")
    assert written.startswith("# Benchmark results") and written.endswith("hand-written figures\n")
    assert "# old" not in written and (tmp_path / "plot.png").stat().st_size > 1000


def test_throughput_table_says_whether_the_ratio_is_cpu_bound() -> None:
    from bench.report import cores_busy, cpu_floor

    r = _result()
    r["api"]["cores"] = 2
    r["api"]["latency"]["entity"].update({
        "single_per_s": 100.0, "single_mean_ms": 10.0, "single_server_cpu_ms": 9.0, "single_client_cpu_ms": 1.0,
        "per_s": 200.0, "mean_ms": 40.0, "server_cpu_ms": 9.0, "client_cpu_ms": 1.0, "connections": [4, 4]})
    lat = r["api"]["latency"]["entity"]
    assert cpu_floor(lat, 8, 2) == 4.0  # 8 clients × 10 ms of CPU on 2 cores / a 10 ms one-client mean
    assert cores_busy(lat) == 2.0  # 200 requests/s × 10 ms
    text = render_report([r], "2 cores", "plot.png", datetime(2026, 1, 2, tzinfo=UTC))
    assert "## API throughput and CPU per request" in text
    assert "| 2,000,000 | entity | 100.0 | 200.0 | 9.00 (1.00) | 9.00 (1.00) | 10.00 | 40.00 | 4.00 | 4.00 | 2.00 | 4 + 4 |" \
        in text
    assert "| 2,000,000 | path | 100.0" not in text  # no throughput measured for it: no row


def test_the_bench_counts_connections_per_process_and_cpu_time() -> None:
    import os
    import socket
    import sys

    import pytest

    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    from bench.run import _connections_per_worker, _cpu_seconds

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        accepted = [listener.accept()[0] for _ in clients]
        try:
            # this process holds both ends: only the server's side (local port = port) counts
            assert _connections_per_worker(os.getpid(), port) == [3]
            accepted.pop().close()
            assert _connections_per_worker(os.getpid(), port) == [2]
        finally:
            for s in clients + accepted:
                s.close()
    import time

    spent, began = _cpu_seconds(os.getpid()), time.process_time()
    while time.process_time() - began < 0.1:  # a tenth of a second of CPU: ten clock ticks
        pass
    assert _cpu_seconds(os.getpid()) - spent >= 0.05 and spent > 0
