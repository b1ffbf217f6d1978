"""The audit log: who saw which person or exported which list, and when.

JSON lines in ``state_dir/audit.jsonl`` (mode 0600), one per request that reveals persons,
views an entity, exports a list or starts an ingest. A line holds the time, the user's
name, token id, role and branch, the action, entity ids, filters and a row count — never a name,
phone, ID number or search text, so the log itself holds no personal data.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.auth import User

__all__ = ["AuditLog", "MAX_IDS"]

MAX_IDS = 500  # a line names at most this many ids; `ids_total` keeps the full count


class AuditLog:
    """Appends one JSON line per audited request; safe across threads and worker processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, user: User, action: str, *, ids: Iterable[str] = (), filters: dict[str, Any] | None = None,
               rows: int | None = None, **extra: Any) -> None:
        id_list = [str(i) for i in ids]
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "user": user.name, "token_id": user.token_id, "role": user.role, "branch": user.branch, "action": action,
        }
        if id_list:
            entry["ids"] = id_list[:MAX_IDS]
            entry["ids_total"] = len(id_list)
        if filters:
            entry["filters"] = {k: v for k, v in filters.items() if v is not None}
        if rows is not None:
            entry["rows"] = rows
        entry.update(extra)
        line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # the workers of `serve --workers N` append to one file
                os.write(fd, line)  # one write per line: lines of two processes never interleave
            finally:
                os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        """Every line, oldest first (for tests and admins)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]
