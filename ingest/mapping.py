"""Mapping files and bundle discovery (DESIGN.md, "Mapping files").

A mapping file says, per table, which sources its rows come from::

    tables:
      payments:
        - file: bradford/2019-*_clean.csv   # csv, xlsx, xls or parquet; a glob takes several files
          encoding: cp1252                  # optional: detected when absent
          columns: {payee_id: Supplier Number, payee_name: Supplier Name, amount: Net Amount}
          defaults: {payer_id: BMDC}        # a constant for a column the file lacks
          values: {role: {监事会主席: executive}}   # extra value mappings
          formats: {paid_on: "%d/%m/%Y"}    # explicit date formats
          strip: {member_name: [" (member)", " (supporter)"]}   # text removed from values
          nulls: {payee_id: [ONETIME]}      # values that mean "none" (then the name decides)
          negative_amounts: keep            # credits net against payments (default: reject the row;
                                            # `debit`: a statement's signed amount, minus = paid out)
          units: {amount: 万元}              # the unit of a money column's plain numbers (元, 千元, 万元, 亿元 …);
                                             # share_pct: '%' says a share's numbers are percent
      associations:
        - rows: [{association_id: CNCF, name: Cloud Native Computing Foundation}]   # inline rows

Paths are relative to the mapping file. A table may draw on several sources; rows are merged
by id, later sources filling and overriding fields. Tables the mapping does not name are
still read from canonical files (`enterprises.csv` …) next to it.
"""

from __future__ import annotations

import glob
import os
import unicodedata
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from graph.errors import InvalidMapping, NotFound
from ingest.aliases import AMOUNT_UNITS, INPUT_EXTRAS, MONEY_INPUTS, PERCENT, TABLE_COLUMNS, unit_scale
from ingest.formats import SUFFIXES, UNREADABLE

__all__ = ["Source", "Mapping", "load_mapping", "plan_bundle", "source_files", "unread_files", "TABLE_ORDER"]

# Nodes before the facts that refer to them.
TABLE_ORDER = ("branches", "managers", "enterprises", "persons", "associations", "roles", "memberships",
               "payments", "bills", "endorsements", "payroll")


class Source(BaseModel):
    """One source of a table: a file (or glob), or inline rows."""

    model_config = ConfigDict(extra="forbid")

    file: str | None = None
    rows: list[dict[str, Any]] | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    formats: dict[str, str] = Field(default_factory=dict)
    strip: dict[str, list[str]] = Field(default_factory=dict)
    nulls: dict[str, list[str]] = Field(default_factory=dict)
    negative_amounts: Literal["reject", "keep", "debit"] = "reject"
    units: dict[str, str] = Field(default_factory=dict)
    base: Path = Field(default=Path("."), exclude=True)

    @model_validator(mode="after")
    def _one_origin(self) -> Source:
        if (self.file is None) == (self.rows is None):
            raise ValueError("a source needs exactly one of `file` or `rows`")
        return self

    @field_validator("values", mode="before")
    @classmethod
    def _values_as_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): {str(a): str(b) for a, b in (m or {}).items()} for k, m in v.items()}
        return v

    @field_validator("units", mode="before")
    @classmethod
    def _known_units(cls, v: Any) -> Any:
        if isinstance(v, dict):
            out = {}
            for col, unit in v.items():
                word = unicodedata.normalize("NFKC", str(unit)).strip()
                if str(col) == "share_pct":  # a share's numbers in percent: 50 is 50%, 0.5 is 0.5%
                    if word != PERCENT:
                        raise ValueError(f"{unit!r} (for share_pct) is no unit of a share; use %")
                elif unit_scale(str(unit)) is None:
                    raise ValueError(f"{unit!r} (for {col}) is not a unit of money; "
                                     f"use one of {', '.join(AMOUNT_UNITS)}")
                out[str(col)] = word if str(col) == "share_pct" else str(unit)
            return out
        return v

    @field_validator("columns", mode="before")
    @classmethod
    def _columns_as_text(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): str(c) for k, c in v.items()}
        return v


class Mapping(BaseModel):
    """A whole mapping file: table name → its sources."""

    model_config = ConfigDict(extra="forbid")

    tables: dict[str, list[Source]] = Field(default_factory=dict)
    description: str | None = None

    @field_validator("tables", mode="before")
    @classmethod
    def _known_tables(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            raise ValueError("`tables` must map table names to lists of sources")
        unknown = sorted(set(v) - set(TABLE_COLUMNS))
        if unknown:
            raise ValueError(f"unknown table(s) {', '.join(unknown)}; known: {', '.join(TABLE_ORDER)}")
        return {k: (s if isinstance(s, list) else [s]) for k, s in v.items()}


def load_mapping(path: Path) -> Mapping:
    """Parse and validate a mapping file; columns must name canonical columns of their table."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"mapping file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        mapping = Mapping.model_validate(data)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidMapping(f"{path.name}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidMapping(f"{path.name}: {where}: {first['msg']}") from exc
    for table, sources in mapping.tables.items():
        allowed = set(TABLE_COLUMNS[table]) | set(INPUT_EXTRAS.get(table, ()))
        for source in sources:
            source.base = path.parent
            for col in [*source.columns, *source.defaults, *source.formats, *source.strip, *source.nulls]:
                if col not in allowed:
                    raise InvalidMapping(f"{path.name}: table {table}: {col!r} is not a column of {table} "
                                         f"(columns: {', '.join(sorted(allowed))})")
            for col in source.units:
                if col not in allowed or col not in (*MONEY_INPUTS, "share_pct"):
                    money = [c for c in MONEY_INPUTS if c in allowed]
                    raise InvalidMapping(f"{path.name}: table {table}: units: {col!r} is not a money column of "
                                         f"{table} (money columns: {', '.join(money) or 'none'}"
                                         + ("; share_pct takes %" if "share_pct" in allowed else "") + ")")
    return mapping


def source_files(source: Source) -> list[Path]:
    """The files a source names (a glob may name several, read in sorted order)."""
    if source.file is None:
        return []
    pattern = str(source.base / source.file)
    if glob.has_magic(source.file):
        found = sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_file())
        if not found:
            raise InvalidMapping(f"no file matches {source.file!r} (in {source.base})")
        return found
    path = Path(pattern)
    if not path.is_file():
        raise InvalidMapping(f"file {source.file!r} named by the mapping does not exist (in {source.base})")
    return [path]


def _table_files(entries: list[Path], table: str) -> list[Path]:
    """A table's files among a bundle folder's `entries`: its file (`payments.csv`, or
    `PAYMENTS.CSV` as a Windows export writes it; the first in `SUFFIXES`' order) and the files of
    folders named after it (`payments/`, `Payments/`), in name order. Names match whatever their case."""
    named = [p for p in entries if p.stem.lower() == table and _is_data(p)]
    files = sorted(named, key=lambda p: SUFFIXES.index(p.suffix.lower()))[:1]
    for folder in (p for p in entries if p.name.lower() == table and p.is_dir()):
        files += sorted(p for p in folder.iterdir() if _is_data(p))
    return files


def plan_bundle(bundle: Path, mapping: Path | None = None) -> dict[str, list[Source]]:
    """Every table's sources for a bundle folder or a mapping file (plus an optional --mapping)."""
    bundle = Path(bundle)
    if not bundle.exists():
        raise NotFound(f"bundle {bundle} does not exist")
    if bundle.is_file():
        if bundle.suffix.lower() not in (".yaml", ".yml"):
            raise InvalidMapping(f"{bundle.name}: a bundle is a folder or a mapping .yaml file")
        mapping, folder = mapping or bundle, bundle.parent
        if mapping != bundle:
            raise InvalidMapping("give either a mapping file as the bundle or --mapping, not both")
    else:
        folder = bundle
        if mapping is None and (folder / "mapping.yaml").is_file():
            mapping = folder / "mapping.yaml"
    plan: dict[str, list[Source]] = {}
    if mapping is not None:
        plan.update(load_mapping(mapping).tables)
    entries = sorted(folder.iterdir())
    for table in TABLE_ORDER:
        if table in plan:
            continue
        # a folder named after the table (payments/2026-01.csv, payments/2026-02.csv …): each file a source
        files = _table_files(entries, table)
        if files:
            plan[table] = [Source(file=p.relative_to(folder).as_posix(), base=folder) for p in files]
    if not plan:
        raise NotFound(f"bundle {bundle} has no tables: expected enterprises.csv|xlsx|xls|parquet (and others) "
                       "or a mapping.yaml")
    return {t: plan[t] for t in TABLE_ORDER if t in plan}


def _is_data(path: Path, suffixes: tuple[str, ...] | dict[str, str] = SUFFIXES) -> bool:
    """A data file (csv, xlsx, parquet …), not an office's lock file `~$…` or a hidden one."""
    return path.is_file() and path.suffix.lower() in suffixes and not path.name.startswith(("~$", "."))


_UNREAD_DEPTH = 2  # folders below a bundle looked in for files no table reads (a mapping may sit in a big folder)


def unread_files(folder: Path, plan: dict[str, list[Source]]) -> list[Path]:
    """The data files in a bundle's folder and its subfolders (two levels down) that no table
    reads: named after no table (nor in a folder named after one) and named by no mapping, and
    those no reader takes (`ingest.formats.UNREADABLE`: .ods, .xlsb, archives …).
    Reported, so that a file dropped in is never silently left out. Hidden folders and a store
    kept inside the bundle (its `manifest.json`) are not looked in."""
    read = {p.resolve() for sources in plan.values() for source in sources for p in source_files(source)}
    found = []
    for at, dirs, names in os.walk(folder):
        deep = len(Path(at).relative_to(folder).parts) >= _UNREAD_DEPTH
        dirs[:] = [] if deep else sorted(
            d for d in dirs if not d.startswith(".") and not (Path(at, d) / "manifest.json").is_file())
        found += [Path(at, n) for n in names if (_is_data(Path(at, n)) or _is_data(Path(at, n), UNREADABLE))
                  and Path(at, n).resolve() not in read]
    return sorted(found, key=lambda p: p.relative_to(folder).parts)
