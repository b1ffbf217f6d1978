"""The node index and the adjacency index of a store version, kept on disk and memory-mapped.

Both are derived from tables that never change once written (a version's Parquet files are
immutable), so they are built once per table content and written to ``STORE/cache/``:

    STORE/cache/adjacency-<key>/   *.npy (flat arrays), edges.arrow (the rows less their ends and kind:
                                   `graph.adjacency.row_table`; Arrow IPC, uncompressed)
    STORE/cache/nodes-<key>/       keys.npy, table.npy, pos.npy, <node table>.arrow

`<key>` hashes the store's identity and the content token of the tables they come from
(`GraphStore._table_token`), so a score run (which writes only `prospects`) keeps both, and a
store made again at the same path never reads another store's cache. Folders are written aside
and renamed into place, so a reader sees a whole cache or none; a process that finds one
memory-maps it (milliseconds, shared by every process serving the store) instead of reading
and sorting millions of rows. Anything unreadable is rebuilt; a read-only store keeps its
indexes in memory only. The newest `KEEP` folders of each kind are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from graph.adjacency import (
    ARRAYS,
    ROW_COLUMNS,
    Adjacency,
    encode_arrow_ids,
    index_arrays,
    lookup,
    row_table,
    take_rows,
)
from graph.lru import Lru
from graph.schema import NODE_TABLES, arrow_schema, conform, conform_arrow

if TYPE_CHECKING:
    from graph.store import GraphStore

__all__ = ["NodeIndex", "load_adjacency", "load_node_index", "load_arrow", "load_file", "warm", "warm_graph", "stored_arrow", "CACHE_DIR",
           "GRAPH_CACHES", "copy_aside"]

CACHE_DIR = "cache"
# bump when the layout changes: older folders are then ignored (2: prospects nested; 3: the
# adjacency's edge rows without their ends and kind)
FORMAT = 3
KEEP = 4
ROW_MEMORY = 20_000  # node rows remembered per index (a few MiB)
# memory-mapped tables of `load_arrow` kept open in this process, by cache folder
_MAPPED = Lru(KEEP)


class NodeIndex:
    """Which node table holds an id, and at which row; the rows themselves on demand.

    Behaves like the mapping it replaces (``index.get(id) -> (table, position) | None``,
    ``id in index``), answered by a binary search over the sorted ids.
    """

    def __init__(self, keys: np.ndarray, table: np.ndarray, pos: np.ndarray, tables: dict[str, pa.Table]) -> None:
        self.keys, self.table, self.pos, self.tables = keys, table, pos, tables
        self._names = list(NODE_TABLES)
        self._rows: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def build(cls, frames: dict[str, pd.DataFrame | pa.Table]) -> NodeIndex:
        """From each node table's rows (the first table and row of an id wins, in NODE_TABLES order),
        as frames or Arrow tables (`stored_arrow`: the ids are then never Python strings)."""
        tables: dict[str, pa.Table] = {}
        table, pos = [], []
        for code, name in enumerate(NODE_TABLES):
            given = frames[name]
            rows = tables[name] = given if isinstance(given, pa.Table) else pa.Table.from_pandas(given,
                                                                                                 preserve_index=False)
            table.append(np.full(rows.num_rows, code, dtype=np.int8))
            pos.append(np.arange(rows.num_rows, dtype=np.int64))
        all_ids = pa.chunked_array([chunk for name in NODE_TABLES
                                    for chunk in tables[name]["id"].cast(pa.large_string()).chunks],
                                   type=pa.large_string())
        # sorted by a stable sort, the first of each run of equal ids is its first row in
        # NODE_TABLES order: no hash pass over the ids (at 2M payments a third of the build)
        keys = encode_arrow_ids(all_ids)  # nulls as "<NA>"
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        order = order[first]
        return cls(keys[first], np.concatenate(table)[order], np.concatenate(pos)[order], tables)

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, node_id: object) -> bool:
        return self.get(str(node_id)) is not None

    def get(self, node_id: str) -> tuple[str, int] | None:
        at = int(lookup(self.keys, None, [node_id])[0])
        if at < 0:
            return None
        return self._names[int(self.table[at])], int(self.pos[at])

    def locate(self, node_ids: list[str]) -> dict[str, list[int]]:
        """The rows of known ids per node table, in the order of `node_ids` (unknown ids left out)."""
        at = lookup(self.keys, None, node_ids)
        found = at[at >= 0]
        tables, positions = self.table[found], self.pos[found]
        codes, first = np.unique(tables, return_index=True)
        # tables in the order their first id comes (as a lookup id by id would give them)
        return {self._names[int(code)]: positions[tables == code].tolist() for code in codes[np.argsort(first)]}

    def row(self, table: str, position: int) -> dict[str, Any]:
        """One node's row as a dict (a copy; recent rows are remembered: pictures ask for the same
        managers and branches again and again)."""
        key = (table, position)
        with self._lock:
            found = self._rows.get(key)
            if found is not None:
                self._rows.move_to_end(key)
                return dict(found)
        found = {str(k): v for k, v in self.frame(table, [position]).iloc[0].items()}
        with self._lock:
            self._rows[key] = found
            while len(self._rows) > ROW_MEMORY:
                self._rows.popitem(last=False)
        return dict(found)

    def frame(self, table: str, positions: list[int]) -> pd.DataFrame:
        """The rows of a node table at these positions, in the schema's shape."""
        return conform(table, take_rows(self.tables[table], positions).to_pandas())

    def arrays(self) -> dict[str, np.ndarray]:
        return {"keys": self.keys, "table": self.table, "pos": self.pos}


def stored_arrow(store: GraphStore, table: str) -> pa.Table:
    """A table of the store's current version as Arrow in the schema's shape: its Parquet file
    read as it is when the store keeps one (no pandas frame, no Python string per value), else
    the rows `store.read` gives (a server backend)."""
    path = _parquet_file(store, table)
    if path is not None:
        try:
            return conform_arrow(table, pq.read_table(path))
        except (OSError, pa.ArrowException):
            pass  # missing or damaged: `store.read` raises the store's own error
    return conform_arrow(table, pa.Table.from_pandas(store.read(table), preserve_index=False))


def _parquet_file(store: GraphStore, table: str) -> Path | None:
    manifest = getattr(store, "manifest", None)
    root = getattr(store, "root", None)
    entry = manifest()["tables"].get(table) if callable(manifest) and root is not None else None
    return None if entry is None or root is None else Path(root) / entry["file"]


def _conformed_batches(table: str, path: Path, columns: tuple[str, ...] | None = None,
                       shape: Callable[[pa.Table], pa.Table] | None = None) -> pa.RecordBatchReader:
    """A stored table's rows batch by batch from its Parquet file, in the schema's shape (what
    `stored_arrow` gives, never whole in memory): only `columns` read (those the file has; the
    others null), then each batch passed through `shape`."""
    keep = shape or (lambda rows: rows)
    present = set(pq.read_schema(path).names)
    wanted = None if columns is None else [c for c in columns if c in present]

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in pq.ParquetFile(path).iter_batches(columns=wanted):
            yield from keep(conform_arrow(table, pa.Table.from_batches([batch]))).to_batches()

    return pa.RecordBatchReader.from_batches(keep(arrow_schema(table).empty_table()).schema, batches())


def load_adjacency(store: GraphStore) -> Adjacency:
    """The adjacency index of the store's current `edges`: from the disk cache, else built (and cached).

    From a Parquet file the index reads the four columns it needs and the rows are copied to the
    cache batch by batch, so the whole table is never in memory (0.45 GiB of Arrow at 2M payments);
    the copy leaves out what the index holds (`graph.adjacency.row_table`) where every edge has
    both ends and a kind (always, for edges an ingest derived)."""
    folder = _folder(store, "adjacency", [store._table_token("edges")])  # noqa: SLF001 - the store's own token
    found = _read(folder, ARRAYS, ["edges"])
    if found is not None:
        return Adjacency.from_arrays(found[0], found[1]["edges"])
    path = _parquet_file(store, "edges")
    if path is not None:
        try:
            ends = pq.read_table(path, columns=["src", "dst", "kind", "amount"])
            arrays = index_arrays(ends)
            rows = (_conformed_batches("edges", path, ROW_COLUMNS, row_table) if _complete(ends)
                    else _conformed_batches("edges", path))
            del ends
            _write(folder, arrays, {"edges": rows})
        except (OSError, pa.ArrowException):
            pass  # missing or damaged, or an older file: built from the rows below
        found = _read(folder, ARRAYS, ["edges"])
        if found is not None:
            return Adjacency.from_arrays(found[0], found[1]["edges"])
    built = Adjacency(stored_arrow(store, "edges"))
    _write(folder, built.arrays(), {"edges": row_table(built.edge_table) if _complete(built.edge_table)
                                    else built.edge_table})
    found = _read(folder, ARRAYS, ["edges"])  # memory-mapped: the built arrays can go
    return built if found is None else Adjacency.from_arrays(found[0], found[1]["edges"])


def _complete(edges: pa.Table) -> bool:
    """Whether every edge has both ends and a kind (its rows can then be kept without them)."""
    return not any(edges.column(name).null_count for name in ("src", "dst", "kind"))


def load_node_index(store: GraphStore) -> NodeIndex:
    """The node index of the store's current node tables: from the disk cache, else built (and cached)."""
    tokens = [store._table_token(t) for t in NODE_TABLES]  # noqa: SLF001 - the store's own tokens
    folder = _folder(store, "nodes", tokens)
    found = _read(folder, ("keys", "table", "pos"), list(NODE_TABLES))
    if found is None:
        built = NodeIndex.build({name: stored_arrow(store, name) for name in NODE_TABLES})
        _write(folder, built.arrays(), built.tables)
        found = _read(folder, ("keys", "table", "pos"), list(NODE_TABLES))
        if found is None:
            return built
    arrays, tables = found
    return NodeIndex(arrays["keys"], arrays["table"], arrays["pos"], tables)


def load_arrow(store: GraphStore, table: str, read: Callable[[], pa.Table]) -> pa.Table:
    """A stored table as an uncompressed, memory-mapped Arrow table (`read` gives it the first time):
    a query that filters a wide table (one anchor's prospects) then touches only the rows it keeps
    instead of decompressing every column of the Parquet file.

    The mapping is kept per process (`_MAPPED`, by cache folder: the folder names the content), so
    a request does not open, map and touch the file again: under 8 concurrent clients that took
    40 ms of wall time per `/prospects` request on a busy machine."""
    folder = _folder(store, f"table_{table}", [store._table_token(table)])  # noqa: SLF001 - the store's own token
    mapped = _MAPPED.get(folder)
    if mapped is not None:
        return mapped
    found = _read(folder, (), [table])
    if found is None:
        _write(folder, {}, {table: read()})
        found = _read(folder, (), [table])
        if found is None:
            return read()
    return _MAPPED.put(folder, found[1][table])


def copy_aside(store: GraphStore, table: str, rows: pa.Table) -> Callable[[bool], None]:
    """Start writing `load_arrow`'s copy of `rows` (the table about to be written to the store) on
    a thread. The function returned waits for the copy and, called with True once the store holds
    the rows as its current `table`, puts it where `load_arrow` finds it (with False: throws it
    away). A score run writes the Parquet file and this copy at once (both encode and write
    without the GIL): at 20M payments 6 s and 8 s that were one after the other."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy-aside")
    writing = pool.submit(_write_aside, store.root / CACHE_DIR, f"table_{table}", {}, {table: rows})
    pool.shutdown(wait=False)  # the copy goes on; the thread ends with it

    def place(stored: bool) -> None:
        try:
            tmp = writing.result()
        except Exception:
            if stored:
                raise
            return  # the store's write failed: its error is the one the caller raises, not the copy's
        if tmp is not None and stored:
            _place(tmp, _folder(store, f"table_{table}", [store._table_token(table)]))  # noqa: SLF001 - its token
        elif tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    return place


def load_file(store: GraphStore, table: str, path: Path | str) -> pa.Table:
    """`load_arrow` of the table's Parquet file `path`, in the schema's shape (a file of an
    older version, e.g. `prospects` with JSON text, is conformed once, as its copy is made)."""
    return load_arrow(store, table, lambda: conform_arrow(table, pq.read_table(path)))


# the graph caches, the costlier first (2M payments: about 4 s and 1 s)
GRAPH_CACHES = ("adjacency", "nodes")


def warm_graph(store: GraphStore, parts: tuple[str, ...] = GRAPH_CACHES) -> None:
    """Build the graph caches of the current version now: the adjacency and node indexes (a
    no-op for those already on disk), or only those of `GRAPH_CACHES` named in `parts`. They
    depend on `edges` and the node tables only, so a score run builds them alongside scoring,
    one part in each process that is free (`scoring.parallel.run_groups`)."""
    unknown = set(parts) - set(GRAPH_CACHES)
    if unknown:
        raise ValueError(f"no graph cache named {sorted(unknown)}; they are {list(GRAPH_CACHES)}")
    if "adjacency" in parts:
        store.adjacency()
    if "nodes" in parts:
        store._node_index()  # noqa: SLF001 - the store's own index


def warm(store: GraphStore, prospects: pa.Table | None = None, version: str | None = None) -> None:
    """Build the current version's caches now (e.g. at the end of an ingest or a score run), so
    no request pays for them; a no-op for the caches already on disk.

    `prospects`, `version`: the `prospects` rows a score run has just written as `version`
    (`scoring.run.ScoreSummary`): while that version is the current one, its Arrow copy is made
    from them (the table the store wrote to Parquet) instead of read back and decompressed.
    """
    warm_graph(store)
    manifest = getattr(store, "manifest", None)
    entry = manifest()["tables"].get("prospects") if callable(manifest) else None
    if entry is not None:
        if prospects is not None and version is not None and version == store.version:
            written = prospects
            load_arrow(store, "prospects", lambda: conform_arrow("prospects", written))
        else:
            load_file(store, "prospects", store.root / entry["file"])


# ------------------------------------------------------------------ disk
def _folder(store: GraphStore, kind: str, tokens: list[str | None]) -> Path:
    scope = store._cache_scope()  # noqa: SLF001 - names the store (its id, for the embedded store)
    # an absent table is empty in every version (the embedded store names it per version)
    tokens = [None if t is None or t.startswith("absent@") else t for t in tokens]
    key = hashlib.sha256(json.dumps([FORMAT, scope, tokens]).encode("utf-8")).hexdigest()[:20]
    return store.root / CACHE_DIR / f"{kind}-{key}"


def _read(folder: Path, arrays: tuple[str, ...], tables: list[str]
          ) -> tuple[dict[str, np.ndarray], dict[str, pa.Table]] | None:
    if not (folder / "done").exists():
        return None
    try:
        loaded = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in arrays}
        frames = {name: pa.ipc.open_file(pa.memory_map(str(folder / f"{name}.arrow"))).read_all() for name in tables}
    except (OSError, ValueError, pa.ArrowException):
        return None  # damaged or half-deleted: rebuilt by the caller
    with contextlib.suppress(OSError):
        os.utime(folder)  # in use: the pruning keeps it
    return loaded, frames


def _write(folder: Path, arrays: dict[str, np.ndarray], tables: dict[str, pa.Table | pa.RecordBatchReader]) -> None:
    """Write the cache folder aside and rename it into place (a reader sees all of it or none);
    a table may come as a stream of batches."""
    tmp = _write_aside(folder.parent, folder.name, arrays, tables)
    if tmp is not None:
        _place(tmp, folder)


def _write_aside(parent: Path, name: str, arrays: dict[str, np.ndarray],
                 tables: dict[str, pa.Table | pa.RecordBatchReader]) -> Path | None:
    """The files of a cache folder written into a new hidden folder of `parent` (None if that failed)."""
    tmp = parent / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    try:
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp.mkdir(mode=0o700)
        for name, values in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(values), allow_pickle=False)
        for name, table in tables.items():
            with pa.OSFile(str(tmp / f"{name}.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
                if isinstance(table, pa.RecordBatchReader):
                    for batch in table:
                        out.write_batch(batch)
                else:
                    out.write_table(table)
        (tmp / "done").write_text("1")
        for path in tmp.iterdir():
            os.chmod(path, 0o600)  # client data, like the store's own files
    except (OSError, pa.ArrowException):  # a read-only store, a full disk, or a damaged file streamed in
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    return tmp


def _place(tmp: Path, folder: Path) -> None:
    """Rename a folder `_write_aside` wrote into place as `folder` (an unreadable one there is replaced)."""
    try:
        if folder.exists():  # unreadable (the caller found no whole cache there): replaced
            shutil.rmtree(folder, ignore_errors=True)
        os.rename(tmp, folder)
    except OSError:  # another process that renamed first
        shutil.rmtree(tmp, ignore_errors=True)
        return
    _prune(folder.parent, folder.name.split("-", 1)[0])


def _prune(parent: Path, kind: str) -> None:
    """Keep the `KEEP` most recently used folders of a kind (a server still mapping one keeps reading it)."""
    try:
        found = sorted((p for p in parent.iterdir() if p.is_dir() and p.name.startswith(f"{kind}-")),
                       key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in found[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in parent.glob(".tmp-*"):  # left by a writer killed mid-way
        with contextlib.suppress(OSError):
            if time.time() - tmp.stat().st_mtime > 3600:
                shutil.rmtree(tmp, ignore_errors=True)


def cache_info(store: GraphStore) -> dict[str, Any]:
    """The cache folders of a store and their sizes (for `prospect-graph` diagnostics and tests)."""
    root = store.root / CACHE_DIR
    if not root.is_dir():
        return {}
    return {p.name: sum(f.stat().st_size for f in p.iterdir()) for p in root.iterdir() if p.is_dir()}
