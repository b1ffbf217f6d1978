"""Words for the referral family: reasons and the suggested approach, in English and Chinese."""

from __future__ import annotations

from scoring.explain import POSITION_WORDS, ROLE_WORDS, Evidence, Reason
from scoring.referral.network import Chain, Network

__all__ = ["chain_reasons", "approach", "POSITION_WORDS", "ROLE_WORDS"]



def _role(net: Network, person: str, enterprise: str) -> tuple[str, str]:
    held = sorted(net.roles.get(person, {}).get(enterprise, set()))
    words = [ROLE_WORDS.get(r, (r, r)) for r in held] or [("linked", "关联人")]
    return " and ".join(w[0] for w in words), "、".join(w[1] for w in words)


def _link(net: Network, chain: Chain) -> tuple[str, str]:
    """How the referrer reaches the prospect, in words."""
    ref, pro = net.name(chain.referrer), net.name(chain.prospect)
    assoc = net.name(chain.association)
    if chain.kind == "association":
        return f"{ref} and {pro} are both members of {assoc}", f"{ref}与{pro}同为{assoc}会员"
    if chain.kind == "officer":
        via = net.name(chain.via)
        pos_en, pos_zh = POSITION_WORDS.get(chain.position, (chain.position, chain.position))
        return (f"{ref} can ask {via}, {pos_en} of {assoc} where {pro} is a member",
                f"{ref}可请{assoc}{pos_zh}{via}引荐其会员{pro}")
    if chain.kind == "interlock":
        via = chain.via or ""
        a_en, a_zh = _role(net, via, chain.referrer)
        b_en, b_zh = _role(net, via, chain.prospect)
        name = net.name(via)
        return (f"{name} is {a_en} of {ref} and {b_en} of {pro}",
                f"{name}既是{ref}的{a_zh}，又是{pro}的{b_zh}")
    relation = {"group:subsidiary": ("a subsidiary of", "的子公司"), "group:parent": ("the parent of", "的母公司"),
                "group:sibling": ("a sister company of", "的兄弟公司")}
    rel_en, rel_zh = relation.get(chain.position, ("in the same group as", "的同集团企业"))
    return f"{pro} is {rel_en} {ref}", f"{pro}是{ref}{rel_zh}"


def chain_reasons(net: Network, chain: Chain, evidence: list[Evidence], introducers: int) -> list[Reason]:
    """The sentences of a `member` row, strongest fact first."""
    ref = net.entities[chain.referrer]
    manager = net.name(ref.manager_id) or "—"
    link_en, link_zh = _link(net, chain)
    credit_en = "credit client" if ref.is_credit_client else "client"
    credit_zh = "授信客户" if ref.is_credit_client else "客户"
    out = [Reason.model_construct(en=f"Introducer: {ref.name}, a {credit_en} of manager {manager}; {link_en}",
                  zh=f"引荐人：{ref.name}（{manager}的{credit_zh}）；{link_zh}")]
    pro = net.entities[chain.prospect]
    if pro.is_client:
        own = net.name(pro.manager_id) or "—"
        out.append(Reason.model_construct(en=f"Already a client of {own} with few products (weak client): deepen it",
                          zh=f"已是{own}的客户但产品较少（弱客户），可深耕"))
    by_name = {e.name: e for e in evidence}
    if chain.association and by_name["association_penetration"].contribution > 0:
        clients, members = net.penetration(chain.association)
        assoc = net.name(chain.association)
        out.append(Reason.model_construct(en=f"{clients} of {members} members of {assoc} already bank with us "
                             f"({clients / members:.0%}): social proof",
                          zh=f"{assoc}{members}家会员中已有{clients}家是我行客户（{clients / members:.0%}），可借其示范效应"))
    if by_name["fit_industry"].contribution > 0:
        out.append(Reason.model_construct(en=f"Same industry as {ref.name} ({by_name['fit_industry'].value})",
                          zh=f"与{ref.name}同属{by_name['fit_industry'].value}行业"))
    if by_name["fit_credit_design"].contribution > 0:
        out.append(Reason.model_construct(en=f"{ref.name}'s credit design fits: same business model and comparable size",
                          zh=f"经营模式和规模相近，可复用{ref.name}的授信方案"))
    if introducers > 1:
        out.append(Reason.model_construct(en=f"{introducers} independent ways in (clients and key persons)",
                          zh=f"共有{introducers}条独立引荐渠道（客户及关键人）"))
    return out


def approach(net: Network, chain: Chain) -> tuple[str, str]:
    """The suggested first move for the manager, in English and Chinese."""
    ref = net.entities[chain.referrer]
    manager = net.name(ref.manager_id) or "the manager"
    manager_zh = net.name(ref.manager_id) or "客户经理"
    pro = net.name(chain.prospect)
    if chain.kind == "association":
        return (f"{manager} asks {ref.name} to introduce {pro} at the next {net.name(chain.association)} event",
                f"{manager_zh}请{ref.name}在{net.name(chain.association)}活动中引荐{pro}")
    if chain.kind == "officer":
        via = net.name(chain.via)
        return (f"{manager} meets {via} with {ref.name} and proposes a salon for members such as {pro}",
                f"{manager_zh}与{ref.name}一同拜访{via}，借协会沙龙对接{pro}等会员")
    if chain.kind == "interlock":
        via = net.name(chain.via)
        return (f"{manager} asks {via} (who sits in both companies) for an introduction to {pro}",
                f"{manager_zh}请{via}（两家企业共同任职）引荐{pro}")
    return (f"{manager} extends {ref.name}'s group arrangement to {pro}",
            f"{manager_zh}将{ref.name}的集团服务方案延伸至{pro}")
