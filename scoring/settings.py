"""Scoring settings: the language of reasons and every family's weights, from one YAML file.

The defaults ship as `scoring/weights.yaml`; `PROSPECT_GRAPH_WEIGHTS=/path/to/file.yaml`
overrides any part of it (deep-merged). Each family validates its own section with its own
pydantic model (`family_settings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.errors import InvalidRequest

__all__ = ["ScoringSettings", "family_settings", "DEFAULT_WEIGHTS"]

DEFAULT_WEIGHTS = Path(__file__).with_name("weights.yaml")
M = TypeVar("M", bound=BaseModel)


class ScoringSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROSPECT_GRAPH_", extra="ignore")

    lang: Literal["zh", "en"] = "zh"
    weights: Path | None = Field(default=None, description="YAML file overriding scoring/weights.yaml")
    as_of: str | None = Field(default=None, description="score as of this date (default: latest data)")

    def sections(self) -> dict[str, Any]:
        data = _load(DEFAULT_WEIGHTS)
        if self.weights is not None:
            data = _merge(data, _load(self.weights))
        return data


def family_settings(settings: ScoringSettings, family: str, model: type[M]) -> M:
    """Validate the `family` section of the weights file with the family's own model."""
    try:
        return model.model_validate(settings.sections().get(family, {}))
    except ValidationError as exc:
        raise InvalidRequest(f"weights file, section {family!r}: {exc.errors()[0]['msg']}") from exc


def _load(path: Path) -> dict[str, Any]:
    try:
        # libyaml's safe loader when present: the pure-Python one takes ~0.3 s per scoring run
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidRequest(f"cannot read weights file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidRequest(f"weights file {path} must be a mapping of family sections")
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
