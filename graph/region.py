"""A neighbourhood as columns: the nodes and edges around an entity before anything is drawn.

An ego picture at bank scale starts from a two-hop ball of a couple of thousand nodes and tens
of thousands of edges, of which about a hundred are drawn. Building that ball as a networkx
graph (a dict per node and per edge) cost most of a request. A `Region` keeps it as flat
arrays instead: node ids and kinds, and per edge its two ends (positions in the node list),
its amount and where its row lives. The strongest-link tree (`Region.tree`), the scope filter
(`api.scope.Scope.filter_region`) and the choice of what to draw all run on these arrays;
attributes are loaded only for the nodes and edges that are drawn (`attrs`, `graph`).

The region is the one `GraphStore.subgraph` would give for the same ball: the same nodes in
the same order (node table by node table, as the ids come), the same edges (each row once:
a stored edge is unique per src, dst, kind and role) added in the same row order. So a picture
built from it is the one the networkx graph gave.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from graph.adjacency import take_rows
from graph.schema import NODE_TABLES, TABLES

if TYPE_CHECKING:
    import networkx as nx

    from graph.store import GraphStore

__all__ = ["Region", "ego_region", "region_from_graph"]

_TABLE_NAMES = list(NODE_TABLES)  # a node table code (`NodeIndex.table`) -> its name


class _Source(Protocol):
    """Where a region's node and edge attributes come from (the store's tables, or a graph)."""

    def node_attrs(self, table: np.ndarray, pos: np.ndarray) -> list[dict[str, Any]]: ...

    def node_column(self, table: np.ndarray, pos: np.ndarray, column: str) -> list[Any]: ...

    def edge_tuples(self, rows: np.ndarray) -> list[tuple[str, str, str, dict[str, Any]]]: ...


@dataclass(frozen=True)
class Region:
    """Nodes (ids, kinds, where each row lives) and the edges among them, in the store's order.

    `src`/`dst` are positions in `ids`; `rows` orders the edges as they were added (ascending);
    `amount` is 0 where an edge has none.
    """

    ids: np.ndarray  # str objects
    kinds: np.ndarray  # str objects: the node kind of each node
    table: np.ndarray  # int8: the node table of each node (its source's own code)
    pos: np.ndarray  # int64: the node's row in that table
    src: np.ndarray
    dst: np.ndarray
    amount: np.ndarray
    rows: np.ndarray
    source: _Source

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def edge_count(self) -> int:
        return len(self.src)

    def index_of(self, node_id: str) -> int:
        """The position of a node id (-1 when the region does not hold it)."""
        hit = np.flatnonzero(self.ids == str(node_id))
        return int(hit[0]) if len(hit) else -1

    def mask(self, node_ids: Iterable[str]) -> np.ndarray:
        """Which nodes are among `node_ids`."""
        return np.isin(self.ids, np.asarray(list(node_ids), dtype=self.ids.dtype))

    def keep(self, mask: np.ndarray) -> Region:
        """The region with only the nodes of `mask` (order kept) and the edges between them."""
        where = np.full(len(self.ids), -1, dtype=np.int64)
        where[mask] = np.arange(int(mask.sum()))
        edges = mask[self.src] & mask[self.dst]
        return replace(self, ids=self.ids[mask], kinds=self.kinds[mask], table=self.table[mask], pos=self.pos[mask],
                       src=where[self.src[edges]], dst=where[self.dst[edges]], amount=self.amount[edges],
                       rows=self.rows[edges])

    def column(self, name: str) -> list[Any]:
        """A node attribute of every node (None where null or where its table has no such column)."""
        return self.source.node_column(self.table, self.pos, name)

    def linked(self, start: int) -> np.ndarray:
        """Whether each node is linked to node `start` by edges of the region (either direction)."""
        # scipy and networkx load when first used: each adds 0.1-0.3 s to the start of every process
        from scipy import sparse
        from scipy.sparse import csgraph

        n = len(self.ids)
        matrix = sparse.csr_matrix((np.ones(len(self.src)), (self.src, self.dst)), shape=(n, n))
        _, labels = csgraph.connected_components(matrix, directed=True, connection="weak")
        return labels == labels[start]

    def attrs(self, node_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The attributes of the named nodes (their row without nulls, plus `kind`), only these loaded."""
        at = np.flatnonzero(self.mask(node_ids))
        records = self.source.node_attrs(self.table[at], self.pos[at])
        return {str(self.ids[i]): {**rec, "kind": str(self.kinds[i])} for i, rec in zip(at.tolist(), records, strict=True)}

    def graph(self, node_ids: Iterable[str], attrs: dict[str, dict[str, Any]] | None = None) -> nx.MultiDiGraph:
        """The named nodes and the edges among them as a small graph, in the region's own order
        (so iterating it, or summing a node's edges, goes as over the whole region); `attrs`:
        the nodes' attributes when already read (`attrs`)."""
        import networkx as nx

        part = self.keep(self.mask(node_ids))
        if attrs is None:
            attrs = part.attrs(part.ids)
        g = nx.MultiDiGraph()
        g.add_nodes_from((n, attrs[n]) for n in part.ids.tolist())
        g.add_edges_from(part.source.edge_tuples(part.rows))
        return g

    def tree(self, root: int) -> tuple[dict[str, str | None], dict[str, float]]:
        """Each node's parent (its strongest link one hop nearer `root`) and that link's strength.

        The strength of a pair of nodes is the amount on all their edges, both directions, summed
        in the region's edge order (as a networkx graph iterates them: by source node, then by
        the first row of each pair, then by row). Nodes not linked to the root are left out;
        the map lists the root first, then the others by hop, then id. Ties between parents go
        to the greater id (deterministic).
        """
        n = len(self.ids)
        ids = self.ids
        src, dst, amount = self.src, self.dst, self.amount
        # the networkx iteration order of the edges: source node, first row of (src, dst), row
        directed = src * n + dst
        order0 = np.lexsort((self.rows, directed))
        pair_first = np.empty(len(directed), dtype=np.int64)
        if len(directed):
            sorted_dir = directed[order0]
            starts = np.flatnonzero(np.r_[True, sorted_dir[1:] != sorted_dir[:-1]])
            group_first = self.rows[order0][starts]
            pair_first[order0] = np.repeat(group_first, np.diff(np.r_[starts, len(sorted_dir)]))
        order = np.lexsort((self.rows, pair_first, src))
        lo, hi = np.minimum(src, dst)[order], np.maximum(src, dst)[order]
        real = lo != hi  # a self-loop is no link to another node
        pair_code, pair_index = np.unique(lo[real] * n + hi[real], return_inverse=True)
        strength = np.zeros(len(pair_code))
        np.add.at(strength, pair_index, amount[order][real])  # sequential: the same sums as a loop
        a, b = pair_code // n, pair_code % n
        # hops from the root over the pairs
        from scipy import sparse
        from scipy.sparse import csgraph

        matrix = sparse.csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
        hops = csgraph.shortest_path(matrix, directed=False, unweighted=True, indices=root)
        reach = np.isfinite(hops)
        hop = np.where(reach, hops, -1).astype(np.int64)
        # each pair seen from both ends: (child, candidate parent one hop nearer)
        child = np.concatenate([a, b])
        par = np.concatenate([b, a])
        weight = np.concatenate([strength, strength])
        near = (hop[child] > 0) & (hop[par] == hop[child] - 1)
        child, par, weight = child[near], par[near], weight[near]
        id_rank = np.empty(n, dtype=np.int64)
        id_rank[np.argsort(ids.astype(str), kind="stable")] = np.arange(n)
        best = np.lexsort((-id_rank[par], -weight, child))  # per child: strongest, then greatest id
        child, par, weight = child[best], par[best], weight[best]
        firsts = np.r_[True, child[1:] != child[:-1]] if len(child) else np.zeros(0, dtype=bool)
        parent_of = dict(zip(child[firsts].tolist(), par[firsts].tolist(), strict=True))
        weight_of = dict(zip(child[firsts].tolist(), weight[firsts].tolist(), strict=True))
        others = np.flatnonzero(reach & (np.arange(n) != root))
        others = others[np.lexsort((id_rank[others], hop[others]))]
        names = ids.tolist()
        parent: dict[str, str | None] = {names[root]: None}
        strengths: dict[str, float] = {names[root]: float("inf")}
        for node in others.tolist():
            parent[names[node]] = names[parent_of[node]]
            strengths[names[node]] = weight_of[node]
        return parent, strengths


class _StoreSource:
    """Attributes from the store's node index and adjacency (memory-mapped Arrow tables)."""

    def __init__(self, store: GraphStore) -> None:
        self.index = store._node_index()  # noqa: SLF001 - the store's own index
        self.adjacency = store.adjacency()

    def node_attrs(self, table: np.ndarray, pos: np.ndarray) -> list[dict[str, Any]]:
        from graph.store import _records

        out: list[dict[str, Any]] = [{} for _ in range(len(pos))]
        for code in np.unique(table).tolist():
            at = np.flatnonzero(table == code)
            frame = self.index.frame(_TABLE_NAMES[code], pos[at].tolist())
            for i, rec in zip(at.tolist(), _records(frame), strict=True):
                out[i] = rec
        return out

    def node_column(self, table: np.ndarray, pos: np.ndarray, column: str) -> list[Any]:
        out: list[Any] = [None] * len(pos)
        for code in np.unique(table).tolist():
            name = _TABLE_NAMES[code]
            if column not in TABLES[name].columns:
                continue
            at = np.flatnonzero(table == code)
            values = take_rows(self.index.tables[name].select([column]), pos[at]).column(0).to_pylist()
            for i, value in zip(at.tolist(), values, strict=True):
                out[i] = value
        return out

    def edge_tuples(self, rows: np.ndarray) -> list[tuple[str, str, str, dict[str, Any]]]:
        from graph.store import _edge_tuples, _records

        return list(_edge_tuples(_records(self.adjacency.edge_rows(np.sort(rows)))))


class _GraphSource:
    """Attributes from a networkx graph (a backend that answers neighbourhoods itself)."""

    def __init__(self, nodes: list[dict[str, Any]], edges: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        self.nodes, self.edges = nodes, edges

    def node_attrs(self, table: np.ndarray, pos: np.ndarray) -> list[dict[str, Any]]:
        return [{k: v for k, v in self.nodes[p].items() if k != "kind"} for p in pos.tolist()]

    def node_column(self, table: np.ndarray, pos: np.ndarray, column: str) -> list[Any]:
        return [self.nodes[p].get(column) for p in pos.tolist()]

    def edge_tuples(self, rows: np.ndarray) -> list[tuple[str, str, str, dict[str, Any]]]:
        return [(u, v, k, dict(d)) for u, v, k, d in (self.edges[r] for r in np.sort(rows).tolist())]


def region_from_graph(g: nx.MultiDiGraph) -> Region:
    """A region holding a graph's nodes and edges (in its iteration order)."""
    ids = [str(n) for n in g.nodes]
    where = {n: i for i, n in enumerate(g.nodes)}
    nodes = [dict(d) for _, d in g.nodes(data=True)]
    edges = [(u, v, k, d) for u, v, k, d in g.edges(keys=True, data=True)]
    return Region(
        ids=np.array(ids, dtype=object), kinds=np.array([str(d.get("kind") or "") for d in nodes], dtype=object),
        table=np.zeros(len(ids), dtype=np.int8), pos=np.arange(len(ids), dtype=np.int64),
        src=np.array([where[u] for u, _, _, _ in edges], dtype=np.int64),
        dst=np.array([where[v] for _, v, _, _ in edges], dtype=np.int64),
        amount=np.array([float(d.get("amount") or 0.0) for *_, d in edges], dtype=np.float64),
        rows=np.arange(len(edges), dtype=np.int64), source=_GraphSource(nodes, edges))


def ego_region(store: GraphStore, node_id: str, kinds: list[str] | None, min_amount: float | None, hops: int,
               limit: int | None, expand: int | None) -> Region:
    """The region `GraphStore.neighbors` would give as a graph, from the adjacency index and the
    node index alone (no attribute is read)."""
    adjacency = store.adjacency()
    index = store._node_index()  # noqa: SLF001 - the store's own index
    codes = adjacency.ball_codes(str(node_id), hops, kinds, min_amount, limit, expand)
    if len(codes):
        query = adjacency.ids[codes]
    else:  # no edge touches it: the node alone
        query = np.array([str(node_id).encode("utf-8")], dtype="S")
    keys = index.keys
    at = np.minimum(np.searchsorted(keys, query), max(len(keys) - 1, 0))
    found = (keys[at] == query) if len(keys) else np.zeros(len(query), dtype=bool)
    query, at = query[found], at[found]
    codes = codes[found] if len(codes) else codes
    table = index.table[at].astype(np.int8)
    pos = index.pos[at].astype(np.int64)
    # node table by node table, in the order their first id comes (as `NodeIndex.locate` gives them)
    uniq, first = np.unique(table, return_index=True)
    rank = np.empty(int(uniq.max()) + 1 if len(uniq) else 0, dtype=np.int64)
    rank[uniq[np.argsort(first)]] = np.arange(len(uniq))
    order = np.argsort(rank[table], kind="stable") if len(table) else np.zeros(0, dtype=np.int64)
    query, table, pos = query[order], table[order], pos[order]
    ids = np.array([b.decode("utf-8") for b in query.tolist()], dtype=object)
    node_kinds = np.array([TABLES[_TABLE_NAMES[t]].node_kind for t in table.tolist()], dtype=object)
    if len(codes):
        codes = codes[order]
        rows = adjacency.induced_rows(codes, kinds, min_amount)
        sorted_codes = np.argsort(codes)
        src = sorted_codes[np.searchsorted(codes, adjacency.src[rows], sorter=sorted_codes)]
        dst = sorted_codes[np.searchsorted(codes, adjacency.dst[rows], sorter=sorted_codes)]
        amount = np.asarray(adjacency.amount[rows], dtype=np.float64)
    else:
        rows = src = dst = np.zeros(0, dtype=np.int64)
        amount = np.zeros(0, dtype=np.float64)
    return Region(ids=ids, kinds=node_kinds, table=table, pos=pos, src=src.astype(np.int64),
                  dst=dst.astype(np.int64), amount=amount, rows=rows, source=_StoreSource(store))

