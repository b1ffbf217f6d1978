"""graph.arrays.one_array: a column as one Arrow array."""

from __future__ import annotations

import pyarrow as pa

from graph.arrays import one_array


def test_a_column_becomes_one_array_whatever_its_chunks():
    many = pa.chunked_array([["a", "b"], ["c"]], pa.large_string())
    assert one_array(many).equals(pa.array(["a", "b", "c"], pa.large_string()))
    single = pa.chunked_array([pa.array([1, 2, 3])])
    assert one_array(single) is not None and one_array(single).equals(pa.array([1, 2, 3]))
    assert one_array(single).buffers()[1].address == single.chunk(0).buffers()[1].address  # no copy
    none = pa.chunked_array([], pa.string())
    assert len(one_array(none)) == 0 and one_array(none).type == pa.string()
    plain = pa.array([1.5])
    assert one_array(plain) is plain
