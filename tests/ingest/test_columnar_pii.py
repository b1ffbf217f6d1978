"""The column-wise USCC check, ID-number hashing and masking agree with the one-value definitions."""

from __future__ import annotations

import random

import pandas as pd

from ingest.identifiers import _ID_CHECK, _ID_WEIGHTS, _USCC_CHARS, _USCC_WEIGHTS
from ingest.names import normalise_name, normalise_names
from ingest.normalise import (
    hash_id_number,
    hash_id_numbers,
    id_number_valid,
    id_numbers_valid,
    mask_id_number,
    mask_id_numbers,
    mask_phone,
    mask_phones,
    uscc_valid,
    usccs_valid,
)


def _with_check(body: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


def test_usccs_valid_matches_uscc_valid_on_random_codes() -> None:
    rng = random.Random(3)
    alphabet = _USCC_CHARS + "IOSVZ"  # letters outside the code set too
    codes = ["".join(rng.choice(alphabet) for _ in range(18)) for _ in range(3000)]
    codes += [_with_check("".join(rng.choice(_USCC_CHARS) for _ in range(17))) for _ in range(3000)]
    codes += ["91350100M000100Y43", " 91350100m000100y43 ", "91350100M000100Y4", "", "9135010OM000100Y43"]
    column = pd.Series(codes, dtype="string")
    expected = [uscc_valid(c) for c in codes]
    assert usccs_valid(column).tolist() == expected
    assert sum(expected) > 3000  # the valid half is really valid
    assert not usccs_valid(pd.Series([None, "x"], dtype="string")).any()


def test_hash_id_numbers_is_hash_id_number_per_value() -> None:
    numbers = ["11010519491231002X", "110105194912310021", "440524188001010014", "11010519491231002x"]
    column = pd.Series(numbers, dtype="string", index=[5, 6, 7, 8])
    hashed = hash_id_numbers(column, "a-salt")
    assert hashed.index.tolist() == [5, 6, 7, 8]
    assert hashed.tolist() == [hash_id_number(n, "a-salt") for n in numbers]
    assert hashed.iloc[0] == hashed.iloc[3]  # case does not matter
    assert hash_id_numbers(column, "another").iloc[0] != hashed.iloc[0]


def test_normalise_names_is_normalise_name_per_value() -> None:
    names = ["华东精工机械制造有限责任公司", "Hon Hai Precision Industry Co., Ltd.", None, "华东精工机械制造有限责任公司"]
    out = normalise_names(pd.Series(names, dtype="string"))
    assert out.tolist()[:2] == [normalise_name(names[0]), normalise_name(names[1])]
    assert pd.isna(out.iloc[2]) and out.iloc[3] == out.iloc[0]


def _id_with_check(body: str) -> str:
    total = sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + _ID_CHECK[total % 11]


def test_id_numbers_valid_matches_id_number_valid() -> None:
    rng = random.Random(5)
    numbers = ["".join(rng.choice("0123456789") for _ in range(17)) + rng.choice("0123456789Xx")
               for _ in range(3000)]
    for _ in range(3000):  # real and impossible birth dates, years outside 1900-2099 too
        day = f"{rng.choice([1899, 1900, 1988, 2000, 2024, 2099, 2100, 2300, 1600, 9999])}" \
            + f"{rng.randint(0, 13):02d}{rng.randint(0, 32):02d}"
        numbers.append(_id_with_check(f"{rng.randint(0, 999999):06d}{day}{rng.randint(0, 999):03d}"))
    numbers += ["11010519491231002X", "11010519491231002x", " 11010519491231002X ", "11010519491231002X\u3000",
                "110105194912310021", "110105194902290023", "11010519491231002",
                "11010519491231002ſ", "", "11010519491231002X1",
                _id_with_check("110105" "00000101" "002"),  # year 0: no date (pd.Timestamp refuses it)
                _id_with_check("110105" "00010101" "002"),  # year 1 is one
                "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits: str.isdigit takes them, no ID number has them
                "１１０１０５１９４９１２３１００２Ｘ"]  # full width
    column = pd.Series(numbers, dtype="string")
    expected = [id_number_valid(n) for n in numbers]
    assert id_numbers_valid(column).tolist() == expected
    assert sum(expected) > 1000  # the generated valid ones are really valid
    assert not id_numbers_valid(pd.Series([None, "x"], dtype="string")).any()
    padded = pd.Series([None, " 11010519491231002x", "11010519491231002X"], dtype="string", index=[7, 8, 9])
    assert id_numbers_valid(padded).tolist() == [False, True, True]


def test_mask_phones_is_mask_phone_per_value() -> None:
    rng = random.Random(7)
    mobiles = ["1" + "".join(rng.choice("0123456789") for _ in range(10)) for _ in range(500)]
    usual = pd.Series([*mobiles, None, ""], dtype="string", index=range(3, 505))
    odd = pd.Series([*mobiles[:5], "138-1234-5678", "+86 138 1234 5678", "021-62345678", "12345", "1381234567x", None,
                     "１３８１２３４５６７８", "＋８６ １３８-１２３４-５６７８",  # full width: masked, not lost
                     "٣٣٣١٢٣٤٥٦٧٨"], dtype="string")  # another script's digits, as `mask_phone` keeps them
    for column in (usual, odd, usual.iloc[100:200]):
        masked = mask_phones(column)
        assert masked.index.equals(column.index)
        expected = [None if pd.isna(p) or not mask_phone(p) else mask_phone(p) for p in column]
        assert [None if pd.isna(m) else m for m in masked] == expected
    assert mask_phones(usual).iloc[0] == mobiles[0][:3] + "****" + mobiles[0][-4:]
    assert mask_phones(odd).iloc[-3:].tolist() == ["138****5678", "138****5678", "٣٣٣****٥٦٧٨"]


def test_mask_id_numbers_is_mask_id_number_per_value() -> None:
    values = ["11010519491231002X", " 110105194912310021 ", "1101051949123", "12345678901", "1234567890", "1234567",
              "123456", "12", "", "１１０１０５１９４９１２３１００２Ｘ", "甲乙丙丁戊己庚辛壬癸子丑", "a\u3000b c\td"]
    column = pd.Series([*values, None], dtype="string", index=range(10, 10 + len(values) + 1))
    masked = mask_id_numbers(column)
    assert masked.index.equals(column.index)
    assert masked.iloc[:-1].tolist() == [mask_id_number(v) for v in values]
    assert pd.isna(masked.iloc[-1])
    assert masked.iloc[0] == "110105********002X" and masked.iloc[7] == "**"


def test_reject_values_are_masked_column_wise_as_one_by_one() -> None:
    from graph.vocabulary import neutralise_formula
    from ingest.normalise import scrub_pii
    from ingest.report import _MAX_VALUE, Rejects

    notes = pd.Series(["ok", "电话 13812345678", "身份证 11010519491231002X 甲", "=1+1", "x" * (_MAX_VALUE + 5), None],
                      dtype="string")
    phones = pd.Series(["13812345678", "138-1234-5678", "12", "", None, "abc"], dtype="string")
    ids = pd.Series(["11010519491231002X", "123", "", None, "1234567890", "ABCDEFGHIJKLMNOPQR"], dtype="string")
    rejects = Rejects()
    rows = pd.Series(range(2, 8))
    for column, values in (("note", notes), ("phone", phones), ("id_number", ids)):
        rejects.add("persons", "persons.csv", rows, column, values, "bad")
    got = rejects.frame().groupby("column")["value"].agg(list)
    cut = [("" if pd.isna(v) else v[:_MAX_VALUE] + ("…" if len(v) > _MAX_VALUE else "")) for v in notes]
    assert got["note"] == [neutralise_formula(scrub_pii(v)) for v in cut]  # "=1+1" shown as "'=1+1"
    assert got["phone"] == [mask_phone("" if pd.isna(v) else v) for v in phones]
    assert got["id_number"] == [mask_id_number("" if pd.isna(v) else v) for v in ids]
    assert "13812345678" not in " ".join(got["note"]) and got["phone"][1] == "138****5678"
