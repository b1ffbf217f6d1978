"""The words, names, thresholds and formats the product shows, in English and Chinese: one place each.

Every module that puts a role, a position, a tier, a prospect kind or a product into a sentence,
a path, a page or a picture reads it from here; so do the business thresholds (CNY 50,000 of
financial assets; outflow at 80% / 50% of the earlier level), the own-bank and placeholder
names, the amount formatter and the spreadsheet-formula neutraliser. Word tables map a code to
``(en, zh)``; `word(table, code, lang)` picks one.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

import pandas as pd

__all__ = [
    "jsonable",
    "Lang",
    "ROLE_WORDS",
    "ROLE_LABELS",
    "POSITION_WORDS",
    "POSITION_LABELS",
    "TIER_WORDS",
    "KIND_WORDS",
    "PRODUCT_WORDS",
    "HELD_PRODUCT_WORDS",
    "OWN_BANK_NAMES",
    "PLACEHOLDER_NAMES",
    "PLACEHOLDER_MARKERS",
    "ASSET_THRESHOLD",
    "NEAR_THRESHOLD_FLOOR",
    "OUTFLOW_QUERY_RATIO",
    "OUTFLOW_WARNING_RATIO",
    "ASSET_THRESHOLD_EN",
    "ASSET_THRESHOLD_ZH",
    "threshold_words",
    "word",
    "format_amount",
    "neutralise_formula",
    "neutralise_formulas",
]

Lang = Literal["zh", "en"]  # the languages the product speaks

# Roles in a sentence ("X is the legal representative of ..."): with their article.
ROLE_WORDS = {
    "legal_rep": ("the legal representative", "法定代表人"),
    "actual_controller": ("the actual controller", "实际控制人"),
    "director": ("a director", "董事"),
    "executive": ("an executive", "高管"),
    "shareholder": ("a shareholder", "股东"),
    "finance": ("the finance officer", "财务负责人"),
    "employee": ("an employee", "员工"),
    "other": ("a holder of another title", "其他职务人员"),  # a free-text title no word rule knows (roles.title)
    "related": ("a related person", "关联人"),  # a role row without a title
}
# Roles as a label (a column, a legend, "{role:Role_en} of our client"): the bare noun.
ROLE_LABELS = {
    "legal_rep": ("legal representative", "法定代表人"),
    "actual_controller": ("actual controller", "实际控制人"),
    "director": ("director", "董事"),
    "executive": ("executive", "高管"),
    "shareholder": ("shareholder", "股东"),
    "finance": ("finance officer", "财务负责人"),
    "employee": ("employee", "员工"),
    "other": ("other role", "其他职务"),
    "related": ("related person", "关联人"),
}
POSITION_WORDS = {
    "member": ("a member", "会员"),
    "director": ("a council member", "理事"),
    "vice_president": ("a vice-president", "副会长"),
    "president": ("the president", "会长"),
    "secretary_general": ("the secretary-general", "秘书长"),
}
# Positions as a label: the bare noun.
POSITION_LABELS = {key: (en.split(" ", 1)[1], zh) for key, (en, zh) in POSITION_WORDS.items()}
# Retail tiers (persons.tier) as a sentence uses them ("our VIP retail client").
TIER_WORDS = {
    "mass": ("mass", "大众"),
    "potential": ("potential", "潜力"),
    "vip": ("VIP", "贵宾"),
    "private": ("private banking", "私行"),
    "none": ("not a retail client", "非个人客户"),
}
# Prospect kinds of every family (graph.schema.KINDS_BY_FAMILY).
KIND_WORDS = {
    "upstream": ("Upstream", "上游"),
    "downstream": ("Downstream", "下游"),
    "chain": ("Introducer chain", "引荐链"),
    "association_target": ("Association target", "协会/商会目标客户"),
    "payroll": ("Payroll staff", "代发员工"),
    "executive": ("Executive", "高管"),
    "corporate_from_retail": ("Corporate from retail", "由私及公"),
    "outflow": ("Outflow", "资金外流"),
    "group": ("Group member", "集团成员"),
    "branch_store": ("Chain store", "连锁门店"),
    "member": ("Member", "会员"),
}
# Products a prospect row suggests (suggested_products codes), of every family.
PRODUCT_WORDS = {
    "bill_discounting": ("bill discounting", "票据贴现"),
    "factoring": ("factoring", "保理"),
    "supply_chain_finance": ("supply-chain finance", "供应链金融"),
    "trade_finance": ("trade finance", "贸易融资"),
    "working_capital_loan": ("working-capital loan", "流动资金贷款"),
    "payroll": ("payroll services", "代发工资"),
    "settlement_account": ("settlement account", "结算账户"),
    "inclusive_finance_loan": ("inclusive-finance loan", "普惠贷款"),
    "deposit": ("deposits", "存款"),
    "wealth_management": ("wealth management", "财富管理"),
    "association_salon": ("association salon", "协会专场沙龙"),
    "batch_credit_package": ("batch credit package", "会员批量授信方案"),
    "payroll_card_upgrade": ("payroll card upgrade", "代发卡升级"),
    "wealth_products": ("wealth management products", "理财产品"),
    "deposit_upgrade": ("deposit upgrade", "存款升级"),
    "private_banking": ("private banking", "私人银行"),
    "corporate_account": ("corporate account", "对公开户"),
    "corporate_credit": ("corporate credit", "对公授信"),
    "cash_management": ("cash management", "现金管理"),
    "retention_call": ("retention call", "挽留回访"),
}
# Products a client already holds at the bank (the customer 360 view).
HELD_PRODUCT_WORDS = {
    "settlement": ("settlement account", "对公结算账户"),
    "credit": ("credit line", "授信"),
    "payroll": ("payroll service", "代发工资"),
    "retail": ("personal account with financial assets", "个人账户及金融资产"),
}

# Payee-bank values meaning our own bank (the ingest's default `own_bank_names`).
OWN_BANK_NAMES: tuple[str, ...] = ("本行", "我行")
# Counterparty names that are placeholders, never entities: matched whole (ingest).
PLACEHOLDER_NAMES: tuple[str, ...] = (
    "REDACTED", "REDACTED PERSONAL DATA", "个人", "未知", "不详", "无", "N/A", "NA", "NONE", "NULL", "UNKNOWN",
    "-", "--", "/", "PERSONAL DATA", "个体", "匿名")
# Parts of a name that mark it a redaction wherever they appear (scoring lists never show them).
PLACEHOLDER_MARKERS: tuple[str, ...] = ("REDACTED", "PERSONAL DATA", "个人信息", "隐私")

# The business thresholds: a retail client is worth a wealth conversation from CNY 50,000 of
# financial assets, and "near" it (临界) from 70% of it; assets at 80% or less of the earlier level
# get a query notice, at 50% or less a warning. The weights file may tune the scoring copies; these are the defaults and the
# words the product uses for them.
ASSET_THRESHOLD = 50_000.0
NEAR_THRESHOLD_FLOOR = 0.7
OUTFLOW_QUERY_RATIO = 0.8
OUTFLOW_WARNING_RATIO = 0.5


def word(table: dict[str, tuple[str, str]], code: str, lang: str = "zh", default: str | None = None) -> str:
    """The word for `code` in `lang` from one of the tables above (`default`, else the code, when unknown)."""
    pair = table.get(code)
    if pair is None:
        return code if default is None else default
    return pair[1] if lang == "zh" else pair[0]


AmountStyle = Literal["exact", "short", "wan", "round", "yuan"]


def format_amount(amount: float | None, lang: str = "zh", style: AmountStyle = "exact",
                  currency_en: str = "CNY", currency_zh: str = "元", digits: int | None = None) -> str:
    """An amount of money as the product writes it.

    - ``exact`` (reasons of the retail family): 'CNY 1,234,567' / '123.46万元';
    - ``short`` (supply-chain and ecosystem sentences): 'CNY 1.2m', 'CNY 35k' / '1.23亿元', '123.5万元';
    - ``wan`` (pictures, either language): '123.5万元', '0.40万元'; with `digits`, always that many
      decimals ('1,234.6万元', paths);
    - ``round`` (a threshold or a band, either language in zh words): '5万元', '3.5万元';
    - ``yuan`` (whole yuan): 'CNY 48,000' / '48,000元'.

    >>> format_amount(1_234_567, "en"), format_amount(1_234_567, "zh")
    ('CNY 1,234,567', '123.46万元')
    >>> format_amount(123_456_789, "zh", "short"), format_amount(35_000, "en", "short")
    ('1.23亿元', 'CNY 35k')
    >>> format_amount(4_000, style="wan"), format_amount(None, style="wan")
    ('0.40万元', '')
    >>> format_amount(35_000, style="round"), format_amount(48_000, "zh", "yuan")
    ('3.5万元', '48,000元')

    babel's `format_compact_decimal` writes 万/亿 too, but drops trailing zeros ('12万') and
    writes '1.2M' in English, which would change every stored sentence.
    """
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return ""
    value = float(amount)
    if style == "round":
        return f"{value / 10_000.0:g}万{currency_zh}"
    if style == "yuan":
        return f"{value:,.0f}{currency_zh}" if lang == "zh" else f"{currency_en} {value:,.0f}"
    if style == "wan":
        wan = value / 10_000.0
        if digits is not None:
            return f"{wan:,.{digits}f}万{currency_zh}"
        if abs(wan) >= 100:
            return f"{wan:,.0f}万{currency_zh}"
        if abs(wan) >= 1:
            return f"{wan:,.1f}万{currency_zh}"
        return f"{wan:.2f}万{currency_zh}"
    if style == "short":
        if lang == "zh":
            if value >= 1e8:
                return f"{value / 1e8:.2f}亿{currency_zh}"
            if value >= 1e4:
                return f"{value / 1e4:.1f}万{currency_zh}"
            return f"{value:,.0f}{currency_zh}"
        if value >= 1e6:
            return f"{currency_en} {value / 1e6:.1f}m"
        if value >= 1e3:
            return f"{currency_en} {value / 1e3:.0f}k"
        return f"{currency_en} {value:,.0f}"
    if lang == "zh":
        return f"{value / 10_000:,.2f}万{currency_zh}"
    return f"{currency_en} {value:,.0f}"


def threshold_words(amount: float) -> tuple[str, str]:
    """A round threshold as a sentence names it: 50000 -> ('CNY 50,000', '5万元')."""
    return format_amount(amount, "en"), format_amount(amount, "zh", "round")


#: the asset threshold as sentences write it: 'CNY 50,000' / '5万元'
ASSET_THRESHOLD_EN, ASSET_THRESHOLD_ZH = threshold_words(ASSET_THRESHOLD)

# A cell starting with one of these is run as a formula by a spreadsheet; so is one starting
# with "-" unless it is a plain number (a negative amount written as text).
_FORMULA_START = ("=", "+", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def neutralise_formula(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; other values stay as they are.

    >>> neutralise_formula("=1+1"), neutralise_formula("-A1"), neutralise_formula("-12.5"), neutralise_formula(-5)
    ("'=1+1", "'-A1", '-12.5', -5)
    """
    if isinstance(value, str) and (value.startswith(_FORMULA_START)
                                   or (value.startswith("-") and not _is_number(value))):
        return "'" + value
    return value


def neutralise_formulas(text: pd.Series) -> pd.Series:
    """`neutralise_formula` over a whole column of text (missing values become ''). Only the
    values starting with "-" are parsed as numbers (parsing all 257k resolved names at 2M
    payments took 0.5 s of a report's writing)."""
    text = text.astype("string").fillna("")
    live = text.str.startswith(_FORMULA_START).to_numpy(dtype=bool)
    dash = text.str.startswith("-").to_numpy(dtype=bool)
    if dash.any():
        live[dash] = pd.to_numeric(text[dash], errors="coerce").isna().to_numpy()
    if not live.any():
        return text
    out = text.copy()
    out[live] = "'" + text[live]
    return out


def jsonable(value: Any) -> Any:
    """Plain JSON values: dates as ISO text, numpy scalars as Python, NaN/NA as null."""
    if isinstance(value, str | bool | int):
        return value
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, dt.date):  # dates and datetimes
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, list | dict | str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value
