"""The lead ledger: who owns which entity and what happened, kept across re-ingests.

A SQLite file in the store's unversioned state folder. Ownership is one row per entity
under a PRIMARY KEY, so two managers can never hold the same entity, even when claims
race: the database, not the caller, decides who was first.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from graph.errors import Conflict, InvalidRequest, NotFound

__all__ = ["StateDb", "LeadLedger", "Claim", "DISPOSITIONS", "OPEN_STATUSES", "POSITIVE", "FINAL"]

DISPOSITIONS = ("contacted", "meeting", "won", "lost", "not_interested", "do_not_contact")
OPEN_STATUSES = ("open", "contacted", "meeting")  # an owner is working it
FINAL = ("won", "lost", "not_interested", "do_not_contact")
POSITIVE = ("meeting", "won")  # what counts as a hit for precision at k

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    entity_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    family TEXT,
    score REAL,
    claimed_by TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dispositions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id TEXT NOT NULL,
    status TEXT NOT NULL,
    owner TEXT,
    family TEXT,
    score REAL,
    evidence TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS dispositions_entity ON dispositions(entity_id);
CREATE TABLE IF NOT EXISTS joint_visits (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id TEXT NOT NULL,
    manager TEXT NOT NULL,
    owner TEXT,
    note TEXT,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    UNIQUE(entity_id, manager)
);
"""


@dataclass(frozen=True)
class Claim:
    entity_id: str
    owner: str
    status: str
    family: str | None
    score: float | None
    claimed_by: str
    claimed_at: str
    updated_at: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StateDb:
    """A SQLite file in the store's unversioned state folder (the lead ledger, the notes).

    The file is made private (0600) before SQLite opens it, its schema is created once, and
    every use gets its own connection in WAL mode (readers never wait for a writer).
    """

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))  # private before sqlite opens it
        with self._connect() as db:
            db.executescript(schema)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            yield db
        finally:
            db.close()


class LeadLedger(StateDb):
    """Claims and dispositions of one store (``STORE/state/leads.sqlite``)."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(Path(state_dir) / "leads.sqlite", _SCHEMA)

    # ------------------------------------------------------------------ reads
    def claims(self) -> dict[str, Claim]:
        with self._connect() as db:
            rows = db.execute("SELECT entity_id, owner, status, family, score, claimed_by, claimed_at, "
                              "updated_at FROM claims").fetchall()
        return {r[0]: Claim(*r) for r in rows}

    def history(self, entity_id: str | None = None) -> list[dict[str, object]]:
        return self._rows("SELECT seq, entity_id, status, owner, family, score, evidence, recorded_by, recorded_at, "
                          "note FROM dispositions", entity_id)

    def joint_visits(self, entity_id: str | None = None) -> list[dict[str, object]]:
        """Requests for a joint visit: a shared lead's other anchors' managers asking its owner."""
        return self._rows("SELECT seq, entity_id, manager, owner, note, requested_by, requested_at FROM joint_visits",
                          entity_id)

    def _rows(self, sql: str, entity_id: str | None) -> list[dict[str, object]]:
        """The rows of a log table in order (`seq`), of one entity or all."""
        args: tuple[str, ...] = ()
        if entity_id is not None:
            sql += " WHERE entity_id = ?"
            args = (entity_id,)
        with self._connect() as db:
            cur = db.execute(sql + " ORDER BY seq", args)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    # ----------------------------------------------------------------- writes
    def request_joint_visit(self, entity_id: str, manager: str, by: str, *, owner: str | None = None,
                            note: str | None = None) -> dict[str, object]:
        """Record that `manager` asks the lead's owner for a joint visit; asking twice keeps the
        first request (it is not a disposition: precision and refit do not read it)."""
        with self._connect() as db:
            db.execute("INSERT INTO joint_visits(entity_id, manager, owner, note, requested_by, requested_at) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(entity_id, manager) DO NOTHING",
                       (entity_id, manager, owner, note, by, _now()))
        return next(r for r in self.joint_visits(entity_id) if r["manager"] == manager)

    def claim(self, entity_id: str, owner: str, by: str, family: str | None = None,
              score: float | None = None) -> Claim:
        """Take ownership of an entity; refused (Conflict) when another manager holds it."""
        if not owner:
            raise InvalidRequest("a claim needs an owner (manager id)")
        now = _now()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT owner, status FROM claims WHERE entity_id = ?", (entity_id,)).fetchone()
                if row is not None and row[0] != owner and row[1] in OPEN_STATUSES + ("won",):
                    raise Conflict(f"{entity_id} is already owned by {row[0]} (status {row[1]})")
                db.execute(
                    "INSERT INTO claims(entity_id, owner, status, family, score, claimed_by, claimed_at, updated_at) "
                    "VALUES (?, ?, 'open', ?, ?, ?, ?, ?) "
                    "ON CONFLICT(entity_id) DO UPDATE SET owner = excluded.owner, status = 'open', "
                    "family = excluded.family, score = excluded.score, claimed_by = excluded.claimed_by, "
                    "claimed_at = excluded.claimed_at, updated_at = excluded.updated_at",
                    (entity_id, owner, family, score, by, now, now),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return self.claims()[entity_id]

    def record(self, entity_id: str, status: str, by: str, *, owner: str | None = None,
               family: str | None = None, score: float | None = None, evidence: str | None = None,
               note: str | None = None) -> dict[str, object]:
        """Record a disposition; the entity's claim takes the new status (claimed first if needed)."""
        if status not in DISPOSITIONS:
            raise InvalidRequest(f"unknown disposition {status!r}; choose one of {', '.join(DISPOSITIONS)}")
        claims = self.claims()
        current = claims.get(entity_id)
        if current is None:
            if not owner:
                raise NotFound(f"{entity_id} has no owner yet: claim it first or give the owner")
            self.claim(entity_id, owner, by, family, score)
        elif owner and owner != current.owner:
            raise Conflict(f"{entity_id} is owned by {current.owner}, not {owner}")
        now = _now()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE claims SET status = ?, updated_at = ? WHERE entity_id = ?", (status, now, entity_id))
            db.execute(
                "INSERT INTO dispositions(entity_id, status, owner, family, score, evidence, recorded_by, "
                "recorded_at, note) VALUES (?, ?, (SELECT owner FROM claims WHERE entity_id = ?), ?, ?, ?, ?, ?, ?)",
                (entity_id, status, entity_id, family, score, evidence, by, now, note),
            )
            db.execute("COMMIT")
        return self.history(entity_id)[-1]
