"""One router per area of the API; each is thin and renders through `api.present`.

`ROUTERS` is every area, in the order `api.main.create_app` includes them (the pages last:
their paths are the least specific). Node-id path parameters use the ``node`` convertor
(api/node_ids.py), registered before any route is declared.
"""

from fastapi import APIRouter

import api.node_ids  # noqa: F401  (registers the convertor before any route is declared)
from api.routers import entities, health, ingest, leads, pages, paths, prospects, retail, rhythm

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = tuple(module.router for module in (
    health, entities, paths, prospects, ingest, leads, retail, rhythm, pages))
