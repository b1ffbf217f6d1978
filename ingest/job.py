"""The ingest job: bundle → validated rows → resolved, merged store version + reports.

`run_ingest` takes the store's writer lock, reads the bundle's tables one at a time (the node
tables first, then the fact tables in `ingest.facts.FACT_ORDER`), validates them, merges the
node tables with the store's, resolves, checks and merges each fact table right after it is
read (`ingest.facts.Merger`), rebuilds the derived edges and commits all tables as ONE new
version (`GraphStore.stage`): each table is written aside as soon as it is final and let go of
(so the loaded tables are never all in memory at once), the derived edges are built from what
was written, and the version is swapped in only at the commit, so an ingest that fails, is
cancelled or is killed leaves the previous version in use and no half version visible. The
rejects report, the resolution report and a JSON summary go to
``store.reports_dir/<version>-<time>/``.

Whatever should follow a committed ingest (the alerts and the campaign tracking of `leads`)
is passed in as `watchers` (`IngestWatcher`): ingest imports only `graph`, so it knows no
more of them than this protocol. Each watcher looks at the store inside the writer lock, once
the node tables are read and merged and before the first table of the new version is written
aside (the store is still at its old version), and returns what to do once the new version is
committed.

Example:
    >>> from leads.watchers import INGEST_WATCHERS                           # doctest: +SKIP
    >>> summary = run_ingest(store, Path("bundle"), watchers=INGEST_WATCHERS)  # doctest: +SKIP
    >>> print(summary.render())                                             # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd

from graph.errors import InvalidMapping, NotFound
from graph.memory import lean_allocator, release_memory
from graph.progress import stages
from graph.schema import FACT_TABLES, NODE_TABLES, conform
from graph.settings import get_settings
from graph.store import GraphStore
from ingest.columns import guess_tables
from ingest.derive import EdgesAhead, edge_parts
from ingest.facts import Merger, read_order
from ingest.formats import why_unreadable
from ingest.load import load_table, read_ahead
from ingest.mapping import Source, plan_bundle, source_files, unread_files
from ingest.readers import peek_headers
from ingest.repeats import BY_FILE, Repeats
from ingest.report import VALUE_KEPT, IngestSummary, unread_text, write_report_csv
from ingest.settings import IngestSettings
from ingest.validate import Context
from ingest.values import SENIORITY

__all__ = ["run_ingest", "IngestSummary", "IngestWatcher", "AfterCommit"]

log = logging.getLogger("prospect_graph.ingest")

# the payments are held resolved (their ids hashed meanwhile) while the smaller fact tables after
# them are read, and written before these are read (`Merger.flush`)
_BIG_FACTS = ("payroll",)


class AfterCommit(Protocol):
    """What a watcher does once the new version is committed (still inside the writer lock).

    `tables` are the ingest's merged node and fact tables by name, read from the committed
    version when asked for (the ingest wrote each aside and let go of it); the derived `edges`
    and `resolutions` a hook reads from the store. The hook may record counts in
    `summary` (e.g. `summary.alerts`).
    """

    def __call__(self, version: str, tables: Mapping[str, pd.DataFrame], summary: IngestSummary) -> None: ...


class IngestWatcher(Protocol):
    """Called inside the writer lock before the new version is written, the store at its old version:
    keeps what it needs of that state and returns the hook to run after the commit (or None)."""

    def __call__(self, store: GraphStore) -> AfterCommit | None: ...


# the per-file notes `Context` and `IngestSummary` both carry
_PER_FILE = ("amount_units", "header_rows", "statements", "statement_holders", "statement_signs", "joined_headers",
             "excel_text")


def _unread(folder: Path, plan: dict[str, list[Source]]) -> tuple[dict[str, list[str]], dict[str, str], int]:
    """Each data file of the folder no table reads → the tables its headers look like (the first
    `_UNREAD_SHOWN` files, each peeked at), why a file no reader takes is not read
    (`ingest.formats.why_unreadable`), and how many more there are."""
    files = unread_files(folder, plan)
    shown = {path.relative_to(folder).as_posix(): path for path in files[:_UNREAD_SHOWN]}
    reasons = {name: why for name, path in shown.items() if (why := why_unreadable(path))}
    return ({name: [] if name in reasons else next((t for h in peek_headers(path) if (t := guess_tables(h))), [])
             for name, path in shown.items()},  # a workbook: its first sheet that looks like a table
            reasons, max(0, len(files) - _UNREAD_SHOWN))


_UNREAD_SHOWN = 20


def _looks_text(unread: dict[str, list[str]], reasons: dict[str, str]) -> str:
    return ", ".join(unread_text(name, tables, reasons.get(name)) for name, tables in unread.items())


def _planned_files(plan: dict[str, list[Source]]) -> list[Path]:
    """The files the plan names for the tables told apart by file (`repeats.BY_FILE`), in its
    order (a source that names none is left to its turn)."""
    out: list[Path] = []
    for sources in (plan.get(table, []) for table in BY_FILE):
        for source in sources:
            with contextlib.suppress(InvalidMapping, OSError):
                out += source_files(source)
    return out


def run_ingest(store: GraphStore, bundle: Path, mapping: Path | None = None,
               settings: IngestSettings | None = None,
               watchers: Sequence[IngestWatcher] = ()) -> IngestSummary:
    """Ingest a bundle folder (or a mapping YAML) into `store`; see the module docstring."""
    started = time.perf_counter()
    lean_allocator()
    settings = settings or get_settings().ingest
    bundle = Path(bundle)
    try:
        plan = plan_bundle(bundle, Path(mapping) if mapping else None)
    except NotFound as exc:
        if not bundle.is_dir():
            raise
        looks, reasons, _ = _unread(bundle, {})
        raise NotFound(f"{exc}" + (f"; its files: {_looks_text(looks, reasons)}" if looks else "")) from None
    canonical = bundle.is_dir() and mapping is None and not (bundle / "mapping.yaml").is_file()
    if canonical and "enterprises" not in plan and store.read("enterprises").empty:
        # a delta bundle (payments only; payroll + persons …) resolves against the store's nodes
        raise NotFound(f"bundle {bundle} has no enterprises file (enterprises.csv, .xlsx, .xls or .parquet): "
                       "the first ingest of a store needs one")
    root = bundle if bundle.is_dir() else bundle.parent
    summary = IngestSummary()
    summary.unread_files, summary.unread_reasons, summary.unread_more = _unread(root, plan)
    if summary.unread_files:
        log.info("files not read: %s", _looks_text(summary.unread_files, summary.unread_reasons))
    in_order = [(table, plan[table]) for table in read_order(list(plan))]
    steps = [f"read {table}" for table, _ in in_order] + ["resolve and merge", "write tables", "derive edges",
                                                          "commit version"]
    hooks: list[AfterCommit] = []

    def look() -> None:  # the watchers see the store as it was: nothing of the new version is visible yet
        release_memory()
        hooks.extend(hook for hook in (watcher(store) for watcher in watchers) if hook is not None)

    # A staged write: each merged table is written aside as soon as it is final and let go of (each
    # fact table right after it is read, `ingest.facts`), the derived tables are built from what was
    # written and written aside in turn, and the version is committed once. Neither the loaded nor
    # the merged tables are ever all in memory at once.
    with store.writer(), stages("ingest", steps) as step:
        ctx = Context(settings, store.secret("salt"), root=root, defer_fact_ids=True)
        repeats = Repeats(store, _planned_files(plan), ctx.label)  # a file delivered twice is read once
        ctx.skip = set(repeats.skipped)
        ctx.by_reference = repeats.by_reference
        summary.repeated_files = repeats.shown()
        with contextlib.closing(repeats), store.stage(note=f"ingest {bundle.name}") as staged, \
                Merger(store, ctx, settings, staged, before_first_put=look) as merger, EdgesAhead() as ahead:
            loaded: dict[str, pd.DataFrame] = {}  # the node tables until merged; a fact table until taken
            read: dict[str, int] = {}
            files: dict[str, list[str]] = {}
            reading = merging = 0.0
            try:
                for number, (table, sources) in enumerate(in_order):
                    step(f"read {table}")
                    lap = time.perf_counter()
                    if table in _BIG_FACTS:  # the payments merged and written before the next big table is read
                        merger.flush()
                        # and their edges (with those of the other fact tables written) derived meanwhile
                        ahead.start(merger.done, staged.read, settings.own_bank_names, staged.parquet_file)
                    merging += time.perf_counter() - lap
                    lap = time.perf_counter()
                    # the next tables' files are parsed while this one is validated
                    read_ahead([later for _, later in in_order[number + 1:]], ctx)
                    loaded[table], read[table], files[table] = load_table(table, sources, ctx)
                    release_memory()
                    reading += time.perf_counter() - lap
                    lap = time.perf_counter()
                    if table not in NODE_TABLES:
                        if merger.resolver is None:  # the first fact table: every node table is read
                            merger.nodes(loaded)
                        # the payments' last fact ids are hashed while their counterparties are resolved
                        merger.take(table, loaded, settle=_settle(ctx) if table == "payments" else None)
                    merging += time.perf_counter() - lap
                # the fact tables read last (the payroll) are final: their edges are derived
                # meanwhile, beside the merge's end and the node tables' writing
                ahead.start(merger.done, staged.read, settings.own_bank_names, staged.parquet_file)
                lap = time.perf_counter()
                ctx.settle()
                reading += time.perf_counter() - lap
            finally:
                ctx.close()  # stopped early (a bad file, a cancel): the files read ahead are let go
            summary.stage_seconds["read and validate"] = round(reading, 3)
            summary.files = [f for table in plan for f in files[table]]
            step("resolve and merge")
            lap = time.perf_counter()
            if merger.resolver is None:  # no fact table in the bundle
                merger.nodes(loaded)
            tables, report, fresh = merger.finish()  # the resolver (its name indexes) ends here
            tables["resolutions"] = _resolutions(store, report)
            report = conform("resolutions", report)  # its text as Arrow, not a Python object per name (20M: 2.5M names)
            merging += time.perf_counter() - lap
            summary.stage_seconds["resolve and merge"] = round(merging, 3)
            log.info("ingest stages read and validate %.2fs, resolve and merge %.2fs", reading, merging)
            lap = time.perf_counter()
            step("write tables")
            merger.put(tables)  # the node tables (the watchers look first if no fact table was put)
            release_memory()
            writing = time.perf_counter() - lap
            lap = time.perf_counter()
            step("derive edges")
            # always written, rebuilt from every fact: each part written while the next is made
            staged.put_parts("edges", edge_parts(staged.read, settings.own_bank_names, staged.parquet_file, ahead))
            release_memory()
            lap = _stage(summary, "derive edges", lap)
            step("commit version")
            version = staged.commit()
            repeats.record(version)
            _stage(summary, "write store version", lap - writing)  # the node tables written aside and the commit
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
    summary.ignored_columns = {f: ctx.ignored[f] for f in summary.files if f in ctx.ignored}  # in the plan's order
    summary.ignored_columns.update(ctx.ignored)
    for name in _PER_FILE:  # what the loading noted per file, in the plan's order
        noted = getattr(ctx, name)
        setattr(summary, name, {f: noted[f] for f in summary.files if f in noted})
    summary.unread_sheets = dict(ctx.unread_sheets)
    summary.hidden_sheets = dict(ctx.hidden_sheets)
    summary.named_ids = dict(ctx.named_ids)
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.report_dir = _write_reports(store, version, ctx, report, summary)
    log.info("ingest of %s: %s rows read, %s accepted, %s rejected (version %s)", bundle.name,
             summary.rows_read, summary.accepted, summary.rejected, version)
    return summary


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


def _settle(ctx: Context) -> Callable[[], None]:
    """What `Context.settle` finishes (the payments' last fact ids), leaving the read-ahead thread on."""

    def settle() -> None:
        while ctx.pending:
            ctx.pending.pop(0)()

    return settle


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
    write_report_csv(rejects.head(limit), folder / "rejects.csv")
    write_report_csv(resolutions, folder / "resolutions.csv")
    summary.report_dir = folder
    data = summary.to_dict()
    counts = rejects.groupby(["table", "reason"]).size() if len(rejects) else pd.Series(dtype="int64")
    data["reasons"] = {": ".join(str(part) for part in key) if isinstance(key, tuple) else str(key): int(n)
                       for key, n in counts.items()}
    (folder / "summary.json").write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str),
                                         encoding="utf-8")
    return folder

