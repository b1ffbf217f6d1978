"""Issue #19 (masking): alerts are rendered per viewer from template fields, the same on /alerts and
in the customer 360 view; alerts logged as finished sentences before templates still read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.main import create_app
from api.masking import WITHHELD
from api.settings import ApiSettings
from graph.networkx_store import NetworkxStore
from graph.schema import conform
from leads.alerts import detect_changes, record_alerts
from tests.api.conftest import PERSONS, auth, build_store

PEOPLE = {
    "admin": ("admin", None, None),
    "analyst": ("analyst", None, None),
    "corp_b01": ("corporate_manager", "B01", "M01"),
    "retail_b01": ("retail_manager", "B01", "M03"),
}


def _tables(persons: pd.DataFrame, roles: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    base = {"enterprises": pd.DataFrame({"id": ["E1"], "name": ["华东精工机械制造有限公司"], "is_client": [True]}),
            "persons": persons, "payments": pd.DataFrame(), "bills": pd.DataFrame(),
            "roles": roles if roles is not None else pd.DataFrame(), "memberships": pd.DataFrame()}
    return {name: conform(name, df) for name, df in base.items()}


def _record(store: NetworkxStore) -> None:
    """What an ingest records: 张三丰 (P1, B01) became an executive at E1 and his assets fell below
    the threshold; 欧阳娜娜 (P3, B01) crossed it upward."""
    names = [PERSONS[p]["name"] for p in ("P1", "P3")]
    before = pd.DataFrame({"id": ["P1", "P3"], "name": names, "aum": [60_000.0, 40_000.0], "aum_prev": [60_000.0] * 2})
    after = before.assign(aum=[30_000.0, 70_000.0])
    roles = pd.DataFrame({"person_id": ["P1"], "enterprise_id": ["E1"], "role": ["director"]})
    record_alerts(store, detect_changes(_tables(before), _tables(after, roles)), version="000002")


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], NetworkxStore]]:
    store = build_store(tmp_path / "store")
    tokens = {k: add_token(store, k, role, branch=b, manager=m) for k, (role, b, m) in PEOPLE.items()}
    with TestClient(create_app(store.root, ApiSettings(lang="zh"))) as c:
        yield c, tokens, store


def _alerts(c: TestClient, token: str, lang: str = "zh") -> dict[tuple[str, str], str]:
    body = c.get("/alerts", headers=auth(token))
    assert body.status_code == 200
    return {(a["kind"], a["entity_id"]): a[f"text_{lang}"] for a in body.json()["items"]}


def test_alerts_are_stored_as_templates_naming_persons_by_field():
    persons = pd.DataFrame({"id": ["P1"], "name": ["张三丰"], "aum": [60_000.0], "aum_prev": [60_000.0]})
    alerts = detect_changes(_tables(persons), _tables(persons.assign(aum=[20_000.0])))
    assert {a["kind"] for a in alerts} == {"crossed_threshold_down", "outflow_warning"}
    for alert in alerts:
        assert "text_zh" not in alert and alert["template"] == f"alert.{alert['kind']}"
        assert alert["params"]["person"] == "张三丰" and alert["params"]["person_id"] == "P1"


def test_a_masked_viewer_reads_the_alert_with_the_name_masked_inside_the_sentence(client):
    c, tokens, store = client
    _record(store)
    seen = _alerts(c, tokens["analyst"])  # analysts see every person's alerts, names masked
    assert seen[("crossed_threshold_down", "P1")] == "张*丰 金融资产跌破5万元"
    assert seen[("new_executive", "P1")] == "张*丰 成为客户 华东精工机械制造有限公司 的新高管或股东"
    assert seen[("crossed_threshold_up", "P3")] == "欧**娜 金融资产突破5万元"
    assert _alerts(c, tokens["analyst"], "en")[("outflow_warning", "P1")] == \
        "张*丰: assets fell to 50% or less of the earlier level"
    raw = c.get("/alerts", headers=auth(tokens["analyst"])).text
    assert "张三丰" not in raw and "欧阳娜娜" not in raw and "params" not in raw  # stored names stay inside
    assert _alerts(c, tokens["retail_b01"])[("crossed_threshold_down", "P1")] == "张三丰 金融资产跌破5万元"
    assert _alerts(c, tokens["admin"])[("crossed_threshold_up", "P3")] == "欧阳娜娜 金融资产突破5万元"


def test_alerts_logged_as_sentences_before_templates_still_read(client):
    c, tokens, store = client
    old = [{"kind": "new_supplier", "entity_id": "E4", "related_id": "E1", "text_en": "E4 is a new supplier of E1",
            "text_zh": "华东精工配件有限公司 成为客户 华东精工机械制造有限公司 的新供应商", "link": "/viz/supply-chain/E1",
            "at": "2026-01-01T00:00:00+00:00", "version": "000001"},
           {"kind": "outflow_query", "entity_id": "P1", "related_id": None, "text_en": "张三丰's assets fell",
            "text_zh": "张三丰资产下降", "link": "/viz/person/P1", "at": "2026-01-01T00:00:00+00:00", "version": "000001"}]
    (store.state_dir / "alerts.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in old),
                                                  encoding="utf-8")
    seen = _alerts(c, tokens["analyst"])
    assert seen[("new_supplier", "E4")] == old[0]["text_zh"]
    assert seen[("outflow_query", "P1")] == WITHHELD["zh"]  # a written-out sentence naming a masked person
    assert _alerts(c, tokens["admin"], "en")[("outflow_query", "P1")] == "张三丰's assets fell"



def test_the_cli_reads_old_and_new_alerts(client, capsys):
    from api.cli import main  # the local operator: sentences as stored

    _, _, store = client
    (store.state_dir / "alerts.jsonl").write_text(json.dumps(
        {"kind": "outflow_query", "entity_id": "P1", "text_en": "old sentence", "text_zh": "旧的句子",
         "link": "/viz/person/P1", "at": "2026-01-01T00:00:00+00:00"}, ensure_ascii=False) + "\n", encoding="utf-8")
    _record(store)
    assert main(["leads", "alerts", "--store", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert "张三丰" in out  # the new, rendered from its fields
    assert "旧的句子" in out or "old sentence" in out  # the old, as stored


def test_the_360_view_shows_the_alerts_of_alerts_rule_rendered_the_same(client):
    c, tokens, store = client
    _record(store)
    view = lambda who: c.get("/entities/E1/360", headers=auth(tokens[who])).json()  # noqa: E731
    # a person's new role is the retail side's business: hidden from the corporate manager on both
    assert ("new_executive", "P1") not in _alerts(c, tokens["corp_b01"])
    assert [a for a in view("corp_b01")["alerts"] if a["entity_id"] == "P1"] == []
    for who in ("analyst", "retail_b01", "admin"):
        in_360 = {(a["kind"], a["entity_id"]): a["text"] for a in view(who)["alerts"]}
        assert in_360[("new_executive", "P1")] == _alerts(c, tokens[who])[("new_executive", "P1")]


def test_a_namesake_of_another_branch_does_not_withhold_the_360_sentence_about_a_visible_person(client):
    """/alerts renders 张三丰 (P1, B01) for the B01 retail manager; the 360 view withheld the same
    sentence because another branch's 张三丰 is masked for them (a guard by name, not by person)."""
    c, tokens, store = client
    persons = pd.concat([store.read("persons"), pd.DataFrame([{"id": "P9", "name": "张三丰", "branch_id": "B02",
                                                               "is_retail_client": True, "aum": 1.0}])])
    store.write({"persons": persons}, note="a namesake in B02")
    _record(store)
    sentence = "张三丰 成为客户 华东精工机械制造有限公司 的新高管或股东"
    assert _alerts(c, tokens["retail_b01"])[("new_executive", "P1")] == sentence
    in_360 = c.get("/entities/E1/360", headers=auth(tokens["retail_b01"])).json()["alerts"]
    assert [a["text"] for a in in_360 if a["kind"] == "new_executive"] == [sentence]


# ------------------------------------------------------------------ retail outflow rows by entity kind


def _with_outflow_rows(store: NetworkxStore) -> None:
    """Outflow rows of one enterprise client (E5, B01) and one person (P1, B01)."""
    from scoring.run import rank
    from tests.api.conftest import _prospect

    rows = store.read("prospects")
    more = rank([_prospect("retail_linkage", "outflow", "E5", "康宁大药房连锁有限公司", 75, "B01"),
                 _prospect("retail_linkage", "outflow", "P1", "张三丰", 72, "B01", manager_id="M03")])
    store.write({"prospects": pd.concat([rows, more], ignore_index=True)}, note="outflow rows")


def test_a_corporate_manager_lists_the_enterprise_outflow_rows_and_only_those(client):
    c, tokens, store = client
    _with_outflow_rows(store)
    got = c.get("/prospects/retail_linkage?kind=outflow", headers=auth(tokens["corp_b01"]))
    assert got.status_code == 200, got.text
    assert [(r["prospect_id"], r["kind"]) for r in got.json()["items"]] == [("E5", "outflow")]
    assert got.json()["total"] == 1 and "张三丰" not in got.text
    # without a kind: its corporate_from_retail rows and the enterprise outflow row, never a person's
    every = c.get("/prospects/retail_linkage", headers=auth(tokens["corp_b01"])).json()
    assert {(r["prospect_id"], r["kind"]) for r in every["items"]} == {("E5", "outflow"), ("E4", "corporate_from_retail")}
    assert every["total"] == 2
    # still refused: the retail side's person kinds
    assert c.get("/prospects/retail_linkage?kind=payroll", headers=auth(tokens["corp_b01"])).status_code == 403
    # the retail manager lists both outflow rows, as before
    retail = c.get("/prospects/retail_linkage?kind=outflow", headers=auth(tokens["retail_b01"])).json()
    assert {r["prospect_id"] for r in retail["items"]} == {"E5", "P1"}


def test_a_namesake_does_not_withhold_a_360_reason_that_prospects_shows(client):
    """The same for reasons: the 360 view guarded its rendered reasons again by name."""
    c, tokens, store = client
    persons = pd.concat([store.read("persons"), pd.DataFrame([{"id": "P9", "name": "张三丰", "branch_id": "B02",
                                                               "is_retail_client": True, "aum": 1.0}])])
    rows = store.read("prospects")
    at = (rows["kind"] == "corporate_from_retail") & (rows["prospect_id"] == "E4")
    rows.loc[at, "reasons"] = json.dumps([{"template": "retail.cfr.stake", "params": {
        "person_name": "张三丰", "person_name_id": "P1", "share_pct": "30"}}], ensure_ascii=False)
    store.write({"persons": persons, "prospects": rows}, note="a namesake in B02, a reason naming P1")
    h = auth(tokens["retail_b01"])
    listed = c.get("/prospects/retail_linkage?kind=corporate_from_retail", headers=h).json()["items"]
    assert [r["reasons"] for r in listed if r["prospect_id"] == "E4"] == [["张三丰持股30.0%。"]]
    view = c.get("/entities/E4/360", headers=h).json()
    assert [r["reasons"] for r in view["leads"] if r["kind"] == "corporate_from_retail"] == [["张三丰持股30.0%。"]]
    # and the analyst reads the same person masked on both
    h = auth(tokens["analyst"])
    view = c.get("/entities/E4/360", headers=h).json()
    assert [r["reasons"] for r in view["leads"] if r["kind"] == "corporate_from_retail"] == [["张*丰持股30.0%。"]]


def test_a_namesake_does_not_withhold_a_visible_persons_name_in_the_360_view(client):
    """/entities/P1 showed 张三丰 to the B01 retail manager while /entities/P1/360 named him with
    the withheld-sentence text (and so did E1's PAYROLL relation): the 360 view guarded names,
    already masked by who the person is, again by name."""
    c, tokens, store = client
    persons = pd.concat([store.read("persons"), pd.DataFrame([{"id": "P9", "name": "张三丰", "branch_id": "B02",
                                                               "is_retail_client": True, "aum": 1.0}])])
    store.write({"persons": persons}, note="a namesake in B02")
    for who, name in (("retail_b01", "张三丰"), ("analyst", "张*丰")):
        h = auth(tokens[who])
        assert c.get("/entities/P1", headers=h).json()["name"] == name
        assert c.get("/entities/P1/360", headers=h).json()["entity"]["name"] == name
        related = [i["other_name"] for rel in c.get("/entities/E1/360", headers=h).json()["relations"]
                   for i in rel["items"] if i["other_id"] == "P1"]
        assert related and set(related) == {name}, (who, related)
