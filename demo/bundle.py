"""The demo bundle generator (and, with `scale`, the benchmark-scale one).

`write_bundle(out)` writes the demo bundle: DOMAIN.md's cases at small scale, in Chinese,
around the ids of `demo.cases`, with the mess of real exports (a GBK file, Chinese
headers and values, counterparties known only by name variants, amounts like ``1,234.50``
and ``12.5万元``, dates like ``2024/03/05`` and ``2024年03月05日``, and a few bad rows that
ingest must reject). `write_bundle(out, scale=N)` writes the same structure at benchmark
size (`demo.scale`). Both are deterministic for a seed.

Example:
    >>> from pathlib import Path; import tempfile
    >>> stats = write_bundle(Path(tempfile.mkdtemp()) / "bundle", seed=7)
    >>> stats["payroll"] > 20_000
    True
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

from demo import cases as dc
from demo.flows import demo_flows
from demo.nodes import Rows, demo_nodes
from graph.errors import InvalidRequest
from ingest.aliases import TABLE_COLUMNS, ZH_HEADERS

__all__ = ["write_bundle", "ENCODINGS"]

# How each demo file is written: (encoding, Chinese headers?). Everything else is UTF-8 with English headers.
ENCODINGS: dict[str, tuple[str, bool]] = {
    "payments": ("utf-8-sig", True),
    "persons": ("gbk", True),
    "payroll": ("utf-8", True),
    "roles": ("utf-8", True),
    "memberships": ("utf-8", True),
    "managers": ("utf-8", True),
}
MIN_SCALE = 1_000


def write_bundle(out: Path, seed: int = 7, scale: int | None = None) -> dict[str, int]:
    """Write a bundle into folder `out`; returns rows written per table (bad rows included).

    Raises:
        InvalidRequest: `out` is an existing file, or `scale` is below 1,000.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidRequest(f"{out} is a file; give a folder to write the bundle into")
    if scale is not None:
        if scale < MIN_SCALE:
            raise InvalidRequest(f"--scale must be at least {MIN_SCALE:,} payment rows (got {scale:,})")
        from demo.scale import write_scale_bundle

        out.mkdir(parents=True, exist_ok=True)
        return write_scale_bundle(out, seed=seed, scale=scale)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    tables = demo_nodes(rng)
    flows = demo_flows(rng, tables)
    tables["persons"] = tables["persons"] + flows.pop("staff")
    tables.update(flows)
    _mess_up(rng, tables)
    stats = {}
    for table, rows in tables.items():
        encoding, chinese = ENCODINGS.get(table, ("utf-8", False))
        _write_csv(out / f"{table}.csv", table, rows, encoding, chinese)
        stats[table] = len(rows)
    return stats


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _write_csv(path: Path, table: str, rows: list[dict[str, Any]], encoding: str, chinese: bool) -> None:
    columns = [c for c in TABLE_COLUMNS[table] if c in rows[0]] if rows else list(TABLE_COLUMNS[table])
    header = [ZH_HEADERS[table][c] if chinese else c for c in columns]
    # newline="" lets csv write its own line ends; GBK fails loudly on a character it lacks
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_fmt(row.get(c)) for c in columns])


def _wan(amount: float) -> str:
    """An amount in 万元 (×10,000), as some exports write it."""
    return f"{amount / 10_000:.4f}".rstrip("0").rstrip(".") + "万元"


def _mess_up(rng: random.Random, tables: Rows) -> None:
    """Format a few values the way real exports do, and plant the bad rows of `dc.BAD_ROWS`."""
    payments = tables["payments"]
    picked = rng.sample(range(len(payments)), 16)
    for k, i in enumerate(picked):
        row = payments[i]
        if k < 4:
            row["amount"] = f"{row['amount']:,.2f}"
        elif k < 8:
            row["amount"] = _wan(round(row["amount"], -2))
        elif k < 12:
            row["paid_on"] = row["paid_on"].strftime("%Y/%m/%d")
        else:
            row["paid_on"] = row["paid_on"].strftime("%Y年%m月%d日")
    bills = tables["bills"]
    bills[-2]["issued_on"] = bills[-2]["issued_on"].strftime("%Y%m%d")
    bills[-3]["amount"] = f"{bills[-3]['amount']:,.2f}"
    template = dict(payments[0])
    bad = [
        {**template, "paid_on": "2024-13-45"},
        {**template, "amount": "-3,500.00"},
        {**template, "amount": "待定"},
        {**template, "payee_id": "", "payee_name": ""},
    ]
    for row in bad:
        payments.insert(rng.randrange(1, len(payments)), row)
    payroll = tables["payroll"]
    payroll.insert(rng.randrange(1, len(payroll)),
                   {"employer_id": dc.SUPERMARKET, "person_id": dc.SUPERMARKET_STAFF_IDS[999], "month": "2024-13",
                    "amount": 5200.0})
