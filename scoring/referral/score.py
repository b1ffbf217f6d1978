"""The `referral` family (以客荐客): prospects a client can introduce, and associations to work as a batch.

Kinds:

- ``member``: an enterprise or person (not a client, or a weak client) reached by a referral
  chain — a fellow association member, through an association officer, through a person who
  sits in both companies, or through a group. The best chain decides the score and the
  manager; the other chains and introducers are listed in ``details``.
- ``association_target``: an association ranked for batch acquisition (salons, packages).

A member's score is the best chain's contributions (referrer strength, the association's
penetration, fit with the referrer, chain length) plus a bonus for independent introducers,
so adding a chain never lowers it. Weights: section ``referral:`` of scoring/weights.yaml.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from graph.store import GraphStore
from scoring.explain import Evidence, Prospect, Reason, finalise_scores
from scoring.referral.network import CHAIN_KINDS, Chain, Network, ReferralSettings, find_chains, load_network
from scoring.referral.targets import association_targets
from scoring.referral.text import approach, chain_reasons
from scoring.settings import ScoringSettings, family_settings

__all__ = ["score", "ReferralSettings", "chain_facts", "chain_evidence", "rank_chains"]

FAMILY = "referral"


def score(store: GraphStore, settings: ScoringSettings) -> list[Prospect]:
    """Every `member` and `association_target` row of the referral family."""
    cfg = family_settings(settings, FAMILY, ReferralSettings)
    net = load_network(store, cfg, settings.as_of)
    rows = [member_row(net, cfg, chains) for _, chains in sorted(find_chains(net, cfg).items())]
    rows.extend(association_targets(net, cfg))
    return rows


LABELS = {
    "referrer_credit": ("introducer is a credit client", "引荐人为授信客户"),
    "referrer_tenure": ("introducer's years with the bank", "引荐人合作年限"),
    "referrer_products": ("introducer's products held", "引荐人持有产品数"),
    "referrer_position": ("standing of the introducer or key person", "引荐人或关键人地位"),
    "association_penetration": ("share of the association already clients", "协会会员中我行客户占比"),
    "fit_industry": ("same industry as the introducer", "与引荐人同行业"),
    "fit_credit_design": ("introducer's credit design fits", "可复用引荐人授信方案"),
    "chain_length": ("links from the manager", "引荐链长度"),
}
Fact = tuple[str, Any, float]  # (evidence name, value, points)


def chain_facts(net: Network, cfg: ReferralSettings, chain: Chain) -> list[Fact]:
    """The chain-level contributions: referrer strength, penetration, fit and length.

    Plain tuples, not `Evidence`: big associations give hundreds of thousands of chains and
    only the best few per prospect become evidence.
    """
    ref = net.entities[chain.referrer]
    prospect = net.entities[chain.prospect]
    w, c = cfg.referrer, cfg.chain
    strength = net.cache.get(("referrer", ref.id))
    if strength is None:
        years = 0.0
        if ref.opened_on is not None and net.as_of is not None:
            years = max(0.0, (net.as_of - ref.opened_on).days / 365.25)
        strength = net.cache[("referrer", ref.id)] = [
            ("referrer_credit", ref.is_credit_client, w.credit_client * ref.is_credit_client),
            ("referrer_tenure", round(years, 1), w.tenure * min(1.0, years / w.tenure_full_years)),
            ("referrer_products", len(ref.products), w.products * min(1.0, len(ref.products) / w.products_full)),
        ]
    clients, members = net.penetration(chain.association) if chain.association else (0, 0)
    share = clients / members if members else 0.0
    same_industry = (prospect.kind == ref.kind == "enterprise" and ref.industry is not None
                     and ref.industry == prospect.industry)
    assoc_kind = net.associations.get(chain.association or "", {}).get("kind")
    comparable = (ref.capital is None or prospect.capital is None or not ref.capital or not prospect.capital
                  or max(ref.capital, prospect.capital) / min(ref.capital, prospect.capital)
                  <= c.credit_design_capital_ratio)
    credit_design = (ref.is_credit_client and prospect.kind == "enterprise" and comparable
                     and (same_industry or assoc_kind in c.credit_design_association_kinds))
    extra_hops = max(0, chain.hops - c.length_full_hops)
    return [
        *strength,
        ("referrer_position", chain.position, w.position.get(chain.position, 0.0)),
        ("association_penetration", round(share, 4), c.penetration * min(1.0, share / c.penetration_full_at)),
        ("fit_industry", prospect.industry if same_industry else None, c.same_industry * same_industry),
        ("fit_credit_design", credit_design, c.credit_design * credit_design),
        ("chain_length", chain.hops, c.length * max(0.0, 1.0 - extra_hops * c.length_loss_per_hop)),
    ]


def chain_evidence(net: Network, cfg: ReferralSettings, chain: Chain) -> list[Evidence]:
    """`chain_facts` as labelled evidence.

    `model_construct` (no validation): the values come from typed settings and the store, and
    validating every member row's objects cost seconds at bank scale.
    """
    return [Evidence.model_construct(name=name, label_en=LABELS[name][0], label_zh=LABELS[name][1], value=value,
                                     contribution=points) for name, value, points in chain_facts(net, cfg, chain)]


def rank_chains(net: Network, cfg: ReferralSettings, chains: list[Chain]) -> list[tuple[Chain, float]]:
    """A prospect's chains with their points, best first (points, fewer hops, kind, path: deterministic)."""
    scored = [(chain, sum(f[2] for f in chain_facts(net, cfg, chain))) for chain in set(chains)]
    return sorted(scored, key=lambda item: (-round(item[1], 9), item[0].hops,
                                            CHAIN_KINDS.index(item[0].kind), item[0].path))


def member_row(net: Network, cfg: ReferralSettings, chains: list[Chain]) -> Prospect:
    """One `member` row: the best chain's evidence, the introducer bonus, reasons and alternatives."""
    ranked = rank_chains(net, cfg, chains)
    best = ranked[0][0]
    evidence = chain_evidence(net, cfg, best)
    prospect = net.entities[best.prospect]
    referrer = net.entities[best.referrer]
    introducers: dict[str, float] = defaultdict(float)
    for chain, points in ranked:
        introducers[chain.referrer] = max(introducers[chain.referrer], points)
    # Independent ways in: every client who can introduce and every key person a chain runs
    # through (an officer, a shared director); an association or parent company is context, not a door.
    doors = set(introducers) | {ch.via for ch, _ in ranked if ch.kind in ("officer", "interlock") and ch.via}
    count = len(doors)
    evidence.append(Evidence.model_construct(
        name="independent_introducers", label_en="independent introducers (clients and key persons)",
        label_zh="独立引荐渠道数（客户及关键人）", value=count,
        contribution=min(cfg.chain.introducers, (count - 1) * cfg.chain.introducer_extra)))
    evidence = finalise_scores(evidence)
    # A weak client is already someone's client: deepening stays with its own manager.
    own = prospect.manager_id if prospect.is_client else None
    manager = own or referrer.manager_id
    clients, members = net.penetration(best.association) if best.association else (0, 0)
    others = sorted((r for r in introducers if r != best.referrer), key=lambda r: (-introducers[r], r))
    details: dict[str, Any] = {
        "best_chain": _chain_dict(net, best, ranked[0][1]),
        "other_chains": [_chain_dict(net, ch, points) for ch, points in ranked[1:1 + cfg.max_listed]],
        "chains_total": len(ranked),
        "other_introducers": [
            {"id": r, "name": net.name(r), "manager_id": net.entities[r].manager_id,
             "manager_name": net.name(net.entities[r].manager_id), "chain_points": round(introducers[r], 2)}
            for r in others[:cfg.max_listed]],
        "introducers_total": len(introducers), "independent_doors": sorted(doors),
        "referrer_manager_id": referrer.manager_id,
        "association_members": members, "association_client_members": clients,
        "association_penetration": round(clients / members, 4) if members else None,
    }
    text_en, text_zh = approach(net, best)
    details.update(approach_en=text_en, approach_zh=text_zh)
    reasons = chain_reasons(net, best, evidence, count)
    reasons.append(Reason.model_construct(en=f"Approach: {text_en}", zh=f"建议：{text_zh}"))
    if prospect.kind == "person":
        products = list(cfg.products_person)
    else:
        products = list(cfg.products_enterprise)
        if any(e.name == "fit_credit_design" and e.value for e in evidence):
            products = list(cfg.products_credit_design) + products
    branch = net.managers.get(manager or "", {}).get("branch_id") or referrer.branch_id
    return Prospect.model_construct(family=FAMILY, kind="member", prospect_id=prospect.id, name=prospect.name,
                    evidence=evidence, reasons=reasons, path=list(best.path), suggested_products=products,
                    manager_id=manager, branch_id=branch, anchor_id=referrer.id,
                    association_id=best.association, is_deepening=prospect.is_client, details=details)


def _chain_dict(net: Network, chain: Chain, points: float) -> dict[str, Any]:
    return {"kind": chain.kind, "referrer": chain.referrer, "referrer_name": net.name(chain.referrer),
            "via": chain.via, "via_name": net.name(chain.via), "association_id": chain.association,
            "position": chain.position, "manager_id": net.entities[chain.referrer].manager_id,
            "path": list(chain.path), "hops": chain.hops, "points": round(points, 2)}
