"""FastAPI dependencies shared by every router (and by the HTML pages).

Use them as annotated parameters::

    from api.deps import CurrentUser, StoreDep, SettingsDep, ViewerDep, require_role

    @router.get("/viz/ego/{node_id}", response_class=HTMLResponse)
    def ego(node_id: str, user: CurrentUser, viewer: ViewerDep) -> str: ...

    @router.post("/something", dependencies=[Depends(require_role("admin"))])

- `SettingsDep` — the app's `ApiSettings` (environment ``PROSPECT_GRAPH_*``).
- `StoreDep` — the app's open `GraphStore`, pinned per request to the version current when the
  request began (a new version written by an ingest is picked up by the next request; a request
  never mixes two versions).
- `CurrentUser` — the authenticated `api.auth.User` (name, role, branch, manager). Accepts
  ``Authorization: Bearer``, the session cookie, or a ``?token=`` link (turned into the cookie
  by a middleware). No or bad credentials → 401; too many failures → 429.
- `OptionalUser` — the same, but `None` when no credentials were presented (a page can then
  redirect to ``/login``); bad credentials still get 401.
- `ViewerDep` — `api.masking.Viewer` for the current user: branch scope, family rights,
  `viewer.node(row)` masks a node, `viewer.text(s)` scrubs masked names from text.
- `require_role(*roles)` — a dependency that answers 403 unless the user has one of them.
- `AuditDep` — the `api.audit.AuditLog`; call ``audit.record(user, "view_page", ids=[...])``
  for a page that reveals persons.
- `sign_in(request, token)` (from `api.auth`, the one sign-in check) — checks a token a login form posted (401 when bad, 429 after
  too many failures from one address) and returns the `User`; then start a session with
  ``api.auth.set_session_cookie(response, token, settings, store)`` (the cookie carries a
  session id, not the token); sign out with ``api.auth.end_session(store, sid)`` and
  ``api.auth.clear_session_cookie(response, settings)``. The cookie is HttpOnly,
  SameSite=Strict, Path=/, named by ``settings.cookie_name`` (default ``pg_session``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.audit import AuditLog
from api.auth import TooManyFailures, User, sign_in, token_from_request
from api.jobs import JobRegistry
from api.masking import POLICIES, Viewer
from api.settings import ApiSettings
from graph.errors import Forbidden, Unauthorized
from graph.store import GraphStore

__all__ = [
    "app_settings", "get_store", "current_user", "optional_user", "get_viewer", "require_role",
    "SettingsDep", "StoreDep", "CurrentUser", "OptionalUser", "ViewerDep", "AuditDep", "JobsDep",
    "AdminUser", "IngestUser", "TooManyFailures", "sign_in",
]

# Declares the bearer scheme in OpenAPI (the "Authorize" button of /docs); the token itself
# is read by `token_from_request`, which also accepts the session cookie.
_bearer = HTTPBearer(auto_error=False, description="a token made by `prospect-graph token add`")


def app_settings(request: Request) -> ApiSettings:
    """The API section of the settings the app was created with (`graph.settings.get_settings().api`)."""
    settings: ApiSettings = request.app.state.settings
    return settings


def get_store(request: Request) -> GraphStore:
    store: GraphStore = request.app.state.store
    store.refresh()
    # pinned for the whole request: a commit while it runs cannot mix two versions
    pinned = store.snapshot()
    if getattr(request.app.state, "warm", False):
        from api.warm import warm_new_version

        warm_new_version(pinned)  # a version committed since this process warmed: warm it now
    return pinned


SettingsDep = Annotated[ApiSettings, Depends(app_settings)]
StoreDep = Annotated[GraphStore, Depends(get_store)]


def optional_user(request: Request, settings: SettingsDep, store: StoreDep,
                  _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None) -> User | None:
    """The user of the presented credentials, None when none were presented; 401 when bad."""
    token, presented = token_from_request(request, settings)
    if not presented:
        return None
    return sign_in(request, token)


OptionalUser = Annotated[User | None, Depends(optional_user)]


def current_user(user: OptionalUser) -> User:
    """The signed-in user; 401 without credentials."""
    if user is None:
        raise Unauthorized("sign in: send 'Authorization: Bearer <token>' (made by `prospect-graph token add`)")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: str) -> Callable[[User], User]:
    """A dependency answering 403 unless the current user has one of `roles`."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(f"the {user.role} role cannot do this (needs {' or '.join(roles)})")
        return user

    return check


def require_ingest(user: CurrentUser) -> User:
    if not POLICIES[user.role].ingest:
        raise Forbidden(f"the {user.role} role cannot run ingest jobs")
    if user.branch is not None:  # an ingest writes every branch's clients: a branch admin would move others'
        raise Forbidden(f"a token limited to branch {user.branch} cannot run ingest jobs: an ingest "
                        "replaces the clients of every branch; ask an admin without a branch limit")
    return user


def get_viewer(user: CurrentUser, store: StoreDep) -> Viewer:
    return Viewer(store, user)


def get_audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


def get_jobs(request: Request) -> JobRegistry:
    jobs: JobRegistry = request.app.state.jobs
    return jobs


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
AuditDep = Annotated[AuditLog, Depends(get_audit)]
JobsDep = Annotated[JobRegistry, Depends(get_jobs)]
AdminUser = Annotated[User, Depends(require_role("admin"))]
IngestUser = Annotated[User, Depends(require_ingest)]
