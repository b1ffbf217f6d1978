"""Answers kept per store version: the same request gets an equal, independent copy; a new
version is never answered from the old one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from graph.networkx_store import NetworkxStore
from graph.paths import find_paths


def _store(root: Path, edges: list[tuple[str, str, str, float]]) -> NetworkxStore:
    store = NetworkxStore(root)
    ids = sorted({e for row in edges for e in row[:2]})
    store.write({"enterprises": pd.DataFrame({"id": ids, "name": [f"name {i}" for i in ids]}),
                 "edges": pd.DataFrame(edges, columns=["src", "dst", "kind", "amount"])})
    return store


def test_a_kept_neighbourhood_is_a_copy_and_follows_the_version(tmp_path: Path) -> None:
    store = _store(tmp_path / "s", [("A", "B", "PAYS", 10.0), ("B", "C", "PAYS", 5.0)])
    first = store.neighbors("A", hops=2)
    first.remove_node("C")  # a caller that edits its answer (scope filters do) changes nothing kept
    again = store.neighbors("A", hops=2)
    assert set(again.nodes) == {"A", "B", "C"} and again is not first
    assert again.number_of_edges() == 2
    store.write({"enterprises": pd.DataFrame({"id": ["A", "B", "C", "D"], "name": list("ABCD")}),
                 "edges": pd.DataFrame([("A", "B", "PAYS", 10.0), ("A", "D", "BILL", 1.0)],
                                       columns=["src", "dst", "kind", "amount"])})
    assert set(store.neighbors("A", hops=2).nodes) == {"A", "B", "D"}


def test_kept_paths_are_copies_and_follow_the_version(tmp_path: Path) -> None:
    store = _store(tmp_path / "s", [("A", "B", "PAYS", 10.0), ("B", "C", "PAYS", 5.0)])
    first = find_paths(store, "A", "C", max_hops=3, k=2)
    assert [p["nodes"] for p in first] == [["A", "B", "C"]]
    first[0]["nodes"].append("X")
    assert find_paths(store, "A", "C", max_hops=3, k=2)[0]["nodes"] == ["A", "B", "C"]
    store.write({"edges": pd.DataFrame([("A", "C", "PAYS", 1.0)], columns=["src", "dst", "kind", "amount"])})
    assert [p["nodes"] for p in find_paths(store, "A", "C", max_hops=3, k=2)] == [["A", "C"]]


def test_kept_answers_are_bounded_by_weight() -> None:
    from graph.lru import Answers

    answers = Answers(budget=10)
    answers.put("a", "A", 4)
    answers.put("b", "B", 4)
    assert answers.get("a") == "A"  # now the most recently used
    answers.put("c", "C", 4)  # over budget: the least recently used ("b") goes
    assert answers.get("b") is None and answers.get("a") == "A" and answers.get("c") == "C"
    answers.put("huge", "H", 6)  # more than half the budget: never kept
    assert answers.get("huge") is None and answers.get("c") == "C"
