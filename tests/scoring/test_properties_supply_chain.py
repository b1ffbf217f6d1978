"""Property tests of the supply-chain and ecosystem scores (hypothesis).

On random small chains: scores stay in 0..100, contributions sum to the score, and adding a
payment on the chain to a prospect (from an anchor or a chain firm for a supplier; to them
for a buyer) never lowers its score — whatever its amount and date in the window.

A random seed found the counterexample kept below as a strict expected failure (a payment
from a second anchor lowers a supplier's best row); the property excludes that case by name
(`assume`), and the examples are drawn from a fixed seed (`derandomize`) so that CI checks the
same cases every run.
"""

from __future__ import annotations

import pytest
from builders import MemoryStore, StoreBuilder
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scoring import ecosystem, supply_chain
from scoring.explain import Prospect
from scoring.run import as_frame, frame_prospects
from scoring.settings import ScoringSettings


def sc_score(store, settings: ScoringSettings) -> list[Prospect]:
    """The family's frame as `Prospect` objects, in rank order."""
    return frame_prospects(as_frame(supply_chain.score(store, settings)))


def eco_score(store, settings: ScoringSettings) -> list[Prospect]:
    """The family's frame as `Prospect` objects, in rank order."""
    return frame_prospects(as_frame(ecosystem.score(store, settings)))


SETTINGS = ScoringSettings(lang="en", as_of="2024-12-31")
FIRMS = [f"F{i}" for i in range(6)]
ANCHORS = ["A0", "A1"]
NODES = ANCHORS + FIRMS

days = st.dates(min_value=__import__("datetime").date(2023, 6, 1),
                max_value=__import__("datetime").date(2024, 12, 31)).map(str)
payment = st.tuples(st.sampled_from(NODES), st.sampled_from(NODES),
                    st.floats(min_value=1, max_value=5e7, allow_nan=False), days,
                    st.sampled_from(["", "本行", "他行"]))
bill = st.tuples(st.sampled_from(NODES), st.sampled_from(NODES),
                 st.floats(min_value=1e3, max_value=5e6, allow_nan=False), days, st.sampled_from(["", "他行"]))


def _build(payments, bills, credit: tuple[bool, bool], extra=None) -> MemoryStore:
    b = StoreBuilder()
    for anchor, has_credit in zip(ANCHORS, credit, strict=True):
        b.firm(anchor, client=True, credit=has_credit, manager=f"M{anchor}")
    for firm in FIRMS:
        b.firm(firm)
    for payer, payee, amount, day, bank in [*payments, *([extra] if extra else [])]:
        if payer != payee:
            b.pay(payer, payee, amount, day, bank)
    for i, (drawer, payee, amount, day, disc) in enumerate(bills):
        if drawer != payee:
            b.bill(f"B{i}", drawer, payee, amount, day, discounted_by=disc)
    return b.write(MemoryStore())


def _best(rows) -> dict:
    """Each prospect's best link (a prospect paid by two anchors has a row for each)."""
    out: dict = {}
    for p in rows:
        key = (p.kind, p.prospect_id)
        if key not in out or p.score > out[key].score:
            out[key] = p
    return out


def _check_rows(rows) -> None:
    for p in rows:
        assert 0.0 <= p.score <= 100.0
        assert p.score == pytest.approx(sum(e.contribution for e in p.evidence), abs=1e-6)


@settings(max_examples=20, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(payments=st.lists(payment, min_size=1, max_size=25), bills=st.lists(bill, max_size=4),
       credit=st.tuples(st.booleans(), st.booleans()), pick=st.integers(min_value=0, max_value=10_000),
       side=st.integers(min_value=0, max_value=10_000),
       amount=st.floats(min_value=0.01, max_value=1e9, allow_nan=False), day=days,
       bank=st.sampled_from(["", "本行", "他行"]))
def test_a_chain_payment_never_lowers_a_score(payments, bills, credit, pick, side, amount, day, bank):
    before = sc_score(_build(payments, bills, credit), SETTINGS)
    _check_rows(before)
    # Non-client prospects only: a client stops being a (deepening) prospect once well served.
    candidates = sorted([p for p in _best(before).values() if not p.is_deepening],
                        key=lambda p: (p.kind, p.prospect_id))
    if not candidates:
        return
    target = candidates[pick % len(candidates)]
    # A counterpart on the chain: an anchor, or a firm of a lower tier on the same side.
    members = ANCHORS + sorted(p.prospect_id for p in before
                               if p.kind == target.kind and p.details["tier"] < 3 and not p.is_deepening)
    other = [m for m in members if m != target.prospect_id]
    counterpart = other[side % len(other)]
    # not a payment from an anchor the prospect has no row with yet: the known gap, kept below
    # as a strict expected failure (a second anchor's payment can lower the best row)
    assume(counterpart not in ANCHORS or counterpart in target.details["anchor_ids"])
    extra = ((counterpart, target.prospect_id) if target.kind == "upstream" else (target.prospect_id, counterpart))
    after = sc_score(_build(payments, bills, credit, (*extra, amount, day, bank)), SETTINGS)
    _check_rows(after)
    found = _best(after)
    assert (target.kind, target.prospect_id) in found
    assert found[target.kind, target.prospect_id].score >= target.score - 1e-9



@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "known gap, kept visible: a supplier already paid by anchor A1 (and by F2, a firm of A1's "
    "chain) gets a large payment from a second anchor A0; F2's payment then counts on A0's row "
    "(the supplier's strongest anchor) and each row's dependence is on its own anchor, so the "
    "best row falls from 25.4 to 23.7. Found by hypothesis (seed 2808944...); the same on the "
    "code before the columnar engine. Fixing it changes supply-chain rankings on purpose."))
def test_a_second_anchors_payment_never_lowers_a_suppliers_best_row():
    payments = [("A1", "F3", 37709405.3, "2024-07-14", "本行"), ("F0", "A1", 9889825.6, "2023-08-22", "他行"),
                ("F2", "F0", 38795487.4, "2023-06-11", ""), ("F4", "A1", 32861677.8, "2023-12-22", "本行"),
                ("F0", "F5", 16.0, "2024-09-01", ""), ("A1", "F4", 22029234.01, "2024-01-07", "他行"),
                ("F0", "A1", 7274255.4, "2023-07-01", "本行"), ("F0", "A1", 12315598.7, "2023-11-30", "本行"),
                ("F5", "F3", 49278351.0, "2024-12-05", "本行"), ("F2", "F4", 3000000.0, "2024-02-02", ""),
                ("F4", "A0", 100.0, "2023-11-11", "本行"), ("A0", "A1", 39860141.8, "2024-04-19", ""),
                ("F4", "F2", 100.0, "2024-09-20", "")]
    before = _best(sc_score(_build(payments, [], (False, False)), SETTINGS))[("upstream", "F4")]
    extra = ("A0", "F4", 404399133.6, "2024-03-07", "本行")
    after = _best(sc_score(_build(payments, [], (False, False), extra), SETTINGS))[("upstream", "F4")]
    assert after.score >= before.score - 1e-9

@settings(max_examples=10, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(amounts=st.lists(st.tuples(st.floats(min_value=1, max_value=1e8, allow_nan=False), days), max_size=6),
       amount=st.floats(min_value=0.01, max_value=1e9, allow_nan=False), day=days,
       stake=st.floats(min_value=0.1, max_value=100))
def test_ecosystem_scores_stay_explained_and_grow_with_payments(amounts, amount, day, stake):
    def build(extra: bool) -> MemoryStore:
        b = StoreBuilder().firm("C", "顺达物流有限公司", client=True, credit=True, manager="M1")
        b.firm("G", "顺达物流（宁波）有限公司", parent="C").firm("H", "远航贸易有限公司")
        b.firm("S", "顺达物流有限公司江北门店", parent="C")
        b.person("P1", "甲").role("P1", "C", "actual_controller", 60).role("P1", "H", "actual_controller", stake)
        for value, on in amounts:
            b.pay("C", "G", value, on).pay("S", "C", value, on).pay("H", "C", value, on)
        if extra:
            b.pay("C", "G", amount, day).pay("S", "C", amount, day).pay("H", "C", amount, day)
        return b.write(MemoryStore())

    before = {(p.kind, p.prospect_id): p for p in eco_score(build(False), SETTINGS)}
    after = {(p.kind, p.prospect_id): p for p in eco_score(build(True), SETTINGS)}
    _check_rows(before.values())
    _check_rows(after.values())
    assert set(before) == {("group", "G"), ("group", "H"), ("branch_store", "S")} == set(after)
    for key, row in before.items():
        assert after[key].score >= row.score - 1e-9


def test_the_property_harness_sees_new_payments():
    """The monotonicity property is not vacuous: one more chain payment does raise a score."""
    base = [("A0", "F1", 1000.0, "2024-03-01", ""), ("F1", "F2", 500.0, "2024-04-01", "")]
    before = {p.prospect_id: p.score for p in sc_score(_build(base, [], (True, False)), SETTINGS)}
    extra = ("F1", "F2", 800.0, "2024-11-01", "他行")
    after = {p.prospect_id: p.score for p in sc_score(_build(base, [], (True, False), extra), SETTINGS)}
    assert after["F2"] > before["F2"] and after["F1"] == before["F1"]
