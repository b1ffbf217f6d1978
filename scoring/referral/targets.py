"""Associations as batch targets (批量营销: salons, packages), with penetration metrics.

An association qualifies when the bank already has a way in (a client member, or an officer
who is a client or holds a role in a client) and it still has members to win.
"""

from __future__ import annotations

from typing import Any

from scoring.explain import Evidence, Prospect, Reason, finalise_scores, log_scaled
from scoring.referral.network import Network, ReferralSettings
from scoring.referral.text import POSITION_WORDS

__all__ = ["association_targets", "association_metrics"]


def association_metrics(net: Network, cfg: ReferralSettings, assoc: str) -> dict[str, Any]:
    """Members, clients, credit clients, reachable prospects, client officers and managers of one association."""
    members = net.members.get(assoc, {})
    known = [m for m in sorted(members) if m in net.entities]
    clients = [m for m in known if net.entities[m].is_client]
    credit = [m for m in clients if net.entities[m].is_credit_client]
    reachable = [m for m in known if net.is_prospect(m, cfg)]
    officers: list[dict[str, Any]] = []
    for member in sorted(members):
        position = members[member]
        ent = net.entities.get(member)
        if position not in cfg.officer_positions or ent is None or ent.do_not_contact:
            continue
        client_links = sorted(e for e in net.roles.get(member, {}) if net.is_referrer(e))
        if ent.is_client or client_links:
            officers.append({"id": member, "name": ent.name, "position": position,
                             "is_client": ent.is_client, "client_roles_in": client_links})
    doors = [m for m in clients if net.is_referrer(m)]
    doors += [e for o in officers for e in o["client_roles_in"] if e not in doors]
    involved = [net.entities[m].manager_id for m in doors]
    involved += [net.entities[o["id"]].manager_id for o in officers if o["is_client"]]
    managers = sorted({m for m in involved if m})
    return {
        "members": len(members), "client_members": len(clients), "credit_client_members": len(credit),
        "non_client_members": len(members) - len(clients), "reachable_members": len(reachable),
        "weak_client_members": sum(1 for m in reachable if net.entities[m].is_client),
        "penetration": round(len(clients) / len(members), 4) if members else 0.0,
        "client_officers": officers, "managers": managers, "doors": doors,
        "reachable_sample": reachable[:10],
    }


def _lead_door(net: Network, cfg: ReferralSettings, doors: list[str], members: dict[str, str]) -> str:
    """The strongest way in: a credit client first (its credit design is the package), then an
    enterprise over a person, then standing in the association, products held, id."""
    def strength(node: str) -> tuple[bool, bool, float, int, str]:
        ent = net.entities[node]
        return (not ent.is_credit_client, ent.kind != "enterprise",
                -cfg.referrer.position.get(members.get(node, ""), 0.0), -len(ent.products), node)
    return sorted(doors, key=strength)[0]


def association_targets(net: Network, cfg: ReferralSettings) -> list[Prospect]:
    """One `association_target` row per association the bank can work as a batch."""
    w = cfg.target
    rows: list[Prospect] = []
    for assoc in sorted(net.associations):
        m = association_metrics(net, cfg, assoc)
        if not m["doors"] or not m["reachable_members"]:
            continue
        officers = m["client_officers"]
        evidence = finalise_scores([
            Evidence(name="reachable_members", label_en="members not yet clients", label_zh="可触达的非客户会员",
                     value=m["reachable_members"],
                     contribution=w.reachable * log_scaled(m["reachable_members"], w.reachable_full_at)),
            Evidence(name="penetration", label_en="share of members already clients", label_zh="会员渗透率",
                     value=m["penetration"],
                     contribution=w.penetration * min(1.0, m["penetration"] / w.penetration_full_at)),
            Evidence(name="client_officers", label_en="officers who are or work for clients",
                     label_zh="为我行客户的协会负责人", value=len(officers),
                     contribution=w.client_officers * min(1.0, len(officers) / w.client_officers_full)),
            Evidence(name="credit_client_members", label_en="credit clients among members",
                     label_zh="会员中的授信客户", value=m["credit_client_members"],
                     contribution=w.credit_clients * min(1.0, m["credit_client_members"] / w.credit_clients_full)),
            Evidence(name="managers_involved", label_en="managers already serving members",
                     label_zh="已服务会员的客户经理", value=len(m["managers"]),
                     contribution=w.managers * min(1.0, len(m["managers"]) / w.managers_full)),
        ])
        door = _lead_door(net, cfg, m["doors"], net.members.get(assoc, {}))
        manager = net.entities[door].manager_id
        name = net.name(assoc)
        reasons = [
            Reason(en=f"{m['non_client_members']} of {m['members']} members of {name} are not yet clients"
                      + (f", {m['weak_client_members']} more are weak clients to deepen" if m["weak_client_members"]
                         else ""),
                   zh=f"{name}{m['members']}家会员中有{m['non_client_members']}家尚未成为我行客户"
                      + (f"，另有{m['weak_client_members']}家为待深耕的弱客户" if m["weak_client_members"] else "")),
            Reason(en=f"Penetration {m['penetration']:.0%}: {m['client_members']} members already bank with us "
                      f"({m['credit_client_members']} with credit)",
                   zh=f"渗透率{m['penetration']:.0%}：已有{m['client_members']}家会员是我行客户"
                      f"（其中授信客户{m['credit_client_members']}家）"),
        ]
        for officer in officers[:3]:
            pos_en, pos_zh = POSITION_WORDS.get(officer["position"], (officer["position"], officer["position"]))
            reasons.append(Reason(en=f"{officer['name']}, {pos_en}, is linked to the bank",
                                  zh=f"{pos_zh}{officer['name']}与我行已有业务关系"))
        lead = officers[0]["name"] if officers else net.name(door)
        reasons.append(Reason(
            en=f"Approach: {net.name(manager) or 'the manager'} holds a salon for {name} with {lead} "
               f"and offers one credit package to its members",
            zh=f"建议：{net.name(manager) or '客户经理'}联合{lead}举办{name}专场沙龙，推出会员批量授信方案"))
        details = {k: v for k, v in m.items() if k != "doors"}
        details.update(lead_referrer=door, lead_referrer_name=net.name(door),
                       association_kind=net.associations[assoc].get("kind"))
        branch = net.managers.get(manager or "", {}).get("branch_id") or net.entities[door].branch_id
        rows.append(Prospect(family="referral", kind="association_target", prospect_id=assoc, name=name,
                             evidence=evidence, reasons=reasons, path=[p for p in (manager, door, assoc) if p],
                             suggested_products=list(cfg.products_target), manager_id=manager, branch_id=branch,
                             anchor_id=door, association_id=assoc, details=details))
    return rows
