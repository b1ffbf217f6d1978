"""The rejects report and the ingest summary.

Each problem is one entry: file, row, column, the value (masked where personal), the reason
and the action taken — ``row rejected`` (the row is not ingested) or ``value dropped`` (the
row is ingested without that optional value). Nothing is dropped without an entry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from graph.vocabulary import neutralise_formulas
from ingest.aliases import TABLE_COLUMNS, unit_scale
from ingest.normalise import mask_id_numbers, mask_phones, scrub_pii_series
from ingest.values import CREDIT, DEBIT

__all__ = ["Rejects", "IngestSummary", "neutralise", "write_report_csv", "REJECT_COLUMNS", "ROW_REJECTED",
           "VALUE_DROPPED", "VALUE_KEPT"]

REJECT_COLUMNS = ["table", "file", "row", "column", "value", "reason", "action"]
ROW_REJECTED = "row rejected"
VALUE_DROPPED = "value dropped"
VALUE_KEPT = "value kept"  # a warning: odd text kept (and escaped where shown)
_MAX_VALUE = 120


neutralise = neutralise_formulas  # the one rule (graph.vocabulary): =, +, @, tab, CR, or - not a number


def _mask(column: str, values: pd.Series) -> pd.Series:
    """The values fit to keep in a report, column-wise (a report can hold every row of a file)."""
    text = values.astype("string").fillna("")
    if column == "id_number":
        return mask_id_numbers(text)
    if column == "phone":
        return mask_phones(text).fillna("")
    cut = text.str.slice(0, _MAX_VALUE)
    short = cut.mask(text.str.len().gt(_MAX_VALUE).to_numpy(dtype=bool), cut + "…")
    return scrub_pii_series(short).astype("string")


def write_report_csv(frame: pd.DataFrame, path: Path) -> None:
    """`frame` as a CSV report an analyst opens in a spreadsheet: UTF-8 with a BOM (Excel then
    shows Chinese), every text cell neutralised (`neutralise`: a name from a bank's file that
    starts with "=" is shown, never run), numbers as pandas writes them ("100.0"), a missing
    value as an empty cell. Written by Arrow's CSV writer: at 2M payments the 257k resolved
    names took 0.56 s through `DataFrame.to_csv`, 0.1 s so (neutralised)."""
    columns: dict[str, pa.Array] = {}
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_float_dtype(values.dtype):
            text = pc.cast(pa.array(values, from_pandas=True), pa.string())
            # Arrow writes a whole float without its ".0" (pandas and Python write 100.0)
            columns[name] = pc.if_else(pc.match_substring_regex(text, r"[.eEn]"), text,
                                       pc.binary_join_element_wise(text, ".0", ""))
        elif pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            columns[name] = pa.array(values, from_pandas=True)
        else:
            columns[name] = pa.array(neutralise(values).mask(values.isna()), pa.string(), from_pandas=True)
    table = pa.table(columns)
    with open(path, "wb") as sink:
        sink.write("\ufeff".encode())  # the BOM
        pacsv.write_csv(table, sink)


class Rejects:
    """Collects rejected rows and dropped values across the whole ingest."""

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []

    def add(self, table: str, file: str, rows: pd.Series, column: str, values: pd.Series | None,
            reason: str | pd.Series, action: str = ROW_REJECTED) -> None:
        """Record one problem for each of `rows` (values masked here, before anything is kept)."""
        if len(rows) == 0:
            return
        idx = rows.index
        masked = _mask(column, values.loc[idx]) if values is not None else pd.Series("", index=idx)
        self._parts.append(pd.DataFrame({
            "table": table, "file": file, "row": rows.astype("Int64").values, "column": column,
            "value": masked.values,
            "reason": reason.loc[idx].values if isinstance(reason, pd.Series) else reason,
            "action": action,
        }))

    def frame(self) -> pd.DataFrame:
        """All entries, sorted; text cells are safe to open in a spreadsheet (see `neutralise`)."""
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype="string") for c in REJECT_COLUMNS})
        df = pd.concat(self._parts, ignore_index=True)
        for col in ("file", "column", "value", "reason"):
            df[col] = neutralise(df[col])
        return df.sort_values(["table", "file", "row"], kind="stable").reset_index(drop=True)

    def rows_rejected(self) -> dict[str, int]:
        """Distinct rejected rows per table."""
        df = self.frame()
        df = df[df["action"] == ROW_REJECTED]
        return {str(k): int(v) for k, v in df.drop_duplicates(["table", "file", "row"])
                .groupby("table").size().items()}

    def __len__(self) -> int:
        return sum(len(p) for p in self._parts)


def unread_text(file: str, tables: list[str], reason: str | None = None) -> str:
    """A bundle's file no table reads, and what it looks like ('流水.xlsx (… looks like payments …)'),
    or why no reader takes it (`reason`). The advice never names the file's own name: a file named
    after a table that is not read is a second one, or in a folder of no table."""
    if reason:
        return f"{file} ({reason})"
    path = Path(file)
    named = path.stem.lower()
    if named in TABLE_COLUMNS:
        where = (f"another {named} file beside it is read: put both in {named}/" if len(path.parts) == 1 else
                 f"it is in {path.parent.as_posix()}/, a folder of no table: put it in {named}/ or beside the others")
        return f"{file} ({where}, or map it)"
    return (f"{file} (named after no table, not in the mapping"
            + (f"; it looks like {' or '.join(tables)}: name it {tables[0]}{path.suffix.lower()}, put it in "
               f"{tables[0]}/, or map it)"
               if tables else ")"))


def _files_text(files: list[str]) -> str:
    """One file's name, or how many files and the first one's."""
    return files[0] if len(files) == 1 else f"{len(files)} files ({files[0]} …)"


@dataclass
class IngestSummary:
    """What an ingest did; `render()` is the summary the CLI prints."""

    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    entities_resolved: int = 0
    values_dropped: int = 0
    by_table: dict[str, dict[str, int]] = field(default_factory=dict)
    resolution_methods: dict[str, int] = field(default_factory=dict)
    report_dir: Path | None = None
    version: str | None = None
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    amount_units: dict[str, dict[str, str]] = field(default_factory=dict)  # file -> money column -> unit (not yuan)
    header_rows: dict[str, int] = field(default_factory=dict)  # file -> its headers' row, where not the first
    statements: dict[str, dict[str, int]] = field(default_factory=dict)  # file -> rows per direction, as statements
    unread_files: dict[str, list[str]] = field(default_factory=dict)  # file in the bundle no table reads -> tables it looks like
    unread_reasons: dict[str, str] = field(default_factory=dict)  # a file of `unread_files` no reader takes -> why
    unread_more: int = 0  # data files not read beyond those listed in `unread_files`
    unread_sheets: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # 'book.xlsx[sheet]' not read -> (table read, tables it looks like)
    hidden_sheets: dict[str, tuple[str, bool]] = field(default_factory=dict)  # 'book.xlsx[sheet]' hidden, holding the table -> (table, read)
    named_ids: dict[str, int] = field(default_factory=dict)  # 'payroll.employer_id' -> rows whose value was a name
    repeated_files: dict[str, str] = field(default_factory=dict)  # file not read -> the file whose bytes it repeats
    statement_holders: dict[str, dict[str, str]] = field(default_factory=dict)  # file -> holder read from its title
    statement_signs: dict[str, list[str]] = field(default_factory=dict)  # file -> directions whose minus was dropped
    joined_headers: dict[str, int] = field(default_factory=dict)  # file -> the first of its two header rows
    excel_text: dict[str, list[str]] = field(default_factory=dict)  # file -> its columns with cells written ="…"
    new_facts: int = 0
    alerts: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    warnings: int = 0
    role_classes: dict[str, int] = field(default_factory=dict)  # rows per role class of free-text titles
    unrecognised_titles: dict[str, int] = field(default_factory=dict)  # title -> rows, most frequent first

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["report_dir"] = str(self.report_dir) if self.report_dir else None
        return data

    def render(self) -> str:
        """A short human summary: totals, one line per table, where the reports are."""
        lines = [
            f"rows read {self.rows_read:,}, accepted {self.accepted:,}, rejected {self.rejected:,}"
            + (f", values dropped {self.values_dropped:,}" if self.values_dropped else "")
            + (f", warnings {self.warnings:,} (odd text kept)" if self.warnings else ""),
            f"entities resolved {self.entities_resolved:,}"
            + (" (" + ", ".join(f"{k} {v:,}" for k, v in sorted(self.resolution_methods.items())) + ")"
               if self.resolution_methods else ""),
        ]
        for table, counts in self.by_table.items():
            lines.append(f"  {table:13s} read {counts.get('read', 0):>9,}  accepted {counts.get('accepted', 0):>9,}"
                         f"  rejected {counts.get('rejected', 0):>7,}")
        if self.role_classes:
            lines.append("  roles by class: " + ", ".join(f"{k} {v:,}" for k, v in self.role_classes.items()))
        if self.unrecognised_titles:
            shown = list(self.unrecognised_titles.items())[:10]
            more = len(self.unrecognised_titles) - len(shown)
            lines.append("  titles kept as other (add `values:` to classify): "
                         + ", ".join(f"{t!r} {n:,}" for t, n in shown) + (f" … and {more:,} more" if more else ""))
        by_columns: dict[tuple[str, ...], list[str]] = {}
        for file, columns in self.ignored_columns.items():
            by_columns.setdefault(tuple(columns), []).append(file)
        for ignored, files in by_columns.items():
            lines.append(f"  columns ignored in {_files_text(files)}: {', '.join(ignored)[:200]}")
        by_units: dict[tuple[tuple[str, str], ...], list[str]] = {}
        for file, units in self.amount_units.items():
            by_units.setdefault(tuple(units.items()), []).append(file)
        for units_of, files in by_units.items():
            lines.append(f"  amounts scaled by their stated unit in {_files_text(files)}: "
                         + ", ".join(f"{col} {unit} (×{unit_scale(unit) or 1:,})" for col, unit in units_of))
        for file, ways in self.statements.items():
            lines.append(f"  account statement read as payments in {file}: {ways.get(DEBIT, 0):,} debits (the holder "
                         f"pays), {ways.get(CREDIT, 0):,} credits (the holder is paid)"
                         + (f", {ways['other']:,} neither (rejected)" if ways.get("other") else "")
                         + ("; the account holder, from the title above the headers: "
                            + ", ".join(self.statement_holders[file].values()) if file in self.statement_holders else "")
                         + (f"; the minus on every {' and '.join(self.statement_signs[file])} taken as its direction, "
                            "not as a negative amount" if file in self.statement_signs else ""))
        by_row: dict[int, list[str]] = {}
        for file, row in self.header_rows.items():
            by_row.setdefault(row, []).append(file)
        for row, files in by_row.items():
            lines.append(f"  headers on row {row} of {_files_text(files)}: the {row - 1} row(s) above them skipped")
        for file, row in self.joined_headers.items():
            lines.append(f"  headers over rows {row}–{row + 1} of {file} joined: each name under a merged cell "
                         "follows the cell's ('对方信息/户名'; a mapping may name it so)")
        for file, columns in self.excel_text.items():
            lines.append(f'  values written as ="…" (Excel-safe text) in {file} read as the text inside: '
                         + ", ".join(columns)[:200])
        for file, tables in self.unread_files.items():
            lines.append(f"  not read: {unread_text(file, tables, self.unread_reasons.get(file))}")
        if self.unread_more:
            lines.append(f"  not read: {self.unread_more:,} more data files in the bundle's folders")
        for sheet, (table, tables) in self.unread_sheets.items():
            lines.append(f"  sheet not read: {sheet} (its headers lack the {table} columns"
                         + (f"; it looks like {' or '.join(tables)}: save it as {tables[0]}.xlsx or map it)"
                            if tables else ")"))
        for file, why in self.repeated_files.items():
            lines.append(f"  not read: {file} ({why}: a file delivered twice would count its rows twice)")
        for column, count in self.named_ids.items():
            lines.append(f"  {column} given as names in {count:,} row(s): each read as the enterprise of that name")
        for sheet, (table, read) in self.hidden_sheets.items():
            lines.append(f"  hidden sheet read: {sheet} (no visible sheet has the {table} columns)" if read else
                         f"  hidden sheet not read: {sheet} (it has the {table} columns, as a visible sheet does; "
                         "a mapping's `sheet:` reads it)")
        if self.version:
            lines.append(f"store version {self.version} ({self.new_facts:,} new facts) in {self.seconds:.1f}s")
        if self.alerts:
            lines.append(f"alerts: {self.alerts:,} changes worth a look (prospect-graph leads alerts)")
        if self.report_dir:
            lines.append(f"reports: {self.report_dir}")
        return "\n".join(lines)
