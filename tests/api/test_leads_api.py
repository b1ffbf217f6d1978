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
    whole = client.get("/retail/employers?limit=1000", headers=_h(tokens, "admin")).json()
    assert whole["total"] == len(whole["items"]) >= 1
    totals = [e["payroll_total_12m"] for e in whole["items"]]
    assert totals == sorted(totals, reverse=True)  # the largest payroll first
    pages = [client.get(f"/retail/employers?limit=1&offset={k}", headers=_h(tokens, "admin")).json()
             for k in range(0, whole["total"] + 1)]
    assert [e["employer_id"] for p in pages for e in p["items"]] == [e["employer_id"] for e in whole["items"]]
    mine = client.get("/retail/employers?limit=1000", headers=_h(tokens, "m03")).json()
    branch = {e["employer_id"]: e["branch_id"] for e in whole["items"]}
    assert mine["total"] == len(mine["items"])  # another branch's employers left out (the rule below)
    assert {e["employer_id"] for e in mine["items"]} == {k for k, b in branch.items() if b in (None, "", dc.BRANCH_EAST)}


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


def test_every_manager_sees_and_may_work_the_leads_routed_to_them(demo_bundle, tmp_path_factory):
    # manual pass (#19): a corporate client's outflow to other banks (retail_linkage/outflow of an
    # enterprise) was routed to its corporate manager, who could neither see nor claim it
    from demo.months import write_month_bundles
    from ingest.job import run_ingest
    from scoring.run import score_all

    root = tmp_path_factory.mktemp("owners")
    store = NetworkxStore(root / "store")
    run_ingest(store, demo_bundle)
    for folder in write_month_bundles(demo_bundle, root / "months"):
        run_ingest(store, folder)
    score_all(store)
    root = store.root
    managers = store.read("managers", ["id", "kind"])
    tokens = {m: add_token(store, f"owner {m}", role=f"{k}_manager", manager=m)
              for m, k in zip(managers["id"], managers["kind"], strict=True)}
    admin = add_token(store, "owners admin", role="admin")
    with TestClient(create_app(store_path=root)) as client:
        board = client.get("/leads?limit=1000", headers={"Authorization": f"Bearer {admin}"}).json()["items"]
        corporate_outflow = [r for r in board if r["best_kind"] == "outflow" and r["entity_kind"] == "Enterprise"]
        assert corporate_outflow  # the demo has them: the test can fail
        for m, token in tokens.items():
            h = {"Authorization": f"Bearer {token}"}
            mine = {r["entity_id"] for r in board if r["owner"] == m and r["row_kind"] == "lead"}
            seen = {r["entity_id"] for r in client.get("/leads?limit=1000", headers=h).json()["items"]}
            assert mine <= seen, (m, sorted(mine - seen))
        lead = corporate_outflow[0]
        h = {"Authorization": f"Bearer {tokens[lead['owner']]}"}
        assert client.post(f"/leads/{lead['entity_id']}/claim", json={}, headers=h).status_code == 200
        # the retail side keeps persons' outflow to itself
        corp = next(m for m, k in zip(managers["id"], managers["kind"], strict=True) if k == "corporate")
        seen = client.get("/leads?limit=1000", headers={"Authorization": f"Bearer {tokens[corp]}"}).json()["items"]
        assert not [r for r in seen if r["best_kind"] == "outflow" and r["entity_kind"] == "Person"]


def test_a_row_shared_with_a_manager_is_on_their_board_and_plan(leads_client):
    # manual pass: the payroll-day campaign of E0501 is shared with its corporate manager (M01),
    # who saw it neither on /leads nor on /plan (family rights hid it)
    client, tokens = leads_client
    board = client.get("/leads?limit=1000", headers=_h(tokens, "admin")).json()["items"]
    shared = [r for r in board if dc.MGR_CORE in r["shared_with"]]
    assert shared
    mine = {r["entity_id"]: r for r in client.get("/leads?limit=1000", headers=_h(tokens, "m01")).json()["items"]}
    plan = {r["entity_id"]: r for r in client.get("/plan?limit=1000", headers=_h(tokens, "m01")).json()["items"]}
    for row in shared:
        assert row["entity_id"] in mine and mine[row["entity_id"]]["shared_with"] == row["shared_with"]
        if row["status"] not in ("won", "lost", "not_interested", "do_not_contact"):
            assert dc.MGR_CORE in plan[row["entity_id"]]["shared_with"]
    # another corporate manager does not see it
    other = {r["entity_id"] for r in client.get("/leads?limit=1000", headers=_h(tokens, "m02")).json()["items"]}
    assert not {r["entity_id"] for r in shared if r["row_kind"] == "campaign"} & other

    # and they may ask its owner for a joint visit, which the owner then sees
    campaign = next(r for r in shared if r["row_kind"] == "campaign")
    r = client.post(f"/leads/{campaign['entity_id']}/joint-visit", json={"note": "发薪日一起去"}, headers=_h(tokens, "m01"))
    assert r.status_code == 200, r.text
    assert r.json()["owner"] == campaign["owner"] != dc.MGR_CORE
    r = client.post(f"/leads/{campaign['entity_id']}/joint-visit", json={}, headers=_h(tokens, "m02"))
    assert r.status_code == 400  # not shared with M02
    board = client.get("/leads?limit=1000", headers=_h(tokens, "admin")).json()["items"]
    assert next(b for b in board if b["entity_id"] == campaign["entity_id"])["joint_visits"] == [dc.MGR_CORE]


def test_a_board_export_holds_the_whole_board_and_json_pages_stay_capped(leads_client):
    import csv
    import io

    client, tokens = leads_client
    body = client.get("/leads", headers=_h(tokens, "admin")).json()
    assert len(body["items"]) == 50 < body["total"]  # a JSON page: 50 by default
    r = client.get("/leads?format=csv", headers=_h(tokens, "admin"))
    assert len(list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))) == body["total"] + 1
    assert r.headers["X-Total-Count"] == str(body["total"])
    assert len(client.get("/leads?limit=5000", headers=_h(tokens, "admin")).json()["items"]) == min(1000, body["total"])
