"""Referral chains (以客荐客) as joins, each with its points, ranked per prospect.

`build_chains` fills the DuckDB tables (those of `network.load_network` must exist) ``chain``:
one row per way the bank's side reaches a prospect, with the path from the referrer's manager
and its points; ``chain_rank``: the rank ``rn`` of each prospect's first 1 + `max_listed` chains
(ordered by DuckDB, counted by numpy); ``best_chain``: each prospect's best chain with every fact and contribution.

- ``association``: manager → client member (the referrer) → association → fellow member; only
  the strongest `max_referrers_per_association` client members of an association refer;
- ``officer``: manager → client → association officer (会长, 副会长, 秘书长…) → member, where
  the client is one of those referrers or the officer holds a role in it;
- ``interlock``: manager → client → a person with a board seat in both companies → prospect;
- ``group``: manager → client → (common parent) → group company.

A prospect's best chain has the most points (ties: fewer links, chain kind, path, then the
position or role code: every ranking here is a total order, so two runs give the same rows).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from graph.arrays import group_starts
from scoring.referral.settings import ReferralSettings

__all__ = ["build_chains", "CHAIN_KINDS", "CHAIN_PATH"]

CHAIN_KINDS = ("association", "officer", "interlock", "group")

# Client members of each association ranked by strength (credit, products), and the members
# who are prospects.
_ROSTER_SQL = """
CREATE TEMP TABLE assoc_referrer AS
SELECT m.association_id, m.member_id AS referrer, m.position,
       row_number() OVER (PARTITION BY m.association_id ORDER BY e.strength DESC, m.member_id, m.position) AS rnk
FROM member m JOIN entity e ON e.id = m.member_id
WHERE e.is_referrer;
CREATE TEMP TABLE assoc_prospect AS
SELECT m.association_id, m.member_id AS prospect
FROM member m JOIN entity e ON e.id = m.member_id
WHERE e.is_prospect;
"""

# Every candidate chain (kind, prospect, referrer, via, association, position).
_CANDIDATES_SQL = """
CREATE TEMP TABLE candidate AS
WITH officer AS (         -- officers of an association: persons, not do-not-contact
    SELECT m.association_id, m.member_id AS officer, m.position
    FROM member m JOIN entity e ON e.id = m.member_id
    WHERE list_contains($officer_positions, m.position) AND e.kind = 'person' AND NOT e.dnc
), officer_link AS (      -- who can ask an officer: the association's referrers, or firms the officer works for
    SELECT o.association_id, o.officer, o.position, r.referrer
    FROM officer o JOIN assoc_referrer r USING (association_id) WHERE r.rnk <= $cap
    UNION
    SELECT o.association_id, o.officer, o.position, ro.enterprise_id
    FROM officer o JOIN role ro ON ro.person_id = o.officer JOIN entity e ON e.id = ro.enterprise_id
    WHERE e.is_referrer
), officer_referrer AS (
    SELECT l.*, row_number() OVER (PARTITION BY l.association_id, l.officer
                              ORDER BY e.strength DESC, l.referrer, l.position)
               AS rnk
    FROM officer_link l JOIN entity e ON e.id = l.referrer
    WHERE l.referrer <> l.officer
), seat AS (              -- board seats of persons who may be asked, with the strongest role in each firm
    SELECT ro.person_id, ro.enterprise_id,
           first(ro.role ORDER BY coalesce(w.points, 0.0) DESC, ro.role) AS top_role  -- equal weights: first code
    FROM role ro LEFT JOIN position_points w ON w.position = 'role:' || ro.role
    LEFT JOIN entity pe ON pe.id = ro.person_id
    WHERE list_contains($board_roles, ro.role) AND NOT coalesce(pe.dnc, false)
    GROUP BY ro.person_id, ro.enterprise_id
), referrer_seat AS MATERIALIZED (  -- the seats in referrers (first: a self-join of all seats is 10x larger)
    SELECT s.* FROM seat s JOIN entity ref ON ref.id = s.enterprise_id WHERE ref.is_referrer
), child AS (
    SELECT id AS kid, parent_id AS parent FROM entity WHERE parent_id IS NOT NULL AND parent_id <> id
)
SELECT 'association' AS kind, p.prospect, r.referrer, r.association_id AS via, r.association_id AS association,
       r.position
FROM assoc_referrer r JOIN assoc_prospect p USING (association_id)
WHERE r.rnk <= $cap
UNION ALL
SELECT 'officer', p.prospect, o.referrer, o.officer, o.association_id, o.position
FROM officer_referrer o JOIN assoc_prospect p USING (association_id)
WHERE o.rnk <= $cap AND p.prospect <> o.officer
UNION ALL
SELECT 'interlock', b.enterprise_id, a.enterprise_id, a.person_id, NULL, 'role:' || b.top_role
FROM referrer_seat a JOIN seat b ON a.person_id = b.person_id
UNION ALL
SELECT 'group', c.kid, c.parent, NULL, NULL, 'group:subsidiary'
FROM child c JOIN entity par ON par.id = c.parent
WHERE par.is_referrer
UNION ALL
SELECT 'group', c.parent, c.kid, NULL, NULL, 'group:parent'
FROM child c JOIN entity kid ON kid.id = c.kid
WHERE kid.is_referrer AND c.parent IN (SELECT id FROM entity)
UNION ALL
SELECT 'group', b.kid, a.kid, CASE WHEN a.parent IN (SELECT id FROM entity) THEN a.parent END, NULL, 'group:sibling'
FROM child a JOIN child b ON a.parent = b.parent
JOIN entity ref ON ref.id = a.kid
WHERE ref.is_referrer
"""

# The facts and points of chains (`chains`: kind, prospect, referrer, via, association,
# position): their path (manager, referrer, the association or key person or parent,
# prospect), each contribution and `points` (added left to right, as the scalar rule did).
# One text, run twice: over every chain for the points that rank them, and over the best
# chains only for the facts their rows show (the same expressions give the same values).
_FACTS_SQL = """
pathed AS (
    SELECT c.*, r.manager_id AS referrer_manager,
           list_filter([r.manager_id, c.referrer, CASE WHEN c.kind = 'association' THEN c.association ELSE c.via END,
                        c.prospect], lambda x: x IS NOT NULL AND x <> '') AS path,
           p.kind = 'enterprise' AND r.kind = 'enterprise' AND r.industry IS NOT NULL
             AND r.industry = p.industry AS same_industry,
           r.capital IS NULL OR p.capital IS NULL OR r.capital = 0 OR p.capital = 0
             OR greatest(r.capital, p.capital) / least(r.capital, p.capital) <= $capital_ratio AS comparable,
           coalesce(list_contains($design_kinds, a.kind), false) AS design_kind,
           coalesce(a.share, 0.0) AS share, coalesce(a.members, 0) AS assoc_members,
           coalesce(a.clients, 0) AS assoc_clients,
           coalesce(pw.points, 0.0) AS position_weight,
           r.is_credit, r.n_products, r.tenure_years, p.kind AS prospect_kind, p.industry AS prospect_industry
    FROM chains c JOIN entity r ON r.id = c.referrer JOIN entity p ON p.id = c.prospect
    LEFT JOIN assoc a ON a.id = c.association LEFT JOIN position_points pw ON pw.position = c.position
    WHERE p.is_prospect
), facts AS (
    SELECT *, len(path) - list_position(path, referrer) + 1 AS hops,
           is_credit AND prospect_kind = 'enterprise' AND comparable AND (same_industry OR design_kind)
               AS credit_design,
           CASE WHEN is_credit THEN $w_credit ELSE 0.0 END AS pts_credit,
           $w_tenure * least(1.0, tenure_years / $tenure_full) AS pts_tenure,
           $w_products * least(1.0, n_products::DOUBLE / $products_full) AS pts_products,
           position_weight AS pts_position,
           $w_penetration * least(1.0, share / $penetration_full) AS pts_penetration,
           CASE WHEN same_industry THEN $w_industry ELSE 0.0 END AS pts_industry
    FROM pathed
), scored AS (
    SELECT *,
           CASE WHEN credit_design THEN $w_design ELSE 0.0 END AS pts_design,
           $w_length * greatest(0.0, 1.0 - greatest(0, hops - $length_full)::DOUBLE * $length_loss) AS pts_length
    FROM facts
), summed AS (
    SELECT *, pts_credit + pts_tenure + pts_products + pts_position + pts_penetration + pts_industry + pts_design
              + pts_length AS points
    FROM scored
)
"""

# Every distinct chain to a prospect with what the listings and counts need (narrow: the
# facts of the best chains are `_BEST_SQL`'s).
_CHAIN_SQL = """
CREATE TEMP TABLE chain AS
WITH chains AS (
    SELECT DISTINCT * FROM candidate WHERE prospect <> referrer  -- prospects only: `pathed` joins them
), """ + _FACTS_SQL + """
SELECT kind, prospect, referrer, via, association, position, referrer_manager, hops, points FROM summed
"""  # noqa: S608 - constant texts

# A chain's path (`_FACTS_SQL`'s `path`) from its key columns, for the chains of `chain` (which
# keeps the columns, not the list: 900k lists at 2M payments cost more to store than to make
# again for the few read), and the same joined with chr(1) (`_RANK_SQL`).
CHAIN_PATH = """list_filter([c.referrer_manager, c.referrer, CASE WHEN c.kind = 'association' THEN c.association
                                                           ELSE c.via END, c.prospect],
                   lambda x: x IS NOT NULL AND x <> '')"""
_PATH_KEY = """concat_ws(chr(1), nullif(referrer_manager, ''), nullif(referrer, ''),
                     nullif(CASE WHEN kind = 'association' THEN association ELSE via END, ''), nullif(prospect, ''))"""

# Every chain's row in `chain` (`seq`) and its prospect, in the order of each prospect's
# chains (best first): the most points, then fewer links, chain kind, path (joined with a
# separator below any id character, it orders as the list of ids would), then the position or
# role code (chains on one path with equal points differ by an equal-weight code: the first
# wins, so a tie never depends on row order or threads). A plain ORDER BY, the ranks counted
# from it (`_ranks`): at 20M payments it took 4.8 s where Arrow's sort of the same keys took
# 17 s, and a DuckDB window ranking them cost three times as much again.
_RANK_SQL = """
SELECT rowid AS seq, prospect FROM chain
ORDER BY prospect, round(points, 9) DESC NULLS LAST, hops NULLS LAST, list_position($kinds, kind) NULLS LAST,
         """ + _PATH_KEY + """ NULLS LAST, position NULLS LAST
"""  # noqa: S608 - constant texts

# The best chain of each prospect (`best_seq`, from `_ranks`) with all its facts and contributions.
_BEST_SQL = """
CREATE TEMP TABLE best_chain AS
WITH chains AS (
    SELECT c.kind, c.prospect, c.referrer, c.via, c.association, c.position, b.pno, b.chains_total
    FROM best_seq b JOIN chain c ON c.rowid = b.seq
), """ + _FACTS_SQL + """
SELECT * FROM summed
"""  # noqa: S608 - constant texts


def _ranks(ordered: pa.Table, listed: int) -> tuple[pa.Table, pa.Table]:
    """From `_RANK_SQL`'s rows: ``(seq, rn, pno)`` of the chains ranked within the first
    `listed` of their prospect, and ``(seq, pno, chains_total)`` of each prospect's best chain
    (``chains_total``: the prospect's chains, counted from the same order, not by a GROUP BY).
    ``pno`` is the prospect's place in the order of prospect ids, so the member rows' later sorts
    by prospect compare integers (at 20M payments, sorting the listed chains by id took 7 s)."""
    n = len(ordered)
    starts = group_starts(ordered["prospect"])
    first = np.flatnonzero(starts)
    pno = np.cumsum(starts) - 1
    rank = np.arange(n) - first[pno] + 1
    keep = rank <= listed
    seq = ordered["seq"].combine_chunks().to_numpy()
    best = pa.table({"seq": pa.array(seq[first], pa.int64()), "pno": pa.array(np.arange(len(first)), pa.int64()),
                     "chains_total": pa.array(np.diff(np.append(first, n)), pa.int64())})
    return pa.table({"seq": pa.array(seq[keep], pa.int64()), "rn": pa.array(rank[keep], pa.int64()),
                     "pno": pa.array(pno[keep], pa.int64())}), best


def build_chains(con: duckdb.DuckDBPyConnection, cfg: ReferralSettings) -> None:
    """Create ``position_points``, ``chain`` (every chain and its points), ``chain_rank``
    (``seq``, ``rn``, ``pno``: the rank of a prospect's first 1 + `max_listed` chains, ``seq``
    being the chain's ``rowid`` and ``pno`` the prospect's place by id) and ``best_chain`` (each
    prospect's best chain with its facts, ``pno`` and ``chains_total``); the
    intermediate tables are dropped, so the member rows' queries run without them in memory."""
    w, c = cfg.referrer, cfg.chain
    con.register("position_points", pa.Table.from_pandas(
        pd.DataFrame({"position": list(w.position), "points": [float(v) for v in w.position.values()]}),
        preserve_index=False))
    con.execute(_ROSTER_SQL)
    con.execute(_CANDIDATES_SQL, {"officer_positions": list(cfg.officer_positions),
                                  "board_roles": list(cfg.interlock_roles),
                                  "cap": cfg.max_referrers_per_association})
    facts = {
        "capital_ratio": c.credit_design_capital_ratio, "design_kinds": list(c.credit_design_association_kinds),
        "w_credit": w.credit_client, "w_tenure": w.tenure, "tenure_full": w.tenure_full_years,
        "w_products": w.products, "products_full": float(w.products_full),
        "w_penetration": c.penetration, "penetration_full": c.penetration_full_at,
        "w_industry": c.same_industry, "w_design": c.credit_design,
        "w_length": c.length, "length_full": c.length_full_hops, "length_loss": c.length_loss_per_hop}
    con.execute(_CHAIN_SQL, facts)
    con.execute("DROP TABLE candidate; DROP TABLE assoc_referrer; DROP TABLE assoc_prospect")  # in `chain` now
    rank, best = _ranks(con.sql(_RANK_SQL, params={"kinds": list(CHAIN_KINDS)}).to_arrow_table(), 1 + cfg.max_listed)
    con.register("chain_rank", rank)
    con.register("best_seq", best)
    con.execute(_BEST_SQL, facts)
    con.unregister("best_seq")
