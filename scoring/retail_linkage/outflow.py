"""Outflow alerts (防流失), kind `outflow`.

- Retail clients whose financial assets fell to `query_ratio` (80%) or less of their earlier
  level get a query notice; to `warning_ratio` (50%) or less, a warning.
- Corporate clients whose payments to payees at other banks (流向他行) grew by `growth_query`
  (×1.5) or more over the last `recent_months` against the months before: a query notice,
  a warning from `growth_warning` (×2). The biggest other-bank payees are listed as leads.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from graph.store import GraphStore
from graph.vocabulary import OWN_BANK_NAMES
from scoring.frame import empty_frame
from scoring.retail_linkage.common import (
    Bar,
    ReasonSlot,
    arrow,
    as_of_month,
    clean,
    clip01,
    first_of,
    kind_frame,
    list_lengths,
    lists_for,
    log_scaled_series,
    month_label,
    opened,
    query,
    register_ids,
    run,
    spread_evenly,
)
from scoring.retail_linkage.settings import RetailLinkageSettings
from scoring.templates import register

__all__ = ["retail_outflow_prospects", "corporate_outflow_prospects"]

RETAIL_BARS = [
    Bar("alert_level", "alert level (query notice or warning)", "预警级别（提示或预警）", "level", "pts_level"),
    Bar("asset_fall", "share of financial assets gone", "金融资产下降比例", "fall", "pts_fall"),
    Bar("assets_lost", "financial assets lost (CNY)", "流失金额（元）", "lost", "pts_lost"),
    Bar("client_tier", "tier of the client", "客户等级", "tier", "pts_tier"),
]
CORPORATE_BARS = [
    Bar("alert_level", "alert level (query notice or warning)", "预警级别（提示或预警）", "level", "pts_level"),
    Bar("other_bank_growth", "growth of payments to other banks", "流向他行资金增幅", "growth", "pts_growth"),
    Bar("other_bank_amount", "recent payments to other banks (CNY)", "近期流向他行金额（元）", "recent",
        "pts_other_bank"),
    Bar("other_bank_share", "share of recent payments going to other banks", "流向他行占比", "share",
        "pts_share"),
]
register({
    "retail.outflow.warning": ("Warning: financial assets fell to {ratio:.0%} of the earlier level.",
                               "预警：金融资产降至前期的{ratio:.0%}。"),
    "retail.outflow.query": ("Query notice: financial assets fell to {ratio:.0%} of the earlier level.",
                             "提示：金融资产降至前期的{ratio:.0%}。"),
    "retail.outflow.lost": ("{lost:money_en} left ({aum_prev:money_en} → {aum:money_en}); {tier:tier_en} client.",
                            "流失{lost:money_zh}（{aum_prev:money_zh} → {aum:money_zh}），{tier:tier_zh}客户。"),
    "retail.outflow.linked": (
        "Holds roles in enterprises: the money may serve a business need — ask about its counterparties.",
        "该客户在企业任职，资金或用于经营，可了解其交易对手。"),
    "retail.outflow.corp_warning": (
        "Warning: payments to other banks grew ×{growth:.1f} to {recent:money_en} in {window}.",
        "预警：{window}流向他行资金增长至{growth:.1f}倍，达{recent:money_zh}。"),
    "retail.outflow.corp_query": (
        "Query notice: payments to other banks grew ×{growth:.1f} to {recent:money_en} in {window}.",
        "提示：{window}流向他行资金增长至{growth:.1f}倍，达{recent:money_zh}。"),
    "retail.outflow.corp_share": ("{share:.0%} of its recent payments go to other banks; their payees are leads.",
                                  "近期{share:.0%}的付款流向他行，收款方可作为营销线索。"),
})
_OWN_BANK_WORDS = set(OWN_BANK_NAMES)


# Enterprises a person holds a role in (other than employee), for the linked-enterprise hint.
_LINKED_SQL = """
SELECT DISTINCT person_id, enterprise_id FROM holds_role
WHERE role <> 'employee' AND person_id IN (SELECT id FROM listed)
ORDER BY person_id, enterprise_id
"""


def retail_outflow_prospects(store: GraphStore, rs: RetailLinkageSettings,
                             con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    os_ = rs.outflow
    con, owned = opened(store, con)
    try:
        p = query(con, "SELECT * FROM people WHERE is_retail_client AND coalesce(aum_prev, 0.0) >= $floor",
                  {"floor": max(os_.min_prev_aum, 1e-9)})
        p["ratio"] = p["aum"].clip(lower=0.0) / p["aum_prev"]
        p = p[p["ratio"] <= os_.query_ratio].copy()
        if p.empty:
            return empty_frame()
        warning = (p["ratio"] <= os_.warning_ratio).to_numpy()
        p["level"] = np.where(warning, "warning", "query")
        p["fall"] = (1.0 - p["ratio"]).round(4)
        p["lost"] = p["aum_prev"] - p["aum"].clip(lower=0.0)
        p["pts_level"] = np.where(warning, os_.w_level_warning, os_.w_level_query)
        p["pts_fall"] = os_.w_fall * clip01(p["fall"]).to_numpy()
        p["pts_lost"] = os_.w_lost * log_scaled_series(p["lost"], os_.lost_full_at)
        p["pts_tier"] = os_.w_tier * p["tier"].map(os_.tier_weight).astype("float64").fillna(0.0)
        p["score"] = p[[b.points_col for b in RETAIL_BARS]].sum(axis=1)
        rows = p.sort_values(["score", "id"], ascending=[False, True]).head(os_.max_rows)
        rows = rows.rename(columns={"id": "prospect_id"}).reset_index(drop=True)
        register_ids(con, "listed", rows["prospect_id"])
        linked = arrow(con, _LINKED_SQL)
    finally:
        if owned:
            con.close()
    rows["linked_enterprises"] = lists_for(rows["prospect_id"], linked["person_id"], linked["enterprise_id"])
    own = rows["manager_id"].astype("string")
    rows["manager_id"] = own.fillna(spread_evenly(rows, "branch_id", store.read("managers"), "retail"))
    return _retail_frame(rows)


def _retail_frame(rows: pd.DataFrame) -> pa.Table:
    rows = rows.reset_index(drop=True)
    rows["warning"] = rows["level"] == "warning"
    rows["query"] = ~rows["warning"]
    rows["linked"] = list_lengths(rows["linked_enterprises"]) > 0
    rows["rich"] = rows["tier"].isin(["vip", "private"])
    reasons = [
        ReasonSlot("retail.outflow.warning", {"ratio": "ratio"}, when="warning"),
        ReasonSlot("retail.outflow.query", {"ratio": "ratio"}, when="query"),
        ReasonSlot("retail.outflow.lost", {k: k for k in ("lost", "aum_prev", "aum", "tier")}),
        ReasonSlot("retail.outflow.linked", when="linked"),
    ]
    details = {"subject": "retail", "level": rows["level"], "ratio": rows["ratio"].astype("float64").round(4),
               "aum": rows["aum"].astype("float64").round(2), "aum_prev": rows["aum_prev"].astype("float64").round(2),
               "tier": clean(rows["tier"]), "linked_enterprises": rows["linked_enterprises"]}
    return kind_frame(rows, "outflow", RETAIL_BARS, reasons,
                      [("retention_call", None), ("wealth_products", None), ("private_banking", "rich"),
                       ("corporate_account", "linked")], ["manager_id", "prospect_id"], details)


# ---------------------------------------------------------------- corporate
# The payments of corporate clients (not do-not-contact), each with its month as an integer
# (year*12 + month-1; `paid_on`'s month where `month` is missing) and whether the payee banks
# elsewhere: a non-empty `payee_bank` that is not one of the bank's own names. The window's end,
# the sums per client and the listed clients' payees are aggregated from it in DuckDB (20M
# payments, one thread: 12 s when the rows came to Arrow and were summed over integer codes).
_CLIENT_PAYS_SQL = """
CREATE OR REPLACE TEMP VIEW client_pays AS
SELECT payer, payee, amount,
       try_cast(substr(ym, 1, 4) AS INTEGER) * 12 + try_cast(substr(ym, 6, 2) AS INTEGER) - 1 AS m,
       coalesce(bank <> '' AND bank NOT IN (SELECT name FROM own_banks), false) AS other
FROM (SELECT payer_id AS payer, payee_id AS payee, coalesce(amount, 0.0) AS amount,
             coalesce(month, strftime(paid_on, '%Y-%m')) AS ym, trim(payee_bank) AS bank
      FROM payments
      WHERE payer_id IN (SELECT id FROM enterprises
                         WHERE coalesce(is_client, false) AND NOT coalesce(do_not_contact, false)))
"""

# Per client: other-bank payments in the recent months and in the months before, and all its
# payments in the recent months (compensated sums); only clients with a recent other-bank payment.
_CLIENT_SUMS_SQL = """
WITH p AS (SELECT *, m > $end - $n AND m <= $end AS recent, m > $end - 2 * $n AND m <= $end - $n AS before
           FROM client_pays)
SELECT payer AS prospect_id, fsum(amount) FILTER (WHERE recent AND other) AS recent,
       coalesce(fsum(amount) FILTER (WHERE before AND other), 0.0) AS before,
       fsum(amount) FILTER (WHERE recent) AS recent_all
FROM p GROUP BY payer HAVING count(*) FILTER (WHERE recent AND other) > 0
ORDER BY payer
"""

# The listed clients' other-bank payees in the recent months, biggest first (ties by id).
_TOP_PAYEES_SQL = """
SELECT payer, payee, fsum(amount) AS amount
FROM client_pays
WHERE payer IN (SELECT id FROM listed) AND other AND m > $end - $n AND m <= $end
GROUP BY payer, payee
ORDER BY payer, amount DESC, payee
"""

_NAMES_SQL = """
SELECT r.prospect_id, e.name, e.branch_id, e.manager_id
FROM r LEFT JOIN enterprises e ON e.id = r.prospect_id ORDER BY r.seq
"""


def corporate_outflow_prospects(store: GraphStore, rs: RetailLinkageSettings, as_of: str | None,
                                con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    os_ = rs.outflow
    own = sorted({w.strip() for w in os_.own_bank_names} | _OWN_BANK_WORDS)
    con, owned = opened(store, con)
    try:
        con.register("own_banks", pa.table({"name": pa.array(own, pa.string())}))
        run(con, _CLIENT_PAYS_SQL)
        end = as_of_month(as_of, pd.Series(dtype="float64")) if as_of else \
            run(con, "SELECT max(m) FROM client_pays")[0][0]
        if end is None:
            return empty_frame()
        n = os_.recent_months
        window = {"end": int(end), "n": n}
        rows = query(con, _CLIENT_SUMS_SQL, window)
        rows = rows[(rows["recent"] >= max(os_.min_recent_other_bank, 1e-9)).to_numpy()].reset_index(drop=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = np.where(rows["before"] > 0, rows["recent"] / rows["before"], os_.growth_full)
        rows["growth"] = np.round(growth, 3)
        rows = rows[rows["growth"] >= os_.growth_query].copy()
        if rows.empty:
            return empty_frame()
        rows["share"] = (rows["recent"] / rows["recent_all"]).clip(upper=1.0).round(4)
        warning = (rows["growth"] >= os_.growth_warning).to_numpy()
        rows["level"] = np.where(warning, "warning", "query")
        rows["pts_level"] = np.where(warning, os_.w_level_warning, os_.w_level_query)
        rows["pts_growth"] = os_.w_growth * clip01((rows["growth"] - 1.0) / (os_.growth_full - 1.0)).to_numpy()
        rows["pts_other_bank"] = os_.w_other_bank * log_scaled_series(rows["recent"], os_.other_bank_full_at)
        rows["pts_share"] = os_.w_share * rows["share"]
        rows["score"] = rows[[b.points_col for b in CORPORATE_BARS]].sum(axis=1)
        rows = rows.sort_values(["score", "prospect_id"], ascending=[False, True]).head(os_.max_rows)
        rows = rows.reset_index(drop=True)
        con.register("r", pa.table({"seq": pa.array(np.arange(len(rows))),
                                    "prospect_id": pa.array(rows["prospect_id"], pa.string())}))
        names = query(con, _NAMES_SQL)
        register_ids(con, "listed", rows["prospect_id"])
        leads = arrow(con, _TOP_PAYEES_SQL, window)
    finally:
        if owned:
            con.close()
    for col in ("name", "branch_id", "manager_id"):
        rows[col] = names[col].to_numpy()
    rows["top_payees"] = lists_for(rows["prospect_id"], leads["payer"], leads["payee"], limit=3)
    rows["window"] = f"{month_label(end - n + 1)}..{month_label(end)}"
    return _corp_frame(rows)


def _corp_frame(rows: pd.DataFrame) -> pa.Table:
    rows = rows.reset_index(drop=True)
    rows["warning"] = rows["level"] == "warning"
    rows["query"] = ~rows["warning"]
    rows["top_payee"] = first_of(rows["top_payees"])
    params = {k: k for k in ("growth", "recent", "window")}
    reasons = [
        ReasonSlot("retail.outflow.corp_warning", params, when="warning"),
        ReasonSlot("retail.outflow.corp_query", params, when="query"),
        ReasonSlot("retail.outflow.corp_share", {"share": "share"}),
    ]
    details = {"subject": "corporate", "level": rows["level"], "growth": rows["growth"].astype("float64"),
               "recent_other_bank": rows["recent"].astype("float64").round(2),
               "before_other_bank": rows["before"].astype("float64").round(2),
               "share": rows["share"].astype("float64"), "window": rows["window"],
               "top_other_bank_payees": rows["top_payees"]}
    return kind_frame(rows, "outflow", CORPORATE_BARS, reasons,
                      [("cash_management", None), ("corporate_credit", None)],
                      ["manager_id", "prospect_id", "top_payee"], details)
