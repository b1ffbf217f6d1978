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
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, final

import networkx as nx
import pandas as pd

from graph.adjacency import Adjacency
from graph.errors import Conflict, NotFound
from graph.schema import NODE_TABLES, TABLES, conform, empty

__all__ = ["GraphStore"]


class GraphStore(ABC):
    """A versioned set of tables plus a local state folder (reports, tokens, audit, salt).

    Readers see one version at a time: a write builds a whole new version aside and swaps
    it in, so a failed or killed write leaves the previous version readable.
    """

    backend = "abstract"

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._graph_cache: tuple[str | None, nx.MultiDiGraph] | None = None
        self._index_cache: tuple[str | None, dict[str, tuple[str, int]]] | None = None
        self._table_cache: dict[tuple[str | None, str], pd.DataFrame] = {}
        self._adjacency_cache: tuple[str | None, Adjacency] | None = None

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _read_table(self, table: str) -> pd.DataFrame | None:
        """The table of the current version, or None when the store has none."""

    @abstractmethod
    def _commit(self, tables: dict[str, pd.DataFrame], note: str) -> str:
        """Atomically make a new version: given tables replaced, the others kept."""

    @abstractmethod
    def _version(self) -> str | None:
        """The id of the current version (None for an empty store)."""

    def refresh(self) -> None:  # noqa: B027 - optional hook
        """Pick up a version written by another process (backends that pin one override)."""

    # ------------------------------------------------------------ public API
    @property
    def version(self) -> str | None:
        return self._version()

    @property
    def state_dir(self) -> Path:
        """Unversioned local state: tokens, audit log, salt, dispositions."""
        path = self.root / "state"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def reports_dir(self) -> Path:
        path = self.root / "reports"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @final
    def read(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """A table of the current version in the schema's shape (empty when absent)."""
        if table not in TABLES:
            raise NotFound(f"unknown table {table!r}")
        key = (self.version, table)
        df = self._table_cache.get(key)
        if df is None:
            raw = self._read_table(table)
            df = empty(table) if raw is None else conform(table, raw)
            self._table_cache = {k: v for k, v in self._table_cache.items() if k[0] == key[0]}
            self._table_cache[key] = df
        if columns is not None:
            return df[list(columns)]
        return df

    @final
    def write(self, tables: dict[str, pd.DataFrame], note: str = "") -> str:
        """Replace the given tables in one new version; returns the version id."""
        unknown = sorted(set(tables) - set(TABLES))
        if unknown:
            raise NotFound(f"unknown table(s): {', '.join(unknown)}")
        conformed = {name: conform(name, df) for name, df in tables.items()}
        version = self._commit(conformed, note)
        self._table_cache.clear()
        return version

    @final
    @contextlib.contextmanager
    def writer(self, wait: bool = False) -> Iterator[None]:
        """Exclusive writer lock: a second ingest at the same time is refused (or waits)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".write.lock", "a+") as fh:
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
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # first writer wins, never overwrite an existing salt
            tmp.unlink(missing_ok=True)
        return path.read_text().strip()

    # ---------------------------------------------------------- graph reads
    def node(self, node_id: str) -> dict[str, Any] | None:
        """The node's attributes plus `kind` and `table`, or None."""
        hit = self._node_index().get(str(node_id))
        if hit is None:
            return None
        table, pos = hit
        raw = self.read(table).iloc[pos].to_dict()
        row: dict[str, Any] = {str(k): (None if _isna(v) else v) for k, v in raw.items()}
        row["kind"] = TABLES[table].node_kind
        row["table"] = table
        return row

    @final
    def require_node(self, node_id: str) -> dict[str, Any]:
        found = self.node(node_id)
        if found is None:
            raise NotFound(f"no entity with id {node_id!r}")
        return found

    def graph(self) -> nx.MultiDiGraph:
        """The whole graph as a networkx MultiDiGraph (cached per version).

        Nodes carry `kind`, `name` and their table's attributes; edges are keyed by kind and
        carry the `edges` table's columns. Meant for subgraph work and small stores; big
        scoring jobs work on the tables.
        """
        version = self.version
        if self._graph_cache and self._graph_cache[0] == version:
            return self._graph_cache[1]
        g = nx.MultiDiGraph()
        for table, spec in NODE_TABLES.items():
            df = self.read(table)
            for rec in df.to_dict("records"):
                attrs = {str(k): v for k, v in rec.items() if not _isna(v)}
                attrs["kind"] = spec.node_kind
                g.add_node(rec["id"], **attrs)
        edges = self.read("edges")
        for rec in edges.to_dict("records"):
            attrs = {str(k): v for k, v in rec.items() if not _isna(v) and k not in ("src", "dst")}
            key = rec["kind"] if _isna(rec.get("role")) else f"{rec['kind']}:{rec['role']}"
            g.add_edge(rec["src"], rec["dst"], key=key, **attrs)
        self._graph_cache = (version, g)
        return g

    def neighbors(
        self,
        node_id: str,
        kinds: Iterable[str] | None = None,
        min_amount: float | None = None,
        hops: int = 1,
        limit: int | None = None,
    ) -> nx.MultiDiGraph:
        """The ego network of `node_id`: nodes within `hops`, edges of `kinds` and >= `min_amount`.

        `limit` keeps, at every hop, the strongest neighbours by amount. Answered from the
        adjacency index, so it never builds the whole graph.
        """
        self.require_node(node_id)
        kinds = list(kinds) if kinds else None
        ids = self.adjacency().ball(node_id, hops, kinds, min_amount, limit)
        return self.subgraph(ids, kinds=kinds, min_amount=min_amount)

    def subgraph(self, node_ids: Iterable[str], kinds: Iterable[str] | None = None,
                 min_amount: float | None = None) -> nx.MultiDiGraph:
        """The induced subgraph on `node_ids` (unknown ids are left out), edges filtered like `neighbors`."""
        wanted = [str(n) for n in dict.fromkeys(node_ids)]
        sub = nx.MultiDiGraph()
        index = self._node_index()
        by_table: dict[str, list[int]] = {}
        for n in wanted:
            hit = index.get(n)
            if hit is not None:
                by_table.setdefault(hit[0], []).append(hit[1])
        for table, positions in by_table.items():
            kind = TABLES[table].node_kind
            for rec in self.read(table).iloc[positions].to_dict("records"):
                attrs = {str(k): v for k, v in rec.items() if not _isna(v)}
                attrs["kind"] = kind
                sub.add_node(rec["id"], **attrs)
        edges = self.adjacency().induced(list(sub.nodes), kinds, min_amount)
        for rec in edges.to_dict("records"):
            attrs = {str(k): v for k, v in rec.items() if not _isna(v) and k not in ("src", "dst")}
            key = rec["kind"] if _isna(rec.get("role")) else f"{rec['kind']}:{rec['role']}"
            sub.add_edge(rec["src"], rec["dst"], key=key, **attrs)
        return sub

    def adjacency(self) -> Adjacency:
        """The adjacency index of the current version's `edges` (cached per version)."""
        version = self.version
        if self._adjacency_cache and self._adjacency_cache[0] == version:
            return self._adjacency_cache[1]
        adjacency = Adjacency(self.read("edges"))
        self._adjacency_cache = (version, adjacency)
        return adjacency

    # --------------------------------------------------------------- helpers
    def _node_index(self) -> dict[str, tuple[str, int]]:
        version = self.version
        if self._index_cache and self._index_cache[0] == version:
            return self._index_cache[1]
        index: dict[str, tuple[str, int]] = {}
        for table in NODE_TABLES:
            ids = self.read(table, ["id"])["id"]
            for pos, value in enumerate(ids.tolist()):
                index.setdefault(str(value), (table, pos))
        self._index_cache = (version, index)
        return index


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
