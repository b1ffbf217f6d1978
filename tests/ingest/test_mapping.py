"""Mapping files: several sources merged by id, encoding, columns, defaults, values, formats, strip, nulls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from graph.errors import InvalidData, InvalidMapping, NotFound
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from ingest.mapping import load_mapping, plan_bundle
from tests.ingest.helpers import rejects_of

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_several_sources_merged_by_id_later_ones_override(store: NetworkxStore,
                                                          make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "stock.csv": "stock_id:ID(Stock),name,行业\nS1,甲股份有限公司,制造\nS2,乙有限公司,零售\n",
        "our_clients.csv": "code;flag;rm;name\nS2;是;M9;乙有限公司（新名）\n",
        "executive_stock.csv": ":START_ID(Executive),:END_ID(Stock),jobs\nX1,S1,监事会主席\nX2,S2,董事长/董事\n",
        "people.csv": "id,姓名\nX1,张三\nX2,李四\n",
        "mapping.yaml": """
tables:
  enterprises:
    - file: stock.csv
      encoding: utf-8
      columns: {enterprise_id: "stock_id:ID(Stock)", name: name}
      defaults: {is_client: false}
    - file: our_clients.csv
      columns: {enterprise_id: code, is_client: flag, manager_id: rm}
  persons:
    - file: people.csv
      columns: {person_id: id}
  roles:
    - file: executive_stock.csv
      columns: {person_id: ":START_ID(Executive)", enterprise_id: ":END_ID(Stock)", role: jobs}
      values: {role: {监事会主席: executive}}
"""})
    summary = run_ingest(store, bundle)
    assert summary.rejected == 0
    ent = store.read("enterprises").set_index("id")
    assert ent.loc["S2", "is_client"] and ent.loc["S2", "manager_id"] == "M9"
    assert ent.loc["S2", "name"] == "乙有限公司（新名）" and ent.loc["S2", "industry"] == "零售"
    assert not ent.loc["S1", "is_client"] and ent.loc["S1", "industry"] == "制造"  # 行业 is a built-in alias
    roles = store.read("roles").set_index("person_id")["role"].to_dict()
    assert roles == {"X1": "executive", "X2": "director"}


def test_mapping_as_the_bundle_with_globs_formats_strip_nulls_and_inline_rows(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({
        "exports/2024-01.csv": "Supplier No,Supplier,Paid,Value\nS9,ACME LTD (supplier),05/01/2024,\"(1,000.00)\"\n"
                               "ONETIME,Widgets Co (supplier),06/01/2024,250\n",
        "exports/2024-02.csv": "Supplier No,Supplier,Paid,Value\nS9,ACME LTD (supplier),03/02/2024,400\n",
        "m.yaml": """
tables:
  enterprises:
    - rows: [{enterprise_id: COUNCIL, name: Our Council, is_client: true}]
  payments:
    - file: exports/2024-*.csv
      columns: {payee_id: Supplier No, payee_name: Supplier, paid_on: Paid, amount: Value}
      formats: {paid_on: "%d/%m/%Y"}
      defaults: {payer_id: COUNCIL}
      strip: {payee_name: [" (supplier)"]}
      nulls: {payee_id: [ONETIME]}
      negative_amounts: keep
"""})
    summary = run_ingest(store, bundle / "m.yaml")
    assert summary.rejected == 0 and summary.by_table["payments"]["read"] == 3
    ent = store.read("enterprises").set_index("id")
    assert ent.loc["S9", "name"] == "ACME LTD" and ent.loc["S9", "is_external"]
    widgets = ent[ent["name"] == "Widgets Co"]
    assert len(widgets) == 1 and widgets.index[0].startswith("ext:")
    pays = store.read("edges").query("kind == 'PAYS'").set_index("dst")
    assert pays.loc["S9", "amount"] == -600.0  # a credit of 1,000 and a payment of 400
    assert pays.loc["S9", "first_on"].strftime("%Y-%m-%d") == "2024-01-05"
    assert summary.files == ["(inline rows)", "exports/2024-01.csv", "exports/2024-02.csv"]


def test_unknown_value_is_a_rejected_row_with_its_reason(store: NetworkxStore,
                                                          make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"enterprises.csv": "enterprise_id,name\nE1,甲\n",
                          "associations.csv": "协会编号,协会名称,类型\nA1,保温材料行业协会,行业协会\n",
                          "memberships.csv": "协会编号,会员编号,职务\nA1,E1,会长\nA1,E1,吉祥物\n"})
    summary = run_ingest(store, bundle)
    rejects = rejects_of(summary.report_dir)
    assert rejects[["row", "column", "value"]].values.tolist() == [["3", "position", "吉祥物"]]
    assert store.read("memberships")["position"].tolist() == ["president"]


@pytest.mark.parametrize(("text", "message"), [
    ("tables: {payroll_runs: []}", "unknown table"),
    ("tables:\n  payments:\n    - file: x.csv\n      columns: {amount_cny: Value}\n", "not a column of payments"),
    ("tables:\n  payments:\n    - {columns: {amount: Value}}\n", "exactly one of"),
    ("tables: [1, 2", "not valid YAML"),
    ("tables:\n  payments:\n    - file: x.csv\n      colums: {}\n", "colums"),
])
def test_bad_mapping_files_are_named_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidMapping, match=message):
        load_mapping(path)


def test_mapping_naming_missing_files_or_columns(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle({"p.csv": "a,b\n1,2\n",
                          "m1.yaml": "tables:\n  enterprises:\n    - file: nope-*.csv\n",
                          "m2.yaml": "tables:\n  enterprises:\n    - file: p.csv\n      columns: {name: Name}\n",
                          "m3.yaml": "tables:\n  enterprises:\n    - file: p.csv\n"})
    with pytest.raises(InvalidMapping, match="no file matches"):
        run_ingest(store, bundle / "m1.yaml")
    with pytest.raises(InvalidMapping, match="'Name'.*not in the file"):
        run_ingest(store, bundle / "m2.yaml")
    with pytest.raises(InvalidData, match="lacks required column.*enterprise_id.*name"):
        run_ingest(store, bundle / "m3.yaml")
    with pytest.raises(NotFound):
        plan_bundle(bundle / "missing.yaml")
    assert store.version is None


@pytest.mark.parametrize("dataset", ["bradford", "apple", "cncf"])
def test_example_mappings_are_valid(dataset: str) -> None:
    mapping = load_mapping(EXAMPLES / dataset / "mapping.yaml")
    assert mapping.tables and all(src.file or src.rows for srcs in mapping.tables.values() for src in srcs)


def test_a_folder_named_after_a_table_holds_its_files(store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    # a year exported a month at a time; a node table in two files, the later one filling the earlier
    head = "付款人编号,收款人名称,金额,交易日期\n"
    bundle = make_bundle({
        "enterprises.csv": "企业编号,企业名称,是否我行客户\nE1,甲公司,是\n",
        "enterprises/more.csv": "企业编号,企业名称,行业\nE1,甲公司,制造\nE2,乙公司,零售\n",
        "payments/2026-01.csv": head + "E1,乙公司,100,2026-01-05\n",
        "payments/2026-02.csv": head + "E1,乙公司,100,2026-02-05\nE1,丙公司,abc,2026-02-06\n",
        "payments/~$2026-03.xlsx": "lock", "payments/.hidden.csv": head + "E1,丁公司,1,2026-03-01\n",
        "2026/交易流水.csv": "交易日期,户名,对方户名,借贷标志,金额\n2026-01-05,甲公司,乙公司,借,100\n",
        "store/manifest.json": "{}", "store/versions/x.parquet": "not read",
    })
    assert [s.file for s in plan_bundle(bundle)["payments"]] == ["payments/2026-01.csv", "payments/2026-02.csv"]
    summary = run_ingest(store, bundle)
    assert store.read("payments")["amount"].tolist() == [100.0, 100.0]
    ents = store.read("enterprises").set_index("id")
    assert ents.loc["E1", "industry"] == "制造" and bool(ents.loc["E1", "is_client"]) and "E2" in ents.index
    assert rejects_of(summary.report_dir)[["file", "row", "column"]].values.tolist() == [
        ["payments/2026-02.csv", "3", "amount"]]  # a file's path in the bundle, with its row
    assert summary.unread_files == {"2026/交易流水.csv": ["payments"]}
    assert "put it in payments/" in summary.render()


def test_unread_files_are_looked_for_two_folders_down_and_listed_twenty_at_most(
        store: NetworkxStore, make_bundle: Callable[..., Path]) -> None:
    # a mapping may sit in a big folder: its files are not all peeked at, nor every folder walked
    files = {f"notes/n{i:02d}.csv": "a,b\n1,2\n" for i in range(24)}
    bundle = make_bundle({"enterprises.csv": "企业编号,企业名称\nE1,甲\n", **files,
                          "a/b/flow.csv": "a,b\n1,2\n", "a/b/c/deep.csv": "a,b\n1,2\n"})
    summary = run_ingest(store, bundle)
    assert list(summary.unread_files) == ["a/b/flow.csv", *[f"notes/n{i:02d}.csv" for i in range(19)]]
    assert summary.unread_more == 5  # n19 … n23; a/b/c/deep.csv is three folders down
    assert "not read: 5 more data files in the bundle's folders" in summary.render()
