"""Outflow alerts (防流失), kind `outflow`.

- Retail clients whose financial assets fell to `query_ratio` (80%) or less of their earlier
  level get a query notice; to `warning_ratio` (50%) or less, a warning.
- Corporate clients whose payments to payees at other banks (流向他行) grew by `growth_query`
  (×1.5) or more over the last `recent_months` against the months before: a query notice,
  a warning from `growth_warning` (×2). The biggest other-bank payees are listed as leads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graph.store import GraphStore
from scoring.explain import Prospect, Reason
from scoring.retail_common import (
    TIER_LABELS,
    Bar,
    as_of_month,
    build_prospects,
    clean_id,
    clip01,
    contactable_persons,
    lists_by,
    log_scaled_series,
    money_en,
    money_zh,
    month_index,
    month_label,
    reason,
    spread_evenly,
)
from scoring.retail_settings import RetailLinkageSettings

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
_OWN_BANK_WORDS = {"本行", "我行", "own", "ours"}


def retail_outflow_prospects(store: GraphStore, rs: RetailLinkageSettings) -> list[Prospect]:
    os_ = rs.outflow
    p = contactable_persons(store)
    p = p[p["is_retail_client"] & (p["aum_prev"].fillna(0.0) >= max(os_.min_prev_aum, 1e-9))].copy()
    p["ratio"] = p["aum"].clip(lower=0.0) / p["aum_prev"]
    p = p[p["ratio"] <= os_.query_ratio]
    if p.empty:
        return []
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
    rows = rows.rename(columns={"id": "prospect_id"})
    roles = store.read("roles", ["person_id", "enterprise_id", "role"])
    roles = roles[roles["person_id"].isin(rows["prospect_id"]) & (roles["role"] != "employee")]
    roles = roles.sort_values(["person_id", "enterprise_id"])
    linked = lists_by(roles["person_id"], roles["enterprise_id"], unique=True)
    rows["linked_enterprises"] = [linked.get(str(p), []) for p in rows["prospect_id"]]
    own = rows["manager_id"].astype("string")
    rows["manager_id"] = own.fillna(spread_evenly(rows, "branch_id", store.read("managers"), "retail"))
    return build_prospects(rows, "outflow", RETAIL_BARS, _retail_reasons, _retail_products, _retail_details,
                           lambda r: [clean_id(r.get("manager_id")) or "", r["prospect_id"]])


def _retail_reasons(r: dict[str, Any]) -> list[Reason]:
    pct = r["ratio"]
    if r["level"] == "warning":
        head = reason(en=f"Warning: financial assets fell to {pct:.0%} of the earlier level.",
                      zh=f"预警：金融资产降至前期的{pct:.0%}。")
    else:
        head = reason(en=f"Query notice: financial assets fell to {pct:.0%} of the earlier level.",
                      zh=f"提示：金融资产降至前期的{pct:.0%}。")
    t_en, t_zh = TIER_LABELS.get(str(r.get("tier")), (str(r.get("tier")), str(r.get("tier"))))
    out = [head, reason(
        en=f"{money_en(r['lost'])} left ({money_en(r['aum_prev'])} → {money_en(r['aum'])}); {t_en} client.",
        zh=f"流失{money_zh(r['lost'])}（{money_zh(r['aum_prev'])} → {money_zh(r['aum'])}），{t_zh}客户。")]
    if isinstance(r.get("linked_enterprises"), list) and r["linked_enterprises"]:
        out.append(reason(
            en="Holds roles in enterprises: the money may serve a business need — ask about its counterparties.",
            zh="该客户在企业任职，资金或用于经营，可了解其交易对手。"))
    return out


def _retail_products(r: dict[str, Any]) -> list[str]:
    out = ["retention_call", "wealth_products"]
    if r.get("tier") in ("vip", "private"):
        out.append("private_banking")
    if isinstance(r.get("linked_enterprises"), list) and r["linked_enterprises"]:
        out.append("corporate_account")
    return out


def _retail_details(r: dict[str, Any]) -> dict[str, Any]:
    linked = r.get("linked_enterprises")
    return {"subject": "retail", "level": r["level"], "ratio": round(float(r["ratio"]), 4),
            "aum": round(float(r["aum"]), 2), "aum_prev": round(float(r["aum_prev"]), 2),
            "tier": clean_id(r.get("tier")),
            "linked_enterprises": linked if isinstance(linked, list) else []}


# ---------------------------------------------------------------- corporate
def corporate_outflow_prospects(store: GraphStore, rs: RetailLinkageSettings, as_of: str | None
                                ) -> list[Prospect]:
    os_ = rs.outflow
    ents = store.read("enterprises")
    clients = ents[ents["is_client"].fillna(False).astype(bool) & ~ents["do_not_contact"].fillna(False)
                   .astype(bool)]
    pays = store.read("payments", ["payer_id", "payee_id", "payee_bank", "amount", "month", "paid_on"])
    pays = pays[pays["payer_id"].isin(clients["id"])]
    if pays.empty:
        return []
    month = month_index(pays["month"].fillna(pays["paid_on"].dt.strftime("%Y-%m")))
    end = as_of_month(as_of, month)
    if end is None:
        return []
    n = os_.recent_months
    bank = pays["payee_bank"].astype("string").str.strip()
    own = {w.strip() for w in os_.own_bank_names} | _OWN_BANK_WORDS
    other = (bank.notna() & (bank != "") & ~bank.isin(own)).to_numpy()
    m = month.to_numpy(dtype="float64", na_value=np.nan)
    recent = (m > end - n) & (m <= end)
    before = (m > end - 2 * n) & (m <= end - n)
    frame = pd.DataFrame({"payer": pays["payer_id"].to_numpy(), "payee": pays["payee_id"].to_numpy(),
                          "amount": pays["amount"].fillna(0.0).to_numpy()})
    g_recent_all = frame[recent].groupby("payer")["amount"].sum()
    g_recent = frame[recent & other].groupby("payer")["amount"].sum()
    g_before = frame[before & other].groupby("payer")["amount"].sum()
    rows = pd.DataFrame({"recent": g_recent}).join(g_before.rename("before")).fillna(0.0)
    rows = rows[rows["recent"] >= max(os_.min_recent_other_bank, 1e-9)]
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(rows["before"] > 0, rows["recent"] / rows["before"], os_.growth_full)
    rows["growth"] = np.round(growth, 3)
    rows = rows[rows["growth"] >= os_.growth_query]
    if rows.empty:
        return []
    rows["share"] = (rows["recent"] / g_recent_all.reindex(rows.index).to_numpy()).clip(upper=1.0).round(4)
    warning = (rows["growth"] >= os_.growth_warning).to_numpy()
    rows["level"] = np.where(warning, "warning", "query")
    rows["pts_level"] = np.where(warning, os_.w_level_warning, os_.w_level_query)
    rows["pts_growth"] = os_.w_growth * clip01((rows["growth"] - 1.0) / (os_.growth_full - 1.0)).to_numpy()
    rows["pts_other_bank"] = os_.w_other_bank * log_scaled_series(rows["recent"], os_.other_bank_full_at)
    rows["pts_share"] = os_.w_share * rows["share"]
    rows["score"] = rows[[b.points_col for b in CORPORATE_BARS]].sum(axis=1)
    rows = rows.rename_axis("prospect_id").reset_index()
    rows = rows.sort_values(["score", "prospect_id"], ascending=[False, True]).head(os_.max_rows)
    leads = (frame[recent & other & frame["payer"].isin(rows["prospect_id"]).to_numpy()]
             .groupby(["payer", "payee"])["amount"].sum().reset_index()
             .sort_values(["payer", "amount", "payee"], ascending=[True, False, True]))
    top = lists_by(leads["payer"], leads["payee"], limit=3)
    rows["top_payees"] = [top.get(str(p), []) for p in rows["prospect_id"]]
    rows = rows.merge(clients[["id", "name", "branch_id", "manager_id"]].rename(columns={"id": "prospect_id"}),
                      on="prospect_id", how="left")
    rows["window"] = f"{month_label(end - n + 1)}..{month_label(end)}"
    return build_prospects(rows, "outflow", CORPORATE_BARS, _corp_reasons, lambda r: [
        "cash_management", "corporate_credit"], _corp_details,
        lambda r: [clean_id(r.get("manager_id")) or "", r["prospect_id"],
                   *(r["top_payees"][:1] if isinstance(r.get("top_payees"), list) else [])])


def _corp_reasons(r: dict[str, Any]) -> list[Reason]:
    word_en = "Warning" if r["level"] == "warning" else "Query notice"
    word_zh = "预警" if r["level"] == "warning" else "提示"
    return [
        reason(en=f"{word_en}: payments to other banks grew ×{r['growth']:.1f} to {money_en(r['recent'])} "
                  f"in {r['window']}.",
               zh=f"{word_zh}：{r['window']}流向他行资金增长至{r['growth']:.1f}倍，达{money_zh(r['recent'])}。"),
        reason(en=f"{r['share']:.0%} of its recent payments go to other banks; their payees are leads.",
               zh=f"近期{r['share']:.0%}的付款流向他行，收款方可作为营销线索。"),
    ]


def _corp_details(r: dict[str, Any]) -> dict[str, Any]:
    payees = r.get("top_payees")
    return {"subject": "corporate", "level": r["level"], "growth": float(r["growth"]),
            "recent_other_bank": round(float(r["recent"]), 2), "before_other_bank": round(float(r["before"]), 2),
            "share": float(r["share"]), "window": r["window"],
            "top_other_bank_payees": payees if isinstance(payees, list) else []}
