"""The columnar engine stores exactly what the pandas pipeline before it stored.

`tests/fixtures/ingest_golden_demo.json` holds the fingerprints (rows and an order-free digest
of every stored table, the rejects and the resolutions) that the pandas pipeline produced on
the demo bundle and on a small scale bundle, with a fixed salt; see `tests.ingest.fingerprint`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ingest.fingerprint import GOLDEN, bundles, ingest_fingerprint


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return bundles(tmp_path_factory.mktemp("golden"))


@pytest.mark.parametrize("name", ["demo", "scale"])
def test_same_tables_rejects_and_resolutions(made: dict[str, Path], name: str, tmp_path: Path) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))[name]
    found = ingest_fingerprint(made[name], tmp_path / "store")
    differ = {t: (golden.get(t), found.get(t)) for t in sorted(set(golden) | set(found))
              if golden.get(t) != found.get(t)}
    assert not differ, f"tables that differ from the pandas pipeline's output: {differ}"
