"""The weights and switches of the referral family: section ``referral:`` of scoring/weights.yaml.

A misspelt or out-of-range value is an error (pydantic, `extra="forbid"`), reported by
`scoring.settings.family_settings` with the section's name.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ReferralSettings", "ReferrerWeights", "ChainWeights", "TargetWeights"]


class ReferrerWeights(BaseModel):
    """Points for how strong the introducer is (the first bar of the waterfall)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt weight is an error, not ignored

    credit_client: float = Field(default=10.0, ge=0)
    tenure: float = Field(default=5.0, ge=0)
    tenure_full_years: float = Field(default=5.0, gt=0)
    products: float = Field(default=5.0, ge=0)
    products_full: int = Field(default=4, ge=1)
    position: dict[str, float] = Field(default_factory=lambda: {
        "president": 10.0, "secretary_general": 10.0, "vice_president": 8.0, "director": 4.0, "member": 0.0,
        "role:actual_controller": 8.0, "role:legal_rep": 8.0, "role:director": 6.0, "role:executive": 4.0,
        "role:shareholder": 4.0, "role:finance": 2.0, "role:employee": 0.0,
        "group:parent": 8.0, "group:subsidiary": 8.0, "group:sibling": 6.0,
    })


class ChainWeights(BaseModel):
    """Points for the chain itself: social proof, fit and length."""

    model_config = ConfigDict(extra="forbid")  # a misspelt weight is an error, not ignored

    penetration: float = Field(default=15.0, ge=0)
    penetration_full_at: float = Field(default=0.5, gt=0, le=1)
    same_industry: float = Field(default=10.0, ge=0)
    credit_design: float = Field(default=10.0, ge=0)
    credit_design_association_kinds: list[str] = Field(default_factory=lambda: ["industry_association", "market"])
    credit_design_capital_ratio: float = Field(default=20.0, ge=1)
    length: float = Field(default=15.0, ge=0)
    length_full_hops: int = Field(default=3, ge=1)
    length_loss_per_hop: float = Field(default=0.34, ge=0, le=1)
    introducers: float = Field(default=15.0, ge=0)
    introducer_extra: float = Field(default=5.0, ge=0)


class TargetWeights(BaseModel):
    """Points of an association as a batch target (salons, packages)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt weight is an error, not ignored

    reachable: float = Field(default=35.0, ge=0)
    reachable_full_at: float = Field(default=50.0, gt=0)
    penetration: float = Field(default=20.0, ge=0)
    penetration_full_at: float = Field(default=0.5, gt=0, le=1)
    client_officers: float = Field(default=15.0, ge=0)
    client_officers_full: int = Field(default=2, ge=1)
    credit_clients: float = Field(default=15.0, ge=0)
    credit_clients_full: int = Field(default=1, ge=1)
    managers: float = Field(default=10.0, ge=0)
    managers_full: int = Field(default=2, ge=1)


class ReferralSettings(BaseModel):
    """The `referral:` section of scoring/weights.yaml."""

    model_config = ConfigDict(extra="forbid")  # a misspelt weight is an error, not ignored

    referrer: ReferrerWeights = Field(default_factory=ReferrerWeights)
    chain: ChainWeights = Field(default_factory=ChainWeights)
    target: TargetWeights = Field(default_factory=TargetWeights)
    officer_positions: list[str] = Field(default_factory=lambda: ["president", "vice_president", "secretary_general"])
    interlock_roles: list[str] = Field(default_factory=lambda: ["legal_rep", "director", "actual_controller",
                                                                "executive"])
    weak_client_max_products: int = Field(default=1, ge=0)
    include_weak_clients: bool = True
    max_referrers_per_association: int = Field(default=10, ge=1)
    max_listed: int = Field(default=5, ge=0)
    products_enterprise: list[str] = Field(default_factory=lambda: ["settlement_account", "working_capital_loan"])
    products_credit_design: list[str] = Field(default_factory=lambda: ["inclusive_finance_loan"])
    products_person: list[str] = Field(default_factory=lambda: ["deposit", "wealth_management"])
    products_target: list[str] = Field(default_factory=lambda: ["association_salon", "batch_credit_package",
                                                                "settlement_account"])
