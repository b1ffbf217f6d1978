"""The HTML pages: sign-in, the landing page, the network pictures and their static files.

Pages honour the same token, role and branch scope as the JSON API (`api.masking.Viewer`):
a browser without a session is sent to `/login` (303); a role that may not see a family
gets a 403 page (or the error shape when the client asks for JSON). Every page carries a
strict Content-Security-Policy: scripts only from `/static`, none inline, nothing from
another host. The drawing itself is `viz`'s work; these handlers only do HTTP.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

import viz
from api.auth import (
    TooManyFailures,
    User,
    clear_session_cookie,
    end_session,
    set_session_cookie,
    sign_in,
    token_from_request,
)
from api.deps import AuditDep, SettingsDep, StoreDep
from api.errors import error_response, status_for
from api.masking import Viewer
from api.prospect_query import ProspectQuery, query_prospects
from graph.errors import AppError, Forbidden, Unauthorized
from graph.schema import KINDS_BY_FAMILY
from graph.store import GraphStore
from viz.facts import ViewContext
from viz.landing import landing_charts, manager_names, render_landing
from viz.picture import Picture
from viz.render import CSP, render_page, render_picture
from viz.style import text
from viz.views import (
    ego_picture,
    parse_kinds,
    payroll_picture,
    person_picture,
    referral_picture,
    supply_chain_picture,
)

__all__ = ["router", "SECURITY_HEADERS"]

router = APIRouter(tags=["pages"], include_in_schema=False)
STATIC = Path(viz.__file__).with_name("static")
_STATIC_FILES = {p.name: p for p in STATIC.iterdir() if p.is_file()}
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
LangQ = Annotated[Literal["zh", "en"] | None, Query(description="page language; default: the setting")]


def page_user(request: Request, settings: SettingsDep, store: StoreDep) -> User | None:
    """The signed-in user, or None (no session, or a session whose token no longer works)."""
    token, presented = token_from_request(request, settings)
    if not presented:
        return None
    try:
        return sign_in(request, token, store)
    except (Unauthorized, TooManyFailures):  # the page sends the browser to /login instead
        return None


PageUser = Annotated[User | None, Depends(page_user)]


# ----------------------------------------------------------------- helpers
def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _error(request: Request, status: int, message: str, lang: str) -> Response:
    if _wants_json(request):
        return error_response(status, message)
    return _html(render_page("error.html", lang=lang, status=status, message=message), status)


def _to_login(request: Request, lang: str) -> Response:
    if _wants_json(request):
        return error_response(401, "sign in: send 'Authorization: Bearer <token>' or sign in at /login",
                              {"WWW-Authenticate": "Bearer"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never //host or a scheme) may follow a sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def allowed_views(viewer: Viewer) -> set[str]:
    """The pictures a role may open: the same family rights as the JSON lists."""
    families = viewer.policy.families
    views = {"ego", "person"}
    if "supply_chain" in families:
        views.add("supply-chain")
    if "referral" in families:
        views.add("referral")
    if viewer.policy.payroll_figures:  # payroll figures are the retail side's, as /retail/employers
        views.add("payroll")
    return views


def _picture_page(request: Request, user: User | None, store: GraphStore, settings: Any, audit: Any,
                  lang: str | None, view: str, build: Callable[[Viewer, ViewContext], Picture]) -> Response:
    """Sign-in, rights, building the picture, the audit line and the page: one path for every view."""
    lang = lang or settings.lang
    if user is None:
        return _to_login(request, lang)
    viewer = Viewer(store, user)
    try:
        if view not in allowed_views(viewer):
            raise Forbidden(f"the {user.role} role cannot open the {view} picture")
        ctx = ViewContext(lang="en" if lang == "en" else "zh", present=viewer.node, edge=viewer.edge,
                          prefetch=viewer.prefetch,
                          scrub=lambda line: viewer.text(line, lang or "zh"), person=viewer.person_name)
        picture = viewer.scope.filter_picture(build(viewer, ctx))  # nodes/edges of other branches: counted only
    except AppError as exc:
        return _error(request, status_for(exc), str(exc), lang)
    persons = [n.id for n in picture.nodes if n.kind == "Person"]
    if persons:
        audit.record(user, "view_page", ids=persons, page=view, path=request.url.path)
    return _html(render_picture(picture, user=_who(user, ctx.lang), nav=_nav(lang)))


def _who(user: Any, lang: str | None) -> str:
    """The signed-in line of a page's header: the user's name and role, in the page's language."""
    return f"{user.name} · {text(user.role, 'en' if lang == 'en' else 'zh')}"


def _nav(lang: str) -> list[tuple[str, str]]:
    return [("/", "潜客总览" if lang == "zh" else "Prospects")]


# ------------------------------------------------------------- sign-in
@router.get("/login", response_class=HTMLResponse)
def login_form(settings: SettingsDep, next: str | None = None, lang: LangQ = None) -> Response:
    """The sign-in form (a token made by `prospect-graph token add`)."""
    return _html(render_page("login.html", lang=lang or settings.lang, next=_safe_next(next), error=""))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, settings: SettingsDep, store: StoreDep, token: Annotated[str, Form(max_length=512)],
          next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    """Check the token; keep it in the HttpOnly, SameSite session cookie and go on."""
    lang = settings.lang
    try:
        sign_in(request, token.strip(), store)
    except TooManyFailures:
        return _html(render_page("login.html", lang=lang, next=_safe_next(next), error="登录失败次数过多,请稍后再试"
                                 if lang == "zh" else "Too many failures; wait a minute"), 429)
    except Unauthorized:
        return _html(render_page("login.html", lang=lang, next=_safe_next(next),
                                 error="令牌无效" if lang == "zh" else "Invalid token"), 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, token.strip(), settings, store)  # the cookie holds a session id
    return response


@router.get("/logout")
def logout(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """Sign out: the server-side session ends and the cookie is removed."""
    end_session(store, request.cookies.get(settings.cookie_name))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, settings)
    return response


# ---------------------------------------------------------------- static
@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """vis-network and the pages' own script and style, served by the product (no CDN)."""
    path = _STATIC_FILES.get(name)
    if path is None:
        return error_response(404, f"no static file {name!r}")
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if name.endswith(".js"):
        media = "text/javascript"
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"}
    return FileResponse(path, media_type=media, headers=headers)


# ---------------------------------------------------------------- pictures
@router.get("/viz/ego/{node_id:node}", response_class=HTMLResponse)
def ego_page(node_id: str, request: Request, user: PageUser, store: StoreDep, settings: SettingsDep,
             audit: AuditDep, depth: Annotated[int, Query(ge=1, le=3)] = 1,
             kinds: Annotated[str | None, Query(max_length=200, description="e.g. PAYS,BILL")] = None,
             min_amount: Annotated[float | None, Query(ge=0, le=1e15)] = None,
             limit: Annotated[int, Query(ge=1, le=200, description="neighbours of the centre drawn")] = 25,
             outer: Annotated[int, Query(ge=1, le=200, description="neighbours drawn per node beyond the first ring")]
             = ViewContext.keep_deeper,
             lang: LangQ = None) -> Response:
    """The neighbourhood of an entity: 1-3 hops, chosen edge kinds, a minimum amount."""
    def build(viewer: Viewer, ctx: ViewContext) -> Picture:
        viewer.require_scope(store.require_node(node_id))
        ctx.keep, ctx.keep_deeper = limit, outer
        return ego_picture(viewer.scope.store(store), node_id, ctx, depth=depth, kinds=parse_kinds(kinds), min_amount=min_amount)

    return _picture_page(request, user, store, settings, audit, lang, "ego", build)


@router.get("/viz/supply-chain/{anchor_id:node}", response_class=HTMLResponse)
def supply_chain_page(anchor_id: str, request: Request, user: PageUser, store: StoreDep, settings: SettingsDep,
                      audit: AuditDep, limit: Annotated[int, Query(ge=1, le=200)] = 20,
                      lang: LangQ = None) -> Response:
    """An anchor client's upstream and downstream, tier by tier."""
    def build(viewer: Viewer, ctx: ViewContext) -> Picture:
        viewer.require_scope(store.require_node(anchor_id))
        ctx.keep = limit
        return supply_chain_picture(viewer.scope.store(store), anchor_id, ctx)

    return _picture_page(request, user, store, settings, audit, lang, "supply-chain", build)


@router.get("/viz/referral/{prospect_id:node}", response_class=HTMLResponse)
def referral_page(prospect_id: str, request: Request, user: PageUser, store: StoreDep, settings: SettingsDep,
                  audit: AuditDep, lang: LangQ = None) -> Response:
    """The referral chains to a prospect: the best highlighted, the alternatives faint."""
    def build(viewer: Viewer, ctx: ViewContext) -> Picture:
        viewer.require_scope(store.require_node(prospect_id))
        return referral_picture(viewer.scope.store(store), prospect_id, ctx)

    return _picture_page(request, user, store, settings, audit, lang, "referral", build)


@router.get("/viz/payroll/{employer_id:node}", response_class=HTMLResponse)
def payroll_page(employer_id: str, request: Request, user: PageUser, store: StoreDep, settings: SettingsDep,
                 audit: AuditDep, limit: Annotated[int, Query(ge=1, le=200, description="staff per band")] = 12,
                 lang: LangQ = None) -> Response:
    """A payroll employer's staff by asset band; the near-threshold band highlighted."""
    def build(viewer: Viewer, ctx: ViewContext) -> Picture:
        viewer.require_scope(store.require_node(employer_id))
        return payroll_picture(viewer.scope.store(store), employer_id, ctx, per_band=limit)

    return _picture_page(request, user, store, settings, audit, lang, "payroll", build)


@router.get("/viz/person/{person_id:node}", response_class=HTMLResponse)
def person_page(person_id: str, request: Request, user: PageUser, store: StoreDep, settings: SettingsDep,
                audit: AuditDep, lang: LangQ = None) -> Response:
    """A person, their enterprises and associations, and the managers who cover them."""
    def build(viewer: Viewer, ctx: ViewContext) -> Picture:
        viewer.require_scope(store.require_node(person_id))
        return person_picture(viewer.scope.store(store), person_id, ctx)

    return _picture_page(request, user, store, settings, audit, lang, "person", build)


# ---------------------------------------------------------------- landing
def _score_floor(raw: str | None) -> float | None:
    """The `min_score` filter: an empty form field means none; else a number 0–100 (ValueError)."""
    if raw is None or not raw.strip():
        return None
    value = float(raw)
    if not 0.0 <= value <= 100.0:
        raise ValueError(raw)
    return value


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, user: PageUser, store: StoreDep, settings: SettingsDep, audit: AuditDep,
            family: Annotated[str | None, Query(max_length=64)] = None,
            kind: Annotated[str | None, Query(max_length=64)] = None,
            manager: Annotated[str | None, Query(max_length=200)] = None,
            min_score: Annotated[str | None, Query(max_length=16, description="0–100; empty: any")] = None,
            limit: Annotated[int, Query(ge=1, le=100)] = 10, lang: LangQ = None) -> Response:
    """The top prospects of each family, with links to their pictures and three charts."""
    lang = lang or settings.lang
    if user is None:
        return _to_login(request, lang)
    try:
        floor = _score_floor(min_score)
    except ValueError:
        return _error(request, 400, "min_score must be a number from 0 to 100", lang)
    viewer = Viewer(store, user)
    families = [f for f in viewer.families if not family or f == family]
    q = ProspectQuery(manager=manager or None, min_score=floor)
    sections = [_section(viewer, f, q, kind or None, lang, limit) for f in families]
    listed = [r["prospect_id"] for s in sections for r in s["rows"] if r.get("masked") is not None]
    audit.record(user, "view_page", ids=listed, page="landing", rows=len(listed))  # the ids it reveals (#19)
    views = allowed_views(viewer)
    # the charts count the rows /prospects lists for this viewer (branch scope and its role's kinds)
    rights = viewer.prospect_rights()
    charts = landing_charts(store, viewer.families, "en" if lang == "en" else "zh", rights=rights,
                            payroll="payroll" in views, in_scope=viewer.in_scope)
    filters = {"family": family, "kind": kind, "manager": manager, "min_score": floor, "limit": limit}
    zh_en: Literal["zh", "en"] = "en" if lang == "en" else "zh"
    return _html(render_landing(sections, charts, zh_en, filters, viewer.families, views,
                                user=_who(user, zh_en), managers=manager_names(store, user.branch), rights=rights))


def _section(viewer: Viewer, family: str, q: ProspectQuery, kind: str | None, lang: str, limit: int
             ) -> dict[str, Any]:
    """One family's rows for the landing page (a kind filter applies to the families that have it)."""
    if kind is not None and kind not in KINDS_BY_FAMILY[family]:
        return {"family": family, "rows": [], "total": 0}
    try:
        rows, total = query_prospects(viewer, family, q.model_copy(update={"kind": kind}), lang, limit)
    except AppError as exc:
        return {"family": family, "rows": [], "total": 0, "error": str(exc)}
    return {"family": family, "rows": [r.model_dump() for r in rows], "total": total}
