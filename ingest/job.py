"""The ingest job: bundle → validated rows → resolved, merged store version + reports.

`run_ingest` takes the store's writer lock, reads every table of the bundle, validates and
resolves, merges with the store's nodes and facts, rebuilds the derived edges and commits all
tables as ONE new version (`GraphStore.stage`): each table is written aside as soon as it is
final and let go of, the derived edges are built from what was written, and the version is
swapped in only at the commit, so an ingest that fails or is killed leaves the previous
version in use and no half version visible. The rejects report, the
resolution report and a JSON summary go to ``store.reports_dir/<version>-<time>/``.

Whatever should follow a committed ingest (the alerts and the campaign tracking of `leads`)
is passed in as `watchers` (`IngestWatcher`): ingest imports only `graph`, so it knows no
more of them than this protocol. Each watcher looks at the store inside the writer lock, after
the bundle is read and before the merge starts writing the new version aside (the store is still
at its old version), and returns what to do once the new version is committed.

Example:
    >>> from leads.watchers import INGEST_WATCHERS                           # doctest: +SKIP
    >>> summary = run_ingest(store, Path("bundle"), watchers=INGEST_WATCHERS)  # doctest: +SKIP
    >>> print(summary.render())                                             # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd

from graph.errors import NotFound
from graph.memory import lean_allocator, release_memory
from graph.progress import stages
from graph.schema import FACT_TABLES, NODE_TABLES, conform
from graph.settings import get_settings
from graph.stage import Stage
from graph.store import GraphStore
from ingest.aliases import MERGED_REQUIRED, SENIORITY
from ingest.derive import derive_branches, derive_edge_tables, derive_managers, month_of
from ingest.load import load_table, read_ahead
from ingest.mapping import plan_bundle
from ingest.merge import (
    absorb_externals,
    check_refs,
    known_values,
    last_per_key,
    merge_facts,
    merge_nodes,
    node_frame,
    node_ids,
    resolve_facts,
)
from ingest.normalise import isin
from ingest.report import ROW_REJECTED, VALUE_KEPT, IngestSummary
from ingest.resolve import Resolver
from ingest.settings import IngestSettings
from ingest.validate import Context

__all__ = ["run_ingest", "IngestSummary", "IngestWatcher", "AfterCommit"]

log = logging.getLogger("prospect_graph.ingest")


class AfterCommit(Protocol):
    """What a watcher does once the new version is committed (still inside the writer lock).

    `tables` are the ingest's merged node and fact tables by name, read from the committed
    version when asked for (the ingest wrote each aside and let go of it); the derived `edges`,
    `edge_months` and `resolutions` a hook reads from the store. The hook may record counts in
    `summary` (e.g. `summary.alerts`).
    """

    def __call__(self, version: str, tables: Mapping[str, pd.DataFrame], summary: IngestSummary) -> None: ...


class IngestWatcher(Protocol):
    """Called inside the writer lock before the new version is written, the store at its old version:
    keeps what it needs of that state and returns the hook to run after the commit (or None)."""

    def __call__(self, store: GraphStore) -> AfterCommit | None: ...


def run_ingest(store: GraphStore, bundle: Path, mapping: Path | None = None,
               settings: IngestSettings | None = None,
               watchers: Sequence[IngestWatcher] = ()) -> IngestSummary:
    """Ingest a bundle folder (or a mapping YAML) into `store`; see the module docstring."""
    started = time.perf_counter()
    lean_allocator()
    settings = settings or get_settings().ingest
    bundle = Path(bundle)
    plan = plan_bundle(bundle, Path(mapping) if mapping else None)
    canonical = bundle.is_dir() and mapping is None and not (bundle / "mapping.yaml").is_file()
    if canonical and "enterprises" not in plan and store.read("enterprises").empty:
        # a delta bundle (payments only; payroll + persons …) resolves against the store's nodes
        raise NotFound(f"bundle {bundle} has no enterprises file (enterprises.csv, .xlsx or .parquet): "
                       "the first ingest of a store needs one")
    root = bundle if bundle.is_dir() else bundle.parent
    summary = IngestSummary()
    steps = [f"read {table}" for table in plan] + ["resolve and merge", "write tables", "derive edges",
                                                   "commit version"]
    with store.writer(), stages("ingest", steps) as step:
        ctx = Context(settings, store.secret("salt"), root=root, defer_fact_ids=True)
        loaded: dict[str, pd.DataFrame] = {}
        read: dict[str, int] = {}
        lap = time.perf_counter()
        in_order = list(plan.items())
        try:
            for number, (table, sources) in enumerate(in_order):
                step(f"read {table}")
                # the next tables' files are parsed while this one is validated
                read_ahead([later for _, later in in_order[number + 1:]], ctx)
                loaded[table], read[table], files = load_table(table, sources, ctx)
                release_memory()
                summary.files.extend(files)
            ctx.settle()  # the payments' last fact ids, hashed while the tables after them loaded
        finally:
            ctx.close()  # stopped early (a bad file, a cancel): the files read ahead are let go
        lap = _stage(summary, "read and validate", lap)
        step("resolve and merge")
        release_memory()  # each stage's garbage (raw columns, normalising copies) leaves RSS before the next
        # the watchers see the store as it was: nothing of the new version is visible before its commit
        hooks = [hook for hook in (watch(store) for watch in watchers) if hook is not None]
        # A staged write: each merged table is written aside as soon as it is final and let go of
        # (the fact tables inside `_merge`), the derived tables are built from what was written and
        # written aside in turn, and the version is committed once. The tables of the new version
        # are never all in memory at once.
        with store.stage(note=f"ingest {bundle.name}") as staged:
            # the resolver (its name indexes) ends with `_merge`, before the derive step's peak
            tables, report, fresh = _merge(store, loaded, ctx, settings, staged)
            loaded.clear()  # the merged tables hold what is kept: the loaded rows are not needed again
            tables["resolutions"] = _resolutions(store, report)
            lap = _stage(summary, "resolve and merge", lap)
            step("write tables")
            _put_changed(staged, store, tables)
            release_memory()
            writing = time.perf_counter() - lap
            lap = time.perf_counter()
            step("derive edges")
            derived = derive_edge_tables(staged.read, settings.own_bank_names, staged.parquet_file)
            for name in ("edge_months", "edges"):  # always written: rebuilt from every fact
                staged.put(name, derived.pop(name))
                release_memory()
            lap = _stage(summary, "derive edges", lap)
            step("commit version")
            version = staged.commit()
        _stage(summary, "write store version", lap - writing)  # the tables written aside and the commit
        committed = _Committed(store, [*NODE_TABLES, *FACT_TABLES])
        for hook in hooks:
            hook(version, committed, summary)
    rejected = ctx.rejects.rows_rejected()
    for table in plan:
        accepted = read[table] - rejected.get(table, 0)
        summary.by_table[table] = {"read": read[table], "accepted": accepted, "rejected": rejected.get(table, 0)}
    summary.rows_read = sum(read.values())
    summary.rejected = sum(rejected.get(t, 0) for t in plan)
    summary.accepted = summary.rows_read - summary.rejected
    actions = ctx.rejects.frame()["action"]
    summary.values_dropped = int((actions == "value dropped").sum())
    summary.warnings = int((actions == VALUE_KEPT).sum())
    summary.role_classes, summary.unrecognised_titles = _title_counts(ctx)
    summary.entities_resolved = int(len(report))
    summary.resolution_methods = {str(k): int(v) for k, v in report["method"].value_counts().items()}
    summary.version, summary.new_facts = version, fresh
    summary.ignored_columns = ctx.ignored
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.report_dir = _write_reports(store, version, ctx, report, summary)
    log.info("ingest of %s: %s rows read, %s accepted, %s rejected (version %s)", bundle.name,
             summary.rows_read, summary.accepted, summary.rejected, version)
    return summary


def _put_changed(staged: Stage, store: GraphStore, tables: dict[str, pd.DataFrame]) -> None:
    """Put each table whose content changed (the others are kept as they are by the commit),
    emptying `tables`: a table put is written aside and leaves memory. Several tables are put two
    at a time (Parquet encoding and fsync release the GIL, as in `NetworkxStore._commit`)."""

    def put(name: str) -> None:
        new = conform(name, tables.pop(name))
        if not new.equals(store.read(name)):
            staged.put(name, new)
        del new

    if len(tables) == 1:
        put(next(iter(tables)))
        return
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in pool.map(put, list(tables)):
            pass


class _Committed(Mapping[str, pd.DataFrame]):
    """The committed version's merged tables, read from the store when a hook asks for one."""

    def __init__(self, store: GraphStore, names: list[str]) -> None:
        self._store, self._names = store, names

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._names:
            raise KeyError(name)
        return self._store.read(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _stage(summary: IngestSummary, name: str, since: float) -> float:
    now = time.perf_counter()
    summary.stage_seconds[name] = round(now - since, 3)
    log.info("ingest stage %s: %.2fs", name, now - since)
    return now


def _merge(store: GraphStore, loaded: dict[str, pd.DataFrame], ctx: Context, settings: IngestSettings,
           staged: Stage) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, int]:
    """The stored node tables with the loaded rows merged in, the resolution report, the new facts.

    The merged fact tables are put in `staged` (written aside) rather than returned."""
    tables: dict[str, pd.DataFrame] = {t: store.read(t) for t in (*NODE_TABLES, *FACT_TABLES)}
    tables = {t: df.copy() for t, df in tables.items()}
    for table in NODE_TABLES:
        # popped (freed once merged) but enterprises, whose parent ids are checked at the end
        rows = loaded.get(table) if table == "enterprises" else loaded.pop(table, None)
        if rows is None or rows.empty:
            continue
        new = _named(table, node_frame(table, rows), tables[table], ctx)
        others = node_ids(tables, *[t for t in NODE_TABLES if t != table])
        clash = known_values(new["id"], others, distinct=True)  # a node table's ids
        if clash.any():
            for file, part in new[clash].groupby("_file", sort=False):
                ctx.rejects.add(table, str(file), part["_row"], "id", part["id"],
                                "id is already used by a node of another kind", "row rejected")
            new = new[~clash]
        tables[table] = merge_nodes(table, tables[table], new.drop(columns=["_file", "_row"], errors="ignore"))
    tables["enterprises"], _ = absorb_externals(tables["enterprises"], tables)
    others = node_ids(tables, "persons", "associations", "managers", "branches")
    resolver = Resolver(tables["enterprises"], settings, other_ids=others)
    enterprises = node_ids(tables, "enterprises")
    persons = node_ids(tables, "persons")
    facts: dict[str, pd.DataFrame] = {}

    rows = loaded.pop("payments", None)  # popped: the loaded rows are freed once merged
    if rows is not None and not rows.empty:
        rows = resolve_facts("payments", rows, "payer", resolver, ctx)
        rows = resolve_facts("payments", rows, "payee", resolver, ctx)
        rows["month"] = month_of(rows["paid_on"])
        facts["payments"] = rows
    rows = loaded.pop("bills", None)  # popped: the loaded rows are freed once merged
    if rows is not None and not rows.empty:
        rows = check_refs("bills", rows, "drawer_id", enterprises, ctx, "enterprise")
        rows = resolve_facts("bills", rows, "payee", resolver, ctx)
        facts["bills"] = rows
    rows = loaded.pop("endorsements", None)  # popped: the loaded rows are freed once merged
    if rows is not None and not rows.empty:
        bills = pd.concat([tables["bills"]["bill_id"].astype("string"),
                           facts.get("bills", pd.DataFrame({"bill_id": []}))["bill_id"].astype("string")])
        rows = check_refs("endorsements", rows, "bill_id", bills, ctx, "bill")
        rows = resolve_facts("endorsements", rows, "from", resolver, ctx, optional=True)
        rows = resolve_facts("endorsements", rows, "to", resolver, ctx)
        facts["endorsements"] = rows
    enterprises = pd.concat([enterprises, pd.Series(list(resolver.new_nodes), dtype="string")], ignore_index=True)
    rows = loaded.pop("roles", None)  # popped: the loaded rows are freed once merged
    if rows is not None and not rows.empty:
        rows = check_refs("roles", rows, "person_id", persons, ctx, "person")
        facts["roles"] = check_refs("roles", rows, "enterprise_id", enterprises, ctx, "enterprise")
    rows = loaded.pop("payroll", None)  # popped: the loaded rows are freed once merged
    if rows is not None and not rows.empty:
        rows = check_refs("payroll", rows, "employer_id", enterprises, ctx, "enterprise")
        facts["payroll"] = check_refs("payroll", rows, "person_id", persons, ctx, "person")
    rows = loaded.pop("memberships", None)  # popped: the loaded rows are freed once merged
    if rows is not None and not rows.empty:
        facts["memberships"] = _memberships(rows, tables, resolver, persons, ctx)

    if resolver.new_nodes:
        new = conform("enterprises", pd.DataFrame(list(resolver.new_nodes.values())))
        tables["enterprises"] = merge_nodes("enterprises", tables["enterprises"], new)
    fresh = 0
    # the payments last: every other fact table is written aside (and let go of) once merged, so
    # the biggest merge does not have them all in memory beside it
    for table in sorted(FACT_TABLES, key=lambda name: name == "payments"):
        rows = facts.pop(table, None)
        merged, n = tables.pop(table), 0
        if rows is not None:
            merged, n = merge_facts(table, merged, rows.drop(columns=[c for c in rows.columns if c.startswith("_")]))
            del rows
        if table == "memberships":
            merged = last_per_key(merged, ["association_id", "member_id"])
        fresh += n
        _put_changed(staged, store, {table: merged})
        del merged
    release_memory()
    new_ents = loaded.get("enterprises")
    if new_ents is not None and not new_ents.empty and "parent_id" in new_ents.columns:
        known = tables["enterprises"]["id"]
        dangling = new_ents["parent_id"].notna() & ~isin(new_ents["parent_id"].astype("string"), known)
        for file, part in new_ents[dangling].groupby("_file", sort=False):
            ctx.rejects.add("enterprises", str(file), part["_row"], "parent_id", part["parent_id"],
                            "parent_id names no known enterprise: no PARENT_OF edge until it is ingested",
                            "value kept")
    tables["branches"] = derive_branches(tables)
    tables["managers"] = derive_managers(tables)
    return tables, resolver.report(), fresh


def _named(table: str, new: pd.DataFrame, old: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Reject new nodes that no source (and not the store) gives a required field such as a name."""
    for col in MERGED_REQUIRED.get(table, ()):
        known = old.loc[old[col].notna(), "id"]
        missing = new[col].isna() & ~isin(new["id"], known)
        for file, part in new[missing].groupby("_file", sort=False):
            ctx.rejects.add(table, str(file), part["_row"], col, part["id"],
                            f"no source gives {table} id {col}: the {col} is required (in this or another source, "
                            "or already in the store)", ROW_REJECTED)
        new = new[~missing]
    return new


def _title_counts(ctx: Context) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per role class (most senior first) and the titles kept as `other` with their rows."""
    if not ctx.titles:
        return {}, {}
    counts = pd.concat(ctx.titles).groupby(level=[0, 1], dropna=False).sum()
    by_role = counts.groupby(level=0).sum()
    order = [r for r in SENIORITY["role"] if r in by_role.index]
    other = counts[counts.index.get_level_values(0) == "other"].droplevel(0).sort_values(ascending=False, kind="stable")
    # one line per title whatever its case ("See Remarks" / "See remarks"), named by its commonest spelling
    spelling = pd.Series(other.index.astype(str), index=other.index)
    folded = spelling.str.casefold().str.split().str.join(" ").to_numpy()
    grouped = other.groupby(folded, sort=False).sum().sort_values(ascending=False, kind="stable")
    shown = spelling.groupby(folded, sort=False).first()
    return ({r: int(by_role[r]) for r in order}, {str(shown[k]): int(n) for k, n in grouped.items()})


def _memberships(rows: pd.DataFrame, tables: dict[str, pd.DataFrame], resolver: Resolver, persons: pd.Series,
                 ctx: Context) -> pd.DataFrame:
    rows = check_refs("memberships", rows, "association_id", node_ids(tables, "associations"), ctx, "association")
    is_person = rows["member_kind"].astype("string") == "person"
    people = check_refs("memberships", rows[is_person], "member_id", persons, ctx, "person")
    firms = resolve_facts("memberships", rows[~is_person], "member", resolver, ctx)
    return pd.concat([people, firms], ignore_index=True)


def _resolutions(store: GraphStore, report: pd.DataFrame) -> pd.DataFrame:
    old = store.read("resolutions")
    new = conform("resolutions", report)
    if new.empty:
        return old
    merged = pd.concat([old, new], ignore_index=True).drop_duplicates("source_name", keep="last")
    return merged.reset_index(drop=True)


def _write_reports(store: GraphStore, version: str, ctx: Context, resolutions: pd.DataFrame,
                   summary: IngestSummary) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = store.reports_dir / f"{version}-{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    rejects = ctx.rejects.frame()
    limit = ctx.settings.max_rejects_logged
    rejects.head(limit).to_csv(folder / "rejects.csv", index=False, encoding="utf-8-sig")
    resolutions.to_csv(folder / "resolutions.csv", index=False, encoding="utf-8-sig")
    summary.report_dir = folder
    data = summary.to_dict()
    counts = rejects.groupby(["table", "reason"]).size() if len(rejects) else pd.Series(dtype="int64")
    data["reasons"] = {": ".join(str(part) for part in key) if isinstance(key, tuple) else str(key): int(n)
                       for key, n in counts.items()}
    (folder / "summary.json").write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str),
                                         encoding="utf-8")
    return folder

