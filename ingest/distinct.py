"""A column as its distinct values: normalise and validate each value once, then take back.

Exports repeat values a lot (a payer on every payment, a month on every payroll run, a date
on thousands of rows). `Distinct` dictionary-encodes a text column in Arrow (one hash pass);
the normalisers of `ingest.normalise` then run on the distinct values only, and `spread` /
`rows` take their results back to the rows with one integer take. A column whose values are
mostly distinct (ids, ID numbers, amounts) is not encoded: it is worked on as it is.

Every normaliser is value by value (a value's result never depends on another row), or
decides from the set of the column's values (a share column's scale: `to_percent`), which its
distinct values hold too; so a result taken back from the distinct values is the result the
whole column would give.

Example:
    >>> import pandas as pd
    >>> col = Distinct(pd.Series(["a", "b", "a", None], dtype="string"))
    >>> list(col.values)
    ['a', 'b', <NA>]
    >>> col.spread(col.values.str.upper()).tolist()
    ['A', 'B', 'A', <NA>]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import one_array
from ingest.arrow_text import from_arrow, to_arrow

__all__ = ["Distinct", "by_distinct", "repeats"]

_SAMPLE = 16_384  # values looked at to tell a repetitive column from a mostly distinct one
_MOSTLY_DISTINCT = 0.5  # share of distinct values in the sample above which a column is not encoded


class Distinct:
    """`values`: the distinct values of a text column (a trailing <NA> if it has blanks);
    `codes`: each row's position in `values`, or None when `values` are the rows themselves."""

    def __init__(self, column: pd.Series) -> None:
        self.index = column.index
        text = column.astype("string")
        self.text = text  # the rows: what `spread` gives back for `values` themselves
        arr = to_arrow(text)
        self.codes: np.ndarray | None = None
        if _mostly_distinct(arr):
            self.values = text
            return
        # the chunks of a chunked column share one dictionary (Arrow grows one hash table)
        encoded = pc.dictionary_encode(arr)
        chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
        dictionary = chunks[-1].dictionary if chunks else pa.array([], pa.large_string())
        indices = pa.chunked_array([c.indices for c in chunks], pa.int32())
        size = len(dictionary)
        if indices.null_count:
            dictionary = pa.concat_arrays([dictionary, pa.nulls(1, dictionary.type)])
        self.codes = pc.fill_null(indices, size).to_numpy()
        self.values = from_arrow(dictionary, pd.RangeIndex(len(dictionary)))

    def spread(self, values: pd.Series) -> pd.Series:
        """Per-value results (aligned with `values`) taken back to the rows.

        `values` themselves (a normaliser that changed nothing hands them back) are the rows
        as they came: nothing is taken."""
        if values is self.values:
            return self.text
        if self.codes is None:
            return values.set_axis(self.index)
        return pd.Series(values.array.take(self.codes), index=self.index, name=values.name)

    def rows(self, mask: pd.Series) -> pd.Series:
        """A per-value mask taken back to the rows (missing counts as False)."""
        flags = mask.fillna(False).to_numpy(dtype=bool)
        return pd.Series(flags if self.codes is None else flags[self.codes], index=self.index)

    def counts(self) -> np.ndarray:
        """Rows per distinct value."""
        if self.codes is None:
            return np.ones(len(self.values), dtype=np.int64)
        return np.bincount(self.codes, minlength=len(self.values))


def _mostly_distinct(arr: pa.Array | pa.ChunkedArray) -> bool:
    """True when a sample of the column (16 runs of up to 1,024 rows spread over it) is mostly
    distinct values: encoding would not pay. Runs are slices of one chunk each (a run ends with
    its chunk), so nothing is copied to sample; slicing a chunked array costs far more."""
    n = len(arr)
    if n <= _SAMPLE:
        return False
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    ends = np.cumsum([len(c) for c in chunks])
    run = _SAMPLE // 16
    runs = []
    for start in range(0, n - run + 1, (n - run) // 15)[:16]:
        k = int(np.searchsorted(ends, start, side="right"))
        runs.append(chunks[k].slice(start - (int(ends[k - 1]) if k else 0), run))
    sample = pa.chunked_array(runs, arr.type)
    return len(pc.unique(sample)) > _MOSTLY_DISTINCT * len(sample)


def by_distinct(s: pd.Series, fn: Callable[[str], Any], dtype: Any) -> pd.Series:
    """Apply a scalar function to each distinct non-blank value only, then broadcast back."""
    codes, uniques = pd.factorize(s.astype("string"), use_na_sentinel=True)
    mapped = np.array([fn(str(u)) for u in uniques], dtype=object)
    out = np.full(len(s), None, dtype=object)
    ok = codes >= 0
    out[ok] = mapped[codes[ok]]
    return pd.Series(out, index=s.index).astype(dtype)


def repeats(frame: pd.DataFrame, columns: list[str]) -> bool:
    """True when two rows of `frame` hold the same values in `columns` (missing equals missing).

    Each column is dictionary-encoded in Arrow and the codes are combined into one integer
    per row, whose repeats a sort finds: much cheaper than hashing the joined text of the
    columns, or even the integers (a hash lookup per row misses the cache; a sort does not).
    """
    if len(columns) > 1 and not _fingerprints_repeat(frame, columns):
        return False  # no two rows share a fingerprint: no two rows are the same
    key = np.zeros(len(frame), dtype=np.int64)
    span = 1
    for col in columns:
        try:
            arr = pa.array(frame[col].array)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python objects: pandas decides
            return bool(frame.duplicated(columns).any())
        if len(columns) == 1:  # one column: as many distinct values (missing counted once) as rows
            return not _increasing(arr) and len(pc.unique(arr)) < len(frame)
        encoded = pc.dictionary_encode(arr)
        chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
        # a chunked column's chunks share one growing dictionary: the last one holds them all
        size = (len(chunks[-1].dictionary) if chunks else 0) + 1  # the last code: missing
        span *= size
        if span >= 1 << 62:  # the combined codes would not fit one integer
            return bool(frame.duplicated(columns).any())
        indices = pa.chunked_array([c.indices for c in chunks], pa.int32())
        key = key * size + pc.fill_null(indices, size - 1).to_numpy()
    ordered = np.sort(key)
    return bool((ordered[1:] == ordered[:-1]).any())


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a fixed, well-spread 64-bit mixing of integers (a bijection)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _mix_in(prints: np.ndarray, word: np.ndarray, spare: np.ndarray) -> None:
    """`prints` xor `word`, mixed by a bijection (a shift-xor and an odd multiplication, as in
    `mix64`), in place, with no array allocated (`spare`: a scratch array of the same size; `word`
    may be it): rows that agreed before and differ in the word differ after it; rows that
    differed before rarely agree after."""
    with np.errstate(over="ignore"):
        np.bitwise_xor(prints, word, out=prints)
        np.right_shift(prints, np.uint64(29), out=spare)
        np.bitwise_xor(prints, spare, out=prints)
        np.multiply(prints, np.uint64(0xBF58476D1CE4E5B9), out=prints)


def _fingerprints_repeat(frame: pd.DataFrame, columns: list[str]) -> bool:
    """False when the rows' 64-bit fingerprints (their bytes mixed 8 at a time) are all
    different, so no two rows are the same; True when two agree or a column is not text of one
    width without blanks (exports' ids and months usually are): then only the exact check tells.

    Equal rows have equal fingerprints, so "all different" is exact; reading fixed-width bytes
    straight from Arrow's buffer costs far less than dictionary-encoding the columns.
    """
    prints = np.zeros(len(frame), dtype=np.uint64)
    spare = np.empty(len(frame), dtype=np.uint64)
    for col in columns:
        values = frame[col].array
        if not isinstance(values, pd.arrays.ArrowStringArray):
            return True
        arr = pa.array(values)
        arr = one_array(arr)
        if arr.null_count or len(arr) < 2 or not pa.types.is_large_string(arr.type):
            return True
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
        width = int(offsets[1] - offsets[0])
        if width == 0 or int(offsets[-1] - offsets[0]) != width * len(arr) or \
                not (np.diff(offsets) == width).all():
            return True
        # the values back to back, 8 zero bytes after: each row's j-th 8 bytes read in place
        flat = np.zeros(width * len(arr) + 8, dtype=np.uint8)
        flat[:-8] = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
        for start in range(0, width, 8):
            word = np.ndarray((len(arr),), dtype="<u8", buffer=flat, offset=start, strides=(width,))
            if width - start < 8:  # the last word's other bytes are the next row's
                word = np.bitwise_and(word, np.uint64((1 << (8 * (width - start))) - 1), out=spare)
            _mix_in(prints, word, spare)
    ordered = np.sort(prints)
    return bool((ordered[1:] == ordered[:-1]).any())


def _increasing(arr: pa.Array | pa.ChunkedArray) -> bool:
    """True when every value is greater than the one before (so no value repeats): exports list
    their ids in order, and one comparison of neighbours is much cheaper than hashing them all."""
    n = len(arr)
    if n < 2 or arr.null_count or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return False
    return bool(pc.all(pc.greater(arr.slice(1), arr.slice(0, n - 1))).as_py())
