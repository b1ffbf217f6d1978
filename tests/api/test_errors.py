"""Every error has the one shape {"ok": false, "error", "status"} and the right status."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.errors import install_error_handlers, status_for
from graph import errors as ge
from tests.api.conftest import assert_error, auth


def test_unknown_family_is_404(client, tokens):
    body = assert_error(client.get("/prospects/no_such_family", headers=auth(tokens["admin"])), 404)
    assert "supply_chain" in body["error"]  # tells the user what exists


@pytest.mark.parametrize("query", ["limit=0", "limit=-3", "limit=abc", "offset=-1", "min_score=101",
                                   "format=pdf", "lang=fr", "surprise=1"])
def test_bad_prospect_parameters_are_422(client, tokens, query):
    assert_error(client.get(f"/prospects/supply_chain?{query}", headers=auth(tokens["admin"])), 422)


def test_unknown_kind_is_400(client, tokens):
    assert_error(client.get("/prospects/supply_chain?kind=sideways", headers=auth(tokens["admin"])), 400)


def test_missing_and_bad_tokens_are_401(client, tokens):
    assert_error(client.get("/prospects/supply_chain"), 401)
    bad = assert_error(client.get("/prospects/supply_chain", headers=auth("pg_not-a-token")), 401)
    assert "token" in bad["error"]
    assert_error(client.get("/prospects/supply_chain", headers={"Authorization": "Basic abc"}), 401)
    assert_error(client.get("/prospects/supply_chain", headers={"Authorization": "Bearer"}), 401)
    r = client.get("/entities/E1")
    assert r.headers["www-authenticate"] == "Bearer"


def test_forbidden_is_403(client, tokens):
    assert_error(client.get("/prospects/supply_chain", headers=auth(tokens["retail"])), 403)
    assert_error(client.get("/ingest", headers=auth(tokens["analyst"])), 403)


def test_unknown_entity_is_404(client, tokens):
    assert_error(client.get("/entities/NOPE", headers=auth(tokens["admin"])), 404)
    assert_error(client.get("/entities/NOPE/neighbors", headers=auth(tokens["admin"])), 404)
    assert_error(client.get("/paths?source=NOPE&target=E1", headers=auth(tokens["admin"])), 404)


def test_bad_neighbour_and_path_parameters(client, tokens):
    h = auth(tokens["admin"])
    assert_error(client.get("/entities/E1/neighbors?kinds=FRIENDS", headers=h), 400)
    assert_error(client.get("/entities/E1/neighbors?hops=9", headers=h), 422)
    assert_error(client.get("/entities/E1/neighbors?min_amount=-1", headers=h), 422)
    assert_error(client.get("/paths?source=E1", headers=h), 422)
    assert_error(client.get("/paths?source=E1&target=E2&max_hops=0", headers=h), 422)
    assert_error(client.get("/entities?q=", headers=h), 422)


def test_no_path_is_404(client, tokens):
    # E5 has no edge at all, so nothing connects it to E1
    body = assert_error(client.get("/paths?source=E5&target=E1", headers=auth(tokens["admin"])), 404)
    assert "E5" in body["error"] or "path" in body["error"].lower()


def test_unknown_route_and_method_use_the_shape(client, tokens):
    assert_error(client.get("/nowhere", headers=auth(tokens["admin"])), 404)
    assert_error(client.delete("/prospects/supply_chain", headers=auth(tokens["admin"])), 405)


def _error_classes(cls: type[ge.AppError]) -> list[type[ge.AppError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _error_classes(child))]


def test_every_app_error_class_has_a_client_or_unavailable_status():
    import api.deps
    import api.ingest_files  # noqa: F401  (their error classes join the tree)

    classes = _error_classes(ge.AppError)
    assert {api.deps.TooManyFailures, api.ingest_files.TooLarge, ge.StoreCorrupted, ge.NoPath} <= set(classes)
    for cls in classes:
        status = status_for(cls("x"))
        assert status == cls.status, cls  # the class's own status, nothing overrides it
        assert 400 <= status < 500 or status in (501, 503), (cls, status)
    assert status_for(ge.NoPath("x")) == 404 and status_for(ge.InvalidMapping("x")) == 422
    assert status_for(api.ingest_files.TooLarge("x")) == 413 and status_for(ge.StoreCorrupted("x")) == 503


def test_unexpected_exception_gives_the_shape_without_traceback():
    from fastapi import FastAPI

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    @app.get("/corrupt")
    def corrupt() -> None:
        raise ge.StoreCorrupted("store file x.parquet is missing")

    with TestClient(app, raise_server_exceptions=False) as c:
        body = assert_error(c.get("/boom"), 500)
        assert "secret" not in body["error"] and "Traceback" not in body["error"]
        assert "x.parquet" in assert_error(c.get("/corrupt"), 503)["error"]
