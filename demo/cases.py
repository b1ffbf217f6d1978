"""Ids and numbers of the cases the demo bundle plants (DOMAIN.md's cases at small scale).

The generator (`demo.bundle`) builds the bundle around these; tests of every family
check that the planted cases come out where they should. Change them here, nowhere else.
docs/demo.md describes every case in words.
"""

from __future__ import annotations

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


# ------------------------------------------------------------------ added by the generator
MGR_MARKET = "M05"  # corporate manager of the market's client merchants (B02)
BRANCH_NAMES = {BRANCH_EAST: "城东支行", BRANCH_WEST: "城西支行"}

# Names of the planted enterprises and associations (the persons' names are drawn from the seed)
NAMES = {
    CORE: "华东精工机械制造有限公司",
    CORE_SUBSIDIARY: "华东精工（苏州）零部件有限公司",
    ASSOC_INSULATION: "保温材料行业协会",
    ASSOC_CREDIT_MEMBER: "宁波华盛保温材料有限公司",
    SUPERMARKET: "惠民连锁超市有限公司",
    PHARMACY: "康宁大药房连锁有限公司",
    MARKET: "小商品市场",
    TIER2_ENDORSED: "宁波永兴钢材贸易有限公司",
    WEAK_CLIENT_SUPPLIER: "杭州瑞丰轴承有限公司",
}
ASSOC_CREDIT_LOAN = 9_000_000.0  # the inclusive-finance loan of the credit member (DOMAIN.md), for reasons text

# The window of the flows: payments and bills over 14 months, payroll over the last 12
FIRST_MONTH = "2024-01"
PAYMENT_MONTHS = 14
PAYROLL_FIRST_MONTH = "2024-03"
PAYROLL_MONTHS = 12

# Supply chain patterns
STEADY_SUPPLIERS = SUPPLIERS[:6] + [SUPPLIERS[8], SUPPLIERS[10]]  # paid every month of the window
IRREGULAR_SUPPLIERS = [SUPPLIERS[6], SUPPLIERS[7], SUPPLIERS[9]]  # paid in a few scattered months
WEAK_CLIENT_PAYMENTS = 2  # CORE pays the weak client only twice
# The name variants the payments file uses for the suppliers it knows only by name
NAME_VARIANTS = {
    SUPPLIERS[8]: ["宁波（北仑）华泰模具有限公司", "宁波(北仑)华泰模具有限公司"],  # full/half-width brackets
    SUPPLIERS[9]: ["苏州恒达精密铸造有限责任公司", "苏州恒达精密铸造有限公司"],  # 有限责任公司 vs 有限公司
    SUPPLIERS[10]: ["上海 联航液压件  有限公司", "上海联航液压件有限公司"],  # extra spaces
    SUPPLIERS[11]: ["杭州瑞丰轴承 有限公司"],  # extra space
}
# A branch of SUPPLIERS[10], known by name only, that CORE pays twice: the resolver decides whether
# it is the supplier itself or a branch entity of its own (the ecosystem family ranks branches)
SUPPLIER_BRANCH_NAME = "上海联航液压件有限公司嘉定分公司"
SUPPLIER_BRANCH_PAYMENTS = 2
# Acceptance bills: CORE draws, the bank accepts; these bills go SUPPLIERS[0] -> TIER2_ENDORSED by
# endorsement and are discounted at DISCOUNT_BANK (承贴联动)
ENDORSED_BILLS = ["BL2024000101", "BL2024000102", "BL2024000103"]
DISCOUNT_BANK = "招商银行"
EXTERNAL_ENDORSEES = ["温州宏远五金贸易有限公司", "台州永盛金属材料有限公司"]  # known by name only (tier 2, 3)

# Payroll details
ABOVE_THRESHOLD_STAFF = [f"P1{i:04d}" for i in range(41, 53)]  # staff already above CNY 50,000
SHORT_TENURE_STAFF = [f"P1{i:04d}" for i in range(1995, 2001)]  # hired lately: 2-4 months of pay
SUPERMARKET_STAFF_IDS = [f"P1{i:04d}" for i in range(1, SUPERMARKET_STAFF + 1)]

# Ordinary retail clients (assets steady: never below 85% of the earlier level)
ORDINARY_RETAIL = [f"P04{i:02d}" for i in range(1, 61)]

# Files written in the messy way of real exports
GBK_FILE = "persons.csv"
CHINESE_HEADER_FILES = ["payments.csv", "persons.csv", "payroll.csv", "roles.csv", "memberships.csv", "managers.csv"]
# Rows planted to be rejected by ingest: (file, column, problem)
BAD_ROWS = [
    ("payments.csv", "paid_on", "unparseable date"),
    ("payments.csv", "amount", "negative amount"),
    ("payments.csv", "amount", "amount not a number"),
    ("payments.csv", "payee_name", "neither payee id nor payee name"),
    ("persons.csv", "id_number", "ID number with a wrong check character"),
    ("payroll.csv", "month", "unparseable month"),
    ("enterprises.csv", "name", "missing name"),
]
BAD_PERSON = "P0499"  # the person row whose ID number fails its check character
BAD_ENTERPRISE = "E0999"  # the enterprise row without a name

__all__ = [name for name in dir() if name.isupper()]
