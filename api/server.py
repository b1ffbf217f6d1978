"""`prospect-graph serve`: uvicorn in this process, or several worker processes on one socket.

Light on purpose: with several workers this process only supervises, so it does not import
the app (each worker imports it and builds it with `api.main.serve_app`).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph.settings import ApiSettings, get_settings

__all__ = ["serve", "worker_count", "uvicorn_options", "share_accepts", "STORE_ENV"]

STORE_ENV = "PROSPECT_GRAPH_GRAPH__STORE"
# uvicorn's supervisor kills a worker that does not answer its ping within this many seconds
# (default 5). A worker busy with long numpy/pandas steps on a loaded machine can miss 5 s
# and be killed with requests in flight; a worker truly hung is still replaced, a minute later.
WORKER_HEALTHCHECK_SECONDS = 60
# `share_accepts`: a worker holding n connections lets a new one wait n times this (at most
# ACCEPT_WAIT_MAX) for a worker holding fewer to take it
ACCEPT_WAIT_PER_CONNECTION = 0.005
ACCEPT_WAIT_MAX = 0.05


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


def share_accepts(loop: asyncio.AbstractEventLoop, per_connection: float = ACCEPT_WAIT_PER_CONNECTION,
                  at_most: float = ACCEPT_WAIT_MAX) -> bool:
    """Spread new connections over the workers that share one listening socket; call it in a
    worker before it starts serving (the app's lifespan start). True when installed.

    Every worker's event loop is woken by a new connection and the first to run takes it (and,
    by asyncio's default, every other connection waiting). The worker that answered the last
    request is the quickest to wake, so it took most of a burst: 7 of 8 keep-alive clients on
    one of two workers, which then ran 7 requests at once on one core while the other ran one.
    Here a worker takes one connection per wake-up, at once when it holds none, else after
    waiting a little per connection it holds: the worker holding fewer takes it first, and a
    worker that is busy or gone delays a new connection by `at_most`, never more. Keep-alive
    connections stay where they are; only new ones are steered.

    Uses asyncio's selector loop's accept hook (`_accept_connection`, the same from Python 3.8
    to 3.13); another loop (uvloop) is left as it is and False returned.
    """
    accept = getattr(loop, "_accept_connection", None)
    add_reader, remove_reader = getattr(loop, "_add_reader", None), getattr(loop, "_remove_reader", None)
    if accept is None or add_reader is None or remove_reader is None:
        return False

    def one(protocol_factory: Callable[[], asyncio.Protocol], sock: socket.socket, sslcontext: Any = None,
            server: Any = None, backlog: int = 100, *rest: Any) -> None:
        held = int(getattr(server, "_active_count", 0) or 0)  # this worker's open connections
        if held == 0:
            accept(protocol_factory, sock, sslcontext, server, 1, *rest)
            return
        remove_reader(sock.fileno())  # no busy loop while waiting: the socket stays readable

        def later() -> None:
            if sock.fileno() < 0:  # closed by a shutdown meanwhile
                return
            add_reader(sock.fileno(), one, protocol_factory, sock, sslcontext, server, backlog, *rest)
            accept(protocol_factory, sock, sslcontext, server, 1, *rest)  # still there: ours now

        loop.call_later(min(at_most, per_connection * held), later)

    loop._accept_connection = one  # type: ignore[attr-defined]  # noqa: SLF001 - looked up when serving starts
    return True
