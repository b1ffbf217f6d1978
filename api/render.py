"""Printing prospect rows on the terminal (table, JSON, CSV)."""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

import pandas as pd

from graph.settings import get_settings
from graph.store import GraphStore
from graph.vocabulary import KIND_WORDS, word
from scoring.stored import decode, load_prospects

__all__ = ["print_prospects"]

# the terminal table's headers (JSON and CSV keep the field names: they are for machines)
_HEADERS = {"en": ("#", "id", "name", "kind", "score", "manager", "reasons"),
            "zh": ("#", "编号", "名称", "类型", "评分", "客户经理", "理由")}


def print_prospects(store: GraphStore, family: str, *, anchor: str | None = None, kind: str | None = None,
                    limit: int = 20, fmt: str = "table", per_kind: bool = False, offset: int = 0,
                    lang: str | None = None, filters: dict[str, Any] | None = None) -> int:
    """Print a page of prospects; returns the number of rows printed. `filters` takes the
    keyword filters of `load_prospects` (kind, anchor, association, ..., band)."""
    lang = lang or get_settings().lang
    filters = {"kind": kind, "anchor": anchor, **(filters or {})}
    if per_kind and filters.get("kind") is None:
        from graph.schema import KINDS_BY_FAMILY

        shown = 0
        for each in KINDS_BY_FAMILY[family]:
            df = load_prospects(store, family, **{**filters, "kind": each}, limit=limit)
            if len(df):
                print(f"-- {word(KIND_WORDS, each, lang)} --")
                shown += print_prospects(store, family, limit=limit, fmt=fmt, lang=lang,
                                         filters={**filters, "kind": each})
        return shown
    df = load_prospects(store, family, **filters, limit=limit, offset=offset)
    rows = [decode({str(k): v for k, v in r.items()}, lang) for r in df.to_dict("records")]
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        return len(rows)
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        cols = ["rank", "prospect_id", "name", "family", "kind", "score", "manager_id", "reasons"]
        writer.writerow(cols)
        for r in rows:
            writer.writerow([r["rank"], r["prospect_id"], r["name"], r["family"], r["kind"],
                             f"{r['score']:.1f}", r["manager_id"] or "", " | ".join(r["reasons"])])
        return len(rows)
    if not rows:
        return 0
    from rich.console import Console
    from rich.table import Table

    managers = _manager_names(store, {str(r["manager_id"]) for r in rows if r["manager_id"]})
    table = Table(show_lines=False)
    for col in _HEADERS["en" if lang == "en" else "zh"]:
        table.add_column(col, overflow="fold")
    for r in rows:
        manager = str(r["manager_id"] or "")
        table.add_row(str(r["rank"]), str(r["prospect_id"]), str(r["name"]), word(KIND_WORDS, str(r["kind"]), lang),
                      f"{r['score']:.1f}", f"{managers[manager]} ({manager})" if manager in managers else manager,
                      "; ".join(r["reasons"][:3]))
    Console(width=160).print(table)
    return len(rows)


def _manager_names(store: GraphStore, ids: set[str]) -> dict[str, str]:
    """Names of the managers shown (staff, not masked persons), from the small managers table."""
    if not ids:
        return {}
    managers = store.read("managers", columns=["id", "name"])
    shown = managers[managers["id"].astype(str).isin(ids)]
    return {str(i): str(n) for i, n in zip(shown["id"], shown["name"], strict=True) if isinstance(n, str) and n}


def print_board(board: pd.DataFrame, fmt: str = "table", lang: str = "zh") -> None:
    """Print the lead board (csv: the API export's columns and `lang` headers)."""
    rows = [{str(k): v for k, v in r.items()} for r in board.to_dict("records")]
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        return
    if fmt == "csv":
        from api.export import board_columns, table_rows

        writer = csv.writer(sys.stdout)
        for line in table_rows(rows, lang, board_columns(lang)):
            writer.writerow(["" if v is None else v for v in line])
        return
    from rich.console import Console
    from rich.table import Table

    from api.export import board_columns

    # the export's columns (headers, kinds, families and statuses in the reader's words), fewer of them
    shown = ("rank", "entity_id", "name", "row_kind", "best_family", "best_kind", "score", "owner", "status",
             "shared_with", "joint_visits", "reasons")
    columns = [c for c in board_columns(lang) if c[0] in shown]
    table = Table()
    for _, zh, en, _get in columns:
        table.add_column(zh if lang == "zh" else en, overflow="fold")
    for r in rows:
        cells = {key: get({**r, "reasons": (r.get("reasons") or [])[:2]}) for key, _, _, get in columns}
        table.add_row(*("" if v is None else str(v) for v in cells.values()))
    Console(width=180).print(table)
