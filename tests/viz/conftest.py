"""The hand-made store of tests/viz/handmade.py, built once per session (read-only for tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `import handmade` from the tests of this folder

import handmade  # noqa: E402


@pytest.fixture(scope="session")
def viz_store(tmp_path_factory: pytest.TempPathFactory):
    return handmade.build_store(tmp_path_factory.mktemp("viz") / "store")
