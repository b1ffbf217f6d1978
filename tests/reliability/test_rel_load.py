"""A bounded load test on loopback: concurrent clients over the main endpoints, zero errors.

The demo store (a copy) is served by uvicorn on 127.0.0.1; `CLIENTS` threads, each with its
own keep-alive connection and a token of a different role, send `PER_CLIENT` requests each,
cycling through the main endpoints (JSON, CSV/XLSX exports and a picture page). Every answer
must be 200 (or the 403 the role is documented to get); the latencies (p50/p95/max, per
endpoint and overall) are written to tests/artifacts/reliability-load.json. Speed is not
asserted (timings belong to benchmarks): only the count of answers and the absence of errors.
"""

from __future__ import annotations

import json
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import add_token
from demo import cases as demo
from graph.networkx_store import NetworkxStore
from tests.conftest import ARTIFACTS
from tests.live import live_server

pytestmark = pytest.mark.timeout(120)

CLIENTS = 8
PER_CLIENT = 25
ROLES = ["admin", "analyst", "corporate_manager", "retail_manager"]
ENDPOINTS = [
    "/health",
    "/prospects/supply_chain?limit=50",
    "/prospects/referral?limit=50",
    "/prospects/retail_linkage?limit=50",
    "/prospects/ecosystem?limit=50",
    "/entities?q=%E5%8D%8E%E4%B8%9C&limit=20",  # 华东
    f"/entities/{demo.CORE}",
    f"/entities/{demo.CORE}/neighbors?hops=2&limit=30",
    f"/paths?source={demo.ASSOC_CREDIT_MEMBER}&target={demo.ASSOC_PROSPECT_MEMBERS[0]}&max_hops=3",
    "/prospects/supply_chain?format=csv&limit=200",
    "/prospects/ecosystem?format=xlsx&limit=200",
    f"/viz/supply-chain/{demo.CORE}",
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def test_bounded_load_on_loopback_has_no_errors(demo_store: NetworkxStore, tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(demo_store.root, root)
    store = NetworkxStore(root)
    tokens = {role: add_token(store, f"load-{role}", role) for role in ROLES}
    results: list[tuple[str, str, int, float]] = []
    lock = threading.Lock()

    with live_server(root) as base:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tokens['admin']}"}) as warm:
            allowed = {(role, url): None for role in ROLES for url in ENDPOINTS}
            for url in ENDPOINTS:  # what each role is meant to get (200, or 403 for a family it may not list)
                for role in ROLES:
                    r = warm.get(url, headers={"Authorization": f"Bearer {tokens[role]}"})
                    allowed[(role, url)] = r.status_code
            assert all(allowed[("admin", url)] == 200 for url in ENDPOINTS), allowed

        def client(n: int) -> None:
            role = ROLES[n % len(ROLES)]
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {tokens[role]}"},
                              timeout=60) as c:
                for i in range(PER_CLIENT):
                    url = ENDPOINTS[(n + i) % len(ENDPOINTS)]
                    started = time.perf_counter()
                    status = c.get(url).status_code
                    with lock:
                        results.append((role, url, status, time.perf_counter() - started))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        wall = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(100)
        wall = time.perf_counter() - wall

    assert len(results) == CLIENTS * PER_CLIENT
    errors = [(role, url, status) for role, url, status, _ in results
              if status != allowed[(role, url)] or status not in (200, 403)]
    assert not errors, errors[:10]
    assert sum(1 for *_, status, _ in results if status == 200) >= CLIENTS * PER_CLIENT // 2
    _record(results, wall)


def _record(results: list[tuple[str, str, int, float]], wall: float) -> None:
    times = [t for *_, t in results]
    per: dict[str, Any] = {}
    for url in ENDPOINTS:
        mine = [t for _, u, _, t in results if u == url]
        per[url.split("?")[0] + ("?" + url.split("?")[1].split("&")[0] if "format=" in url else "")] = {
            "n": len(mine), "p50_ms": _pct(mine, 0.5), "p95_ms": _pct(mine, 0.95), "max_ms": round(max(mine) * 1000, 1)}
    data = {"clients": CLIENTS, "requests": len(results), "errors": 0,
            "status_counts": {str(s): sum(1 for r in results if r[2] == s) for s in sorted({r[2] for r in results})},
            "wall_s": round(wall, 2), "throughput_rps": round(len(results) / wall, 1),
            "p50_ms": _pct(times, 0.5), "p95_ms": _pct(times, 0.95), "max_ms": round(max(times) * 1000, 1),
            "mean_ms": round(statistics.fmean(times) * 1000, 1), "per_endpoint": per}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reliability-load.json").write_text(json.dumps(data, indent=1))
