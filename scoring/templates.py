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

Parties of other branches (the one scope policy on fields): a sentence naming a prospect's other
clients ("Also supplies E0001 (M01)") stores them as one field, ``{KEY:parties_en}`` /
``{KEY:parties_zh}``, JSON ``{"named": [{"id", "m", "b"}…], "count": [{"b", "n"}…]}`` — the first
clients of each branch with their manager and branch, and how many there are per branch. The
caller's mask may say which branches it sees (`in_scope`, the API's `Viewer`): only those parties
are named and counted, and a sentence whose parties are all out of scope is left out. A mask
without `in_scope` sees every branch. `scoped_details` applies the same rule to a row's details
(``anchor_ids``/``shared_with`` filtered by their parallel ``anchor_branches``/``shared_branches``),
and `row_reasons` to a lead's rows of other branches (only a family's ``FAMILY.other_branch``).
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from typing import Any

from graph import nested
from graph.vocabulary import ROLE_LABELS, TIER_WORDS, format_amount

__all__ = ["TEMPLATES", "register", "render", "render_reasons", "TEXT", "PERSON", "PARTIES", "PersonMask",
           "LegacyGuard", "person_fields", "scoped_details", "row_reasons"]

#: (person id or None, name as stored) -> the name as this viewer may see it
PersonMask = Callable[[str | None, str], str | None]
#: (a sentence of the legacy TEXT template, lang) -> the sentence as shown (or withheld whole)
LegacyGuard = Callable[[str, str], str]
#: the format spec of a person's name: ``{KEY:person}``, its id in parameter ``KEY_id``
PERSON = "person"
#: the format specs of a field listing other parties (clients of a prospect) with their branches
PARTIES = ("parties_en", "parties_zh")
#: parties named in a sentence; the rest are counted ("and 2 more")
_NAMED = 3

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
        if format_spec in PARTIES:  # scoped already (`_scoped`): {"named": [...], "total": n}
            return _parties_text(value, format_spec == "parties_zh")
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


def _party_fields(text: str) -> tuple[str, ...]:
    hit = _party_keys.get(text)
    if hit is None:
        hit = tuple(dict.fromkeys(name for _, name, spec, _ in _FORMATTER.parse(text) if name and spec in PARTIES))
        _party_keys[text] = hit
    return hit


_party_keys: dict[str, tuple[str, ...]] = {}
InScope = Callable[[str | None], bool]


def _sees_all(branch: str | None) -> bool:
    return True


def _in_scope(person: PersonMask | None) -> InScope:
    """The branches a caller's mask sees (its `in_scope`); a mask without one sees every branch."""
    found = getattr(person, "in_scope", None)
    return found if callable(found) else _sees_all


def parties_in_scope(value: Any, in_scope: InScope) -> dict[str, Any] | None:
    """A parties field (JSON text or its value) as one viewer may read it: the parties of the
    branches in scope, the first `_NAMED` named, all counted; None when none is in scope."""
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return None
    if not isinstance(data, Mapping):
        return None
    named = [p for p in data.get("named") or [] if isinstance(p, Mapping) and in_scope(p.get("b") or None)]
    counts = data.get("count")
    total = len(named) if counts is None else sum(
        int(c.get("n") or 0) for c in counts if isinstance(c, Mapping) and in_scope(c.get("b") or None))
    return {"named": named[:_NAMED], "total": total} if total > 0 else None


def _parties_text(value: Any, zh: bool) -> str:
    if not isinstance(value, Mapping):
        return ""
    named = value.get("named") or []
    words = []
    for p in named:
        manager = p.get("m") or ""
        words.append(str(p.get("id")) + ((f"（客户经理{manager}）" if zh else f" ({manager})") if manager else ""))
    total = int(value.get("total") or 0)
    if zh:
        return "、".join(words) + (f"等{total}家" if total > len(words) else "")
    return ", ".join(words) + (f" and {total - len(words)} more" if total > len(words) else "")


def _scoped(text: str, params: Mapping[str, Any], person: PersonMask | None) -> Mapping[str, Any] | None:
    """`params` with each parties field cut to the branches the caller sees; None (the sentence
    is left out) when a parties field has none in scope or is missing (a row stored before)."""
    keys = _party_fields(text)
    if not keys:
        return params
    in_scope = _in_scope(person)
    out = dict(params)
    for key in keys:
        seen = parties_in_scope(params.get(key), in_scope)
        if seen is None:
            return None
        out[key] = seen
    return out


def scoped_details(details: Any, person: PersonMask | None) -> Any:
    """A row's details as the caller may see them: ``anchor_ids`` and ``shared_with`` keep only the
    entries whose branch (``anchor_branches``, ``shared_branches``, dropped here) is in scope."""
    if not isinstance(details, Mapping):
        return details
    in_scope = _in_scope(person)
    out = dict(details)
    for key, branches in (("anchor_ids", "anchor_branches"), ("shared_with", "shared_branches")):
        where = out.pop(branches, None)
        values = out.get(key)
        if isinstance(values, list) and isinstance(where, list) and len(where) == len(values):
            out[key] = [v for v, b in zip(values, where, strict=True) if in_scope(b or None)]
    return out


def scoped_managers(ids: list[str], branch_of: Mapping[str, Any], person: PersonMask | None) -> list[str]:
    """The managers among `ids` the caller may see named: those of its branches (`branch_of`:
    manager id -> branch), by the rule of `scoped_details`."""
    in_scope = _in_scope(person)
    return [m for m in ids if in_scope(branch_of.get(m) or None)]


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
    docstring); an unknown template id renders its non-person parameters, never fails; a
    sentence whose parties are all out of the caller's scope is empty."""
    return _render(template, params, lang, person) or ""


def _render(template: str, params: Mapping[str, Any], lang: str, person: PersonMask | None) -> str | None:
    words = TEMPLATES.get(template)
    if words is None and _load_families():
        words = TEMPLATES.get(template)
    if words is None:  # the words are unknown, so are its persons: names (any `_id` pair) stay out
        return " ".join(str(v) for k, v in params.items() if f"{k}_id" not in params and not k.endswith("_id"))
    text = words[1] if lang == "zh" else words[0]
    scoped = _scoped(text, params, person)
    if scoped is None:
        return None
    return _FORMATTER.vformat(text, (), _Params(_masked(text, scoped, person)))


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render_reasons(value: Any, lang: str = "zh", person: PersonMask | None = None,
                   legacy: LegacyGuard | None = None) -> list[str]:
    """The stored `reasons` of a row (JSON text or a list of {template, params}) as sentences.

    `person` masks the persons' fields before a sentence is built, and its `in_scope` (if any)
    cuts parties fields to the branches it sees; `legacy` judges the
    sentences of the `TEXT` template, written out before rendering (None: shown as stored).
    """
    out = []
    for item in nested.cell(value, "reasons"):  # whichever form the row came in
        params = item.get("params")
        params = params if isinstance(params, Mapping) else {}
        template = str(item.get("template"))
        text = _render(template, params, lang, person)
        if text is None:  # its parties are all out of the caller's scope
            continue
        out.append(legacy(text, lang) if legacy is not None and template == TEXT else text)
    return out


def row_reasons(value: Any, lang: str, person: PersonMask | None, legacy: LegacyGuard | None, *, family: str,
                branch: str | None) -> list[str]:
    """The reasons of a row of `branch` merged into a lead (the board): as `render_reasons` when the
    caller's mask sees that branch; else none of its sentences (they name that branch's clients and
    managers), only its family's ``FAMILY.other_branch`` sentence if the family registers one."""
    if _in_scope(person)(branch or None):
        return render_reasons(value, lang, person, legacy)
    key = f"{family}.other_branch"
    return [render(key, {}, lang)] if key in TEMPLATES or (_load_families() and key in TEMPLATES) else []
