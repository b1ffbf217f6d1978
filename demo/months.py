"""Monthly delta bundles for the demo: the payroll campaign and an outflow, told over time.

`write_month_bundles(main, out, months=2)` reads the demo bundle in `main` and writes one small
bundle per following month into `out/month-1`, `out/month-2`, ...: the supermarket's payroll of
that month, its staff with more assets kept at the bank (near-threshold staff passing CNY
50,000 month by month), five more pharmacy stores opened as clients, the market's merchants
paying their suppliers at other banks, and in the last month
more than ten clients of one branch falling to ~70% of their assets.
Each bundle still carries the enterprises file (until a delta bundle may leave it out).
Ingested after the main bundle, they make the tracked series rise (`leads.track`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from demo import cases as dc

__all__ = ["write_month_bundles", "OUTFLOW_BRANCH_CLIENTS"]

OUTFLOW_BRANCH_CLIENTS = 12  # clients of one branch falling in the last month: above the notice level (10)
_STAFF_GROWTH = (1.8, 3.0)  # staff assets kept at the bank, times the first month's level
_PAYROLL = ["代发单位编号", "员工编号", "代发月份", "代发金额"]
_PAYMENTS = ["付款人编号", "付款人名称", "收款人编号", "收款人名称", "收款行", "金额", "交易日期"]
_MERCHANT_PAY = 0.2  # a market merchant's monthly payments to its suppliers, times its registered capital
_PERSONS_ID, _AUM, _AUM_PREV, _BRANCH = "客户编号", "金融资产", "上期金融资产", "网点编号"


def write_month_bundles(main: Path, out: Path, months: int = 2) -> list[Path]:
    """Write `months` delta bundles following the demo bundle in `main`; returns their folders."""
    main, out = Path(main), Path(out)
    payroll = pd.read_csv(main / "payroll.csv", dtype=str, encoding="utf-8")
    persons = pd.read_csv(main / "persons.csv", dtype=str, encoding="gbk")
    enterprises = pd.read_csv(main / "enterprises.csv", dtype=str, encoding="utf-8")
    last = str(payroll[_PAYROLL[2]].max())
    base = payroll[payroll[_PAYROLL[2]] == last]
    staff = persons[persons[_PERSONS_ID].isin(base[_PAYROLL[1]])].copy()
    staff_aum = pd.to_numeric(staff[_AUM], errors="coerce").fillna(0.0)
    near = staff[_PERSONS_ID].isin(dc.NEAR_THRESHOLD_STAFF)
    aum = pd.to_numeric(persons[_AUM], errors="coerce").fillna(0.0)
    fallers = persons[(persons[_BRANCH] == dc.BRANCH_EAST) & (aum >= 20_000)
                      & ~persons[_PERSONS_ID].isin(base[_PAYROLL[1]])].head(OUTFLOW_BRANCH_CLIENTS)
    market = enterprises[enterprises["enterprise_id"].isin(dc.MARKET_CLIENT_MERCHANTS + dc.MARKET_PROSPECT_MERCHANTS)]
    capital = pd.to_numeric(market["registered_capital"], errors="coerce").fillna(0.0)
    merchants = pd.DataFrame({  # market merchants settle with suppliers at other banks
        _PAYMENTS[0]: market["enterprise_id"].to_numpy(), _PAYMENTS[1]: market["name"].to_numpy(),
        _PAYMENTS[2]: "", _PAYMENTS[3]: [f"义乌商贸供货{i % 7 + 1}号有限公司" for i in range(len(market))],
        _PAYMENTS[4]: ["中国农业银行" if i % 3 else "招商银行" for i in range(len(market))],
        _PAYMENTS[5]: (capital * _MERCHANT_PAY).round(2).to_numpy()})
    folders = []
    for k in range(1, months + 1):
        month = str(pd.Period(last, "M") + k)
        folder = out / f"month-{k}"
        folder.mkdir(parents=True, exist_ok=True)
        pay = base.assign(**{_PAYROLL[2]: month})
        pay.to_csv(folder / "payroll.csv", index=False, encoding="utf-8")
        grown = staff.copy()
        factor = _STAFF_GROWTH[min(k, len(_STAFF_GROWTH)) - 1]
        new_aum = staff_aum.where(near, staff_aum * factor)
        share = k / months  # near-threshold staff pass CNY 50,000 month by month
        passing = near & (near.cumsum() <= round(share * int(near.sum())))
        new_aum = new_aum.where(~passing, dc.THRESHOLD * 1.05)
        grown[_AUM_PREV] = grown[_AUM]
        grown[_AUM] = new_aum.round(2).map("{:.2f}".format)
        rows = [grown]
        stores = dc.PHARMACY_STORES[: 5 * k]
        ent = enterprises[enterprises["name"].notna()].copy()  # the main bundle's bad row stays there
        ent.loc[ent["enterprise_id"].isin(stores), "is_client"] = "是"
        if k == months and len(fallers):
            fell = fallers.copy()
            before = pd.to_numeric(fell[_AUM], errors="coerce")
            fell[_AUM_PREV] = fell[_AUM]
            fell[_AUM] = (before * 0.7).round(2).map("{:.2f}".format)
            rows.append(fell)
        pd.concat(rows).to_csv(folder / "persons.csv", index=False, encoding="gbk")
        merchants.assign(**{_PAYMENTS[6]: f"{month}-10"}).to_csv(folder / "payments.csv", index=False,
                                                                 encoding="utf-8-sig")
        ent.to_csv(folder / "enterprises.csv", index=False, encoding="utf-8")
        for name in ("branches.csv", "managers.csv"):
            shutil.copy(main / name, folder / name)
        folders.append(folder)
    return folders
