"""Account statements (流水) read as payments.

A bank's statement export names one side of each payment, the account holder (户名, 本方户名 or
本方客户号), the other side (对方户名, 对方客户号, 对方行名), and which way the money went: by a
flag (借贷标志: 借/贷, D/C, 支出/收入 …), by which of two amount columns the row fills (借方发生额 /
贷方发生额, 支出金额 / 收入金额; the other one blank, zero or a dash), or, when a mapping says
`negative_amounts: debit`, by the sign of its one amount. A debit is money out of the holder's
account, so the holder pays the counterparty; a credit is money in, so the counterparty pays the
holder. `to_payments` turns such a file's columns into the payments table's (payer, payee,
amount, the payee's bank) with a few Arrow kernels over whole columns, before the rows are
validated.

A statement of one account often names its holder only above the headers ('户名：华东精密制造有限公司
账号：6222…', or the label and the name in cells side by side): that is read when no column names
the holder (`holder_from_title`); a mapping's `defaults: {holder_name: …}` (or `holder_id`) wins.
The counterparty's bank is the payee's bank (`payee_bank`) on a debit and the payer's
(`payer_bank`) on a credit: where a buyer paying the holder keeps its account.
Account numbers (账号, 对方账号) are no party's id and are ignored. A row whose direction cannot
be read keeps a `direction` the validation rejects with its row number (`ingest.validate`); a
file with payer and payee columns of its own is read as they say.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.errors import InvalidData
from ingest.aliases import STATEMENT_AMOUNTS, STATEMENT_COLUMNS, header_key
from ingest.arrow_text import from_arrow, to_arrow
from ingest.mapping import Source
from ingest.normalise import scrub_pii
from ingest.values import CREDIT, DEBIT, canonical_value

__all__ = ["to_payments", "holder_from_title", "StatementRead", "DIRECTION_REASON", "REVERSAL_REASON",
           "REVERSED_REASON"]

log = logging.getLogger("prospect_graph.ingest")


@dataclass
class StatementRead:
    """What reading a file as a statement found besides its rows, for the ingest summary."""

    holder: dict[str, str] = field(default_factory=dict)  # the holder the title rows name (`holder_from_title`)
    unsigned: list[str] = field(default_factory=list)  # the directions whose every amount's minus was dropped

DIRECTION_REASON = ("not a debit or a credit: give a flag (借/贷, D/C, 支出/收入; others under `values: "
                    "{direction: …}` in a mapping) or fill exactly one of the debit and credit amounts")
REVERSAL_REASON = ("a reversal (冲正) flag: which way the money went is not stated, so the row is left out; "
                   "a mapping's `values: {direction: …}` may name the flag as a debit or a credit")
REVERSED_REASON = ("a negative amount where the statement's other rows of the same direction are positive: "
                   "read as a reversal (红字冲正) and left out (`negative_amounts: keep` in a mapping nets it "
                   "against the payments instead)")

_SIDES = ("id", "name")

# how a statement's title labels its account holder ('户名：…'), by `header_key`
_TITLE_LABELS = {header_key(label): col for label, col in (
    ("户名", "holder_name"), ("账户名称", "holder_name"), ("账户名", "holder_name"), ("本方户名", "holder_name"),
    ("单位名称", "holder_name"), ("客户名称", "holder_name"), ("account name", "holder_name"),
    ("客户号", "holder_id"), ("客户编号", "holder_id"), ("本方客户号", "holder_id"))}
# 'label：value' pairs in one cell, a value ending at two spaces or at the next 'label：'; a label
# of two words, or one padded for alignment ('户    名：')
_PAIR = re.compile(r"([^\s:：]+(?:\s+[^\s:：]+)?)\s*[:：]\s*(.+?)(?=\s{2,}|\s*[^\s:：]+\s*[:：]|\s*$)")


def holder_from_title(preamble: Sequence[Sequence[str]]) -> dict[str, str]:
    """The account holder a statement's title rows name: {'holder_name': …, 'holder_id': …} (the
    ones found; the first of each). Labels and names as '户名：华东精密…' in one cell or side by side."""
    found: dict[str, str] = {}
    for row in preamble:
        cells = [str(c).strip() for c in row if str(c).strip()]
        pairs = [pair for cell in cells for pair in _PAIR.findall(cell)]
        pairs += [(a, b) for a, b in zip(cells, cells[1:], strict=False)
                  if header_key(a) in _TITLE_LABELS and header_key(b) not in _TITLE_LABELS and not _PAIR.search(b)]
        for label, value in pairs:
            col = _TITLE_LABELS.get(header_key(label))
            if col is not None and value.strip():
                found.setdefault(col, scrub_pii(value.strip()))  # an ID number or phone beside it stays out
    return found


def _flags(flags: pa.ChunkedArray | pa.Array, extra: dict[str, str] | None) -> pa.ChunkedArray | pa.Array:
    """Each row's direction (DEBIT, CREDIT), or its raw flag where it is neither; one lookup per
    distinct flag. A mapping's `values` may name a flag by its canonical word or another flag."""
    ways: dict[str, list[str]] = {DEBIT: [], CREDIT: []}
    for flag in pc.unique(flags).to_pylist():
        found = canonical_value("direction", flag, extra) if flag is not None else None
        way = canonical_value("direction", found) if found is not None else None
        if way in ways:
            ways[way].append(flag)
    is_way = {way: pc.is_in(flags, value_set=pa.array(found, flags.type)) for way, found in ways.items()}
    return pc.if_else(is_way[DEBIT], DEBIT, pc.if_else(is_way[CREDIT], CREDIT, flags))


# what a statement writes on the side a row does not fill: a blank, a zero ('0.00', '¥0', '０'),
# or a dash; RE2, one pass over the column
_NOTHING = r"^\s*(?:[-–—－/\\]+|[¥￥]?[+-]?[0０,]*(?:[.．][0０]*)?元?)?\s*$"
_BLANK = r"^\s*$"
# a signed amount's minus ('-1,200.00', '－1200', '(1,200.00)', '（1,200.00）', '1,200.00-') and the sign to remove
_MINUS = r"^\s*(?:[-−－]|[(（].*[)）]\s*$)|\d\s*[-−－]\s*$"
_SIGN = r"^\s*[-−－]\s*|^\s*[(（]|[)）]\s*$|\s*[-−－]\s*$"


def _matches(values: pa.ChunkedArray | pa.Array, pattern: str) -> pa.ChunkedArray | pa.Array:
    """Where each value matches an RE2 `pattern`; a null matches."""
    return pc.fill_null(pc.match_substring_regex(values, pattern), True)


def _minus(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Where an amount is written with a minus or in brackets (`_MINUS`); a null has none."""
    return pc.fill_null(pc.match_substring_regex(values, _MINUS), False)


def _from_amounts(debit: pa.ChunkedArray | pa.Array, credit: pa.ChunkedArray | pa.Array
                  ) -> pa.ChunkedArray | pa.Array:
    """Each row's direction from which of the debit and credit amounts it fills (text that is no
    amount counts as filled: the validation then rejects it as no amount); where it fills both
    or neither, the two amounts as text (reported with the row)."""
    is_debit = pc.invert(_matches(debit, _NOTHING))
    out = pc.if_else(is_debit, DEBIT, CREDIT)
    unclear = pc.equal(is_debit, pc.invert(_matches(credit, _NOTHING)))
    if pc.any(unclear).as_py():
        def text(word: str) -> pa.Scalar:
            return pa.scalar(word, pa.large_string())

        shown = pc.binary_join_element_wise(text("debit "), pc.if_else(_matches(debit, _BLANK), text("–"), debit),
                                            text(" / credit "), pc.if_else(_matches(credit, _BLANK), text("–"), credit),
                                            text(""))
        out = pc.if_else(unclear, shown, out)
    return out


def _unsigned(amount: pa.ChunkedArray | pa.Array, direction: pa.ChunkedArray | pa.Array
              ) -> tuple[pa.ChunkedArray | pa.Array, list[str]]:
    """`amount` without the minus (or brackets) a statement writes on every row of one direction
    ('-12,000.00' on each debit): the direction says it already. Where a direction's rows mix signs,
    a minus marks a reversal (红字) and stays, for the validation to reject (or to net, with
    `negative_amounts: keep`). Returns the amounts and the directions whose sign was dropped."""
    minus = _minus(amount)
    if not pc.any(minus).as_py():
        return amount, []
    filled = pc.invert(_matches(amount, _NOTHING))
    ways, strip = [], None
    for way in (DEBIT, CREDIT):
        side = pc.and_(pc.fill_null(pc.equal(direction, way), False), filled)
        rows = pc.sum(side).as_py() or 0
        if rows and pc.sum(pc.and_(side, minus)).as_py() == rows:
            ways.append(way)
            strip = side if strip is None else pc.or_(strip, side)
    if strip is None:
        return amount, []
    return pc.if_else(strip, pc.replace_substring_regex(amount, _SIGN, ""), amount), ways


def to_payments(frame: pd.DataFrame, units: dict[str, str], label: str, source: Source,
                preamble: Sequence[Sequence[str]] = ()) -> tuple[pd.DataFrame, StatementRead]:
    """The payments columns of a statement-shaped frame (other frames as they are), and what the
    reading found (the holder read from the title rows, `preamble`; the directions whose signs
    were dropped); `units` (money column → unit) gains `amount`'s.
    `source.negative_amounts == "debit"`: a statement's one signed amount says the direction.
    Raises InvalidData when a statement lacks a side or a direction."""
    given = [c for c in STATEMENT_COLUMNS if c in frame.columns]
    signed = source.negative_amounts == "debit"
    has_payer = any(f"payer_{s}" in frame.columns for s in _SIDES)
    has_payee = any(f"payee_{s}" in frame.columns for s in _SIDES)
    if signed and (not given or (has_payer and has_payee)):
        raise InvalidData(f"{label}: `negative_amounts: debit` reads an account statement's signed amounts "
                          "(holder, counterparty), and this file is not one: use `keep` or `reject`")
    if not given:
        return frame, StatementRead()
    if has_payer and has_payee:  # the file names both sides itself: its statement columns say nothing more
        return frame.drop(columns=given), StatementRead()
    holder = [c for c in ("holder_id", "holder_name") if c in frame.columns]
    other = [c for c in ("counterparty_id", "counterparty_name") if c in frame.columns]
    amounts = [c for c in STATEMENT_AMOUNTS if c in frame.columns]
    way = "direction" in frame.columns or bool(amounts) or (signed and "amount" in frame.columns)
    shown = ", ".join(given)
    if not way:
        raise InvalidData(f"{label}: names {shown} but not which way the money went: add the statement's "
                          "借贷标志 (debit/credit flag) or its 借方/贷方发生额 (debit and credit amounts), or "
                          "payer and payee columns; a signed amount (-1,200.00 paid out) is read with "
                          "`negative_amounts: debit` in a mapping")
    if not other:
        raise InvalidData(f"{label}: reads as an account statement ({shown}) but names no counterparty: "
                          "add 对方户名 (counterparty_name) or 对方客户号 (counterparty_id)")
    if has_payer or has_payee:
        raise InvalidData(f"{label}: names one side as payer or payee and the other as a statement's "
                          f"({shown}): map both as payer and payee, or both as holder and counterparty")
    titled = {} if holder else holder_from_title(preamble)
    if not holder and not titled:
        raise InvalidData(f"{label}: reads as an account statement ({shown}) but names no account holder, "
                          "in a column or above the headers: add 户名 / 本方户名 (holder_name) or 本方客户号 "
                          "(holder_id), or give it in a mapping (`defaults: {holder_name: …}`)")
    n = len(frame)
    nothing = pa.scalar(None, pa.large_string())

    def column(col: str) -> pa.ChunkedArray | pa.Array | pa.Scalar:
        if col in frame.columns:
            return to_arrow(frame[col])
        return pa.scalar(titled[col], pa.large_string()) if col in titled else nothing

    def whole(col: str) -> pa.ChunkedArray | pa.Array:
        found = column(col)
        return pa.repeat(found, n) if isinstance(found, pa.Scalar) else found

    signed_amount = None
    if "direction" in frame.columns:
        direction = _flags(to_arrow(frame["direction"]), source.values.get("direction"))
    elif amounts:
        direction = _from_amounts(whole("debit_amount"), whole("credit_amount"))
    else:  # one signed amount: a minus (or brackets) is money paid out
        signed_amount = to_arrow(frame["amount"])
        direction = pc.if_else(_minus(signed_amount), DEBIT, CREDIT)
    # a debit: the holder pays; anything else (a credit, or a row rejected for its direction): the holder is paid
    out = pc.fill_null(pc.equal(direction, DEBIT), False)
    result = frame.drop(columns=given)
    for side in _SIDES:
        mine, theirs = column(f"holder_{side}"), column(f"counterparty_{side}")
        result[f"payer_{side}"] = from_arrow(pc.if_else(out, mine, theirs), frame.index)  # a column: `out` is one
        result[f"payee_{side}"] = from_arrow(pc.if_else(out, theirs, mine), frame.index)
    if "counterparty_bank" in frame.columns:  # the payee's bank on a debit, the payer's on a credit
        result["payee_bank"] = from_arrow(pc.if_else(out, column("counterparty_bank"), nothing), frame.index)
        result["payer_bank"] = from_arrow(pc.if_else(out, nothing, column("counterparty_bank")), frame.index)
    amount = to_arrow(frame["amount"]) if "amount" in frame.columns else None
    if signed_amount is not None:
        amount = pc.replace_substring_regex(signed_amount, _SIGN, "")
    elif amount is None and amounts:
        debit, credit = whole("debit_amount"), whole("credit_amount")
        # a credit's amount; a row to be rejected for its direction shows whichever it has
        amount = pc.if_else(out, debit, pc.if_else(_matches(credit, _BLANK), debit, credit))
        stated = {units[c] for c in amounts if c in units}
        if len(stated) > 1:
            raise InvalidData(f"{label}: the debit and credit amounts are in different units "
                              f"({', '.join(sorted(stated))}); state one in a mapping (`units:`)")
        if stated:
            units["amount"] = stated.pop()
    ways: list[str] = []
    if signed_amount is None and amount is not None:  # a flag or two columns: a sign may repeat the direction
        amount, ways = _unsigned(amount, direction)
        if ways:
            log.info("%s: the minus on every %s read as its direction", label, " and ".join(ways))
    if amount is not None:
        result["amount"] = from_arrow(amount, frame.index)
    for col in amounts:
        units.pop(col, None)
    result["direction"] = from_arrow(direction, frame.index)
    return result, StatementRead(titled, ways)

