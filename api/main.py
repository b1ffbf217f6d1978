"""The FastAPI application: `create_app` wires settings, the store, auth, errors and routers.

``prospect-graph serve`` runs it with uvicorn (`api.server.serve`: in one process, or in
several worker processes that each build it with `serve_app`); tests build it in-process or
serve it on loopback. OpenAPI lives at ``/openapi.json`` and its pages at ``/docs`` (both need a token
unless ``PROSPECT_GRAPH_API__PUBLIC_DOCS=true``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api.audit import AuditLog
from api.auth import FailureThrottle, redact_access_log, token_query_middleware
from api.errors import install_error_handlers
from api.guard import RequestGuard
from api.jobs import JobRegistry
from api.lanes import open_lanes
from api.routers import ROUTERS
from api.server import share_accepts, uvicorn_options
from api.settings import ApiSettings
from api.warm import start_warming
from graph import open_store
from graph.settings import get_settings

__all__ = ["create_app", "serve_app", "uvicorn_options"]

DESCRIPTION = """Who to approach next, and through whom: prospects of each family with their
explanations, entities, neighbourhoods and relationship paths, exports and ingest jobs.

Every request but `/health` needs a bearer token made by `prospect-graph token add`
(`Authorization: Bearer <token>`, or the session cookie a browser gets from `/login` or a
`?token=` link). Errors always have the shape `{"ok": false, "error": "...", "status": N}`."""


def create_app(store_path: Path | None = None, settings: ApiSettings | None = None, warm: bool = False,
               shared_socket: bool = False) -> FastAPI:
    """Build the app for the store at `store_path` (default: `$PROSPECT_GRAPH_GRAPH__STORE`);
    `warm`: build the process's caches in the background once it serves (`api.warm`);
    `shared_socket`: one of several worker processes on one listening socket (`api.server.share_accepts`)."""
    settings = settings or get_settings().api
    store = open_store(store_path)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if shared_socket:
            share_accepts(asyncio.get_running_loop())  # before uvicorn starts accepting
        open_lanes(app, settings)  # in the app's event loop: its thread limiters are the loop's
        if warm:
            start_warming(store)
        yield

    app = FastAPI(title="Prospect Graph API", version="0.1.0", description=DESCRIPTION,
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    _offline_docs(app)
    app.state.settings = settings
    app.state.store = store
    app.state.warm = warm
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


def serve_app() -> FastAPI:
    """The app of one `serve` worker process: the environment's store, caches warmed at start,
    new connections shared fairly with the other workers."""
    return create_app(warm=True, shared_socket=True)


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
