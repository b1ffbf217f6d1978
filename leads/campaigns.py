"""Chain and cluster campaigns, one row each (DOMAIN.md: the 240-store pharmacy chain, markets).

- a store chain (a client with stores, `parent_id`): stores total, opened (clients), pending, and
  the next stores to open (best `ecosystem` branch_store rows first); for a branch viewer, its
  stores only (another branch's counted in `hidden`, never named);
- a market or cluster (an association of kind market or park): its merchants in three classes by
  yearly settlement volume and scale (registered capital), each with its product package, count,
  clients and potential (the yearly volume of the merchants not yet clients).
Additive to the lead board: these rows are campaigns, not entity leads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.settings import get_settings
from graph.store import GraphStore
from graph.vocabulary import jsonable
from leads.settings import load_rhythm
from scoring.features import store_views
from scoring.settings import ScoringSettings
from scoring.stored import load_prospects

__all__ = ["chain_campaigns", "market_campaigns", "in_scope_mask", "MARKET_KINDS"]

MARKET_KINDS = ("market", "park")
MIN_STORES = 3  # an enterprise with at least this many stores (parent_id) is a chain


def in_scope_mask(branches: pd.Series, in_scope: Callable[[Any], bool] | None) -> np.ndarray:
    """Which rows of a branch column `in_scope` admits (a viewer's `Viewer.in_scope`; None: every
    row), judged once per distinct branch: a missing branch (None, NaN) is no branch's, shared."""
    if in_scope is None:
        return np.ones(len(branches), dtype=bool)
    codes, found = pd.factorize(branches, use_na_sentinel=True)
    allowed = np.array([bool(in_scope(b)) for b in found.tolist()] + [bool(in_scope(None))], dtype=bool)
    return np.asarray(allowed[codes], dtype=bool)  # a missing branch (code -1) takes the last entry


def chain_campaigns(store: GraphStore, anchor: str | None = None, next_n: int = 5,
                    min_stores: int = MIN_STORES,
                    in_scope: Callable[[Any], bool] | None = None) -> list[dict[str, Any]]:
    """One row per chain: an enterprise with at least `min_stores` stores (or `anchor`), most
    stores first: `stores`, `opened` (clients), `pending` and the `next` stores to open (the best
    `ecosystem` branch_store rows first, then the others in table order).

    With `in_scope` (a viewer's branch predicate, `Viewer.in_scope`) only the chains whose head it
    admits are listed, and every count and the stores named are the stores it admits (theirs and
    those of no branch): another branch's stores are neither named nor counted, only their number
    is given (`hidden`), as `market_campaigns` counts another branch's merchants. Whether an
    enterprise is a chain is a fact about its head (all its stores). Column-wise: the stores are
    counted and the next ones chosen by group-bys, the loop is over the chains listed.
    """
    ent = store.read("enterprises", ["id", "name", "is_client", "parent_id", "branch_id", "manager_id"])
    stores = ent.dropna(subset=["parent_id"])
    size = stores.groupby("parent_id").size()
    chains = size[size >= min_stores] if anchor is None else size[size.index == anchor]
    heads = ent.drop_duplicates("id").set_index("id").reindex(chains.index)
    heads = heads[in_scope_mask(heads["branch_id"], in_scope)]
    if heads.empty:
        return []
    stores = stores[stores["parent_id"].isin(heads.index)]
    keep = in_scope_mask(stores["branch_id"], in_scope)
    hidden = stores.loc[~keep].groupby("parent_id").size()
    stores = stores[keep].assign(opened=stores.loc[keep, "is_client"].fillna(False).astype(bool))
    per = stores.groupby("parent_id").agg(stores=("id", "size"), opened=("opened", "sum"))
    per = per.reindex(heads.index, fill_value=0).assign(hidden=hidden.reindex(heads.index, fill_value=0))
    per = per.rename_axis("anchor_id").reset_index().sort_values(["stores", "anchor_id"], ascending=[False, True],
                                                                 kind="stable")
    nxt = _next_stores(store, stores[~stores["opened"]], next_n)
    out = []
    for row in per.to_dict("records"):  # one row per chain listed
        head = heads.loc[row["anchor_id"]]
        out.append({"anchor_id": str(row["anchor_id"]), "name": jsonable(head["name"]),
                    "branch_id": jsonable(head["branch_id"]), "manager_id": jsonable(head["manager_id"]),
                    "stores": int(row["stores"]), "opened": int(row["opened"]),
                    "pending": int(row["stores"] - row["opened"]), "hidden": int(row["hidden"]),
                    "next": nxt.get(row["anchor_id"], [])})
    return out


def _next_stores(store: GraphStore, pending: pd.DataFrame, next_n: int) -> dict[Any, list[dict[str, Any]]]:
    """Per chain, its first `next_n` `pending` stores: those with a stored `ecosystem` branch_store
    row under the chain in the rows' order (best first), then the others in table order."""
    ranked = load_prospects(store, "ecosystem", kind="branch_store")[["anchor_id", "prospect_id"]]
    ranked = ranked.astype(str).drop_duplicates()
    place = pd.Series(np.arange(len(ranked)), index=pd.MultiIndex.from_frame(ranked))
    key = pd.MultiIndex.from_arrays([pending["parent_id"].astype(str), pending["id"].astype(str)])
    pending = pending.assign(place=place.reindex(key).to_numpy(), at=np.arange(len(pending)))
    pending = pending.sort_values(["place", "at"], na_position="last", kind="stable")
    chosen = pending.groupby("parent_id", sort=False).head(next_n)
    return {chain: [{"entity_id": str(i), "name": jsonable(n)} for i, n in zip(g["id"], g["name"], strict=True)]
            for chain, g in chosen.groupby("parent_id", sort=False)}


# Yearly settlement volume of the given entities: what they paid and received in the last 12
# months of the payments table (months are "YYYY-MM" text, so the window compares as text).
_VOLUMES_SQL = """
WITH flows AS (  -- each payment read once, counted for its payer and its payee
    SELECT unnest([payer_id, payee_id]) AS id, amount FROM payments WHERE month >= $first
)
SELECT flows.id, sum(flows.amount) AS volume
FROM flows JOIN wanted ON flows.id = wanted.id
GROUP BY flows.id
"""


def _member_volumes(store: GraphStore) -> pd.Series:
    """`_volumes` of every association member, kept per store version: the same for every viewer
    and market (a request maps its members on it instead of reading the payments again)."""
    members = store.read("memberships", ["member_id"])["member_id"].dropna()
    return store.remembered(("association-member-volumes",), lambda: _volumes(store, members),
                            lambda s: s, len)


def _volumes(store: GraphStore, ids: pd.Series) -> pd.Series:
    """Yearly settlement volume of the entities `ids`: payments they made and received over the
    last 12 months, summed by DuckDB over the store's payments file (no payment becomes Python)."""
    if ids.empty:
        return pd.Series(dtype=float)
    con = store_views(store, {"payments": ("payer_id", "payee_id", "amount", "month")})
    try:
        last = con.sql("SELECT max(month) AS last FROM payments").to_arrow_table()["last"][0].as_py()
        if last is None:
            return pd.Series(dtype=float)
        con.register("wanted", pa.table({"id": pa.array(ids.astype(str).unique())}))
        first = str(pd.Period(str(last), "M") - 11)
        found = con.sql(_VOLUMES_SQL, params={"first": first}).to_arrow_table()
    finally:
        con.close()
    return pd.Series(found["volume"].to_numpy(), index=found["id"].to_pylist(), dtype=float)


def market_campaigns(store: GraphStore, association: str | None = None,
                     settings: ScoringSettings | None = None,
                     in_scope: Callable[[Any], bool] | None = None) -> list[dict[str, Any]]:
    """One row per market or cluster with its merchants in three classes (largest first).

    With `in_scope` (a viewer's branch predicate) only the merchants it admits are counted: a
    branch manager's classes, volumes and potential hold no other branch's client; each row
    says how many merchants were left out (`hidden`).
    """
    settings = settings or get_settings().scoring
    conf = load_rhythm(settings)
    lang = settings.lang
    assoc = store.read("associations", ["id", "name", "kind"])
    assoc = assoc[assoc["kind"].isin(MARKET_KINDS)] if association is None else assoc[assoc["id"] == association]
    members = store.read("memberships", ["association_id", "member_id"])
    members = members[members["association_id"].isin(assoc["id"])]
    ent = store.read("enterprises", ["id", "is_client", "registered_capital", "branch_id"]
                     ).drop_duplicates("id").set_index("id")
    left_out = pd.Series(dtype=int)  # per association: merchants of another branch, not counted
    if in_scope is not None:
        keep = in_scope_mask(members["member_id"].map(ent["branch_id"]), in_scope)
        left_out = members.loc[~keep, "association_id"].astype(str).value_counts()
        members = members[keep]
    members = members.assign(
        volume=members["member_id"].map(_member_volumes(store)).fillna(0.0),
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
        out.append({"association_id": str(a["id"]), "name": jsonable(a["name"]), "kind": jsonable(a["kind"]),
                    "merchants": sum(c["merchants"] for c in classes), "classes": classes,
                    "hidden": int(left_out.get(str(a["id"]), 0))})
    return out
