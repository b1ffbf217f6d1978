"""Prospect lists and the lead board as CSV or XLSX, with Chinese or English headers.

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

__all__ = ["COLUMNS", "BOARD_COLUMNS", "board_columns", "MEDIA_TYPES", "neutralise", "table_rows", "to_csv", "to_xlsx", "render"]

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
Column = tuple[str, str, str, Callable[[dict[str, Any]], Any]]
_ROW_KIND = {"lead": ("单户线索", "lead"), "campaign": ("批量营销", "campaign")}


def _row_kind(lang: str) -> Callable[[dict[str, Any]], Any]:
    def get(r: dict[str, Any]) -> Any:
        words = _ROW_KIND.get(str(r.get("row_kind") or "lead"))
        return r.get("row_kind") if words is None else words[0 if lang == "zh" else 1]
    return get


def board_columns(lang: str) -> list[Column]:
    """The lead board's columns: kinds, families and statuses in the reader's words (the pages'
    vocabulary), `shared_with` and the joint visits asked as manager ids."""
    from viz.customer import STATUS_WORDS
    from viz.style import text

    def word(key: str) -> Callable[[dict[str, Any]], Any]:
        return lambda r: None if r.get(key) is None else text(str(r[key]), "zh" if lang == "zh" else "en")

    def status(r: dict[str, Any]) -> Any:
        words = STATUS_WORDS.get(str(r.get("status")))
        return r.get("status") if words is None else words[0 if lang == "zh" else 1]

    return [
        ("rank", "排名", "Rank", lambda r: r.get("rank")),
        ("entity_id", "客户编号", "Entity ID", lambda r: r.get("entity_id")),
        ("name", "名称", "Name", lambda r: r.get("name")),
        ("row_kind", "线索形式", "Row kind", _row_kind(lang)),
        ("best_family", "类别", "Family", word("best_family")),
        ("best_kind", "子类", "Kind", word("best_kind")),
        ("score", "得分", "Score", lambda r: None if r.get("score") is None else round(float(r["score"]), 1)),
        ("owner", "负责客户经理", "Owner", lambda r: r.get("owner")),
        ("status", "状态", "Status", status),
        ("branch_id", "网点", "Branch", lambda r: r.get("branch_id")),
        ("shared_with", "共享客户经理", "Shared with", lambda r: _join(r.get("shared_with"))),
        ("joint_visits", "申请联合走访", "Joint visit asked by", lambda r: _join(r.get("joint_visits"))),
        ("reasons", "推荐理由", "Reasons", lambda r: _join(r.get("reasons"))),
    ]


#: the board's column keys (headers and cells: `board_columns`)
BOARD_COLUMNS = [key for key, *_ in board_columns("en")]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


neutralise = neutralise_formula  # the one rule (graph.vocabulary): text a spreadsheet would run gets a "'"


def table_rows(rows: list[dict[str, Any]], lang: str, columns: list[Column] | None = None) -> list[list[Any]]:
    """Header plus one list of neutralised cells per row (prospect rows unless `columns`)."""
    columns = COLUMNS if columns is None else columns
    header = [zh if lang == "zh" else en for _, zh, en, _ in columns]
    body = [[neutralise(get(r)) for *_, get in columns] for r in rows]
    return [header, *body]


def to_csv(rows: list[dict[str, Any]], lang: str, columns: list[Column] | None = None) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for line in table_rows(rows, lang, columns):
        writer.writerow(["" if v is None else v for v in line])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[dict[str, Any]], lang: str, title: str = "prospects",
            columns: list[Column] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    for line in table_rows(rows, lang, columns):
        # control characters are illegal in XLSX; a hostile name must not break the export
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in line])
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render(rows: list[dict[str, Any]], fmt: str, lang: str, title: str, columns: list[Column] | None = None) -> bytes:
    """The file body for `fmt` (csv or xlsx); prospect rows unless `columns` (`board_columns`)."""
    return to_csv(rows, lang, columns) if fmt == "csv" else to_xlsx(rows, lang, title, columns)
