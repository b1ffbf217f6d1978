"""Ingest settings: the `ingest` section of the one settings object (`graph.settings`).

Environment: ``PROSPECT_GRAPH_INGEST__FUZZY_THRESHOLD=92``, ``PROSPECT_GRAPH_INGEST__OWN_BANK_NAMES='["本行"]'``;
read them with ``get_settings().ingest``.
"""

from __future__ import annotations

from graph.settings import IngestSettings

__all__ = ["IngestSettings"]
