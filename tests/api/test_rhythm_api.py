"""The working-rhythm routes on the demo store: plan, 360 (masked for an analyst), track,
campaigns, outflow; scoped and masked like the lead board."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.main import create_app
from demo import cases as dc
from tests.api.conftest import auth
from viz.style import text


@pytest.fixture(scope="module")
def demo(demo_store):
    tokens = {role: add_token(demo_store, f"rhythm-{role}", role) for role in ("admin", "analyst")}
    tokens["corporate_b02"] = add_token(demo_store, "rhythm-corp-b02", "corporate_manager", branch=dc.BRANCH_WEST)
    tokens["retail_b01"] = add_token(demo_store, "rhythm-retail-b01", "retail_manager", branch=dc.BRANCH_EAST)
    with TestClient(create_app(demo_store.root)) as client:
        yield client, tokens, demo_store


def test_plan_items_have_the_contract_fields_and_every_tier(demo):
    client, tokens, _ = demo
    r = client.get("/plan?limit=1000", headers=auth(tokens["admin"]))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert {"entity_id", "name", "tier", "next_action", "due_on", "family", "owner", "reasons"} <= set(items[0])
    assert {i["tier"] for i in items} == {"A", "B", "C"}
    dues = [(not i["overdue"], i["due_on"]) for i in items]
    assert dues == sorted(dues)


def test_plan_is_scoped_and_masked(demo):
    client, tokens, store = demo
    mine = client.get("/plan?limit=1000", headers=auth(tokens["corporate_b02"])).json()["items"]
    assert mine and all(i["branch_id"] in (None, dc.BRANCH_WEST) for i in mine)
    # a corporate manager's plan holds enterprises, and the payroll-day campaigns shared with it
    assert all(i["entity_kind"] == "Enterprise" or i["entity_id"].startswith("campaign:") for i in mine)
    persons = client.get("/plan?limit=1000", headers=auth(tokens["analyst"])).json()["items"]
    names = dict(zip(store.read("persons")["id"], store.read("persons")["name"], strict=True))
    shown = [i for i in persons if i["entity_kind"] == "Person"]
    assert shown and all(i["name"] != names[i["entity_id"]] and "*" in i["name"] for i in shown)
    assert client.get("/plan?due_before=not-a-date", headers=auth(tokens["admin"])).status_code == 422


def test_360_of_the_core_client(demo):
    client, tokens, _ = demo
    r = client.get(f"/entities/{dc.CORE}/360", headers=auth(tokens["analyst"]))
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["entity"]["name"] == dc.NAMES[dc.CORE]
    assert view["money"]["other_bank_share"] > 0 and view["leads_to"]["total"] > 0
    assert {"relations", "leads", "alerts", "timeline", "service"} <= set(view)


def test_360_of_a_person_is_masked_for_an_analyst(demo):
    client, tokens, store = demo
    person = store.node(dc.OUTFLOW_QUERY)
    client.post(f"/entities/{dc.OUTFLOW_QUERY}/notes", json={"text": f"{person['name']}计划购房", "tags": ["home_purchase"]},
                headers=auth(tokens["admin"]))
    admin = client.get(f"/entities/{dc.OUTFLOW_QUERY}/360", headers=auth(tokens["admin"])).json()
    assert admin["entity"]["name"] == person["name"] and admin["service"]["notes"][0]["offers"]
    r = client.get(f"/entities/{dc.OUTFLOW_QUERY}/360", headers=auth(tokens["analyst"]))
    assert r.status_code == 200
    assert person["name"] not in r.text and "aum" not in r.json()["entity"] and "id_hash" not in r.text
    assert r.json()["entity"]["masked"] is True and r.json()["service"]["notes"] == []
    staff = client.get(f"/entities/{dc.NEAR_THRESHOLD_STAFF[0]}/360", headers=auth(tokens["analyst"])).json()
    payroll = [i for rel in staff["relations"] if rel["kind"] == "PAYROLL" for i in rel["items"]]
    assert payroll and all(i["amount"] is None for i in payroll)  # a masked person's pay stays hidden
    admin_staff = client.get(f"/entities/{dc.NEAR_THRESHOLD_STAFF[0]}/360", headers=auth(tokens["admin"])).json()
    assert any(i["amount"] for rel in admin_staff["relations"] if rel["kind"] == "PAYROLL" for i in rel["items"])
    wrong = client.post(f"/entities/{dc.OUTFLOW_QUERY}/notes", json={"text": "x", "tags": ["nope"]},
                        headers=auth(tokens["admin"]))
    assert wrong.status_code == 400 and wrong.json()["ok"] is False


def test_360_out_of_branch_is_refused(demo):
    client, tokens, _ = demo
    assert client.get(f"/entities/{dc.CORE}/360", headers=auth(tokens["corporate_b02"])).status_code == 403
    assert client.get("/entities/NOPE/360", headers=auth(tokens["admin"])).status_code == 404


def test_track_campaigns_and_outflow_routes(demo):
    client, tokens, _ = demo
    h = auth(tokens["admin"])
    series = client.get(f"/track/employer/{dc.SUPERMARKET}", headers=h).json()["items"]
    assert {"version", "as_of", "metric", "value"} <= set(series[0])
    assert {p["metric"] for p in series} == {"payroll_staff", "staff_over_threshold", "retention"}
    assert client.get("/track/planet/X", headers=h).status_code == 422
    chains = client.get("/campaigns/chains", headers=h).json()["items"]
    assert [c["anchor_id"] for c in chains] == [dc.PHARMACY] and chains[0]["stores"] == 30
    markets = client.get("/campaigns/markets", headers=h).json()["items"]
    assert len(markets[0]["classes"]) == 3
    branches = client.get("/outflow/branches", headers=h).json()["items"]
    assert {b["branch_id"] for b in branches} == {dc.BRANCH_EAST, dc.BRANCH_WEST}
    assert client.get("/outflow/branches", headers=auth(tokens["corporate_b02"])).status_code == 403
    clients = client.get("/outflow/clients", headers=auth(tokens["retail_b01"])).json()["items"]
    assert [c["id"] for c in clients] == [dc.OUTFLOW_QUERY]


def test_customer_page_is_masked_for_an_analyst_and_speaks_chinese(demo):
    client, tokens, store = demo
    person = store.node(dc.OUTFLOW_QUERY)
    r = client.get(f"/viz/customer/{dc.OUTFLOW_QUERY}", headers=auth(tokens["analyst"]))
    assert r.status_code == 200 and "客户全息视图" in r.text and "新线索" in r.text and ">new<" not in r.text
    assert person["name"] not in r.text and "Content-Security-Policy" in r.headers
    assert f"· {text('analyst', 'zh')}" in r.text and "· analyst" not in r.text  # the role in words
    page = client.get(f"/viz/customer/{dc.SUPERMARKET}", headers=auth(tokens["admin"])).text
    assert dc.NAMES[dc.SUPERMARKET] in page and "代发员工" in page and "payroll" not in page
    refused = client.get(f"/viz/customer/{dc.CORE}", headers={**auth(tokens["corporate_b02"]), "Accept": "text/html"})
    assert refused.status_code == 403 and text("error_403", "zh") in refused.text
    assert "another branch" not in refused.text  # the API's English sentence is not on a Chinese page
    english = client.get(f"/viz/customer/{dc.CORE}?lang=en",
                         headers={**auth(tokens["corporate_b02"]), "Accept": "text/html"})
    assert english.status_code == 403 and "belongs to another branch" in english.text
    assert client.get(f"/viz/customer/{dc.CORE}", follow_redirects=False).status_code == 303


def test_markets_count_only_the_merchants_in_a_managers_scope(demo):
    client, tokens, store = demo
    everyone = {m["association_id"]: m for m in client.get("/campaigns/markets", headers=auth(tokens["admin"])).json()["items"]}
    b01 = add_token(store, "rhythm-corp-b01", "corporate_manager", branch=dc.BRANCH_EAST)
    mine = {m["association_id"]: m for m in client.get("/campaigns/markets", headers=auth(b01)).json()["items"]}
    assert mine.keys() == everyone.keys() and all(m["hidden"] == 0 for m in everyone.values())
    ent = store.read("enterprises", ["id", "branch_id"]).set_index("id")["branch_id"]
    members = store.read("memberships", ["association_id", "member_id"])
    elsewhere = members[members["member_id"].map(ent).isin([b for b in ent.dropna().unique() if b != dc.BRANCH_EAST])]
    hidden_somewhere = False
    for aid, m in mine.items():
        left_out = int((elsewhere["association_id"] == aid).sum())
        assert m["hidden"] == left_out and m["merchants"] == everyone[aid]["merchants"] - left_out
        assert m["hidden_note"] == (f"{left_out} 个主体不在您的权限范围内" if left_out else None)
        hidden_somewhere |= left_out > 0
        # the volume counted is never more than everyone's: other branches' clients add nothing
        assert sum(c["volume"] for c in m["classes"]) <= sum(c["volume"] for c in everyone[aid]["classes"]) + 0.01
    assert hidden_somewhere  # the demo's markets hold B02 clients: the filter is exercised


def test_customer_page_in_english_renders_its_reasons_in_english(demo):
    # the page took its language from ?lang= but its reasons from the server's setting
    client, tokens, _ = demo
    en = client.get(f"/viz/customer/{dc.CORE}?lang=en", headers=auth(tokens["admin"])).text
    zh = client.get(f"/viz/customer/{dc.CORE}?lang=zh", headers=auth(tokens["admin"])).text
    assert "Customer 360" in en and "Paid by client" in en and "Paid by client" not in zh
    assert "近12个月收到客户" in zh and "近12个月收到客户" not in en


# ------------------------------------------------------------------ two branches
# The two-branch store of tests/api/conftest.py (B01's E1, E4, E5; B02's E2; persons of both), with
# what the chain and tracking routes count: B01's pharmacy chain E5 with stores of both branches
# and one of no branch, B02's best-scored stores first among its `ecosystem` rows; E1's payroll
# paying persons of both branches; association A1's members of both branches.
B01_STORES = {"S11": "康宁大药房东城一店", "S12": "康宁大药房东城二店"}
SHARED_STORE = {"S10": "康宁大药房机场店"}  # of no branch: everyone's
B02_STORES = {"S21": "康宁大药房西城一店", "S22": "康宁大药房西城二店", "S23": "康宁大药房西城三店"}
OLD_POINTS = 3  # E1's points in a snapshot kept before branches were (every branch)


def _two_branch_store(root):
    import pandas as pd

    from leads.track import record_snapshot
    from scoring.run import rank
    from tests.api.conftest import _prospect, build_store

    store = build_store(root)
    opened = {"S11", "S21"}
    stores = [{"id": sid, "name": name, "is_client": sid in opened, "branch_id": branch, "parent_id": "E5"}
              for branch, named in (("B01", B01_STORES), (None, SHARED_STORE), ("B02", B02_STORES))
              for sid, name in named.items()]
    persons = store.read("persons")
    persons["aum"] = persons["id"].map({"P1": 60_000.0, "P2": 200_000.0, "P3": 45_000.0})
    payroll = pd.DataFrame([{"employer_id": "E1", "person_id": pid, "month": f"2024-0{m}", "amount": pay}
                            for pid, pay in (("P1", 8_000.0), ("P2", 20_000.0), ("P3", 6_000.0)) for m in (1, 2, 3)])
    members = pd.DataFrame({"association_id": "A1", "member_id": ["E1", "E4", "E2", "P2"]})
    ranked = [_prospect("ecosystem", "branch_store", sid, B02_STORES[sid], 90 - n, "B02", anchor_id="E5")
              for n, sid in enumerate(("S22", "S23"))]
    ranked.append(_prospect("ecosystem", "branch_store", "S12", B01_STORES["S12"], 50, "B01", anchor_id="E5"))
    store.write({"enterprises": pd.concat([store.read("enterprises"), pd.DataFrame(stores)], ignore_index=True),
                 "persons": persons, "payroll": payroll, "memberships": members,
                 "prospects": rank(ranked)}, note="two branches: a chain, a payroll and members of both")
    # a snapshot of before figures were kept per branch: its values count every branch
    old = pd.DataFrame({"version": "v0", "as_of": "2023-12", "scope": "employer", "scope_id": "E1",
                        "metric": ["payroll_staff", "staff_over_threshold", "retention"], "value": [3.0, 2.0, 0.5]})
    old.to_parquet(store.state_dir / "track.parquet", index=False)
    record_snapshot(store, "v1")
    return store


@pytest.fixture(scope="module")
def branch_store(tmp_path_factory):
    return _two_branch_store(tmp_path_factory.mktemp("rhythm-branches") / "store")


@pytest.fixture(scope="module")
def two_branches(branch_store):
    store = branch_store
    tokens = {"cm1": add_token(store, "cm1", "corporate_manager", branch="B01", manager="M01"),
              "cm2": add_token(store, "cm2", "corporate_manager", branch="B02", manager="M02"),
              "rm1": add_token(store, "rm1", "retail_manager", branch="B01"),
              "admin": add_token(store, "admin", "admin")}
    with TestClient(create_app(store.root)) as client:
        yield client, tokens


def test_a_chain_lists_and_counts_only_the_stores_in_the_managers_scope(two_branches):
    """The chain's counts and next stores were over all branches: B01's manager read B02's store names."""
    client, tokens = two_branches
    r = client.get("/campaigns/chains", headers=auth(tokens["cm1"]))
    assert r.status_code == 200, r.text
    for sid, name in B02_STORES.items():
        assert sid not in r.text and name not in r.text, name
    (chain,) = r.json()["items"]
    assert chain["anchor_id"] == "E5" and (chain["stores"], chain["opened"], chain["pending"]) == (3, 1, 2)
    assert [n["entity_id"] for n in chain["next"]] == ["S12", "S10"]  # its ranked store first
    assert chain["hidden"] == 3 and chain["hidden_note"] == "3 个主体不在您的权限范围内"
    everyone = client.get("/campaigns/chains", headers=auth(tokens["admin"])).json()["items"]
    assert [(c["anchor_id"], c["stores"], c["opened"], c["pending"], c["hidden"], c["hidden_note"])
            for c in everyone] == [("E5", 6, 2, 4, 0, None)]
    assert [n["entity_id"] for n in everyone[0]["next"]] == ["S22", "S23", "S12", "S10"]
    b02 = client.get("/campaigns/chains", headers=auth(tokens["cm2"])).json()["items"]
    assert b02 == []  # B01's chain: its head is out of B02's scope


def _series(client, token, path):
    r = client.get(path, headers=auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    return {(i["version"], i["metric"]): i["value"] for i in body["items"]}, body


def test_tracked_figures_count_only_the_persons_members_and_stores_in_scope(two_branches):
    """The series were store-wide: E1's staff counted B02's persons, A1's members B02's firms."""
    client, tokens = two_branches
    mine, body = _series(client, tokens["rm1"], "/track/employer/E1")
    # B01's staff P1 (above CNY 50,000) and P3; the old snapshot counted every branch: withheld
    assert mine == {("v1", "payroll_staff"): 2.0, ("v1", "staff_over_threshold"): 1.0,
                    ("v1", "retention"): round(105_000 / 42_000, 5)}
    assert body["hidden"] == OLD_POINTS and body["hidden_note"] == f"{OLD_POINTS} 条记录不在您的权限范围内"
    whole, body = _series(client, tokens["admin"], "/track/employer/E1")
    assert whole == {("v0", "payroll_staff"): 3.0, ("v0", "staff_over_threshold"): 2.0, ("v0", "retention"): 0.5,
                     ("v1", "payroll_staff"): 3.0, ("v1", "staff_over_threshold"): 2.0,
                     ("v1", "retention"): round(305_000 / 102_000, 5)}
    assert body["hidden"] == 0 and body["hidden_note"] is None
    members, _ = _series(client, tokens["cm1"], "/track/association/A1")  # E1, E4 of B01's four members
    assert members == {("v1", "members"): 2.0, ("v1", "client_members"): 1.0}
    assert _series(client, tokens["cm2"], "/track/association/A1")[0] == {("v1", "members"): 2.0,
                                                                          ("v1", "client_members"): 1.0}
    assert _series(client, tokens["admin"], "/track/association/A1")[0] == {("v1", "members"): 4.0,
                                                                            ("v1", "client_members"): 2.0}
    stores, _ = _series(client, tokens["cm1"], "/track/anchor/E5")
    assert stores == {("v1", "stores"): 3.0, ("v1", "stores_opened"): 1.0}
    assert _series(client, tokens["admin"], "/track/anchor/E5")[0] == {("v1", "stores"): 6.0,
                                                                       ("v1", "stores_opened"): 2.0}
    view = client.get("/entities/E1/360", headers=auth(tokens["rm1"])).json()  # its timeline: the same figures
    assert {(p["version"], p["metric"]): p["value"] for p in view["timeline"]} == mine
    assert view["timeline_note"] == f"{OLD_POINTS} 条记录不在您的权限范围内"
    assert client.get("/track/employer/E1", headers=auth(tokens["cm2"])).status_code == 403


def test_payroll_figures_are_the_retail_sides_on_track_and_the_360_timeline(two_branches):
    """/track/employer gave a corporate manager an employer's staff and retention, which
    /retail/employers and the payroll picture refuse it (`Policy.payroll_figures`, one rule)."""
    client, tokens = two_branches
    for path in ("/track/employer/E1", "/retail/employers"):
        r = client.get(path, headers=auth(tokens["cm1"]))
        assert r.status_code == 403 and "payroll" in str(r.json()["error"]), path
    view = client.get("/entities/E1/360", headers=auth(tokens["cm1"])).json()
    assert [p for p in view["timeline"] if p["metric"] in ("payroll_staff", "staff_over_threshold", "retention")] == []
    assert client.get("/track/association/A1", headers=auth(tokens["cm1"])).status_code == 200  # not payroll


def test_retail_employers_count_only_the_staff_in_scope(two_branches, branch_store):
    """Every figure of an employer counted its staff of every branch: B01's retail manager read
    E1's staff, pay and assets of B02's person P2 (李四)."""
    from scoring.retail_linkage import employer_summaries
    from viz.payroll import retention_by_employer

    client, tokens = two_branches
    r = client.get("/retail/employers?limit=1000", headers=auth(tokens["rm1"]))
    assert r.status_code == 200, r.text
    (e1,) = [e for e in r.json()["items"] if e["employer_id"] == "E1"]
    # B01's P1 (CNY 60,000: above) and P3 (45,000: near), 3 months each of 8,000 and 6,000
    assert (e1["staff"], e1["staff_above_threshold"], e1["staff_near_threshold"], e1["staff_contactable"]) == (2, 1, 1, 2)
    assert (e1["payroll_total_12m"], e1["retained_assets"], e1["avg_monthly_pay"]) == (42_000.0, 105_000.0, 7_000.0)
    assert e1["retention_rate"] == round(105_000 / 42_000, 5) and e1["median_retention"] is None  # a median: withheld
    assert e1["months"] == 3 and e1["avg_tenure_months"] == 3.0
    for leaked in ("P2", "李四", "200000", "60000.0", "102000"):  # B02's person, their assets, pay and the totals
        assert leaked not in r.text, leaked
    whole = client.get("/retail/employers?limit=1000", headers=auth(tokens["admin"])).json()
    (all_e1,) = [e for e in whole["items"] if e["employer_id"] == "E1"]
    today = employer_summaries(branch_store).set_index("employer_id").loc["E1"]
    assert (all_e1["staff"], all_e1["staff_above_threshold"], all_e1["payroll_total_12m"]) == (3, 2, 102_000.0)
    assert all_e1["retention_rate"] == today["retention_rate"] == round(305_000 / 102_000, 5)
    assert all_e1["median_retention"] == today["median_retention"]
    # the landing page's retention chart: the same figures for the same viewer
    b01 = dict((eid, (rate, staff)) for eid, _, rate, staff in retention_by_employer(
        branch_store, lambda b: b in (None, "") or b == "B01"))
    assert b01["E1"] == (round(105_000 / 42_000, 5), 2)
    assert dict((eid, (rate, staff)) for eid, _, rate, staff in retention_by_employer(branch_store))["E1"] == (
        round(305_000 / 102_000, 5), 3)


def test_the_payroll_picture_gives_no_masked_persons_pay(demo):
    """An analyst sees payroll figures but no person: the supermarket's staff are drawn masked,
    without their pay, average pay or months paid; the bands' totals stay (the admin sees all)."""
    client, tokens, _ = demo

    def page(who: str) -> str:
        r = client.get(f"/viz/payroll/{dc.SUPERMARKET}", headers={**auth(tokens[who]), "Accept": "text/html"})
        assert r.status_code == 200, r.text
        return r.text

    admin, analyst = page("admin"), page("analyst")
    for fact in ('["月均代发","', '["代发月数","'):  # a person node's facts (its tooltip and card)
        assert fact in admin and fact not in analyst
    assert '["代发总额","' in analyst  # the bands' and the employer's totals are drawn
