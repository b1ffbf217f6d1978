"""Fixtures for the reliability tests: a template store at version A and the known contents.

`states` builds, once per session, the store after bundle A (ingested and scored: S0), after
A then B (ingested, not yet re-scored: S1), after A then B re-scored (S2), and after A then B
twice (S1b: the graph of S1, but the second pass resolves B's new names to the external nodes
the first pass made, so the `resolutions` report differs), and keeps the content of each;
tests copy the S0 folder and compare what they end with against them.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from scoring.run import score_all
from tests.reliability.helpers import content, write_bundle_a, write_bundle_b


@dataclass
class States:
    """The S0 template folder, bundle B, and the content of S0, S1 and S2."""

    template: Path
    bundle_a: Path
    bundle_b: Path
    s0: dict[str, str]
    s1: dict[str, str]
    s2: dict[str, str]
    s1b: dict[str, str]
    ingest_seconds: float

    def copy(self, dest: Path) -> NetworkxStore:
        """A fresh store at S0 in `dest` (same salt, so the same ID hashes)."""
        shutil.copytree(self.template, dest)
        return NetworkxStore(dest)


@pytest.fixture(scope="session")
def states(tmp_path_factory: pytest.TempPathFactory) -> States:
    root = tmp_path_factory.mktemp("reliability")
    bundle_a = write_bundle_a(root / "bundle-a")
    bundle_b = write_bundle_b(root / "bundle-b")
    template = NetworkxStore(root / "template")
    run_ingest(template, bundle_a)
    score_all(template)
    s0 = content(template)
    work = NetworkxStore(root / "work")
    shutil.copytree(template.root, work.root, dirs_exist_ok=True)
    started = time.perf_counter()
    run_ingest(work, bundle_b)
    seconds = time.perf_counter() - started
    s1 = content(work)
    score_all(work)
    s2 = content(work)
    assert s0 != s1 != s2, "bundle B must change the store, or the tests below prove nothing"
    again = NetworkxStore(root / "again")
    shutil.copytree(template.root, again.root, dirs_exist_ok=True)
    run_ingest(again, bundle_b)
    run_ingest(again, bundle_b)
    return States(template.root, bundle_a, bundle_b, s0, s1, s2, content(again), seconds)
