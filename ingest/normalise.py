"""Value normalisers: booleans, dates, months, amounts, USCC, ID numbers, phones and names.

Every normaliser works on a whole pandas Series at once (vectorised, or over the distinct
values only, which real exports repeat a lot) and returns the normalised values plus a mask
of the values that were present but unusable, so the caller can report them.

Examples:
    >>> uscc_valid("91350100M000100Y43")
    True
    >>> id_number_valid("11010519491231002X")
    True
    >>> mask_phone("13812345678")
    '138****5678'
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import one_array
from graph.duck import own_database
from ingest.aliases import AMOUNT_UNITS, VALUE_UNIT_SUFFIX
from ingest.arrow_text import (
    blank,
    bytes_within,
    from_arrow,
    id_set,
    isin,
    longer_than,
    matches,
    may_match,
    to_arrow,
    unwrap_excel_text,
)
from ingest.dates import to_date, to_month
from ingest.distinct import by_distinct
from ingest.identifiers import id_number_valid, id_numbers_valid, uscc_valid, usccs_valid

__all__ = [
    "blank",
    "to_bool",
    "to_date",
    "to_month",
    "to_amount",
    "to_percent",
    "uscc_valid",
    "id_number_valid",
    "id_numbers_valid",
    "usccs_valid",
    "hash_id_numbers",
    "mask_phones",
    "hash_id_number",
    "mask_phone",
    "mask_id_number",
    "mask_id_numbers",
    "scrub_pii",
    "scrub_pii_series",
    "clean_text",
    "isin",
    "id_set",
    "matches",
    "may_match",
    "to_arrow",
    "unwrap_excel_text",
    "from_arrow",
    "name_problem",
    "longer_than",
    "bytes_within",
    "UNCLEAN_RE2",
    "MARKUP_OR_FORMULA_CHARS",
    "DIGIT_RUN",
]

_TRUE = {"1", "true", "t", "y", "yes", "是", "真", "对", "√", "1.0"}
_FALSE = {"0", "false", "f", "n", "no", "否", "假", "0.0", "×"}


def to_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """1/0, true/false, Y/N, yes/no, 是/否 → boolean; returns (values, bad mask)."""

    def one(v: str) -> bool | None:
        key = unicodedata.normalize("NFKC", v).strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        return None

    values = by_distinct(s, one, "boolean")
    return values, values.isna() & ~blank(s)


_MONEY_NOISE = r"[,，\s¥￥]|RMB|CNY|人民币"  # the yuan's signs only: '$1,200' is no yuan (aliases.FOREIGN_VALUE)
_NO_THOUSANDS = r",\d{1,2}(?:\D|$)|,\d{4,}|\.\d*,"  # a comma that groups no thousands: '12,00', '1.200,50'


# Unsigned, at most 15 digits: Arrow's parse (correctly rounded) gives the very double pandas'
# `to_numeric` gives, 30x faster; signs (-0 would stay -0.0), exponents and the rest go to pandas.
_PLAIN_AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,3})?$"


def _plain_amounts(text: pd.Series) -> np.ndarray:
    """`pd.to_numeric(text, errors="coerce")` as float64, parsed by Arrow where the text is plain."""
    arr = to_arrow(text)
    if _digits_and_points(arr):
        # the usual column: one search of its text and its byte lengths (offsets) tell that every
        # value is at most 15 digits and points, whose double Arrow and pandas agree on (the
        # digits exact in a double, one correctly rounded division by a power of ten); more than
        # one point ("1.2.3") fails Arrow's parse: then value by value, below
        try:
            return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False).astype("float64", copy=True)
        except pa.ArrowInvalid:
            pass
    plain = pc.fill_null(pc.match_substring_regex(arr, _PLAIN_AMOUNT), False)
    every = pc.all(plain).as_py() and arr.null_count == 0
    parsed = pc.cast(arr if every else pc.if_else(plain, arr, pa.scalar(None, arr.type)), pa.float64())
    out = parsed.to_numpy(zero_copy_only=False).astype("float64", copy=True)
    if not every:
        rest = np.flatnonzero(~plain.to_numpy(zero_copy_only=False) & text.notna().to_numpy())
        if len(rest):
            out[rest] = pd.to_numeric(text.iloc[rest], errors="coerce").astype("float64").to_numpy()
    return out


def _digits_and_points(arr: pa.Array | pa.ChunkedArray) -> bool:
    """True when every present value has 1 to 15 bytes, each a digit or a point."""
    if len(arr) == arr.null_count:
        return False
    lengths = pc.min_max(pc.binary_length(arr))  # from the offsets: no text is read
    shortest, longest = lengths["min"].as_py(), lengths["max"].as_py()
    return bool(shortest >= 1 and longest <= 15 and bytes_within(arr, ord("."), ord("9"), but=ord("/")))


def to_amount(s: pd.Series, scale: int = 1) -> tuple[pd.Series, pd.Series]:
    """Amounts with thousands separators, currency signs, a trailing minus (1,200.00-) and units (元,
    万元 = ×10,000, 亿元 …, `ingest.aliases.AMOUNT_UNITS`) → yuan; a comma grouping no thousands
    ('12,00', '1.200,50': a decimal comma?) is no amount. `scale`: yuan per plain number (10,000
    under a header in 万元); a value's own unit wins. Scaled amounts are rounded to the fen (3.55
    万元: 35,500.00). Plain numbers (the bulk) are parsed by Arrow; only the values left unparsed
    are looked at again (blank or not, then the spellings with separators, signs and units)."""
    text = s.astype("string")
    values = _plain_amounts(text)
    if scale != 1:
        with np.errstate(over="ignore"):  # too large once scaled: infinite, so no amount (below)
            values = np.round(values * scale, 2)
    bad = np.isinf(values)  # "1e999" (or a number too large once scaled): a number, but no amount
    values[bad] = np.nan
    missing = np.flatnonzero(np.isnan(values) & ~bad)
    if len(missing):
        present = ~blank(text.iloc[missing]).to_numpy()
        todo = missing[present]
        if len(todo):
            rest = text.iloc[todo].str.normalize("NFKC").str.strip()
            misread = rest.str.contains(_NO_THOUSANDS).fillna(False).to_numpy(dtype=bool)  # a decimal comma?
            rest = rest.str.replace(_MONEY_NOISE, "", regex=True)
            negative = rest.str.match(r"^\(.*\)$|^[^-]*\d-$").fillna(False)  # '(1,200.00)', '1,200.00-'
            rest = rest.str.strip("()").str.removesuffix("-")
            unit = rest.str.extract(VALUE_UNIT_SUFFIX, expand=False)
            per = unit.map(AMOUNT_UNITS).astype("Float64").fillna(scale).to_numpy(dtype="float64")
            rest = rest.str.replace(VALUE_UNIT_SUFFIX, "", regex=True)
            parsed = pd.to_numeric(rest, errors="coerce").astype("float64").to_numpy()
            with np.errstate(over="ignore"):
                parsed = np.where(per != 1, np.round(parsed * per, 2), parsed)
            values[todo] = np.where(negative.to_numpy(dtype=bool), -parsed, parsed)
            values[todo[~np.isfinite(values[todo]) | misread]] = np.nan
            bad[todo] = np.isnan(values[todo])
    return pd.Series(values, index=text.index), pd.Series(bad, index=text.index)


def to_percent(s: pd.Series, stated: bool = False) -> tuple[pd.Series, pd.Series]:
    """Shares as 35, 35% or 0.35 → percent 0-100, the scale decided for the whole column (of one
    file): a column whose header says % (`stated`: '持股比例(%)'), or with a value above 1 or a %,
    is in percent (0.5 there is 0.5%); only another column whose every value lies within [0, 1] is
    of fractions (0.35: 35%). Value by value, 0.5 beside 60 was read as 50%. The distinct values of
    a column decide as its rows would."""
    text = s.astype("string")
    marked = text.str.contains("[%％]").fillna(False)
    values, bad = to_amount(text.str.replace("[%％]", "", regex=True))
    fractions = not stated and not marked.any() and not (values > 1).any()
    if fractions:
        values = values * 100
    out_of_range = (values < 0) | (values > 100)
    return values.where(~out_of_range), bad | out_of_range.fillna(False)


# ----------------------------------------------------------------------------- identifiers
def hash_id_numbers(s: pd.Series, salt: str) -> pd.Series:
    """`hash_id_number` over a column of valid ID numbers (missing stays missing), in DuckDB's SHA-256."""
    con = own_database()
    try:
        con.register("id_numbers", pa.table({"v": to_arrow(s.astype("string"))}))
        out = con.sql("SELECT sha256($salt || ':' || upper(trim(v))) AS h FROM id_numbers",
                      params={"salt": salt}).to_arrow_table()
    finally:
        con.close()
    return from_arrow(out.column("h"), s.index)


def mask_phones(s: pd.Series) -> pd.Series:
    """`mask_phone` over a column, in pyarrow kernels; blanks stay <NA>."""
    arr = to_arrow(s.astype("string"))
    fast = _mask_mobiles(arr)
    if fast is not None:
        return from_arrow(fast, s.index)
    if pc.all(pc.match_substring_regex(arr, r"^[0-9]{11}$")).as_py():  # the usual export: the short way
        masked = pc.binary_join_element_wise(pc.utf8_slice_codeunits(arr, 0, 3), pa.scalar("****", arr.type),
                                             pc.utf8_slice_codeunits(arr, -4), pa.scalar("", arr.type))
        return from_arrow(masked, s.index)
    # as `mask_phone`: full-width forms to ASCII (NFKC), then every character but a digit of any
    # script dropped (RE2's \D would drop full-width and other scripts' digits with the rest)
    arr = pc.replace_substring_regex(pc.utf8_normalize(arr, "NFKC"), r"[^\p{Nd}]", "")
    arr = pc.if_else(pc.and_(pc.starts_with(arr, "86"), pc.equal(pc.utf8_length(arr), 13)),
                     pc.utf8_slice_codeunits(arr, 2), arr)
    length = pc.utf8_length(arr)
    stars = pc.binary_repeat(pa.scalar("*", arr.type), pc.max_element_wise(pc.subtract(length, 7), 4))
    long_ = pc.binary_join_element_wise(pc.utf8_slice_codeunits(arr, 0, 3), stars,
                                        pc.utf8_slice_codeunits(arr, -4), pa.scalar("", arr.type))
    short = pc.binary_repeat(pa.scalar("*", arr.type), length)
    masked = pc.if_else(pc.greater_equal(length, 8), long_, short)
    masked = pc.if_else(pc.equal(masked, ""), pa.scalar(None, masked.type), masked)
    return from_arrow(masked, s.index)


_MOBILE_LENGTH = 11


def _mask_mobiles(values: pa.Array | pa.ChunkedArray) -> pa.Array | None:
    """The usual export's phones masked in place, or None when it is not one: every present value
    11 ASCII digits (blanks empty), so that each masked value is the same 11 bytes with the 4 after
    the first 3 starred. numpy copies Arrow's data buffer and stars a column of it: no value is
    sliced or joined (`mask_phone` of each value, as the kernels of `mask_phones` give)."""
    arr = one_array(values)
    if not pa.types.is_large_string(arr.type) or arr.offset or len(arr) == 0:
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[: len(arr) + 1]
    lengths = np.diff(offsets)
    present = np.ones(len(arr), dtype=bool) if arr.null_count == 0 else \
        arr.is_valid().to_numpy(zero_copy_only=False)
    if not ((lengths == _MOBILE_LENGTH) == present).all():
        return None  # a value of another length, or a blank slot that holds bytes
    text = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]].reshape(-1, _MOBILE_LENGTH)
    if not ((text - np.uint8(48)) <= 9).all():
        return None
    masked = text.copy()
    masked[:, 3:7] = ord("*")
    bounds = pa.py_buffer((offsets - offsets[0]).tobytes())
    return pa.LargeStringArray.from_buffers(len(arr), bounds, pa.py_buffer(masked.tobytes()),
                                            arr.buffers()[0], arr.null_count)


def hash_id_number(number: str, salt: str) -> str:
    """The salted SHA-256 kept instead of an ID number (the salt is the store's own)."""
    return hashlib.sha256(f"{salt}:{number.strip().upper()}".encode()).hexdigest()


def mask_phone(phone: str) -> str:
    """Keep the first 3 and last 4 digits: 138****5678; short numbers are masked whole."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) >= 8:
        return f"{digits[:3]}{'*' * max(4, len(digits) - 7)}{digits[-4:]}"
    return "*" * len(digits) if digits else ""


def mask_id_number(number: str) -> str:
    """An ID number fit to show in a report: 110105********002X."""
    text = number.strip()
    if len(text) <= 6:
        return "*" * len(text)
    return text[:6] + "*" * max(0, len(text) - 10) + text[-4:] if len(text) > 10 else text[:2] + "****"


def mask_id_numbers(s: pd.Series) -> pd.Series:
    """`mask_id_number` over a column, in Arrow kernels (no Python call per value: a rejects
    report can hold every row of a file whose ID numbers are all wrong); missing stays <NA>."""
    arr = pc.utf8_trim_whitespace(to_arrow(s.astype("string")))
    length = pc.utf8_length(arr)
    star = pa.scalar("*", arr.type)
    blank = pa.scalar("", arr.type)
    long_ = pc.binary_join_element_wise(pc.utf8_slice_codeunits(arr, 0, 6),
                                        pc.binary_repeat(star, pc.max_element_wise(pc.subtract(length, 10), 0)),
                                        pc.utf8_slice_codeunits(arr, -4), blank)
    middle = pc.binary_join_element_wise(pc.utf8_slice_codeunits(arr, 0, 2), pa.scalar("****", arr.type), blank)
    masked = pc.if_else(pc.less_equal(length, 6), pc.binary_repeat(star, length),
                        pc.if_else(pc.greater(length, 10), long_, middle))
    return from_arrow(masked, s.index)


# ID and mobile numbers as people type them: ASCII or full-width digits (Chinese input methods),
# and full-width letters, check character Ｘ, + and country code. One digit class for the Python
# patterns and the column search (`DIGIT_RUN`), so both find the same numbers: RE2's `\p{Nd}` (any
# script's digits, as Python's `\d`) made the search of every name and id column 2.5x slower.
# An ID number is eighteen characters with no digit on either side: letters may touch it
# ("ID110105…", "身份证号110105…X号") and it is masked all the same.
_DIGITS = "0-9\uff10-\uff19"
_ID_LIKE = re.compile(rf"(?<![{_DIGITS}])([{_DIGITS}]{{6}})[{_DIGITS}]{{8}}([{_DIGITS}]{{3}}[{_DIGITS}Xx\uff38\uff58])"
                      rf"(?![{_DIGITS}])")
_PHONE_LIKE = re.compile(rf"(?<![{_DIGITS}])(?:[+\uff0b]?[8\uff18][6\uff16][- ]?)?([1\uff11][3-9\uff13-\uff19][{_DIGITS}])"
                         rf"[- ]?([{_DIGITS}]{{4}})[- ]?([{_DIGITS}]{{4}})(?![{_DIGITS}])")


def scrub_pii(text: str) -> str:
    """Mask anything that looks like an ID number or a mobile number in free text (logs, reports)."""
    text = _ID_LIKE.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return _PHONE_LIKE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


# in every ID number and mobile number `scrub_pii` masks (RE2, `_DIGITS`): eleven digits in a row,
# or a mobile number's three groups with a space or hyphen between
_DIGIT_RE2 = r"[0-9\x{ff10}-\x{ff19}]"
DIGIT_RUN = rf"{_DIGIT_RE2}{{3}}[- ]?{_DIGIT_RE2}{{4}}[- ]?{_DIGIT_RE2}{{4}}"


def scrub_pii_series(s: pd.Series) -> pd.Series:
    """`scrub_pii` over a column (distinct values only); values without digits pass untouched
    (a column where `DIGIT_RUN` finds nothing is handed back as it is)."""
    text = s.astype("string")
    if not may_match(text, DIGIT_RUN):
        return s if s.dtype == text.dtype else text
    digits = matches(text, DIGIT_RUN)
    if not digits.any():
        return text
    out = text.copy()
    out[digits] = by_distinct(text[digits], scrub_pii, "string")
    return out


# ----------------------------------------------------------------------------- names
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"\s+")
# plain pattern strings (RE2 syntax), so pandas runs them in pyarrow rather than row by row
_HTML = r"(?i)<\s*/?\s*[a-z!][^>]*>|&(?:lt|gt|#\d+|#x[0-9a-f]+);"
_FORMULA = r"^[=+@\-\t\r]|^\s*[=@]|[|]\s*'?\s*/[cC]\b|\bcmd\s*\|"
MARKUP_OR_FORMULA_CHARS = r"[<&=+@|\t\r-]"  # each match of `_HTML` or `_FORMULA` holds one of these


# RE2 syntax (pyarrow): control and zero-width characters; runs of ASCII/Unicode spaces
_CONTROL_RE2 = r"[\x{0}-\x{8}\x{b}\x{c}\x{e}-\x{1f}\x{7f}\x{200b}-\x{200f}\x{2028}\x{2029}\x{feff}]"
_SPACES_RE2 = r"[\s\x{3000}\x{a0}]+"
_SPACES_TO_COLLAPSE = r"[\s\x{3000}\x{a0}]{2,}|[\t\n\r\x{3000}\x{a0}]"  # a run, or a space other than " "


# Every character `clean_text` may remove or change: the controls above and whatever Arrow's
# `utf8_trim_whitespace` trims (ASCII 9-13 and 28-32, U+0085 and the Unicode separators \p{Z})
_PRINTABLE = (0x21, 0x7E)  # the bytes of printable ASCII characters, the space aside
UNCLEAN_RE2 = r"[\x{0}-\x{20}\x{7f}\x{85}\p{Z}\x{200b}-\x{200f}\x{2028}\x{2029}\x{feff}]"


def clean_text(s: pd.Series, searched: bool = False) -> pd.Series:
    """Trim, drop control characters and collapse inner whitespace; blanks become <NA>.

    Runs in pyarrow's compute kernels (RE2), never row by row in Python. A column with nothing
    to clean (one search of its text finds no space or control character, and no value is
    empty) is handed back as it is: no pass copies it. `searched`: the caller's own search
    for `UNCLEAN_RE2` (or more) found nothing in `s`.
    """
    arr = to_arrow(s)
    changed = False
    # one pass finds the columns with anything to clean; a column of printable ASCII has nothing
    # to clean (every character of UNCLEAN_RE2 is a space, a control or beyond ASCII)
    if not searched and not bytes_within(arr, _PRINTABLE[0], _PRINTABLE[1]) and may_match(arr, UNCLEAN_RE2):
        if pc.any(pc.match_substring_regex(arr, _CONTROL_RE2)).as_py():
            arr = pc.replace_substring_regex(arr, _CONTROL_RE2, "")
        if pc.any(pc.match_substring_regex(arr, _SPACES_TO_COLLAPSE)).as_py():
            arr = pc.replace_substring_regex(arr, _SPACES_RE2, " ")
        arr = pc.utf8_trim_whitespace(arr)
        changed = True
    empty = pc.equal(pc.binary_length(arr), 0)  # lengths come from the offsets: no text is read
    if pc.any(empty).as_py():
        arr = pc.if_else(empty, pa.scalar(None, arr.type), arr)
        changed = True
    if not changed and isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        return s
    return from_arrow(arr, s.index)


def name_problem(s: pd.Series, max_length: int, searched: bool = False) -> pd.Series:
    """Why a (cleaned) name cannot be used — too long, HTML markup, a spreadsheet formula — or <NA>.

    `searched`: the caller's own search for `MARKUP_OR_FORMULA_CHARS` (or more) found nothing."""
    text = s.astype("string")
    reason = pd.Series(pd.NA, index=s.index, dtype="string")
    too_long = longer_than(text, max_length)
    if too_long.any():
        reason = reason.mask(too_long, f"name longer than {max_length} characters")
    if searched or not may_match(text, MARKUP_OR_FORMULA_CHARS):  # one search clears most columns
        return reason
    html = matches(text, _HTML)
    reason = reason.mask(html & reason.isna(), "name contains HTML markup")
    # a leading minus followed by a digit is a number, not a formula; names never start with one
    formula = matches(text, _FORMULA)
    reason = reason.mask(formula & reason.isna(), "name looks like a spreadsheet formula")
    return reason
