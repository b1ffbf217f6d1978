"""Issue #15: the columnar supply_chain and ecosystem frames must not change their rankings.

The fixtures were written by the pre-frame scoring code (commit 3f4a577, `Prospect` objects per
row) with `top_rankings(store, ("supply_chain", "ecosystem"))` after
`score_all(store, families=["supply_chain", "ecosystem"])` on the same bundles as
test_rankings_unchanged.py; each family/kind must list the same top-100 rows (prospect,
anchor, score to 4 places), in the same order.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rankings import build_store, top_rankings

from scoring.run import score_all

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rankings"
FAMILIES = ("supply_chain", "ecosystem")


@pytest.mark.parametrize(("scale", "fixture"), [(None, "supply_ecosystem_demo.json"),
                                                (20000, "supply_ecosystem_scale20000.json")])
def test_top_100_of_supply_chain_and_ecosystem_unchanged(tmp_path: Path, scale: int | None, fixture: str) -> None:
    expected = json.loads((FIXTURES / fixture).read_text())
    store = build_store(tmp_path, scale)
    score_all(store, families=list(FAMILIES))
    got = top_rankings(store, FAMILIES)
    assert sorted(got) == sorted(expected)
    assert all(expected[k] for k in expected)  # every kind has rows to compare
    for key in expected:
        assert got[key] == expected[key], key
