"""Ingest settings (environment: PROSPECT_GRAPH_*): resolution threshold, own bank names, limits."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["IngestSettings"]


class IngestSettings(BaseSettings):
    """What an ingest decides by setting rather than by code.

    Example: ``PROSPECT_GRAPH_FUZZY_THRESHOLD=92 prospect-graph ingest bundle/``.
    """

    model_config = SettingsConfigDict(env_prefix="PROSPECT_GRAPH_", extra="ignore")

    fuzzy_threshold: float = Field(default=90.0, ge=50.0, le=100.0,
                                   description="rapidfuzz score (0-100) a name must reach to match a known enterprise")
    fuzzy_block_prefix: int = Field(default=2, ge=1, le=6,
                                    description="names are only compared within blocks sharing this many leading "
                                                "characters of their normalised form (or a shared token)")
    own_bank_names: list[str] = Field(default_factory=lambda: ["本行", "我行"],
                                      description="payee_bank values meaning our own bank")
    placeholder_names: list[str] = Field(
        default_factory=lambda: ["REDACTED", "REDACTED PERSONAL DATA", "个人", "未知", "不详", "无", "N/A", "NA",
                                 "NONE", "NULL", "UNKNOWN", "-", "--", "/", "PERSONAL DATA", "个体", "匿名"],
        description="counterparty names that are placeholders, never entities")
    max_name_length: int = Field(default=200, ge=10, description="longer names are rejected")
    max_rejects_logged: int = Field(default=1_000_000, ge=0,
                                    description="rejects written to rejects.csv (the summary counts them all)")
