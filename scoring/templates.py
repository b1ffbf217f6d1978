"""Reason sentences as templates: a row stores a template id and its parameters, and the
sentence is rendered in Chinese or English only when the row is shown (`render_reasons`).

Names of persons and firms are parameters of their own, so a viewer's masking policy can mask
the field before the sentence is built. Parameters are stored as text; a format spec names how
a value is shown (`{aum:money_zh}`, `{ratio:pct0}`, `{role:role_en}`, `{amount:short_en}`: the
short amount of `graph.vocabulary.format_amount` without its currency, which is a parameter of
its own), in one place here.

Persons in a sentence (the parameter convention every family follows): a person's name is
written ``{KEY:person}`` in the template, and the parameters carry ``KEY`` (the name) and
``KEY_id`` (the person's id), e.g. ``{referrer:person}`` with ``referrer`` and ``referrer_id``.
`render` hands each such field to the caller's `PersonMask` — ``(person_id, name) -> shown``,
the API's `Viewer.person_name` — so a masked person reads ``覃*`` inside an otherwise whole
sentence; a ``:person`` field without its ``_id`` is passed with ``None`` (masked unless the
viewer sees everyone), and one whose ``_id`` is not a person's (a referrer that is a firm) is
shown as given, so one field can hold either. No text is searched or replaced. Sentences of the legacy `TEXT`
template were written out before rendering and cannot be masked field by field: `render_reasons`
passes them to the caller's `LegacyGuard` (the API withholds one that names a masked person).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

from graph import nested
from graph.vocabulary import ROLE_LABELS, TIER_WORDS, format_amount

__all__ = ["TEMPLATES", "register", "render", "render_reasons", "TEXT", "PERSON", "PersonMask", "LegacyGuard",
           "person_fields"]

#: (person id or None, name as stored) -> the name as this viewer may see it
PersonMask = Callable[[str | None, str], str | None]
#: (a sentence of the legacy TEXT template, lang) -> the sentence as shown (or withheld whole)
LegacyGuard = Callable[[str, str], str]
#: the format spec of a person's name: ``{KEY:person}``, its id in parameter ``KEY_id``
PERSON = "person"

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
        if format_spec == "money_en":
            return format_amount(_num(value), "en")
        if format_spec == "money_zh":
            return format_amount(_num(value), "zh")
        if format_spec in ("short_en", "short_zh"):  # 'CNY 1.2m' / '120.0万元' without the currency
            return format_amount(_num(value), format_spec[-2:], "short", "", "").strip()
        if format_spec in ("role_en", "role_zh", "Role_en"):
            words = ROLE_LABELS.get(str(value), (str(value), str(value)))
            text = words[0] if format_spec != "role_zh" else words[1]
            return text.capitalize() if format_spec == "Role_en" else text
        if format_spec in ("tier_en", "tier_zh"):
            words = TIER_WORDS.get(str(value), (str(value), str(value)))
            return words[0] if format_spec == "tier_en" else words[1]
        if format_spec == PERSON:  # masked already (`_masked`), shown as given
            return "" if value is None else str(value)
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
        importlib.import_module(f"scoring.{family}")
    return True


_person_keys: dict[str, tuple[str, ...]] = {}


def person_fields(text: str) -> tuple[str, ...]:
    """The parameter keys a template text shows as persons (``{KEY:person}``)."""
    hit = _person_keys.get(text)
    if hit is None:
        hit = tuple(dict.fromkeys(name for _, name, spec, _ in _FORMATTER.parse(text)
                                  if name and spec == PERSON))
        _person_keys[text] = hit
    return hit


def _masked(text: str, params: Mapping[str, Any], person: PersonMask | None) -> Mapping[str, Any]:
    keys = person_fields(text)
    if person is None or not keys:
        return params
    out = dict(params)
    for key in keys:
        name = params.get(key)
        if name not in (None, ""):
            pid = params.get(f"{key}_id")
            out[key] = person(None if pid in (None, "") else str(pid), str(name))
    return out


def render(template: str, params: Mapping[str, Any], lang: str = "zh", person: PersonMask | None = None) -> str:
    """One sentence in `lang`, persons' names passed through `person` first (see the module
    docstring); an unknown template id renders its non-person parameters, never fails."""
    words = TEMPLATES.get(template)
    if words is None and _load_families():
        words = TEMPLATES.get(template)
    if words is None:  # the words are unknown, so are its persons: names (any `_id` pair) stay out
        return " ".join(str(v) for k, v in params.items() if f"{k}_id" not in params and not k.endswith("_id"))
    text = words[1] if lang == "zh" else words[0]
    return _FORMATTER.vformat(text, (), _Params(_masked(text, params, person)))


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render_reasons(value: Any, lang: str = "zh", person: PersonMask | None = None,
                   legacy: LegacyGuard | None = None) -> list[str]:
    """The stored `reasons` of a row (JSON text or a list of {template, params}) as sentences.

    `person` masks the persons' fields before a sentence is built; `legacy` judges the
    sentences of the `TEXT` template, written out before rendering (None: shown as stored).
    """
    out = []
    for item in nested.cell(value, "reasons"):  # whichever form the row came in
        params = item.get("params")
        params = params if isinstance(params, Mapping) else {}
        template = str(item.get("template"))
        text = render(template, params, lang, person)
        out.append(legacy(text, lang) if legacy is not None and template == TEXT else text)
    return out
