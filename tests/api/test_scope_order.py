"""A scoped neighbourhood keeps the store's order of nodes and edges, whatever the hash seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import networkx as nx
from types import SimpleNamespace
from api.scope import Scope

g = nx.MultiDiGraph()
g.add_node("C", branch_id="B01")
for i in range(60):  # most nodes belong to another branch: the kept part is a small set
    g.add_node(f"X{i}", branch_id="B02")
    g.add_edge("C", f"X{i}", kind="PAYS")
for i in range(12):
    g.add_node(f"N{i}", branch_id="B01")
    g.add_edge("C", f"N{i}", kind="PAYS", amount=float(i))
viewer = SimpleNamespace(user=SimpleNamespace(branch="B01"), in_scope=lambda b: b == "B01")
kept = Scope(viewer).filter_graph(g, "C")
print(list(kept.nodes), [(u, v) for u, v in kept.edges()])
from graph.region import region_from_graph  # the same neighbourhood as columns (the ego picture's)
viewer.store = None
region = Scope(viewer).filter_region(region_from_graph(g), "C")
print(region.ids.tolist(), [(u, v) for u, v, _ in region.graph(region.ids.tolist()).edges(keys=True)])
"""


def _run(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, cwd=root, capture_output=True, text=True,
                         check=True)
    return out.stdout


def test_a_scoped_neighbourhood_is_the_same_under_any_hash_seed() -> None:
    first = _run("1")
    assert first.startswith("['C', 'N0', 'N1', 'N2'")  # the store's order, out-of-scope nodes gone
    assert "X" not in first
    graph_line, region_line = first.splitlines()
    assert region_line == graph_line  # the columns keep the same nodes and edges in the same order
    assert {_run(seed) for seed in ("2", "3", "4")} == {first}
