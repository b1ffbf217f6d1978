"""The relationship graph: schema, the GraphStore interface and its backends.

`open_store` picks the backend from settings (`PROSPECT_GRAPH_GRAPH__BACKEND`), never from
isinstance checks elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from graph.errors import AppError
from graph.settings import StoreSettings, get_settings
from graph.store import GraphStore

__all__ = ["open_store", "GraphStore", "StoreSettings", "AppError"]


def open_store(path: Path | str | None = None, settings: StoreSettings | None = None) -> GraphStore:
    """Open (without creating) the store at `path`, or the one named by settings."""
    settings = settings or get_settings().graph
    root = Path(path) if path is not None else settings.store
    if settings.backend == "neo4j":
        from graph.neo4j_store import Neo4jStore  # its driver (the neo4j extra) is imported when it connects

        return Neo4jStore(root, settings)
    from graph.networkx_store import NetworkxStore

    return NetworkxStore(root, keep_versions=settings.keep_versions)
