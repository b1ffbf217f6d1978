"""Real-browser fixtures: the hand-made store served on loopback, and Debian's Chromium (see pagekit)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pagekit import CHROMIUM, CHROMIUM_ARGS, Served, handmade, serve


@pytest.fixture(scope="session")
def handmade_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    store = handmade.build_store(tmp_path_factory.mktemp("viz-browser") / "store")
    yield from serve(store)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (make system-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def demo_server(demo_store: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A copy of the demo store (tests/conftest.py) served on loopback.

    A copy, because serving adds tokens and audit lines to the store's state folder, and the
    session's demo store is shared read-only with other tests.
    """
    from graph.networkx_store import NetworkxStore

    copy = tmp_path_factory.mktemp("viz-demo") / "store"
    shutil.copytree(demo_store.root, copy)
    yield from serve(NetworkxStore(copy))
