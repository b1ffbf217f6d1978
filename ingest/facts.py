"""Each table of an ingest merged in its turn: the nodes once read, then each fact table as it is read.

`run_ingest` (ingest.job) reads the node tables first and the fact tables after them in
`FACT_ORDER`: the facts whose counterparties can create enterprises (payments, bills,
endorsements, resolved in that order) before those checked against the enterprises (roles,
payroll; memberships resolve their firms after the endorsements). `Merger.nodes` merges the
node tables with the store's and builds the `Resolver`; `Merger.take` resolves and checks each
fact table right after it is read, merges it with the store's and writes it aside
(`GraphStore.stage`), so the loaded fact tables are never all in memory at once: the biggest
(payments, payroll) each meets only the node tables. `Merger.finish` merges the new external
enterprises and derives the branches and managers. The outputs (tables, rejects, resolutions)
are those of merging every table after reading them all: each table's rejects and decisions
come in the same order, and the roles and payroll are checked against the enterprises known
after the endorsements, as before.

Example:
    >>> merger = Merger(store, ctx, settings, staged, watchers)             # doctest: +SKIP
    >>> merger.nodes(loaded_nodes); merger.take("payments", rows)            # doctest: +SKIP
    >>> tables, report, fresh = merger.finish()                              # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

import pandas as pd
import pyarrow.compute as pc

from graph.arrays import one_array
from graph.memory import release_memory
from graph.schema import FACT_TABLES, NODE_TABLES, conform
from graph.stage import Stage
from graph.store import GraphStore
from ingest.aliases import MERGED_REQUIRED
from ingest.arrow_text import from_arrow, to_arrow
from ingest.derive import derive_branches, derive_managers, month_of
from ingest.merge import (
    absorb_externals,
    check_refs,
    known_values,
    last_per_key,
    merge_facts,
    merge_nodes,
    node_frame,
    node_ids,
    remap_facts,
    resolve_facts,
)
from ingest.normalise import isin
from ingest.report import ROW_REJECTED
from ingest.resolve import Resolver
from ingest.settings import IngestSettings
from ingest.validate import Context

__all__ = ["Merger", "FACT_ORDER", "read_order", "put_changed"]

# the order fact tables are read and merged in: the three that resolve counterparties (and so
# can create external enterprises) first, in the order they resolve; then those checked against
# the enterprises known after them (memberships resolve their firms after the endorsements)
FACT_ORDER = ("payments", "bills", "endorsements", "roles", "memberships", "payroll")
_CHECKED = ("roles", "memberships", "payroll")  # checked against the enterprises after the endorsements


def read_order(tables: Sequence[str]) -> list[str]:
    """The bundle's tables in the order they are read: the node tables as planned, then the facts
    in `FACT_ORDER`."""
    nodes = [t for t in tables if t in NODE_TABLES]
    return nodes + [t for t in FACT_ORDER if t in tables] + [t for t in tables if t not in nodes
                                                               and t not in FACT_ORDER]


def put_changed(staged: Stage, store: GraphStore, tables: dict[str, pd.DataFrame]) -> None:
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


class Merger:
    """The merge of one ingest, table by table (see the module docstring).

    `before_first_put` runs once, before anything of the new version is written aside (the
    ingest's watchers look at the store there, as it was).
    """

    def __init__(self, store: GraphStore, ctx: Context, settings: IngestSettings, staged: Stage,
                 before_first_put: Callable[[], None]) -> None:
        self.store, self.ctx, self.settings, self.staged = store, ctx, settings, staged
        self._before_first_put: Callable[[], None] | None = before_first_put
        self.tables: dict[str, pd.DataFrame] = {}  # the merged node tables
        self.new_enterprises: pd.DataFrame | None = None  # the loaded enterprise rows (parent ids)
        self.resolver: Resolver | None = None
        self.remap: dict[str, str] = {}  # stored externals folded into a listed enterprise
        self.fresh = 0
        self.done: list[str] = []  # the fact tables merged and written, in order
        self._writer: ThreadPoolExecutor | None = None
        self._writing: Future[None] | None = None  # a table being put aside (`put`)
        # the resolved payments waiting for their fact ids: (table, rows, loaded rows, settle)
        self._held: tuple[str, pd.DataFrame | None, pd.DataFrame | None, Callable[[], None]] | None = None
        self._persons: pd.Series | None = None
        self._enterprises: pd.Series | None = None  # the enterprise ids the checked facts are checked against
        self._bill_ids: list[pd.Series] = []

    # ------------------------------------------------------------------ nodes
    def nodes(self, loaded: dict[str, pd.DataFrame]) -> None:
        """Merge the loaded node tables (popped from `loaded`) with the store's; build the resolver."""
        tables = {t: self.store.read(t).copy() for t in NODE_TABLES}
        rows = loaded.get("enterprises")
        if rows is not None and "parent_id" in rows.columns:  # the parent ids are checked at the end
            self.new_enterprises = rows[["parent_id", "_file", "_row"]]
        for table in NODE_TABLES:
            rows = loaded.pop(table, None)
            if rows is None or rows.empty:
                continue
            new = _named(table, node_frame(table, rows), tables[table], self.ctx)
            others = node_ids(tables, *[t for t in NODE_TABLES if t != table])
            clash = known_values(new["id"], others)  # a node table's ids
            if clash.any():
                for file, part in new[clash].groupby("_file", sort=False):
                    self.ctx.rejects.add(table, str(file), part["_row"], "id", part["id"],
                                         "id is already used by a node of another kind", "row rejected")
                new = new[~clash]
            tables[table] = merge_nodes(table, tables[table], new.drop(columns=["_file", "_row"], errors="ignore"))
        tables["enterprises"], self.remap = absorb_externals(tables["enterprises"])
        others = node_ids(tables, "persons", "associations", "managers", "branches")
        self.resolver = Resolver(tables["enterprises"], self.settings, other_ids=others)
        self._persons = node_ids(tables, "persons")
        # the persons are final: written aside now, and of them only what the branches and
        # managers are derived from kept
        persons = tables["persons"]
        tables["persons"] = persons[["id", "branch_id", "manager_id"]]
        self.put({"persons": persons}, aside=True)
        del persons
        self.tables = tables

    # ------------------------------------------------------------------ facts
    def take(self, table: str, loaded: dict[str, pd.DataFrame], settle: Callable[[], None] | None = None) -> None:
        """Resolve and check the loaded fact table `table` (popped from `loaded`: freed once merged),
        merge it with the store's and write it aside.

        With `settle` (the payments' last fact ids, `Context.settle`, hashed on another thread) the
        resolved rows are held until `flush`, which settles the ids (set on the loaded rows, whose
        ids the resolved rows take) and merges them: the hashing goes on while the counterparties
        are resolved and the small fact tables after them are read."""
        resolver, ctx = self.resolver, self.ctx
        assert resolver is not None and self._persons is not None, "the node tables are merged first"
        rows: pd.DataFrame | None = loaded.pop(table)
        given = rows
        if rows is not None and not rows.empty:
            if table == "payments":
                rows = resolve_facts("payments", rows, "payer", resolver, ctx)
                rows = resolve_facts("payments", rows, "payee", resolver, ctx)
                rows["month"] = month_of(rows["paid_on"])
            elif table == "bills":
                enterprises = node_ids(self.tables, "enterprises")  # the externals of the payments not among them
                rows = check_refs("bills", rows, "drawer_id", enterprises, ctx, "enterprise")
                rows = resolve_facts("bills", rows, "payee", resolver, ctx)
                self._bill_ids.append(rows["bill_id"].astype("string"))
            elif table == "endorsements":
                bills = pd.concat([self.store.read("bills")["bill_id"].astype("string"),
                                   *(self._bill_ids or [pd.Series([], dtype="string")])])
                rows = check_refs("endorsements", rows, "bill_id", bills, ctx, "bill")
                rows = resolve_facts("endorsements", rows, "from", resolver, ctx, optional=True)
                rows = resolve_facts("endorsements", rows, "to", resolver, ctx)
            elif table == "roles":
                rows = check_refs("roles", rows, "person_id", self._persons, ctx, "person")
                rows = check_refs("roles", rows, "enterprise_id", self._checked_against(), ctx, "enterprise",
                                  by_name=self._ids_of_names("roles.enterprise_id"))
            elif table == "payroll":
                rows = check_refs("payroll", rows, "employer_id", self._checked_against(), ctx, "enterprise",
                                  by_name=self._ids_of_names("payroll.employer_id"))
                rows = check_refs("payroll", rows, "person_id", self._persons, ctx, "person")
            elif table == "memberships":
                self._checked_against()  # before the members' names add enterprises
                rows = self._memberships(rows)
        else:
            rows = None
        if settle is not None:
            self._held = (table, rows, given, settle)
            return
        del given
        self._write(table, rows)

    def flush(self) -> None:
        """Merge and write the fact table `take` held until its fact ids are settled (if any)."""
        if self._held is None:
            return
        table, rows, given, settle = self._held
        self._held = None
        settle()
        if rows is not None and given is not None and "fact_id" in given.columns and "fact_id" not in rows.columns:
            rows["fact_id"] = given["fact_id"].loc[rows.index]
        del given
        self._write(table, rows)

    def _ids_of_names(self, column: str) -> Callable[[pd.Series], pd.Series]:
        """For `check_refs`: the enterprise id of each unknown value that is an enterprise's name
        (as normalised), NA where none. A payroll export's 代发单位, or a roles export's 企业, is
        most often the company's name. Exact names only (no fuzzy match, no new enterprise), one
        look-up per distinct value; the values so read are counted (`Context.named_ids`)."""
        def ids(values: pd.Series) -> pd.Series:
            assert self.resolver is not None
            asked = pc.dictionary_encode(one_array(to_arrow(values)))  # rows of several files: chunked
            found = from_arrow(self.resolver.ids_by_name(asked.dictionary).take(asked.indices), values.index)
            if (hit := int(found.notna().sum())):
                self.ctx.named_ids[column] = self.ctx.named_ids.get(column, 0) + hit
            return found
        return ids

    def _checked_against(self) -> pd.Series:
        """The enterprise ids known after the endorsements (stored, loaded, and new externals)."""
        if self._enterprises is None:
            assert self.resolver is not None
            self._enterprises = pd.concat([node_ids(self.tables, "enterprises"),
                                           pd.Series(list(self.resolver.new_nodes), dtype="string")],
                                          ignore_index=True)
        return self._enterprises

    def _memberships(self, rows: pd.DataFrame) -> pd.DataFrame:
        assert self.resolver is not None and self._persons is not None
        ctx = self.ctx
        rows = check_refs("memberships", rows, "association_id", node_ids(self.tables, "associations"), ctx,
                          "association")
        is_person = rows["member_kind"].astype("string") == "person"
        people = check_refs("memberships", rows[is_person], "member_id", self._persons, ctx, "person")
        firms = resolve_facts("memberships", rows[~is_person], "member", self.resolver, ctx)
        return pd.concat([people, firms], ignore_index=True)

    def _write(self, table: str, rows: pd.DataFrame | None) -> None:
        """The store's rows of `table` (its folded externals remapped) with `rows` merged in, written aside."""
        merged = remap_facts(table, self.store.read(table), self.remap)
        n = 0
        if rows is not None:
            merged, n = merge_facts(table, merged, rows.drop(columns=[c for c in rows.columns if c.startswith("_")]))
            del rows
        if table == "memberships":
            merged = last_per_key(merged, ["association_id", "member_id"])
        self.fresh += n
        self.put({table: merged})
        del merged
        self.done.append(table)
        release_memory()

    def put(self, tables: dict[str, pd.DataFrame], aside: bool = False) -> None:
        """`put_changed`, after the watchers have looked at the store (once, before the first put).

        `aside`: on a thread of its own while the ingest goes on (the persons, written while the
        fact tables are read: Parquet encoding frees the GIL); `finish` waits for it."""
        if self._before_first_put is not None:
            self._before_first_put()
            self._before_first_put = None
        if not aside:
            put_changed(self.staged, self.store, tables)
            return
        self.wait()
        self._writer = self._writer or ThreadPoolExecutor(max_workers=1, thread_name_prefix="put-aside")
        self._writing = self._writer.submit(put_changed, self.staged, self.store, tables)

    def wait(self) -> None:
        """Wait for the table put aside (its error raised here)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def __enter__(self) -> Merger:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        """Wait for a table being put aside before the stage ends (a failed ingest's stage is then
        thrown away whole); its own error is raised only if nothing else went wrong."""
        try:
            if error is None:
                self.wait()
            elif self._writing is not None:
                concurrent.futures.wait([self._writing])
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None

    # ----------------------------------------------------------------- finish
    def finish(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, int]:
        """The merged node tables (not yet written), the resolution report and the new facts, once
        every loaded fact table is taken: the fact tables the bundle has not are written as stored
        (their folded externals remapped)."""
        self.flush()
        for table in FACT_TABLES:
            if table not in self.done:
                self._write(table, None)
        resolver, tables = self.resolver, self.tables
        assert resolver is not None
        if resolver.new_nodes:
            new = conform("enterprises", pd.DataFrame(list(resolver.new_nodes.values())))
            tables["enterprises"] = merge_nodes("enterprises", tables["enterprises"], new)
        new_ents = self.new_enterprises
        self.new_enterprises = None
        if new_ents is not None and not new_ents.empty:
            known = tables["enterprises"]["id"]
            dangling = new_ents["parent_id"].notna() & ~isin(new_ents["parent_id"].astype("string"), known)
            for file, part in new_ents[dangling].groupby("_file", sort=False):
                self.ctx.rejects.add("enterprises", str(file), part["_row"], "parent_id", part["parent_id"],
                                     "parent_id names no known enterprise: no PARENT_OF edge until it is ingested",
                                     "value kept")
        tables["branches"] = derive_branches(tables)
        tables["managers"] = derive_managers(tables)
        del tables["persons"]  # written aside by `nodes`
        self.wait()
        self.tables, self.resolver, self._persons, self._enterprises, self._bill_ids = {}, None, None, None, []
        return tables, resolver.report(), self.fresh


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
