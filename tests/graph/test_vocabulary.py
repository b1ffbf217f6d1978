"""The one vocabulary (graph.vocabulary): each word, threshold and format exists once, and the copies read it."""

from __future__ import annotations

import pandas as pd
import pytest

from graph import vocabulary as v


@pytest.mark.parametrize(("amount", "lang", "style", "expected"), [
    (1_234_567, "en", "exact", "CNY 1,234,567"),
    (1_234_567, "zh", "exact", "123.46万元"),
    (123_456_789, "zh", "short", "1.23亿元"),
    (123_456, "zh", "short", "12.3万元"),
    (3_500, "zh", "short", "3,500元"),
    (2_500_000, "en", "short", "CNY 2.5m"),
    (35_000, "en", "short", "CNY 35k"),
    (1_234_567, "zh", "wan", "123万元"),
    (12_345, "en", "wan", "1.2万元"),
    (4_000, "zh", "wan", "0.40万元"),
    (None, "zh", "wan", ""),
])
def test_one_amount_formatter(amount, lang, style, expected):
    assert v.format_amount(amount, lang, style) == expected


def test_the_old_formatters_are_the_shared_one():
    from scoring.features import fmt_amount
    from scoring.retail_linkage.common import money_en, money_zh
    from scoring.templates import _FORMATTER
    from viz.style import format_wan

    for amount in (0.0, 999.0, 48_000.0, 1_234_567.0, 310_000_000.0):
        assert money_en(amount) == v.format_amount(amount, "en") == _FORMATTER.format("{a:money_en}", a=amount)
        assert money_zh(amount) == v.format_amount(amount, "zh") == _FORMATTER.format("{a:money_zh}", a=amount)
        assert fmt_amount(amount, "zh") == v.format_amount(amount, "zh", "short")
        assert format_wan(amount) == v.format_amount(amount, style="wan")


CELLS = ["=1+1", "+1", "@SUM(A1)", "\t=x", "\r=x", "-A1", "-1+1", "-12.5", "-5", "华东", "a=b", "", "12"]


def test_one_formula_rule_for_a_cell_and_a_column():
    one_by_one = [v.neutralise_formula(c) for c in CELLS]
    assert v.neutralise_formulas(pd.Series(CELLS)).tolist() == one_by_one
    column = pd.Series([*CELLS, None, "-1e5", "-inf"] * 3, index=range(100, 100 + 3 * (len(CELLS) + 3)))
    expected = ["" if pd.isna(c) else v.neutralise_formula(c) for c in column]
    assert v.neutralise_formulas(column).tolist() == expected and expected[-1] == "-inf"
    assert v.neutralise_formulas(pd.Series(["华东", "12"])).tolist() == ["华东", "12"]  # nothing to neutralise
    assert one_by_one[:7] == ["'" + c for c in CELLS[:7]]
    assert one_by_one[7:] == CELLS[7:]


def test_exports_and_rejects_share_the_rule():
    from api.export import neutralise
    from ingest.report import neutralise as neutralise_column

    assert [neutralise(c) for c in CELLS] == neutralise_column(pd.Series(CELLS)).tolist()


def test_thresholds_live_once_and_texts_name_them():
    from leads.alerts import detect_changes
    from scoring.retail_linkage.settings import RetailLinkageSettings
    from scoring.templates import TEMPLATES
    from viz.style import ASSET_BANDS, NEAR_THRESHOLD_BAND, text

    assert (v.ASSET_THRESHOLD_EN, v.ASSET_THRESHOLD_ZH) == ("CNY 50,000", "5万元")
    rs = RetailLinkageSettings()
    assert (rs.threshold, rs.outflow.query_ratio, rs.outflow.warning_ratio) == (
        v.ASSET_THRESHOLD, v.OUTFLOW_QUERY_RATIO, v.OUTFLOW_WARNING_RATIO)
    assert NEAR_THRESHOLD_BAND[1] == v.ASSET_THRESHOLD and (v.ASSET_THRESHOLD, 200_000.0) in ASSET_BANDS
    # the picture's 临界 band is the scoring's: from near_floor of the threshold, named in the legend
    assert NEAR_THRESHOLD_BAND[0] == rs.payroll.near_floor * rs.threshold == v.NEAR_THRESHOLD_FLOOR * v.ASSET_THRESHOLD
    assert text("near_threshold", "zh") == "临界客户(3.5–5万元)" and NEAR_THRESHOLD_BAND in ASSET_BANDS
    en, zh = TEMPLATES["retail.payroll.gap"]
    assert v.ASSET_THRESHOLD_EN in en and v.ASSET_THRESHOLD_ZH in zh
    assert v.ASSET_THRESHOLD_ZH in text("above_staff", "zh")
    assert detect_changes.__defaults__ == (v.ASSET_THRESHOLD, v.OUTFLOW_QUERY_RATIO, v.OUTFLOW_WARNING_RATIO)


def test_word_tables_are_the_shared_ones():
    from leads.customer import PRODUCT_WORDS as HELD
    from scoring.features import PRODUCTS
    from scoring.retail_linkage.common import PRODUCTS as RETAIL_PRODUCTS
    from scoring.retail_linkage.common import ROLE_LABELS, TIER_LABELS
    from viz.style import text

    assert PRODUCTS is RETAIL_PRODUCTS is v.PRODUCT_WORDS and HELD is v.HELD_PRODUCT_WORDS
    assert ROLE_LABELS is v.ROLE_LABELS and TIER_LABELS is v.TIER_WORDS
    for code, (en, zh) in v.ROLE_LABELS.items():
        key = f"role_{code}" if code in ("other", "related") else code
        assert (text(key, "en"), text(key, "zh")) == (en, zh)
    for code in ("member", "vice_president", "president", "secretary_general"):
        assert text(code, "zh") == v.POSITION_WORDS[code][1] and v.POSITION_WORDS[code][0].endswith(text(code, "en"))
    assert text("retail_tier:vip", "zh") == v.TIER_WORDS["vip"][1] + "客户"
    assert v.word(v.KIND_WORDS, "outflow", "zh") == text("outflow", "zh")
    assert v.word(v.KIND_WORDS, "nope", "en") == "nope"


def test_own_bank_names_are_one_list():
    from graph.settings import IngestSettings
    from scoring.retail_linkage import outflow

    assert IngestSettings().own_bank_names == list(v.OWN_BANK_NAMES)
    assert outflow._OWN_BANK_WORDS == set(v.OWN_BANK_NAMES)
