"""Property test of relationship paths: the region search (breadth-first searches on the
adjacency matrix, then networkx on the nodes of short walks only) gives the same paths as plain
networkx on the whole graph (hypothesis)."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from graph.errors import NoPath
from graph.networkx_store import NetworkxStore
from graph.paths import _PRIORITY, find_paths

ENTERPRISES = [f"E{i}" for i in range(5)]
PERSONS = [f"P{i}" for i in range(3)]
NODES = ENTERPRISES + PERSONS
KINDS = ["PAYS", "HOLDS_ROLE:director", "HOLDS_ROLE:legal_rep", "MANAGES"]

edge_lists = st.lists(st.tuples(st.sampled_from(NODES), st.sampled_from(NODES), st.sampled_from(KINDS)),
                      min_size=1, max_size=14)


def _rank(key: str) -> int:
    return _PRIORITY.index(key) if key in _PRIORITY else len(_PRIORITY)


def _reference(edges: list[tuple[str, str, str]], source: str, target: str, max_hops: int,
               k: int) -> list[tuple[list[str], list[str]]] | None:
    """Every simple path within max_hops on the whole graph (bank edges left out), ranked like
    find_paths ranks them; None when more ties than find_paths' safety cap would collect."""
    g = nx.Graph()
    g.add_nodes_from(NODES)
    for src, dst, key in edges:
        if src == dst or key == "MANAGES":
            continue
        keys = g.edges[src, dst]["keys"] if g.has_edge(src, dst) else set()
        g.add_edge(src, dst, keys=keys | {key})
    paths = list(nx.all_simple_paths(g, source, target, cutoff=max_hops))
    ranked = sorted(([min(g.edges[u, v]["keys"], key=_rank) for u, v in itertools.pairwise(p)], p) for p in paths)
    ranked.sort(key=lambda item: (len(item[0]), [_rank(e) for e in item[0]], item[1]))
    if len(ranked) >= k and sum(len(e) <= len(ranked[k - 1][0]) for e, _ in ranked) > max(10 * k, 50):
        return None
    return [(p, e) for e, p in ranked[:k]]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("paths-property")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(edges=edge_lists, ends=st.sampled_from(list(itertools.permutations(NODES, 2))),
       max_hops=st.integers(1, 6), k=st.integers(1, 4))
def test_region_paths_equal_plain_networkx(stores: Path, edges: list[tuple[str, str, str]],
                                           ends: tuple[str, str], max_hops: int, k: int) -> None:
    source, target = ends
    expected = _reference(edges, source, target, max_hops, k)
    assume(expected is not None)
    store = NetworkxStore(stores / uuid.uuid4().hex)
    store.write({
        "enterprises": pd.DataFrame({"id": ENTERPRISES, "name": [f"企业{n}" for n in ENTERPRISES]}),
        "persons": pd.DataFrame({"id": PERSONS, "name": [f"个人{n}" for n in PERSONS]}),
        "edges": pd.DataFrame([{"src": s, "dst": d, "kind": key.partition(":")[0],
                                "role": key.partition(":")[2] or None, "amount": 1000.0}
                               for s, d, key in edges]),
    })
    if not expected:
        with pytest.raises(NoPath):
            find_paths(store, source, target, max_hops=max_hops, k=k)
        return
    found = find_paths(store, source, target, max_hops=max_hops, k=k)
    assert [(p["nodes"], p["edges"]) for p in found] == expected
