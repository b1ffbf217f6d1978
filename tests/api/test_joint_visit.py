"""A shared lead (#17): the other anchor's manager asks its owner for a joint visit, under the
lead-write rules; the board, its CSV/XLSX export and the CLI show row kind, shared with and the
joint visits asked."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scoring"))
from builders import MemoryStore, StoreBuilder, months  # noqa: E402

from api.auth import add_token  # noqa: E402
from api.main import create_app  # noqa: E402
from graph.networkx_store import NetworkxStore  # noqa: E402
from scoring.run import score_all  # noqa: E402
from scoring.settings import ScoringSettings  # noqa: E402

YEAR = months("2024-01", 12)
SETTINGS = ScoringSettings(lang="zh", as_of="2024-12-31")


def _source() -> MemoryStore:
    """S is paid by A (M1, branch B1) every month and by B (M2, branch B2) for half a year."""
    b = StoreBuilder().firm("A", "甲制造有限公司", client=True, credit=True, manager="M1", branch_id="B1")
    b.firm("B", "乙制造有限公司", client=True, credit=True, manager="M2", branch_id="B2")
    b.firm("S")
    b.monthly("A", "S", 100_000, YEAR, bank="他行")
    b.monthly("B", "S", 90_000, YEAR[6:])
    return b.write(MemoryStore())


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], NetworkxStore]]:
    root = tmp_path_factory.mktemp("joint") / "store"
    store = NetworkxStore(root)
    source = _source()
    store.write({t: source.read(t) for t in ("enterprises", "payments")} | {
        "branches": pd.DataFrame({"id": ["B1", "B2"], "name": ["一支行", "二支行"]}),
        "managers": pd.DataFrame({"id": ["M1", "M2", "M3", "M4"], "name": ["甲经理", "乙经理", "丙经理", "丁经理"],
                                  "kind": ["corporate", "corporate", "corporate", "retail"],
                                  "branch_id": ["B1", "B2", "B1", "B1"]})}, note="test")
    score_all(store, SETTINGS, families=["supply_chain"])
    tokens = {"m1": add_token(store, "m1", "corporate_manager", manager="M1"),
              "m2": add_token(store, "m2", "corporate_manager", manager="M2"),
              "m2_b2": add_token(store, "m2 scoped", "corporate_manager", branch="B2", manager="M2"),
              "m3": add_token(store, "m3", "corporate_manager", manager="M3"),
              "m4": add_token(store, "m4", "retail_manager", manager="M4"),
              "admin": add_token(store, "admin", "admin")}
    with TestClient(create_app(store_path=root)) as client:
        yield client, tokens, store


def _h(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def _row(client: TestClient, tokens: dict[str, str], who: str, eid: str = "S") -> dict:
    items = client.get("/leads?limit=1000", headers=_h(tokens, who)).json()["items"]
    return next(r for r in items if r["entity_id"] == eid)


def test_only_the_other_anchors_manager_may_ask_and_the_owner_sees_it(setup):
    client, tokens, store = setup
    s = _row(client, tokens, "m1")
    assert s["owner"] == "M1" and s["shared_with"] == ["M2"] and s["joint_visits"] == []
    # wrong people are refused, nothing is recorded
    assert client.post("/leads/S/joint-visit", json={}, headers=_h(tokens, "m1")).status_code == 400  # the owner
    assert client.post("/leads/S/joint-visit", json={}, headers=_h(tokens, "m3")).status_code == 400  # not shared
    assert client.post("/leads/S/joint-visit", json={}, headers=_h(tokens, "m4")).status_code == 400  # not shared
    assert client.post("/leads/S/joint-visit", json={}, headers=_h(tokens, "m2_b2")).status_code == 403  # B1 lead
    assert client.post("/leads/S/joint-visit", json={"manager": "M1"}, headers=_h(tokens, "m2")).status_code == 403
    assert client.post("/leads/NOPE/joint-visit", json={}, headers=_h(tokens, "m2")).status_code == 404
    assert _row(client, tokens, "m1")["joint_visits"] == []
    # the other anchor's manager asks; asking twice keeps one request
    r = client.post("/leads/S/joint-visit", json={"note": "一起去"}, headers=_h(tokens, "m2"))
    assert r.status_code == 200, r.text
    assert r.json()["manager"] == "M2" and r.json()["owner"] == "M1" and r.json()["note"] == "一起去"
    assert client.post("/leads/S/joint-visit", json={}, headers=_h(tokens, "m2")).status_code == 200
    assert _row(client, tokens, "m1")["joint_visits"] == ["M2"]
    from leads.board import ledger

    assert [(v["manager"], v["requested_by"]) for v in ledger(store).joint_visits("S")] == [("M2", "m2")]
    assert ledger(store).history("S") == []  # not a disposition: precision and refit do not see it


def test_board_export_has_row_kind_shared_with_and_joint_visits(setup):
    client, tokens, _ = setup
    client.post("/leads/S/joint-visit", json={}, headers=_h(tokens, "m2"))
    r = client.get("/leads?format=csv&lang=zh", headers=_h(tokens, "admin"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header, rows = table[0], {row[1]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    assert {"线索形式", "共享客户经理", "申请联合走访"} <= set(header)
    assert rows["S"]["线索形式"] == "单户线索" and rows["S"]["共享客户经理"] == "M2" and rows["S"]["申请联合走访"] == "M2"
    assert rows["S"]["类别"] == "供应链上下游"  # words, not codes, under Chinese headers
    r = client.get("/leads?format=xlsx&lang=en", headers=_h(tokens, "admin"))
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in sheet[1]]
    assert {"Row kind", "Shared with", "Joint visit asked by"} <= set(header)
    s = next(dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)
             if row[1].value == "S")
    assert (s["Row kind"], s["Shared with"], s["Joint visit asked by"], s["Family"]) == ("lead", "M2", "M2",
                                                                                       "Supply chain")


def test_cli_joint_visit_and_board_columns(setup, capsys):
    from api.cli import main

    _, _, store = setup
    assert main(["leads", "joint-visit", "S", "--manager", "M3", "--store", str(store.root)]) == 2
    assert "is not shared with M3" in capsys.readouterr().err
    assert main(["leads", "joint-visit", "S", "--manager", "M99", "--store", str(store.root)]) == 2
    assert "no manager with id 'M99'" in capsys.readouterr().err
    assert main(["leads", "joint-visit", "S", "--manager", "M2", "--store", str(store.root)]) == 0
    assert "M2 asked M1 for a joint visit" in capsys.readouterr().out
    assert main(["leads", "--format", "csv", "--store", str(store.root)]) == 0
    out = capsys.readouterr().out
    header = next(csv.reader(io.StringIO(out)))
    assert "线索形式" in header and "共享客户经理" in header
    assert main(["leads", "--store", str(store.root)]) == 0
    table = capsys.readouterr().out
    assert "共享客户经理" in table and "申请联合走访" in table  # shared with M2, who asked for a joint visit
    assert table.count("M2") >= 2



def test_a_branch_token_is_not_told_which_other_branch_manager_asked(setup):
    # the owner's branch-limited token reads that M2 (of B2) asked for a joint visit no more than
    # it reads M2 among the shared-with managers; a token of every branch reads both
    client, tokens, store = setup
    assert client.post("/leads/S/joint-visit", json={}, headers=_h(tokens, "m2")).status_code == 200
    scoped = {"m1_b1": add_token(store, "m1 scoped", "corporate_manager", branch="B1", manager="M1")}
    row = _row(client, scoped, "m1_b1")
    assert row["owner"] == "M1" and row["shared_with"] == [] and row["joint_visits"] == []
    assert _row(client, tokens, "m1")["joint_visits"] == ["M2"]
