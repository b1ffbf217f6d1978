"""The rows of the `ecosystem` family as one Arrow frame (`scoring.frame`), built column-wise.

Reasons are templates of `TEMPLATES` with their parameters (names of firms are parameters of
their own), rendered when a row is shown. The other relations and other clients of a prospect
and the details are put together by DuckDB over the kept links.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from scoring.ecosystem.links import EcosystemSettings
from scoring.features import duckdb_cursor
from scoring.frame import Bar, ReasonSlot, build_frame
from scoring.supply_chain.features import distinguishing
from scoring.supply_chain.rows import TEMPLATES as SUPPLY_CHAIN_TEMPLATES
from scoring.templates import register

__all__ = ["COMPARATIVE", "LABELS", "RELATION_WORDS", "TEMPLATES", "kind_frame", "product_masks"]

#: each feature's (English, Chinese) label; {months} is the window (`window_months`).
LABELS: dict[str, tuple[str, str]] = {
    "relation": ("strength of the group link", "集团关联强度"),
    "corroboration": ("kinds of evidence for the link", "关联证据种类"),
    "credit_anchor": ("linked client holds credit", "关联客户为授信客户"),
    "anchors": ("client companies in the group", "集团内本行客户数"),
    "flows": ("payments with the client, {months} months", "近{months}个月与客户的往来金额"),
    "flow_months": ("months with payments to or from the client", "与客户有往来的月数"),
    "size": ("registered capital", "注册资本"),
    "link": ("how the store is tied to the client", "门店与客户的关联方式"),
    "chain_size": ("stores of the same client not yet banked here", "同一客户尚未开户的门店数"),
    "activity": ("the store's observed payments, {months} months", "门店近{months}个月可见往来金额"),
    "recency": ("days since the store's latest payment", "距门店最近一笔往来的天数"),
}
#: the features whose sentence is shown only in the kind's top quartile (`distinguishing`)
COMPARATIVE: dict[str, tuple[str, ...]] = {"group": ("flow_amount",), "branch_store": ("flow_amount", "chain_size")}
VALUE_COLUMNS = {"relation": "strength", "corroboration": "classes", "credit_anchor": "credit_any",
                 "anchors": "anchors", "flows": "flow_amount", "flow_months": "flow_months", "size": "capital",
                 "link": "strength", "chain_size": "chain_size", "activity": "activity", "recency": "v_days"}

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
    "subsidiary": ("Subsidiary of client {anchor} (parent company on record).", "客户{anchor}的子公司。"),
    "parent": ("Parent company of client {anchor}.", "客户{anchor}的母公司。"),
    "sibling": ("Fellow subsidiary of client {anchor} under {via}.", "与客户{anchor}同属{via}旗下。"),
    "grandchild": ("Second-level subsidiary of client {anchor}, through {via}.", "客户{anchor}经{via}控制的下级公司。"),
    "controller": ("Shares an actual controller with client {anchor}, who holds {stake:.0f}% of it.",
                   "与客户{anchor}为同一实际控制人，其持股{stake:.0f}%。"),
    "owned_by_client": ("Client {anchor} holds {stake:.0f}% of it, looking through the shareholdings.",
                        "客户{anchor}穿透持股{stake:.0f}%。"),
    "owns_client": ("Holds {stake:.0f}% of client {anchor}, looking through the shareholdings.",
                    "穿透持有客户{anchor}{stake:.0f}%的股份。"),
    "common_owner": ("Same ultimate owner as client {anchor}, holding at least {stake:.0f}% of both.",
                     "与客户{anchor}为同一最终股东控制，持股均不低于{stake:.0f}%。"),
    "store_parent": ("Branch or store of client {anchor} (parent company on record).", "客户{anchor}的分支机构/门店。"),
    "store_name": ("Named as a branch or store of client {anchor}.", "名称显示为客户{anchor}的分支机构/门店。"),
}
#: template id -> (English, Chinese); the amount names its window ({months} months)
TEMPLATES: dict[str, tuple[str, str]] = {
    "ecosystem.deepening": SUPPLY_CHAIN_TEMPLATES["supply_chain.deepening"],
    **{f"ecosystem.relation.{rel}": words for rel, words in _RELATION_TEXT.items()},
    "ecosystem.also_as": ("Also linked as: {words_en}.", "另有关联：{words_zh}。"),
    "ecosystem.flows": ("{cur_en} {amount:short_en} of payments with the client over the last {months} months, "
                        "in {flow_months} month(s).",
                        "近{months}个月与该客户往来{amount:short_zh}{cur_zh}，涉及{flow_months}个月。"),
    "ecosystem.stores": ("One of {stores} stores or branches of this client not yet banked here: open them together.",
                         "该客户共有{stores}家分支机构/门店尚未在本行开户，可批量开户。"),
    "ecosystem.also": ("Also linked to client {also:parties_en}.", "同时关联客户{also:parties_zh}。"),
}
register(TEMPLATES)

# Per kept row, in the rows' order: its prospect's other relations (words in both languages),
# all its relations, all its clients with their branches, the other clients as a parties field
# (`scoring.templates`: each with its manager and branch, named per viewer) and their managers
# other than the row's own, with their clients' branches.
_OTHERS_SQL = """
WITH r AS (SELECT i, prospect_id, anchor, relation, manager_id, anchor_manager AS m,
                  coalesce(anchor_branch, '') AS b FROM rows),
rel AS (
    SELECT k.prospect AS prospect_id, list(k.relation ORDER BY k.relation) AS relations,
           list({'relation': k.relation, 'en': w.en, 'zh': w.zh} ORDER BY k.relation) AS words
    FROM kinds k JOIN words w USING (relation) GROUP BY k.prospect),
cl AS (
    SELECT prospect_id, list(anchor ORDER BY i) AS anchor_ids, list(b ORDER BY i) AS anchor_branches,
           list({'i': i, 'id': anchor, 'm': m, 'b': b} ORDER BY i) AS clients
    FROM r GROUP BY prospect_id),
o AS (
    SELECT r.i, coalesce(rel.relations, [r.relation]) AS relations, cl.anchor_ids, cl.anchor_branches,
           list_filter(coalesce(rel.words, []), lambda x: x.relation <> r.relation) AS other_words,
           list_filter(cl.clients, lambda x: x.i <> r.i) AS others, r.manager_id
    FROM r JOIN cl USING (prospect_id) LEFT JOIN rel USING (prospect_id)),
s AS (
    SELECT *, list_filter(others, lambda x: coalesce(x.m, '') <> '' AND x.m IS DISTINCT FROM manager_id) AS sharing
    FROM o)
SELECT relations, anchor_ids, anchor_branches,
       len(other_words) AS n_words,
       array_to_string(list_transform(other_words, lambda x: x.en), ', ') AS words_en,
       array_to_string(list_transform(other_words, lambda x: x.zh), '、') AS words_zh,
       len(others) AS n_also,
       to_json({'named': list_transform(others, lambda x: {'id': x.id, 'm': x.m, 'b': x.b})})::VARCHAR AS also,
       list_sort(list_distinct(list_transform(sharing, lambda x: x.m))) AS shared_with,
       list_transform(list_sort(list_distinct(list_transform(sharing, lambda x: x.m))),
                      lambda m: list_filter(sharing, lambda x: x.m = m)[1].b) AS shared_branches
FROM s ORDER BY i
"""


def product_masks(df: pd.DataFrame, kind: str) -> dict[str, np.ndarray]:
    """Products from the evidence (documented in docs/scoring-supply-chain.md)."""
    every = np.ones(len(df), dtype=bool)
    if kind == "branch_store":
        return {"cash_management": every, "payroll": every,
                "working_capital_loan": df["activity"].to_numpy() >= 1e6}
    return {"cash_management": every, "supply_chain_finance": df["flow_amount"].to_numpy() > 0,
            "working_capital_loan": (df["capital"].to_numpy() >= 1e7) | (df["flow_months"].to_numpy() >= 6)}


def _text(values: pd.Series) -> pd.Series:
    """Ids as text, missing and empty as NA."""
    out = values.astype("string").str.strip()
    return out.where(out != "")


def kind_frame(kind: str, df: pd.DataFrame, kinds: pd.DataFrame, points: dict[str, np.ndarray],
               ent: pd.DataFrame, as_of: pd.Timestamp, cfg: EcosystemSettings) -> pa.Table:
    """The frame of one kind's kept links (`df`, best first); `kinds` holds the (prospect,
    relation) pairs, `ent` the enterprises indexed by id."""
    rows = df.reset_index(drop=True)
    n = len(rows)
    anchor = rows["anchor"].astype("string")
    pid = rows["prospect_id"].astype("string")
    deep = rows["is_deepening"].to_numpy(dtype=bool)

    def at(column: str, ids: pd.Series) -> pd.Series:  # an enterprise column at `ids`, as text
        return ent[column].reindex(ids.to_numpy(dtype=object)).astype("string").reset_index(drop=True)

    own_manager, anchor_manager = _text(at("manager_id", pid)), _text(at("manager_id", anchor))
    own_branch, anchor_branch = _text(at("branch_id", pid)), _text(at("branch_id", anchor))
    via = _text(rows["via"].astype(object).where(rows["via"].notna(), None))
    via_name = at("name", via.fillna("")).fillna(via).fillna("")
    rows = rows.assign(
        i=np.arange(n), anchor=anchor, name=at("name", pid), anchor_name=at("name", anchor).fillna(anchor),
        via=via, via_name=via_name,
        manager_id=own_manager.where(deep & own_manager.notna(), anchor_manager), anchor_manager=anchor_manager,
        anchor_branch=anchor_branch,
        branch_id=own_branch.where(deep & own_branch.notna(), anchor_branch),
        v_days=rows["days_since"].replace(np.inf, np.nan) if "days_since" in rows else np.nan,
        months=cfg.window_months, cur_en=cfg.currency_en, cur_zh=cfg.currency_zh,
    )
    others = _others(rows, kinds)
    products = product_masks(rows, kind)
    # Comparative sentences only where they separate the row: its payments with the client, or
    # the size of its client's chain of stores, in the top quartile of the kind's rows (#17).
    shown = distinguishing(rows, COMPARATIVE[kind])
    masks = {"deep": deep, "also_as": others["n_words"].to_numpy() > 0,
             "flows": (rows["flow_amount"].to_numpy() > 0) & shown["flow_amount"].to_numpy(),
             "stores": (rows["chain_size"].to_numpy() > 1) & shown["chain_size"].to_numpy() if kind == "branch_store"
             else np.zeros(n, dtype=bool),
             "also": others["n_also"].to_numpy() > 0}
    rows = rows.assign(**{f"when_{k}": v for k, v in masks.items()}, **{f"sells_{k}": v for k, v in products.items()},
                       **{c: others[c].to_numpy() for c in ("words_en", "words_zh", "also")},
                       **{f"p_{name}": values[rows["_pos"].to_numpy()] for name, values in points.items()})
    relation = rows["relation"].to_numpy()
    reasons = [ReasonSlot("ecosystem.deepening", when="when_deep")]
    for rel in _RELATION_TEXT:
        rows[f"when_{rel}"] = relation == rel
        if rows[f"when_{rel}"].any():
            reasons.append(ReasonSlot(f"ecosystem.relation.{rel}", {"anchor": "anchor_name", "via": "via_name", "stake": "stake"},
                                      when=f"when_{rel}"))
    reasons += [
        ReasonSlot("ecosystem.also_as", {"words_en": "words_en", "words_zh": "words_zh"}, when="when_also_as"),
        ReasonSlot("ecosystem.flows", {"amount": "flow_amount", "flow_months": "flow_months", "months": "months",
                                       "cur_en": "cur_en", "cur_zh": "cur_zh"}, when="when_flows"),
        ReasonSlot("ecosystem.stores", {"stores": "chain_size"}, when="when_stores"),
        ReasonSlot("ecosystem.also", {"also": "also"}, when="when_also"),
    ]
    labels = {name: (en.format(months=cfg.window_months), zh.format(months=cfg.window_months))
              for name, (en, zh) in LABELS.items()}
    bars = [Bar(name, *labels[name], VALUE_COLUMNS[name], f"p_{name}") for name in points]
    details: dict[str, pa.Array | pd.Series] = {
        "relation": rows["relation"].astype("string"), "relations": others["relations"], "anchor_id": anchor,
        "anchor_ids": others["anchor_ids"], "anchor_branches": others["anchor_branches"],
        "shared_with": others["shared_with"], "shared_branches": others["shared_branches"],
        "anchors": rows["anchors"].astype(np.int64), "via": via, "stake_pct": rows["stake"].astype(float).round(4),
        "flow_amount": rows["flow_amount"].round(2), "as_of": pa.array([str(as_of.date())] * n),
    }
    if kind == "branch_store":
        details["stores_of_client"] = rows["chain_size"].astype(np.int64)
    return build_frame(rows, family="ecosystem", kind=kind, bars=bars, reasons=reasons,
                       products=[(p, f"sells_{p}") for p in products],
                       path=["manager_id", "anchor", "via", "prospect_id"], details=details,
                       ids={"anchor_id": "anchor"}, digits=None)


def _others(rows: pd.DataFrame, kinds: pd.DataFrame) -> pa.Table:
    """Per row (in order): relations and clients of its prospect, as lists and as words."""
    table = pa.table({"i": pa.array(rows["i"].to_numpy()),
                      **{c: pa.array(rows[c], pa.string())
                         for c in ("prospect_id", "anchor", "relation", "manager_id", "anchor_manager",
                                   "anchor_branch")}})
    words = pa.table({"relation": list(RELATION_WORDS), "en": [w[0] for w in RELATION_WORDS.values()],
                      "zh": [w[1] for w in RELATION_WORDS.values()]})
    con = duckdb_cursor()
    try:
        con.register("rows", table)
        con.register("kinds", pa.table({"prospect": pa.array(kinds["prospect"].astype("string"), pa.string()),
                                        "relation": pa.array(kinds["relation"].astype("string"), pa.string())}))
        con.register("words", words)
        return con.sql(_OTHERS_SQL).arrow().read_all()
    finally:
        con.close()
