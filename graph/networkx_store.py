"""The embedded default: a store is a folder of Parquet tables plus a manifest.

Layout::

    STORE/manifest.json            {"version": "000003", "tables": {name: {"file", "rows"}}, ...}
    STORE/versions/000003/*.parquet
    STORE/state/                   tokens, audit log, salt (unversioned)
    STORE/reports/                 rejects and resolution reports of each ingest

A commit writes the new version's files into a temporary folder, hard-links the tables it
does not replace, renames the folder into place and only then swaps the manifest with
`os.replace` — so a crash at any point leaves the previous manifest and its files intact.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from graph.errors import StoreCorrupted
from graph.nested import to_pandas
from graph.schema import TABLES, TableData, arrow_schema, conform_arrow, empty
from graph.stage import Stage, arrow_columns
from graph.store import GraphStore

__all__ = ["NetworkxStore"]

MANIFEST = "manifest.json"


class NetworkxStore(GraphStore):
    backend = "networkx"

    def __init__(self, root: Path | str, keep_versions: int = 2) -> None:
        super().__init__(root)
        self.keep_versions = keep_versions
        self._manifest_cache: tuple[float, dict[str, Any]] | None = None
        self._pinned: dict[str, Any] | None = None

    def snapshot(self) -> NetworkxStore:
        """A store object reading the current manifest only (older versions stay on disk for
        `keep_versions` commits, so a pinned reader finishes its work)."""
        pinned = NetworkxStore(self.root, self.keep_versions)
        pinned._pinned = self.manifest()
        return pinned

    def _cache_scope(self) -> str:
        # the store id tells a store apart from one deleted and made again at the same path
        return f"{self.backend}:{self._resolved_root}:{self.manifest().get('store_id')}"

    @functools.cached_property
    def _resolved_root(self) -> Path:
        """The root resolved once per store object (a request asks for its caches thousands of times)."""
        return self.root.resolve()

    def _table_token(self, table: str) -> str | None:
        entry = self.manifest()["tables"].get(table)
        if entry is None:
            return f"absent@{self.version}"
        return str(entry.get("written") or entry["file"])

    # ----------------------------------------------------------- manifest
    def manifest(self) -> dict[str, Any]:
        if self._pinned is not None:
            return self._pinned
        path = self.root / MANIFEST
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            versions = self.root / "versions"
            if versions.is_dir() and any(p.name.isdigit() for p in versions.iterdir()):
                # versions without a manifest: reading it as empty would let the next ingest
                # write over the data; a person must restore the manifest or remove the folder
                raise StoreCorrupted(f"store manifest {path} is missing but {versions} holds data: "
                                     "restore the manifest, or remove the store folder to start again") from None
            return {"version": None, "tables": {}, "history": []}
        if self._manifest_cache and self._manifest_cache[0] == mtime:
            return self._manifest_cache[1]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or "tables" not in data:
                raise ValueError("no tables")
        except (OSError, ValueError) as exc:
            raise StoreCorrupted(f"store manifest {path} is unreadable: {exc}") from exc
        self._manifest_cache = (mtime, data)
        return data

    def _version(self) -> str | None:
        return self.manifest().get("version")

    def _read_table(self, table: str, columns: list[str] | None = None) -> pd.DataFrame | None:
        entry = self.manifest()["tables"].get(table)
        if entry is None:
            return None
        # only the stored columns: conform adds the others as nulls
        return to_pandas(_read_file(self.root / entry["file"], columns, f" (version {self.version})"))

    def _read_columns(self, table: str, columns: list[str]) -> pd.DataFrame | None:
        return self._read_table(table, columns)

    # -------------------------------------------------------------- commit
    def _new_stage(self, note: str) -> _ParquetStage:
        return _ParquetStage(self, note)

    def _commit(self, tables: dict[str, TableData], note: str) -> str:
        stage = _ParquetStage(self, note)
        try:
            # Parquet encoding and fsync release the GIL: the tables are written two at a time
            with ThreadPoolExecutor(max_workers=2) as pool:
                for _ in pool.map(stage._put, tables, tables.values()):
                    pass
            return stage._commit()
        except BaseException:
            stage._abort()
            raise

    def _begin(self) -> Path:
        """A new temporary folder for a version's files (renamed into place by `_finish`)."""
        if self._pinned is not None:
            raise StoreCorrupted("a pinned snapshot of the store cannot be written to")
        versions = self.root / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        for folder in (self.root, versions):  # client data: folders 0700, files 0600 (#19)
            os.chmod(folder, 0o700)
        tmp = versions / f".tmp-{os.getpid()}-{uuid.uuid4().hex}"  # the writer's process: see `_stale`
        tmp.mkdir(mode=0o700)
        return tmp

    def _finish(self, tmp: Path, rows: dict[str, int], note: str) -> str:
        """Make the tables written into `tmp` (`rows` per table) a new version: the current
        version's other tables hard-linked beside them, the folder renamed into place, and only
        then the manifest swapped with `os.replace`. Removes `tmp` if anything fails."""
        current = self.manifest()
        previous = current.get("version")
        version = f"{int(previous) + 1 if previous else 1:06d}"
        versions = self.root / "versions"
        try:
            entries: dict[str, dict[str, Any]] = {}
            for name, entry in current["tables"].items():
                if name in rows or name not in TABLES:  # written anew, or a table the schema no longer has
                    continue
                src = self.root / entry["file"]
                dst = tmp / src.name
                try:
                    os.link(src, dst)
                except OSError:
                    shutil.copy2(src, dst)
                entries[name] = {**entry, "file": f"versions/{version}/{src.name}",
                                 "written": entry.get("written") or entry["file"]}
            for name, count in rows.items():
                entries[name] = {"file": f"versions/{version}/{name}.parquet", "rows": count,
                                 "written": f"versions/{version}/{name}.parquet"}
            final = versions / version
            if final.exists():  # left by a crash after rename but before the manifest swap
                shutil.rmtree(final)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        history = list(current.get("history", []))[-49:]
        history.append({"version": version, "at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "note": note, "tables": sorted(rows)})
        manifest = {"format": 1, "backend": self.backend, "store_id": current.get("store_id") or uuid.uuid4().hex,
                    "version": version, "tables": dict(sorted(entries.items())),  # not the order threads ended in
                    "history": history}
        tmp_manifest = self.root / f".{MANIFEST}.{uuid.uuid4().hex}.tmp"
        tmp_manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        os.chmod(tmp_manifest, 0o600)
        _fsync(tmp_manifest)
        os.replace(tmp_manifest, self.root / MANIFEST)
        _fsync_dir(self.root)
        self._manifest_cache = None
        self._collect_garbage(version)
        return version

    def _collect_garbage(self, current: str) -> None:
        versions = self.root / "versions"
        done = sorted(p.name for p in versions.iterdir() if p.is_dir() and p.name.isdigit())
        for old in done[: max(0, len(done) - self.keep_versions)]:
            if old != current:
                shutil.rmtree(versions / old, ignore_errors=True)
        for tmp in versions.glob(".tmp-*"):
            if _stale(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
        for rows in self.root.glob(".score-*"):  # a killed scoring run's rows (client data)
            if datetime.now().timestamp() - rows.stat().st_mtime > 6 * 3600:
                shutil.rmtree(rows, ignore_errors=True)


def _stale(tmp: Path) -> bool:
    """Whether a temporary version folder was left by a writer that is gone: older than an hour
    and its process (named in the folder) no longer runs. A staged ingest keeps its folder from
    the merge to the commit, which on a big bundle can take longer than an hour while another
    writer (a scoring run) commits; a folder named without a process, or a week old, goes by age."""
    age = datetime.now().timestamp() - tmp.stat().st_mtime
    if age <= 3600:
        return False
    _, pid, _ = (tmp.name.split("-") + ["", ""])[:3]
    if not pid.isdigit() or age > 7 * 86400:
        return True
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


class _ParquetStage(Stage):
    """A stage whose put tables are written at once into the new version's temporary folder
    (and so leave memory); `commit` is `NetworkxStore._finish`, as for one `write`."""

    def __init__(self, store: NetworkxStore, note: str) -> None:
        super().__init__(store, note)
        self._store = store
        self.folder = store._begin()
        self.rows: dict[str, int] = {}

    def _put(self, name: str, data: TableData) -> None:
        _write_parquet(data, self.folder / f"{name}.parquet")
        self.rows[name] = int(len(data))

    def _put_parts(self, name: str, parts: Iterator[TableData]) -> None:
        self.rows[name] = _write_parquet_parts(name, parts, self.folder / f"{name}.parquet")

    def _read_put(self, name: str, columns: list[str]) -> pa.Table:
        return _read_arrow(self.folder / f"{name}.parquet", name, columns)

    def _read_kept(self, name: str, columns: list[str]) -> pa.Table:
        entry = self._store.manifest()["tables"].get(name)
        if entry is None:
            return arrow_columns(name, empty(name), columns)
        return _read_arrow(self._store.root / entry["file"], name, columns)

    def _parquet_file(self, name: str, put: bool) -> Path | None:
        if put:
            return self.folder / f"{name}.parquet"
        entry = self._store.manifest()["tables"].get(name)
        return None if entry is None else self._store.root / entry["file"]

    def _commit(self) -> str:
        return self._store._finish(self.folder, self.rows, self.note)

    def _abort(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _read_arrow(path: Path, name: str, columns: list[str]) -> pa.Table:
    """Columns of a stored table file as Arrow in the stored schema (a file written before a
    column existed gives nulls for it)."""
    return arrow_columns(name, _read_file(path, columns), columns)


def _read_file(path: Path, columns: list[str] | None, where: str = "") -> pa.Table:
    """The stored `columns` of a table file (all with None; those it lacks are left out), or
    StoreCorrupted naming the file (`where` adds which version)."""
    try:
        if columns is None:
            return pq.read_table(path)
        stored = set(pq.read_schema(path).names)
        return pq.read_table(path, columns=[c for c in columns if c in stored])
    except FileNotFoundError as exc:
        raise StoreCorrupted(f"store file {path} is missing{where}") from exc
    except (OSError, pa.ArrowException) as exc:
        raise StoreCorrupted(f"store file {path} is unreadable: {exc}") from exc


def _write_parquet(data: TableData, dst: Path) -> None:
    # an Arrow table comes in the stored schema already (`graph.schema.conform_arrow`)
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    if not isinstance(data, pa.Table) and dst.stem in _NESTED_TABLES:
        table = conform_arrow(dst.stem, table)  # nested columns given as JSON text in pandas: stored as lists
    pq.write_table(table, dst, **_parquet_options(dst.stem, table.schema))
    os.chmod(dst, 0o600)
    _fsync(dst)


def _write_parquet_parts(name: str, parts: Iterator[TableData], dst: Path) -> int:
    """Write table `name`'s parts (conformed: an Arrow part is in the stored schema already, as
    in `_write_parquet`) to one Parquet file, each part on a thread of its own while the next is
    made (encoding frees the GIL); returns the rows written. Each part starts a row group (a
    part's kind never shares one with the next: DuckDB skips them by kind)."""
    schema = arrow_schema(name)
    rows = 0
    with pq.ParquetWriter(dst, schema, **_parquet_options(name, schema)) as out, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-parts") as pool:
        writes = []
        for part in parts:
            table = part if isinstance(part, pa.Table) else conform_arrow(name, pa.Table.from_pandas(part, preserve_index=False))
            rows += table.num_rows
            if table.num_rows:  # an empty part would be an empty row group
                writes.append(pool.submit(out.write_table, table))
            del table
        for write in writes:  # in order; the first error raised
            write.result()
    os.chmod(dst, 0o600)
    _fsync(dst)
    return rows


# tables with nested columns (`graph.nested`)
_NESTED_TABLES = {name for name, spec in TABLES.items() if "nested" in spec.columns.values()}
# text columns whose values never repeat, besides a table's one-column key (the hashed ID numbers)
_UNIQUE_TEXT = {"persons": ("id_hash",)}


def _parquet_options(table: str, schema: pa.Schema) -> dict[str, Any]:
    """Per-column Parquet options: dictionary encoding only where values repeat, compression
    only where it pays. A column whose values never repeat (a one-column key such as payments'
    `fact_id`, a salted hash) gets neither: its dictionary would be given up after the first
    megabyte anyway, and snappy saves a fifth of its bytes for most of the writing time. Floats
    (amounts) get no dictionary: they seldom repeat either. Min/max statistics stay on every
    column (DuckDB prunes row groups and plans with them). At 500k payments this cuts the CPU
    time of writing the store's tables by about a quarter, for 8% more bytes (bench/RESULTS.md)."""
    spec = TABLES.get(table)
    unique = set(_UNIQUE_TEXT.get(table, ()))
    if spec is not None and len(spec.key) == 1:
        unique.add(spec.key[0])
    leaves = [leaf for f in schema for leaf in _leaves(f.name, f.type)]  # a nested column's leaf columns
    names = [path for path, _ in leaves]
    floats = {path for path, type_ in leaves if pa.types.is_floating(type_)}
    # a list column's items keep Arrow's name ("item"): read back, the table is the schema's own
    return {"use_dictionary": [c for c in names if c not in unique and c not in floats],
            "compression": {c: "none" if c in unique else "snappy" for c in names},
            "use_compliant_nested_type": False}


def _leaves(path: str, type_: pa.DataType) -> list[tuple[str, pa.DataType]]:
    """The Parquet leaf columns of an Arrow column (path, type): its own for a flat one; a list's
    items under `list.item`, a struct's fields under their names (their labels repeat: at 2M
    payments a `prospects` file with its nested columns left plain was 4.5 times as large)."""
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return _leaves(f"{path}.list.{type_.value_field.name}", type_.value_type)
    if pa.types.is_struct(type_):
        return [leaf for child in type_ for leaf in _leaves(f"{path}.{child.name}", child.type)]
    return [(path, type_)]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        _fsync(path)
    except OSError:
        pass
