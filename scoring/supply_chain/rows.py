"""The rows of the `supply_chain` family as one Arrow frame (`scoring.frame`), built column-wise.

Each evidence bar, reason, product and path step is a column of the kept links; a reason is a
template of `TEMPLATES` with its parameters (names of firms are parameters of their own),
rendered in Chinese or English when a row is shown. The other anchors of a prospect ("Also
supplies E0002 (M04)") and the details are put together by DuckDB over the kept links, each
anchor with its branch, so a viewer is shown only the anchors and managers of its branches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from scoring.features import duckdb_cursor
from scoring.frame import Bar, ReasonSlot, build_frame
from scoring.supply_chain.chain import Chain, SupplyChainSettings
from scoring.supply_chain.features import FEATURES, distinguishing, labels
from scoring.templates import register

__all__ = ["TEMPLATES", "kind_frame", "product_masks"]

_AMOUNT_EN, _AMOUNT_ZH = "{cur_en} {amount:short_en}", "{amount:short_zh}{cur_zh}"
_ROLE = {"upstream": ("supplier", "供应商"), "downstream": ("buyer", "客户（买方）")}

#: template id -> (English, Chinese); every amount names its window ({months} months)
TEMPLATES: dict[str, tuple[str, str]] = {
    "supply_chain.deepening": ("Already a client, but without credit and with little activity: a deepening prospect.",
                               "已是本行客户，但无授信且往来很少：可深耕的存量客户。"),
    "supply_chain.discount": ("Discounted {n} chain bill(s) at another bank in the last {months} months: "
                              "a bill-discounting lead (承贴联动).",
                              "近{months}个月在他行贴现链条票据{n}张：承贴联动线索。"),
    "supply_chain.upstream.paid": (f"Paid by client {{anchor}}: {_AMOUNT_EN} in {{count}} payment(s) or bill(s) "
                                   "over the last {months} months.",
                                   f"近{{months}}个月收到客户{{anchor}}付款{_AMOUNT_ZH}，共{{count}}笔。"),
    "supply_chain.downstream.paid": (f"Pays client {{anchor}}: {_AMOUNT_EN} in {{count}} payment(s) or bill(s) "
                                     "over the last {months} months.",
                                     f"近{{months}}个月向客户{{anchor}}付款{_AMOUNT_ZH}，共{{count}}笔。"),
    **{f"supply_chain.{kind}.bills_only": (f"Tier-1 {en} of client {{anchor}} through acceptance bills.",
                                           f"客户{{anchor}}的一级{zh}（承兑汇票往来）。")
       for kind, (en, zh) in _ROLE.items()},
    **{f"supply_chain.{kind}.tier": (f"Tier-{{tier}} {en} of client {{anchor}}, reached through {{via}}.",
                                     f"客户{{anchor}}的{{tier}}级{zh}，经由{{via}}。")
       for kind, (en, zh) in _ROLE.items()},
    "supply_chain.chain_amount": (f"{_AMOUNT_EN} in {{count}} payment(s) or bill(s) along the chain "
                                  "over the last {months} months.",
                                  f"近{{months}}个月链条上往来{_AMOUNT_ZH}，共{{count}}笔。"),
    "supply_chain.months_active": ("Active in {active} of the last {months} months, {streak} in a row.",
                                   "近{months}个月中有{active}个月有往来，最长连续{streak}个月。"),
    "supply_chain.bills": (f"{{bills}} acceptance bill(s) worth {_AMOUNT_EN} along the chain "
                           "in the last {months} months.",
                           f"近{{months}}个月链条上承兑汇票{{bills}}张，金额{_AMOUNT_ZH}。"),
    "supply_chain.other_bank": (f"{_AMOUNT_EN} received or paid through accounts at another bank in the last "
                                "{months} months (wallet leakage).",
                                f"近{{months}}个月{_AMOUNT_ZH}资金经他行账户收付。"),
    "supply_chain.share": ("{pct}% of its observed flows in the last {months} months are with this client's chain: "
                           "it depends on it.",
                           "近{months}个月其可见资金的{pct}%与该客户链条相关，依赖度高。"),
    "supply_chain.upstream.also": ("Also supplies {also:parties_en}.", "同时是{also:parties_zh}的供应商。"),
    "supply_chain.downstream.also": ("Also buys from {also:parties_en}.", "同时是{also:parties_zh}的买方。"),
}
register(TEMPLATES)

# The evidence value of each bar (a column of the rows frame).
_VALUES = {"amount_3m": "v_amount_short", "amount_6m": "v_amount_mid", "amount_12m": "v_amount_long",
           "trend": "v_none", "payments": "count", "months_active": "months_active", "steadiness": "streak",
           "recency": "v_days", "anchors": "v_anchors", "credit_anchor": "credit_anchor", "bills": "v_bill_amount",
           "discount_lead": "discounted", "other_bank": "v_other_bank", "dependence": "v_share", "tier": "v_tier"}

# The other links of each kept prospect, in the rows' order (best first): the "also" sentence's
# parties (a `scoring.templates` parties field: the first four anchors of each branch with their
# manager and branch, the row's own left out, and the count per branch), the ids and branches of
# all its anchors, and the other anchors' managers with their anchors' branch. Each viewer is shown
# only the parties of its branches (`scoring.templates.scoped_details`, `render_reasons`).
# Lists are made once per prospect; a row drops its own link from them.
_ALSO_SQL = """
WITH l AS (
    SELECT i, code, anchor_id, manager_id, anchor_manager AS m, coalesce(anchor_branch, '') AS b,
           row_number() OVER (PARTITION BY code, coalesce(anchor_branch, '') ORDER BY i) AS bpos
    FROM rows),
p AS (
    SELECT code, count(*) AS k, list(anchor_id ORDER BY i) AS anchor_ids, list(b ORDER BY i) AS anchor_branches,
           list({'i': i, 'id': anchor_id, 'm': m, 'b': b, 'bpos': bpos} ORDER BY i) FILTER (WHERE bpos <= 4) AS firsts
    FROM l GROUP BY code),
bc AS (
    SELECT code, list({'b': b, 'n': n} ORDER BY b) AS counts
    FROM (SELECT code, b, count(*) AS n FROM l GROUP BY code, b) GROUP BY code),
mg AS (
    SELECT code, list({'m': m, 'n': n, 'b': b} ORDER BY m) AS managers
    FROM (SELECT code, m, min(b) AS b, count(*) AS n FROM l WHERE coalesce(m, '') <> '' GROUP BY code, m)
    GROUP BY code),
o AS (
    SELECT l.i, p.anchor_ids, p.anchor_branches, p.k - 1 AS n_also,
           list_filter(p.firsts, lambda x: x.i <> l.i AND x.bpos - (x.b = l.b AND x.bpos > l.bpos)::INT <= 3)
               AS named,
           list_filter(list_transform(bc.counts, lambda x: {'b': x.b, 'n': x.n - (x.b = l.b)::INT}),
                       lambda x: x.n > 0) AS counts,
           list_filter(coalesce(mg.managers, []),
                       lambda x: x.n - (x.m = coalesce(l.m, ''))::INT > 0 AND x.m IS DISTINCT FROM l.manager_id)
               AS shared
    FROM l JOIN p USING (code) JOIN bc USING (code) LEFT JOIN mg USING (code))
SELECT anchor_ids, anchor_branches, n_also,
       list_transform(shared, lambda x: x.m) AS shared_with, list_transform(shared, lambda x: x.b) AS shared_branches,
       to_json({'named': list_transform(named, lambda x: {'id': x.id, 'm': x.m, 'b': x.b}), 'count': counts})::VARCHAR
           AS also
FROM o ORDER BY i
"""


def product_masks(df: pd.DataFrame, kind: str, cfg: SupplyChainSettings) -> dict[str, np.ndarray]:
    """Which products each row suggests (the rule is documented in docs/scoring-supply-chain.md)."""
    bills = df["bill_count"].to_numpy() > 0
    credit = df["credit_anchor"].to_numpy(dtype=bool)
    paid = df["amount_long"].to_numpy() > 0
    months = df["months_active"].to_numpy()
    out = {
        "bill_discounting": bills | (df["discounted"].to_numpy() > 0),
        "factoring": paid & credit & (kind == "upstream"),
        "supply_chain_finance": credit & ((months >= 3) | bills),
        "trade_finance": paid & (kind == "downstream"),
        "working_capital_loan": months >= cfg.strong_months,
    }
    some = np.zeros(len(df), dtype=bool)
    for mask in out.values():
        some |= mask
    out["cash_management"] = (df["other_bank"].to_numpy() > 0) | (df["anchors"].to_numpy() >= 2) | ~some
    return out


def _take(values: pd.Series, codes: np.ndarray) -> pd.Series:
    """`values` (by node code) at `codes`, as text; a code of -1 gives a missing value."""
    arr = pa.array(values.astype("string"), pa.string())
    return pd.Series(arr.take(pa.array(np.where(codes >= 0, codes, 0))).to_pandas(), dtype="string").where(
        codes >= 0)


def _paths(chain: Chain, tier: dict[str, np.ndarray], via: np.ndarray) -> list[np.ndarray]:
    """Node codes from the head anchor down to `via` along the strongest links, one array per
    step, top first (-1 where a row's path is shorter); at most 16 nodes, as before."""
    parent = tier["parent"]
    steps = [via]
    node = via
    while len(steps) < 16:
        node = np.where(node >= 0, parent[np.maximum(node, 0)], -1)
        if not (node >= 0).any():
            break
        steps.append(node)
    return steps[::-1]


def kind_frame(chain: Chain, tier: dict[str, np.ndarray], df: pd.DataFrame, points: dict[str, np.ndarray],
               kind: str) -> pa.Table:
    """The frame of one kind's kept links (`df`, best first), evidence, reasons, path and details."""
    cfg, (short, mid, long_) = chain.cfg, chain.cfg.windows
    rows = df.reset_index(drop=True)
    n = len(rows)
    ent = chain.ent
    code, anchor = rows["code"].to_numpy(), rows["anchor_code"].to_numpy()
    deep = rows["is_deepening"].to_numpy(dtype=bool)
    own_manager, anchor_manager = _take(ent["manager_id"], code), _take(ent["manager_id"], anchor)
    own_branch, anchor_branch = _take(ent["branch_id"], code), _take(ent["branch_id"], anchor)
    use_own = deep & own_manager.fillna("").ne("").to_numpy()
    use_own_branch = deep & own_branch.fillna("").ne("").to_numpy()
    steps = _paths(chain, tier, rows["via_code"].to_numpy())
    rows = rows.assign(
        i=np.arange(n), name=_take(ent["name"], code).fillna(""), anchor_id=_take(ent["id"], anchor),
        anchor_name=_take(ent["name"], anchor).fillna(""), via_name=_take(ent["name"], steps[-1]).fillna(""),
        manager_id=own_manager.where(use_own, anchor_manager), anchor_manager=anchor_manager,
        anchor_branch=anchor_branch, branch_id=own_branch.where(use_own_branch, anchor_branch),
        v_amount_short=rows[f"amount_{short}m"].round(2), v_amount_mid=rows[f"amount_{mid}m"].round(2),
        v_amount_long=rows["amount_long"].round(2), v_none=np.nan,
        v_days=rows["days_since"].replace(np.inf, np.nan), v_anchors=rows["anchors"].astype(float),
        v_bill_amount=rows["bill_amount"].round(2), v_other_bank=rows["other_bank"].round(2),
        v_share=rows["share"].round(4), v_tier=rows["tier"].astype(float),
        pct=np.round(100 * rows["share"].to_numpy(dtype=float)).astype(np.int64),
        months=long_, cur_en=cfg.currency_en, cur_zh=cfg.currency_zh,
    )
    for j, step in enumerate(steps):
        rows[f"path_{j}"] = _take(ent["id"], step)
    shown = distinguishing(rows)
    t, count = rows["tier"].to_numpy(), rows["count"].to_numpy()
    masks = {
        "deep": deep, "discount": rows["discounted"].to_numpy() > 0, "paid": (t == 1) & (count > 0),
        "bills_only": (t == 1) & (count <= 0), "deeper": t != 1, "chain_amount": (t != 1) & (count > 0),
        "active": (rows["months_active"].to_numpy() >= 3) & shown["months_active"].to_numpy(),
        "bills": rows["bill_count"].to_numpy() > 0, "other": rows["other_bank"].to_numpy() > 0,
        "depends": (rows["share"].to_numpy() >= 0.5) & shown["share"].to_numpy(),
    }
    also = _also(rows)
    masks["also"] = also["n_also"].to_numpy() > 0
    products = product_masks(rows, kind, cfg)
    rows = rows.assign(**{f"when_{k}": v for k, v in masks.items()}, **{f"sells_{k}": v for k, v in products.items()},
                       also=also["also"].to_numpy(),
                       **{f"p_{name}": points[name][rows["_pos"].to_numpy()] for name in FEATURES})
    money = {"cur_en": "cur_en", "cur_zh": "cur_zh", "months": "months"}
    reasons = [
        ReasonSlot("supply_chain.deepening", when="when_deep"),
        ReasonSlot("supply_chain.discount", {"n": "discounted", "months": "months"}, when="when_discount"),
        ReasonSlot(f"supply_chain.{kind}.paid", {"anchor": "anchor_name", "amount": "amount_long", "count": "count",
                                                 **money}, when="when_paid"),
        ReasonSlot(f"supply_chain.{kind}.bills_only", {"anchor": "anchor_name"}, when="when_bills_only"),
        ReasonSlot(f"supply_chain.{kind}.tier", {"tier": "tier", "anchor": "anchor_name", "via": "via_name"},
                   when="when_deeper"),
        ReasonSlot("supply_chain.chain_amount", {"amount": "amount_long", "count": "count", **money},
                   when="when_chain_amount"),
        ReasonSlot("supply_chain.months_active", {"active": "months_active", "streak": "streak", "months": "months"},
                   when="when_active"),
        ReasonSlot("supply_chain.bills", {"bills": "bill_count", "amount": "bill_amount", **money}, when="when_bills"),
        ReasonSlot("supply_chain.other_bank", {"amount": "other_bank", **money}, when="when_other"),
        ReasonSlot("supply_chain.share", {"pct": "pct", "months": "months"}, when="when_depends"),
        ReasonSlot(f"supply_chain.{kind}.also", {"also": "also"}, when="when_also"),
    ]
    bars = [Bar(name, en, zh, _VALUES[name], f"p_{name}") for name, (en, zh) in labels(cfg).items()]
    amounts = pa.StructArray.from_arrays(
        [pa.array(rows[f"amount_{m}m"].round(2).to_numpy(dtype=float)) for m in cfg.windows],
        names=[f"{m}m" for m in cfg.windows])
    details = {
        "tier": rows["tier"].astype(np.int64), "anchor_id": rows["anchor_id"], "anchors": rows["anchors"].astype(np.int64),
        "anchor_ids": also["anchor_ids"], "anchor_branches": also["anchor_branches"],
        "shared_with": also["shared_with"], "shared_branches": also["shared_branches"],
        "as_of": pa.array([str(chain.as_of.date())] * n), "window_months": pa.array(np.full(n, long_)),
        "amounts": amounts, "payments": rows["count"].astype(np.int64),
        "months_active": rows["months_active"].astype(np.int64), "bills": rows["bill_count"].astype(np.int64),
        "bill_amount": rows["bill_amount"].round(2), "discounted_elsewhere": rows["discounted"].astype(np.int64),
        "other_bank_amount": rows["other_bank"].round(2), "chain_share": rows["share"].round(4),
    }
    return build_frame(rows, family="supply_chain", kind=kind, bars=bars, reasons=reasons,
                       products=[(p, f"sells_{p}") for p in products],
                       path=["manager_id", *(f"path_{j}" for j in range(len(steps))), "prospect_id"],
                       details=details, digits=None)


def _also(rows: pd.DataFrame) -> pa.Table:
    """Per row (in order): all anchor ids of its prospect and their branches, the other anchors'
    managers (not the row's own) and their branches, and the "also" sentence's parties field."""
    table = pa.table({"i": pa.array(rows["i"].to_numpy()), "code": pa.array(rows["code"].to_numpy()),
                      "anchor_id": pa.array(rows["anchor_id"], pa.string()),
                      "manager_id": pa.array(rows["manager_id"], pa.string()),
                      "anchor_manager": pa.array(rows["anchor_manager"], pa.string()),
                      "anchor_branch": pa.array(rows["anchor_branch"], pa.string())})
    con = duckdb_cursor()
    try:
        con.register("rows", table)
        return con.sql(_ALSO_SQL).arrow().read_all()
    finally:
        con.close()
