"""The referral family's rows as a frame (`scoring.frame.FRAME_SCHEMA`), built column-wise.

A kind's SQL gives one Arrow table with the frame's id columns, ``path``,
``suggested_products`` and ``details`` (JSON text) ready; `kind_frame` adds:

- ``evidence`` from `Bar`s: a value column (text, or a number: a yes/no is 1.0/0.0, as the
  family always stored it) and a points array per bar, clamped into 0..100 proportionally
  (`scoring.frame.finalise_points`), the score being their sum;
- ``reasons`` from `Slot`s: a template id (one for all rows, or one per row) and its
  parameters (text columns; a null parameter is left out of that row), kept where ``when`` is true.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.arrays import one_array
from scoring.frame import (
    EVIDENCE_ITEM,
    FRAME_SCHEMA,
    PARAM,
    REASON_ITEM,
    SlotValues,
    constant,
    evidence_fields,
    finalise_points,
    interleave,
    round_like_python,
)

__all__ = ["Bar", "Slot", "kind_frame", "column", "mask"]


@dataclass(frozen=True)
class Bar:
    """One evidence item: its name and labels, the value of each row and the points."""

    name: str
    label_en: str
    label_zh: str
    value: pa.Array
    points: np.ndarray


@dataclass(frozen=True)
class Slot:
    """A reason sentence: its template (an id, or a column of ids) and parameters; `when`: the
    rows that have it (None: all)."""

    template: str | pa.Array
    params: Mapping[str, pa.Array] = field(default_factory=dict)
    when: np.ndarray | None = None


def column(table: pa.Table, name: str) -> pa.Array:
    """A column of a query result as one array (its one chunk as it is: no copy)."""
    values = table[name]
    return one_array(values)


def mask(table: pa.Table, name: str) -> np.ndarray:
    """A boolean column as a numpy mask (null: false)."""
    return np.asarray(pc.fill_null(column(table, name), False).to_numpy(zero_copy_only=False), dtype=bool)


def _evidence_item(bar: Bar, points: np.ndarray) -> dict[str, pa.Array | pa.Scalar]:
    n = len(points)
    if pa.types.is_string(bar.value.type) or pa.types.is_large_string(bar.value.type):
        text, num = bar.value.cast(pa.string()), pa.nulls(n, pa.float64())
    else:
        text, num = pa.nulls(n, pa.string()), bar.value.cast(pa.float64())
    return evidence_fields(bar.name, bar.label_en, bar.label_zh, text, num, points)


def _reason_item(slot: Slot, n: int) -> dict[str, pa.Array | pa.Scalar]:
    params: list[tuple[np.ndarray | None, SlotValues]] = []
    for key, values in slot.params.items():
        values = values.cast(pa.string())
        present = np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)
        params.append((present, {"key": pa.scalar(key), "value": values}))
    template = slot.template if isinstance(slot.template, pa.Array) else pa.scalar(slot.template)
    return {"template": template, "params": interleave(params, n, PARAM)}


def kind_frame(rows: pa.Table, *, family: str, kind: str, bars: Sequence[Bar], reasons: Sequence[Slot]) -> pa.Table:
    """The frame of one kind: `rows` (id columns, path, suggested_products, is_deepening,
    details) with evidence, score and reasons added, in `FRAME_SCHEMA`."""
    n = rows.num_rows
    points = finalise_points(np.column_stack([b.points for b in bars]) if bars else np.zeros((n, 0)))
    score = np.zeros(n)
    for j in range(points.shape[1]):  # left to right, as Python's sum adds a row's contributions
        score = score + points[:, j]
    evidence = interleave([(None, _evidence_item(b, points[:, j])) for j, b in enumerate(bars)], n, EVIDENCE_ITEM)
    reason_list = interleave([(s.when, _reason_item(s, n)) for s in reasons], n, REASON_ITEM)
    columns = {
        "family": constant(family, n), "kind": constant(kind, n),
        "prospect_id": column(rows, "prospect_id"), "name": column(rows, "name"),
        "score": pa.array(round_like_python(score, 6), pa.float64()),
        "reasons": reason_list, "evidence": evidence,
        "path": column(rows, "path"), "suggested_products": column(rows, "suggested_products"),
    }
    for name in ("manager_id", "branch_id", "anchor_id", "association_id", "employer_id", "is_deepening",
                 "details"):
        columns[name] = column(rows, name) if name in rows.column_names else pa.nulls(n, FRAME_SCHEMA.field(name).type)
    return pa.table({k: v.cast(FRAME_SCHEMA.field(k).type) for k, v in columns.items()}, schema=FRAME_SCHEMA)
