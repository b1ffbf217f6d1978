"""Group and store links of the `ecosystem` family, and its settings.

Group links of a client enterprise: its `parent_id` parent, subsidiaries, grandchildren and
fellow subsidiaries of its parent; companies sharing its actual controller where that person
holds a stake in them; and the look-through of ownership where shares are known (effective
stakes multiplied along shareholding chains; an enterprise may hold shares too). Branches
and stores are enterprises named as such (分公司, 门店, 分店 …) whose parent is a client, by
`parent_id` or by a name that starts with the client's name.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from graph.vocabulary import PLACEHOLDER_MARKERS
from scoring.features import is_in

__all__ = ["EcosystemSettings", "GroupWeights", "StoreWeights", "LINK_COLUMNS", "RELATION_CLASS", "group_links",
           "store_links", "stem", "stems"]

LINK_COLUMNS = ["anchor", "prospect", "relation", "strength", "via", "stake"]
# Relations of the group kind, by the kind of evidence behind them (corroboration counts classes).
RELATION_CLASS = {"subsidiary": "tree", "parent": "tree", "sibling": "tree", "grandchild": "tree",
                  "controller": "controller", "owned_by_client": "ownership", "owns_client": "ownership",
                  "common_owner": "ownership"}


class GroupWeights(BaseModel):
    relation: float = Field(default=40, ge=0)
    corroboration: float = Field(default=10, ge=0)
    credit_anchor: float = Field(default=15, ge=0)
    anchors: float = Field(default=5, ge=0)
    flows: float = Field(default=15, ge=0)
    flow_months: float = Field(default=5, ge=0)
    size: float = Field(default=10, ge=0)


class StoreWeights(BaseModel):
    link: float = Field(default=45, ge=0)
    chain_size: float = Field(default=15, ge=0)
    credit_anchor: float = Field(default=10, ge=0)
    flows: float = Field(default=15, ge=0)
    activity: float = Field(default=10, ge=0)
    recency: float = Field(default=5, ge=0)


class EcosystemSettings(BaseModel):
    """The `ecosystem:` section of scoring/weights.yaml (documented there)."""

    max_rows_per_kind: int = Field(default=5000, ge=1)
    window_months: int = Field(default=12, ge=1, le=60)
    deepening_max_payments: int = Field(default=6, ge=0)
    controller_min_stake: float = Field(default=0.0, ge=0, le=100)
    control_pct: float = Field(default=50.0, gt=0, le=100)
    lookthrough_depth: int = Field(default=3, ge=1, le=6)
    strengths: dict[str, float] = Field(default_factory=lambda: {
        "subsidiary": 1.0, "parent": 1.0, "sibling": 0.8, "grandchild": 0.8, "controller": 0.9,
        "owned_by_client": 1.0, "owns_client": 1.0, "common_owner": 0.8, "store_parent": 1.0,
        "store_name": 0.8})
    store_markers: list[str] = Field(default_factory=lambda: [
        "分公司", "分店", "门店", "分部", "营业部", "办事处", "分厂", "专卖店", "加盟店", "直营店", "分行",
        "branch", "store", "shop", "outlet"])
    legal_suffixes: list[str] = Field(default_factory=lambda: [
        "股份有限公司", "有限责任公司", "有限公司", "集团", "连锁", "公司", "limited", "ltd", "plc", "co"])
    min_stem_chars: int = Field(default=4, ge=2)
    placeholder_names: list[str] = Field(default_factory=lambda: list(PLACEHOLDER_MARKERS))
    flows_full: float = Field(default=1e7, gt=0)
    size_full: float = Field(default=1e8, gt=0)
    chain_size_full: float = Field(default=30, gt=0)
    activity_full: float = Field(default=1e6, gt=0)
    recency_half_life_days: float = Field(default=90, gt=0)
    currency_en: str = "CNY"
    currency_zh: str = "元"
    group: GroupWeights = Field(default_factory=GroupWeights)
    stores: StoreWeights = Field(default_factory=StoreWeights)


def _links(anchor: pd.Series, prospect: pd.Series, relation: str, strength: float,
           via: pd.Series | None = None, stake: pd.Series | None = None) -> pd.DataFrame:
    n = len(anchor)
    return pd.DataFrame({
        "anchor": anchor.to_numpy(dtype=object), "prospect": prospect.to_numpy(dtype=object),
        "relation": [relation] * n, "strength": np.full(n, strength),
        "via": via.to_numpy(dtype=object) if via is not None else np.full(n, None, dtype=object),
        "stake": stake.to_numpy(dtype=np.float64) if stake is not None else np.full(n, np.nan)})


def group_links(ent: pd.DataFrame, roles: pd.DataFrame, cfg: EcosystemSettings) -> pd.DataFrame:
    """Every (client anchor, group company) link with its relation, strength and intermediary."""
    s = cfg.strengths
    clients = ent.loc[ent["is_client"].fillna(False).to_numpy(dtype=bool), "id"]
    ids = ent["id"]
    tree = ent.loc[ent["parent_id"].notna(), ["id", "parent_id"]].astype(str)
    tree = tree[is_in(tree["parent_id"], ids) & (tree["id"] != tree["parent_id"])]
    is_client = is_in(tree["parent_id"], clients)
    out = [_links(tree.loc[is_client, "parent_id"], tree.loc[is_client, "id"], "subsidiary", s["subsidiary"])]
    child_client = is_in(tree["id"], clients)
    out.append(_links(tree.loc[child_client, "id"], tree.loc[child_client, "parent_id"], "parent", s["parent"]))
    sib = tree.merge(tree, on="parent_id", suffixes=("_a", "_p"))
    sib = sib[(sib["id_a"] != sib["id_p"]) & is_in(sib["id_a"], clients)]
    out.append(_links(sib["id_a"], sib["id_p"], "sibling", s["sibling"], via=sib["parent_id"]))
    grand = tree.merge(tree, left_on="id", right_on="parent_id", suffixes=("_up", "_down"))
    grand = grand[is_in(grand["parent_id_up"], clients) & (grand["id_down"] != grand["parent_id_up"])]
    out.append(_links(grand["parent_id_up"], grand["id_down"], "grandchild", s["grandchild"], via=grand["id_up"]))

    r = roles.dropna(subset=["person_id", "enterprise_id"]).astype({"person_id": object, "enterprise_id": object,
                                                                    "role": object})
    stakes = (r[r["share_pct"] > 0].groupby(["person_id", "enterprise_id"], as_index=False, sort=False)
              ["share_pct"].max())
    ctrl = r.loc[(r["role"] == "actual_controller").to_numpy(dtype=bool), ["person_id", "enterprise_id"]]
    ctrl = ctrl.drop_duplicates()
    # Only controllers of a client matter: pair those few with everything their person controls.
    of_client = ctrl[is_in(ctrl["enterprise_id"], clients)]
    pairs = of_client.merge(ctrl, on="person_id", suffixes=("_a", "_p"))
    pairs = pairs[is_in(pairs["enterprise_id_a"], clients) & (pairs["enterprise_id_a"] != pairs["enterprise_id_p"])]
    pairs = pairs.merge(stakes, left_on=["person_id", "enterprise_id_p"], right_on=["person_id", "enterprise_id"])
    pairs = pairs[pairs["share_pct"] > cfg.controller_min_stake]
    out.append(_links(pairs["enterprise_id_a"], pairs["enterprise_id_p"], "controller", s["controller"],
                      via=pairs["person_id"], stake=pairs["share_pct"]))
    out.extend(_lookthrough(r, clients, cfg))
    links = pd.concat([o for o in out if len(o)], ignore_index=True) if any(len(o) for o in out) else \
        pd.DataFrame(columns=LINK_COLUMNS)
    links = links[links["anchor"] != links["prospect"]]
    # The same person seen as actual controller and as ultimate shareholder is one fact, not two.
    ctrl_keys = links.loc[links["relation"] == "controller", ["anchor", "prospect", "via"]].assign(dup=True)
    links = links.merge(ctrl_keys, on=["anchor", "prospect", "via"], how="left")
    dup = links["dup"].fillna(False).to_numpy(dtype=bool) & (links["relation"] == "common_owner").to_numpy()
    return links.loc[~dup, LINK_COLUMNS].reset_index(drop=True)


def _lookthrough(roles: pd.DataFrame, clients: pd.Series, cfg: EcosystemSettings) -> list[pd.DataFrame]:
    """Effective stakes along shareholding chains (sum over paths of the product of shares)."""
    s, control = cfg.strengths, cfg.control_pct / 100.0
    held = roles[roles["role"].isin(["shareholder", "actual_controller"]) & (roles["share_pct"] > 0)]
    held = held.groupby(["person_id", "enterprise_id"], as_index=False, sort=False).agg(
        share_pct=("share_pct", "max"))
    held = held.rename(columns={"person_id": "holder", "enterprise_id": "firm"})
    held["w"] = np.clip(held["share_pct"].to_numpy() / 100.0, 0.0, 1.0)
    held = held[["holder", "firm", "w"]]
    paths, frontier = [held], held
    for _ in range(cfg.lookthrough_depth - 1):
        step = frontier.merge(held, left_on="firm", right_on="holder", suffixes=("", "_n"))
        step = step[step["firm_n"] != step["holder"]]
        frontier = pd.DataFrame({"holder": step["holder"], "firm": step["firm_n"], "w": step["w"] * step["w_n"]})
        # Paths below a quarter of control are dropped: an approximation that bounds the work.
        frontier = frontier[frontier["w"] >= control / 4]
        if frontier.empty:
            break
        paths.append(frontier)
    eff = pd.concat(paths).groupby(["holder", "firm"], as_index=False, sort=False)["w"].sum()
    eff["w"] = eff["w"].clip(upper=1.0)
    strong = eff[eff["w"] >= control]
    out = []
    own = strong[is_in(strong["holder"], clients)]
    out.append(_links(own["holder"], own["firm"], "owned_by_client", s["owned_by_client"], stake=own["w"] * 100))
    owner = strong[is_in(strong["firm"], clients)]
    out.append(_links(owner["firm"], owner["holder"], "owns_client", s["owns_client"], stake=owner["w"] * 100))
    common = owner.merge(strong, on="holder", suffixes=("_a", "_p"))
    common = common[common["firm_a"] != common["firm_p"]]
    out.append(_links(common["firm_a"], common["firm_p"], "common_owner", s["common_owner"],
                      via=common["holder"], stake=np.minimum(common["w_a"], common["w_p"]) * 100))
    return out


def stem(name: str, suffixes: list[str]) -> str:
    """A client's name without legal-form words: '康宁大药房连锁有限公司' -> '康宁大药房'."""
    out = re.sub(r"[（(][^）)]*[）)]", "", name).strip().lower()
    changed = True
    while changed:
        changed = False
        for suffix in suffixes:
            if out.endswith(suffix) and len(out) > len(suffix):
                out = out[: -len(suffix)].strip(" .,")
                changed = True
    return out


def stems(names: pd.Series, suffixes: list[str]) -> pd.Series:
    """`stem` over a column: the same steps on every name at once."""
    out = names.astype(str).str.replace(r"[（(][^）)]*[）)]", "", regex=True).str.strip().str.lower()
    changed = True
    while changed:
        before = out
        for suffix in suffixes:
            cut = out.str.endswith(suffix) & (out.str.len() > len(suffix))
            if cut.any():
                out = out.where(~cut, out.str[: -len(suffix)].str.strip(" .,"))
        changed = bool((out != before).any())
    return out


def store_links(ent: pd.DataFrame, cfg: EcosystemSettings) -> pd.DataFrame:
    """(client, store) links: store-named enterprises under a client by parent_id or by name."""
    names = ent["name"].astype("string").fillna("")
    rx = "|".join(re.escape(m) for m in cfg.store_markers)
    stores = ent[names.str.contains(rx, case=False, regex=True).to_numpy(dtype=bool)]
    clients = ent[ent["is_client"].fillna(False).astype(bool)]
    out = []
    by_parent = stores[is_in(stores["parent_id"], clients["id"])]
    out.append(_links(by_parent["parent_id"].astype(str), by_parent["id"].astype(str), "store_parent",
                      cfg.strengths["store_parent"]))
    # A client's stem names its stores; a stem two clients share goes to the smaller id.
    keyed = pd.DataFrame({"id": clients["id"].astype(str), "name": clients["name"].astype(str)})
    keyed = keyed.sort_values(["id", "name"], kind="stable")
    keyed["key"] = stems(keyed["name"], cfg.legal_suffixes)
    keyed = keyed[keyed["key"].str.len() >= cfg.min_stem_chars].drop_duplicates("key")
    owner = pd.Series(keyed["id"].to_numpy(dtype=object), index=pd.Index(keyed["key"].to_numpy(dtype=object)))
    # Each store's longest proper prefix that is a stem: one vectorised probe per prefix length.
    snames = stores["name"].astype(str).str.lower()
    lengths = snames.str.len().to_numpy()
    hit = pd.Series(None, index=snames.index, dtype=object)
    for end in range(int(lengths.max(initial=0)) - 1, cfg.min_stem_chars - 1, -1):
        todo = hit.isna().to_numpy() & (lengths > end)
        if todo.any():
            found = snames[todo].str[:end].map(owner).dropna()
            hit.loc[found.index] = found
    matched = hit.notna().to_numpy()
    out.append(_links(hit[matched], stores.loc[matched, "id"].astype(str), "store_name",
                      cfg.strengths["store_name"]))
    links = pd.concat(out, ignore_index=True)
    return links[links["anchor"] != links["prospect"]]

