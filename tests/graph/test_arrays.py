"""graph.arrays: a column as one Arrow array; the stable order of an int64 key; runs of equal values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from graph.arrays import group_starts, in_seq_order, one_array, stable_order, stable_sort


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


@pytest.mark.parametrize("top", [3, 2**20, 2**61])
def test_stable_order_is_that_of_a_stable_argsort(top: int) -> None:
    """Ties keep their rows' order (so each run's sum follows the facts' order) whether the key
    and the row numbers fit in one pass (small keys) or the key is sorted a digit at a time."""
    rng = np.random.default_rng(7)
    values = rng.integers(0, top, size=50, dtype=np.int64)  # few distinct values: many ties
    key = values[rng.integers(0, len(values), size=5000)]
    given = key.copy()
    got = stable_order(key)
    assert np.array_equal(got, np.argsort(key, kind="stable"))
    assert np.array_equal(key, given)  # the key is left as it was
    assert np.array_equal(stable_sort(key)[0], np.sort(key))  # and the sorted key comes with the order
    assert stable_order(np.zeros(0, dtype=np.int64)).size == 0
    assert stable_order(np.zeros(3, dtype=np.int64)).tolist() == [0, 1, 2]


def test_group_starts_mark_each_run_of_equal_values_and_of_nulls():
    keys = pa.chunked_array([["a", "a", None], [None, "b", "a", "a"]], pa.large_string())
    assert group_starts(keys).tolist() == [True, False, True, False, True, True, False]
    assert group_starts(pa.array([], pa.string())).tolist() == []
    assert group_starts(pa.array([7])).tolist() == [True]


def test_in_seq_order_puts_rows_back_in_the_order_of_seq_and_drops_it():
    rows = pa.table({"seq": [2, 0, 3, 1], "id": ["c", "a", "d", "b"], "amount": [3.0, 1.0, 4.0, 2.0]})
    back = in_seq_order(rows)
    assert back.column_names == ["id", "amount"]
    assert back["id"].to_pylist() == ["a", "b", "c", "d"] and back["amount"].to_pylist() == [1.0, 2.0, 3.0, 4.0]
    ordered = pa.table({"seq": pa.chunked_array([[0, 1], [2]]), "id": ["a", "b", "c"]})
    assert in_seq_order(ordered)["id"].to_pylist() == ["a", "b", "c"]  # already in order: as it is
    assert in_seq_order(pa.table({"seq": pa.array([], pa.int64()), "id": pa.array([], pa.string())})).num_rows == 0
