"""The customer 360 page (`/viz/customer/{id}`): the API's 360 view, already masked, as one page
with line charts of what is tracked about it across ingests. What the viewer's scope left out is
shown as the API counted it, in words (`hidden_note`: "1 条关系不在您的权限范围内")."""

from __future__ import annotations

from typing import Any

import pandas as pd

from graph.vocabulary import KIND_WORDS, word
from viz.render import render_page
from viz.style import Lang, text
from viz.trends import metric_label, series_charts

__all__ = ["render_customer", "WORDS"]

WORDS = {
    "title": ("客户全息视图", "Customer 360"), "products": ("持有产品", "Products held"),
    "managers": ("客户经理", "Managers"), "relations": ("关系", "Relations"),
    "money": ("资金去向", "Where its money goes"), "paid_out": ("对外付款", "Paid out"),
    "other_banks": ("流向他行", "To other banks"), "leads_to": ("由其带出的潜客", "Prospects it leads to"),
    "through": ("经由其触达的潜客", "Prospects reached through it"), "leads": ("关于它的线索", "Leads about it"),
    "alerts": ("提醒", "Alerts"), "timeline": ("变化轨迹", "What changed between ingests"),
    "service": ("服务记录", "Service record"), "notes": ("备注", "Notes"), "offer": ("建议产品", "Offer"),
    "none": ("暂无", "none"), "count": ("笔数", "Count"), "window": ("时间", "Window"), "bank": ("银行", "Bank"),
    "direction_out": ("发出", "out"), "direction_in": ("收到", "in"), "masked": ("已脱敏", "masked"),
}




STATUS_WORDS = {
    "new": ("新线索", "new"), "open": ("跟进中", "open"), "contacted": ("已联系", "contacted"),
    "meeting": ("已约见", "meeting"), "won": ("已成交", "won"), "lost": ("未成功", "lost"),
    "not_interested": ("无意向", "not interested"), "do_not_contact": ("勿扰", "do not contact"),
    "other_branch": ("其他支行跟进中", "worked by another branch"),  # its status is that branch's
}


def _status(status: str, lang: Lang) -> str:
    pair = STATUS_WORDS.get(status, (status, status))
    return pair[0] if lang == "zh" else pair[1]


def _kind(kind: str, lang: Lang) -> str:
    return word(KIND_WORDS, kind, lang, default=text(kind, lang))


def _w(key: str, lang: Lang) -> str:
    pair = WORDS[key]
    return pair[0] if lang == "zh" else pair[1]


def render_customer(view: dict[str, Any], lang: Lang, user: str = "", nav: list[tuple[str, str]] | None = None) -> str:
    """The page of one 360 view (`api.routers.rhythm.mask_360` output)."""
    timeline = pd.DataFrame(view["timeline"], columns=["version", "as_of", "scope", "scope_id", "metric", "value"])
    charts = series_charts(timeline, lang) if timeline["version"].nunique() >= 2 else []
    for rel in view["relations"]:
        rel["label"] = f"{text(rel['kind'], lang)} · {_w('direction_' + rel['direction'], lang)}"
    for block in (view["leads_to"]["items"], view["reached_through"]["items"], view["leads"]):
        for row in block:
            row["kind_label"] = f"{text(row['family'], lang)} · {_kind(row['kind'], lang)}"
    for row in view["leads"]:
        row["status_label"] = _status(str(row.get("status")), lang)
    for d in view["service"]["dispositions"]:
        d["status_label"] = _status(str(d.get("status")), lang)
    points = [{**p, "label": metric_label(p["metric"], lang)} for p in view["timeline"]]
    return render_page("customer.html", lang=lang, view=view, charts=charts, points=points, user=user,
                       nav=nav or [], w=lambda key: _w(key, lang), money_fmt="{:,.2f}".format)
