"""Header and value aliases: the English names of DESIGN.md and the common Chinese ones.

Real exports carry Chinese headers (企业名称, 统一社会信用代码, 付款人名称 …) and state money in
units (金额(万元)) or, sometimes, in other currencies (Amount (USD)). This module is the one
built-in table that turns them into the canonical columns of the input bundle; a mapping file
can add more. Values (董事长, 秘书长, 贵宾, 借/贷 …) have theirs in `ingest.values`.

Examples:
    >>> canonical_header("payments", "收款人名称")
    'payee_name'
    >>> ZH_HEADERS["enterprises"]["name"]
    '企业名称'
    >>> split_unit("注册资本（万元）")
    ('注册资本', '万元')
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "TABLE_COLUMNS",
    "REQUIRED",
    "HEADER_ALIASES",
    "ZH_HEADERS",
    "canonical_header",
    "header_key",
    "MERGED_REQUIRED",
    "AMOUNT_COLUMNS",
    "AMOUNT_UNITS",
    "VALUE_UNIT_SUFFIX",
    "unit_scale",
    "split_unit",
    "without_hint",
    "PERCENT",
    "split_percent",
    "known_header",
    "STATEMENT_COLUMNS",
    "STATEMENT_AMOUNTS",
    "INPUT_EXTRAS",
    "MONEY_INPUTS",
    "FOREIGN_CURRENCIES",
    "HOME_CURRENCY_WORDS",
    "FOREIGN_VALUE",
    "split_currency",
]

# The canonical input columns of every bundle table (DESIGN.md "Input bundle"), plus the
# optional extras the product accepts (do_not_contact, payee_bank, payer_bank).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "enterprises": ("enterprise_id", "name", "uscc", "industry", "region", "registered_capital",
                    "is_client", "is_credit_client", "branch_id", "manager_id", "parent_id",
                    "opened_on", "do_not_contact"),
    "persons": ("person_id", "name", "id_number", "phone", "is_retail_client", "aum", "aum_prev",
                "tier", "branch_id", "manager_id", "do_not_contact"),
    "roles": ("person_id", "enterprise_id", "role", "share_pct", "reported_on"),
    "associations": ("association_id", "name", "kind", "region"),
    "memberships": ("association_id", "member_id", "member_kind", "position"),
    "payments": ("payer_id", "payer_name", "payee_id", "payee_name", "payee_bank", "payer_bank", "amount", "paid_on"),
    "bills": ("bill_id", "drawer_id", "payee_id", "payee_name", "acceptor", "amount", "issued_on",
              "due_on", "discounted_by"),
    "endorsements": ("bill_id", "seq", "from_id", "from_name", "to_id", "to_name", "endorsed_on"),
    "payroll": ("employer_id", "person_id", "month", "amount"),
    "managers": ("manager_id", "name", "kind", "branch_id"),
    "branches": ("branch_id", "name"),
}

# An account statement's columns (流水), accepted in payments files: each row names the account
# holder, the other side (the counterparty) and which way the money went, by a flag (借贷标志) or
# by which of two amount columns it fills (借方发生额 / 贷方发生额). `ingest.statement` turns them
# into payer and payee; they are not stored.
STATEMENT_AMOUNTS = ("debit_amount", "credit_amount")
STATEMENT_COLUMNS = ("holder_id", "holder_name", "counterparty_id", "counterparty_name", "counterparty_bank",
                     "direction", *STATEMENT_AMOUNTS)

# Input columns beyond the stored ones: a mapping may name them, headers find them.
# `currency`: a payment's currency (币种); only yuan is read (FOREIGN_CURRENCIES below).
# `memo`: a payment's 摘要 or 用途, read only for the rows that are no payment between two parties
# (`values.MEMO_UNDONE`, `values.MEMO_BANK_CHARGE`); free text, never stored.
# `reference`: a payment's transaction reference (交易流水号), read only into its fact id
# (`ingest.load.fact_ids`): a payment exported again in another file keeps its id.
INPUT_EXTRAS: dict[str, tuple[str, ...]] = {"memberships": ("member_name",),
                                            "payments": (*STATEMENT_COLUMNS, "currency", "memo", "reference")}

# Required columns; a tuple inside means "one of these" (an id or a name).
REQUIRED: dict[str, tuple[str | tuple[str, ...], ...]] = {
    "enterprises": ("enterprise_id", "name"),
    "persons": ("person_id", "name"),
    "roles": ("person_id", "enterprise_id"),
    "associations": ("association_id", "name"),
    "memberships": ("association_id", "member_id"),
    "payments": (("payer_id", "payer_name"), ("payee_id", "payee_name"), "amount", "paid_on"),
    "bills": ("bill_id", "drawer_id", ("payee_id", "payee_name"), "amount", "issued_on"),
    "endorsements": ("bill_id", "seq", ("to_id", "to_name")),
    "payroll": ("employer_id", "person_id", "month", "amount"),
    "managers": ("manager_id", "name"),
    "branches": ("branch_id", "name"),
}

# Required on the merged table, not on each source: a second source may add flags, managers or
# branches to ids another source names; an id that no source (nor the store) names is rejected.
MERGED_REQUIRED: dict[str, tuple[str, ...]] = {
    "enterprises": ("name",), "persons": ("name",), "associations": ("name",), "managers": ("name",),
    "branches": ("name",),
}

# The money columns (CNY). Their plain numbers are in yuan unless a unit is named: in the value
# ('12.5万元'), else in the column's header ('金额(万元)', `split_unit`) or a mapping's `units:`.
AMOUNT_COLUMNS = ("registered_capital", "aum", "aum_prev", "amount")
# the columns whose header or mapping may state a unit: the money columns and a statement's two
MONEY_INPUTS = (*AMOUNT_COLUMNS, *STATEMENT_AMOUNTS)

# The units an amount may be written in (NFKC, lower case) → yuan per unit. The currency's own
# names are units of one: they say what the numbers are, not how large.
AMOUNT_UNITS: dict[str, int] = {
    "元": 1, "人民币元": 1, "千元": 1_000, "万元": 10_000, "万": 10_000, "人民币万元": 10_000,
    "百万元": 1_000_000, "亿元": 100_000_000, "亿": 100_000_000,
    "人民币": 1, "rmb": 1, "cny": 1, "yuan": 1, "¥": 1,
}
_UNITS_LONGEST_FIRST = sorted(AMOUNT_UNITS, key=len, reverse=True)
# a value's own unit at its end ('12.5万元', '3千元'), the longest word first (the currency's
# names are not units of a value: `ingest.normalise` removes them from values as noise)
VALUE_UNIT_SUFFIX = "(" + "|".join(u for u in _UNITS_LONGEST_FIRST if AMOUNT_UNITS[u] != 1 or u.endswith("元")) + ")$"


# Amounts are stored in yuan. A money column whose header names another currency ('Amount (USD)',
# '金额(万美元)') is not read as yuan (`split_currency`), nor is a row whose currency column
# (币种) names one; the home currency's names there, or a blank, are yuan.
FOREIGN_CURRENCIES: dict[str, str] = {
    "美元": "USD", "usd": "USD", "us$": "USD", "港币": "HKD", "港元": "HKD", "hkd": "HKD", "欧元": "EUR",
    "eur": "EUR", "英镑": "GBP", "gbp": "GBP", "日元": "JPY", "jpy": "JPY", "澳元": "AUD", "aud": "AUD",
    "加元": "CAD", "cad": "CAD", "新加坡元": "SGD", "sgd": "SGD", "瑞士法郎": "CHF", "chf": "CHF",
    "澳门元": "MOP", "mop": "MOP", "新台币": "TWD", "twd": "TWD", "卢布": "RUB", "rub": "RUB",
    "韩元": "KRW", "krw": "KRW", "泰铢": "THB", "thb": "THB",
}
# a value written in another currency ('$1,200', 'USD 1200', '1200美元', 'HK$300'): RE2, case-insensitive
FOREIGN_VALUE = "(?i)[$£€₩₽]|" + "|".join(re.escape(w) for w in FOREIGN_CURRENCIES)
HOME_CURRENCY_WORDS = frozenset({*(u for u, scale in AMOUNT_UNITS.items() if scale == 1), "156"})
# a header's currency may come with a scale ('金额(万美元)': ten thousand dollars)
_FOREIGN_WORDS = {scale + word: code for word, code in FOREIGN_CURRENCIES.items() for scale in ("", "百万", "千", "万", "亿")}
_FOREIGN_LONGEST_FIRST = sorted(_FOREIGN_WORDS, key=len, reverse=True)


def _ending(key: str, words: list[str]) -> tuple[str, str] | None:
    """(`key` without the first of `words` it ends with, and without a '单位' before that; the
    word), or None. A key that is nothing but the word is not split."""
    for word in words:
        if key.endswith(word) and len(key) > len(word):
            base = key[: -len(word)]
            return (base.removesuffix("单位") if len(base) > len("单位") else base), word
    return None


def split_currency(header: str) -> tuple[str, str | None]:
    """A header's lookup key without the foreign currency it ends with, and that currency's code:
    'Amount (USD)' → ('amount', 'USD'), '金额（万美元）' → ('金额', 'USD'); else (key, None)."""
    key = header_key(header)
    found = _ending(key, _FOREIGN_LONGEST_FIRST)
    return (found[0], _FOREIGN_WORDS[found[1]]) if found else (key, None)


def unit_scale(unit: str) -> int | None:
    """Yuan per `unit` ('万元' → 10000, 'CNY' → 1), or None for a word that is no unit."""
    return AMOUNT_UNITS.get(unicodedata.normalize("NFKC", str(unit)).strip().lower())


# The preferred Chinese header of each column (what a Chinese bank's export would say);
# the demo generator writes these, and they are aliases below as well.
ZH_HEADERS: dict[str, dict[str, str]] = {
    "enterprises": {
        "enterprise_id": "企业编号", "name": "企业名称", "uscc": "统一社会信用代码", "industry": "行业",
        "region": "地区", "registered_capital": "注册资本", "is_client": "是否我行客户",
        "is_credit_client": "是否授信客户", "branch_id": "网点编号", "manager_id": "客户经理编号",
        "parent_id": "母公司编号", "opened_on": "开户日期", "do_not_contact": "禁止营销",
    },
    "persons": {
        "person_id": "客户编号", "name": "姓名", "id_number": "身份证号", "phone": "手机号",
        "is_retail_client": "是否个人客户", "aum": "金融资产", "aum_prev": "上期金融资产",
        "tier": "客户层级", "branch_id": "网点编号", "manager_id": "客户经理编号",
        "do_not_contact": "禁止营销",
    },
    "roles": {"person_id": "人员编号", "enterprise_id": "企业编号", "role": "职务", "share_pct": "持股比例"},
    "associations": {"association_id": "协会编号", "name": "协会名称", "kind": "类型", "region": "地区"},
    "memberships": {"association_id": "协会编号", "member_id": "会员编号", "member_kind": "会员类型",
                    "position": "职务"},
    "payments": {"payer_id": "付款人编号", "payer_name": "付款人名称", "payee_id": "收款人编号",
                 "payee_name": "收款人名称", "payee_bank": "收款行", "payer_bank": "付款行", "amount": "金额",
                 "paid_on": "交易日期"},
    "bills": {"bill_id": "票据号", "drawer_id": "出票人编号", "payee_id": "收款人编号",
              "payee_name": "收款人名称", "acceptor": "承兑人", "amount": "票面金额", "issued_on": "出票日期",
              "due_on": "到期日", "discounted_by": "贴现行"},
    "endorsements": {"bill_id": "票据号", "seq": "背书序号", "from_id": "背书人编号", "from_name": "背书人名称",
                     "to_id": "被背书人编号", "to_name": "被背书人名称", "endorsed_on": "背书日期"},
    "payroll": {"employer_id": "代发单位编号", "person_id": "员工编号", "month": "代发月份", "amount": "代发金额"},
    "managers": {"manager_id": "客户经理编号", "name": "客户经理姓名", "kind": "条线", "branch_id": "网点编号"},
    "branches": {"branch_id": "网点编号", "name": "网点名称"},
}

# Aliases valid in every table (matched after `header_key` normalisation).
_COMMON: dict[str, str] = {
    "名称": "name", "姓名": "name", "企业名称": "name", "公司名称": "name", "单位名称": "name",
    "客户名称": "name", "户名": "name",
    "统一社会信用代码": "uscc", "社会信用代码": "uscc", "信用代码": "uscc",
    "行业": "industry", "所属行业": "industry", "地区": "region", "区域": "region", "所在地区": "region",
    "注册资本": "registered_capital",
    "网点": "branch_id", "支行": "branch_id", "网点编号": "branch_id", "支行编号": "branch_id",
    "所属网点": "branch_id", "所属支行": "branch_id", "机构号": "branch_id", "机构编号": "branch_id",
    "所属机构": "branch_id", "归属机构": "branch_id", "管户机构": "branch_id",
    "客户经理": "manager_id", "客户经理编号": "manager_id", "管户经理": "manager_id", "客户经理工号": "manager_id",
    "管户客户经理": "manager_id",
    "禁止营销": "do_not_contact", "勿扰": "do_not_contact", "不联系": "do_not_contact",
}

_PER_TABLE: dict[str, dict[str, str]] = {
    "enterprises": {
        "id": "enterprise_id", "企业编号": "enterprise_id", "企业代码": "enterprise_id", "客户编号": "enterprise_id",
        "客户号": "enterprise_id", "公司编号": "enterprise_id", "单位编号": "enterprise_id",
        "是否客户": "is_client", "是否我行客户": "is_client", "我行客户": "is_client",
        "是否授信客户": "is_credit_client", "授信客户": "is_credit_client", "是否授信": "is_credit_client",
        "母公司编号": "parent_id", "上级企业编号": "parent_id", "集团编号": "parent_id", "母公司": "parent_id",
        "开户日期": "opened_on", "成立日期": "opened_on", "行业分类": "industry", "注册资金": "registered_capital",
        "上级单位编号": "parent_id", "是否对公客户": "is_client",
    },
    "persons": {
        "id": "person_id", "客户编号": "person_id", "客户号": "person_id", "人员编号": "person_id",
        "个人编号": "person_id", "身份证号": "id_number", "身份证号码": "id_number", "证件号码": "id_number",
        "证件号": "id_number", "手机号": "phone", "手机号码": "phone", "联系电话": "phone", "电话": "phone",
        "是否个人客户": "is_retail_client", "是否零售客户": "is_retail_client", "零售客户": "is_retail_client",
        "金融资产": "aum", "管理资产规模": "aum", "aum": "aum", "资产": "aum",
        "上期金融资产": "aum_prev", "期初金融资产": "aum_prev", "上月金融资产": "aum_prev",
        "客户层级": "tier", "层级": "tier", "客户等级": "tier", "等级": "tier",
        "客户姓名": "name", "金融资产余额": "aum", "上月末金融资产": "aum_prev", "是否我行客户": "is_retail_client",
    },
    "roles": {
        "人员编号": "person_id", "个人编号": "person_id", "客户编号": "person_id", "企业编号": "enterprise_id",
        "公司编号": "enterprise_id", "企业客户号": "enterprise_id", "个人客户号": "person_id",
        "关联人客户号": "person_id", "关联关系": "role", "职务": "role", "角色": "role", "职位": "role", "身份": "role",
        "持股比例": "share_pct", "出资比例": "share_pct", "share": "share_pct", "股权比例": "share_pct",
        "持股占比": "share_pct", "认缴出资比例": "share_pct", "实缴出资比例": "share_pct", "股份比例": "share_pct",
        "share percentage": "share_pct", "ownership percentage": "share_pct",
        "title": "role", "officer title": "role", "relationship": "role", "头衔": "role", "任职": "role",
        "申报日期": "reported_on", "公告日期": "reported_on", "报告日期": "reported_on", "日期": "reported_on",
        "filing date": "reported_on", "date": "reported_on", "period of report": "reported_on",
    },
    "associations": {
        "id": "association_id", "协会编号": "association_id", "商会编号": "association_id",
        "组织编号": "association_id", "协会名称": "name", "商会名称": "name", "类型": "kind", "类别": "kind",
        "组织类型": "kind",
    },
    "memberships": {
        "协会编号": "association_id", "商会编号": "association_id", "会员编号": "member_id",
        "成员编号": "member_id", "企业编号": "member_id", "会员类型": "member_kind", "成员类型": "member_kind",
        "职务": "position", "会内职务": "position", "职位": "position",
    },
    "payments": {
        "付款人编号": "payer_id", "付款方编号": "payer_id", "付款人": "payer_name", "付款人名称": "payer_name",
        "付款方名称": "payer_name", "付款方": "payer_name", "付款人户名": "payer_name",
        "收款人编号": "payee_id", "收款方编号": "payee_id", "收款人": "payee_name", "收款人名称": "payee_name",
        "收款方名称": "payee_name", "收款方": "payee_name", "收款人户名": "payee_name",
        "付款户名": "payer_name", "付款单位": "payer_name", "付款单位名称": "payer_name", "付款方户名": "payer_name",
        "付款账户名称": "payer_name", "付款账户名": "payer_name", "付款人姓名": "payer_name",
        "收款户名": "payee_name", "收款单位": "payee_name", "收款单位名称": "payee_name", "收款方户名": "payee_name",
        "收款账户名称": "payee_name", "收款账户名": "payee_name", "收款人姓名": "payee_name",
        "收款行": "payee_bank", "收款银行": "payee_bank", "收款人开户行": "payee_bank", "收款行名称": "payee_bank",
        "收款方开户行": "payee_bank", "收款人开户行名称": "payee_bank", "收款人开户银行": "payee_bank",
        "收款方开户银行": "payee_bank", "付款行": "payer_bank", "付款银行": "payer_bank", "付款人开户行": "payer_bank",
        "付款行名称": "payer_bank", "付款方开户行": "payer_bank", "付款人开户行名称": "payer_bank",
        "付款人开户银行": "payer_bank", "付款方开户银行": "payer_bank", "付款方客户号": "payer_id", "付款人客户号": "payer_id",
        "收款方客户号": "payee_id", "收款人客户号": "payee_id",
        "金额": "amount", "交易金额": "amount", "付款金额": "amount", "发生额": "amount", "交易发生额": "amount",
        "折人民币金额": "amount", "折合人民币金额": "amount", "人民币金额": "amount", "折人民币": "amount",
        "币种": "currency", "币别": "currency", "货币": "currency", "币种代码": "currency", "货币代码": "currency",
        "交易币种": "currency", "ccy": "currency",
        "摘要": "memo", "交易摘要": "memo", "摘要说明": "memo", "用途": "memo", "交易用途": "memo", "资金用途": "memo",
        "款项用途": "memo", "附言": "memo", "交易附言": "memo", "汇款附言": "memo", "摘要/用途": "memo",
        "memo": "memo", "narrative": "memo", "purpose": "memo",
        # a transaction's reference: unique in the bank's books, not a row number (序号 is none)
        "流水号": "reference", "交易流水号": "reference", "交易流水": "reference", "业务流水号": "reference",
        "交易参考号": "reference", "交易编号": "reference", "核心流水号": "reference", "银行流水号": "reference",
        # (not a bare "reference": on many statements the payer's own free text, not the bank's serial)
        "transaction number": "reference", "transaction no": "reference", "transaction id": "reference",
        "txn id": "reference",
        "交易日期": "paid_on", "付款日期": "paid_on", "日期": "paid_on", "交易时间": "paid_on",
        "记账日期": "paid_on", "入账日期": "paid_on", "交易日": "paid_on",
        # an account statement (STATEMENT_COLUMNS); account numbers (账号, 对方账号) are no party's id
        "户名": "holder_name", "账户名称": "holder_name", "账户名": "holder_name", "本方户名": "holder_name",
        "本方账户名称": "holder_name", "本方名称": "holder_name", "本方客户号": "holder_id",
        "本方客户编号": "holder_id", "account name": "holder_name", "account holder": "holder_name",
        "对方户名": "counterparty_name", "对方账户名称": "counterparty_name", "对方账户名": "counterparty_name",
        "对方名称": "counterparty_name", "对方单位名称": "counterparty_name", "对方单位": "counterparty_name",
        "交易对手": "counterparty_name", "交易对手名称": "counterparty_name", "对手方名称": "counterparty_name",
        "对手方户名": "counterparty_name", "对方客户名称": "counterparty_name", "counterparty": "counterparty_name",
        "对方客户号": "counterparty_id", "对方客户编号": "counterparty_id",
        "对方行名": "counterparty_bank", "对方开户行": "counterparty_bank", "对方开户行名称": "counterparty_bank",
        "对方银行": "counterparty_bank", "对方开户银行": "counterparty_bank", "对方行名称": "counterparty_bank",
        "对手行名": "counterparty_bank", "对方账户开户行": "counterparty_bank",
        "借贷标志": "direction", "借贷标识": "direction", "借贷方向": "direction", "借贷": "direction",
        "借贷标记": "direction", "借贷方标志": "direction", "收支标志": "direction", "收支方向": "direction",
        "收支类型": "direction", "收/支": "direction", "收支": "direction", "交易方向": "direction",
        "资金方向": "direction", "收付标志": "direction", "收付方向": "direction", "dr/cr": "direction",
        "debit/credit": "direction",
        "借方发生额": "debit_amount", "借方金额": "debit_amount", "支出金额": "debit_amount", "支出": "debit_amount",
        "付出金额": "debit_amount", "借方": "debit_amount", "debit": "debit_amount", "withdrawal": "debit_amount",
        "贷方发生额": "credit_amount", "贷方金额": "credit_amount", "收入金额": "credit_amount",
        "收入": "credit_amount", "存入金额": "credit_amount", "贷方": "credit_amount", "credit": "credit_amount",
        "deposit": "credit_amount",
    },
    "bills": {
        "票据号": "bill_id", "票据号码": "bill_id", "汇票号码": "bill_id", "出票人编号": "drawer_id",
        "出票人": "drawer_id", "收款人编号": "payee_id", "收款人": "payee_name", "收款人名称": "payee_name",
        "承兑人": "acceptor", "承兑行": "acceptor", "票面金额": "amount", "金额": "amount", "出票金额": "amount",
        "出票日期": "issued_on", "到期日": "due_on", "到期日期": "due_on", "贴现行": "discounted_by",
        "贴现人": "discounted_by", "贴现机构": "discounted_by",
    },
    "endorsements": {
        "票据号": "bill_id", "票据号码": "bill_id", "汇票号码": "bill_id", "背书序号": "seq", "序号": "seq",
        "背书人编号": "from_id", "背书人": "from_name", "背书人名称": "from_name", "被背书人编号": "to_id",
        "被背书人": "to_name", "被背书人名称": "to_name", "背书日期": "endorsed_on",
    },
    "payroll": {
        "代发单位编号": "employer_id", "代发单位": "employer_id", "单位编号": "employer_id",
        "企业编号": "employer_id", "员工编号": "person_id", "人员编号": "person_id", "客户编号": "person_id",
        "代发单位客户号": "employer_id", "员工客户号": "person_id",
        "代发月份": "month", "月份": "month", "代发金额": "amount", "金额": "amount", "工资金额": "amount",
        "实发金额": "amount", "发放月份": "month", "工资月份": "month", "发放日期": "month", "代发日期": "month",
    },
    "managers": {
        "id": "manager_id", "客户经理编号": "manager_id", "工号": "manager_id", "员工号": "manager_id",
        "客户经理姓名": "name", "客户经理": "name", "条线": "kind", "类型": "kind", "岗位": "kind",
    },
    "branches": {"id": "branch_id", "网点编号": "branch_id", "网点名称": "name", "支行名称": "name",
                 "机构名称": "name"},
}


def header_key(header: str) -> str:
    """Normalise a header for lookup: NFKC (full-width → half), lower case, no spaces/punctuation."""
    text = unicodedata.normalize("NFKC", str(header)).strip().lower().lstrip("\ufeff")
    text = re.sub(r"[\s_\-\.:：()（）\[\]【】*]+", "", text)
    return text


def split_unit(header: str) -> tuple[str, str | None]:
    """A header's lookup key (`header_key`) without the amount unit it ends with, and that unit:
    '金额(万元)' → ('金额', '万元'), 'Amount (CNY)' → ('amount', 'cny'), '余额（单位：元）' → ('余额', '元').
    A header with no unit, or nothing but one, is its key and None."""
    key = header_key(header)
    found = None if key in AMOUNT_UNITS else _ending(key, _UNITS_LONGEST_FIRST)
    return found or (key, None)


# A share column's header may say its numbers are percent ('持股比例(%)', '出资比例％', 'Share %'):
# they are then read as percent whatever their size (`ingest.normalise.to_percent`)
PERCENT = "%"


def split_percent(header: str) -> tuple[str, bool]:
    """A header's lookup key without the % it ends with (half- or full-width, in brackets or not),
    and whether it had one: '持股比例（％）' → ('持股比例', True), 'Share %' → ('share', True). A
    header of nothing but % is not split."""
    key = header_key(header)
    return (key[: -len(PERCENT)], True) if key.endswith(PERCENT) and key != PERCENT else (key, False)


_HINT = re.compile(r"^(.*\S)\s*[(\[【]([^()\[\]【】]*)[)\]】]\s*$")


def without_hint(header: str) -> str | None:
    """A header without the note in brackets it ends with ('交易日期(YYYY-MM-DD)' → '交易日期',
    '企业名称（全称）' → '企业名称'), or None when it ends with none."""
    found = _HINT.match(unicodedata.normalize("NFKC", str(header)).strip())
    return found.group(1) if found else None


def _build() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for table, columns in TABLE_COLUMNS.items():
        mapping: dict[str, str] = {}
        for alias, col in _COMMON.items():
            if col in columns:
                mapping[header_key(alias)] = col
        for alias, col in _PER_TABLE.get(table, {}).items():
            mapping[header_key(alias)] = col
        for col, zh in ZH_HEADERS.get(table, {}).items():
            mapping[header_key(zh)] = col
        for col in (*columns, *INPUT_EXTRAS.get(table, ())):  # the canonical English names always win
            mapping[header_key(col)] = col
        out[table] = mapping
    return out


# table -> {normalised header: canonical column}
HEADER_ALIASES: dict[str, dict[str, str]] = _build()


def canonical_header(table: str, header: str) -> str | None:
    """The canonical column a header means in `table`, or None when unknown."""
    return HEADER_ALIASES.get(table, {}).get(header_key(header))


_KNOWN_KEYS = frozenset(key for mapping in HEADER_ALIASES.values() for key in mapping)


def known_header(header: str) -> bool:
    """True when a header names a column of some table, as it is, without its unit ('金额(万元)')
    or percent ('持股比例(%)') or without a note ('交易日期(YYYY-MM-DD)'): what tells a file's header row
    from a title above it."""
    bare = without_hint(header)
    return (split_unit(header)[0] in _KNOWN_KEYS or split_percent(header)[0] in _KNOWN_KEYS
            or (bare is not None and header_key(bare) in _KNOWN_KEYS))
