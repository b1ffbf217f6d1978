"""The lanes a worker process runs request handlers on.

Interactive requests (lookups, pages, pictures, paths) run first come, first served on
`api.request_threads` threads (AnyIO's default thread limiter; 1 by default). Every handler
is CPU-bound under one interpreter lock, so running several at once only time-shares the
lock: at 2M payments with 8 concurrent clients on 2 cores, one at a time per worker cut the
p95 of `/prospects?anchor=`, `/entities/{id}`, `/paths` and `/viz/ego` by 20-45%
(bench/RESULTS.md, "Request lanes").

A file export (CSV or XLSX of up to `max_export_rows` rows, seconds of work) runs on a lane of
its own (`api.export_threads` threads): it shares the processor with the interactive lane
rather than holding up every request queued behind it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request

from api.settings import ApiSettings

__all__ = ["open_lanes", "run_handler"]

_T = TypeVar("_T")


def open_lanes(app: FastAPI, settings: ApiSettings) -> None:
    """Size the interactive lane and open the export lane (in the app's event loop, at start-up)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
    app.state.export_lane = anyio.CapacityLimiter(settings.export_threads)


async def run_handler(request: Request, export: bool, handler: Callable[..., _T], *args: Any) -> _T:
    """`handler(*args)` on a thread of its lane: the export lane for a file export, else the
    interactive one (where FastAPI runs every plain `def` handler)."""
    lane = getattr(request.app.state, "export_lane", None) if export else None
    return await anyio.to_thread.run_sync(functools.partial(handler, *args), limiter=lane)
