"""Dates and months as exports write them, and the one pair of year bounds both are held to.

Dates: ISO, YYYY/MM/DD, YYYYMMDD, YYYY年MM月DD日, a core system's timestamp run together
(`20240503143000`, `202405031430`: its day), or an Excel serial day number (`45741`: a date
cell saved to CSV as Excel keeps it, five digits; a workbook's date cell comes as its date).
Months: YYYY-MM, YYYYMM, YYYY/MM, YYYY年MM月, a full date or an Excel serial (its date's month).
A year outside `YEARS` is no date a fact can carry (9999-12-31 "open-ended", 0001-01-01, a
misread 4574-01, which pandas cannot even hold) and is rejected; `year_outside` tells those
values apart so their rows say why.

Examples:
    >>> import pandas as pd
    >>> to_month(pd.Series(["45741", "2024年3月", "1234-01", "20243"], dtype="string"))[0].tolist()
    ['2025-03', '2024-03', <NA>, '2024-03']
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingest.arrow_text import blank, from_arrow, to_arrow
from ingest.distinct import by_distinct

__all__ = ["YEARS", "to_date", "to_month", "year_outside"]

YEARS = (1900, 2200)  # inside pandas' datetime64[ns] range (1677–2262), with room for due dates
_MIN_YEAR, _MAX_YEAR = YEARS
# Excel's day 0 for its serial day numbers (1900 date system; 1899-12-30, not 12-31, because
# Excel counts a 1900-02-29 that never was: right for every day from 1900-03-01 on)
EXCEL_DAY_ZERO = pd.Timestamp(1899, 12, 30)
_EXCEL_SERIAL = re.compile(r"^\d{5}$")  # 10000 (1927-05-18) to 99999 (2173-10-14)
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$")
# YYYYMMDD, or a core banking system's timestamp run together: YYYYMMDDHHMM, YYYYMMDDHHMMSS, with milliseconds
_DATE8 = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{4}(?:\d{2}(?:\d{3})?)?)?(?:[ T].*)?$")
# a value that starts as a date or a month does, with its year (after NFKC)
_YEAR_FIRST = r"^\s*(\d{4})(?:[-/.年]\d|\d{2}(?:\d{2}(?:\d{4}(?:\d{2}(?:\d{3})?)?)?)?(?:[ T]|\s*$))"


def _one_date(v: str) -> pd.Timestamp | None:
    text = unicodedata.normalize("NFKC", v).strip()
    if _EXCEL_SERIAL.match(text):
        return EXCEL_DAY_ZERO + pd.Timedelta(days=int(text))
    m = _DATE.match(text) or _DATE8.match(text)
    if not m:
        return None
    year = int(m.group(1))
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return None  # 9999-12-31 ("open-ended") and 0001-01-01 are not dates a fact can carry
    try:
        return pd.Timestamp(year, int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _dates_by_dictionary(text: pd.Series, limit: int = 50_000) -> pd.Series | None:
    """Parse each distinct value once when there are few (exports repeat dates a lot), else None."""
    encoded = pc.dictionary_encode(to_arrow(text))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    distinct = encoded.dictionary.to_pylist()
    if len(distinct) > limit:
        return None
    parsed = [_one_date(v) if v else None for v in distinct]
    table = np.array([p.to_datetime64() if p is not None else np.datetime64("NaT") for p in parsed]
                     + [np.datetime64("NaT")], dtype="datetime64[ns]")
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.Series(table[codes], index=text.index)


# a timestamp's time of day, cut in Arrow when a column has too many distinct values to parse each
# once: a statement's 交易时间 (`2024-05-03 14:30:00`, `20240503143000`) is nearly always
# distinct, its days are not (a column of days, the usual case, never pays for the regex)
_TIME_OF_DAY = r"^(\d{4}-\d{2}-\d{2}|\d{4}/\d{1,2}/\d{1,2}|\d{8})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?|\d{4}(?:\d{2}(?:\d{3})?)?)$"


def _days_of_timestamps(text: pd.Series) -> pd.Series:
    """`text` with a timestamp's time of day cut (`_TIME_OF_DAY`), in one Arrow pass; other values as given."""
    arr = to_arrow(text)
    if not pc.any(pc.fill_null(pc.match_substring_regex(arr, _TIME_OF_DAY), False)).as_py():
        return text
    return from_arrow(pc.replace_substring_regex(arr, _TIME_OF_DAY, r"\1"), text.index)


def to_date(s: pd.Series, fmt: str | None = None) -> tuple[pd.Series, pd.Series]:
    """ISO, YYYY/MM/DD, YYYYMMDD, YYYY年MM月DD日, an Excel serial (or an explicit strftime `fmt`) →
    datetime64, the year within `YEARS`. Plain
    ISO dates, the bulk of real exports, are parsed by pyarrow in one pass; others once per distinct value."""
    text = s.astype("string")
    if fmt is None:
        few = _dates_by_dictionary(text)
        if few is None:  # too many distinct values: timestamps? their days are few
            text = _days_of_timestamps(text)
            few = _dates_by_dictionary(text)
        if few is not None:
            return few, few.isna() & ~blank(text)
    values = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    todo = ~blank(text)
    if fmt is None:
        arr = to_arrow(text)
        iso = pc.fill_null(pc.match_substring_regex(arr, r"^\d{4}-\d{2}-\d{2}$"), False)
        if pc.any(iso).as_py():
            candidates = pc.if_else(iso, arr, pa.scalar(None, arr.type))
            parsed = pc.strptime(candidates, format="%Y-%m-%d", unit="s", error_is_null=True)
            # arrow rolls 2024-02-30 over to March: keep only dates that print back the same
            same = pc.and_(pc.equal(pc.cast(pc.strftime(parsed, format="%Y-%m-%d"), arr.type), candidates),
                           pc.and_(pc.greater_equal(pc.year(parsed), _MIN_YEAR),
                                   pc.less_equal(pc.year(parsed), _MAX_YEAR)))
            parsed = pc.if_else(pc.fill_null(same, False), parsed, pa.scalar(None, parsed.type))
            fast = pd.Series(parsed.to_numpy(zero_copy_only=False), index=s.index).astype("datetime64[ns]")
            hit = fast.notna().to_numpy()
            values[hit] = fast[hit]
            todo &= ~hit
        one = _one_date
    else:
        def one(v: str) -> pd.Timestamp | None:
            try:
                day = pd.Timestamp(pd.to_datetime(v.strip(), format=fmt))
            except (ValueError, TypeError, OverflowError):
                return None
            return day if _MIN_YEAR <= day.year <= _MAX_YEAR else None
    if todo.any():
        slow = pd.to_datetime(by_distinct(text[todo], one, "object"), errors="coerce")
        values[todo] = slow.astype("datetime64[ns]")
    return values, values.isna() & ~blank(text)


_MONTH = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})月?(?:[-/.]\d{1,2}日?)?(?:[ T].*)?$")


def to_month(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """YYYY-MM, YYYYMM, YYYY/MM, YYYY年MM月, a full date or an Excel serial (45741: 2025-03) →
    'YYYY-MM' strings, the year within `YEARS`."""

    def one(v: str) -> str | None:
        text = unicodedata.normalize("NFKC", v).strip()
        m = _MONTH.match(text)  # first: a month's 20243 is 2024-03, not the serial day 1955-06-04
        if m and 1 <= int(m.group(2)) <= 12 and _MIN_YEAR <= int(m.group(1)) <= _MAX_YEAR:
            return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"
        day = _one_date(text)
        return None if day is None else f"{day.year:04d}-{day.month:02d}"

    values = by_distinct(s, one, "string")
    return values, values.isna() & ~blank(s)


def year_outside(text: pd.Series) -> pd.Series:
    """True where a value reads as a date or a month but for its year, outside `YEARS` (1234-01,
    99991231): its row is rejected for its year, not for its shape."""
    years = text.astype("string").str.normalize("NFKC").str.extract(_YEAR_FIRST, expand=False)
    years = pd.to_numeric(years, errors="coerce")
    return ((years < _MIN_YEAR) | (years > _MAX_YEAR)).fillna(False).astype(bool)
