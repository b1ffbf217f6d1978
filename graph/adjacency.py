"""A compressed adjacency index over the `edges` table, for neighbourhoods at bank scale.

Building a networkx graph of millions of edges takes minutes and gigabytes; a request for
one entity's neighbourhood needs a few hundred rows. This index sorts edge row numbers by
source and by target once per `edges` content (numpy, a second or two for millions of edges),
so the rows touching any node are two slices away.

Everything it holds is a flat numpy array (node ids as UTF-8 bytes, looked up by binary search;
edge ends as integer codes; the row orders), so `graph.index_cache` keeps it on disk next to the
store and a restarted server memory-maps it instead of building it again. The edge rows
themselves come from an Arrow table (memory-mapped too when cached): only the rows a request
uses become pandas.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import group_starts, one_array, stable_order
from graph.schema import EDGE_KINDS, arrow_schema, conform

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["Adjacency", "index_arrays", "encode_ids", "encode_arrow_ids", "lookup", "take_rows", "ROW_COLUMNS",
           "row_table"]

_BLOCK = 1 << 18  # ids laid out per block by `encode_arrow_ids`
MONEY_KINDS = ("PAYS", "BILL", "ENDORSES", "PAYROLL")
ARRAYS = ("ids", "id_order", "src", "dst", "out", "out_start", "in_", "in_start", "kind_code", "amount")
# The columns of the edge rows kept beside the index (`row_table`): an edge's ends and kind are
# the index's own arrays (its `amount` there has a missing value as 0, so the column stays).
_ENDS = ("src", "dst", "kind")
ROW_COLUMNS = tuple(name for name in arrow_schema("edges").names if name not in _ENDS)


def encode_ids(values: Iterable[Any]) -> np.ndarray:
    """Ids as a fixed-width UTF-8 bytes array (byte order is code point order, so sorting agrees with str)."""
    return np.array([str(v).encode("utf-8") for v in values], dtype="S")


def encode_arrow_ids(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """`encode_ids` of an Arrow string column, column-wise: its UTF-8 bytes laid out in a
    fixed-width array by numpy (no Python string per id; nulls as pandas writes them, "<NA>")."""
    if isinstance(values, pa.ChunkedArray):
        values = one_array(values)
    values = pc.fill_null(values.cast(pa.large_string()), "<NA>").cast(pa.large_binary())
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[values.offset:values.offset + n + 1]
    lengths = np.diff(offsets)
    width = max(1, int(lengths.max()) if n else 1)
    out = np.zeros(n * width, dtype=np.uint8)
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8) if n else np.zeros(0, dtype=np.uint8)
    for lo in range(0, n, _BLOCK):  # a block of rows at a time: the byte positions stay small
        hi = min(n, lo + _BLOCK)
        first, last = int(offsets[lo]), int(offsets[hi])
        if last > first:
            # byte j of row i goes to i * width + j: each row's bytes shifted by one offset
            shift = np.arange(lo, hi, dtype=np.int64) * width - (offsets[lo:hi] - first)
            out[np.arange(last - first, dtype=np.int64) + np.repeat(shift, lengths[lo:hi])] = data[first:last]
    return out.view(f"S{width}")


def lookup(keys: np.ndarray, order: np.ndarray | None, wanted: Iterable[Any]) -> np.ndarray:
    """Positions in `keys` of the `wanted` ids (-1 when absent); `keys` sorted, or sorted by `order`."""
    query = encode_ids(wanted)
    if len(keys) == 0 or len(query) == 0:
        return np.full(len(query), -1, dtype=np.int64)
    at = np.searchsorted(keys, query, sorter=order)
    at = np.minimum(at, len(keys) - 1)
    pos = order[at] if order is not None else at
    return np.where(keys[pos] == query, pos, -1).astype(np.int64)


def take_rows(table: pa.Table, positions: Any) -> pa.Table:
    """The rows of `table` at `positions`, in that order, taken record batch by record batch.

    `Table.take` over a table of many chunks (a memory-mapped cache file of `graph.index_cache`
    holds one per write batch) first concatenates each string column whole: hundreds of
    milliseconds for a few rows of millions. Taking from each batch only the rows that fall in
    it touches only those rows.
    """
    rows = np.asarray(positions, dtype=np.int64)
    if len(rows) == 0:
        return table.slice(0, 0)  # `Table.take` of nothing still concatenates every chunk (0.1 s at 2M)
    batches = table.to_batches()
    if len(batches) <= 1 or rows.min() < 0 or rows.max() >= table.num_rows:
        return table.take(pa.array(rows))  # nothing to split (or a bad position: Arrow's own error)
    starts = np.cumsum([0, *(b.num_rows for b in batches)])
    batch = np.searchsorted(starts, rows, side="right") - 1
    order = np.argsort(batch, kind="stable")
    bounds = np.searchsorted(batch[order], np.arange(len(batches) + 1))
    parts = [batches[b].take(pa.array(rows[order[lo:hi]] - starts[b]))
             for b, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)) if hi > lo]
    taken = pa.Table.from_batches(parts, schema=table.schema)
    if np.array_equal(order, np.arange(len(rows))):
        return taken  # already in batch order (sorted positions)
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return taken.combine_chunks().take(pa.array(back))


def index_arrays(edges: pa.Table) -> dict[str, np.ndarray]:
    """The flat arrays of the index (`ARRAYS`) from the `edges` rows' src, dst, kind and amount
    columns (the only ones read), column-wise: no id is ever a Python string."""
    src, dst = one_array(_id_strings(edges["src"])), _id_strings(edges["dst"])
    # one hash pass over both ends (codes in first-seen order, like pd.unique + get_indexer); of
    # the sources, only the first row of each run of equal ids (the stored edges are sorted by
    # source within each money kind: at 2M payments 1.58M runs in 3.62M rows) — the same ids in
    # the same order, for about a third less CPU
    runs = group_starts(src)
    heads = src.filter(pa.array(runs))
    both = pa.chunked_array([heads, *dst.chunks], type=pa.large_string()).combine_chunks()
    encoded = both.dictionary_encode()
    codes = np.asarray(encoded.indices.to_numpy(), dtype=np.int64)
    ids = encode_arrow_ids(encoded.dictionary)
    del both, encoded
    src_codes = codes[: len(heads)][np.cumsum(runs) - 1]
    dst_codes = codes[len(heads):]
    del heads, runs
    n = len(ids)
    out = stable_order(src_codes)  # np.argsort(kind="stable"), 2x faster
    in_ = stable_order(dst_codes)
    kind_code = pc.fill_null(pc.index_in(_id_strings(edges["kind"]), value_set=pa.array(EDGE_KINDS,
                                                                                          pa.large_string())), -1)
    amount = pc.fill_null(edges["amount"].cast(pa.float64()), 0.0)
    amount = np.asarray(amount.to_numpy(), dtype=np.float64)
    arrays = {
        "ids": ids, "id_order": np.argsort(ids, kind="stable"), "src": src_codes, "dst": dst_codes,
        "out": out, "out_start": np.searchsorted(src_codes[out], np.arange(n + 1)),
        "in_": in_, "in_start": np.searchsorted(dst_codes[in_], np.arange(n + 1)),
        "kind_code": np.asarray(kind_code.to_numpy(), dtype=np.int8),
        "amount": np.where(np.isnan(amount), 0.0, amount),  # missing or not a number: 0
    }
    return arrays


class Adjacency:
    """Row positions of the edges touching each node, in and out."""

    def __init__(self, edges: pd.DataFrame | pa.Table) -> None:
        """From the `edges` rows, as a frame or as Arrow (e.g. read from the store's Parquet file:
        the index is then built column-wise, no id ever a Python string)."""
        table = edges if isinstance(edges, pa.Table) else pa.Table.from_pandas(edges, preserve_index=False)
        arrays = index_arrays(table)
        self._load(arrays, table)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], edges: pa.Table) -> Adjacency:
        """The index from arrays `arrays()` gave (e.g. memory-mapped from disk) and the edge rows."""
        self = cls.__new__(cls)
        self._load(arrays, edges)
        return self

    def _load(self, arrays: dict[str, np.ndarray], edges: pa.Table) -> None:
        # plain views of memory-mapped arrays: indexing a `np.memmap` wraps every result in one
        arrays = {name: np.asarray(values) for name, values in arrays.items()}
        self._arrays = arrays
        self.ids, self.id_order = arrays["ids"], arrays["id_order"]
        self.src, self.dst = arrays["src"], arrays["dst"]
        self._out, self._out_start = arrays["out"], arrays["out_start"]
        self._in, self._in_start = arrays["in_"], arrays["in_start"]
        self.kind_code = arrays["kind_code"]
        self.amount = arrays["amount"]
        self.money = np.isin(self.kind_code, _kind_codes(MONEY_KINDS))
        self.edge_table = edges
        self._csr: dict[tuple[str, ...] | None, sparse.csr_matrix] = {}
        self._csr_lock = threading.Lock()
        self._id_rank: np.ndarray | None = None
        self._fixed_ids: pa.FixedSizeBinaryArray | None = None  # `ids` as Arrow sees them (`id_texts`)

    @property
    def id_rank(self) -> np.ndarray:
        """Each node code's place among the ids in order (sorting by it sorts by id)."""
        if self._id_rank is None:
            rank = np.empty(len(self.id_order), dtype=np.int64)
            rank[self.id_order] = np.arange(len(self.id_order))
            self._id_rank = rank
        return self._id_rank

    def arrays(self) -> dict[str, np.ndarray]:
        """The flat arrays that make the index (what `graph.index_cache` writes to disk)."""
        return dict(self._arrays)

    @property
    def node_count(self) -> int:
        return len(self.ids)

    def edge_rows(self, rows: np.ndarray) -> pd.DataFrame:
        """The `edges` rows at these positions, in the schema's shape (only these become pandas);
        from rows kept without their ends and kind (`row_table`), those come from the index."""
        rows = np.asarray(rows, dtype=np.int64)
        table = take_rows(self.edge_table, rows)
        if "src" not in table.column_names:  # column-wise: a path's region can be thousands of rows
            table = table.append_column("src", self.id_texts(self.src[rows])).append_column(
                "dst", self.id_texts(self.dst[rows])).append_column(
                "kind", pa.array(EDGE_KINDS, pa.string()).take(pa.array(self.kind_code[rows])))
            schema = arrow_schema("edges")  # the stored shape: pandas then gives the schema's dtypes at once
            table = table.select(schema.names).cast(schema)
        return conform("edges", table.to_pandas())

    def id_texts(self, codes: np.ndarray) -> pa.Array:
        """The ids of node codes as Arrow strings, column-wise: the fixed-width bytes of `ids`
        seen in place by Arrow, taken, and trimmed of their padding (no Python string per id)."""
        if self._fixed_ids is None:
            self._fixed_ids = pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(self.ids.dtype.itemsize), len(self.ids), [None, pa.py_buffer(np.ascontiguousarray(self.ids))])
        taken = self._fixed_ids.take(pa.array(np.asarray(codes, dtype=np.int64)))
        return pc.utf8_rtrim(taken.cast(pa.binary()).cast(pa.string()), characters="\x00")

    def kinds_of(self, rows: np.ndarray) -> np.ndarray:
        """The edge kind of each row, as strings."""
        return np.array(EDGE_KINDS)[self.kind_code[rows]]

    def csr(self, kinds: Iterable[str] | None = None) -> sparse.csr_matrix:
        """The undirected node-to-node matrix of the edges of `kinds` (all when None), built
        once per kind set (scipy, a second or two for millions of edges) for compiled searches."""
        key = tuple(sorted(set(kinds))) if kinds is not None else None
        with self._csr_lock:
            found = self._csr.get(key)
            if found is None:
                rows = (np.arange(len(self.kind_code)) if key is None
                        else np.flatnonzero(np.isin(self.kind_code, _kind_codes(key))))
                found = self._csr[key] = self.matrix(rows)
            return found

    def matrix(self, rows: np.ndarray) -> sparse.csr_matrix:
        """The undirected node-to-node matrix of the given edge rows (self-loops left out)."""
        from scipy import sparse  # loaded when first used (0.2-0.3 s of a process start)

        n = self.node_count
        src, dst = self.src[rows], self.dst[rows]
        keep = src != dst
        src, dst = src[keep], dst[keep]
        ones = np.ones(2 * len(src), dtype=np.float64)
        matrix = sparse.csr_matrix((ones, (np.concatenate([src, dst]), np.concatenate([dst, src]))), shape=(n, n))
        matrix.data[:] = 1.0  # parallel edges were summed: any link is one hop
        return matrix

    def hops(self, matrix: sparse.csr_matrix, start: int, cutoff: int) -> np.ndarray:
        """Hop counts from node code `start` over the symmetric `matrix` (-1: farther than `cutoff`).

        A breadth-first search one hop at a time over the matrix's index arrays (numpy): each hop
        gathers the neighbours of the frontier, so it costs the edges it touches, never the size
        of the graph (a heap-based search with a distance limit still sets up every node).
        """
        dist = np.full(matrix.shape[0], -1, dtype=np.int32)
        dist[start] = 0
        frontier = np.array([start], dtype=np.int64)
        for depth in range(1, cutoff + 1):
            reached = _gather(matrix.indices, matrix.indptr, frontier)
            reached = reached[dist[reached] < 0]
            if len(reached) == 0:
                break
            dist[reached] = depth
            frontier = np.flatnonzero(dist == depth)  # each node once
        return dist

    def extend(self, matrix: sparse.csr_matrix, dist: np.ndarray, done: int, cutoff: int,
               candidates: np.ndarray) -> np.ndarray:
        """Hop counts `dist` of a search complete up to `done` hops, continued up to `cutoff` over
        the `candidates` only (node codes; a copy is returned): a candidate is d hops away when a
        neighbour is d - 1 away, so the search is the one restricted to the nodes already reached
        and the candidates. Pulling costs the candidates' edges, not the last ring's (the second
        ring around a hub can hold a quarter of the graph)."""
        dist = dist.copy()
        todo = np.unique(np.asarray(candidates, dtype=np.int64))
        todo = todo[dist[todo] < 0]
        for depth in range(done + 1, cutoff + 1):
            if len(todo) == 0:
                break
            near = dist[_gather(matrix.indices, matrix.indptr, todo)] == depth - 1
            owner = np.repeat(np.arange(len(todo)), matrix.indptr[todo + 1] - matrix.indptr[todo])
            reached = np.zeros(len(todo), dtype=bool)
            reached[owner[near]] = True
            dist[todo[reached]] = depth
            todo = todo[~reached]
        return dist

    def code(self, node_id: str) -> int:
        """The node code of an id (-1 when no edge touches it)."""
        return int(self.codes([node_id])[0])

    def codes(self, node_ids: Iterable[Any]) -> np.ndarray:
        """The node codes of ids (-1 for an id no edge touches)."""
        return lookup(self.ids, self.id_order, node_ids)

    def names(self, codes: np.ndarray) -> list[str]:
        """The ids of node codes."""
        return [b.decode("utf-8") for b in self.ids[np.asarray(codes, dtype=np.int64)].tolist()]

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
        dist = np.full(self.node_count, -1, dtype=np.int32)
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
            wanted = np.zeros(len(EDGE_KINDS), dtype=bool)
            wanted[_kind_codes(kinds)] = True
            keep &= wanted[self.kind_code[rows]]
        if min_amount is not None:
            keep &= ~self.money[rows] | (self.amount[rows] >= min_amount)
        return rows[keep]

    def ball(self, start: str, hops: int, kinds: Iterable[str] | None = None, min_amount: float | None = None,
             limit: int | None = None, expand: int | None = None) -> list[str]:
        """Node ids within `hops` of `start` (start first); per hop the `limit` strongest by amount,
        of which only the `expand` strongest are followed to the next hop (default: all)."""
        codes = self.ball_codes(start, hops, kinds, min_amount, limit, expand)
        return self.names(codes) if len(codes) else [start]

    def ball_codes(self, start: str, hops: int, kinds: Iterable[str] | None = None, min_amount: float | None = None,
                   limit: int | None = None, expand: int | None = None) -> np.ndarray:
        """The node codes of `ball` (empty when no edge touches `start`)."""
        first = self.code(start)
        if first < 0:
            return np.empty(0, dtype=np.int64)
        kinds = list(kinds) if kinds is not None else None
        seen = np.zeros(self.node_count, dtype=bool)  # flags over every node: a lookup, not a search
        seen[first] = True
        inside = np.zeros(self.node_count, dtype=bool)
        order = [np.array([first], dtype=np.int64)]
        frontier = order[0]
        for _ in range(max(1, hops)):
            # a row between two frontier nodes comes twice: no harm to a maximum, so no sort to drop it
            touching = np.concatenate([_gather(self._out, self._out_start, frontier),
                                       _gather(self._in, self._in_start, frontier)])
            rows = self.mask(touching, kinds, min_amount)
            if len(rows) == 0:
                break
            src, dst = self.src[rows], self.dst[rows]
            inside[frontier] = True
            other = np.where(inside[src], dst, src)
            inside[frontier] = False
            new = ~seen[other]
            other, amount = other[new], self.amount[rows][new]
            if len(other) == 0:
                break
            # each neighbour's strongest edge, then the strongest neighbours first (ties: by id)
            by_node = np.lexsort((-amount, other))
            other, amount = other[by_node], amount[by_node]
            firsts = np.r_[True, other[1:] != other[:-1]]
            node, best = other[firsts], amount[firsts]
            picked = node[np.lexsort((self.id_rank[node], -best))]
            if limit is not None:
                picked = picked[:limit]
            seen[picked] = True
            order.append(picked)
            frontier = picked if expand is None else picked[:expand]
        return np.concatenate(order).astype(np.int64)

    def induced(self, node_ids: Iterable[str], kinds: Iterable[str] | None = None,
                min_amount: float | None = None) -> pd.DataFrame:
        """The edges among `node_ids` (both ends inside), filtered."""
        return self.edge_rows(self.induced_rows(self.codes(list(node_ids)), kinds, min_amount))

    def induced_rows(self, codes: np.ndarray, kinds: Iterable[str] | None = None,
                     min_amount: float | None = None) -> np.ndarray:
        """The rows of the edges among node `codes` (both ends inside), filtered, ascending."""
        codes = np.unique(np.asarray(codes, dtype=np.int64))
        codes = codes[codes >= 0]
        # an edge with both ends inside is an out-edge of its source: one slice per node, each row once
        rows = np.sort(_gather(self._out, self._out_start, codes))
        inside = np.zeros(self.node_count, dtype=bool)
        inside[codes] = True
        return self.mask(rows[inside[self.dst[rows]]], list(kinds) if kinds is not None else None, min_amount)


def row_table(edges: pa.Table | pa.RecordBatch) -> pa.Table:
    """The edge rows as kept beside the index: `ROW_COLUMNS`, text as Arrow's 32-bit-offset
    strings (a kept batch is far below their 2 GiB limit). At 20M payments the index's copy of
    the 36.5M edges fell from 4.5 to about 2.5 GB: the ends and kind were a third of it, and the
    role, position and title of every money edge, null, 12 bytes of offsets each."""
    table = edges if isinstance(edges, pa.Table) else pa.Table.from_batches([edges])
    fields = [pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type)
              for f in arrow_schema("edges") if f.name in ROW_COLUMNS]
    return table.select(list(ROW_COLUMNS)).cast(pa.schema(fields))


def _id_strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """An id column as Arrow strings, missing ones as "<NA>" (what `astype(str)` made of them)."""
    return pc.fill_null(column.cast(pa.large_string()), "<NA>")


def _kind_codes(kinds: Iterable[str]) -> np.ndarray:
    """The codes of edge kinds (their positions in EDGE_KINDS); unknown kinds match nothing."""
    return np.array([EDGE_KINDS.index(k) for k in kinds if k in EDGE_KINDS], dtype=np.int8)


def _gather(order: np.ndarray, start: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Concatenate the slices order[start[c]:start[c+1]] for every code, without a Python loop."""
    lo, hi = start[codes], start[codes + 1]
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(lo - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return order[np.arange(total) + shift]
