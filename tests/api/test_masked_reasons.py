"""Reasons are rendered from fields already masked, the same on every endpoint (#19 item 3).

The fixture store's corporate-from-retail row of E4 carries the retail family's real template
(`retail.cfr.owner`): its person field names 欧阳娜娜 (P3, branch B01). A viewer who may not see
P3 reads 欧**娜 inside the whole sentence, never a withheld sentence nor the raw name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.main import create_app
from api.masking import WITHHELD
from tests.api.conftest import auth, build_store

OWNER = {"template": "retail.cfr.owner",
         "params": {"tier": "vip", "person_name": "欧阳娜娜", "person_name_id": "P3", "aum": "450000", "role": "legal_rep"}}
MASKED = "我行贵宾个人客户欧**娜（金融资产45.00万元）是该企业的法定代表人。"
SHOWN = MASKED.replace("欧**娜", "欧阳娜娜")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, api_settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store = build_store(tmp_path_factory.mktemp("masked-reasons") / "store")
    rows = store.read("prospects")
    rows.loc[(rows["prospect_id"] == "E4") & (rows["kind"].isin(["corporate_from_retail", "downstream"])),
             "reasons"] = json.dumps([OWNER], ensure_ascii=False)  # the downstream row: E4's best, in pictures
    # P5 has no branch of their own; their lead is B01's: a B01 retail manager may not see them
    persons = store.read("persons")
    persons = pd.concat([persons, pd.DataFrame([{"id": "P5", "name": "司马相如", "is_retail_client": True,
                                                 "aum": 45_000.0, "tier": "potential"}])], ignore_index=True)
    p5 = rows[rows["prospect_id"] == "P3"].copy()
    p5["prospect_id"], p5["name"], p5["reasons"] = "P5", "司马相如", "[]"
    store.write({"prospects": pd.concat([rows, p5], ignore_index=True), "persons": persons},
                note="a templated reason naming a person")
    tokens = {key: add_token(store, key, role, branch=branch) for key, role, branch in [
        ("corporate", "corporate_manager", None), ("retail_b01", "retail_manager", "B01"),
        ("retail_b02", "retail_manager", "B02"), ("admin", "admin", None), ("analyst", "analyst", None)]}
    with TestClient(create_app(store.root, api_settings)) as c:
        yield c, tokens


def _reasons(client: TestClient, token: str) -> dict[str, list[str]]:
    h = auth(token)
    out: dict[str, list[str]] = {}
    r = client.get("/prospects/retail_linkage?kind=corporate_from_retail&lang=zh", headers=h)
    assert r.status_code == 200, r.text
    out["prospects"] = [s for row in r.json()["items"] for s in row["reasons"]]
    r = client.get("/leads?limit=100", headers=h)
    assert r.status_code == 200, r.text
    out["leads"] = [s for row in r.json()["items"] if row["entity_id"] == "E4" for s in row["reasons"]]
    r = client.get("/entities/E4/360", headers=h)
    assert r.status_code == 200, r.text
    out["360"] = [s for row in r.json()["leads"] for s in row["reasons"]]
    r = client.get("/prospects/retail_linkage?kind=corporate_from_retail&format=csv&lang=zh", headers=h)
    out["csv"] = [r.content.decode("utf-8-sig")]
    return out


@pytest.mark.parametrize("key,expected", [("corporate", MASKED), ("analyst", MASKED), ("retail_b01", SHOWN),
                                          ("admin", SHOWN)])
def test_a_masked_person_reads_masked_inside_the_whole_sentence_everywhere(setup, key, expected):
    client, tokens = setup
    for where, texts in _reasons(client, tokens[key]).items():
        joined = "\n".join(texts)
        if not (key.startswith("retail") and where == "leads"):  # E4's lead is a supply-chain lead
            assert expected in joined, (key, where, texts)
        assert WITHHELD["zh"] not in joined, (key, where)
        if expected == MASKED:
            assert "欧阳娜娜" not in joined, (key, where)


def test_english_reasons_mask_the_same_field(setup):
    client, tokens = setup
    r = client.get("/prospects/retail_linkage?kind=corporate_from_retail&lang=en", headers=auth(tokens["corporate"]))
    reasons = [s for row in r.json()["items"] for s in row["reasons"]]
    assert "Our VIP retail client 欧**娜 (CNY 450,000 of assets) is its legal representative." in reasons, reasons


def test_a_person_is_masked_by_who_they_are_on_the_plan_as_on_the_board(setup):
    # /plan masked by the lead's branch: a B01 retail manager read 覃娜 (no branch) in full on
    # /plan while /leads showed 覃* (manual pass on the demo store)
    client, tokens = setup
    h = auth(tokens["retail_b01"])
    names = {}
    for url, key in (("/plan?limit=1000", "items"), ("/leads?limit=1000", "items")):
        r = client.get(url, headers=h)
        assert r.status_code == 200, r.text
        names[url] = {i["entity_id"]: i["name"] for i in r.json()[key]}
    names["/entities/P5"] = {"P5": client.get("/entities/P5", headers=h).json()["name"]}
    for url, got in names.items():
        assert got.get("P5") == "司**如", (url, got.get("P5"))
    r = client.get("/entities/E1/360", headers=h)
    assert "司马相如" not in r.text


@pytest.mark.parametrize("key,expected", [("corporate", MASKED), ("admin", SHOWN)])
def test_pictures_render_the_same_masked_sentence(setup, key, expected):
    client, tokens = setup
    r = client.get("/viz/supply-chain/E1?lang=zh", headers=auth(tokens[key]))
    assert r.status_code == 200, r.text[:300]
    assert expected in r.text and WITHHELD["zh"] not in r.text
    if expected == MASKED:
        assert "欧阳娜娜" not in r.text


def test_a_person_field_holding_a_firm_is_not_masked_and_one_without_id_is(setup):
    from api.auth import User
    from api.masking import Viewer
    from scoring.templates import register, render

    client, _ = setup
    viewer = Viewer(client.app.state.store, User(name="c", role="corporate_manager"))
    register({"test.introducer2": ("by {who:person}", "由{who:person}引荐")})
    assert render("test.introducer2", {"who": "华东精工配件有限公司", "who_id": "E4"}, "zh", viewer.person_name) == \
        "由华东精工配件有限公司引荐"
    assert render("test.introducer2", {"who": "欧阳娜娜", "who_id": "P3"}, "zh", viewer.person_name) == "由欧**娜引荐"
    assert render("test.introducer2", {"who": "欧阳娜娜"}, "zh", viewer.person_name) == "由欧**娜引荐"
