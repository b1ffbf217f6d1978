"""Text columns as Arrow arrays: the conversions and the vectorised searches ingest uses.

pandas' Arrow-backed strings (`string[pyarrow]`, `large_string` underneath) go to Arrow and
back without a copy; regex searches and set membership run in pyarrow's kernels (RE2), never
row by row in Python. `ingest.normalise` re-exports these names.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["blank", "unwrap_excel_text", "to_arrow", "from_arrow", "may_match", "matches", "isin", "few_among", "id_set", "longer_than",
           "bytes_within"]


def to_arrow(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The column as an arrow string array (zero-copy for pyarrow-backed strings)."""
    values = s.array if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow" \
        else s.astype(pd.StringDtype("pyarrow")).array
    return pa.array(values)


def blank(s: pd.Series) -> pd.Series:
    """True where a value is missing or only whitespace."""
    return s.isna() | (s.astype("string").str.strip() == "")


def from_arrow(values: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(values), index=index)


def may_match(values: pd.Series | pa.Array | pa.ChunkedArray, pattern: str) -> bool:
    """False when no value can match the RE2 `pattern` (no anchors), in ONE search of the text.

    The values' bytes lie back to back in Arrow's data buffer: searching that buffer once is a
    few times faster than a search per value. A match there may straddle two values, so True
    only means "look value by value" (see `matches`).
    """
    arr = to_arrow(values) if isinstance(values, pd.Series) else values
    for chunk in (arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]):
        if len(chunk) == 0 or chunk.null_count == len(chunk):
            continue
        large = pa.types.is_large_string(chunk.type)
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if large else np.int32)
        start, end = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        bounds = pa.py_buffer(np.array([0, end - start], dtype=np.int64 if large else np.int32).tobytes())
        text = (pa.LargeStringArray if large else pa.StringArray).from_buffers(
            1, bounds, chunk.buffers()[2].slice(start, end - start))
        if pc.any(pc.match_substring_regex(text, pattern)).as_py():
            return True
    return False


def _text_bytes(values: pd.Series | pa.Array | pa.ChunkedArray) -> list[np.ndarray]:
    """The bytes of a text column's values, each chunk's back to back in its Arrow data buffer
    (read in place, nothing copied); a null takes no bytes."""
    arr = to_arrow(values) if isinstance(values, pd.Series) else values
    out = []
    for chunk in (arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]):
        if len(chunk) == 0 or chunk.null_count == len(chunk):
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
        start, end = int(offsets[chunk.offset]), int(offsets[chunk.offset + len(chunk)])
        out.append(np.frombuffer(chunk.buffers()[2], dtype=np.uint8, count=end - start, offset=start)
                   if end > start else np.empty(0, dtype=np.uint8))
    return out


def bytes_within(values: pd.Series | pa.Array | pa.ChunkedArray, low: int, high: int,
                 but: int | None = None) -> bool:
    """True when every byte of the column's text lies in `low`..`high` (and is not `but`): the
    smallest and largest byte (SIMD min/max, several times faster than an RE2 pass) rule out
    whole classes of characters at once, e.g. every space, control and non-ASCII character for
    a column of printable ASCII such as ids, amounts and codes."""
    for data in _text_bytes(values):
        if len(data) and (int(data.min()) < low or int(data.max()) > high
                          or (but is not None and bool((data == but).any()))):
            return False
    return True


def matches(s: pd.Series, pattern: str) -> pd.Series:
    """True where the RE2 `pattern` matches somewhere in the text (pyarrow; nulls are False)."""
    hit = pc.fill_null(pc.match_substring_regex(to_arrow(s.astype("string")), pattern), False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index, dtype=bool)


def longer_than(s: pd.Series, limit: int) -> pd.Series:
    """`s.str.len() > limit` (nulls are False). No value holds more characters than bytes, and
    the byte lengths come from the offsets: a column whose longest value has at most `limit`
    bytes is ruled out without reading its text."""
    arr = to_arrow(s.astype("string"))
    if len(arr) == 0 or (pc.max(pc.binary_length(arr)).as_py() or 0) <= limit:
        return pd.Series(False, index=s.index)
    hit = pc.fill_null(pc.greater(pc.utf8_length(arr), limit), False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index, dtype=bool)


def isin(s: pd.Series, values: Iterable[str] | pd.Series | pa.Array) -> pd.Series:
    """`s.isin(values)` for text columns, in pyarrow (pandas' own loops in Python); nulls are False.

    `values` may be a Series or an Arrow array, used as it is (no Python set is built from it).
    """
    if isinstance(values, pa.Array):
        value_set = values
    elif isinstance(values, pd.Series):
        value_set = to_arrow(values.dropna().astype("string"))
        if isinstance(value_set, pa.ChunkedArray):
            value_set = value_set.combine_chunks()
    else:
        value_set = pa.array(list(values), type=pa.large_string())
    hit = pc.fill_null(pc.is_in(to_arrow(s.astype("string")), value_set=value_set), False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=s.index, dtype=bool)


def few_among(asked: pa.Array, known: pa.Array) -> pa.Array | None:
    """Where `asked` holds few values against many `known` ones (under an eighth), which of the
    known are among them (a mask over `known`: the few hashed, not the many), to look the asked
    values up in that part only; None where `known` is best looked up whole."""
    if 8 * len(asked) < len(known):
        return pc.fill_null(pc.is_in(known, value_set=pc.unique(asked)), False)
    return None


def id_set(s: pd.Series) -> set[str]:
    """The distinct non-null values of a text column as a Python set (built in C, not by iteration)."""
    return set(s.dropna().astype("string").to_numpy(dtype=object))


# A whole cell written ="…": a CSV made for Excel, which keeps such a cell as the text inside
# (leading zeros, long numbers, dates) rather than reading it as a number; "" inside is one quote
_EXCEL_TEXT = r'^\s*="((?s:.*))"\s*$'


def unwrap_excel_text(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The frame with every cell written ="…" as the text inside, and the columns that had one.
    One search of each text column's buffer for `="` clears the usual column; only a column where
    it is found is matched cell by cell, in Arrow's kernels."""
    columns: list[str] = []
    out = frame
    for col in frame.columns:
        values = frame[col]
        if not (isinstance(values.dtype, pd.StringDtype) or values.dtype == object):
            continue  # a typed (parquet) column holds no such text
        arr = to_arrow(values.astype("string"))
        if not may_match(arr, '="'):
            continue
        wrapped = pc.fill_null(pc.match_substring_regex(arr, _EXCEL_TEXT), False)
        if not pc.any(wrapped).as_py():
            continue
        inner = pc.replace_substring(pc.replace_substring_regex(arr, _EXCEL_TEXT, r"\1"), '""', '"')
        if out is frame:
            out = frame.copy(deep=False)
        out[col] = from_arrow(pc.if_else(wrapped, inner, arr), frame.index)
        columns.append(str(col))
    return out, columns
