"""Broken store files and a full disk: a clear error naming the file, and nothing lost.

A corrupted or missing store file is the server's fault, not the user's: the store raises
`StoreCorrupted` naming the file, the API answers 503 in the one error shape with that message
(not a bare 500), the CLI prints one line and exits 2, and an ingest refuses to build on it.
A full disk (a real 1 MiB tmpfs when this machine lets us mount one, and always a simulated
ENOSPC from the Parquet writer) fails the ingest and leaves the previous version readable.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import graph.networkx_store as nxs
from api.auth import add_token
from api.cli import main as cli_main
from api.main import create_app
from graph.errors import StoreCorrupted
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from scoring.run import score_all
from tests.reliability.conftest import States
from tests.reliability.helpers import content

pytestmark = pytest.mark.timeout(60)


def _table_file(store: NetworkxStore, table: str) -> Path:
    return store.root / store.manifest()["tables"][table]["file"]


def _missing(path: Path) -> None:
    path.unlink()


def _garbage(path: Path) -> None:
    path.write_bytes(b"PAR1 this is not a parquet file at all")


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


# tables the ingest reads (it rebuilds `edges` and leaves `prospects` to the scoring run)
INGEST_READS = {"enterprises", "persons", "payments", "payroll", "roles", "resolutions"}
# (what is done, table, the URL that has to read that table)
BREAKAGES: list[tuple[str, Callable[[Path], None], str, str]] = [
    ("missing", _missing, "edges", "/entities/E0001/neighbors"),
    ("garbage", _garbage, "enterprises", "/entities?q=E0001"),
    ("truncated", _truncated, "prospects", "/prospects/supply_chain"),
]


@pytest.mark.parametrize(("how", "breaker", "table", "url"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_broken_table_file_is_named_everywhere(states: States, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               how: str, breaker: Callable[[Path], None], table: str,
                                               url: str) -> None:
    store = states.copy(tmp_path / "store")
    token = add_token(store, "ops", "admin")
    path = _table_file(store, table)
    breaker(path)
    manifest_before = (store.root / "manifest.json").read_bytes()

    with pytest.raises(StoreCorrupted) as caught:
        NetworkxStore(store.root).read(table)
    assert path.name in str(caught.value) and str(store.root) in str(caught.value)

    with TestClient(create_app(store.root)) as client:
        r = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 503, r.text
    body = r.json()
    assert set(body) == {"ok", "error", "status"} and body["ok"] is False and body["status"] == 503
    assert path.name in body["error"] and "Traceback" not in body["error"]

    cli_table = {"edges": ["path", "E0001", "P0001"], "enterprises": ["path", "E0001", "P0001"],
                 "prospects": ["prospects", "supply_chain"]}[table]
    capsys.readouterr()
    code = cli_main([*cli_table, "--store", str(store.root)])
    err = capsys.readouterr().err
    assert code == 2 and path.name in err and "Traceback" not in err

    # an ingest either refuses, naming the file, or (when it rebuilds or does not read that table)
    # goes through; then re-scoring must leave every table readable again
    try:
        run_ingest(NetworkxStore(store.root), states.bundle_b)
        refused = ""
    except StoreCorrupted as exc:
        refused = str(exc)
    if table in INGEST_READS:
        assert path.name in refused and (store.root / "manifest.json").read_bytes() == manifest_before
    else:
        assert not refused, refused
        score_all(NetworkxStore(store.root))
        content(NetworkxStore(store.root))  # raises if any table of the version is still broken


def test_corrupted_manifest_is_named(states: States, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = states.copy(tmp_path / "store")
    token = add_token(store, "ops", "admin")
    (store.root / "manifest.json").write_text('{"version": "000002", "tab', encoding="utf-8")
    with pytest.raises(StoreCorrupted, match="manifest.json"):
        NetworkxStore(store.root).read("enterprises")
    with TestClient(create_app(store.root)) as client:
        r = client.get("/health")
        r_auth = client.get("/prospects/supply_chain", headers={"Authorization": f"Bearer {token}"})
    for response in (r, r_auth):
        assert response.status_code == 503 and "manifest.json" in response.json()["error"], response.text
    capsys.readouterr()
    assert cli_main(["prospects", "supply_chain", "--store", str(store.root)]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_missing_manifest_is_an_error_not_an_empty_store(states: States, tmp_path: Path) -> None:
    store = states.copy(tmp_path / "store")
    (store.root / "manifest.json").unlink()
    with pytest.raises(StoreCorrupted, match="manifest.json"):
        NetworkxStore(store.root).read("enterprises")


# ------------------------------------------------------------------ full disk
def _enospc_on(nth: int) -> Callable[..., Any]:
    original = nxs.pq.write_table
    calls = {"n": 0}

    def write_table(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] >= nth:
            raise OSError(errno.ENOSPC, "No space left on device", str(args[1]))
        return original(*args, **kwargs)

    return write_table


def _clean_after_failure(store: NetworkxStore, states: States, manifest_before: bytes) -> None:
    assert (store.root / "manifest.json").read_bytes() == manifest_before
    assert content(NetworkxStore(store.root)) == states.s0
    assert not list((store.root / "versions").glob(".tmp-*")), "the failed commit left its temporary folder"


@pytest.mark.parametrize("nth", [1, 2])
def test_write_error_fails_the_ingest_cleanly(states: States, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str], nth: int) -> None:
    store = states.copy(tmp_path / "store")
    manifest_before = (store.root / "manifest.json").read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(nxs.pq, "write_table", _enospc_on(nth))
        with pytest.raises(OSError) as caught:
            run_ingest(NetworkxStore(store.root), states.bundle_b)
        assert caught.value.errno == errno.ENOSPC
        capsys.readouterr()
        code = cli_main(["ingest", str(states.bundle_b), "--store", str(store.root)])
        err = capsys.readouterr().err
        assert code == 2 and "No space left on device" in err and "Traceback" not in err
    _clean_after_failure(store, states, manifest_before)
    run_ingest(NetworkxStore(store.root), states.bundle_b)  # the disk has room again
    assert content(NetworkxStore(store.root)) == states.s1


@pytest.fixture()
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}); the simulated ENOSPC test covers a full disk")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the simulated ENOSPC test covers it")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=10)


def test_real_full_disk_fails_the_ingest_cleanly(states: States, tiny_tmpfs: Path) -> None:
    store = states.copy(tiny_tmpfs / "store")
    manifest_before = (store.root / "manifest.json").read_bytes()
    filler = tiny_tmpfs / "filler"
    with open(filler, "wb", buffering=0) as fh:  # fill the disk, then give back too little for a new version
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with open(filler, "r+b") as fh:
        fh.truncate(max(0, filler.stat().st_size - 8 * 1024))
    with pytest.raises(OSError) as caught:
        run_ingest(NetworkxStore(store.root), states.bundle_b)
    assert caught.value.errno == errno.ENOSPC
    _clean_after_failure(store, states, manifest_before)
    filler.unlink()
    run_ingest(NetworkxStore(store.root), states.bundle_b)
    assert content(NetworkxStore(store.root)) == states.s1
    shutil.rmtree(store.root)
