"""Ids and numbers of the cases the demo bundle plants (DOMAIN.md's cases at small scale).

The generator (`ingest.generate`) builds the bundle around these; tests of every family
check that the planted cases come out where they should. Change them here, nowhere else.
"""

from __future__ import annotations

__all__ = [name for name in dir() if name.isupper()]

# Branches and managers
BRANCH_EAST = "B01"  # 城东支行
BRANCH_WEST = "B02"  # 城西支行
MGR_CORE = "M01"  # corporate manager of the core manufacturer, the supermarket and the pharmacy chain (B01)
MGR_ASSOC = "M02"  # corporate manager of the association's credit-client member (B02)
MGR_RETAIL_EAST = "M03"  # retail manager, B01
MGR_RETAIL_WEST = "M04"  # retail manager, B02

# 1. Supply chain around a core manufacturer (credit client)
CORE = "E0001"  # 华东精工机械制造有限公司, credit client of MGR_CORE
CORE_SUBSIDIARY = "E0002"  # parent_id = CORE, not a client (ecosystem: group)
SUPPLIERS = [f"E01{i:02d}" for i in range(1, 13)]  # tier-1 payees at other banks; some known only by name
SUPPLIER_NAME_ONLY = SUPPLIERS[8:]  # appear in payments by name variants only (no id)
TIER2_ENDORSED = "E0201"  # receives CORE's bill by endorsement from SUPPLIERS[0]; discounts it at another bank
TIER2_SUPPLIERS = ["E0202", "E0203"]  # paid by SUPPLIERS[0] and SUPPLIERS[1] (tier 2 through payments)
BUYERS = [f"E03{i:02d}" for i in range(1, 7)]  # pay CORE (downstream)
WEAK_CLIENT_SUPPLIER = "E0112"  # a supplier that is a client without credit and little activity: deepening

# 2. Insulation-materials association
ASSOC_INSULATION = "A001"  # 保温材料行业协会
ASSOC_CREDIT_MEMBER = "E0401"  # the one credit-client member (CNY 9m inclusive-finance loan), MGR_ASSOC
ASSOC_PROSPECT_MEMBERS = [f"E04{i:02d}" for i in range(11, 25)]  # 14 non-client members
SECRETARY_GENERAL = "P0001"  # 秘书长; a retail VIP of MGR_RETAIL_WEST
INTERLOCK_DIRECTOR = "P0002"  # director of ASSOC_CREDIT_MEMBER and of ASSOC_PROSPECT_MEMBERS[0]

# 3. Payroll: supermarket chain
SUPERMARKET = "E0501"  # 惠民连锁超市有限公司, payroll client of MGR_CORE
SUPERMARKET_STAFF = 2000
SUPERMARKET_PAY_MIN = 4000.0  # CNY per head per month, at least
SUPERMARKET_RETENTION = 0.012  # ~1.2% of payroll money stays
NEAR_THRESHOLD_STAFF = [f"P1{i:04d}" for i in range(1, 41)]  # financial assets 35k-49.9k: near CNY 50,000
THRESHOLD = 50_000.0

# 4. Ecosystem: pharmacy chain with stores
PHARMACY = "E0601"  # 康宁大药房连锁有限公司, client of MGR_CORE
PHARMACY_STORES = [f"E06{i:02d}" for i in range(11, 41)]  # 30 stores (…门店/…分店), not clients

# 5. Market cluster of merchants
MARKET = "A002"  # 小商品市场 (kind: market)
MARKET_CLIENT_MERCHANTS = ["E0801", "E0802"]
MARKET_PROSPECT_MERCHANTS = [f"E08{i:02d}" for i in range(11, 61)]  # 50 non-client merchants

# 3a/3c. Persons
CLIENT_EXECUTIVES = ["P0101", "P0102", "P0103", "P0104"]  # roles at CORE / SUPERMARKET; not retail clients
RETAIL_VIP_OWNERS = ["P0201", "P0202", "P0203"]  # VIP/private retail clients, actual controllers of:
VIP_COMPANIES = ["E0701", "E0702", "E0703"]  # non-client enterprises
OUTFLOW_QUERY = "P0301"  # assets fell to ~70% of the earlier level (<= 80%: query notice)
OUTFLOW_WARNING = "P0302"  # assets fell to ~40% (<= 50%: warning)
DO_NOT_CONTACT = "P0103"  # an executive marked do-not-contact: never listed
