"""The Neo4j backend: the store's tables and graph in a Neo4j database (a cluster or Aura).

The store's root folder keeps only the local parts (state/, reports/, the writer lock);
every table lives in Neo4j under a namespace (`PROSPECT_GRAPH_GRAPH__NEO4J_NAMESPACE`): node
tables as ``Entity:<Kind>`` nodes, ``edges`` as typed relationships, the other tables as
row nodes. Scoring reads tables through `GraphStore.read`, streamed from Neo4j in batches
of `neo4j_batch_size` records, so rankings are computed by the same code on the same
frames as on the embedded store. `node` and `neighbors` are answered by Cypher.

A write sends only the delta against the current version, in ``UNWIND $rows`` batches,
all inside ONE transaction that also moves the version node: it commits whole or not at
all. See docs/neo4j.md for what that does and does not guarantee.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import networkx as nx
import pandas as pd

from graph import neo4j_cypher as cy
from graph.adjacency import MONEY_KINDS
from graph.errors import Conflict
from graph.neo4j_bolt import BoltRunner
from graph.neo4j_rows import batched, decode_records, label_of, plan_delta
from graph.schema import NODE_TABLES, TABLES, TableData, as_frame, conform, empty
from graph.settings import StoreSettings, get_settings
from graph.store import GraphStore, _isna

__all__ = ["Neo4jStore", "CypherRunner", "CypherTx"]

T = TypeVar("T")
_TABLE_OF_LABEL = {label: table for table, label in cy.NODE_LABELS.items()}


class CypherTx(Protocol):
    def run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]: ...


class CypherRunner(Protocol):
    """Where statements run: Bolt (the neo4j driver) in production, another engine in tests."""

    native_dates: bool

    def read(self, query: str, params: dict[str, Any], fetch_size: int) -> Iterator[dict[str, Any]]: ...

    def write(self, work: Callable[[CypherTx], T]) -> T: ...

    def schema(self, statements: Iterable[str]) -> None: ...

    def close(self) -> None: ...


class Neo4jStore(GraphStore):
    """A GraphStore whose tables live in Neo4j; `root` keeps state/ and reports/ locally."""

    backend = "neo4j"

    def __init__(self, root: Path | str, settings: StoreSettings | None = None,
                 runner: CypherRunner | None = None) -> None:
        super().__init__(root)
        self.settings = settings or get_settings().graph
        self.namespace = self.settings.neo4j_namespace
        self.batch_size = self.settings.neo4j_batch_size
        self._runner = runner
        self._schema_ready = False
        self.last_write_rows = 0  # rows sent by the last write (deltas, not table sizes)

    @property
    def runner(self) -> CypherRunner:
        if self._runner is None:
            self._runner = BoltRunner(self.settings)
        return self._runner

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()

    def drop(self) -> None:
        """Delete every node and relationship of this namespace (other namespaces untouched)."""

        def work(tx: CypherTx) -> None:
            for statement in cy.DROP_NAMESPACE:
                tx.run(statement, {"store": self.namespace})

        self.runner.write(work)

    # ------------------------------------------------------------------ hooks
    def _state(self) -> dict[str, Any] | None:
        rows = list(self.runner.read(cy.GET_VERSION, {"store": self.namespace}, 10))
        if not rows or rows[0].get("version") is None:
            return None
        return rows[0]

    def _version(self) -> str | None:
        state = self._state()
        return None if state is None else str(state["version"])

    def history(self) -> list[dict[str, Any]]:
        state = self._state()
        return json.loads(state["history"]) if state and state.get("history") else []

    def _read_table(self, table: str) -> pd.DataFrame | None:
        # Neo4j reads are read-committed, not snapshots: re-read if a writer moved the version.
        for _ in range(3):
            before = self._state()
            if before is None or table not in (before.get("tables") or []):
                return None
            frame = self._stream(table)
            after = self._state()
            if after is not None and after["version"] == before["version"]:
                return frame
        raise Conflict(f"the Neo4j store kept changing while reading {table}; try again")

    def _stream(self, table: str) -> pd.DataFrame:
        params = {"store": self.namespace}
        if table == "edges":
            recs = self.runner.read(cy.READ_EDGES, {**params, "types": list(cy.EDGE_TYPES)}, self.batch_size)
            return decode_records(table, ({**r["p"], "src": r["src"], "dst": r["dst"], "kind": r["kind"]}
                                          for r in recs))
        query = cy.READ_NODES[label_of(table)] if table in NODE_TABLES else cy.READ_ROWS[label_of(table)]
        return decode_records(table, (r["p"] for r in self.runner.read(query, params, self.batch_size)))

    def _ensure_schema(self) -> None:
        if not self._schema_ready:
            self.runner.schema(cy.SCHEMA)  # IF NOT EXISTS: cheap after the first time
            self._schema_ready = True

    def _commit(self, tables: dict[str, TableData], note: str) -> str:
        self._ensure_schema()
        frames = {name: as_frame(name, data) for name, data in tables.items()}  # deltas are planned on frames
        state = self._state()
        expected = None if state is None else str(state["version"])
        present = set(state.get("tables") or []) & set(TABLES) if state else set()  # not a table the schema no longer has
        native = self.runner.native_dates
        deltas = [plan_delta(name, self.read(name) if name in present else empty(name), df,
                             self.namespace, native) for name, df in frames.items()]
        version = f"{int(expected) + 1 if expected else 1:06d}"
        history = (self.history() if state else [])[-49:]
        history.append({"version": version, "at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "note": note, "tables": sorted(tables)})
        base = {"store": self.namespace}

        def work(tx: CypherTx) -> None:
            got = tx.run(cy.LOCK_VERSION, {**base, "token": uuid.uuid4().hex})
            current = got[0]["version"] if got else None
            if current != expected:
                raise Conflict(f"the Neo4j store moved to version {current} while this write was "
                               f"prepared against {expected}; run it again")
            for delta in deltas:  # deletes first: a node may move from one table to another
                for name, items in delta.deletes.items():
                    query, key = _delete_statement(delta.table, name)
                    for chunk in batched(items, self.batch_size):
                        tx.run(query, {**base, key: chunk})
            for delta in deltas:
                for name, rows in delta.upserts.items():
                    query = _upsert_statement(delta.table, name)
                    for chunk in batched(rows, self.batch_size):
                        tx.run(query, {**base, "rows": chunk})
            orphans = sorted(set().union(*(d.orphan_candidates for d in deltas)))
            for chunk in batched(orphans, self.batch_size):
                tx.run(cy.DROP_ORPHANS, {**base, "ids": chunk})
            tx.run(cy.SET_VERSION, {**base, "version": version, "tables": sorted(present | set(tables)),
                                    "history": json.dumps(history, ensure_ascii=False)})

        self.runner.write(work)
        self.last_write_rows = sum(d.rows_sent for d in deltas)
        return version

    # ------------------------------------------------------------ graph reads
    def node(self, node_id: str) -> dict[str, Any] | None:
        rows = list(self.runner.read(cy.NODE, {"store": self.namespace, "id": str(node_id)}, 10))
        found = _node_rows(rows)
        return found.get(str(node_id))

    def neighbors(self, node_id: str, kinds: Iterable[str] | None = None, min_amount: float | None = None,
                  hops: int = 1, limit: int | None = None, expand: int | None = None) -> nx.MultiDiGraph:
        """As `GraphStore.neighbors`, each hop computed in Neo4j from the frontier."""
        self.require_node(node_id)
        wanted = list(kinds) if kinds else None
        params = {"store": self.namespace, "kinds": wanted or list(cy.EDGE_TYPES), "money": list(MONEY_KINDS),
                  "min_amount": min_amount}
        seen, order, frontier = {str(node_id)}, [str(node_id)], [str(node_id)]
        for _ in range(max(1, hops)):
            if not frontier:
                break
            nxt: dict[str, float] = {}
            for chunk in batched(frontier, self.batch_size):
                for rec in self.runner.read(cy.NEIGHBOUR_STEP, {**params, "frontier": chunk}, self.batch_size):
                    if rec["id"] not in seen:
                        nxt[rec["id"]] = max(nxt.get(rec["id"], 0.0), float(rec["amount"] or 0.0))
            ranked = sorted(nxt, key=lambda m: (-nxt[m], str(m)))
            if limit is not None:
                ranked = ranked[:limit]
            seen.update(ranked)
            order.extend(ranked)
            frontier = ranked if expand is None else ranked[:expand]
        return self.subgraph(order, kinds=wanted, min_amount=min_amount)

    def subgraph(self, node_ids: Iterable[str], kinds: Iterable[str] | None = None,
                 min_amount: float | None = None) -> nx.MultiDiGraph:
        """As `GraphStore.subgraph`: only the named nodes and the edges among them, from Neo4j."""
        ids = [str(n) for n in dict.fromkeys(node_ids)]
        base = {"store": self.namespace}
        nodes: dict[str, dict[str, Any]] = {}
        for chunk in batched(ids, self.batch_size):
            nodes.update(_node_rows(self.runner.read(cy.NODES_BY_IDS, {**base, "ids": chunk}, self.batch_size)))
        known = [n for n in ids if n in nodes]  # unknown ids and bare edge ends are left out
        recs = [{**r["p"], "src": r["src"], "dst": r["dst"], "kind": r["kind"]}
                for r in self.runner.read(cy.SUBGRAPH_EDGES, {**base, "ids": known}, self.batch_size)]
        edges = conform("edges", decode_records("edges", recs))
        wanted = set(kinds) if kinds is not None else None
        sub = nx.MultiDiGraph()
        for node_id in known:
            sub.add_node(node_id, **{k: v for k, v in nodes[node_id].items() if v is not None and k != "table"})
        for rec in edges.to_dict("records"):
            if wanted is not None and rec["kind"] not in wanted:
                continue
            amount = float(0.0 if _isna(rec.get("amount")) else rec["amount"])
            if min_amount is not None and rec["kind"] in MONEY_KINDS and amount < min_amount:
                continue
            data = {str(k): v for k, v in rec.items() if not _isna(v) and k not in ("src", "dst")}
            key = rec["kind"] if _isna(rec.get("role")) else f"{rec['kind']}:{rec['role']}"
            sub.add_edge(rec["src"], rec["dst"], key=key, **data)
        return sub


def _node_rows(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Entity records as `node()` dicts (table columns conformed, plus kind and table)."""
    out: dict[str, dict[str, Any]] = {}
    for rec in records:
        table = next((_TABLE_OF_LABEL[lb] for lb in rec["labels"] if lb in _TABLE_OF_LABEL), None)
        if table is None:  # a bare endpoint of an edge, in no node table
            continue
        row = conform(table, decode_records(table, [rec["p"]])).iloc[0].to_dict()
        found: dict[str, Any] = {str(k): (None if _isna(v) else v) for k, v in row.items()}
        found["kind"] = TABLES[table].node_kind
        found["table"] = table
        out[str(found["id"])] = found
    return out


def _upsert_statement(table: str, name: str) -> str:
    if table == "edges":
        return cy.UPSERT_EDGES[name]
    return cy.UPSERT_NODES[name] if table in NODE_TABLES else cy.UPSERT_ROWS[name]


def _delete_statement(table: str, name: str) -> tuple[str, str]:
    if table == "edges":
        return cy.DELETE_EDGES[name], "rows"
    return (cy.DELETE_NODES[name], "ids") if table in NODE_TABLES else (cy.DELETE_ROWS[name], "keys")
