"""`prospect-graph export neo4j-import DIR`: neo4j-admin import CSVs of a store."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from neo4j_backends import sample_tables

from api.cli import main
from graph.neo4j_export import export_import_csvs
from graph.networkx_store import NetworkxStore


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def test_export_writes_typed_headers_and_every_row(tmp_path):
    store = NetworkxStore(tmp_path / "store")
    tables = sample_tables()
    store.write(tables)
    files = export_import_csvs(store, tmp_path / "out")
    names = {f.name for f in files}
    assert {"nodes_Enterprise.csv", "nodes_Person.csv", "nodes_Association.csv", "rows_Payment.csv",
            "rows_MembershipFact.csv", "rels_PAYS.csv", "rels_HOLDS_ROLE.csv", "nodes_Entity.csv",
            "nodes_StoreVersion.csv", "import.sh"} <= names

    header, rows = _read(tmp_path / "out" / "nodes_Enterprise.csv")
    assert header[:4] == ["id:ID(Entity)", ":LABEL", "_store", "_pos:long"]
    assert {"registered_capital:double", "is_client:boolean", "opened_on:date", "name"} <= set(header)
    assert [r[0] for r in rows] == list(tables["enterprises"]["id"])
    assert {r[1] for r in rows} == {"Entity;Enterprise"}
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert by_id["E1"]["name"] == "华东精工机械制造有限公司"
    assert by_id["E2"]["name"] == 'Quote "Co", Ltd'  # quotes and commas survive
    assert by_id["E3"]["name"] == "多行\n名称"  # a line break inside a quoted field
    assert by_id["E1"]["opened_on:date"] == "2020-01-31" and by_id["E1"]["is_client:boolean"] == "true"
    assert by_id["E1"]["registered_capital:double"] == "15000000.0"

    header, rows = _read(tmp_path / "out" / "rels_PAYS.csv")
    assert header[:5] == [":START_ID(Entity)", ":END_ID(Entity)", ":TYPE", "_key", "_pos:long"]
    assert "amount:double" in header and "count:long" in header
    assert sorted((r[0], r[1]) for r in rows) == [("E1", "E2"), ("E1", "E3"), ("E2", "ghost")]
    assert {r[2] for r in rows} == {"PAYS"}


def test_every_relationship_end_is_a_node_and_nulls_differ_from_empty_text(tmp_path):
    store = NetworkxStore(tmp_path / "store")
    store.write(sample_tables())
    out = tmp_path / "out"
    export_import_csvs(store, out)
    ids: set[str] = set()
    for path in out.glob("nodes_*.csv"):
        header, rows = _read(path)
        if header[0] == "id:ID(Entity)":
            ids.update(r[0] for r in rows)
    assert "ghost" in ids  # an endpoint in no node table becomes a bare Entity
    for path in out.glob("rels_*.csv"):
        _, rows = _read(path)
        assert all(r[0] in ids and r[1] in ids for r in rows), path.name
    # uscc: E1 has a value, E2 none (empty field = no property), E3 an empty string ("" quoted)
    header, _ = _read(out / "nodes_Enterprise.csv")
    assert header[4:7] == ["name", "name_norm", "uscc"]
    text = (out / "nodes_Enterprise.csv").read_text(encoding="utf-8")
    assert '"E1","Entity;Enterprise","default","0","华东精工机械制造有限公司",,"91310000MA1K4XXXX1",' in text
    assert '"E2","Entity;Enterprise","default","1","Quote ""Co"", Ltd",,,' in text
    assert '"E3","Entity;Enterprise","default","2","多行\n名称",,"",' in text


def test_import_script_names_every_file(tmp_path):
    store = NetworkxStore(tmp_path / "store")
    store.write(sample_tables())
    files = export_import_csvs(store, tmp_path / "out")
    script = (tmp_path / "out" / "import.sh").read_text(encoding="utf-8")
    assert "neo4j-admin database import full" in script and "--multiline-fields=true" in script
    for f in files:
        if f.suffix == ".csv":
            flag = "--relationships=" if f.name.startswith("rels_") else "--nodes="
            assert f"{flag}{f.name}" in script


def test_cli_export_command(tmp_path, capsys):
    store = NetworkxStore(tmp_path / "store")
    store.write({"enterprises": pd.DataFrame({"id": ["E1"], "name": ["甲公司"]})})
    assert main(["export", "neo4j-import", str(tmp_path / "out"), "--store", str(tmp_path / "store")]) == 0
    assert "wrote 3 files" in capsys.readouterr().out  # Enterprise, StoreVersion, import.sh
    _, rows = _read(tmp_path / "out" / "nodes_Enterprise.csv")
    assert rows[0][0] == "E1" and "甲公司" in rows[0]
