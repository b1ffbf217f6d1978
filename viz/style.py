"""The one visual language of every picture: colours, shapes, sizes, widths, words and the legend.

Node colour says the client status (授信客户, 客户, 潜在客户, 非客户, 贵宾) for enterprises and
persons, and the kind for everything else; shape says the kind. Node size and edge width grow
with the amount (log-scaled), and money on edges is written in 万元 (CNY 10,000).
Nothing else in `viz` picks a colour or a word.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from graph.vocabulary import (
    ASSET_THRESHOLD,
    ASSET_THRESHOLD_EN,
    ASSET_THRESHOLD_ZH,
    KIND_WORDS,
    NEAR_THRESHOLD_FLOOR,
    POSITION_LABELS,
    ROLE_LABELS,
    TIER_WORDS,
    Lang,
    format_amount,
)
from scoring.features import PRODUCTS

__all__ = [
    "Lang",
    "SHAPES",
    "STATUS_COLOURS",
    "KIND_COLOURS",
    "EDGE_STYLES",
    "ASSET_BANDS",
    "NEAR_THRESHOLD_BAND",
    "FOCUS_BORDER",
    "HIGHLIGHT_EDGE",
    "MONEY_EDGES",
    "LegendItem",
    "node_colour",
    "faded",
    "node_size",
    "edge_width",
    "format_wan",
    "width_samples",
    "label_px",
    "text",
    "legend",
]

SHAPES: dict[str, str] = {
    "Enterprise": "dot",
    "Person": "diamond",
    "Association": "hexagon",
    "Manager": "star",
    "Branch": "square",
    "Band": "box",  # a bucket of payroll staff by financial assets
    "More": "box",  # "+N more": folded neighbours
    "Header": "text",  # a column heading (supply-chain tiers)
}
# Symbols the HTML legend uses to stand for the canvas shapes.
SHAPE_SYMBOLS = {"dot": "●", "diamond": "◆", "hexagon": "⬢", "star": "★", "square": "■", "box": "▭",
                 "text": "T"}

STATUS_COLOURS: dict[str, str] = {
    "credit_client": "#1b5e20",  # 授信客户: the anchors
    "client": "#43a047",
    "vip": "#8e24aa",  # retail VIP / private banking
    "prospect": "#fb8c00",  # has a scored prospect row: who to approach
    "other": "#90a4ae",
}
KIND_COLOURS: dict[str, str] = {
    "Association": "#00897b",
    "Manager": "#1e88e5",
    "Branch": "#6d4c41",
    "Band": "#78909c",
    "More": "#cfd8dc",
    "Header": "#37474f",
}
NEAR_THRESHOLD_COLOUR = "#e53935"
FOCUS_BORDER = "#d32f2f"
HIGHLIGHT_EDGE = "#e65100"

# kind -> (colour, dashed)
EDGE_STYLES: dict[str, tuple[str, bool]] = {
    "PAYS": ("#546e7a", False),
    "BILL": ("#6a1b9a", False),
    "ENDORSES": ("#ab47bc", True),
    "PAYROLL": ("#00838f", False),
    "HOLDS_ROLE": ("#8d6e63", True),
    "MEMBER_OF": ("#00897b", True),
    "PARENT_OF": ("#3949ab", False),
    "MANAGES": ("#1e88e5", True),
    "IN_BRANCH": ("#bcaaa4", True),
    "LINK": ("#9e9e9e", True),  # a chain step with no stored edge (e.g. a referral through a person)
    "FOLD": ("#b0bec5", True),
}
MONEY_EDGES = ("PAYS", "BILL", "ENDORSES", "PAYROLL")

# Payroll staff buckets by financial assets (CNY); the band just under the CNY 50,000
# threshold (临界客户) is the one a retail manager works first.
NEAR_THRESHOLD_BAND = (NEAR_THRESHOLD_FLOOR * ASSET_THRESHOLD, ASSET_THRESHOLD)
ASSET_BANDS: tuple[tuple[float, float], ...] = (
    (0.0, 10_000.0), (10_000.0, NEAR_THRESHOLD_BAND[0]), NEAR_THRESHOLD_BAND, (ASSET_THRESHOLD, 200_000.0),
    (200_000.0, math.inf),
)

_TEXT: dict[str, tuple[str, str]] = {
    # node kinds
    "Enterprise": ("企业", "Enterprise"), "Person": ("个人", "Person"), "Association": ("协会/商会", "Association"),
    "Manager": ("客户经理", "Manager"), "Branch": ("网点", "Branch"), "Band": ("资产分档", "Asset band"),
    "More": ("折叠的邻居", "Folded neighbours"), "Header": ("层级", "Tier"),
    # statuses
    "credit_client": ("授信客户", "Credit client"), "client": ("客户", "Client"),
    "vip": ("贵宾/私行客户", "VIP / private client"), "prospect": ("潜在客户", "Prospect"),
    "other": ("非客户", "Not a client"),
    "near_threshold": (f"临界客户({NEAR_THRESHOLD_BAND[0] / 10_000:g}–{ASSET_THRESHOLD_ZH})", f"Near {ASSET_THRESHOLD_EN}"),
    # edge kinds
    "PAYS": ("付款", "Pays"), "BILL": ("承兑汇票", "Acceptance bill"), "ENDORSES": ("背书", "Endorses"),
    "PAYROLL": ("代发工资", "Payroll"), "HOLDS_ROLE": ("任职/持股", "Holds role"),
    "MEMBER_OF": ("会员", "Member of"), "PARENT_OF": ("母子公司", "Parent of"),
    "MANAGES": ("管户", "Manages"), "IN_BRANCH": ("所属网点", "In branch"), "LINK": ("关系", "Link"),
    "FOLD": ("折叠", "Folded"),
    # roles (graph.vocabulary) and positions
    **{key if key not in ("other", "related") else f"role_{key}": (zh, en) for key, (en, zh) in ROLE_LABELS.items()},
    **{key: (zh, en) for key, (en, zh) in POSITION_LABELS.items() if key != "director"},  # director: the role
    # sides and families
    "upstream": ("上游", "Upstream"), "downstream": ("下游", "Downstream"),
    "supply_chain": ("供应链上下游", "Supply chain"), "referral": ("以客荐客", "Referral"),
    "retail_linkage": ("公私联动", "Retail linkage"), "ecosystem": ("生态圈", "Ecosystem"),
    # prospect kinds of each family (graph.schema.KINDS_BY_FAMILY; graph.vocabulary)
    **{key: (zh, en) for key, (en, zh) in KIND_WORDS.items()
       if key in ("association_target", "payroll", "corporate_from_retail", "outflow", "group", "branch_store")},
    # roles of the users (api.auth)
    "admin": ("管理员", "admin"), "analyst": ("分析员", "analyst"),
    "corporate_manager": ("对公客户经理", "corporate manager"), "retail_manager": ("零售客户经理", "retail manager"),
    # retail tiers (persons.tier)
    **{f"retail_tier:{key}": (f"{zh}客户", en[:1].upper() + en[1:]) for key, (en, zh) in TIER_WORDS.items()
       if key != "none"},
    # an error page's headline, by HTTP status (its detail is the API's English message, shown on
    # English pages only: a Chinese page shows no English sentence)
    "error_400": ("请求有误，请检查后重试", "Bad request"), "error_401": ("请先登录", "Please sign in"),
    "error_403": ("无权查看：超出您的网点或角色的权限范围", "Not allowed"), "error_404": ("未找到", "Not found"),
    "error_409": ("与当前数据冲突，请刷新后重试", "Conflict"), "error_413": ("内容过大", "Too large"),
    "error_503": ("服务暂不可用，请稍后再试", "Unavailable"), "error": ("无法完成请求", "The request failed"),
    # words of the pages
    "tier": ("第{n}层", "tier {n}"), "more": ("+{n} 更多", "+{n} more"), "people": ("{n}人", "{n} staff"),
    "more_of": ("+{n:,} {what}", "+{n:,} {what}"), "store": ("门店", "stores"), "firms": ("企业", "firms"),
    "persons": ("个人", "persons"), "expand_hint": ("点击展开", "click to expand"),
    "all_time": ("全部期间", "all time"), "payroll_window": ("{start}至{end}", "{start} to {end}"),
    "size_hint": ("节点大小、连线粗细随金额增大(对数刻度);连线金额为{window}合计,单位:万元;虚线框为折叠的一组,点击展开",
                  "Node size and edge width grow with the amount (log scale); edge amounts are totals ({window}) "
                  "in 万元 (CNY 10,000); a dashed box is a folded group: click it to expand"),
    "do_not_contact": ("勿扰", "Do not contact"), "products": ("建议产品", "Products"),
    "targets": ("目标客户", "Targets"), "introducers": ("引荐链", "Introducer chain"),
    "title_association": ("协会/商会目标客户:{name}", "Targets of {name}"),
    "width_scale": ("连线粗细({window}金额)", "Edge width (amount, {window})"),
    "score": ("评分", "Score"), "id": ("编号", "ID"), "kind": ("类型", "Kind"), "status": ("状态", "Status"),
    "amount": ("金额", "Amount"), "industry": ("行业", "Industry"), "region": ("地区", "Region"),
    "tier_retail": ("客户层级", "Tier"), "aum": ("金融资产", "Financial assets"),
    "manager": ("客户经理", "Manager"), "branch": ("网点", "Branch"), "reasons": ("理由", "Reasons"),
    "evidence": ("评分构成", "Score breakdown"), "folded": ("已折叠", "Folded"),
    "zoom_out_for_more": ("先显示第一层,缩小可见外层", "first ring shown; zoom out for the outer rings"),
    "legend": ("图例", "Legend"), "details": ("详情", "Details"), "open_picture": ("查看关系图", "Open picture"),
    "title_ego": ("关系网络:{name}", "Network of {name}"),
    "title_supply": ("供应链上下游:{name}", "Supply chain of {name}"),
    "title_referral": ("推荐链:{name}", "Referral chains to {name}"),
    "title_payroll": ("代发工资员工分档:{name}", "Payroll staff of {name} by assets"),
    "title_person": ("个人关系:{name}", "Person: {name}"),
    "best_chain": ("最佳推荐链", "Best chain"), "other_chain": ("备选推荐链", "Alternative chain"),
    "staff": ("员工", "Staff"), "payroll_total": ("代发总额", "Payroll total"),
    "months_paid": ("代发月数", "Months paid"), "avg_pay": ("月均代发", "Average monthly pay"),
    "retention": ("留存率", "Retention"), "near_staff": ("临界员工", "Near the threshold"),
    "above_staff": (f"已达{ASSET_THRESHOLD_ZH}", f"Already at {ASSET_THRESHOLD_EN}+"), "depth": ("深度", "Depth"),
    "prospect_row": ("潜客", "Prospect"), "role": ("职务", "Role"), "share": ("持股", "Share"),
}


def text(key: str, lang: Lang = "zh", **values: object) -> str:
    """The word for `key` in `lang` (the key itself when unknown), formatted with `values`."""
    pair = _TEXT.get(key)
    if pair is None:
        product = PRODUCTS.get(key)
        if product is None:
            return key
        return product[1] if lang == "zh" else product[0]
    word = pair[0] if lang == "zh" else pair[1]
    return word.format(**values) if values else word


def node_colour(kind: str, status: str = "other", near_threshold: bool = False) -> str:
    """Enterprises and persons are coloured by status, the other kinds by kind."""
    if near_threshold:
        return NEAR_THRESHOLD_COLOUR
    if kind in ("Enterprise", "Person"):
        return STATUS_COLOURS.get(status, STATUS_COLOURS["other"])
    return KIND_COLOURS.get(kind, STATUS_COLOURS["other"])


def faded(colour: str, alpha: float = 0.25) -> str:
    """`#rrggbb` as an rgba() string with `alpha` (faint alternatives)."""
    c = colour.lstrip("#")
    r, g, b = int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    return f"rgba({r},{g},{b},{alpha})"


WIDTH_DECADES = 3.0  # a picture's width scale spans its largest amount and a thousandth of it


def _scaled(amount: float | None, max_amount: float, min_amount: float = 0.0) -> float:
    """0..1 on a log scale over the picture's amounts, from a thousandth of its largest to its largest.

    The scale never starts at the smallest amount: two near-equal amounts (23.4万 and 23.8万)
    get near-equal widths, whatever else the picture holds.
    """
    if not amount or amount <= 0 or max_amount <= 0:
        return 0.0
    hi = math.log10(1.0 + max_amount)
    floor = max_amount / 10 ** WIDTH_DECADES
    lo = math.log10(1.0 + floor)  # min_amount is not used: see above
    if hi <= lo:
        return 1.0
    return max(0.0, min(1.0, (math.log10(1.0 + amount) - lo) / (hi - lo)))


def node_size(amount: float | None, max_amount: float, min_amount: float = 0.0) -> float:
    """Radius 10..34 by amount, log-scaled between the picture's smallest and largest amounts."""
    return round(10.0 + 24.0 * _scaled(amount, max_amount, min_amount), 2)


def edge_width(amount: float | None, max_amount: float, min_amount: float = 0.0) -> float:
    """Width 1..8 by amount, log-scaled between the picture's smallest and largest amounts."""
    return round(1.0 + 7.0 * _scaled(amount, max_amount, min_amount), 2)


def width_samples(max_amount: float, min_amount: float = 0.0) -> list[tuple[float, float]]:
    """(amount, width) pairs for a picture's legend: its width scale at three round amounts."""
    if max_amount <= 0:
        return []
    low = max(min_amount, max_amount / 10 ** WIDTH_DECADES)
    amounts = sorted({max_amount, low, math.sqrt(max_amount * low)})
    return [(a, edge_width(a, max_amount, min_amount)) for a in amounts]


_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")


def label_px(label: str, size: float = 13.0) -> float:
    """About how wide a label is drawn, in pixels: CJK characters a font size wide, others ~0.6."""
    wide = len(_WIDE.findall(label))
    return size * (wide + 0.62 * (len(label) - wide))


def format_wan(amount: float | None) -> str:
    """An amount in CNY written in 万元: 1234567 -> '123.5万元', 4000 -> '0.40万元'."""
    return format_amount(amount, style="wan")


@dataclass(frozen=True)
class LegendItem:
    """One line of a legend: a coloured symbol and its words."""

    label: str
    colour: str
    symbol: str
    dashed: bool = False


def legend(lang: Lang, node_keys: set[tuple[str, str]], edge_kinds: set[str],
           near_threshold: bool = False) -> list[LegendItem]:
    """Legend entries for what a picture shows: (kind, status) pairs of its nodes, its edge kinds."""
    items: list[LegendItem] = []
    for kind, status in sorted(node_keys, key=lambda ks: (list(SHAPES).index(ks[0]) if ks[0] in SHAPES else 99,
                                                          ks[1])):
        if kind == "Header":
            continue
        shape = SHAPE_SYMBOLS.get(SHAPES.get(kind, "dot"), "●")
        words = text(kind, lang) if kind not in ("Enterprise", "Person") else \
            f"{text(kind, lang)} · {text(status, lang)}"
        items.append(LegendItem(words, node_colour(kind, status), shape))
    if near_threshold:
        items.append(LegendItem(text("near_threshold", lang), NEAR_THRESHOLD_COLOUR, SHAPE_SYMBOLS["box"]))
    for kind in sorted(edge_kinds, key=lambda k: list(EDGE_STYLES).index(k) if k in EDGE_STYLES else 99):
        colour, dashed = EDGE_STYLES.get(kind, EDGE_STYLES["LINK"])
        items.append(LegendItem(text(kind, lang), colour, "—", dashed))
    return items
