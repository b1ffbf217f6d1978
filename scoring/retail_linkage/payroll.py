"""Payroll staff as retail prospects (kind `payroll`) and the per-employer payroll summary.

DOMAIN.md's supermarket case: 2,000 payroll staff paid CNY 4,000+ a month kept only 1.2% of
their pay with the bank; the lever is to lift staff across CNY 50,000 of financial assets.
So staff just below the threshold, whose gap a few months of pay would close, rank first;
staff already above it are wealth-deepening clients and rank lower.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.store import GraphStore
from graph.vocabulary import ASSET_THRESHOLD_EN, ASSET_THRESHOLD_ZH
from scoring.frame import empty_frame, interleave
from scoring.retail_linkage.common import (
    Bar,
    ReasonSlot,
    as_of_month,
    clean,
    clip01,
    kind_frame,
    lists_by,
    month_index,
    month_label,
    spread_evenly,
)
from scoring.retail_linkage.settings import RetailLinkageSettings
from scoring.templates import register

__all__ = ["payroll_features", "payroll_prospects", "summarise_employers", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = [
    "employer_id", "name", "is_client", "manager_id", "branch_id", "staff", "avg_monthly_pay",
    "payroll_total_12m", "retained_assets", "retention_rate", "median_retention", "staff_near_threshold",
    "staff_above_threshold", "staff_contactable", "product_depth", "staff_3plus_products",
    "months", "avg_tenure_months",
]

BARS = [
    Bar("assets_vs_threshold", f"financial assets against the {ASSET_THRESHOLD_EN} threshold",
        f"金融资产与{ASSET_THRESHOLD_ZH}门槛", "assets", "pts_assets"),
    Bar("gap_in_months_of_pay", "months of pay that close the gap to the threshold",
        "补足门槛所需月薪数", "gap_months", "pts_gap"),
    Bar("monthly_pay", "average monthly pay", "月均代发金额", "avg_pay", "pts_pay"),
    Bar("payroll_regularity", "months paid in the window", "近期发薪月数", "months_paid", "pts_regularity"),
    Bar("tenure", "months on the employer's payroll", "代发年限（月）", "tenure_months", "pts_tenure"),
]


def payroll_features(store: GraphStore, rs: RetailLinkageSettings, as_of: str | None) -> pd.DataFrame:
    """One row per (employer, person) paid within the window, with pay, tenure and assets.

    Columns: employer_id, person_id, total, months_paid, avg_pay, tenure_months, assets,
    is_retail_client, tier, name, branch_id, manager_id, contactable, window_start, window_end.
    All staff are kept here (the employer summary counts everyone); `contactable` marks those
    who may be listed.
    """
    pay = store.read("payroll").dropna(subset=["employer_id", "person_id"])
    idx = month_index(pay["month"])
    end = as_of_month(as_of, idx)
    if end is None:
        return pd.DataFrame()
    start = end - rs.payroll.window_months + 1
    upto = (idx <= end).fillna(False).to_numpy()
    hist = pd.DataFrame({"employer_id": pay["employer_id"].to_numpy()[upto],
                         "person_id": pay["person_id"].to_numpy()[upto],
                         "m": idx.to_numpy()[upto],
                         "amount": pay["amount"].fillna(0.0).to_numpy()[upto]})
    keys = ["employer_id", "person_id"]
    span = hist.groupby(keys, sort=False)["m"].agg(["min", "max"])
    recent = hist[hist["m"] >= start]
    # (employer, person, month) is the payroll table's key, so counting rows counts months
    win = recent.groupby(keys, sort=False)["amount"].agg(total="sum", months_paid="size")
    feats = win.join(span, how="left").reset_index()
    feats["avg_pay"] = feats["total"] / feats["months_paid"]
    feats["tenure_months"] = (feats["max"] - feats["min"] + 1).astype("int64")
    feats = feats.drop(columns=["min", "max"])
    persons = store.read("persons", ["id", "name", "is_retail_client", "aum", "tier", "branch_id",
                                     "manager_id", "do_not_contact"])
    feats = feats.merge(persons.rename(columns={"id": "person_id"}), on="person_id", how="left")
    feats["contactable"] = feats["name"].notna() & ~feats["do_not_contact"].fillna(False).astype(bool)
    feats["assets"] = feats["aum"].fillna(0.0).clip(lower=0.0)
    feats["is_retail_client"] = feats["is_retail_client"].fillna(False).astype(bool)
    feats["tier"] = feats["tier"].astype("string").str.strip().str.lower()
    feats["window_start"], feats["window_end"] = month_label(start), month_label(end)
    feats["window_months"] = rs.payroll.window_months
    return feats.drop(columns=["aum", "do_not_contact"])


def _score_columns(feats: pd.DataFrame, rs: RetailLinkageSettings) -> pd.DataFrame:
    ps, threshold = rs.payroll, rs.threshold
    f = feats.copy()
    assets = f["assets"].to_numpy()
    below = assets < threshold
    f["band"] = np.where(~below, "above", np.where(assets >= ps.near_floor * threshold, "near", "below"))
    f["pts_assets"] = np.where(below, ps.w_assets * (assets / threshold) ** ps.assets_power, ps.w_above)
    f["gap"] = np.clip(threshold - assets, 0.0, None)
    avg = f["avg_pay"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        gap_months = np.where(avg > 0, f["gap"].to_numpy() / avg, np.inf)
        f["retention"] = np.where(avg > 0, assets / (12.0 * avg), 0.0)
    f["gap_months"] = np.where(np.isfinite(gap_months), np.round(gap_months, 2), np.nan)
    closable = clip01((ps.gap_months_zero - gap_months) / (ps.gap_months_zero - ps.gap_months_full)).to_numpy()
    f["pts_gap"] = np.where(below, ps.w_gap * np.nan_to_num(closable), 0.0)
    f["pts_pay"] = ps.w_pay * clip01(avg / ps.pay_full_at).to_numpy()
    f["pts_regularity"] = ps.w_regularity * clip01(f["months_paid"].to_numpy() / ps.window_months).to_numpy()
    f["pts_tenure"] = ps.w_tenure * clip01(f["tenure_months"].to_numpy() / ps.tenure_full_months).to_numpy()
    f["score"] = f[[b.points_col for b in BARS]].sum(axis=1)
    return f


def payroll_prospects(store: GraphStore, rs: RetailLinkageSettings, as_of: str | None) -> pa.Table:
    """Kind `payroll`: one row per contactable employee (their main payroll employer)."""
    feats = payroll_features(store, rs, as_of)
    if feats.empty:
        return empty_frame()
    staff = _score_columns(feats[feats["contactable"]], rs)
    if staff.empty:
        return empty_frame()
    # one row per person: the employer paying the most in the window is the main one
    staff = staff.sort_values(["person_id", "total", "employer_id"], ascending=[True, False, True])
    rows = staff.drop_duplicates("person_id", keep="first")
    rows = rows.sort_values(["score", "person_id"], ascending=[False, True]).head(rs.payroll.max_rows)
    several = staff[staff["person_id"].duplicated(keep=False) & staff["person_id"].isin(rows["person_id"])]
    employers = lists_by(several["person_id"], several["employer_id"])
    rows["other_employers"] = [employers.get(str(p), [])[1:] for p in rows["person_id"]]

    ents = store.read("enterprises", ["id", "name", "branch_id", "manager_id"]).rename(columns={
        "id": "employer_id", "name": "employer_name", "branch_id": "employer_branch",
        "manager_id": "employer_manager_id"})
    rows = rows.merge(ents, on="employer_id", how="left")
    rows = rows.rename(columns={"person_id": "prospect_id"})
    rows["branch_id"] = rows["branch_id"].fillna(rows["employer_branch"])
    rows = _assign_managers(rows, store.read("managers"))
    return _frame(rows)


def _assign_managers(rows: pd.DataFrame, managers: pd.DataFrame) -> pd.DataFrame:
    """The person's own retail manager; else one of the branch's retail managers, dealt out
    evenly best-first; else the employer's (corporate) manager, who introduced the staff."""
    own = rows["manager_id"].astype("string")
    spread = spread_evenly(rows, "branch_id", managers, "retail")
    rows["manager_rule"] = np.where(own.notna(), "own_retail_manager",
                                    np.where(spread.notna(), "branch_retail_manager",
                                             "employer_manager"))
    rows["manager_id"] = own.fillna(spread).fillna(rows["employer_manager_id"].astype("string"))
    return rows


register({
    "retail.payroll.paid": (
        "Paid {avg_pay:money_en} a month through {employer}'s payroll in {months_paid:.0f} of the last "
        "{window_months:.0f} months ({tenure_months:.0f} months on the payroll).",
        "{employer}代发工资月均{avg_pay:,.0f}元，近{window_months:.0f}个月发薪{months_paid:.0f}个月，"
        "累计代发{tenure_months:.0f}个月。"),
    "retail.payroll.above": (
        "Already holds {assets:money_en} of financial assets, above the threshold: deepen with wealth products.",
        "金融资产{assets:money_zh}，已达" + ASSET_THRESHOLD_ZH + "门槛，可深耕理财。"),
    "retail.payroll.gap_months": (
        "Financial assets {assets:money_en}: {gap:money_en} short of the " + ASSET_THRESHOLD_EN + " threshold "
        "(about {gap_months:.1f} months of pay).",
        "金融资产{assets:money_zh}，距" + ASSET_THRESHOLD_ZH + "门槛还差{gap:money_zh}（约{gap_months:.1f}个月工资）。"),
    "retail.payroll.gap": (
        "Financial assets {assets:money_en}: {gap:money_en} short of the " + ASSET_THRESHOLD_EN + " threshold.",
        "金融资产{assets:money_zh}，距" + ASSET_THRESHOLD_ZH + "门槛还差{gap:money_zh}。"),
    "retail.payroll.retention": ("Keeps {retention:.1%} of a year's pay with the bank.", "留存资金约为年薪的{retention:.1%}。"),
})


def _frame(rows: pd.DataFrame) -> pa.Table:
    rows = rows.reset_index(drop=True)
    above = rows["band"] == "above"
    rows["employer"] = clean(rows["employer_name"]).fillna(rows["employer_id"].astype("string"))
    rows["is_above"] = above
    rows["is_gap_months"] = ~above & rows["gap_months"].notna()
    rows["is_gap"] = ~above & rows["gap_months"].isna()
    rows["is_vip_above"] = above & rows["tier"].isin(["vip", "private"])
    rows["not_vip_above"] = ~rows["is_vip_above"]
    rows["not_above"] = ~above
    rows["is_near"] = rows["band"] == "near"
    money = ("assets", "gap")
    reasons = [
        ReasonSlot("retail.payroll.paid", {k: k for k in ("employer", "avg_pay", "months_paid", "window_months",
                                                         "tenure_months")}),
        ReasonSlot("retail.payroll.above", {"assets": "assets"}, when="is_above"),
        ReasonSlot("retail.payroll.gap_months", {**{k: k for k in money}, "gap_months": "gap_months"},
                   when="is_gap_months"),
        ReasonSlot("retail.payroll.gap", {k: k for k in money}, when="is_gap"),
        ReasonSlot("retail.payroll.retention", {"retention": "retention"}),
    ]
    products = [("wealth_products", "is_above"), ("private_banking", "is_vip_above"),
                ("payroll_card_upgrade", "not_above"), ("deposit_upgrade", "not_vip_above"),
                ("wealth_products", "is_near")]
    window = interleave([(None, pa.array(rows["window_start"].astype("string"), pa.string())),
                         (None, pa.array(rows["window_end"].astype("string"), pa.string()))], len(rows))
    details = {
        "employer_id": rows["employer_id"].astype("string"), "employer_name": clean(rows["employer_name"]),
        "employer_manager_id": clean(rows["employer_manager_id"]), "manager_rule": rows["manager_rule"],
        "band": rows["band"], "avg_monthly_pay": rows["avg_pay"].astype("float64").round(2),
        "months_paid": rows["months_paid"].astype("int64"), "tenure_months": rows["tenure_months"].astype("int64"),
        "financial_assets": rows["assets"].astype("float64").round(2),
        "retention": rows["retention"].astype("float64").round(4),
        "gap_to_threshold": rows["gap"].astype("float64").round(2),
        "is_retail_client": rows["is_retail_client"].astype(bool), "tier": clean(rows["tier"]),
        "other_employers": rows["other_employers"], "window": window,
    }
    return kind_frame(rows, "payroll", BARS, reasons, products,
                      ["employer_manager_id", "employer_id", "prospect_id"], details)


def summarise_employers(store: GraphStore, rs: RetailLinkageSettings, as_of: str | None) -> pd.DataFrame:
    """One row per payroll employer (代发单位) paid in the window, biggest payroll first.

    Employer facts (staff, pay, retention) count every employee paid in the window; the
    actionable counts (near / above the threshold, contactable) count only staff who may be
    contacted. `product_depth` is a proxy, as the store holds no product holdings: each
    employee counts 1 for the payroll card, +1 for holding financial assets with the bank,
    +1 for the potential tier or higher, +1 for VIP or private banking (so 1..4).
    """
    feats = payroll_features(store, rs, as_of)
    if feats.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in SUMMARY_COLUMNS})
    threshold = rs.threshold
    tier = feats["tier"].fillna("")
    feats["products"] = (1 + (feats["is_retail_client"] & (feats["assets"] > 0)).astype(int)
                         + tier.isin(["potential", "vip", "private"]).astype(int)
                         + tier.isin(["vip", "private"]).astype(int))
    ok = feats["contactable"]
    feats["retention"] = np.where(feats["avg_pay"] > 0, feats["assets"] / (12.0 * feats["avg_pay"]), 0.0)
    feats["near"] = ok & (feats["assets"] < threshold) & (feats["assets"] >= rs.payroll.near_floor * threshold)
    feats["above"] = ok & (feats["assets"] >= threshold)
    g = feats.groupby("employer_id", sort=False)
    out = pd.DataFrame({
        "staff": g["person_id"].nunique(),
        "payroll_total_12m": g["total"].sum(),
        "person_months": g["months_paid"].sum(),
        "retained_assets": g["assets"].sum(),
        "staff_near_threshold": g["near"].sum(),
        "staff_above_threshold": g["above"].sum(),
        "staff_contactable": g["contactable"].sum(),
        "median_retention": g["retention"].median().round(5),
        "product_depth": g["products"].mean().round(3),
        "staff_3plus_products": g["products"].apply(lambda s: int((s >= 3).sum())),
        "avg_tenure_months": g["tenure_months"].mean().round(1),
    })
    pay = store.read("payroll", ["employer_id", "month"])
    midx = month_index(pay["month"])
    start, end = (int(month_index(pd.Series([feats[c].iloc[0]])).iloc[0]) for c in ("window_start", "window_end"))
    in_window = ((midx >= start) & (midx <= end)).fillna(False).to_numpy()
    out["months"] = pay[in_window].groupby("employer_id")["month"].nunique()
    out["avg_monthly_pay"] = (out["payroll_total_12m"] / out["person_months"]).round(2)
    out["retention_rate"] = np.where(out["payroll_total_12m"] > 0,
                                     out["retained_assets"] / out["payroll_total_12m"], 0.0).round(5)
    out = out.reset_index()
    ents = store.read("enterprises", ["id", "name", "is_client", "manager_id", "branch_id"])
    out = out.merge(ents.rename(columns={"id": "employer_id"}), on="employer_id", how="left")
    out["is_client"] = out["is_client"].fillna(False).astype(bool)
    for col in ("staff", "staff_near_threshold", "staff_above_threshold", "staff_contactable", "months"):
        out[col] = out[col].fillna(0).astype("int64")
    out = out.sort_values(["payroll_total_12m", "employer_id"], ascending=[False, True])
    return out[SUMMARY_COLUMNS].reset_index(drop=True)
