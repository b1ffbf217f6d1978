"""A small hand-made store for the API tests, tokens for every role × branch, and a client.

The store is written straight with `store.write`, and its `prospects` table is built with
`scoring.explain.Prospect` and ranked with `scoring.run.rank`, so these tests depend on no
family's scoring code. Person names are chosen so a leak is easy to spot in any response.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.main import create_app
from api.settings import ApiSettings
from graph.networkx_store import NetworkxStore
from scoring.explain import Evidence, Prospect, Reason
from scoring.run import rank

# Persons whose names must never reach a masking role unmasked.
PERSONS = {
    "P1": {"name": "张三丰", "branch_id": "B01", "phone_masked": "138****5678", "id_hash": "h" * 64},
    "P2": {"name": "李四", "branch_id": "B02", "phone_masked": "139****0001", "id_hash": "i" * 64},
    "P3": {"name": "欧阳娜娜", "branch_id": "B01", "phone_masked": "137****4321", "id_hash": "j" * 64},
}
FORMULA_NAME = "=HYPERLINK(\"http://x\",\"y\")"
TOKEN_SPECS = {  # token key -> (role, branch)
    "admin": ("admin", None),
    "admin_b01": ("admin", "B01"),
    "analyst": ("analyst", None),
    "analyst_b02": ("analyst", "B02"),
    "corporate": ("corporate_manager", None),
    "corporate_b01": ("corporate_manager", "B01"),
    "retail": ("retail_manager", None),
    "retail_b01": ("retail_manager", "B01"),
    "retail_b02": ("retail_manager", "B02"),
}


def _prospect(family: str, kind: str, pid: str, name: str, points: float, branch: str, **kw: Any) -> Prospect:
    reasons = kw.pop("reasons", [Reason(en=f"{name} is a lead", zh=f"{name}是潜在客户")])
    evidence = [Evidence(name="amount_12m", label_en="Amount, 12 months", label_zh="近12个月金额",
                         value=points * 10_000, contribution=points * 0.7),
                Evidence(name="other_bank", label_en="Banks elsewhere", label_zh="他行结算", value="yes",
                         contribution=points * 0.3)]
    return Prospect(family=family, kind=kind, prospect_id=pid, name=name, evidence=evidence, reasons=reasons,
                    path=kw.pop("path", ["E1", pid]), suggested_products=["票据贴现"], branch_id=branch,
                    manager_id=kw.pop("manager_id", "M01"), **kw)


def build_store(root: Path) -> NetworkxStore:
    store = NetworkxStore(root)
    enterprises = pd.DataFrame([
        {"id": "E1", "name": "华东精工机械制造有限公司", "uscc": "91310000MA1FL00011", "is_client": True,
         "is_credit_client": True, "branch_id": "B01", "manager_id": "M01"},
        {"id": "E2", "name": "城西贸易有限公司", "is_client": True, "branch_id": "B02", "manager_id": "M02"},
        {"id": "E4", "name": "华东精工配件有限公司", "is_client": False, "branch_id": "B01"},
        {"id": "ext:0123456789ab", "name": FORMULA_NAME, "is_client": False, "is_external": True},
        {"id": "E5", "name": "康宁大药房连锁有限公司", "is_client": True, "branch_id": "B01"},
    ])
    persons = pd.DataFrame([{"id": pid, "is_retail_client": True, "aum": 45_000.0, "tier": "potential", **p}
                            for pid, p in PERSONS.items()])
    edges = pd.DataFrame([
        {"src": "E1", "dst": "E4", "kind": "PAYS", "amount": 2_500_000.0, "count": 12},
        {"src": "E1", "dst": "ext:0123456789ab", "kind": "PAYS", "amount": 800_000.0, "count": 4},
        {"src": "E2", "dst": "E1", "kind": "BILL", "amount": 300_000.0, "count": 1},
        {"src": "E1", "dst": "P1", "kind": "PAYROLL", "amount": 60_000.0, "count": 12},
        {"src": "P3", "dst": "E1", "kind": "HOLDS_ROLE", "role": "legal_rep"},
        {"src": "P2", "dst": "E2", "kind": "HOLDS_ROLE", "role": "director"},
        {"src": "M01", "dst": "E1", "kind": "MANAGES"},
    ])
    said = [Reason(en="Paid by 张三丰's employer; 欧阳娜娜 is its legal representative",
                   zh="代发单位法定代表人欧阳娜娜，员工张三丰")]
    rows = [
        _prospect("supply_chain", "downstream", "E4", "华东精工配件有限公司", 80, "B01", anchor_id="E1"),
        _prospect("supply_chain", "downstream", "ext:0123456789ab", FORMULA_NAME, 60, "B01", anchor_id="E1"),
        _prospect("supply_chain", "upstream", "E2", "城西贸易有限公司", 50, "B02", anchor_id="E1",
                  manager_id="M02"),
        _prospect("referral", "member", "E4", "华东精工配件有限公司", 40, "B01", association_id="A1"),
        _prospect("ecosystem", "branch_store", "E5", "康宁大药房连锁有限公司", 30, "B01"),
        _prospect("retail_linkage", "payroll", "P1", "张三丰", 70, "B01", employer_id="E1", reasons=said,
                  details={"phone_masked": "138****5678", "note": "张三丰 near 50k"}, manager_id="M03"),
        _prospect("retail_linkage", "executive", "P3", "欧阳娜娜", 65, "B01", manager_id="M03"),
        _prospect("retail_linkage", "executive", "P2", "李四", 55, "B02", manager_id="M04"),
        _prospect("retail_linkage", "corporate_from_retail", "E4", "华东精工配件有限公司", 45, "B01"),
    ]
    store.write({
        "enterprises": enterprises, "persons": persons, "edges": edges,
        "branches": pd.DataFrame({"id": ["B01", "B02"], "name": ["城东支行", "城西支行"]}),
        "managers": pd.DataFrame({"id": ["M01", "M02", "M03", "M04"], "name": ["王经理", "赵经理", "钱经理", "孙经理"],
                                  "kind": ["corporate", "corporate", "retail", "retail"],
                                  "branch_id": ["B01", "B02", "B01", "B02"]}),
        "associations": pd.DataFrame({"id": ["A1"], "name": ["保温材料行业协会"], "kind": ["industry_association"]}),
        "prospects": rank(rows),
    }, note="api test fixture")
    return store


@pytest.fixture(scope="session")
def api_store(tmp_path_factory: pytest.TempPathFactory) -> NetworkxStore:
    return build_store(tmp_path_factory.mktemp("api") / "store")


@pytest.fixture(scope="session")
def tokens(api_store: NetworkxStore) -> dict[str, str]:
    return {key: add_token(api_store, key, role, branch=branch) for key, (role, branch) in TOKEN_SPECS.items()}


@pytest.fixture(scope="session")
def ingest_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ingest-root")


@pytest.fixture(scope="session")
def api_settings(ingest_root: Path) -> ApiSettings:
    return ApiSettings(ingest_root=ingest_root, max_upload_bytes=64 * 1024, lang="zh")


@pytest.fixture(scope="session")
def client(api_store: NetworkxStore, tokens: dict[str, str], api_settings: ApiSettings) -> Iterator[TestClient]:
    with TestClient(create_app(api_store.root, api_settings)) as c:
        yield c


def served_with_prospects(root: Path, api_settings: ApiSettings, edit: Callable[[pd.DataFrame], None], note: str,
                          users: list[tuple[str, str, str | None, str | None]]) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The two-branch store (`build_store`) with its prospect rows changed by `edit` (in place) and
    written as a new version, served, with a token per (key, role, branch, manager) of `users`."""
    store = build_store(root)
    rows = store.read("prospects")
    edit(rows)
    store.write({"prospects": rows}, note=note)
    tokens = {key: add_token(store, key, role, branch=branch, manager=manager) for key, role, branch, manager in users}
    with TestClient(create_app(store.root, api_settings)) as c:
        yield c, tokens


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: Any, status: int) -> dict[str, Any]:
    """The one error shape, with the expected status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"ok", "error", "status"}, body
    assert body["ok"] is False and body["status"] == status and body["error"]
    return body


def dumps(response: Any) -> str:
    return response.text if "json" in response.headers.get("content-type", "") else json.dumps(response.text)
