"""One error shape for every error: ``{"ok": false, "error": "...", "status": N}``.

The product's exceptions (graph.errors) carry their HTTP status as `.status` on the class, the
one place a status is defined; `status_for` reads it. FastAPI's validation errors become 422
and Starlette's HTTP errors keep their status. Anything unexpected is logged with its traceback and answered with a bare message,
so no traceback or internal detail ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph.errors import AppError

__all__ = ["ErrorOut", "ERROR_RESPONSES", "error_response", "install_error_handlers", "status_for"]

log = logging.getLogger("prospect_graph.api")

class ErrorOut(BaseModel):
    """The body of every error response."""

    ok: bool = Field(default=False, description="always false")
    error: str = Field(description="what went wrong, in words")
    status: int = Field(description="the HTTP status, repeated")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorOut, "description": "a bad request, missing or bad token, or not allowed"},
}


def status_for(exc: AppError) -> int:
    """The HTTP status of a product error: its class's `.status` (400 if a class declares no error status)."""
    return exc.status if 400 <= exc.status < 600 else 400


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one way an error leaves the API."""
    body = ErrorOut(error=message, status=status).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        where = f"{loc[0]} parameter {'.'.join(loc[1:])!r}" if len(loc) > 1 else (loc[0] if loc else "request")
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _leaf(exc: BaseException | None) -> BaseException | None:
    """The first real error inside (nested) exception groups a middleware's task group made."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    status = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status >= 500:
        log.warning("request failed: %s: %s", type(exc).__name__, exc)
    return error_response(status, str(exc) or type(exc).__name__, headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, _validation_message(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    cause = _leaf(exc.__cause__)  # FastAPI turns errors raised while reading a body into 400
    if isinstance(cause, AppError):
        return await _app_error(request, cause)
    if isinstance(cause, StarletteHTTPException):
        exc = cause
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_response(exc.status_code, message, dict(exc.headers or {}) or None)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that render every error in the one shape."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
