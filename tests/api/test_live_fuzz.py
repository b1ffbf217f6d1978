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
from pathlib import Path

import pytest

from api.auth import add_token
from graph.networkx_store import NetworkxStore
from tests.live import served_process

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

SEED = 19
MAX_EXAMPLES = 4
PHASES = "examples,coverage,fuzzing,stateful"


def test_the_running_server_gives_no_server_error_under_fuzzing(demo_store, tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(demo_store.root, root)
    (tmp_path / "ingest-root").mkdir()
    token = add_token(NetworkxStore(root), "fuzzer", "admin")
    bin_dir = Path(sys.executable).parent
    env = {"PROSPECT_GRAPH_INGEST_ROOT": str(tmp_path / "ingest-root"),
           "PROSPECT_GRAPH_MAX_UPLOAD_BYTES": str(256 * 1024)}
    with served_process(root, env=env, stderr=open(tmp_path / "server.log", "wb")) as (base, _):
        run = subprocess.run(
            [str(bin_dir / "schemathesis"), "--no-color", "run", f"{base}/openapi.json",
             "-H", f"Authorization: Bearer {token}", "--phases", PHASES, "--seed", str(SEED),
             "--max-examples", str(MAX_EXAMPLES), "--checks", "not_a_server_error", "--request-timeout", "60"],
            capture_output=True, text=True, timeout=600, env={**os.environ, **env})
    out = run.stdout + run.stderr
    assert "Tested:" in out, out[-3000:]
    assert run.returncode == 0 and "Server error" not in out, out[-6000:] + (tmp_path / "server.log").read_text()[-4000:]
