"""Issue #15: the columnar engine must not change the referral and retail_linkage rankings.

The fixtures were written by the pre-engine scoring code (see tests/scoring/rankings.py for
the command); each guarded family/kind must list the same top-100 rows, in the same order,
with the same scores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rankings import GUARDED, build_store, top_rankings

from scoring.run import score_all

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rankings"


@pytest.mark.parametrize(("scale", "fixture"), [(None, "demo.json"), (20000, "scale20000.json")])
def test_top_100_of_every_guarded_kind_unchanged(tmp_path: Path, scale: int | None, fixture: str) -> None:
    expected = json.loads((FIXTURES / fixture).read_text())
    store = build_store(tmp_path, scale)
    score_all(store, families=list(GUARDED))
    got = top_rankings(store)
    assert sorted(got) == sorted(expected)
    assert all(expected[k] for k in expected)  # every guarded kind has rows to compare
    for key in expected:
        assert got[key] == expected[key], key
