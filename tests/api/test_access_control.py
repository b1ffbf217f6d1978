"""Issue #19: access control without gaps — each finding of the probe, on the small API store.

Every test here failed on the code before the fix: lead writes judged by the entity's branch,
neighbours filtered at the centre only, masking by substring, unscoped endpoints, bodies read
before the token, tokens that could not be listed, revoked or expired.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.cli import main
from api.main import create_app
from api.settings import ApiSettings
from graph.networkx_store import NetworkxStore
from tests.api.conftest import assert_error, auth, build_store

# who -> (role, branch, manager): managers M01 corp B01, M02 corp B02, M03 retail B01, M04 retail B02
PEOPLE = {
    "admin": ("admin", None, None),
    "admin_b02": ("admin", "B02", None),
    "corp_b01": ("corporate_manager", "B01", "M01"),
    "corp_b02": ("corporate_manager", "B02", "M02"),
    "corp_m02": ("corporate_manager", None, "M02"),
    "retail_b01": ("retail_manager", "B01", "M03"),
    "retail_b02": ("retail_manager", "B02", "M04"),
    "analyst": ("analyst", None, None),
}


@pytest.fixture()
def ac(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], NetworkxStore]]:
    """A fresh store per test: lead writes change it."""
    store = build_store(tmp_path / "store")
    tokens = {k: add_token(store, k, role, branch=b, manager=m) for k, (role, b, m) in PEOPLE.items()}
    settings = ApiSettings(max_upload_bytes=64 * 1024, lang="zh")
    with TestClient(create_app(store.root, settings)) as client:
        yield client, tokens, store


# ------------------------------------------------------------------ 1. lead writes


def test_a_manager_cannot_claim_another_branchs_lead_on_a_shared_entity(ac):
    client, tokens, _ = ac
    # ext:… has no branch of its own (a shared payee); its lead is B01's
    r = client.post("/leads/ext:0123456789ab/claim", json={}, headers=auth(tokens["corp_b02"]))
    assert_error(r, 403)
    ok = client.post("/leads/ext:0123456789ab/claim", json={}, headers=auth(tokens["corp_b01"]))
    assert ok.status_code == 200 and ok.json()["owner"] == "M01"


def test_a_manager_of_another_branch_cannot_take_a_lead_without_a_branch_token(ac):
    client, tokens, _ = ac
    # the token is not branch-limited, but its manager M02 is of B02 and E4's lead is B01's
    assert_error(client.post("/leads/E4/claim", json={}, headers=auth(tokens["corp_m02"])), 400)


def test_family_rights_decide_lead_writes(ac):
    client, tokens, _ = ac
    assert_error(client.post("/leads/P1/claim", json={}, headers=auth(tokens["corp_b01"])), 403)
    assert_error(client.post("/leads/E4/claim", json={}, headers=auth(tokens["retail_b01"])), 403)
    r = client.post("/leads/P1/disposition", json={"status": "do_not_contact"}, headers=auth(tokens["retail_b02"]))
    assert_error(r, 403)
    board = client.get("/leads?limit=100", headers=auth(tokens["admin"])).json()["items"]
    ids = [row["entity_id"] for row in board]
    # still on its branch's board: as a lead, or inside its employer's payroll-day campaign row
    assert "P1" in ids or "campaign:payroll:E1" in ids


def test_a_claim_names_an_existing_manager_of_the_right_branch_and_side(ac):
    client, tokens, _ = ac
    assert "M99" in assert_error(client.post("/leads/E4/claim", json={"manager": "M99"},
                                             headers=auth(tokens["admin"])), 400)["error"]
    assert_error(client.post("/leads/E4/claim", json={"manager": "M03"}, headers=auth(tokens["admin"])), 400)
    assert_error(client.post("/leads/E4/claim", json={"manager": "M02"}, headers=auth(tokens["admin"])), 400)
    assert_error(client.post("/leads/E2/claim", json={"manager": "M01"}, headers=auth(tokens["admin_b02"])), 403)
    ok = client.post("/leads/E4/claim", json={"manager": "M01"}, headers=auth(tokens["admin"]))
    assert ok.status_code == 200 and ok.json()["owner"] == "M01"


def test_the_cli_applies_the_same_lead_rules(ac, capsys):
    _, _, store = ac
    assert main(["leads", "claim", "E4", "--manager", "M99", "--store", str(store.root)]) != 0
    assert "M99" in capsys.readouterr().err
    assert main(["leads", "claim", "E4", "--manager", "M03", "--store", str(store.root)]) != 0
    assert main(["leads", "set", "P1", "contacted", "--owner", "M01", "--store", str(store.root)]) != 0
    assert main(["leads", "claim", "E4", "--manager", "M01", "--store", str(store.root)]) == 0


def test_lead_writes_are_audited_with_the_token_id(ac):
    client, tokens, store = ac
    client.post("/leads/E4/claim", json={}, headers=auth(tokens["corp_b01"]))
    client.post("/leads/E4/disposition", json={"status": "contacted"}, headers=auth(tokens["corp_b01"]))
    lines = [line for line in client.app.state.audit.read() if line["action"] in ("claim", "disposition")]
    assert [line["ids"] for line in lines] == [["E4"], ["E4"]]
    assert all(line["token_id"] for line in lines)


# ------------------------------------------------------------------ 8. the fuzzing 500


@pytest.mark.parametrize("query", [
    "manager=0&branch=0&family=supply_chain&collapse_groups=true&limit=50",
    "family=supply_chain&status=nothing&collapse_groups=true",
    "branch=0&family=referral",
])
def test_an_empty_lead_board_is_an_empty_page(ac, query):
    client, tokens, _ = ac
    r = client.get(f"/leads?{query}", headers=auth(tokens["admin"]))
    assert r.status_code == 200 and r.json() == {"total": 0, "items": []}


@pytest.mark.parametrize("url", ["/leads?manager=M02", "/plan?manager=M02", "/track/manager/M02"])
def test_a_branch_token_cannot_filter_by_another_branchs_manager(ac, url):
    # the page would list exactly the leads owned by M02 or shared with M02: which B01 leads another
    # branch's manager is shared is that branch's to know
    client, tokens, _ = ac
    assert_error(client.get(url, headers=auth(tokens["corp_b01"])), 403)
    assert client.get(url, headers=auth(tokens["corp_b02"])).status_code == 200
    assert client.get(url, headers=auth(tokens["admin"])).status_code == 200
    assert client.get(url.replace("M02", "M01"), headers=auth(tokens["corp_b01"])).status_code == 200


# ------------------------------------------------------------------ 2. scope on every node and edge

SHARED = "ext:0123456789ab"  # a payee with no branch, paid by E1 (B01)


def test_neighbours_of_a_shared_entity_hide_the_other_branchs_links(ac):
    client, tokens, _ = ac
    r = client.get(f"/entities/{SHARED}/neighbors?hops=2", headers=auth(tokens["corp_b02"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [n["id"] for n in body["nodes"]] == [SHARED] and body["edges"] == []
    assert body["hidden_edges"] >= 1 and body["hidden_nodes"] >= 1
    assert "不在您的权限范围内" in body["hidden_note"]
    assert "E1" not in r.text and "800000" not in r.text and "华东精工" not in r.text
    full = client.get(f"/entities/{SHARED}/neighbors?hops=2", headers=auth(tokens["corp_b01"])).json()
    ids = [n["id"] for n in full["nodes"]]
    assert "E1" in ids and "E2" not in ids and full["hidden_edges"] == 1  # E2 (B02) bills E1: hidden for B01
    analyst = client.get(f"/entities/{SHARED}/neighbors?hops=2", headers=auth(tokens["analyst"])).json()
    assert "E2" in [n["id"] for n in analyst["nodes"]] and analyst["hidden_edges"] == 0


def test_paths_through_another_branch_are_left_out_and_counted(ac):
    client, tokens, _ = ac
    r = client.get(f"/paths?source={SHARED}&target=E2", headers=auth(tokens["corp_b02"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["paths"] == [] and body["hidden_paths"] >= 1 and "E1" not in body["entities"]
    assert "华东精工" not in r.text
    assert client.get(f"/paths?source={SHARED}&target=E2", headers=auth(tokens["admin"])).json()["paths"]


def test_pictures_and_their_tooltips_hide_the_other_branch(ac):
    client, tokens, _ = ac
    r = client.get(f"/viz/ego/{SHARED}?depth=2", headers=auth(tokens["corp_b02"]))
    assert r.status_code == 200, r.text
    assert "华东精工机械" not in r.text and "不在您的权限范围内" in r.text
    assert "是潜在客户" not in r.text  # the B01 lead's reasons (its tooltip explanation) are B01's
    own = client.get(f"/viz/ego/{SHARED}?depth=2", headers=auth(tokens["corp_b01"]))
    assert "华东精工机械" in own.text and "是潜在客户" in own.text


# ------------------------------------------------------------------ 3. one masking policy


def test_a_person_is_masked_by_who_they_are_on_the_board_as_everywhere(ac):
    client, tokens, store = ac
    prospects = store.read("prospects")
    prospects.loc[prospects["prospect_id"] == "P2", "branch_id"] = "B01"  # P2 (a B02 person) led from B01
    store.write({"prospects": prospects}, note="a lead whose branch is not the person's")
    h = auth(tokens["retail_b01"])
    board = {r["entity_id"]: r for r in client.get("/leads?limit=100", headers=h).json()["items"]}
    listed = {r["prospect_id"]: r for r in
              client.get("/prospects/retail_linkage?limit=100", headers=h).json()["items"]}
    assert board["P2"]["name"] == listed["P2"]["name"] == "李*"
    assert listed["P1"]["name"] == "张三丰"  # their own branch's person: shown
    assert board.get("P1", listed["P1"])["name"] == "张三丰"  # (P1 may be folded into a payroll campaign row)
    assert "李四" not in client.get("/leads?limit=100", headers=h).text


# ------------------------------------------------------------------ 4. scope everywhere


def _alerts(store: NetworkxStore) -> None:
    import json

    rows = [("outflow_warning", "P1", None), ("new_supplier", "E4", "E1"), ("new_supplier", "E2", "E1")]
    (store.state_dir / "alerts.jsonl").write_text("".join(
        json.dumps({"kind": k, "entity_id": e, "related_id": r, "text_en": f"{k} {e}", "text_zh": f"{k} {e}",
                    "link": f"/entities/{e}"}) + "\n" for k, e, r in rows), encoding="utf-8")


def test_alerts_are_scoped_by_branch_and_side(ac):
    client, tokens, store = ac
    _alerts(store)
    seen = lambda who: {a["entity_id"] for a in client.get("/alerts", headers=auth(tokens[who])).json()["items"]}  # noqa: E731
    assert seen("corp_b01") == {"E4"}  # no person's outflow, not B02's client
    assert seen("retail_b01") == {"P1", "E4"}
    assert seen("admin") == {"P1", "E4", "E2"}


def test_payroll_aggregates_are_the_retail_sides(ac):
    client, tokens, _ = ac
    assert_error(client.get("/retail/employers", headers=auth(tokens["corp_b01"])), 403)
    assert client.get("/retail/employers", headers=auth(tokens["retail_b01"])).status_code == 200


def test_precision_by_owner_shows_the_callers_branch_only(ac):
    client, tokens, store = ac
    from leads.board import ledger

    ledger(store).record("E4", "meeting", "t", owner="M01")
    ledger(store).record("E2", "won", "t", owner="M02")
    owners = lambda who: {r["owner"] for r in client.get("/leads/precision?by=owner",  # noqa: E731
                                                          headers=auth(tokens[who])).json()["rows"]}
    assert owners("corp_b01") == {"M01"}
    assert owners("admin") == {"M01", "M02"}


def test_precision_by_family_counts_the_callers_branch_only(ac):
    client, tokens, store = ac
    from leads.board import ledger

    ledger(store).record("E4", "won", "t", owner="M01", family="supply_chain", score=80.0)
    rows = lambda who: client.get("/leads/precision?by=family",  # noqa: E731
                                  headers=auth(tokens[who])).json()["rows"]
    assert rows("corp_b02") == []  # B01's outcome is not B02's figure
    assert rows("admin_b02") == []
    assert [(r["family"], r["labelled"]) for r in rows("corp_b01")] == [("supply_chain", 1)]
    assert [(r["family"], r["labelled"]) for r in rows("admin")] == [("supply_chain", 1)]


def test_a_branch_admin_cannot_ingest(ac):
    client, tokens, _ = ac
    files = {"files": ("enterprises.csv", b"id,name\nE2,moved\n", "text/csv")}
    r = client.post("/ingest", files=files, headers=auth(tokens["admin_b02"]))
    assert "branch" in assert_error(r, 403)["error"]


def test_search_does_not_confirm_a_masked_persons_name(ac):
    client, tokens, store = ac
    persons = store.read("persons")
    extra = persons.iloc[[0]].assign(id="P9", name="周小明", branch_id=None, phone_masked=None, id_hash=None)
    store.write({"persons": pd.concat([persons, extra], ignore_index=True)}, note="a person of no branch")
    r = client.get("/entities?q=周小明", headers=auth(tokens["retail_b01"]))
    assert r.status_code == 200 and r.json()["items"] == []
    shown = client.get("/entities?q=周小明", headers=auth(tokens["admin"])).json()["items"]
    assert [i["id"] for i in shown] == ["P9"]
    assert [i["id"] for i in client.get("/entities?q=P9", headers=auth(tokens["retail_b01"])).json()["items"]] == ["P9"]


def test_the_landing_page_audits_the_ids_it_shows(ac):
    client, tokens, _ = ac
    assert client.get("/", headers=auth(tokens["analyst"])).status_code == 200
    line = [x for x in client.app.state.audit.read() if x.get("page") == "landing"][-1]
    assert "E4" in line["ids"] and line["token_id"]


def test_the_landing_kind_menu_offers_the_kinds_a_role_may_list(ac):
    client, tokens, _ = ac

    def menu(who: str) -> list[str]:
        page = client.get("/?lang=en", headers=auth(tokens[who])).text
        select = re.search(r'<select name="kind">(.*?)</select>', page, re.S)
        assert select is not None
        return re.findall(r'<option value="([^"]+)"', select.group(1))

    # a corporate manager lists retail linkage's companies only (corporate_from_retail, an outflow
    # that is an enterprise), not the payroll and executive rows of persons
    assert menu("corp_b01") == ["upstream", "downstream", "member", "association_target",
                                "corporate_from_retail", "outflow", "group", "branch_store"]
    assert menu("retail_b01") == ["payroll", "executive", "corporate_from_retail", "outflow"]
    assert len(menu("analyst")) == 10
