"""Role holders across the corporate/retail line: kinds `executive` and `corporate_from_retail`.

- `executive`: legal representatives, actual controllers, shareholders, directors, executives
  and finance staff of corporate clients who are not retail clients, or are below VIP
  (DOMAIN.md 3a: "ask one question, record it, keep the contact").
- `corporate_from_retail`: non-client enterprises in which retail clients hold roles — the
  company behind a mid/high-end retail client (DOMAIN.md 3c). The row names the retail client
  and both managers so the retail manager can hand the lead over.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import group_starts
from graph.store import GraphStore
from scoring.features import is_in
from scoring.frame import empty_frame
from scoring.retail_linkage.common import (
    Bar,
    ReasonSlot,
    arrow,
    best_rows,
    clean,
    clip01,
    kind_frame,
    lists_for,
    log_scaled_series,
    opened,
    query,
    register_ids,
    run,
    spread_evenly,
)
from scoring.retail_linkage.settings import RetailLinkageSettings
from scoring.templates import register

__all__ = ["executive_prospects", "corporate_from_retail_prospects", "firm_size"]

EXEC_BARS = [
    Bar("role_seniority", "most senior role at a client", "在客户企业的最高职务", "role", "pts_seniority"),
    Bar("stake", "largest stake held (%)", "最大持股比例（%）", "share_pct", "pts_stake"),
    Bar("firm_size", "size of the firm (capital, payroll staff)", "企业规模（注册资本、代发人数）",
        "firm_size", "pts_firm"),
    Bar("credit_client_firm", "the firm is a credit client", "所在企业为授信客户", "is_credit_client",
        "pts_credit"),
    Bar("retail_relationship", "room in the retail relationship", "个人业务拓展空间", "tier", "pts_room"),
    Bar("client_firms", "client firms where the person holds roles", "任职的客户企业数", "firms",
        "pts_breadth"),
]

CFR_BARS = [
    Bar("owner_tier", "tier of the retail client behind it", "关联个人客户等级", "tier", "pts_tier"),
    Bar("owner_assets", "financial assets of that retail client", "关联个人客户金融资产", "aum", "pts_assets"),
    Bar("role_seniority", "the retail client's role in the firm", "个人客户在企业的职务", "role",
        "pts_seniority"),
    Bar("stake", "stake held by the retail client (%)", "个人客户持股比例（%）", "share_pct", "pts_stake"),
    Bar("firm_size", "size of the firm (capital, payments)", "企业规模（注册资本、交易额）", "firm_size",
        "pts_firm"),
    Bar("retail_holders", "retail clients holding roles in it", "在该企业任职的个人客户数", "holders",
        "pts_holders"),
]


register({
    "retail.exec.role_credit": ("{role:Role_en} of our corporate client {firm}, a credit client.",
                                "我行对公客户{firm}（授信客户）的{role:role_zh}。"),
    "retail.exec.role": ("{role:Role_en} of our corporate client {firm}.", "我行对公客户{firm}的{role:role_zh}。"),
    "retail.exec.stake": ("Holds a {share_pct:.1f}% stake.", "持股{share_pct:.1f}%。"),
    "retail.exec.not_retail": ("Not yet a retail client of the bank.", "尚未成为我行个人客户。"),
    "retail.exec.below_vip": ("A retail client below VIP (tier: {tier:tier_en}).", "个人客户等级为{tier:tier_zh}，尚未达到贵宾。"),
    "retail.exec.firms": ("Holds roles at {firms:.0f} client firms.", "在{firms:.0f}家客户企业任职。"),
    "retail.cfr.owner": (
        "Our {tier:tier_en} retail client {person_name:person} ({aum:money_en} of assets) is its {role:role_en}.",
        "我行{tier:tier_zh}个人客户{person_name:person}（金融资产{aum:money_zh}）是该企业的{role:role_zh}。"),
    "retail.cfr.not_client": ("Not yet a corporate client of the bank.", "该企业尚未成为我行对公客户。"),
    "retail.cfr.stake": ("{person_name:person} holds {share_pct:.1f}%.", "{person_name:person}持股{share_pct:.1f}%。"),
    "retail.cfr.holders": ("{holders:.0f} of our retail clients hold roles in it.",
                           "共有{holders:.0f}位我行个人客户在该企业任职。"),
})


def firm_size(capital: pd.Series, capital_full_at: float, other: pd.Series, other_full_at: float) -> np.ndarray:
    """0..1 per row: the larger of log-scaled registered capital and log-scaled `other`."""
    return np.maximum(log_scaled_series(capital, capital_full_at).to_numpy(),
                      log_scaled_series(other, other_full_at).to_numpy())


# One row per (person, enterprise) link through HOLDS_ROLE edges of the roles asked for: its
# most senior role and its largest stake (several roles at one firm, 法定代表人 and 股东, make
# one link, so a role added there can only raise the link's seniority or stake).
_LINKS_SQL = """
CREATE OR REPLACE TEMP TABLE links AS
WITH r AS (
    SELECT h.person_id, h.enterprise_id, h.role, coalesce(s.seniority, 0.0) AS seniority,
           least(greatest(coalesce(h.share_pct, 0.0), 0.0), 100.0) AS share_pct
    FROM holds_role h LEFT JOIN seniority s USING (role)
    WHERE list_contains($roles, h.role)
)
SELECT person_id, enterprise_id, role, seniority,
       max(share_pct) OVER (PARTITION BY person_id, enterprise_id) AS share_pct
FROM r
QUALIFY row_number() OVER (PARTITION BY person_id, enterprise_id ORDER BY seniority DESC, role) = 1
"""


def _links(con: duckdb.DuckDBPyConnection, roles: list[str], rs: RetailLinkageSettings) -> None:
    """Fill ``links`` for `roles`, unless the connection holds it for the same roles and
    seniorities already (executive and corporate_from_retail ask for the same by default)."""
    key = json.dumps([list(roles), rs.role_seniority], sort_keys=True)
    run(con, "CREATE TEMP TABLE IF NOT EXISTS links_key (key VARCHAR)")
    if run(con, "SELECT count(*) FROM links_key WHERE key = $key", {"key": key})[0][0]:
        return
    con.register("seniority", pa.table({"role": pa.array(list(rs.role_seniority), pa.string()),
                                        "seniority": pa.array(list(rs.role_seniority.values()), pa.float64())}))
    run(con, _LINKS_SQL, {"roles": list(roles)})
    run(con, "DELETE FROM links_key")
    run(con, "INSERT INTO links_key VALUES ($key)", {"key": key})


def _best_per(rows: pd.DataFrame, key: str, order: str) -> pd.DataFrame:
    """The row with the highest `order` per `key` (ties: the other id), rows ordered by `key`.
    Sorted by Arrow on the three columns (pandas' sort of Arrow-backed ids cost 4x)."""
    ties = [c for c in ("enterprise_id", "person_id") if c != key]
    keys = pa.table({c: pa.array(rows[c], from_pandas=True) for c in (key, order, *ties)})
    idx = pc.sort_indices(keys, sort_keys=[(key, "ascending"), (order, "descending"),
                                           *((t, "ascending") for t in ties)])
    first = np.asarray(idx)[group_starts(keys[key].take(idx))]
    return rows.iloc[first]


# ------------------------------------------------------------------ executive
# Links of contactable persons with room in the retail relationship to client firms, with the
# firm's facts and its payroll staff (PAYROLL edges: one per employee).
_EXEC_SQL = """
WITH staff AS (SELECT employer_id, count(*) AS staff FROM payroll_edges
               WHERE employer_id IN (SELECT enterprise_id FROM links) GROUP BY employer_id),
people_room AS (
    SELECT *, CASE WHEN is_retail_client THEN coalesce(tier, 'mass') ELSE 'none' END AS room_key FROM people
)
SELECT l.person_id, l.enterprise_id, l.role, l.seniority, l.share_pct,
       p.name, p.is_retail_client, p.tier, p.room_key, p.branch_id, p.manager_id,
       e.name AS enterprise_name, coalesce(e.is_credit_client, false) AS is_credit_client,
       e.branch_id AS ent_branch, e.manager_id AS ent_manager_id, e.registered_capital,
       coalesce(st.staff, 0) AS staff
FROM links l
JOIN people_room p ON p.id = l.person_id AND list_contains($rooms, p.room_key)
JOIN enterprises e ON e.id = l.enterprise_id AND coalesce(e.is_client, false)
LEFT JOIN staff st ON st.employer_id = l.enterprise_id
"""

# Every (client firm, role) a listed person holds, for `details.roles`.
_HELD_SQL = """
SELECT DISTINCT h.person_id, h.enterprise_id, h.role
FROM holds_role h JOIN enterprises e ON e.id = h.enterprise_id AND coalesce(e.is_client, false)
WHERE list_contains($roles, h.role) AND h.person_id IN (SELECT id FROM listed)
ORDER BY h.person_id, h.enterprise_id, h.role
"""


def executive_prospects(store: GraphStore, rs: RetailLinkageSettings,
                         con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    es = rs.executive
    con, owned = opened(store, con)
    try:
        _links(con, es.roles, rs)
        r = query(con, _EXEC_SQL, {"rooms": list(es.relationship_room)})
        if r.empty:
            return empty_frame()
        r["firm_size"] = firm_size(r["registered_capital"], es.capital_full_at, r["staff"], es.staff_full_at)
        r["pts_seniority"] = es.w_seniority * r["seniority"]
        r["pts_stake"] = es.w_stake * clip01(r["share_pct"] / es.stake_full_pct).to_numpy()
        r["pts_firm"] = es.w_firm_size * r["firm_size"]
        r["pts_credit"] = np.where(r["is_credit_client"], es.w_firm_credit, 0.0)
        r["link_score"] = r[["pts_seniority", "pts_stake", "pts_firm", "pts_credit"]].sum(axis=1)
        # the points come from the person's best link (the maximum of the link sums, so another
        # role or firm can only raise it) plus the number of client firms
        best = _best_per(r, "person_id", "link_score").set_index("person_id")
        rows = best[["name", "role", "share_pct", "firm_size", "enterprise_id", "enterprise_name", "ent_manager_id",
                     "ent_branch", "branch_id", "manager_id", "tier", "room_key", "is_retail_client",
                     "is_credit_client", "pts_seniority", "pts_stake", "pts_firm", "pts_credit"]].copy()
        rows["firms"] = r.groupby("person_id")["enterprise_id"].nunique()
        rows = rows.reset_index().rename(columns={"person_id": "prospect_id"})
        rows["pts_room"] = es.w_relationship * rows["room_key"].map(es.relationship_room).astype("float64").fillna(0.0)
        rows["pts_breadth"] = es.w_breadth * clip01(rows["firms"] / es.breadth_full).to_numpy()
        pts = [b.points_col for b in EXEC_BARS]
        rows["score"] = rows[pts].sum(axis=1)
        rows = best_rows(rows, es.max_rows, "prospect_id")
        rows = rows.reset_index(drop=True)
        register_ids(con, "listed", rows["prospect_id"])
        held = arrow(con, _HELD_SQL, {"roles": list(es.roles)})
    finally:
        if owned:
            con.close()
    links = pa.StructArray.from_arrays([held["enterprise_id"].combine_chunks().cast(pa.string()),
                                        held["role"].combine_chunks().cast(pa.string())],
                                       names=["enterprise_id", "role"])
    rows["roles_all"] = lists_for(rows["prospect_id"], held["person_id"], links)
    rows["branch_id"] = rows["branch_id"].fillna(rows["ent_branch"])
    rows["anchor_id"] = rows["enterprise_id"]
    own = rows["manager_id"].astype("string")
    spread = spread_evenly(rows, "branch_id", store.read("managers"), "retail")
    rows["manager_rule"] = np.where(own.notna(), "own_retail_manager",
                                    np.where(spread.notna(), "branch_retail_manager", "firm_manager"))
    rows["manager_id"] = own.fillna(spread).fillna(rows["ent_manager_id"].astype("string"))
    return _exec_frame(rows)


def _exec_frame(rows: pd.DataFrame) -> pa.Table:
    rows = rows.reset_index(drop=True)
    rows["firm"] = clean(rows["enterprise_name"]).fillna(rows["enterprise_id"].astype("string"))
    credit = rows["is_credit_client"].astype(bool)
    rows["credit"], rows["no_credit"] = credit, ~credit
    rows["has_stake"] = rows["share_pct"] > 0
    rows["no_room"] = rows["room_key"] == "none"
    rows["has_room"] = ~rows["no_room"]
    rows["several_firms"] = rows["firms"] > 1
    senior = rows["role"].isin(["actual_controller", "legal_rep"]) | (rows["share_pct"] >= 20)
    rows["senior"], rows["not_senior"] = senior, ~senior
    reasons = [
        ReasonSlot("retail.exec.role_credit", {"role": "role", "firm": "firm"}, when="credit"),
        ReasonSlot("retail.exec.role", {"role": "role", "firm": "firm"}, when="no_credit"),
        ReasonSlot("retail.exec.stake", {"share_pct": "share_pct"}, when="has_stake"),
        ReasonSlot("retail.exec.not_retail", when="no_room"),
        ReasonSlot("retail.exec.below_vip", {"tier": "room_key"}, when="has_room"),
        ReasonSlot("retail.exec.firms", {"firms": "firms"}, when="several_firms"),
    ]
    roles = rows["roles_all"]
    details = {
        "enterprise_id": rows["enterprise_id"].astype("string"), "enterprise_name": clean(rows["enterprise_name"]),
        "role": rows["role"].astype("string"), "share_pct": rows["share_pct"].astype("float64").round(2),
        "roles": roles, "is_retail_client": rows["is_retail_client"].astype(bool), "tier": clean(rows["tier"]),
        "firm_manager_id": clean(rows["ent_manager_id"]), "manager_rule": rows["manager_rule"],
    }
    return kind_frame(rows, "executive", EXEC_BARS, reasons,
                      [("wealth_products", None), ("private_banking", "senior"), ("deposit_upgrade", "not_senior")],
                      ["ent_manager_id", "enterprise_id", "prospect_id"], details)


# ------------------------------------------------------- corporate_from_retail
# Links of contactable retail clients to non-client firms (not do-not-contact), with the
# firm's facts and the money it moves: PAYS edges paid out plus paid in. The links are joined
# once (`base`, materialised) and give the firms whose money is summed (joining them again for
# the firms cost 0.1 CPU s at 2M payments).
_CFR_SQL = """
WITH base AS MATERIALIZED (  -- each link of a retail client to a non-client firm (not do-not-contact)
    SELECT l.person_id, l.enterprise_id, l.role, l.seniority, l.share_pct,
           p.name AS person_name, p.aum, p.aum_prev, p.tier, p.branch_id AS person_branch,
           p.manager_id AS retail_manager_id,
           e.name, e.branch_id AS ent_branch, e.manager_id AS ent_manager_id, e.registered_capital
    FROM links l
    JOIN people p ON p.id = l.person_id AND p.is_retail_client
    JOIN enterprises e ON e.id = l.enterprise_id
         AND NOT coalesce(e.is_client, false) AND NOT coalesce(e.do_not_contact, false)
),
firms AS (SELECT DISTINCT enterprise_id FROM base),  -- their money is summed for these only
paid_out AS (SELECT src AS id, fsum(amount) AS amount FROM pays_edges WHERE src IN (SELECT enterprise_id FROM firms)
             GROUP BY src),
paid_in AS (SELECT dst AS id, fsum(amount) AS amount FROM pays_edges WHERE dst IN (SELECT enterprise_id FROM firms)
            GROUP BY dst)
SELECT b.*,
       CASE WHEN o.amount IS NULL AND i.amount IS NULL THEN 0.0
            ELSE coalesce(o.amount, 0.0) + coalesce(i.amount, 0.0) END AS payments_volume
FROM base b
LEFT JOIN paid_out o ON o.id = b.enterprise_id
LEFT JOIN paid_in i ON i.id = b.enterprise_id
"""


def corporate_from_retail_prospects(store: GraphStore, rs: RetailLinkageSettings,
                                    con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    cs = rs.corporate_from_retail
    con, owned = opened(store, con)
    try:
        _links(con, cs.roles, rs)
        r = query(con, _CFR_SQL)
    finally:
        if owned:
            con.close()
    if r.empty:
        return empty_frame()
    r["firm_size"] = firm_size(r["registered_capital"], cs.capital_full_at, r["payments_volume"],
                               cs.payments_full_at)
    r["pts_tier"] = cs.w_tier * r["tier"].map(cs.tier_weight).astype("float64").fillna(0.0)
    r["pts_assets"] = cs.w_assets * log_scaled_series(r["aum"], cs.assets_full_at)
    r["pts_seniority"] = cs.w_seniority * r["seniority"]
    r["pts_stake"] = cs.w_stake * clip01(r["share_pct"] / cs.stake_full_pct).to_numpy()
    r["pts_firm"] = cs.w_firm * r["firm_size"]
    r["holder_score"] = r[["pts_tier", "pts_assets", "pts_seniority", "pts_stake"]].sum(axis=1)
    # the lead holder (the best sum) gives the person's points: a new holder can only raise it
    lead = _best_per(r, "enterprise_id", "holder_score").set_index("enterprise_id")
    rows = lead[["name", "person_id", "person_name", "tier", "aum", "role", "share_pct", "firm_size",
                 "payments_volume", "retail_manager_id", "person_branch", "ent_branch", "ent_manager_id",
                 "pts_tier", "pts_assets", "pts_seniority", "pts_stake", "pts_firm"]].copy()
    rows["holders"] = r.groupby("enterprise_id")["person_id"].nunique()
    rows = rows.reset_index().rename(columns={"enterprise_id": "prospect_id"})
    rows["pts_holders"] = cs.w_holders * clip01((rows["holders"] - 1) / max(cs.holders_full - 1, 1)).to_numpy()
    rows["score"] = rows[[b.points_col for b in CFR_BARS]].sum(axis=1)
    rows = best_rows(rows, cs.max_rows, "prospect_id").reset_index(drop=True)
    kept = r[is_in(r["enterprise_id"], rows["prospect_id"])].sort_values(["enterprise_id", "person_id"])
    rows["holder_ids"] = lists_for(rows["prospect_id"], kept["enterprise_id"], kept["person_id"], unique=True)
    rows["branch_id"] = rows["ent_branch"].fillna(rows["person_branch"])
    rows["anchor_id"] = rows["person_id"]
    # the corporate side: the firm's own manager if it has one, else the branch's corporate managers in turn
    spread = spread_evenly(rows, "branch_id", store.read("managers"), "corporate")
    rows["corporate_manager_id"] = rows["ent_manager_id"].astype("string").fillna(spread)
    rows["manager_id"] = rows["corporate_manager_id"].fillna(rows["retail_manager_id"].astype("string"))
    return _cfr_frame(rows)


def _cfr_frame(rows: pd.DataFrame) -> pa.Table:
    rows = rows.reset_index(drop=True)
    rows["has_stake"] = rows["share_pct"] > 0
    rows["several"] = rows["holders"] > 1
    rows["pays"] = rows["payments_volume"] > 0
    rows["sized"] = rows["firm_size"] >= 0.5
    reasons = [
        ReasonSlot("retail.cfr.owner", {"tier": "tier", "person_name": "person_name", "person_name_id": "person_id",
                                        "aum": "aum", "role": "role"}),
        ReasonSlot("retail.cfr.not_client"),
        ReasonSlot("retail.cfr.stake", {"person_name": "person_name", "person_name_id": "person_id",
                                        "share_pct": "share_pct"}, when="has_stake"),
        ReasonSlot("retail.cfr.holders", {"holders": "holders"}, when="several"),
    ]
    details = {
        "retail_client_id": rows["person_id"].astype("string"), "retail_client_name": rows["person_name"],
        "retail_client_tier": clean(rows["tier"]), "role": rows["role"].astype("string"),
        "share_pct": rows["share_pct"].astype("float64").round(2),
        "retail_manager_id": clean(rows["retail_manager_id"]),
        "corporate_manager_id": clean(rows["corporate_manager_id"]), "retail_holders": rows["holder_ids"],
        "payments_volume": rows["payments_volume"].astype("float64").round(2),
    }
    return kind_frame(rows, "corporate_from_retail", CFR_BARS, reasons,
                      [("corporate_account", None), ("cash_management", "pays"), ("corporate_credit", "sized")],
                      ["retail_manager_id", "person_id", "prospect_id"], details)
