"""Line charts of campaigns tracked over ingests (`leads.track`), as server-side SVG like `viz.charts`."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import pandas as pd
from markupsafe import Markup

from graph.store import GraphStore
from graph.vocabulary import ASSET_THRESHOLD_EN, ASSET_THRESHOLD_ZH
from viz.charts import _svg
from viz.style import Lang

__all__ = ["line_chart", "tracking_charts", "METRIC_WORDS"]

METRIC_WORDS = {
    "payroll_staff": ("代发员工数", "Payroll staff"),
    "staff_over_threshold": (f"金融资产达{ASSET_THRESHOLD_ZH}员工数", f"Staff at {ASSET_THRESHOLD_EN}+"),
    "retention": ("留存率", "Retention"),
    "members": ("会员数", "Members"),
    "client_members": ("已是客户的会员", "Members who are clients"),
    "stores": ("门店数", "Stores"),
    "stores_opened": ("已开户门店", "Stores opened"),
    "leads_won": ("成功营销数", "Leads won"),
}
_COLOURS = ("#8e24aa", "#1e88e5", "#fb8c00", "#00897b", "#e53935", "#6d4c41")


def metric_label(metric: str, lang: Lang) -> str:
    pair = METRIC_WORDS.get(metric, (metric, metric))
    return pair[0] if lang == "zh" else pair[1]


def line_chart(series: dict[str, list[tuple[str, float]]], title: str, width: int = 460, height: int = 150,
               percent: bool = False) -> Markup:
    """One line per series over the same x labels (as_of months), each point labelled with its value."""
    left, right, top, bottom = 44, 40, 20, 34
    xs = sorted({x for points in series.values() for x, _ in points})
    top_value = max((v for points in series.values() for _, v in points), default=0.0) or 1.0
    step = (width - left - right) / max(1, len(xs) - 1)
    body: list[str] = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" '
                       'stroke="#cfd8dc"/>']
    for i, x in enumerate(xs):
        body.append(f'<text x="{left + i * step:.1f}" y="{height - bottom + 14}" fill="#607d8b" '
                    f'text-anchor="middle">{escape(x)}</text>')
    for n, (name, points) in enumerate(series.items()):
        colour = _COLOURS[n % len(_COLOURS)]
        coords = [(left + xs.index(x) * step, top + (1 - v / top_value) * (height - top - bottom), v)
                  for x, v in sorted(points)]
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy, _ in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for cx, cy, v in coords:
            shown = f"{v:.1%}" if percent else f"{v:,.0f}"
            body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}"><title>{escape(name)} '
                        f'{escape(shown)}</title></circle><text x="{cx:.1f}" y="{cy - 6:.1f}" text-anchor="middle" '
                        f'fill="{colour}">{escape(shown)}</text>')
        body.append(f'<text x="{left + n * 150}" y="{height - 4}" fill="{colour}">■ {escape(name)}</text>')
    if not xs:
        body.append('<text x="8" y="16" fill="#90a4ae">—</text>')
    return _svg(width, height, body, title)


def series_charts(rows: pd.DataFrame, lang: Lang, name: str = "") -> list[tuple[str, Markup]]:
    """One chart per metric of tracked rows {as_of, metric, value} (ratios drawn as percentages)."""
    charts = []
    for metric, group in rows.groupby("metric", sort=True):
        label = metric_label(str(metric), lang)
        points = list(zip(group["as_of"].astype(str), group["value"].astype(float), strict=True))
        caption = f"{name} · {label}" if name else label
        charts.append((caption, line_chart({label: points}, caption, percent=metric == "retention")))
    return charts


def tracking_charts(store: GraphStore, lang: Lang, in_scope: Callable[[Any], bool] | None = None,
                    payroll: bool = True) -> list[tuple[str, Markup]]:
    """Landing-page charts: the largest payroll employer's staff at CNY 50,000+ and retention, the
    largest chain's stores opened — each across ingests (nothing when fewer than two ingests).
    With `in_scope` (the viewer's `Viewer.in_scope`) only employers and chains of its scope are
    drawn, and their figures count only the staff and stores of its scope (`scoped_series`); without
    `payroll` (a role without payroll figures: `Policy.payroll_figures`) no employer is drawn."""
    from leads.campaigns import in_scope_mask
    from leads.track import scoped_series

    rows, _ = scoped_series(store, None, None, in_scope)
    if rows["version"].nunique() < 2:
        return []
    ents = store.read("enterprises", ["id", "name", "branch_id"]).drop_duplicates("id").set_index("id")
    charts: list[tuple[str, Markup]] = []
    for scope, wanted, size in (("employer", ("staff_over_threshold", "retention"), "payroll_staff"),
                                ("anchor", ("stores_opened",), "stores")):
        if scope == "employer" and not payroll:
            continue
        part = rows[rows["scope"] == scope]
        found = pd.Series(part["scope_id"].unique(), dtype=object)  # another branch's are not drawn
        ids = found[in_scope_mask(found.map(ents["branch_id"]), in_scope)].tolist()  # no branch (None, NaN, ""): shared
        if not ids:
            continue
        sizes = part[(part["metric"] == size) & part["scope_id"].isin(ids)].groupby("scope_id")["value"].max()
        best = str(sizes.idxmax()) if len(sizes) else str(ids[0])
        chosen = part[(part["scope_id"] == best) & part["metric"].isin(wanted)]
        charts.extend(series_charts(chosen, lang, str(ents["name"].get(best) or best)))
    return charts
