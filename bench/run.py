"""`make bench`: every figure of issue #15's Targets list, from one run, as ratios against
references run in the same run.

Sizes come from ``BENCH_SIZES`` (payment rows, comma-separated; default 500000,2000000, e.g.
``BENCH_SIZES=50000`` to try the harness small); ``BENCH_XL=1`` adds 20,000,000 (opt-in: minutes
and gigabytes, never in CI). For each size it generates a bundle (``prospect-graph generate
--scale N``, cached under bench/data/), runs each phase in a child process (bench/phases.py) so
every phase reports its own peak memory, then serves the store and measures `serve` start-up
and API latency with one client and with ``BENCH_CLIENTS`` (default 8) concurrent clients on
loopback (``BENCH_REQUESTS`` per endpoint, at most ``BENCH_API_SECONDS`` each), served by
``BENCH_WORKERS`` worker processes (default: `serve`'s, one per core).
Writes bench/RESULTS.md (bench/report.py) and bench/cost-vs-size.png; the raw figures stay in
bench/out/results.json. ``BENCH_API_ONLY=1`` measures the API again on the last run's stores,
``BENCH_RESUME=1`` keeps the sizes the last run finished.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
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
WORKERS = os.environ.get("BENCH_WORKERS")  # `serve --workers`; unset = serve's default (one per core)
PY = sys.executable
CLI = str(Path(PY).with_name("prospect-graph"))


def _run_phase(phase: str, bundle: Path, store: Path) -> dict[str, Any]:
    """One phase in a child process; its peak memory is the larger of the child's own maximum RSS
    and the sampled peak PSS of the child and its workers together (`bench.phases.TreeMemory`)."""
    from bench.phases import TreeMemory

    child = subprocess.Popen([PY, "-m", "bench.phases", phase, str(bundle), str(store)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT.parent,
                             env=_phase_environment())
    with TreeMemory(child.pid) as tree:
        stdout, stderr = child.communicate()
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, child.args, stdout, stderr)
    result = dict(json.loads(stdout.strip().splitlines()[-1]))
    result.update(process_mib=result["peak_mib"], tree_pss_mib=tree.pss_mib, tree_rss_mib=tree.rss_mib,
                  pss_walked_mib=tree.walked_mib, pss_walks=tree.walks, pss_walk_seconds=tree.walk_seconds,
                  processes=tree.processes, peak_mib=max(result["peak_mib"], tree.pss_mib))
    return result


def _phase_environment() -> dict[str, str]:
    """Every phase's environment, the product's and the references' alike: no progress bars, and
    Arrow's allocator as the product sets it (`graph.memory.lean_allocator`), so a reference is
    not slower for allocating with pyarrow's default (a pyarrow read at 2M took 1.2 s of CPU
    with jemalloc, 1.7 s with mimalloc)."""
    from graph.memory import lean_allocator

    lean_allocator()  # sets the variable unless the user chose an allocator
    return {**os.environ, "PROSPECT_GRAPH_NO_PROGRESS": "1"}


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


def _pick_ids(store: Path, count: int) -> list[dict[str, str]]:
    """`count` (anchor, prospect) pairs of the best-scored upstream rows, distinct anchors first
    (an anchor's entity, ego picture and prospect page differ from another's), then other pairs."""
    from graph.networkx_store import NetworkxStore

    rows = NetworkxStore(store).read("prospects", ["family", "kind", "anchor_id", "prospect_id", "score"])
    up = rows[(rows["family"] == "supply_chain") & (rows["kind"] == "upstream") & rows["anchor_id"].notna()]
    up = up.sort_values("score", ascending=False, kind="stable")
    first = up.drop_duplicates("anchor_id")
    ordered = [*first.itertuples(), *up.drop(first.index).itertuples()][:count]  # only the rows used
    return [{"anchor": str(r.anchor_id), "prospect": str(r.prospect_id)} for r in ordered]


ENDPOINTS = {  # name -> URL template over one (anchor, prospect) pair
    "prospects (anchor)": "/prospects/supply_chain?anchor={anchor}&limit=50",
    "entity": "/entities/{anchor}",
    "path": "/paths?source={anchor}&target={prospect}&max_hops=4&k=3",
    "ego picture": "/viz/ego/{anchor}?depth=2",
    "neighbors": "/entities/{anchor}/neighbors?limit=50",
    "prospects": "/prospects/supply_chain?limit=50&offset={offset}",
    "lead board": "/leads?limit=50&offset={offset}",
    "contact plan": "/plan?limit=50&offset={offset}",
    "customer 360": "/entities/{anchor}/360",
}


def _api(store: Path) -> dict[str, Any]:
    """`serve` start-up to a 200 from /health, then per endpoint: one cold request, one client in
    sequence, `CLIENTS` concurrent clients (each with its own keep-alive connection)."""
    import httpx

    from api.auth import add_token
    from graph.networkx_store import NetworkxStore

    single_count, many_count = max(1, REQUESTS // 4), REQUESTS
    pairs = _pick_ids(store, 1 + single_count + many_count)
    if not pairs:
        raise SystemExit(f"no scored upstream prospects in {store}: nothing to ask the API about")
    token = add_token(NetworkxStore(store), f"bench-{os.getpid()}-{int(time.time())}", role="admin")
    port = _free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([CLI, "serve", "--store", str(store), "--port", str(port),
                             *(["--workers", WORKERS] if WORKERS else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        ready = None
        while time.perf_counter() - started < 120:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    ready = time.perf_counter() - started
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        # the latencies are of a warm server: every worker done building its caches (each new
        # connection may reach another worker, so several answers in a row must say so)
        in_a_row = 0
        while ready is not None and time.perf_counter() - started < 300 and in_a_row < 8:
            try:
                in_a_row = 0 if httpx.get(f"{base}/health", timeout=10).json().get("warming") else in_a_row + 1
            except httpx.HTTPError:  # a worker restarting: ask again
                in_a_row = 0
            time.sleep(0.05)
        warm = time.perf_counter() - started
        latencies: dict[str, dict[str, Any]] = {}
        for name, template in ENDPOINTS.items():
            urls = [template.format(offset=50 * (i % 200), **pair) for i, pair in enumerate(pairs)]
            first = _load(base, headers, proc.pid, port, 1, urls[:1], float("inf"))  # the first request of the version
            row: dict[str, Any] = {"first_ms": first["p50_ms"], "first_errors": first["errors"]}
            for prefix, clients, batch in (("single_", 1, urls[1:1 + single_count]),
                                           ("", CLIENTS, urls[1 + single_count:])):
                got = _load(base, headers, proc.pid, port, clients, batch or urls[:1], API_SECONDS / 2)
                row.update({f"{prefix}{key}": value for key, value in got.items()})
            latencies[name] = row
            print(f"      {name}: first {row['first_ms']:.0f} ms, p95 one client {row['single_p95_ms']:.1f} ms "
                  f"({row['single_per_s']:.1f}/s), {CLIENTS} clients {row['p95_ms']:.1f} ms ({row['per_s']:.1f}/s, "
                  f"server CPU {row['server_cpu_ms']:.1f} ms a request, connections per worker "
                  f"{row['connections']})", flush=True)
        from api.server import worker_count

        workers = worker_count(int(WORKERS) if WORKERS else None)
        return {"ready_s": ready, "warm_s": warm, "clients": CLIENTS, "workers": workers, "cores": _cores(),
                "latency": latencies}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _load(base: str, headers: dict[str, str], server: int, port: int, clients: int, urls: list[str],
          seconds: float) -> dict[str, Any]:
    """`clients` closed-loop clients (no think time) asking `urls` until none is left or `seconds` pass.

    Each client is a thread with its own keep-alive connection, made and used once (`/health`)
    before the clock starts: neither an HTTP client's set-up (50 ms of CPU for httpx's TLS
    context, which made every client's first request of a burst the slowest) nor a TCP handshake
    is timed. Returns the latencies (ms), the throughput (requests/s over the phase), the CPU
    the server's processes and this process (the clients) spent per request, and how many of the
    connections each worker holds.
    """
    import threading

    import httpx

    from bench.report import percentile

    sessions = [httpx.Client(base_url=base, headers=headers, timeout=60) for _ in range(clients)]
    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    todo = iter(urls)
    start = threading.Barrier(clients + 1)
    deadline = float("inf")

    def run(session: httpx.Client) -> None:
        start.wait()
        while True:
            with lock:
                url = next(todo, None)
            if url is None or time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            try:
                status = session.get(url).status_code
            except httpx.HTTPError:
                status = 599  # a timeout or a dropped connection counts as an error
            elapsed = time.perf_counter() - t0
            with lock:
                results.append((elapsed, status))

    try:
        for session in sessions:
            with contextlib.suppress(httpx.HTTPError):  # a client that cannot connect counts its errors below
                session.get("/health")
        connections = _connections_per_worker(server, port)
        threads = [threading.Thread(target=run, args=(s,), daemon=True) for s in sessions]
        for thread in threads:
            thread.start()
        server_cpu, client_cpu = _cpu_seconds(server), time.process_time()
        began = time.perf_counter()
        deadline = began + seconds
        start.wait()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        server_cpu, client_cpu = _cpu_seconds(server) - server_cpu, time.process_time() - client_cpu
    finally:
        for session in sessions:
            session.close()
    times = [1000 * t for t, _ in results]
    done = max(1, len(results))
    return {"p50_ms": percentile(times, 0.5), "p95_ms": percentile(times, 0.95),
            "mean_ms": sum(times) / done, "requests": len(results),
            "errors": sum(1 for _, s in results if s >= 400), "per_s": len(results) / wall if wall > 0 else 0.0,
            "server_cpu_ms": 1000 * server_cpu / done, "client_cpu_ms": 1000 * client_cpu / done,
            "connections": connections}


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _processes(root: int) -> list[int]:
    """`root` and its descendants (Linux /proc; [root] elsewhere): `serve`'s supervisor and workers."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(entry.parent.name)] = int(entry.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sorted(tree)


def _cpu_seconds(root: int) -> float:
    """User + system CPU seconds of `root`'s process tree so far (NaN where /proc is missing)."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        for pid in _processes(root):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    except (OSError, ValueError, IndexError):
        return float("nan")
    return total


def _connections_per_worker(root: int, port: int) -> list[int]:
    """How many established connections to `port` each process of `root`'s tree holds (Linux
    /proc; [] elsewhere), most first: how the keep-alive clients spread over the workers."""
    try:
        established = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(FileNotFoundError):
                for line in Path(table).read_text().splitlines()[1:]:
                    cols = line.split()
                    if cols[3] == "01" and int(cols[1].rsplit(":", 1)[1], 16) == port:  # ESTABLISHED, server side
                        established.add(cols[9])
        counts = []
        for pid in _processes(root):
            inodes = set()
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
            if inodes & established:
                counts.append(len(inodes & established))
    except OSError:
        return []
    return sorted(counts, reverse=True)


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
