"""Reasons are rendered from their fields: a person's field is masked before the sentence is built."""

from __future__ import annotations

from scoring.templates import TEXT, person_fields, register, render, render_reasons

register({"test.introducer": ("Introduced by {referrer:person} of {firm}.", "由{firm}的{referrer:person}引荐。")})


def _mask(pid: str | None, name: str) -> str:
    return name if pid == "P_SEEN" else name[0] + "*"


def test_a_person_field_is_masked_inside_a_whole_sentence_and_nothing_else_is_touched():
    # 宁波明达模具 became 向*波明达模具 under substring masking (#19): the firm is a field of its own
    params = {"firm": "向宁波明达模具", "referrer": "向宁", "referrer_id": "P9"}
    assert render("test.introducer", params, "zh", _mask) == "由向宁波明达模具的向*引荐。"
    assert render("test.introducer", {**params, "referrer_id": "P_SEEN"}, "zh", _mask) == "由向宁波明达模具的向宁引荐。"
    assert render("test.introducer", params, "en") == "Introduced by 向宁 of 向宁波明达模具."  # no mask: as stored


def test_a_person_field_without_its_id_is_passed_as_unknown():
    seen = []
    render("test.introducer", {"firm": "F", "referrer": "覃娜"}, "zh", lambda pid, name: seen.append(pid) or "覃*")
    assert seen == [None]


def test_legacy_text_goes_to_the_guard_and_templates_do_not():
    stored = [{"template": TEXT, "params": {"en": "x", "zh": "旧句子"}},
              {"template": "test.introducer", "params": {"firm": "F", "referrer": "覃娜", "referrer_id": "P1"}}]
    judged: list[str] = []
    out = render_reasons(stored, "zh", _mask, lambda text, lang: judged.append(text) or "（已隐去）")
    assert out == ["（已隐去）", "由F的覃*引荐。"] and judged == ["旧句子"]


def test_person_fields_are_read_from_the_template_text():
    assert person_fields("{a:person} and {b} and {c:person}{a:person}") == ("a", "c")
    assert person_fields("{aum:money_zh}") == ()


def test_retail_templates_follow_the_convention():
    import scoring.retail_linkage.roles  # noqa: F401  (registers its templates)
    from scoring.templates import TEMPLATES

    for key in ("retail.cfr.owner", "retail.cfr.stake"):
        assert all(person_fields(words) == ("person_name",) for words in TEMPLATES[key])
