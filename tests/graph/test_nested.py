"""The nested columns of `prospects` (`graph.nested`): stored as Arrow lists, JSON text at the
edges (pandas, Neo4j), the one form turned into the other without loss; a store scored by an
earlier version (JSON text in its Parquet file) answers exactly as one scored now."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from graph import nested
from graph.index_cache import CACHE_DIR, warm
from graph.networkx_store import NetworkxStore
from graph.schema import arrow_schema, conform_arrow
from graph.store import GraphStore
from leads.board import board_page
from scoring.stored import decode, entity_prospects, page_prospects, prospects_arrow
from scoring.templates import render_reasons


def _rows() -> pa.Table:
    return pa.table({
        "reasons": pa.array([[{"template": "t", "params": [{"key": "name", "value": '引号"与=公式'},
                                                            {"key": "n", "value": "3"}]}],
                             [{"template": "text", "params": None}], [], None], nested.NESTED["reasons"]),
        "evidence": pa.array([[{"name": "amount", "label_en": "Amount", "label_zh": "金额", "value": None,
                                "value_num": 1.5, "contribution": 10.0},
                               {"name": "bank", "label_en": "Bank", "label_zh": "银行", "value": "另一家",
                                "value_num": None, "contribution": 0.0}], [], None, []], nested.NESTED["evidence"]),
        "path": pa.array([["E1", "P2"], [], None, ["x"]], nested.NESTED["path"]),
        "details": ['{"a": 1}', "{}", None, "{}"],
    })


def test_json_text_and_lists_turn_into_each_other_without_loss() -> None:
    rows = _rows()
    text = nested.as_json(rows)
    assert text.column("details").equals(rows.column("details"))  # not a nested column: untouched
    first = json.loads(text.column("reasons")[0].as_py())
    assert first == [{"template": "t", "params": {"name": '引号"与=公式', "n": "3"}}]
    assert json.loads(text.column("evidence")[0].as_py())[0] == {
        "name": "amount", "label_en": "Amount", "label_zh": "金额", "value": 1.5, "contribution": 10.0}
    assert text.column("path").to_pylist() == ['["E1","P2"]', "[]", "[]", '["x"]']
    back = nested.from_json(text)
    for col in ("reasons", "evidence", "path"):
        want = [v or [] for v in rows.column(col).to_pylist()]  # a missing list is an empty one
        assert back.column(col).to_pylist() == want, col
        assert back.schema.field(col).type == nested.NESTED[col]


def test_a_cell_reads_the_same_in_every_form() -> None:
    rows = _rows()
    text = nested.as_json(rows)
    frame = rows.to_pandas()  # numpy arrays of dicts
    for col in ("reasons", "evidence", "path"):
        for i in range(rows.num_rows):
            shown = nested.cell(text.column(col)[i].as_py(), col)
            assert nested.cell(rows.column(col)[i].as_py(), col) == shown
            assert nested.cell(frame[col].iloc[i], col) == shown
    assert nested.cell("not json", "path") == [] and nested.cell(pd.NA, "evidence") == []
    # text not written by the product: items that are not objects are left out, in every form
    odd = '[1, "x", {"template": "t", "params": {"n": "3"}}]'
    assert nested.cell(odd, "reasons") == [{"template": "t", "params": {"n": "3"}}]
    assert render_reasons(odd, "en") == render_reasons([{"template": "t", "params": {"n": "3"}}], "en")
    assert render_reasons("not json", "zh") == []  # unreadable: nothing to say, no error


def test_the_rows_shown_get_the_json_a_whole_table_gets(demo_store: GraphStore) -> None:
    table = prospects_arrow(demo_store)[1]
    whole = nested.as_json(table).to_pandas()
    assert table.num_rows > 2 * nested._SHOWN  # whole: DuckDB's query; pages: one row at a time
    for start in range(0, table.num_rows, nested._SHOWN):
        page = nested.to_pandas(table.slice(start, nested._SHOWN))
        for col in nested.NESTED:
            shown = [json.loads(v) for v in page[col]]
            assert shown == [json.loads(v) for v in whole[col].iloc[start:start + nested._SHOWN]], col


def _copy(store: GraphStore, to: Path) -> NetworkxStore:
    shutil.copytree(store.root, to, ignore=shutil.ignore_patterns(CACHE_DIR))
    return NetworkxStore(to)


def test_the_store_keeps_lists_and_pandas_sees_json(demo_store: GraphStore) -> None:
    path = demo_store.root / demo_store.manifest()["tables"]["prospects"]["file"]
    stored = pq.read_table(path)
    assert stored.schema.equals(arrow_schema("prospects"), check_metadata=True)
    assert pa.types.is_list(stored.schema.field("evidence").type)
    frame = demo_store.read("prospects")
    row = frame.iloc[0]
    assert isinstance(row["evidence"], str) and isinstance(json.loads(row["evidence"]), list)
    assert json.loads(row["path"]) == stored.column("path")[0].as_py()
    # every leaf of the nested columns is compressed, its text dictionary-encoded where it repeats
    meta = pq.ParquetFile(path).metadata.row_group(0)
    leaves = {meta.column(i).path_in_schema: meta.column(i) for i in range(meta.num_columns)}
    for leaf in ("evidence.list.item.label_zh", "reasons.list.item.params.list.item.value", "path.list.item"):
        assert leaves[leaf].compression == "SNAPPY" and "RLE_DICTIONARY" in leaves[leaf].encodings, leaf
    assert leaves["evidence.list.item.contribution"].compression == "SNAPPY"


def _scored_before(store: GraphStore, to: Path) -> NetworkxStore:
    """A copy of `store` whose prospects file holds JSON text, as an earlier version wrote it."""
    old = _copy(store, to)
    path = old.root / old.manifest()["tables"]["prospects"]["file"]
    text = nested.as_json(pq.read_table(path))
    for name in nested.NESTED:  # large_string, the type a text column of the store had
        text = text.set_column(text.schema.get_field_index(name), name, text.column(name).cast(pa.large_string()))
    path.unlink()  # a hard link shared with the original store: replaced, not written through
    pq.write_table(text, path)
    return old


def test_a_store_scored_by_an_earlier_version_answers_the_same(demo_store: GraphStore, tmp_path: Path) -> None:
    old = _scored_before(demo_store, tmp_path / "old")
    text = pq.read_table(old.root / old.manifest()["tables"]["prospects"]["file"])
    assert conform_arrow("prospects", text).equals(prospects_arrow(demo_store)[1])
    assert prospects_arrow(old)[1].equals(prospects_arrow(demo_store)[1])
    warmed = _scored_before(demo_store, tmp_path / "warmed")  # its API copy made by `serve`'s warming
    warm(warmed)
    assert prospects_arrow(warmed)[1].equals(prospects_arrow(demo_store)[1])
    for family in ("supply_chain", "referral", "retail_linkage"):
        got, total = page_prospects(old, family, limit=20, as_rows=True)
        want, total_now = page_prospects(demo_store, family, limit=20, as_rows=True)
        assert total == total_now > 0
        assert [decode(r, "zh") for r in got] == [decode(r, "zh") for r in want]
    anchor = page_prospects(demo_store, "supply_chain", limit=1, as_rows=True)[0][0]["anchor_id"]
    through = entity_prospects(old, anchor, 20)
    assert {k: (v[0].to_dict("records"), v[1]) for k, v in through.items()} == {
        k: (v[0].to_dict("records"), v[1]) for k, v in entity_prospects(demo_store, anchor, 20).items()}
    assert board_page(old)[0].equals(board_page(demo_store)[0])
