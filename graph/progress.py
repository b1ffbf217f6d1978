"""Progress bars on a terminal, silence otherwise (shared by ingest, scoring and the generator)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

__all__ = ["track", "enabled"]


def enabled() -> bool:
    return sys.stderr.isatty() and not os.environ.get("PROSPECT_GRAPH_NO_PROGRESS")


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield `items`, drawing a rich progress bar on stderr when it is a terminal."""
    if not enabled():
        yield from items
        return
    from rich.console import Console
    from rich.progress import track as rich_track

    yield from rich_track(items, description=description, total=total, console=Console(stderr=True),
                          transient=True)
