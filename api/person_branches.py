"""Person id -> branch id, from the store's node index: who a person is, for masking (`api.masking`)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.adjacency import lookup
from graph.schema import NODE_TABLES
from graph.store import GraphStore

__all__ = ["PersonBranches", "person_branches"]

_lock = threading.Lock()
_persons: dict[tuple[str, str | None], PersonBranches] = {}


class PersonBranches:
    """Person id → branch id, found in the store's node index when first asked and remembered
    (`in`, `get` and `[]`; not iterable: it knows only the ids asked so far).

    A dict of every person (a million at bank scale) took a second per version, on the first
    request that rendered a reason; the index already holds every id (sorted) with its table
    and row, so only the persons' branch column is read (memory-mapped) and coded once.
    """

    def __init__(self, store: GraphStore) -> None:
        self._found: dict[str, str | None] = {}
        index = store._node_index()  # noqa: SLF001 - the store's own node index
        self._keys = index.keys
        person = index.table == list(NODE_TABLES).index("persons")
        column = index.tables["persons"].column("branch_id") if "branch_id" in index.tables["persons"].column_names \
            else pa.nulls(index.tables["persons"].num_rows, pa.string())
        codes, self._names = pd.factorize(pd.Series(column.to_pandas(), dtype=object).where(lambda b: b != "", None))
        self._branch = np.where(person, codes[np.where(person, index.pos, 0)], -2)  # -1: no branch, -2: no person
        self._absent: set[str] = set()
        self._lock = threading.Lock()

    def _find(self, key: str) -> bool:
        if key in self._found:
            return True
        if key in self._absent:
            return False
        at = int(lookup(self._keys, None, [key])[0])
        code = int(self._branch[at]) if at >= 0 else -2
        with self._lock:
            if code == -2:
                self._absent.add(key)
                return False
            self._found[key] = str(self._names[code]) if code >= 0 else None
        return True

    def prefetch(self, keys: Iterable[Any]) -> None:
        """Find the ids not asked yet in one search (a picture's folded thousands), not one by one."""
        todo = [k for k in dict.fromkeys(str(k) for k in keys) if k not in self._found and k not in self._absent]
        if not todo:
            return
        codes = np.where((at := lookup(self._keys, None, todo)) >= 0, self._branch[np.maximum(at, 0)], -2)
        with self._lock:
            for key, code in zip(todo, codes.tolist(), strict=True):
                if code == -2:
                    self._absent.add(key)
                else:
                    self._found[key] = str(self._names[code]) if code >= 0 else None

    def __contains__(self, key: object) -> bool:
        return self._find(str(key))

    def get(self, key: str, default: Any = None) -> Any:
        return self._found[str(key)] if self._find(str(key)) else default

    def __getitem__(self, key: str) -> str | None:
        if not self._find(str(key)):
            raise KeyError(key)
        return self._found[str(key)]


def person_branches(store: GraphStore) -> PersonBranches:
    """Person id → branch id, cached per store version (who the person is, for masking)."""
    key = store.cache_key
    with _lock:
        hit = _persons.get(key)
    if hit is None:
        hit = PersonBranches(store)
        with _lock:
            if len(_persons) > 8:
                _persons.clear()
            _persons[key] = hit
    return hit


