"""The derived `edges` on small hand-built facts, and keyed de-duplication."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graph.schema import FACT_TABLES, NODE_TABLES, TABLES, arrow_schema, conform, empty
from graph.stage import arrow_columns
from ingest import derive
from ingest.derive import derive_edges
from ingest.merge import last_per_key


def _tables(**given: pd.DataFrame) -> dict[str, pd.DataFrame]:
    tables = {t: empty(t) for t in (*NODE_TABLES, *FACT_TABLES)}
    tables.update({t: conform(t, df) for t, df in given.items()})
    return tables


def _day(text: str | None) -> pd.Timestamp:
    return pd.NaT if text is None else pd.Timestamp(text)


def test_money_edges_sum_each_edge_over_its_months() -> None:
    payments = pd.DataFrame({
        "fact_id": ["f1", "f2", "f3", "f4", "f5"],
        "payer_id": ["A", "A", "A", "A", "B"],
        "payee_id": ["X", "X", "X", "Y", "X"],
        "payee_bank": ["本行", "工商银行", None, "", "农业银行"],
        "amount": [100.0, 50.0, 25.0, 10.0, 7.0],
        "paid_on": [_day("2024-01-05"), _day("2024-01-20"), _day("2024-03-02"), None, _day("2024-02-01")],
        "month": ["2024-01", "2024-01", "2024-03", None, "2024-02"],
    })
    bills = pd.DataFrame({"bill_id": ["b1"], "drawer_id": ["A"], "payee_id": ["X"], "amount": [1000.0],
                          "issued_on": [_day("2024-02-10")]})
    endorsements = pd.DataFrame({"bill_id": ["b1", "b1"], "seq": [1, 2], "from_id": [None, None],
                                 "to_id": ["Y", "Z"], "endorsed_on": [_day("2024-02-15"), None]})
    payroll = pd.DataFrame({"employer_id": ["A", "A"], "person_id": ["P", "P"], "month": ["2024-01", "2024-02"],
                            "amount": [9.0, 11.0]})
    out = derive_edges(_tables(payments=payments, bills=bills, endorsements=endorsements, payroll=payroll),
                       ["本行"])
    edges = out.set_index(["kind", "src", "dst"])
    pays = edges.loc[("PAYS", "A", "X")]
    assert pays["amount"] == 175.0 and pays["count"] == 3 and pays["months_active"] == 2
    assert pays["first_on"] == pd.Timestamp("2024-01-05") and pays["last_on"] == pd.Timestamp("2024-03-02")
    assert pays["other_bank_amount"] == 50.0  # 工商银行 only: 本行 is ours, a blank bank is not another's
    undated = edges.loc[("PAYS", "A", "Y")]  # a payment without date or month: counted, no months, no days
    assert undated["count"] == 1 and undated["months_active"] == 0 and pd.isna(undated["first_on"])
    # the first endorsement is made by the bill's payee, the second by the previous endorsee
    assert edges.loc[("ENDORSES", "X", "Y"), "amount"] == 1000.0
    assert pd.isna(edges.loc[("ENDORSES", "Y", "Z"), "first_on"])
    assert math.isnan(edges.loc[("BILL", "A", "X"), "other_bank_amount"])  # only PAYS carries it
    assert edges.loc[("PAYROLL", "A", "P"), "months_active"] == 2
    # edges come grouped by kind (PAYS, BILL, ENDORSES, PAYROLL) and sorted by src, dst within
    kinds = out["kind"].tolist()
    assert kinds == ["PAYS", "PAYS", "PAYS", "BILL", "ENDORSES", "ENDORSES", "PAYROLL"]
    assert out["dst"].tolist()[:3] == ["X", "Y", "X"]
    assert list(out.columns) == list(TABLES["edges"].columns)  # the edges only: no table of monthly rows (issue #15)


def test_last_per_key_keeps_the_last_row_of_a_repeated_key() -> None:
    df = pd.DataFrame({"k": ["a", "b", "a", None, None], "j": [1, 1, 1, 2, 2], "v": [1, 2, 3, 4, 5]},
                      index=[10, 11, 12, 13, 14])
    kept = last_per_key(df, ["k", "j"])
    assert kept["v"].tolist() == [2, 3, 5] and kept.index.tolist() == [0, 1, 2]
    assert last_per_key(df, ["k"])["v"].tolist() == [2, 3, 5]  # one key column: blanks are one key too
    unique = df.iloc[:2]
    assert last_per_key(unique, ["k"])["v"].tolist() == [1, 2]


@pytest.mark.parametrize("packed", [True, False])
def test_edges_are_those_of_a_group_by_in_sql_order(packed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """`_kind_edges` gives DuckDB's GROUP BY src, dst ORDER BY src, dst with count(DISTINCT
    month): strings ordered by their bytes (CJK after ASCII, "B" before "a"), a missing month
    not counted, a missing day ignored (packed into one integer, or, past the limit, sorted on
    the three ranks)."""
    if not packed:
        monkeypatch.setattr(derive, "_PACKED_BITS", 0)
    day = pa.timestamp("ns")
    facts = pa.table({
        "src": ["a", "B", "a", "中国", "a", "B", "a", "a", "B"],
        "dst": ["x", "y", "x", "x", "Ｘ", "y", "x", "x", "y"],
        "month": ["2024-02", None, "2024-01", "2024-01", "2024-01", None, "2024-02", "2024-02", "2024-03"],
        "amount": [0.1, 5.0, 1.0, 2.0, 3.0, 6.0, 0.2, 0.3, 7.0],
        "on_day": pa.array([pd.Timestamp("2024-02-03"), None, pd.Timestamp("2024-01-09"),
                            pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-31"), None,
                            pd.Timestamp("2024-02-01"), None, None], day),
        "other_bank": [True, False, False, False, True, True, False, True, False],
    })
    got = derive._kind_edges(facts, "PAYS")
    expected = duckdb.sql("""
        SELECT src, dst, sum(amount) AS amount, count(*) AS count, min(on_day) AS first_on,
               max(on_day) AS last_on, count(DISTINCT month) AS months_active,
               sum(CASE WHEN other_bank THEN amount ELSE 0 END) AS other_bank_amount
        FROM facts GROUP BY src, dst ORDER BY src, dst""").to_arrow_table()
    keys = ["src", "dst", "count", "first_on", "last_on", "months_active"]
    assert list(zip(got.column("src").to_pylist(), got.column("dst").to_pylist(), strict=True)) == \
        [("B", "y"), ("a", "x"), ("a", "Ｘ"), ("中国", "x")]
    assert got.select(keys).to_pylist() == expected.select(keys).cast(got.select(keys).schema).to_pylist()
    assert got.column("months_active").to_pylist() == [1, 2, 1, 1]  # (B, y): one month and two without
    assert got.column("amount").to_pylist() == pytest.approx([18.0, 1.6, 3.0, 2.0], rel=1e-12)
    assert got.column("other_bank_amount").to_pylist() == pytest.approx([6.0, 0.4, 3.0, 0.0], rel=1e-12)
    assert got.column("kind").to_pylist() == ["PAYS"] * 4
    assert got.equals(derive._kind_edges(facts, "PAYS"))  # the same bits every time
    assert derive._kind_edges(facts, "BILL").column("other_bank_amount").null_count == 4  # PAYS only


def test_money_facts_scanned_from_parquet_files_give_the_same_tables(tmp_path: Path) -> None:
    """Where `files` names a table's Parquet file with the money columns in the stored types,
    DuckDB scans it (the table is never read into memory); a file lacking a column is read
    through `read` (which conforms it) instead; both give what the in-memory tables give."""
    payments = pd.DataFrame({"fact_id": ["f1", "f2", "f3"], "payer_id": ["A", "A", "B"], "payee_id": ["X", "X", "X"],
                             "payee_bank": ["工商银行", None, "本行"], "amount": [1.5, 2.25, 4.0],
                             "paid_on": [_day("2024-01-05"), _day("2024-02-01"), None],
                             "month": ["2024-01", "2024-02", None]})
    payroll = pd.DataFrame({"employer_id": ["A", "A"], "person_id": ["P", "P"], "month": ["2024-01", "2024-01"],
                            "amount": [9.0, 11.0]})
    tables = _tables(payments=payments, payroll=payroll)
    expected = derive.derive_edge_table(derive.frames_reader(tables), ["本行"])
    files = {}
    for name in ("payments", "bills", "endorsements", "payroll"):
        files[name] = tmp_path / f"{name}.parquet"
        pq.write_table(arrow_columns(name, tables[name], list(arrow_schema(name).names)), files[name])
    in_memory = derive.frames_reader(tables)

    def facts_never_read(name: str, columns: list[str]) -> pa.Table:
        assert name not in files, f"{name} was read into memory although its file holds its columns"
        return in_memory(name, columns)

    scanned = derive.derive_edge_table(facts_never_read, ["本行"], files.get)
    assert scanned.equals(expected)
    # a payments file written before `payee_bank` existed: read through `read`, which fills it
    pq.write_table(arrow_columns("payments", tables["payments"], ["payer_id", "payee_id", "amount", "paid_on", "month"]),
                   files["payments"])
    old_file = derive.derive_edge_table(in_memory, ["本行"], files.get)
    assert old_file.equals(expected)


def _money_tables() -> dict[str, pd.DataFrame]:
    payments = pd.DataFrame({"fact_id": ["f1", "f2", "f3"], "payer_id": ["A", "A", "B"], "payee_id": ["X", "X", "Y"],
                             "payee_bank": ["工商银行", None, "本行"], "amount": [1.5, 2.25, 4.0],
                             "paid_on": [_day("2024-01-05"), _day("2024-02-01"), _day("2024-02-09")],
                             "month": ["2024-01", "2024-02", "2024-02"]})
    bills = pd.DataFrame({"bill_id": ["b1"], "drawer_id": ["A"], "payee_id": ["X"], "amount": [100.0],
                          "issued_on": [_day("2024-03-01")]})
    payroll = pd.DataFrame({"employer_id": ["A", "A"], "person_id": ["P", "Q"], "month": ["2024-01", "2024-02"],
                            "amount": [9.0, 11.0]})
    return _tables(payments=payments, bills=bills, payroll=payroll)


def _recording(read: derive.TableReader) -> tuple[derive.TableReader, list[str]]:
    """`read`, and the names of the tables it was asked for (in order)."""
    asked: list[str] = []

    def reading(name: str, columns: list[str]) -> pa.Table:
        asked.append(name)
        return read(name, columns)

    return reading, asked


def test_edges_derived_ahead_are_the_edges_derived_at_the_end() -> None:
    """The kinds whose fact tables are final are derived on `EdgesAhead`'s thread (PAYS, BILL and
    ENDORSES here: the payroll is not among them) and the rest at the end: the same table, in the
    same kind order, as deriving every kind at the end."""
    read = derive.frames_reader(_money_tables())
    expected = derive.derive_edge_table(read, ["本行"])
    reading, asked = _recording(read)

    with derive.EdgesAhead() as ahead:
        ahead.start(["payments", "bills", "endorsements", "roles"], reading, ["本行"])
        made = ahead.take()  # what the ingest's derive step takes
        assert sorted(made) == ["BILL", "ENDORSES", "PAYS"] and "payroll" not in asked
        assert made["PAYS"].num_rows == 2 and made["BILL"].num_rows == 1 and made["ENDORSES"].num_rows == 0
        ahead.start(["payments", "bills", "endorsements", "roles"], reading, ["本行"])
        got = derive.derive_edge_table(read, ["本行"], None, ahead)
    assert got.equals(expected)
    assert got.column("kind").to_pylist()[:4] == ["PAYS", "PAYS", "BILL", "PAYROLL"]
    with derive.EdgesAhead() as nothing_final:
        nothing_final.start(["roles"], reading, ["本行"])  # no money kind's facts final: nothing started
        assert nothing_final.take() == {}


def test_edges_ahead_started_again_derives_only_the_kinds_final_since() -> None:
    """`run_ingest` starts `EdgesAhead` a second time once the payroll is read: only PAYROLL is
    derived then (the first kinds are not read again), and `edge_parts` yields every kind's edges
    in the stored order without deriving any itself."""
    read = derive.frames_reader(_money_tables())
    expected = derive.derive_edge_table(read, ["本行"])
    reading, asked = _recording(read)

    with derive.EdgesAhead() as ahead:
        ahead.start(["payments", "bills", "endorsements"], reading, ["本行"])
        ahead.start(["payments", "bills", "endorsements", "payroll"], reading, ["本行"])
        parts = derive.edge_parts(reading, ["本行"], None, ahead)
        got = pa.concat_tables(list(parts))
    money = sorted(name for name in asked if name in ("payments", "bills", "endorsements", "payroll"))
    assert money == ["bills", "bills", "endorsements", "payments", "payroll"]  # each kind derived once
    assert got.equals(expected)
    assert got.column("kind").to_pylist()[:4] == ["PAYS", "PAYS", "BILL", "PAYROLL"]


def test_leaving_edges_ahead_stops_it_before_its_next_kind() -> None:
    """An ingest that fails or is cancelled leaves `EdgesAhead`: the kind being derived ends (its
    query interrupted), no later kind starts, and the thread is gone when the `with` ends."""
    read = derive.frames_reader(_money_tables())
    inside, go = threading.Event(), threading.Event()
    asked: list[str] = []

    def slow(name: str, columns: list[str]) -> pa.Table:
        asked.append(name)
        inside.set()
        assert go.wait(30)
        return read(name, columns)

    ahead = derive.EdgesAhead()
    with ahead:
        ahead.start(["payments", "bills", "endorsements"], slow, ["本行"])
        assert inside.wait(30)
        threading.Timer(0.2, go.set).start()  # the payments' read ends while the `with` is being left
    assert asked == ["payments"]  # stopped before BILL
    assert not any(t.name.startswith("edges-ahead") for t in threading.enumerate())
    with pytest.raises(InterruptedError):
        ahead.running(duckdb.connect())  # stopped for good
