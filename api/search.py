"""Entity search: exact id, then USCC, then name contains, then fuzzy names (rapidfuzz)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from graph.schema import NODE_TABLES
from graph.store import GraphStore

__all__ = ["Hit", "search_entities"]


@dataclass(frozen=True)
class Hit:
    id: str
    match: str  # id | uscc | name | fuzzy
    score: float


@dataclass
class _Index:
    ids: list[str]
    names: list[str]
    folded: list[str]
    is_person: list[bool]
    by_uscc: dict[str, str]
    choices: dict[bool, dict[int, str]]  # person_names -> {position: name} for rapidfuzz


_indexes: dict[tuple[str, str | None], _Index] = {}
_lock = threading.Lock()


def _index(store: GraphStore) -> _Index:
    key = store.cache_key
    with _lock:
        hit = _indexes.get(key)
    if hit is not None:
        return hit
    ids: list[str] = []
    names: list[str] = []
    is_person: list[bool] = []
    for table, spec in NODE_TABLES.items():
        df = store.read(table, ["id", "name"]).dropna(subset=["id"])
        ids += [str(v) for v in df["id"].tolist()]
        names += ["" if n is None or n != n else str(n) for n in df["name"].astype(object).tolist()]
        is_person += [spec.node_kind == "Person"] * len(df)
    ent = store.read("enterprises", ["id", "uscc"]).dropna()
    by_uscc = {str(u).upper(): str(i) for i, u in zip(ent["id"], ent["uscc"], strict=True)}
    choices = {flag: {i: n for i, n in enumerate(names) if n and (flag or not is_person[i])}
               for flag in (True, False)}
    index = _Index(ids, names, [n.casefold() for n in names], is_person, by_uscc, choices)
    with _lock:
        if len(_indexes) > 8:
            _indexes.clear()
        _indexes[key] = index
    return index


def search_entities(store: GraphStore, q: str, *, limit: int = 20, person_names: bool = True,
                    threshold: float = 60.0) -> list[Hit]:
    """Best hits first. With `person_names` false, persons are found by exact id only."""
    q = q.strip()
    if not q:
        return []
    index = _index(store)
    hits: dict[str, Hit] = {}

    def add(node_id: str, match: str, score: float) -> None:
        if node_id not in hits and len(hits) < limit:
            hits[node_id] = Hit(node_id, match, score)

    if store.node(q) is not None:
        add(q, "id", 100.0)
    uscc = index.by_uscc.get(q.upper())
    if uscc:
        add(uscc, "uscc", 100.0)
    folded = q.casefold()
    choices = index.choices[person_names]
    contains = [i for i in choices if folded in index.folded[i]]
    # a shorter name that contains the query is the closer match
    for i in sorted(contains, key=lambda i: (len(index.names[i]), index.ids[i]))[:limit]:
        add(index.ids[i], "name", round(80.0 + 20.0 * len(q) / max(len(index.names[i]), 1), 1))
    exact = any(h.match in ("id", "uscc") for h in hits.values())
    if len(hits) < limit and len(q) >= 2 and not exact:  # an exact id or USCC needs no guessing
        found: list[Any] = process.extract(q, choices, scorer=fuzz.WRatio, limit=limit * 2,
                                           score_cutoff=threshold)
        for _, score, i in found:
            add(index.ids[i], "fuzzy", round(float(score), 1))
    return list(hits.values())
