"""The service record's notes: free text with optional tags; a tag triggers an offer (settings).

Kept in ``STORE/state/notes.sqlite`` (unversioned, like the lead ledger), so notes survive
re-ingests. Each note keeps the branch of the token that wrote it (``""``: a user of no branch or
the command line), so a note is shown only to viewers who see that branch; a note written before
the column existed has ``None`` there (the API judges it by its author).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.errors import InvalidRequest
from graph.store import GraphStore
from leads.settings import RhythmSettings
from leads.state import StateDb

__all__ = ["NoteBook", "add_note", "offers_for"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id TEXT NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    branch_id TEXT
);
CREATE INDEX IF NOT EXISTS notes_entity ON notes(entity_id);
"""


class NoteBook(StateDb):
    """The notes of one store (``STORE/state/notes.sqlite``, private like the lead ledger)."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(Path(state_dir) / "notes.sqlite", _SCHEMA)
        with self._connect() as db:  # a notebook kept before notes had a branch
            if "branch_id" not in {r[1] for r in db.execute("PRAGMA table_info(notes)")}:
                try:
                    db.execute("ALTER TABLE notes ADD COLUMN branch_id TEXT")
                except sqlite3.OperationalError as exc:  # another worker added it first
                    if "duplicate column" not in str(exc):
                        raise

    def notes(self, entity_id: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute("SELECT seq, text, tags, recorded_by, recorded_at, branch_id FROM notes "
                              "WHERE entity_id = ? ORDER BY seq", (entity_id,)).fetchall()
        return [{"seq": r[0], "text": r[1], "tags": [t for t in r[2].split(",") if t], "recorded_by": r[3],
                 "recorded_at": r[4], "branch_id": r[5]} for r in rows]

    def add(self, entity_id: str, text: str, tags: list[str], by: str, branch: str | None = None) -> dict[str, Any]:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            db.execute("INSERT INTO notes(entity_id, text, tags, recorded_by, recorded_at, branch_id) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (entity_id, text, ",".join(tags), by, at, branch or ""))
        return self.notes(entity_id)[-1]


def add_note(store: GraphStore, conf: RhythmSettings, entity_id: str, text: str, tags: list[str],
             by: str, branch: str | None = None) -> dict[str, Any]:
    """Keep a note about an entity, with the branch of who writes it (None: no branch); unknown tags
    are refused, naming the known ones."""
    store.require_node(entity_id)
    if not text.strip():
        raise InvalidRequest("a note needs some text")
    unknown = sorted(set(tags) - set(conf.tags))
    if unknown:
        raise InvalidRequest(f"unknown tag(s) {', '.join(unknown)}; choose from {', '.join(conf.tags)}")
    return NoteBook(store.state_dir).add(entity_id, text.strip(), sorted(set(tags)), by, branch)


def offers_for(conf: RhythmSettings, tags: list[str], lang: str) -> list[dict[str, str]]:
    """The offers the tags trigger, in the user's language."""
    return [{"tag": t, "label": getattr(conf.tags[t], lang), "offer": getattr(conf.tags[t], f"offer_{lang}")}
            for t in tags if t in conf.tags]
