"""The files a bundle may hold: the suffixes the readers take, and the data files they cannot
read, each with what it is and what to do, so that no file is ever left out unsaid.

Suffixes are compared case-insensitively (a Windows export writes `PAYMENTS.CSV`).

Banks' online systems export `.xls` two ways: as a real Excel 97–2003 workbook (BIFF, read by
calamine as an `.xlsx` is) or as an HTML page holding a table, saved with an `.xls` name, which
Excel opens with a warning (read by `ingest.html_tables` as Excel shows it), or an Excel 2003 XML
spreadsheet so named (read by `ingest.xml_sheets`).

Examples:
    >>> why_unreadable(Path("notes.ods"))
    'an OpenDocument spreadsheet (.ods): open it in Excel or WPS and save it as .xlsx or CSV UTF-8'
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["WORKBOOKS", "PARQUET", "SUFFIXES", "UNREADABLE", "SAVE_AS", "is_markup", "why_unreadable"]

WORKBOOKS = (".xlsx", ".xlsm", ".xls")
PARQUET = (".parquet", ".pq")
SUFFIXES = (".csv", ".txt", ".tsv", *WORKBOOKS, *PARQUET)  # a table's file: the first found in this order is read
SAVE_AS = "open it in Excel or WPS and save it as .xlsx or CSV UTF-8"
# data files no reader takes: listed as not read, never passed over
UNREADABLE = {
    ".xlsb": f"an Excel binary workbook (.xlsb): {SAVE_AS}",
    ".ods": f"an OpenDocument spreadsheet (.ods): {SAVE_AS}",
    ".et": f"a WPS spreadsheet (.et): {SAVE_AS}",
    ".numbers": "a Numbers spreadsheet: export it as .xlsx or CSV",
    ".dbf": f"a dBASE table (.dbf): {SAVE_AS}",
    ".zip": "an archive: unpack its files into the bundle",
    ".rar": "an archive: unpack its files into the bundle",
    ".7z": "an archive: unpack its files into the bundle",
}


def is_markup(path: Path) -> bool:
    """Whether a file (named .xls) starts as markup does (`<html`, `<table`, `<!DOCTYPE`, an Excel
    2003 XML spreadsheet's `<?xml`), in UTF-8 or UTF-16: a workbook starts with its binary header."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512).removeprefix(b"\xef\xbb\xbf")
    except OSError:
        return False
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16: the markup's ASCII with zero bytes between
        head = head[2:].replace(b"\x00", b"")
    return head.lstrip().startswith(b"<")


def why_unreadable(path: Path) -> str | None:
    """What a data file the readers cannot take is, and what to do; None for a file they read."""
    return UNREADABLE.get(path.suffix.lower())
