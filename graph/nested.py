"""The nested columns of the stored tables: Arrow lists kept as they are in Parquet and between
steps, JSON text wherever a row leaves Arrow for a wider world (pandas callers, Neo4j, exports).

`prospects` keeps each row's explanation nested (`NESTED`):

- ``reasons``: list<struct<template, params: list<struct<key, value>>>>: a template id of
  `scoring.templates` and its parameters, rendered in zh or en when a row is shown;
- ``evidence``: list<struct<name, label_en, label_zh, value, value_num, contribution>> (a value
  is text in ``value`` or a number in ``value_num``);
- ``path``, ``suggested_products``: list<string>.

Both conversions are one DuckDB query over whole columns (`as_json`, `from_json`); `cell` gives
one shown cell as Python values in the JSON shape, whichever form it came in.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.duck import duckdb_cursor

__all__ = ["EVIDENCE_ITEM", "REASON_ITEM", "PARAM", "NESTED", "nested_columns", "as_json", "from_json",
           "to_pandas", "cell"]

EVIDENCE_ITEM = pa.struct([("name", pa.string()), ("label_en", pa.string()), ("label_zh", pa.string()),
                           ("value", pa.string()), ("value_num", pa.float64()), ("contribution", pa.float64())])
PARAM = pa.struct([("key", pa.string()), ("value", pa.string())])
REASON_ITEM = pa.struct([("template", pa.string()), ("params", pa.list_(PARAM))])
# the nested columns by name (the schema's dtype word for each: `graph.schema`)
NESTED: dict[str, pa.DataType] = {
    "reasons": pa.list_(REASON_ITEM), "evidence": pa.list_(EVIDENCE_ITEM),
    "path": pa.list_(pa.string()), "suggested_products": pa.list_(pa.string()),
}

# Each nested column as the JSON text it has always been shown as: a reason as the text `to_json`
# gives for {'template', 'params': map_from_entries(params)} (keys in order, no spaces), joined
# piece by piece (building the map per reason cost half as much again), an evidence item's value
# as its number or its text.
_AS_JSON = {
    "reasons": """coalesce('[' || array_to_string(list_transform("reasons", lambda r: concat(
                    '{"template":', coalesce(to_json(r.template)::VARCHAR, 'null'), ',"params":',
                    CASE WHEN r.params IS NULL THEN 'null' ELSE concat('{', array_to_string(list_transform(r.params,
                        lambda p: concat(to_json(p.key)::VARCHAR, ':', coalesce(to_json(p.value)::VARCHAR, 'null'))),
                        ','), '}') END, '}')), ',') || ']', '[]')""",
    "evidence": """coalesce(to_json(list_transform("evidence", lambda e: {'name': e.name, 'label_en': e.label_en,
                                                       'label_zh': e.label_zh,
                                                       'value': coalesce(to_json(e.value_num), to_json(e.value)),
                                                       'contribution': e.contribution})), '[]')::VARCHAR""",
    "path": """coalesce(to_json("path"), '[]')::VARCHAR""",
    "suggested_products": """coalesce(to_json("suggested_products"), '[]')::VARCHAR""",
}
# ... and back: the JSON text of each (an empty or missing text is an empty list)
_FROM_JSON = {
    "reasons": """list_transform(from_json(coalesce(nullif("reasons", ''), '[]'),
                                           '[{"template": "VARCHAR", "params": "MAP(VARCHAR, VARCHAR)"}]'),
                   lambda r: {'template': r.template, 'params': map_entries(r.params)})""",
    "evidence": """list_transform(from_json(coalesce(nullif("evidence", ''), '[]'),
                                            '[{"name": "VARCHAR", "label_en": "VARCHAR", "label_zh": "VARCHAR",
                                               "value": "JSON", "contribution": "DOUBLE"}]'),
                   lambda e: {'name': e.name, 'label_en': e.label_en, 'label_zh': e.label_zh,
                              'value': CASE WHEN json_type(e.value) = 'VARCHAR' THEN e.value ->> '$' END,
                              'value_num': CASE WHEN json_type(e.value) IN ('BIGINT', 'UBIGINT', 'DOUBLE')
                                                THEN (e.value ->> '$')::DOUBLE END,
                              'contribution': e.contribution})""",
    "path": """from_json(coalesce(nullif("path", ''), '[]'), '["VARCHAR"]')""",
    "suggested_products": """from_json(coalesce(nullif("suggested_products", ''), '[]'), '["VARCHAR"]')""",
}


def nested_columns(schema: pa.Schema) -> list[str]:
    """The nested columns (`NESTED`) a schema holds as lists."""
    return [f.name for f in schema if f.name in NESTED and pa.types.is_list(f.type)]


def _replaced(table: pa.Table, columns: list[str], exprs: dict[str, str]) -> pa.Table:
    if not columns:
        return table
    con = duckdb_cursor()
    try:
        con.register("t", table.select(columns))
        # column names from the fixed NESTED table above; every row in its order (no ORDER BY
        # needed: a projection of one registered table keeps it)
        done = con.sql("SELECT " + ", ".join(f"{exprs[c]} AS \"{c}\"" for c in columns) + " FROM t").to_arrow_table()  # noqa: S608
    finally:
        con.close()
    for name in columns:
        table = table.set_column(table.schema.get_field_index(name), name, done.column(name))
    return table


def as_json(table: pa.Table) -> pa.Table:
    """`table` with its nested columns as JSON text (the others as they are)."""
    return _replaced(table, nested_columns(table.schema), _AS_JSON)


def from_json(table: pa.Table) -> pa.Table:
    """`table` with its nested columns given as JSON text (or all null) made lists again."""
    text = [f.name for f in table.schema if f.name in NESTED
            and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_null(f.type))]
    for name in text:
        if pa.types.is_null(table.schema.field(name).type):  # all null: null text, to be parsed
            table = table.set_column(table.schema.get_field_index(name), name, pa.nulls(table.num_rows, pa.string()))
    done = _replaced(table, text, _FROM_JSON)
    for name in text:
        at = done.schema.get_field_index(name)
        done = done.set_column(at, name, done.column(name).cast(NESTED[name]))
    return done


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """`table` as pandas, its nested columns as JSON text (pandas' public shape of them): a
    whole table by `as_json`, the few rows a request shows (`_SHOWN`) by `cell` and `json` (the
    same JSON, a small number perhaps in exponent notation; a query of its own cost 5 ms more of
    each page and `/entities` part)."""
    columns = nested_columns(table.schema)
    if table.num_rows > _SHOWN or not columns:
        return as_json(table).to_pandas()
    for name in columns:
        text = [json.dumps(cell(v, name), ensure_ascii=False, separators=(",", ":"))
                for v in table.column(name).to_pylist()]
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(text, pa.string()))
    return table.to_pandas()


_SHOWN = 1000  # rows from which `to_pandas` writes the JSON text in DuckDB


def cell(value: Any, column: str) -> list[Any]:
    """One shown cell of a nested column as Python values in its JSON shape, whichever form it
    came in (a list from Arrow, an array from pandas, JSON text, or missing): a reason as
    {template, params: {key: value}}, an evidence item with one `value` (items that are not
    objects left out); unreadable text is empty."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else []
        except ValueError:
            return []
    items = list(value) if isinstance(value, list | tuple | np.ndarray) else []  # missing: empty
    if column == "evidence":
        return [_evidence(e) for e in items if isinstance(e, dict)]
    if column == "reasons":
        return [_reason(r) for r in items if isinstance(r, dict)]
    return items


def _evidence(item: dict[str, Any]) -> dict[str, Any]:
    number = item.get("value_num")
    return {"name": item.get("name"), "label_en": item.get("label_en"), "label_zh": item.get("label_zh"),
            "value": item.get("value") if number is None or number != number else number,
            "contribution": item.get("contribution")}


def _reason(item: dict[str, Any]) -> dict[str, Any]:
    params = item.get("params")
    if isinstance(params, list | tuple | np.ndarray):
        params = {p["key"]: p["value"] for p in params if isinstance(p, dict)}
    return {"template": item.get("template"), "params": params}
