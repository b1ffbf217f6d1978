"""Store tables in SQL (`scoring.features.store_view`) and the retail family's column helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from graph.networkx_store import NetworkxStore
from scoring.features import node_codes, node_index, store_view, store_views
from scoring.retail_linkage.common import first_of, list_lengths, lists_for

PAYROLL = pd.DataFrame({"employer_id": ["E1", "E1", "E2", None], "person_id": ["P1", "P2", "P1", "P3"],
                        "month": ["2024-01", "2024-02", "2024-01", "2024-03"], "amount": [1.5, 2.5, None, 4.0]})


def _rows(con, table: str) -> list[tuple]:
    return sorted(con.execute(f"SELECT employer_id, person_id, month, amount FROM {table}").fetchall(),  # noqa: S608
                  key=str)


def test_a_parquet_store_is_read_from_its_file_with_the_same_rows(tmp_path: Path):
    store = NetworkxStore(tmp_path / "store")
    store.write({"payroll": PAYROLL})
    with store_views(store, {}) as con:
        source = store_view(con, store, "payroll", ("employer_id", "amount"))
        assert source.endswith("payroll.parquet")
        expected = sorted(store.read("payroll").astype(object).where(store.read("payroll").notna(), None)
                          .itertuples(index=False, name=None), key=str)
        assert _rows(con, "payroll") == expected
        # a column the file lacks: the rows store.read gives (conformed to the schema)
        assert store_view(con, store, "payroll", ("no_such_column",)) == "payroll"
        assert _rows(con, "payroll") == expected
        # a table the store does not hold: empty, with the schema's columns
        assert store_view(con, store, "roles", ("person_id",)) == "roles"
        assert con.execute("SELECT count(*), count(role) FROM roles").fetchone() == (0, 0)


def test_lists_for_keeps_order_unique_and_limit():
    ids = pd.Series(["A", "B", "C"])
    keys = pa.array(["B", "A", "B", "X", "B", "A"])
    values = pa.array(["b1", "a1", "b2", "x1", "b1", "a2"])
    assert lists_for(ids, keys, values).tolist() == [["a1", "a2"], ["b1", "b2", "b1"], []]
    assert lists_for(ids, keys, values, unique=True).tolist() == [["a1", "a2"], ["b1", "b2"], []]
    got = lists_for(ids, keys, values, limit=1)
    assert got.tolist() == [["a1"], ["b1"], []]
    assert list_lengths(got).tolist() == [1, 1, 0]
    assert first_of(got).tolist() == ["a1", "b1", pd.NA]


def test_cursors_of_the_shared_database_keep_their_views_apart_across_threads():
    """`duckdb_cursor`: every step (and every request thread) gets a connection of its own to the
    one in-process database; a view registered by one is invisible to the others, under load."""
    from concurrent.futures import ThreadPoolExecutor

    import duckdb

    from scoring.features import duckdb_cursor

    def total(k: int) -> tuple[int, int]:
        con = duckdb_cursor()
        try:
            con.register("numbers", pa.table({"x": np.arange(k * 1000, dtype=np.int64)}))
            got = con.execute("SELECT sum(x) FROM numbers").fetchone()[0]
        finally:
            con.close()
        return k, int(got)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(total, range(1, 41)))
    assert results == [(k, (k * 1000) * (k * 1000 - 1) // 2) for k in range(1, 41)]
    other = duckdb_cursor()
    try:
        with pytest.raises(duckdb.CatalogException):
            other.execute("SELECT * FROM numbers")
    finally:
        other.close()


def test_own_databases_draw_no_progress_bar_and_free_their_tables_on_close():
    """`own_database`: a database apart from the shared one (its tables unseen there, gone once
    closed), with the threads asked for; neither it nor a cursor draws DuckDB's progress bar."""
    import duckdb

    from graph.duck import own_database
    from scoring.features import duckdb_cursor

    own, shared = own_database(1), duckdb_cursor()
    try:
        own.execute("CREATE TABLE kept AS SELECT 1 AS x")
        for con in (own, shared):
            assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False
        assert own.execute("SELECT current_setting('threads')").fetchone()[0] == 1
        with pytest.raises(duckdb.CatalogException):
            shared.execute("SELECT * FROM kept")
    finally:
        own.close()
        shared.close()


def test_node_codes_are_positions_in_the_index_and_minus_one_elsewhere():
    """Each id's position in the node index, whatever the column's form (chunked Arrow, pandas);
    an unknown id, a missing one and an id only in another case are -1."""
    index = node_index(pd.Series(["E1", "E2", None, "企业3"], dtype="string"))  # a missing id indexes as ""
    ids = pa.chunked_array([["E2", "企业3", None], ["e1", "E1", "E9", ""]], pa.large_string())
    expected = [1, 3, -1, -1, 0, -1, 2]
    assert node_codes(index, ids).tolist() == expected
    assert node_codes(index, pd.Series(ids.to_pylist(), dtype="string")).tolist() == expected
    assert node_codes(index, pa.chunked_array([], pa.string())).dtype == np.int64


def test_window_payments_are_the_window_s_known_payments_as_codes_in_table_order(tmp_path: Path):
    """`window_payments` (DuckDB joins the ids with the index) gives what a filter of the rows in
    their order and a look-up of each id give: unknown, missing and self payments left out, a
    repeated index id coded by its first place, the other-bank flag of each kept payment."""
    from graph.duck import duckdb_cursor
    from scoring.features import other_bank_mask, window_payments

    rng = np.random.default_rng(7)
    n = 5000
    ids = np.array([f"E{i}" for i in range(60)] + ["X1", None], dtype=object)
    payments = pd.DataFrame({
        "fact_id": [f"f{i}" for i in range(n)], "payer_id": rng.choice(ids, n), "payee_id": rng.choice(ids, n),
        "amount": rng.choice([0.0, -5.0, 10.0, 123.45, 7.5], n),
        "paid_on": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D"),
        "payee_bank": rng.choice(["本行", "工行", "", None], n)})
    store = NetworkxStore(tmp_path / "store")
    store.write({"payments": payments})
    index = node_index(pd.Series([f"E{i}" for i in range(50)] + ["E7"], dtype="string"))  # E7 twice: 7 wins
    start, end = pd.Timestamp("2024-03-01"), pd.Timestamp("2024-12-01")
    stored = store.read("payments")
    src, dst = node_codes(index, stored["payer_id"]), node_codes(index, stored["payee_id"])
    day = stored["paid_on"].to_numpy(dtype="datetime64[ns]")
    keep = ((day > np.datetime64(start)) & (day < np.datetime64(end)) & (stored["amount"].to_numpy() > 0)
            & (src >= 0) & (dst >= 0) & (src != dst))
    assert 100 < keep.sum() < n and (src == 7).any() and not (src == 50).any()
    con = duckdb_cursor()
    before = con.execute("SELECT current_setting('threads')").fetchone()[0]
    try:
        for threads in (1, 2):
            con.execute(f"SET threads = {threads}")
            got = window_payments(store, index, start, end, ["本行"])
            assert got["src"].tolist() == src[keep].tolist() and got["dst"].tolist() == dst[keep].tolist()
            assert got["amount"].tolist() == stored["amount"].to_numpy()[keep].tolist()
            assert (got["day"] == day[keep]).all()
            assert got["other"].tolist() == other_bank_mask(stored["payee_bank"], ["本行"])[keep].tolist()
    finally:
        con.execute(f"SET threads = {before}")
        con.close()
