"""Payment files delivered twice: the same bytes under another name are read once.

A payment's id includes its file's name (`ingest.load.fact_ids`), so re-ingesting a file changes
nothing, but the same export saved again under another name — a download kept as
`交易明细(1).csv`, a month re-sent as `payments/2024-05-resent.csv`, last week's
`payments.csv` delivered again in a folder — would add every row a second time and double the
totals, with nothing said. So:

- within a bundle, of files with the same bytes only the one with the shortest name is read
  (the first in the plan's order among equals): a copy's name is the longer, `… (1).csv`;
- across ingests, a file whose bytes are those of a file an earlier ingest of this store read
  under another name is not read (the same name: read, and changes nothing). The SHA-256 of
  each file read is kept in ``STORE/state/files.json`` once its version is committed.

Both are listed in the summary with the file they repeat. A payment with a transaction reference
(流水号) has an id of no file (`ingest.load.fact_ids`), so a re-export that is not the same bytes
(two overlapping months) adds it once; the record says so (``"fact_ids": "reference"``), and a
store first ingested before those ids keeps its payments' ids made from their files' names
(`Repeats.by_reference` false): the same file read again must give the ids it gave. Only the payments' files
(`BY_FILE`) are looked at: every other table merges by its natural key (`validate.KEYS`; payroll
by employer, person and month), so a file sent twice changes nothing there, and a node file sent
again on purpose (to restore a field) is read. Only files whose size is another's
(in the bundle, or among those recorded) are hashed before reading; the others are hashed on a
thread of their own while the ingest reads, for the record (1.4 GB/s: 0.25 s of a second core
for the 2M-payment bundle's 341 MB).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.store import GraphStore

__all__ = ["Repeats", "BY_FILE"]

BY_FILE = ("payments",)  # the tables whose facts are told apart by their file's name

_STATE = "files.json"
_BY_REFERENCE, _BY_FILE_NAME = "reference", "file"  # how the store's payments with a reference got their ids
log = logging.getLogger(__name__)


def _digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


class Repeats:
    """The planned files of one ingest: which to leave out (`skipped`: resolved path -> what it
    repeats), and, once committed, the record of the files read (`record`)."""

    def __init__(self, store: GraphStore, files: Iterable[Path], label: Callable[[Path], str]) -> None:
        self._path = store.state_dir / _STATE
        recorded = self._recorded()
        scheme = self._state().get("fact_ids")
        #: payments with a reference get ids of no file: a new store, or one whose record says so
        self.by_reference = scheme == _BY_REFERENCE if scheme is not None else store.version is None
        self._label = label
        paths = list(dict.fromkeys(p.resolve() for p in files))
        sizes = {p: _size(p) for p in paths}
        seen_sizes: dict[int, int] = {}
        for size in sizes.values():
            seen_sizes[size] = seen_sizes.get(size, 0) + 1
        recorded_sizes = {int(entry.get("size", -1)) for entry in recorded.values()}
        self._digests: dict[Path, str] = {}
        self.skipped: dict[Path, str] = {}
        kept: dict[str, tuple[str, Path]] = {}  # digest -> the planned file read of those with it
        for path in paths:  # in the plan's order
            size = sizes[path]
            if size <= 0 or (seen_sizes[size] == 1 and size not in recorded_sizes):
                continue  # no other file of that size: no repeat, hashed later for the record
            digest = self._digests[path] = _digest(path)
            name = label(path)
            if digest in recorded and recorded[digest].get("file") != name:
                then = recorded[digest]
                self.skipped[path] = f"the same bytes as {then.get('file')}, read in version {then.get('version')}"
            elif digest in kept:  # of identical files the shortest name is read: a copy's is longer, '… (1).csv'
                read, left = kept[digest], (name, path)
                if len(name) < len(read[0]):
                    read, left = left, read
                kept[digest] = read
                self.skipped[left[1]] = f"the same bytes as {read[0]}, read in this ingest"
            else:
                kept[digest] = (name, path)
        rest = [p for p in paths if p not in self._digests and sizes[p] > 0]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="file-digests") if rest else None
        self._later: list[tuple[Path, Future[str]]] = [
            (p, self._pool.submit(_digest, p)) for p in rest] if self._pool else []

    def shown(self) -> dict[str, str]:
        """Each file left out (its label) -> what it repeats, for the summary."""
        return {self._label(path): why for path, why in self.skipped.items()}

    def _state(self) -> dict[str, Any]:
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _recorded(self) -> dict[str, dict[str, Any]]:
        files = self._state().get("files", {})
        return files if isinstance(files, dict) else {}

    def record(self, version: str) -> None:
        """Keep the digest of every file read (called once the version is committed, under the
        store's writer lock): written aside and swapped in, so a crash leaves the old record. The
        version stands whatever happens here: a file gone or a full disk is logged, not raised."""
        try:
            digests = dict(self._digests)
            digests.update({p: f.result() for p, f in self._later})
            recorded = self._recorded()
            at = datetime.now(UTC).isoformat(timespec="seconds")
            for path, digest in digests.items():
                if path not in self.skipped and digest not in recorded:
                    recorded[digest] = {"file": self._label(path), "size": _size(path), "version": version, "at": at}
            tmp = self._path.with_suffix(f".{os.getpid()}.tmp")
            scheme = _BY_REFERENCE if self.by_reference else _BY_FILE_NAME
            tmp.write_text(json.dumps({"fact_ids": scheme, "files": recorded}, ensure_ascii=False, indent=1),
                           encoding="utf-8")
            os.replace(tmp, self._path)
        except OSError as exc:
            log.warning("the files of version %s were not recorded (a later copy of them is not caught): %s",
                        version, exc)

    def close(self) -> None:
        """Stop hashing (at the end of the ingest, whatever its outcome)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
