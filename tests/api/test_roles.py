"""The role × branch matrix: which families each role lists, which rows a branch token sees."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from api.auth import User
from api.masking import POLICIES, Viewer
from graph.schema import FAMILIES, KINDS_BY_FAMILY
from tests.api.conftest import TOKEN_SPECS, assert_error, auth

# The product's rule (issue 7 and docs/api.md), written out independently of api/masking.py.
EXPECTED_FAMILIES = {
    "admin": {f: None for f in FAMILIES},
    "analyst": {f: None for f in FAMILIES},
    "corporate_manager": {"supply_chain": None, "referral": None, "ecosystem": None,
                          "retail_linkage": {"corporate_from_retail"}},
    "retail_manager": {"retail_linkage": None},
}


def test_policy_table_matches_the_rule():
    for role, families in EXPECTED_FAMILIES.items():
        got = {f: (set(k) if k else None) for f, k in POLICIES[role].families.items()}
        assert got == families, role


@pytest.mark.parametrize("branch", [None, "B01"])
@pytest.mark.parametrize("role", sorted(POLICIES))
def test_prospect_rights_in_duckdb_keep_what_in_scope_and_may_work_keep(role, branch):
    """`Viewer.prospect_rights` (the conditions the 360 view counts and cuts its prospects under)
    keeps exactly the rows `Viewer.in_scope` and `Viewer.may_work` keep: every family and kind, a
    prospect that is an enterprise or not, a row of either branch or of none."""
    viewer = Viewer(None, User(name="t", role=role, branch=branch))  # no store: rights only
    rows = [(family, kind, is_enterprise, row_branch) for family in FAMILIES for kind in KINDS_BY_FAMILY[family]
            for is_enterprise in (True, False) for row_branch in (None, "", "B01", "B02")]
    table = pa.table({name: [r[at] for r in rows] for at, name in
                      enumerate(("family", "kind", "is_enterprise", "branch_id"))}).append_column(
        "row_pos", pa.array(range(len(rows)), pa.int64()))
    where, params, _ = viewer.prospect_rights().sql()
    con = duckdb.connect()
    con.register("prospects", table)
    kept = [p for p, in con.execute(f"SELECT row_pos FROM prospects WHERE {' AND '.join(where) or 'true'} "
                                    "ORDER BY row_pos", params).fetchall()]
    assert kept == [at for at, (family, kind, is_enterprise, row_branch) in enumerate(rows)
                    if viewer.in_scope(row_branch)
                    and viewer.may_work(family, kind, "Enterprise" if is_enterprise else "Person")]


def _fixture_rows(api_store, family, kinds, branch):
    df = api_store.read("prospects")
    df = df[df["family"] == family]
    if kinds:
        df = df[df["kind"].isin(kinds)]
    if branch:
        df = df[df["branch_id"] == branch]
    return set(df["prospect_id"] + "/" + df["kind"])


@pytest.mark.parametrize("token_key", sorted(TOKEN_SPECS))
@pytest.mark.parametrize("family", FAMILIES)
def test_family_rights_and_branch_rows(client, tokens, api_store, token_key, family):
    role, branch = TOKEN_SPECS[token_key]
    r = client.get(f"/prospects/{family}?limit=1000", headers=auth(tokens[token_key]))
    if family not in EXPECTED_FAMILIES[role]:
        assert_error(r, 403)
        return
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    got = {f"{i['prospect_id']}/{i['kind']}" for i in items}
    assert got == _fixture_rows(api_store, family, EXPECTED_FAMILIES[role][family], branch)
    if branch:
        assert all(i["branch_id"] == branch for i in items)
    assert r.json()["total"] == len(items)


def test_branch_token_cannot_ask_for_another_branch(client, tokens):
    assert_error(client.get("/prospects/supply_chain?branch=B02", headers=auth(tokens["corporate_b01"])), 403)
    ok = client.get("/prospects/supply_chain?branch=B01", headers=auth(tokens["corporate_b01"]))
    assert ok.status_code == 200 and ok.json()["items"]


def test_corporate_manager_cannot_ask_for_person_kinds(client, tokens):
    assert_error(client.get("/prospects/retail_linkage?kind=payroll", headers=auth(tokens["corporate"])), 403)
    ok = client.get("/prospects/retail_linkage?kind=corporate_from_retail", headers=auth(tokens["corporate"]))
    assert [i["prospect_id"] for i in ok.json()["items"]] == ["E4"]


@pytest.mark.parametrize("token_key", ["admin_b01", "corporate_b01", "retail_b01"])
def test_branch_token_and_entities_of_other_branches(client, tokens, token_key):
    h = auth(tokens[token_key])
    assert_error(client.get("/entities/E2", headers=h), 403)
    assert_error(client.get("/entities/P2", headers=h), 403)
    assert_error(client.get("/entities/E2/neighbors", headers=h), 403)
    assert client.get("/entities/E1", headers=h).status_code == 200
    assert client.get("/entities/ext:0123456789ab", headers=h).status_code == 200  # no branch: shared
    found = {i["id"] for i in client.get("/entities?q=有限公司&limit=50", headers=h).json()["items"]}
    assert "E1" in found and "E2" not in found
    # E2 (another branch) is no longer shown as a neighbour of E1: its link is counted only (#19)
    body = client.get("/entities/E1/neighbors", headers=h).json()
    nodes = {n["id"]: n for n in body["nodes"]}
    assert "E2" not in nodes and nodes["E1"]["restricted"] is False and body["hidden_edges"] == 1


def test_person_details_by_role(client, tokens):
    def person(key: str, pid: str) -> dict:
        r = client.get(f"/entities/{pid}", headers=auth(tokens[key]))
        assert r.status_code == 200, r.text
        return r.json()

    admin = person("admin", "P1")
    assert admin["name"] == "张三丰" and admin["attributes"]["id_hash"] == "h" * 64
    retail = person("retail_b01", "P1")
    assert retail["name"] == "张三丰" and retail["masked"] is False
    assert retail["attributes"]["phone_masked"] == "138****5678" and "id_hash" not in retail["attributes"]
    assert person("retail", "P2")["name"] == "李四"  # no branch scope: every person
    for key in ("analyst", "corporate", "corporate_b01"):
        masked = person(key, "P1")
        assert masked["name"] == "张*丰" and masked["masked"] is True
        assert not {"phone_masked", "id_hash", "aum"} & set(masked["attributes"])
    assert person("retail", "E1")["name"] == "华东精工机械制造有限公司"  # enterprises are not masked
