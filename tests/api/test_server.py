"""Through a real uvicorn server on loopback: bearer and cookie auth, ?token= links, concurrency."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from tests.api.conftest import assert_error, auth, build_store
from tests.live import live_server


@pytest.fixture(scope="module")
def base_url(api_store, tokens, api_settings) -> Iterator[str]:
    with live_server(api_store.root, api_settings) as url:
        yield url


def test_bearer_over_http(base_url, tokens):
    with httpx.Client(base_url=base_url) as c:
        assert_error(c.get("/prospects/supply_chain"), 401)
        r = c.get("/prospects/supply_chain", headers=auth(tokens["analyst"]))
        assert r.status_code == 200 and r.json()["total"] == 3


def test_token_link_sets_cookie_and_drops_token(base_url, tokens):
    with httpx.Client(base_url=base_url) as c:
        r = c.get(f"/prospects/referral?limit=5&token={tokens['analyst']}")
        assert r.status_code == 303
        assert r.headers["location"] == "/prospects/referral?limit=5"
        cookie = r.headers["set-cookie"]
        assert "pg_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace(
            "Strict", "strict") and "Path=/" in cookie
        assert tokens["analyst"] not in r.headers["location"]
        # the client now holds the cookie: later requests need no token
        follow = c.get(r.headers["location"])
        assert follow.status_code == 200 and follow.json()["family"] == "referral"
        assert c.get("/me").json()["name"] == "analyst"
    with httpx.Client(base_url=base_url) as other:
        raw = f"//evil.example/x?token={tokens['analyst']}".encode()
        r = other.get(httpx.URL(base_url).copy_with(raw_path=raw))
        assert r.status_code == 303 and r.headers["location"] == "/evil.example/x"  # never off-site
    with httpx.Client(base_url=base_url) as fresh:
        assert_error(fresh.get("/me?token=pg_wrong"), 401)
        assert_error(fresh.get("/me", cookies={"pg_session": "pg_wrong"}), 401)


def test_concurrent_readers_get_the_same_answers(base_url, tokens):
    urls = ["/prospects/supply_chain", "/entities/E1", "/entities/E1/neighbors?hops=2",
            "/paths?source=P3&target=E4", "/entities?q=华东", "/prospects/retail_linkage?format=csv"]
    with httpx.Client(base_url=base_url, headers=auth(tokens["admin"])) as c:
        expected = {u: c.get(u).content for u in urls}

    local = threading.local()
    opened: list[httpx.Client] = []

    def fetch(i: int) -> tuple[str, int, bytes]:
        url = urls[i % len(urls)]
        if not hasattr(local, "client"):  # one keep-alive connection per worker thread
            local.client = httpx.Client(base_url=base_url, headers=auth(tokens["admin"]))
            opened.append(local.client)
        r = local.client.get(url)
        return url, r.status_code, r.content

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(fetch, range(48)))
    for c in opened:
        c.close()
    assert all(status == 200 for _, status, _ in results)
    assert all(body == expected[url] for url, _, body in results)


def test_repeated_failures_are_slowed_down(tmp_path):
    # its own store: the failure count is the store's (every app and worker on it adds to it)
    app = create_app(build_store(tmp_path / "store").root, ApiSettings(auth_failures_per_minute=3))
    with TestClient(app) as c:
        for _ in range(3):
            assert_error(c.get("/me", headers=auth("pg_guess")), 401)
        assert_error(c.get("/me", headers=auth("pg_guess")), 429)
        assert_error(c.get("/me?token=pg_guess"), 429)


def test_access_log_never_holds_a_token(api_store, tokens):
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    with live_server(api_store.root, log_level="info") as url:
        access = logging.getLogger("uvicorn.access")
        access.addHandler(handler)
        try:
            assert httpx.get(f"{url}/me?limit=1&token={tokens['admin']}").status_code == 303
        finally:
            access.removeHandler(handler)
    assert records and any("token=***" in r for r in records)  # the line is there, the token is not
    assert not [r for r in records if tokens["admin"] in r]
