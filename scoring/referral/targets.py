"""Kind ``association_target``: associations as batch targets (批量营销: salons, packages).

An association qualifies when the bank already has a way in (a door: a client member, or a
firm that is a client and where an officer holds a role) and it still has members to win.
The penetration metrics, the client officers and the managers involved are one SQL query;
the row's manager is the lead door's (a credit client first, then an enterprise, then
standing in the association, products held, id).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scoring.frame import round_like_python
from scoring.referral.rows import Bar, Slot, column, kind_frame
from scoring.referral.settings import ReferralSettings

__all__ = ["association_targets"]

_TARGETS_SQL = """
WITH m AS (                -- the members of listed associations, as the network sees them
    SELECT m.association_id, m.member_id, m.position, e.id IS NOT NULL AS known,
           coalesce(e.is_client, false) AS is_client, coalesce(e.is_credit, false) AS is_credit,
           coalesce(e.is_prospect, false) AS is_prospect, coalesce(e.is_referrer, false) AS is_referrer,
           coalesce(e.dnc, false) AS dnc, e.name, e.manager_id
    FROM member m LEFT JOIN entity e ON e.id = m.member_id
    WHERE m.association_id IN (SELECT id FROM associations)
), client_firm AS (        -- the client firms where a person holds a role
    SELECT person_id, list(enterprise_id ORDER BY enterprise_id) AS firms
    FROM (SELECT DISTINCT ro.person_id, ro.enterprise_id FROM role ro
          JOIN entity e ON e.id = ro.enterprise_id WHERE e.is_referrer)
    GROUP BY person_id
), officer AS (            -- officers who are clients or hold a role in a client
    SELECT m.association_id, m.member_id AS id, m.name, m.position, m.is_client, m.manager_id,
           coalesce(f.firms, []) AS client_roles_in,
           coalesce(w.en, m.position) AS position_en, coalesce(w.zh, m.position) AS position_zh
    FROM m LEFT JOIN client_firm f ON f.person_id = m.member_id LEFT JOIN position_words w ON w.code = m.position
    WHERE list_contains($officer_positions, m.position) AND m.known AND NOT m.dnc
      AND (m.is_client OR f.firms IS NOT NULL)
), door AS (               -- ways in: client members, and the client firms of officers
    SELECT association_id, member_id AS door FROM m WHERE is_referrer
    UNION
    SELECT association_id, unnest(client_roles_in) FROM officer
), lead AS (
    SELECT d.association_id,
           first(d.door ORDER BY NOT e.is_credit, e.kind <> 'enterprise', coalesce(w.points, 0.0) DESC,
                 e.n_products DESC, d.door) AS door,
           count(*) AS doors
    FROM door d JOIN entity e ON e.id = d.door
    LEFT JOIN member mm ON mm.association_id = d.association_id AND mm.member_id = d.door
    LEFT JOIN position_points w ON w.position = mm.position
    GROUP BY d.association_id
), involved AS (           -- managers already serving a door or a client officer
    SELECT association_id, list(DISTINCT manager_id ORDER BY manager_id) AS managers
    FROM (SELECT d.association_id, e.manager_id FROM door d JOIN entity e ON e.id = d.door
          UNION ALL
          SELECT association_id, manager_id FROM officer WHERE is_client)
    WHERE manager_id IS NOT NULL
    GROUP BY association_id
), officers AS (
    SELECT association_id,
           list({'id': id, 'name': name, 'position': position, 'is_client': is_client,
                 'client_roles_in': client_roles_in} ORDER BY id) AS client_officers,
           list(name ORDER BY id) AS officer_names, list(id ORDER BY id) AS officer_ids,
           list(position_en ORDER BY id) AS officer_en,
           list(position_zh ORDER BY id) AS officer_zh
    FROM officer GROUP BY association_id
), stats AS (
    SELECT association_id, count(*) AS members,
           count(*) FILTER (WHERE known AND is_client) AS clients,
           count(*) FILTER (WHERE known AND is_credit) AS credit,
           count(*) FILTER (WHERE is_prospect) AS reachable,
           count(*) FILTER (WHERE is_prospect AND is_client) AS weak,
           list(member_id ORDER BY member_id) FILTER (WHERE is_prospect) AS reachable_ids
    FROM m GROUP BY association_id
)
SELECT s.association_id AS prospect_id, an.name, s.association_id, l.door AS anchor_id,
       ld.manager_id, coalesce(nullif(mg.branch_id, ''), ld.branch_id) AS branch_id, false AS is_deepening,
       list_filter([ld.manager_id, l.door, s.association_id], lambda x: x IS NOT NULL AND x <> '') AS path,
       $products AS suggested_products,
       s.members, s.clients, s.credit, s.reachable, s.weak,
       len(coalesce(o.client_officers, [])) AS officers, len(coalesce(v.managers, [])) AS managers,
       -- reason parameters
       CASE WHEN s.weak > 0 THEN 'referral.target.members_weak' ELSE 'referral.target.members' END
           AS members_template,
       CASE WHEN ld.manager_id IS NULL THEN 'referral.target.approach.no_manager' ELSE 'referral.target.approach' END
           AS approach_template,
       coalesce(mn.name, ld.manager_id) AS manager_name,
       coalesce(o.officer_names[1], ln.name) AS lead_name, coalesce(o.officer_ids[1], l.door) AS lead_id,
       o.officer_names[1] AS officer_1, o.officer_ids[1] AS officer_1_id, o.officer_en[1] AS officer_1_en, o.officer_zh[1] AS officer_1_zh,
       o.officer_names[2] AS officer_2, o.officer_ids[2] AS officer_2_id, o.officer_en[2] AS officer_2_en, o.officer_zh[2] AS officer_2_zh,
       o.officer_names[3] AS officer_3, o.officer_ids[3] AS officer_3_id, o.officer_en[3] AS officer_3_en, o.officer_zh[3] AS officer_3_zh,
       (s.members - s.clients)::VARCHAR AS non_clients_text, s.members::VARCHAR AS members_text,
       s.weak::VARCHAR AS weak_text, s.clients::VARCHAR AS clients_text, s.credit::VARCHAR AS credit_text,
       to_json({'members': s.members, 'client_members': s.clients, 'credit_client_members': s.credit,
                'non_client_members': s.members - s.clients, 'reachable_members': s.reachable,
                'weak_client_members': s.weak, 'penetration': round(s.clients / s.members, 4),
                'client_officers': coalesce(o.client_officers, []), 'managers': coalesce(v.managers, []),
                'reachable_sample': coalesce(s.reachable_ids[1:10], []), 'lead_referrer': l.door,
                'lead_referrer_name': ln.name, 'association_kind': a.kind})::VARCHAR AS details
FROM stats s
JOIN lead l USING (association_id)
JOIN associations a ON a.id = s.association_id
JOIN names an ON an.id = s.association_id
JOIN entity ld ON ld.id = l.door
JOIN names ln ON ln.id = l.door
LEFT JOIN officers o USING (association_id)
LEFT JOIN involved v USING (association_id)
LEFT JOIN managers mg ON mg.id = ld.manager_id
LEFT JOIN names mn ON mn.id = ld.manager_id
WHERE s.reachable > 0
ORDER BY s.association_id
"""


def association_targets(con: duckdb.DuckDBPyConnection, cfg: ReferralSettings) -> pa.Table:
    """The frame of kind ``association_target`` (tables of `network.load_network` must exist)."""
    rows = con.sql(_TARGETS_SQL, params={"officer_positions": list(cfg.officer_positions),
                                      "products": list(cfg.products_target)}).to_arrow_table()
    w = cfg.target

    def num(name: str) -> np.ndarray:
        return np.asarray(pc.fill_null(column(rows, name), 0).to_numpy(zero_copy_only=False), dtype="float64")

    members, clients = num("members"), num("clients")
    with np.errstate(divide="ignore", invalid="ignore"):
        penetration = round_like_python(np.where(members > 0, clients / np.maximum(members, 1), 0.0), 4)
    reachable = num("reachable")
    reach_share = np.zeros(len(reachable))
    if w.reachable_full_at > 0:
        positive = reachable > 0
        reach_share[positive] = np.minimum(1.0, np.log10(1.0 + reachable[positive]) / np.log10(1.0 + w.reachable_full_at))
    bars = [
        Bar("reachable_members", "members not yet clients", "可触达的非客户会员", column(rows, "reachable"),
            w.reachable * reach_share),
        Bar("penetration", "share of members already clients", "会员渗透率", pa.array(penetration),
            w.penetration * np.minimum(1.0, penetration / w.penetration_full_at)),
        Bar("client_officers", "officers who are or work for clients", "为我行客户的协会负责人",
            column(rows, "officers"), w.client_officers * np.minimum(1.0, num("officers") / w.client_officers_full)),
        Bar("credit_client_members", "credit clients among members", "会员中的授信客户", column(rows, "credit"),
            w.credit_clients * np.minimum(1.0, num("credit") / w.credit_clients_full)),
        Bar("managers_involved", "managers already serving members", "已服务会员的客户经理", column(rows, "managers"),
            w.managers * np.minimum(1.0, num("managers") / w.managers_full)),
    ]
    association = column(rows, "name")
    reasons = [
        Slot(column(rows, "members_template"), {"non_clients": column(rows, "non_clients_text"),
                                                "members": column(rows, "members_text"), "association": association,
                                                "weak": column(rows, "weak_text")}),
        Slot("referral.target.penetration", {"share": pa.array(penetration).cast(pa.string()),
                                             "clients": column(rows, "clients_text"),
                                             "credit": column(rows, "credit_text")}),
        *(Slot("referral.target.officer", {"officer": column(rows, f"officer_{k}"),
                                           "officer_id": column(rows, f"officer_{k}_id"),
                                           "position_en": column(rows, f"officer_{k}_en"),
                                           "position_zh": column(rows, f"officer_{k}_zh")},
               np.asarray(pc.is_valid(column(rows, f"officer_{k}")).to_numpy(zero_copy_only=False), dtype=bool))
          for k in (1, 2, 3)),
        Slot(column(rows, "approach_template"), {"manager": column(rows, "manager_name"), "association": association,
                                                 "lead": column(rows, "lead_name"), "lead_id": column(rows, "lead_id")}),
    ]
    return kind_frame(rows, family="referral", kind="association_target", bars=bars, reasons=reasons)
