"""API settings: the `api` section of the one settings object (`graph.settings`).

Environment: ``PROSPECT_GRAPH_API__INGEST_ROOT=/data/exports``,
``PROSPECT_GRAPH_API__MAX_UPLOAD_BYTES=104857600``, ``PROSPECT_GRAPH_API__SEARCH_THRESHOLD=70``
(the language is the root's ``PROSPECT_GRAPH_LANG``); read them with ``get_settings().api``.
"""

from __future__ import annotations

from graph.settings import ApiSettings

__all__ = ["ApiSettings"]
