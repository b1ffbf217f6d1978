"""Campaign rows of the lead board: a long tail worked in one batch, not person by person.

A manager acts person by person on near-threshold staff, VIPs, executives and the top members
of an association; the rest of an employer's payroll staff is one payroll-day campaign
(代发日批量营销) and the rest of an association's or market's members one batch campaign
(沙龙, 商圈批量营销). `split_campaigns` takes the board's candidate rows and returns the rows
that stay individual leads and one campaign lead per employer or association.

The bands come from the retail family (its `threshold` and `payroll.near_floor` settings); the
only numbers here are how many members stay individual and the expected conversion rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from graph.vocabulary import format_amount

__all__ = ["CampaignSettings", "split_campaigns"]


class CampaignSettings(BaseModel):
    """The `campaigns:` section of weights.yaml."""

    top_members: int = Field(default=10, ge=0, description="members of an association kept as individual leads")
    individual_tiers: list[str] = Field(default_factory=lambda: ["vip", "private"],
                                        description="retail tiers a manager always contacts person by person")
    payroll_conversion: float = Field(default=0.26, ge=0, le=1,
                                      description="share of campaign staff expected to pass the threshold")
    member_conversion: float = Field(default=0.2, ge=0, le=1,
                                     description="share of campaign members expected to open an account")


def split_campaigns(rows: pd.DataFrame, conf: CampaignSettings, lang: str, names: dict[str, str] | None = None
                    ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """(rows that stay individual leads, campaign leads in the board's shape).

    `rows` carry the retail details the split reads as columns (`band`, `tier` in lower case,
    `financial_assets`, `employer_name`, `employer_manager_id`; empty or 0 where a row has none:
    the lead board pulls them out of the stored JSON). A payroll campaign goes to the retail
    manager of most of its staff and is shared with the employer's corporate manager, who arranges
    the payroll day; `names` names associations.
    """
    names = names or {}
    payroll = (rows["kind"] == "payroll") & rows["employer_id"].notna()
    band = rows["band"]
    tail_staff = payroll & (band != "near") & ~rows["tier"].isin(conf.individual_tiers)
    member = (rows["kind"] == "member") & rows["association_id"].notna()
    order = rows["score"].rank(method="first", ascending=False)
    place = order.where(member).groupby(rows["association_id"].where(member)).rank(method="first")
    tail_members = member & (place > conf.top_members)
    campaigns: list[dict[str, Any]] = []
    if tail_staff.any():
        staff = rows[tail_staff].assign(assets=rows["financial_assets"][tail_staff])
        for employer, g in staff.groupby("employer_id", sort=True):
            name = g["employer_name"].iloc[0] or str(employer)
            corporate = g["employer_manager_id"].iloc[0]
            mode = g["manager_id"].dropna().mode()
            owner = str(mode.iloc[0]) if len(mode) else corporate
            bands = {b: int((g["band"] == b).sum()) for b in ("below", "near", "above")}
            expected = int(np.floor(len(g) * conf.payroll_conversion + 0.5))
            median = float(g["assets"].median())
            en = (f"Payroll-day campaign at {name}: {len(g)} staff ({bands['below']} below the near band, "
                  f"{bands['above']} above the threshold), median assets {format_amount(median, 'en', 'yuan')}, "
                  f"{format_amount(g['assets'].sum(), 'en', 'yuan')} in all; about {expected} expected to convert.")
            zh = (f"{name}代发日批量营销：员工{len(g)}人（临界以下{bands['below']}人，已达标{bands['above']}人），"
                  f"金融资产中位数{format_amount(median, 'zh', 'yuan')}、合计{format_amount(g['assets'].sum(), 'zh', 'yuan')}；"
                  f"预计约{expected}人转化。")
            lead = _lead(f"campaign:payroll:{employer}", name, "payroll_campaign", "retail_linkage", g,
                         owner, zh if lang == "zh" else en,
                         {"employer_id": str(employer), "staff": len(g), "bands": bands,
                          "assets_median": round(median, 2), "assets_total": round(float(g["assets"].sum()), 2),
                          "expected_conversions": expected})
            lead["shared_with"] = [corporate] if corporate and corporate != owner else []
            campaigns.append(lead)
    if tail_members.any():
        for assoc, g in rows[tail_members].groupby("association_id", sort=True):
            expected = int(np.floor(len(g) * conf.member_conversion + 0.5))
            title = names.get(str(assoc), str(assoc))
            en = (f"Batch campaign for {len(g)} more members of {title} beyond the top "
                  f"{conf.top_members}: a salon or a package; about {expected} expected to open an account.")
            zh = f"{title}排名前{conf.top_members}以外的{len(g)}家会员：以沙龙或批量方案营销，预计约{expected}家开户。"
            campaigns.append(_lead(f"campaign:association:{assoc}", title, "member_campaign", "referral", g,
                                   g["manager_id"].dropna().iloc[0] if g["manager_id"].notna().any() else None,
                                   zh if lang == "zh" else en,
                                   {"association_id": str(assoc), "members": len(g),
                                    "expected_conversions": expected}))
    return rows[~(tail_staff | tail_members)], campaigns


def _lead(entity_id: str, name: str, kind: str, family: str, g: pd.DataFrame, owner: Any, reason: str,
          campaign: dict[str, Any]) -> dict[str, Any]:
    """A campaign in the board's row shape; its score is its best member's."""
    return {
        "entity_id": entity_id, "name": name, "entity_kind": "Campaign", "best_family": family,
        "best_kind": kind, "score": round(float(g["score"].max()), 2), "families": [family],
        "reasons": [reason], "owner": owner if isinstance(owner, str) and owner else None,
        "owner_source": "anchor", "branch_id": g["branch_id"].dropna().iloc[0] if g["branch_id"].notna().any() else None,
        "assets": 0.0, "parent_id": None, "row_kind": "campaign", "campaign": campaign, "shared_with": [],
    }
