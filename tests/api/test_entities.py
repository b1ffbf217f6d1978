"""Search, entity details, neighbourhoods and paths."""

from __future__ import annotations

from tests.api.conftest import assert_error, auth


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_search_by_id_uscc_name_and_fuzzy(client, tokens):
    h = auth(tokens["admin"])
    by_id = client.get("/entities?q=E1", headers=h).json()["items"]
    assert by_id[0]["id"] == "E1" and by_id[0]["match"] == "id"
    by_uscc = client.get("/entities?q=91310000ma1fl00011", headers=h).json()["items"]
    assert by_uscc[0]["id"] == "E1" and by_uscc[0]["match"] == "uscc"
    contains = client.get("/entities?q=精工", headers=h).json()["items"]
    assert {i["id"] for i in contains if i["match"] == "name"} == {"E1", "E4"}
    # one wrong character: not a substring, found by the fuzzy step
    fuzzy = client.get("/entities?q=城西贸易有线公司", headers=h).json()["items"]
    assert fuzzy and fuzzy[0]["id"] == "E2" and fuzzy[0]["match"] == "fuzzy"
    assert _ids(client.get("/entities?q=zzzzzzzz", headers=h)) == []


def test_search_limit(client, tokens):
    assert len(_ids(client.get("/entities?q=有限公司&limit=2", headers=auth(tokens["admin"])))) == 2


def test_entity_detail_has_attributes_and_degree(client, tokens):
    r = client.get("/entities/E1", headers=auth(tokens["admin"]))
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "Enterprise" and body["name"] == "华东精工机械制造有限公司"
    assert body["attributes"]["uscc"] == "91310000MA1FL00011"
    assert body["degree"]["PAYS"] == 2 and body["degree"]["HOLDS_ROLE"] == 1


def test_neighbors_filters_kind_amount_and_hops(client, tokens):
    h = auth(tokens["admin"])
    one = client.get("/entities/E1/neighbors", headers=h).json()
    assert {n["id"] for n in one["nodes"]} == {"E1", "E2", "E4", "ext:0123456789ab", "P1", "P3", "M01"}
    assert one["nodes"][0]["id"] == "E1" and one["center"] == "E1"
    pays = client.get("/entities/E1/neighbors?kinds=PAYS", headers=h).json()
    assert {e["kind"] for e in pays["edges"]} == {"PAYS"}
    big = client.get("/entities/E1/neighbors?kinds=PAYS,BILL&min_amount=1000000", headers=h).json()
    assert {n["id"] for n in big["nodes"]} == {"E1", "E4"}
    repeated = client.get("/entities/E1/neighbors?kinds=PAYS&kinds=BILL", headers=h).json()
    assert {e["kind"] for e in repeated["edges"]} == {"PAYS", "BILL"}
    two = client.get("/entities/E2/neighbors?hops=2", headers=h).json()
    assert "E4" in {n["id"] for n in two["nodes"]}  # E2 -BILL-> E1 -PAYS-> E4
    assert "E4" not in {n["id"] for n in client.get("/entities/E2/neighbors", headers=h).json()["nodes"]}
    strongest = client.get("/entities/E1/neighbors?limit=1&kinds=PAYS", headers=h).json()
    assert {n["id"] for n in strongest["nodes"]} == {"E1", "E4"}


def test_paths_are_explained(client, tokens):
    r = client.get("/paths?source=P3&target=E4&lang=en", headers=auth(tokens["admin"]))
    assert r.status_code == 200, r.text
    body = r.json()
    first = body["paths"][0]
    assert first["nodes"][0] == "P3" and first["nodes"][-1] == "E4"
    assert len(first["edges"]) == len(first["nodes"]) - 1
    assert first["text"]
    assert set(first["nodes"]) <= set(body["entities"])


def test_me_and_families(client, tokens):
    me = client.get("/me", headers=auth(tokens["retail_b01"])).json()
    assert me == {"name": "retail_b01", "role": "retail_manager", "branch": "B01", "manager": None,
                  "families": ["retail_linkage"]}
    assert client.get("/prospects", headers=auth(tokens["corporate"])).json()["families"] == [
        "supply_chain", "referral", "retail_linkage", "ecosystem"]


def test_health_needs_no_token(client, api_store):
    body = client.get("/health").json()
    assert body["ok"] is True and body["version"] == api_store.version and body["backend"] == "networkx"


def test_openapi_and_offline_docs(client, tokens):
    assert_error(client.get("/openapi.json"), 401)  # the docs need a token (#19)
    assert_error(client.get("/docs"), 401)
    client.headers["Authorization"] = f"Bearer {tokens['analyst']}"
    try:
        _check_docs(client)
    finally:
        del client.headers["Authorization"]


def _check_docs(client):
    spec = client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if path.startswith(("/entities", "/paths", "/prospects", "/ingest", "/health", "/me")):
                assert op.get("description") or op.get("summary"), (method, path)
                assert "4XX" in op["responses"], (method, path)
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/docs/static/swagger-ui-bundle.js" in docs.text
    assert "http://" not in docs.text and "https://" not in docs.text  # nothing from a CDN
    js = client.get("/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_the_ingest_threshold_leaves_the_search_cut_off_alone(api_store, tokens, monkeypatch):
    """#21: one PROSPECT_GRAPH_FUZZY_THRESHOLD used to set both; now search has its own setting."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from graph.settings import reset_settings

    query, h = "/entities?q=城西贸易有线公司", auth(tokens["admin"])
    monkeypatch.setenv("PROSPECT_GRAPH_FUZZY_THRESHOLD", "100")  # the old flat name: the ingest's only
    monkeypatch.setenv("PROSPECT_GRAPH_INGEST__FUZZY_THRESHOLD", "100")
    reset_settings()
    with TestClient(create_app(api_store.root)) as c:
        fuzzy = [i["id"] for i in c.get(query, headers=h).json()["items"] if i["match"] == "fuzzy"]
    assert fuzzy[:1] == ["E2"]
    monkeypatch.setenv("PROSPECT_GRAPH_API__SEARCH_THRESHOLD", "100")
    reset_settings()
    with TestClient(create_app(api_store.root)) as c:
        assert [i for i in c.get(query, headers=h).json()["items"] if i["match"] == "fuzzy"] == []


def test_search_orders_names_and_fuzzy_hits_as_documented(store):
    """Contained names: shorter first, then by id; fuzzy hits: best score first, equal scores in
    node order, every holder of a repeated name found; persons only when their names may be shown.
    Python's own string tests, row by row, are the oracle."""
    import pandas as pd
    from rapidfuzz import fuzz

    from api.search import search_entities

    ents = pd.DataFrame({"id": ["E9", "E2", "E5", "E7"], "name": ["华东精工机械有限公司", "华东精工", "华东精工", None],
                         "uscc": ["91X", None, "91Y", None]})
    pers = pd.DataFrame({"id": ["P3", "P1", "P2"], "name": ["王伟", "王伟", "王小伟"]})
    store.write({"enterprises": ents, "persons": pers})
    got = search_entities(store, "华东精工", limit=10)
    assert [(h.id, h.match) for h in got] == [("E2", "name"), ("E5", "name"), ("E9", "name")]
    assert search_entities(store, "91y")[0].id == "E5"
    names = {**dict(zip(ents["id"], ents["name"], strict=True)), **dict(zip(pers["id"], pers["name"], strict=True))}
    order = ["E9", "E2", "E5", "E7", "P3", "P1", "P2"]  # node order: enterprises, then persons, as stored
    scores = [(i, fuzz.WRatio("王大伟", names[i])) for i in order if names[i]]
    wanted = [i for i, s in sorted(scores, key=lambda p: -p[1]) if s >= 60]
    assert [h.id for h in search_entities(store, "王大伟", limit=10)] == wanted and {"P1", "P3"} <= set(wanted)
    assert [h.id for h in search_entities(store, "王大伟", person_names=False)] == []
    assert [h.id for h in search_entities(store, "王伟", person_names=False)] == []


def test_every_enterprise_sharing_a_searched_uscc_is_found(store):
    """Two enterprises with one USCC (a data error) are both hits of that USCC, in id order, and
    no name or fuzzy guess is added to an exact code."""
    import pandas as pd

    from api.search import search_entities

    ents = pd.DataFrame({"id": ["E9", "E2", "E5"], "name": ["甲公司", "乙公司", "丙公司"],
                         "uscc": ["91SAME", "91same", "91OTHER"]})
    store.write({"enterprises": ents})
    assert [(h.id, h.match) for h in search_entities(store, "91Same")] == [("E2", "uscc"), ("E9", "uscc")]
    assert [h.id for h in search_entities(store, "91OTHER")] == ["E5"]


def test_another_branchs_hits_never_take_the_places_of_the_viewers_own(store):
    """The limit counts the hits a viewer may see: twenty of another branch's names matching
    first (shorter names) leave the viewer's own hit in the answer, by name, fuzzy, id and USCC."""
    import pandas as pd

    from api.search import search_entities

    others = [f"B02-{i:02d}" for i in range(20)]
    ents = pd.DataFrame({"id": [*others, "E1", "E2"], "name": [f"远景{i}" for i in range(20)] + ["远景贸易有限公司", "远景商贸"],
                         "uscc": [None] * 20 + ["91MINE", "91THEIRS"], "branch_id": ["B02"] * 20 + ["B01", "B02"]})
    store.write({"enterprises": ents})
    mine = search_entities(store, "远景", limit=5, branch="B01")
    assert [h.id for h in mine] == ["E1"]
    assert len(search_entities(store, "远景", limit=5)) == 5 and "E1" not in [
        h.id for h in search_entities(store, "远景", limit=5)]  # no branch: the shorter names first
    assert [h.id for h in search_entities(store, "远景贸易有线公司", limit=3, branch="B01")] == ["E1"]  # fuzzy
    assert search_entities(store, "E2", branch="B01") == [] and search_entities(store, "91THEIRS", branch="B01") == []
    assert [h.id for h in search_entities(store, "91MINE", branch="B01")] == ["E1"]
