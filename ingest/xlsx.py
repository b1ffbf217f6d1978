"""A workbook's sheets as its XML describes them: their merged cells, for filling them down in
the data rows, and whether each is hidden.

A printed report groups its rows under merged cells: a payer's name merged down over its
payments, a date over the day's rows. calamine (through pandas) gives such a cell's value in its
first row only, and the rows below it would be rejected for a missing value. `book_sheets`
finds every sheet's merged ranges in the workbook's XML without parsing the sheets again (the
sheet's XML is streamed and only its `<mergeCells>` part, after the rows, is read: 60 ms for
100k rows, where calamine's own merged ranges cost a second parse of the sheet, 370 ms);
`fill_down` copies each range's value down its first column, in the data rows only (a header's
merged cells are `readers.joined_headers`' to read).

A hidden sheet (``state="hidden"`` or ``"veryHidden"`` in workbook.xml) is often the export's
working copy of a visible one, or last month's rows kept for a formula: `BookSheet.hidden` lets the
reader leave it out when a visible sheet holds the same table.

A mapping's `sheet:` is a name a user typed: `sheet_named` finds it whatever its case and
surrounding spaces, as a bundle's file names are found whatever their case.

Examples:
    >>> _cell("B3")
    (2, 1)
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from typing import Any, NamedTuple
from xml.etree import ElementTree

import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

from graph.errors import InvalidMapping

__all__ = ["book_sheets", "fill_down", "sheet_named", "Range", "BookSheet"]

Range = tuple[int, int, int, int]  # first row, first column, last row, last column; 0-based


class BookSheet(NamedTuple):
    name: str
    merged: list[Range]
    hidden: bool

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
_REF = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+[0-9]+):([A-Z]+[0-9]+)"')
_CHUNK = 1 << 20


def _cell(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - ord("A") + 1
    return int(ref[len(letters):]) - 1, column - 1


def sheet_named(wanted: str, names: list[str], book: str) -> str:
    """The sheet of workbook `book` (its sheets: `names`) a mapping names `wanted`: the sheet of that
    exact name; else the one named so but for surrounding spaces, then but for case too ('Payments '
    for 'payments'); else `wanted`, for the reader to say that no sheet has that name. Several
    sheets that match only so are an error naming them: which one was meant is not guessed."""
    if wanted in names:
        return wanted
    for key in (lambda name: name.strip(), lambda name: name.strip().casefold()):
        found = [name for name in names if key(name) == key(wanted)]
        if len(found) > 1:
            raise InvalidMapping(f"{book}: sheet {wanted!r} named by the mapping matches several sheets but for "
                                 f"case or spaces ({', '.join(map(repr, found))}); name one as the workbook spells it")
        if found:
            return found[0]
    return wanted


def book_sheets(path: Path) -> list[BookSheet]:
    """Each sheet's name, merged ranges and whether it is hidden, in the workbook's order; [] when
    the workbook's parts cannot be read (the sheets are then read as they are, none hidden). An
    Excel 97–2003 workbook (.xls, BIFF) has no workbook.xml: calamine tells the same (`_biff_sheets`)."""
    if not zipfile.is_zipfile(path):
        return _biff_sheets(path)
    try:
        with zipfile.ZipFile(path) as book:
            sheets = ElementTree.fromstring(book.read("xl/workbook.xml")).find("m:sheets", _NS)
            rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", _NS)}
            out = []
            for sheet in [] if sheets is None else sheets.findall("m:sheet", _NS):
                target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
                part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                out.append(BookSheet(sheet.get("name", ""), _ranges(book, part) if part in book.namelist() else [],
                                     sheet.get("state", "visible") in ("hidden", "veryHidden")))
            return out
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return []


def _biff_sheets(path: Path) -> list[BookSheet]:
    """An .xls workbook's sheets as calamine reads them: its states and merged ranges (each sheet
    parsed once more for its ranges: an .xls holds at most 65,536 rows a sheet)."""
    try:
        book = CalamineWorkbook.from_path(str(path))
        return [BookSheet(meta.name, [(*first, *last) for first, last in
                                      book.get_sheet_by_name(meta.name).merged_cell_ranges or []],
                          meta.visible != SheetVisibleEnum.Visible) for meta in book.sheets_metadata]
    except (CalamineError, OSError):
        return []


def _ranges(book: zipfile.ZipFile, part: str) -> list[Range]:
    """The merged ranges of one sheet's XML, streamed: only the text from `mergeCells` on is kept."""
    kept, tail = b"", b""
    with book.open(part) as xml:
        while chunk := xml.read(_CHUNK):
            if kept:
                kept += chunk
                continue
            text = tail + chunk
            at = text.find(b"mergeCells")
            if at >= 0:
                kept = text[at:]
            else:
                tail = text[-32:]  # a tag cut between two chunks
    return [(*_cell(a.decode()), *_cell(b.decode())) for a, b in _REF.findall(kept)]


def fill_down(cells: pd.DataFrame, ranges: list[Range], first_data_row: int) -> pd.DataFrame:
    """`cells` (a sheet as read, row 0 = the sheet's row 1) with each merged range that starts in
    the data rows holding its value in every row of its first column."""
    down = [(r0, c0, r1) for r0, c0, r1, _ in ranges
            if r1 > r0 and r0 >= first_data_row and r0 < len(cells) and c0 < len(cells.columns)]
    if not down:
        return cells
    cells = cells.copy()
    for r0, c0, r1 in down:  # one step per merged range, never per row
        value: Any = cells.iat[r0, c0]
        cells.iloc[r0 + 1:r1 + 1, c0] = value
    return cells
