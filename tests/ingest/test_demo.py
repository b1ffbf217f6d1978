"""The demo bundle (demo.bundle): every table ingested, planted bad rows rejected, variants resolved."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from demo import cases as dc
from graph.networkx_store import NetworkxStore
from graph.schema import EDGE_KINDS
from ingest.job import run_ingest
from ingest.readers import read_file
from ingest.report import IngestSummary
from tests.ingest.helpers import rejects_of


@pytest.fixture(scope="module")
def ingested(demo_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[NetworkxStore, IngestSummary]:
    store = NetworkxStore(tmp_path_factory.mktemp("ingest-demo") / "store")
    return store, run_ingest(store, demo_bundle)


def test_every_row_is_accepted_or_reported(ingested: tuple[NetworkxStore, IngestSummary], demo_bundle: Path) -> None:
    _, summary = ingested
    for file in sorted(demo_bundle.glob("*.csv")):
        raw = read_file(file)
        assert summary.by_table[file.stem]["read"] == len(raw.frame) + len(raw.bad_rows), file.name
    for counts in summary.by_table.values():
        assert counts["read"] == counts["accepted"] + counts["rejected"]
    assert summary.rows_read == summary.accepted + summary.rejected


def test_planted_bad_rows_are_in_the_rejects_report(ingested: tuple[NetworkxStore, IngestSummary]) -> None:
    store, summary = ingested
    rejects = rejects_of(summary.report_dir)
    found = set(zip(rejects["file"], rejects["column"], strict=True))
    for file, column, _problem in dc.BAD_ROWS:
        assert (file, column) in found, (file, column)
    assert dc.BAD_ENTERPRISE not in set(store.read("enterprises")["id"])
    bad_person = store.read("persons").set_index("id").loc[dc.BAD_PERSON]
    assert pd.isna(bad_person["id_hash"])  # the invalid ID number is dropped, the person kept


def test_name_variants_resolve_to_their_supplier_and_the_branch_stays_apart(
        ingested: tuple[NetworkxStore, IngestSummary]) -> None:
    store, _ = ingested
    resolutions = store.read("resolutions").set_index("source_name")
    for eid, variants in dc.NAME_VARIANTS.items():
        for name in variants:
            cleaned = " ".join(name.split())  # names are stored and reported trimmed, spaces collapsed
            assert resolutions.loc[cleaned, "resolved_id"] == eid, name
    branch = resolutions.loc[dc.SUPPLIER_BRANCH_NAME, "resolved_id"]
    assert branch != dc.SUPPLIERS[10]
    pays = store.read("edges").query("kind == 'PAYS' and src == @dc.CORE").set_index("dst")
    assert pays.loc[branch, "count"] == dc.SUPPLIER_BRANCH_PAYMENTS
    endorsees = set(resolutions.loc[dc.EXTERNAL_ENDORSEES, "resolved_id"])
    ent = store.read("enterprises").set_index("id")
    assert ent.loc[list(endorsees), "is_external"].all()


def test_graph_has_every_edge_kind_and_the_planted_structure(ingested: tuple[NetworkxStore, IngestSummary]) -> None:
    store, _ = ingested
    edges = store.read("edges")
    assert set(EDGE_KINDS) <= set(edges["kind"])
    payroll = edges.query("kind == 'PAYROLL' and src == @dc.SUPERMARKET")
    assert len(payroll) == dc.SUPERMARKET_STAFF
    assert (payroll["amount"] / payroll["count"] >= dc.SUPERMARKET_PAY_MIN).all()
    hops = edges.query("kind == 'ENDORSES'")
    assert ((hops["src"] == dc.SUPPLIERS[0]) & (hops["dst"] == dc.TIER2_ENDORSED)).any()
    assert edges.query("kind == 'PARENT_OF'")[["src", "dst"]].values.tolist().count([dc.CORE, dc.CORE_SUBSIDIARY]) == 1
    paid = store.read("payments").query("payer_id == @dc.CORE")
    assert paid["month"].nunique() == dc.PAYMENT_MONTHS
    # each edge counts the distinct months of its payments
    core = edges.query("kind == 'PAYS' and src == @dc.CORE").set_index("dst")["months_active"].sort_index()
    assert core.tolist() == paid.groupby("payee_id")["month"].nunique().reindex(core.index).tolist()
    assert core.max() > 1


def test_reingesting_the_demo_changes_nothing(ingested: tuple[NetworkxStore, IngestSummary],
                                              demo_bundle: Path) -> None:
    store, _ = ingested
    before = {t: store.read(t) for t in ("enterprises", "persons", "payments", "payroll", "edges")}
    again = run_ingest(store, demo_bundle)
    assert again.new_facts == 0
    for table, frame in before.items():
        pd.testing.assert_frame_equal(store.read(table), frame, obj=table)


def test_no_raw_id_number_or_phone_of_the_demo_is_stored(ingested: tuple[NetworkxStore, IngestSummary],
                                                        demo_bundle: Path) -> None:
    store, _ = ingested
    raw = read_file(demo_bundle / "persons.csv").frame
    id_col = next(c for c in raw.columns if c in ("身份证号", "id_number"))
    phone_col = next(c for c in raw.columns if c in ("手机号", "phone"))
    secrets = set(raw[id_col].dropna()) | set(raw[phone_col].dropna())
    assert len(secrets) > 1000
    stored = store.read("persons")
    values = set(stored.astype(str).to_numpy().ravel())
    assert not (secrets & values)
    assert stored["phone_masked"].dropna().str.fullmatch(r"\d{3}\*{4,}\d{4}").all()
