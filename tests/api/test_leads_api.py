"""The lead workflow and the retail view over HTTP, on a copy of the demo store."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.main import create_app
from demo import cases as dc
from graph.networkx_store import NetworkxStore


@pytest.fixture(scope="module")
def leads_client(demo_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("leads-api") / "store"
    shutil.copytree(demo_store.root, root)
    store = NetworkxStore(root)
    tokens = {
        "admin": add_token(store, "管理员", role="admin"),
        "m02": add_token(store, "李晓梅", role="corporate_manager", manager=dc.MGR_ASSOC),
        "m01": add_token(store, "王建国", role="corporate_manager", manager=dc.MGR_CORE),
        "m05": add_token(store, "市场经理", role="corporate_manager", manager=dc.MGR_MARKET),
        "m03": add_token(store, "张丽", role="retail_manager", manager=dc.MGR_RETAIL_EAST,
                         branch=dc.BRANCH_EAST),
        "analyst": add_token(store, "分析", role="analyst"),
    }
    with TestClient(create_app(store_path=root)) as client:
        yield client, tokens


def _h(tokens, who):
    return {"Authorization": f"Bearer {tokens[who]}"}


def test_board_has_one_row_per_entity_best_first(leads_client):
    client, tokens = leads_client
    body = client.get("/leads?limit=1000", headers=_h(tokens, "admin")).json()
    ids = [row["entity_id"] for row in body["items"]]
    assert body["total"] >= len(ids) > 0 and len(ids) == len(set(ids))
    scores = [row["score"] for row in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert dc.DO_NOT_CONTACT not in ids and dc.CORE not in ids
    member = next(r for r in body["items"] if r["entity_id"] == dc.ASSOC_PROSPECT_MEMBERS[0])
    assert member["owner"] == dc.MGR_ASSOC and member["owner_source"] == "referrer"


def test_claim_conflict_names_the_owner_and_dispositions_show(leads_client):
    client, tokens = leads_client
    target = dc.ASSOC_PROSPECT_MEMBERS[1]
    ok = client.post(f"/leads/{target}/claim", json={}, headers=_h(tokens, "m02"))
    assert ok.status_code == 200 and ok.json()["owner"] == dc.MGR_ASSOC
    clash = client.post(f"/leads/{target}/claim", json={}, headers=_h(tokens, "m05"))  # same branch
    assert clash.status_code == 409
    assert client.post(f"/leads/{target}/claim", json={}, headers=_h(tokens, "m01")).status_code == 400  # other branch
    assert clash.json()["ok"] is False and dc.MGR_ASSOC in clash.json()["error"]
    bad = client.post(f"/leads/{target}/claim", json={"manager": dc.MGR_CORE}, headers=_h(tokens, "m02"))
    assert bad.status_code == 403
    done = client.post(f"/leads/{target}/disposition", json={"status": "meeting"}, headers=_h(tokens, "m02"))
    assert done.status_code == 200 and done.json()["recorded_by"] == "李晓梅"
    rows = client.get("/leads?status=meeting", headers=_h(tokens, "admin")).json()["items"]
    assert [r["entity_id"] for r in rows] == [target]
    assert client.post(f"/leads/{target}/disposition", json={"status": "maybe"},
                       headers=_h(tokens, "m02")).status_code == 422
    prec = client.get("/leads/precision?k=5", headers=_h(tokens, "admin")).json()
    assert prec["rows"][0]["positive"] == 1


def test_roles_and_masking_on_the_board(leads_client):
    client, tokens = leads_client
    corporate = client.get("/leads?limit=1000", headers=_h(tokens, "m01")).json()["items"]
    assert corporate and all(r["entity_kind"] in ("Enterprise", "Campaign") for r in corporate)
    analyst = client.get("/leads?limit=1000&family=retail_linkage", headers=_h(tokens, "analyst")).json()["items"]
    people = [r for r in analyst if r["entity_kind"] == "Person"]
    assert people and all("*" in (r["name"] or "*") for r in people)
    assert client.get("/leads").status_code == 401
    assert client.post("/leads/refit/referral", headers=_h(tokens, "m01")).status_code == 403


def test_retail_manager_view_is_their_own(leads_client):
    client, tokens = leads_client
    mine = client.get(f"/retail/view/{dc.MGR_RETAIL_EAST}", headers=_h(tokens, "m03"))
    assert mine.status_code == 200
    items = mine.json()["items"]
    assert {i["enterprise_id"] for i in items} >= {dc.VIP_COMPANIES[0], dc.VIP_COMPANIES[2]}
    assert all(i["corporate_manager_id"] is None or i["corporate_manager_id"].startswith("M") for i in items)
    assert client.get(f"/retail/view/{dc.MGR_RETAIL_WEST}", headers=_h(tokens, "m03")).status_code == 403
    assert client.get(f"/retail/view/{dc.MGR_RETAIL_EAST}", headers=_h(tokens, "m01")).status_code == 403
    masked = client.get(f"/retail/view/{dc.MGR_RETAIL_EAST}", headers=_h(tokens, "analyst")).json()["items"]
    assert masked and all(i["masked"] and i["aum"] is None for i in masked)
    employers = client.get("/retail/employers", headers=_h(tokens, "m03")).json()["items"]
    assert dc.SUPERMARKET in {e["employer_id"] for e in employers}


def test_alerts_endpoint_lists_what_the_last_ingest_changed(leads_client):
    from leads.alerts import record_alerts

    client, tokens = leads_client
    store = NetworkxStore(client.app.state.store.root)
    alert = {"kind": "new_member", "entity_id": "E0999", "related_id": dc.ASSOC_INSULATION,
             "text_en": "E0999 joined", "text_zh": "E0999 加入", "link": "/viz/ego/E0999"}
    record_alerts(store, [alert, {**alert, "kind": "new_supplier", "entity_id": "E0998"}], version="000009")
    body = client.get("/alerts?kind=new_member", headers=_h(tokens, "admin")).json()
    assert [a["entity_id"] for a in body["items"]] == ["E0999"] and body["items"][0]["version"] == "000009"
    assert len(client.get("/alerts?limit=1", headers=_h(tokens, "admin")).json()["items"]) == 1
    assert client.get("/alerts").status_code == 401
