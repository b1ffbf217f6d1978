"""Branch scope inside the customer 360 view and the retail manager's view: a manager never reaches
another branch's links, lead work or clients through an entity both branches can open.

The two-branch store of tests/api/conftest.py, plus what the audit found leaking: the external
supplier (no branch, open to both) is paid and drawn a bill by B01's client E1 and paid by B02's
client E2; B01's corporate manager works it as a lead with notes; a B01 retail client (P3) holds a
role at B02's client E2. The supplier also leads to prospects of both branches and lies on the
paths of both branches' prospects, B01's scoring above every one of B02's (`_around_the_supplier`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.auth import User, add_token
from api.main import create_app
from api.masking import Viewer
from api.routers.rhythm import _visible_prospects
from graph.networkx_store import NetworkxStore
from leads.board import ledger, record_disposition
from leads.customer import MAX_PER_KIND, customer_360
from scoring.run import rank
from tests.api.conftest import _prospect, auth, build_store

SUPPLIER = "ext:0123456789ab"  # no branch: both branches' managers may open it
B01_NOTE = "B01内部：华东精工三月将授信转至工行"
B01_DISPOSITION_NOTE = "CFO wants a 5M factoring line at 3.1%"
B02_NOTE = "城西支行：已电话联系"
B01_BUYERS = [f"X{n:02d}" for n in range(1, MAX_PER_KIND * 2 + 3)]  # more than the view's cut, B01's
SPECS = {"cm1": ("corporate_manager", "B01", "M01"), "cm2": ("corporate_manager", "B02", "M02"),
         "rm1": ("retail_manager", "B01", "M03"), "rm2": ("retail_manager", "B02", "M04"),
         "admin": ("admin", None, None)}


def _around_the_supplier() -> pd.DataFrame:
    """Rows the supplier leads to (as their anchor or employer) and rows reached through it (on
    their path): every B01 row scores above every B02 row, so a cut over both branches' rows
    keeps only B01's."""
    to = {"anchor_id": SUPPLIER}
    rows = [_prospect("supply_chain", "downstream", pid, f"东城买家{pid}", 99 - n, "B01", path=[SUPPLIER, pid], **to)
            for n, pid in enumerate(B01_BUYERS)]
    rows += [
        _prospect("supply_chain", "downstream", "Y1", "西城买家一", 40, "B02", path=[SUPPLIER, "Y1"], manager_id="M02", **to),
        _prospect("supply_chain", "downstream", "Y2", "西城买家二", 35, "B02", path=[SUPPLIER, "Y2"], manager_id="M02", **to),
        # outflow of an enterprise (B02's corporate manager works it) and of a person (the retail side's)
        _prospect("retail_linkage", "outflow", "E2", "城西贸易有限公司", 30, "B02", path=[SUPPLIER, "E2"],
                  manager_id="M02", **to),
        _prospect("retail_linkage", "outflow", "P2", "李四", 25, "B02", path=[SUPPLIER, "P2"], manager_id="M04", **to),
        _prospect("retail_linkage", "payroll", "P2", "李四", 20, "B02", path=[SUPPLIER, "P2"], manager_id="M04",
                  employer_id=SUPPLIER),
        _prospect("retail_linkage", "payroll", "P1", "张三丰", 10, "B01", path=[SUPPLIER, "P1"], manager_id="M03",
                  employer_id=SUPPLIER),
    ]
    rows += [_prospect("supply_chain", "upstream", f"Z{n}", f"东城二级供应商{n}", 90 - n, "B01", anchor_id="E1",
                       path=["E1", SUPPLIER, f"Z{n}"]) for n in range(1, 4)]
    rows.append(_prospect("supply_chain", "upstream", "W1", "西城二级供应商", 15, "B02", anchor_id="E2",
                          path=["E2", SUPPLIER, "W1"], manager_id="M02"))
    return rank(rows)


def _store(root: Path) -> NetworkxStore:
    store = build_store(root)
    edges = store.read("edges")
    b01 = (edges["src"] == "E1") & (edges["dst"] == SUPPLIER)
    edges.loc[b01, ["first_on", "last_on"]] = ["2024-01-02", "2024-06-30"]
    extra = pd.DataFrame([
        {"src": "E2", "dst": SUPPLIER, "kind": "PAYS", "amount": 1_100_000.0, "count": 2,
         "first_on": "2025-01-10", "last_on": "2025-02-10"},
        {"src": "E1", "dst": SUPPLIER, "kind": "BILL", "amount": 2_600_000.0, "count": 1,
         "first_on": "2024-02-12", "last_on": "2024-08-21"},
    ])
    persons = store.read("persons")
    persons["manager_id"] = persons["branch_id"].map({"B01": "M03", "B02": "M04"})
    roles = pd.DataFrame([{"person_id": "P3", "enterprise_id": "E1", "role": "legal_rep", "share_pct": None},
                          {"person_id": "P3", "enterprise_id": "E2", "role": "shareholder", "share_pct": 30.0}])
    prospects = store.read("prospects")  # the supplier is also B02's lead: E2 pays it
    b02 = prospects[prospects["prospect_id"] == SUPPLIER].assign(kind="upstream", branch_id="B02", anchor_id="E2",
                                                                 manager_id="M02", rank=2)
    store.write({"edges": pd.concat([edges, extra], ignore_index=True), "persons": persons, "roles": roles,
                 "prospects": pd.concat([prospects, b02, _around_the_supplier()], ignore_index=True)},
                note="two branches around one supplier")
    return store


@pytest.fixture(scope="module")
def scoped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], NetworkxStore]]:
    store = _store(tmp_path_factory.mktemp("scope360") / "store")
    tokens = {name: add_token(store, name, role, branch=branch, manager=manager)
              for name, (role, branch, manager) in SPECS.items()}
    with TestClient(create_app(store.root)) as client:
        yield client, tokens, store


def _relation(view: dict[str, Any], kind: str, direction: str) -> dict[str, Any]:
    return next(r for r in view["relations"] if (r["kind"], r["direction"]) == (kind, direction))


def test_a_relation_sums_only_the_links_in_scope_and_counts_the_rest(scoped) -> None:
    client, tokens, _ = scoped
    r = client.get(f"/entities/{SUPPLIER}/360", headers=auth(tokens["cm2"]))
    assert r.status_code == 200, r.text
    pays = _relation(r.json(), "PAYS", "in")
    assert [i["other_id"] for i in pays["items"]] == ["E2"]
    assert (pays["count"], pays["amount"], pays["first_on"], pays["last_on"]) == (1, 1_100_000.0, "2025-01-10",
                                                                                   "2025-02-10")
    assert pays["hidden"] == 1 and pays["hidden_note"] == "1 条关系不在您的权限范围内"
    bill = _relation(r.json(), "BILL", "in")  # every link of the kind hidden: a count, nothing else
    assert bill["items"] == [] and bill["count"] == 0 and not bill["amount"] and bill["hidden"] == 1
    assert bill["first_on"] is None and bill["last_on"] is None
    for leaked in ("E1", "华东精工机械", "1900000", "3300000", "2600000", "2024-01-02", "2024-06-30", "2024-08-21"):
        assert leaked not in r.text, leaked
    whole = _relation(client.get(f"/entities/{SUPPLIER}/360", headers=auth(tokens["admin"])).json(), "PAYS", "in")
    assert (whole["count"], whole["amount"], whole["hidden"], whole["hidden_note"]) == (2, 1_900_000.0, 0, None)


def test_another_branchs_owner_dispositions_and_notes_are_left_out(scoped) -> None:
    client, tokens, store = scoped
    record_disposition(store, SUPPLIER, "meeting", by="cm1", owner="M01", note=B01_DISPOSITION_NOTE)
    for token, text in ((tokens["cm1"], B01_NOTE), (tokens["cm2"], B02_NOTE)):
        assert client.post(f"/entities/{SUPPLIER}/notes", json={"text": text}, headers=auth(token)).status_code == 200
    with sqlite3.connect(Path(store.state_dir) / "notes.sqlite") as db:  # kept before notes had a branch
        db.executemany("INSERT INTO notes(entity_id, text, tags, recorded_by, recorded_at) VALUES (?, ?, '', ?, ?)",
                       [(SUPPLIER, "旧备注甲", "cm1", "2024-05-01"), (SUPPLIER, "旧备注乙", "gone", "2024-05-02"),
                        (SUPPLIER, "旧备注丙", "cm2", "2024-05-03")])
    r = client.get(f"/entities/{SUPPLIER}/360", headers=auth(tokens["cm2"]))
    view = r.json()
    assert view["owner"] is None and view["service"]["dispositions"] == []
    assert [n["text"] for n in view["service"]["notes"]] == [B02_NOTE, "旧备注丙"]
    assert view["service"]["hidden"] == 4 and view["service"]["hidden_note"] == "4 条记录不在您的权限范围内"
    for leaked in ("M01", "cm1", B01_NOTE, B01_DISPOSITION_NOTE, "旧备注甲", "旧备注乙", "meeting"):
        assert leaked not in r.text, leaked
    page = client.get(f"/viz/customer/{SUPPLIER}", headers=auth(tokens["cm2"])).text
    assert B02_NOTE in page and "4 条记录不在您的权限范围内" in page and "1 条关系不在您的权限范围内" in page
    for leaked in (B01_NOTE, B01_DISPOSITION_NOTE, "旧备注甲", "3,300,000", "1,900,000", "2,600,000"):
        assert leaked not in page, leaked
    mine = client.get(f"/entities/{SUPPLIER}/360", headers=auth(tokens["cm1"])).json()
    assert mine["owner"] == "M01" and [d["note"] for d in mine["service"]["dispositions"]] == [B01_DISPOSITION_NOTE]
    assert [n["text"] for n in mine["service"]["notes"]] == [B01_NOTE, "旧备注甲"] and mine["service"]["hidden"] == 3
    every = client.get(f"/entities/{SUPPLIER}/360", headers=auth(tokens["admin"])).json()["service"]
    assert len(every["notes"]) == 5 and every["hidden"] == 0 and every["hidden_note"] is None


def test_a_lead_another_branch_works_shows_only_that_it_does(scoped) -> None:
    client, tokens, store = scoped
    if SUPPLIER not in ledger(store).claims():  # B01's claim (the test above made one when it ran)
        record_disposition(store, SUPPLIER, "contacted", by="cm1", owner="M01")
    view = client.get(f"/entities/{SUPPLIER}/360", headers=auth(tokens["admin"])).json()
    assert view["owner"] == "M01" and view["leads"] and all(row["status"] != "new" for row in view["leads"])
    b02 = client.get(f"/entities/{SUPPLIER}/360", headers=auth(tokens["cm2"])).json()
    assert b02["owner"] is None and b02["leads"] and all(row["status"] == "other_branch" for row in b02["leads"])
    page = client.get(f"/viz/customer/{SUPPLIER}", headers=auth(tokens["cm2"])).text
    assert "其他支行跟进中" in page and "other_branch" not in page


def test_the_retail_view_leaves_out_another_branchs_enterprise_but_keeps_the_client(scoped) -> None:
    client, tokens, _ = scoped
    r = client.get("/retail/view/M03", headers=auth(tokens["rm1"]))
    assert r.status_code == 200, r.text
    rows = [i for i in r.json()["items"] if i["person_id"] == "P3"]
    own = next(i for i in rows if i["enterprise_id"] == "E1")
    assert own["corporate_manager_id"] == "M01" and own["corporate_manager_name"] == "王经理"
    other = [i for i in rows if i["enterprise_id"] != "E1"]
    assert len(other) == 1 and other[0]["enterprise_restricted"] is True and other[0]["person_name"] == "欧阳娜娜"
    assert {k: other[0][k] for k in ("enterprise_id", "enterprise_name", "enterprise_is_client",
                                     "corporate_manager_id", "corporate_manager_name", "opportunity")} == dict.fromkeys(
        ("enterprise_id", "enterprise_name", "enterprise_is_client", "corporate_manager_id", "corporate_manager_name",
         "opportunity"))
    for leaked in ("E2", "城西贸易", "M02", "赵经理"):
        assert leaked not in r.text, leaked
    assert own["enterprise_restricted"] is False


def _ids(block: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i["entity_id"], i["kind"]) for i in block["items"]]


def test_the_prospects_it_leads_to_are_the_viewers_whole_answer_and_count_no_other_branch(scoped) -> None:
    """B01's 22 rows scored above all of B02's: the view cut both branches' rows at its 20 best and
    then dropped B01's, so B02's manager saw none of its own while `total` counted B01's."""
    client, tokens, _ = scoped
    view = lambda who: client.get(f"/entities/{SUPPLIER}/360", headers=auth(tokens[who])).json()  # noqa: E731
    b02 = view("cm2")  # the corporate side of B02: its supply-chain rows and an enterprise's outflow
    assert _ids(b02["leads_to"]) == [("Y1", "downstream"), ("Y2", "downstream"), ("E2", "outflow")]
    assert b02["leads_to"]["total"] == 3
    retail = view("rm2")  # the retail side of B02: the retail rows, a person's outflow and payroll too
    assert _ids(retail["leads_to"]) == [("E2", "outflow"), ("P2", "outflow"), ("P2", "payroll")]
    assert retail["leads_to"]["total"] == 3
    assert _ids(view("rm1")["leads_to"]) == [("P1", "payroll")] and view("rm1")["leads_to"]["total"] == 1
    b01 = view("cm1")  # B01's corporate side: not B01's payroll row
    assert _ids(b01["leads_to"]) == [(pid, "downstream") for pid in B01_BUYERS[:MAX_PER_KIND * 2]]
    assert b01["leads_to"]["total"] == len(B01_BUYERS)
    everyone = view("admin")  # every branch and family: the best 20 of all, counted whole
    assert _ids(everyone["leads_to"]) == _ids(b01["leads_to"])
    assert everyone["leads_to"]["total"] == len(B01_BUYERS) + 6


def test_the_prospects_reached_through_it_count_only_the_viewers(scoped) -> None:
    client, tokens, _ = scoped
    b02 = client.get(f"/entities/{SUPPLIER}/360", headers=auth(tokens["cm2"])).json()
    assert _ids(b02["reached_through"]) == [("W1", "upstream")] and b02["reached_through"]["total"] == 1
    assert [(r["entity_id"], r["branch_id"]) for r in b02["leads"]] == [(SUPPLIER, "B02")]
    everyone = client.get(f"/entities/{SUPPLIER}/360", headers=auth(tokens["admin"])).json()
    assert _ids(everyone["reached_through"]) == [("Z1", "upstream"), ("Z2", "upstream"), ("Z3", "upstream"),
                                                 ("W1", "upstream")]
    assert everyone["reached_through"]["total"] == 4 and len(everyone["leads"]) == 2


@pytest.mark.parametrize("who", sorted(SPECS))
def test_the_final_guard_leaves_out_nothing_the_query_let_through(scoped, who: str) -> None:
    """`view_360` builds the view with the viewer's rights in DuckDB; `mask_360`'s row guard (the
    same rule in Python) must then keep every row, or a total would count rows not shown."""
    _, _, store = scoped
    role, branch, manager = SPECS[who]
    viewer = Viewer(store, User(name=who, role=role, branch=branch, manager=manager))
    view = customer_360(store, SUPPLIER, visible=viewer.in_scope, rights=viewer.prospect_rights())
    blocks = [view["leads_to"]["items"], view["reached_through"]["items"], view["leads"]]
    assert any(blocks)
    for block in blocks:
        assert [(r["entity_id"], r["family"], r["kind"]) for r in _visible_prospects(viewer, block)] == [
            (r["entity_id"], r["family"], r["kind"]) for r in block]
