"""The payroll picture shows the employer summary's figures: the payroll window's staff, pay and
retention (not all time), and near/above-threshold counts of the staff who may be contacted; a
do-not-contact employee is drawn faint and marked, never counted as someone to call."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.cases import SUPERMARKET
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from scoring.retail_linkage import employer_summaries
from viz.facts import ViewContext
from viz.picture import Picture
from viz.render import render_picture, vis_data
from viz.style import format_wan, text
from viz.views import payroll_picture


def _facts(picture: Picture, node_id: str) -> dict[str, str]:
    return dict(next(n for n in picture.nodes if n.id == node_id).facts)


def _summary_facts(store: NetworkxStore, employer: str) -> dict[str, str]:
    row = employer_summaries(store).set_index("employer_id").loc[employer]
    return {text("staff", "zh"): str(int(row["staff"])), text("payroll_total", "zh"): format_wan(row["payroll_total_12m"]),
            text("retention", "zh"): f"{row['retention_rate']:.1%}",
            text("near_staff", "zh"): str(int(row["staff_near_threshold"])),
            text("above_staff", "zh"): str(int(row["staff_above_threshold"]))}


@pytest.fixture(scope="module")
def payroll_store(tmp_path_factory: pytest.TempPathFactory) -> NetworkxStore:
    folder = tmp_path_factory.mktemp("payroll-window")
    (folder / "enterprises.csv").write_text("enterprise_id,name,is_client\nE1,惠民超市有限公司,是\n", encoding="utf-8")
    (folder / "persons.csv").write_text(
        "person_id,name,aum,do_not_contact\nP1,张一,40000,否\nP2,王二,42000,是\nP3,李三,90000,否\nP4,赵四,45000,否\n",
        encoding="utf-8")
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    rows = ["employer_id,person_id,month,amount"]
    rows += [f"E1,{p},{m},5000" for p in ("P1", "P2", "P3") for m in months]
    rows += ["E1,P4,2023-05,5000", "E1,P3,2024-06,99999"]  # before the window: not this year's payroll
    (folder / "payroll.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    store = NetworkxStore(folder / "store")
    run_ingest(store, folder)
    return store


def test_the_picture_counts_the_window_and_the_contactable_staff(payroll_store: NetworkxStore) -> None:
    picture = payroll_picture(payroll_store, "E1", ViewContext())
    facts = _facts(picture, "E1")
    assert facts == {**facts, **_summary_facts(payroll_store, "E1")}
    assert facts[text("staff", "zh")] == "3"  # P4 was paid two years ago only
    assert facts[text("payroll_total", "zh")] == format_wan(3 * 12 * 5000)  # not P3's 2024 pay
    assert facts[text("near_staff", "zh")] == "1"  # P1; P2 is near too but may not be contacted
    assert picture.subtitle.startswith("2025-01至2025-12 · ")
    person = next(n for n in picture.nodes if n.id == "P2")
    assert person.faint and (text("status", "zh"), text("do_not_contact", "zh")) in person.facts
    assert not next(n for n in picture.nodes if n.id == "P1").faint


def test_the_edges_say_which_months_their_amounts_cover(payroll_store: NetworkxStore) -> None:
    picture = payroll_picture(payroll_store, "E1", ViewContext(lang="en"))
    titles = [e["title"] for e in vis_data(picture)["edges"]]
    assert titles and all("2025-01 to 2025-12" in t and "all time" not in t for t in titles)
    assert "Edge width (amount, 2025-01 to 2025-12)" in render_picture(picture)


def test_the_demo_supermarket_picture_matches_its_employer_summary(demo_store: NetworkxStore) -> None:
    facts = _facts(payroll_picture(demo_store, SUPERMARKET, ViewContext(), per_band=5), SUPERMARKET)
    assert facts == {**facts, **_summary_facts(demo_store, SUPERMARKET)}


def test_a_client_employer_is_drawn_as_a_client(demo_store: NetworkxStore) -> None:
    """The employer's node is read from the store, whose flags are numpy's booleans: a client
    (the supermarket) was drawn grey, as a non-client, because `np.True_ is True` is false."""
    employer = payroll_picture(demo_store, SUPERMARKET, ViewContext()).nodes[0]
    assert employer.id == SUPERMARKET and employer.status in ("client", "credit_client")


def test_an_employer_without_payroll_draws_no_bands(tmp_path: Path) -> None:
    (tmp_path / "enterprises.csv").write_text("enterprise_id,name\nE1,甲公司\n", encoding="utf-8")
    store = NetworkxStore(tmp_path / "store")
    run_ingest(store, tmp_path)
    picture = payroll_picture(store, "E1", ViewContext())
    assert [n.kind for n in picture.nodes] == ["Enterprise"] and picture.amount_window == ""


def test_an_ego_picture_does_not_rank_masked_staff_by_their_pay(demo_store: NetworkxStore) -> None:
    """A corporate manager sees the supermarket's staff masked: the staff drawn around it are the
    first by id, not the best paid (their order would rank them by the pay withheld); an admin's
    picture draws the best paid."""
    from api.auth import User
    from api.masking import Viewer
    from graph.schema import EDGE_KINDS
    from viz.views import DEFAULT_SKIPPED_KINDS, ego_picture

    staff = set(demo_store.read("payroll", ["employer_id", "person_id"]).query(
        "employer_id == @SUPERMARKET")["person_id"].astype(str))

    def drawn(role: str) -> list[str]:
        viewer = Viewer(demo_store, User(name="t", role=role))
        ctx = ViewContext(present=viewer.node, edge=viewer.edge, prefetch=viewer.prefetch)
        return sorted(n.id for n in ego_picture(demo_store, SUPERMARKET, ctx).nodes if n.id in staff)

    masked, seen = drawn("corporate_manager"), drawn("admin")
    assert len(masked) == len(seen) >= 10
    # the neighbourhood loaded is the store's strongest links (`ego_region`, as the picture asks it)
    ctx = ViewContext()
    region = demo_store.ego_region(SUPERMARKET, kinds=[k for k in EDGE_KINDS if k not in DEFAULT_SKIPPED_KINDS],
                                   hops=1, limit=2 * ctx.max_nodes, expand=2 * ctx.keep)
    loaded = sorted(str(i) for i in region.ids.tolist() if str(i) in staff)
    assert masked == loaded[:len(masked)]  # by id among them
    assert seen != masked  # by pay
