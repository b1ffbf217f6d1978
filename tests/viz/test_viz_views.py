"""View builders on the hand-made store: folding, tiers, chains, bands, persons and masking."""

from __future__ import annotations

import handmade
import pytest

from graph.errors import InvalidRequest, NotFound
from viz.facts import ViewContext
from viz.picture import fold_tree
from viz.style import NEAR_THRESHOLD_BAND
from viz.views import ego_picture, parse_kinds, payroll_picture, person_picture, referral_picture


def test_fold_tree_keeps_the_strongest_and_folds_the_rest_with_what_hangs_below() -> None:
    parent: dict[str, str | None] = {"r": None}
    strength = {}
    for i in range(10):
        parent[f"c{i}"] = "r"
        strength[f"c{i}"] = float(i)
    parent["g"] = "c0"  # below the weakest child
    kept, folds = fold_tree(parent, strength, keep=3, max_nodes=100)
    assert kept == ["r", "c9", "c8", "c7"]
    assert sorted(folds["r"]) == sorted([f"c{i}" for i in range(7)] + ["g"])


def test_fold_tree_respects_the_node_cap() -> None:
    parent: dict[str, str | None] = {"r": None, **{f"c{i}": "r" for i in range(5)}}
    parent.update({f"c{i}-{j}": f"c{i}" for i in range(5) for j in range(5)})
    kept, folds = fold_tree(parent, {}, keep=10, max_nodes=12)
    assert len(kept) == 12
    assert sum(len(v) for v in folds.values()) == len(parent) - 12


def _neighbours(store, node: str) -> set[str]:
    e = store.read("edges")
    return set(e.loc[e["src"] == node, "dst"]) | set(e.loc[e["dst"] == node, "src"])


def test_ego_draws_every_neighbour_when_there_is_room(viz_store) -> None:
    picture = ego_picture(viz_store, handmade.ANCHOR, ViewContext(keep=200), depth=1)
    assert set(picture.node_ids()) == _neighbours(viz_store, handmade.ANCHOR) | {handmade.ANCHOR}
    assert [n.id for n in picture.nodes if n.focus] == [handmade.ANCHOR]


def test_ego_folds_beyond_the_strongest_n(viz_store) -> None:
    neighbours = _neighbours(viz_store, handmade.ANCHOR)
    picture = ego_picture(viz_store, handmade.ANCHOR, ViewContext(keep=5), depth=1)
    more = [n for n in picture.nodes if n.kind == "More"]
    assert len(more) == 1 and more[0].folded == len(neighbours) - 5
    assert more[0].name == f"+{len(neighbours) - 5} 更多"
    drawn = [n for n in picture.nodes if n.kind == "Enterprise" and n.id != handmade.ANCHOR]
    e = viz_store.read("edges")
    amounts = e[e["src"] == handmade.ANCHOR].groupby("dst")["amount"].sum()
    assert {n.id for n in drawn} <= set(amounts.sort_values(ascending=False).index[:5])


def test_ego_depth_two_stays_within_the_cap(viz_store) -> None:
    picture = ego_picture(viz_store, handmade.HUB, ViewContext(keep=30, keep_deeper=30, max_nodes=500), depth=2)
    entities = [n for n in picture.nodes if n.kind != "More"]
    assert len(entities) == 500
    assert sum(n.folded for n in picture.nodes if n.kind == "More") == 1 + 20 + 20 * 30 - 500


def test_a_hubs_second_ring_keeps_each_partners_strongest_few(viz_store) -> None:
    picture = ego_picture(viz_store, handmade.HUB, ViewContext(keep=30, keep_deeper=4), depth=2)
    entities = {n.id for n in picture.nodes if n.kind != "More"}
    partners = {v for u, v in zip(*viz_store.read("edges")[["src", "dst"]].T.values, strict=True) if u == handmade.HUB}
    assert partners <= entities  # the first ring whole (20 partners, under keep)
    assert len(entities) == 1 + 20 + 20 * 4
    more = [n for n in picture.nodes if n.kind == "More"]
    assert len(more) == 20 and all(n.folded == 30 - 4 for n in more)  # "+26 …" under each partner
    assert picture.first_view == [handmade.HUB, *sorted(partners, key=picture.first_view.index)]  # opens on ring 1
    small = ego_picture(viz_store, handmade.HUB, ViewContext(keep=30), depth=1)
    assert small.first_view == []  # a neighbourhood that fits opens whole
    e = viz_store.read("edges")
    for partner in partners:  # each partner's drawn leaves are its four largest
        out = e[e["src"] == partner].groupby("dst")["amount"].sum().sort_values(ascending=False)
        drawn = {n for n in entities if n in set(out.index)}
        assert drawn == set(out.index[:4])


def test_ego_filters_and_rejects_bad_requests(viz_store) -> None:
    picture = ego_picture(viz_store, handmade.ANCHOR, ViewContext(keep=200), kinds=["PAYS"], min_amount=2_000_000)
    e = viz_store.read("edges")
    big = e[(e["kind"] == "PAYS") & (e["amount"] >= 2_000_000) & ((e["src"] == handmade.ANCHOR)
                                                                   | (e["dst"] == handmade.ANCHOR))]
    assert set(picture.node_ids()) == set(big["src"]) | set(big["dst"])
    with pytest.raises(InvalidRequest):
        ego_picture(viz_store, handmade.ANCHOR, ViewContext(), depth=4)
    with pytest.raises(InvalidRequest):
        parse_kinds("PAYS,NOPE")
    with pytest.raises(NotFound):
        ego_picture(viz_store, "nobody", ViewContext())


def test_referral_highlights_the_best_chain_and_fades_the_others(viz_store) -> None:
    picture = referral_picture(viz_store, handmade.PROSPECT, ViewContext())
    nodes = {n.id: n for n in picture.nodes}
    best = [handmade.MANAGER, handmade.ANCHOR, handmade.ASSOC, handmade.PROSPECT]
    assert all(nodes[n].highlight and not nodes[n].faint for n in best)
    assert nodes[handmade.DIRECTOR].faint and not nodes[handmade.DIRECTOR].highlight
    highlighted = {frozenset((e.src, e.dst)) for e in picture.edges if e.highlight}
    assert highlighted == {frozenset(p) for p in zip(best, best[1:], strict=False)}
    assert all(e.faint for e in picture.edges if not e.highlight)
    with pytest.raises(NotFound):
        referral_picture(viz_store, handmade.ANCHOR, ViewContext())


def test_payroll_bands_and_the_near_threshold_band(viz_store) -> None:
    picture = payroll_picture(viz_store, handmade.EMPLOYER, ViewContext(), per_band=4)
    persons = viz_store.read("persons").set_index("id")
    aum = persons.loc[handmade.STAFF, "aum"]
    near = aum[(aum >= NEAR_THRESHOLD_BAND[0]) & (aum < NEAR_THRESHOLD_BAND[1])]
    bands = [n for n in picture.nodes if n.kind == "Band"]
    near_bands = [b for b in bands if b.near_threshold]
    assert len(near_bands) == 1 and near_bands[0].highlight
    assert near_bands[0].name.endswith(f"{len(near)}人")
    # every employee is drawn or folded, exactly once
    staff = [n for n in picture.nodes if n.kind == "Person"]
    folded = sum(n.folded for n in picture.nodes if n.kind == "More")
    assert len(staff) + folded == len(handmade.STAFF)
    assert len(staff) == len({n.id for n in staff})


def test_person_view_shows_enterprises_and_managers(viz_store) -> None:
    picture = person_picture(viz_store, handmade.DIRECTOR, ViewContext())
    roles = viz_store.read("roles")
    firms = set(roles.loc[roles["person_id"] == handmade.DIRECTOR, "enterprise_id"])
    ids = set(picture.node_ids())
    assert firms <= ids
    assert {handmade.MANAGER, handmade.RETAIL_MANAGER} <= ids  # the firm's manager and the person's own
    with pytest.raises(InvalidRequest):
        person_picture(viz_store, handmade.ANCHOR, ViewContext())


def test_masked_viewers_see_masked_person_names(viz_store) -> None:
    def present(attrs: dict) -> dict:
        if attrs.get("kind") == "Person":
            return {**attrs, "name": str(attrs["name"])[0] + "*", "masked": True}
        return attrs

    ctx = ViewContext(present=present, scrub=lambda s: s.replace("王建国", "王*"))
    picture = person_picture(viz_store, handmade.DIRECTOR, ctx)
    person = next(n for n in picture.nodes if n.id == handmade.DIRECTOR)
    assert person.name == "王*"
    assert all("aum" not in label and "金融资产" not in label for label, _ in person.facts)
    staff = payroll_picture(viz_store, handmade.EMPLOYER, ctx)
    assert all(n.name.endswith("*") for n in staff.nodes if n.kind == "Person")


def test_scores_and_reasons_travel_with_the_nodes(viz_store) -> None:
    picture = ego_picture(viz_store, handmade.ANCHOR, ViewContext(keep=200))
    evil = next(n for n in picture.nodes if n.id == handmade.EVIL)
    rows = viz_store.read("prospects")
    row = rows[rows["prospect_id"] == handmade.EVIL].iloc[0]
    assert evil.score == pytest.approx(round(float(row["score"]), 1))
    assert evil.status == "prospect"
    assert any("近12个月金额" in line for line in evil.explanation)


def test_radial_layout_puts_each_hop_on_its_own_ring() -> None:
    import math

    from viz.picture import radial_positions

    parent: dict[str, str | None] = {"r": None, **{f"c{i}": "r" for i in range(6)}}
    parent.update({f"c{i}-{j}": f"c{i}" for i in range(6) for j in range(40)})
    pos = radial_positions(parent)
    assert pos["r"] == (0.0, 0.0)
    assert len(set(pos.values())) == len(parent)
    ring1 = {round(math.hypot(*pos[f"c{i}"])) for i in range(6)}
    ring2 = {round(math.hypot(*pos[f"c{i}-{j}"])) for i in range(6) for j in range(40)}
    assert len(ring1) == 1 and min(ring2) > max(ring1)
    assert len(ring2) == 3  # 240 nodes: the crowded ring is staggered into three bands
