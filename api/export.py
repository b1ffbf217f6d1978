"""Prospect lists as CSV or XLSX, with Chinese or English headers.

Cells that a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are neutralised with a leading ``'`` — a company name
is data, never a formula. CSV is UTF-8 with a BOM so Excel shows Chinese correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from graph.vocabulary import neutralise_formula

__all__ = ["COLUMNS", "MEDIA_TYPES", "neutralise", "table_rows", "to_csv", "to_xlsx", "render"]

def _join(values: Any) -> str:
    return " | ".join(str(v) for v in values or [])


# (key, Chinese header, English header, how to get the cell from a prospect row)
COLUMNS: list[tuple[str, str, str, Callable[[dict[str, Any]], Any]]] = [
    ("rank", "排名", "Rank", lambda r: r.get("rank")),
    ("prospect_id", "客户编号", "Prospect ID", lambda r: r.get("prospect_id")),
    ("name", "名称", "Name", lambda r: r.get("name")),
    ("family", "类别", "Family", lambda r: r.get("family")),
    ("kind", "子类", "Kind", lambda r: r.get("kind")),
    ("score", "得分", "Score", lambda r: None if r.get("score") is None else round(float(r["score"]), 1)),
    ("manager_id", "客户经理", "Manager", lambda r: r.get("manager_id")),
    ("branch_id", "网点", "Branch", lambda r: r.get("branch_id")),
    ("anchor_id", "核心客户", "Anchor", lambda r: r.get("anchor_id")),
    ("association_id", "协会/商会", "Association", lambda r: r.get("association_id")),
    ("employer_id", "代发单位", "Employer", lambda r: r.get("employer_id")),
    ("reasons", "推荐理由", "Reasons", lambda r: _join(r.get("reasons"))),
    ("suggested_products", "建议产品", "Suggested products", lambda r: _join(r.get("suggested_products"))),
    ("path", "关系路径", "Path", lambda r: " → ".join(str(p) for p in r.get("path") or [])),
]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


neutralise = neutralise_formula  # the one rule (graph.vocabulary): text a spreadsheet would run gets a "'"


def table_rows(rows: list[dict[str, Any]], lang: str) -> list[list[Any]]:
    """Header plus one list of neutralised cells per prospect row."""
    header = [zh if lang == "zh" else en for _, zh, en, _ in COLUMNS]
    body = [[neutralise(get(r)) for *_, get in COLUMNS] for r in rows]
    return [header, *body]


def to_csv(rows: list[dict[str, Any]], lang: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for line in table_rows(rows, lang):
        writer.writerow(["" if v is None else v for v in line])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[dict[str, Any]], lang: str, title: str = "prospects") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    for line in table_rows(rows, lang):
        # control characters are illegal in XLSX; a hostile name must not break the export
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in line])
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render(rows: list[dict[str, Any]], fmt: str, lang: str, title: str) -> bytes:
    """The file body for `fmt` (csv or xlsx)."""
    return to_csv(rows, lang) if fmt == "csv" else to_xlsx(rows, lang, title)
