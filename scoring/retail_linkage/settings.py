"""Settings of the `retail_linkage` family: thresholds and weights, validated from weights.yaml.

Every `w_*` number is the most points that contribution can give; each kind's weights must
add up to at most 100 so a score stays within 0..100 without rescaling. The documented
defaults live next to each number in the `retail_linkage:` section of scoring/weights.yaml.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph.schema import ROLES, TIERS
from graph.vocabulary import ASSET_THRESHOLD, NEAR_THRESHOLD_FLOOR, OUTFLOW_QUERY_RATIO, OUTFLOW_WARNING_RATIO
from scoring.settings import ScoringSettings, family_settings

__all__ = [
    "RetailLinkageSettings",
    "PayrollSettings",
    "ExecutiveSettings",
    "CorporateFromRetailSettings",
    "OutflowSettings",
    "load_settings",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: names of the fields that are weights (maximum points); checked to sum to <= 100
    weight_fields: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _weights_fit(self) -> _Section:
        total = sum(float(getattr(self, name)) for name in self.weight_fields)
        if total > 100.0 + 1e-9:
            raise ValueError(f"weights {', '.join(self.weight_fields)} add up to {total:g}, more than 100")
        return self


class PayrollSettings(_Section):
    weight_fields = ("w_assets", "w_gap", "w_pay", "w_regularity", "w_tenure")

    window_months: int = Field(12, ge=1, le=60)
    near_floor: float = Field(NEAR_THRESHOLD_FLOOR, gt=0.0, lt=1.0)
    w_assets: float = Field(40.0, ge=0)
    assets_power: float = Field(2.0, ge=1.0)
    w_above: float = Field(10.0, ge=0)
    w_gap: float = Field(25.0, ge=0)
    gap_months_full: float = Field(3.0, ge=0)
    gap_months_zero: float = Field(24.0, gt=0)
    w_pay: float = Field(15.0, ge=0)
    pay_full_at: float = Field(15_000.0, gt=0)
    w_regularity: float = Field(10.0, ge=0)
    w_tenure: float = Field(10.0, ge=0)
    tenure_full_months: int = Field(48, ge=1)
    max_rows: int = Field(20_000, ge=1)

    @model_validator(mode="after")
    def _above_not_more(self) -> PayrollSettings:
        if self.w_above > self.w_assets:
            raise ValueError("w_above must not exceed w_assets")
        if self.gap_months_full >= self.gap_months_zero:
            raise ValueError("gap_months_full must be below gap_months_zero")
        return self


class ExecutiveSettings(_Section):
    weight_fields = ("w_seniority", "w_stake", "w_firm_size", "w_firm_credit", "w_relationship", "w_breadth")

    roles: list[str] = Field(default_factory=lambda: [
        "legal_rep", "actual_controller", "shareholder", "director", "executive", "finance"])
    w_seniority: float = Field(35.0, ge=0)
    w_stake: float = Field(20.0, ge=0)
    stake_full_pct: float = Field(30.0, gt=0)
    w_firm_size: float = Field(15.0, ge=0)
    capital_full_at: float = Field(100_000_000.0, gt=0)
    staff_full_at: float = Field(1_000.0, gt=0)
    w_firm_credit: float = Field(5.0, ge=0)
    w_relationship: float = Field(15.0, ge=0)
    relationship_room: dict[str, float] = Field(default_factory=lambda: {
        "none": 1.0, "mass": 0.8, "potential": 0.5})
    w_breadth: float = Field(10.0, ge=0)
    breadth_full: int = Field(3, ge=1)
    max_rows: int = Field(20_000, ge=1)

    @model_validator(mode="after")
    def _known(self) -> ExecutiveSettings:
        _check_roles(self.roles)
        bad = sorted(set(self.relationship_room) - {"none", *TIERS})
        if bad:
            raise ValueError(f"relationship_room: unknown tier(s) {', '.join(bad)}")
        return self


class CorporateFromRetailSettings(_Section):
    weight_fields = ("w_tier", "w_assets", "w_seniority", "w_stake", "w_firm", "w_holders")

    roles: list[str] = Field(default_factory=lambda: [
        "legal_rep", "actual_controller", "shareholder", "director", "executive", "finance"])
    tier_weight: dict[str, float] = Field(default_factory=lambda: {
        "private": 1.0, "vip": 0.8, "potential": 0.4, "mass": 0.2})
    w_tier: float = Field(30.0, ge=0)
    w_assets: float = Field(15.0, ge=0)
    assets_full_at: float = Field(5_000_000.0, gt=0)
    w_seniority: float = Field(20.0, ge=0)
    w_stake: float = Field(10.0, ge=0)
    stake_full_pct: float = Field(30.0, gt=0)
    w_firm: float = Field(20.0, ge=0)
    capital_full_at: float = Field(100_000_000.0, gt=0)
    payments_full_at: float = Field(100_000_000.0, gt=0)
    w_holders: float = Field(5.0, ge=0)
    holders_full: int = Field(3, ge=1)
    max_rows: int = Field(20_000, ge=1)

    @model_validator(mode="after")
    def _known(self) -> CorporateFromRetailSettings:
        _check_roles(self.roles)
        _check_tiers(self.tier_weight, "tier_weight")
        return self


class OutflowSettings(_Section):
    weight_fields = ("w_level_warning", "w_fall", "w_lost", "w_tier")

    query_ratio: float = Field(OUTFLOW_QUERY_RATIO, gt=0.0, lt=1.0)
    warning_ratio: float = Field(OUTFLOW_WARNING_RATIO, gt=0.0, lt=1.0)
    min_prev_aum: float = Field(10_000.0, ge=0)
    w_level_query: float = Field(10.0, ge=0)
    w_level_warning: float = Field(25.0, ge=0)
    w_fall: float = Field(30.0, ge=0)
    w_lost: float = Field(25.0, ge=0)
    lost_full_at: float = Field(1_000_000.0, gt=0)
    w_tier: float = Field(20.0, ge=0)
    tier_weight: dict[str, float] = Field(default_factory=lambda: {
        "private": 1.0, "vip": 0.75, "potential": 0.4, "mass": 0.15})
    recent_months: int = Field(3, ge=1, le=12)
    growth_query: float = Field(1.5, gt=1.0)
    growth_warning: float = Field(2.0, gt=1.0)
    growth_full: float = Field(4.0, gt=1.0)
    min_recent_other_bank: float = Field(100_000.0, ge=0)
    w_growth: float = Field(30.0, ge=0)
    w_other_bank: float = Field(25.0, ge=0)
    other_bank_full_at: float = Field(10_000_000.0, gt=0)
    w_share: float = Field(20.0, ge=0)
    own_bank_names: list[str] = Field(default_factory=list)
    max_rows: int = Field(20_000, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> OutflowSettings:
        if self.warning_ratio >= self.query_ratio:
            raise ValueError("warning_ratio must be below query_ratio")
        if self.w_level_query > self.w_level_warning:
            raise ValueError("w_level_query must not exceed w_level_warning")
        if not self.growth_query < self.growth_warning <= self.growth_full:
            raise ValueError("need growth_query < growth_warning <= growth_full")
        _check_tiers(self.tier_weight, "tier_weight")
        corporate = self.w_level_warning + self.w_growth + self.w_other_bank + self.w_share
        if corporate > 100.0 + 1e-9:
            raise ValueError(f"w_level_warning, w_growth, w_other_bank, w_share add up to {corporate:g}, "
                             "more than 100")
        return self


class RetailLinkageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(ASSET_THRESHOLD, gt=0)
    role_seniority: dict[str, float] = Field(default_factory=lambda: {
        "actual_controller": 1.0, "legal_rep": 0.9, "director": 0.7, "executive": 0.6,
        "finance": 0.5, "shareholder": 0.4, "employee": 0.1})
    payroll: PayrollSettings = Field(default_factory=PayrollSettings)  # type: ignore[arg-type]
    executive: ExecutiveSettings = Field(default_factory=ExecutiveSettings)  # type: ignore[arg-type]
    corporate_from_retail: CorporateFromRetailSettings = Field(
        default_factory=CorporateFromRetailSettings)  # type: ignore[arg-type]
    outflow: OutflowSettings = Field(default_factory=OutflowSettings)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _seniority(self) -> RetailLinkageSettings:
        _check_roles(list(self.role_seniority))
        if any(not 0.0 <= v <= 1.0 for v in self.role_seniority.values()):
            raise ValueError("role_seniority values must be within 0..1")
        return self


def _check_roles(roles: list[str]) -> None:
    bad = sorted(set(roles) - set(ROLES))
    if bad:
        raise ValueError(f"unknown role(s) {', '.join(bad)}; known: {', '.join(ROLES)}")


def _check_tiers(weights: dict[str, float], name: str) -> None:
    bad = sorted(set(weights) - set(TIERS))
    if bad:
        raise ValueError(f"{name}: unknown tier(s) {', '.join(bad)}; known: {', '.join(TIERS)}")
    if any(not 0.0 <= v <= 1.0 for v in weights.values()):
        raise ValueError(f"{name}: values must be within 0..1")


def load_settings(settings: ScoringSettings) -> RetailLinkageSettings:
    """The validated `retail_linkage` section (defaults where the file is silent)."""
    return family_settings(settings, "retail_linkage", RetailLinkageSettings)
