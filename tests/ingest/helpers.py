"""Shared data for ingest tests: small hand-made bundle contents and report readers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FIXTURES = Path(__file__).parents[1] / "fixtures"
REAL = FIXTURES / "real"

ENTERPRISES = """enterprise_id,name,uscc,is_client,is_credit_client,branch_id,manager_id,parent_id
E0001,华东精工机械制造有限公司,91350100M000100Y43,是,是,B01,M01,
E0002,华东精工机械（苏州）有限公司,,否,否,B01,,E0001
E0003,惠民连锁超市有限公司,,是,否,B02,M02,
"""
PAYMENTS_JAN = """付款人编号,收款人名称,金额,交易日期,收款行
E0001,华东精工机械(苏州)有限责任公司,"1,000.00",2024/01/05,工商银行
E0001,苏州新材料有限公司,2万元,20240106,
E0001,苏州新材料有限公司,2万元,20240106,
E0003,苏州新材料 有限公司,500,2024年01月20日,本行
"""
PAYMENTS_FEB = """付款人编号,收款人名称,金额,交易日期,收款行
E0001,苏州新材料有限公司,"3,000",2024-02-03,农业银行
"""


def rejects_of(report_dir: Path) -> pd.DataFrame:
    return pd.read_csv(report_dir / "rejects.csv", dtype=str, keep_default_na=False)
