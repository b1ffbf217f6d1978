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

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import one_array
from ingest.arrow_text import from_arrow, matches, to_arrow

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
    if len(number) != 18 or not number.isascii() or not number[:17].isdigit():
        return False  # ASCII digits only (str.isdigit takes full-width and other scripts' digits)
    try:
        pd.Timestamp(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


_ID_CHECK_BYTES = np.frombuffer(_ID_CHECK.encode("ascii"), dtype=np.uint8)
_CODE_LENGTH = 18
_a, _z = ord("a"), ord("z")


def _shaped_codes(s: pd.Series, pattern: str, fits: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The rows of `s` whose value (trimmed, upper case) matches `pattern`, an 18-character ASCII
    code, and their characters as a rows x 18 byte matrix, upper case: (row positions, matrix).

    Values of exactly 18 bytes (the usual column: every value) are read in place from Arrow's
    data buffer, upper-cased (ASCII, if any is lower case) and matched by `fits` (numpy, a mask of
    the matrix's rows that match `pattern`); only the others (padded, blank, too short or long)
    are trimmed, upper-cased and searched for `pattern` (RE2). A non-ASCII byte fits no code: the
    upper case of a non-ASCII character, even where it is ASCII (ı → I, ſ → S), is no code character
    of an 18-byte value (its bytes would be fewer)."""
    arr = to_arrow(s.astype("string"))
    arr = one_array(arr).cast(pa.large_string())
    lengths = pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False)  # from the offsets
    exact = lengths == _CODE_LENGTH
    whole = bool(exact.all())
    rows = np.arange(len(arr)) if whole else np.flatnonzero(exact)
    raw = _code_bytes(arr if whole else arr.filter(pa.array(exact)))
    lower = (raw >= _a) & (raw <= _z)
    if lower.any():
        raw = raw - (lower * np.uint8(32)).astype(np.uint8)
    fit = fits(raw)
    rows, raw = (rows, raw) if fit.all() else (rows[fit], raw[fit])
    other = np.flatnonzero(~exact & (lengths > 0))
    if len(other):
        up = from_arrow(arr.take(pa.array(other)), pd.RangeIndex(len(other))).str.strip().str.upper()
        hit = matches(up, pattern).to_numpy()
        if hit.any():
            rows = np.concatenate([rows, other[hit]])
            raw = np.concatenate([raw, _code_bytes(to_arrow(up[hit]))])
    return rows, raw


def _code_bytes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Values of 18 bytes each as a rows x 18 matrix: they lie back to back in Arrow's data buffer."""
    arr = one_array(values).cast(pa.large_string())
    if len(arr) == 0:
        return np.empty((0, _CODE_LENGTH), dtype=np.uint8)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
    return data.reshape(-1, _CODE_LENGTH)


def _weighted(values: np.ndarray, weights: tuple[int, ...]) -> np.ndarray:
    """Each row's sum of its values times `weights`, a column at a time, in int16: every sum of
    these codes stays below 2**15 (at most 9,999 for a year, 15,300 for a USCC); numpy's integer
    matrix product has no fast kernel, and widening every value to 8 bytes costs twice as much."""
    total = np.zeros(len(values), dtype=np.int16)
    for j, weight in enumerate(weights):
        total += values[:, j] * np.int16(weight)
    return total


_ID_X = ord("X")
# the check character of every weighted sum an ID number's digits can reach (at most 9 x 100)
_ID_CHECK_OF_TOTAL = _ID_CHECK_BYTES[np.arange(9 * sum(_ID_WEIGHTS) + 1) % 11]


def _id_shaped(raw: np.ndarray) -> np.ndarray:
    """Rows of 17 digits and a digit or X."""
    last = raw[:, 17]
    return ((raw[:, :17] - np.uint8(48)) <= 9).all(axis=1) & (((last - np.uint8(48)) <= 9) | (last == _ID_X))


def id_numbers_valid(s: pd.Series) -> pd.Series:
    """`id_number_valid` over a column, vectorised (numpy on the digits); blanks are False."""
    rows, raw = _shaped_codes(s, r"^[0-9]{17}[0-9X]$", _id_shaped)
    out = np.zeros(len(s), dtype=bool)
    if len(rows):
        digits = raw[:, :17] - np.uint8(48)  # bytes '0'-'9' → 0-9, still one byte each
        check_ok = _ID_CHECK_OF_TOTAL[_weighted(digits, _ID_WEIGHTS)] == raw[:, 17]
        out[rows] = check_ok & _real_birth_dates(digits)
    return pd.Series(out, index=s.index)


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int16)
_YEARS = np.arange(10_000)
_LEAP = (_YEARS % 4 == 0) & ((_YEARS % 100 != 0) | (_YEARS % 400 == 0))  # of every 4-digit year


def _real_birth_dates(digits: np.ndarray) -> np.ndarray:
    """True where digits 7-14 of an ID number are a real date (numpy): months and days by the
    proleptic Gregorian calendar, as `pd.Timestamp` takes them, for years 1-9999 (year 0 is none)."""
    year = _weighted(digits[:, 6:10], (1000, 100, 10, 1))
    month = _weighted(digits[:, 10:12], (10, 1))
    day = _weighted(digits[:, 12:14], (10, 1))
    days = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + ((month == 2) & _LEAP[year])
    return (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)


_USCC_VALUE = np.full(256, 255, dtype=np.uint8)  # 255: no code character
_USCC_VALUE[np.frombuffer(_USCC_CHARS.encode("ascii"), dtype=np.uint8)] = np.arange(len(_USCC_CHARS))
_USCC_CHAR_BYTES = np.frombuffer(_USCC_CHARS.encode("ascii"), dtype=np.uint8)
# the check character of every weighted sum a USCC's characters can reach
_USCC_CHECK_OF_TOTAL = _USCC_CHAR_BYTES[(31 - np.arange(30 * sum(_USCC_WEIGHTS) + 1) % 31) % 31]


def usccs_valid(s: pd.Series) -> pd.Series:
    """`uscc_valid` over a column, vectorised (numpy on the characters); blanks are False."""
    rows, raw = _shaped_codes(s, r"^[0-9A-HJ-NP-RTUWXY]{18}$", lambda raw: (_USCC_VALUE[raw] != 255).all(axis=1))
    out = np.zeros(len(s), dtype=bool)
    if len(rows):
        total = _weighted(_USCC_VALUE[raw[:, :17]], _USCC_WEIGHTS)
        out[rows] = _USCC_CHECK_OF_TOTAL[total] == raw[:, 17]
    return pd.Series(out, index=s.index)
