"""The landing page: the top prospects of each family, links to their pictures, and three charts.

The rows arrive already filtered and masked for the viewer (the API lists them); this
module adds the links to each row's pictures and draws the charts from the store's
`prospects` and `payroll` tables — numbers only, no names of persons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from graph import nested
from graph.schema import KINDS_BY_FAMILY
from graph.store import GraphStore
from scoring.features import duckdb_cursor
from scoring.stored import ProspectRights, register_prospects
from viz.charts import FAMILY_COLOURS, bar_chart, histogram
from viz.payroll import retention_by_employer
from viz.render import render_page
from viz.style import MONEY_EDGES, Lang, format_wan, text
from viz.trends import tracking_charts

__all__ = ["picture_links", "landing_charts", "render_landing", "manager_names"]


def _href(view: str, node_id: Any) -> str:
    return f"/viz/{view}/{quote(str(node_id), safe='')}"


def picture_links(row: dict[str, Any], lang: Lang, allowed: set[str]) -> list[tuple[str, str]]:
    """(label, href) of the pictures that show a prospect row, among the views the viewer may open."""
    family, kind, pid = row.get("family"), row.get("kind"), row.get("prospect_id")
    zh = lang == "zh"
    links: list[tuple[str, str, str]] = []
    if family == "supply_chain" and row.get("anchor_id"):
        links.append(("supply-chain", "供应链" if zh else "Supply chain", _href("supply-chain", row["anchor_id"])))
    if family == "referral" and kind in ("member", "association_target"):
        links.append(("referral", "推荐链" if zh else "Referral chains", _href("referral", pid)))
    if family == "retail_linkage":
        if kind == "payroll" and row.get("employer_id"):
            links.append(("payroll", "代发分档" if zh else "Payroll", _href("payroll", row["employer_id"])))
        if kind != "corporate_from_retail":
            links.append(("person", "个人关系" if zh else "Person", _href("person", pid)))
    if not (family == "retail_linkage" and kind != "corporate_from_retail"):
        links.append(("ego", "关系网络" if zh else "Network", _href("ego", pid)))
    return [(label, href) for view, label, href in links if view in allowed]


# The landing charts' numbers, read by DuckDB from the stored rows (no wide column is read): each
# family's scores, and each supply-chain row's side, tier and largest window amount (with its path
# for the rows stored without window amounts). {scope}: the conditions of the viewer's `ProspectRights`, the
# one text /prospects pages use (a row of no branch, NULL or '', is everyone's).
_SCORES_SQL = """
SELECT family, score FROM prospects
WHERE list_contains($families, family){scope}
ORDER BY row_pos
"""
_TIERS_SQL = """
SELECT kind, coalesce(TRY_CAST(json_extract_string(details, '$.tier') AS BIGINT), 0) AS tier,
       coalesce(list_max(TRY_CAST(json_extract(details, '$.amounts.*') AS DOUBLE[])), 0.0) AS amount, path
FROM prospects
WHERE family = 'supply_chain'{scope}
ORDER BY row_pos
"""


def landing_charts(store: GraphStore, families: list[str], lang: Lang, rights: ProspectRights | None = None,
                   payroll: bool = True, in_scope: Callable[[Any], bool] | None = None) -> list[tuple[str, Markup]]:
    """(caption, svg) charts: score distribution, payroll retention by employer, amounts by tier,
    and campaigns over ingests. `rights`: the viewer's (`Viewer.prospect_rights`), so the charts
    count the rows /prospects lists for it (its branch scope and its role's kinds); `in_scope`: its
    `Viewer.in_scope`, the employers, chains and staff the payroll and tracking charts count;
    `payroll`: whether it may see payroll figures (`Policy.payroll_figures`)."""
    where, params, by_enterprise = (rights or ProspectRights()).sql()
    scope = "".join(f" AND {w}" for w in where)
    con = duckdb_cursor()
    try:
        register_prospects(con, store, True, extra=("path",), is_enterprise=by_enterprise)
        scores = con.sql(_SCORES_SQL.format(scope=scope), params={**params, "families": families}
                         ).to_arrow_table().to_pandas()
        chain = (con.sql(_TIERS_SQL.format(scope=scope), params=params).to_arrow_table().to_pandas()
                 if "supply_chain" in families else None)
    finally:
        con.close()
    charts: list[tuple[str, Markup]] = []
    series = {f: scores.loc[scores["family"] == f, "score"].to_numpy(dtype=float) for f in families}
    caption = "评分分布" if lang == "zh" else "Score distribution"
    charts.append((caption, histogram(series, {f: text(f, lang) for f in families}, caption)))
    if payroll and "retail_linkage" in families:
        rows = retention_by_employer(store, in_scope)[:8]  # another branch's employers and staff are not counted
        caption = "代发单位留存率" if lang == "zh" else "Payroll retention by employer"
        charts.append((caption, bar_chart([(name, rate * 100, "#8e24aa") for _, name, rate, _ in rows], caption,
                                          fmt="{:.1f}%")))
    if chain is not None:
        chain["tier"] = chain["tier"].where(chain["tier"] != 0, 1)
        missing = chain["amount"] == 0  # rows without window amounts: the money on the chain's last step
        chain.loc[missing, "amount"] = [_last_step_amount(store, nested.cell(p, "path")) for p in chain.loc[missing, "path"]]
        amounts = chain.groupby(["kind", "tier"], sort=True)["amount"].sum()
        bars = [(f"{text(side, lang)} {text('tier', lang, n=int(tier))}", float(amount),
                 FAMILY_COLOURS["supply_chain"] if side == "upstream" else "#43a047")
                for (side, tier), amount in amounts.items()]
        caption = "各层级金额(万元)" if lang == "zh" else "Amounts by tier (万元)"
        charts.append((caption, bar_chart(bars, caption, fmt=format_wan)))
    charts.extend(tracking_charts(store, lang, in_scope, payroll))  # campaigns over ingests (leads.track)
    return charts


def _last_step_amount(store: GraphStore, path: list[Any]) -> float:
    if len(path) < 2:
        return 0.0
    a, b = str(path[-2]), str(path[-1])
    g = store.subgraph([a, b])
    total = 0.0
    for u, v in ((a, b), (b, a)):
        if g.has_edge(u, v):
            total += sum(float(d.get("amount") or 0.0) for d in g.get_edge_data(u, v).values()
                         if d.get("kind") in MONEY_EDGES)
    return total


def manager_names(store: GraphStore, branch: str | None = None) -> dict[str, str]:
    """Manager id -> name (managers are staff: shown by name, not masked), of one branch and the
    managers of no branch (None, NaN, "": shared, as the rows they manage are) when given."""
    df = store.read("managers", ["id", "name", "branch_id"])
    if branch is not None:
        df = df[df["branch_id"].isna() | (df["branch_id"] == "") | (df["branch_id"] == branch)]
    return {str(i): str(n) if isinstance(n, str) and n else str(i) for i, n in zip(df["id"], df["name"], strict=True)}


def render_landing(sections: list[dict[str, Any]], charts: list[tuple[str, Markup]], lang: Lang,
                   filters: dict[str, Any], families: list[str], allowed_views: set[str], user: str = "",
                   managers: dict[str, str] | None = None, rights: ProspectRights | None = None) -> str:
    """The landing page. `sections`: {family, rows (the API's prospect rows, masked), total}.

    Each section is numbered once (1, 2, 3 … down the list, whatever the kind); kinds and
    managers are words and names, and the kind and manager filters are menus: the kinds menu
    offers the kinds the viewer's role may list (`rights`), no other.
    """
    managers = managers or {}
    for section in sections:
        section["label"] = text(section["family"], lang)
        for row in section["rows"]:
            row["links"] = picture_links(row, lang, allowed_views)
            row["kind_label"] = text(str(row.get("kind") or ""), lang)
            mid = row.get("manager_id")
            row["manager_label"] = managers.get(str(mid), str(mid)) if mid else ""
    rights = rights or ProspectRights()
    kinds = [(k, f"{text(f, lang)} · {text(k, lang)}") for f in families
             for k in rights.kinds(f, KINDS_BY_FAMILY.get(f, ()))]
    return render_page("landing.html", lang=lang, sections=sections, charts=charts, filters=filters,
                       families=[(f, text(f, lang)) for f in families], kinds=kinds,
                       managers=sorted(managers.items(), key=lambda kv: (kv[1], kv[0])), user=user,
                       fmt_score="{:.1f}".format)
