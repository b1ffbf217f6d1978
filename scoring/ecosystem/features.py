"""Features and points of the `ecosystem` family: one row per prospect-client link.

`Context` holds the enterprises and the window's payments as integer node codes, shared by
both kinds; `kind_rows` gives a kind's links with their features; `contributions` their
points, each growing with the evidence (links, payments, stores).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph.store import GraphStore
from scoring.ecosystem.links import RELATION_CLASS, EcosystemSettings
from scoring.features import (
    as_of_date,
    decay_points,
    is_in,
    latest_day,
    log_points,
    node_index,
    placeholder_mask,
    window_payments,
)
from scoring.settings import ScoringSettings

__all__ = ["Context", "kind_rows", "contributions"]


class Context:
    """Enterprises and the window's payments (as integer node codes), shared by both kinds."""

    def __init__(self, store: GraphStore, settings: ScoringSettings, cfg: EcosystemSettings) -> None:
        ent = store.read("enterprises")
        self.as_of = as_of_date(settings.as_of, latest_day(store, "payments", "paid_on"))
        # Python-object ids for the (small) enterprise table; the window's payments come from
        # DuckDB as integer codes (position in `ent`), never as a frame of strings.
        ent = ent.astype({c: object for c in ("id", "name", "parent_id", "manager_id", "branch_id")})
        self.ent = ent.set_index("id", drop=False)
        self.n = len(ent)
        start = self.as_of - pd.DateOffset(months=cfg.window_months)
        pays = window_payments(store, node_index(ent["id"]), start, self.as_of + pd.Timedelta(days=1))
        self.src, self.dst, self.amount, self.day = pays["src"], pays["dst"], pays["amount"], pays["day"]
        count = np.bincount(self.src, minlength=self.n) + np.bincount(self.dst, minlength=self.n)
        client = self.ent["is_client"].fillna(False).astype(bool)
        credit = self.ent["is_credit_client"].fillna(False).astype(bool) & client
        weak = client & ~credit & (count < cfg.deepening_max_payments)
        excluded = self.ent["do_not_contact"].fillna(False).astype(bool) | pd.Series(
            placeholder_mask(self.ent["name"], cfg.placeholder_names), index=self.ent.index)
        self.client, self.credit, self.weak = client, credit, weak
        self.eligible = (~client | weak) & ~excluded

    def code(self, ids: pd.Series) -> np.ndarray:
        return np.asarray(self.ent.index.get_indexer(pd.Index(ids.to_numpy(dtype=object))), dtype=np.int64)

    def flows_with(self, links: pd.DataFrame) -> pd.DataFrame:
        """Payments between each (anchor, prospect) pair in either direction: amount, months, latest
        day, one row per pair (columns `anchor`, `prospect`, `flow_amount`, `flow_months`, `flow_last`)."""
        n = self.n
        pairs = np.unique(self.code(links["anchor"]) * n + self.code(links["prospect"]))
        # Hash lookups (pandas isin on int64), not numpy's sort-based isin, over millions of keys.
        forward = pd.Series(self.src * n + self.dst).isin(pairs).to_numpy()  # anchor pays prospect
        backward = pd.Series(self.dst * n + self.src).isin(pairs).to_numpy()  # prospect pays anchor
        key = np.concatenate([self.src[forward] * n + self.dst[forward], self.dst[backward] * n + self.src[backward]])
        amount = np.concatenate([self.amount[forward], self.amount[backward]])
        day = np.concatenate([self.day[forward], self.day[backward]])
        agg = self._per_node(key, amount, day, "flow", index=False)
        codes = agg.index.to_numpy(dtype=np.int64)
        ids = self.ent.index.to_numpy(dtype=object)
        return agg.assign(anchor=ids[codes // n], prospect=ids[codes % n]).reset_index(drop=True)

    def activity(self, codes: np.ndarray) -> pd.DataFrame:
        """All observed payments of the given nodes, in or out: amount and latest day."""
        wanted = np.zeros(self.n, dtype=bool)
        wanted[codes] = True
        out_, in_ = wanted[self.src], wanted[self.dst]
        node = np.concatenate([self.src[out_], self.dst[in_]])
        amount = np.concatenate([self.amount[out_], self.amount[in_]])
        day = np.concatenate([self.day[out_], self.day[in_]])
        return self._per_node(node, amount, day, "own")

    def _per_node(self, node: np.ndarray, amount: np.ndarray, day: np.ndarray, prefix: str,
                  index: bool = True) -> pd.DataFrame:
        months = day.astype("datetime64[M]").astype(np.int64)
        frame = pd.DataFrame({"node": node, "amount": amount, "month": months, "day": day})
        agg = frame.groupby("node", sort=False).agg(amount=("amount", "sum"), months=("month", "nunique"),
                                                    last=("day", "max"))
        if index:
            agg.index = self.ent.index[agg.index.to_numpy()]
        return agg.rename(columns={c: f"{prefix}_{c}" for c in agg.columns})


def _best_anchor(links: pd.DataFrame, ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per prospect-anchor pair (strongest link of the pair), its credit flag in
    `credit_any` (this anchor holds credit), and per prospect the number of anchors."""
    links = links.copy()
    links["credit"] = ctx.credit.reindex(links["anchor"]).fillna(False).to_numpy(dtype=bool)
    links = links.sort_values(["prospect", "strength", "credit", "anchor", "relation"],
                              ascending=[True, False, False, True, True])
    best = links.drop_duplicates(["prospect", "anchor"]).set_index("prospect")
    best["credit_any"] = best["credit"]
    agg = links.groupby("prospect", sort=False).agg(anchors=("anchor", "nunique"))
    kinds = links[["prospect", "relation"]].drop_duplicates()
    classes = kinds.assign(cls=kinds["relation"].map(RELATION_CLASS).fillna(kinds["relation"]))
    agg["classes"] = classes.drop_duplicates(["prospect", "cls"]).groupby("prospect", sort=False).size()
    # The list of relations is text for the kept rows only: it is filled in after the cap.
    return best.join(agg), kinds


def kind_rows(kind: str, links: pd.DataFrame, ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per prospect of `kind` with its features, and its (prospect, relation) pairs."""
    links = links[is_in(links["prospect"], ctx.eligible.index[ctx.eligible])
                  & is_in(links["anchor"], ctx.client.index[ctx.client])]
    if links.empty:
        return pd.DataFrame(), pd.DataFrame(columns=["prospect", "relation"])
    best, kinds = _best_anchor(links, ctx)
    flows = ctx.flows_with(links)
    df = best.reset_index().merge(flows, on=["prospect", "anchor"], how="left").set_index("prospect")
    df["flow_amount"] = df["flow_amount"].fillna(0.0)
    df["flow_months"] = df["flow_months"].fillna(0).astype(float)
    df = df.drop(columns=["flow_last"])
    df["prospect_id"] = df.index.astype(str)
    df["is_deepening"] = ctx.client.reindex(df.index).fillna(False).to_numpy(dtype=bool)
    df["capital"] = ctx.ent["registered_capital"].reindex(df.index).fillna(0.0).to_numpy(dtype=np.float64)
    if kind == "branch_store":
        df["chain_size"] = df.groupby("anchor")["prospect_id"].transform("count").astype(float)
        df = df.join(ctx.activity(ctx.code(df["prospect_id"])))
        df["activity"] = df["own_amount"].fillna(0.0)
        df["days_since"] = (ctx.as_of - df["own_last"]).dt.days.astype(float).fillna(np.inf)
    return df, kinds


def contributions(kind: str, df: pd.DataFrame, cfg: EcosystemSettings) -> dict[str, np.ndarray]:
    """Points of every feature; each grows with the evidence (links, payments, stores)."""
    if kind == "group":
        w = cfg.group
        return {
            "relation": w.relation * df["strength"].to_numpy(dtype=np.float64),
            "corroboration": w.corroboration * np.minimum(1.0, (df["classes"].to_numpy() - 1) / 2.0),
            "credit_anchor": w.credit_anchor * df["credit_any"].to_numpy(dtype=np.float64),
            "anchors": w.anchors * np.minimum(1.0, (df["anchors"].to_numpy() - 1) / 2.0),
            "flows": log_points(df["flow_amount"], cfg.flows_full, w.flows),
            "flow_months": w.flow_months * np.minimum(1.0, df["flow_months"].to_numpy() / cfg.window_months),
            "size": log_points(df["capital"], cfg.size_full, w.size),
        }
    ws = cfg.stores
    days = df["days_since"].to_numpy(dtype=np.float64)
    return {
        "link": ws.link * df["strength"].to_numpy(dtype=np.float64),
        "chain_size": log_points(df["chain_size"], cfg.chain_size_full, ws.chain_size),
        "credit_anchor": ws.credit_anchor * df["credit_any"].to_numpy(dtype=np.float64),
        "flows": log_points(df["flow_amount"], cfg.flows_full, ws.flows),
        "activity": log_points(df["activity"], cfg.activity_full, ws.activity),
        "recency": decay_points(np.nan_to_num(days, posinf=0.0), cfg.recency_half_life_days, ws.recency,
                                np.isfinite(days)),
    }

