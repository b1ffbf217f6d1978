"""Branch scope inside the customer 360 view and the retail manager's view: a manager never reaches
another branch's links, lead work or clients through an entity both branches can open.

The two-branch store of tests/api/conftest.py, plus what the audit found leaking: the external
supplier (no branch, open to both) is paid and drawn a bill by B01's client E1 and paid by B02's
client E2; B01's corporate manager works it as a lead with notes; a B01 retail client (P3) holds a
role at B02's client E2. The supplier also leads to prospects of both branches and lies on the
paths of both branches' prospects, B01's scoring above every one of B02's (`_around_the_supplier`).
Away from the supplier, B01's client E1 anchors two supply-chain rows of no branch, one stored as
NULL and one as '' (`SHARED`), and a buyer of both branches' clients whose B02 link scores above its
B01 one (`_shared_and_split`).
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
from scoring.stored import ProspectRights
from tests.api.conftest import _prospect, assert_error, auth, build_store
from viz.landing import landing_charts, manager_names
from viz.style import text as words

SUPPLIER = "ext:0123456789ab"  # no branch: both branches' managers may open it
B01_NOTE = "B01内部：华东精工三月将授信转至工行"
B01_DISPOSITION_NOTE = "CFO wants a 5M factoring line at 3.1%"
B02_NOTE = "城西支行：已电话联系"
B01_BUYERS = [f"X{n:02d}" for n in range(1, MAX_PER_KIND * 2 + 3)]  # more than the view's cut, B01's
SPECS = {"cm1": ("corporate_manager", "B01", "M01"), "cm2": ("corporate_manager", "B02", "M02"),
         "rm1": ("retail_manager", "B01", "M03"), "rm2": ("retail_manager", "B02", "M04"),
         "admin": ("admin", None, None), "analyst": ("analyst", None, None)}
SHARED = {"SH0": None, "SH1": ""}  # rows of no branch: NULL, and '' (an older file, another backend)
SPLIT = "S9"  # a buyer of B02's client E2 (scored 95) and of B01's client E1 (scored 45)


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


def _shared_and_split() -> pd.DataFrame:
    """Supply-chain rows of E1 that are no branch's (`SHARED`), and `SPLIT`'s two links."""
    rows = [_prospect("supply_chain", "downstream", pid, f"共享买家{pid}", 33 - n, branch, anchor_id="E1")
            for n, (pid, branch) in enumerate(SHARED.items())]
    rows += [_prospect("supply_chain", "downstream", SPLIT, "两行共同买家", 95, "B02", anchor_id="E2",
                       path=["E2", SPLIT], manager_id="M02"),
             _prospect("supply_chain", "downstream", SPLIT, "两行共同买家", 45, "B01", anchor_id="E1")]
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
                 "prospects": pd.concat([prospects, b02, _around_the_supplier(), _shared_and_split()],
                                        ignore_index=True)},
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


def _branch(value: Any) -> str | None:
    return None if pd.isna(value) or value == "" else str(value)  # no branch: shared


def _supply_rows(store: NetworkxStore, branch: str | None, anchor: str | None = None) -> set[tuple[Any, ...]]:
    """(prospect, kind, branch, anchor, score) of the supply-chain rows a token of `branch` may see,
    written out apart from the product: its branch's rows and those of no branch (None or ''); with
    `anchor`, that anchor's rows, else each prospect of a kind once, by its best-scored row."""
    rows = store.read("prospects")
    rows = rows[rows["family"] == "supply_chain"]
    if branch is not None:
        rows = rows[[_branch(b) in (None, branch) for b in rows["branch_id"]]]
    if anchor is not None:
        rows = rows[rows["anchor_id"] == anchor]
    else:
        rows = rows.sort_values("score", ascending=False, kind="stable").drop_duplicates(["kind", "prospect_id"])
    return {(r["prospect_id"], r["kind"], _branch(r["branch_id"]), r["anchor_id"], r["score"])
            for r in rows.to_dict("records")}


def _listed(client: TestClient, token: str, query: str = "") -> tuple[set[tuple[Any, ...]], int, list[str]]:
    r = client.get(f"/prospects/supply_chain?limit=1000{query}", headers=auth(token))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    got = {(i["prospect_id"], i["kind"], _branch(i["branch_id"]), i["anchor_id"], i["score"]) for i in items}
    assert len(got) == len(items)
    return got, r.json()["total"], [i["prospect_id"] for i in items]


def test_a_branch_tokens_prospect_list_is_its_rows_and_the_shared_ones_counted_and_paged(scoped) -> None:
    """A B01 token listed `branch_id = 'B01'` only: the rows of no branch (NULL or '') were left
    out of its page and its total, and a buyer whose best link is B02's was not listed at all."""
    client, tokens, store = scoped
    stored = store.read("prospects").set_index("prospect_id")["branch_id"]
    assert stored["SH1"] == "" and pd.isna(stored["SH0"])  # both spellings of "no branch" are on file
    for who in ("cm1", "cm2", "admin"):
        got, total, _ = _listed(client, tokens[who])
        assert got == _supply_rows(store, SPECS[who][1]) and total == len(got), who
    mine, total, order = _listed(client, tokens["cm1"])
    assert {p for p, *_ in mine} >= set(SHARED) and {b for _, _, b, *_ in mine} == {"B01", None}
    assert (SPLIT, "downstream", "B01", "E1", 45.0) in mine  # its best link among the rows B01 may see
    theirs, _, _ = _listed(client, tokens["cm2"])
    assert {p for p, *_ in theirs} >= set(SHARED) and {b for _, _, b, *_ in theirs} == {"B02", None}
    assert (SPLIT, "downstream", "B02", "E2", 95.0) in theirs
    page = client.get("/prospects/supply_chain?limit=3&offset=2", headers=auth(tokens["cm1"])).json()
    assert page["total"] == total and [i["prospect_id"] for i in page["items"]] == order[2:5]
    # `?branch=` keeps exactly that branch's rows for whoever asks: it narrows a token, never widens it
    exact, total, _ = _listed(client, tokens["cm1"], "&branch=B01")
    assert exact and exact <= mine and {b for _, _, b, *_ in exact} == {"B01"} and total == len(exact)
    everyone, _, _ = _listed(client, tokens["admin"], "&branch=B01")
    assert everyone and {b for _, _, b, *_ in everyone} == {"B01"}
    assert_error(client.get("/prospects/supply_chain?branch=B02", headers=auth(tokens["cm1"])), 403)


def test_an_anchors_rows_for_a_branch_token_hold_the_shared_ones(scoped) -> None:
    """`?anchor=` pre-selects the rows by the anchor index: a B01 token's E1 rows are B01's and
    the shared ones, never B02's upstream E2 anchored there; B02's token gets E2 and the shared."""
    client, tokens, store = scoped
    for who in ("cm1", "cm2", "admin"):
        got, total, _ = _listed(client, tokens[who], "&anchor=E1")
        assert got == _supply_rows(store, SPECS[who][1], anchor="E1") and total == len(got), who
        assert {p for p, *_ in got} >= set(SHARED), who
    b01, _, _ = _listed(client, tokens["cm1"], "&anchor=E1")
    assert "B02" not in {b for _, _, b, *_ in b01} and ("E2", "upstream") not in {(p, k) for p, k, *_ in b01}


def test_the_landing_charts_count_a_row_of_branch_empty_as_shared_as_they_do_null(tmp_path) -> None:
    """The charts took `branch_id IS NULL` for shared but not '': a B01 page left the '' row out."""
    store = _store(tmp_path / "store")
    families = ["supply_chain", "referral", "retail_linkage"]

    def charts(branch: str | None = None) -> list[tuple[str, str]]:
        rights = ProspectRights(branch=branch)
        return [(c, str(svg)) for c, svg in landing_charts(store, families, "zh", rights=rights, payroll=False)]

    rows = store.read("prospects")
    assert (rows["branch_id"] == "").any() and rows["branch_id"].isna().any()
    with_empty = {b: charts(b) for b in ("B01", "B02")}
    store.write({"prospects": rows.assign(branch_id=rows["branch_id"].where(rows["branch_id"] != ""))})
    assert not (store.read("prospects")["branch_id"] == "").any()  # now NULL
    assert {b: charts(b) for b in ("B01", "B02")} == with_empty
    for branch in ("B01", "B02"):  # a branch's charts: those of a store of its rows and the shared ones only
        store.write({"prospects": rows[[_branch(b) in (None, branch) for b in rows["branch_id"]]]})
        assert charts() == with_empty[branch], branch


def test_the_landing_histogram_counts_the_rows_prospects_lists_for_the_role(scoped) -> None:
    """The charts took the families only: a corporate manager's score histogram counted every
    retail_linkage kind (B01's payroll row, the persons' outflow), which /prospects never lists to it."""
    client, tokens, store = scoped
    for who in ("cm1", "rm1", "admin"):
        role, branch, manager = SPECS[who]
        viewer = Viewer(store, User(name=who, role=role, branch=branch, manager=manager))
        svg = str(dict(landing_charts(store, viewer.families, "zh", rights=viewer.prospect_rights(),
                                      payroll=False))["评分分布"])
        # (retail_linkage: one row per prospect and kind here; a supply-chain prospect of two anchors is
        # two rows in the histogram and listed once by /prospects, by its best link)
        listed = client.get("/prospects/retail_linkage?limit=1", headers=auth(tokens[who])).json()["total"]
        assert f"{words('retail_linkage', 'zh')} ({listed})" in svg, who
    cm1 = client.get("/prospects/retail_linkage?limit=1", headers=auth(tokens["cm1"])).json()["total"]
    rm1 = client.get("/prospects/retail_linkage?limit=1", headers=auth(tokens["rm1"])).json()["total"]
    assert cm1 < rm1  # the role's kinds matter here: B01's payroll row is the retail side's


def test_each_branchs_link_orders_are_its_rows_and_the_shared_ones_and_serve_warms_them(scoped) -> None:
    """The overall list's best links, numbered once per version over what each branch may see:
    `SPLIT`'s B01 link is first for B01 (its B02 link, better scored, is first only overall), a row
    out of the scope has none; `serve` builds them for the store's branches while it warms."""
    from scoring.stored import _INDEXES, link_orders, prospects_arrow, warm_prospect_indexes

    _, _, store = scoped
    source, table = prospects_arrow(store)
    warm_prospect_indexes(store)
    rows = table.select(["prospect_id", "branch_id"]).to_pandas()
    split = {_branch(b): at for at, (p, b) in enumerate(zip(rows["prospect_id"], rows["branch_id"], strict=True)) if p == SPLIT}
    for scope, first in ((None, "B02"), ("B01", "B01"), ("B02", "B02")):
        orders = _INDEXES.get((source, table.num_rows, "link_order", scope))
        assert orders is not None and orders is link_orders(source, table, scope), scope  # warmed, then kept
        assert orders[split[first]] == 1, scope
        seen = [_branch(b) in (None, scope) or scope is None for b in rows["branch_id"]]
        assert ((orders > 0) == seen).all(), scope


def test_the_supply_chain_picture_of_a_shared_supplier_draws_only_the_viewers_rows(scoped) -> None:
    """The picture's chain is listed by `load_prospects`, which read the prospects file past the
    scoped store: B01's picture of the supplier drew B02's buyers (ids, tiers) and B02's drew B01's."""
    client, tokens, _ = scoped
    page = {who: client.get(f"/viz/supply-chain/{SUPPLIER}", headers=auth(tokens[who])).text
            for who in ("cm1", "cm2", "admin")}
    b01, b02 = f'"{B01_BUYERS[0]}"', '"Y1"'
    assert b01 in page["cm1"] and b02 not in page["cm1"] and "Y2" not in page["cm1"]
    assert b02 in page["cm2"] and b01 not in page["cm2"]
    assert b01 in page["admin"] and b02 in page["admin"]


def test_the_landing_manager_menu_names_the_managers_of_no_branch(tmp_path) -> None:
    """The menu kept `branch_id == branch`: a manager of no branch (None or ''), whose rows every
    branch lists, was left out of it."""
    store = _store(tmp_path / "store")
    managers = store.read("managers")
    shared = pd.DataFrame({"id": ["M05", "M06"], "name": ["总行周经理", "总行吴经理"], "kind": ["corporate", "retail"],
                           "branch_id": [None, ""]})
    store.write({"managers": pd.concat([managers, shared], ignore_index=True)})
    assert set(manager_names(store, "B01")) == {"M01", "M03", "M05", "M06"}
    assert set(manager_names(store, "B02")) == {"M02", "M04", "M05", "M06"}
    assert set(manager_names(store)) == {"M01", "M02", "M03", "M04", "M05", "M06"}


def test_a_payroll_total_is_not_shown_where_a_persons_pay_is_masked(scoped) -> None:
    """E1 pays one employee: the PAYROLL relation's total is that person's pay. A corporate
    manager sees neither (its item's amount is masked, and payroll figures are the retail side's);
    B01's retail manager and the admin see both."""
    client, tokens, _ = scoped

    def payroll(who: str) -> tuple[Any, list[Any]]:
        rel = _relation(client.get("/entities/E1/360", headers=auth(tokens[who])).json(), "PAYROLL", "out")
        return rel["amount"], [i["amount"] for i in rel["items"]]

    assert payroll("cm1") == (None, [None])
    # an analyst may see payroll figures but no person: the total would be 张三丰's pay
    assert payroll("analyst") == (None, [None])
    assert payroll("rm1") == payroll("admin") == (60_000.0, [60_000.0])


def test_a_total_is_withheld_for_a_masked_person_not_among_the_items_listed(scoped, monkeypatch) -> None:
    """The rule looks at every person behind a total, not only the first few listed."""
    import leads.customer

    client, tokens, _ = scoped
    monkeypatch.setattr(leads.customer, "MAX_PER_KIND", 0)  # no item listed: only the group says who is there
    for who, amount in (("analyst", None), ("admin", 60_000.0)):
        rel = _relation(client.get("/entities/E1/360", headers=auth(tokens[who])).json(), "PAYROLL", "out")
        assert rel["items"] == [] and rel["count"] == 1 and rel["amount"] == amount
        assert "person_branches" not in rel  # the API's own


def test_a_masked_persons_pay_is_on_no_link_of_the_network_or_its_picture(scoped) -> None:
    """E1's payroll link to 张三丰 is his pay: a corporate manager (who sees him masked) gets the
    link without its amount, in /neighbors and in the ego picture (its label, tooltip and the
    drawn edges' data); B01's retail manager gets it."""
    client, tokens, _ = scoped

    def link(who: str) -> dict[str, Any]:
        body = client.get("/entities/E1/neighbors", headers=auth(tokens[who])).json()
        return next(e for e in body["edges"] if e["kind"] == "PAYROLL")

    assert (link("cm1")["amount"], link("cm1")["count"]) == (None, 12)  # the link and its count stay
    assert link("rm1")["amount"] == 60_000.0
    for who, shown in (("cm1", False), ("rm1", True)):
        page = client.get("/viz/ego/E1", headers={**auth(tokens[who]), "Accept": "text/html"}).text
        assert "代发工资" in page and ("6.0万元" in page) is shown and ('"amount": 60000.0' in page
                                                                   or '"amount":60000.0' in page) is shown


def test_a_minimum_amount_cannot_bound_a_masked_persons_pay(scoped) -> None:
    """With `min_amount`, a link whose amount is withheld meets no minimum: 张三丰 (paid 60,000)
    is left out of the corporate manager's network and picture whatever the minimum, so asking
    with 50,000 and then 70,000 tells nothing; B01's retail manager sees him under 50,000 only."""
    client, tokens, _ = scoped

    def neighbours(who: str, floor: int) -> set[str]:
        body = client.get(f"/entities/E1/neighbors?min_amount={floor}", headers=auth(tokens[who])).json()
        return {n["id"] for n in body["nodes"]}

    assert "P1" not in neighbours("cm1", 50_000) and "P1" not in neighbours("cm1", 70_000)
    assert "P1" in neighbours("rm1", 50_000) and "P1" not in neighbours("rm1", 70_000)
    body = client.get("/entities/E1/neighbors", headers=auth(tokens["cm1"])).json()
    assert "P1" in {n["id"] for n in body["nodes"]}  # with no minimum the link is shown, its amount withheld
    for who, shown in (("cm1", False), ("rm1", True)):
        page = client.get("/viz/ego/E1?min_amount=50000", headers={**auth(tokens[who]), "Accept": "text/html"}).text
        assert ('"P1"' in page) is shown
