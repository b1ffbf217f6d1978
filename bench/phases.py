"""One benchmark phase per child process, so each phase's peak memory is its own.

Run as ``python -m bench.phases PHASE BUNDLE STORE``; prints one JSON line with the
seconds taken, the CPU seconds of the phase's processes (its own and its children's: `score`
scores families in worker processes), the peak resident memory of the phase process (MiB)
and phase-specific figures. `bench.run` samples the memory of the whole process tree
(`TreeMemory`) and reports the larger of the two.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

TABLE_FILES = ("enterprises", "persons", "roles", "associations", "memberships", "payments", "bills",
               "endorsements", "payroll", "managers")


def _csvs(bundle: Path) -> list[Path]:
    return [p for name in TABLE_FILES for p in [bundle / f"{name}.csv"] if p.exists()]


def pyarrow_read(bundle: Path, store: Path) -> dict[str, Any]:
    """Reference: a plain pyarrow read of the same files (no validation, no graph)."""
    import pyarrow.csv as pacsv

    rows = 0
    for path in _csvs(bundle):
        rows += pacsv.read_csv(path).num_rows
    return {"rows": rows}


def ingest(bundle: Path, store: Path) -> dict[str, Any]:
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest
    from leads.watchers import INGEST_WATCHERS  # as the CLI runs it: tracking and alerts included

    summary = run_ingest(NetworkxStore(store), bundle, watchers=INGEST_WATCHERS)
    return {"rows": summary.rows_read, "accepted": summary.accepted, "rejected": summary.rejected}


def score(bundle: Path, store: Path) -> dict[str, Any]:
    """As the CLI's `score` runs it: the graph caches built beside the scoring, then the API's
    caches of the new version (so the phase ends where `serve` finds everything built)."""
    from graph import index_cache
    from graph.networkx_store import NetworkxStore
    from scoring.run import score_all

    st = NetworkxStore(store)
    summary = score_all(st, graph_caches=True)
    started = time.perf_counter()
    index_cache.warm(st, summary.prospects, summary.version)
    return {"families": summary.seconds, "rows": summary.rows, "api_caches": time.perf_counter() - started}


def score_supply_chain(bundle: Path, store: Path) -> dict[str, Any]:
    from graph.networkx_store import NetworkxStore
    from scoring.run import score_family

    st = NetworkxStore(store)
    st.read("payments")  # table loading is ingest's business; time the scoring itself
    st.read("enterprises")
    started = time.perf_counter()
    rows = score_family(st, "supply_chain")
    return {"rows": len(rows), "scoring_seconds": time.perf_counter() - started}


def duckdb_upstream(bundle: Path, store: Path) -> dict[str, Any]:
    """Reference: the supply-chain family's tier-1 upstream aggregation in DuckDB SQL from the CSVs."""
    import duckdb

    con = duckdb.connect()
    sql = """
        WITH ent AS (SELECT * FROM read_csv_auto($ent, all_varchar=true)),
             pay AS (SELECT payer_id, payee_id, payee_bank, CAST(amount AS DOUBLE) AS amount,
                            CAST(paid_on AS DATE) AS paid_on
                     FROM read_csv_auto($pay, all_varchar=true)),
             anchors AS (SELECT enterprise_id FROM ent WHERE lower(is_client) IN ('1','true','y','yes','是'))
        SELECT p.payee_id, sum(p.amount) AS amount, count(*) AS payments,
               count(DISTINCT date_trunc('month', p.paid_on)) AS months,
               count(DISTINCT p.payer_id) AS anchors, max(p.paid_on) AS last_paid,
               sum(CASE WHEN p.payee_bank NOT IN ('本行','我行') THEN p.amount ELSE 0 END) AS other_bank
        FROM pay p JOIN anchors a ON p.payer_id = a.enterprise_id
        GROUP BY p.payee_id
    """
    res = con.execute(sql, {"ent": str(bundle / "enterprises.csv"), "pay": str(bundle / "payments.csv")})
    return {"rows": len(res.fetchall())}


def duckdb_pipeline(bundle: Path, store: Path) -> dict[str, Any]:
    """Reference: a plain DuckDB pipeline over the same bundle — read every file, normalise
    names, hash ID numbers, mask phones, aggregate edges, write Parquet, one upstream scoring
    query. What the product's ingest + score is compared with (issue #15's 1.5x target)."""
    import tempfile

    import duckdb

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order=false")
    out = Path(tempfile.mkdtemp(prefix="bench-duckdb-"))
    rows = 0
    try:
        for csv_file in sorted(bundle.glob("*.csv")):  # read every file
            sql = f"CREATE TABLE {csv_file.stem} AS SELECT * FROM read_csv_auto(?, all_varchar=true)"  # noqa: S608
            con.execute(sql, [str(csv_file)])
        norm = "upper(trim(regexp_replace(name, '[\\s()（）]', '', 'g')))"
        con.execute(f"CREATE TABLE ent AS SELECT *, {norm} AS name_norm FROM enterprises")  # noqa: S608
        con.execute(f"""CREATE TABLE per AS SELECT person_id, {norm} AS name_norm,
                       sha256('salt' || id_number) AS id_hash,
                       CASE WHEN phone IS NULL THEN NULL ELSE left(phone, 3) || '****' || right(phone, 4) END AS phone,
                       is_retail_client, aum, branch_id, manager_id FROM persons""")  # noqa: S608
        con.execute("""CREATE TABLE edges AS
            SELECT payer_id AS src, payee_id AS dst, 'PAYS' AS kind, sum(CAST(amount AS DOUBLE)) AS amount,
                   count(*) AS count FROM payments GROUP BY ALL
            UNION ALL SELECT employer_id, person_id, 'PAYROLL', sum(CAST(amount AS DOUBLE)), count(*)
                   FROM payroll GROUP BY ALL
            UNION ALL SELECT drawer_id, payee_id, 'BILL', sum(CAST(amount AS DOUBLE)), count(*) FROM bills GROUP BY ALL
            UNION ALL SELECT from_id, to_id, 'ENDORSES', NULL, count(*) FROM endorsements GROUP BY ALL
            UNION ALL SELECT person_id, enterprise_id, 'HOLDS_ROLE', NULL, count(*) FROM roles GROUP BY ALL
            UNION ALL SELECT member_id, association_id, 'MEMBER_OF', NULL, count(*) FROM memberships GROUP BY ALL""")
        for table in ("ent", "per", "edges"):
            con.execute(f"COPY {table} TO '{out / table}.parquet' (FORMAT parquet)")
        rows = len(con.execute(f"""
            SELECT e.dst, sum(e.amount) AS amount, count(DISTINCT e.src) AS anchors
            FROM read_parquet('{out / 'edges'}.parquet') e
            JOIN read_parquet('{out / 'ent'}.parquet') a ON e.src = a.enterprise_id
            WHERE e.kind = 'PAYS' AND lower(a.is_client) IN ('1','true','y','yes','是')
            GROUP BY e.dst ORDER BY amount DESC""").fetchall())  # noqa: S608 - our temporary folder
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"rows": rows}


def networkx_naive(bundle: Path, store: Path) -> dict[str, Any]:
    """Reference: the straightforward approach — build the full graph, loop over anchors."""
    import csv

    import networkx as nx

    g = nx.MultiDiGraph()
    with open(bundle / "enterprises.csv", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            g.add_node(row["enterprise_id"], client=row.get("is_client", "").lower() in ("1", "true", "y", "是"))
    with open(bundle / "payments.csv", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            g.add_edge(row["payer_id"], row["payee_id"], amount=float(row["amount"] or 0),
                       paid_on=row["paid_on"], bank=row.get("payee_bank", ""))
    anchors = [n for n, d in g.nodes(data=True) if d.get("client")]
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for anchor in anchors:
        for _, payee, data in g.out_edges(anchor, data=True):
            t = totals[payee]
            t[0] += data["amount"]
            t[1] += 1
            t[2] += data["amount"] if data["bank"] not in ("本行", "我行") else 0.0
    return {"rows": len(totals), "edges": g.number_of_edges()}


PHASES = {f.__name__: f for f in (pyarrow_read, ingest, score, score_supply_chain, duckdb_upstream,
                                  duckdb_pipeline, networkx_naive)}


class TreeMemory:
    """The peak memory of a process and all its descendants together, sampled every `interval` s.

    A phase may run in several processes (`score` scores families in workers), so one process's
    maximum RSS no longer says what the phase held. The peak is of the processes' PSS summed
    (proportional set size: a page shared by n processes counts 1/n in each, so the libraries a
    worker shares with its parent are counted once); their RSS summed (shared pages counted in
    every process: an overstatement) is kept beside it.

    RSS costs microseconds to read; PSS walks every page table of the process (about 75 ms for
    6 GiB of 4 KiB pages), under the lock that the process's own mmap and munmap wait for. Walked
    at every sample, a 20M-payment `score` (13 GiB in three processes) lost most of a core of
    this 2-core machine to its own measurement. So every sample reads the cheap counters: each
    process's anonymous memory (RSS less its file-backed and shared pages: private to it, as the
    workers are spawned, not forked) and its RSS. PSS is walked at most `walk_share` of the time
    (after a walk of t seconds the next waits t / walk_share), and only while it can have grown
    (PSS never exceeds RSS). Between walks the PSS is the anonymous memory now plus the part of
    the PSS that was not anonymous at the last walk (mapped libraries and files), capped by the
    RSS: it overstates where processes come to share file pages after that walk, and the
    anonymous memory alone is a floor. `pss_mib` is the peak of walked and carried figures
    alike, `walked_mib` of the walked ones only. Sampling misses peaks shorter than the interval; the phase process's own
    maximum RSS (exact) is reported beside it.
    """

    def __init__(self, pid: int, interval: float = 0.05, walk_share: float = 0.05) -> None:
        import psutil

        self._root = psutil.Process(pid)
        self._interval = interval
        self._walk_share = walk_share
        self.pss_mib = 0.0
        self.walked_mib = 0.0
        self.rss_mib = 0.0
        self.processes = 1
        self.walks = 0
        self.walk_seconds = 0.0
        self.longest_walk = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psutil

        walk_after, mapped = 0.0, 0.0
        while not self._stop.is_set():
            try:
                tree = [self._root, *self._root.children(recursive=True)]
            except psutil.Error:  # the phase process has ended
                return
            anon, rss = _counters(tree)
            self.rss_mib = max(self.rss_mib, rss)
            self.processes = max(self.processes, len(tree))
            if rss > self.pss_mib and time.monotonic() >= walk_after:  # the PSS peak can have grown
                started = time.monotonic()
                pss = _walked(tree)
                took = time.monotonic() - started
                mapped = max(pss - anon, 0.0)
                self.walked_mib = max(self.walked_mib, pss)
                self.walks += 1
                self.walk_seconds += took
                self.longest_walk = max(self.longest_walk, took)
                walk_after = time.monotonic() + took / self._walk_share
            self.pss_mib = max(self.pss_mib, self.walked_mib, min(anon + mapped, rss))
            self._stop.wait(self._interval)


def _counters(tree: list[Any]) -> tuple[float, float]:
    """The anonymous memory and the RSS (MiB) summed over processes, from counters the kernel
    keeps (no page walk)."""
    infos = _each(tree, "memory_info")
    return sum(i.rss - i.shared for i in infos) / 2**20, sum(i.rss for i in infos) / 2**20


def _walked(tree: list[Any]) -> float:
    """The PSS (MiB) summed over processes: a walk of each one's page tables."""
    return sum(i.pss for i in _each(tree, "memory_full_info")) / 2**20


def _each(tree: list[Any], how: str) -> list[Any]:
    """Each process's `how()` (psutil), leaving out a process that just ended."""
    import psutil

    infos = []
    for process in tree:
        try:
            infos.append(getattr(process, how)())
        except psutil.Error:
            continue
    return infos


def _cpu_seconds() -> float:
    """User + system CPU of this process and of its children that have ended (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    phase, bundle, store = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    started, cpu = time.perf_counter(), _cpu_seconds()
    extra = PHASES[phase](bundle, store)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"phase": phase, "seconds": seconds, "cpu_seconds": _cpu_seconds() - cpu,
                      "peak_mib": peak, **extra}, default=str))


if __name__ == "__main__":
    main()
