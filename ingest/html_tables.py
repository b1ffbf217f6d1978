"""An HTML page saved with an `.xls` name, as online banking systems export statements and lists:
its tables read as Excel shows such a page, one sheet of text cells.

Excel opens the page (with a warning) and lays every table's rows out one below the other, a
cell spanning rows or columns (`rowspan`, `colspan`) merged over them. So does this reader, with
lxml: the rows of every table in the page's order (a table laid inside another's cell gives its
own rows, the cell holding it none), a spanned cell's text in its first cell and the span kept
as a merged range (`ingest.xlsx.Range`), so the data rows' merged cells are filled down as a
workbook's are (`readers._sheet_table`). A cell's text is what a browser shows: its tags dropped,
a `<br>` a space, runs of whitespace (with `&nbsp;` and the ideographic space) one space,
trimmed. The title rows above the headers (户名, 起止日期) stay the preamble a statement's holder
is read from.

The page's encoding: a byte-order mark, else the `charset` its `<meta>` declares (GB2312 and GBK
read as GB18030, their superset), else as a CSV's is found (`ingest.encoding.detect_encoding`).
An Excel 2003 XML spreadsheet (`<?xml …?><Workbook …>`) is no HTML page: `ingest.xml_sheets` reads it.

Per cell Python (lxml's elements): such exports are pages of thousands of rows, not a year's
payments; the cells' text is cleaned by Arrow in one pass.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any

import lxml.etree
import lxml.html
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import InvalidData
from ingest.encoding import detect_encoding
from ingest.xlsx import Range

__all__ = ["html_cells", "MAX_COLUMNS", "MAX_CELLS"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
              "iso-8859-1": "cp1252", "latin-1": "cp1252", "us-ascii": "utf-8"}
_SPACES = r"[\s\x{a0}\x{3000}]+"  # RE2: \s is ASCII only
_HEAD = 4096  # where the meta charset is looked for
MAX_COLUMNS = 16_384  # a sheet's (Excel's) columns: a wider page is no table export
MAX_CELLS = 20_000_000  # rows x columns of the grid a page is read into (memory: a hostile page's spans)


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(_HEAD)


def _encoding(path: Path, head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    found = _META_CHARSET.search(head)
    if found:
        name = found.group(1).decode("ascii").lower()
        try:
            name = codecs.lookup(_SUPERSETS.get(name, name)).name
        except LookupError:
            name = ""
        if name:
            return _SUPERSETS.get(name, name)
    return detect_encoding(path)


def _page(path: Path) -> lxml.html.HtmlElement:
    encoding = _encoding(path, _head(path))
    try:
        text = path.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidData(f"{path.name}: an HTML page that is not {encoding} text as it says "
                          f"(byte {exc.start}): save it from Excel or WPS as .xlsx or CSV UTF-8") from None
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text.lstrip("\ufeff"))  # lxml takes no declaration in a str
    try:
        return lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise InvalidData(f"{path.name}: an HTML page with no readable content ({exc})") from None


def html_cells(path: Path) -> tuple[pd.DataFrame, list[Range]]:
    """The page's table rows as a grid of text cells (row 0 the first row of the first table; ""
    where no cell is) and the ranges its spanned cells merge (0-based, inclusive). A span ends
    with its table (as a browser's does); a page wider than a sheet (`MAX_COLUMNS`) or larger than
    `MAX_CELLS` fails."""
    page = _page(path)
    for hidden in page.xpath("//script|//style"):  # no cell text a browser shows (comments: text_content skips them)
        hidden.drop_tree()  # its tail, the text after it, stays
    for br in page.iter("br"):
        br.tail = "\n" + (br.tail or "")
    texts: list[str] = []
    places: list[tuple[int, int]] = []
    spans: list[tuple[Any, Range]] = []  # (its table, the range)
    below: dict[Any, dict[int, int]] = {}  # per table: column -> rows a span from above still covers
    last_row: dict[Any, int] = {}
    row = width = 0
    for tr in page.iter("tr"):
        cells = [c for c in tr if c.tag in ("td", "th") and not any(t.tag == "table" for t in c.iter())]
        if not cells:
            continue
        table = next(tr.iterancestors("table"), None)
        carry = below.setdefault(table, {})
        covered = set(carry)  # a span from a row above (its count is the rows it still covers)
        col = 0
        for cell in cells:
            while col in covered:
                col += 1
            down, across = _span(cell.get("rowspan")), _span(cell.get("colspan"))
            if col + across > MAX_COLUMNS:
                raise InvalidData(f"{path.name}: an HTML table wider than a sheet ({MAX_COLUMNS:,} columns): "
                                  "save the table from Excel or WPS as .xlsx or CSV UTF-8")
            texts.append(cell.text_content())
            places.append((row, col))
            if down > 1 or across > 1:
                spans.append((table, (row, col, row + down - 1, col + across - 1)))
            if down > 1:
                carry.update(dict.fromkeys(range(col, col + across), down))  # this row's, then down - 1 below
            col += across
        for c in list(carry):  # one row less below each span
            carry[c] -= 1
            if carry[c] <= 0:
                del carry[c]
        width = max(width, col)
        last_row[table] = row
        row += 1
        if row * max(width, 1) > MAX_CELLS:
            raise InvalidData(f"{path.name}: an HTML page of more than {MAX_CELLS:,} cells: save the table from "
                              "Excel or WPS as .xlsx or CSV UTF-8")
    if not texts:
        raise InvalidData(f"{path.name}: an HTML page with no table rows: save the table from Excel or WPS "
                          "as .xlsx or CSV UTF-8")
    clean = pc.utf8_trim_whitespace(pc.replace_substring_regex(pa.array(texts, pa.string()), _SPACES, " "))
    grid = [[""] * width for _ in range(row)]
    for (r, c), text in zip(places, clean.to_pylist(), strict=True):
        grid[r][c] = text or ""
    # a span ends with its table's last row (a browser's does)
    merged = [(r0, c0, min(r1, last_row[table]), c1) for table, (r0, c0, r1, c1) in spans]
    return pd.DataFrame(grid, dtype=object), merged


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(str(value).strip()), 1000)) if value else 1
    except ValueError:
        return 1
