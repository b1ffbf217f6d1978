"""The sign-in failure throttle, one for every worker process of a store.

Failed sign-ins are rows of a SQLite table in ``STORE/state/sign-in-failures.sqlite`` (WAL,
private, like the lead ledger), so the workers of ``prospect-graph serve --workers N`` count
one client address's failures together: a guesser cannot multiply the limit by the number
of workers. The check and the count are one transaction, so two workers cannot both let
the last allowed guess through. A valid credential never reaches the throttle (`api.auth.sign_in`),
so it costs a request nothing unless the request fails to sign in.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from leads.state import StateDb

__all__ = ["FailureThrottle", "WINDOW_SECONDS"]

WINDOW_SECONDS = 60.0
FILE = "sign-in-failures.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS failures (client TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS failures_client ON failures(client, at);
CREATE INDEX IF NOT EXISTS failures_at ON failures(at);
"""


class FailureThrottle(StateDb):
    """More than `per_minute` failed sign-ins from one address in the last minute: blocked (429)."""

    def __init__(self, state_dir: Path, per_minute: int) -> None:
        super().__init__(Path(state_dir) / FILE, _SCHEMA)
        self.per_minute = per_minute

    def fail(self, client: str) -> bool:
        """A failed sign-in of `client`: True when it was already blocked (then it is not
        counted, so a blocked client is free again a minute after its last counted failure)."""
        now = time.time()
        with self._connect() as db:
            db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps the file whole; a lost last count is harmless
            db.execute("BEGIN IMMEDIATE")  # one writer at a time across workers: check and count together
            try:
                if self._count(db, client, now) >= self.per_minute:
                    return True
                db.execute("DELETE FROM failures WHERE at <= ?", (now - WINDOW_SECONDS,))  # bounded by one minute
                db.execute("INSERT INTO failures(client, at) VALUES (?, ?)", (client, now))
                return False
            finally:
                db.execute("COMMIT")

    @staticmethod
    def _count(db: sqlite3.Connection, client: str, now: float) -> int:
        row = db.execute("SELECT count(*) FROM failures WHERE client = ? AND at > ?",
                         (client, now - WINDOW_SECONDS)).fetchone()
        return int(row[0])
