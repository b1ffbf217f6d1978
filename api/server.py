"""`prospect-graph serve`: uvicorn in this process, or several worker processes on one socket.

Light on purpose: with several workers this process only supervises, so it does not import
the app (each worker imports it and builds it with `api.main.serve_app`).
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any

from graph.settings import ApiSettings, get_settings

__all__ = ["serve", "worker_count", "uvicorn_options", "STORE_ENV"]

STORE_ENV = "PROSPECT_GRAPH_GRAPH__STORE"
# uvicorn's supervisor kills a worker that does not answer its ping within this many seconds
# (default 5). A worker busy with long numpy/pandas steps on a loaded machine can miss 5 s
# and be killed with requests in flight; a worker truly hung is still replaced, a minute later.
WORKER_HEALTHCHECK_SECONDS = 60


def uvicorn_options(settings: ApiSettings | None = None) -> dict[str, Any]:
    """How uvicorn must run the app: X-Forwarded-For believed only from `trusted_proxies`.

    uvicorn's own default trusts the header from 127.0.0.1, so a local client could pick
    any address (and dodge the sign-in throttle) by rotating the header.
    """
    proxies = (settings or get_settings().api).trusted_proxies
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or ""}


def worker_count(workers: int | None = None) -> int:
    """How many worker processes `serve` runs: `workers`, else the `api.workers` setting, else
    one per core this process may use (each worker runs Python on at most one core at a time)."""
    count = workers if workers is not None else get_settings().api.workers
    if count is None:
        count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, int(count))


def serve(store_path: Path | None = None, host: str = "127.0.0.1", port: int = 8000,
          workers: int | None = None) -> None:
    """Serve the store with uvicorn: in this process for one worker, else `worker_count` processes
    that share the listening socket (uvicorn's supervisor restarts one that dies).

    Each worker builds the app with `api.main.serve_app` for the same store, named to it in the
    environment (`PROSPECT_GRAPH_GRAPH__STORE`); the settings are the environment's. What the
    workers must agree on lives in the store's state folder (tokens, sessions, the sign-in
    throttle, the ingest jobs, the lead ledger); caches are per process or memory-mapped.
    """
    import uvicorn

    count = worker_count(workers)
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", **uvicorn_options()}
    if count == 1:
        from api.main import create_app

        uvicorn.run(create_app(store_path, warm=True), **options)
        return
    from graph import open_store

    root = Path(store_path) if store_path is not None else get_settings().graph.store
    open_store(root)  # a store that cannot be opened fails here, once, not in every worker
    os.environ[STORE_ENV] = str(root.resolve())
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:  # uvicorn >= 0.30
        options["timeout_worker_healthcheck"] = WORKER_HEALTHCHECK_SECONDS
    uvicorn.run("api.main:serve_app", factory=True, workers=count, **options)
