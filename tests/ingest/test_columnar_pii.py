"""The column-wise USCC check and ID-number hashing agree with the one-value definitions."""

from __future__ import annotations

import random

import pandas as pd

from ingest.identifiers import _USCC_CHARS, _USCC_WEIGHTS
from ingest.names import normalise_name, normalise_names
from ingest.normalise import (
    hash_id_number,
    hash_id_numbers,
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
