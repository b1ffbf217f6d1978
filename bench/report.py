"""bench/RESULTS.md and the cost-against-size plot from the benchmark's results.

`targets(result)` turns one size's measurements into the figures issue #15's Targets list,
each with its limit and whether it is met; `write_report` writes them as tables (one row per
size, ratios measured in the same run), then the raw phase timings, the API latency table and
the plot. Pure functions of the results dict (`bench.run` builds it), so the table and ratio
code is unit-tested on a hand-made result (tests/bench/test_report.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Target", "targets", "ratio", "percentile", "write_report", "render_report", "API_TARGETS_MS",
           "cpu_floor", "cores_busy"]

# issue #15: one client at 2M payments, p95 (ms); "/prospects?anchor=" and "/entities/{id}" 100 ms
API_TARGETS_MS = {"prospects (anchor)": 100.0, "entity": 100.0, "path": 300.0, "ego picture": 500.0}
CONCURRENT_RATIO = 3.0  # p95 with the concurrent clients / p95 with one client
GIB = 1024.0  # MiB


@dataclass(frozen=True)
class Target:
    """One figure of the Targets list at one size: its value, its limit, and whether it is met."""

    name: str
    value: float
    limit: float | None  # None: reported, no limit at this size
    unit: str = ""
    at_least: bool = False

    @property
    def met(self) -> bool | None:
        if self.limit is None or math.isnan(self.value):
            return None
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def cell(self) -> str:
        mark = {True: " ✓", False: " ✗", None: ""}[self.met]
        return f"{_num(self.value, 0 if self.unit == '' else 2)}{self.unit}{mark}"


def ratio(numerator: float | None, denominator: float | None) -> float:
    """numerator / denominator, NaN when either is missing or the denominator is not positive."""
    if numerator is None or denominator is None or denominator <= 0:
        return float("nan")
    return float(numerator) / float(denominator)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0-1) of `values` by the nearest-rank method; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _seconds(r: dict[str, Any], phase: str, key: str = "seconds") -> float:
    value = r.get(phase, {}).get(key)
    return float("nan") if value is None else float(value)


def targets(r: dict[str, Any]) -> list[Target]:
    """The Targets of issue #15 at the size of `r` (limits at 2M and 20M; smaller sizes report only)."""
    size = int(r["size"])
    big = size >= 2_000_000
    xl = size >= 20_000_000
    work = _seconds(r, "ingest") + _seconds(r, "score")
    peak = max(_seconds(r, "ingest", "peak_mib"), _seconds(r, "score", "peak_mib"))
    out = [
        Target("ingest+score / pyarrow read", ratio(work, _seconds(r, "pyarrow_read")), 8.0 if big else None, "x"),
        Target("ingest+score / DuckDB pipeline", ratio(work, _seconds(r, "duckdb_pipeline")),
               1.5 if big else None, "x"),
        Target("ingest+score s", work, 300.0 if xl else None, " s"),
        Target("peak memory GiB", peak / GIB, 12.0 if xl else (2.0 if big else None), " GiB"),
    ]
    api = r.get("api") or {}
    out.append(Target("serve ready s", float(api.get("ready_s") or float("nan")), 5.0 if big else None, " s"))
    latency = api.get("latency", {})
    for name, limit in API_TARGETS_MS.items():
        row = latency.get(name, {})
        out.append(Target(f"{name} p95 ms", float(row.get("single_p95_ms", float("nan"))),
                          limit if big else None, " ms"))
    for name in API_TARGETS_MS:
        row = latency.get(name, {})
        out.append(Target(f"{name} p95 {api.get('clients', 8)} clients / 1",
                          ratio(row.get("p95_ms"), row.get("single_p95_ms")), CONCURRENT_RATIO if big else None, "x"))
    errors = sum(int(row.get("errors", 0)) + int(row.get("single_errors", 0)) for row in latency.values())
    out.append(Target("API errors", float(errors) if latency else float("nan"), 0.0, ""))
    return out


def render_report(results: list[dict[str, Any]], machine: str, plot_name: str, when: datetime | None = None) -> str:
    """The text of bench/RESULTS.md."""
    when = when or datetime.now(UTC)
    lines = ["# Benchmark results", "",
             f"`make bench`, run {when:%Y-%m-%d %H:%M} UTC on {machine}.", "",
             "Every figure below comes from this one run: each phase ran in its own child process on the "
             "same bundle (peak memory is the larger of that process's maximum RSS and the peak of the PSS "
             "summed over it and its children: `score` scores families in a worker process, and a page two "
             "processes share counts once; read every 50 ms from the kernel's counters, with the page "
             "tables walked at most 5% of the time, `bench.phases.TreeMemory`), and the ratios divide phases of the "
             "same run. ✓/✗: issue #15's target met or not (limits apply at 2M, and 20M for the 20M ones; "
             "smaller sizes are reported for the trend).", "",
             "## Targets of issue #15", ""]
    if results:
        names = [t.name for t in targets(results[0])]
        limits = {t.name: t for r in results for t in targets(r) if t.limit is not None}
        header = [f"{n} [{'≥' if limits[n].at_least else '≤'}{limits[n].limit:g}]" if n in limits else n
                  for n in names]
        lines += ["| payments | " + " | ".join(header) + " |", "|---:|" + "---:|" * len(names)]
        for r in results:
            lines.append(f"| {r['size']:,} | " + " | ".join(t.cell() for t in targets(r)) + " |")
    lines += ["", "## Phases (seconds; peak MiB)", "",
              "| payments | generate | pyarrow read | ingest | score (all families + API caches, as the CLI) | supply-chain scoring | "
              "DuckDB upstream | DuckDB pipeline | networkx naive | peak MiB ingest / score / DuckDB pipeline |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['size']:,} | {_num(r.get('generate_s'))} | {_num(_seconds(r, 'pyarrow_read'))} | "
            f"{_num(_seconds(r, 'ingest'))} | {_num(_seconds(r, 'score'))} | "
            f"{_num(_seconds(r, 'score_supply_chain', 'scoring_seconds'))} | {_num(_seconds(r, 'duckdb_upstream'))} | "
            f"{_num(_seconds(r, 'duckdb_pipeline'))} | {_num(_seconds(r, 'networkx_naive'))} | "
            f"{_num(_seconds(r, 'ingest', 'peak_mib'), 0)} / {_num(_seconds(r, 'score', 'peak_mib'), 0)} / "
            f"{_num(_seconds(r, 'duckdb_pipeline', 'peak_mib'), 0)} |")
    families = next((list(r["score"]["families"]) for r in results if r.get("score", {}).get("families")), [])
    if families:
        lines += ["", "## Scoring time per family (s)", "", "| payments | " + " | ".join(families) + " |",
                  "|---:|" + "---:|" * len(families)]
        for r in results:
            got = r.get("score", {}).get("families", {})
            lines.append(f"| {r['size']:,} | " + " | ".join(_num(got.get(f)) for f in families) + " |")
    lines += ["", "## API latency on loopback (ms)", "",
              "Each endpoint gets one cold request first (timed on its own: the first request of a version), "
              "then one client in sequence, then the concurrent clients; each client keeps its connection. "
              "Requests cycle over distinct ids (the best-scored upstream pairs, different anchors), the "
              "single-client and concurrent phases over different ids, so no answer is served twice from a cache. "
              "`serve` worker processes: " + "; ".join(f"{r['api'].get('workers', 1)} at {r['size']:,}"
                                                       for r in results if r.get("api")) + ". "
              "Requests start once every worker has built its caches (`/health` no longer says `warming`): "
              + "; ".join(f"{r['api']['warm_s']:.1f} s after start at {r['size']:,}"
                          for r in results if (r.get("api") or {}).get("warm_s") is not None) + ".", "",
              "| payments | endpoint | first | p50 one client | p95 one client | p50 concurrent | p95 concurrent | "
              "p95 concurrent / one | requests | errors |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        api = r.get("api") or {}
        for name, lat in api.get("latency", {}).items():
            lines.append(
                f"| {r['size']:,} | {name} | {_num(lat.get('first_ms'), 0)} | {_num(lat.get('single_p50_ms'))} | "
                f"{_num(lat.get('single_p95_ms'))} | {_num(lat.get('p50_ms'))} | {_num(lat.get('p95_ms'))} | "
                f"{_num(ratio(lat.get('p95_ms'), lat.get('single_p95_ms')))} | "
                f"{int(lat.get('requests', 0)) + int(lat.get('single_requests', 0))} | "
                f"{int(lat.get('errors', 0)) + int(lat.get('single_errors', 0))} |")
    lines += _throughput_table(results)
    lines += ["", f"![cost against size]({plot_name})", ""]
    return "\n".join(lines)


def cpu_floor(lat: dict[str, Any], clients: int, cores: int) -> float:
    """The least mean latency ratio (concurrent / one client) that CPU allows: with `clients`
    closed-loop clients (no think time) Little's law gives mean latency = clients / throughput,
    and `cores` busy cores serve at most cores / (CPU per request) requests a second, so the
    concurrent mean is at least clients × CPU per request / cores. CPU per request counts the
    server's processes and the benchmark's clients (they share the machine's cores)."""
    cpu = float(lat.get("server_cpu_ms", math.nan)) + float(lat.get("client_cpu_ms", math.nan))
    return ratio(clients * cpu / max(1, cores), lat.get("single_mean_ms"))


def cores_busy(lat: dict[str, Any]) -> float:
    """How many cores the server and the clients kept busy with the concurrent clients (requests/s ×
    CPU s per request): below the machine's cores, other processes had the rest, and the latency
    ratio then measures the machine's load as much as the server."""
    cpu = float(lat.get("server_cpu_ms", math.nan)) + float(lat.get("client_cpu_ms", math.nan))
    return float(lat.get("per_s", math.nan)) * cpu / 1000.0


def _throughput_table(results: list[dict[str, Any]]) -> list[str]:
    """Throughput and CPU per request next to the latency ratio: whether the ratio is CPU-bound."""
    rows = [(r, name, lat) for r in results for name, lat in ((r.get("api") or {}).get("latency") or {}).items()
            if lat.get("single_per_s") is not None]
    if not rows:
        return []
    lines = ["", "## API throughput and CPU per request", "",
             "Closed-loop clients (no think time). With N such clients Little's law makes the mean latency N / "
             "throughput, so on C cores a CPU-bound request cannot average less than N × its CPU time / C: "
             "\"CPU floor\" is that bound divided by the one-client mean (4 when 8 clients share 2 cores and one "
             "client's latency is all CPU). A mean ratio near the floor is CPU-bound: fewer clients per core, not "
             "the server, would lower it. Cores busy: requests/s × CPU per request with the concurrent clients; "
             "below the machine's cores, other processes had the rest and the ratio measures that load too. CPU ms per request: the `serve` processes' user + system time over the "
             "phase / requests (the clients' own CPU in brackets). Connections per worker: how the clients' "
             "keep-alive connections spread over the `serve` workers.", "",
             "| payments | endpoint | req/s one client | req/s concurrent | CPU ms / request one client | "
             "CPU ms / request concurrent | mean ms one client | mean ms concurrent | mean concurrent / one | "
             "CPU floor | cores busy | connections per worker |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r, name, lat in rows:
        api = r["api"]
        lines.append(
            f"| {r['size']:,} | {name} | {_num(lat.get('single_per_s'))} | {_num(lat.get('per_s'))} | "
            f"{_num(lat.get('single_server_cpu_ms'))} ({_num(lat.get('single_client_cpu_ms'))}) | "
            f"{_num(lat.get('server_cpu_ms'))} ({_num(lat.get('client_cpu_ms'))}) | {_num(lat.get('single_mean_ms'))} | "
            f"{_num(lat.get('mean_ms'))} | {_num(ratio(lat.get('mean_ms'), lat.get('single_mean_ms')))} | "
            f"{_num(cpu_floor(lat, int(api.get('clients', 8)), int(api.get('cores', 2))))} | "
            f"{_num(cores_busy(lat))} | "
            f"{' + '.join(str(c) for c in lat.get('connections') or []) or '–'} |")
    return lines


def write_report(results: list[dict[str, Any]], machine: str, out: Path, plot: Path,
                 keep_below: str | None = "## Earlier measurements") -> None:
    """Write RESULTS.md (keeping any hand-written section from `keep_below` on) and the plot."""
    text = render_report(results, machine, plot.name)
    if keep_below and out.exists():
        old = out.read_text(encoding="utf-8")
        at = old.find(keep_below)
        if at >= 0:
            text = text.rstrip("\n") + "\n\n" + old[at:]
    out.write_text(text, encoding="utf-8")
    if results:
        _plot(results, plot)


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "–"
    if digits and abs(number) >= 100:
        digits = 0 if abs(number) >= 1000 else 1
    return f"{number:,.{digits}f}"


def _plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size"] / 1e6 for r in results]
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, phase in [("ingest", "ingest"), ("score (all)", "score"), ("pyarrow read", "pyarrow_read"),
                         ("DuckDB upstream", "duckdb_upstream"), ("DuckDB pipeline", "duckdb_pipeline"),
                         ("networkx naive", "networkx_naive")]:
        ax.plot(sizes, [_seconds(r, phase) for r in results], marker="o", label=label)
    ax.set_xlabel("payments (millions)")
    ax.set_ylabel("seconds")
    ax.set_title("Cost against size")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
