"""Chinese identifiers: USCC (GB 32100) and resident ID numbers (GB 11643), one value or a column.

The column checks read each code's 18 ASCII characters straight from Arrow's data buffer and
do the check-character arithmetic with numpy; `ingest.normalise` re-exports these names.

Examples:
    >>> uscc_valid("91350100M000100Y43")
    True
    >>> id_number_valid("11010519491231002X")
    True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ingest.arrow_text import matches, to_arrow

__all__ = ["uscc_valid", "id_number_valid", "usccs_valid", "id_numbers_valid"]

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_valid(code: str) -> bool:
    """GB 32100-2015: 18 characters from the code set, the last a mod-31 check character."""
    code = code.strip().upper()
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == code[17]


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_valid(number: str) -> bool:
    """GB 11643-1999: 17 digits (with a real birth date) and a mod-11 check character."""
    number = number.strip().upper()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        pd.Timestamp(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


_ID_CHECK_BYTES = np.frombuffer(_ID_CHECK.encode("ascii"), dtype=np.uint8)


def _shaped_codes(s: pd.Series, pattern: str) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """The values of `s` (trimmed, upper case) that match `pattern`, an 18-character ASCII code:
    the mask of those rows, their values, and their characters as a rows x 18 byte matrix."""
    up = s.astype("string").str.strip().str.upper()
    shaped = matches(up, pattern)
    codes = up[shaped]
    # the matched values are 18 ASCII bytes each, back to back in Arrow's data buffer
    arr = to_arrow(codes)
    arr = (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).cast(pa.large_string())
    if len(arr) == 0:
        return shaped, codes, np.empty((0, 18), dtype=np.uint8)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    return shaped, codes, data.reshape(-1, 18)


def id_numbers_valid(s: pd.Series) -> pd.Series:
    """`id_number_valid` over a column, vectorised (numpy on the digits); blanks are False."""
    shaped, cand, raw = _shaped_codes(s, r"^[0-9]{17}[0-9X]$")
    out = pd.Series(False, index=s.index)
    if len(cand):
        digits = raw[:, :17] - np.uint8(48)  # bytes '0'-'9' → 0-9, still one byte each
        total = _weighted(digits, _ID_WEIGHTS)
        check_ok = _ID_CHECK_BYTES[total % 11] == raw[:, 17]
        out[shaped] = check_ok & _real_birth_dates(digits, cand)
    return out


def _weighted(digits: np.ndarray, weights: tuple[int, ...]) -> np.ndarray:
    """Each row's sum of its digits times `weights`, a column at a time (numpy's integer
    matrix product has no fast kernel, and widening every digit to 8 bytes first costs more)."""
    total = np.zeros(len(digits), dtype=np.int64)
    for j, weight in enumerate(weights):
        total += digits[:, j] * np.int64(weight)
    return total


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _real_birth_dates(digits: np.ndarray, numbers: pd.Series) -> np.ndarray:
    """True where digits 7-14 of an ID number are a real date: months and days by the calendar
    (numpy) for years 1900-2099, pandas' own date parser for the rare other years."""
    year = _weighted(digits[:, 6:10], (1000, 100, 10, 1))
    month = _weighted(digits[:, 10:12], (10, 1))
    day = _weighted(digits[:, 12:14], (10, 1))
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + ((month == 2) & leap)
    out = (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
    other = (year < 1900) | (year > 2099)
    if other.any():
        odd = numbers[other]
        out[other] = pd.to_datetime(odd.str.slice(6, 14), format="%Y%m%d", errors="coerce").notna().to_numpy()
    return out


_USCC_VALUE = np.full(256, -1, dtype=np.int64)
_USCC_VALUE[np.frombuffer(_USCC_CHARS.encode("ascii"), dtype=np.uint8)] = np.arange(len(_USCC_CHARS))
_USCC_WEIGHT_VECTOR = np.array(_USCC_WEIGHTS, dtype=np.int64)
_USCC_CHAR_BYTES = np.frombuffer(_USCC_CHARS.encode("ascii"), dtype=np.uint8)


def usccs_valid(s: pd.Series) -> pd.Series:
    """`uscc_valid` over a column, vectorised (numpy on the characters); blanks are False."""
    shaped, cand, raw = _shaped_codes(s, r"^[0-9A-HJ-NP-RTUWXY]{18}$")
    out = pd.Series(False, index=s.index)
    if len(cand):
        total = _USCC_VALUE[raw[:, :17]] @ _USCC_WEIGHT_VECTOR
        out[shaped] = _USCC_CHAR_BYTES[(31 - total % 31) % 31] == raw[:, 17]
    return out
