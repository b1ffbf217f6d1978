"""The outermost ASGI layer: credentials before bodies, a body cap on every route, safe headers.

`RequestGuard` runs before any router or form parser:

- every request body is capped: ``max_upload_bytes`` under ``/ingest``, ``max_body_bytes``
  elsewhere — a Content-Length over the cap gets 413 at once, a streamed body is counted
  chunk by chunk and cut off at the cap;
- a request that carries a body (POST, PUT, PATCH, DELETE) to anything but ``/login`` must
  present a valid token or session in its headers or cookie, checked BEFORE one byte of the
  body is read: a 250 MB body without a token gets 401 while the server's memory stays flat;
- ``/docs`` and ``/openapi.json`` need a credential too, unless ``public_docs`` is set;
- an encoded "/" (``%2F``) inside a path segment stays inside it (`api.node_ids`);
- every answer gets ``X-Content-Type-Options: nosniff``, and every answer but the pages'
  static files ``Cache-Control: no-store`` (JSON, CSV and XLSX hold client data).
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import TooManyFailures, sign_in, token_from_request
from api.errors import error_response
from api.node_ids import keep_encoded_slashes
from api.settings import ApiSettings
from graph.errors import Unauthorized

__all__ = ["RequestGuard", "BODY_METHODS", "PUBLIC_BODY_PATHS"]

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC_BODY_PATHS = {"/login"}  # the sign-in form carries the token in its (small, capped) body
_DOCS = ("/docs", "/openapi.json", "/redoc")
_CACHEABLE = ("/static/", "/docs/static/")
_SAFE = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


class RequestGuard:
    """See the module docstring; `settings` gives the caps and whether the docs are public."""

    def __init__(self, app: ASGIApp, settings: ApiSettings) -> None:
        self.app = app
        self.settings = settings

    def _limit(self, path: str) -> int:
        return self.settings.max_upload_bytes if path.startswith("/ingest") else self.settings.max_body_bytes

    def _credential_ok(self, scope: Scope) -> bool:
        request = Request(scope)
        token, presented = token_from_request(request, self.settings)
        if not presented:
            return False
        try:
            sign_in(request, token)  # a failure counts towards the client's throttle
        except (Unauthorized, TooManyFailures):
            return False  # 401 here whatever the throttle says: nothing of the body is read
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        keep_encoded_slashes(scope)  # node ids holding "/" (api/node_ids.py)
        path = str(scope.get("path", ""))
        method = str(scope.get("method", "GET")).upper()
        limit = self._limit(path)
        too_large = error_response(413, f"the request body is larger than {limit:,} bytes", dict(_SAFE))
        needs_auth = (method in BODY_METHODS and path not in PUBLIC_BODY_PATHS) or (
            not self.settings.public_docs and path.startswith(_DOCS) and not path.startswith("/docs/static/")
            and b"token=" not in scope.get("query_string", b""))
        if needs_auth and not self._credential_ok(scope):
            # answered before the body is read: the client's upload is never buffered
            await error_response(401, "sign in first: send 'Authorization: Bearer <token>'",
                                 {"WWW-Authenticate": "Bearer", "Connection": "close", **_SAFE})(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await too_large(scope, receive, send)
            return
        seen = 0
        started = False
        cacheable = path.startswith(_CACHEABLE)

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # an HTTPException passes FastAPI's body parsing unchanged (others become 400)
                    raise HTTPException(413, f"the request body is larger than {limit:,} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"x-content-type-options",) and
                           (cacheable or k.lower() != b"cache-control")]
                headers.append((b"x-content-type-options", b"nosniff"))
                if not cacheable:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except HTTPException as exc:
            if started or exc.status_code != 413:
                raise
            await too_large(scope, receive, guarded_send)
