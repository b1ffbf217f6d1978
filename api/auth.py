"""Bearer tokens, users and the session cookie.

A token is a random string shown once by ``prospect-graph token add``; the store keeps only
its keyed SHA-256 (HMAC with the per-store secret ``store.secret("token")``) in
``state_dir/tokens.json``, and a presented token is compared against every stored hash with
`hmac.compare_digest`. Tokens are 256-bit random values, so a keyed hash is enough (a slow
password hash such as scrypt guards low-entropy secrets, which these are not).

A request authenticates with ``Authorization: Bearer <token>``, the session cookie or, once,
``?token=`` on a GET link, which `token_query_middleware` turns into the cookie and a
redirect to the same URL without the token (so it does not linger in the address bar or
history). The cookie (HttpOnly, SameSite=Strict) carries a server-side session id
(``ps_…``, kept hashed in ``state_dir/sessions.json``), never the token: `end_session`
(logout) ends it at once, and revoking or expiring its token ends it too. Tokens may
expire (``expires``) and are revoked by name (`revoke_token`).

The failure throttle (`api.throttle`, one for every worker process of the store) is keyed by
the client address as the server sees it (uvicorn trusts ``X-Forwarded-For`` only from
``PROSPECT_GRAPH_API__TRUSTED_PROXIES``); a valid credential is
never throttled, so one shared address with a guessing neighbour does not lock everyone out.
`sign_in` is the one check of a presented token with the throttle: the API's dependencies,
the login form, the pages and the ``?token=`` link all go through it.
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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from api.errors import error_response
from api.settings import ApiSettings
from api.throttle import FailureThrottle
from graph.errors import AppError, InvalidRequest, NotFound, Unauthorized
from graph.settings import get_settings
from graph.store import GraphStore
from ingest.normalise import scrub_pii

__all__ = [
    "ROLES",
    "Role",
    "User",
    "add_token",
    "revoke_token",
    "list_tokens",
    "new_session",
    "session_user",
    "end_session",
    "redact_url",
    "authenticate",
    "token_from_request",
    "set_session_cookie",
    "clear_session_cookie",
    "FailureThrottle",
    "TooManyFailures",
    "sign_in",
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


def _known(store: GraphStore, table: str, key: str = "id") -> set[str]:
    try:
        return {str(v) for v in store.read(table, [key])[key].dropna()}
    except Exception:  # noqa: BLE001 - a store not ingested yet has no such table
        return set()


def _write_tokens(store: GraphStore, tokens: list[dict[str, Any]]) -> None:
    path = _path(store)
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"tokens": tokens}, fh, ensure_ascii=False, indent=1)
    os.replace(tmp, path)
    _cache.pop(path, None)


@contextlib.contextmanager
def _token_lock(store: GraphStore) -> Any:
    path = _path(store)
    with _lock, os.fdopen(os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600), "a+") as lock_fh:
        fcntl.flock(lock_fh, fcntl.LOCK_EX)  # token add/revoke from two shells at once keeps both
        yield


def add_token(store: GraphStore, name: str, role: str, branch: str | None = None,
              manager: str | None = None, expires_days: int | None = None) -> str:
    """Create a token for `name` with `role` (and branch scope); returns it (shown once).

    Refused: an empty or duplicate name, an unknown role, an empty or unknown branch, an
    unknown manager, a manager of another branch than `branch`, a non-positive expiry.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidRequest("a token needs a name (who it is for)")
    if role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if branch is not None:
        branch = branch.strip()
        if not branch:
            raise InvalidRequest("--branch is empty: give a branch id, or leave the option out for all branches")
        if branch not in _known(store, "branches"):
            raise InvalidRequest(f"no branch with id {branch!r} in the store")
    if manager is not None:
        managers = store.read("managers", ["id", "branch_id"]) if _known(store, "managers") else None
        found = None if managers is None else managers[managers["id"].astype(str) == manager.strip()]
        if found is None or found.empty:
            raise InvalidRequest(f"no manager with id {manager!r} in the store")
        manager = manager.strip()
        if branch is not None and str(found.iloc[0]["branch_id"]) != branch:
            raise InvalidRequest(f"manager {manager} is not of branch {branch}")
    if expires_days is not None and expires_days < 1:
        raise InvalidRequest("--expires takes a number of days, at least 1")
    token = "pg_" + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    record = {"id": secrets.token_hex(6), "name": name, "role": role, "branch": branch,
              "manager": manager or None, "hash": _hash(store, token),
              "created": now.isoformat(timespec="seconds"),
              "expires": None if expires_days is None else (now + timedelta(days=expires_days)).isoformat(
                  timespec="seconds")}
    with _token_lock(store):
        tokens = _load(store)
        if any(t.get("name") == name for t in tokens):
            raise InvalidRequest(f"a token named {name!r} exists already: revoke it first or choose another name")
        _write_tokens(store, [*tokens, record])
    return token


def revoke_token(store: GraphStore, name: str) -> dict[str, Any]:
    """Remove the token named `name` (its sessions end with it); returns what was removed."""
    with _token_lock(store):
        tokens = _load(store)
        gone = [t for t in tokens if t.get("name") == name]
        if not gone:
            raise NotFound(f"no token named {name!r}")
        _write_tokens(store, [t for t in tokens if t.get("name") != name])
    return {k: v for k, v in gone[0].items() if k != "hash"}


def list_tokens(store: GraphStore) -> list[dict[str, Any]]:
    """The stored tokens without their hashes (for listing who has access)."""
    return [{k: v for k, v in t.items() if k != "hash"} for t in _load(store)]


def _live(record: dict[str, Any]) -> bool:
    expires = record.get("expires")
    return not expires or datetime.fromisoformat(str(expires)) > datetime.now(UTC)


def _user(record: dict[str, Any]) -> User:
    return User(name=record["name"], role=record["role"], branch=record.get("branch"),
                manager=record.get("manager"), token_id=record.get("id", ""))


def authenticate(store: GraphStore, token: str | None) -> User | None:
    """The user of a token or of a session id (``ps_…``), or None (unknown, revoked, expired).

    Every stored token hash is compared, in constant time each.
    """
    if not token or len(token) > 512:
        return None
    if token.startswith(SESSION_PREFIX):
        return session_user(store, token)
    presented = _hash(store, token)
    found: dict[str, Any] | None = None
    for record in _load(store):
        # no early exit: the time taken does not depend on which token matched
        if hmac.compare_digest(presented, str(record.get("hash", ""))):
            found = record
    if found is None or not _live(found):
        return None
    return _user(found)


# ----------------------------------------------------------------- sessions
SESSION_PREFIX = "ps_"
SESSIONS_FILE = "sessions.json"


def _sessions(store: GraphStore) -> dict[str, dict[str, Any]]:
    path = store.state_dir / SESSIONS_FILE
    try:
        data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8") or "{}")
        return data
    except FileNotFoundError:
        return {}


def _save_sessions(store: GraphStore, sessions: dict[str, dict[str, Any]]) -> None:
    path = store.state_dir / SESSIONS_FILE
    now = datetime.now(UTC)
    live = {k: v for k, v in sessions.items() if datetime.fromisoformat(v["expires"]) > now}
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(live, fh)
    os.replace(tmp, path)


def new_session(store: GraphStore, user: User, max_age: int) -> str:
    """A server-side session for `user` (the cookie carries its id, never the token)."""
    sid = SESSION_PREFIX + secrets.token_urlsafe(32)
    with _token_lock(store):
        sessions = _sessions(store)
        sessions[_hash(store, sid)] = {"token_id": user.token_id, "expires": (
            datetime.now(UTC) + timedelta(seconds=max_age)).isoformat(timespec="seconds")}
        _save_sessions(store, sessions)
    return sid


def session_user(store: GraphStore, sid: str) -> User | None:
    """The user of a live session whose token is still live; None otherwise."""
    entry = _sessions(store).get(_hash(store, sid))
    if entry is None or datetime.fromisoformat(entry["expires"]) <= datetime.now(UTC):
        return None
    record = {t.get("id"): t for t in _load(store)}.get(entry["token_id"])  # ids are not secrets
    return None if record is None or not _live(record) else _user(record)


def end_session(store: GraphStore, sid: str | None) -> None:
    """Sign out: the session id stops working at once."""
    if not sid or not sid.startswith(SESSION_PREFIX):
        return
    with _token_lock(store):
        sessions = _sessions(store)
        if sessions.pop(_hash(store, sid), None) is not None:
            _save_sessions(store, sessions)


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


def set_session_cookie(response: Response, token: str, settings: ApiSettings | None = None,
                       store: GraphStore | None = None) -> None:
    """Start a server-side session for `token` and keep its id in the cookie (HttpOnly, SameSite=Strict).

    With `store` the cookie carries a new session id (logout ends it); the raw token never
    goes into the cookie. A session id given as `token` is kept as it is.
    """
    settings = settings or get_settings().api
    value = token
    if not token.startswith(SESSION_PREFIX):
        user = authenticate(store, token) if store is not None else None
        if user is None:
            raise InvalidRequest("a session needs a valid token and the store")
        value = new_session(store, user, settings.cookie_max_age)  # type: ignore[arg-type]
    response.set_cookie(settings.cookie_name, value, max_age=settings.cookie_max_age, path="/",
                        httponly=True, samesite="strict", secure=settings.cookie_secure)


def clear_session_cookie(response: Response, settings: ApiSettings | None = None) -> None:
    """Sign out: remove the session cookie."""
    settings = settings or get_settings().api
    response.delete_cookie(settings.cookie_name, path="/", httponly=True, samesite="strict",
                           secure=settings.cookie_secure)


_QUERY_PARAM = re.compile(r"([?&;])([^=&;\s\"?]+)=([^&;\s\"]*)")


def redact_url(text: str) -> str:
    """Blank the value of every ``token`` parameter, however spelled (``%74oken``, ``;token``, ``TOKEN``)."""
    def blank(m: re.Match[str]) -> str:
        return f"{m.group(1)}{m.group(2)}=***" if unquote(m.group(2)).strip().lower() == "token" else m.group(0)

    return _QUERY_PARAM.sub(blank, text) if "=" in text else text


def _redacted(text: str) -> str:
    """A logged URL with its token blanked and any ID or mobile number in it masked (typed into a
    search or a filter: `ingest.normalise.scrub_pii`, the policy every log and report follows),
    percent-encoded digits included."""
    text = redact_url(text)
    plain = unquote(text)
    scrubbed = scrub_pii(plain)
    return scrubbed if scrubbed != plain else text


class RedactTokenFilter(logging.Filter):
    """Blanks token parameters and masks ID and mobile numbers in access-log lines: a sign-in
    link must not leave its token in a log, nor a search its customer's ID number."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _redacted(record.msg)
        return True


def redact_access_log(logger_name: str = "uvicorn.access") -> None:
    """Install `RedactTokenFilter` on the access logger once."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactTokenFilter) for f in logger.filters):
        logger.addFilter(RedactTokenFilter())


class TooManyFailures(AppError):
    status = 429
    code = "too_many_failures"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def sign_in(request: Request, token: str | None, store: GraphStore | None = None) -> User:
    """The user of a presented token or session id: `Unauthorized` (401) when it is bad, and
    `TooManyFailures` (429) once its client address failed too often in the last minute.

    Every sign-in goes through here (header, cookie, login form, ``?token=`` link, pages).
    A valid credential is never throttled; a failure is counted only while not blocked.
    `store` defaults to the app's store.
    """
    throttle: FailureThrottle = request.app.state.throttle
    user = authenticate(store if store is not None else request.app.state.store, token)
    if user is None:
        if throttle.fail(_client(request)):
            raise TooManyFailures("too many failed sign-ins; wait a minute")
        raise Unauthorized("invalid or expired token or session")
    return user


async def token_query_middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                                 ) -> Response:
    """``GET …?token=T``: check T, set the session cookie and redirect to the URL without it."""
    token = request.query_params.get("token")
    if token is None or request.method not in ("GET", "HEAD"):
        return await call_next(request)
    app = request.app
    with contextlib.suppress(Exception):
        app.state.store.refresh()
    try:
        sign_in(request, token)
    except TooManyFailures as exc:
        return error_response(exc.status, str(exc))
    except Unauthorized:
        return error_response(401, "invalid token", {"WWW-Authenticate": "Bearer"})
    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
    # one leading slash: "//host/x" would send the browser to another site
    target = "/" + request.url.path.lstrip("/") + (f"?{urlencode(rest)}" if rest else "")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, token, app.state.settings, app.state.store)
    return response
