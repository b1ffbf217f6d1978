"""A lead is owned by a manager of its branch and names no other branch's client (audit s43, 2).

E4 is B01's lead (its best row: a supply-chain row of anchor E1, manager M01). Its referral row is
B02's: the introducer is E2, B02's credit client of manager M02 (赵经理). The referrer rule must not
hand the lead to M02 (`check_manager` would refuse M02 on a B01 lead, and M02 cannot even see the
row): the next rule, the anchor's manager M01, owns it. A B01 viewer reads that a client of another
branch can introduce it, without the client or its manager; a viewer of every branch reads both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import auth, served_with_prospects

INTRODUCER = {"template": "referral.introducer.credit.interlock",
              "params": {"referrer": "城西贸易有限公司", "referrer_id": "E2", "prospect": "华东精工配件有限公司",
                         "via": "李四", "via_id": "P2", "manager": "赵经理", "roles_referrer_en": "a director",
                         "roles_referrer_zh": "董事", "roles_prospect_en": "a director", "roles_prospect_zh": "董事"}}
OTHER = "另一支行的客户可引荐该企业"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, api_settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    def edit(rows: pd.DataFrame) -> None:
        at = (rows["prospect_id"] == "E4") & (rows["family"] == "referral")
        rows.loc[at, ["manager_id", "branch_id"]] = ["M02", "B02"]
        rows.loc[at, "reasons"] = json.dumps([INTRODUCER], ensure_ascii=False)

    yield from served_with_prospects(tmp_path_factory.mktemp("other-referrer") / "store", api_settings, edit,
                                     "a B01 lead a B02 client can introduce", [
        ("corp_b01", "corporate_manager", "B01", "M01"), ("analyst_b01", "analyst", "B01", None),
        ("admin", "admin", None, None)])


def _e4(client: TestClient, token: str, url: str) -> dict:
    r = client.get(url, headers=auth(token))
    assert r.status_code == 200, r.text
    return next(row for row in r.json()["items"] if row["entity_id"] == "E4")


@pytest.mark.parametrize("url", ["/leads?limit=100", "/plan?limit=100"])
@pytest.mark.parametrize("key", ["corp_b01", "analyst_b01"])
def test_a_referrer_of_another_branch_neither_owns_nor_is_named(setup, key, url):
    client, tokens = setup
    row = _e4(client, tokens[key], url)
    assert row["owner"] == "M01" and row["branch_id"] == "B01"
    if url.startswith("/leads"):  # the plan has no owner_source column
        assert row["owner_source"] == "anchor"
    else:
        assert "owner_source" not in row
    text = json.dumps(row, ensure_ascii=False)
    assert "城西贸易" not in text and "赵经理" not in text and "M02" not in text
    assert any(OTHER in r for r in row["reasons"])


def test_a_viewer_of_every_branch_reads_the_referrer(setup):
    client, tokens = setup
    row = _e4(client, tokens["admin"], "/leads?limit=100")
    assert row["owner"] == "M01"  # the owner rule is the same for every viewer
    assert any("城西贸易有限公司（赵经理的授信客户）" in r for r in row["reasons"])
    assert not any(OTHER in r for r in row["reasons"])
