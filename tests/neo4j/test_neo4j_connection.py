"""An unreachable server or bad settings: BackendUnavailable, and one line from the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from graph import open_store
from graph.errors import BackendUnavailable
from graph.neo4j_store import Neo4jStore
from graph.settings import StoreSettings

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:  # bind, note the port, close: nothing listens there now
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_closed_port_is_backend_unavailable(tmp_path):
    uri = f"bolt://127.0.0.1:{closed_port()}"
    store = Neo4jStore(tmp_path, StoreSettings(NEO4J_URI=uri, NEO4J_PASSWORD="hunter2-secret"))
    with pytest.raises(BackendUnavailable) as err:
        store.read("enterprises")
    message = str(err.value)
    assert uri in message and "cannot reach" in message and "hunter2" not in message
    assert "\n" not in message


def test_bad_uri_and_missing_uri_are_backend_unavailable(tmp_path):
    with pytest.raises(BackendUnavailable, match="not supported|not a Neo4j address"):
        Neo4jStore(tmp_path, StoreSettings(NEO4J_URI="postgres://db:5432")).read("persons")
    with pytest.raises(BackendUnavailable, match="NEO4J_URI is not set"):
        Neo4jStore(tmp_path, StoreSettings(NEO4J_URI=None)).read("persons")


def test_settings_choose_the_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("PROSPECT_GRAPH_BACKEND", "neo4j")
    monkeypatch.setenv("NEO4J_URI", "neo4j://127.0.0.1:7687")
    monkeypatch.setenv("NEO4J_DATABASE", "bank")
    monkeypatch.setenv("PROSPECT_GRAPH_NEO4J_BATCH_SIZE", "250")
    store = open_store(tmp_path / "s")
    assert isinstance(store, Neo4jStore) and store.backend == "neo4j"
    assert store.batch_size == 250 and store.settings.neo4j_database == "bank"


def _neo4j_env(tmp_path: Path) -> dict[str, str]:
    return {"PROSPECT_GRAPH_BACKEND": "neo4j", "NEO4J_URI": f"bolt://127.0.0.1:{closed_port()}",
            "NEO4J_PASSWORD": "hunter2-secret", "PROSPECT_GRAPH_STORE": str(tmp_path / "store")}


def test_cli_prints_one_line_and_exits_non_zero(tmp_path):
    """The real command in its own process: one line on stderr, exit 4, no traceback."""
    env = {**os.environ, **_neo4j_env(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "api.cli", "prospects", "supply_chain"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 4
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach Neo4j at bolt://127.0.0.1:")
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr + done.stdout


def test_cli_export_from_an_unreachable_store(tmp_path, monkeypatch, capsys):
    from api.cli import main

    for name, value in _neo4j_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    assert main(["export", "neo4j-import", str(tmp_path / "out")]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot reach Neo4j")


def test_refused_credentials_name_the_user_not_the_password():
    """The driver's AuthError (what a server answers to a wrong password) becomes one line."""
    import neo4j.exceptions

    from graph.neo4j_bolt import BoltRunner

    runner = BoltRunner(StoreSettings(NEO4J_URI="neo4j://127.0.0.1:7687", NEO4J_USER="rm_zhang",
                                      NEO4J_PASSWORD="hunter2-secret"))
    try:
        with pytest.raises(BackendUnavailable) as err, runner._translate():
            raise neo4j.exceptions.AuthError("The client is unauthorized due to authentication failure.")
    finally:
        runner.close()
    message = str(err.value)
    assert "refused the credentials" in message and "'rm_zhang'" in message and "NEO4J_PASSWORD" in message
    assert "hunter2" not in message and "\n" not in message
