"""The FastAPI application: `create_app` wires settings, the store, auth, errors and routers.

``prospect-graph serve`` runs it with uvicorn (`serve`: one process, or several worker
processes, each building the app with `create_app` for the same store); tests build it
in-process or serve it on loopback. OpenAPI lives at ``/openapi.json`` and its pages at ``/docs`` (both need a token
unless ``PROSPECT_GRAPH_API__PUBLIC_DOCS=true``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.audit import AuditLog
from api.auth import FailureThrottle, redact_access_log, token_query_middleware
from api.errors import install_error_handlers
from api.guard import RequestGuard
from api.jobs import JobRegistry
from api.routers import ROUTERS
from api.settings import ApiSettings
from api.warm import start_warming
from graph import open_store
from graph.settings import get_settings

__all__ = ["create_app", "serve_app", "uvicorn_options", "serve", "worker_count"]

DESCRIPTION = """Who to approach next, and through whom: prospects of each family with their
explanations, entities, neighbourhoods and relationship paths, exports and ingest jobs.

Every request but `/health` needs a bearer token made by `prospect-graph token add`
(`Authorization: Bearer <token>`, or the session cookie a browser gets from `/login` or a
`?token=` link). Errors always have the shape `{"ok": false, "error": "...", "status": N}`."""


def create_app(store_path: Path | None = None, settings: ApiSettings | None = None, warm: bool = False) -> FastAPI:
    """Build the app for the store at `store_path` (default: `$PROSPECT_GRAPH_GRAPH__STORE`);
    `warm`: build the process's caches in the background once it serves (`api.warm`)."""
    settings = settings or get_settings().api
    store = open_store(store_path)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:
            start_warming(store)
        yield

    app = FastAPI(title="Prospect Graph API", version="0.1.0", description=DESCRIPTION,
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    _offline_docs(app)
    app.state.settings = settings
    app.state.store = store
    app.state.audit = AuditLog(store.state_dir / "audit.jsonl")
    app.state.jobs = JobRegistry(store, settings.jobs_dir_name)
    app.state.throttle = FailureThrottle(store.state_dir, settings.auth_failures_per_minute)
    install_error_handlers(app)
    redact_access_log()  # a ?token= sign-in link must not leave its token in the access log
    app.middleware("http")(token_query_middleware)
    # outermost: credentials before any body is read, a body cap on every route, no-store/nosniff
    app.add_middleware(RequestGuard, settings=settings)
    for router in ROUTERS:
        app.include_router(router)
    return app


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

    Each worker builds the app with `serve_app` for the same store, named to it in the
    environment (`PROSPECT_GRAPH_GRAPH__STORE`); the settings are the environment's. What the
    workers must agree on lives in the store's state folder (tokens, sessions, the sign-in
    throttle, the ingest jobs, the lead ledger); caches are per process or memory-mapped.
    """
    import uvicorn

    count = worker_count(workers)
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", **uvicorn_options()}
    if count == 1:
        uvicorn.run(create_app(store_path, warm=True), **options)
        return
    root = Path(store_path) if store_path is not None else get_settings().graph.store
    open_store(root)  # a store that cannot be opened fails here, once, not in every worker
    os.environ[STORE_ENV] = str(root.resolve())
    uvicorn.run("api.main:serve_app", factory=True, workers=count, **options)


STORE_ENV = "PROSPECT_GRAPH_GRAPH__STORE"


def serve_app() -> FastAPI:
    """The app of one `serve` worker process: the environment's store, caches warmed at start."""
    return create_app(warm=True)


def _offline_docs(app: FastAPI) -> None:
    """/docs with Swagger UI served by the product itself: bank networks have no CDN."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount(DOCS_STATIC, StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - docs",
                                   swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_STATIC}/favicon-32x32.png")


DOCS_STATIC = "/docs/static"
