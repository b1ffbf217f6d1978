"""The GraphStore interface: every backend stores the tables of `graph.schema`.

Public methods own validation, conformance to the schema, locking and error translation;
a backend implements the small private hooks (`_read_table`, `_commit`, `_version`).
Graph queries (node lookup, neighbourhoods, networkx views) are answered here from the
tables, so a backend only overrides them where it can answer faster (Neo4j).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.adjacency import Adjacency
from graph.errors import Conflict, InvalidData, NotFound
from graph.index_cache import NodeIndex, load_adjacency, load_node_index
from graph.lru import Answers, Kept, Lru
from graph.memory import release_memory
from graph.region import Region, ego_region, region_from_graph
from graph.schema import EDGE_KINDS, NODE_TABLES, TABLES, TableData, as_frame, conform, conform_arrow, empty
from graph.stage import Stage

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["GraphStore"]

_T = TypeVar("_T")


class GraphStore(ABC):
    """A versioned set of tables plus a local state folder (reports, tokens, audit, salt).

    Readers see one version at a time: a write builds a whole new version aside and swaps
    it in, so a failed or killed write leaves the previous version readable.
    """

    backend = "abstract"

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _read_table(self, table: str) -> pd.DataFrame | None:
        """The table of the current version, or None when the store has none."""

    @abstractmethod
    def _commit(self, tables: dict[str, TableData], note: str) -> str:
        """Atomically make a new version: given tables replaced, the others kept (also what the
        default `Stage` commits; a backend that writes put tables aside overrides `_new_stage`).

        Each table comes conformed, as a DataFrame or as an Arrow table in `arrow_schema`
        (`graph.schema.as_frame` gives a DataFrame of either)."""

    @abstractmethod
    def _version(self) -> str | None:
        """The id of the current version (None for an empty store)."""

    def _read_columns(self, table: str, columns: list[str]) -> pd.DataFrame | None:
        """Some columns of the current version's table (backends that store columns read only those)."""
        return self._read_table(table)

    def refresh(self) -> None:  # noqa: B027 - optional hook
        """Pick up a version written by another process (backends that pin one override)."""

    def snapshot(self) -> GraphStore:
        """A view pinned to the current version: every read through it sees that version only.

        The API takes one per request, so a commit in the middle of a request cannot mix two
        versions. Backends that cannot pin return themselves (see their docs).
        """
        return self

    @property
    def cache_key(self) -> tuple[str, str | None]:
        """Names this store's current version for caches of derived data (stable across the
        store objects that read the same version, e.g. the per-request snapshots)."""
        return (self._cache_scope(), self.version)

    def _table_token(self, table: str) -> str | None:
        """Identifies a table's content: equal tokens, equal content (lets versions share memory)."""
        return self.version

    def _cache_scope(self) -> str:
        """Which store the shared caches belong to."""
        return f"{self.backend}:{self.root.resolve()}"

    def _derived(self) -> _Derived:
        return _derived_cache(self._cache_scope(), self.version)

    # ------------------------------------------------------------ public API
    @property
    def version(self) -> str | None:
        return self._version()

    @property
    def state_dir(self) -> Path:
        """Unversioned local state: tokens, audit log, salt, dispositions."""
        path = self.root / "state"
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    @property
    def reports_dir(self) -> Path:
        path = self.root / "reports"
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    @final
    def read(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """A table of the current version in the schema's shape (empty when absent)."""
        if table not in TABLES:
            raise NotFound(f"unknown table {table!r}")
        key = (self._cache_scope(), table, self._table_token(table))
        df = _TABLES.get(key)
        if df is None and columns is not None:
            # a few columns of a wide table (e.g. `family` of `prospects` for /health): read only those
            wanted = list(columns)
            part_key = (*key, tuple(wanted))
            part = _TABLES.get(part_key)
            if part is None:
                raw = self._read_columns(table, wanted)
                part = (empty(table) if raw is None else as_frame(table, raw))[wanted]
                _TABLES.put(part_key, part)
            return part[wanted]
        if df is None:
            raw = self._read_table(table)
            df = empty(table) if raw is None else as_frame(table, raw)
            _TABLES.put(key, df)
        if columns is not None:
            return df[list(columns)]
        return df

    @final
    def write(self, tables: dict[str, TableData], note: str = "") -> str:
        """Replace the given tables in one new version; returns the version id.

        A table may be given as a DataFrame or as an Arrow table (written as it is by the
        embedded store: a derived table of millions of rows need not become pandas)."""
        unknown = sorted(set(tables) - set(TABLES))
        if unknown:
            raise NotFound(f"unknown table(s): {', '.join(unknown)}")
        conformed = {name: self._checked(name, df) for name, df in tables.items()}
        version = self._commit(conformed, note)
        self._forget(conformed)
        return version

    @final
    def stage(self, note: str = "") -> Stage:
        """A new version built one table at a time and committed in one step (`graph.stage`):
        `write` for a job that should not hold every table of the version at once.

        >>> with store.stage("ingest") as stage:       # doctest: +SKIP
        ...     stage.put("payments", payments)
        ...     version = stage.commit()
        """
        return self._new_stage(note)

    def _new_stage(self, note: str) -> Stage:
        """The backend's stage (by default the put tables wait in memory for one `_commit`)."""
        return Stage(self, note)

    @final
    def _checked(self, name: str, data: TableData) -> TableData:
        """`data` conformed to table `name`, after the checks no backend may skip (`_validate`)."""
        if name not in TABLES:
            raise NotFound(f"unknown table(s): {name}")
        conformed = conform_arrow(name, data) if isinstance(data, pa.Table) else conform(name, data)
        _validate(name, conformed)
        return conformed

    @final
    def _forget(self, tables: Iterable[str]) -> None:
        """Drop replaced tables from the process's table cache once a commit replaced them: they
        are not read again by this store (a pinned reader reloads them), so they are freed now
        rather than when the cache's bound pushes them out."""
        scope, names = self._cache_scope(), set(tables)
        _TABLES.drop(lambda key: key[0] == scope and key[1] in names)

    @final
    def release_tables(self) -> None:
        """Free this store's tables held in the process's table cache (the next read loads them
        again), and hand the freed heap pages back to the system: a long job calls it between
        steps that read different tables (`scoring.run`), so one step's tables do not add to
        the next step's peak."""
        scope = self._cache_scope()
        _TABLES.drop(lambda key: key[0] == scope)
        release_memory()

    @final
    @contextlib.contextmanager
    def writer(self, wait: bool = False) -> Iterator[None]:
        """Exclusive writer lock: a second ingest at the same time is refused (or waits)."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with os.fdopen(os.open(self.root / ".write.lock", os.O_RDWR | os.O_CREAT, 0o600), "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError as exc:
                raise Conflict(f"another ingest is writing to the store {self.root}") from exc
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @final
    def secret(self, name: str) -> str:
        """A per-store random secret (e.g. the ID-number salt), created on first use, mode 0600."""
        path = self.state_dir / f"{name}.secret"
        if not path.exists():
            tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")  # two processes at once: one tmp each
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # first writer wins, never overwrite an existing salt
            tmp.unlink(missing_ok=True)
        return path.read_text().strip()

    # ---------------------------------------------------------- graph reads
    def node(self, node_id: str) -> dict[str, Any] | None:
        """The node's attributes plus `kind` and `table`, or None."""
        index = self._node_index()
        hit = index.get(str(node_id))
        if hit is None:
            return None
        table, pos = hit
        raw = index.row(table, pos)
        row: dict[str, Any] = {str(k): (None if _isna(v) else v) for k, v in raw.items()}
        row["kind"] = TABLES[table].node_kind
        row["table"] = table
        return row

    def nodes(self, node_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """`node` of many ids at once (one search, one read per node table); unknown ids left out."""
        wanted = [str(n) for n in dict.fromkeys(node_ids)]
        if type(self).node is not GraphStore.node:  # a backend that answers `node` itself
            return {n: found for n in wanted if (found := self.node(n)) is not None}
        index = self._node_index()
        out: dict[str, dict[str, Any]] = {}
        for table, positions in index.locate(wanted).items():
            frame = index.frame(table, positions)
            for rec in frame.astype(object).where(frame.notna(), None).to_dict("records"):
                out[str(rec["id"])] = {**{str(k): v for k, v in rec.items()}, "kind": TABLES[table].node_kind,
                                       "table": table}
        return out

    @final
    def require_node(self, node_id: str) -> dict[str, Any]:
        found = self.node(node_id)
        if found is None:
            raise NotFound(f"no entity with id {node_id!r}")
        return found

    def neighbors(
        self,
        node_id: str,
        kinds: Iterable[str] | None = None,
        min_amount: float | None = None,
        hops: int = 1,
        limit: int | None = None,
        expand: int | None = None,
    ) -> nx.MultiDiGraph:
        """The ego network of `node_id`: nodes within `hops`, edges of `kinds` and >= `min_amount`.

        `limit` keeps, at every hop, the strongest neighbours by amount; `expand` follows only the
        strongest of them to the next hop (a picture that draws a hub's 25 strongest partners need
        not load the neighbourhoods of its thousand others). Answered from the adjacency index,
        so it never builds the whole graph.
        """
        self.require_node(node_id)
        kinds = list(kinds) if kinds else None

        def build() -> _Parts:
            ids = self.adjacency().ball(node_id, hops, kinds, min_amount, limit, expand)
            return self._subgraph_parts(ids, kinds, min_amount)

        key = ("neighbors", str(node_id), tuple(sorted(kinds)) if kinds else None, min_amount, hops, limit, expand)
        # the rows are kept and each caller gets a graph of its own built from them (networkx copies
        # every attribute dict): no graph is built only to be copied
        return self.remembered(key, build, _assemble, lambda parts: len(parts[0]) + len(parts[1]))

    def ego_region(self, node_id: str, kinds: Iterable[str] | None = None, min_amount: float | None = None,
                   hops: int = 1, limit: int | None = None, expand: int | None = None) -> Region:
        """The ego network of `neighbors` as columns (`graph.region`): the same nodes and edges in
        the same order, but no attribute read and no graph built (a picture loads what it draws)."""
        self.require_node(node_id)
        kinds = list(kinds) if kinds else None
        if type(self).neighbors is not GraphStore.neighbors:  # a backend answering neighbourhoods itself
            return region_from_graph(self.neighbors(node_id, kinds, min_amount, hops, limit, expand))
        key = ("region", str(node_id), tuple(sorted(kinds)) if kinds else None, min_amount, hops, limit, expand)
        return self.remembered(key, lambda: ego_region(self, node_id, kinds, min_amount, hops, limit, expand),
                               lambda region: region, lambda region: len(region) + region.edge_count)

    def subgraph(self, node_ids: Iterable[str], kinds: Iterable[str] | None = None,
                 min_amount: float | None = None) -> nx.MultiDiGraph:
        """The induced subgraph on `node_ids` (unknown ids are left out), edges filtered like `neighbors`."""
        return _assemble(self._subgraph_parts(node_ids, kinds, min_amount))

    def _subgraph_parts(self, node_ids: Iterable[str], kinds: Iterable[str] | None,
                        min_amount: float | None) -> _Parts:
        """The nodes (id, attributes) and edges (src, dst, key, attributes) of `subgraph`."""
        wanted = [str(n) for n in dict.fromkeys(node_ids)]
        index = self._node_index()
        nodes: list[tuple[str, dict[str, Any]]] = []
        for table, positions in index.locate(wanted).items():  # one search for every id
            kind = TABLES[table].node_kind
            nodes.extend((attrs["id"], {**attrs, "kind": kind}) for attrs in _records(index.frame(table, positions)))
        known = list(dict.fromkeys(n for n, _ in nodes))
        edges = list(_edge_tuples(_records(self.adjacency().induced(known, kinds, min_amount))))
        return nodes, edges

    def degree(self, node_id: str) -> dict[str, int]:
        """How many edges of each kind touch `node_id` (either direction)."""
        adjacency = self.adjacency()
        rows = adjacency.rows(np.array([adjacency.code(str(node_id))], dtype=np.int64))
        kinds, counts = np.unique(adjacency.kinds_of(rows), return_counts=True)
        return {str(k): int(c) for k, c in zip(kinds.tolist(), counts.tolist(), strict=True)}

    def adjacency(self) -> Adjacency:
        """The adjacency index of the current version's `edges` (per version in memory; on disk
        per `edges` content, memory-mapped by a restarted process: `graph.index_cache`)."""
        derived = self._derived()
        with derived.lock:
            if derived.adjacency is None:
                derived.adjacency = load_adjacency(self)
            return derived.adjacency

    def remembered(self, key: tuple[Any, ...], compute: Callable[[], _T], copy: Callable[[_T], _T],
                   weight: Callable[[_T], int] = lambda _: 1, keep: bool = False) -> _T:
        """The answer of `compute`, kept per store version for the next identical request.

        A version's tables never change, so an answer keyed by everything it depends on is
        exact until the version changes (the key then changes with it). Only answers that do
        not depend on who asks may be kept: scope and masking are applied to the copy each
        caller gets (`copy`), never to the kept one.
        """
        if keep:  # one of the version's few long-lived answers: kept by count, not weight
            return copy(self._derived().kept.get_or_build(key, compute))
        answers = self._derived().answers
        found = answers.get(key)
        if found is None:
            found = compute()
            answers.put(key, found, weight(found))
        return copy(found)

    def forget_other_versions(self) -> None:
        """Let go of what this process computed for this store's other versions (their indexes,
        remembered answers and kept lead boards), e.g. once a newer version is warm: a served
        process would otherwise hold them until five newer versions had pushed them out."""
        scope, version = self._cache_scope(), self.version
        _DERIVED.drop(lambda key: key[0] == scope and key[1] != version)

    # --------------------------------------------------------------- helpers
    def _node_index(self) -> NodeIndex:
        """Which node table and row holds each id (cached like `adjacency`)."""
        derived = self._derived()
        with derived.lock:
            if derived.index is None:
                derived.index = load_node_index(self)
            return derived.index


class _Derived:
    """What is computed from one version's tables: the node index and the adjacency."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.index: NodeIndex | None = None
        self.adjacency: Adjacency | None = None
        self.answers = Answers(ANSWER_BUDGET)
        self.kept = Kept(KEPT_ANSWERS)  # a version's few long-lived answers (`remembered(..., keep=True)`)


# Tables are keyed by content token, so a table that did not change between two versions is
# loaded once; derived structures are per version. Bounded: a few versions of a few stores.
_TABLES = Lru(64)
_DERIVED = Lru(6)
# neighbourhoods and paths remembered per version (`GraphStore.remembered`), weighed in nodes +
# edges (about 1 KiB each as networkx objects): ~200 MiB per version at most
ANSWER_BUDGET = 200_000
# answers every request of a kind starts from (the version's lead board), kept apart from the
# weighed ones so that a burst of pictures and paths never pushes them out: a few per version
KEPT_ANSWERS = 3


def _derived_cache(scope: str, version: str | None) -> _Derived:
    key = (scope, version)
    found = _DERIVED.get(key)
    return found if found is not None else _DERIVED.put(key, _Derived())


def _validate(name: str, data: TableData) -> None:
    """What no backend may store: an edge of an unknown kind, a node id twice in one table."""
    if isinstance(data, pa.Table):
        _validate_arrow(name, data)
        return
    df = data
    if name == "edges":
        unknown = sorted(set(df["kind"].dropna().unique().astype(str)) - set(EDGE_KINDS))
        if unknown or df["kind"].isna().any():
            raise InvalidData(f"table {name}: unknown edge kind(s) {', '.join(unknown) or '(empty)'}; "
                              f"known: {', '.join(EDGE_KINDS)}")
    elif name in NODE_TABLES:
        ids = df["id"]
        if ids.isna().any():
            raise InvalidData(f"table {name}: a row has no id")
        dupes = ids[ids.duplicated()].astype(str).unique().tolist()
        if dupes:
            raise InvalidData(f"table {name}: duplicate id(s) {', '.join(dupes[:5])}")


def _validate_arrow(name: str, table: pa.Table) -> None:
    """`_validate` of an Arrow table (the same checks, by Arrow compute)."""
    if name == "edges":
        kinds = table.column("kind")
        unknown = sorted(set(pc.unique(kinds).drop_null().to_pylist()) - set(EDGE_KINDS))
        if unknown or kinds.null_count:
            raise InvalidData(f"table {name}: unknown edge kind(s) {', '.join(unknown) or '(empty)'}; "
                              f"known: {', '.join(EDGE_KINDS)}")
    elif name in NODE_TABLES:
        ids = table.column("id")
        if ids.null_count:
            raise InvalidData(f"table {name}: a row has no id")
        if pc.count_distinct(ids).as_py() != len(ids):
            _validate(name, as_frame(name, table.select(["id"])))  # names the duplicates


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts without their null values (columnar: far faster than a test per value)."""
    if df.empty:
        return []
    cols = [str(c) for c in df.columns]
    values = np.empty((len(df), len(cols)), dtype=object)
    for j, name in enumerate(df.columns):
        col = df[name]
        if isinstance(col.dtype, np.dtype) and col.dtype.kind == "M":
            # dates repeat (a few hundred distinct days on thousands of edges): box each once
            codes, uniques = pd.factorize(col)
            boxed = np.asarray(uniques.astype(object), dtype=object)
            out = np.full(len(col), None, dtype=object)
            out[codes >= 0] = boxed[codes[codes >= 0]]
            values[:, j] = out
        else:
            values[:, j] = col.astype(object).where(col.notna(), None).to_numpy(dtype=object)
    return [{c: v for c, v in zip(cols, row.tolist(), strict=True) if v is not None} for row in values]


_Parts = tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, str, str, dict[str, Any]]]]


def _assemble(parts: _Parts) -> nx.MultiDiGraph:
    """A graph of its own from subgraph parts (networkx copies each attribute dict it is given)."""
    import networkx as nx  # loaded when a graph is first made (0.2 s of every process start otherwise)

    graph = nx.MultiDiGraph()
    graph.add_nodes_from(parts[0])
    graph.add_edges_from(parts[1])
    return graph


def _edge_tuples(records: list[dict[str, Any]]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(src, dst, key, attributes) of edge rows: keyed by kind, or kind:role for roles."""
    for attrs in records:
        src, dst = attrs.pop("src"), attrs.pop("dst")
        role = attrs.get("role")
        yield src, dst, attrs["kind"] if role is None else f"{attrs['kind']}:{role}", attrs


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
