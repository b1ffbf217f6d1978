"""`last_per_key` keeps exactly what `drop_duplicates(key, keep="last")` keeps, on every key type."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from ingest import merge
from ingest.merge import known_values, last_per_key


def _frame(seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    n = rng.randint(1, 300)
    return pd.DataFrame({
        "a": pd.Series([rng.choice(["x", "y", None, "z", ""]) for _ in range(n)], dtype="string"),
        "b": pd.Series([rng.randint(0, 3) for _ in range(n)], dtype="int64"),
        "c": pd.Series([rng.choice([1, 2, None]) for _ in range(n)], dtype="Int64"),
        "d": pd.to_datetime(pd.Series([rng.choice(["2024-01-01", "2024-02-01", None]) for _ in range(n)])),
        "f": pd.Series([rng.choice([1.0, np.nan]) for _ in range(n)]),
        "row": range(n),
    })


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("key", [["a"], ["a", "b"], ["a", "c", "d"], ["b"], ["d", "f"], ["c"], ["row"]])
def test_last_per_key_is_drop_duplicates_keep_last(seed: int, key: list[str]) -> None:
    df = _frame(seed)
    pd.testing.assert_frame_equal(last_per_key(df, key),
                                  df.drop_duplicates(key, keep="last").reset_index(drop=True))


def test_many_key_columns_stay_within_int64() -> None:
    n = 5000
    df = pd.DataFrame({f"k{i}": pd.Series([f"v{(j * (i + 3)) % 5003}" for j in range(n)], dtype="string")
                       for i in range(6)})
    df = pd.concat([df, df.iloc[[3, 7]]], ignore_index=True)
    key = list(df.columns)
    pd.testing.assert_frame_equal(last_per_key(df, key), df.drop_duplicates(key, keep="last").reset_index(drop=True))
    assert len(last_per_key(df, key)) == n


@pytest.mark.parametrize("joined", [0, 10**9])  # the join in DuckDB from every size, or never
@pytest.mark.parametrize("rows", [1, 5, 50, 2000])
def test_known_values_is_isin_whichever_way_round(rows: int, joined: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(merge, "JOINED_FROM", joined)
    rng = random.Random(rows)
    for _ in range(20):
        ids = pd.Series([f"x{rng.randint(0, 50)}" for _ in range(rng.randint(0, 400))] + [None], dtype="string")
        column = pd.Series([rng.choice([f"x{rng.randint(0, 80)}", None, ""]) for _ in range(rows)], dtype="string",
                           index=range(7, 7 + rows))
        expected = column.isin(set(ids.dropna())) & column.notna()
        for known in (ids, set(ids.dropna())):
            found = known_values(column, known)
            assert found.index.equals(column.index) and found.tolist() == expected.tolist()


def test_keys_sharing_length_and_ends_are_still_told_apart() -> None:
    # equal length, first and last 8 bytes: keys that a print of a text's length and ends would confuse
    middle = "abcdefghijklmnopqrstuvwxyz"
    df = pd.DataFrame({"k": pd.Series([f"AAAAAAAA{c}BBBBBBBB" for c in middle] + ["AAAAAAAAcBBBBBBBB"], dtype="string"),
                       "n": range(27)})
    pd.testing.assert_frame_equal(last_per_key(df, ["k"]), df.drop_duplicates(["k"], keep="last").reset_index(drop=True))
    assert len(last_per_key(df, ["k"])) == 26
    assert len(last_per_key(df.iloc[:26], ["k"])) == 26  # no repeat: all kept
    sliced = df.iloc[3:20].reset_index(drop=True)  # an Arrow slice: offsets start inside the buffers
    pd.testing.assert_frame_equal(last_per_key(sliced, ["k"]), sliced)


def test_prints_are_equal_for_equal_keys_of_every_type() -> None:
    from ingest.merge import _key_array, _prints
    df = _frame(5)
    for key in (["a"], ["b"], ["c"], ["d"], ["a", "b", "c", "d"]):
        prints = _prints([_key_array(df[c]) for c in key])
        assert prints is not None
        codes = df[key].apply(lambda row: repr(tuple(row)), axis=1)
        for _, rows in df.groupby(codes).groups.items():
            assert len(set(prints[rows.to_numpy()])) == 1  # one key, one print
    assert len(set(_prints([_key_array(df["row"])]))) == len(df)  # distinct ints, distinct prints


def test_several_key_columns_whose_prints_repeat_are_told_apart_exactly() -> None:
    # the first column's texts share their length and ends; no key repeats, so every row is kept;
    # a real repeat (its prints repeat) is decided the exact way and dropped
    middle = "abcdefghijklmnopqrstuvwxyz"
    df = pd.DataFrame({"k": pd.Series([f"AAAAAAAA{c}BBBBBBBB" for c in middle], dtype="string"),
                       "m": pd.Series(["2024-01"] * 26, dtype="string"), "n": range(26)})
    assert len(last_per_key(df, ["k", "m"])) == 26
    again = pd.concat([df, df.iloc[[4]].assign(n=99)], ignore_index=True)
    pd.testing.assert_frame_equal(last_per_key(again, ["k", "m"]),
                                  again.drop_duplicates(["k", "m"], keep="last").reset_index(drop=True))
    assert last_per_key(again, ["k", "m"])["n"].tolist()[-1] == 99


def test_prints_keep_the_rows_order_over_many_rows() -> None:
    # more rows than DuckDB scans in one vector or one thread: row i repeats row i % 1000's key
    from ingest.merge import _key_array, _prints
    n = 60_000
    df = pd.DataFrame({"a": pd.Series([f"key-{i % 1000}" for i in range(n)], dtype="string"),
                       "b": pd.Series([i % 1000 for i in range(n)], dtype="int64")})
    prints = _prints([_key_array(df[c]) for c in ("a", "b")])
    assert prints is not None and len(prints) == n
    assert (prints == np.tile(prints[:1000], n // 1000)).all()
    assert len(set(prints[:1000].tolist())) == 1000
    assert last_per_key(df, ["a", "b"]).equals(df.iloc[-1000:].reset_index(drop=True))
