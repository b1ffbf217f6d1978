"""bench/RESULTS.md and the cost-against-size plot from the benchmark's results."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TARGETS = {
    "ingest+score / pyarrow read": 8.0,
    "ingest+score / DuckDB pipeline": 1.5,
    "supply-chain scoring / DuckDB": 2.0,
    "networkx naive / supply-chain scoring": 10.0,  # at least
}


def _ratios(r: dict[str, Any]) -> dict[str, float]:
    read = r["pyarrow_read"]["seconds"]
    sc = r["score_supply_chain"]["scoring_seconds"]
    return {
        "ingest+score / pyarrow read": (r["ingest"]["seconds"] + r["score"]["seconds"]) / read,
        "ingest+score / DuckDB pipeline": ((r["ingest"]["seconds"] + r["score"]["seconds"])
                                           / r.get("duckdb_pipeline", {}).get("seconds", float("nan"))),
        "supply-chain scoring / DuckDB": sc / r["duckdb_upstream"]["seconds"],
        "networkx naive / supply-chain scoring": r["networkx_naive"]["seconds"] / sc,
    }


def write_report(results: list[dict[str, Any]], machine: str, out: Path, plot: Path) -> None:
    lines = ["# Benchmark results", "",
             f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}.", "",
             "Each phase ran in its own child process (peak memory is that process's maximum RSS).",
             "Ratios compare phases run in the same `make bench` on the same files.", "",
             "| payments | generate s | pyarrow read s | ingest s | score s (all families) | supply-chain s | "
             "DuckDB upstream s | DuckDB pipeline s | networkx naive s | peak MiB (ingest / score / DuckDB pipeline) | "
             "serve ready s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        pipe = r.get("duckdb_pipeline", {})
        lines.append(
            f"| {r['size']:,} | {r['generate_s']:.1f} | {r['pyarrow_read']['seconds']:.2f} | "
            f"{r['ingest']['seconds']:.1f} | {r['score']['seconds']:.1f} | "
            f"{r['score_supply_chain']['scoring_seconds']:.2f} | {r['duckdb_upstream']['seconds']:.2f} | "
            f"{pipe.get('seconds', float('nan')):.2f} | "
            f"{r['networkx_naive']['seconds']:.1f} | {r['ingest']['peak_mib']:.0f} / {r['score']['peak_mib']:.0f} / "
            f"{pipe.get('peak_mib', float('nan')):.0f} | "
            f"{(r['api']['ready_s'] or float('nan')):.2f} |")
    lines += ["", "## Ratios against the references (target in brackets)", "",
              "| payments | " + " | ".join(f"{k} [{'≥' if k.startswith('networkx') else '≤'}{v:g}]"
                                         for k, v in TARGETS.items()) + " |",
              "|---:|" + "---:|" * len(TARGETS)]
    for r in results:
        ratios = _ratios(r)
        lines.append(f"| {r['size']:,} | " + " | ".join(f"{ratios[k]:.2f}" for k in TARGETS) + " |")
    lines += ["", "## Scoring time per family (s)", "", "| payments | " + " | ".join(results[0]["score"]["families"])
              + " |", "|---:|" + "---:|" * len(results[0]["score"]["families"])]
    for r in results:
        lines.append(f"| {r['size']:,} | " + " | ".join(f"{v:.2f}" for v in r["score"]["families"].values()) + " |")
    lines += ["", "## API latency on loopback, one client and 8 concurrent clients (ms)", "",
              "The first request of each endpoint (which builds the version's caches) is timed on its own.", "",
              "| payments | endpoint | first | p95 one client | p50 8 clients | p95 8 clients | requests | errors |",
              "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for name, lat in r["api"]["latency"].items():
            lines.append(f"| {r['size']:,} | {name} | {lat['first_ms']:.0f} | {lat.get('single_p95_ms', float('nan')):.1f} | "
                         f"{lat['p50_ms']:.1f} | {lat['p95_ms']:.1f} | "
                         f"{lat['requests'] + lat.get('single_requests', 0)} | "
                         f"{lat['errors'] + lat.get('single_errors', 0)} |")
    lines += ["", f"![cost against size]({plot.name})", ""]
    out.write_text("\n".join(lines), encoding="utf-8")
    _plot(results, plot)


def _plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size"] / 1e6 for r in results]
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, get in [("ingest", lambda r: r["ingest"]["seconds"]), ("score (all)", lambda r: r["score"]["seconds"]),
                       ("pyarrow read", lambda r: r["pyarrow_read"]["seconds"]),
                       ("DuckDB upstream", lambda r: r["duckdb_upstream"]["seconds"]),
                       ("DuckDB pipeline", lambda r: r.get("duckdb_pipeline", {}).get("seconds", float("nan"))),
                       ("networkx naive", lambda r: r["networkx_naive"]["seconds"])]:
        ax.plot(sizes, [get(r) for r in results], marker="o", label=label)
    ax.set_xlabel("payments (millions)")
    ax.set_ylabel("seconds")
    ax.set_title("Cost against size")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
