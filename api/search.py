"""Entity search: exact id, then USCC, then name contains, then fuzzy names (rapidfuzz)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from graph.arrays import one_array
from graph.schema import NODE_TABLES
from graph.store import GraphStore

__all__ = ["Hit", "search_entities", "search_index"]


@dataclass(frozen=True)
class Hit:
    id: str
    match: str  # id | uscc | name | fuzzy
    score: float


@dataclass
class _Index:
    """A version's nodes as columns (row i is one node): searched with Arrow kernels; the names
    are Python strings once per version, for rapidfuzz only."""

    ids: pa.Array
    lengths: np.ndarray  # characters in each name (0: no name)
    folded: pa.Array  # names in lower case, "" where none
    is_person: np.ndarray
    id_rank: np.ndarray  # each id's place in id order (the tie-break of equal lengths)
    usccs: pa.Array  # enterprises' USCCs in upper case, with `uscc_ids`
    uscc_ids: pa.Array
    choices: dict[bool, _Names]  # person_names -> the names rapidfuzz compares
    branches: pa.Array  # each node's branch ("" where it has none: shared by every branch)

    def admitted(self, branch: str | None) -> np.ndarray:
        """Which nodes a viewer of `branch` may find (None: every branch): `Viewer.in_scope`, on
        the column, so another branch's hits never take the places of the viewer's own."""
        if branch is None:
            return np.ones(len(self.branches), dtype=bool)
        return np.asarray(pc.is_in(self.branches, value_set=pa.array(["", branch])), dtype=bool)


@dataclass
class _Names:
    """Distinct names (rapidfuzz compares each once: a million persons hold far fewer names) and
    the nodes holding each, in node order."""

    distinct: list[str]
    nodes: np.ndarray  # node positions grouped by name, each group in node order
    starts: np.ndarray  # where each distinct name's group starts in `nodes` (one more at the end)

    @classmethod
    def of(cls, names: pa.Array) -> _Names:
        coded = pc.dictionary_encode(names, null_encoding="mask").combine_chunks() \
            if isinstance(names, pa.ChunkedArray) else pc.dictionary_encode(names, null_encoding="mask")
        codes = coded.indices.to_numpy(zero_copy_only=False)
        valid = np.asarray(coded.indices.is_valid())
        kept = np.flatnonzero(valid)
        nodes = kept[np.argsort(codes[kept], kind="stable")]
        starts = np.searchsorted(codes[nodes], np.arange(len(coded.dictionary) + 1))
        return cls(coded.dictionary.to_pylist(), nodes, starts)

    def best(self, q: str, count: int, threshold: float) -> list[tuple[int, float]]:
        """The `count` best (node, score) pairs, best first, equal scores in node order."""
        found = process.extract(q, self.distinct, scorer=fuzz.WRatio, limit=count, score_cutoff=threshold)
        pairs = [(int(node), float(score)) for _, score, j in found
                 for node in self.nodes[self.starts[j]:self.starts[j + 1]].tolist()]
        return sorted(pairs, key=lambda p: (-p[1], p[0]))[:count]


_indexes: dict[tuple[str, str | None], _Index] = {}
_lock = threading.Lock()
_building = threading.Lock()


def search_index(store: GraphStore) -> _Index:
    """The version's search index, built once per process and version."""
    key = store.cache_key
    with _lock:
        hit = _indexes.get(key)
    if hit is not None:
        return hit
    with _building:  # built once per version: a second caller (the warm-up, a request) waits
        with _lock:
            hit = _indexes.get(key)
        return hit if hit is not None else _build(store, key)


def _build(store: GraphStore, key: tuple[str, str | None]) -> _Index:
    ids, names, person, branches = [], [], [], []
    for table, spec in NODE_TABLES.items():
        has_branch = "branch_id" in spec.columns
        df = store.read(table, ["id", "name", "branch_id"] if has_branch else ["id", "name"]).dropna(subset=["id"])
        ids.append(_strings(df["id"]))
        names.append(_strings(df["name"]))
        person.append(np.full(len(df), spec.node_kind == "Person"))
        branches.append((_strings(df["branch_id"]) if has_branch else pa.nulls(len(df), pa.string())).fill_null(""))
    all_ids, all_names = pa.concat_arrays(ids), pa.concat_arrays(names).fill_null("")
    is_person = np.concatenate(person)
    rank = np.empty(len(all_ids), dtype=np.int64)
    rank[pc.sort_indices(all_ids).to_numpy()] = np.arange(len(all_ids))
    named = pc.if_else(pc.equal(all_names, ""), pa.scalar(None, pa.string()), all_names)
    companies = pc.if_else(pa.array(is_person), pa.scalar(None, pa.string()), named)
    ent = store.read("enterprises", ["id", "uscc"]).dropna()
    index = _Index(all_ids, pc.utf8_length(all_names).to_numpy(zero_copy_only=False).astype(np.int64),
                   pc.utf8_lower(all_names), is_person, rank,
                   pc.utf8_upper(_strings(ent["uscc"])), _strings(ent["id"]),
                   {True: _Names.of(named), False: _Names.of(companies)}, pa.concat_arrays(branches))
    with _lock:
        if len(_indexes) > 8:
            _indexes.clear()
        _indexes[key] = index
    return index


def _strings(values: pd.Series) -> pa.Array:
    column = pa.array(values.astype("string"), pa.string())
    return one_array(column)


def search_entities(store: GraphStore, q: str, *, limit: int = 20, person_names: bool = True,
                    threshold: float = 60.0, branch: str | None = None) -> list[Hit]:
    """Best hits first, of the nodes a viewer of `branch` may see (None: every branch). With
    `person_names` false, persons are found by exact id only."""
    q = q.strip()
    if not q:
        return []
    index = search_index(store)
    admitted = index.admitted(branch)
    hits: dict[str, Hit] = {}

    def add(node_id: str, match: str, score: float) -> None:
        if node_id not in hits and len(hits) < limit:
            hits[node_id] = Hit(node_id, match, score)

    def sees(node_id: str) -> bool:  # one named node (an id, a USCC's few enterprises)
        node = store.node(node_id)
        return node is not None and (branch is None or node.get("branch_id") in (None, "", branch))

    if sees(q):
        add(q, "id", 100.0)
    # every enterprise with this USCC: two sharing one is a data error the user should see
    same = np.flatnonzero(pc.equal(index.usccs, q.upper()).to_numpy(zero_copy_only=False))
    for node_id in sorted(str(v) for v in index.uscc_ids.take(same).to_pylist()):
        if sees(node_id):
            add(node_id, "uscc", 100.0)
    # names containing the query (case folded): a shorter name is the closer match, then by id
    contains = pc.match_substring(index.folded, pc.utf8_lower(pa.scalar(q)).as_py()).to_numpy(zero_copy_only=False)
    contains &= (index.lengths > 0) & admitted
    if not person_names:
        contains &= ~index.is_person
    found = np.flatnonzero(contains)
    found = found[np.lexsort((index.id_rank[found], index.lengths[found]))][:limit]
    for node_id, length in zip(index.ids.take(found).to_pylist(), index.lengths[found].tolist(), strict=True):
        add(node_id, "name", round(80.0 + 20.0 * len(q) / max(length, 1), 1))
    exact = any(h.match in ("id", "uscc") for h in hits.values())
    if len(hits) < limit and len(q) >= 2 and not exact:  # an exact id or USCC needs no guessing
        wanted = limit * 2 if branch is None else limit * 8  # another branch's names are left out below
        for i, score in index.choices[person_names].best(q, wanted, threshold):
            if admitted[i]:
                add(str(index.ids[i]), "fuzzy", round(score, 1))
    return list(hits.values())
