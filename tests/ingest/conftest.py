"""Fixtures for ingest tests: small hand-made bundles written into a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture()
def make_bundle(tmp_path: Path) -> Callable[..., Path]:
    """Write files {name: text} into a fresh folder and return it."""
    counter = {"n": 0}

    def make(files: dict[str, str | bytes], folder: str | None = None) -> Path:
        counter["n"] += 1
        out = tmp_path / (folder or f"bundle{counter['n']}")
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
        return out

    return make
