"""Chain loading and tiers of the `supply_chain` family.

The settings of the family; the fact tables of one run mapped to integer node codes
(`Chain`, `load_chain`); and the tiers found breadth-first from the anchors (`tiers`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from graph.store import GraphStore
from graph.vocabulary import OWN_BANK_NAMES, PLACEHOLDER_MARKERS
from scoring.features import (
    as_of_date,
    latest_day,
    node_codes,
    node_index,
    other_bank_mask,
    placeholder_mask,
    window_payments,
)
from scoring.settings import ScoringSettings

__all__ = ["SupplyChainSettings", "SupplyChainWeights", "Chain", "load_chain", "tiers", "strongest"]


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
    bills = store.read("bills", ["bill_id", "drawer_id", "payee_id", "amount", "issued_on", "discounted_by"])
    endo = store.read("endorsements", ["bill_id", "seq", "from_id", "to_id", "endorsed_on"])
    as_of = as_of_date(settings.as_of, latest_day(store, "payments", "paid_on"), bills["issued_on"],
                       endo["endorsed_on"])
    chain = Chain(ent, as_of, cfg)
    start = np.datetime64(as_of - pd.DateOffset(months=cfg.windows[2]))
    end = np.datetime64(as_of + pd.Timedelta(days=1) - pd.Timedelta(1, "ns"))

    # The window's payments as node codes, filtered by DuckDB over the store's file: the
    # payments table never becomes a frame of strings here.
    chain.pay = window_payments(store, chain.index, as_of - pd.DateOffset(months=cfg.windows[2]),
                                as_of + pd.Timedelta(days=1), cfg.own_bank_names)

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
        s, d = strongest(esrc[sel], edst[sel], strength[sel], n)
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
        s, d = strongest(s_[best], d_[best], w_[best], n)
        client_tier[d], client_parent[d] = dist[s] + 1, s
    return {"dist": dist, "parent": parent, "anchor": anchor, "client_tier": client_tier,
            "client_parent": client_parent}


def strongest(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
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

