"""The process's one in-memory DuckDB database: every step that queries Arrow tables or the store's
Parquet files with SQL (ingest, scoring, the API) takes a cursor of it.

Opening a database costs about 20 ms of CPU (45 ms wall): a scoring run that opened one per step
(views of the store, JSON columns, the stored form) paid it some twenty times. A cursor of an
open database costs microseconds; its registered views and settings are its own, so steps (and
threads) never see each other's names. A step whose tables should leave memory the moment it
ends opens a database of its own instead (`own_database`). Neither draws DuckDB's progress bar:
the callers draw their own progress on a terminal (`graph.progress`) and stay quiet otherwise.
"""

from __future__ import annotations

import threading

import duckdb

__all__ = ["duckdb_cursor", "own_database"]

_DATABASE: duckdb.DuckDBPyConnection | None = None
_DATABASE_LOCK = threading.Lock()


def duckdb_cursor() -> duckdb.DuckDBPyConnection:
    """A connection of its own (close it after use) to the process's one in-memory DuckDB database."""
    global _DATABASE
    with _DATABASE_LOCK:
        if _DATABASE is None:
            _DATABASE = duckdb.connect()
        con = _DATABASE.cursor()
    con.execute("SET enable_progress_bar = false").fetchall()  # callers draw their own progress
    return con


def own_database(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB database (close it after use: its tables' memory goes back at once),
    with `threads` threads (default: DuckDB's, one per core) and no progress bar of its own."""
    con = duckdb.connect(config={} if threads is None else {"threads": threads})
    con.execute("SET enable_progress_bar = false").fetchall()
    return con
