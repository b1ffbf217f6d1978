"""bench.stages times the steps ingest and scoring name for their progress bar, one row each."""

from __future__ import annotations

from pathlib import Path

import ingest.job
import scoring.run
from bench.stages import measure
from scoring.run import FAMILIES


def test_every_stage_of_an_ingest_and_every_family_gets_its_figures(demo_bundle: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    progress = ingest.job.stages, scoring.run.stages
    ingested = measure("ingest", demo_bundle, store)
    names = [row["stage"] for row in ingested["stages"]]
    assert names[0].startswith("read ") and "resolve and merge" in names and "derive edges" in names
    assert names.index("derive edges") == names.index("commit version") - 1 == names.index("write tables") + 1
    assert any(name.startswith("track") for name in names)  # the tracking watcher is a stage of its own
    scored = measure("score", None, store)
    assert [row["stage"] for row in scored["stages"]] == [*FAMILIES, "write prospects"]
    for row in ingested["stages"] + scored["stages"]:
        assert row["cpu_s"] >= 0 and row["wall_s"] >= 0 and row["peak_gib"] > 0
    assert sum(row["wall_s"] for row in scored["stages"]) <= scored["wall_s"] + 0.01
    assert (ingest.job.stages, scoring.run.stages) == progress  # the progress bars are put back
