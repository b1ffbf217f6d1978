"""Account statements (流水) read as payments.

A bank's statement export names one side of each payment, the account holder (户名, 本方户名 or
本方客户号), the other side (对方户名, 对方客户号, 对方行名), and which way the money went: by a
flag (借贷标志: 借/贷, D/C, 支出/收入 …) or by which of two amount columns the row fills
(借方发生额 / 贷方发生额, 支出金额 / 收入金额; the other one blank or zero). A debit is money out
of the holder's account, so the holder pays the counterparty; a credit is money in, so the
counterparty pays the holder. `to_payments` turns such a file's columns into the payments
table's (payer, payee, amount, the payee's bank) with a few vectorised choices, before the rows
are validated.

A statement of one account often names its holder only above the headers ('户名：华东精密制造有限公司
账号：6222…', or the label and the name in cells side by side): that is read when no column names
the holder (`holder_from_title`); a mapping's `defaults: {holder_name: …}` (or `holder_id`) wins. The counterparty's bank is the payee's
bank on a debit; on a credit the payee is the holder and the counterparty's bank, the payer's,
has no column in the payments table and is not kept. Account numbers (账号, 对方账号) are no
party's id and are ignored. A row whose direction cannot be read keeps a `direction` the
validation rejects with its row number (`ingest.validate`); a file with payer and payee columns
of its own is read as they say.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from graph.errors import InvalidData
from ingest.aliases import STATEMENT_AMOUNTS, STATEMENT_COLUMNS, header_key
from ingest.normalise import blank, scrub_pii, to_amount
from ingest.values import CREDIT, DEBIT, canonical_value

__all__ = ["to_payments", "holder_from_title", "DIRECTION_REASON"]

DIRECTION_REASON = ("not a debit or a credit: give a flag (借/贷, D/C, 支出/收入; others under `values: "
                    "{direction: …}` in a mapping) or fill exactly one of the debit and credit amounts")

_SIDES = ("id", "name")

# how a statement's title labels its account holder ('户名：…'), by `header_key`
_TITLE_LABELS = {header_key(label): col for label, col in (
    ("户名", "holder_name"), ("账户名称", "holder_name"), ("账户名", "holder_name"), ("本方户名", "holder_name"),
    ("单位名称", "holder_name"), ("客户名称", "holder_name"), ("account name", "holder_name"),
    ("客户号", "holder_id"), ("客户编号", "holder_id"), ("本方客户号", "holder_id"))}
# 'label：value' pairs in one cell, a value ending at two spaces or at the next 'label：'
_PAIR = re.compile(r"([^\s:：]+(?: [^\s:：]+)?)\s*[:：]\s*(.+?)(?=\s{2,}|\s*[^\s:：]+\s*[:：]|\s*$)")


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


def _flags(raw: pd.Series, extra: dict[str, str] | None) -> pd.Series:
    """Each row's direction (DEBIT, CREDIT), or its raw text where it is neither; one lookup per
    distinct flag. A mapping's `values` may name a flag by its canonical word or another flag."""
    text = raw.astype("string").str.strip()
    codes, uniques = pd.factorize(text)
    read = []
    for flag in uniques:
        found = canonical_value("direction", str(flag), extra)
        read.append(canonical_value("direction", found) if found is not None else None)
    mapped = np.array([r if r is not None else str(u) for r, u in zip(read, uniques, strict=True)] + [None],
                      dtype=object)
    return pd.Series(mapped[codes], index=raw.index, dtype="string")


# what a statement writes on the side a row does not fill, besides a blank or a zero
_NOTHING = r"[-–—－/\\]+"


def _filled(raw: pd.Series) -> pd.Series:
    """True where an amount column holds something other than blank, zero or a dash (text that is
    no amount counts as filled: the validation then rejects it as no amount)."""
    text = raw.astype("string")
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(uniques, dtype="string")
    values, _ = to_amount(distinct)
    nothing = blank(distinct) | distinct.str.strip().str.fullmatch(_NOTHING).fillna(False) | (values == 0).fillna(False)
    filled = (~nothing).to_numpy(dtype=bool)
    return pd.Series(np.append(filled, False)[codes], index=raw.index)


def _from_amounts(frame: pd.DataFrame) -> pd.Series:
    """Each row's direction from which of the debit and credit amounts it fills; where it fills
    both or neither, the two amounts as text (reported with the row)."""
    empty = pd.Series(pd.NA, index=frame.index, dtype="string")
    debit_raw = frame.get("debit_amount", empty).astype("string")
    credit_raw = frame.get("credit_amount", empty).astype("string")
    debit, credit = _filled(debit_raw), _filled(credit_raw)
    both_or_none = (debit.fillna(False) == credit.fillna(False)).to_numpy()
    out = pd.Series(np.where(debit.to_numpy(dtype=bool), DEBIT, CREDIT), index=frame.index, dtype="string")
    if both_or_none.any():
        shown = "debit " + debit_raw.mask(blank(debit_raw), "–") + " / credit " + credit_raw.mask(blank(credit_raw), "–")
        out = out.mask(pd.Series(both_or_none, index=frame.index), shown)
    return out


def to_payments(frame: pd.DataFrame, units: dict[str, str], label: str, values: dict[str, dict[str, str]],
                preamble: Sequence[Sequence[str]] = ()) -> tuple[pd.DataFrame, dict[str, str]]:
    """The payments columns of a statement-shaped frame (other frames as they are), and the holder
    read from the title rows (`preamble`) if it was; `units` (money column → unit) gains `amount`'s.
    Raises InvalidData when a statement lacks a side or a direction."""
    given = [c for c in STATEMENT_COLUMNS if c in frame.columns]
    if not given:
        return frame, {}
    has_payer = any(f"payer_{s}" in frame.columns for s in _SIDES)
    has_payee = any(f"payee_{s}" in frame.columns for s in _SIDES)
    if has_payer and has_payee:  # the file names both sides itself: its statement columns say nothing more
        return frame.drop(columns=given), {}
    holder = [c for c in ("holder_id", "holder_name") if c in frame.columns]
    other = [c for c in ("counterparty_id", "counterparty_name") if c in frame.columns]
    amounts = [c for c in STATEMENT_AMOUNTS if c in frame.columns]
    way = "direction" in frame.columns or bool(amounts)
    shown = ", ".join(given)
    if not way:
        raise InvalidData(f"{label}: names {shown} but not which way the money went: add the statement's "
                          "借贷标志 (debit/credit flag) or its 借方/贷方发生额 (debit and credit amounts), or "
                          "payer and payee columns")
    if not other:
        raise InvalidData(f"{label}: reads as an account statement ({shown}) but names no counterparty: "
                          "add 对方户名 (counterparty_name) or 对方客户号 (counterparty_id)")
    if has_payer or has_payee:
        raise InvalidData(f"{label}: names one side as payer or payee and the other as a statement's "
                          f"({shown}): map both as payer and payee, or both as holder and counterparty")
    titled = {} if holder else holder_from_title(preamble)
    if titled:
        frame = frame.assign(**{col: pd.Series(value, index=frame.index, dtype="string")
                                for col, value in titled.items()})
        given = [c for c in STATEMENT_COLUMNS if c in frame.columns]
    elif not holder:
        raise InvalidData(f"{label}: reads as an account statement ({shown}) but names no account holder, "
                          "in a column or above the headers: add 户名 / 本方户名 (holder_name) or 本方客户号 "
                          "(holder_id), or give it in a mapping (`defaults: {holder_name: …}`)")
    if "direction" in frame.columns:
        direction = _flags(frame["direction"], values.get("direction"))
    else:
        direction = _from_amounts(frame)
    # a debit: the holder pays; anything else (a credit, or a row rejected for its direction): the holder is paid
    out = pd.Series((direction == DEBIT).fillna(False).to_numpy(dtype=bool), index=frame.index)
    result = frame.drop(columns=given)
    empty = pd.Series(pd.NA, index=frame.index, dtype="string")
    for side in _SIDES:
        mine = frame.get(f"holder_{side}", empty).astype("string")
        theirs = frame.get(f"counterparty_{side}", empty).astype("string")
        result[f"payer_{side}"] = mine.where(out, theirs)
        result[f"payee_{side}"] = theirs.where(out, mine)
    if "counterparty_bank" in frame.columns:
        result["payee_bank"] = frame["counterparty_bank"].astype("string").where(out, empty)
    if "amount" not in frame.columns and amounts:
        debit = frame.get("debit_amount", empty).astype("string")
        credit = frame.get("credit_amount", empty).astype("string")
        # a credit's amount; a row to be rejected for its direction shows whichever it has
        result["amount"] = debit.where(out, credit.where(~blank(credit), debit))
        stated = {units[c] for c in amounts if c in units}
        if len(stated) > 1:
            raise InvalidData(f"{label}: the debit and credit amounts are in different units "
                              f"({', '.join(sorted(stated))}); state one in a mapping (`units:`)")
        if stated:
            units["amount"] = stated.pop()
    for col in amounts:
        units.pop(col, None)
    result["direction"] = direction
    return result, titled
