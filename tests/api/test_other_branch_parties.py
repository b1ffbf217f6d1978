"""A prospect row names only the other anchors and managers of the viewer's branches (audit s43, 1).

E4 (B01's prospect of anchor E1) is also a buyer of E2, B02's client of manager M02. The row's
"also" reason stores its parties as fields with their branches, and its details list the anchors
and managers with theirs: a B01 viewer reads neither E2 nor M02 — not in the reasons, the details,
the CSV, the customer 360 view nor a picture's tooltips — while a viewer of every branch reads both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth, served_with_prospects

ALSO = {"template": "supply_chain.downstream.also",
        "params": {"also": json.dumps({"named": [{"id": "E2", "m": "M02", "b": "B02"}],
                                       "count": [{"b": "B02", "n": 1}]})}}
DETAILS = {"tier": 1, "anchor_id": "E1", "anchors": 2, "anchor_ids": ["E1", "E2"], "anchor_branches": ["B01", "B02"],
           "shared_with": ["M02"], "shared_branches": ["B02"]}
SHOWN = "同时是E2（客户经理M02）的买方。"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, api_settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    def edit(rows: pd.DataFrame) -> None:
        at = (rows["prospect_id"] == "E4") & (rows["kind"] == "downstream")
        rows.loc[at, "reasons"] = json.dumps([ALSO], ensure_ascii=False)
        rows.loc[at, "details"] = json.dumps(DETAILS)

    yield from served_with_prospects(tmp_path_factory.mktemp("other-branch") / "store", api_settings, edit,
                                     "a prospect shared by anchors of two branches", [
        ("corp_b01", "corporate_manager", "B01", None), ("analyst_b01", "analyst", "B01", None),
        ("admin", "admin", None, None), ("analyst", "analyst", None, None)])


def _row(client: TestClient, token: str) -> dict:
    r = client.get("/prospects/supply_chain?anchor=E1&kind=downstream", headers=auth(token))
    assert r.status_code == 200, r.text
    return next(row for row in r.json()["items"] if row["prospect_id"] == "E4")


@pytest.mark.parametrize("key", ["corp_b01", "analyst_b01"])
def test_a_branch_viewer_is_not_shown_another_branchs_anchor_or_manager(setup, key):
    client, tokens = setup
    h = auth(tokens[key])
    row = _row(client, tokens[key])
    assert row["reasons"] == []  # its only other anchor is B02's: the sentence is left out
    assert row["details"]["anchor_ids"] == ["E1"] and row["details"]["shared_with"] == []
    assert "anchor_branches" not in row["details"] and "shared_branches" not in row["details"]
    csv = client.get("/prospects/supply_chain?anchor=E1&format=csv", headers=h).content.decode("utf-8-sig")
    pages = [client.get(url, headers=h) for url in ("/entities/E4/360", "/viz/ego/E4", "/viz/supply-chain/E1")]
    assert [p.status_code for p in pages] == [200, 200, 200]
    for text in [csv, *(p.text for p in pages)]:
        assert "E2（" not in text and "M02" not in text and "同时是" not in text


@pytest.mark.parametrize("key", ["admin", "analyst"])
def test_a_viewer_of_every_branch_sees_every_anchor(setup, key):
    client, tokens = setup
    row = _row(client, tokens[key])
    assert row["reasons"] == [SHOWN]
    assert row["details"]["anchor_ids"] == ["E1", "E2"] and row["details"]["shared_with"] == ["M02"]
    page = client.get("/viz/ego/E4", headers=auth(tokens[key]))
    assert page.status_code == 200 and SHOWN in page.text


def test_the_lead_board_shares_with_managers_of_the_viewers_branches_only(setup):
    client, tokens = setup
    for url in ("/leads?limit=100", "/plan?limit=100"):  # the plan names them as the board does
        shared = {key: next(r for r in client.get(url, headers=auth(tokens[key])).json()["items"]
                            if r["entity_id"] == "E4")["shared_with"] for key in ("corp_b01", "admin")}
        assert shared == {"corp_b01": [], "admin": ["M02"]}, url
