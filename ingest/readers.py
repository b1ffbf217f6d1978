"""Readers: CSV (encoding detected, delimiter sniffed), XLSX/XLS and Parquet, all as text columns.

Every reader returns a `RawTable`: a DataFrame whose columns are the file's own headers, all
of string dtype (so ids keep their leading zeros and nothing is guessed), the 1-based row
number of each data row in the file (the header is row 1), and the rows the parser itself
could not use (wrong number of fields, e.g. a truncated last line) so they can be reported.

CSV is read by pyarrow's multi-threaded columnar reader (the encoding found by `ingest.encoding`;
non-UTF-8 transcoded while streaming);
XLSX and XLS by calamine through pandas (100k rows: 1.7 s, where openpyxl took 12.5 s), every sheet of
the table, merged cells filled down (`ingest.xlsx`); an HTML page saved as `.xls` (online banking
exports) and an Excel 2003 XML spreadsheet so named by lxml, as Excel shows them (`ingest.html_tables`,
`ingest.xml_sheets`). A file that cannot be read raises `InvalidData`.

Exports often carry a title above the headers (对公客户清单, 导出时间：…): when the first row names
no column any table or the mapping knows, the first of the next rows (up to `_PREAMBLE_ROWS`) that
names two is the header row, the rows above it are skipped, and row numbers stay the file's own.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from python_calamine import CalamineError

from graph.errors import InvalidData
from ingest.aliases import header_key, known_header
from ingest.arrow_text import to_arrow
from ingest.encoding import SAMPLE as _SAMPLE
from ingest.encoding import detect_encoding, not_valid_text, utf8_or_detected
from ingest.formats import PARQUET, SUFFIXES, WORKBOOKS, is_markup
from ingest.html_tables import html_cells
from ingest.normalise import scrub_pii
from ingest.xlsx import BookSheet, book_sheets, fill_down, sheet_named
from ingest.xml_sheets import is_xml_spreadsheet, xml_sheets

__all__ = [
    "RawTable", "BadRow", "read_file", "peek_headers", "joined_headers", "header_index", "detect_encoding", "sniff_delimiter", "SUFFIXES"]

_TRANSCODE_IN_MEMORY = 1 << 30  # larger non-UTF-8 files are transcoded while streaming
_PREAMBLE_ROWS = 30  # a title above the headers: at most this many rows are looked at


@dataclass
class BadRow:
    """A physical row the parser could not use."""

    row: int | None
    reason: str
    text: str


@dataclass
class RawTable:
    """A file's rows as text, with their row numbers in the file."""

    path: Path
    frame: pd.DataFrame
    rows: pd.Series
    bad_rows: list[BadRow] = field(default_factory=list)
    encoding: str | None = None
    header_row: int = 1  # the file's row the headers are on (below a title: 2, 3 …)
    preamble: list[list[str]] = field(default_factory=list)  # the rows above the headers, their cells as text
    header_depth: int = 1  # 2: headers over two rows (merged parents above their columns), joined
    header_cells: list[list[str]] = field(default_factory=list)  # the header rows as read, their cells as text
    sheet: str | None = None  # a workbook's sheet, when the workbook has more than one with rows
    sheets: list[RawTable] = field(default_factory=list)  # the workbook's other sheets with rows (no sheet named)
    hidden: bool = False  # a hidden sheet, of a workbook with several sheets with rows


def _text_dtype() -> Any:
    return pd.StringDtype("pyarrow")


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample among , ; tab and |; a comma when unsure."""
    lines = "\n".join(sample.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(lines, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines.splitlines()[0].count(d) if lines else 0 for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_file(path: Path, encoding: str | None = None, delimiter: str | None = None,
              sheet: str | int | None = None, headers: tuple[str, ...] = ()) -> RawTable:
    """Read one CSV, XLSX/XLS or Parquet file as text columns (see the module docstring). `headers`:
    those a mapping names, which tell the header row as the built-in ones do."""
    path = Path(path)
    if not path.is_file():
        raise InvalidData(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".xls" and is_markup(path):  # an online bank's export saved as .xls
            if is_xml_spreadsheet(path):
                first, *others = [_without_page_rows(t) for t in _read_xml_book(path, sheet, headers)]
                return replace(first, sheets=others)
            cells, merged = html_cells(path)  # an HTML page: its tables
            return _without_page_rows(_sheet_table(path, cells, headers, None, BookSheet("", merged, False)))
        if suffix in WORKBOOKS:
            first, *others = [_without_page_rows(t) for t in _read_xlsx(path, sheet, headers)]
            return replace(first, sheets=others)
        if suffix in PARQUET:
            return _read_parquet(path)
        return _without_page_rows(_read_csv(path, encoding, delimiter, headers))
    except InvalidData:
        raise
    except (OSError, ValueError, pa.ArrowException, zipfile.BadZipFile, KeyError) as exc:
        raise InvalidData(f"{path.name}: cannot be read: {scrub_pii(str(exc))[:300]}") from exc


# What a report-style export writes in its first filled cell on rows that are no records: a total
# (合计, 小计, 本页合计; one entry a word) or the header rows again. A cell is compared whole once
# trimmed of the whitespace a report pads it with (spaces, U+3000, no-break spaces, tabs), with the
# forms `_TOTAL_FORMS` makes of the words: a Chinese word followed by a colon (合计：), and one of two
# characters spaced out to the width of four (合 计, 合　计). Inner spaces are not removed from the
# cells: a regex over every first cell of a file costs Arrow 5 to 7 times the trimming.
TOTAL_WORDS = ("合计", "总计", "小计", "本页合计", "本页小计", "累计", "本期合计", "总合计", "Total", "TOTAL", "total",
               "Totals", "Grand Total", "Subtotal", "Sub-total")
_TOTAL_FORMS = frozenset({*TOTAL_WORDS, *(w + colon for w in TOTAL_WORDS if not w.isascii() for colon in "：:"),
                          *(w[0] + gap + w[1] for w in TOTAL_WORDS if len(w) == 2 for gap in (" ", "  ", "\u3000"))})
_LEAD_CELLS = 3  # where a row's first filled cell is looked for (序号 left blank, 合计 beside it)


def _lead(cells: list[str]) -> str:
    return next((c.strip() for c in cells[:_LEAD_CELLS] if c.strip()), "")


def _leading(frame: pd.DataFrame, words: pa.Array) -> np.ndarray:
    """The rows whose first filled cell among the first few, trimmed of its surrounding whitespace
    (as `_lead` strips it), is in `words` (later columns: rows blank so far)."""
    at = np.arange(len(frame))
    found = []
    for i in range(min(_LEAD_CELLS, len(frame.columns))):
        column = to_arrow(frame.iloc[:, i])
        column = pc.utf8_trim_whitespace(column if len(at) == len(frame) else column.take(pa.array(at)))
        found.append(at[pc.fill_null(pc.is_in(column, value_set=words.cast(column.type)), False).to_numpy(
            zero_copy_only=False)])
        at = at[pc.fill_null(pc.equal(column, ""), True).to_numpy(zero_copy_only=False)]
        if not len(at):
            break
    return np.sort(np.concatenate(found))


def _without_page_rows(raw: RawTable) -> RawTable:
    """`raw` without its totals rows and repeated header rows, each reported as a bad row with
    its number. A membership test of the first cells (Arrow, no Python per row); only the rows
    found become Python objects. A row repeats the headers when it starts as the top header row
    does, or equals a lower header row (whose first cells are often blank) cell for cell."""
    if raw.frame.empty or not len(raw.frame.columns):
        return raw
    heads = [[c.strip() for c in row] for row in raw.header_cells] or [[str(c) for c in raw.frame.columns]]
    hit = _leading(raw.frame, pa.array([*_TOTAL_FORMS, *{_lead(h) for h in heads} - {""}], pa.large_string()))
    if not len(hit):
        return raw
    found = raw.frame.iloc[hit].astype(object).fillna("").astype(str).to_numpy().tolist()
    top, bad, drop = _lead(heads[0]), [], []
    for at, row, cells in zip(hit, raw.rows.iloc[hit], found, strict=True):
        lead = _lead(cells)
        again = lead == top or any([c.strip() for c in cells[:len(h)]] == h for h in heads[1:])
        if lead in _TOTAL_FORMS or again:
            drop.append(at)
            bad.append(BadRow(int(row), "the header row again, not a record" if again else
                              f"a totals row ({lead}), not a record", scrub_pii(",".join(c for c in cells if c))[:200]))
    if not drop:
        return raw
    mask = np.zeros(len(raw.frame), dtype=bool)
    mask[drop] = True
    return replace(raw, frame=raw.frame[~mask], rows=raw.rows[~mask],
                   bad_rows=sorted([*raw.bad_rows, *bad], key=lambda b: b.row or 0))


def peek_headers(path: Path) -> list[list[str]]:
    """A file's header row (found below any title, as `read_file` finds it), read from its first
    rows only, for each sheet of a workbook; [] when it cannot be read. For telling what an
    unnamed file holds."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in PARQUET:
            return [[str(n) for n in pq.read_schema(path).names]]
        if suffix == ".xls" and is_markup(path):
            sheets = ([x.cells.head(_PREAMBLE_ROWS).to_numpy().tolist() for x in xml_sheets(path)]
                      if is_xml_spreadsheet(path) else [html_cells(path)[0].head(_PREAMBLE_ROWS).to_numpy().tolist()])
        elif suffix in WORKBOOKS:
            book = pd.read_excel(path, sheet_name=None, header=None, nrows=_PREAMBLE_ROWS, dtype=str,
                                 engine="calamine", keep_default_na=False)
            sheets = [cells.to_numpy().tolist() for cells in book.values()]
        else:
            with open(path, "rb") as fh:
                sample = fh.read(_SAMPLE)
            try:
                text = codecs.getincrementaldecoder("utf-8-sig")(errors="strict").decode(sample, final=False)
            except UnicodeDecodeError:
                text = sample.decode("gb18030", errors="replace")
            sheets = [list(itertools.islice(csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text)),
                                            _PREAMBLE_ROWS))]
    except Exception:  # noqa: BLE001 - a file that cannot be peeked at is only not described
        return []
    return [[name for name in _layout(rows, ())[3] if name] for rows in sheets]


def header_index(rows: list[list[str]], headers: tuple[str, ...] = ()) -> int:
    """Which of a file's first rows holds its headers: the first, unless it names no known column
    (`ingest.aliases.known_header`, or one of `headers`) and a row below it names two (or all of
    `headers`)."""
    wanted = {header_key(h) for h in headers}

    def named(row: list[str]) -> int:
        return sum(1 for cell in row if known_header(str(cell)) or header_key(str(cell)) in wanted)

    if not rows:
        return 0
    first = named(rows[0])
    if first >= 2 or (first and wanted and first >= len(wanted)):
        return 0
    # one known word in the first row may be a title's label ('户名 | 华东精密… | 账号 | 6222…'):
    # a row below that names more columns is the header row
    for number, row in enumerate(rows[1:_PREAMBLE_ROWS], start=1):
        found = named(row)
        if found > first and (found >= 2 or (wanted and found >= len(wanted))):
            return number
    return 0


_DATUM = re.compile(r"^[\d\s.,:/+\-()%¥￥]+$")


def joined_headers(top: list[str], below: list[str]) -> list[str] | None:
    """Headers over two rows, joined; None when `below` is not a second header row.

    A report's merged header cell spans the columns under it ('对方信息' over '户名' and '开户行';
    a merged cell is written once, the cells it covers are blank) while a column standing alone
    has nothing below it. `below` is a second header row when every cell it fills is under such
    a span and none is under a column standing alone. A column is then named by its parent and
    its own header together when that names a known column ('对方' + '户名' is 对方户名, '借方' +
    '金额(元)' is 借方金额(元)), else
    'parent/child' ('对方信息/户名', for a mapping to name): a child is never read without its
    parent, which may change what it means (对方信息's 户名 is the counterparty's, not the holder's).
    """
    n = max(len(top), len(below))
    top = [str(c).strip() for c in top] + [""] * (n - len(top))
    below = [str(c).strip() for c in below] + [""] * (n - len(below))
    parent: list[str] = []
    for i, cell in enumerate(top):  # a blank top cell continues the span of the cell to its left
        parent.append(cell if cell else (parent[i - 1] if i else ""))
    spans = {i for i in range(n) if parent[i] and ((not top[i]) or (i + 1 < n and not top[i + 1] and parent[i + 1]))}
    filled = [i for i in range(n) if below[i]]
    if (len(filled) < 2 or any(i not in spans for i in filled) or not any(not top[i] for i in filled)
            or any(_DATUM.match(below[i]) for i in filled)):  # a number or a date is data, not a name
        return None
    names = []
    for i in range(n):
        if not below[i]:
            names.append(top[i] or parent[i])
        elif known_header(parent[i] + below[i]):  # '对方' + '户名'
            names.append(parent[i] + below[i])
        elif known_header(below[i] + parent[i]):  # '借方' + '金额(元)'
            names.append(below[i] + parent[i])
        else:
            names.append(f"{parent[i]}/{below[i]}" if parent[i] else below[i])
    return names


def _layout(first_rows: list[list[Any]], headers: tuple[str, ...]) -> tuple[list[list[str]], int, int, list[str]]:
    """A file's first rows as text, the rows above its headers (`header_index`), how many rows its
    headers take (1, or 2 when `joined_headers`), and its column names."""
    rows = [["" if pd.isna(c) else str(c) for c in row] for row in first_rows]
    above = header_index(rows, headers)
    names = [c.strip() for c in rows[above]] if rows else []
    joined = joined_headers(names, rows[above + 1]) if len(rows) > above + 1 else None
    return rows, above, 1 if joined is None else 2, joined or names


def _read_csv(path: Path, encoding: str | None, delimiter: str | None, headers: tuple[str, ...]) -> RawTable:
    with open(path, "rb") as fh:
        sample = fh.read(_SAMPLE)
    if not sample.strip():
        raise InvalidData(f"{path.name}: the file is empty")
    if b"\x00" in sample[:8192] and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidData(f"{path.name}: looks like a binary file, not CSV text")
    presumed, declared = False, encoding is not None
    if encoding is None:
        encoding, presumed = utf8_or_detected(path, sample)
    try:
        return _parse_csv(path, sample, encoding.lower(), delimiter, headers, declared)
    except (_NotUtf8, InvalidData) as exc:
        # a presumed UTF-8 file that fails (a non-UTF-8 value, or a skipped row pyarrow could not
        # decode for the report, which it then calls a parse error) is checked whole and read again
        found = detect_encoding(path) if presumed else encoding
        if found != encoding:
            return _parse_csv(path, sample, found, delimiter, headers, declared)
        if isinstance(exc, _NotUtf8):
            raise not_valid_text(path, encoding, None, declared) from None
        raise


class _NotUtf8(ValueError):
    """Arrow's reader met bytes that are not UTF-8."""


def _parse_csv(path: Path, sample: bytes, enc: str, delimiter: str | None, headers: tuple[str, ...],
               declared: bool) -> RawTable:
    if enc in ("gbk", "gb2312"):
        enc = "gb18030"  # a superset: never fails on characters GBK lacks
    try:
        # incremental: a character cut in two at the end of the sample is left out, not an error
        text_sample = codecs.getincrementaldecoder(enc)(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise not_valid_text(path, enc, exc.start, declared) from exc
    except LookupError as exc:
        raise InvalidData(f"{path.name}: unknown encoding {enc!r}") from exc
    delim = delimiter or sniff_delimiter(text_sample)
    first = list(itertools.islice(csv.reader(io.StringIO(text_sample.lstrip("\ufeff")), delimiter=delim),
                                  _PREAMBLE_ROWS))
    first, above, depth, names = _layout(first, headers)  # above: a title, an export date …
    if not any(names):
        raise InvalidData(f"{path.name}: no header row")
    bad: list[BadRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(BadRow(row.number, f"row has {row.actual_columns} fields, expected {row.expected_columns}",
                          scrub_pii(row.text or "")[:200]))
        return "skip"

    arrow_enc = "utf8" if enc in ("utf-8", "utf-8-sig", "utf8") else enc
    source: Path | io.BytesIO = path
    if arrow_enc != "utf8" and path.stat().st_size <= _TRANSCODE_IN_MEMORY:
        # Python's C codecs in one call beat pyarrow's chunk-by-chunk transcoding callbacks
        try:
            source = io.BytesIO(path.read_bytes().decode(enc).encode("utf-8"))
        except UnicodeDecodeError as exc:
            raise not_valid_text(path, enc, exc.start, declared) from exc
        arrow_enc = "utf8"
    parse_opts = pacsv.ParseOptions(delimiter=delim, invalid_row_handler=on_invalid, newlines_in_values=True)
    # large_string: the very layout pandas' Arrow strings use, so no column is copied to pandas
    conv = pacsv.ConvertOptions(column_types={n: pa.large_string() for n in _unique(names)},
                                strings_can_be_null=False, quoted_strings_can_be_null=False)

    def read(threads: bool) -> pa.Table:
        read_opts = pacsv.ReadOptions(encoding=arrow_enc, block_size=1 << 22, use_threads=threads,
                                      column_names=_unique(names), skip_rows=above + depth)
        if isinstance(source, io.BytesIO):
            source.seek(0)
        return pacsv.read_csv(source, read_options=read_opts, parse_options=parse_opts, convert_options=conv)

    try:
        # parsed on all cores; only a file with rows to report is read again on one thread,
        # the only way the parser knows each bad row's number
        table = read(threads=True)
        if bad:
            bad.clear()
            table = read(threads=False)
    except UnicodeDecodeError as exc:
        raise _NotUtf8() from exc
    except pa.ArrowInvalid as exc:
        if "invalid UTF8" in str(exc):
            raise _NotUtf8() from exc
        raise InvalidData(f"{path.name}: cannot be parsed as CSV: {scrub_pii(str(exc))[:300]}") from exc
    frame = table.to_pandas(types_mapper={pa.large_string(): _text_dtype()}.get)
    frame.columns = names if len(set(names)) == len(names) else _unique(names)
    rows = _row_numbers(len(frame), [b.row for b in bad], header_row=above + depth)
    return RawTable(path, frame, rows, bad, enc, header_row=above + 1, preamble=first[:above], header_depth=depth,
                    header_cells=first[above:above + depth])


def _row_numbers(n: int, skipped: list[int | None], header_row: int = 1) -> pd.Series:
    """Physical row numbers of the kept rows: those after the header row minus the rows the
    parser skipped."""
    known = np.unique(np.array([r for r in skipped if r is not None], dtype=np.int64))
    first = header_row + 1
    if not len(known):
        return pd.Series(np.arange(first, n + first, dtype=np.int64))
    candidates = np.arange(first, n + first + len(known), dtype=np.int64)
    return pd.Series(candidates[~np.isin(candidates, known)][:n], dtype="int64")


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        base = name or f"column_{i + 1}"
        if base in seen:
            seen[base] += 1
            out.append(f"{base}.{seen[base]}")
        else:
            seen[base] = 0
            out.append(base)
    return out


def _read_xlsx(path: Path, sheet: str | int | None, headers: tuple[str, ...]) -> list[RawTable]:
    """The sheet named (`sheet_named`), else every sheet with rows (one alone: `sheet` None), merged
    cells filled down."""
    try:
        with pd.ExcelFile(path, engine="calamine") as workbook:
            if isinstance(sheet, str):
                sheet = sheet_named(sheet, [str(name) for name in workbook.sheet_names], path.name)
            book = workbook.parse(sheet_name=sheet, dtype=str, header=None, keep_default_na=False)
    except (CalamineError, zipfile.BadZipFile, KeyError) as exc:
        raise InvalidData(f"{path.name}: not a readable {path.suffix[1:].upper()} workbook ({exc})") from exc
    except ValueError as exc:
        raise InvalidData(f"{path.name}: {exc}") from exc
    about = {sh.name: sh for sh in book_sheets(path)}  # in the workbook's order
    if sheet is not None:
        name = sheet if isinstance(sheet, str) else (list(about)[sheet] if 0 <= sheet < len(about) else "")
        return [_sheet_table(path, cast(pd.DataFrame, book), headers, None, about.get(name))]
    return _book_tables(path, {str(n): c for n, c in cast(dict[str, pd.DataFrame], book).items()}, about, headers)


def _book_tables(path: Path, book: dict[str, pd.DataFrame], about: dict[str, BookSheet],
                 headers: tuple[str, ...]) -> list[RawTable]:
    """Every sheet of a workbook with rows (one alone: read with no sheet name; none: the first)."""
    filled = [(name, cells) for name, cells in book.items() if cells.size and (cells != "").to_numpy().any()]
    if len(filled) <= 1:
        name, cells = filled[0] if filled else next(iter(book.items()))
        return [_sheet_table(path, cells, headers, None, about.get(name))]
    return [_sheet_table(path, cells, headers, name, about.get(name)) for name, cells in filled]


def _read_xml_book(path: Path, sheet: str | int | None, headers: tuple[str, ...]) -> list[RawTable]:
    """An Excel XML spreadsheet's sheets (`ingest.xml_sheets`), chosen as `_read_xlsx` chooses."""
    book = xml_sheets(path)
    about = {x.name: BookSheet(x.name, x.merged, x.hidden) for x in book}
    cells = {x.name: x.cells for x in book}
    if sheet is None:
        return _book_tables(path, cells, about, headers)
    names = list(cells)
    name = sheet_named(sheet, names, path.name) if isinstance(sheet, str) else (
        names[sheet] if 0 <= sheet < len(names) else None)
    if name is None:
        raise InvalidData(f"{path.name}: no sheet {sheet!r}")
    return [_sheet_table(path, cells[name], headers, None, about[name])]


def _sheet_table(path: Path, cells: pd.DataFrame, headers: tuple[str, ...], sheet: str | None,
                 about: BookSheet | None) -> RawTable:
    top, above, depth, names = _layout(cells.head(_PREAMBLE_ROWS).to_numpy().tolist(), headers)
    frame = fill_down(cells, about.merged if about else [], above + depth).iloc[above + depth:].reset_index(drop=True)
    frame = (frame.set_axis(_unique(names), axis=1) if names else frame).astype(_text_dtype())
    first = above + depth + 1
    rows = pd.Series(range(first, len(frame) + first), dtype="int64")
    filled = _filled_rows(frame)
    if not filled.all():  # a blank row between records (or below them) is none, as a CSV's empty line
        frame, rows = frame[filled].reset_index(drop=True), rows[filled].reset_index(drop=True)
    return RawTable(path, frame, rows, header_row=above + 1,
                    preamble=top[:above], header_depth=depth, header_cells=top[above:above + depth], sheet=sheet,
                    hidden=bool(sheet is not None and about and about.hidden))  # one sheet alone: read as it is


def _filled_rows(frame: pd.DataFrame) -> np.ndarray:
    """Which rows of a sheet have a cell with more than whitespace (a column at a time, in Arrow)."""
    filled = np.zeros(len(frame), dtype=bool)
    for i in range(len(frame.columns)):
        text = pc.utf8_trim_whitespace(to_arrow(frame.iloc[:, i]))
        filled |= pc.fill_null(pc.not_equal(text, ""), False).to_numpy(zero_copy_only=False)
    return filled


def _read_parquet(path: Path) -> RawTable:
    table = pq.read_table(path)
    columns = []
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            columns.append(col.cast(pa.string()))
        elif pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
            columns.append(pc.strftime(col, format="%Y-%m-%d"))
        else:
            columns.append(col.cast(pa.string()))
    table = pa.table(columns, names=_unique([str(n) for n in table.column_names]))
    frame = table.to_pandas(types_mapper={pa.string(): _text_dtype()}.get)
    return RawTable(path, frame, pd.Series(range(1, len(frame) + 1), dtype="int64"))
