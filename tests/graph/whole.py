"""The whole store as one networkx MultiDiGraph: the plain reference the graph queries are checked against.

The product never builds the whole graph (every query starts from `store.adjacency()`); tests
build it here, from the tables alone, so the reference shares no code with what it checks.
Nodes carry `kind` and their table's attributes; edges are keyed by kind (`kind:role` for a
role) and carry the `edges` table's columns; an edge endpoint in no node table is a bare node.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import pandas as pd

from graph.schema import NODE_TABLES
from graph.store import GraphStore


def whole_graph(store: GraphStore) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for table, spec in NODE_TABLES.items():
        for rec in store.read(table).to_dict("records"):
            attrs = {str(k): v for k, v in rec.items() if not _isna(v)}
            attrs["kind"] = spec.node_kind
            g.add_node(rec["id"], **attrs)
    for rec in store.read("edges").to_dict("records"):
        attrs = {str(k): v for k, v in rec.items() if not _isna(v) and k not in ("src", "dst")}
        key = rec["kind"] if _isna(rec.get("role")) else f"{rec['kind']}:{rec['role']}"
        g.add_edge(rec["src"], rec["dst"], key=key, **attrs)
    return g


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array value is a value
        return False
