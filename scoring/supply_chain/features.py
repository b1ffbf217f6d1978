"""Features and points of the `supply_chain` family: one row per prospect-anchor link.

Every feature is computed on whole columns (numpy bincounts over integer node codes); each
contribution is monotone non-decreasing in the payments that link the prospect to the chain,
and the tier penalty only shrinks as links are added, so a chain payment never lowers a score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from scoring.features import FlowFrame, decay_points, flow_features, log_points
from scoring.supply_chain.chain import Chain, SupplyChainSettings, strongest

__all__ = ["FEATURES", "labels", "kind_features", "contributions", "distinguishing"]


#: each feature's label, English and Chinese; {short}, {mid} and {long} are the windows' months
#: (`labels` fills them in: a bank that sets windows (1, 6, 24) reads "last 1 month", not "3").
FEATURES: dict[str, tuple[str, str]] = {
    "amount_3m": ("amount, last {short} months", "近{short}个月金额"),
    "amount_6m": ("amount, last {mid} months", "近{mid}个月金额"),
    "amount_12m": ("amount, last {long} months", "近{long}个月金额"),
    "trend": ("recent {short} months against the {long}-month run rate", "近{short}个月相对{long}个月均值的趋势"),
    "payments": ("payments and bills on the chain, {long} months", "近{long}个月链条上的付款及票据笔数"),
    "months_active": ("months active of {long}", "{long}个月中有往来的月数"),
    "steadiness": ("longest run of consecutive active months", "最长连续往来月数"),
    "recency": ("days since the latest payment or bill", "距最近一笔往来的天数"),
    "anchors": ("distinct client anchors (credit clients count fully)", "关联核心客户数（授信客户全额计）"),
    "credit_anchor": ("linked to a credit client", "关联授信客户"),
    "bills": ("acceptance bills received or drawn along the chain", "链条上的承兑汇票金额"),
    "discount_lead": ("bills discounted at another bank", "在他行贴现的票据张数"),
    "other_bank": ("money at another bank (wallet leakage)", "流向他行的资金"),
    "dependence": ("share of observed flows that is on the chain", "可见资金中来自链条的占比"),
    "tier": ("tier penalty", "层级扣分"),
}


def labels(cfg: SupplyChainSettings) -> dict[str, tuple[str, str]]:
    """Every feature's (English, Chinese) label with the configured windows' months."""
    short, mid, long_ = cfg.windows
    return {name: (en.format(short=short, mid=mid, long=long_), zh.format(short=short, mid=mid, long=long_))
            for name, (en, zh) in FEATURES.items()}


def kind_features(chain: Chain, tier: dict[str, np.ndarray], kind: str) -> dict[str, np.ndarray]:
    """Every raw feature of the prospect-anchor links of `kind`: one array per feature, one item
    per link (vectorised; the caller makes a frame of the kept links only).

    A chain flow counts for the link between the prospect and the anchor at the head of its
    counterpart's path (the counterpart itself when it is an anchor): a supplier paid by two
    clients gets two links, each with that client's own flows, tier and path.
    """
    cfg, n = chain.cfg, chain.n
    pay, dist = chain.pay, tier["dist"]
    activity = np.bincount(pay["src"], minlength=n) + np.bincount(pay["dst"], minlength=n)
    weak = chain.is_client & ~chain.is_credit & (activity < cfg.deepening_max_payments)
    ptier = np.where(chain.is_client, np.where(weak, tier["client_tier"], -1), dist)
    prospect = (ptier >= 1) & ~chain.excluded
    member = (dist >= 0) & (dist < cfg.depth) & ~chain.placeholder
    mine, theirs = ("dst", "src") if kind == "upstream" else ("src", "dst")

    # Chain flows: payments plus the acceptance bills and endorsements that move along the chain
    # (a bill is how an anchor pays a supplier too).
    keys, amounts, days, others, counterpart, is_bill = [], [], [], [], [], []
    for part in (pay, chain.bill, chain.endo):
        r = prospect[part[mine]] & member[part[theirs]]
        keys.append(part[mine][r])
        amounts.append(part["amount"][r])
        days.append(part["day"][r])
        cp_part = part[theirs][r]
        if part is chain.endo and kind == "upstream":
            # The endorsee of an anchor's bill is paid by that anchor's bill: the drawer, when on
            # the chain, is the counterpart (承贴联动: follow where the anchor's bills go).
            drawer = part["drawer"][r]
            on_chain = (drawer >= 0) & member[np.maximum(drawer, 0)] & (drawer != part[mine][r])
            cp_part = np.where(on_chain, drawer, cp_part)
        counterpart.append(cp_part)
        others.append(part["other"][r] if part is pay and kind == "upstream" else np.zeros(int(r.sum()), bool))
        is_bill.append(np.full(int(r.sum()), part is not pay))
    holder, cp = np.concatenate(keys), np.concatenate(counterpart)
    amount, bill = np.concatenate(amounts), np.concatenate(is_bill)
    link_inv, link_key = pd.factorize(holder * n + tier["anchor"][cp])
    link_key = np.asarray(link_key, dtype=np.int64)
    m = len(link_key)
    p_of, a_of = link_key // n, link_key % n
    flows = FlowFrame(link_inv.astype(np.int64), amount, np.concatenate(days), np.concatenate(others))
    f = flow_features(flows, m, chain.as_of, cfg.windows)
    bill_amount = np.bincount(link_inv[bill], amount[bill], minlength=m)
    bill_count = np.bincount(link_inv[bill], minlength=m).astype(np.float64)
    # The link's tier: one more than its nearest counterpart; its path runs through the
    # heaviest counterpart of that tier (ties: the smaller code).
    link_tier = np.full(m, np.iinfo(np.int64).max)
    np.minimum.at(link_tier, link_inv, dist[cp] + 1)
    near = dist[cp] + 1 == link_tier[link_inv]
    via_inv, via_key = pd.factorize(link_inv[near] * n + cp[near])
    via_key = np.asarray(via_key, dtype=np.int64)
    via_w = np.bincount(via_inv, amount[near], minlength=len(via_key))
    via, _ = strongest(via_key % n, via_key // n, via_w, m)

    # Observed flows of the prospect on its side (all its payments) plus its chain bills.
    total = (np.bincount(pay[mine], pay["amount"], minlength=n)[p_of]
             + np.bincount(p_of, bill_amount, minlength=n)[p_of])
    other_bank = f["other_bank"]
    if kind == "downstream":  # money the buyer receives at, or pays from, another bank: its account is elsewhere
        other_bank = (np.bincount(pay["dst"][pay["other"]], pay["amount"][pay["other"]], minlength=n)
                      + np.bincount(pay["src"][pay["from_other"]], pay["amount"][pay["from_other"]], minlength=n))[p_of]
    discounted = np.bincount(chain.discounter_other[chain.discounter_other >= 0], minlength=n)

    # Distinct anchors of the prospect (all its links), credit clients weighing fully.
    anchors_w = np.bincount(p_of, chain.anchor_weight()[a_of], minlength=n)
    anchors_n = np.bincount(p_of, minlength=n)
    long_ = cfg.windows[2]
    a_long = f[f"amount_{long_}m"]
    return {
        "code": p_of,
        "anchor_code": a_of,
        "via_code": via,
        "tier": link_tier,
        "is_deepening": chain.is_client[p_of],
        **{f"amount_{w}m": f[f"amount_{w}m"] for w in cfg.windows},
        "amount_long": a_long,
        "count": f["count"],
        "months_active": f["months_active"],
        "streak": f["streak"],
        "days_since": f["last_day"],
        "other_bank": other_bank,
        "share": np.divide(a_long, total, out=np.zeros(m), where=total > 0),
        "bill_amount": bill_amount,
        "bill_count": bill_count,
        "discounted": discounted[p_of].astype(np.float64),
        "anchors_weighted": anchors_w[p_of],
        "anchors": anchors_n[p_of],
        "credit_anchor": chain.is_credit[a_of],
    }


def contributions(df: Mapping[str, Any], cfg: SupplyChainSettings) -> dict[str, np.ndarray]:
    """Points of every feature, vectorised; each is monotone in the chain's payments. `df` maps
    each feature to its column (a frame, or the arrays `kind_features` gives)."""
    w, (short, mid, long_) = cfg.weights, cfg.windows

    def col(name: str) -> np.ndarray:
        return np.asarray(df[name])

    full3, full6, full12 = cfg.amount_full
    a_short, a_long = col(f"amount_{short}m"), col("amount_long")
    # Trend: the short window against the long window's run rate. The reference is capped at
    # the long window's full amount, where amount_12m stops growing (see the validator).
    reference = np.minimum(a_long, full12) * short / long_
    growth = np.log10((1 + a_short) / (1 + reference)) / math.log10(cfg.trend_full_ratio)
    has_payments = col("count") > 0
    return {
        "amount_3m": log_points(a_short, full3, w.amount_3m),
        "amount_6m": log_points(col(f"amount_{mid}m"), full6, w.amount_6m),
        "amount_12m": log_points(a_long, full12, w.amount_12m),
        "trend": np.where(has_payments, w.trend * np.clip(growth, 0.0, 1.0), 0.0),
        "payments": log_points(col("count"), cfg.payments_full, w.payments),
        "months_active": w.months_active * np.minimum(1.0, col("months_active") / long_),
        "steadiness": w.steadiness * np.minimum(1.0, col("streak") / long_),
        "recency": decay_points(np.nan_to_num(col("days_since"), posinf=0.0),
                                cfg.recency_half_life_days, w.recency,
                                np.isfinite(col("days_since"))),
        "anchors": w.anchors * np.minimum(1.0, col("anchors_weighted") / cfg.anchors_full),
        "credit_anchor": w.credit_anchor * col("credit_anchor").astype(np.float64),
        "bills": log_points(col("bill_amount"), cfg.bills_full, w.bills),
        "discount_lead": w.discount_lead * np.minimum(1.0, col("discounted") / cfg.discount_full),
        "other_bank": log_points(col("other_bank"), cfg.other_bank_full, w.other_bank),
        "dependence": w.dependence * np.clip(col("share"), 0.0, 1.0),
        "tier": -w.tier_penalty * np.maximum(0, col("tier") - 1),
    }


def distinguishing(df: pd.DataFrame, columns: tuple[str, ...] = ("months_active", "share"),
                   top: float = 0.25) -> pd.DataFrame:
    """Per row, whether its value of each column is in the top quartile of the kind's rows.

    A sentence every row would carry ("100% of its flows are with the chain") tells a manager
    nothing; it is shown only where at most `top` of the rows reach the same value. The
    ecosystem family filters its comparative sentences the same way.
    """
    n = max(len(df), 1)
    out = {}
    for col in columns:
        reach = df[col].rank(method="max", ascending=False).to_numpy() / n  # share of rows >= this value
        out[col] = reach <= top
    return pd.DataFrame(out, index=df.index)

