"""The `ecosystem` family: group companies (`group`) and branches and stores (`branch_store`) of clients.

Group links of a client enterprise: its `parent_id` parent, subsidiaries, grandchildren and
fellow subsidiaries of its parent; companies sharing its actual controller where that person
holds a stake in them; and the look-through of ownership where shares are known (effective
stakes multiplied along shareholding chains; an enterprise may hold shares too). Branches
and stores are enterprises named as such (分公司, 门店, 分店 …) whose parent is a client, by
`parent_id` or by a name that starts with the client's name. Every row is listed under the
client (`anchor_id`) with the client's manager. Everything is vectorised over the tables;
`Prospect` objects are built only for the rows kept.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from graph.store import GraphStore
from graph.vocabulary import PLACEHOLDER_MARKERS
from scoring.explain import Prospect
from scoring.features import (
    as_of_date,
    clamp_points,
    decay_points,
    fmt_amount,
    is_in,
    log_points,
    node_codes,
    node_index,
    placeholder_mask,
    validate_prospects,
)
from scoring.settings import ScoringSettings, family_settings

__all__ = ["score", "EcosystemSettings", "GroupWeights", "StoreWeights", "group_links", "store_links"]

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
    stems: dict[str, str] = {}
    for cid, cname in sorted(zip(clients["id"].astype(str), clients["name"].astype(str), strict=True)):
        key = stem(cname, cfg.legal_suffixes)
        if len(key) >= cfg.min_stem_chars:
            stems.setdefault(key, cid)
    anchors, prospects = [], []
    for sid, sname in zip(stores["id"].astype(str), stores["name"].astype(str).str.lower(), strict=True):
        for end in range(len(sname) - 1, cfg.min_stem_chars - 1, -1):
            hit = stems.get(sname[:end])
            if hit is not None:
                anchors.append(hit)
                prospects.append(sid)
                break
    out.append(_links(pd.Series(anchors, dtype=object), pd.Series(prospects, dtype=object), "store_name",
                      cfg.strengths["store_name"]))
    links = pd.concat(out, ignore_index=True)
    return links[links["anchor"] != links["prospect"]]


class _Context:
    """Enterprises and the window's payments (as integer node codes), shared by both kinds."""

    def __init__(self, store: GraphStore, settings: ScoringSettings, cfg: EcosystemSettings) -> None:
        ent = store.read("enterprises")
        pays = store.read("payments", ["payer_id", "payee_id", "amount", "paid_on"])
        self.as_of = as_of_date(settings.as_of, pays["paid_on"])
        # Python-object ids for the (small) enterprise table; payments stay Arrow and are
        # turned into integer codes once (position in `ent`), never filtered as strings.
        ent = ent.astype({c: object for c in ("id", "name", "parent_id", "manager_id", "branch_id")})
        self.ent = ent.set_index("id", drop=False)
        self.n = len(ent)
        index = node_index(ent["id"])
        src, dst = node_codes(index, pays["payer_id"]), node_codes(index, pays["payee_id"])
        day = pays["paid_on"].to_numpy(dtype="datetime64[ns]")
        amount = pays["amount"].to_numpy(dtype=np.float64, na_value=0.0)
        start = np.datetime64(self.as_of - pd.DateOffset(months=cfg.window_months))
        end = np.datetime64(self.as_of + pd.Timedelta(days=1))
        ok = (day > start) & (day < end) & (amount > 0) & (src >= 0) & (dst >= 0) & (src != dst)
        self.src, self.dst, self.amount, self.day = src[ok], dst[ok], amount[ok], day[ok]
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


def _best_anchor(links: pd.DataFrame, ctx: _Context) -> tuple[pd.DataFrame, pd.DataFrame]:
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


def _frame(kind: str, links: pd.DataFrame, ctx: _Context) -> tuple[pd.DataFrame, pd.DataFrame]:
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


LABELS: dict[str, tuple[str, str]] = {
    "relation": ("strength of the group link", "集团关联强度"),
    "corroboration": ("kinds of evidence for the link", "关联证据种类"),
    "credit_anchor": ("linked client holds credit", "关联客户为授信客户"),
    "anchors": ("client companies in the group", "集团内本行客户数"),
    "flows": ("payments with the client, 12 months", "近12个月与客户的往来金额"),
    "flow_months": ("months with payments to or from the client", "与客户有往来的月数"),
    "size": ("registered capital", "注册资本"),
    "link": ("how the store is tied to the client", "门店与客户的关联方式"),
    "chain_size": ("stores of the same client not yet banked here", "同一客户尚未开户的门店数"),
    "activity": ("the store's observed payments, 12 months", "门店近12个月可见往来金额"),
    "recency": ("days since the store's latest payment", "距门店最近一笔往来的天数"),
}
VALUE_COLUMNS = {"relation": "strength", "corroboration": "classes", "credit_anchor": "credit_any",
                 "anchors": "anchors", "flows": "flow_amount", "flow_months": "flow_months", "size": "capital",
                 "link": "strength", "chain_size": "chain_size", "activity": "activity", "recency": "days_since"}

RELATION_WORDS: dict[str, tuple[str, str]] = {
    "subsidiary": ("subsidiary", "子公司"), "parent": ("parent company", "母公司"),
    "sibling": ("fellow subsidiary", "兄弟公司"), "grandchild": ("second-level subsidiary", "孙公司"),
    "controller": ("same actual controller", "同一实际控制人"),
    "owned_by_client": ("held by the client (look-through)", "客户穿透控股"),
    "owns_client": ("holder of the client (look-through)", "穿透持有客户股份"),
    "common_owner": ("same ultimate owner", "同一最终股东"),
    "store_parent": ("branch or store on record", "登记的分支机构"),
    "store_name": ("named as its store", "名称显示为其门店"),
}
_RELATION_TEXT: dict[str, tuple[str, str]] = {
    "subsidiary": ("Subsidiary of client {a} (parent company on record).", "客户{a}的子公司。"),
    "parent": ("Parent company of client {a}.", "客户{a}的母公司。"),
    "sibling": ("Fellow subsidiary of client {a} under {v}.", "与客户{a}同属{v}旗下。"),
    "grandchild": ("Second-level subsidiary of client {a}, through {v}.", "客户{a}经{v}控制的下级公司。"),
    "controller": ("Shares an actual controller with client {a}, who holds {s}% of it.",
                   "与客户{a}为同一实际控制人，其持股{s}%。"),
    "owned_by_client": ("Client {a} holds {s}% of it, looking through the shareholdings.",
                        "客户{a}穿透持股{s}%。"),
    "owns_client": ("Holds {s}% of client {a}, looking through the shareholdings.", "穿透持有客户{a}{s}%的股份。"),
    "common_owner": ("Same ultimate owner as client {a}, holding at least {s}% of both.",
                     "与客户{a}为同一最终股东控制，持股均不低于{s}%。"),
    "store_parent": ("Branch or store of client {a} (parent company on record).", "客户{a}的分支机构/门店。"),
    "store_name": ("Named as a branch or store of client {a}.", "名称显示为客户{a}的分支机构/门店。"),
}


def reasons(r: dict[str, Any], kind: str, names: pd.Series, cfg: EcosystemSettings) -> list[dict[str, str]]:
    """Sentences in English and Chinese: the link first, then the money and the batch size."""
    anchor = str(names.get(r["anchor"], r["anchor"]))
    via = r.get("via")
    via_name = str(names.get(via, via)) if via is not None and not _missing(via) else ""
    stake = "" if _missing(r.get("stake")) else f"{float(r['stake']):.0f}"
    en, zh = _RELATION_TEXT[r["relation"]]
    out: list[dict[str, str]] = [dict(en=en.format(a=anchor, v=via_name, s=stake), zh=zh.format(a=anchor, v=via_name, s=stake))]
    if r["is_deepening"]:
        out.insert(0, dict(en="Already a client, but without credit and with little activity: a deepening prospect.",
                             zh="已是本行客户，但无授信且往来很少：可深耕的存量客户。"))
    others = [x for x in r["relations"] if x != r["relation"]]
    if others:
        out.append(dict(en="Also linked as: " + ", ".join(RELATION_WORDS[x][0] for x in others) + ".",
                        zh="另有关联：" + "、".join(RELATION_WORDS[x][1] for x in others) + "。"))
    if r["flow_amount"] > 0:
        amt_en = fmt_amount(r["flow_amount"], "en", cfg.currency_en, cfg.currency_zh)
        amt_zh = fmt_amount(r["flow_amount"], "zh", cfg.currency_en, cfg.currency_zh)
        out.append(dict(en=f"{amt_en} of payments with the client in {int(r['flow_months'])} month(s) of the "
                             f"last {cfg.window_months}.",
                          zh=f"近{cfg.window_months}个月与该客户往来{amt_zh}，涉及{int(r['flow_months'])}个月。"))
    if kind == "branch_store" and r["chain_size"] > 1:
        out.append(dict(en=f"One of {int(r['chain_size'])} stores or branches of this client not yet banked here: "
                             "open them together.",
                          zh=f"该客户共有{int(r['chain_size'])}家分支机构/门店尚未在本行开户，可批量开户。"))
    also = r.get("also") or []
    if also:
        out.append(dict(en="Also linked to client " + ", ".join(f"{a} ({m})" if m else a for a, m in also) + ".",
                        zh="同时关联客户" + "、".join(f"{a}（客户经理{m}）" if m else a for a, m in also) + "。"))
    return out


def products(r: dict[str, Any], kind: str) -> list[str]:
    """Products from the evidence (documented in docs/scoring-supply-chain.md)."""
    if kind == "branch_store":
        out = ["cash_management", "payroll"]
        if r["activity"] >= 1e6:
            out.append("working_capital_loan")
        return out
    out = ["cash_management"]
    if r["flow_amount"] > 0:
        out.append("supply_chain_finance")
    if r["capital"] >= 1e7 or r["flow_months"] >= 6:
        out.append("working_capital_loan")
    return out


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _value(v: Any) -> float | str | None:
    if _missing(v) or isinstance(v, str):
        return None if _missing(v) else v
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    f = float(v)
    return None if math.isinf(f) else round(f, 4)


def _opt(series: pd.Series, key: str) -> str | None:
    v = series.get(key)
    return None if _missing(v) else str(v)


def score(store: GraphStore, settings: ScoringSettings) -> list[Prospect]:
    """Score group companies and branches/stores of every client, best first per kind."""
    cfg = family_settings(settings, "ecosystem", EcosystemSettings)
    ctx = _Context(store, settings, cfg)
    if ctx.ent.empty:
        return []
    names = ctx.ent["name"].astype(str)
    managers, branches = ctx.ent["manager_id"], ctx.ent["branch_id"]
    slinks = store_links(ctx.ent.reset_index(drop=True), cfg)
    glinks = group_links(ctx.ent.reset_index(drop=True), store.read("roles"), cfg)
    glinks = glinks[~is_in(glinks["prospect"], slinks["prospect"])]  # a store is listed as a store
    rows: list[dict[str, Any]] = []
    for kind, links in (("group", glinks), ("branch_store", slinks)):
        df, kinds = _frame(kind, links, ctx)
        if df.empty:
            continue
        raw = contributions(kind, df, cfg)
        matrix = clamp_points(np.column_stack(list(raw.values())))
        points = {name: matrix[:, i] for i, name in enumerate(raw)}
        df["_pos"] = np.arange(len(df))
        df["score"] = matrix.sum(axis=1)
        df = df.sort_values(["score", "prospect_id", "anchor"], ascending=[False, True, True])
        # The cap counts prospects: a kept prospect keeps its link to every client of its group.
        kept_ids = df["prospect_id"].drop_duplicates().head(cfg.max_rows_per_kind)
        df = df[is_in(df["prospect_id"], kept_ids)]
        anchors_of = df.groupby("prospect_id", sort=False)["anchor"].agg(list).to_dict()
        kept = kinds[is_in(kinds["prospect"], df["prospect_id"])].sort_values(["prospect", "relation"])
        relations = kept.groupby("prospect", sort=False)["relation"].agg(list).to_dict()
        for rec in df.to_dict("records"):
            r = {str(k): v for k, v in rec.items()}
            r["relations"] = relations.get(r["prospect_id"], [r["relation"]])
            pid, anchor = str(r["prospect_id"]), str(r["anchor"])
            evidence = [{"name": name, "label_en": LABELS[name][0], "label_zh": LABELS[name][1],
                         "value": _value(r[VALUE_COLUMNS[name]]), "contribution": float(points[name][r["_pos"]])}
                        for name in points]
            deep = bool(r["is_deepening"])
            manager = (_opt(managers, pid) if deep else None) or _opt(managers, anchor)
            branch = (_opt(branches, pid) if deep else None) or _opt(branches, anchor)
            via = None if _missing(r.get("via")) else str(r["via"])
            path = [x for x in (manager, anchor, via, pid) if x]
            also = [(str(a), _opt(managers, str(a))) for a in anchors_of[pid] if str(a) != anchor]
            r["also"] = also
            rows.append(dict(
                family="ecosystem", kind=kind, prospect_id=pid, name=str(names.get(pid, pid)),
                evidence=evidence, reasons=reasons(r, kind, names, cfg), path=path,
                suggested_products=products(r, kind), manager_id=manager, branch_id=branch, anchor_id=anchor,
                is_deepening=deep,
                details={"relation": r["relation"], "relations": list(r["relations"]), "anchor_id": anchor,
                         "anchor_ids": [str(a) for a in anchors_of[pid]],
                         "shared_with": sorted({m for _, m in also if m and m != manager}),
                         "anchors": int(r["anchors"]), "via": via, "stake_pct": _value(r.get("stake")),
                         "flow_amount": round(float(r["flow_amount"]), 2), "as_of": str(ctx.as_of.date()),
                         **({"stores_of_client": int(r["chain_size"])} if kind == "branch_store" else {})},
            ))
    return validate_prospects(rows)
