"""An Excel 2003 XML spreadsheet (SpreadsheetML) saved with an `.xls` name, as some online banking
systems export lists and statements: each worksheet's cells as text, as Excel shows them.

The file is XML (`<?xml …?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">`):
worksheets (`ss:Name`, hidden when their options say `SheetHidden`) hold a table of rows and
cells, where `ss:Index` skips to a row or column (the skipped ones blank) and
`ss:MergeAcross`/`ss:MergeDown` merge a cell over its neighbours (kept as merged ranges,
`ingest.xlsx.Range`, so merged data cells are filled down as a workbook's are). A cell's text is
its data's, rich text (`<Font>` runs inside `ss:Data`) joined. The encoding is the one the XML
declaration names (lxml reads it); a file with a DOCTYPE is refused (Excel writes none: no entity
of any kind is read, nothing is fetched), and one wider than a sheet or larger than
`html_tables.MAX_CELLS` fails, as an index that goes back does.

Per cell Python (lxml's elements), as for an HTML page (`ingest.html_tables`): these are exports of
thousands of rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import lxml.etree
import pandas as pd

from graph.errors import InvalidData
from ingest.html_tables import MAX_CELLS, MAX_COLUMNS
from ingest.xlsx import Range

__all__ = ["XmlSheet", "xml_sheets", "is_xml_spreadsheet"]

_SS = "urn:schemas-microsoft-com:office:spreadsheet"
_X = "urn:schemas-microsoft-com:office:excel"
_NS = {"ss": _SS, "x": _X}
_MAX_SPAN = 1000  # a merge past this is taken as this far


class XmlSheet(NamedTuple):
    name: str
    cells: pd.DataFrame  # text, "" where no cell is
    merged: list[Range]
    hidden: bool


def is_xml_spreadsheet(path: Path) -> bool:
    """Whether a markup `.xls` (`formats.is_markup`) is an Excel XML spreadsheet, not an HTML page."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        head = head[2:].replace(b"\x00", b"")
    return _SS.encode() in head and b"<html" not in head.lower()


def _number(element: lxml.etree._Element, name: str, default: int) -> int:
    value = element.get(f"{{{_SS}}}{name}")
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _bad(path: Path, what: str) -> InvalidData:
    return InvalidData(f"{path.name}: an Excel XML spreadsheet {what}: open it in Excel or WPS and save it as .xlsx "
                       "or CSV UTF-8")


def xml_sheets(path: Path) -> list[XmlSheet]:
    """Every worksheet of the spreadsheet, in the workbook's order."""
    # no DTD, no entity of any kind, nothing fetched; libxml2's own size limits kept (no huge_tree)
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                  remove_comments=True, remove_pis=True)
    try:
        tree = lxml.etree.parse(str(path), parser)
    except (lxml.etree.XMLSyntaxError, OSError) as exc:
        raise _bad(path, f"that is not well-formed XML ({exc})") from None
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise _bad(path, "with a DOCTYPE (Excel writes none; its entities are not read)")
    book = tree.getroot()
    sheets: list[XmlSheet] = []
    for sheet in book.iterfind("ss:Worksheet", _NS):
        grid: dict[tuple[int, int], str] = {}
        merged: list[Range] = []
        row = width = 0
        for tr in sheet.iterfind("ss:Table/ss:Row", _NS):
            at = _number(tr, "Index", row + 1)  # 1-based, after the row before
            if at <= row:
                raise _bad(path, f"whose row index {at} does not follow row {row}")
            row, col = at, 0
            for cell in tr.iterfind("ss:Cell", _NS):
                place = _number(cell, "Index", col + 1)
                if place <= col:
                    raise _bad(path, f"whose cell index {place} does not follow column {col} (row {row})")
                across = min(max(_number(cell, "MergeAcross", 0), 0), _MAX_SPAN)
                down = min(max(_number(cell, "MergeDown", 0), 0), _MAX_SPAN)
                if place + across > MAX_COLUMNS:
                    raise _bad(path, f"wider than a sheet ({MAX_COLUMNS:,} columns)")
                data = cell.find("ss:Data", _NS)
                grid[(row - 1, place - 1)] = "" if data is None else "".join(data.itertext()).strip()
                if across or down:
                    merged.append((row - 1, place - 1, row - 1 + down, place - 1 + across))
                col = place + across
            width = max(width, col)
            if row * max(width, 1) > MAX_CELLS:
                raise _bad(path, f"of more than {MAX_CELLS:,} cells")
        options = sheet.find("x:WorksheetOptions/x:Visible", _NS)
        hidden = options is not None and (options.text or "").strip() in ("SheetHidden", "SheetVeryHidden")
        cells = [[""] * width for _ in range(row)]  # `row`: the last row's number
        for (r, c), text in grid.items():
            cells[r][c] = text
        sheets.append(XmlSheet(str(sheet.get(f"{{{_SS}}}Name") or f"Sheet{len(sheets) + 1}"),
                               pd.DataFrame(cells, dtype=object), merged, hidden))
    if not sheets:
        raise _bad(path, "with no worksheet")
    return sheets
