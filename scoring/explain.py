"""The explanation every prospect row carries: evidence items whose contributions sum to the score.

A family builds a `Prospect` from `Evidence` items (each a named, labelled contribution in
points) and `Reason` sentences in English and Chinese; `Prospect.to_record` flattens it into
a row of the store's `prospects` table (JSON text for the nested parts); the scoring run
itself goes through `scoring.frame.from_prospects`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, Field

from graph.vocabulary import POSITION_WORDS, ROLE_WORDS  # re-exported for the families

__all__ = ["Evidence", "Reason", "Prospect", "finalise_scores", "log_scaled", "ROLE_WORDS", "POSITION_WORDS"]


class Evidence(BaseModel):
    """One named fact and the points it contributes (a bar of the score's waterfall)."""

    name: str = Field(description="machine name, e.g. 'amount_12m'")
    label_en: str
    label_zh: str
    value: float | str | None = None
    contribution: float = 0.0

    def label(self, lang: str = "zh") -> str:
        return self.label_zh if lang == "zh" else self.label_en


class Reason(BaseModel):
    """One human-readable sentence, in both languages."""

    en: str
    zh: str

    def text(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


class Prospect(BaseModel):
    """A scored prospect before ranking. `score` is always the sum of the contributions."""

    family: str
    kind: str
    prospect_id: str
    name: str
    evidence: list[Evidence]
    reasons: list[Reason]
    path: list[str] = Field(default_factory=list)
    suggested_products: list[str] = Field(default_factory=list)
    manager_id: str | None = None
    branch_id: str | None = None
    anchor_id: str | None = None
    association_id: str | None = None
    employer_id: str | None = None
    is_deepening: bool = False
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def score(self) -> float:
        return round(sum(e.contribution for e in self.evidence), 6)

    def to_record(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "kind": self.kind,
            "prospect_id": self.prospect_id,
            "name": self.name,
            "score": self.score,
            # the stored form of scoring/run.py: each sentence as the `text` template (scoring/templates.py)
            "reasons": json.dumps([{"template": "text", "params": {"en": r.en, "zh": r.zh}} for r in self.reasons],
                                  ensure_ascii=False),
            "evidence": json.dumps([e.model_dump() for e in self.evidence], ensure_ascii=False),
            "path": json.dumps(self.path, ensure_ascii=False),
            "suggested_products": json.dumps(self.suggested_products, ensure_ascii=False),
            "manager_id": self.manager_id,
            "branch_id": self.branch_id,
            "anchor_id": self.anchor_id,
            "association_id": self.association_id,
            "employer_id": self.employer_id,
            "is_deepening": self.is_deepening,
            "details": json.dumps(self.details, ensure_ascii=False, default=str),
        }


def log_scaled(amount: float, full_at: float) -> float:
    """0..1: log10(1+amount) relative to log10(1+full_at), capped at 1 (monotone in amount)."""
    if amount <= 0 or full_at <= 0:
        return 0.0
    return min(1.0, math.log10(1.0 + amount) / math.log10(1.0 + full_at))


def finalise_scores(evidence: list[Evidence], cap: float = 100.0) -> list[Evidence]:
    """Clamp the total into [0, cap] by scaling contributions proportionally, keeping the sum exact.

    Families design weights so raw totals stay within 0..100; this is the safety net that
    keeps `score == sum(contributions)` and `0 <= score <= 100` whatever the data.
    """
    total = sum(e.contribution for e in evidence)
    if total > cap and total > 0:
        factor = cap / total
        evidence = [e.model_copy(update={"contribution": e.contribution * factor}) for e in evidence]
    elif total < 0:
        negatives = sum(e.contribution for e in evidence if e.contribution < 0)
        factor = (negatives - total) / negatives if negatives else 1.0
        evidence = [
            e.model_copy(update={"contribution": e.contribution * factor}) if e.contribution < 0 else e
            for e in evidence
        ]
    return evidence
