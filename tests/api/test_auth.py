"""Tokens: made by the CLI, stored hashed (0600), unknown roles refused, cookie and bearer both work."""

from __future__ import annotations

import json
import stat

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.auth import ROLES, add_token, authenticate, list_tokens
from api.cli import main as cli
from api.main import create_app
from graph.errors import InvalidRequest
from graph.networkx_store import NetworkxStore
from tests.api.conftest import assert_error


def test_tokens_are_stored_hashed_and_private(tmp_path, capsys):
    store = NetworkxStore(tmp_path / "s")
    store.write({"branches": pd.DataFrame({"id": ["B01"], "name": ["城东支行"]})})  # a branch must exist (#19)
    assert cli(["token", "add", "王经理", "--role", "retail_manager", "--branch", "B01", "--store", str(store.root)]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("pg_") and len(token) > 40
    path = store.state_dir / "tokens.json"
    text = path.read_text(encoding="utf-8")
    assert token not in text and token[3:] not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    record = json.loads(text)["tokens"][0]
    assert record["name"] == "王经理" and record["role"] == "retail_manager" and record["branch"] == "B01"
    user = authenticate(store, token)
    assert user is not None and (user.name, user.role, user.branch) == ("王经理", "retail_manager", "B01")
    assert authenticate(store, token + "x") is None and authenticate(store, "") is None
    assert "hash" not in list_tokens(store)[0]


def test_unknown_role_and_empty_name_are_refused(tmp_path, capsys):
    store = NetworkxStore(tmp_path / "s")
    with pytest.raises(InvalidRequest, match="unknown role"):
        add_token(store, "x", "superuser")
    with pytest.raises(InvalidRequest, match="name"):
        add_token(store, "  ", "admin")
    assert cli(["token", "add", "x", "--role", "root", "--store", str(store.root)]) == 2
    assert "unknown role" in capsys.readouterr().err
    assert set(ROLES) == {"corporate_manager", "retail_manager", "analyst", "admin"}


def test_hash_depends_on_the_store_secret(tmp_path):
    a, b = NetworkxStore(tmp_path / "a"), NetworkxStore(tmp_path / "b")
    token = add_token(a, "x", "admin")
    (b.state_dir / "tokens.json").write_text((a.state_dir / "tokens.json").read_text())
    assert authenticate(a, token) is not None
    assert authenticate(b, token) is None  # a copied tokens file is useless without a's secret


def test_cookie_and_bearer_in_process(api_store, tokens):
    with TestClient(create_app(api_store.root)) as c:
        assert c.get("/me", headers={"Authorization": f"Bearer {tokens['admin']}"}).json()["role"] == "admin"
        c.cookies.set("pg_session", tokens["analyst"])
        assert c.get("/me").json()["role"] == "analyst"
        c.cookies.set("pg_session", "pg_nope")
        assert_error(c.get("/me"), 401)


def test_every_way_in_shares_one_throttle(tmp_path):
    """Bearer header, a body request stopped by the guard, a ?token= link, a page and the login form
    are one sign-in check (`api.auth.sign_in`): their failures add up on one throttle per address."""
    from api.settings import ApiSettings

    store = NetworkxStore(tmp_path / "s")
    store.write({"enterprises": pd.DataFrame({"id": ["E1"], "name": ["甲公司"]})})
    good = add_token(store, "ops", "admin")
    with TestClient(create_app(store.root, ApiSettings(auth_failures_per_minute=4)), follow_redirects=False) as c:
        assert c.get("/me", headers={"Authorization": "Bearer pg_bad1"}).status_code == 401  # a dependency
        assert c.post("/leads/E1/claim", json={}, headers={"Authorization": "Bearer pg_bad2"}).status_code == 401  # guard
        assert c.get("/me?token=pg_bad3").status_code == 401  # the link middleware
        c.cookies.set("pg_session", "ps_bad4")
        assert c.get("/viz/ego/E1").status_code == 303  # a page: to /login
        c.cookies.clear()
        assert c.post("/login", data={"token": "pg_bad5"}).status_code == 429  # the fifth failure: too many
        assert c.get("/me", headers={"Authorization": "Bearer pg_bad6"}).status_code == 429
        assert c.get("/me?token=pg_bad7").status_code == 429
        assert c.get("/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200  # never throttled
