"""`conform_arrow`: the stored schema of an Arrow table, its missing columns null."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from graph.schema import TABLES, arrow_schema, conform_arrow


@pytest.mark.parametrize("table", sorted(TABLES))
def test_missing_columns_are_null_in_the_stored_types(table: str) -> None:
    """Every table's missing columns are all-null arrays of the stored type, equal to Arrow's
    own `nulls` (they share one buffer of zeros), and survive a Parquet round trip."""
    schema = arrow_schema(table)
    given = schema.field(0)
    first = pa.array(["a", "b", None] if pa.types.is_large_string(given.type) else [None] * 3, given.type)
    out = conform_arrow(table, pa.table({given.name: first}))
    out.validate(full=True)
    assert out.schema.equals(schema) and out.column(0).equals(pa.chunked_array([first]))
    for fld in list(schema)[1:]:
        assert out.column(fld.name).equals(pa.chunked_array([pa.nulls(3, fld.type)])), fld.name
    sink = io.BytesIO()
    pq.write_table(out, sink)
    assert pq.read_table(io.BytesIO(sink.getvalue())).equals(out)


def test_the_null_columns_of_a_large_table_share_their_memory() -> None:
    size = 1_000_000
    out = conform_arrow("edges", pa.table({"src": pa.array(["s"] * size, pa.large_string())}))
    titles, roles = out.column("title").chunk(0), out.column("role").chunk(0)
    assert titles.buffers()[1].address == roles.buffers()[1].address  # one buffer of zeros
    assert titles.null_count == size and pc.count(out.column("amount")).as_py() == 0
    assert out.slice(size - 2).column("position").to_pylist() == [None, None]
