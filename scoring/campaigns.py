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
        campaigns += _payroll_campaigns(rows[tail_staff], conf, lang)
    if tail_members.any():
        campaigns += _member_campaigns(rows[tail_members], conf, lang, names)
    return rows[~(tail_staff | tail_members)], campaigns


class _Groups:
    """Rows grouped by `key` (the groups in sorted order, each group's rows in their given order),
    with per-group columns computed column-wise; the campaigns' texts are made per group only."""

    def __init__(self, rows: pd.DataFrame, key: str) -> None:
        order = np.argsort(rows[key].to_numpy(dtype=object), kind="stable")
        self.rows = rows.iloc[order].reset_index(drop=True)
        keys = self.rows[key].to_numpy(dtype=object)
        first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        self.keys, self.starts = keys[first], first
        self.ends = np.r_[first[1:], len(keys)]
        self.sizes = self.ends - self.starts
        self._codes = np.repeat(np.arange(len(first)), self.sizes)

    def first(self, column: str) -> list[Any]:
        """Each group's first value of `column`, nulls skipped (None where all are null)."""
        values = self.rows[column]
        found = np.flatnonzero(values.notna().to_numpy())
        codes = self._codes[found]
        lead = np.r_[True, codes[1:] != codes[:-1]] if len(codes) else np.zeros(0, dtype=bool)
        out: list[Any] = [None] * len(self.keys)
        for code, value in zip(codes[lead].tolist(), values.to_numpy(dtype=object)[found[lead]], strict=True):
            out[code] = value
        return out

    def head(self, column: str) -> list[Any]:
        """Each group's first value of `column` as given (null or not)."""
        return list(self.rows[column].to_numpy(dtype=object)[self.starts])

    def max(self, column: str) -> np.ndarray:
        return np.maximum.reduceat(self.rows[column].to_numpy(dtype=np.float64), self.starts)

    def count(self, column: str, value: str) -> np.ndarray:
        return np.add.reduceat((self.rows[column] == value).to_numpy(dtype=np.int64), self.starts)

    def mode(self, column: str) -> list[Any]:
        """Each group's most frequent non-null value (the smallest of the most frequent), or None."""
        named = pd.DataFrame({"g": self._codes, "v": self.rows[column].to_numpy(dtype=object)}).dropna()
        counts = named.groupby(["g", "v"], sort=True).size().reset_index(name="n")
        best = counts.sort_values(["g", "n", "v"], ascending=[True, False, True]).drop_duplicates("g")
        out: list[Any] = [None] * len(self.keys)
        for code, value in zip(best["g"].tolist(), best["v"].tolist(), strict=True):
            out[code] = value
        return out

    def slices(self, column: str) -> list[np.ndarray]:
        values = self.rows[column].to_numpy(dtype=np.float64)
        return [values[a:b] for a, b in zip(self.starts.tolist(), self.ends.tolist(), strict=True)]


def _payroll_campaigns(staff: pd.DataFrame, conf: CampaignSettings, lang: str) -> list[dict[str, Any]]:
    """One payroll-day campaign per employer of the tail staff."""
    groups = _Groups(staff, "employer_id")
    names, corporates, owners = groups.head("employer_name"), groups.head("employer_manager_id"), groups.mode("manager_id")
    counts = {b: groups.count("band", b) for b in ("below", "near", "above")}
    best, branches = groups.max("score"), groups.first("branch_id")
    out = []
    for i, (employer, n, assets) in enumerate(zip(groups.keys, groups.sizes.tolist(), groups.slices("financial_assets"),
                                                  strict=True)):
        name = names[i] or str(employer)
        corporate = corporates[i]
        owner = str(owners[i]) if owners[i] is not None else corporate
        bands = {b: int(counts[b][i]) for b in ("below", "near", "above")}
        expected = int(np.floor(n * conf.payroll_conversion + 0.5))
        median, total = float(np.median(assets)), float(assets.sum())
        en = (f"Payroll-day campaign at {name}: {n} staff ({bands['below']} below the near band, "
              f"{bands['above']} above the threshold), median assets {format_amount(median, 'en', 'yuan')}, "
              f"{format_amount(total, 'en', 'yuan')} in all; about {expected} expected to convert.")
        zh = (f"{name}代发日批量营销：员工{n}人（临界以下{bands['below']}人，已达标{bands['above']}人），"
              f"金融资产中位数{format_amount(median, 'zh', 'yuan')}、合计{format_amount(total, 'zh', 'yuan')}；"
              f"预计约{expected}人转化。")
        lead = _lead(f"campaign:payroll:{employer}", name, "payroll_campaign", "retail_linkage", best[i], branches[i],
                     owner, zh if lang == "zh" else en,
                     {"employer_id": str(employer), "staff": n, "bands": bands,
                      "assets_median": round(median, 2), "assets_total": round(total, 2),
                      "expected_conversions": expected})
        lead["shared_with"] = [corporate] if corporate and corporate != owner else []
        out.append(lead)
    return out


def _member_campaigns(members: pd.DataFrame, conf: CampaignSettings, lang: str,
                      names: dict[str, str]) -> list[dict[str, Any]]:
    """One batch campaign per association of the members beyond its top ones."""
    groups = _Groups(members, "association_id")
    best, branches, managers = groups.max("score"), groups.first("branch_id"), groups.first("manager_id")
    out = []
    for i, (assoc, n) in enumerate(zip(groups.keys, groups.sizes.tolist(), strict=True)):
        expected = int(np.floor(n * conf.member_conversion + 0.5))
        title = names.get(str(assoc), str(assoc))
        en = (f"Batch campaign for {n} more members of {title} beyond the top "
              f"{conf.top_members}: a salon or a package; about {expected} expected to open an account.")
        zh = f"{title}排名前{conf.top_members}以外的{n}家会员：以沙龙或批量方案营销，预计约{expected}家开户。"
        out.append(_lead(f"campaign:association:{assoc}", title, "member_campaign", "referral", best[i], branches[i],
                         managers[i], zh if lang == "zh" else en,
                         {"association_id": str(assoc), "members": n, "expected_conversions": expected}))
    return out


def _lead(entity_id: str, name: str, kind: str, family: str, score: float, branch: Any, owner: Any, reason: str,
          campaign: dict[str, Any]) -> dict[str, Any]:
    """A campaign in the board's row shape; its score is its best member's."""
    return {
        "entity_id": entity_id, "name": name, "entity_kind": "Campaign", "best_family": family,
        "best_kind": kind, "score": round(float(score), 2), "families": [family],
        "reasons": [reason], "owner": owner if isinstance(owner, str) and owner else None,
        "owner_source": "anchor", "branch_id": branch,
        "assets": 0.0, "parent_id": None, "row_kind": "campaign", "campaign": campaign, "shared_with": [],
    }
