"""The ego picture's neighbourhood as columns (`graph.region`) is the networkx one it replaced:
the same nodes and edges in the same order, the same strongest-link tree, the same scope filter."""

from __future__ import annotations

from types import SimpleNamespace

import handmade
import networkx as nx
import pytest

from api.scope import Scope
from graph.region import region_from_graph

CASES = [  # (centre, hops, limit, expand): a small neighbourhood, a hub's, and capped ones
    (handmade.ANCHOR, 1, None, None), (handmade.ANCHOR, 2, None, None), (handmade.HUB, 2, None, None),
    (handmade.HUB, 2, 40, 5), (handmade.CHAIN, 2, 60, 10), (handmade.ANCHOR, 3, 20, 4),
]


@pytest.mark.parametrize(("centre", "hops", "limit", "expand"), CASES)
def test_a_region_holds_the_graph_of_neighbors_in_its_order(viz_store, centre, hops, limit, expand) -> None:
    graph = viz_store.neighbors(centre, hops=hops, limit=limit, expand=expand)
    region = viz_store.ego_region(centre, hops=hops, limit=limit, expand=expand)
    assert region.ids.tolist() == list(graph.nodes)
    assert region.edge_count == graph.number_of_edges() > 0
    rebuilt = region.graph(region.ids.tolist())
    assert list(rebuilt.nodes(data=True)) == list(graph.nodes(data=True))
    assert list(rebuilt.edges(keys=True, data=True)) == list(graph.edges(keys=True, data=True))
    some = region.ids.tolist()[1:4]
    assert list(region.graph(some).edges(keys=True)) == [e for e in graph.edges(keys=True) if {e[0], e[1]} <= set(some)]


def _reference_tree(g: nx.MultiDiGraph, root: str) -> tuple[dict[str, str | None], dict[str, float]]:
    """The tree as the pictures computed it on a networkx graph before the columns."""
    pair: dict[frozenset[str], float] = {}
    for u, v, data in g.edges(data=True):
        key = frozenset((u, v))
        pair[key] = pair.get(key, 0.0) + float(data.get("amount") or 0.0)
    und = nx.Graph()
    und.add_node(root)
    und.add_edges_from(tuple(p) for p in pair if len(p) == 2)
    hop = nx.single_source_shortest_path_length(und, root)
    parent: dict[str, str | None] = {root: None}
    strength = {root: float("inf")}
    for node in sorted(hop, key=lambda n: (hop[n], str(n))):
        if node != root:
            nearer = [m for m in und[node] if hop.get(m) == hop[node] - 1]
            parent[node] = max(nearer, key=lambda m: (pair.get(frozenset((m, node)), 0.0), str(m)))
            strength[node] = pair.get(frozenset((parent[node], node)), 0.0)
    return parent, strength


@pytest.mark.parametrize(("centre", "hops", "limit", "expand"), CASES)
def test_the_strongest_link_tree_is_the_one_networkx_gave(viz_store, centre, hops, limit, expand) -> None:
    graph = viz_store.neighbors(centre, hops=hops, limit=limit, expand=expand)
    region = viz_store.ego_region(centre, hops=hops, limit=limit, expand=expand)
    parent, strength = region.tree(region.index_of(centre))
    want_parent, want_strength = _reference_tree(graph, centre)
    assert list(parent.items()) == list(want_parent.items())  # the same order too (it orders the folds)
    assert strength == want_strength
    assert len(parent) > 1


def test_a_region_from_a_graph_gives_the_same_tree(viz_store) -> None:
    graph = viz_store.neighbors(handmade.HUB, hops=2)
    region = region_from_graph(graph)
    assert region.tree(region.index_of(handmade.HUB)) == _reference_tree(graph, handmade.HUB)
    assert list(region.graph(region.ids.tolist()).edges(keys=True)) == list(graph.edges(keys=True))


def _viewer(store, branch: str):
    return SimpleNamespace(user=SimpleNamespace(branch=branch), store=store,
                           in_scope=lambda b: b in (None, "") or b == branch)


@pytest.mark.parametrize("branch", ["B01", "B02"])
@pytest.mark.parametrize("centre", [handmade.ANCHOR, handmade.SUPPLIERS[0], handmade.HUB])
def test_scope_drops_the_same_nodes_and_edges_from_a_region_as_from_a_graph(viz_store, branch, centre) -> None:
    on_graph, on_region = Scope(_viewer(viz_store, branch)), Scope(_viewer(viz_store, branch))
    graph = on_graph.filter_graph(viz_store.neighbors(centre, hops=2), centre)
    region = on_region.filter_region(viz_store.ego_region(centre, hops=2), centre)
    assert region.ids.tolist() == list(graph.nodes)
    assert list(region.graph(region.ids.tolist()).edges(keys=True)) == list(graph.edges(keys=True))
    assert on_region.hidden == on_graph.hidden


def test_scope_hides_another_branchs_nodes_and_what_only_they_reached(viz_store) -> None:
    scope = Scope(_viewer(viz_store, "B02"))
    full = viz_store.ego_region(handmade.ANCHOR, hops=2)
    region = scope.filter_region(full, handmade.SUPPLIERS[0])
    branches = dict(zip(full.ids.tolist(), full.column("branch_id"), strict=True))
    assert any(b == "B01" for b in branches.values())
    assert not any(branches[n] == "B01" for n in region.ids.tolist())
    assert scope.hidden.nodes > 0 and scope.hidden.edges > 0


def test_the_prospect_index_gives_each_ids_best_row_and_only_the_rows_asked_for() -> None:
    import pandas as pd
    import pyarrow as pa

    from viz.facts import _INDEX_COLUMNS, _RowIndex

    rows = pd.DataFrame({"prospect_id": ["A", "B", "A", "A", "C"], "family": ["retail", "referral", "supply_chain",
                                                                             "referral", "retail"],
                         "kind": ["k", "k", "up", "k", "k"], "score": [50.0, 10.0, 70.0, 70.0, None],
                         "rank": [1, 1, 2, 3, 4], "reasons": ["r0", "r1", "r2", "r3", "r4"], "evidence": [""] * 5})
    index = _RowIndex(rows[_INDEX_COLUMNS[:4]], pa.Table.from_pandas(rows, preserve_index=False))
    got = index.get_many(["A", "C", "nobody", "B"])
    assert got["A"]["reasons"] == "r3"  # 70 twice: referral before supply_chain
    assert got["C"]["reasons"] == "r4" and got["B"]["rank"] == 1
    assert "nobody" not in got and index.get("nobody") is None
    assert set(got["A"]) == set(_INDEX_COLUMNS)
    # a scoped read keeps the stored row positions: the index points into the whole table
    scoped = rows[rows["prospect_id"] != "A"][_INDEX_COLUMNS[:4]]
    only = _RowIndex(scoped, pa.Table.from_pandas(rows, preserve_index=False))
    assert only.get("A") is None and only.get("C")["reasons"] == "r4"
