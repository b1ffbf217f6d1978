"""A store version built one table at a time (`GraphStore.stage`), committed in one step.

A long job (an ingest of millions of payments) need not hold every table of the new version
at once: it `put`s each table as soon as it is final and lets go of it, reads the put tables
back where a later step needs them (`read`, Arrow in the stored schema: DuckDB scans it), and
`commit`s once. Until `commit` nothing of the new version is visible; an error (or `abort`, or
leaving the `with` block without a commit) throws the put tables away, and a killed process
leaves only what a killed `GraphStore.write` leaves (a temporary folder nobody reads).

By default the put tables are held in memory and committed with the backend's `_commit`, as
one `write` would (Neo4j plans its deltas from them). The embedded store writes each put table
aside at once, as Parquet in the new version's folder (`graph.networkx_store`), so a put table
leaves memory.

Example:
    >>> with store.stage("ingest") as stage:                           # doctest: +SKIP
    ...     stage.put("payments", payments); del payments
    ...     edges = derive(stage.read)          # reads the put payments back, as Arrow
    ...     stage.put("edges", edges)
    ...     version = stage.commit()
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, final

import pandas as pd
import pyarrow as pa

from graph.errors import NotFound
from graph.schema import TABLES, TableData, arrow_schema, conform

if TYPE_CHECKING:
    from graph.store import GraphStore

__all__ = ["Stage", "arrow_columns"]


class Stage:
    """A new version being built: tables put one at a time, committed together or not at all."""

    def __init__(self, store: GraphStore, note: str) -> None:
        self.store = store
        self.note = note
        self.names: list[str] = []  # the tables put so far, in order
        self._held: dict[str, TableData] = {}
        self._done = False

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.abort()  # after a commit: nothing to do

    # ------------------------------------------------------------ public
    @final
    def put(self, name: str, data: TableData) -> None:
        """Make `data` the new version's table `name` (conformed and validated like `write`)."""
        self._open()
        checked = self.store._checked(name, data)
        self._put(name, checked)
        if name not in self.names:
            self.names.append(name)

    @final
    def put_parts(self, name: str, parts: Iterable[TableData]) -> None:
        """Make the parts, one after the other, the new version's table `name` (each conformed
        and validated like `write`), taking each part as soon as it is made: the embedded store
        writes each part while the next is made (`graph.networkx_store`)."""
        self._open()
        self._put_parts(name, (self.store._checked(name, part) for part in parts))
        if name not in self.names:
            self.names.append(name)

    @final
    def read(self, name: str, columns: Iterable[str] | None = None) -> pa.Table:
        """Columns of table `name` as the new version will hold them (put here, else the current
        version's), as Arrow in the stored schema."""
        if name not in TABLES:
            raise NotFound(f"unknown table {name!r}")
        self._open()
        wanted = list(TABLES[name].columns) if columns is None else list(columns)
        return self._read_put(name, wanted) if name in self.names else self._read_kept(name, wanted)

    @final
    def parquet_file(self, name: str) -> Path | None:
        """The Parquet file that `read(name)` reads (put here, else the current version's), where
        the backend keeps each table as one file, so DuckDB can scan it without the table being
        held in memory; None otherwise. Its columns are those it was written with (a file written
        before a column existed lacks it): `read` conforms them, a scan of the file does not."""
        if name not in TABLES:
            raise NotFound(f"unknown table {name!r}")
        self._open()
        return self._parquet_file(name, put=name in self.names)

    @final
    def commit(self) -> str:
        """Make the new version current (put tables replaced, the others kept); its id."""
        self._open()
        self._done = True  # committed or, if the commit fails, thrown away: never committed twice
        try:
            version = self._commit()
        except BaseException:
            self._abort()
            raise
        self.store._forget(self.names)
        return version

    @final
    def abort(self) -> None:
        """Throw the put tables away (nothing of them was ever visible)."""
        if not self._done:
            self._done = True
            self._abort()

    def _open(self) -> None:
        if self._done:
            raise RuntimeError("this stage is committed or aborted: start a new one")

    # ------------------------------------------- hooks (default: in memory)
    def _put(self, name: str, data: TableData) -> None:
        self._held[name] = data

    def _put_parts(self, name: str, parts: Iterator[TableData]) -> None:
        arrow = [part if isinstance(part, pa.Table) else arrow_columns(name, part, list(TABLES[name].columns))
                 for part in parts]
        self._put(name, pa.concat_tables(arrow) if arrow else arrow_schema(name).empty_table())

    def _read_put(self, name: str, columns: list[str]) -> pa.Table:
        return arrow_columns(name, self._held[name], columns)

    def _read_kept(self, name: str, columns: list[str]) -> pa.Table:
        return arrow_columns(name, self.store.read(name, columns), columns)

    def _parquet_file(self, name: str, put: bool) -> Path | None:
        return None

    def _commit(self) -> str:
        held, self._held = self._held, {}
        return self.store._commit(held, self.note)

    def _abort(self) -> None:
        self._held.clear()


def arrow_columns(name: str, data: TableData, columns: list[str]) -> pa.Table:
    """`columns` of a table given as a DataFrame or an Arrow table, as Arrow in the stored schema
    (columns the data lacks are nulls)."""
    schema = arrow_schema(name)
    fields = [schema.field(col) for col in columns]
    if isinstance(data, pd.DataFrame):
        frame = conform(name, data)[columns]
        return pa.Table.from_pandas(frame, schema=pa.schema(fields), preserve_index=False)
    arrays = [data.column(f.name).cast(f.type) if f.name in data.column_names else pa.nulls(data.num_rows, f.type)
              for f in fields]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
