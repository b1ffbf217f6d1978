"""Branch scope on every node and edge a request touches: the one filter.

`Viewer.in_scope` is the predicate (a row of another branch is out; a row of no branch —
a shared supplier, an external payee — is shared). `Scope` applies it to whole answers:

- `filter_graph(g, center)` drops every out-of-scope node, every edge touching one, and
  whatever is then no longer reachable from the centre (a 2-hop ball through another
  branch's client must not bring that client's payees along). It counts what it dropped.
- `filter_paths(paths)` keeps the paths whose every node is in scope.
- `filter_region(region, center)` does the same on a neighbourhood held as columns
  (`graph.region`: an ego picture's), before any attribute of it is read.
- `store(store)` wraps a store so that the pictures (viz/) get scoped ego networks from
  `neighbors`, `ego_region` and `subgraph`, and only in-scope `prospects` rows (their reasons name the
  other branch's anchor and amounts), whether read as a table or listed by `load_prospects` (its
  `prospect_rights`): the filter runs before any picture, tooltip or fact is built.
- `filter_picture(picture)` drops any node of another branch a picture still names (views
  that read tables rather than neighbourhoods) with its edges, and adds the counting note.

What is hidden is counted ("12 links outside your scope"), never shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import networkx as nx
import numpy as np
import pandas as pd

from api.masking import Viewer
from graph.region import Region
from graph.store import GraphStore

if TYPE_CHECKING:
    from scoring.stored import ProspectRights

__all__ = ["Scope", "Hidden", "hidden_note"]


@dataclass
class Hidden:
    """What a scoped answer left out: nodes, edges (links), whole paths and records (another
    branch's lead work: dispositions and notes)."""

    nodes: int = 0
    edges: int = 0
    paths: int = 0
    records: int = 0

    def add(self, other: Hidden) -> None:
        self.nodes += other.nodes
        self.edges += other.edges
        self.paths += other.paths
        self.records += other.records


def hidden_note(hidden: Hidden, lang: str) -> str | None:
    """"12 links outside your scope" (zh: 12 条关系不在您的权限范围内), None when nothing was hidden."""
    if not hidden.edges and not hidden.nodes and not hidden.paths and not hidden.records:
        return None
    if lang == "zh":
        parts = [f"{hidden.edges} 条关系"] if hidden.edges else []
        parts += [f"{hidden.paths} 条路径"] if hidden.paths else []
        parts += [f"{hidden.records} 条记录"] if hidden.records else []
        return "、".join(parts or [f"{hidden.nodes} 个主体"]) + "不在您的权限范围内"
    parts = [f"{hidden.edges} link{'s' * (hidden.edges != 1)}"] if hidden.edges else []
    parts += [f"{hidden.paths} path{'s' * (hidden.paths != 1)}"] if hidden.paths else []
    parts += [f"{hidden.records} record{'s' * (hidden.records != 1)}"] if hidden.records else []
    return " and ".join(parts or [f"{hidden.nodes} entit{'ies' if hidden.nodes != 1 else 'y'}"]) + " outside your scope"


class Scope:
    """The branch scope of one viewer, applied to nodes, edges, subgraphs, paths and pictures."""

    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.hidden = Hidden()

    @property
    def unlimited(self) -> bool:
        return self.viewer.user.branch is None

    def visible(self, attrs: dict[str, Any] | None) -> bool:
        """Whether a node (its attributes; None = not in the store) is in scope."""
        return attrs is None or self.viewer.in_scope(attrs.get("branch_id"))

    def visible_ids(self, ids: Iterable[str]) -> set[str]:
        """The ids in scope, looked up in the store (only the ids a request shows)."""
        store = self.viewer.store
        return {i for i in ids if self.visible(store.node(i))}

    def filter_graph(self, g: nx.MultiDiGraph, center: str | None = None) -> nx.MultiDiGraph:
        """`g` without out-of-scope nodes, their edges, and what only they connected to `center`."""
        if self.unlimited:
            return g
        out = {n for n, attrs in g.nodes(data=True) if not self.visible(attrs)}
        if not out:
            return g
        nodes = [n for n in g.nodes if n not in out]
        if center is not None and center in g and center not in out:
            linked = nx.node_connected_component(g.subgraph(nodes).to_undirected(as_view=True), center)
            nodes = [n for n in nodes if n in linked]
        # built in `g`'s own order (a subgraph view of a small set iterates in the set's hash order,
        # which would make the same picture differ between processes)
        keep = set(nodes)
        kept = nx.MultiDiGraph(**g.graph)
        kept.add_nodes_from((n, g.nodes[n]) for n in nodes)
        kept.add_edges_from((u, v, k, d) for u, v, k, d in g.edges(keys=True, data=True) if u in keep and v in keep)
        self.hidden.add(Hidden(nodes=g.number_of_nodes() - kept.number_of_nodes(),
                               edges=g.number_of_edges() - kept.number_of_edges()))
        return kept

    def filter_region(self, region: Region, center: str | None = None) -> Region:
        """`filter_graph` on a region's columns: the same nodes and edges kept, the same counts."""
        if self.unlimited or not len(region):
            return region
        branches, found = pd.factorize(pd.Series(region.column("branch_id"), dtype=object), use_na_sentinel=True)
        allowed = np.array([self.viewer.in_scope(b) for b in found.tolist()] + [self.viewer.in_scope(None)])
        keep = allowed[branches]  # a null branch (code -1) takes the last entry: shared
        if keep.all():
            return region
        at = -1 if center is None else region.index_of(center)
        if center is not None and at >= 0 and keep[at]:
            inner = region.keep(keep)
            linked = inner.linked(inner.index_of(center))
            keep[np.flatnonzero(keep)[~linked]] = False
        kept = region.keep(keep)
        self.hidden.add(Hidden(nodes=len(region) - len(kept), edges=region.edge_count - kept.edge_count))
        return kept

    def filter_paths(self, paths: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The paths whose every node is in scope."""
        if self.unlimited:
            return paths
        ids = {str(n) for p in paths for n in p.get("nodes", [])}
        ok = self.visible_ids(ids)
        kept = [p for p in paths if all(str(n) in ok for n in p.get("nodes", []))]
        self.hidden.add(Hidden(paths=len(paths) - len(kept)))
        return kept

    def filter_picture(self, picture: Any) -> Any:
        """A viz picture without out-of-scope nodes and their edges, with the counting note."""
        if not self.unlimited:
            ok = self.visible_ids(n.id for n in picture.nodes)
            nodes = [n for n in picture.nodes if n.id in ok]
            edges = [e for e in picture.edges if e.src in ok and e.dst in ok]
            self.hidden.add(Hidden(nodes=len(picture.nodes) - len(nodes), edges=len(picture.edges) - len(edges)))
            picture.nodes, picture.edges = nodes, edges
        note = hidden_note(self.hidden, getattr(picture, "lang", "zh"))
        if note:
            picture.notes = [*picture.notes, note]
        return picture

    def store(self, store: GraphStore) -> GraphStore:
        """`store` whose `neighbors` and `subgraph` answers are scoped (for the picture builders)."""
        if self.unlimited:
            return store
        return cast(GraphStore, _ScopedStore(store, self))


class _ScopedStore:
    """A store seen through a `Scope`: every ego network is filtered before it is used."""

    def __init__(self, store: GraphStore, scope: Scope) -> None:
        self._store = store
        self._scope = scope

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @property
    def cache_key(self) -> tuple[Any, ...]:
        """Caches built from this store's reads (viz's prospect index) are per branch scope."""
        return (*self._store.cache_key, "scope", self._scope.viewer.user.branch)

    @property
    def prospect_rights(self) -> ProspectRights:
        """The stored rows a picture's list of prospects holds (`scoring.stored.page_prospects`,
        which reads the prospects file itself, not `read`): the same branch scope as `read`."""
        from scoring.stored import ProspectRights

        return ProspectRights(branch=self._scope.viewer.user.branch)

    def neighbors(self, node_id: str, *args: Any, **kwargs: Any) -> nx.MultiDiGraph:
        return self._scope.filter_graph(self._store.neighbors(node_id, *args, **kwargs), node_id)

    def ego_region(self, node_id: str, *args: Any, **kwargs: Any) -> Region:
        return self._scope.filter_region(self._store.ego_region(node_id, *args, **kwargs), node_id)

    def subgraph(self, node_ids: Iterable[str], *args: Any, **kwargs: Any) -> nx.MultiDiGraph:
        return self._scope.filter_graph(self._store.subgraph(node_ids, *args, **kwargs))

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """Tables as stored, but `prospects` only with rows of the viewer's scope (their reasons
        name the other branch's anchor, amounts and counts: a tooltip must not show them)."""
        if table != "prospects":
            return self._store.read(table, columns)
        wanted = None if columns is None else list(dict.fromkeys([*columns, "branch_id"]))
        df = self._store.read(table, wanted)
        branch = df["branch_id"]
        df = df[branch.isna() | (branch == "") | (branch == self._scope.viewer.user.branch)]
        return df if columns is None else df[columns]
