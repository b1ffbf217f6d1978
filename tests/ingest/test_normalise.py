"""Each normaliser: booleans, dates, months, amounts, shares, USCC, ID numbers, phones, names."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ingest.normalise import (
    clean_text,
    hash_id_number,
    id_number_valid,
    mask_id_number,
    mask_phone,
    name_problem,
    scrub_pii,
    to_amount,
    to_bool,
    to_date,
    to_month,
    to_percent,
    uscc_valid,
)


def s(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype="string")


def test_booleans_accept_every_documented_spelling() -> None:
    values, bad = to_bool(s("1", "0", "true", "FALSE", "Y", "n", "yes", "No", "是", "否", "", None, "maybe"))
    assert values.tolist()[:10] == [True, False, True, False, True, False, True, False, True, False]
    assert values.isna().tolist()[10:] == [True, True, True]
    assert bad.tolist() == [False] * 12 + [True]


@pytest.mark.parametrize("text", ["2024-03-05", "2024/03/05", "20240305", "2024年03月05日", "2024年3月5日",
                                  "2024-3-5", "2024-03-05 00:00:00", "２０２４－０３－０５",
                                  "20240305143000", "202403051430", "20240305143000123"])  # core system timestamps
def test_dates_in_every_documented_format(text: str) -> None:
    values, bad = to_date(s(text))
    assert values.iloc[0] == pd.Timestamp(2024, 3, 5)
    assert not bad.iloc[0]


@pytest.mark.parametrize("text", ["2024-02-30", "2024-13-01", "05/03/2024", "tomorrow", "2024", "9999-12-31",
                                  "1000-01-01", "99991231", "9999年12月31日", "2024030514", "20241305143000",
                                  "99991231235959"])
def test_bad_dates_are_flagged(text: str) -> None:
    values, bad = to_date(s(text))
    assert pd.isna(values.iloc[0]) and bad.iloc[0]


def test_explicit_date_format() -> None:
    values, bad = to_date(s("2019", "x", "9999"), fmt="%Y")
    assert values.iloc[0] == pd.Timestamp(2019, 1, 1)
    assert bad.tolist() == [False, True, True]


def test_many_distinct_dates_take_the_columnar_path() -> None:
    days = pd.date_range("1950-01-01", periods=60_000, freq="D").strftime("%Y-%m-%d").tolist()
    values, bad = to_date(s(*days, "9999-12-31", "2024-02-30", "2024/03/05"))
    assert values.iloc[0] == pd.Timestamp(1950, 1, 1) and values.iloc[59_999] == pd.Timestamp(days[-1])
    assert bad.tolist()[-3:] == [True, True, False]
    assert values.iloc[-1] == pd.Timestamp(2024, 3, 5)


def test_months() -> None:
    values, bad = to_month(s("2024-03", "202403", "2024/3", "2024年3月", "2024-03-17", "2024-13", ""))
    assert values.tolist()[:5] == ["2024-03"] * 5
    assert bad.tolist() == [False] * 5 + [True, False]


def test_amounts_with_separators_yuan_and_wan() -> None:
    values, bad = to_amount(s("1,234.50", "12.5万元", "3万", "800元", "¥1,000", "(1,044.82)", "-7", " 42 ",
                              "1e400", "待定", ""))
    expected = [1234.5, 125000.0, 30000.0, 800.0, 1000.0, -1044.82, -7.0, 42.0]
    assert values.tolist()[:8] == pytest.approx(expected)
    assert math.isnan(values.iloc[8]) and bad.iloc[8]  # infinite: unusable
    assert bad.tolist()[9:] == [True, False]


def test_a_trailing_minus_is_negative_and_a_comma_grouping_no_thousands_is_no_amount() -> None:
    values, bad = to_amount(s("1,200.00-", "５-", "１２，０００．００", "12,000,000.5", "12,00", "1.200,50", "1,2000", "--5"))
    assert values.tolist()[:4] == [-1200.0, -5.0, 12_000.0, 12_000_000.5]
    assert bad.tolist() == [False] * 4 + [True] * 4  # never 1,200 or 1.2005 read silently


def test_shares() -> None:
    values, bad = to_percent(s("35", "35%", "0.35", "120", "x"))  # one column in percent: 0.35 is 0.35%
    assert values.tolist()[:3] == pytest.approx([35.0, 35.0, 0.35])
    assert bad.tolist() == [False, False, False, True, True]
    values, bad = to_percent(s("0.35", "1", "x"))  # every value within [0, 1]: fractions
    assert values.tolist()[:2] == pytest.approx([35.0, 100.0])
    assert bad.tolist() == [False, False, True]


def test_uscc_check_character() -> None:
    assert uscc_valid("91350100M000100Y43")
    assert uscc_valid("91110000600037341L")
    assert not uscc_valid("91350100M000100Y44")  # wrong check character
    assert not uscc_valid("91350100M000100Y4")  # 17 characters
    assert not uscc_valid("9135010OM000100Y43")  # O is not in the code set


def test_id_number_check_character_and_birth_date() -> None:
    assert id_number_valid("11010519491231002X")
    assert id_number_valid("11010519491231002x")
    assert not id_number_valid("110105194912310021")
    assert not id_number_valid("110105194902300023")  # 30 February
    assert not id_number_valid("11010519491231002")


def test_id_hash_is_salted_and_stable() -> None:
    a = hash_id_number("11010519491231002X", "salt-a")
    assert a == hash_id_number("11010519491231002x", "salt-a")
    assert a != hash_id_number("11010519491231002X", "salt-b")
    assert "11010519491231002X" not in a and len(a) == 64


def test_phone_and_id_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138-1234-5678") == "138****5678"
    assert mask_phone("+86 138 1234 5678") == "138****5678"
    assert mask_phone("021-62345678") == "021****5678"
    assert mask_id_number("11010519491231002X") == "110105********002X"


def test_scrub_pii_masks_ids_and_mobiles_in_free_text() -> None:
    text = scrub_pii("row 5: 11010519491231002X,13812345678, amount 1234567")
    assert "11010519491231002X" not in text and "13812345678" not in text
    assert "110105********002X" in text and "138****5678" in text and "1234567" in text



def test_scrub_pii_series_masks_what_scrub_pii_masks_full_width_and_separated_too() -> None:
    """The column form finds every value `scrub_pii` would change: a mobile number written in
    groups, and numbers typed in full-width digits (Chinese input methods) as well."""
    from ingest.normalise import scrub_pii_series

    values = ["王伟138-1234-5678", "王伟 13812345678", "联系人１３８１２３４５６７８", "＋８６ １３８-１２３４-５６７８",
              "王伟１１０１０５１９８００１０１１２３Ｘ", "张三11010519491231002X", "订单12345678901234567890号",
              "宁波鼎新建材有限公司", "张三ID11010519491231002X", "IDNo.11010519491231002Xabc", "Ｎｏ１１０１０５１９４９１２３１００２Ｘ",
              None]
    column = pd.Series(values, dtype="string")
    scrubbed = scrub_pii_series(column)
    assert [None if pd.isna(v) else v for v in scrubbed] == [None if v is None else scrub_pii(v) for v in values]
    assert scrubbed.tolist()[:5] == ["王伟138****5678", "王伟 138****5678", "联系人１３８****５６７８", "１３８****５６７８",
                                     "王伟１１０１０５********１２３Ｘ"]
    assert scrubbed.iloc[6] == "订单12345678901234567890号"  # a long number is no ID number
    # Latin letters touching an ID number do not hide it
    assert scrubbed.tolist()[8:11] == ["张三ID110105********002X", "IDNo.110105********002Xabc", "Ｎｏ１１０１０５********００２Ｘ"]

def test_names_cleaned_and_hostile_ones_flagged() -> None:
    cleaned = clean_text(s("  华东  精工\t有限公司 ", "\u200b", "A\x00B"))
    assert cleaned.tolist()[0] == "华东 精工 有限公司"
    assert pd.isna(cleaned.iloc[1]) and cleaned.iloc[2] == "AB"
    problems = name_problem(s("<b>Acme</b>", "=cmd|' /C calc'!A0", "@SUM(A1)", "x" * 300, "AT&T Inc.",
                              "Marks & Spencer"), 200)
    assert problems.iloc[0] == "name contains HTML markup"
    assert problems.iloc[1] == problems.iloc[2] == "name looks like a spreadsheet formula"
    assert problems.iloc[3].startswith("name longer than 200")
    assert problems.iloc[4:].isna().all()


def test_may_match_never_misses_what_matches_finds():
    import pyarrow as pa

    from ingest.normalise import matches, may_match

    columns = [["plain", "text"], ["x", None, "<b>"], [None, None], [], ["a\x01b"], ["ok", "a\u200eb"]]
    for values in columns:
        full = pd.Series(pd.array(values, dtype="string[pyarrow]"))
        for column in (full, full.iloc[1:]):  # a slice: the Arrow array starts at an offset
            for pattern in ("<", "[\\x{1}-\\x{8}]", "\\x{200e}"):
                assert may_match(column, pattern) or not matches(column, pattern).any()
    assert not may_match(pd.Series(pd.array(["plain", "text"], dtype="string[pyarrow]")), "<")
    assert may_match(pa.chunked_array([pa.array(["x"]), pa.array(["<"])]), "<")
    assert may_match(pa.array(["x", "<"], pa.large_string()), "<")


def test_clean_text_hands_back_a_column_with_nothing_to_clean() -> None:
    clean = s("华东精工有限公司", "E0001", None)
    assert clean_text(clean) is clean  # no copy of a column that needs none
    assert clean_text(s("E0001", "")).isna().tolist() == [False, True]


def test_the_search_for_text_to_clean_covers_every_character_arrow_trims() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from ingest.normalise import UNCLEAN_RE2

    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    padded = pa.array(["a" + chr(c) for c in points])
    trimmed = pc.not_equal(pc.utf8_trim_whitespace(padded), padded).to_numpy(zero_copy_only=False)
    found = pc.match_substring_regex(pa.array([chr(c) for c in points]), UNCLEAN_RE2).to_numpy(zero_copy_only=False)
    assert trimmed.sum() >= 25 and not (trimmed & ~found).any()
    assert clean_text(s("E1\u3000", "\u2003E2", "E\u00a0\u00a03")).tolist() == ["E1", "E2", "E 3"]


def test_bytes_within_rules_out_classes_of_characters_by_the_smallest_and_largest_byte() -> None:
    import pyarrow as pa

    from ingest.normalise import UNCLEAN_RE2, bytes_within, may_match

    ascii_ = [chr(c) for c in range(0x80)]
    printable = [c for c in ascii_ if bytes_within(s(c), 0x21, 0x7E)]
    assert printable == [c for c in ascii_ if c.isprintable() and c != " "]
    assert not any(may_match(s(c), UNCLEAN_RE2) for c in printable)  # so clean_text skips its search
    assert not bytes_within(s("E0001", "个"), 0x21, 0x7E) and not bytes_within(s("E 1"), 0x21, 0x7E)
    assert bytes_within(s("12.5", None, "", "007"), ord("."), ord("9"), but=ord("/"))
    assert not bytes_within(s("12/5"), ord("."), ord("9"), but=ord("/"))
    chunked = pa.chunked_array([pa.array(["1", "x"], pa.large_string()).slice(0, 1), pa.array(["2"], pa.large_string())])
    assert bytes_within(chunked, ord("0"), ord("9")) and not bytes_within(pa.array(["1", "x"]).slice(1), 0x30, 0x39)
    assert clean_text(s("\t12", "13 ")).tolist() == ["12", "13"]  # bytes outside the range: searched as before


def test_longer_than_counts_characters_not_bytes() -> None:
    from ingest.normalise import longer_than

    assert longer_than(s("个" * 100, "x" * 201, None, "x" * 200), 200).tolist() == [False, True, False, False]
    assert not longer_than(s("short", None), 200).any()
    assert name_problem(s("个" * 201), 200).iloc[0].startswith("name longer than 200")


def test_placeholders_found_whatever_their_case_and_only_they() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from ingest.settings import IngestSettings
    from ingest.validate import _UPPER_TO_ASCII, is_placeholder

    # the characters besides a letter's two cases that Arrow upper-cases to an ASCII letter
    points = [c for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    upper = pc.utf8_upper(pa.array([chr(c) for c in points])).to_pylist()
    odd = {u: f"\\x{{{c:x}}}" for c, u in zip(points, upper, strict=True) if len(u) == 1 and u.isascii()}
    assert odd == _UPPER_TO_ASCII
    names = s("perſonal data", "nıl", "ıREDACTED", " n/a ", "E0001", "Acme Ltd", None)
    assert is_placeholder(names, IngestSettings()).tolist() == [True, False, True, True, False, False, False]
    assert not is_placeholder(s("E0001", "E0002"), IngestSettings()).any()
    custom = IngestSettings(placeholder_names=["nil", "Ωmega"])  # a cased letter beyond ASCII: no search
    assert is_placeholder(s("NıL", "ωMEGA", "x"), custom).tolist() == [True, True, False]


def test_amounts_left_unparsed_are_told_from_blanks() -> None:
    values, bad = to_amount(s("12.5", "", "  ", None, "1e999", "abc", "1,000", "-0"))
    assert values.iloc[0] == 12.5 and values.iloc[6] == 1000 and str(values.iloc[7]) == "-0.0"
    assert values.iloc[1:6].isna().all()
    assert bad.tolist() == [False, False, False, False, True, True, False, False]


def test_plain_amounts_parse_to_the_doubles_pandas_gives() -> None:
    """A column of digits and points only is parsed by Arrow in one cast: the same doubles as
    pandas' `to_numeric`, value for value (up to 15 characters), and "1.2.3" still rejected."""
    import random

    rng = random.Random(11)
    texts = []
    for _ in range(20_000):
        whole = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 10)))
        point = rng.random() < 0.8
        fraction = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 14 - len(whole)))) if point else ""
        text = whole + ("." if point else "") + fraction
        texts.append(text if text not in ("", ".") else "7")
    texts += ["1.", ".5", "000000000000001", "123456789012345", "99999999999.999", "0.1", "0.3"]
    values, bad = to_amount(s(*texts))
    expected = pd.to_numeric(pd.Series(texts), errors="coerce").to_numpy()
    assert (values.to_numpy() == expected).all() and not bad.any()
    values, bad = to_amount(s("12.5", "1.2.3", None, "7"))
    assert values.iloc[0] == 12.5 and values.iloc[3] == 7 and bad.tolist() == [False, True, False, False]


def test_one_search_per_column_misses_no_check() -> None:
    """Columns with nothing to find skip their checks; a column with one odd value keeps all."""
    from ingest.load import load_table
    from ingest.mapping import Source
    from ingest.settings import IngestSettings
    from ingest.validate import Context

    rows = [{"payer_id": f"E{i}", "payee_id": f"E{i + 1}", "amount": "10", "paid_on": "2024-01-02"}
            for i in range(40)]
    rows[3]["payee_id"], rows[5]["payer_id"], rows[7]["payee_id"] = "ωmega", " E9\x01 ", ""
    ctx = Context(IngestSettings(placeholder_names=["Ωmega"]), "salt")
    kept, read, _ = load_table("payments", [Source(rows=rows)], ctx)
    rejects = ctx.rejects.frame()
    assert read == 40 and len(kept) == 38 and "E9" in set(kept["payer_id"])
    assert set(rejects["reason"]) == {"payee is a placeholder (redacted or unnamed), not an entity",
                                      "no payee id or name", "control characters removed (value kept)"}
    assert set(rejects.loc[rejects["action"] == "row rejected", "row"]) == {4, 8}
