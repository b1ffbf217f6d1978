"""Loading one table from all its sources: read, rename, validate, key, merge by id.

The result is the table's validated canonical rows (with `_file` and `_row` so later
checks can still report them) and the number of rows read. Payments get their `fact_id`
here: a stable hash of the row's canonical fields, its file's name and its ordinal among
identical rows of that file, so re-ingesting a file yields the same ids. A payment with a
transaction reference (流水号, the `reference` column) is hashed with it and without its file's
name: the same payment in another export (a month sent again in a file covering two) keeps its id.
"""

from __future__ import annotations

import hashlib
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import InvalidData, InvalidMapping
from ingest.aliases import MONEY_INPUTS, unit_scale
from ingest.columns import guess_tables, names_table, to_canonical
from ingest.distinct import mix64, repeats
from ingest.mapping import Source, source_files
from ingest.normalise import to_arrow, unwrap_excel_text
from ingest.readers import RawTable, read_file
from ingest.report import ROW_REJECTED
from ingest.validate import KEYS, Context, validate_rows
from ingest.values import CREDIT, DEBIT

__all__ = ["load_table", "read_ahead", "fact_ids", "row_digests", "ids_from_digests", "collapse_roles"]

log = logging.getLogger("prospect_graph.ingest")


def _inline(source: Source) -> RawTable:
    frame = pd.DataFrame(source.rows or [])
    frame = frame.astype("string") if len(frame.columns) else frame
    return RawTable(Path("(inline rows)"), frame, pd.Series(range(1, len(frame) + 1), dtype="int64"))


def fact_ids(frame: pd.DataFrame, columns: list[str], file: str, by_reference: bool = True) -> pd.Series:
    """A stable 128-bit id per row: canonical fields + file name + ordinal among equal rows.

    Each row text is hashed (BLAKE2b keyed by the file's name, `row_digests`), then mixed with
    the row's ordinal among identical rows of that file (`ids_from_digests`). A row with a
    `reference` (and `by_reference`) is hashed with it, keyed by `REFERENCE_KEY` instead of the
    file's name.
    """
    return ids_from_digests(row_digests(frame, columns, file, by_reference), frame.index)


def row_digests(frame: pd.DataFrame, columns: list[str], file: str, by_reference: bool = True) -> np.ndarray:
    """Each row's 16-byte BLAKE2b digest of its fields joined by U+001F, keyed by the file's
    name, as a rows x 2 array of little-endian uint64 halves (a row with a reference: see `fact_ids`)."""
    reference = _fields(frame, ["reference"])[0] if by_reference and "reference" in frame.columns else None
    return _digests(_fields(frame, columns), len(frame), file, reference)


def _fields(frame: pd.DataFrame, columns: list[str]) -> list[pa.ChunkedArray | pa.Array | pa.Scalar]:
    return [to_arrow(frame[c].astype("string")).fill_null("") if c in frame.columns
            else pa.scalar("", pa.large_string()) for c in columns]


# the key of the rows hashed with their reference: no file name's key (`_keyed`) is it, a personalised hash
REFERENCE_KEY = hashlib.blake2b(b"reference", digest_size=32, person=b"fact-id").digest()


def _digests(fields: list[pa.ChunkedArray | pa.Array | pa.Scalar], n: int, file: str,
             reference: pa.ChunkedArray | pa.Array | pa.Scalar | None = None) -> np.ndarray:
    """The rows' digests (`row_digests`): those with a non-blank `reference` hashed with it
    (appended to their fields) under `REFERENCE_KEY`, the others under their file's name."""
    file_key = hashlib.blake2b(file.encode("utf-8"), digest_size=32).digest()
    if reference is None or isinstance(reference, pa.Scalar):
        return _keyed(fields, n, file_key)
    # ' Ｔ0402 ' is T0402: spaces and full-width forms are no part of a reference
    reference = pc.utf8_trim_whitespace(pc.utf8_normalize(reference, "NFKC"))
    given = pc.not_equal(reference, "")
    count = pc.sum(given).as_py() or 0
    if not count:
        return _keyed(fields, n, file_key)
    mask = (given.combine_chunks() if isinstance(given, pa.ChunkedArray) else given).to_numpy(zero_copy_only=False)
    out = np.empty((n, 2), dtype="<u8")
    for rows, key, extra in ((mask, REFERENCE_KEY, [reference]), (~mask, file_key, [])):
        if rows.any():
            keep = pa.array(rows)
            part = [f if isinstance(f, pa.Scalar) else f.filter(keep) for f in [*fields, *extra]]
            out[rows] = _keyed(part, int(rows.sum()), key)
    return out


def _keyed(fields: list[pa.ChunkedArray | pa.Array | pa.Scalar], n: int, file_key: bytes) -> np.ndarray:
    # the one per-row step left: neither Arrow nor DuckDB has keyed BLAKE2b, and the ids must
    # stay byte-identical to those stored. Bytes straight from Arrow (no str, no encode); each
    # row's hasher is a copy of one keyed once; rows are joined and hashed a slice at a time, so
    # their text is never held whole. The loop is written out, no function called per row (a
    # Python call per row cost a fifth of the time). A child process that hashed them instead
    # (no GIL shared with the validating thread) measured slower on two cores: its start and the
    # rows sent on a pipe cost more than the GIL it freed.
    keyed = hashlib.blake2b(digest_size=16, key=file_key).copy
    out = bytearray()
    for start in range(0, n, _DIGEST_SLICE):
        piece = [f if isinstance(f, pa.Scalar) else f.slice(start, _DIGEST_SLICE) for f in fields]
        key = pc.binary_join_element_wise(*piece, pa.scalar("\x1f", pa.large_string()))
        for text in key.cast(pa.large_binary()).to_pylist():
            hasher = keyed()
            hasher.update(text)
            out += hasher.digest()
    return np.frombuffer(bytes(out), dtype="<u8").reshape(-1, 2)


_DIGEST_SLICE = 1 << 17


def ids_from_digests(halves: np.ndarray, index: pd.Index) -> pd.Series:
    """The fact ids of rows with these digests (`row_digests`), in row order."""
    ordinal = _ordinals(halves)
    low, high = halves[:, 0], halves[:, 1]
    if ordinal.any():  # else the spread is 0 (the mix of 0 is 0): nothing to mix in
        with np.errstate(over="ignore"):
            spread = mix64(ordinal * np.uint64(0x9E3779B97F4A7C15))
        low, high = low ^ spread, high ^ spread
    # integers to text through `string`: Arrow's cast straight to `large_string` is ~2x slower
    ids = pc.binary_join_element_wise(pc.cast(pa.array(low), pa.string()),
                                      pc.cast(pa.array(mix64(high)), pa.string()),
                                      pa.scalar("-", pa.string()))
    return pd.Series(pd.arrays.ArrowStringArray(ids.cast(pa.large_string())), index=index)


def _ordinals(halves: np.ndarray) -> np.ndarray:
    """Each row's ordinal among the rows with the same digest, in row order (0, 1, 2 ...).

    Rows repeat rarely: only the rows whose digest's first half repeats are sorted. Repeats are
    found by sorting the first halves (a radix-friendly sort of random 64-bit numbers is ~15x
    cheaper than hashing them, whose every lookup misses the cache).
    """
    ordinal = np.zeros(len(halves), dtype=np.uint64)
    low = np.sort(halves[:, 0])
    twice = low[1:][low[1:] == low[:-1]]
    if len(twice):
        repeated = np.flatnonzero(np.isin(halves[:, 0], twice))
        ordinal[repeated] = _ordinals_sorted(halves[repeated])
    return ordinal


def _ordinals_sorted(halves: np.ndarray) -> np.ndarray:
    n = len(halves)
    order = np.lexsort((halves[:, 1], halves[:, 0]))  # stable: equal digests keep row order
    ranked = halves[order]
    first = np.ones(n, dtype=bool)
    first[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
    starts = np.flatnonzero(first)
    group_start = np.repeat(starts, np.diff(np.append(starts, n)))
    ordinal = np.empty(n, dtype=np.uint64)
    ordinal[order] = (np.arange(n) - group_start).astype(np.uint64)
    return ordinal


_FACT_FIELDS = ["payer_id", "payer_name", "payee_id", "payee_name", "payee_bank", "amount", "paid_on"]


class _FileIds:
    """One file's fact ids, made on the second thread: its digests, then (queued after them on the
    same thread) the kept rows' ids, so the validating thread only takes them."""

    def __init__(self, hasher: ThreadPoolExecutor, digests: Future[np.ndarray], kept: np.ndarray | None,
                 rows: int) -> None:
        self._ids = hasher.submit(_kept_ids, digests, kept, rows)

    def ids(self) -> pd.Series:
        """The kept rows' ids (waits for them)."""
        return self._ids.result()


def _kept_ids(digests: Future[np.ndarray], kept: np.ndarray | None, rows: int) -> pd.Series:
    halves = digests.result()  # done: it was queued first on the one thread
    # the ordinals count identical rows among the kept ones only
    return ids_from_digests(halves if kept is None else halves[kept], pd.RangeIndex(rows))


def load_table(table: str, sources: list[Source], ctx: Context) -> tuple[pd.DataFrame, int, list[str]]:
    """Validated rows of `table` from all sources; returns (rows, rows read, files read).

    Payments get `fact_id` from a second thread, one file at a time. With `ctx.defer_fact_ids`
    the last file's ids are set by `ctx.settle()` (the caller's, once every table is loaded), so
    that file's hashing overlaps the next tables' reading and validation instead of holding up
    the one thread that validates.
    """
    frames: list[pd.DataFrame] = []
    read = 0
    files: list[str] = []
    hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fact-ids") if table == "payments" else None
    ids: list[_FileIds] = []
    try:
        for number, source in enumerate(sources):
            read += _load_source(table, number, source, ctx, frames, files, hasher, ids)
    finally:
        if hasher is not None:
            hasher.shutdown(wait=False)  # its last job (if any) runs on; `ids` waits for it
    if not frames:
        return pd.DataFrame(), read, files
    df = pd.concat(frames, ignore_index=True)
    if ids:
        def settle(df: pd.DataFrame = df) -> None:
            column = pd.concat([f.ids() for f in ids], ignore_index=True)
            df["fact_id"] = column.set_axis(df.index)

        if ctx.defer_fact_ids and not KEYS.get(table):  # no merge by key: `df` is the frame returned
            ctx.pending.append(settle)
        else:
            settle()
    return _merge_sources(table, df), read, files


def _load_source(table: str, number: int, source: Source, ctx: Context, frames: list[pd.DataFrame],
                 files: list[str], hasher: ThreadPoolExecutor | None, ids: list[_FileIds]) -> int:
    """Validated rows of each file of one source appended to `frames`; returns the rows read."""
    read = 0
    raws = iter([(_inline(source), "")]) if source.rows is not None else (  # one file in memory at a time
        sheet for path in source_files(source) if path.resolve() not in ctx.skip  # a file delivered twice: once
        for sheet in _table_sheets(table, _read(path, source, ctx), source, ctx))
    for raw, sheet_key in raws:
        label = ctx.label(None if source.rows is not None else raw.path) + (f"[{raw.sheet}]" if raw.sheet else "")
        files.append(label)
        if raw.header_row > 1:
            ctx.header_rows[label] = raw.header_row
            log.info("%s: headers on row %s (the rows above them skipped)", label, raw.header_row)
        if raw.header_depth > 1:
            ctx.joined_headers[label] = raw.header_row
            log.info("%s: headers over rows %s and %s, joined", label, raw.header_row, raw.header_row + 1)
        n_read = len(raw.frame) + len(raw.bad_rows)
        read += n_read
        for bad in raw.bad_rows:
            ctx.rejects.add(table, label, pd.Series([bad.row], dtype="Int64"), "(row)",
                            pd.Series([bad.text]), bad.reason, ROW_REJECTED)
        frame, excel_text = unwrap_excel_text(raw.frame)  # ="E0001": a CSV written for Excel to keep text
        if excel_text:
            ctx.excel_text[label] = excel_text
        canonical, ignored, units, read_as = to_canonical(table, frame, source, label, raw.preamble)
        if ignored:
            ctx.ignored[label] = ignored
            log.info("%s: ignored columns %s", label, ", ".join(ignored))
        if "direction" in canonical.columns:  # read as an account statement (`ingest.statement`)
            ways = canonical["direction"].value_counts()
            ctx.statements[label] = {DEBIT: int(ways.get(DEBIT, 0)), CREDIT: int(ways.get(CREDIT, 0)),
                                     "other": int(len(canonical) - ways.get(DEBIT, 0) - ways.get(CREDIT, 0))}
            if read_as.holder:
                ctx.statement_holders[label] = read_as.holder
            if read_as.unsigned:
                ctx.statement_signs[label] = read_as.unsigned
        scaled = {col: unit for col, unit in units.items() if col in MONEY_INPUTS and unit_scale(unit) != 1}
        if scaled:
            ctx.amount_units[label] = scaled
            log.info("%s: amounts in their stated units: %s", label, ", ".join(f"{col} {unit}" for col, unit in scaled.items()))
        digests = None
        if hasher is not None:
            for earlier in ids:  # the file before is hashed first: one file's text held at a time
                earlier.ids()
            # the raw strings, not the parsed values, so a format change cannot split a fact;
            # hashed on a second thread while this one validates (Arrow's kernels free the GIL)
            digests = hasher.submit(_digests, _fields(canonical, _FACT_FIELDS), len(canonical),
                                    _file_key(raw.path, source) + sheet_key,
                                    _fields(canonical, ["reference"])[0]
                                    if ctx.by_reference and "reference" in canonical.columns else None)
        rows = validate_rows(table, canonical, raw.rows, source, label, ctx, units)
        kept_all = len(rows) == len(raw.rows)  # no row rejected: nothing to pick
        rows["_file"] = _repeated(label, rows.index)
        rows["_row"] = raw.rows.to_numpy() if kept_all else raw.rows.loc[rows.index].to_numpy()
        rows["_source"] = number
        if digests is not None and hasher is not None:
            ids.append(_FileIds(hasher, digests, None if kept_all else canonical.index.get_indexer(rows.index),
                                len(rows)))
        frames.append(rows.reset_index(drop=True))
        log.info("%s: %s rows read, %s kept for %s", label, n_read, len(rows), table)
    return read


def _repeated(text: str, index: pd.Index) -> pd.Series | str:
    """`text` on every row, as the column `frame[col] = text` makes (pandas' own text dtype), built
    by Arrow in one pass: pandas fills such a column value by value (0.1 s at 2M rows)."""
    dtype = pd.Series([text]).dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"):
        return text  # pandas fills it
    values = pa.repeat(pa.scalar(text, pa.large_string()), len(index))
    return pd.Series(cast(Any, dtype).__from_arrow__(values), index=index)


# files read ahead and not yet taken: at most this many bytes (memory). 256 MB lets a 2M-payment
# bundle's payments and payroll files be parsed while persons and roles are validated (with 128 MB
# validation waited about 1 s for each); the ingest's peak RSS at 2M, which comes later, stayed ~1.7 GB
_READ_AHEAD_MAX_BYTES = 1 << 28


def read_ahead(upcoming: list[list[Source]], ctx: Context) -> None:
    """Start reading the first file of each of the `upcoming` tables' sources, in order, on one
    thread of the ingest's own, while the files read ahead and not yet taken stay within 256 MB
    (a larger file is read in its turn): Arrow parses them on the other core while this thread
    validates the tables before them. A file's rows (or its error) are taken when its table's
    turn comes (`_read`)."""
    waiting = sum(_size(key[0]) for key in ctx.reads)
    for sources in upcoming:
        source = next((s for s in sources if s.rows is None and s.file is not None), None)
        if source is None:
            continue
        try:
            paths = [p for p in source_files(source) if p.resolve() not in ctx.skip]
        except (InvalidMapping, OSError):
            continue  # reported in its turn, by the same call
        if not paths:
            continue
        key = _read_key(paths[0], source)
        if key in ctx.reads:
            continue
        size = _size(paths[0])
        if waiting + size > _READ_AHEAD_MAX_BYTES:
            return  # in order: a later file waits for this one's turn
        if ctx.reader is None:  # the ingest's own thread (a pool kept between ingests would not
            # survive a fork: its thread gone, the read never done)
            ctx.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")
        ctx.reads[key] = ctx.reader.submit(read_file, *key)
        waiting += size


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_key(path: Path, source: Source) -> tuple[Any, ...]:
    """`read_file`'s arguments for a file of `source`: the mapping's headers help find the header row."""
    return path, source.encoding, source.delimiter, source.sheet, tuple(source.columns.values())


def _read(path: Path, source: Source, ctx: Context) -> RawTable:
    key = _read_key(path, source)
    ahead = ctx.reads.pop(key, None)
    if ahead is not None:
        return cast(RawTable, ahead.result())
    return read_file(*key)


def _table_sheets(table: str, raw: RawTable, source: Source, ctx: Context) -> list[tuple[RawTable, str]]:
    """A file's sheets holding `table`, each with what its fact ids' key adds to the file's: the
    file itself; or of a workbook with several sheets, those whose headers name the table's
    columns, the first keeping the workbook's key (a sheet added later changes no id). A hidden
    sheet holding the table is read only when no visible one does (it is most often a working copy
    of a visible sheet: reading both would count its rows twice). The other sheets are noted as not
    read (`ctx.unread_sheets`), the hidden ones holding the table and those read (`ctx.hidden_sheets`)."""
    if not raw.sheets:
        return [(raw, "")]
    book = ctx.label(raw.path)
    every = [(r, [str(c) for c in r.frame.columns]) for r in [raw, *raw.sheets]]
    fit = [r for r, headers in every if names_table(table, headers, source)]
    read = [r for r in fit if not r.hidden] or fit
    for r, headers in every:
        if r.hidden and any(r is f for f in fit):
            ctx.hidden_sheets[f"{book}[{r.sheet}]"] = (table, any(r is f for f in read))
        elif not any(r is f for f in fit):
            ctx.unread_sheets[f"{book}[{r.sheet}]"] = (table, guess_tables(headers))
    if not fit:
        shown = "; ".join(f"{r.sheet}: {', '.join(headers)[:120]}" for r, headers in every)
        raise InvalidData(f"{book}: no sheet has the {table} columns (its sheets' headers: {shown}); name the "
                          "sheet in a mapping (`sheet:`) with its `columns`")
    return [(r, "" if i == 0 else f"[{r.sheet}]") for i, r in enumerate(read)]


def _file_key(path: object, source: Source) -> str:
    if source.rows is not None:
        return "inline:" + str(source.file or "")
    return Path(str(path)).name


def _merge_sources(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Rows of several sources merged by key: later sources fill and override fields."""
    key = [c for c in KEYS.get(table, ()) if c in df.columns]
    if table == "payroll":
        key = ["employer_id", "person_id", "month"]
        if not repeats(df, key):
            return df  # no person paid twice in a month: nothing to add up
        summed = df.groupby(key + ["_source"], sort=False, dropna=False).agg(
            amount=("amount", "sum"), _file=("_file", "first"), _row=("_row", "first")).reset_index()
        return summed.drop_duplicates(key, keep="last").drop(columns="_source").reset_index(drop=True)
    if table == "roles":
        return collapse_roles(df)
    if not key or df["_source"].nunique() <= 1:
        return df
    merged = df.groupby(key, sort=False, dropna=False).last().reset_index()
    return merged[[c for c in df.columns if c in merged.columns]]


def collapse_roles(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (person, enterprise, role): repeated rows (one per filing) make one relation.

    The first and last `reported_on` become `first_on`/`last_on`; other fields take the last
    non-empty value; `_file`/`_row` point at the first row, where the relation was first seen.
    """
    key = ["person_id", "enterprise_id", "role"]
    if "reported_on" not in df.columns:
        df = df.assign(reported_on=pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]"))
    df = df.assign(first_on=df["reported_on"], last_on=df["reported_on"])
    if not repeats(df, key):
        return df.drop(columns="reported_on")
    grouped = df.groupby(key, sort=False, dropna=False)
    out = grouped.last()
    out["first_on"] = grouped["reported_on"].min()
    out["last_on"] = grouped["reported_on"].max()
    out[["_file", "_row"]] = grouped[["_file", "_row"]].first()
    out = out.reset_index()
    return out[[c for c in df.columns if c in out.columns and c != "reported_on"]]
