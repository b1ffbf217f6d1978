"""A node id holding "/" (sent as %2F) reaches its entity, neighbours, 360 view and pictures."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.main import create_app
from tests.api.conftest import auth, build_store

ODD = "ext:上海/浦东#1?x"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, api_settings) -> Iterator[tuple[TestClient, str]]:
    store = build_store(tmp_path_factory.mktemp("node-ids") / "store")
    ent = store.read("enterprises")
    ent = pd.concat([ent, pd.DataFrame([{"id": ODD, "name": "浦东某贸易公司", "is_client": False,
                                         "is_external": True}])], ignore_index=True)
    edges = pd.concat([store.read("edges"), pd.DataFrame([{"src": "E1", "dst": ODD, "kind": "PAYS",
                                                           "amount": 500_000.0, "count": 3}])], ignore_index=True)
    store.write({"enterprises": ent, "edges": edges}, note="an id with a slash")
    token = add_token(store, "admin", "admin")
    with TestClient(create_app(store.root, api_settings)) as c:
        yield c, token


@pytest.mark.parametrize("url", ["/entities/{id}", "/entities/{id}/neighbors", "/entities/{id}/360",
                                 "/viz/ego/{id}", "/viz/person/P1"])
def test_an_id_with_a_slash_is_found(setup, url):
    client, token = setup
    r = client.get(url.format(id=quote(ODD, safe="")), headers=auth(token))
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    if "P1" not in url:
        assert ODD in r.text or quote(ODD, safe="") in r.text


def test_the_pictures_link_to_such_an_id_and_the_link_works(setup):
    client, token = setup
    page = client.get("/viz/ego/E1", headers=auth(token)).text
    link = "/viz/ego/" + quote(ODD, safe="")
    assert link in page
    assert client.get(link, headers=auth(token)).status_code == 200


def test_a_missing_id_with_a_slash_is_a_clean_404_and_other_routes_still_match(setup):
    client, token = setup
    r = client.get("/entities/" + quote("ext:no/such", safe=""), headers=auth(token))
    assert r.status_code == 404 and r.json()["ok"] is False and "ext:no/such" in r.json()["error"]
    assert client.get("/entities/E1/neighbors", headers=auth(token)).status_code == 200
    assert client.get("/entities/E1", headers=auth(token)).json()["id"] == "E1"
