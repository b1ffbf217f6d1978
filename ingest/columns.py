"""Renaming a file's headers to a table's canonical columns (mapping first, then aliases).

A source's `columns` (canonical → header in the file) wins; every other header is looked up
in the built-in alias table. Headers nobody claims are ignored and listed in the summary.
A money column's header may end with its unit ('金额(万元)', '注册资本（万元）', 'Amount (CNY)'):
the header is found without it and the unit is returned with the frame, so the column's plain
numbers are read in that unit (`ingest.aliases.split_unit`); a mapping's `units:` says it for a
header that does not. A share column's header may end with % ('持股比例(%)', 'Share %'): its numbers
are then percent, whatever their size. A header that ends with another note in brackets
('交易日期(YYYY-MM-DD)', '企业名称（全称）') is found without it.
Defaults fill columns the file lacks (and blanks in those it has); `strip` removes text.
A payments file shaped as an account statement is then read as payer and payee (`ingest.statement`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from graph.errors import InvalidData, InvalidMapping
from ingest.aliases import (
    HOME_CURRENCY_WORDS,
    MERGED_REQUIRED,
    MONEY_INPUTS,
    PERCENT,
    REQUIRED,
    TABLE_COLUMNS,
    ZH_HEADERS,
    canonical_header,
    header_key,
    split_currency,
    split_percent,
    split_unit,
    unit_scale,
    without_hint,
)
from ingest.mapping import TABLE_ORDER, Source
from ingest.normalise import isin
from ingest.statement import StatementRead, to_payments

__all__ = ["to_canonical", "guess_tables", "names_table", "EXTRA_HEADER_ALIASES"]

# Columns some tables accept beyond DESIGN.md's list (resolved like counterparties).
EXTRA_HEADER_ALIASES: dict[str, dict[str, str]] = {
    "memberships": {header_key(h): "member_name" for h in
                    ("member_name", "会员名称", "成员名称", "企业名称", "会员单位名称", "单位名称", "名称")},
}


def _lookup(table: str, header: str) -> str | None:
    return canonical_header(table, header) or EXTRA_HEADER_ALIASES.get(table, {}).get(header_key(header))


def _money_with_unit(table: str, header: str) -> tuple[str, str] | None:
    """(the money column, the unit) a header names with its unit ('金额(万元)'), else None."""
    base, unit = split_unit(header)
    if unit is None:
        return None
    found = _lookup(table, base)
    return (found, unit) if found in MONEY_INPUTS else None


def _header_column(table: str, header: str) -> tuple[str | None, str | None, str | None]:
    """(the column a header names in `table`, the unit it states, the foreign currency it states):
    a share column in percent ('持股比例(%)': `PERCENT`); else an alias; else a money header with its
    unit ('金额(万元)') or in another currency ('Amount (USD)'); else the header without a note in
    brackets ('交易日期(YYYY-MM-DD)')."""
    if _share_in_percent(table, header):
        return "share_pct", PERCENT, None
    found = _lookup(table, header)
    if found is not None:
        return found, None, None
    if (money := _money_with_unit(table, header)) is not None:
        return money[0], money[1], None
    if (foreign := _money_in_currency(table, header)) is not None:
        return foreign[0], None, foreign[1]
    bare = without_hint(header)
    return (_lookup(table, bare) if bare is not None else None), None, None


def guess_tables(headers: Sequence[str]) -> list[str]:
    """The tables whose required columns a file's headers all name, those naming the most of
    their columns first; several when the headers fit several equally (客户编号, 客户名称:
    enterprises or persons), none when they fit none. Only to tell a user what an unnamed file
    looks like: nothing is read by a guess."""
    fits: dict[str, int] = {}
    for table in TABLE_ORDER:
        found = _named(table, headers)
        if _names_required(table, found):
            fits[table] = len(found)
    best = max(fits.values(), default=0)
    return [t for t in TABLE_ORDER if best and fits.get(t) == best]


def names_table(table: str, headers: Sequence[str], source: Source) -> bool:
    """Whether headers (with `source`'s renames and constants) name every column `table` needs:
    which sheets of a workbook hold the table."""
    keys = {header_key(h) for h in headers}  # as `to_canonical` finds a mapping's header
    given = {col for col, header in source.columns.items() if header_key(header) in keys} | set(source.defaults)
    return _names_required(table, _named(table, headers) | given)


def _named(table: str, headers: Sequence[str]) -> set[str]:
    return {c for h in headers if (c := _header_column(table, str(h))[0]) is not None}


def _names_required(table: str, found: set[str]) -> bool:
    needs = [need if isinstance(need, tuple) else (need,) for need in REQUIRED[table]]
    if table == "memberships":
        needs = [("member_id", "member_name") if n == ("member_id",) else n for n in needs]
    if all(found & set(options) for options in needs):
        return True
    # an account statement: holder, counterparty, direction
    return table == "payments" and bool(found & {"counterparty_id", "counterparty_name"}) and "paid_on" in found \
        and bool(found & {"direction", "debit_amount", "credit_amount"})


def _share_in_percent(table: str, header: str) -> bool:
    """True when a header names `table`'s share column and says it is in percent ('持股比例（%）',
    '出资比例%', 'share (%)'): its numbers are then percent whatever their size (0.5 is 0.5%)."""
    base, percent = split_percent(header)
    return percent and _lookup(table, base) == "share_pct"


def _money_in_currency(table: str, header: str) -> tuple[str, str] | None:
    """(the money column, the currency) a header names in a foreign currency ('Amount (USD)'), else None."""
    base, code = split_currency(header)
    found = _lookup(table, base) if code is not None else None
    return (found, code) if code is not None and found in MONEY_INPUTS else None


def _names_yuan(header: str) -> bool:
    """True when an amount's header says it is in yuan ('折人民币金额', '金额(人民币)', 'Amount (CNY)')."""
    key = header_key(header)
    return any(word in key for word in ("人民币", "rmb", "cny")) or split_unit(header)[1] in HOME_CURRENCY_WORDS


# a unit stated above the headers for the whole table ('单位：万元', '金额单位：万元', '（单位：人民币万元）')
_TITLE_UNIT = re.compile(r"单位\s*[:：]\s*([^\s,，;；)）]+)")


def title_unit(preamble: Sequence[Sequence[str]]) -> str | None:
    """The amount unit the rows above the headers state (the first found), None when they state none."""
    for row in preamble:
        for cell in row:
            for word in _TITLE_UNIT.findall(str(cell)):
                if unit_scale(word) is not None:
                    return str(word)
    return None


def to_canonical(table: str, raw: pd.DataFrame, source: Source, label: str,
                 preamble: Sequence[Sequence[str]] = ()) -> tuple[pd.DataFrame, list[str], dict[str, str], StatementRead]:
    """The file's frame with canonical column names; returns (frame, ignored headers, the unit
    of each money column whose header or mapping names one and `PERCENT` for a share column whose
    header says %, what reading it as a statement found:
    the holder its title rows (`preamble`) name, the directions whose signs were dropped)."""
    headers = list(raw.columns)
    by_key: dict[str, str] = {}
    for h in headers:
        by_key.setdefault(header_key(h), h)
    out: dict[str, pd.Series] = {}
    used: set[str] = set()
    units: dict[str, str] = {}
    chosen: dict[str, str] = {}  # canonical column → the header it is read from
    foreign_money: list[tuple[str, str, str]] = []  # (money column, currency, header)
    for canon, wanted in source.columns.items():
        header: str | None = wanted if wanted in raw.columns else by_key.get(header_key(wanted))
        if header is None:
            raise InvalidMapping(f"{label}: column {wanted!r} (for {table}.{canon}) is not in the file; "
                                 f"its headers are: {', '.join(map(str, headers))[:400]}")
        out[canon], chosen[canon] = raw[header], header
        used.add(header)
        unit = split_unit(header)[1] if canon in MONEY_INPUTS else None
        if canon == "share_pct" and split_percent(header)[1]:  # 'stake (%)': percent, whatever its numbers
            unit = PERCENT
        if unit is not None:
            units[canon] = unit
    # when two headers claim one column (企业名称 and 姓名 both mean a name), the table's own
    # header (its canonical or preferred Chinese name) wins over a generic alias
    preferred = {header_key(h) for h in (*TABLE_COLUMNS[table], *ZH_HEADERS.get(table, {}).values())}
    for header in sorted(headers, key=lambda h: header_key(h) not in preferred):
        if header in used:
            continue
        found, unit, currency = _header_column(table, header)
        if currency is not None and found is not None:
            foreign_money.append((found, currency, header))  # never read as yuan; an error unless yuan is there too
            continue
        if found is not None and found not in out:
            out[found], chosen[found] = raw[header], header
            used.add(header)
            if unit is not None:
                units[found] = unit
    for col, code, header in foreign_money:
        if col not in out:
            raise InvalidData(f"{label}: column {header!r} is in {code}, and amounts are stored in yuan (CNY): "
                              f"convert them before ingest, or map the column by name to read its numbers as "
                              f"they are (`columns: {{{col}: {header!r}}}` in a mapping)")
    if "currency" in out and _names_yuan(chosen.get("amount", "")):  # '折人民币金额': 币种 is the original's
        used.discard(chosen.pop("currency"))
        del out["currency"]
    stated = title_unit(preamble)
    if stated is not None:  # '单位：万元' above the headers: every money column whose header names no unit
        units.update({col: stated for col in out if col in MONEY_INPUTS and col not in units})
    units.update({col: unit for col, unit in source.units.items() if col in out})  # the mapping's word wins
    ignored = [str(h) for h in headers if h not in used]
    frame = pd.DataFrame(out, index=raw.index)
    for col, value in source.defaults.items():
        constant = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
        if col in frame.columns:
            current = frame[col].astype("string")
            frame[col] = current.mask(current.isna() | (current.str.strip() == ""), constant)
        else:
            frame[col] = pd.Series(constant, index=frame.index, dtype="string")
    for col, pieces in source.strip.items():
        if col in frame.columns:
            values = frame[col].astype("string")
            for piece in pieces:
                values = values.str.replace(piece, "", regex=False)
            frame[col] = values.str.strip()
    for col, nulls in source.nulls.items():
        if col in frame.columns:
            values = frame[col].astype("string")
            frame[col] = values.mask(isin(values.str.strip(), [str(v) for v in nulls]))
    if table == "payments":  # an account statement's holder, counterparty and direction → payer and payee
        frame, read = to_payments(frame, units, label, source, preamble)
    else:
        read = StatementRead()
    missing = []
    for need in REQUIRED[table]:
        if need in MERGED_REQUIRED.get(table, ()):
            continue  # another source may give it: checked on the merged table
        options = need if isinstance(need, tuple) else (need,)
        if table == "memberships" and options == ("member_id",):
            options = ("member_id", "member_name")
        if not any(o in frame.columns for o in options):
            missing.append(" or ".join(options))
    if missing:
        raise InvalidData(f"{label}: table {table} lacks required column(s) {', '.join(missing)}; "
                          f"the file's headers are: {', '.join(map(str, headers))[:400]} "
                          "(rename them with a mapping file, or give a constant in `defaults`)")
    return frame, ignored, units, read
