"""The pages over HTTP (no browser needed): roles, the error shape, headers, masking, audit, static files."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pagekit import Served, handmade


def _get(served: Served, path: str, role: str | None = "admin", **headers: str) -> httpx.Response:
    cookies = {"pg_session": served.tokens[role]} if role else {}
    return httpx.get(served.base + path, cookies=cookies, headers=headers, follow_redirects=False, timeout=30)


@pytest.mark.parametrize(("role", "path", "status"), [
    ("retail_manager", f"/viz/supply-chain/{handmade.ANCHOR}", 403),
    ("retail_manager", f"/viz/referral/{handmade.PROSPECT}", 403),
    ("corporate_manager", f"/viz/payroll/{handmade.EMPLOYER}", 403),
    ("retail_manager", f"/viz/payroll/{handmade.EMPLOYER}", 200),
    ("corporate_manager", f"/viz/supply-chain/{handmade.ANCHOR}", 200),
    ("analyst", f"/viz/ego/{handmade.ANCHOR}", 200),
    ("admin", "/viz/ego/nobody", 404),
    ("admin", f"/viz/person/{handmade.ANCHOR}", 400),
])
def test_roles_like_the_json_api(handmade_server: Served, role: str, path: str, status: int) -> None:
    page = _get(handmade_server, path, role)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    as_json = _get(handmade_server, path, role, accept="application/json")
    assert as_json.status_code == status
    if status >= 400:
        assert as_json.json() == {"ok": False, "error": as_json.json()["error"], "status": status}


def test_bad_parameters_get_the_error_shape(handmade_server: Served) -> None:
    for query in ("depth=9", "min_amount=-1", "kinds=NOPE", "limit=0"):
        r = _get(handmade_server, f"/viz/ego/{handmade.ANCHOR}?{query}", accept="application/json")
        assert 400 <= r.status_code < 500, query
        assert r.json()["ok"] is False and r.json()["status"] == r.status_code


def test_without_a_session_pages_send_you_to_sign_in(handmade_server: Served) -> None:
    r = _get(handmade_server, f"/viz/ego/{handmade.ANCHOR}?depth=2", role=None)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = _get(handmade_server, "/", role=None, accept="application/json")
    assert r.status_code == 401 and r.json()["ok"] is False
    r = httpx.get(handmade_server.base + "/", cookies={"pg_session": "forged"}, follow_redirects=False)
    assert r.status_code == 303


def test_login_only_follows_local_paths(handmade_server: Served) -> None:
    r = httpx.post(handmade_server.base + "/login", data={"token": handmade_server.tokens["analyst"],
                                                          "next": "//evil.example/x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "pg_session" in r.cookies


@pytest.mark.parametrize("path", ["/", f"/viz/ego/{handmade.ANCHOR}", "/login"])
def test_pages_carry_a_content_security_policy(handmade_server: Served, path: str) -> None:
    r = _get(handmade_server, path)
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-eval'" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"


def test_vis_network_is_served_by_the_product(handmade_server: Served) -> None:
    js = httpx.get(handmade_server.base + "/static/vis-network.min.js")
    assert js.status_code == 200 and "vis-network" in js.text[:400]
    assert js.headers["content-type"].startswith("text/javascript")
    assert httpx.get(handmade_server.base + "/static/vis-network.css").status_code == 200
    assert httpx.get(handmade_server.base + "/static/..%2Fviews.py").status_code == 404
    assert httpx.get(handmade_server.base + "/static/nope.js").status_code == 404


def test_masked_roles_do_not_see_person_names(handmade_server: Served) -> None:
    name = str(handmade_server.store.node(handmade.DIRECTOR)["name"])
    for role in ("analyst", "corporate_manager"):
        html = _get(handmade_server, f"/viz/person/{handmade.DIRECTOR}", role).text
        assert name not in html, role
    assert name in _get(handmade_server, f"/viz/person/{handmade.DIRECTOR}", "admin").text


def test_person_pages_are_audited(handmade_server: Served) -> None:
    _get(handmade_server, f"/viz/person/{handmade.DIRECTOR}", "analyst")
    lines: list[dict[str, Any]] = [
        line for line in _audit(handmade_server) if line.get("page") == "person" and line["role"] == "analyst"]
    assert lines and handmade.DIRECTOR in lines[-1]["ids"]
    assert all("王建国" not in str(line) for line in lines)


def _audit(served: Served) -> list[dict[str, Any]]:
    from api.audit import AuditLog

    return AuditLog(served.store.state_dir / "audit.jsonl").read()
