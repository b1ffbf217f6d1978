"""A compressed adjacency index over the `edges` table, for neighbourhoods at bank scale.

Building a networkx graph of millions of edges takes minutes and gigabytes; a request for
one entity's neighbourhood needs a few hundred rows. This index sorts edge row numbers by
source and by target once per store version (numpy, a second or two for millions of edges),
so the rows touching any node are two slices away.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

__all__ = ["Adjacency"]

MONEY_KINDS = ("PAYS", "BILL", "ENDORSES", "PAYROLL")


class Adjacency:
    """Row positions of the edges touching each node, in and out."""

    def __init__(self, edges: pd.DataFrame) -> None:
        self.edges = edges
        src = edges["src"].astype(str).to_numpy()
        dst = edges["dst"].astype(str).to_numpy()
        # one hash pass over both ends (codes in first-seen order, like pd.unique + get_indexer)
        codes, uniques = pd.factorize(np.concatenate([src, dst]))
        self.ids = pd.Index(uniques)
        self.src = codes[: len(src)]
        self.dst = codes[len(src):]
        n = len(self.ids)
        self._out = np.argsort(self.src, kind="stable")
        self._out_start = np.searchsorted(self.src[self._out], np.arange(n + 1))
        self._in = np.argsort(self.dst, kind="stable")
        self._in_start = np.searchsorted(self.dst[self._in], np.arange(n + 1))
        self.kind = edges["kind"].astype(str).to_numpy()
        self.amount = pd.to_numeric(edges["amount"], errors="coerce").fillna(0.0).to_numpy()
        self.money = np.isin(self.kind, MONEY_KINDS)
        self._csr: dict[tuple[str, ...] | None, sparse.csr_matrix] = {}
        self._csr_lock = threading.Lock()

    def csr(self, kinds: Iterable[str] | None = None) -> sparse.csr_matrix:
        """The undirected node-to-node matrix of the edges of `kinds` (all when None), built
        once per kind set (scipy, a second or two for millions of edges) for compiled searches."""
        key = tuple(sorted(set(kinds))) if kinds is not None else None
        with self._csr_lock:
            found = self._csr.get(key)
            if found is None:
                rows = np.arange(len(self.kind)) if key is None else np.flatnonzero(np.isin(self.kind, list(key)))
                found = self._csr[key] = self.matrix(rows)
            return found

    def matrix(self, rows: np.ndarray) -> sparse.csr_matrix:
        """The undirected node-to-node matrix of the given edge rows (self-loops left out)."""
        n = len(self.ids)
        src, dst = self.src[rows], self.dst[rows]
        keep = src != dst
        src, dst = src[keep], dst[keep]
        # float64: the dtype csgraph works in, so a search does not copy the matrix
        ones = np.ones(2 * len(src), dtype=np.float64)
        matrix = sparse.csr_matrix((ones, (np.concatenate([src, dst]), np.concatenate([dst, src]))), shape=(n, n))
        matrix.data[:] = 1.0  # parallel edges were summed: any link is one hop
        return matrix

    def hops(self, matrix: sparse.csr_matrix, start: int, cutoff: int) -> np.ndarray:
        """Hop counts from node code `start` over `matrix` (-1: farther than `cutoff`); a
        breadth-first search in compiled code (scipy.sparse.csgraph)."""
        # the matrix is symmetric, so a directed search follows every edge both ways without
        # the transpose an undirected search would build
        dist = csgraph.dijkstra(matrix, directed=True, indices=start, unweighted=True, limit=cutoff + 0.5)
        return np.where(np.isfinite(dist), dist, -1).astype(np.int32)

    def code(self, node_id: str) -> int:
        pos = self.ids.get_indexer([node_id])[0]
        return int(pos)

    def rows(self, codes: np.ndarray) -> np.ndarray:
        """Edge rows touching any of the node codes (out and in), each row once."""
        codes = np.asarray(codes, dtype=np.int64)
        codes = codes[codes >= 0]
        if len(codes) == 0:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate([_gather(self._out, self._out_start, codes),
                                         _gather(self._in, self._in_start, codes)]))

    def distances(self, start: int, cutoff: int, kinds: Iterable[str] | None = None,
                  extra_rows: np.ndarray | None = None, within: np.ndarray | None = None) -> np.ndarray:
        """Hop counts from node code `start` in either direction (-1: farther than `cutoff`).

        Edges of `kinds` (all when None) are followed, and the edge rows `extra_rows` whatever
        their kind; `within` (a boolean mask over node codes) keeps the search inside a region.
        """
        dist = np.full(len(self.ids), -1, dtype=np.int32)
        if start < 0:
            return dist
        dist[start] = 0
        frontier = np.array([start], dtype=np.int64)
        wanted = list(kinds) if kinds is not None else None
        extra = extra_rows if extra_rows is not None and len(extra_rows) and wanted is not None else None
        for depth in range(1, cutoff + 1):
            # duplicates do no harm here: skip the sort that `rows` does to drop them
            touching = np.concatenate([_gather(self._out, self._out_start, frontier),
                                       _gather(self._in, self._in_start, frontier)])
            rows = self.mask(touching, wanted, None)
            if extra is not None:
                rows = np.concatenate([rows, touching[np.isin(touching, extra)]])
            if len(rows) == 0:
                break
            other = np.unique(np.concatenate([self.src[rows], self.dst[rows]]))
            other = other[dist[other] < 0]
            if within is not None:
                other = other[within[other]]
            if len(other) == 0:
                break
            dist[other] = depth
            frontier = other
        return dist

    def mask(self, rows: np.ndarray, kinds: Iterable[str] | None, min_amount: float | None) -> np.ndarray:
        keep = np.ones(len(rows), dtype=bool)
        if kinds is not None:
            keep &= np.isin(self.kind[rows], list(kinds))
        if min_amount is not None:
            keep &= ~self.money[rows] | (self.amount[rows] >= min_amount)
        return rows[keep]

    def ball(self, start: str, hops: int, kinds: Iterable[str] | None = None, min_amount: float | None = None,
             limit: int | None = None) -> list[str]:
        """Node ids within `hops` of `start` (start first); per hop the `limit` strongest by amount."""
        first = self.code(start)
        if first < 0:
            return [start]
        kinds = list(kinds) if kinds is not None else None
        seen = {first}
        order = [first]
        frontier = np.array([first])
        for _ in range(max(1, hops)):
            rows = self.mask(self.rows(frontier), kinds, min_amount)
            if len(rows) == 0:
                break
            src, dst = self.src[rows], self.dst[rows]
            in_frontier = np.isin(src, frontier)
            other = np.where(in_frontier, dst, src)
            frame = pd.DataFrame({"node": other, "amount": self.amount[rows]})
            frame = frame[~frame["node"].isin(seen)]
            if frame.empty:
                break
            best = frame.groupby("node", sort=False)["amount"].max().reset_index()
            best["id"] = self.ids[best["node"].to_numpy()].astype(str)
            best = best.sort_values(["amount", "id"], ascending=[False, True])
            if limit is not None:
                best = best.head(limit)
            picked = best["node"].to_numpy()
            seen.update(picked.tolist())
            order.extend(picked.tolist())
            frontier = picked
        return [str(i) for i in self.ids[np.asarray(order)].tolist()]

    def induced(self, node_ids: Iterable[str], kinds: Iterable[str] | None = None,
                min_amount: float | None = None) -> pd.DataFrame:
        """The edges among `node_ids` (both ends inside), filtered."""
        codes = self.ids.get_indexer(list(node_ids))
        codes = codes[codes >= 0]
        rows = self.mask(self.rows(codes), list(kinds) if kinds is not None else None, min_amount)
        inside = np.isin(self.src[rows], codes) & np.isin(self.dst[rows], codes)
        return self.edges.iloc[rows[inside]]


def _gather(order: np.ndarray, start: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Concatenate the slices order[start[c]:start[c+1]] for every code, without a Python loop."""
    lo, hi = start[codes], start[codes + 1]
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(lo - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return order[np.arange(total) + shift]
