"""Scoring settings: the `scoring` section of the one settings object, and every family's weights.

`ScoringSettings` (language, weights file, as-of date) is the `scoring` section of
`graph.settings` (``get_settings().scoring``). The weights ship as `scoring/weights.yaml`;
`PROSPECT_GRAPH_SCORING__WEIGHTS=/path/to/file.yaml` overrides any part of it (deep-merged).
Each family validates its own section with its own
pydantic model (`family_settings`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from graph.errors import InvalidRequest
from graph.settings import ScoringSettings

__all__ = ["ScoringSettings", "family_settings", "weight_sections", "DEFAULT_WEIGHTS"]

DEFAULT_WEIGHTS = Path(__file__).with_name("weights.yaml")
M = TypeVar("M", bound=BaseModel)


def weight_sections(settings: ScoringSettings) -> dict[str, Any]:
    """The weights file's sections: `scoring/weights.yaml` deep-merged with `settings.weights`."""
    data = _load(DEFAULT_WEIGHTS)
    if settings.weights is not None:
        data = _merge(data, _load(settings.weights))
    return data


def family_settings(settings: ScoringSettings, family: str, model: type[M]) -> M:
    """Validate the `family` section of the weights file with the family's own model."""
    try:
        return model.model_validate(weight_sections(settings).get(family, {}))
    except ValidationError as exc:
        raise InvalidRequest(f"weights file, section {family!r}: {exc.errors()[0]['msg']}") from exc


# each weights file as last parsed, by path, with the (mtime, size) it had: a served request
# asks for the weights several times (60 ms a parse), and a file edited is read again
_PARSED: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def _load(path: Path) -> dict[str, Any]:
    try:
        stat = Path(path).stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        kept = _PARSED.get(Path(path))
        if kept is not None and kept[0] == stamp:
            return copy.deepcopy(kept[1])
        # libyaml's safe loader when present: the pure-Python one takes ~0.3 s per scoring run
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidRequest(f"cannot read weights file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidRequest(f"weights file {path} must be a mapping of family sections")
    _PARSED[Path(path)] = (stamp, copy.deepcopy(data))
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
