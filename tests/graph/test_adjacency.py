"""The adjacency index answers neighbourhoods exactly as networkx would on the whole graph."""

from __future__ import annotations

import random

import networkx as nx
import pandas as pd
import pytest

from graph.networkx_store import NetworkxStore
from tests.graph.whole import whole_graph

KINDS = ["PAYS", "BILL", "HOLDS_ROLE", "MEMBER_OF"]


@pytest.fixture(scope="module")
def random_store(tmp_path_factory):
    rng = random.Random(3)
    ids = [f"E{i}" for i in range(60)]
    rows = []
    for _ in range(240):
        a, b = rng.sample(ids, 2)
        rows.append({"src": a, "dst": b, "kind": rng.choice(KINDS), "amount": float(rng.randint(1, 1000)),
                     "role": None})
    edges = pd.DataFrame(rows).drop_duplicates(["src", "dst", "kind"])
    store = NetworkxStore(tmp_path_factory.mktemp("adj") / "s")
    store.write({"enterprises": pd.DataFrame({"id": ids, "name": ids}), "edges": edges})
    return store


@pytest.mark.parametrize("hops", [1, 2, 3])
@pytest.mark.parametrize("kinds", [None, ["PAYS"], ["BILL", "MEMBER_OF"]])
def test_neighbors_match_networkx_ego_graph(random_store, hops, kinds):
    full = whole_graph(random_store)
    if kinds is not None:
        full = nx.MultiDiGraph((u, v, k) for u, v, k, d in full.edges(keys=True, data=True) if d["kind"] in kinds)
        full.add_nodes_from(whole_graph(random_store).nodes)
    for center in ["E0", "E7", "E33"]:
        expected = nx.ego_graph(full.to_undirected(as_view=True), center, radius=hops)
        got = random_store.neighbors(center, kinds=kinds, hops=hops)
        assert set(got.nodes) == set(expected.nodes)
        inside = full.subgraph(got.nodes)
        assert got.number_of_edges() == inside.number_of_edges()
        assert all(got.nodes[n]["kind"] == "Enterprise" for n in got.nodes)


def test_limit_keeps_the_strongest_and_min_amount_filters(random_store):
    g = whole_graph(random_store)
    center = "E5"
    amounts: dict[str, float] = {}
    for u, v, d in list(g.out_edges(center, data=True)) + list(g.in_edges(center, data=True)):
        other = v if u == center else u
        amounts[other] = max(amounts.get(other, 0.0), d["amount"])
    top = sorted(amounts, key=lambda n: (-amounts[n], n))[:3]
    got = random_store.neighbors(center, limit=3)
    assert set(got.nodes) == {center, *top}
    rich = random_store.neighbors(center, min_amount=500)
    # the amount filter applies to money edges; roles and memberships carry no amount of their own
    money = [d for _, _, d in rich.edges(data=True) if d["kind"] in ("PAYS", "BILL")]
    assert money and all(d["amount"] >= 500 for d in money)


def test_subgraph_of_unknown_ids_is_empty(random_store):
    assert random_store.subgraph(["nope"]).number_of_nodes() == 0
    assert set(random_store.subgraph(["E1", "E2", "nope"]).nodes) == {"E1", "E2"}


def test_expand_follows_only_the_strongest_outwards(random_store):
    g = whole_graph(random_store).to_undirected(as_view=True)
    center = "E5"
    ring = random_store.neighbors(center, hops=1)
    amounts = {n: max(d["amount"] for d in g.get_edge_data(center, n).values()) for n in ring.nodes if n != center}
    strongest = sorted(amounts, key=lambda n: (-amounts[n], n))[:2]
    got = set(random_store.neighbors(center, hops=2, expand=2).nodes)
    beyond = got - set(ring.nodes)
    assert set(ring.nodes) <= got  # the first ring whole
    assert beyond == {m for n in strongest for m in g.neighbors(n)} - set(ring.nodes)  # only two followed
    assert beyond < set(random_store.neighbors(center, hops=2).nodes) - set(ring.nodes)


def test_take_rows_across_batches_equals_arrow_take():
    import numpy as np
    import pyarrow as pa

    from graph.adjacency import take_rows

    chunks = [pa.table({"id": [f"N{i}" for i in range(s, s + 7)], "amount": [float(i) for i in range(s, s + 7)]})
              for s in range(0, 35, 7)]
    table = pa.concat_tables(chunks)
    assert table.column("id").num_chunks == 5
    rng = np.random.default_rng(5)
    for rows in (np.sort(rng.choice(35, 12, replace=False)), rng.integers(0, 35, 20), np.array([34, 0, 7, 6, 34]),
                 np.array([], dtype=np.int64)):
        assert take_rows(table, rows).equals(table.take(pa.array(rows, pa.int64())).combine_chunks())
    with pytest.raises(IndexError):
        take_rows(table, [3, 35])


@pytest.mark.parametrize("center", ["E0", "E7", "E33"])
def test_hops_and_extend_match_networkx_distances(random_store, center):
    import numpy as np

    adjacency = random_store.adjacency()
    matrix = adjacency.csr(["PAYS", "BILL"])
    full = nx.Graph()
    full.add_nodes_from(random_store.read("enterprises")["id"])
    full.add_edges_from((u, v) for u, v, d in whole_graph(random_store).edges(data=True)
                        if d["kind"] in ("PAYS", "BILL") and u != v)
    start = adjacency.code(center)
    ids = adjacency.names(np.arange(adjacency.node_count))
    for cutoff in (0, 1, 2, 4):
        expected = nx.single_source_shortest_path_length(full, center, cutoff=cutoff)
        dist = adjacency.hops(matrix, start, cutoff)
        assert {ids[c]: int(d) for c, d in enumerate(dist) if d >= 0} == expected
    # continued over some candidates only: the search restricted to the nodes reached and them
    near = adjacency.hops(matrix, start, 1)
    candidates = np.arange(0, adjacency.node_count, 2)
    allowed = {ids[c] for c in np.flatnonzero(near >= 0)} | {ids[c] for c in candidates}
    expected = nx.single_source_shortest_path_length(full.subgraph(allowed), center, cutoff=4)
    dist = adjacency.extend(matrix, near, 1, 4, candidates)
    assert {ids[c]: int(d) for c, d in enumerate(dist) if d >= 0} == expected
    if center == "E0":  # E0 has partners of partners among the candidates
        assert dist.max() > 1 and (near >= 0).sum() < (dist >= 0).sum()


def test_built_from_arrow_equals_built_from_a_frame():
    """The index built column-wise from Arrow (the store's Parquet file) holds the same arrays as
    built from the frame: non-ASCII ids, a missing kind, a missing amount, an unknown kind."""
    import numpy as np
    import pyarrow as pa

    from graph.adjacency import Adjacency, encode_arrow_ids, encode_ids
    from graph.index_cache import NodeIndex
    from graph.schema import NODE_TABLES, conform

    edges = pd.DataFrame({"src": ["E1", "企业乙", "E1", "P9", "E22"], "dst": ["企业乙", "E3", "E3", "E1", "企业乙"],
                          "kind": ["PAYS", None, "BILL", "NOT_A_KIND", "PAYS"],
                          "amount": [1.5, None, float("nan"), 4.0, 2.0]}).astype({"src": "string", "dst": "string",
                                                                                  "kind": "string"})
    framed = Adjacency(edges)
    arrow = Adjacency(pa.Table.from_pandas(edges, preserve_index=False))
    chunked = Adjacency(pa.concat_tables([pa.Table.from_pandas(edges.iloc[:2], preserve_index=False),
                                          pa.Table.from_pandas(edges.iloc[2:], preserve_index=False)]))
    for built in (arrow, chunked):
        for name, values in framed.arrays().items():
            assert values.dtype == built.arrays()[name].dtype and np.array_equal(values, built.arrays()[name]), name
    assert framed.kind_code[1] == -1 and framed.kind_code[3] == -1 and framed.kind_code[0] == framed.kind_code[4] >= 0
    assert framed.amount.tolist()[1:3] == [0.0, 0.0]
    ids = ["E1", "企业乙", "", "a-much-longer-id-0001"]
    assert np.array_equal(encode_arrow_ids(pa.array(ids)), encode_ids(ids))
    assert encode_arrow_ids(pa.array(ids)).dtype == encode_ids(ids).dtype
    assert encode_arrow_ids(pa.array([], pa.string())).dtype == encode_ids([]).dtype
    nodes = {"enterprises": pd.DataFrame({"id": ["E3", "E1", "企业乙"]}), "persons": pd.DataFrame({"id": ["P9", "E1"]})}
    frames = {name: conform(name, nodes.get(name, pd.DataFrame({"id": []}))) for name in NODE_TABLES}
    by_frame = NodeIndex.build(frames)
    by_arrow = NodeIndex.build({n: pa.Table.from_pandas(f, preserve_index=False) for n, f in frames.items()})
    for name, values in by_frame.arrays().items():
        assert np.array_equal(values, by_arrow.arrays()[name]), name
    assert by_arrow.get("E1") == ("enterprises", 1) and by_arrow.get("P9") == ("persons", 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_node_index_finds_each_ids_first_row_as_a_lookup_in_table_order_would(seed):
    """Ids repeated within a table and across tables, missing ids, non-ASCII and prefixes of each
    other: the index holds each id once, at its first row in NODE_TABLES order, sorted; an
    unknown id is not found."""
    import numpy as np
    import pyarrow as pa

    from graph.index_cache import NodeIndex
    from graph.schema import NODE_TABLES

    rng = random.Random(seed)
    pool = ["E1", "E10", "E100", "企业乙", "企业", "P9", "a" * 40, "M1", "B1", None]
    tables = {name: pa.table({"id": pa.array([rng.choice(pool) for _ in range(rng.randint(0, 12))], pa.string())})
              for name in NODE_TABLES}
    first: dict[str, tuple[str, int]] = {}
    for name in NODE_TABLES:
        for row, node_id in enumerate(tables[name]["id"].to_pylist()):
            first.setdefault("<NA>" if node_id is None else node_id, (name, row))
    index = NodeIndex.build(tables)
    assert len(index) == len(first)
    assert {node_id: index.get(node_id) for node_id in first} == first
    assert index.get("E1000") is None and index.get("") is None
    keys = index.arrays()["keys"]
    assert np.all(keys[:-1] < keys[1:])  # sorted, each once
    empty = NodeIndex.build({name: tables[name].slice(0, 0) for name in NODE_TABLES})
    assert len(empty) == 0 and empty.get("E1") is None


def test_ids_laid_out_block_by_block_equal_encode_ids(monkeypatch: pytest.MonkeyPatch):
    import numpy as np
    import pyarrow as pa

    import graph.adjacency as adjacency

    monkeypatch.setattr(adjacency, "_BLOCK", 3)  # several blocks, one of them partial
    ids = ["E1", "企业乙", "", "x" * 30, "P0", None, "Q"] * 3
    as_text = ["<NA>" if i is None else i for i in ids]
    assert np.array_equal(adjacency.encode_arrow_ids(pa.array(ids)), adjacency.encode_ids(as_text))
    assert np.array_equal(adjacency.encode_arrow_ids(pa.array(ids).slice(2, 11)), adjacency.encode_ids(as_text[2:13]))
    chunked = pa.chunked_array([pa.array(ids[:5]), pa.array(ids[5:])])
    assert np.array_equal(adjacency.encode_arrow_ids(chunked), adjacency.encode_ids(as_text))


def test_node_codes_are_first_seen_over_sources_then_targets_whatever_the_runs():
    """Sources are hashed once per run of equal ids (the stored edges come sorted by source):
    the ids, in first-seen order over every source then every target, and each row's codes are
    those of hashing every row (runs that come back, a missing id, a run at each end)."""
    import numpy as np
    import pyarrow as pa

    from graph.adjacency import encode_ids, index_arrays

    src = ["A", "A", "B", "B", "B", None, None, "A", "C", "C"]
    dst = ["X", "B", "X", "Y", "A", "Y", "Z", "Z", "A", "D"]
    table = pa.table({"src": pa.chunked_array([src[:4], src[4:]], pa.large_string()),
                      "dst": pa.array(dst, pa.large_string()), "kind": pa.array(["PAYS"] * 10),
                      "amount": pa.array([1.0] * 10)})
    arrays = index_arrays(table)
    seen = list(pd.unique(pd.Series([*(s if s is not None else "<NA>" for s in src), *dst])))
    assert np.array_equal(arrays["ids"], encode_ids(seen))
    assert [seen[c] for c in arrays["src"]] == [s if s is not None else "<NA>" for s in src]
    assert [seen[c] for c in arrays["dst"]] == dst
