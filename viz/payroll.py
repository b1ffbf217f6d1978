"""The payroll view: an employer's payroll staff bucketed by financial assets.

The staff, pay and retention are the payroll window's (12 months by default, as scoring and
the employer summary count them; the subtitle and the edges' tooltips name the months), and the
counts near and above the threshold are of the staff who may be contacted, with scoring's
threshold: a do-not-contact employee is drawn faint and marked 勿扰.

Employer on the left, one box per asset band in the middle (staff count and payroll money),
the band's staff to its right — the ones nearest the CNY 50,000 threshold first in the
near-threshold band (highlighted), the richest first elsewhere — and the rest folded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from graph.errors import InvalidRequest
from graph.store import GraphStore
from graph.vocabulary import format_amount
from viz.facts import ViewContext, make_node
from viz.picture import MAX_MEMBERS, Picture, VEdge, VNode
from viz.style import ASSET_BANDS, NEAR_THRESHOLD_BAND, format_wan, text

__all__ = ["payroll_picture", "band_label", "retention_by_employer"]

_STAFF_PER_ROW = 4


def band_label(low: float, high: float) -> str:
    """'3.5–5万元', '≥20万元'."""
    if math.isinf(high):
        return f"≥{format_amount(low, style='round')}"
    return f"{low / 10_000:g}–{format_amount(high, style='round')}"


def retention_by_employer(store: GraphStore, in_scope: Callable[[Any], bool] | None = None
                          ) -> list[tuple[str, str, float, int]]:
    """(employer id, name, retention, staff) per payroll employer, biggest staff first; with
    `in_scope` (a viewer's `Viewer.in_scope`) the employers it admits (the scope `/retail/employers`
    applies: theirs and those of no branch), their staff and retention over the staff it admits.

    Retention is the retail-linkage family's (`scoring.retail_linkage.employer_summaries`:
    staff's financial assets over a year's payroll), summed per branch of the staff as there.
    """
    from leads.campaigns import in_scope_mask
    from scoring.retail_linkage import employer_summaries

    # kept per version (`GraphStore.remembered`); figures over the staff in scope
    df = employer_summaries(store, admits=None if in_scope is None else lambda b: in_scope_mask(b, in_scope))
    df = df[in_scope_mask(df["branch_id"], in_scope)]  # an employer of no known branch (None, NaN, "") is shared
    rows = [(str(r["employer_id"]), str(r["name"] or r["employer_id"]), float(r["retention_rate"] or 0.0),
            int(r["staff"])) for r in df.to_dict("records")]  # one per employer
    return sorted(rows, key=lambda r: (-r[3], r[0]))


def _pay(ctx: ViewContext, employer_id: str, person_id: str, total: float) -> float | None:
    """A person's pay as this viewer may see it (`ViewContext.edge`, the link's rule): None when masked."""
    seen = ctx.edge(employer_id, person_id, {"kind": "PAYROLL", "amount": total}).get("amount")
    return None if seen is None else float(seen)


def payroll_picture(store: GraphStore, employer_id: str, ctx: ViewContext, per_band: int = 12) -> Picture:
    """Staff of a payroll employer in asset bands; the near-threshold band stands out."""
    attrs = store.require_node(employer_id)
    if attrs["kind"] != "Enterprise":
        raise InvalidRequest(f"{employer_id} is not an enterprise")
    from scoring.retail_linkage import employer_staff

    # the window's staff, pay and assets, and the contactable ones near or above the threshold:
    # the employer summary's figures (`scoring.retail_linkage.employer_summaries`), not all time
    staff, window = employer_staff(store, employer_id)
    lang = ctx.lang
    employer = make_node(store, employer_id, ctx, attrs=attrs, focus=True)
    total = float(staff["total"].sum()) if len(staff) else 0.0
    near, above = staff[staff["near"].astype(bool)], staff[staff["above"].astype(bool)]
    period = "" if window is None else text("payroll_window", lang, start=window[0], end=window[1])
    employer.amount = total or None
    employer.facts += [(text("staff", lang), str(len(staff))), (text("payroll_total", lang), format_wan(total)),
                       (text("retention", lang), f"{staff['assets'].sum() / total:.1%}" if total else "–"),
                       (text("near_staff", lang), str(len(near))), (text("above_staff", lang), str(len(above)))]
    nodes: list[VNode] = [employer]
    edges: list[VEdge] = []
    y = 0.0
    band_ys: list[float] = []
    for low, high in ASSET_BANDS:
        members = staff[(staff["assets"] >= low) & (staff["assets"] < high)]
        if members.empty:
            continue
        is_near = (low, high) == NEAR_THRESHOLD_BAND
        members = members.sort_values(["assets", "person_id"], ascending=[False, True])
        band_id = f"band:{int(low)}"
        band_total = float(members["total"].sum())
        band = VNode(id=band_id, name=f"{band_label(low, high)} · {text('people', lang, n=len(members))}",
                     kind="Band", amount=band_total, near_threshold=is_near, highlight=is_near,
                     facts=[(text("staff", lang), str(len(members))),
                            (text("payroll_total", lang), format_wan(band_total)),
                            (text("aum", lang), format_wan(float(members["assets"].sum())))])
        shown = members.head(per_band)
        # the persons drawn (and listed under "more"): their rows only, from the node index
        drawn = [*shown["person_id"], *members["person_id"].iloc[per_band:per_band + MAX_MEMBERS]]
        person_rows = {pid: {k: v for k, v in row.items() if k not in ("kind", "table")}
                       for pid, row in store.nodes(str(p) for p in drawn).items()}
        rows_needed = math.ceil((len(shown) + (1 if len(members) > per_band else 0)) / _STAFF_PER_ROW)
        band.x, band.y = 320.0, y
        band_ys.append(y)
        nodes.append(band)
        edges.append(VEdge(src=employer_id, dst=band_id, kind="PAYROLL", amount=band_total,
                           highlight=is_near))
        for i, rec in enumerate(shown.to_dict("records")):
            pid = str(rec["person_id"])
            row = person_rows.get(pid) or {"name": pid}
            pay = _pay(ctx, employer_id, pid, float(rec["total"]))  # None: a person this viewer sees masked
            person = make_node(store, pid, ctx, attrs={**row, "kind": "Person"}, amount=pay)
            if pay is not None:
                person.facts += [(text("avg_pay", lang), format_wan(float(rec["avg_pay"]))),
                                 (text("months_paid", lang), str(int(rec["months_paid"])))]
            if not rec["contactable"]:  # listed as a fact of the payroll, never as someone to call
                person.facts.append((text("status", lang), text("do_not_contact", lang)))
                person.faint = True
            person.x = 600.0 + (i % _STAFF_PER_ROW) * 170.0
            person.y = y + (i // _STAFF_PER_ROW) * 56.0
            nodes.append(person)
            # thin and faint: the band's position already groups its staff; the edge is for hovering
            edges.append(VEdge(src=band_id, dst=pid, kind="PAYROLL", amount=pay, label="", faint=True))
        if len(members) > per_band:
            rest = members.iloc[per_band:]
            i = len(shown)
            what = f"{text('payroll', lang)} ({band_label(low, high)})"
            more = VNode(id=f"more:{band_id}", name=text("more_of", lang, n=len(rest), what=what), kind="More",
                         folded=len(rest), amount=float(rest["total"].sum()), parent=band_id, member_edge="PAYROLL",
                         x=600.0 + (i % _STAFF_PER_ROW) * 170.0, y=y + (i // _STAFF_PER_ROW) * 56.0,
                         facts=[(text("payroll_total", lang), format_wan(float(rest["total"].sum())))])
            for rec in rest.head(MAX_MEMBERS).to_dict("records"):
                pid = str(rec["person_id"])
                row = person_rows.get(pid) or {"name": pid}
                more.members.append(make_node(store, pid, ctx, attrs={**row, "kind": "Person"},
                                              amount=_pay(ctx, employer_id, pid, float(rec["total"]))))
            nodes.append(more)
            edges.append(VEdge(src=band_id, dst=more.id, kind="FOLD", amount=float(rest["total"].sum())))
        y += max(1, rows_needed) * 56.0 + 50.0
    employer.x, employer.y = 0.0, (band_ys[-1] / 2 if band_ys else 0.0)
    subtitle = (f"{period + ' · ' if period else ''}{text('staff', lang)} {len(staff)} · "
                f"{text('near_staff', lang)} {len(near)} · {text('above_staff', lang)} {len(above)}")
    return Picture(view="payroll", title=text("title_payroll", lang, name=employer.name), nodes=nodes,
                   edges=edges, subtitle=subtitle, lang=lang, amount_window=period)
