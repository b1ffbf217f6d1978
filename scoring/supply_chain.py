"""The `supply_chain` family: suppliers (upstream) and buyers (downstream) of client anchors.

Anchors are the bank's client enterprises (credit clients weigh more). Upstream tier 1 are
the payees of the anchors' payments and acceptance bills; tier k+1 are the payees of the
payments and the endorsees of the bills of tier-k firms, up to `depth`. Downstream mirrors
it: the payers of the anchors, then their payers. Everything is computed on the fact tables
with numpy/pandas over integer node codes (no per-payment Python loops); `Prospect` objects
are built only for the rows kept (`max_rows_per_kind`, best first).

Each prospect's score is the sum of named contributions (see docs/scoring-supply-chain.md);
each contribution is monotone non-decreasing in the payments that link the prospect to the
chain, and the tier penalty only shrinks as links are added, so a payment on the chain never
lowers a prospect's score.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from graph.store import GraphStore
from graph.vocabulary import OWN_BANK_NAMES, PLACEHOLDER_MARKERS
from scoring.explain import Prospect
from scoring.features import (
    FlowFrame,
    as_of_date,
    clamp_points,
    decay_points,
    flow_features,
    fmt_amount,
    log_points,
    node_codes,
    node_index,
    other_bank_mask,
    paused_gc,
    placeholder_mask,
    validate_prospects,
)
from scoring.settings import ScoringSettings, family_settings

__all__ = ["score", "SupplyChainSettings", "SupplyChainWeights", "Chain", "load_chain", "tiers"]


class SupplyChainWeights(BaseModel):
    """Maximum points of each feature (the positive ones sum to at most 100)."""

    amount_3m: float = Field(default=6.0, ge=0)
    amount_6m: float = Field(default=6.0, ge=0)
    amount_12m: float = Field(default=16.0, ge=0)
    trend: float = Field(default=1.3, ge=0)
    payments: float = Field(default=6.0, ge=0)
    months_active: float = Field(default=8.0, ge=0)
    steadiness: float = Field(default=6.0, ge=0)
    recency: float = Field(default=6.0, ge=0)
    anchors: float = Field(default=4.0, ge=0)
    credit_anchor: float = Field(default=4.0, ge=0)
    bills: float = Field(default=8.0, ge=0)
    discount_lead: float = Field(default=24.0, ge=0)
    other_bank: float = Field(default=4.0, ge=0)
    dependence: float = Field(default=0.6, ge=0)
    tier_penalty: float = Field(default=6.0, ge=0, description="points taken per tier beyond the first")


class SupplyChainSettings(BaseModel):
    """The `supply_chain:` section of scoring/weights.yaml (documented there)."""

    depth: int = Field(default=3, ge=1, le=6)
    windows: tuple[int, int, int] = (3, 6, 12)
    max_rows_per_kind: int = Field(default=5000, ge=1)
    max_links_per_kind: int = Field(default=10000, ge=1, description="rows (prospect-anchor links) kept per kind")
    non_credit_anchor_weight: float = Field(default=0.5, gt=0, le=1)
    deepening_max_payments: int = Field(default=6, ge=0)
    own_bank_names: list[str] = Field(default_factory=lambda: list(OWN_BANK_NAMES))
    placeholder_names: list[str] = Field(default_factory=lambda: list(PLACEHOLDER_MARKERS))
    amount_full: tuple[float, float, float] = (3e6, 6e6, 1.2e7)
    trend_full_ratio: float = Field(default=4.0, gt=1)
    payments_full: float = Field(default=48, gt=0)
    recency_half_life_days: float = Field(default=60, gt=0)
    anchors_full: float = Field(default=3, gt=0)
    bills_full: float = Field(default=5e6, gt=0)
    discount_full: float = Field(default=2, gt=0)
    other_bank_full: float = Field(default=1.2e7, gt=0)
    strong_months: int = Field(default=9, ge=1, description="months active that suggest a working-capital loan")
    currency_en: str = "CNY"
    currency_zh: str = "元"
    weights: SupplyChainWeights = Field(default_factory=SupplyChainWeights)

    @model_validator(mode="after")
    def _monotone_trend(self) -> SupplyChainSettings:
        short, mid, long_ = self.windows
        if not 0 < short < mid < long_ <= 60:
            raise ValueError("windows must be three increasing month counts, the longest at most 60")
        # An older payment lowers the trend; the 12-month amount must gain at least as much.
        cap = self.weights.amount_12m * math.log10(self.trend_full_ratio) / math.log10(1 + self.amount_full[2])
        if self.weights.trend > cap + 1e-9:
            raise ValueError(f"weights.trend must be at most {cap:.3f} (amount_12m * log10(trend_full_ratio)"
                             " / log10(1 + amount_full[2])) so that a payment never lowers a score")
        return self


class Chain:
    """The facts of one scoring run mapped to integer node codes (0..n-1 = enterprises)."""

    def __init__(self, ent: pd.DataFrame, as_of: pd.Timestamp, cfg: SupplyChainSettings) -> None:
        # Codes follow the ids' order, so "the smaller code" on ties means "the smaller id".
        self.ent = ent.sort_values("id", kind="stable").reset_index(drop=True)
        self.n = len(self.ent)
        self.index = node_index(self.ent["id"])
        self.as_of = as_of
        self.cfg = cfg
        self.is_client = self.ent["is_client"].fillna(False).to_numpy(dtype=bool)
        self.is_credit = self.ent["is_credit_client"].fillna(False).to_numpy(dtype=bool) & self.is_client
        # A redaction placeholder stands for many unknown parties: never listed, never followed.
        self.placeholder = placeholder_mask(self.ent["name"], cfg.placeholder_names)
        self.excluded = self.ent["do_not_contact"].fillna(False).to_numpy(dtype=bool) | self.placeholder
        # Flows (set by load_chain): payments, bills (drawer -> payee) and endorsements (from -> to).
        self.pay: dict[str, np.ndarray] = {}
        self.bill: dict[str, np.ndarray] = {}
        self.endo: dict[str, np.ndarray] = {}
        self.discounter_other: np.ndarray = np.zeros(0, dtype=np.int64)
        self._links: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def codes(self, ids: pd.Series) -> np.ndarray:
        return node_codes(self.index, ids)

    def links(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (source, target) links of payments, bills and endorsements with amount totals."""
        if self._links is None:
            parts = [self.pay, self.bill, self.endo]
            src = np.concatenate([p["src"] for p in parts]).astype(np.int64)
            dst = np.concatenate([p["dst"] for p in parts]).astype(np.int64)
            amt = np.concatenate([p["amount"] for p in parts]).astype(np.float64)
            inv, key = pd.factorize(src * self.n + dst)  # hash-based: faster than np.unique here
            key = np.asarray(key, dtype=np.int64)
            self._links = (key // self.n, key % self.n, np.bincount(inv, amt, minlength=len(key)))
        return self._links

    def anchor_weight(self) -> np.ndarray:
        return np.where(self.is_credit, 1.0, self.cfg.non_credit_anchor_weight) * self.is_client


def load_chain(store: GraphStore, settings: ScoringSettings, cfg: SupplyChainSettings) -> Chain:
    """Read the fact tables once and map them to node codes, keeping the long window only."""
    ent = store.read("enterprises")
    pays = store.read("payments", ["payer_id", "payee_id", "payee_bank", "amount", "paid_on"])
    bills = store.read("bills", ["bill_id", "drawer_id", "payee_id", "amount", "issued_on", "discounted_by"])
    endo = store.read("endorsements", ["bill_id", "seq", "from_id", "to_id", "endorsed_on"])
    as_of = as_of_date(settings.as_of, pays["paid_on"], bills["issued_on"], endo["endorsed_on"])
    chain = Chain(ent, as_of, cfg)
    start = np.datetime64(as_of - pd.DateOffset(months=cfg.windows[2]))
    end = np.datetime64(as_of + pd.Timedelta(days=1) - pd.Timedelta(1, "ns"))

    day = pays["paid_on"].to_numpy(dtype="datetime64[ns]")
    amount = pays["amount"].to_numpy(dtype=np.float64, na_value=0.0)
    # Codes and bank flags on the whole columns, then one integer selection: cheaper than
    # filtering millions of strings first.
    src, dst = chain.codes(pays["payer_id"]), chain.codes(pays["payee_id"])
    ok = (day > start) & (day <= end) & (amount > 0) & (src >= 0) & (dst >= 0) & (src != dst)
    chain.pay = {"src": src[ok], "dst": dst[ok], "amount": amount[ok], "day": day[ok],
                 "other": other_bank_mask(pays["payee_bank"], cfg.own_bank_names)[ok]}

    bday = bills["issued_on"].to_numpy(dtype="datetime64[ns]")
    bamount = bills["amount"].to_numpy(dtype=np.float64, na_value=0.0)
    bkeep = (bday > start) & (bday <= end) & (bamount > 0)
    b = bills[bkeep].reset_index(drop=True)
    bsrc, bdst = chain.codes(b["drawer_id"]), chain.codes(b["payee_id"])
    bok = (bsrc >= 0) & (bdst >= 0) & (bsrc != bdst)
    chain.bill = {"src": bsrc[bok], "dst": bdst[bok], "amount": bamount[bkeep][bok], "day": bday[bkeep][bok]}

    e = endo.merge(b[["bill_id", "drawer_id", "amount", "issued_on"]], on="bill_id", how="inner")
    eday = e["endorsed_on"].fillna(e["issued_on"]).to_numpy(dtype="datetime64[ns]")
    esrc, edst = chain.codes(e["from_id"]), chain.codes(e["to_id"])
    eok = (esrc >= 0) & (edst >= 0) & (esrc != edst)
    chain.endo = {"src": esrc[eok], "dst": edst[eok], "amount": e["amount"].to_numpy(dtype=np.float64)[eok],
                  "day": eday[eok], "drawer": chain.codes(e["drawer_id"])[eok]}

    # Who discounted each bill: its last endorsee, else its payee. At another bank = a lead.
    last = e.sort_values(["bill_id", "seq"]).drop_duplicates("bill_id", keep="last").set_index("bill_id")["to_id"]
    holder = b["bill_id"].map(last).astype("string").fillna(b["payee_id"].astype("string"))
    other = other_bank_mask(b["discounted_by"], cfg.own_bank_names)
    chain.discounter_other = chain.codes(holder[other])
    return chain


def tiers(chain: Chain, kind: str) -> dict[str, np.ndarray]:
    """Breadth-first tiers from the anchors along chain edges (reversed for downstream).

    Returns `dist` (0 = anchor, k = tier, -1 = unreached), `parent` (the strongest link from
    the tier before, for the path) and `anchor` (the strongest anchor, inherited along parents).
    Clients are all anchors (tier 0); a weakly served client gets its own prospect tier from
    its strongest link to another anchor or chain firm (`client_tier`, `client_parent`).
    """
    n = chain.n
    esrc, edst, ew = chain.links()
    if kind == "downstream":
        esrc, edst = edst, esrc
    else:  # an endorsee holds the drawer's own bill: upstream, it is the drawer's payee too
        held = chain.endo["drawer"] >= 0
        esrc = np.concatenate([esrc, chain.endo["drawer"][held]])
        edst = np.concatenate([edst, chain.endo["dst"][held]])
        ew = np.concatenate([ew, chain.endo["amount"][held]])

    dist = np.full(n, -1, dtype=np.int64)
    parent = np.full(n, -1, dtype=np.int64)
    anchor = np.full(n, -1, dtype=np.int64)
    dist[chain.is_client] = 0
    anchor[chain.is_client] = np.flatnonzero(chain.is_client)
    strength = ew * np.where(dist[esrc] == 0, chain.anchor_weight()[esrc], 1.0)
    for k in range(1, chain.cfg.depth + 1):
        sel = (dist[esrc] == k - 1) & (dist[edst] == -1) & ~chain.placeholder[esrc]
        if not sel.any():
            break
        s, d = _strongest(esrc[sel], edst[sel], strength[sel], n)
        dist[d], parent[d], anchor[d] = k, s, anchor[s]

    # Weak clients: their own tier from their strongest in-link among chain members.
    sel = chain.is_client[edst] & (dist[esrc] >= 0) & (dist[esrc] < chain.cfg.depth)
    client_tier = np.full(n, -1, dtype=np.int64)
    client_parent = np.full(n, -1, dtype=np.int64)
    if sel.any():
        s_, d_, w_ = esrc[sel], edst[sel], strength[sel]
        lvl = dist[s_]
        mins = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(mins, d_, lvl)
        best = lvl == mins[d_]
        s, d = _strongest(s_[best], d_[best], w_[best], n)
        client_tier[d], client_parent[d] = dist[s] + 1, s
    return {"dist": dist, "parent": parent, "anchor": anchor, "client_tier": client_tier,
            "client_parent": client_parent}


def _strongest(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each distinct dst, the src of its heaviest link (ties: the smaller src code).

    Two scatter passes (`ufunc.at`) instead of a sort: linear in the links.
    """
    best = np.full(n, -np.inf)
    np.maximum.at(best, dst, weight)
    top = weight == best[dst]
    pick = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(pick, dst[top], src[top])
    targets = np.flatnonzero(best > -np.inf)  # every dst got a weight above -inf
    return pick[targets], targets


FEATURES: dict[str, tuple[str, str]] = {
    "amount_3m": ("amount, last 3 months", "近3个月金额"),
    "amount_6m": ("amount, last 6 months", "近6个月金额"),
    "amount_12m": ("amount, last 12 months", "近12个月金额"),
    "trend": ("recent quarter against the 12-month run rate", "近3个月相对12个月均值的趋势"),
    "payments": ("payments and bills on the chain, 12 months", "近12个月链条上的付款及票据笔数"),
    "months_active": ("months active of 12", "12个月中有往来的月数"),
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


def kind_features(chain: Chain, tier: dict[str, np.ndarray], kind: str) -> pd.DataFrame:
    """One row per prospect-anchor link of `kind` with every raw feature (vectorised).

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
    via, _ = _strongest(via_key % n, via_key // n, via_w, m)

    # Observed flows of the prospect on its side (all its payments) plus its chain bills.
    total = (np.bincount(pay[mine], pay["amount"], minlength=n)[p_of]
             + np.bincount(p_of, bill_amount, minlength=n)[p_of])
    other_bank = f["other_bank"]
    if kind == "downstream":  # money the buyer receives at another bank: its account is elsewhere
        other_bank = np.bincount(pay["dst"][pay["other"]], pay["amount"][pay["other"]], minlength=n)[p_of]
    discounted = np.bincount(chain.discounter_other[chain.discounter_other >= 0], minlength=n)

    # Distinct anchors of the prospect (all its links), credit clients weighing fully.
    anchors_w = np.bincount(p_of, chain.anchor_weight()[a_of], minlength=n)
    anchors_n = np.bincount(p_of, minlength=n)
    long_ = cfg.windows[2]
    a_long = f[f"amount_{long_}m"]
    return pd.DataFrame({
        "code": p_of,
        "anchor_code": a_of,
        "via_code": via,
        "prospect_id": chain.ent["id"].to_numpy(dtype=object)[p_of],
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
    })


def contributions(df: pd.DataFrame, cfg: SupplyChainSettings) -> dict[str, np.ndarray]:
    """Points of every feature, vectorised; each is monotone in the chain's payments."""
    w, (short, mid, long_) = cfg.weights, cfg.windows
    full3, full6, full12 = cfg.amount_full
    a_short, a_long = df[f"amount_{short}m"].to_numpy(), df["amount_long"].to_numpy()
    # Trend: the short window against the long window's run rate. The reference is capped at
    # the long window's full amount, where amount_12m stops growing (see the validator).
    reference = np.minimum(a_long, full12) * short / long_
    growth = np.log10((1 + a_short) / (1 + reference)) / math.log10(cfg.trend_full_ratio)
    has_payments = df["count"].to_numpy() > 0
    return {
        "amount_3m": log_points(a_short, full3, w.amount_3m),
        "amount_6m": log_points(df[f"amount_{mid}m"], full6, w.amount_6m),
        "amount_12m": log_points(a_long, full12, w.amount_12m),
        "trend": np.where(has_payments, w.trend * np.clip(growth, 0.0, 1.0), 0.0),
        "payments": log_points(df["count"], cfg.payments_full, w.payments),
        "months_active": w.months_active * np.minimum(1.0, df["months_active"].to_numpy() / long_),
        "steadiness": w.steadiness * np.minimum(1.0, df["streak"].to_numpy() / long_),
        "recency": decay_points(np.nan_to_num(df["days_since"].to_numpy(), posinf=0.0),
                                cfg.recency_half_life_days, w.recency,
                                np.isfinite(df["days_since"].to_numpy())),
        "anchors": w.anchors * np.minimum(1.0, df["anchors_weighted"].to_numpy() / cfg.anchors_full),
        "credit_anchor": w.credit_anchor * df["credit_anchor"].to_numpy(dtype=np.float64),
        "bills": log_points(df["bill_amount"], cfg.bills_full, w.bills),
        "discount_lead": w.discount_lead * np.minimum(1.0, df["discounted"].to_numpy() / cfg.discount_full),
        "other_bank": log_points(df["other_bank"], cfg.other_bank_full, w.other_bank),
        "dependence": w.dependence * np.clip(df["share"].to_numpy(), 0.0, 1.0),
        "tier": -w.tier_penalty * np.maximum(0, df["tier"].to_numpy() - 1),
    }


def _value_rows(df: pd.DataFrame, windows: tuple[int, int, int]) -> list[list[float | str | None]]:
    """The evidence values of every row, in FEATURES order, rounded once for the whole frame."""
    days = df["days_since"].to_numpy(dtype=np.float64)
    cols: dict[str, list[Any]] = {
        "amount_3m": df[f"amount_{windows[0]}m"].round(2).tolist(),
        "amount_6m": df[f"amount_{windows[1]}m"].round(2).tolist(),
        "amount_12m": df["amount_long"].round(2).tolist(),
        "trend": [None] * len(df),
        "payments": df["count"].tolist(),
        "months_active": df["months_active"].tolist(),
        "steadiness": df["streak"].tolist(),
        "recency": [None if not math.isfinite(d) else d for d in days.tolist()],
        "anchors": df["anchors"].astype(float).tolist(),
        "credit_anchor": ["yes" if c else "no" for c in df["credit_anchor"].tolist()],
        "bills": df["bill_amount"].round(2).tolist(),
        "discount_lead": df["discounted"].tolist(),
        "other_bank": df["other_bank"].round(2).tolist(),
        "dependence": df["share"].round(4).tolist(),
        "tier": df["tier"].astype(float).tolist(),
    }
    return [list(row) for row in zip(*(cols[name] for name in FEATURES), strict=True)]


def products(r: Any, kind: str, cfg: SupplyChainSettings) -> list[str]:
    """Products chosen from the evidence (the rule is documented in docs/scoring-supply-chain.md)."""
    out = []
    if r["bill_count"] > 0 or r["discounted"] > 0:
        out.append("bill_discounting")
    if kind == "upstream" and r["amount_long"] > 0 and r["credit_anchor"]:
        out.append("factoring")
    if r["credit_anchor"] and (r["months_active"] >= 3 or r["bill_count"] > 0):
        out.append("supply_chain_finance")
    if kind == "downstream" and r["amount_long"] > 0:
        out.append("trade_finance")
    if r["months_active"] >= cfg.strong_months:
        out.append("working_capital_loan")
    if r["other_bank"] > 0 or r["anchors"] >= 2 or not out:
        out.append("cash_management")
    return out


def build_rows(chain: Chain, tier: dict[str, np.ndarray], df: pd.DataFrame,
               points: dict[str, np.ndarray], kind: str) -> list[Prospect]:
    """`Prospect` objects for the kept links only, with evidence, reasons, path and manager."""
    cfg = chain.cfg
    ids = chain.ent["id"].to_numpy(dtype=object)
    names = chain.ent["name"].astype("string").fillna("").to_numpy(dtype=object)
    managers = _objects(chain.ent["manager_id"])
    branches = _objects(chain.ent["branch_id"])
    # Every anchor of each kept prospect (its links, best first), named on each of its rows.
    links = df.groupby("code", sort=False)["anchor_code"].agg(list).to_dict()
    distinct = distinguishing(df)
    rows = []
    # Rows are plain dicts validated in one call at the end: building hundreds of thousands
    # of evidence objects one by one would dominate the run at bank scale.
    contrib = np.column_stack([points[name] for name in FEATURES])[df["_pos"].to_numpy()].tolist()
    records = df.to_dict("records")
    for r, values, points_row, shown in zip(records, _value_rows(df, cfg.windows), contrib,
                                            distinct.to_dict("records"), strict=True):
        code, anchor = int(r["code"]), int(r["anchor_code"])
        chain_path = [*_path(tier, int(r["via_code"])), code]
        evidence = [
            {"name": name, "label_en": label[0], "label_zh": label[1], "value": value, "contribution": points}
            for (name, label), value, points in zip(FEATURES.items(), values, points_row, strict=True)
        ]
        manager = managers[code] if r["is_deepening"] and managers[code] else managers[anchor]
        branch = branches[code] if r["is_deepening"] and branches[code] else branches[anchor]
        node_path = ([manager] if manager else []) + [ids[c] for c in chain_path]
        also = [(str(ids[a]), managers[a]) for a in links[code] if a != anchor]
        shared = sorted({str(mg) for _, mg in also if mg and mg != manager})
        rows.append(dict(
            family="supply_chain", kind=kind, prospect_id=str(ids[code]), name=str(names[code]),
            evidence=evidence,
            reasons=reasons(r, kind, names[anchor], names[chain_path[-2]], cfg,
                            {str(k): bool(v) for k, v in shown.items()}, also),
            path=[str(x) for x in node_path], suggested_products=products(r, kind, cfg),
            manager_id=manager, branch_id=branch, anchor_id=str(ids[anchor]),
            is_deepening=bool(r["is_deepening"]), association_id=None, employer_id=None,
            details={"tier": int(r["tier"]), "anchor_id": str(ids[anchor]), "anchors": int(r["anchors"]),
                     "anchor_ids": [str(ids[a]) for a in links[code]], "shared_with": shared,
                     "as_of": str(chain.as_of.date()), "window_months": cfg.windows[2],
                     "amounts": {f"{m}m": round(float(r[f"amount_{m}m"]), 2) for m in cfg.windows},
                     "payments": int(r["count"]), "months_active": int(r["months_active"]),
                     "bills": int(r["bill_count"]), "bill_amount": round(float(r["bill_amount"]), 2),
                     "discounted_elsewhere": int(r["discounted"]),
                     "other_bank_amount": round(float(r["other_bank"]), 2),
                     "chain_share": round(float(r["share"]), 4)},
        ))
    return validate_prospects(rows)


def distinguishing(df: pd.DataFrame, top: float = 0.25) -> pd.DataFrame:
    """Per row, whether its months active and chain share are in the top quartile of the kind.

    A sentence every row would carry ("100% of its flows are with the chain") tells a manager
    nothing; it is shown only where at most `top` of the rows reach the same value.
    """
    n = max(len(df), 1)
    out = {}
    for col in ("months_active", "share"):
        reach = df[col].rank(method="max", ascending=False).to_numpy() / n  # share of rows >= this value
        out[col] = reach <= top
    return pd.DataFrame(out, index=df.index)


def _path(tier: dict[str, np.ndarray], code: int) -> list[int]:
    """Node codes from the head anchor down to `code` along the strongest links."""
    out = [code]
    node = int(tier["parent"][code])
    while node >= 0 and len(out) < 16:
        out.append(node)
        node = int(tier["parent"][node])
    return out[::-1]


def _objects(series: pd.Series) -> np.ndarray:
    """Values as Python objects with None for missing ones (ids that may be absent)."""
    s = series.astype(object)
    return s.where(series.notna(), None).to_numpy()


def _reason(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


def reasons(r: Any, kind: str, anchor: str, via: str, cfg: SupplyChainSettings,
            shown: dict[str, bool] | None = None, also: list[tuple[str, Any]] | None = None
            ) -> list[dict[str, str]]:
    """Sentences in English and Chinese, strongest facts first; every amount names its window.

    `shown` says which comparative facts distinguish this row (see `distinguishing`); `also`
    lists the prospect's other anchors with their managers.
    """
    def amt(v: float, lang: str) -> str:
        return fmt_amount(float(v), lang, cfg.currency_en, cfg.currency_zh)

    shown = shown if shown is not None else {"months_active": True, "share": True}
    long_ = cfg.windows[2]
    t = int(r["tier"])
    role_en, role_zh = ("supplier", "供应商") if kind == "upstream" else ("buyer", "客户（买方）")
    out: list[dict[str, str]] = []
    if r["is_deepening"]:
        out.append(_reason(en="Already a client, but without credit and with little activity: a deepening prospect.",
                          zh="已是本行客户，但无授信且往来很少：可深耕的存量客户。"))
    if r["discounted"] > 0:
        out.append(_reason(en=f"Discounted {int(r['discounted'])} chain bill(s) at another bank in the last {long_} "
                             "months: a bill-discounting lead (承贴联动).",
                          zh=f"近{long_}个月在他行贴现链条票据{int(r['discounted'])}张：承贴联动线索。"))
    if t == 1 and r["count"] > 0:
        verb_en = "Paid by" if kind == "upstream" else "Pays"
        out.append(_reason(
            en=f"{verb_en} client {anchor}: {amt(r['amount_long'], 'en')} in {int(r['count'])} payment(s) or bill(s) "
               f"over the last {long_} months.",
            zh=(f"近{long_}个月收到客户{anchor}付款{amt(r['amount_long'], 'zh')}，共{int(r['count'])}笔。"
                if kind == "upstream" else
                f"近{long_}个月向客户{anchor}付款{amt(r['amount_long'], 'zh')}，共{int(r['count'])}笔。")))
    elif t == 1:
        out.append(_reason(en=f"Tier-1 {role_en} of client {anchor} through acceptance bills.",
                          zh=f"客户{anchor}的一级{role_zh}（承兑汇票往来）。"))
    else:
        out.append(_reason(en=f"Tier-{t} {role_en} of client {anchor}, reached through {via}.",
                          zh=f"客户{anchor}的{t}级{role_zh}，经由{via}。"))
        if r["count"] > 0:
            out.append(_reason(en=f"{amt(r['amount_long'], 'en')} in {int(r['count'])} payment(s) or bill(s) along the chain "
                                 f"over the last {long_} months.",
                              zh=f"近{long_}个月链条上往来{amt(r['amount_long'], 'zh')}，共{int(r['count'])}笔。"))
    if r["months_active"] >= 3 and shown["months_active"]:
        out.append(_reason(en=f"Active in {int(r['months_active'])} of the last {long_} months, "
                             f"{int(r['streak'])} in a row.",
                          zh=f"近{long_}个月中有{int(r['months_active'])}个月有往来，最长连续{int(r['streak'])}个月。"))
    if r["bill_count"] > 0:
        out.append(_reason(en=f"{int(r['bill_count'])} acceptance bill(s) worth {amt(r['bill_amount'], 'en')} "
                             f"along the chain in the last {long_} months.",
                          zh=f"近{long_}个月链条上承兑汇票{int(r['bill_count'])}张，金额{amt(r['bill_amount'], 'zh')}。"))
    if r["other_bank"] > 0:
        out.append(_reason(en=f"{amt(r['other_bank'], 'en')} landed at another bank in the last {long_} months "
                             "(wallet leakage).",
                          zh=f"近{long_}个月{amt(r['other_bank'], 'zh')}资金流入他行账户。"))
    if r["share"] >= 0.5 and shown["share"]:
        pct = int(round(100 * float(r["share"])))
        out.append(_reason(en=f"{pct}% of its observed flows in the last {long_} months are with this client's chain: "
                             "it depends on it.",
                          zh=f"近{long_}个月其可见资金的{pct}%与该客户链条相关，依赖度高。"))
    if also:
        verb_en, verb_zh = ("also supplies", "同时是") if kind == "upstream" else ("also buys from", "同时是")
        role = "供应商" if kind == "upstream" else "买方"
        named, more = also[:3], len(also) - 3  # a long list helps no one: three, then a count
        listed_en = ", ".join(f"{a} ({m})" if m else a for a, m in named) + (f" and {more} more" if more > 0 else "")
        listed_zh = "、".join(f"{a}（客户经理{m}）" if m else a for a, m in named) + (f"等{len(also)}家" if more > 0 else "")
        out.append(_reason(en=f"{verb_en.capitalize()} {listed_en}.", zh=f"{verb_zh}{listed_zh}的{role}。"))
    return out


def score(store: GraphStore, settings: ScoringSettings) -> list[Prospect]:
    """Score upstream and downstream prospects of every client anchor, best first per kind."""
    cfg = family_settings(settings, "supply_chain", SupplyChainSettings)
    chain = load_chain(store, settings, cfg)
    if chain.n == 0:
        return []
    out: list[Prospect] = []
    for kind in ("upstream", "downstream"):
        tier = tiers(chain, kind)
        feats = kind_features(chain, tier, kind)
        if feats.empty:
            continue
        raw = contributions(feats, cfg)
        matrix = clamp_points(np.column_stack([raw[name] for name in FEATURES]))
        points = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
        feats["_pos"] = np.arange(len(feats))
        feats["score"] = matrix.sum(axis=1)
        # Best first, ties by id then anchor (codes follow the ids' order): numeric sorts only.
        # The cap counts prospects, not links: a kept prospect keeps the link of every anchor.
        order = np.lexsort((feats["anchor_code"].to_numpy(), feats["code"].to_numpy(), -feats["score"].to_numpy()))
        feats = feats.iloc[order]
        first = ~feats["code"].duplicated().to_numpy()
        kept = feats["code"].to_numpy()[first][: cfg.max_rows_per_kind]
        feats = feats[np.isin(feats["code"].to_numpy(), kept)]
        # Every kept prospect's best link, then its other links, strongest first, up to the link cap.
        best = ~feats["code"].duplicated().to_numpy()
        room = max(cfg.max_links_per_kind - int(best.sum()), 0)
        feats = feats[best | (np.cumsum(~best) <= room)]
        with paused_gc():
            out.extend(build_rows(chain, tier, feats, points, kind))
    return out
