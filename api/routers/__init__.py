"""The API's routers; node-id path parameters use the ``node`` convertor (api/node_ids.py)."""

import api.node_ids  # noqa: F401  (registers the convertor before any route is declared)
