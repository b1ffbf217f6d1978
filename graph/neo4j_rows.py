"""Tables to Cypher parameter rows and back, and the delta between two versions of a table.

Pure functions, no driver: the Neo4j store and its tests share them. A write sends only
what changed (rows new or different, rows gone), so re-writing the same table sends
nothing and a new month sends only its own rows — the same idempotent, incremental
behaviour as the embedded store, at the cost of comparing against the current table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd

from graph.errors import InvalidData
from graph.neo4j_cypher import EDGE_TYPES, NODE_LABELS, ROW_LABELS
from graph.schema import TABLES

__all__ = ["batched", "row_keys", "encode_value", "encode_records", "plan_delta", "TableDelta",
           "decode_records", "label_of", "INTERNAL"]

T = TypeVar("T")
INTERNAL = ("_store", "_key", "_pos", "_lock")
_SEP = "\x1f"  # between key parts: never in an id or a name the bank exports


def batched(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """`items` in consecutive lists of at most `size` (the UNWIND batch)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def label_of(table: str) -> str:
    """The Neo4j label of a table's rows (edges have relationship types instead)."""
    return NODE_LABELS.get(table) or ROW_LABELS[table]


def row_keys(table: str, df: pd.DataFrame) -> list[str]:
    """One stable key per row from the table's key columns.

    Node tables are keyed by `id`, which must be present and unique (ids are the graph's
    identity). Other tables may repeat a key: the second and later copies get an ordinal,
    so every row survives the round trip exactly as the embedded store keeps it.
    """
    spec = TABLES[table]
    if spec.node_kind:
        ids = df["id"]
        if ids.isna().any():
            raise InvalidData(f"{table}: {int(ids.isna().sum())} row(s) without an id")
        dup = ids[ids.duplicated()]
        if not dup.empty:
            raise InvalidData(f"{table}: duplicate id(s) {', '.join(map(str, dup.unique()[:5]))}")
        return [str(v) for v in ids.tolist()]
    parts = [df[c].astype("string").fillna("") for c in spec.key]
    keys = parts[0].str.cat(pd.concat(parts[1:], axis=1), sep=_SEP) if len(parts) > 1 else parts[0]
    out = [str(k) for k in keys.tolist()]
    if bool(keys.duplicated().any()):
        seen = keys.groupby(keys).cumcount().tolist()
        out = [k if n == 0 else f"{k}{_SEP}#{n}" for k, n in zip(out, seen, strict=True)]
    return out


def encode_value(value: Any, native_dates: bool = True) -> Any:
    """A pandas cell as a Bolt value (None for missing). Dates go as Neo4j dates, or ISO text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(value)
        midnight = ts == ts.normalize()
        if not native_dates:
            return ts.date().isoformat() if midnight else ts.isoformat()
        return ts.date() if midnight else ts.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _encode_column(s: pd.Series, native_dates: bool) -> list[Any]:
    if pd.api.types.is_datetime64_any_dtype(s):
        return [encode_value(v, native_dates) for v in s.tolist()]
    if pd.api.types.is_float_dtype(s):
        return [None if v != v else v for v in s.tolist()]  # NaN is missing
    # string, boolean and Int64 columns: pd.NA marks what is missing
    return [None if v is pd.NA or v is None else v for v in s.astype(object).tolist()]


def encode_records(df: pd.DataFrame, native_dates: bool = True) -> list[dict[str, Any]]:
    """Rows as property maps without missing values (a missing value is an absent property)."""
    cols = list(df.columns)
    values = [_encode_column(df[c], native_dates) for c in cols]
    out: list[dict[str, Any]] = []
    for row in zip(*values, strict=True) if cols else [() for _ in range(len(df))]:
        out.append({c: v for c, v in zip(cols, row, strict=True) if v is not None})
    return out


@dataclass
class TableDelta:
    """What one table's write sends: rows to upsert and rows to delete, by label or type."""

    table: str
    upserts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deletes: dict[str, list[Any]] = field(default_factory=dict)
    orphan_candidates: set[str] = field(default_factory=set)

    @property
    def rows_sent(self) -> int:
        return sum(map(len, self.upserts.values())) + sum(map(len, self.deletes.values()))


def _fingerprints(df: pd.DataFrame) -> Any:
    """One 64-bit hash of each row's values (positions are compared separately)."""
    if df.empty:
        return []
    return pd.util.hash_pandas_object(df, index=False).to_numpy()


def plan_delta(table: str, old: pd.DataFrame, new: pd.DataFrame, namespace: str,
               native_dates: bool = True) -> TableDelta:
    """The upserts and deletes that turn `old` into `new` (both conformed to the schema).

    A row is re-sent when it is new, its values changed or its position changed (position
    is kept so a table reads back in the order it was written, as on the embedded store).
    """
    delta = TableDelta(table)
    old_keys, new_keys = row_keys(table, old), row_keys(table, new)
    before = pd.DataFrame({"key": old_keys, "pos": range(len(old)), "hash": _fingerprints(old)},
                          columns=["key", "pos", "hash"])
    after = pd.DataFrame({"key": new_keys, "pos": range(len(new)), "hash": _fingerprints(new)},
                         columns=["key", "pos", "hash"])
    both = after.merge(before, on="key", how="left", suffixes=("", "_old"), sort=False)
    same = (both["pos"] == both["pos_old"]) & (both["hash"] == both["hash_old"])
    changed = both.loc[~same.fillna(False).to_numpy(dtype=bool), "pos"].astype(int).tolist()
    gone = sorted(set(old_keys) - set(new_keys))
    if table == "edges":
        _plan_edges(delta, old, new, old_keys, new_keys, changed, gone, native_dates)
        return delta
    label = label_of(table)
    records = encode_records(new.iloc[changed], native_dates)
    rows = []
    for i, props in zip(changed, records, strict=True):
        props.update({"_store": namespace, "_pos": i})
        if TABLES[table].node_kind:
            rows.append({"id": new_keys[i], "props": props})
        else:
            props["_key"] = new_keys[i]
            rows.append({"key": new_keys[i], "props": props})
    if rows:
        delta.upserts[label] = rows
    if gone:
        delta.deletes[label] = gone
        if TABLES[table].node_kind:
            delta.orphan_candidates.update(gone)
    return delta


def _plan_edges(delta: TableDelta, old: pd.DataFrame, new: pd.DataFrame, old_keys: list[str],
                new_keys: list[str], changed: list[int], gone: list[str], native_dates: bool) -> None:
    for frame in (new, old):
        bad = sorted(set(frame["kind"].dropna().astype(str)) - set(EDGE_TYPES))
        if bad or frame["kind"].isna().any() or frame["src"].isna().any() or frame["dst"].isna().any():
            what = f"unknown kind(s) {', '.join(bad)}" if bad else "rows without src, dst or kind"
            raise InvalidData(f"edges: {what}; kinds are {', '.join(EDGE_TYPES)}")
    props_cols = [c for c in new.columns if c not in ("src", "dst", "kind")]
    records = encode_records(new.iloc[changed][props_cols], native_dates)
    for i, props in zip(changed, records, strict=True):
        props.update({"_key": new_keys[i], "_pos": i})
        row = {"src": str(new.at[i, "src"]), "dst": str(new.at[i, "dst"]), "key": new_keys[i], "props": props}
        delta.upserts.setdefault(str(new.at[i, "kind"]), []).append(row)
    where = {k: i for i, k in enumerate(old_keys)}
    for key in gone:
        i = where[key]
        src, dst = str(old.at[i, "src"]), str(old.at[i, "dst"])
        delta.deletes.setdefault(str(old.at[i, "kind"]), []).append({"src": src, "dst": dst, "key": key})
        delta.orphan_candidates.update((src, dst))


def _decode_value(value: Any) -> Any:
    native = getattr(value, "to_native", None)  # neo4j.time.Date / DateTime
    return native() if callable(native) else value


def decode_records(table: str, records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Property maps read back from Neo4j as a frame in written order, internals dropped."""
    rows = [{k: _decode_value(v) for k, v in rec.items()} for rec in records]
    df = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    if "_pos" in df.columns:
        df = df.sort_values("_pos", kind="stable")
    df = df.drop(columns=[c for c in INTERNAL if c in df.columns]).reset_index(drop=True)
    for col, dtype in TABLES[table].columns.items():
        if dtype == "date" and col in df.columns:
            df[col] = [pd.NaT if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                       else pd.Timestamp(v) for v in df[col].tolist()]
    return df
