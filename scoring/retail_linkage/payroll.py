"""Payroll staff as retail prospects (kind `payroll`) and the per-employer payroll summary.

DOMAIN.md's supermarket case: 2,000 payroll staff paid CNY 4,000+ a month kept only 1.2% of
their pay with the bank; the lever is to lift staff across CNY 50,000 of financial assets.
So staff just below the threshold, whose gap a few months of pay would close, rank first;
staff already above it are wealth-deepening clients and rank lower.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from graph.store import GraphStore
from graph.vocabulary import ASSET_THRESHOLD_EN, ASSET_THRESHOLD_ZH
from scoring.features import store_views
from scoring.frame import empty_frame, interleave
from scoring.retail_linkage.common import (
    Bar,
    ReasonSlot,
    as_of_month,
    best_rows,
    clean,
    clip01,
    connect,
    kind_frame,
    lists_for,
    month_label,
    opened,
    query,
    run,
    spread_evenly,
)
from scoring.retail_linkage.settings import RetailLinkageSettings
from scoring.templates import register

__all__ = ["employer_metrics", "employer_staff", "payroll_features", "payroll_prospects", "summarise_employers", "SUMMARY_COLUMNS",
           "METRIC_COLUMNS", "BRANCH_METRIC_COLUMNS", "BRANCH_PART_COLUMNS"]

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


# Payroll months as integers (year*12 + month-1); an unparseable month is NULL and left out.
_PAY_SQL = """
CREATE OR REPLACE TEMP VIEW pay AS
SELECT employer_id, person_id, coalesce(amount, 0.0) AS amount,
       try_cast(substr(month, 1, 4) AS INTEGER) * 12 + try_cast(substr(month, 6, 2) AS INTEGER) - 1 AS m
FROM payroll WHERE employer_id IS NOT NULL AND person_id IS NOT NULL
"""

# Per (employer, person) pair paid in the window (an unparseable month left out): pay and rows
# in the window, tenure from the first to the last month up to the window's end; then the
# person's facts (all staff: the employer summary counts everyone) and the employer's. One
# aggregation in DuckDB (20M-payment bundle, 24M payroll rows, one thread: 5 s; integer codes of
# the pairs in Arrow and numpy took 15 s). `fsum` is a compensated sum, as pandas' group sums
# that it replaced (equal to the last bit for 99.4% of the 2.2M pairs there, within 3e-11 for
# the rest). Pairs in id order: the order of the rows no longer matters.
_FEATURES_SQL = """
WITH f AS (
    SELECT employer_id, person_id, fsum(amount) FILTER (WHERE m >= $start) AS total,
           count(*) FILTER (WHERE m >= $start) AS months_paid, CAST(max(m) - min(m) + 1 AS BIGINT) AS tenure_months
    FROM pay WHERE m <= $end
    GROUP BY employer_id, person_id
    HAVING count(*) FILTER (WHERE m >= $start) > 0
)
SELECT f.employer_id, f.person_id, f.total, f.months_paid, f.tenure_months,
       p.name, coalesce(p.is_retail_client, false) AS is_retail_client, greatest(coalesce(p.aum, 0.0), 0.0) AS assets,
       lower(trim(p.tier)) AS tier, p.branch_id, p.manager_id,
       p.name IS NOT NULL AND NOT coalesce(p.do_not_contact, false) AS contactable,
       e.name AS employer_name, e.branch_id AS employer_branch, e.manager_id AS employer_manager_id,
       coalesce(e.is_client, false) AS employer_is_client
FROM f
LEFT JOIN persons p ON p.id = f.person_id
LEFT JOIN enterprises e ON e.id = f.employer_id
ORDER BY f.employer_id, f.person_id
"""


# Distinct payroll months per employer within the window (every row counts, whoever was paid).
_MONTHS_SQL = """
SELECT employer_id, count(DISTINCT month) AS months
FROM (SELECT employer_id, month,
             try_cast(substr(month, 1, 4) AS INTEGER) * 12 + try_cast(substr(month, 6, 2) AS INTEGER) - 1 AS m
      FROM payroll WHERE employer_id IS NOT NULL)
WHERE m BETWEEN $start AND $end
GROUP BY employer_id
"""


# The tracking snapshot's employer metrics in one aggregation: staff paid in the window, the
# contactable ones holding at least the threshold, and the window's pay and staff assets (the
# same rows and definitions as `summarise_employers`; tests/scoring compare the two); with
# $by_branch, per employer and branch of the staff ('' none: a person of no branch or not in the
# persons table), so a branch's viewer can be given its staff's figures only: then also the other
# additive parts of the summary (`BRANCH_PART_COLUMNS`: its means as sums, the months paid as a
# bit per month of the window, OR-ed over branches), so `scoped_summaries` adds up what a viewer sees.
_METRICS_SQL = """
WITH pairs AS (
    SELECT employer_id, person_id, sum(amount) FILTER (WHERE m >= $start) AS total,
           count(*) FILTER (WHERE m >= $start) AS months_paid, CAST(max(m) - min(m) + 1 AS BIGINT) AS tenure,
           bit_or(CASE WHEN m >= $start THEN CAST(1 AS UBIGINT) << CAST(m - $start AS UBIGINT)
                       ELSE CAST(0 AS UBIGINT) END) AS paid_months
    FROM pay WHERE m <= $end
    GROUP BY employer_id, person_id
    HAVING count(*) FILTER (WHERE m >= $start) > 0
), staff AS (
    SELECT f.*, greatest(coalesce(p.aum, 0.0), 0.0) AS assets, lower(trim(p.tier)) AS tier,
           coalesce(p.is_retail_client, false) AS is_retail_client,
           p.name IS NOT NULL AND NOT coalesce(p.do_not_contact, false) AS contactable,
           CASE WHEN $by_branch THEN coalesce(p.branch_id, '') ELSE '' END AS branch_id
    FROM pairs f LEFT JOIN persons p ON p.id = f.person_id
), counted AS (
    SELECT *, 1 + CAST(is_retail_client AND assets > 0 AS INTEGER)
              + CAST(coalesce(tier IN ('potential', 'vip', 'private'), false) AS INTEGER)
              + CAST(coalesce(tier IN ('vip', 'private'), false) AS INTEGER) AS products
    FROM staff
)
SELECT employer_id, branch_id, count(*) AS staff,
       count(*) FILTER (WHERE contactable AND assets >= $threshold) AS staff_above_threshold,
       sum(total) AS payroll_total_12m, sum(assets) AS retained_assets,
       count(*) FILTER (WHERE contactable AND assets < $threshold AND assets >= $near) AS staff_near_threshold,
       count(*) FILTER (WHERE contactable) AS staff_contactable, sum(months_paid) AS person_months,
       sum(products) AS products, count(*) FILTER (WHERE products >= 3) AS staff_3plus_products,
       sum(tenure) AS tenure_months, bit_or(paid_months) AS paid_months
FROM counted GROUP BY employer_id, branch_id
"""

METRIC_COLUMNS = ["employer_id", "staff", "staff_above_threshold", "retention_rate"]
#: per employer and staff branch: the counts, and retention's two sums (a ratio does not add up)
BRANCH_METRIC_COLUMNS = ["employer_id", "branch_id", "staff", "staff_above_threshold", "payroll_total_12m",
                         "retained_assets"]
#: per employer and staff branch, every additive part of the summary (`scoped_summaries`)
BRANCH_PART_COLUMNS = [*BRANCH_METRIC_COLUMNS, "staff_near_threshold", "staff_contactable", "person_months",
                       "products", "staff_3plus_products", "tenure_months", "paid_months"]

# One employer's staff paid in the window, as `summarise_employers` counts them (the payroll
# picture's figures): pay and rows in the window, assets, and whether each may be contacted.
# Reads that employer's payroll rows only (the filter reaches the Parquet scan through `pay`).
_EMPLOYER_STAFF_SQL = """
WITH f AS (
    SELECT person_id, fsum(amount) AS total, count(*) AS months_paid
    FROM pay WHERE employer_id = $employer AND m BETWEEN $start AND $end
    GROUP BY person_id
)
SELECT f.person_id, f.total, f.months_paid, greatest(coalesce(p.aum, 0.0), 0.0) AS assets,
       p.name IS NOT NULL AND NOT coalesce(p.do_not_contact, false) AS contactable
FROM f LEFT JOIN persons p ON p.id = f.person_id
ORDER BY f.person_id
"""


def _window(con: duckdb.DuckDBPyConnection, rs: RetailLinkageSettings, as_of: str | None
            ) -> tuple[int, int] | None:
    """The payroll window (first and last month index): ends at `as_of`, else the latest month."""
    run(con, _PAY_SQL)
    if as_of:
        end = as_of_month(as_of, pd.Series(dtype="Int64"))
    else:
        latest = run(con, "SELECT max(m) FROM pay")[0]
        end = None if latest is None or latest[0] is None else int(latest[0])
    return None if end is None else (end - rs.payroll.window_months + 1, end)


def payroll_features(store: GraphStore, rs: RetailLinkageSettings, as_of: str | None,
                     con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """One row per (employer, person) paid within the window, with pay, tenure and assets.

    Columns: employer_id, person_id, total, months_paid, avg_pay, tenure_months, assets,
    is_retail_client, tier, name, branch_id, manager_id, contactable, employer_name,
    employer_branch, employer_manager_id, employer_is_client, window_start, window_end,
    window_months. All staff are kept here (the employer summary counts everyone);
    `contactable` marks those who may be listed. One DuckDB query over the payroll facts, the
    persons and the employers (`_FEATURES_SQL`), in (employer, person) order.
    """
    con, owned = opened(store, con)
    try:
        return _features(con, rs, as_of)[0]
    finally:
        if owned:
            con.close()


def _features(con: duckdb.DuckDBPyConnection, rs: RetailLinkageSettings, as_of: str | None
              ) -> tuple[pd.DataFrame, tuple[int, int] | None]:
    window = _window(con, rs, as_of)
    if window is None:
        return pd.DataFrame(), None
    start, end = window
    feats = query(con, _FEATURES_SQL, {"start": start, "end": end})
    feats["avg_pay"] = feats["total"] / feats["months_paid"]
    feats["window_start"], feats["window_end"] = month_label(window[0]), month_label(window[1])
    feats["window_months"] = rs.payroll.window_months
    return feats, window


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


def payroll_prospects(store: GraphStore, rs: RetailLinkageSettings, as_of: str | None,
                      con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    """Kind `payroll`: one row per contactable employee (their main payroll employer)."""
    feats = payroll_features(store, rs, as_of, con)
    if feats.empty:
        return empty_frame()
    staff = _score_columns(feats[feats["contactable"]], rs)
    if staff.empty:
        return empty_frame()
    # one row per person: the employer paying the most in the window is the main one
    # (grouped by person as integer codes: the order of persons does not matter, only the order
    # within a person's rows; sorting a million person ids as text cost more than the rest)
    person = pd.factorize(staff["person_id"])[0]
    employer = pd.factorize(staff["employer_id"], sort=True)[0]
    staff = staff.iloc[np.lexsort((employer, -staff["total"].to_numpy(dtype="float64"), person))]
    main = ~staff["person_id"].duplicated(keep="first")
    rows = best_rows(staff[main], rs.payroll.max_rows, "person_id")
    others = staff[~main]  # in the same order: the other employers, biggest payroll first
    rows = rows.rename(columns={"person_id": "prospect_id"}).reset_index(drop=True)
    rows["other_employers"] = lists_for(rows["prospect_id"], others["person_id"], others["employer_id"])
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


def employer_staff(store: GraphStore, employer_id: str, rs: RetailLinkageSettings, as_of: str | None
                   ) -> tuple[pd.DataFrame, tuple[str, str] | None]:
    """One employer's staff paid in the payroll window, and the window (first and last month).

    Columns: person_id, total, months_paid, avg_pay, assets, contactable, near, above (near or
    above the threshold, and contactable): the rows and definitions of `summarise_employers`, so
    a picture of the employer shows its figures.
    """
    con = store_views(store, {"payroll": ("employer_id", "person_id", "amount", "month"),
                              "persons": ("id", "name", "aum", "do_not_contact")})
    try:
        # the window's end is the latest month of the whole payroll: found once per version
        window = store.remembered(("payroll-window", as_of, rs.payroll.window_months),
                                  lambda: _window(con, rs, as_of), lambda w: w)
        run(con, _PAY_SQL)
        if window is None:
            return pd.DataFrame(columns=["person_id", "total", "months_paid", "avg_pay", "assets", "contactable",
                                         "near", "above"]), None
        staff = query(con, _EMPLOYER_STAFF_SQL, {"employer": str(employer_id), "start": window[0], "end": window[1]})
    finally:
        con.close()
    staff["avg_pay"] = staff["total"] / staff["months_paid"].clip(lower=1)
    _contactable_bands(staff, rs)  # as `summarise_employers` counts them
    return staff, (month_label(window[0]), month_label(window[1]))


def _contactable_bands(staff: pd.DataFrame, rs: RetailLinkageSettings) -> None:
    """`near` and `above` on staff rows (`assets`, `contactable`): contactable staff near (from the
    near floor) or at and above the financial-assets threshold."""
    ok, threshold = staff["contactable"].astype(bool), rs.threshold
    staff["near"] = ok & (staff["assets"] < threshold) & (staff["assets"] >= rs.payroll.near_floor * threshold)
    staff["above"] = ok & (staff["assets"] >= threshold)


def summarise_employers(store: GraphStore, rs: RetailLinkageSettings, as_of: str | None) -> pd.DataFrame:
    """One row per payroll employer (代发单位) paid in the window, biggest payroll first.

    Employer facts (staff, pay, retention) count every employee paid in the window; the
    actionable counts (near / above the threshold, contactable) count only staff who may be
    contacted. `product_depth` is a proxy, as the store holds no product holdings: each
    employee counts 1 for the payroll card, +1 for holding financial assets with the bank,
    +1 for the potential tier or higher, +1 for VIP or private banking (so 1..4).
    """
    con, owned = opened(store, None)
    try:
        feats, window = _features(con, rs, as_of)
        if window is None or feats.empty:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in SUMMARY_COLUMNS})
        months = query(con, _MONTHS_SQL, {"start": window[0], "end": window[1]}).set_index("employer_id")["months"]
    finally:
        if owned:
            con.close()
    tier = feats["tier"].fillna("")
    feats["products"] = (1 + (feats["is_retail_client"] & (feats["assets"] > 0)).astype(int)
                         + tier.isin(["potential", "vip", "private"]).astype(int)
                         + tier.isin(["vip", "private"]).astype(int))
    feats["products_3plus"] = feats["products"] >= 3
    feats["retention"] = np.where(feats["avg_pay"] > 0, feats["assets"] / (12.0 * feats["avg_pay"]), 0.0)
    _contactable_bands(feats, rs)
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
        "staff_3plus_products": g["products_3plus"].sum().astype("int64"),
        "avg_tenure_months": g["tenure_months"].mean().round(1),
        "name": g["employer_name"].first(),
        "is_client": g["employer_is_client"].first(),
        "manager_id": g["employer_manager_id"].first(),
        "branch_id": g["employer_branch"].first(),
    })
    out["months"] = months
    out["avg_monthly_pay"] = (out["payroll_total_12m"] / out["person_months"]).round(2)
    out["retention_rate"] = np.where(out["payroll_total_12m"] > 0,
                                     out["retained_assets"] / out["payroll_total_12m"], 0.0).round(5)
    out = out.rename_axis("employer_id").reset_index()
    out["is_client"] = out["is_client"].fillna(False).astype(bool)
    for col in ("staff", "staff_near_threshold", "staff_above_threshold", "staff_contactable", "months"):
        out[col] = out[col].fillna(0).astype("int64")
    out = out.sort_values(["payroll_total_12m", "employer_id"], ascending=[False, True])
    return out[SUMMARY_COLUMNS].reset_index(drop=True)


def employer_metrics(store: GraphStore, rs: RetailLinkageSettings, as_of: str | None,
                     by_branch: bool = False) -> pd.DataFrame:
    """The employer columns the tracking snapshot keeps (`METRIC_COLUMNS`), as
    `summarise_employers` gives them (same employers, order and values), in one DuckDB
    aggregation: no per-pair frame in Python, so an ingest's tail stays cheap. `by_branch`: per
    employer and branch of its staff instead (`BRANCH_PART_COLUMNS`, by employer and branch),
    whose counts and sums add up to the employer's (`paid_months`: a bit per month of the window)."""
    columns = BRANCH_PART_COLUMNS if by_branch else METRIC_COLUMNS
    con = connect(store)
    try:
        window = _window(con, rs, as_of)
        if window is None:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        out = query(con, _METRICS_SQL, {"start": window[0], "end": window[1], "threshold": rs.threshold,
                                        "near": rs.payroll.near_floor * rs.threshold, "by_branch": by_branch})
    finally:
        con.close()
    if by_branch:
        for col in ("staff", "staff_above_threshold", "staff_near_threshold", "staff_contactable", "person_months",
                    "products", "staff_3plus_products", "tenure_months", "paid_months"):
            out[col] = out[col].astype("int64")
        return out.sort_values(["employer_id", "branch_id"])[columns].reset_index(drop=True)
    total = out["payroll_total_12m"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["retention_rate"] = np.where(total > 0, out["retained_assets"].to_numpy(dtype="float64") / total,
                                         0.0).round(5)
    for col in ("staff", "staff_above_threshold"):
        out[col] = out[col].astype("int64")
    out = out.sort_values(["payroll_total_12m", "employer_id"], ascending=[False, True])
    return out[METRIC_COLUMNS].reset_index(drop=True)
