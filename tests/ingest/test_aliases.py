"""Header aliases (English and Chinese) and value aliases with compound titles."""

from __future__ import annotations

import pytest

from ingest.aliases import (
    HEADER_ALIASES,
    REQUIRED,
    TABLE_COLUMNS,
    ZH_HEADERS,
    canonical_header,
)
from ingest.values import canonical_value


@pytest.mark.parametrize(("table", "header", "column"), [
    ("enterprises", "企业编号", "enterprise_id"), ("enterprises", "企业名称", "name"),
    ("enterprises", "统一社会信用代码", "uscc"), ("enterprises", "客户经理", "manager_id"),
    ("enterprises", "网点", "branch_id"), ("enterprises", "支行", "branch_id"),
    ("payments", "付款人名称", "payer_name"), ("payments", "收款人名称", "payee_name"),
    ("payments", "金额", "amount"), ("payments", "交易日期", "paid_on"), ("payments", "收款行", "payee_bank"),
    ("payroll", "代发单位", "employer_id"), ("payroll", "代发金额", "amount"),
    ("persons", "身份证号", "id_number"), ("persons", "手机号", "phone"), ("persons", "姓名", "name"),
    ("persons", "\ufeff客户编号", "person_id"), ("enterprises", " Enterprise_ID ", "enterprise_id"),
    ("payments", "收款人名称（全称）", None),
])
def test_headers(table: str, header: str, column: str | None) -> None:
    assert canonical_header(table, header) == column


def test_every_canonical_column_and_preferred_chinese_header_is_an_alias() -> None:
    for table, columns in TABLE_COLUMNS.items():
        for col in columns:
            assert canonical_header(table, col) == col
        for col, zh in ZH_HEADERS.get(table, {}).items():
            assert canonical_header(table, zh) == col, (table, zh)
    assert set(REQUIRED) == set(TABLE_COLUMNS) == set(HEADER_ALIASES)


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("role", "董事", "director"), ("role", "董事长", "director"), ("role", "总经理", "executive"),
    ("role", "法定代表人", "legal_rep"), ("role", "法人", "legal_rep"), ("role", "股东", "shareholder"),
    ("role", "实际控制人", "actual_controller"), ("role", "财务负责人", "finance"), ("role", "监事", "executive"),
    ("role", "董事长/董事", "director"), ("role", "副董事长/执行董事", "director"),
    ("role", "总经理兼财务负责人", "executive"), ("role", "股东、法定代表人", "legal_rep"),
    ("role", "Director", "director"), ("role", "保安", None),
    ("position", "会长", "president"), ("position", "副会长", "vice_president"),
    ("position", "秘书长", "secretary_general"), ("position", "理事", "director"), ("position", "会员", "member"),
    ("position", "副会长/秘书长", "vice_president"),
    ("tier", "大众", "mass"), ("tier", "潜力", "potential"), ("tier", "贵宾", "vip"), ("tier", "私行", "private"),
    ("association_kind", "商会", "chamber_of_commerce"), ("association_kind", "商圈", "market"),
    ("member_kind", "个人", "person"), ("manager_kind", "对公", "corporate"),
])
def test_values(kind: str, value: str, expected: str | None) -> None:
    assert canonical_value(kind, value) == expected


def test_mapping_values_extend_and_override() -> None:
    assert canonical_value("role", "监事会主席", {"监事会主席": "finance"}) == "finance"
    assert canonical_value("position", "Platinum", {"Platinum": "director"}) == "director"
    assert canonical_value("position", "Platinum") is None
