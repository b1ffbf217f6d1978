"""Distinct values: results worked out once per value come back to the right rows."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.distinct import Distinct, repeats
from ingest.normalise import clean_text


def test_a_repetitive_column_is_encoded_and_taken_back_with_its_blanks() -> None:
    col = pd.Series(["a", " b", "a", None, " b"] * 5_000, dtype="string", index=range(100, 25_100))
    d = Distinct(col)
    assert d.codes is not None and len(d.values) == 3  # "a", " b" and one <NA>
    out = d.spread(clean_text(d.values))
    pd.testing.assert_series_equal(out, clean_text(col))
    assert d.rows(d.values.isna()).sum() == 5_000
    assert d.counts().sum() == len(col)


def test_a_mostly_distinct_column_is_worked_on_as_it_is() -> None:
    col = pd.Series([f"P{i:07d}" for i in range(40_000)], dtype="string")
    d = Distinct(col)
    assert d.codes is None
    pd.testing.assert_series_equal(d.values, col)
    assert d.rows(d.values == "P0000007").tolist().index(True) == 7


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["x", "y", "", None]), st.sampled_from([1, 2, None])), max_size=30))
def test_repeats_agrees_with_pandas(pairs: list[tuple[str | None, int | None]]) -> None:
    frame = pd.DataFrame({"a": pd.Series([p[0] for p in pairs], dtype="string"),
                          "b": pd.Series([p[1] for p in pairs], dtype="Int64")})
    assert repeats(frame, ["a", "b"]) == bool(frame.duplicated(["a", "b"]).any())
    assert repeats(frame, ["a"]) == bool(frame.duplicated(["a"]).any())


def test_repeats_across_the_chunks_of_a_column() -> None:
    import pyarrow as pa

    def chunked(*parts: list[str | None]) -> pd.Series:
        return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(p, pa.large_string()) for p in parts])))

    once = pd.DataFrame({"a": chunked(["x", "y"], ["x", None]), "b": chunked(["1", "1"], ["2", "1"])})
    assert not repeats(once, ["a", "b"]) and repeats(once, ["b"])
    twice = pd.DataFrame({"a": chunked(["x", None], ["y", None]), "b": chunked(["1", "2"], ["1", "2"])})
    assert repeats(twice, ["a", "b"]) and not repeats(twice.iloc[:3], ["a", "b"])


def test_an_id_column_in_order_has_no_repeats_and_one_out_of_order_is_still_checked() -> None:
    ordered = pd.DataFrame({"id": pd.Series([f"P{i:07d}" for i in range(50_000)], dtype="string")})
    assert not repeats(ordered, ["id"])
    again = pd.concat([ordered, ordered.iloc[[10]]], ignore_index=True)
    assert repeats(again, ["id"])
    with_blank = pd.DataFrame({"id": pd.Series(["a", None, "b", None], dtype="string")})
    assert repeats(with_blank, ["id"]) and not repeats(with_blank.iloc[:3], ["id"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["E01", "E02", "E03"]), st.sampled_from(["P0000000001", "P0000000002"]),
                          st.sampled_from(["2024-01", "2024-02"])), min_size=2, max_size=30))
def test_repeats_of_fixed_width_ids_agree_with_pandas(rows: list[tuple[str, str, str]]) -> None:
    frame = pd.DataFrame(rows, columns=["employer_id", "person_id", "month"], dtype="string")
    assert repeats(frame, ["employer_id", "person_id", "month"]) == bool(frame.duplicated().any())
    assert repeats(frame, ["person_id", "month"]) == bool(frame.duplicated(["person_id", "month"]).any())
