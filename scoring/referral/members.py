"""Kind ``member``: one row per prospect, from its best chain (`chains.build_chains`).

The row's evidence is the best chain's contributions plus ``independent_introducers`` (the
distinct clients and key persons — officers, shared directors — that lead to the prospect).
Its manager is the best referrer's (分户), except that a weak client stays with its own.
``details`` lists the best chain, up to `max_listed` other chains and other introducers
(best first), and the association's penetration.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import group_starts
from scoring.frame import round_like_python
from scoring.referral.chains import CHAIN_PATH
from scoring.referral.rows import Bar, Slot, column, kind_frame, mask
from scoring.referral.settings import ReferralSettings
from scoring.referral.text import GROUP_LINKS

__all__ = ["member_table", "member_rows", "LABELS"]

LABELS = {
    "referrer_credit": ("introducer is a credit client", "引荐人为授信客户"),
    "referrer_tenure": ("introducer's years with the bank", "引荐人合作年限"),
    "referrer_products": ("introducer's products held", "引荐人持有产品数"),
    "referrer_position": ("standing of the introducer or key person", "引荐人或关键人地位"),
    "association_penetration": ("share of the association already clients", "协会会员中我行客户占比"),
    "fit_industry": ("same industry as the introducer", "与引荐人同行业"),
    "fit_credit_design": ("introducer's credit design fits", "可复用引荐人授信方案"),
    "chain_length": ("links from the manager", "引荐链长度"),
    "independent_introducers": ("independent introducers (clients and key persons)", "独立引荐渠道数（客户及关键人）"),
}

# Each prospect's ways in: the clients (its introducers, `_INTRODUCERS_SQL`) and the key persons
# its chains run through, sorted by `list_sort` (how many chains it has is ``best_chain``'s
# ``chains_total``, counted when the chains were ranked).
_DOORS_SQL = """
CREATE TEMP TABLE prospect_door AS
WITH door AS (             -- independent ways in: clients, and the key persons chains run through
    SELECT prospect, referrer AS door FROM introducer
    UNION
    SELECT prospect, via FROM chain WHERE kind IN ('officer', 'interlock') AND via IS NOT NULL
)
SELECT prospect, count(*) AS doors, list_sort(list(door)) AS independent_doors
FROM door GROUP BY prospect
"""

# One row per prospect (in no order: `member_rows` takes them into the order of their details,
# by prospect): the best chain (rn = 1) with the names its reasons need. The
# listed chains and introducers (`details`) are a query of their own: joined here, their
# nested values would be copied into the hash table of every name look-up below (hundreds of MiB).
_MEMBERS_SQL = """
WITH role_text AS (        -- a key person's roles in a firm, in words, by role code (list_sort: an
    SELECT person_id, enterprise_id,  -- ordered string_agg cost twice as much)
           array_to_string(list_transform(list_sort(list({'code': role, 'en': en})), lambda x: x.en), ' and ') AS en,
           array_to_string(list_transform(list_sort(list({'code': role, 'zh': zh})), lambda x: x.zh), '、') AS zh
    FROM (SELECT ro.person_id, ro.enterprise_id, ro.role, coalesce(w.en, ro.role) AS en, coalesce(w.zh, ro.role) AS zh
          FROM role ro LEFT JOIN role_words w ON w.code = ro.role
          WHERE ro.person_id IN (SELECT via FROM best_chain WHERE kind = 'interlock'))
    GROUP BY person_id, enterprise_id
)
SELECT b.prospect AS prospect_id, p.name, b.referrer AS anchor_id, b.association AS association_id,
       coalesce(CASE WHEN p.is_client THEN p.manager_id END, b.referrer_manager) AS manager_id,
       coalesce(nullif(mg.branch_id, ''), r.branch_id) AS branch_id,
       p.is_client AS is_deepening, b.path,
       CASE WHEN p.kind = 'person' THEN $products_person
            WHEN b.credit_design THEN list_concat($products_design, $products_enterprise)
            ELSE $products_enterprise END AS suggested_products,
       b.is_credit, b.tenure_years, b.n_products, b.position, b.share, b.credit_design, b.hops,
       CASE WHEN b.same_industry THEN b.prospect_industry END AS industry,
       b.pts_credit, b.pts_tenure, b.pts_products, b.pts_position, b.pts_penetration, b.pts_industry, b.pts_design,
       b.pts_length, d.doors,
       -- reason parameters: names as fields of their own
       'referral.introducer.' || CASE WHEN b.is_credit THEN 'credit' ELSE 'client' END || '.'
           || CASE WHEN b.kind <> 'group' THEN b.kind
                   WHEN list_contains($group_links, b.position) THEN replace(b.position, ':', '.')
                   ELSE 'group' END AS introducer_template,
       'referral.approach.' || b.kind || CASE WHEN b.referrer_manager IS NULL THEN '.no_manager' ELSE '' END
           AS approach_template,
       r.name AS referrer_name, p.name AS prospect_name, an.name AS association_name,
       CASE WHEN b.via IS NOT NULL THEN coalesce(vn.name, b.via) END AS via_name, b.via AS via_id,
       coalesce(rmn.name, b.referrer_manager) AS manager_name,
       coalesce(rmn.name, b.referrer_manager, '—') AS introducer_manager,
       CASE WHEN p.is_client THEN coalesce(pmn.name, p.manager_id, '—') END AS own_manager,
       CASE WHEN b.kind = 'officer' THEN coalesce(pw.en, b.position) END AS position_en,
       CASE WHEN b.kind = 'officer' THEN coalesce(pw.zh, b.position) END AS position_zh,
       CASE WHEN b.kind = 'interlock' THEN coalesce(ra.en, 'linked') END AS roles_referrer_en,
       CASE WHEN b.kind = 'interlock' THEN coalesce(ra.zh, '关联人') END AS roles_referrer_zh,
       CASE WHEN b.kind = 'interlock' THEN coalesce(rb.en, 'linked') END AS roles_prospect_en,
       CASE WHEN b.kind = 'interlock' THEN coalesce(rb.zh, '关联人') END AS roles_prospect_zh,
       b.assoc_clients::VARCHAR AS clients_text, b.assoc_members::VARCHAR AS members_text,
       CASE WHEN b.assoc_members > 0 THEN (b.assoc_clients / b.assoc_members)::VARCHAR END AS share_text,
       b.association IS NOT NULL AND b.pts_penetration > 0 AS says_penetration,
       d.doors::VARCHAR AS doors_text
FROM best_chain b
JOIN entity p ON p.id = b.prospect JOIN entity r ON r.id = b.referrer
JOIN prospect_door d ON d.prospect = b.prospect
LEFT JOIN managers mg ON mg.id = coalesce(CASE WHEN p.is_client THEN p.manager_id END, b.referrer_manager)
LEFT JOIN names an ON an.id = b.association
LEFT JOIN names vn ON vn.id = b.via
LEFT JOIN names rmn ON rmn.id = b.referrer_manager
LEFT JOIN names pmn ON pmn.id = p.manager_id
LEFT JOIN position_words pw ON pw.code = b.position
LEFT JOIN role_text ra ON ra.person_id = b.via AND ra.enterprise_id = b.referrer
LEFT JOIN role_text rb ON rb.person_id = b.via AND rb.enterprise_id = b.prospect
"""


# A row's `details`, in the order of `_MEMBERS_SQL`'s rows: the best chain, up to max_listed
# other chains and other introducers (best first, with names), the counts, the doors and the
# association's penetration, as JSON text. Three steps: each listed chain and introducer is
# written as JSON here (`_LISTED_CHAINS_SQL`, `_OTHER_INTRODUCERS_SQL`), joined into each
# prospect's lists by Arrow in rank order (`_lists`), and `_details` puts the object together
# with `_DETAILS_SQL`'s small parts (one `concat` of each piece: a chain of `||` in SQL copied
# the growing text once per piece, and joins carrying the lists' text cost 0.5 s at 2M). The text
# is the one `to_json` gives for the nested value (keys in this order, no spaces); aggregating
# the nested structs into lists and encoding them whole cost three times as much.
_LISTED_CHAINS_SQL = """
SELECT c.prospect, k.pno, k.rn,
       to_json({'kind': c.kind, 'referrer': c.referrer, 'referrer_name': rn.name, 'via': c.via,
                'via_name': coalesce(vn.name, c.via, ''), 'association_id': c.association, 'position': c.position,
                'manager_id': c.referrer_manager, 'path': """ + CHAIN_PATH + """, 'hops': c.hops,
                'points': round(c.points, 2)})::VARCHAR AS item
FROM chain_rank k JOIN chain c ON c.rowid = k.seq
JOIN names rn ON rn.id = c.referrer LEFT JOIN names vn ON vn.id = c.via
"""  # noqa: S608 - constant texts

# Each client who can introduce, with its best chain's points, and how many there are.
_INTRODUCERS_SQL = """
CREATE TEMP TABLE introducer AS
SELECT prospect, referrer, max(points) AS points FROM chain GROUP BY prospect, referrer
"""

# The introducers other than the best chain's referrer, strongest first (up to max_listed).
_OTHER_INTRODUCERS_SQL = """
WITH other_introducer AS (
    SELECT i.*, b.pno, row_number() OVER (PARTITION BY i.prospect ORDER BY i.points DESC, i.referrer) AS k
    FROM introducer i JOIN best_chain b ON b.prospect = i.prospect
    WHERE i.referrer <> b.referrer
)
SELECT o.prospect, o.pno, o.k,
       to_json({'id': o.referrer, 'name': n.name, 'manager_id': e.manager_id,
                'manager_name': coalesce(mn.name, e.manager_id, ''), 'chain_points': round(o.points, 2)})::VARCHAR
           AS item
FROM other_introducer o JOIN names n ON n.id = o.referrer JOIN entity e ON e.id = o.referrer
LEFT JOIN names mn ON mn.id = e.manager_id
WHERE o.k <= $max_listed
"""

# The parts of a row's details other than the lists (small texts, ordered by prospect); the
# lists are put in between by Arrow (`_details`), so no large text rides through these joins.
_DETAILS_SQL = """
WITH introducer_stats AS (
    SELECT prospect, count(*) AS introducers_total FROM introducer GROUP BY prospect
)
SELECT b.prospect,
       concat('],"chains_total":', to_json(b.chains_total), ',"other_introducers":[') AS middle,
       concat('],"introducers_total":', to_json(ist.introducers_total),
              ',"independent_doors":', to_json(d.independent_doors),
              ',"referrer_manager_id":', coalesce(to_json(b.referrer_manager)::VARCHAR, 'null'),
              ',"association_members":', to_json(b.assoc_members),
              ',"association_client_members":', to_json(b.assoc_clients), ',"association_penetration":',
              coalesce(to_json(CASE WHEN b.assoc_members > 0 THEN round(b.assoc_clients / b.assoc_members, 4) END
                               )::VARCHAR, 'null'),
              '}') AS tail
FROM best_chain b
JOIN introducer_stats ist ON ist.prospect = b.prospect
JOIN prospect_door d ON d.prospect = b.prospect
ORDER BY b.pno  -- the prospects' order by id (`chains._ranks`)
"""


def _details(parts: pa.Table, listed: pa.Table, others: pa.Table) -> pa.Array:
    """Each row's details text, in `parts`' order (by prospect): the parts (`_DETAILS_SQL`) with
    the listed chains and other introducers (`_lists`, by prospect) in between, as one `to_json`
    would write the object."""
    prospect = column(parts, "prospect")
    if not column(listed, "prospect").equals(prospect):  # every prospect has its best chain listed
        raise RuntimeError("referral details and listed chains are not aligned")
    at = pc.index_in(prospect, value_set=column(others, "prospect"))
    introducers = pc.fill_null(column(others, "items").take(at), "")
    return pc.binary_join_element_wise('{"best_chain":', column(listed, "first"), ',"other_chains":[',
                                       column(listed, "rest"), column(parts, "middle"), introducers,
                                       column(parts, "tail"), "")


def _lists(items: pa.Table, rank: str, split: bool) -> pa.Table:
    """Each prospect's JSON items in `rank` order, joined with commas (the inside of a JSON
    list), the prospects in id order (``pno``): with `split` as ``first`` (the first item) and
    ``rest`` (the others), else as ``items``."""
    order = pc.sort_indices(items.select(["pno", rank]), sort_keys=[("pno", "ascending"), (rank, "ascending")])
    text = column(items, "item").take(order)
    starts = group_starts(column(items, "pno").take(order))
    first = np.flatnonzero(starts)
    offsets = np.append(first, len(text)).astype(np.int32)
    out = {"prospect": column(items, "prospect").take(order.take(pa.array(first)))}
    if not split:
        return pa.table({**out, "items": pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), text), ",")})
    rest_offsets = (offsets - np.arange(len(offsets))).astype(np.int32)  # each list less its first item
    return pa.table({**out, "first": text.take(pa.array(first)),
                     "rest": pc.binary_join(pa.ListArray.from_arrays(pa.array(rest_offsets),
                                                                     text.filter(pa.array(~starts))), ",")})


def member_table(con: duckdb.DuckDBPyConnection, cfg: ReferralSettings) -> dict[str, pa.Table]:
    """What the member rows are made of, read from DuckDB (tables ``chain``, ``chain_rank`` and
    ``best_chain`` must exist): ``rows`` (one per prospect, in no order), the JSON items of the
    listed chains (``listed``) and of the other introducers (``others``), and the small parts of
    each row's details (``parts``). `member_rows` puts them together once the connection is
    closed: at 20M payments, joining the details text beside the database's tables took the
    process 2.5 GiB above them. ``chain`` (its largest table) is dropped once its listed chains
    are read."""
    con.execute(_INTRODUCERS_SQL)
    con.execute(_DOORS_SQL)
    listed = con.sql(_LISTED_CHAINS_SQL).to_arrow_table()
    con.execute("DROP TABLE chain")
    con.unregister("chain_rank")
    rows = con.sql(_MEMBERS_SQL, params={
        "group_links": list(GROUP_LINKS), "products_person": list(cfg.products_person),
        "products_enterprise": list(cfg.products_enterprise),
        "products_design": list(cfg.products_credit_design)}).to_arrow_table()
    others = con.sql(_OTHER_INTRODUCERS_SQL, params={"max_listed": cfg.max_listed}).to_arrow_table()
    parts = con.sql(_DETAILS_SQL).to_arrow_table()
    con.execute("DROP TABLE prospect_door; DROP TABLE introducer")
    return {"rows": rows, "listed": listed, "others": others, "parts": parts}


def _with_details(pieces: dict[str, pa.Table]) -> pa.Table:
    """`member_table`'s rows, by prospect, with their ``details``; `pieces` is emptied as they
    are used, so each piece's memory goes as soon as it is joined."""
    listed = _lists(pieces.pop("listed"), "rn", split=True)
    others = _lists(pieces.pop("others"), "k", split=False)
    rows, parts = pieces.pop("rows"), pieces.pop("parts")
    at = pc.index_in(column(parts, "prospect"), value_set=column(rows, "prospect_id"))
    if len(parts) != len(rows) or at.null_count:  # one details text per row
        raise RuntimeError("referral member rows and their details are not aligned")
    rows = rows.take(at)  # into the details' order: a copy of the narrow rows, not of the wide text
    return rows.append_column("details", _details(parts, listed, others))


def member_rows(pieces: dict[str, pa.Table], cfg: ReferralSettings) -> pa.Table:
    """The frame of kind ``member`` from `member_table`'s pieces (no DuckDB: the connection, and
    the memory its tables hold, can be closed first); `pieces` is emptied."""
    rows = _with_details(pieces)
    c = cfg.chain
    doors = column(rows, "doors").to_numpy(zero_copy_only=False).astype("float64")

    def num(name: str) -> np.ndarray:
        return np.asarray(pc.fill_null(column(rows, name), 0).to_numpy(zero_copy_only=False), dtype="float64")

    def bar(name: str, value: pa.Array, points: np.ndarray) -> Bar:
        return Bar(name, *LABELS[name], value, points)

    bars = [
        bar("referrer_credit", column(rows, "is_credit"), num("pts_credit")),
        bar("referrer_tenure", pa.array(round_like_python(num("tenure_years"), 1)), num("pts_tenure")),
        bar("referrer_products", column(rows, "n_products"), num("pts_products")),
        bar("referrer_position", column(rows, "position"), num("pts_position")),
        bar("association_penetration", pa.array(round_like_python(num("share"), 4)), num("pts_penetration")),
        bar("fit_industry", column(rows, "industry"), num("pts_industry")),
        bar("fit_credit_design", column(rows, "credit_design"), num("pts_design")),
        bar("chain_length", column(rows, "hops"), num("pts_length")),
        bar("independent_introducers", column(rows, "doors"),
            np.minimum(c.introducers, (doors - 1) * c.introducer_extra)),
    ]
    names = {"referrer": column(rows, "referrer_name"), "referrer_id": column(rows, "anchor_id"),
             "prospect": column(rows, "prospect_name"), "association": column(rows, "association_name"),
             "via": column(rows, "via_name"), "via_id": column(rows, "via_id")}
    reasons = [
        Slot(column(rows, "introducer_template"), {
            **names, "manager": column(rows, "introducer_manager"),
            **{k: column(rows, k) for k in ("position_en", "position_zh", "roles_referrer_en", "roles_referrer_zh",
                                            "roles_prospect_en", "roles_prospect_zh")}}),
        Slot("referral.weak_client", {"own_manager": column(rows, "own_manager")}, mask(rows, "is_deepening")),
        Slot("referral.penetration", {"clients": column(rows, "clients_text"), "members": column(rows, "members_text"),
                                      "association": names["association"], "share": column(rows, "share_text")},
             mask(rows, "says_penetration")),
        Slot("referral.same_industry", {"referrer": names["referrer"], "referrer_id": names["referrer_id"],
                                        "industry": column(rows, "industry")},
             num("pts_industry") > 0),
        Slot("referral.credit_design", {"referrer": names["referrer"], "referrer_id": names["referrer_id"]},
             num("pts_design") > 0),
        Slot("referral.introducers", {"count": column(rows, "doors_text")}, doors > 1),
        Slot(column(rows, "approach_template"), {**names, "manager": column(rows, "manager_name")}),
    ]
    return kind_frame(rows, family="referral", kind="member", bars=bars, reasons=reasons)
