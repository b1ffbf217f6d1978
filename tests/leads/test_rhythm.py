"""The working rhythm on the demo: plan by tier, 360, tracking across two delta ingests,
chain and market campaigns, branch outflow notices."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from leads.campaigns import chain_campaigns, market_campaigns
from leads.customer import customer_360
from leads.outflow import branch_notices, falling_clients, money_went
from leads.plan import build_plan
from leads.settings import load_rhythm
from leads.track import read_series


@pytest.fixture(scope="module")
def months_store(demo_bundle, tmp_path_factory):
    """The demo bundle, scored, then two monthly delta bundles ingested after it."""
    from demo.months import write_month_bundles
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest
    from leads.watchers import INGEST_WATCHERS
    from scoring.run import score_all

    root = tmp_path_factory.mktemp("months")
    store = NetworkxStore(root / "store")
    run_ingest(store, demo_bundle, watchers=INGEST_WATCHERS)
    score_all(store)
    for folder in write_month_bundles(demo_bundle, root / "months"):
        assert run_ingest(store, folder, watchers=INGEST_WATCHERS).rejected == 0
    return store


def _series(store, scope, sid, metric):
    rows = read_series(store, scope, sid)
    return rows[rows["metric"] == metric]["value"].tolist()


def test_plan_has_due_items_of_every_tier_with_words_and_dates(demo_store):
    plan = build_plan(demo_store)
    conf = load_rhythm()
    assert set(plan["tier"]) == {"A", "B", "C"}
    for tier in "ABC":
        assert (plan["tier"] == tier).sum() > 0
    a = plan[plan["tier"] == "A"].iloc[0]
    b = plan[plan["tier"] == "B"].iloc[0]
    assert (a["due_on"] - b["due_on"]).days == conf.tiers["A"].cadence_days - conf.tiers["B"].cadence_days
    assert plan["next_action"].str.len().gt(0).all()
    assert plan.loc[plan["kind"] == "upstream", "next_action"].iloc[0] == conf.actions["upstream"].zh
    # A leads score at least A's minimum unless lifted by a signal of intent
    lifted = plan["kind"].isin(conf.lift_kinds)
    assert (plan.loc[(plan["tier"] == "A") & ~lifted, "score"] >= conf.tiers["A"].min_score).all()


def test_plan_orders_overdue_first_and_filters_by_due_date(demo_store):
    later = date.today() + timedelta(days=60)
    plan = build_plan(demo_store, today=later)
    assert plan["overdue"].iloc[0] and not plan["overdue"].iloc[-1]
    assert list(plan["overdue"]) == sorted(plan["overdue"], reverse=True)
    soon = build_plan(demo_store, due_before=date.today() + timedelta(days=8))
    assert len(soon) and set(soon["tier"]) == {"A"}


def test_a_disposition_moves_the_item_on(months_store):
    from leads.board import record_disposition

    plan = build_plan(months_store)
    a, b = plan[plan["tier"] == "A"].iloc[0], plan[plan["tier"] == "A"].iloc[1]
    record_disposition(months_store, a["entity_id"], "contacted", by="t", owner=a["owner"])
    record_disposition(months_store, b["entity_id"], "won", by="t", owner=b["owner"])
    after = build_plan(months_store).set_index("entity_id")
    assert after.loc[a["entity_id"], "due_on"] == date.today() + timedelta(days=load_rhythm().tiers["A"].cadence_days)
    assert after.loc[a["entity_id"], "status"] == "contacted"
    assert b["entity_id"] not in after.index


def test_tracked_payroll_series_rises_across_two_delta_ingests(months_store):
    over = _series(months_store, "employer", "E0501", "staff_over_threshold")
    retention = _series(months_store, "employer", "E0501", "retention")
    assert len(over) == 3 and over[0] < over[1] < over[2]
    assert retention[0] < retention[1] < retention[2]
    opened = _series(months_store, "anchor", "E0601", "stores_opened")
    assert opened == sorted(opened) and opened[-1] > opened[0]
    assert read_series(months_store, "anchor", "E0001").empty  # one subsidiary is not a chain
    assert _series(months_store, "association", "A001", "members")
    versions = read_series(months_store, "employer", "E0501")["version"].unique().tolist()
    assert versions == sorted(versions) and len(versions) == 3


def test_a_plan_page_is_the_plan_cut_with_its_count(demo_store):
    from leads.plan import plan_page

    whole = build_plan(demo_store)
    page, total = plan_page(demo_store, offset=2, limit=4)
    assert total == len(whole) and list(page["entity_id"]) == list(whole["entity_id"][2:6])
    assert list(page["reasons"]) == list(whole["reasons"][2:6]) and all(page["reasons"].map(len) > 0)
    people, total = plan_page(demo_store, visible=lambda p: p["entity_kind"] == "Person")
    assert total == int((whole["entity_kind"] == "Person").sum()) > 0 and set(people["entity_kind"]) == {"Person"}


def test_chain_is_one_campaign_row(months_store):
    rows = chain_campaigns(months_store)
    pharmacy = [r for r in rows if r["anchor_id"] == "E0601"]
    assert len(pharmacy) == 1
    row = pharmacy[0]
    assert row["stores"] == 30 and row["opened"] == 10 and row["pending"] == 20
    assert len(row["next"]) == 5 and all(n["entity_id"] not in ("E0611", "E0612") for n in row["next"])


def test_a_chain_whose_head_is_not_in_the_store_is_still_a_row(store):
    """Stores pointing at a parent the export does not carry: the row has no name, not a NA
    that JSON cannot carry (the API answered 500 on such a store)."""
    import json

    ents = pd.DataFrame({"id": ["S1", "S2", "S3"], "name": ["店一", "店二", "店三"], "is_client": [True, False, False],
                         "parent_id": ["HQ"] * 3})
    store.write({"enterprises": ents})
    (row,) = chain_campaigns(store)
    assert row["anchor_id"] == "HQ" and row["name"] is None and row["manager_id"] is None
    assert (row["stores"], row["opened"], row["pending"]) == (3, 1, 2)
    json.dumps(row, ensure_ascii=False)  # what the API sends


def test_market_splits_into_three_classes(months_store):
    (market,) = [m for m in market_campaigns(months_store) if m["association_id"] == "A002"]
    classes = market["classes"]
    assert [c["class"] for c in classes] == ["large", "middle", "small"]
    assert all(c["merchants"] > 0 for c in classes)
    assert sum(c["merchants"] for c in classes) == market["merchants"] == 52
    per = [c["potential"] / c["merchants"] for c in classes]
    assert per[0] > per[1] > per[2]  # larger merchants, more to win each
    assert classes[0]["package"] != classes[2]["package"]


def test_branch_notice_for_more_than_ten_falling_clients(months_store, demo_store):
    notices = {n["branch_id"]: n for n in branch_notices(months_store)}
    assert notices["B01"]["falling"] > 10 and notices["B01"]["notice"] == "query"
    assert notices["B02"]["notice"] is None
    assert all(n["notice"] is None for n in branch_notices(demo_store))  # before the fall: no notice
    falling = falling_clients(months_store, today=date.today() + timedelta(days=120))
    assert falling.loc[falling["branch_id"] == "B01", "flagged"].all()  # seen falling, not won back
    assert not falling_clients(months_store)["flagged"].any()


def test_falling_clients_come_largest_fall_first_and_page_over_http(months_store):
    from fastapi.testclient import TestClient

    from api.auth import add_token
    from api.main import create_app

    falling = falling_clients(months_store)
    order = list(zip(falling["level"] != "warning", falling["ratio"], falling["id"], strict=True))
    assert len(falling) > 10 and order == sorted(order)  # warnings first, each level by its fall
    token = add_token(months_store, "outflow-pages", "admin")
    with TestClient(create_app(months_store.root)) as client:
        def page(offset: int) -> dict:
            r = client.get(f"/outflow/clients?limit=4&offset={offset}", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            return r.json()
        pages = [page(k) for k in range(0, len(falling) + 4, 4)]
        assert {p["total"] for p in pages} == {len(falling)} and all(len(p["items"]) <= 4 for p in pages)
        assert [i["id"] for p in pages for i in p["items"]] == falling["id"].tolist()
        assert client.get("/outflow/clients?limit=0", headers={"Authorization": f"Bearer {token}"}).status_code == 422


def test_money_went_names_the_receiving_banks(months_store):
    went = money_went(months_store, ["E0811", "E0001"])
    assert set(went["payer_id"]) == {"E0811", "E0001"}
    assert "本行" not in set(went["bank"])
    assert went.groupby("payer_id")["share"].sum().round(3).eq(1.0).all()


def test_money_went_to_the_payees_a_viewer_sees_only(months_store):
    # the 360 view's banks add up the payees in the viewer's scope, as its paid-out total does
    pays = months_store.read("payments")
    mine = pays[(pays["payer_id"] == "E0001") & pays["payee_bank"].notna() & (pays["payee_bank"] != "本行")]
    one = str(mine["payee_id"].iloc[0])
    went = money_went(months_store, ["E0001"], payee_ids=[one])
    assert went["amount"].sum() == pytest.approx(mine.loc[mine["payee_id"] == one, "amount"].sum())
    assert went["amount"].sum() < money_went(months_store, ["E0001"])["amount"].sum()
    assert money_went(months_store, ["E0001"], payee_ids=[]).empty


def test_360_of_the_core_client(months_store):
    view = customer_360(months_store, "E0001")
    assert view["entity"]["name"] == "华东精工机械制造有限公司"
    assert "授信" in view["products"] and [m["id"] for m in view["managers"]] == ["M01"]
    kinds = {r["kind"] for r in view["relations"]}
    assert {"PAYS", "BILL"} <= kinds
    pays = next(r for r in view["relations"] if r["kind"] == "PAYS" and r["direction"] == "out")
    assert pays["amount"] > 0 and pays["first_on"] <= pays["last_on"]
    assert 0 < view["money"]["other_bank_share"] <= 1 and view["money"]["banks"]
    assert view["leads_to"]["total"] >= 20  # its suppliers and buyers
    assert all(i["entity_id"] != "E0001" for i in view["leads_to"]["items"])


def test_360_counts_and_orders_the_stored_rows(months_store):
    """The 360 view's prospect parts match the stored table read whole (the oracle here): counts,
    best scores first, and each part's rows are the ones its rule names."""
    import json

    p = months_store.read("prospects")
    path_ids = p["path"].map(json.loads)
    steps = p.assign(step=path_ids).explode("step")  # a step of a path that is none of its row's ids
    steps = steps[~pd.concat([(steps["step"] == steps[c]).fillna(False) for c in ("prospect_id", "anchor_id", "association_id",
                                                                  "employer_id")], axis=1).any(axis=1)]
    ids = [p["anchor_id"].dropna().value_counts().index[0], p["association_id"].dropna().value_counts().index[0],
           p["employer_id"].dropna().value_counts().index[0], steps["step"].value_counts().index[0]]
    reached = 0
    for eid in ids:
        view = customer_360(months_store, eid)
        own = p["prospect_id"] == eid
        leads = pd.concat([(p[c] == eid).fillna(False) for c in ("anchor_id", "association_id", "employer_id")],
                          axis=1).any(axis=1) & ~own
        through = path_ids.map(lambda x, e=eid: e in x) & ~leads & ~own
        for part, rows in (("leads_to", p[leads]), ("reached_through", p[through])):
            assert view[part]["total"] == len(rows), (eid, part)
            shown = [i["score"] for i in view[part]["items"]]
            assert shown == sorted(rows["score"].round(2), reverse=True)[:20], (eid, part)
            assert {i["entity_id"] for i in view[part]["items"]} <= set(rows["prospect_id"]), (eid, part)
        assert len(view["leads"]) == min(int(own.sum()), 20)
        reached += view["reached_through"]["total"]
    assert reached > 0  # the path rule was exercised, not only the id columns


def test_360_names_the_branch_of_a_client(months_store):
    view = customer_360(months_store, "E0001")
    (branch,) = [r for r in view["relations"] if r["kind"] == "IN_BRANCH"]
    item = branch["items"][0]
    names = months_store.read("branches", ["id", "name"]).set_index("id")["name"]
    assert item["other_kind"] == "Branch" and item["other_name"] == names[item["other_id"]]


def test_360_service_record_notes_trigger_offers(months_store):
    from leads.notes import add_note

    add_note(months_store, load_rhythm(), "P0301", "计划明年购房", ["home_purchase"], by="t")
    view = customer_360(months_store, "P0301")
    (note,) = view["service"]["notes"]
    assert note["offers"][0]["offer"] == load_rhythm().tags["home_purchase"].offer_zh
    assert any(a["kind"].startswith("outflow") for a in view["alerts"])
    with pytest.raises(Exception, match="unknown tag"):
        add_note(months_store, load_rhythm(), "P0301", "x", ["no_such_tag"], by="t")


def test_360_timeline_of_the_employer(months_store):
    view = customer_360(months_store, "E0501")
    over = [p["value"] for p in view["timeline"] if p["metric"] == "staff_over_threshold"]
    assert over == sorted(over) and len(over) == 3


def test_landing_line_charts_follow_the_campaigns(months_store, demo_store):
    from viz.trends import tracking_charts

    charts = tracking_charts(months_store, "zh")
    captions = [c for c, _ in charts]
    assert any("金融资产达5万元员工数" in c for c in captions) and any("已开户门店" in c for c in captions)
    svg = dict(charts)[next(c for c in captions if "已开户门店" in c)]
    assert svg.count("<circle") == 3 and ">10<" in svg  # three ingests, ten stores opened at the end
    assert tracking_charts(demo_store, "zh") == []  # one ingest: nothing to draw over time


def test_cli_plan_entity_track_campaigns_outflow(months_store, capsys):
    import json

    from api.cli import main

    root = str(months_store.root)
    assert main(["plan", "--store", root, "--format", "json", "--limit", "500"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert {"entity_id", "name", "tier", "next_action", "due_on", "family", "owner", "reasons"} <= set(items[0])
    assert {i["tier"] for i in items} == {"A", "B", "C"}
    assert main(["entity", "E0001", "--store", root, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["entity"]["id"] == "E0001"
    assert main(["track", "--employer", "E0501", "--store", root, "--format", "json"]) == 0
    series = json.loads(capsys.readouterr().out)
    assert {"version", "as_of", "metric", "value"} == set(series[0])
    assert main(["campaigns", "--store", root]) == 0
    assert "E0601" in capsys.readouterr().out
    assert main(["outflow", "--store", root]) == 0
    assert "query" in capsys.readouterr().out
    assert main(["track", "--store", root]) == 2  # one scope wanted
    assert main(["plan", "--store", root, "--due-before", "soon"]) == 2
