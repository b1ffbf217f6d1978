"""Settings of the working rhythm: the `rhythm` section of the one weights file (scoring/weights.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph.settings import get_settings
from scoring.settings import ScoringSettings, family_settings

__all__ = ["RhythmSettings", "Tier", "Words", "TagOffer", "MarketClass", "OutflowNotice", "load_rhythm"]


class Tier(BaseModel):
    min_score: float = Field(ge=0, le=100)
    cadence_days: int = Field(ge=1, le=366)


class Words(BaseModel):
    en: str
    zh: str


class TagOffer(Words):
    offer_en: str
    offer_zh: str


class MarketClass(BaseModel):
    name: str
    min_volume: float = Field(ge=0, description="yearly settlement volume, CNY")
    min_capital: float = Field(ge=0, description="registered capital (scale), CNY")
    package_en: str
    package_zh: str


class OutflowNotice(BaseModel):
    notice_clients: int = Field(10, ge=0, description="more falling clients than this in a branch: a notice")
    win_back_days: int = Field(90, ge=1, description="flag a client not won back within this many days")


class RhythmSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tiers: dict[str, Tier]
    lift_kinds: list[str] = Field(default_factory=list)
    actions: dict[str, Words] = Field(default_factory=dict)
    default_action: Words
    tags: dict[str, TagOffer] = Field(default_factory=dict)
    market_classes: list[MarketClass]
    outflow: OutflowNotice = Field(default_factory=OutflowNotice)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _ordered(self) -> RhythmSettings:
        if sorted(self.tiers) != ["A", "B", "C"]:
            raise ValueError("tiers must be A, B and C")
        if not self.tiers["A"].min_score >= self.tiers["B"].min_score >= self.tiers["C"].min_score:
            raise ValueError("tier min_score must fall from A to C")
        if len(self.market_classes) != 3:
            raise ValueError("market_classes must list three classes, largest first")
        return self


def load_rhythm(settings: ScoringSettings | None = None) -> RhythmSettings:
    """The validated `rhythm` section."""
    return family_settings(settings or get_settings().scoring, "rhythm", RhythmSettings)
