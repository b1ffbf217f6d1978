"""The three real public datasets, through their mapping files in tests/fixtures/real/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from ingest.readers import detect_encoding, read_file
from tests.ingest.helpers import REAL, rejects_of


def _months_agree(store: NetworkxStore) -> None:
    """Each PAYS edge's `months_active` is the number of distinct months of its payments."""
    edges = store.read("edges").query("kind == 'PAYS'").set_index(["src", "dst"])["months_active"].sort_index()
    per_pair = store.read("payments").groupby(["payer_id", "payee_id"])["month"].nunique()
    assert edges.tolist() == per_pair.reindex(edges.index).tolist()
    assert edges.max() > 1


def test_bradford_cp1252_placeholders_credits_and_onetime(store: NetworkxStore) -> None:
    files = sorted((REAL / "bradford").glob("2019-*_clean.csv"))
    assert [detect_encoding(f) for f in files] == ["cp1252"] * 3
    raw = pd.concat([pd.read_csv(f, encoding="cp1252", dtype=str) for f in files], ignore_index=True)
    summary = run_ingest(store, REAL / "bradford" / "mapping.yaml")
    assert summary.by_table["payments"]["read"] == len(raw)
    redacted = int((raw["Supplier Name"] == "REDACTED PERSONAL DATA").sum())
    rejects = rejects_of(summary.report_dir)
    assert summary.rejected == redacted > 0
    assert set(rejects["reason"]) == {"payee is a placeholder (redacted or unnamed), not an entity"}
    assert "Service Label" in summary.ignored_columns["2019-10_clean.csv"]
    assert "Transaction Number" not in summary.ignored_columns["2019-10_clean.csv"]  # the payments' reference
    assert "columns ignored in 3 files" in summary.render()
    ent = store.read("enterprises")
    assert not ent["name"].str.contains("REDACTED").any()
    assert "ONETIME" not in set(ent["id"])
    categories = pd.concat([read_file(f).frame["Expenditure category"] for f in files])
    assert categories.str.contains("Children\u2019s Services", regex=False).any()  # cp1252 0x92 decoded
    pays = store.read("payments")
    kept = raw[raw["Supplier Name"] != "REDACTED PERSONAL DATA"]
    assert (pays["amount"] < 0).sum() == kept["Net Amount"].str.startswith("(").sum() > 0
    credits = kept["Net Amount"].str.replace(r"[(),]", "", regex=True).astype(float)
    signed = credits.where(~kept["Net Amount"].str.startswith("("), -credits)
    edges = store.read("edges").query("kind == 'PAYS'")
    assert edges["src"].unique().tolist() == ["BMDC"]
    assert round(edges["amount"].sum(), 2) == round(signed.sum(), 2)
    assert sorted(pays["month"].dropna().unique()) == ["2019-10", "2019-11", "2019-12"]
    _months_agree(store)


def test_bradford_month_by_month_adds_up_and_repeats_change_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "bradford"
    folder.mkdir()
    shutil.copy(REAL / "bradford" / "mapping.yaml", folder / "mapping.yaml")
    store = NetworkxStore(tmp_path / "store")
    shutil.copy(REAL / "bradford" / "2019-10_clean.csv", folder)
    run_ingest(store, folder / "mapping.yaml")
    october = store.read("edges").query("kind == 'PAYS'")["amount"].sum()
    shutil.copy(REAL / "bradford" / "2019-11_clean.csv", folder)
    second = run_ingest(store, folder / "mapping.yaml")  # October again plus November
    assert second.new_facts == second.by_table["payments"]["accepted"] - len(
        pd.read_csv(folder / "2019-10_clean.csv", encoding="cp1252").query("`Supplier Name` != 'REDACTED PERSONAL DATA'"))
    both = store.read("edges").query("kind == 'PAYS'")
    assert both["amount"].sum() > october
    assert sorted(store.read("payments")["month"].dropna().unique()) == ["2019-10", "2019-11"]
    _months_agree(store)
    payments = len(store.read("payments"))
    third = run_ingest(store, folder / "mapping.yaml")
    assert third.new_facts == 0 and len(store.read("payments")) == payments
    pd.testing.assert_frame_equal(store.read("edges").query("kind == 'PAYS'"), both)


def test_bradford_months_exported_again_in_one_file_are_added_once(tmp_path: Path) -> None:
    """October, then October and November re-exported as one file (UTF-8, other name and bytes):
    by their Transaction Number October's payments are not added twice."""
    folder = tmp_path / "bradford"
    folder.mkdir()
    shutil.copy(REAL / "bradford" / "mapping.yaml", folder / "mapping.yaml")
    shutil.copy(REAL / "bradford" / "2019-10_clean.csv", folder)
    store = NetworkxStore(tmp_path / "store")
    run_ingest(store, folder / "mapping.yaml")
    october = store.read("payments")
    months = [pd.read_csv(REAL / "bradford" / f"2019-{m}_clean.csv", encoding="cp1252", dtype=str) for m in ("10", "11")]
    (folder / "2019-10_clean.csv").unlink()
    pd.concat(months).to_csv(folder / "2019-10-11_clean.csv", index=False, encoding="utf-8")
    second = run_ingest(store, folder / "mapping.yaml")
    november = months[1].query("`Supplier Name` != 'REDACTED PERSONAL DATA'")
    assert second.new_facts == len(november)
    both = store.read("payments")
    assert len(both) == len(october) + len(november)
    assert both["amount"].sum() == pytest.approx(october["amount"].sum() + pd.to_numeric(
        november["Net Amount"].str.replace(r"[(),]", "", regex=True)).where(
        ~november["Net Amount"].str.startswith("("), lambda v: -v).sum())


def test_cncf_one_association_with_positions(store: NetworkxStore) -> None:
    raw = pd.read_csv(REAL / "cncf" / "cncf_members.csv", dtype=str)
    summary = run_ingest(store, REAL / "cncf" / "mapping.yaml")
    assert summary.rejected == 0 and summary.by_table["memberships"]["read"] == len(raw)
    assoc = store.read("associations")
    assert assoc[["id", "kind"]].values.tolist() == [["CNCF", "industry_association"]]
    members = store.read("memberships")
    ent = store.read("enterprises").set_index("id")
    names = ent.loc[members["member_id"], "name"]
    assert not names.str.contains(r"\((?:member|supporter)\)").any()
    assert members["association_id"].unique().tolist() == ["CNCF"]
    assert (members["position"] == "director").sum() == (raw["tier"] == "Platinum").sum()
    assert set(members["position"]) == {"director", "member"}
    # distinct anonymous members ("Non-Public Organization Moose/Horse…") stay distinct
    anonymous = raw["member_name"].str.startswith("Non-Public Organization").sum()
    assert ent["name"].str.startswith("Non-Public Organization").sum() == anonymous
    member_of = store.read("edges").query("kind == 'MEMBER_OF'")
    assert len(member_of) == len(members) and set(member_of["dst"]) == {"CNCF"}


def test_apple_supplier_names_resolve_across_years(store: NetworkxStore) -> None:
    raw = pd.read_csv(REAL / "apple" / "apple-supplier-list.csv", dtype=str)
    summary = run_ingest(store, REAL / "apple" / "mapping.yaml")
    assert summary.rejected == 0
    ent = store.read("enterprises")
    suppliers = ent[ent["is_external"]]
    assert len(suppliers) < raw["supplier_name"].nunique() * 0.5  # spelling variants merged
    resolutions = pd.read_csv(summary.report_dir / "resolutions.csv").set_index("source_name")
    lg = resolutions.loc[["LG Display Co., Ltd.", "LG Display Co. Ltd.", "LG Display Company Limited",
                          "LG Display Co Ltd"], "resolved_id"]
    assert lg.nunique() == 1
    assert resolutions.loc["LG Chem Ltd", "resolved_id"] != lg.iloc[0]
    edges = store.read("edges").query("kind == 'PAYS'").set_index("dst")
    lg_edge = edges.loc[lg.iloc[0]]
    assert lg_edge["count"] == int(raw["supplier_name"].str.startswith("LG Display").sum())
    assert lg_edge["amount"] == 0.0 and lg_edge["first_on"].year == 2012 and lg_edge["last_on"].year == 2022
