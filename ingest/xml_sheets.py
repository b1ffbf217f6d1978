"""An Excel 2003 XML spreadsheet (SpreadsheetML) saved with an `.xls` name, as some online banking
systems export lists and statements: each worksheet's cells as text, as Excel shows them.

The file is XML (`<?xml …?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">`):
worksheets (`ss:Name`, hidden when their options say `SheetHidden`) hold a table of rows and
cells, where `ss:Index` skips to a row or column (the skipped ones blank) and
`ss:MergeAcross`/`ss:MergeDown` merge a cell over its neighbours (kept as merged ranges,
`ingest.xlsx.Range`, so merged data cells are filled down as a workbook's are). A cell's text is
its data's, rich text (`<Font>` runs inside `ss:Data`) joined. The encoding is the one the XML
declaration names (lxml reads it); no entity is resolved and nothing is fetched (a hostile file
cannot read another).

Per cell Python (lxml's elements), as for an HTML page (`ingest.html_tables`): these are exports of
thousands of rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import lxml.etree
import pandas as pd

from graph.errors import InvalidData
from ingest.xlsx import Range

__all__ = ["XmlSheet", "xml_sheets", "is_xml_spreadsheet"]

_SS = "urn:schemas-microsoft-com:office:spreadsheet"
_X = "urn:schemas-microsoft-com:office:excel"
_NS = {"ss": _SS, "x": _X}
_MAX_SPAN = 1000  # a merge or an index past this is taken as this far (a hostile file's 10^9 columns)


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
        return max(0, min(int(value), _MAX_SPAN * 1000)) if value is not None else default
    except ValueError:
        return default


def xml_sheets(path: Path) -> list[XmlSheet]:
    """Every worksheet of the spreadsheet, in the workbook's order."""
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True,
                                  remove_comments=True, remove_pis=True)
    try:
        book = lxml.etree.parse(str(path), parser).getroot()
    except (lxml.etree.XMLSyntaxError, OSError) as exc:
        raise InvalidData(f"{path.name}: an Excel XML spreadsheet that is not well-formed XML ({exc}): "
                          "open it in Excel or WPS and save it as .xlsx or CSV UTF-8") from None
    sheets: list[XmlSheet] = []
    for sheet in book.iterfind("ss:Worksheet", _NS):
        grid: dict[tuple[int, int], str] = {}
        merged: list[Range] = []
        row = -1
        for tr in sheet.iterfind("ss:Table/ss:Row", _NS):
            row = _number(tr, "Index", row + 2) - 1  # ss:Index is 1-based
            col = -1
            for cell in tr.iterfind("ss:Cell", _NS):
                col = _number(cell, "Index", col + 2) - 1
                data = cell.find("ss:Data", _NS)
                grid[(row, col)] = "" if data is None else "".join(data.itertext()).strip()
                across = min(_number(cell, "MergeAcross", 0), _MAX_SPAN)
                down = min(_number(cell, "MergeDown", 0), _MAX_SPAN)
                if across or down:
                    merged.append((row, col, row + down, col + across))
                col += across
        options = sheet.find("x:WorksheetOptions/x:Visible", _NS)
        hidden = options is not None and (options.text or "").strip() in ("SheetHidden", "SheetVeryHidden")
        rows = 1 + max((r for r, _ in grid), default=-1)
        width = 1 + max((c for _, c in grid), default=-1)
        cells = [[""] * width for _ in range(rows)]
        for (r, c), text in grid.items():
            cells[r][c] = text
        sheets.append(XmlSheet(str(sheet.get(f"{{{_SS}}}Name") or f"Sheet{len(sheets) + 1}"),
                               pd.DataFrame(cells, dtype=object), merged, hidden))
    if not sheets:
        raise InvalidData(f"{path.name}: an Excel XML spreadsheet with no worksheet: open it in Excel or WPS and "
                          "save it as .xlsx or CSV UTF-8")
    return sheets
