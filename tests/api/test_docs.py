"""Meta-test: every route of the app is documented — each API operation in docs/api.md with a
one-line description, each page in docs/pages.md."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from api.main import create_app

DOCS = Path(__file__).resolve().parents[2] / "docs"
# served by FastAPI or as files, not routes of ours: the OpenAPI text and its Swagger page, the pages' assets
INFRASTRUCTURE = {"/openapi.json", "/docs", "/static/{}"}


def _generic(text: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", text)  # {id} in the docs, {entity_id} in the route


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every endpoint of the app, routers included however FastAPI nests them."""
    for route in routes:
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if isinstance(route, APIRoute):
            yield route
        elif inner is not None and hasattr(inner, "routes"):
            yield from _routes(inner.routes)


def test_every_operation_is_in_the_docs(api_store):
    text = _generic((DOCS / "api.md").read_text(encoding="utf-8"))
    paths = create_app(api_store.root).openapi()["paths"]
    ops = [(m.upper(), p, op) for p, methods in paths.items() for m, op in methods.items()]
    assert len(ops) >= 28  # every area: entities, paths, prospects, ingest, leads, alerts, retail, rhythm
    for method, path, op in ops:
        assert _generic(f"{method} {path}") in text, f"{method} {path} missing from docs/api.md"
        description = (op.get("description") or "").strip()
        assert description and "\n" not in description, f"{method} {path}: one-line description wanted"


def test_every_page_is_in_the_docs(api_store):
    text = _generic((DOCS / "pages.md").read_text(encoding="utf-8") + (DOCS / "api.md").read_text(encoding="utf-8"))
    app = create_app(api_store.root)
    pages = {_generic(r.path) for r in _routes(list(app.routes)) if not r.include_in_schema} - INFRASTRUCTURE
    assert {"/", "/login", "/logout", "/viz/ego/{}", "/viz/customer/{}"} <= pages
    for path in sorted(pages):
        assert f"`{path}`" in text, f"page {path} missing from docs/pages.md"
