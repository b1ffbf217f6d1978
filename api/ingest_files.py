"""Getting an ingest bundle onto the server safely: uploads, zip archives and server paths.

- A server path must resolve (symlinks followed) inside `ingest_root`; every file of a
  bundle folder, and every file a mapping.yaml names, must too — so ``../`` and a symlink
  pointing outside the root are refused.
- Uploads are saved under their base names only, with known extensions, and an uploaded
  mapping.yaml may name files of the upload only (the same check, rooted at the upload); a zip archive is
  unpacked with each member checked (no absolute paths, no ``..``), its total unpacked size
  bounded by ``max_unzipped_bytes`` (default 512 MiB; was 10 x the upload limit) and each
  member's compression ratio by `MAX_RATIO` (zip bombs).
- Body size limits (413 on every route, after authentication) live in `api.guard`.
"""

from __future__ import annotations

import glob
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import yaml
from fastapi import UploadFile

from graph.errors import Forbidden, InvalidRequest, NotFound
from ingest.formats import SUFFIXES

__all__ = ["resolve_server_path", "save_uploads", "TooLarge", "ALLOWED_SUFFIXES"]

ALLOWED_SUFFIXES = {*SUFFIXES, ".yaml", ".yml", ".zip"}  # what a bundle's readers take, a mapping, a zip
_CHUNK = 1024 * 1024


class TooLarge(InvalidRequest):
    status = 413
    code = "too_large"


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def resolve_server_path(raw: str, ingest_root: Path | None) -> Path:
    """The bundle folder or mapping file `raw` names, checked to stay inside `ingest_root`."""
    if ingest_root is None:
        raise Forbidden("ingest from a server path is disabled (set PROSPECT_GRAPH_API__INGEST_ROOT)")
    if "\x00" in raw:
        raise InvalidRequest("the path contains a NUL character")
    root = ingest_root.resolve()
    candidate = Path(raw) if Path(raw).is_absolute() else root / raw
    try:
        resolved = candidate.resolve()
        if not _inside(resolved, root):
            raise Forbidden(f"{raw[:200]!r} is outside the allowed ingest root")
        exists = resolved.exists()
    except OSError as exc:  # a name too long for the file system, a loop of links: a bad request, not a 500
        raise InvalidRequest(f"cannot use the path {raw[:200]!r}: {exc.strerror or exc}") from exc
    if not exists:
        raise NotFound(f"no bundle or mapping file {raw[:200]!r} under the ingest root")
    if resolved.is_dir():
        for dirpath, dirnames, filenames in os.walk(resolved, followlinks=False):
            for name in [*filenames, *dirnames]:
                target = (Path(dirpath) / name).resolve()
                if not _inside(target, root):
                    raise Forbidden(f"{name!r} in the bundle points outside the allowed ingest root")
        mapping = next((resolved / n for n in ("mapping.yaml", "mapping.yml") if (resolved / n).exists()), None)
        if mapping is not None:
            _check_mapping(mapping, root)
    elif resolved.suffix.lower() in (".yaml", ".yml"):
        _check_mapping(resolved, root)
    else:
        raise InvalidRequest("give a bundle folder or a mapping.yaml")
    return resolved


def _check_mapping(mapping: Path, root: Path) -> None:
    """Every file a mapping names must resolve inside the root as well: the name up to its first
    wildcard, and every file its pattern matches now (a link inside the root to a file outside)."""
    try:
        data: Any = yaml.safe_load(mapping.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidRequest(f"cannot read {mapping.name}: {exc}") from exc
    tables = data.get("tables", {}) if isinstance(data, dict) else {}
    for sources in (tables.values() if isinstance(tables, dict) else []):
        for source in sources if isinstance(sources, list) else [sources]:
            name = source.get("file") if isinstance(source, dict) else None
            if not isinstance(name, str):
                continue
            fixed = re.split(r"[*?\[]", name)[0] or "."
            # the name, then (only if it stays inside) what its pattern matches: no walk outside the root
            if Path(name).is_absolute() or not _inside((mapping.parent / fixed).resolve(), root) or not all(
                    _inside(Path(p).resolve(), root) for p in glob.glob(str(mapping.parent / name))):
                raise Forbidden(f"{mapping.name} names {name!r}, outside the allowed ingest root")


def _safe_name(filename: str | None) -> str:
    name = Path((filename or "").replace("\\", "/")).name
    if not name or name.startswith(".") or Path(name).suffix.lower() not in ALLOWED_SUFFIXES:
        raise InvalidRequest(f"cannot take the file {filename!r}: send {', '.join(SUFFIXES)} files, "
                             "mapping.yaml or one .zip of them")
    return name


MAX_RATIO = 200  # a zip member unpacking to more than 200x its compressed size is refused (a bomb)


async def save_uploads(files: list[UploadFile], folder: Path, max_bytes: int,
                       max_unzipped: int | None = None) -> Path:
    """Write the uploaded files into `folder` (unpacking a zip); returns the bundle folder."""
    total = 0
    saved: list[Path] = []
    for upload in files:
        target = folder / _safe_name(upload.filename)
        with open(target, "wb") as out:
            while chunk := await upload.read(_CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise TooLarge(f"the upload is larger than {max_bytes:,} bytes")
                out.write(chunk)
        saved.append(target)
    if not saved:
        raise InvalidRequest("no files uploaded")
    for path in [p for p in saved if p.suffix.lower() == ".zip"]:
        _unzip(path, folder, max_unzipped if max_unzipped is not None else 2 * max_bytes)
        path.unlink()
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    bundle = entries[0] if len(entries) == 1 and entries[0].is_dir() else folder  # a zip of one bundle folder
    for mapping in (bundle / "mapping.yaml", bundle / "mapping.yml"):
        if mapping.is_file():  # it may name the upload's files only, never the server's
            _check_mapping(mapping, folder.resolve())
    return bundle


def _unzip(archive: Path, folder: Path, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if sum(m.file_size for m in members) > max_bytes:
                raise TooLarge(f"the zip archive unpacks to more than {max_bytes:,} bytes")
            for m in members:
                if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
                    raise TooLarge(f"the zip member {m.filename!r} unpacks to more than {MAX_RATIO}x its size")
            for m in members:
                target = (folder / m.filename).resolve()
                if m.filename.startswith("/") or not _inside(target, folder.resolve()):
                    raise InvalidRequest(f"the zip member {m.filename!r} would land outside the bundle")
            zf.extractall(folder)
    except zipfile.BadZipFile as exc:
        raise InvalidRequest(f"{archive.name} is not a readable zip archive") from exc
