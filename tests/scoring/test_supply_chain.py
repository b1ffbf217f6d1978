"""Supply-chain family: tiers, features, deepening clients, explanations, settings and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from builders import MemoryStore, StoreBuilder, months

from graph.errors import InvalidRequest
from scoring import supply_chain
from scoring.explain import Prospect
from scoring.run import as_frame, frame_prospects
from scoring.settings import ScoringSettings


def sc_score(store, settings: ScoringSettings) -> list[Prospect]:
    """The family's frame as `Prospect` objects, in rank order."""
    return frame_prospects(as_frame(supply_chain.score(store, settings)))


YEAR = months("2024-01", 12)
AS_OF = ScoringSettings(lang="en", as_of="2024-12-31")


def _score(store, settings: ScoringSettings = AS_OF) -> dict[tuple[str, str], Prospect]:
    return {(p.kind, p.prospect_id): p for p in sc_score(store, settings)}


def _weights(tmp_path: Path, text: str) -> ScoringSettings:
    path = tmp_path / "w.yaml"
    path.write_text(text, encoding="utf-8")
    return ScoringSettings(lang="en", as_of="2024-12-31", weights=path)


def _chain() -> StoreBuilder:
    """Anchor A (credit, manager M1) -> S1 -> T2 -> T3 -> T4; a bill A -> S1 endorsed to E2; a buyer."""
    b = StoreBuilder().firm("A", "核心制造有限公司", client=True, credit=True, manager="M1", branch_id="B1")
    for eid in ("S1", "T2", "T3", "T4", "E2", "BUY", "BUY2"):
        b.firm(eid)
    b.monthly("A", "S1", 100_000, YEAR, bank="他行")
    b.monthly("S1", "T2", 20_000, YEAR[6:])
    b.monthly("T2", "T3", 5_000, YEAR[8:])
    b.monthly("T3", "T4", 1_000, YEAR[9:])
    b.bill("B1", "A", "S1", 300_000, "2024-09-01", discounted_by="兴业银行")
    b.endorse("B1", 1, "S1", "E2", "2024-09-20")
    b.monthly("BUY", "A", 80_000, YEAR[2:])
    b.monthly("BUY2", "BUY", 10_000, YEAR[5:])
    return b


def test_upstream_tiers_paths_and_anchor():
    rows = _score(_chain().write(MemoryStore()))
    s1, t2, t3 = rows["upstream", "S1"], rows["upstream", "T2"], rows["upstream", "T3"]
    assert (s1.details["tier"], t2.details["tier"], t3.details["tier"]) == (1, 2, 3)
    assert s1.path == ["M1", "A", "S1"]
    assert t3.path == ["M1", "A", "S1", "T2", "T3"]
    assert {s1.anchor_id, t2.anchor_id, t3.anchor_id} == {"A"}
    assert {s1.manager_id, t3.manager_id, s1.branch_id} == {"M1", "B1"}
    assert ("upstream", "T4") not in rows  # depth 3 by default
    assert ("upstream", "A") not in rows  # a credit client is never a prospect


def test_endorsee_of_an_anchor_bill_is_its_tier1_discounting_lead():
    # S1 endorsed A's own bill to E2: E2 holds A's bill, so A pays it (承贴联动 follows the bill).
    rows = _score(_chain().write(MemoryStore()))
    e2 = rows["upstream", "E2"]
    assert e2.details["tier"] == 1 and e2.path == ["M1", "A", "E2"] and e2.anchor_id == "A"
    lead = next(e for e in e2.evidence if e.name == "discount_lead")
    assert lead.contribution > 0 and e2.details["discounted_elsewhere"] == 1
    assert "bill_discounting" in e2.suggested_products
    assert any("discount" in r.en for r in e2.reasons) and any("贴现" in r.zh for r in e2.reasons)


def test_downstream_buyers_and_their_payers():
    rows = _score(_chain().write(MemoryStore()))
    buy, buy2 = rows["downstream", "BUY"], rows["downstream", "BUY2"]
    assert buy.details["tier"] == 1 and buy.path == ["M1", "A", "BUY"]
    assert buy2.details["tier"] == 2 and buy2.path == ["M1", "A", "BUY", "BUY2"]
    assert "trade_finance" in buy.suggested_products
    assert ("downstream", "S1") not in rows


def test_depth_is_a_setting(tmp_path):
    deep = _score(_chain().write(MemoryStore()), _weights(tmp_path, "supply_chain: {depth: 4}\n"))
    shallow = _score(_chain().write(MemoryStore()), _weights(tmp_path, "supply_chain: {depth: 1}\n"))
    assert deep["upstream", "T4"].details["tier"] == 4
    assert {k for k in shallow if k[0] == "upstream"} == {("upstream", "S1")}


def test_bar_labels_name_the_configured_windows(tmp_path):
    default = _score(_chain().write(MemoryStore()))["upstream", "S1"]
    other = _score(_chain().write(MemoryStore()),
                   _weights(tmp_path, "supply_chain: {windows: [2, 6, 24]}\n"))["upstream", "S1"]
    labels = {e.name: (e.label_en, e.label_zh) for e in other.evidence}
    assert labels["amount_3m"] == ("amount, last 2 months", "近2个月金额")
    assert labels["amount_12m"] == ("amount, last 24 months", "近24个月金额")
    assert labels["months_active"] == ("months active of 24", "24个月中有往来的月数")
    assert {e.name: e.label_zh for e in default.evidence}["amount_12m"] == "近12个月金额"


def test_bad_weights_are_refused(tmp_path):
    with pytest.raises(InvalidRequest, match="trend"):
        sc_score(_chain().write(MemoryStore()),
                           _weights(tmp_path, "supply_chain: {weights: {trend: 30}}\n"))


def test_weak_client_is_a_deepening_prospect_and_other_clients_are_not():
    b = _chain().firm("W", client=True, manager="M9").firm("C2", client=True).firm("K", client=True, credit=True)
    b.pay("A", "W", 5_000, "2024-11-02")
    b.monthly("A", "C2", 50_000, YEAR)  # active client without credit: served, not a prospect
    b.monthly("A", "K", 50_000, YEAR[:2])  # credit client: never a prospect
    rows = _score(b.write(MemoryStore()))
    w = rows["upstream", "W"]
    assert w.is_deepening and w.manager_id == "M9" and w.path == ["M9", "A", "W"]
    assert any("deepening" in r.en for r in w.reasons)
    assert ("upstream", "C2") not in rows and ("upstream", "K") not in rows
    assert not rows["upstream", "S1"].is_deepening


def test_credit_anchor_weighs_more():
    b = StoreBuilder().firm("CR", client=True, credit=True).firm("NC", client=True).firm("X").firm("Y")
    b.monthly("CR", "X", 50_000, YEAR).monthly("NC", "Y", 50_000, YEAR)
    b.monthly("NC", "CR", 1, YEAR)  # keeps NC active enough not to be a deepening prospect itself
    rows = _score(b.write(MemoryStore()))
    assert rows["upstream", "X"].score > rows["upstream", "Y"].score
    assert rows["upstream", "X"].anchor_id == "CR" and rows["upstream", "Y"].anchor_id == "NC"


def test_steady_supplier_beats_a_sporadic_one_of_the_same_amount():
    b = StoreBuilder().firm("A", client=True, credit=True).firm("STEADY").firm("LUMPY")
    b.monthly("A", "STEADY", 10_000, YEAR)
    b.pay("A", "LUMPY", 60_000, "2024-03-10").pay("A", "LUMPY", 60_000, "2024-12-10")
    rows = _score(b.write(MemoryStore()))
    steady, lumpy = rows["upstream", "STEADY"], rows["upstream", "LUMPY"]
    assert steady.details["amounts"]["12m"] == lumpy.details["amounts"]["12m"]
    assert steady.score > lumpy.score
    assert "working_capital_loan" in steady.suggested_products


def test_wallet_leakage_counts_other_banks_only():
    b = StoreBuilder().firm("A", client=True, credit=True).firm("OUT").firm("HOME")
    b.monthly("A", "OUT", 10_000, YEAR, bank="中国银行").monthly("A", "HOME", 10_000, YEAR, bank="本行")
    rows = _score(b.write(MemoryStore()))
    leak = {k[1]: next(e.contribution for e in p.evidence if e.name == "other_bank") for k, p in rows.items()}
    assert leak["OUT"] > 0 and leak["HOME"] == 0
    assert "cash_management" in rows["upstream", "OUT"].suggested_products


def test_dependence_is_the_share_of_inflow_from_the_chain():
    b = StoreBuilder().firm("A", client=True, credit=True).firm("ONLY").firm("MIXED").firm("Z").firm("Z2")
    b.monthly("A", "ONLY", 10_000, YEAR).monthly("A", "MIXED", 10_000, YEAR)
    b.monthly("Z", "MIXED", 30_000, YEAR)  # Z is not on the chain: MIXED depends less on it
    b.monthly("Z2", "Z", 1, YEAR[:1])
    rows = _score(b.write(MemoryStore()))
    assert rows["upstream", "ONLY"].details["chain_share"] == 1.0
    assert rows["upstream", "MIXED"].details["chain_share"] == pytest.approx(0.25)


def test_every_row_is_explained_and_sums_to_its_score():
    rows = _score(_chain().write(MemoryStore()))
    for p in rows.values():
        assert 0 <= p.score <= 100
        assert p.score == pytest.approx(sum(e.contribution for e in p.evidence))
        names = {e.name for e in p.evidence}
        assert {"amount_3m", "amount_6m", "amount_12m", "trend", "payments", "months_active", "steadiness",
                "recency", "anchors", "bills", "discount_lead", "other_bank", "dependence", "tier"} <= names
        assert p.reasons and all(r.en and r.zh for r in p.reasons)
        assert p.suggested_products and p.path[-1] == p.prospect_id
    tier3 = rows["upstream", "T3"]
    assert next(e for e in tier3.evidence if e.name == "tier").contribution < 0



def test_both_families_return_a_frame_with_reason_templates():
    # Issue #15: rows are built column-wise; a reason is a template id and its parameters (firm
    # names are parameters, so a masking policy can mask them before the sentence is written).
    from scoring import ecosystem
    from scoring.frame import FRAME_SCHEMA
    from scoring.templates import TEMPLATES, TEXT, render

    b = _chain()
    b.firm("SUB", "子公司有限公司", parent="A")
    store = b.write(MemoryStore())
    for family, module in (("supply_chain", supply_chain), ("ecosystem", ecosystem)):
        frame = module.score(store, AS_OF)
        assert frame.schema == FRAME_SCHEMA and frame.num_rows > 0
        reasons = [r for row in frame.column("reasons").to_pylist() for r in row]
        assert reasons and all(r["template"] in TEMPLATES and r["template"] != TEXT for r in reasons)
        assert all(r["template"].startswith(family + ".") for r in reasons)
    row = next(r for r in supply_chain.score(store, AS_OF).to_pylist() if r["prospect_id"] == "S1")
    paid = next(r for r in row["reasons"] if r["template"].endswith(".paid"))
    params = {p["key"]: p["value"] for p in paid["params"]}
    assert params["anchor"] == "核心制造有限公司"
    assert render(paid["template"], {**params, "anchor": "核心***"}, "zh").startswith("近12个月收到客户核心***付款")

def test_placeholders_and_do_not_contact_are_never_listed():
    b = StoreBuilder().firm("A", client=True, credit=True).firm("R", "REDACTED PERSONAL DATA")
    b.firm("D", "不联系企业", do_not_contact=True).firm("OK", "正常供应商")
    for eid in ("R", "D", "OK"):
        b.monthly("A", eid, 10_000, YEAR)
    b.firm("BEHIND").monthly("R", "BEHIND", 10_000, YEAR)  # a placeholder is never followed either
    rows = _score(b.write(MemoryStore()))
    assert set(rows) == {("upstream", "OK")}


def test_scores_are_deterministic_and_capped_per_kind(tmp_path):
    b = StoreBuilder().firm("A", client=True, credit=True)
    for i in range(30):
        b.firm(f"S{i:02d}").monthly("A", f"S{i:02d}", 1_000 * (i % 7 + 1), YEAR[i % 5:])
    store = b.write(MemoryStore())
    first = [p.to_record() for p in sc_score(store, AS_OF)]
    second = [p.to_record() for p in sc_score(store, AS_OF)]
    assert first == second
    capped = sc_score(store, _weights(tmp_path, "supply_chain: {max_rows_per_kind: 5}\n"))
    best = sorted(first, key=lambda r: (-r["score"], r["prospect_id"]))[:5]
    assert [p.prospect_id for p in capped] == [r["prospect_id"] for r in best]


def test_as_of_defaults_to_the_latest_payment():
    b = StoreBuilder().firm("A", client=True, credit=True).firm("S")
    b.monthly("A", "S", 10_000, months("2021-01", 12))
    rows = _score(b.write(MemoryStore()), ScoringSettings(lang="en"))
    assert rows["upstream", "S"].details["as_of"] == "2021-12-15"
    assert rows["upstream", "S"].details["months_active"] == 12


def test_cli_lists_the_family_with_anchor_limit_and_format(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from api.cli import app
    from graph.networkx_store import NetworkxStore
    from scoring.run import score_all

    b = _chain().firm("A2", client=True, credit=True, manager="M2").firm("S9")
    b.monthly("A2", "S9", 70_000, YEAR)
    store = b.write(NetworkxStore(tmp_path / "store"))
    monkeypatch.setenv("PROSPECT_GRAPH_AS_OF", "2024-12-31")
    score_all(store, families=["supply_chain"])
    runner = CliRunner()
    args = ["prospects", "supply_chain", "--store", str(tmp_path / "store"), "--format", "json"]
    result = runner.invoke(app, [*args, "--anchor", "A2"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["prospect_id"] for r in rows] == ["S9"] and rows[0]["manager_id"] == "M2"
    result = runner.invoke(app, [*args, "--limit", "2"])
    rows = json.loads(result.output)
    assert len(rows) == 2 and rows[0]["score"] >= rows[1]["score"]
    csv_out = runner.invoke(app, ["prospects", "supply_chain", "--store", str(tmp_path / "store"),
                                  "--format", "csv", "--limit", "3"]).output
    assert csv_out.splitlines()[0].startswith("rank,prospect_id") and len(csv_out.splitlines()) == 4
    table = pd.DataFrame(rows)
    assert set(table["family"]) == {"supply_chain"}


# ---------------------------------------------------------------- the demo bundle's planted cases
def _demo(store, kind: str) -> dict[str, dict]:
    from scoring.stored import decode, load_prospects

    df = load_prospects(store, "supply_chain", kind=kind)
    return {r["prospect_id"]: decode({str(k): v for k, v in r.items()}, "en") for r in df.to_dict("records")}


def test_demo_suppliers_are_upstream_prospects_of_the_core(demo_store):
    from demo import cases as dc

    up = _demo(demo_store, "upstream")
    for eid in dc.SUPPLIERS:
        row = up[eid]
        assert row["anchor_id"] == dc.CORE and row["manager_id"] == dc.MGR_CORE
        assert row["path"] == [dc.MGR_CORE, dc.CORE, eid] and row["details"]["tier"] == 1
        assert row["is_deepening"] == (eid == dc.WEAK_CLIENT_SUPPLIER)
    assert dc.CORE not in up
    # The regular suppliers outrank the weakly served client supplier and the tier-2 firms.
    regular = [up[e]["score"] for e in dc.SUPPLIERS if e != dc.WEAK_CLIENT_SUPPLIER]
    assert sorted(regular)[len(regular) // 2] > up[dc.TIER2_ENDORSED]["score"]


def test_demo_endorsed_firm_is_a_discounting_lead_of_the_core(demo_store):
    from demo import cases as dc

    row = _demo(demo_store, "upstream")[dc.TIER2_ENDORSED]
    # It holds the core's own bills (endorsed by a supplier): tier 1 on the bill chain.
    assert row["details"]["tier"] == 1
    assert row["path"] == [dc.MGR_CORE, dc.CORE, dc.TIER2_ENDORSED]
    assert row["details"]["discounted_elsewhere"] >= 1 and "bill_discounting" in row["suggested_products"]
    assert next(e for e in row["evidence"] if e["name"] == "discount_lead")["contribution"] > 0
    up = _demo(demo_store, "upstream")
    for eid, via in zip(dc.TIER2_SUPPLIERS, dc.SUPPLIERS[:2], strict=True):
        assert up[eid]["details"]["tier"] == 2 and up[eid]["path"][-2] == via


def test_demo_buyers_are_downstream_prospects(demo_store):
    from demo import cases as dc

    down = _demo(demo_store, "downstream")
    for eid in dc.BUYERS:
        assert down[eid]["anchor_id"] == dc.CORE and down[eid]["details"]["tier"] == 1
        assert "trade_finance" in down[eid]["suggested_products"]
        assert down[eid]["reasons"] and down[eid]["score"] > 0
    assert not set(dc.SUPPLIERS[:8]) & set(down)


# ---------------------------------------------------------------- Bradford council payments
BRADFORD = Path(__file__).parents[1] / "fixtures" / "real" / "bradford" / "mapping.yaml"


@pytest.fixture(scope="module")
def bradford_store(tmp_path_factory):
    if not BRADFORD.exists():
        pytest.skip("the Bradford fixture (tests/fixtures/real/bradford) is not in this checkout")
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest

    store = NetworkxStore(tmp_path_factory.mktemp("bradford") / "store")
    run_ingest(store, BRADFORD.parent, mapping=BRADFORD)
    return store


def test_bradford_steadiest_large_suppliers_come_first(bradford_store):
    rows = sc_score(bradford_store, ScoringSettings(lang="en"))
    up = sorted([p for p in rows if p.kind == "upstream"], key=lambda p: (-p.score, p.prospect_id))
    council = bradford_store.read("enterprises").query("is_client == True")["id"].tolist()
    assert len(council) == 1 and len(up) > 100
    # Independent of the scorer: each supplier's months with payments and its total received.
    pays = bradford_store.read("payments")
    pays = pays[pays["amount"] > 0].assign(month=lambda d: d["paid_on"].dt.to_period("M"))
    by_supplier = pays.groupby("payee_id").agg(months=("month", "nunique"), amount=("amount", "sum"))
    all_months = pays["month"].nunique()
    large = by_supplier["amount"].quantile(0.75)
    for p in up[:10]:
        assert p.anchor_id == council[0] and p.path[-2:] == [council[0], p.prospect_id]
        assert by_supplier.loc[p.prospect_id, "months"] == all_months
        assert by_supplier.loc[p.prospect_id, "amount"] >= large
    # The bottom of the list is made of one-off or small suppliers.
    for p in up[-10:]:
        row = by_supplier.loc[p.prospect_id]
        assert row["months"] < all_months or row["amount"] < large


def test_bradford_redacted_placeholders_are_nowhere(bradford_store):
    rows = sc_score(bradford_store, ScoringSettings(lang="en"))
    assert rows
    for p in rows:
        assert "REDACTED" not in p.name.upper() and "PERSONAL DATA" not in p.name.upper()
        assert all("REDACTED" not in r.en for r in p.reasons)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_kept_prospects_are_the_best_by_their_best_link_ties_by_id(seed):
    """`_best_prospects` (a scatter and a partition) picks the same prospects as sorting every
    link best first (score, then code) and keeping the first `cap` distinct codes: scores are
    drawn from a few values so ties at the cut are common."""
    import numpy as np

    from scoring.supply_chain import _best_prospects

    rng = np.random.default_rng(seed)
    n, links = 500, 4000
    code = rng.integers(0, n - 50, links)  # the last 50 codes have no link
    score = rng.choice([10.0, 20.5, 33.0, 47.25, 60.0], links)
    anchor = rng.integers(0, n, links)
    order = np.lexsort((anchor, code, -score))  # the rule: best first, ties by id then anchor
    distinct = pd.unique(code[order])
    for cap in (1, 7, 100, 449, 450, 1000):
        expected = np.zeros(n, dtype=bool)
        expected[distinct[:cap]] = True
        got = _best_prospects(code, score, n, cap)
        assert np.array_equal(got, expected), cap
        assert got.sum() == min(cap, len(distinct))
