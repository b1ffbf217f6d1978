"""The demo bundle's flows: payments, acceptance bills, endorsements, payroll (and the staff).

Money moves over the window of `demo.cases` (payments over 14 months, payroll over
the last 12). Values are Python numbers and dates; `demo.bundle` formats them, messing
up a few rows on purpose.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from demo import cases as dc
from demo.ids import OTHER_BANKS, OWN_BANK, make_id_number, make_phone, person_name
from demo.nodes import Rows

__all__ = ["demo_flows", "months"]


def months(first: str, count: int) -> list[str]:
    """`count` consecutive months (YYYY-MM) from `first`."""
    year, month = (int(x) for x in first.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _day(rng: random.Random, month: str) -> dt.date:
    year, mon = (int(x) for x in month.split("-"))
    return dt.date(year, mon, rng.randint(1, 28))


class _Payments:
    """Collects payment rows; names come from the enterprise rows, ids may be dropped."""

    def __init__(self, rng: random.Random, names: dict[str, str]) -> None:
        self.rng = rng
        self.names = names
        self.rows: list[dict[str, Any]] = []

    def add(self, payer: str, payee: str, bank: str, amount: float, on: dt.date, payee_name: str | None = None) -> None:
        self.rows.append({
            "payer_id": payer, "payer_name": self.names[payer],
            "payee_id": "" if payee_name else payee, "payee_name": payee_name or self.names[payee],
            "payee_bank": bank, "amount": round(amount, 2), "paid_on": on,
        })

    def monthly(self, payer: str, payee: str, bank: str, base: float, window: list[str], per_month: tuple[int, int],
                variants: list[str] | None = None) -> None:
        for month in window:
            for _ in range(self.rng.randint(*per_month)):
                name = self.rng.choice(variants) if variants else None
                self.add(payer, payee, bank, base * self.rng.uniform(0.7, 1.3), _day(self.rng, month), name)


def _payments(rng: random.Random, names: dict[str, str], window: list[str]) -> list[dict[str, Any]]:
    pay = _Payments(rng, names)
    banks = {eid: OTHER_BANKS[i % len(OTHER_BANKS)] for i, eid in enumerate(dc.SUPPLIERS)}
    for eid in dc.SUPPLIERS:
        variants = dc.NAME_VARIANTS.get(eid)
        base = rng.choice((150_000, 250_000, 400_000, 600_000, 900_000))
        if eid in dc.STEADY_SUPPLIERS:
            pay.monthly(dc.CORE, eid, banks[eid], base, window, (1, 2), variants)
        elif eid in dc.IRREGULAR_SUPPLIERS:
            scattered = sorted(rng.sample(window, rng.randint(3, 6)))
            pay.monthly(dc.CORE, eid, banks[eid], base * 1.5, scattered, (1, 1), variants)
        else:  # the weak client: a client of ours that is paid at another bank, rarely
            for month in sorted(rng.sample(window, dc.WEAK_CLIENT_PAYMENTS)):
                pay.add(dc.CORE, eid, banks[eid], 80_000 * rng.uniform(0.8, 1.2), _day(rng, month),
                        rng.choice(variants or [names[eid]]))
    for month in sorted(rng.sample(window, dc.SUPPLIER_BRANCH_PAYMENTS)):
        pay.add(dc.CORE, dc.SUPPLIERS[10], banks[dc.SUPPLIERS[10]], 50_000 * rng.uniform(0.8, 1.2), _day(rng, month),
                dc.SUPPLIER_BRANCH_NAME)
    pay.monthly(dc.SUPPLIERS[0], dc.TIER2_SUPPLIERS[0], "中国工商银行", 120_000, window, (1, 1))
    pay.monthly(dc.SUPPLIERS[1], dc.TIER2_SUPPLIERS[1], "浦发银行", 90_000, sorted(rng.sample(window, 7)), (1, 1))
    for eid in dc.BUYERS:
        pay.monthly(eid, dc.CORE, OWN_BANK, rng.choice((300_000, 600_000, 1_200_000)), window, (1, 2))
    for month in window[::4]:
        pay.add(dc.CORE, dc.CORE_SUBSIDIARY, "中国银行", 2_000_000 * rng.uniform(0.8, 1.2), _day(rng, month))
    # the association's credit member buys from two fellow members now and then
    for eid in dc.ASSOC_PROSPECT_MEMBERS[1:3]:
        pay.monthly(dc.ASSOC_CREDIT_MEMBER, eid, "中国农业银行", 60_000, sorted(rng.sample(window, 4)), (1, 1))
    rows = sorted(pay.rows, key=lambda r: (r["paid_on"], r["payer_id"], r["payee_name"]))
    return rows


def _bills(rng: random.Random, window: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    bills: list[dict[str, Any]] = []
    endorsements: list[dict[str, Any]] = []

    def bill(payee: str, month: str, amount: float, discounted_by: str = "", payee_name: str = "") -> dict[str, Any]:
        issued = _day(rng, month)
        row = {"bill_id": f"BL2024{101 + len(bills):06d}", "drawer_id": dc.CORE,
               "payee_id": "" if payee_name else payee, "payee_name": payee_name, "acceptor": OWN_BANK,
               "amount": amount, "issued_on": issued, "due_on": issued + dt.timedelta(days=180),
               "discounted_by": discounted_by}
        bills.append(row)
        return row

    for month in (window[1], window[4], window[7]):  # the chain of 承贴联动: endorsed, then discounted elsewhere
        row = bill(dc.SUPPLIERS[0], month, rng.choice((500_000.0, 800_000.0, 1_000_000.0)), dc.DISCOUNT_BANK)
        endorsements.append({"bill_id": row["bill_id"], "seq": 1, "from_id": dc.SUPPLIERS[0], "from_name": "",
                             "to_id": dc.TIER2_ENDORSED, "to_name": "",
                             "endorsed_on": row["issued_on"] + dt.timedelta(days=rng.randint(10, 30))})
    for i, payee in enumerate(dc.SUPPLIERS[1:8] * 2):
        month = window[(3 * i + 2) % len(window)]
        bill(payee, month, rng.choice((200_000.0, 300_000.0, 500_000.0)), "兴业银行" if i % 5 == 4 else "")
    for month in (window[3], window[9]):  # a payee known by name only
        bill(dc.SUPPLIERS[8], month, 400_000.0, payee_name=dc.NAME_VARIANTS[dc.SUPPLIERS[8]][1])
    row = bill(dc.SUPPLIERS[2], window[6], 600_000.0, "宁波银行")  # two hops to firms known only by name
    first, second = dc.EXTERNAL_ENDORSEES
    on = row["issued_on"]
    endorsements.append({"bill_id": row["bill_id"], "seq": 1, "from_id": dc.SUPPLIERS[2], "from_name": "",
                         "to_id": "", "to_name": first, "endorsed_on": on + dt.timedelta(days=15)})
    endorsements.append({"bill_id": row["bill_id"], "seq": 2, "from_id": "", "from_name": first,
                         "to_id": "", "to_name": second, "endorsed_on": on + dt.timedelta(days=40)})
    return bills, endorsements


def _staff(rng: random.Random, pay_months: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    persons: list[dict[str, Any]] = []
    payroll: list[dict[str, Any]] = []
    near, above, short = set(dc.NEAR_THRESHOLD_STAFF), set(dc.ABOVE_THRESHOLD_STAFF), set(dc.SHORT_TENURE_STAFF)
    for pid in dc.SUPERMARKET_STAFF_IDS:
        base = rng.choice(range(int(dc.SUPERMARKET_PAY_MIN), 9001, 50))
        paid = pay_months[-rng.randint(2, 4):] if pid in short else pay_months
        total = 0.0
        for month in paid:
            amount = max(dc.SUPERMARKET_PAY_MIN, round(base * rng.uniform(0.95, 1.08), -1))
            payroll.append({"employer_id": dc.SUPERMARKET, "person_id": pid, "month": month, "amount": amount})
            total += amount
        if pid in near:
            aum, tier, manager = rng.uniform(35_000, 49_900), "潜力", dc.MGR_RETAIL_EAST
        elif pid in above:
            aum, tier, manager = rng.uniform(52_000, 150_000), "贵宾", dc.MGR_RETAIL_EAST
        else:  # the ~1.2% of payroll money that stays with the bank
            aum, tier, manager = total * dc.SUPERMARKET_RETENTION * rng.uniform(0.3, 1.7), "大众", ""
        persons.append({
            "person_id": pid, "name": person_name(rng), "id_number": make_id_number(rng, (1970, 2003)),
            "phone": make_phone(rng) if rng.random() > 0.01 else "", "is_retail_client": "是",
            "aum": round(aum, 2), "aum_prev": round(aum / rng.uniform(0.9, 1.15), 2), "tier": tier,
            "branch_id": dc.BRANCH_EAST, "manager_id": manager, "do_not_contact": "",
        })
    return persons, payroll


def demo_flows(rng: random.Random, nodes: Rows) -> Rows:
    """Payments, bills, endorsements, payroll and the payroll staff (persons), around `nodes`."""
    names = {r["enterprise_id"]: r["name"] for r in nodes["enterprises"]}
    window = months(dc.FIRST_MONTH, dc.PAYMENT_MONTHS)
    payments = _payments(rng, names, window)
    bills, endorsements = _bills(rng, window)
    staff, payroll = _staff(rng, months(dc.PAYROLL_FIRST_MONTH, dc.PAYROLL_MONTHS))
    return {"payments": payments, "bills": bills, "endorsements": endorsements, "payroll": payroll,
            "staff": staff}
