"""Relationship paths between two entities: the k shortest typed paths, explained in words.

`find_paths` answers "how is A connected to B?" for `prospect-graph path A B` and `/paths`.
Edges are followed in either direction (a person's role reaches the company and back), but
every hop is explained in its real direction: "张三 is the legal representative of A;
张三 is a director of B".

The bank's own bookkeeping edges — `MANAGES` (manager→client) and `IN_BRANCH` (x→branch) —
would otherwise make every two clients of one manager or branch look related through the
bank itself. They are left out unless they touch an endpoint that is a manager or a branch,
so `path M01 E0001` still works while `path E0001 E0501` never goes through M01.

Example::

    >>> find_paths(store, "E0401", "E0411", max_hops=2)[0]["text_en"]  # doctest: +SKIP
    'Wang Li is a director of Acme Insulation; Wang Li is a director of Beta Foam'
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import networkx as nx
import numpy as np

from graph.errors import InvalidRequest, NoPath, NotFound
from graph.schema import EDGE_KINDS
from graph.store import GraphStore
from graph.vocabulary import POSITION_WORDS, ROLE_WORDS, format_amount

__all__ = ["find_paths", "BANK_EDGE_KINDS", "describe_link"]

BANK_EDGE_KINDS = frozenset({"MANAGES", "IN_BRANCH"})
_BANK_NODE_KINDS = frozenset({"Manager", "Branch"})

# Which relation names a hop when two nodes are linked several ways: people and
# memberships first (they are what a manager can act on), money next, bank bookkeeping last.
_PRIORITY = [
    "HOLDS_ROLE:legal_rep", "HOLDS_ROLE:actual_controller", "HOLDS_ROLE:director",
    "HOLDS_ROLE:executive", "HOLDS_ROLE:shareholder", "HOLDS_ROLE:finance", "HOLDS_ROLE:employee",
    "MEMBER_OF", "PARENT_OF", "BILL", "ENDORSES", "PAYS", "PAYROLL", "MANAGES", "IN_BRANCH",
]

Link = tuple[str, str, str, dict[str, Any]]  # (src, dst, key, data) in the stored direction


def find_paths(store: GraphStore, source: str, target: str, max_hops: int = 4, k: int = 3,
               include_bank_edges: bool = False) -> list[dict[str, Any]]:
    """The `k` shortest simple paths from `source` to `target` within `max_hops`, shortest first.

    Each path is ``{"nodes": [ids], "edges": ["HOLDS_ROLE:legal_rep", ...], "text_en", "text_zh"}``.
    `include_bank_edges` also follows MANAGES/IN_BRANCH everywhere (off by default, see module doc).

    Raises:
        NotFound: an id is unknown.
        NoPath: no path within `max_hops`.
        InvalidRequest: a bad hop limit, k, or the same entity twice.
    """
    if max_hops < 1 or k < 1:
        raise InvalidRequest("max_hops and k must be at least 1")
    # who asks does not change the paths (the API filters them by scope afterwards): the answer
    # is kept per store version for the next identical request
    key = ("paths", str(source), str(target), max_hops, k, include_bank_edges)
    return store.remembered(key, lambda: _find_paths(store, source, target, max_hops, k, include_bank_edges),
                            copy.deepcopy)


def _find_paths(store: GraphStore, source: str, target: str, max_hops: int, k: int,
                include_bank_edges: bool) -> list[dict[str, Any]]:
    for node in (source, target):
        if store.node(node) is None:
            raise NotFound(f"no entity with id {node!r}")
    if source == target:
        raise InvalidRequest("source and target are the same entity")
    # Meet in the middle: the i-th node of a walk of length L <= max_hops is within `half` hops
    # of the source (i <= half) or within max_hops - half - 1 of the target (i > half), so every
    # node n on a walk short enough (d(s, n) + d(n, t) <= max_hops) lies in the union of two
    # balls, far smaller than a full-radius ball around a hub, and so does every shortest path
    # from s to it. Hence d(s, n) for those nodes: inside the source's ball from its search,
    # beyond it from a search continued over the target's inner ball only (`Adjacency.extend`);
    # likewise d(n, t). Every other node gets no distance or a longer one, so the nodes with
    # d(s, n) + d(n, t) <= limit are exactly the nodes on some walk of at most `limit` hops.
    # The searches are breadth-first searches over the adjacency index's matrix (numpy, one hop
    # at a time); only the nodes on such walks become a networkx graph, and only the nodes of
    # the paths returned are loaded with their attributes.
    adjacency = store.adjacency()
    ends = [adjacency.code(source), adjacency.code(target)]
    if min(ends) < 0:
        raise NoPath(f"no path from {source} to {target} within {max_hops} hops")
    kinds, extra = _followed(store, (source, target), include_bank_edges)
    matrix = adjacency.csr(kinds)
    if extra is not None and len(extra):
        matrix = matrix + adjacency.matrix(extra)
        matrix.data[:] = 1.0
    half = (max_hops + 1) // 2
    near = [adjacency.hops(matrix, code, radius) for code, radius in zip(ends, (half, max_hops - half), strict=True)]
    inner = [np.flatnonzero((d >= 0) & (d < radius)) for d, radius in zip(near, (half, max_hops - half), strict=True)]
    far = [adjacency.extend(matrix, near[0], half, max_hops, inner[1]),
           adjacency.extend(matrix, near[1], max_hops - half, max_hops, inner[0])]
    shortest = int(far[0][ends[1]])
    if shortest < 0:
        raise NoPath(f"no path from {source} to {target} within {max_hops} hops")
    known = store._node_index()  # noqa: SLF001 - an id without a node row is never a hop
    both = (far[0] >= 0) & (far[1] >= 0)
    total = np.where(both, far[0] + far[1], max_hops + 1)
    # Paths of equal length are ordered by what they go through (people before memberships before
    # money, see _PRIORITY), so collect every tie of the k-th length, within a safety cap. The
    # nodes kept grow one hop at a time: every simple path of length <= limit lies on them.
    found: list[list[str]] = []
    for limit in range(shortest, max_hops + 1):
        found = _simple_paths(adjacency, matrix, total <= limit, known, source, target, limit, k)
        if len(found) >= k:
            break
    if not found:
        raise NoPath(f"no path from {source} to {target} within {max_hops} hops")
    graph = store.subgraph(sorted({n for nodes in found for n in nodes}))
    allowed = _edge_filter(graph, {source, target}, include_bank_edges)
    explained = [_explain(graph, allowed, nodes) for nodes in found]
    explained.sort(key=lambda p: (len(p["edges"]), [_rank(e) for e in p["edges"]], p["nodes"]))
    return explained[:k]


def describe_link(graph: nx.MultiDiGraph, links: Iterable[Link]) -> tuple[str, str, str]:
    """(primary edge kind, English clause, Chinese clause) for every stored link between two nodes."""
    ordered = sorted(links, key=lambda link: (_rank(link[2]), link[0], link[2]))
    primary = ordered[0][2]
    en: list[str] = []
    zh: list[str] = []
    roles: dict[tuple[str, str], list[Link]] = {}
    for link in ordered:
        if link[2].startswith("HOLDS_ROLE"):
            roles.setdefault((link[0], link[1]), []).append(link)
    for (src, dst), held in roles.items():
        words = [_role_words(link[2].partition(":")[2], link[3]) for link in held]
        en.append(f"{_name(graph, src)} is {' and '.join(w[0] for w in words)} of {_name(graph, dst)}")
        zh.append(f"{_name(graph, src)}是{_name(graph, dst)}的{'、'.join(w[1] for w in words)}")
    for link in ordered:
        if not link[2].startswith("HOLDS_ROLE"):
            clause_en, clause_zh = _clause(graph, link)
            en.append(clause_en)
            zh.append(clause_zh)
    return primary, "; ".join(en), "；".join(zh)


# ------------------------------------------------------------------ helpers
def _followed(store: GraphStore, endpoints: tuple[str, str],
              everything: bool) -> tuple[list[str] | None, np.ndarray | None]:
    """The edge kinds a path may use, plus the bank edges it may use anyway: those touching a
    manager or branch endpoint (the same rule as `_edge_filter`, for the index searches)."""
    if everything:
        return None, None
    adjacency = store.adjacency()
    bank_ends = [adjacency.code(n) for n in endpoints if (store.node(n) or {}).get("kind") in _BANK_NODE_KINDS]
    extra = adjacency.mask(adjacency.rows(np.array(bank_ends, dtype=np.int64)), list(BANK_EDGE_KINDS), None)
    return [k for k in EDGE_KINDS if k not in BANK_EDGE_KINDS], extra


def _edge_filter(graph: nx.MultiDiGraph, endpoints: set[str], everything: bool) -> Callable[[str, str, str], bool]:
    bank_endpoints = {n for n in endpoints if graph.nodes[n].get("kind") in _BANK_NODE_KINDS}

    def allowed(src: str, dst: str, key: str) -> bool:
        if everything or key.partition(":")[0] not in BANK_EDGE_KINDS:
            return True
        return src in bank_endpoints or dst in bank_endpoints

    return allowed


def _simple_paths(adjacency: Any, matrix: Any, on_path: np.ndarray, known: Any,
                  source: str, target: str, limit: int, k: int) -> list[list[str]]:
    """The simple paths of at most `limit` hops on the nodes marked `on_path`, shortest first:
    all of them up to the k-th one's length (and its ties), within a safety cap."""
    picked = np.flatnonzero(on_path)
    ids = adjacency.names(picked)
    links = matrix[picked][:, picked].tocoo()
    upper = links.row < links.col
    nodes = {i for i in ids if i in known}
    undirected = nx.Graph()
    undirected.add_nodes_from(sorted(nodes))
    pairs = sorted((ids[a], ids[b]) if ids[a] < ids[b] else (ids[b], ids[a])
                   for a, b in zip(links.row[upper].tolist(), links.col[upper].tolist(), strict=True))
    undirected.add_edges_from((u, v) for u, v in pairs if u in nodes and v in nodes)
    found: list[list[str]] = []
    if source not in undirected or target not in undirected:
        return found
    try:
        for path in nx.shortest_simple_paths(undirected, source, target):
            hops = len(path) - 1
            if hops > limit or (len(found) >= k and hops > len(found[k - 1]) - 1):
                break
            found.append(path)
            if len(found) >= max(10 * k, 50):
                break
    except nx.NetworkXNoPath:
        pass
    return found


def _links_between(graph: nx.MultiDiGraph, u: str, v: str, allowed: Callable[[str, str, str], bool]) -> list[Link]:
    """Every stored link between u and v (either direction) that a path may follow, in a stable order."""
    out: list[Link] = []
    for src, dst in ((u, v), (v, u)):
        keyed = graph._succ[src].get(dst, {})  # noqa: SLF001 - raw dicts: views are slow on hubs
        out.extend((src, dst, key, data) for key, data in keyed.items() if allowed(src, dst, key))
    return sorted(out, key=lambda link: link[:3])


def _explain(graph: nx.MultiDiGraph, allowed: Callable[[str, str, str], bool], nodes: list[str]) -> dict[str, Any]:
    kinds: list[str] = []
    en: list[str] = []
    zh: list[str] = []
    for u, v in zip(nodes, nodes[1:], strict=False):
        primary, clause_en, clause_zh = describe_link(graph, _links_between(graph, u, v, allowed))
        kinds.append(primary)
        en.append(clause_en)
        zh.append(clause_zh)
    return {"nodes": list(nodes), "edges": kinds, "text_en": "; ".join(en), "text_zh": "；".join(zh)}


def _rank(key: str) -> int:
    return _PRIORITY.index(key) if key in _PRIORITY else len(_PRIORITY)


def _name(graph: nx.MultiDiGraph, node: str) -> str:
    return str(graph.nodes[node].get("name") or node)


def _role_words(role: str, data: dict[str, Any]) -> tuple[str, str]:
    en, zh = ROLE_WORDS.get(role, (f"a {role or 'related person'}", role or "关联人"))
    share = data.get("share_pct")
    if role == "shareholder" and isinstance(share, int | float) and share > 0:
        return f"{en} ({share:g}%)", f"{zh}（持股{share:g}%）"
    return en, zh


def _money(data: dict[str, Any]) -> tuple[str, str]:
    """An edge's amount with its window: edges total every flow on record (reasons say 12 months)."""
    amount = float(data.get("amount") or 0.0)
    if amount <= 0:
        return "", ""
    first, last = str(data.get("first_on") or "")[:7], str(data.get("last_on") or "")[:7]
    if first and last:
        return (f" ({format_amount(amount, 'en')} in all, {first} to {last})",
                f"（{first}至{last}累计{format_amount(amount, style='wan', digits=1)}）")
    return (f" ({format_amount(amount, 'en')} in all on record)",
            f"（累计{format_amount(amount, style='wan', digits=1)}）")


def _clause(graph: nx.MultiDiGraph, link: Link) -> tuple[str, str]:
    src, dst, key, data = link
    a, b = _name(graph, src), _name(graph, dst)
    kind = key.partition(":")[0]
    money_en, money_zh = _money(data)
    if kind == "MEMBER_OF":
        en, zh = POSITION_WORDS.get(str(data.get("position") or "member"), POSITION_WORDS["member"])
        return f"{a} is {en} of {b}", f"{a}是{b}的{zh}"
    if kind == "PAYS":
        return f"{a} pays {b}{money_en}", f"{a}向{b}付款{money_zh}"
    if kind == "BILL":
        return f"{a} drew acceptance bills payable to {b}{money_en}", f"{a}向{b}开具承兑汇票{money_zh}"
    if kind == "ENDORSES":
        return f"{a} endorsed bills to {b}{money_en}", f"{a}将汇票背书转让给{b}{money_zh}"
    if kind == "PAYROLL":
        return f"{a} pays {b}'s salary{money_en}", f"{a}为{b}代发工资{money_zh}"
    if kind == "PARENT_OF":
        return f"{a} is the parent company of {b}", f"{a}是{b}的母公司"
    if kind == "MANAGES":
        return f"{a} is the account manager of {b}", f"{a}是{b}的客户经理"
    if kind == "IN_BRANCH":
        return f"{a} belongs to {b}", f"{a}隶属于{b}"
    return f"{a} is linked to {b} ({key})", f"{a}与{b}相关（{key}）"
