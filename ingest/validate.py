"""Validation: typed, normalised canonical rows of one source, with every problem reported.

A required value that is missing or unusable rejects its row; an optional one that is
unusable is dropped from the row (and reported). ID numbers become salted hashes and phones
masks here, before the rows go anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ingest.aliases import (
    AMOUNT_COLUMNS,
    FOREIGN_VALUE,
    HOME_CURRENCY_WORDS,
    MERGED_REQUIRED,
    PERCENT,
    REQUIRED,
    unit_scale,
)
from ingest.arrow_text import from_arrow, to_arrow
from ingest.dates import YEARS, year_outside
from ingest.distinct import Distinct, repeats
from ingest.mapping import Source
from ingest.normalise import (
    DIGIT_RUN,
    MARKUP_OR_FORMULA_CHARS,
    UNCLEAN_RE2,
    bytes_within,
    clean_text,
    hash_id_numbers,
    id_numbers_valid,
    isin,
    longer_than,
    mask_phones,
    matches,
    may_match,
    name_problem,
    scrub_pii_series,
    to_amount,
    to_bool,
    to_date,
    to_month,
    to_percent,
    usccs_valid,
)
from ingest.report import ROW_REJECTED, VALUE_DROPPED, VALUE_KEPT, Rejects
from ingest.settings import IngestSettings
from ingest.statement import DIRECTION_REASON, REVERSAL_REASON, REVERSED_REASON
from ingest.values import (
    BLANK_ROLE,
    CREDIT,
    DEBIT,
    MEMO_BANK_CHARGE,
    MEMO_UNDONE,
    REVERSAL_FLAGS,
    canonical_value,
    classify_title,
)

__all__ = ["Context", "validate_rows", "KEYS", "NAME_COLUMNS", "is_placeholder"]

KEYS: dict[str, tuple[str, ...]] = {
    "enterprises": ("enterprise_id",), "persons": ("person_id",), "associations": ("association_id",),
    "managers": ("manager_id",), "branches": ("branch_id",), "roles": ("person_id", "enterprise_id", "role"),
    "memberships": ("association_id", "member_id", "member_name"), "bills": ("bill_id",),
    "endorsements": ("bill_id", "seq"),
}
_BOOL = ("is_client", "is_credit_client", "is_retail_client", "do_not_contact")
_DATE = ("opened_on", "paid_on", "issued_on", "due_on", "endorsed_on", "reported_on")
_VALUES = {"role": "role", "position": "position", "tier": "tier", "member_kind": "member_kind"}
_STRICT_VALUES = ("position", "member_kind")  # an unknown value rejects the row; a role title never does
# Odd text that is kept (and flagged): control characters are removed by `clean_text`, bidi
# controls kept in the store and removed for display (graph.display.display_text).
_CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_BIDI_CHARS = "[\u200e\u200f\u202a-\u202e\u2066-\u2069]"
# a superset of what `name_problem` and the two classes above flag: markup, entities, formula starts
_ODD_TEXT = _CONTROL_CHARS[:-1] + _BIDI_CHARS[1:-1] + "<>&=+@|\t\r]|^\\s*-"
_ODD_CHARS = _CONTROL_CHARS[:-1] + _BIDI_CHARS[1:-1] + "<>&=+@|\t\r-]"  # no anchor: for `may_match`
NAME_COLUMNS = ("name", "payer_name", "payee_name", "from_name", "to_name", "member_name")
_COUNTERPARTY = {"payments": ("payer", "payee"), "bills": ("payee",), "endorsements": ("from", "to"),
                 "memberships": ("member",)}


@dataclass
class Context:
    """What validation needs besides the rows: settings, the store's salt, the report."""

    settings: IngestSettings
    salt: str
    rejects: Rejects = field(default_factory=Rejects)
    root: Path = Path(".")
    ignored: dict[str, list[str]] = field(default_factory=dict)
    amount_units: dict[str, dict[str, str]] = field(default_factory=dict)  # file -> money column -> unit (not yuan)
    header_rows: dict[str, int] = field(default_factory=dict)  # file -> its headers' row, where a title is above
    statements: dict[str, dict[str, int]] = field(default_factory=dict)  # file -> rows per direction (`ingest.statement`)
    statement_holders: dict[str, dict[str, str]] = field(default_factory=dict)  # file -> holder read from its title
    statement_signs: dict[str, list[str]] = field(default_factory=dict)  # file -> directions whose minus was dropped
    joined_headers: dict[str, int] = field(default_factory=dict)  # file -> the first of its two header rows
    excel_text: dict[str, list[str]] = field(default_factory=dict)  # file -> its columns with cells written ="…"
    unread_sheets: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # 'book.xlsx[sheet]' -> (table read, tables it looks like)
    hidden_sheets: dict[str, tuple[str, bool]] = field(default_factory=dict)  # 'book.xlsx[sheet]' hidden, holding the table -> (table, read)
    named_ids: dict[str, int] = field(default_factory=dict)  # 'payroll.employer_id' -> rows whose value was a name
    skip: set[Path] = field(default_factory=set)  # files not read: the same bytes as another (`ingest.repeats`)
    titles: list[pd.Series] = field(default_factory=list)  # rows per (role, title) of each roles source
    defer_fact_ids: bool = False  # `load.load_table` leaves the last fact ids to `settle`
    by_reference: bool = True  # a payment with a reference (流水号) has an id of no file (`load.fact_ids`)
    pending: list[Callable[[], None]] = field(default_factory=list)
    reads: dict[tuple[Any, ...], Future[Any]] = field(default_factory=dict)  # files read ahead (`load.read_ahead`)
    reader: ThreadPoolExecutor | None = None  # the thread that reads them

    def settle(self) -> None:
        """Finish what loading left to run on (the last fact ids); call once every table is loaded."""
        while self.pending:
            self.pending.pop(0)()
        self.close()

    def close(self) -> None:
        """End the read-ahead thread (after the last table, or when the ingest stops early: a
        failed or cancelled ingest's files not yet parsed are not parsed)."""
        if self.reader is not None:
            self.reader.shutdown(wait=False, cancel_futures=True)  # a file being parsed ends on its own
            self.reader = None
        self.reads.clear()

    def label(self, path: Path | None) -> str:
        if path is None:
            return "(inline rows)"
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return path.name


def is_placeholder(values: pd.Series, settings: IngestSettings) -> pd.Series:
    """True for placeholder names (REDACTED…, 个人, 未知 …) that never make an entity.

    One search of the column's text for the placeholders in any case rules out most columns
    (ids, real names) before any value is upper-cased.
    """
    known = {p.upper() for p in settings.placeholder_names}
    search = _placeholder_search(frozenset(known))
    if search is not None and not may_match(values.astype("string"), search):
        return pd.Series(False, index=values.index)
    upper = values.astype("string").str.upper().str.strip()
    return isin(upper, known) | matches(upper, "REDACTED")


@lru_cache(maxsize=8)
def _quiet_search_for(placeholders: str | None) -> str:
    return "|".join([_ODD_CHARS, UNCLEAN_RE2, MARKUP_OR_FORMULA_CHARS, DIGIT_RUN]
                    + ([placeholders] if placeholders is not None else []))


def _quiet_search(counterparty: bool, settings: IngestSettings) -> str:
    """What a name or id column's one search looks for: every character its checks look for,
    and for a counterparty column the placeholders (no match: nothing to check at all)."""
    if not counterparty:
        return _quiet_search_for(None)
    placeholders = _placeholder_search(frozenset(p.upper() for p in settings.placeholder_names))
    # no placeholder search (a cased letter beyond ASCII): any character matches, never quiet
    return _quiet_search_for(placeholders if placeholders is not None else "(?s).")


# Besides a letter's own two cases, the only characters Arrow's `utf8_upper` turns into an ASCII
# letter (tests/ingest/test_normalise.py checks this against the installed pyarrow)
_UPPER_TO_ASCII = {"I": "\\x{131}", "S": "\\x{17f}"}


@lru_cache(maxsize=8)
def _placeholder_search(known: frozenset[str]) -> str | None:
    """An RE2 pattern found in every value whose upper case holds a placeholder (more may
    match); None when a placeholder has a cased letter beyond ASCII (no search is built)."""
    parts = []
    for word in sorted(known | {"REDACTED"}):
        if any(ord(c) > 127 and (c.lower() != c or c.upper() != c) for c in word):
            return None
        parts.append("".join(f"[{c}{c.lower()}{_UPPER_TO_ASCII.get(c, '')}]" if c.isascii() and c.isalpha()
                             else f"\\x{{{ord(c):x}}}" for c in word))
    return "|".join(parts)


def _value_kind(table: str, col: str) -> str | None:
    if col == "kind":
        return {"associations": "association_kind", "managers": "manager_kind"}.get(table)
    return _VALUES.get(col)


_YEAR_REASON = f"a year outside {YEARS[0]}–{YEARS[1]}: no date a fact can carry"


def _old_years(text: pd.Series, bad: pd.Series) -> pd.Series:
    """Of the values that are no date (or month), those that are one but for a year outside `YEARS`."""
    old = pd.Series(False, index=text.index)
    if bad.any():
        old[bad] = year_outside(text[bad])
    return old


def _folded(text: pd.Series) -> pd.Series:
    """A value word as compared with a vocabulary: NFKC, trimmed, lower case."""
    return text.str.normalize("NFKC").str.strip().str.lower()


_NEGATIVE = "negative amount"
_MEMO_UNDONE = "the memo says the entry was undone (冲正, 退汇): no payment between the two parties, left out"
_MEMO_CHARGE = "the memo says the bank's own interest or charges (结息, 手续费): no payment between two parties, left out"
_CREDIT = _NEGATIVE + " (credits are kept only with `negative_amounts: keep` in a mapping file)"


def validate_rows(table: str, df: pd.DataFrame, rows: pd.Series, source: Source, file: str,
                  ctx: Context, units: dict[str, str] | None = None) -> pd.DataFrame:
    """Typed canonical rows of one source; rejected rows removed and reported in `ctx.rejects`.
    `units`: the unit a money column's plain numbers are in ('万元'; default yuan); `PERCENT` for a
    share column whose header says % ('持股比例(%)').

    Each column is normalised and checked over its distinct values (`Distinct`), then the
    results and the masks of the values to report are taken back to the rows.
    """
    rej = ctx.rejects
    df = df.copy(deep=False)  # columns are replaced, never written into: no data is copied
    df.index = rows.index
    bad_row = pd.Series(False, index=df.index)
    required = {c for need in REQUIRED[table] if isinstance(need, str) for c in (need,)}
    required -= set(MERGED_REQUIRED.get(table, ()))  # checked on the merged table (job.py)
    if table == "memberships":
        required.discard("member_id")
    cleaned: dict[str, tuple[Distinct, pd.Series, bool]] = {}  # counterparty columns: checked after the loop
    counterparty = {f"{prefix}_{part}" for prefix in _COUNTERPARTY.get(table, ()) for part in ("id", "name")}

    if table == "roles" and "role" not in df.columns:
        df["role"] = pd.Series(pd.NA, index=df.index, dtype="string")  # no titles at all: every row `related`

    statement = "direction" in df.columns  # an account statement's rows (`ingest.statement`)
    shares = df["share_pct"].astype("string") if "share_pct" in df.columns else None
    for col in list(df.columns):
        if col == "reference":  # a payment's 流水号: read into its fact id already (`load.fact_ids`), never stored
            df = df.drop(columns=[col])
            continue
        raw = df[col].astype("string")
        column = Distinct(raw)
        values = column.values  # each distinct raw value once

        def report(mask: pd.Series, col: str, reason: str | pd.Series, is_required: bool,
                   column: Distinct = column, raw: pd.Series = raw) -> None:
            nonlocal bad_row
            if not mask.fillna(False).any():
                return
            hit = column.rows(mask)
            if not hit.any():
                return
            why = column.spread(reason) if isinstance(reason, pd.Series) else reason
            rej.add(table, file, rows[hit], col, raw, why, ROW_REJECTED if is_required else VALUE_DROPPED)
            if is_required:
                bad_row |= hit

        def warn(mask: pd.Series, col: str, reason: str | pd.Series,
                 column: Distinct = column, raw: pd.Series = raw) -> None:
            if not mask.fillna(False).any():
                return
            hit = column.rows(mask)
            if hit.any():
                why = column.spread(reason) if isinstance(reason, pd.Series) else reason
                rej.add(table, file, rows[hit], col, raw, why, VALUE_KEPT)

        # one search of a name or id column's text for every character any of its checks looks
        # for (odd text, text to clean, ID/phone digits, placeholders) clears most columns at once
        quiet = (col in NAME_COLUMNS or col.endswith("_id")) and not may_match(
            values, _quiet_search(col in counterparty, ctx.settings))
        # one regex pass finds the rare column with odd text; only then are the warnings worked out
        odd_text = ((col in NAME_COLUMNS or col.endswith("_id")) and not quiet and may_match(values, _ODD_CHARS)
                    and matches(values, _ODD_TEXT).any())
        if odd_text:
            warn(matches(values, _CONTROL_CHARS), col, "control characters removed (value kept)")
            warn(matches(values, _BIDI_CHARS), col, "bidi control characters (value kept; not shown on pages)")
        text = clean_text(values, searched=quiet)
        need = col in required
        if col == "direction":  # a statement's, as `ingest.statement` read it: debit, credit, or the raw flag
            unread = ~text.isin([DEBIT, CREDIT]).fillna(False)
            reversal = unread & _folded(text).isin(REVERSAL_FLAGS).fillna(False)
            report(reversal, col, REVERSAL_REASON, True)
            report(unread & ~reversal, col, DIRECTION_REASON, True)
            df = df.drop(columns=[col])
            continue
        if col == "memo":  # a payment's 摘要: read for the rows that are no payment, never stored
            memo = _folded(text).str.replace(r"\s+", "", regex=True)
            # `negative_amounts: keep` nets a reversal by its sign: its memo does not leave it out
            undone = matches(memo, MEMO_UNDONE) & (source.negative_amounts != "keep")
            report(undone, col, _MEMO_UNDONE, True)
            report(matches(memo, MEMO_BANK_CHARGE) & ~undone, col, _MEMO_CHARGE, True)
            df = df.drop(columns=[col])
            continue
        if col == "currency":  # a payment's 币种: yuan (or blank) is read, any other never as yuan
            foreign = text.notna() & ~_folded(text).isin(HOME_CURRENCY_WORDS).fillna(False)
            report(foreign, col, "a currency other than yuan (CNY): amounts are stored in yuan; convert "
                   "the row before ingest", True)
            df = df.drop(columns=[col])
            continue
        if need:
            report(text.isna(), col, f"required {col} is missing", True)
        if col in _BOOL:
            out, bad = to_bool(text)
            report(bad, col, "not a boolean (1/0, true/false, Y/N, 是/否)", need)
            df[col] = column.spread(out)
        elif col in _DATE:
            out, bad = to_date(text, source.formats.get(col))
            old = _old_years(text, bad)
            report(old, col, _YEAR_REASON, need)
            report(bad & ~old, col, "not a date (ISO, YYYY/MM/DD, YYYYMMDD, YYYY年MM月DD日)"
                   if col not in source.formats else f"not a date in the format {source.formats[col]}", need)
            df[col] = column.spread(out)
        elif col == "month":
            out, bad = to_month(text)
            old = _old_years(text, bad)
            report(old, col, _YEAR_REASON, need)
            report(bad & ~old, col, "not a month (YYYY-MM)", need)
            df[col] = column.spread(out)
        elif col in AMOUNT_COLUMNS:
            out, bad = to_amount(text, unit_scale((units or {}).get(col, "元")) or 1)
            foreign = bad & matches(text, FOREIGN_VALUE) if bad.any() else bad
            report(foreign, col, "an amount in another currency, not yuan (CNY): convert it before ingest", need)
            report(bad & ~foreign, col, "not an amount", need)
            if col != "amount" or source.negative_amounts != "keep":  # `debit`: a statement's sign is read already
                neg = (out < 0).fillna(False)
                report(neg, col, _NEGATIVE if col != "amount" else REVERSED_REASON if statement else _CREDIT, need)
                out = out.mask(neg)
            df[col] = column.spread(out)
        elif col == "share_pct":
            out, bad = to_percent(text, stated=(units or {}).get(col) == PERCENT)
            report(bad, col, "not a share between 0 and 100%", need)
            df[col] = column.spread(out)
        elif col == "seq":
            num = pd.to_numeric(text, errors="coerce")
            bad = (num.isna() | (num % 1 != 0)) & text.notna()
            report(bad, col, "not a whole number", need)
            df[col] = column.spread(num.where(~bad).astype("Int64"))
        elif table == "roles" and col == "role":
            roles = _classify_titles(text, source.values.get(col))
            df["title"] = column.spread(text)
            df[col] = column.spread(roles)
            per_title = pd.DataFrame({"role": roles, "title": text, "rows": column.counts()})
            ctx.titles.append(per_title.groupby(["role", "title"], dropna=False)["rows"].sum())
        elif (kind := _value_kind(table, col)) is not None:
            extra = source.values.get(col)
            codes, uniques = pd.factorize(text)
            mapped = np.array([canonical_value(kind, str(u), extra) for u in uniques] + [None], dtype=object)
            out = pd.Series(mapped[codes], index=text.index, dtype="string")  # code -1 (blank) → None
            bad = out.isna() & text.notna()
            report(bad, col, f"unknown {col} value (add it under `values` in a mapping file)",
                   need or col in _STRICT_VALUES)
            df[col] = column.spread(out)
        elif col == "uscc":
            up = _code_text(text)
            valid = usccs_valid(up)
            report(up.notna() & ~valid, col, "invalid USCC (GB 32100: 18 characters and a check character)", need)
            df[col] = column.spread(up.where(valid))
        elif col == "id_number":
            up = _code_text(text)  # the hash is of this form: a full-width number hashes as its ASCII twin
            valid = id_numbers_valid(up)
            report(up.notna() & ~valid, col, "invalid ID number (GB 11643: 18 characters, check "
                   "character); not kept", need)
            df["id_hash"] = column.spread(hash_id_numbers(up.where(valid), ctx.salt))  # invalid: no hash
            df = df.drop(columns=[col])
        elif col == "phone":
            df["phone_masked"] = column.spread(mask_phones(text))
            df = df.drop(columns=[col])
        elif col in NAME_COLUMNS:
            if not quiet:
                text = scrub_pii_series(text)  # an ID number or phone inside a name is masked too
            # odd text is kept: markup, formulas and over-long names are flagged, escaped where shown
            problem = name_problem(text, ctx.settings.max_name_length, searched=quiet)
            if problem.notna().any():
                warn(problem.notna(), col, problem + " (kept, shown escaped)")
            cleaned[col] = (column, text, quiet)
            df[col] = column.spread(text)
        else:
            too_long = col.endswith("_id") and longer_than(text, ctx.settings.max_name_length).any()
            if odd_text or too_long:
                odd = name_problem(text, ctx.settings.max_name_length).str.replace("name ", "id ", n=1)
                warn(odd.notna(), col, odd + " (kept, shown escaped)")
            cleaned[col] = (column, text, quiet)
            df[col] = column.spread(text)

    for prefix in _COUNTERPARTY.get(table, ()):
        _counterparty(table, df, rows, prefix, file, ctx, bad_row, cleaned)
    if table == "roles" and shares is not None and {"enterprise_id", "person_id"} <= set(df.columns):
        _shares_over_whole(df, rows, bad_row, shares, file, ctx)
    if table == "memberships" and "member_kind" not in df.columns:
        df["member_kind"] = "enterprise"
    if table == "memberships" and "position" not in df.columns:
        df["position"] = "member"
    if table == "memberships":
        df["position"] = df["position"].fillna("member")
        df["member_kind"] = df["member_kind"].fillna("enterprise")
    if bad_row.any():
        df, rows = df[~bad_row], rows[~bad_row]
    return _duplicates(table, df, rows, file, ctx)


def _upper(text: pd.Series) -> pd.Series:
    """The column in upper case; as it is when no byte is a lower-case letter or beyond ASCII
    (`bytes_within`: codes are mostly upper case already, and one min/max costs less than a copy)."""
    return text if bytes_within(text, 0x00, ord("a") - 1) else text.str.upper()


def _code_text(text: pd.Series) -> pd.Series:
    """A code column (USCC, ID number) as it is checked and kept: NFKC where any byte is beyond
    ASCII (full-width digits and letters, as Chinese input methods type them, become ASCII; an
    ideographic space a space), then upper case. Other scripts' digits stay as they are, so the
    check still refuses them."""
    if not bytes_within(text, 0x00, 0x7F):
        text = from_arrow(pc.utf8_normalize(to_arrow(text), "NFKC"), text.index)
    return _upper(text)


def _classify_titles(titles: pd.Series, extra: dict[str, str] | None) -> pd.Series:
    """Each distinct title's role from its words (a blank title is `related`)."""
    codes, uniques = pd.factorize(titles)
    roles = np.array([classify_title(str(u), extra) for u in uniques] + [BLANK_ROLE], dtype=object)
    return pd.Series(roles[codes], index=titles.index, dtype="string")


def _counterparty(table: str, df: pd.DataFrame, rows: pd.Series, prefix: str, file: str, ctx: Context,
                  bad_row: pd.Series, cleaned: dict[str, tuple[Distinct, pd.Series, bool]]) -> None:
    """Blank out placeholder ids/names; a row left with neither id nor name is rejected."""
    present = pd.Series(False, index=df.index)
    placeholder_seen = pd.Series(False, index=df.index)
    shown = f"{prefix}_name" if f"{prefix}_name" in df.columns else f"{prefix}_id"
    original = df[shown] if shown in df.columns else None
    for col in (f"{prefix}_id", f"{prefix}_name"):
        if col not in df.columns:
            continue
        column, values, quiet = cleaned[col]  # the column's distinct cleaned values
        if quiet:  # its search held the placeholders': none is there
            present |= column.rows(values.notna())
            continue
        ph = is_placeholder(values, ctx.settings)
        kept = values.mask(ph) if ph.any() else values
        if ph.any():
            placeholder_seen |= column.rows(ph)
            df[col] = column.spread(kept)
        present |= column.rows(kept.notna())
    missing = ~present & ~bad_row
    if missing.any():
        reason = pd.Series(f"no {prefix} id or name", index=df.index).mask(
            placeholder_seen, f"{prefix} is a placeholder (redacted or unnamed), not an entity")
        ctx.rejects.add(table, file, rows[missing], shown, original, reason, ROW_REJECTED)
        bad_row |= missing


def _shares_over_whole(df: pd.DataFrame, rows: pd.Series, bad_row: pd.Series, raw: pd.Series, file: str,
                       ctx: Context) -> None:
    """Flag (value kept) the shares of an enterprise whose holders' shares in one file add up to
    over 100%: one groupby; a holder on several rows (one per filing) counts once, its last share."""
    held = df.loc[~bad_row & df["share_pct"].notna(), ["enterprise_id", "person_id", "share_pct"]]
    total = held.drop_duplicates(["enterprise_id", "person_id"], keep="last").groupby("enterprise_id")["share_pct"].sum()
    over = total[total > 100.005]  # shares rounded to two places may add up to 100.01
    if over.empty:
        return
    hit = held["enterprise_id"].isin(over.index)
    reason = ("the shares of this enterprise in the file add up to "
              + held.loc[hit, "enterprise_id"].map(over.round(2).astype(str)) + "%, over 100% (kept)")
    ctx.rejects.add("roles", file, rows[hit[hit].index], "share_pct", raw, reason, VALUE_KEPT)


def _duplicates(table: str, df: pd.DataFrame, rows: pd.Series, file: str, ctx: Context) -> pd.DataFrame:
    """Within one source a key may appear once: a conflicting later row is rejected, an identical one merges."""
    if table in ("payroll", "roles"):
        return df  # payroll runs add up; a role repeated (one row per filing) collapses in load.py
    key = [c for c in KEYS.get(table, ()) if c in df.columns]
    if not key or df.empty:
        return df
    if not repeats(df, key):
        return df  # no key twice, so no row twice either (the usual case: one hash of the key)
    # the same row again (a person named on every filing) is one fact, not a conflict
    same = df.duplicated(keep="first")
    df, rows = df[~same], rows[~same]
    dup = df.duplicated(key, keep="first")
    if dup.any():
        first_rows = rows.groupby([df[k].fillna("") for k in key]).transform("first")
        reason = "duplicate " + "+".join(key) + " (first at row " + first_rows.astype("string") + ")"
        values = df[key[0]].astype("string")
        ctx.rejects.add(table, file, rows[dup], key[0], values, reason, ROW_REJECTED)
    return df[~dup]

