"""The prospect frame: a family's rows as one Arrow table built column-wise.

A family returns either a frame (`FRAME_SCHEMA`) or, for families not yet converted, a list of
`Prospect`s that `from_prospects` turns into one. Nested parts are Arrow columns:

- ``evidence``: list<struct<name, label_en, label_zh, value, value_num, contribution>> (a value
  is text in ``value`` or a number in ``value_num``);
- ``reasons``: list<struct<template, params: list<struct<key, value>>>>: a template id of
  `scoring.templates` and its parameters, rendered in zh or en when a row is shown;
- ``path``, ``suggested_products``: list<string>; ``details``: JSON text.

`build_frame` makes a kind's rows from a scored DataFrame: each evidence bar, reason, product
and path step is a column (or a constant kept where a boolean column is true); lists are put
together by `interleave` with numpy indices, never row by row.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, cast

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.nested import EVIDENCE_ITEM, PARAM, REASON_ITEM
from scoring.explain import Prospect
from scoring.features import duckdb_cursor
from scoring.templates import TEXT

__all__ = ["FRAME_SCHEMA", "Bar", "ReasonSlot", "SlotValues", "build_frame", "from_prospects", "interleave",
           "empty_frame", "json_column", "constant", "evidence_fields"]

FRAME_SCHEMA = pa.schema([
    ("family", pa.string()), ("kind", pa.string()), ("prospect_id", pa.string()), ("name", pa.string()),
    ("score", pa.float64()), ("reasons", pa.list_(REASON_ITEM)), ("evidence", pa.list_(EVIDENCE_ITEM)),
    ("path", pa.list_(pa.string())), ("suggested_products", pa.list_(pa.string())),
    ("manager_id", pa.string()), ("branch_id", pa.string()), ("anchor_id", pa.string()),
    ("association_id", pa.string()), ("employer_id", pa.string()), ("is_deepening", pa.bool_()),
    ("details", pa.string()),
])


@dataclass(frozen=True)
class Bar:
    """One evidence item of a kind: the column holding its value and the one holding its points."""

    name: str
    label_en: str
    label_zh: str
    value_col: str
    points_col: str


@dataclass(frozen=True)
class ReasonSlot:
    """A reason sentence: its template, the columns giving its parameters, and when it applies
    (a boolean column; None: always)."""

    template: str
    params: Mapping[str, str] = field(default_factory=dict)
    when: str | None = None


def empty_frame() -> pa.Table:
    return FRAME_SCHEMA.empty_table()


# A slot of `interleave`: a column, or the fields of a struct by name, each a column or a scalar
# (the same value in every row: a label, a parameter's key, a template id).
SlotValues: TypeAlias = pa.Array | Mapping[str, pa.Array | pa.Scalar]


def interleave(slots: Sequence[tuple[np.ndarray | None, SlotValues]], n: int, item: pa.StructType | None = None
               ) -> pa.ListArray:
    """Row i's list holds slot k's i-th value wherever slot k's mask is true, slots in order.

    With `item`, each slot gives the struct's fields by name and the lists hold structs of that
    type: a field that is a scalar in every slot is taken from the k scalars once, never repeated
    n times per slot and gathered again (nine evidence bars over n rows made each of the three
    labels 9n strings twice, then gathered them).
    """
    k = len(slots)
    if k == 0:
        return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, dtype=np.int32)),
                                        pa.array([], pa.null() if item is None else item))
    keep = np.stack([np.ones(n, dtype=bool) if m is None else np.asarray(m, dtype=bool) for m, _ in slots], axis=1)
    index = np.arange(k)[None, :] * n + np.arange(n)[:, None]  # n x k: position in the concatenation
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    positions = index[keep]
    which = pa.array(positions)
    if item is None:
        values = pa.concat_arrays([cast(pa.Array, a) for _, a in slots]).take(which)
        return pa.ListArray.from_arrays(pa.array(offsets), values)
    slot_of = pa.array(positions // n)  # each value's slot
    children = []
    for f in item:
        parts = [cast(Mapping[str, pa.Array | pa.Scalar], fields)[f.name] for _, fields in slots]
        if all(isinstance(part, pa.Scalar) for part in parts):
            children.append(pa.array([part.as_py() for part in parts], f.type).take(slot_of))
        else:
            children.append(pa.concat_arrays([(part if isinstance(part, pa.Array) else pa.repeat(part, n)).cast(f.type)
                                              for part in parts]).take(which))
    return pa.ListArray.from_arrays(pa.array(offsets), pa.StructArray.from_arrays(children, fields=list(item)))


def constant(value: Any, n: int, type_: pa.DataType = pa.string()) -> pa.Array:
    """A column holding one value n times (built by Arrow, no Python list of n items)."""
    return pa.repeat(pa.scalar(value, type_), n)


def _text(values: pd.Series | np.ndarray | Any, n: int) -> pa.Array:
    """A column (or a constant) as Arrow strings; numbers keep their digits, missing is null."""
    if not isinstance(values, pd.Series | np.ndarray):
        return constant(None if values is None else str(values), n)
    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s.dtype):
        return pa.array(s.astype("boolean").map({True: "true", False: "false"}).astype("string"), pa.string())
    if pd.api.types.is_numeric_dtype(s.dtype):
        return pa.array(pd.to_numeric(s), pa.float64()).cast(pa.string())
    return pa.array(s.astype("string"), pa.string())


def _evidence_slot(bar: Bar, value: pd.Series, points: np.ndarray) -> dict[str, pa.Array | pa.Scalar]:
    n = len(points)
    if pd.api.types.is_bool_dtype(value.dtype):
        text = pa.array(value.astype("boolean").map({True: "yes", False: "no"}).astype("string"), pa.string())
        num = pa.nulls(n, pa.float64())
    elif pd.api.types.is_numeric_dtype(value.dtype):
        text = pa.nulls(n, pa.string())
        num = pa.array(pd.to_numeric(value).astype("float64").round(4).to_numpy(na_value=np.nan), pa.float64(),
                       from_pandas=True)
    else:
        text = pa.array(value.astype("string"), pa.string())
        num = pa.nulls(n, pa.float64())
    return evidence_fields(bar.name, bar.label_en, bar.label_zh, text, num, points)


def evidence_fields(name: str, label_en: str, label_zh: str, text: pa.Array, num: pa.Array,
                    points: np.ndarray) -> dict[str, pa.Array | pa.Scalar]:
    """One evidence bar as `interleave` slot fields (`EVIDENCE_ITEM`): its name and labels as
    scalars, its value as text or a number, its points."""
    return {"name": pa.scalar(name), "label_en": pa.scalar(label_en), "label_zh": pa.scalar(label_zh),
            "value": text, "value_num": num, "contribution": pa.array(points, pa.float64())}


def round_like_python(values: np.ndarray, digits: int) -> np.ndarray:
    """`round(x, digits)` of Python (correctly rounded) over an array: numpy's rounding, then the
    few values near a half-way point rounded again by Python so scores match the scalar rule."""
    values = np.asarray(values, dtype="float64")
    out = np.round(values, digits)
    scaled = values * 10.0 ** digits
    near = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    for i in near.tolist():  # a handful of ties, not a pass over the rows
        out[i] = round(float(values[i]), digits)
    return out


def finalise_points(points: np.ndarray, cap: float = 100.0) -> np.ndarray:
    """`scoring.explain.finalise_scores` over a rows x bars matrix: clamp each row's total into
    [0, cap] proportionally, keeping score == sum(contributions)."""
    total = np.zeros(len(points))
    negatives = np.zeros(len(points))
    for j in range(points.shape[1]):  # left to right, as Python's sum adds them
        total = total + points[:, j]
        negatives = negatives + np.minimum(points[:, j], 0.0)
    out = points.copy()
    over = (total > cap) & (total > 0)
    out[over] = points[over] * (cap / total[over])[:, None]
    under = total < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(negatives != 0, (negatives - total) / negatives, 1.0)
    scaled = points * factor[:, None]
    out[under] = np.where(points[under] < 0, scaled[under], points[under])
    return out


def json_column(columns: Mapping[str, pa.Array | pd.Series]) -> pa.Array:
    """One JSON object per row from named columns, written by DuckDB (no Python per row)."""
    table = pa.table({k: v if isinstance(v, pa.Array | pa.ChunkedArray) else pa.array(v, from_pandas=True)
                      for k, v in columns.items()})
    con = duckdb_cursor()
    try:
        con.register("d", table)
        return con.sql("SELECT to_json(d)::VARCHAR AS j FROM d").arrow().read_all()["j"].combine_chunks()
    finally:
        con.close()


def _rounded(values: np.ndarray, digits: int | None) -> np.ndarray:
    return values if digits is None else round_like_python(values, digits)


def build_frame(rows: pd.DataFrame, *, family: str, kind: str, bars: Iterable[Bar],
                reasons: Iterable[ReasonSlot], products: Iterable[tuple[str, str | None]],
                path: Iterable[str], details: Mapping[str, pa.Array | pd.Series],
                ids: Mapping[str, str] | None = None, digits: int | None = 4) -> pa.Table:
    """The frame of one kind from scored rows (one column per bar value and bar points).

    `products`: (product code, boolean column or None); `path`: columns whose non-empty
    values make the path; `ids`: frame column -> rows column for the id columns present;
    `digits`: the points are rounded to so many places first (None: kept as given); a boolean
    `is_deepening` column of `rows` is kept.
    """
    rows = rows.reset_index(drop=True)
    n = len(rows)
    bars = list(bars)
    raw = np.column_stack([_rounded(rows[b.points_col].to_numpy(dtype="float64"), digits) for b in bars]) \
        if bars else np.zeros((n, 0))
    points = finalise_points(raw)
    score = np.zeros(n)
    for j in range(points.shape[1]):
        score = score + points[:, j]
    evidence = interleave([(None, _evidence_slot(b, rows[b.value_col], points[:, j]))
                           for j, b in enumerate(bars)], n, EVIDENCE_ITEM)
    reason_slots: list[tuple[np.ndarray | None, SlotValues]] = []
    for slot in reasons:
        params = interleave([(None, {"key": pa.scalar(key), "value": _text(rows[col] if col in rows else col, n)})
                             for key, col in slot.params.items()], n, PARAM)
        reason_slots.append((None if slot.when is None else rows[slot.when].fillna(False).to_numpy(bool),
                             {"template": pa.scalar(slot.template), "params": params}))
    product_slots = [(None if when is None else rows[when].fillna(False).to_numpy(bool),
                      constant(code, n)) for code, when in products]
    path_slots = []
    for col in path:
        text = rows[col].astype("string")
        path_slots.append(((text.notna() & (text != "")).to_numpy(bool), pa.array(text, pa.string())))
    ids = dict(ids or {})
    columns: dict[str, Any] = {
        "family": constant(family, n), "kind": constant(kind, n),
        "prospect_id": _text(rows["prospect_id"], n),
        "name": pa.array(rows["name"].astype("string").fillna(rows["prospect_id"].astype("string")), pa.string()),
        "score": pa.array(round_like_python(score, 6), pa.float64()),
        "reasons": interleave(reason_slots, n, REASON_ITEM),
        "evidence": evidence,
        "path": interleave(path_slots, n).cast(pa.list_(pa.string())),
        "suggested_products": interleave(product_slots, n).cast(pa.list_(pa.string())),
    }
    for col in ("manager_id", "branch_id", "anchor_id", "association_id", "employer_id"):
        source = ids.get(col, col)
        if source in rows:
            text = rows[source].astype("string").str.strip()
            columns[col] = pa.array(text.where(text != ""), pa.string())
        else:
            columns[col] = pa.nulls(n, pa.string())
    columns["is_deepening"] = pa.array(rows["is_deepening"].fillna(False).to_numpy(bool) if "is_deepening" in rows
                                       else np.zeros(n, dtype=bool))
    columns["details"] = json_column(details) if n else pa.array([], pa.string())
    return pa.table(columns, schema=FRAME_SCHEMA)


def from_prospects(prospects: Iterable[Prospect]) -> pa.Table:
    """Legacy families' `Prospect` objects as a frame (a per-row loop, for those families only).

    The loop allocates a dict per evidence item; the garbage collector's passes over the many
    objects a family leaves alive cost more than the loop itself, so it is paused meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _from_prospects(prospects)
    finally:
        if was_enabled:
            gc.enable()


def _from_prospects(prospects: Iterable[Prospect]) -> pa.Table:
    records = []
    for p in prospects:
        records.append({
            "family": p.family, "kind": p.kind, "prospect_id": p.prospect_id, "name": p.name, "score": p.score,
            "reasons": [{"template": TEXT, "params": [{"key": "en", "value": r.en}, {"key": "zh", "value": r.zh}]}
                        for r in p.reasons],
            "evidence": [_evidence_record(e.__dict__) for e in p.evidence],  # __dict__: attribute reads cost µs
            "path": list(p.path), "suggested_products": list(p.suggested_products),
            "manager_id": p.manager_id, "branch_id": p.branch_id, "anchor_id": p.anchor_id,
            "association_id": p.association_id, "employer_id": p.employer_id, "is_deepening": p.is_deepening,
            "details": _json_dumps(p.details),
        })
    return pa.Table.from_pylist(records, schema=FRAME_SCHEMA)


def _evidence_record(e: dict[str, Any]) -> dict[str, Any]:
    value = e.get("value")
    return {"name": e["name"], "label_en": e["label_en"], "label_zh": e["label_zh"],
            "value": value if isinstance(value, str) else None,
            "value_num": None if isinstance(value, str) or value is None else float(value),
            "contribution": e["contribution"]}


def _json_dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str)
