"""Shared fixtures: the demo bundle and a demo store built from it once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PROSPECT_GRAPH_NO_PROGRESS", "1")

FIXTURES = Path(__file__).parent / "fixtures"
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Every test reads the environment afresh: `get_settings()` keeps what it read once per process."""
    from graph.settings import reset_settings

    reset_settings()
    yield
    reset_settings()


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo.bundle import write_bundle

    out = tmp_path_factory.mktemp("demo") / "bundle"
    write_bundle(out, seed=7)
    return out


@pytest.fixture(scope="session")
def demo_store(demo_bundle: Path, tmp_path_factory: pytest.TempPathFactory):
    """A store with the demo bundle ingested and every available family scored. Read-only for tests."""
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest
    from leads.watchers import INGEST_WATCHERS
    from scoring.run import score_all

    store = NetworkxStore(tmp_path_factory.mktemp("demo-store") / "store")
    run_ingest(store, demo_bundle, watchers=INGEST_WATCHERS)
    score_all(store)
    return store


@pytest.fixture()
def store(tmp_path: Path):
    """An empty embedded store for one test."""
    from graph.networkx_store import NetworkxStore

    return NetworkxStore(tmp_path / "store")
