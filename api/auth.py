"""Bearer tokens, users and the session cookie.

A token is a random string shown once by ``prospect-graph token add``; the store keeps only
its keyed SHA-256 (HMAC with the per-store secret ``store.secret("token")``) in
``state_dir/tokens.json``, and a presented token is compared against every stored hash with
`hmac.compare_digest`. Tokens are 256-bit random values, so a keyed hash is enough (a slow
password hash such as scrypt guards low-entropy secrets, which these are not).

A request authenticates with ``Authorization: Bearer <token>``, the session cookie (set by
`set_session_cookie`, HttpOnly and SameSite=Strict) or, once, ``?token=`` on a GET link,
which `token_query_middleware` turns into the cookie and a redirect to the same URL
without the token (so it does not linger in the address bar or history).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from api.errors import error_response
from api.settings import ApiSettings
from graph.errors import InvalidRequest
from graph.store import GraphStore

__all__ = [
    "ROLES",
    "Role",
    "User",
    "add_token",
    "list_tokens",
    "authenticate",
    "token_from_request",
    "set_session_cookie",
    "clear_session_cookie",
    "FailureThrottle",
    "token_query_middleware",
    "RedactTokenFilter",
    "redact_access_log",
]

Role = Literal["corporate_manager", "retail_manager", "analyst", "admin"]
ROLES: tuple[str, ...] = ("corporate_manager", "retail_manager", "analyst", "admin")
TOKENS_FILE = "tokens.json"
_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int], list[dict[str, Any]]]] = {}


class User(BaseModel):
    """Who is asking: the token's name, role, optional branch scope and manager id."""

    name: str
    role: Role
    branch: str | None = None
    manager: str | None = None
    token_id: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _hash(store: GraphStore, token: str) -> str:
    key = store.secret("token").encode()
    return hmac.new(key, token.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _path(store: GraphStore) -> Path:
    return store.state_dir / TOKENS_FILE


def _load(store: GraphStore) -> list[dict[str, Any]]:
    path = _path(store)
    try:
        st = path.stat()
    except FileNotFoundError:
        return []
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _cache.get(path)
    if hit and hit[0] == stamp:
        return hit[1]
    data = json.loads(path.read_text(encoding="utf-8") or "{}")
    tokens = list(data.get("tokens", []))
    _cache[path] = (stamp, tokens)
    return tokens


def add_token(store: GraphStore, name: str, role: str, branch: str | None = None,
              manager: str | None = None) -> str:
    """Create a token for `name` with `role` (and branch scope); returns it (shown once)."""
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("a token needs a name (who it is for)")
    if role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    token = "pg_" + secrets.token_urlsafe(32)
    record = {"id": secrets.token_hex(6), "name": name, "role": role, "branch": branch or None,
              "manager": manager or None, "hash": _hash(store, token),
              "created": datetime.now(UTC).isoformat(timespec="seconds")}
    path = _path(store)
    with _lock, open(path.with_suffix(".lock"), "a+") as lock_fh:
        fcntl.flock(lock_fh, fcntl.LOCK_EX)  # token add from two shells at once keeps both
        tokens = [*_load(store), record]
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"tokens": tokens}, fh, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
        _cache.pop(path, None)
    return token


def list_tokens(store: GraphStore) -> list[dict[str, Any]]:
    """The stored tokens without their hashes (for listing who has access)."""
    return [{k: v for k, v in t.items() if k != "hash"} for t in _load(store)]


def authenticate(store: GraphStore, token: str | None) -> User | None:
    """The user of `token`, or None. Every stored hash is compared, in constant time each."""
    if not token or len(token) > 512:
        return None
    presented = _hash(store, token)
    found: dict[str, Any] | None = None
    for record in _load(store):
        # no early exit: the time taken does not depend on which token matched
        if hmac.compare_digest(presented, str(record.get("hash", ""))):
            found = record
    if found is None:
        return None
    return User(name=found["name"], role=found["role"], branch=found.get("branch"),
                manager=found.get("manager"), token_id=found.get("id", ""))


def token_from_request(request: Request, settings: ApiSettings) -> tuple[str | None, bool]:
    """The presented token and whether any credential was presented at all."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), True
        return None, True
    cookie = request.cookies.get(settings.cookie_name)
    if cookie:
        return cookie, True
    return None, False


def set_session_cookie(response: Response, token: str, settings: ApiSettings | None = None) -> None:
    """Keep `token` in the session cookie: HttpOnly (no script reads it), SameSite=Strict."""
    settings = settings or ApiSettings()
    response.set_cookie(settings.cookie_name, token, max_age=settings.cookie_max_age, path="/",
                        httponly=True, samesite="strict", secure=settings.cookie_secure)


def clear_session_cookie(response: Response, settings: ApiSettings | None = None) -> None:
    """Sign out: remove the session cookie."""
    settings = settings or ApiSettings()
    response.delete_cookie(settings.cookie_name, path="/", httponly=True, samesite="strict",
                           secure=settings.cookie_secure)


_TOKEN_IN_URL = re.compile(r"(?<=[?&]token=)[^&\s\"]*")


class RedactTokenFilter(logging.Filter):
    """Blanks ``?token=…`` in access-log lines: a sign-in link must not leave its token in a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_URL.sub("***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str) and "token=" in record.msg:
            record.msg = _TOKEN_IN_URL.sub("***", record.msg)
        return True


def redact_access_log(logger_name: str = "uvicorn.access") -> None:
    """Install `RedactTokenFilter` on the access logger once."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactTokenFilter) for f in logger.filters):
        logger.addFilter(RedactTokenFilter())


class FailureThrottle:
    """Slows guessing: more than `per_minute` failed sign-ins from one address gets 429."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        q = self._failures[client]
        while q and now - q[0] > 60.0:
            q.popleft()
        return q

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, time.monotonic())) >= self.per_minute

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client, time.monotonic()).append(time.monotonic())
            if len(self._failures) > 10_000:  # bound memory under a spray of addresses
                self._failures.clear()


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def token_query_middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                                 ) -> Response:
    """``GET …?token=T``: check T, set the session cookie and redirect to the URL without it."""
    token = request.query_params.get("token")
    if token is None or request.method not in ("GET", "HEAD"):
        return await call_next(request)
    app = request.app
    throttle: FailureThrottle = app.state.throttle
    client = _client(request)
    if throttle.blocked(client):
        return error_response(429, "too many failed sign-ins; wait a minute")
    with contextlib.suppress(Exception):
        app.state.store.refresh()
    user = authenticate(app.state.store, token)
    if user is None:
        throttle.failed(client)
        return error_response(401, "invalid token", {"WWW-Authenticate": "Bearer"})
    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    # one leading slash: "//host/x" would send the browser to another site
    target = "/" + request.url.path.lstrip("/") + (f"?{urlencode(rest)}" if rest else "")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, token, app.state.settings)
    return response
