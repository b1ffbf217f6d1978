"""Reason sentences as templates: a row stores a template id and its parameters, and the
sentence is rendered in Chinese or English only when the row is shown (`render_reasons`).

Names of persons and firms are parameters of their own, so a viewer's masking policy can mask
the field before the sentence is built. Parameters are stored as text; a format spec names how
a value is shown (`{aum:money_zh}`, `{ratio:pct0}`, `{role:role_en}`, `{amount:short_en}`: the
short amount of `scoring.features.fmt_amount` without its currency, which is a parameter of
its own), in one place here.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["TEMPLATES", "register", "render", "render_reasons", "TEXT"]

#: template id -> (English, Chinese)
TEMPLATES: dict[str, tuple[str, str]] = {}
#: the template of a sentence already written out in both languages (legacy families)
TEXT = "text"


def register(templates: Mapping[str, tuple[str, str]]) -> None:
    """Add a family's templates; an id registered twice with other words is a programming error."""
    for key, words in templates.items():
        if TEMPLATES.get(key, words) != words:
            raise ValueError(f"reason template {key!r} registered twice with different words")
        TEMPLATES[key] = words


register({TEXT: ("{en}", "{zh}")})


def _num(value: Any) -> float:
    return float(value) if value not in (None, "") else 0.0


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        from scoring.retail_linkage.common import ROLE_LABELS, TIER_LABELS

        if format_spec == "money_en":
            return f"CNY {_num(value):,.0f}"
        if format_spec == "money_zh":
            return f"{_num(value) / 10_000:,.2f}万元"
        if format_spec in ("short_en", "short_zh"):  # 'CNY 1.2m' / '120.0万元' without the currency
            from scoring.features import fmt_amount

            return fmt_amount(_num(value), format_spec[-2:], "", "").strip()
        if format_spec in ("role_en", "role_zh", "Role_en"):
            words = ROLE_LABELS.get(str(value), (str(value), str(value)))
            text = words[0] if format_spec != "role_zh" else words[1]
            return text.capitalize() if format_spec == "Role_en" else text
        if format_spec in ("tier_en", "tier_zh"):
            words = TIER_LABELS.get(str(value), (str(value), str(value)))
            return words[0] if format_spec == "tier_en" else words[1]
        if format_spec and format_spec[-1] in "f%" :
            return format(_num(value), format_spec)
        return "" if value is None else str(value)


_FORMATTER = _Formatter()


_loaded = False


def _load_families() -> bool:
    """Import every family module once, so their templates are registered in a process that only
    reads stored rows (the CLI, the API); False when they were loaded already."""
    global _loaded
    if _loaded:
        return False
    _loaded = True
    import importlib

    from graph.schema import FAMILIES

    for family in FAMILIES:
        try:
            importlib.import_module(f"scoring.{family}")
        except ModuleNotFoundError:
            continue
    return True


def render(template: str, params: Mapping[str, Any], lang: str = "zh") -> str:
    """One sentence in `lang`; an unknown template id renders its parameters, never fails."""
    words = TEMPLATES.get(template)
    if words is None and _load_families():
        words = TEMPLATES.get(template)
    if words is None:
        return " ".join(str(v) for v in params.values())
    return _FORMATTER.vformat(words[1] if lang == "zh" else words[0], (), _Params(params))


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _items(value: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(value, str):
        value = json.loads(value) if value else []
    return [v for v in (value if value is not None else []) if isinstance(v, Mapping)]


def render_reasons(value: Any, lang: str = "zh") -> list[str]:
    """The stored `reasons` of a row (JSON text or a list of {template, params}) as sentences."""
    out = []
    for item in _items(value):
        params = item.get("params") or {}
        if not isinstance(params, Mapping):  # stored as [{key, value}, ...]
            params = {p["key"]: p["value"] for p in params}
        out.append(render(str(item.get("template")), params, lang))
    return out
