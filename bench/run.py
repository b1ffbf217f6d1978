"""`make bench`: bank-scale benchmarks as ratios against references run in the same process.

Sizes come from ``BENCH_SIZES`` (payment rows, comma-separated; default 500000,2000000);
``BENCH_XL=1`` adds 20,000,000 (opt-in: minutes and gigabytes, never in CI).
For each size it generates a bundle (``prospect-graph generate --scale N``, cached under
bench/data/), then runs each phase in a child process (bench/phases.py) so every phase
reports its own peak memory, then serves the store and measures API latency with one client
and with ``BENCH_CLIENTS`` (default 8) concurrent clients on loopback, bounded in count and time.
Writes bench/RESULTS.md and bench/cost-vs-size.png.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
DATA = Path(os.environ.get("BENCH_DATA", ROOT / "data"))
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "500000,2000000").split(",") if s.strip()]
if os.environ.get("BENCH_XL") and 20_000_000 not in SIZES:
    SIZES.append(20_000_000)
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "120"))  # per endpoint
API_SECONDS = float(os.environ.get("BENCH_API_SECONDS", "45"))  # per endpoint, at most
PY = sys.executable
CLI = str(Path(PY).with_name("prospect-graph"))


def _run_phase(phase: str, bundle: Path, store: Path) -> dict[str, Any]:
    out = subprocess.run([PY, "-m", "bench.phases", phase, str(bundle), str(store)], check=True,
                         capture_output=True, text=True, cwd=ROOT.parent,
                         env={**os.environ, "PROSPECT_GRAPH_NO_PROGRESS": "1"})
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _generate(size: int) -> tuple[Path, float]:
    bundle = DATA / f"scale-{size}"
    if (bundle / ".complete").exists():
        return bundle, float((bundle / ".complete").read_text() or 0)
    shutil.rmtree(bundle, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([CLI, "generate", str(bundle), "--scale", str(size), "--seed", "1"], check=True)
    seconds = time.perf_counter() - started
    (bundle / ".complete").write_text(f"{seconds:.2f}")
    return bundle, seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pick_ids(store: Path) -> dict[str, str]:
    from graph.networkx_store import NetworkxStore

    st = NetworkxStore(store)
    rows = st.read("prospects")
    up = rows[(rows["family"] == "supply_chain") & (rows["kind"] == "upstream")].sort_values("score")
    best = up.iloc[-1]
    return {"anchor": str(best["anchor_id"]), "prospect": str(best["prospect_id"])}


def _api(store: Path) -> dict[str, Any]:
    import httpx

    from api.auth import add_token
    from graph.networkx_store import NetworkxStore

    token = add_token(NetworkxStore(store), "bench", role="admin")
    ids = _pick_ids(store)
    port = _free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([CLI, "serve", "--store", str(store), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        ready = None
        while time.perf_counter() - started < 60:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    ready = time.perf_counter() - started
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        endpoints = {
            "prospects": "/prospects/supply_chain?limit=50",
            "entity": f"/entities/{ids['anchor']}",
            "neighbors": f"/entities/{ids['anchor']}/neighbors?limit=50",
            "path": f"/paths?source={ids['anchor']}&target={ids['prospect']}&max_hops=4&k=3",
            "ego picture": f"/viz/ego/{ids['anchor']}?depth=2",
        }
        headers = {"Authorization": f"Bearer {token}"}
        latencies: dict[str, dict[str, float]] = {}
        for name, url in endpoints.items():
            deadline = time.perf_counter() + API_SECONDS

            def call(_: int, url: str = url, deadline: float = deadline) -> tuple[float, int]:
                if time.perf_counter() > deadline:
                    return -1.0, 0
                t0 = time.perf_counter()
                try:
                    status = httpx.get(base + url, headers=headers, timeout=60).status_code
                except httpx.HTTPError:
                    status = 599  # a timeout or a dropped connection counts as an error
                return time.perf_counter() - t0, status

            cold, _ = call(0, deadline=float("inf"))  # the first request builds the version's caches
            row: dict[str, float] = {"first_ms": 1000 * cold}
            for label, clients in (("single", 1), ("", CLIENTS)):
                deadline = time.perf_counter() + API_SECONDS / 2
                count = REQUESTS // 4 if clients == 1 else REQUESTS
                with ThreadPoolExecutor(clients) as pool:
                    results = [r for r in pool.map(lambda i, d=deadline: call(i, deadline=d), range(count)) if r[0] >= 0]
                times = sorted(t for t, _ in results) or [float("nan")]
                prefix = f"{label}_" if label else ""
                row.update({f"{prefix}p50_ms": 1000 * times[len(times) // 2],
                            f"{prefix}p95_ms": 1000 * times[max(0, int(len(times) * 0.95) - 1)],
                            f"{prefix}requests": len(results),
                            f"{prefix}errors": sum(1 for _, s in results if s >= 400)})
            latencies[name] = row
        return {"ready_s": ready, "latency": latencies}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        mem_gib = int(mem.split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        mem_gib = 0.0
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def _api_only() -> None:
    """BENCH_API_ONLY=1: measure the API again on the stores of the last run (after an API change)."""
    from bench.report import write_report

    results = json.loads((ROOT / "out" / "results.json").read_text())
    for row in results:
        print(f"== api at {row['size']:,} payments", flush=True)
        row["api"] = _api(DATA / f"store-{row['size']}")
        (ROOT / "out" / "results.json").write_text(json.dumps(results, indent=1, default=str))
    write_report(results, _machine(), ROOT / "RESULTS.md", ROOT / "cost-vs-size.png")


def main() -> None:
    if os.environ.get("BENCH_API_ONLY"):
        _api_only()
        return
    results: list[dict[str, Any]] = []
    done = ROOT / "out" / "results.json"
    if os.environ.get("BENCH_RESUME") and done.exists():  # keep the sizes a previous run finished
        results = [r for r in json.loads(done.read_text()) if r["size"] in SIZES]
    for size in SIZES:
        if any(r["size"] == size for r in results):
            continue
        print(f"== {size:,} payments", flush=True)
        bundle, gen_s = _generate(size)
        store = DATA / f"store-{size}"
        shutil.rmtree(store, ignore_errors=True)
        row: dict[str, Any] = {"size": size, "generate_s": gen_s}
        for phase in ("pyarrow_read", "ingest", "score", "score_supply_chain", "duckdb_upstream", "duckdb_pipeline",
                      "networkx_naive"):
            print(f"   {phase}", flush=True)
            row[phase] = _run_phase(phase, bundle, store)
        print("   api", flush=True)
        row["api"] = _api(store)
        results.append(row)
        results.sort(key=lambda r: r["size"])
        (ROOT / "out").mkdir(exist_ok=True)
        (ROOT / "out" / "results.json").write_text(json.dumps(results, indent=1, default=str))
    from bench.report import write_report

    write_report(results, _machine(), ROOT / "RESULTS.md", ROOT / "cost-vs-size.png")
    print((ROOT / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
