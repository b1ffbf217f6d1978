"""The `retail_linkage` family (公私联动): corporate-to-retail linkage and outflow alerts.

Kinds (DESIGN.md): `payroll` (payroll staff of client employers, near the CNY 50,000
threshold first), `executive` (role holders of corporate clients who are not retail clients
or are below VIP), `corporate_from_retail` (non-client enterprises behind retail clients)
and `outflow` (retail clients whose assets fell, corporate clients paying more to other banks).

Also the per-employer payroll summary (`employer_summaries`) and a retail manager's view of
their clients' enterprises (`retail_manager_view`). Persons marked do-not-contact are never
listed; `id_hash` and `phone_masked` never leave the store through this family.

Example:
    >>> from graph.networkx_store import NetworkxStore                      # doctest: +SKIP
    >>> rows = score(NetworkxStore("prospect-graph-store"), get_settings().scoring)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.errors import NotFound
from graph.settings import get_settings
from graph.store import GraphStore
from scoring.retail_linkage.common import ROLE_LABELS, connect, contactable_persons
from scoring.retail_linkage.outflow import corporate_outflow_prospects, retail_outflow_prospects
from scoring.retail_linkage.payroll import (
    BRANCH_METRIC_COLUMNS,
    SUMMARY_COLUMNS,
    employer_metrics,
    payroll_prospects,
    summarise_employers,
)
from scoring.retail_linkage.payroll import employer_staff as payroll_staff
from scoring.retail_linkage.roles import corporate_from_retail_prospects, executive_prospects
from scoring.retail_linkage.settings import RetailLinkageSettings, load_settings
from scoring.settings import ScoringSettings

__all__ = ["score", "employer_summaries", "employer_tracking_metrics", "retail_manager_view",
           "scoped_summaries", "RetailLinkageSettings"]

#: a branch column -> which of its values a viewer sees (`api.masking.Viewer.in_scope_column`)
Admits = Callable[[pd.Series], np.ndarray]

_TIER_ORDER = {"private": 0, "vip": 1, "potential": 2, "mass": 3}


def score(store: GraphStore, settings: ScoringSettings) -> pa.Table:
    """Every row of the family, as one frame: payroll, executive, corporate_from_retail and outflow."""
    rs = load_settings(settings)
    con = connect(store, materialise=True)  # one connection over the store's tables for every kind
    try:
        outflow = pa.concat_tables([retail_outflow_prospects(store, rs, con),
                                    corporate_outflow_prospects(store, rs, settings.as_of, con)])
        # retail and corporate alerts share the kind; keep the cap across both, best first
        outflow = outflow.sort_by([("score", "descending"), ("prospect_id", "ascending")]).slice(
            0, rs.outflow.max_rows)
        return pa.concat_tables([payroll_prospects(store, rs, settings.as_of, con), executive_prospects(store, rs, con),
                                 corporate_from_retail_prospects(store, rs, con), outflow])
    finally:
        con.close()


def employer_summaries(store: GraphStore, settings: ScoringSettings | None = None,
                       admits: Admits | None = None) -> pd.DataFrame:
    """One row per payroll employer: staff, avg monthly pay, payroll total over the window,
    retained assets, retention rate, staff near / above the threshold, product depth, months.

    See `scoring.retail_linkage.payroll.summarise_employers` for the exact definitions. With
    `admits` (a viewer's branch rule, `Viewer.in_scope_column`) every figure counts only the staff
    whose branch it admits (`scoped_summaries`); one admitting every branch gets the whole summary.
    """
    settings = settings or get_settings().scoring
    rs = load_settings(settings)
    # the same for every viewer of a version: kept for the next request (each caller gets a copy)
    key = ("employer-summaries", settings.as_of, rs.model_dump_json())
    whole = store.remembered(key, lambda: summarise_employers(store, rs, settings.as_of), lambda df: df.copy(), len)
    if admits is None:
        return whole
    # per employer and branch of its staff, once per version: the tracking snapshot's aggregation
    key = ("employer-branch-parts", settings.as_of, rs.model_dump_json())
    parts = store.remembered(key, lambda: employer_metrics(store, rs, settings.as_of, True), lambda df: df, len)
    seen = np.asarray(admits(parts["branch_id"]), dtype=bool)
    return whole if seen.all() else scoped_summaries(whole, parts, seen)


def scoped_summaries(whole: pd.DataFrame, parts: pd.DataFrame, seen: np.ndarray) -> pd.DataFrame:
    """The employer summary over the staff of the branches seen: `whole`'s employers (their own
    facts: name, client, manager, branch), each count and sum the sum of the parts seen
    (`employer_metrics(by_branch=True)`), each ratio or mean the ratio of those sums, `months` the
    months any staff seen was paid; an employer none of whose staff is seen shows zeros. A median
    does not add up: `median_retention` is kept where every one of the employer's staff is seen,
    else None. Biggest payroll seen first."""
    counts = ["staff", "staff_above_threshold", "staff_near_threshold", "staff_contactable", "person_months",
              "products", "staff_3plus_products", "tenure_months", "payroll_total_12m", "retained_assets"]
    mine = parts[seen]
    summed = mine.groupby("employer_id")[counts].sum()
    paid = mine["paid_months"].to_numpy(dtype=np.int64)  # a bit per month of the window (at most 60)
    width = int(paid.max()).bit_length() if len(paid) else 0
    bits = ((paid[:, None] >> np.arange(width)) & 1).astype(np.uint8)  # any staff's month paid is a month paid
    months = pd.DataFrame(bits, index=mine["employer_id"].to_numpy()).groupby(level=0).max().sum(axis=1)
    hidden = parts[~seen].groupby("employer_id")["staff"].sum()
    out = whole.drop(columns=[c for c in counts if c in whole.columns]).set_index("employer_id")
    out = out.join(summed).fillna({c: 0 for c in counts})
    out["months"] = months.reindex(out.index).fillna(0).astype("int64")
    staff, total = out["staff"].to_numpy(dtype="float64"), out["payroll_total_12m"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["avg_monthly_pay"] = np.where(out["person_months"] > 0, total / out["person_months"], 0.0).round(2)
        out["retention_rate"] = np.where(total > 0, out["retained_assets"] / total, 0.0).round(5)
        out["product_depth"] = np.where(staff > 0, out["products"] / staff, 0.0).round(3)
        out["avg_tenure_months"] = np.where(staff > 0, out["tenure_months"] / staff, 0.0).round(1)
    out["median_retention"] = out["median_retention"].astype(object).where(~out.index.isin(hidden[hidden > 0].index))
    for col in ("staff", "staff_near_threshold", "staff_above_threshold", "staff_contactable", "staff_3plus_products"):
        out[col] = out[col].astype("int64")
    out = out.rename_axis("employer_id").reset_index()
    out = out.sort_values(["payroll_total_12m", "employer_id"], ascending=[False, True])
    return out[SUMMARY_COLUMNS].reset_index(drop=True)


def employer_staff(store: GraphStore, employer_id: str, settings: ScoringSettings | None = None
                   ) -> tuple[pd.DataFrame, tuple[str, str] | None]:
    """One employer's staff paid in the payroll window, as `employer_summaries` counts them, and
    the window's first and last month (None without payroll). See
    `scoring.retail_linkage.payroll.employer_staff`."""
    settings = settings or get_settings().scoring
    return payroll_staff(store, employer_id, load_settings(settings), settings.as_of)


def employer_tracking_metrics(store: GraphStore, settings: ScoringSettings | None = None,
                              by_branch: bool = False) -> pd.DataFrame:
    """The employer summary's `staff`, `staff_above_threshold` and `retention_rate` only, one
    aggregation (`scoring.retail_linkage.payroll.employer_metrics`); `by_branch`: per employer and
    branch of its staff, with retention's two sums (`payroll_total_12m`, `retained_assets`) — what
    the tracking snapshot keeps."""
    settings = settings or get_settings().scoring
    out = employer_metrics(store, load_settings(settings), settings.as_of, by_branch)
    return out[BRANCH_METRIC_COLUMNS] if by_branch else out


def retail_manager_view(store: GraphStore, manager_id: str) -> list[dict[str, Any]]:
    """For a retail manager's clients: each linked enterprise, the roles held there (and
    payroll), whether it is a corporate client, and the corporate manager covering it.

    One dict per (client, enterprise), clients by tier then assets. Raises NotFound for an
    unknown manager. Do-not-contact clients are left out.
    """
    managers = store.read("managers", ["id", "name", "kind"])
    if not (managers["id"] == manager_id).any():
        raise NotFound(f"no manager with id {manager_id!r}")
    persons = contactable_persons(store)
    mine = persons[persons["manager_id"] == manager_id]
    if mine.empty:
        return []
    roles = store.read("roles", ["person_id", "enterprise_id", "role", "share_pct"])
    roles = roles[roles["person_id"].isin(mine["id"])]
    pay = store.read("payroll", ["employer_id", "person_id"])
    pay = pay[pay["person_id"].isin(mine["id"])].drop_duplicates()
    links = pd.concat([roles, pd.DataFrame({"person_id": pay["person_id"], "enterprise_id": pay["employer_id"],
                                            "role": "payroll", "share_pct": float("nan")})],
                      ignore_index=True)
    if links.empty:
        return []
    ents = store.read("enterprises", ["id", "name", "is_client", "is_credit_client", "manager_id"])
    ents = ents[ents["id"].isin(links["enterprise_id"].dropna().unique())]  # Python rows for these only
    names = dict(zip(managers["id"], managers["name"], strict=True))
    ent = {str(r["id"]): r for r in ents.to_dict("records")}
    people = {str(r["id"]): r for r in mine.to_dict("records")}
    out: list[dict[str, Any]] = []
    for (pid, eid), grp in links.groupby(["person_id", "enterprise_id"], sort=True):
        p, e = people[str(pid)], ent.get(str(eid), {})
        corp = e.get("manager_id")
        corp = None if pd.isna(corp) else str(corp)
        is_client = bool(e.get("is_client")) if not pd.isna(e.get("is_client")) else False
        share = grp["share_pct"].max()
        out.append({
            "person_id": str(pid), "person_name": str(p["name"]), "tier": _none(p["tier"]),
            "aum": float(p["aum"]), "enterprise_id": str(eid), "enterprise_name": _none(e.get("name")),
            "roles": sorted(set(grp["role"].astype(str))),
            "roles_zh": sorted({ROLE_LABELS.get(r, ("", "代发工资"))[1] for r in grp["role"].astype(str)}),
            "share_pct": None if pd.isna(share) else float(share),
            "enterprise_is_client": is_client,
            "corporate_manager_id": corp, "corporate_manager_name": names.get(corp) if corp else None,
            "opportunity": "deepen" if is_client else "corporate_from_retail",
        })
    out.sort(key=lambda d: (_TIER_ORDER.get(d["tier"] or "", 9), -d["aum"], d["person_id"], d["enterprise_id"]))
    return out


def _none(value: Any) -> Any:
    return None if value is None or pd.isna(value) else str(value)
