"""The real app under uvicorn on loopback, for the tests whose behaviour depends on a real server
(auth over HTTP, streaming bodies, concurrency, the access log)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.main import create_app, uvicorn_options
from api.settings import ApiSettings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(store_root: Path, settings: ApiSettings | None = None, log_level: str = "warning",
                **options: Any) -> Iterator[str]:
    """The app on 127.0.0.1 (a free port) in a thread, run as `prospect-graph serve` runs it
    (`uvicorn_options`: X-Forwarded-For believed only from trusted proxies); yields its base URL."""
    settings = settings or ApiSettings()
    port = free_port()
    config = uvicorn.Config(create_app(store_root, settings), host="127.0.0.1", port=port, log_level=log_level,
                            lifespan="off", **{**uvicorn_options(settings), **options})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="test-uvicorn")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def served_process(store_root: Path, *args: str, env: dict[str, str] | None = None,
                   stderr: Any = subprocess.DEVNULL) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`prospect-graph serve` of this interpreter's environment as a process of its own, on a free
    port, once `/health` answers; yields its base URL and the process, stopped on leaving."""
    port = free_port()
    cli = str(Path(sys.executable).parent / "prospect-graph")
    proc = subprocess.Popen([cli, "serve", "--store", str(store_root), "--port", str(port), *args],
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise AssertionError("serve did not start")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
