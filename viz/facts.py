"""Shared parts of the view builders: the viewer's context, node facts, statuses and explanations.

A node's tooltip and details panel say what it is, the facts a manager needs, and — when
it is a scored prospect — its score, reasons and the contributions that make the score.
Person names are masked here when the viewer's role calls for it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa

from graph import nested
from graph.adjacency import take_rows
from graph.display import display_text
from graph.index_cache import load_file
from graph.store import GraphStore
from scoring.templates import PersonMask, render_reasons
from viz.picture import VEdge, VNode
from viz.style import MONEY_EDGES, Lang, format_wan, text

__all__ = ["ViewContext", "prospect_index", "make_node", "make_edge", "picture_link", "staff_name",
           "money_total", "read_ahead"]


def _as_is(attrs: dict[str, Any]) -> dict[str, Any]:
    return attrs


def _link_as_is(_src: str, _dst: str, data: dict[str, Any]) -> dict[str, Any]:
    return data


def _nothing(_ids: Iterable[str]) -> None:
    return None


def _same(value: str) -> str:
    return value


@dataclass
class ViewContext:
    """Who is looking, as the API's viewer says: language, how a node is presented, view limits.

    `present` turns a node's attributes into what this viewer may see (the API passes
    `Viewer.node`: a masked person gets `masked=True` and a masked name, an out-of-scope node
    `restricted=True`), `edge` a link's (`Viewer.edge`: no pay beside a masked person); `scrub`
    removes masked names from free text (reasons, folded lists).
    """

    lang: Lang = "zh"
    present: Callable[[dict[str, Any]], dict[str, Any]] = _as_is
    scrub: Callable[[str], str] = _same
    edge: Callable[[str, str, dict[str, Any]], dict[str, Any]] = _link_as_is  # a link's attributes as seen
    prefetch: Callable[[Iterable[str]], None] = _nothing  # `edge` about to be asked of links to these ids
    person: PersonMask | None = None  # a person field of a reason, as this viewer may see it
    keep: int = 25  # neighbours of the centre drawn before folding into "+N more"
    keep_deeper: int = 3  # neighbours drawn per node beyond the first hop (a hub's second ring stays readable)
    max_nodes: int = 500
    _prospects: _RowIndex | None = field(default=None, repr=False)
    _staff: dict[str, str] = field(default_factory=dict, repr=False)  # staff names of this picture
    _rows: dict[str, dict[str, Any] | None] = field(default_factory=dict, repr=False)  # prospect rows read ahead

    def name_of(self, attrs: dict[str, Any], node_id: str) -> str:
        """The name this viewer may see (a masked person's mask)."""
        seen = self.present({**attrs, "id": node_id})
        return display_text(seen.get("name") or node_id)


_INDEX_COLUMNS = ["prospect_id", "family", "kind", "score", "rank", "reasons", "evidence"]


class _RowIndex:
    """Best prospect row per id, looked up on demand (a dict of every row costs seconds at scale).

    Only the narrow columns (id, family, kind, score) are read and sorted to find each id's best
    row; the rows themselves (reasons and evidence: most of the table) are taken from `rows` for
    the ids a picture shows. `narrow` is indexed by row position in `rows`.
    """

    def __init__(self, narrow: pd.DataFrame, rows: pa.Table) -> None:
        score = pd.to_numeric(narrow["score"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        # best first: score descending (missing last), then family, then kind, as a stable sort would
        order = np.lexsort((pd.factorize(narrow["kind"], sort=True)[0], pd.factorize(narrow["family"], sort=True)[0],
                            np.where(np.isnan(score), np.inf, -score)))
        codes, ids = pd.factorize(narrow["prospect_id"])
        ranked = codes[order]
        known, first = np.unique(ranked, return_index=True)  # each id's best row: its first in that order
        first, known = first[known >= 0], known[known >= 0]
        self._rows = rows.select(_INDEX_COLUMNS)
        self._at = pd.Index(ids[known])
        self._pos = narrow.index.to_numpy(dtype=np.int64)[order[first]]

    def get(self, prospect_id: str) -> dict[str, Any] | None:
        return self.get_many([prospect_id]).get(str(prospect_id))

    def get_many(self, prospect_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The best rows of the ids that have one (one search for all)."""
        wanted = [str(p) for p in dict.fromkeys(prospect_ids)]
        at = self._at.get_indexer(wanted)
        hit = at >= 0
        rows = take_rows(self._rows, self._pos[at[hit]]).to_pylist()  # only the rows asked for
        return dict(zip(np.asarray(wanted, dtype=object)[hit].tolist(), rows, strict=True))


_index_cache: dict[tuple[str, str | None], _RowIndex] = {}
_index_lock = threading.Lock()


def prospect_index(store: GraphStore, ctx: ViewContext) -> _RowIndex:
    """The best-scoring prospect row of every prospect id, cached per store version."""
    if ctx._prospects is not None:
        return ctx._prospects
    key = store.cache_key
    with _index_lock:
        out = _index_cache.get(key)
    if out is None:
        out = _build_index(store)
        with _index_lock:
            if len(_index_cache) > 8:
                _index_cache.clear()
            _index_cache[key] = out
    ctx._prospects = out
    return out


def _build_index(store: GraphStore) -> _RowIndex:
    """The index from the narrow columns the store gives (scoped: only the viewer's rows, indexed
    by row position) and the rows from the table's memory-mapped Arrow copy (`graph.index_cache`,
    written when the scores are); a store without files (Neo4j) gives its rows as they come."""
    narrow = store.read("prospects", _INDEX_COLUMNS[:4])
    manifest, root = getattr(store, "manifest", None), getattr(store, "root", None)
    entry = manifest()["tables"].get("prospects") if callable(manifest) and root is not None else None
    if entry is not None:
        rows = load_file(store, "prospects", root / entry["file"])
        if _aligned(narrow, rows):
            return _RowIndex(narrow, rows)
    df = store.read("prospects", _INDEX_COLUMNS).reset_index(drop=True)
    return _RowIndex(df, pa.Table.from_pandas(df, preserve_index=False))


def _aligned(narrow: pd.DataFrame, rows: pa.Table) -> bool:
    """Whether `narrow`'s row positions point at the same prospects in `rows` (checked on a sample)."""
    positions = narrow.index.to_numpy(dtype=np.int64)
    if len(positions) == 0:
        return True
    if positions.min() < 0 or positions.max() >= rows.num_rows:
        return False
    sample = np.unique(np.linspace(0, len(positions) - 1, num=min(64, len(positions))).astype(np.int64))
    found = take_rows(rows.select(["prospect_id"]), positions[sample]).column(0).to_pylist()
    return [str(v) for v in found] == [str(v) for v in narrow["prospect_id"].iloc[sample].tolist()]


def explanation(row: dict[str, Any], lang: Lang, top: int = 5, person: PersonMask | None = None) -> list[str]:
    """Reasons (persons' fields through `person`), then the largest contributions, as lines of text."""
    lines = render_reasons(row.get("reasons"), lang, person)  # template ids + parameters, rendered now
    evidence = nested.cell(row.get("evidence"), "evidence")
    evidence.sort(key=lambda e: -float(e.get("contribution") or 0.0))
    for e in evidence[:top]:
        label = e.get("label_zh" if lang == "zh" else "label_en") or e.get("name", "")
        lines.append(f"{label}: {float(e.get('contribution') or 0.0):+.1f}")
    return lines


def picture_link(kind: str, node_id: str) -> str | None:
    """The page that centres on a node: persons get the person view, the rest the ego view."""
    safe = quote(str(node_id), safe="")
    if kind == "Person":
        return f"/viz/person/{safe}"
    if kind in ("Enterprise", "Association", "Manager"):
        return f"/viz/ego/{safe}"
    return None


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return str(value) not in ("", "<NA>", "nan", "NaT")


def _yes(value: Any) -> bool:
    """A flag that is set: Python's True or numpy's (a node read from the store gives `np.True_`,
    which `is True` is not); a null or a missing flag is no."""
    return isinstance(value, (bool, np.bool_)) and bool(value)


def _status(attrs: dict[str, Any], is_prospect: bool) -> str:
    kind = attrs.get("kind")
    if kind == "Enterprise":
        if _yes(attrs.get("is_credit_client")):
            return "credit_client"
        if _yes(attrs.get("is_client")):
            return "client"
    elif kind == "Person" and _yes(attrs.get("is_retail_client")):
        return "vip" if attrs.get("tier") in ("vip", "private") else "client"
    return "prospect" if is_prospect else "other"


def staff_name(store: GraphStore, node_id: str, attrs: dict[str, Any] | None = None) -> str:
    """A manager's or branch's name with its id ("王经理 (M01)"); the id alone when unknown
    (`attrs`: the staff node's attributes when already read)."""
    name = (attrs if attrs is not None else store.node(node_id) or {}).get("name")
    return f"{name} ({node_id})" if _present(name) and str(name) != node_id else node_id


def read_ahead(store: GraphStore, ctx: ViewContext, attrs: dict[str, dict[str, Any]]) -> None:
    """Read at once what `make_node` would look up node by node for the nodes of `attrs` (id ->
    attributes): their prospect rows, and the managers and branches their rows name."""
    index = prospect_index(store, ctx)
    wanted = [str(n) for n in attrs if str(n) not in ctx._rows]
    found = index.get_many(wanted)
    ctx._rows.update({n: found.get(n) for n in wanted})
    staff = {str(a[key]) for a in attrs.values() for key in ("manager_id", "branch_id") if _present(a.get(key))}
    staff -= ctx._staff.keys()
    rows = store.nodes(sorted(staff))
    ctx._staff.update({s: staff_name(store, s, rows.get(s, {})) for s in staff})


def make_node(store: GraphStore, node_id: str, ctx: ViewContext, attrs: dict[str, Any] | None = None,
              **extra: Any) -> VNode:
    """A node with its name (masked for persons when the role says so), status, facts and score."""
    if attrs is None:
        attrs = store.node(node_id) or {"kind": "Enterprise", "name": node_id}
    kind = str(attrs.get("kind") or "Enterprise")
    seen = ctx.present({**attrs, "id": node_id, "kind": kind})
    lang = ctx.lang
    row = ctx._rows[str(node_id)] if str(node_id) in ctx._rows else prospect_index(store, ctx).get(str(node_id))
    name = display_text(seen.get("name") or node_id)
    facts: list[tuple[str, str]] = [(text("id", lang), str(node_id))]
    if seen.get("restricted"):
        return VNode(id=str(node_id), name=name, kind=kind, facts=facts)
    if kind == "Enterprise":
        for key in ("industry", "region"):
            if _present(attrs.get(key)):
                facts.append((text(key, lang), str(attrs[key])))
    elif kind == "Person":
        if _present(seen.get("tier")):
            facts.append((text("tier_retail", lang), text(f"retail_tier:{str(seen['tier']).lower()}", lang)
                          .removeprefix("retail_tier:")))
        if _present(seen.get("aum")) and not seen.get("masked"):
            facts.append((text("aum", lang), format_wan(float(seen["aum"]))))
    elif kind == "Association" and _present(attrs.get("region")):
        facts.append((text("region", lang), str(attrs["region"])))
    for key in ("manager_id", "branch_id"):  # managers and branches by name (staff, not masked persons)
        if _present(attrs.get(key)):
            staff_id = str(attrs[key])
            staff = ctx._staff.get(staff_id)
            if staff is None:  # a picture names the same few managers and branches again and again
                staff = ctx._staff[staff_id] = staff_name(store, staff_id)
            facts.append((text(key.removesuffix("_id"), lang), staff))
    node = VNode(id=str(node_id), name=name, kind=kind, status=_status(attrs, row is not None), facts=facts,
                 link=picture_link(kind, str(node_id)))
    if row is not None:
        node.score = round(float(row["score"]), 1)
        node.facts.append((text("score", lang), f"{node.score:.1f} · {text(str(row['family']), lang)} · "
                                                f"{text(str(row['kind']), lang)} #{row.get('rank')}"))
        node.explanation = [ctx.scrub(line) for line in explanation(row, lang, person=ctx.person)]
    for key, value in extra.items():
        setattr(node, key, value)
    return node


def make_edge(src: str, dst: str, data: dict[str, Any], lang: Lang, **extra: Any) -> VEdge:
    """An edge from a stored edge's attributes: amount for money, role or position for the others."""
    kind = str(data.get("kind") or "LINK")
    amount = float(data["amount"]) if kind in MONEY_EDGES and _present(data.get("amount")) else None
    label: str | None = None
    facts: list[tuple[str, str]] = []
    if kind == "HOLDS_ROLE":
        role = str(data.get("role") or "")  # `other`: the title as given; `related`: no title
        label = display_text(data["title"]) if role == "other" and _present(data.get("title")) else \
            text(f"role_{role}" if role in ("other", "related") else role, lang)
        if _present(data.get("share_pct")):
            label += f" {float(data['share_pct']):.0f}%"
    elif kind == "MEMBER_OF" and _present(data.get("position")):
        label = text(str(data["position"]), lang)
    elif kind in MONEY_EDGES:
        if _present(data.get("count")):
            facts.append(("笔数" if lang == "zh" else "Count", str(data["count"])))
        for key, zh, en in (("first_on", "首次", "First"), ("last_on", "最近", "Last")):
            if _present(data.get(key)):
                facts.append((zh if lang == "zh" else en, str(data[key])[:10]))
        if _present(data.get("other_bank_amount")) and float(data["other_bank_amount"]) > 0:
            facts.append(("付往他行" if lang == "zh" else "To other banks", format_wan(float(data["other_bank_amount"]))))
    edge = VEdge(src=str(src), dst=str(dst), kind=kind, amount=amount, label=label, facts=facts)
    for key, value in extra.items():
        setattr(edge, key, value)
    return edge


def money_total(g: nx.MultiDiGraph, node_id: str, among: set[str], ctx: ViewContext | None = None) -> float:
    """The money on a node's edges to the other drawn nodes (sizes the node; shown in its
    tooltip), each edge as the viewer may see it (`ViewContext.edge`: no masked person's pay)."""
    edge = ctx.edge if ctx is not None else _link_as_is
    total = 0.0
    for u, v, data in g.out_edges(node_id, data=True):
        if v in among and data.get("kind") in MONEY_EDGES:
            total += float(edge(u, v, data).get("amount") or 0.0)
    for u, v, data in g.in_edges(node_id, data=True):
        if u in among and data.get("kind") in MONEY_EDGES:
            total += float(edge(u, v, data).get("amount") or 0.0)
    return total
