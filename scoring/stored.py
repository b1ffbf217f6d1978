"""The stored prospects, read back: a family's page filtered and sorted by DuckDB over the
narrow columns of a memory-mapped Arrow copy (only the page's rows become Python values), one
anchor's rows by the version's anchor index, the rows about one entity, and a row decoded for
display (nested columns as Python values, reasons rendered from their templates in the asked
language).

What a request reads again and again is computed once per process and version (`_INDEXES`):
the anchor index, each row's place among its prospect's anchor links, and whether each row's
prospect is an enterprise; `serve` builds them while it warms (`warm_prospect_indexes`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph import nested
from graph.adjacency import encode_arrow_ids, take_rows
from graph.arrays import one_array
from graph.errors import InvalidRequest, NotFound, StoreCorrupted
from graph.index_cache import load_file, stored_arrow
from graph.lru import Lru
from graph.schema import FAMILIES, KINDS_BY_FAMILY
from graph.store import GraphStore
from scoring.answer import BANDS, LINKED_FAMILIES, rank_answer
from scoring.features import duckdb_cursor
from scoring.templates import LegacyGuard, PersonMask, render_reasons

__all__ = ["page_prospects", "load_prospects", "entity_prospects", "ProspectRights", "register_prospects",
           "prospects_arrow", "anchor_rows", "link_orders", "warm_prospect_indexes", "decode"]


_FILTERS = {"kind": "kind", "anchor": "anchor_id", "association": "association_id", "employer": "employer_id",
            "branch": "branch_id", "manager": "manager_id"}


@dataclass(frozen=True)
class ProspectRights:
    """The stored rows one viewer may see, as conditions DuckDB applies before any count or cut.
    The API fills it from a token (`api.masking.Viewer.prospect_rights`); `sql` is its branch
    scope (`Viewer.in_scope`) and its role's rights (`Policy.allows`) written over the columns.

    `branch`: None, every branch; else that branch's rows and the rows of no branch (shared).
    `families`: None, every family and kind; else the families seen, each with its kinds (None:
    every kind). `enterprise_kinds`: a family's kinds also seen where the prospect is an
    enterprise (`is_enterprise`, the enterprises' ids: `Policy.enterprise_kinds`)."""

    branch: str | None = None
    families: Mapping[str, tuple[str, ...] | None] | None = None
    enterprise_kinds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def sql(self) -> tuple[list[str], dict[str, Any], bool]:
        """The WHERE conditions (none: every row), their bound parameters, and whether they read
        the `is_enterprise` column (`register_prospects(is_enterprise=True)`)."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if self.branch is not None:
            where.append("(branch_id IS NULL OR branch_id = '' OR branch_id = $rights_branch)")
            params["rights_branch"] = self.branch
        if self.families is None:
            return where, params, False
        allowed = []
        for at, (family, kinds) in enumerate(sorted(self.families.items())):
            params[f"rights_family_{at}"] = family
            if kinds is None:
                allowed.append(f"family = $rights_family_{at}")
            elif kinds:
                allowed.append(f"(family = $rights_family_{at} AND list_contains($rights_kinds_{at}, kind))")
                params[f"rights_kinds_{at}"] = list(kinds)
        by_enterprise = False
        for at, (family, kinds) in enumerate(sorted(self.enterprise_kinds.items())):
            if not kinds or (family in self.families and self.families[family] is None):
                continue  # none, or every kind of the family is seen already
            allowed.append(f"(family = $rights_enterprise_family_{at} AND "
                           f"list_contains($rights_enterprise_kinds_{at}, kind) AND is_enterprise)")
            params[f"rights_enterprise_family_{at}"] = family
            params[f"rights_enterprise_kinds_{at}"] = list(kinds)
            by_enterprise = True
        where.append(f"({' OR '.join(allowed)})" if allowed else "false")
        return where, params, by_enterprise

    def kinds(self, family: str, every: Sequence[str]) -> list[str]:
        """Of a family's kinds (`every`, in order), those whose rows may be seen (any prospect's or
        an enterprise's), for a menu of kinds."""
        if self.families is None or (family in self.families and self.families[family] is None):
            return list(every)
        seen = {*(self.families.get(family) or ()), *self.enterprise_kinds.get(family, ())}
        return [k for k in every if k in seen]

    def of_family(self, family: str) -> ProspectRights:
        """These rights over one family's rows: the conditions on the other families left out."""
        if self.families is None:
            return self
        return replace(self, families={family: self.families[family]} if family in self.families else {},
                       enterprise_kinds={k: v for k, v in self.enterprise_kinds.items() if k == family})


def page_prospects(
    store: GraphStore,
    family: str,
    *,
    rights: ProspectRights | None = None,
    min_score: float | None = None,
    band: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    as_rows: bool = False,
    **filters: str | None,
) -> tuple[Any, int]:
    """One page of a family's rows, best first, and the count before paging: filtered and paged
    by DuckDB over the prospects table, so only the page becomes Python rows (a DataFrame, or
    with `as_rows` a list of dicts, as a request shows them). With `rights` (a viewer's:
    `api.masking.Viewer.prospect_rights`), only the rows they let through are listed, counted and
    numbered: its branch's rows and the shared ones (no branch: NULL or ''), of the kinds its role
    works; each prospect of the overall list by its best link among them. The `branch` filter is
    exact (that branch's rows, not the shared ones) and narrows `rights`, never widens them.
    Without `rights`, a store's own `prospect_rights` (an `api.scope` scoped store's), else every row."""
    if family not in FAMILIES:
        raise NotFound(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    kind = filters.get("kind")
    if kind is not None and kind not in KINDS_BY_FAMILY[family]:
        raise InvalidRequest(f"unknown kind {kind!r} for {family}; choose one of "
                             f"{', '.join(KINDS_BY_FAMILY[family])}")
    where: list[str] = ["family = $family"]
    params: dict[str, Any] = {"family": family}
    for name, value in filters.items():
        if value is not None:
            where.append(f"{_FILTERS[name]} = ${name}")  # column names from the fixed table above
            params[name] = value
    if rights is None:  # a store seen through a viewer's scope (the API's pictures) lists its rows only
        rights = getattr(store, "prospect_rights", None) or ProspectRights()
    rights = rights.of_family(family)
    allowed, allowed_params, by_enterprise = rights.sql()  # by_enterprise: `is_enterprise` registered below
    where += allowed
    params.update(allowed_params)
    if min_score is not None:
        where.append("score >= $min_score")
        params["min_score"] = min_score
    if band is not None:
        if band not in BANDS:
            raise InvalidRequest(f"unknown band {band!r}; choose one of {', '.join(BANDS)}")
        where.append("json_extract_string(details, '$.band') = $band")
        params["band"] = BANDS[band]
    best_link = filters.get("anchor") is None and family in LINKED_FAMILIES
    if best_link:
        # the overall list shows each prospect once, by its best anchor link among the rows in the
        # viewer's branch scope (see scoring.answer): another branch's better link hides none of its own
        where.append("link_order = 1")
    source_view = "prospects"
    page = f" LIMIT {int(limit)}" if limit is not None else ""
    # column names come from _FILTERS, values are bound parameters; the query sees the narrow
    # columns it filters and sorts on plus each row's position, and only the page's rows are taken
    # from the whole table (its wide JSON columns are never scanned)
    sql = (f"SELECT row_pos, count(*) OVER () AS total_rows FROM {source_view} "  # noqa: S608
           f"WHERE {' AND '.join(where)} "
           f"ORDER BY score DESC, kind, prospect_id, rank{page} OFFSET {int(offset)}")
    anchor = filters.get("anchor")
    con = duckdb_cursor()  # the open database: a new one cost ~20 ms of CPU per request
    try:
        # one anchor's rows are found by the version's anchor index: the query sorts and counts
        # only them (scanning the whole table's narrow columns cost ~7 ms at 2M payments)
        source, table = register_prospects(con, store, band is not None,
                                           rows=None if anchor is None else anchor_rows(store, anchor),
                                           link_order=best_link, is_enterprise=by_enterprise,
                                           scope=rights.branch)
        try:
            hits = con.execute(sql, params).fetchnumpy()
        except duckdb.Error as exc:  # a damaged or missing file: the store's own error, naming it
            raise StoreCorrupted(f"store file {source} is unreadable: {exc}") from exc
        if len(hits["row_pos"]) == 0 and offset:
            total = int(con.execute(f"SELECT count(*) FROM {source_view} WHERE {' AND '.join(where)}",  # noqa: S608
                                    params).fetchone()[0])  # type: ignore[index]
        else:
            total = int(np.asarray(hits["total_rows"])[0]) if len(hits["row_pos"]) else 0
    finally:
        con.close()
    page = take_rows(table, hits["row_pos"])
    if not as_rows:
        return rank_answer(nested.to_pandas(page), offset), total
    rows = page.to_pylist()  # only the page: Arrow to Python values without a DataFrame between
    for at, row in enumerate(rows, start=offset + 1):
        row["rank"] = at  # the position in the answer, as `rank_answer` sets it
    return rows, total


_NO_FILE = "prospects"  # where the rows of a store without a prospects file come from
_NARROW = ("family", "kind", "prospect_id", "anchor_id", "association_id", "employer_id", "branch_id",
           "manager_id", "score", "rank")


def prospects_arrow(store: GraphStore) -> tuple[str, pa.Table]:
    """The whole prospects table as Arrow and where it came from (for error messages): its
    Parquet file memory-mapped when the store keeps one, else the rows the store gives (a server
    backend such as Neo4j)."""
    manifest = getattr(store, "manifest", None)
    root = getattr(store, "root", None)
    entry = manifest()["tables"].get("prospects") if callable(manifest) and root is not None else None
    if entry is None:  # conformed once per version (its nested columns arrive as JSON text)
        key = (_NO_FILE, store._cache_scope(), store._table_token("prospects"))  # noqa: SLF001 - the store's own
        found = _INDEXES.get(key)
        return _NO_FILE, found if found is not None else _INDEXES.put(key, stored_arrow(store, "prospects"))
    source = (root / entry["file"]).as_posix()
    try:
        # memory-mapped Arrow (graph.index_cache): a page without decompressing the whole file
        return source, load_file(store, "prospects", source)
    except (OSError, pa.ArrowException) as exc:
        raise StoreCorrupted(f"store file {source} is unreadable: {exc}") from exc


def register_prospects(con: duckdb.DuckDBPyConnection, store: GraphStore, with_details: bool,
                       extra: tuple[str, ...] = (), rows: np.ndarray | None = None,
                       link_order: bool = False, is_enterprise: bool = False,
                       scope: str | None = None) -> tuple[str, pa.Table]:
    """The prospects table's narrow columns (plus `row_pos` and `extra`) as the DuckDB view
    `prospects`, and the whole table (`prospects_arrow`); with `rows`, only the rows at those
    positions are in the view; with `link_order`, each row's `link_order` too (`link_orders`,
    among the rows of branch `scope`'s viewer); with `is_enterprise`, whether its prospect is an
    enterprise."""
    source, table = prospects_arrow(store)
    wanted = [c for c in (*_NARROW, *(("details",) if with_details else ()), *extra) if c in table.column_names]
    if rows is None:
        positions = np.arange(table.num_rows, dtype=np.int64)
        narrow = table.select(wanted)
    else:
        positions = np.asarray(rows, dtype=np.int64)
        narrow = take_rows(table.select(wanted), positions)
    narrow = narrow.append_column("row_pos", pa.array(positions))

    def at_rows(values: np.ndarray) -> pa.Array:  # the whole table's column, or the rows taken
        return pa.array(values if rows is None else values[positions])

    if link_order:
        narrow = narrow.append_column("link_order", at_rows(link_orders(source, table, scope)))
    if is_enterprise:
        narrow = narrow.append_column("is_enterprise", at_rows(_prospect_is_enterprise(store, source, table)))
    con.register("prospects", narrow)
    return source, table


def _per_version(source: str, key: tuple[Any, ...], build: Callable[[], _T]) -> _T:
    """`build()`, kept per process for the prospects file `source` (the file names the version);
    built on every call for a store that keeps no prospects file."""
    if source == _NO_FILE:
        return build()
    found = _INDEXES.get((source, *key))
    return found if found is not None else _INDEXES.put((source, *key), build())  # type: ignore[no-any-return]


def link_orders(source: str, table: pa.Table, scope: str | None = None) -> np.ndarray:
    """Each row's place among the rows of its prospect (family, kind, prospect id) a viewer of
    branch `scope` may see (`ProspectRights` branch rule; None: every row): 1 for its best anchor
    link (highest score, then an anchor before none, then table order), 0 for a row out of scope.
    The overall list shows each prospect once, by that row (`scoring.answer`), so a better link of
    another branch hides none of the viewer's. Computed once per process, version and scope:
    numbering every row per request cost most of a `/prospects` page at 2M payments."""

    def build() -> np.ndarray:
        where, params, _ = ProspectRights(branch=scope).sql()
        columns = ["family", "kind", "prospect_id", "score", "anchor_id", *(["branch_id"] if where else [])]
        con = duckdb_cursor()
        try:
            con.register("t", table.select(columns).append_column(
                "row_pos", pa.array(np.arange(table.num_rows, dtype=np.int64))))
            order = con.execute("SELECT row_pos, row_number() OVER (PARTITION BY family, kind, prospect_id "  # noqa: S608
                                "ORDER BY score DESC, anchor_id NULLS LAST, row_pos) AS link_order FROM t"
                                + (f" WHERE {' AND '.join(where)}" if where else ""), params).fetchnumpy()
        finally:
            con.close()
        out = np.zeros(table.num_rows, dtype=np.int32)  # int32: one per branch kept, at half the memory
        out[np.asarray(order["row_pos"])] = np.asarray(order["link_order"])
        return out

    return _per_version(source, (table.num_rows, "link_order", scope), build)


def anchor_rows(store: GraphStore, anchor: str) -> np.ndarray | None:
    """The positions in the prospects table of the rows whose anchor is `anchor`, in table order,
    from the version's anchor index (the anchor ids' bytes sorted once per process and version);
    None for a store that keeps no prospects file (its rows have no lasting name to index by)."""
    source, table = prospects_arrow(store)
    if source == _NO_FILE:
        return None

    def build() -> tuple[np.ndarray, np.ndarray]:
        anchors = table.column("anchor_id")
        at = np.flatnonzero(pc.is_valid(anchors).to_numpy(zero_copy_only=False))  # rows with an anchor
        ids = encode_arrow_ids(anchors.take(pa.array(at)))
        order = np.argsort(ids, kind="stable")  # stable: each anchor's rows keep table order
        return ids[order], at[order]

    keys, positions = _per_version(source, (table.num_rows, "anchor"), build)
    wanted = str(anchor).encode("utf-8")
    if len(keys) == 0 or len(wanted) > keys.dtype.itemsize:
        return np.zeros(0, dtype=np.int64)  # longer than every stored anchor: none of them
    lo, hi = np.searchsorted(keys, wanted, side="left"), np.searchsorted(keys, wanted, side="right")
    return np.asarray(positions[lo:hi], dtype=np.int64)


def _prospect_is_enterprise(store: GraphStore, source: str, table: pa.Table) -> np.ndarray:
    """Whether each row's prospect is an enterprise (a role's enterprise kinds are listed where it
    is one), once per process, prospects file and enterprises version: a join of every row with
    the enterprises' ids (200k at 2M payments) per request cost ~40 ms."""

    def build() -> np.ndarray:
        ids = stored_arrow(store, "enterprises").column("id")
        return pc.is_in(table.column("prospect_id"), value_set=one_array(ids)).to_numpy(zero_copy_only=False)

    token = store._table_token("enterprises")  # noqa: SLF001 - the store's own token
    return _per_version(source, (table.num_rows, "is_enterprise", token), build)


def warm_prospect_indexes(store: GraphStore) -> None:
    """Build the current version's per-version indexes now (`serve` warming): the link orders
    of every row and of each branch's scope, for the first `_WARM_BRANCHES` branches of the store."""
    source, table = prospects_arrow(store)
    anchor_rows(store, "")
    link_orders(source, table)
    _prospect_is_enterprise(store, source, table)
    branches = [b for b in store.read("branches", ["id"])["id"].drop_duplicates() if isinstance(b, str) and b]
    for branch in branches[:_WARM_BRANCHES]:
        link_orders(source, table, branch)


# per process and prospects file: the anchor index, the link orders (every row's and each branch
# scope's), the enterprise flags; room for the branches warmed and a few versions' other indexes
_WARM_BRANCHES = 32
_INDEXES = Lru(_WARM_BRANCHES + 8)
_T = TypeVar("_T")


def load_prospects(
    store: GraphStore,
    family: str,
    *,
    kind: str | None = None,
    anchor: str | None = None,
    association: str | None = None,
    employer: str | None = None,
    branch: str | None = None,
    manager: str | None = None,
    min_score: float | None = None,
    band: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    rights: ProspectRights | None = None,
) -> pd.DataFrame:
    """The scored rows of a family, best first, filtered (`page_prospects`: `rights`, the rows a
    viewer may see; `branch`, exactly that branch's); raises NotFound for a bad family."""
    df, _ = page_prospects(store, family, kind=kind, anchor=anchor, association=association, employer=employer,
                           branch=branch, manager=manager, min_score=min_score, band=band, limit=limit,
                           offset=offset, rights=rights)
    return df


# The rows of every family about one entity, in three disjoint parts: the prospect itself
# (`about`), the prospects it leads to as their anchor, association or employer (`leads_to`), and
# the others whose path to a manager runs through it (`through`). Each part's best rows (score,
# then table order) and its count, both over the rows a viewer may see ({rights}: the conditions of
# `ProspectRights.sql`, fixed text with bound parameters), so another branch's rows neither take a
# place among the best nor add to a count.
_ENTITY_SQL = """
WITH parts AS (
    SELECT row_pos, score,
           CASE WHEN prospect_id = $id THEN 'about'
                WHEN anchor_id = $id OR association_id = $id OR employer_id = $id THEN 'leads_to'
                ELSE 'through' END AS part
    FROM prospects
    WHERE (prospect_id = $id OR anchor_id = $id OR association_id = $id OR employer_id = $id
           OR list_contains(path, $id)){rights}
)
SELECT row_pos, part, count(*) OVER (PARTITION BY part) AS total
FROM parts
QUALIFY row_number() OVER (PARTITION BY part ORDER BY score DESC, row_pos) <= $limit
ORDER BY part, score DESC, row_pos
"""


def entity_prospects(store: GraphStore, entity_id: str, limit: int,
                     rights: ProspectRights | None = None) -> dict[str, tuple[pd.DataFrame, int]]:
    """The stored rows about `entity_id`, by part (`about`, `leads_to`, `through`): each part's
    `limit` best rows and its count before the cut, both among the rows `rights` lets through
    (None: every row). DuckDB filters the narrow columns (and the path text); only the rows
    returned become pandas."""
    where, params, by_enterprise = (rights or ProspectRights()).sql()
    sql = _ENTITY_SQL.format(rights="".join(f" AND {w}" for w in where))
    con = duckdb_cursor()
    try:
        source, table = register_prospects(con, store, False, extra=("path",), is_enterprise=by_enterprise)
        try:
            hits = con.sql(sql, params={**params, "id": str(entity_id), "limit": int(limit)}).to_arrow_table()
        except duckdb.Error as exc:
            raise StoreCorrupted(f"store file {source} is unreadable: {exc}") from exc
    finally:
        con.close()
    parts = hits.column("part").to_pylist()
    out = {}
    for part in ("about", "leads_to", "through"):
        at = [i for i, p in enumerate(parts) if p == part]  # at most 3 x limit rows
        rows = take_rows(table, hits.column("row_pos").take(at)) if at else table.schema.empty_table()
        out[part] = (nested.to_pandas(rows), int(hits.column("total")[at[0]].as_py()) if at else 0)
    return out


def decode(row: dict[str, Any], lang: str = "zh", person: PersonMask | None = None,
           legacy: LegacyGuard | None = None) -> dict[str, Any]:
    """A `prospects` row with its nested and JSON columns as Python values and reasons rendered in `lang` (persons'
    fields through `person`, legacy sentences through `legacy`: `scoring.templates.render_reasons`)."""
    out = dict(row)
    for col in ("evidence", "path", "suggested_products"):
        out[col] = nested.cell(out.get(col), col)
    value = out.get("details")
    if isinstance(value, str):
        out["details"] = json.loads(value) if value else {}
    elif value is None or value is pd.NA or (isinstance(value, float) and value != value):
        out["details"] = {}
    out["reasons"] = render_reasons(out.get("reasons"), lang, person, legacy)
    for k, v in list(out.items()):
        if v is pd.NA or (isinstance(v, float) and v != v):
            out[k] = None
    return out
