"""Value aliases: the canonical words of value columns (roles, positions, tiers, kinds, a
statement's debit/credit flag) and the classification of free-text titles.

Real exports carry Chinese values (董事长, 秘书长, 贵宾, 借/贷 …) and titles as people type them
(EVP & CFO, 副总经理兼财务总监). This module is the one built-in table that turns them into the
canonical values of the input bundle; a mapping file's `values:` can add more.

Examples:
    >>> canonical_value("role", "董事长/董事")
    'director'
    >>> canonical_value("direction", "贷")
    'credit'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = [
    "VALUE_ALIASES",
    "SENIORITY",
    "TITLE_WORDS",
    "OTHER_ROLE",
    "BLANK_ROLE",
    "DEBIT",
    "CREDIT",
    "REVERSAL_FLAGS",
    "MEMO_UNDONE",
    "MEMO_BANK_CHARGE",
    "no_company",
    "canonical_value",
    "classify_title",
]

DEBIT, CREDIT = "debit", "credit"  # a statement's directions: money out of the holder's account, money in
# the words of a reversal (冲正: an earlier entry undone), as a statement's flag or in its memo
_REVERSAL_WORDS = ("冲正", "冲账", "冲帐", "红冲", "冲销", "抹账", "抹帐", "reversal")
# a statement's flag for a reversal, which says neither way the money went
REVERSAL_FLAGS = frozenset({*_REVERSAL_WORDS, "冲", "rev"})
# A payment's memo (摘要, 用途, 附言) that says the row is no payment between two parties (RE2,
# searched in the memo folded and without spaces): an entry undone (a reversal's word; 退汇: the
# remittance came back) or the bank's own interest and charges (结息, 手续费; 利息 only as the whole
# memo: 借款利息 is one company's interest to another). Read only to leave such rows out; the memo
# is not stored.
MEMO_UNDONE = "|".join([*_REVERSAL_WORDS, "退汇", "退票"])
MEMO_BANK_CHARGE = ("结息|手续费|工本费|汇划费|邮电费|短信.{0,2}费|账户管理费|bankcharge|servicecharge|"
                    "^(?:活期|定期|存款|协定存款)?(?:利息|付息|计息)(?:收入|支出)?$|^(?:credit|debit)?interest$")
# A counterparty's name that is no company to approach, where it resolves to no known enterprise
# (`no_company`): a bank's internal, clearing or transit account (待清算款项, 应解汇款及临时存款,
# 个人网银跨行汇款过渡户, 银联清算资金), the state treasury (国家金库…, 国库…支库: taxes) or a payment
# platform's clearing account (支付宝, 财付通: the real payer or payee is behind it); or one person's
# name (2-3 Chinese characters not ending in a word of an organisation, or names joined by a middle
# dot: 黄斌, 张 三, 王会芳, 阿依古丽·买买提): a payment to an individual is no supplier or buyer, and a
# person's name is not stored as a firm's.
NOT_A_PARTY = re.compile("待清算|清算资金|清算款项|过渡户|过渡账户|过渡帐户|应解汇款|临时存款|内部户|内部账户|内部帐户|"
                         "暂收款|暂付款|待结算|待处理|待划转|国家金库|国库.{0,8}支库|支付宝|财付通")
_HAN = "[\u3400-\u4dbf\u4e00-\u9fff]"
PERSON_LIKE = re.compile(f"^(?:{_HAN}{{2,3}}|{_HAN}{{1,8}}[·•]{_HAN}{{1,8}})$")
_ORGANISATION = re.compile("(?:公司|厂|店|社|所|局|院|部|中心|站|场|馆|协会|商会|工会|处|室|队|校|矿|坊|堂|集团|银行|基金)$")
NOT_A_PARTY_REASON = ("a bank's internal, clearing or transit account, the treasury or a payment platform, not a company "
                      "to approach: not added as one, the row is left out")
PERSON_LIKE_REASON = ("the name reads as one person's (two or three characters not ending in a word of an organisation, "
                      "or names joined by a middle dot), not a company's: an individual is not added as a firm, the "
                      "row is left out")


def no_company(name: str) -> str | None:
    """Why a counterparty's name that matched no known enterprise is no company to add (None: it
    may be one). The name as given, compared without spaces after NFKC."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    if NOT_A_PARTY.search(text):
        return NOT_A_PARTY_REASON
    if PERSON_LIKE.match(text) and not _ORGANISATION.search(text):
        return PERSON_LIKE_REASON
    return None


OTHER_ROLE = "other"  # a title no word rule knows: kept, with the raw title
BLANK_ROLE = "related"  # no title at all (directors and 10% owners in insider filings): kept

# Seniority, most senior first: a compound title keeps its most senior recognised part.
SENIORITY: dict[str, tuple[str, ...]] = {
    "role": ("actual_controller", "legal_rep", "director", "executive", "finance", "shareholder", "employee",
             OTHER_ROLE, BLANK_ROLE),
    "position": ("president", "vice_president", "secretary_general", "director", "member"),
}

VALUE_ALIASES: dict[str, dict[str, str]] = {
    "role": {
        "legal_rep": "legal_rep", "legal representative": "legal_rep", "法定代表人": "legal_rep",
        "法人": "legal_rep", "法人代表": "legal_rep", "法定代表": "legal_rep",
        "director": "director", "董事": "director", "董事长": "director", "副董事长": "director",
        "执行董事": "director", "独立董事": "director", "chairman": "director", "board member": "director",
        "executive": "executive", "高管": "executive", "总经理": "executive", "副总经理": "executive",
        "经理": "executive", "总裁": "executive", "副总裁": "executive", "ceo": "executive",
        "监事": "executive", "监事会主席": "executive", "董事会秘书": "executive", "董秘": "executive",
        "shareholder": "shareholder", "股东": "shareholder", "控股股东": "shareholder", "大股东": "shareholder",
        "actual_controller": "actual_controller", "实际控制人": "actual_controller", "实控人": "actual_controller",
        "finance": "finance", "财务负责人": "finance", "财务总监": "finance", "财务人员": "finance",
        "财务": "finance", "会计": "finance", "出纳": "finance", "cfo": "finance",
        "employee": "employee", "员工": "employee", "职员": "employee",
    },
    "position": {
        "member": "member", "会员": "member", "会员单位": "member", "成员": "member",
        "director": "director", "理事": "director", "常务理事": "director", "理事单位": "director",
        "常务理事单位": "director",
        "vice_president": "vice_president", "副会长": "vice_president", "副会长单位": "vice_president",
        "常务副会长": "vice_president", "vice president": "vice_president",
        "president": "president", "会长": "president", "会长单位": "president", "理事长": "president",
        "secretary_general": "secretary_general", "秘书长": "secretary_general",
        "secretary general": "secretary_general", "副秘书长": "secretary_general",
    },
    "association_kind": {
        "industry_association": "industry_association", "行业协会": "industry_association", "协会": "industry_association",
        "chamber_of_commerce": "chamber_of_commerce", "商会": "chamber_of_commerce",
        "market": "market", "市场": "market", "商圈": "market", "集群市场": "market", "专业市场": "market",
        "park": "park", "园区": "park", "产业园": "park", "工业园": "park",
        "other": "other", "其他": "other",
    },
    "tier": {
        "mass": "mass", "大众": "mass", "大众客户": "mass", "普通": "mass",
        "potential": "potential", "潜力": "potential", "潜力客户": "potential",
        "vip": "vip", "贵宾": "vip", "贵宾客户": "vip", "财富": "vip",
        "private": "private", "私行": "private", "私人银行": "private", "私行客户": "private",
    },
    "member_kind": {
        "enterprise": "enterprise", "企业": "enterprise", "单位": "enterprise", "公司": "enterprise",
        "person": "person", "个人": "person", "自然人": "person",
    },
    "direction": {  # a statement's 借贷标志: which way the money went, for the account holder
        DEBIT: DEBIT, "借": DEBIT, "借方": DEBIT, "借记": DEBIT, "d": DEBIT, "dr": DEBIT, "支": DEBIT,
        "支出": DEBIT, "出": DEBIT, "付": DEBIT, "付出": DEBIT, "付款": DEBIT, "转出": DEBIT, "出账": DEBIT,
        "withdrawal": DEBIT, "out": DEBIT, "-": DEBIT,
        CREDIT: CREDIT, "贷": CREDIT, "贷方": CREDIT, "贷记": CREDIT, "c": CREDIT, "cr": CREDIT, "收": CREDIT,
        "收入": CREDIT, "入": CREDIT, "收款": CREDIT, "转入": CREDIT, "入账": CREDIT, "deposit": CREDIT,
        "in": CREDIT, "+": CREDIT,
    },
    "manager_kind": {
        "corporate": "corporate", "对公": "corporate", "公司": "corporate", "对公客户经理": "corporate",
        "retail": "retail", "零售": "retail", "个人": "retail", "个人客户经理": "retail", "理财经理": "retail",
    },
}

_SPLIT = re.compile(r"\s*[/、,，;；|&＆+]\s*|\s+兼\s*|兼|\s+and\s+|\s+及\s*|\s*及")

# The words of free-text titles, zh and en, as (pattern, role); the FIRST rule that matches one
# part of a title classifies it, so narrower words come before wider ones (财务总监 is finance,
# 总监 an executive; 董事会秘书 an executive, 董事 a director; "Director" alone is a board seat,
# "Sales Director" an executive). Patterns are case-insensitive and run on NFKC text.
TITLE_WORDS: tuple[tuple[str, str], ...] = (
    (r"实际控制人|实控人|actual controller|controlling (person|shareholder)", "actual_controller"),
    (r"法定代表人|法人代表|法人|legal rep", "legal_rep"),
    (r"董事会秘书|董秘|监事|secretary|总工程师|总经济师", "executive"),
    (r"董事|^(lead |independent |outside |non-executive )?directors?$|chair|board member|\bcob\b|理事长", "director"),
    (r"财务|会计|出纳|总会计师|审计|chief financial|chief accounting|principal (financial|accounting)|"
     r"\b(cfo|cao|pfo|pao)\b|financ|accounting|accountant|controller|comptroller|treasurer", "finance"),
    (r"总经理|总裁|高管|总监|首席|行长|厂长|^经理$|负责人|chief .*officer|\b(ceo|coo|cto|cio|cmo|clo|cso|evp|svp|"
     r"vp|gm)\b|president|general manager|managing director|director|general counsel|officer|executive|"
     r"^head of", "executive"),
    (r"股东|出资人|投资人|合伙人|owner|shareholder|stockholder|\bpartner\b|持股", "shareholder"),
    (r"员工|职员|经理|主管|专员|工程师|业务员|销售|采购|会员|staff|employee|manager|engineer|analyst|associate|"
     r"clerk|specialist", "employee"),
)
_TITLE_RULES = tuple((re.compile(pattern, re.IGNORECASE), role) for pattern, role in TITLE_WORDS)


def _alias(kind: str, text: str, extra: dict[str, str] | None) -> str | None:
    """The exact alias of one value (a mapping file's `values` first), without splitting it."""
    table = VALUE_ALIASES[kind]
    key = unicodedata.normalize("NFKC", text).strip()
    if extra:
        if key in extra:
            return extra[key]
        if key.lower() in extra:
            return extra[key.lower()]
    return table.get(key) or table.get(key.lower()) or table.get(key.lower().replace("-", "_"))


def canonical_value(kind: str, value: str, extra: dict[str, str] | None = None) -> str | None:
    """The canonical value of `value` for a value kind (role, position, tier …), or None.

    A compound title (董事长/董事, 副董事长、执行董事, 总经理兼财务负责人) keeps its most
    senior recognised part; `extra` (a mapping file's `values`) is consulted first.
    """
    return _alias(kind, value, extra) or _most_senior(kind, value, lambda part: _alias(kind, part, extra))


def _most_senior(kind: str, value: str, one: Callable[[str], str | None]) -> str | None:
    parts = [p for p in _SPLIT.split(unicodedata.normalize("NFKC", str(value))) if p.strip()]
    found = [v for v in (one(p) for p in parts) if v is not None]
    if not found:
        return None
    order = SENIORITY.get(kind)
    if order is None:
        return found[0]
    return min(found, key=lambda v: order.index(v) if v in order else len(order))


def _by_words(text: str) -> str | None:
    key = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    for rule, role in _TITLE_RULES:
        if rule.search(key):
            return role
    return None


def classify_title(title: str | None, extra: dict[str, str] | None = None) -> str:
    """The role a free-text title means: an alias, else its words, else `other`; blank is `related`.

    The whole title's alias wins; otherwise each part of a compound title is classified (alias,
    then words) and the most senior part counts. Called once per DISTINCT title of a file (the
    rows are then mapped), never per row.

    Examples:
        >>> [classify_title(t) for t in ("EVP & CFO", "Controller & CAO", "副总经理兼财务总监", "")]
        ['executive', 'finance', 'executive', 'related']
        >>> [classify_title(t) for t in ("10% Owner", "See Remarks", "董事会秘书", "销售经理")]
        ['shareholder', 'other', 'executive', 'employee']
    """
    if title is None or not str(title).strip():
        return BLANK_ROLE
    text = str(title)
    return (_alias("role", text, extra)
            or _most_senior("role", text, lambda part: _alias("role", part, extra) or _by_words(part))
            or OTHER_ROLE)
