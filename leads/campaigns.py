"""Chain and cluster campaigns, one row each (DOMAIN.md: the 240-store pharmacy chain, markets).

- a store chain (a client with stores, `parent_id`): stores total, opened (clients), pending, and
  the next stores to open (best `ecosystem` branch_store rows first);
- a market or cluster (an association of kind market or park): its merchants in three classes by
  yearly settlement volume and scale (registered capital), each with its product package, count,
  clients and potential (the yearly volume of the merchants not yet clients).
Additive to the lead board: these rows are campaigns, not entity leads.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from graph.settings import get_settings
from graph.store import GraphStore
from leads.settings import load_rhythm
from scoring.run import load_prospects
from scoring.settings import ScoringSettings

__all__ = ["chain_campaigns", "market_campaigns", "MARKET_KINDS"]

MARKET_KINDS = ("market", "park")
MIN_STORES = 3  # an enterprise with at least this many stores (parent_id) is a chain


def chain_campaigns(store: GraphStore, anchor: str | None = None, next_n: int = 5,
                    min_stores: int = MIN_STORES) -> list[dict[str, Any]]:
    """One row per chain: an enterprise with at least `min_stores` stores (or `anchor`)."""
    ent = store.read("enterprises", ["id", "name", "is_client", "parent_id", "branch_id", "manager_id"])
    stores = ent.dropna(subset=["parent_id"])
    stores = stores.assign(opened=stores["is_client"].fillna(False).astype(bool))
    per = stores.groupby("parent_id").agg(stores=("id", "size"), opened=("opened", "sum"))
    per = per[per["stores"] >= min_stores] if anchor is None else per[per.index == anchor]
    if per.empty:
        return []
    ranked = load_prospects(store, "ecosystem", kind="branch_store")
    heads = ent.set_index("id").reindex(per.index)
    out = []
    for chain_id, row in per.sort_values("stores", ascending=False).iterrows():  # one row per chain
        pending = stores[(stores["parent_id"] == chain_id) & ~stores["opened"]]
        best = ranked[ranked["anchor_id"] == chain_id].sort_values("score", ascending=False)
        order = list(dict.fromkeys([*best["prospect_id"].astype(str), *pending["id"].astype(str)]))
        names = pending.set_index("id")["name"]
        nxt = [{"entity_id": eid, "name": names.get(eid)} for eid in order if eid in names.index][:next_n]
        head = heads.loc[str(chain_id)]
        out.append({"anchor_id": str(chain_id), "name": _clean(head["name"]), "branch_id": _clean(head["branch_id"]),
                    "manager_id": _clean(head["manager_id"]), "stores": int(row["stores"]),
                    "opened": int(row["opened"]), "pending": int(row["stores"] - row["opened"]), "next": nxt})
    return out


def _volumes(store: GraphStore) -> pd.Series:
    """Yearly settlement volume per entity: payments it made and received over the last 12 months."""
    pays = store.read("payments", ["payer_id", "payee_id", "amount", "month"])
    if pays.empty:
        return pd.Series(dtype=float)
    last = pays["month"].dropna().astype(str).max()
    first = str(pd.Period(last, "M") - 11)
    pays = pays[pays["month"].astype(str) >= first]
    both = pd.concat([pays[["payer_id", "amount"]].rename(columns={"payer_id": "id"}),
                      pays[["payee_id", "amount"]].rename(columns={"payee_id": "id"})])
    return both.groupby("id")["amount"].sum()


def market_campaigns(store: GraphStore, association: str | None = None,
                     settings: ScoringSettings | None = None) -> list[dict[str, Any]]:
    """One row per market or cluster with its merchants in three classes (largest first)."""
    settings = settings or get_settings().scoring
    conf = load_rhythm(settings)
    lang = settings.lang
    assoc = store.read("associations", ["id", "name", "kind"])
    assoc = assoc[assoc["kind"].isin(MARKET_KINDS)] if association is None else assoc[assoc["id"] == association]
    members = store.read("memberships", ["association_id", "member_id"])
    members = members[members["association_id"].isin(assoc["id"])]
    ent = store.read("enterprises", ["id", "is_client", "registered_capital"]).drop_duplicates("id").set_index("id")
    members = members.assign(
        volume=members["member_id"].map(_volumes(store)).fillna(0.0),
        capital=pd.to_numeric(members["member_id"].map(ent["registered_capital"]), errors="coerce").fillna(0.0),
        client=members["member_id"].map(ent["is_client"]).fillna(False).astype(bool))
    members["cls"] = len(conf.market_classes) - 1
    for i in reversed(range(len(conf.market_classes) - 1)):  # the largest class a merchant reaches
        c = conf.market_classes[i]
        members.loc[(members["volume"] >= c.min_volume) | (members["capital"] >= c.min_capital), "cls"] = i
    members["potential"] = members["volume"].where(~members["client"], 0.0)
    per = members.groupby(["association_id", "cls"]).agg(
        merchants=("member_id", "size"), clients=("client", "sum"), potential=("potential", "sum"),
        volume=("volume", "sum"))
    out = []
    for _, a in assoc.iterrows():  # one row per market
        classes = []
        for i, c in enumerate(conf.market_classes):
            key = (a["id"], i)
            got = per.loc[key] if key in per.index else None
            classes.append({"class": c.name, "package": getattr(c, f"package_{lang}"),
                            "merchants": 0 if got is None else int(got["merchants"]),
                            "clients": 0 if got is None else int(got["clients"]),
                            "volume": 0.0 if got is None else round(float(got["volume"]), 2),
                            "potential": 0.0 if got is None else round(float(got["potential"]), 2)})
        out.append({"association_id": str(a["id"]), "name": _clean(a["name"]), "kind": _clean(a["kind"]),
                    "merchants": sum(c["merchants"] for c in classes), "classes": classes})
    return out


def _clean(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value
