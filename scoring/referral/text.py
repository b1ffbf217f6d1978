"""Words for the referral family: reason templates (scoring/templates.py) and the word tables.

A row stores a template id and its parameters; the sentence is rendered in Chinese or English
when the row is shown. Names of persons, firms, associations and managers are parameters of
their own (``referrer``, ``prospect``, ``via``, ``manager``, ``officer``, ``lead``…), so a
viewer's masking policy can mask the field before the sentence is built. Role and position
words come from `graph.vocabulary` as ``*_en`` / ``*_zh`` parameters (open sets of codes).

Template ids are chosen per row: ``referral.introducer.<credit|client>.<link>`` (link: the chain
kind, or ``group.parent`` / ``group.subsidiary`` / ``group.sibling``), and
``referral.approach.<kind>`` (``….no_manager`` when the referrer has no manager).
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from graph.vocabulary import POSITION_WORDS, ROLE_WORDS
from scoring.templates import register

__all__ = ["position_words", "role_words", "word_table", "GROUP_LINKS", "NO_MANAGER"]

#: the link of a chain to its prospect, by chain kind (group chains by relation)
LINKS = {
    "association": ("{referrer:person} and {prospect} are both members of {association}",
                    "{referrer:person}与{prospect}同为{association}会员"),
    "officer": ("{referrer:person} can ask {via:person}, {position_en} of {association} where {prospect} is a member",
                "{referrer:person}可请{association}{position_zh}{via:person}引荐其会员{prospect}"),
    "interlock": ("{via:person} is {roles_referrer_en} of {referrer:person} and {roles_prospect_en} of {prospect}",
                  "{via:person}既是{referrer:person}的{roles_referrer_zh}，又是{prospect}的{roles_prospect_zh}"),
    "group.subsidiary": ("{prospect} is a subsidiary of {referrer:person}", "{prospect}是{referrer:person}的子公司"),
    "group.parent": ("{prospect} is the parent of {referrer:person}", "{prospect}是{referrer:person}的母公司"),
    "group.sibling": ("{prospect} is a sister company of {referrer:person}", "{prospect}是{referrer:person}的兄弟公司"),
    "group": ("{prospect} is in the same group as {referrer:person}", "{prospect}是{referrer:person}的同集团企业"),
}
GROUP_LINKS = ("group:subsidiary", "group:parent", "group:sibling")
STANDING = {"credit": ("credit client", "授信客户"), "client": ("client", "客户")}

#: the suggested first move, by chain kind ({manager}: the referrer's manager)
APPROACH = {
    "association": ("{manager} asks {referrer:person} to introduce {prospect} at the next {association} event",
                    "{manager}请{referrer:person}在{association}活动中引荐{prospect}"),
    "officer": ("{manager} meets {via:person} with {referrer:person} and proposes a salon for members such as {prospect}",
                "{manager}与{referrer:person}一同拜访{via:person}，借协会沙龙对接{prospect}等会员"),
    "interlock": ("{manager} asks {via:person} (who sits in both companies) for an introduction to {prospect}",
                  "{manager}请{via:person}（两家企业共同任职）引荐{prospect}"),
    "group": ("{manager} extends {referrer:person}'s group arrangement to {prospect}",
              "{manager}将{referrer:person}的集团服务方案延伸至{prospect}"),
}
TARGET_APPROACH = ("{manager} holds a salon for {association} with {lead:person} and offers one credit package to its "
                   "members", "{manager}联合{lead:person}举办{association}专场沙龙，推出会员批量授信方案")
#: the words for a missing manager, and the suffix of the template ids that use them
NO_MANAGER = ("the manager", "客户经理")
_NO_MANAGER_SUFFIX = ".no_manager"


def _approach(key: str, words: tuple[str, str]) -> dict[str, tuple[str, str]]:
    en, zh = f"Approach: {words[0]}", f"建议：{words[1]}"
    return {key: (en, zh), key + _NO_MANAGER_SUFFIX: (en.replace("{manager}", NO_MANAGER[0]),
                                                      zh.replace("{manager}", NO_MANAGER[1]))}


_TEMPLATES: dict[str, tuple[str, str]] = {
    f"referral.introducer.{standing}.{link}": (
        f"Introducer: {{referrer:person}}, a {s_en} of manager {{manager}}; {l_en}",
        f"引荐人：{{referrer:person}}（{{manager}}的{s_zh}）；{l_zh}")
    for standing, (s_en, s_zh) in STANDING.items() for link, (l_en, l_zh) in LINKS.items()
}
for _kind, _words in APPROACH.items():
    _TEMPLATES.update(_approach(f"referral.approach.{_kind}", _words))
_TEMPLATES.update(_approach("referral.target.approach", TARGET_APPROACH))
_TEMPLATES.update({
    "referral.weak_client": ("Already a client of {own_manager} with few products (weak client): deepen it",
                             "已是{own_manager}的客户但产品较少（弱客户），可深耕"),
    "referral.penetration": ("{clients} of {members} members of {association} already bank with us ({share:.0%}): "
                             "social proof",
                             "{association}{members}家会员中已有{clients}家是我行客户（{share:.0%}），可借其示范效应"),
    "referral.same_industry": ("Same industry as {referrer:person} ({industry})", "与{referrer:person}同属{industry}行业"),
    "referral.credit_design": ("{referrer:person}'s credit design fits: same business model and comparable size",
                               "经营模式和规模相近，可复用{referrer:person}的授信方案"),
    # a chain of another branch, on a lead of this one: its referrer and manager are not named
    "referral.other_branch": ("A client of another branch can introduce this prospect: ask your branch head to "
                              "arrange it.", "另一支行的客户可引荐该企业：可请本支行负责人协调。"),
    "referral.introducers": ("{count} independent ways in (clients and key persons)",
                             "共有{count}条独立引荐渠道（客户及关键人）"),
    "referral.target.members": ("{non_clients} of {members} members of {association} are not yet clients",
                                "{association}{members}家会员中有{non_clients}家尚未成为我行客户"),
    "referral.target.members_weak": (
        "{non_clients} of {members} members of {association} are not yet clients, {weak} more are weak clients "
        "to deepen",
        "{association}{members}家会员中有{non_clients}家尚未成为我行客户，另有{weak}家为待深耕的弱客户"),
    "referral.target.penetration": ("Penetration {share:.0%}: {clients} members already bank with us "
                                    "({credit} with credit)",
                                    "渗透率{share:.0%}：已有{clients}家会员是我行客户（其中授信客户{credit}家）"),
    "referral.target.officer": ("{officer:person}, {position_en}, is linked to the bank",
                                "{position_zh}{officer:person}与我行已有业务关系"),
})
register(_TEMPLATES)


def word_table(words: dict[str, tuple[str, str]]) -> pa.Table:
    """A vocabulary (code -> (English, Chinese)) as a table (code, en, zh) to join in SQL."""
    return pa.Table.from_pandas(pd.DataFrame({"code": list(words), "en": [w[0] for w in words.values()],
                                              "zh": [w[1] for w in words.values()]}), preserve_index=False)


def position_words() -> pa.Table:
    return word_table(POSITION_WORDS)


def role_words() -> pa.Table:
    return word_table(ROLE_WORDS)
