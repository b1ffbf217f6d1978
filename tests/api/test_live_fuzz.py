"""schemathesis against the RUNNING server (issue #19): every operation, all four phases, no 5xx.

The in-process test (test_schemathesis.py) drives each operation's strategy; this one starts
`prospect-graph serve` on loopback over a copy of the demo store, with an admin token, and
runs the schemathesis CLI against its live OpenAPI: examples, coverage, fuzzing and stateful
phases, a fixed seed and a bounded number of examples per operation (about 1,000 requests,
under two minutes on two cores). The check is `not_a_server_error`: the target is 0 server
errors. It found `GET /leads?manager=0&branch=0&family=supply_chain&collapse_groups=true`
(an empty board lost its columns) and `POST /ingest/path` with a 4 KB path (OSError).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.auth import add_token
from graph.networkx_store import NetworkxStore
from tests.live import free_port

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

SEED = 19
MAX_EXAMPLES = 4
PHASES = "examples,coverage,fuzzing,stateful"


def test_the_running_server_gives_no_server_error_under_fuzzing(demo_store, tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(demo_store.root, root)
    (tmp_path / "ingest-root").mkdir()
    token = add_token(NetworkxStore(root), "fuzzer", "admin")
    port = free_port()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PROSPECT_GRAPH_INGEST_ROOT": str(tmp_path / "ingest-root"),
           "PROSPECT_GRAPH_MAX_UPLOAD_BYTES": str(256 * 1024)}
    server = subprocess.Popen([str(bin_dir / "prospect-graph"), "serve", "--store", str(root), "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "wb"))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        run = subprocess.run(
            [str(bin_dir / "schemathesis"), "--no-color", "run", f"http://127.0.0.1:{port}/openapi.json",
             "-H", f"Authorization: Bearer {token}", "--phases", PHASES, "--seed", str(SEED),
             "--max-examples", str(MAX_EXAMPLES), "--checks", "not_a_server_error", "--request-timeout", "60"],
            capture_output=True, text=True, timeout=600, env=env)
    finally:
        server.terminate()
        server.wait(30)
    out = run.stdout + run.stderr
    assert "Tested:" in out, out[-3000:]
    assert run.returncode == 0 and "Server error" not in out, out[-6000:] + (tmp_path / "server.log").read_text()[-4000:]
