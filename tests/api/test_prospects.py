"""Prospect lists: order, paging, filters, languages and CSV/XLSX exports."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from api.export import neutralise
from tests.api.conftest import FORMULA_NAME, auth


def test_best_first_with_paging(client, tokens):
    h = auth(tokens["admin"])
    full = client.get("/prospects/supply_chain", headers=h).json()
    scores = [i["score"] for i in full["items"]]
    assert scores == sorted(scores, reverse=True) and full["total"] == 3
    page = client.get("/prospects/supply_chain?limit=1&offset=1", headers=h).json()
    assert page["total"] == 3 and page["limit"] == 1 and page["offset"] == 1
    assert [i["prospect_id"] for i in page["items"]] == [full["items"][1]["prospect_id"]]
    beyond = client.get("/prospects/supply_chain?offset=10", headers=h).json()
    assert beyond["items"] == [] and beyond["total"] == 3


def test_filters(client, tokens):
    h = auth(tokens["admin"])

    def ids(query: str) -> list[str]:
        r = client.get(f"/prospects/{query}", headers=h)
        assert r.status_code == 200, r.text
        return [i["prospect_id"] for i in r.json()["items"]]

    assert set(ids("supply_chain?kind=upstream")) == {"E2"}
    assert set(ids("supply_chain?min_score=55")) == {"E4", "ext:0123456789ab"}
    assert set(ids("supply_chain?manager=M02")) == {"E2"}
    assert set(ids("supply_chain?branch=B02")) == {"E2"}
    assert set(ids("supply_chain?anchor=E1")) == {"E4", "ext:0123456789ab", "E2"}
    assert ids("supply_chain?anchor=E999") == []
    assert set(ids("retail_linkage?employer=E1")) == {"P1"}
    assert set(ids("referral?association=A1")) == {"E4"}


def test_row_carries_its_explanation(client, tokens):
    row = client.get("/prospects/supply_chain?limit=1", headers=auth(tokens["admin"])).json()["items"][0]
    assert row["prospect_id"] == "E4" and row["rank"] == 1
    assert abs(sum(e["contribution"] for e in row["evidence"]) - row["score"]) < 1e-6
    assert row["evidence"][0]["label"] == "近12个月金额" and row["reasons"] == ["华东精工配件有限公司是潜在客户"]
    en = client.get("/prospects/supply_chain?limit=1&lang=en", headers=auth(tokens["admin"])).json()["items"][0]
    assert en["evidence"][0]["label"] == "Amount, 12 months" and en["reasons"] == ["华东精工配件有限公司 is a lead"]
    assert row["path"] == ["E1", "E4"] and row["suggested_products"] == ["票据贴现"]


def test_csv_export_headers_and_formula_neutralised(client, tokens):
    r = client.get("/prospects/supply_chain?format=csv", headers=auth(tokens["admin"]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="prospects-supply_chain.csv"'
    assert r.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese right
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["排名", "客户编号", "名称"]
    names = [row[2] for row in rows[1:]]
    assert "'" + FORMULA_NAME in names and FORMULA_NAME not in names
    en = client.get("/prospects/supply_chain?format=csv&lang=en", headers=auth(tokens["admin"]))
    assert en.content.decode("utf-8-sig").splitlines()[0].startswith("Rank,Prospect ID,Name")


def test_xlsx_export_has_no_formula(client, tokens):
    r = client.get("/prospects/supply_chain?format=xlsx&lang=en", headers=auth(tokens["admin"]))
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    ws = load_workbook(io.BytesIO(r.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][:2] == ["Rank", "Prospect ID"] and len(values) == 4
    cells = [c for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert "'" + FORMULA_NAME in [row[2] for row in values]


def test_export_respects_limit(client, tokens):
    r = client.get("/prospects/supply_chain?format=csv&limit=1", headers=auth(tokens["admin"]))
    assert len(r.content.decode("utf-8-sig").splitlines()) == 2 and r.headers["x-total-count"] == "3"


def test_neutralise():
    for bad in ("=1+1", "+1", "-1+1", "-A1", "@SUM(A1)", "\t=x", "\r=x"):
        assert neutralise(bad) == "'" + bad
    assert neutralise("华东") == "华东" and neutralise(-5.0) == -5.0 and neutralise(None) is None
    assert neutralise("-12.5") == "-12.5"  # a negative number written as text is no formula (ingest/report.py rule)
