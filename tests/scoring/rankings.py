"""The rankings-unchanged guard of issue #15: the top 100 of every family and kind, as data.

`top_rankings(store)` lists, per `family/kind`, the best 100 rows of the stored `prospects`
table as `[prospect_id, anchor_id, score]` (score rounded to 4 places), best first.

The fixtures in tests/fixtures/rankings/ were written by the scoring code *before* the
columnar engine (commit a5ab6b9) with::

    .venv/bin/python -m tests.scoring.rankings demo tests/fixtures/rankings/demo.json
    .venv/bin/python -m tests.scoring.rankings 20000 tests/fixtures/rankings/scale20000.json

and tests/scoring/test_rankings_unchanged.py compares the current code against them.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from graph.store import GraphStore

TOP = 100
GUARDED = ("referral", "retail_linkage")


def build_store(root: Path, scale: int | None) -> GraphStore:
    """Generate the bundle (demo, or `--scale N`), ingest it and return the store (not scored)."""
    from demo.bundle import write_bundle
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest

    bundle = root / "bundle"
    write_bundle(bundle, seed=7, scale=scale)
    store = NetworkxStore(root / "store")
    run_ingest(store, bundle)
    return store


def top_rankings(store: GraphStore, families: tuple[str, ...] = GUARDED) -> dict[str, list[list[Any]]]:
    """`family/kind` -> the best TOP rows as [prospect_id, anchor_id, score], best first."""
    df = store.read("prospects", ["family", "kind", "prospect_id", "anchor_id", "score", "rank"])
    df = df[df["family"].isin(families)]
    out: dict[str, list[list[Any]]] = {}
    for (family, kind), grp in df.groupby(["family", "kind"], sort=True):
        grp = grp.sort_values("rank").head(TOP)
        anchors = grp["anchor_id"].astype(object).where(grp["anchor_id"].notna(), None)
        out[f"{family}/{kind}"] = [[str(p), None if a is None else str(a), round(float(s), 4)]
                                   for p, a, s in zip(grp["prospect_id"], anchors, grp["score"], strict=True)]
    return out


def main(argv: list[str]) -> None:
    from scoring.run import score_all

    which, target = argv
    scale = None if which == "demo" else int(which)
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp), scale)
        score_all(store, families=list(GUARDED))
        Path(target).write_text(dumps(top_rankings(store)))


def dumps(rankings: dict[str, list[list[Any]]]) -> str:
    """One row per line, so a diff of two fixtures shows the rows that moved."""
    blocks = [f"{json.dumps(key)}: [\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]"
              for key, rows in rankings.items()]
    return "{\n" + ",\n".join(blocks) + "\n}\n"


if __name__ == "__main__":
    main(sys.argv[1:])
