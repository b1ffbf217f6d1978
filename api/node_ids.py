"""Node ids in URL paths: an id may hold "/" (``ext:a/b``), sent encoded as ``%2F``.

Servers decode ``%2F`` before routing, so ``/viz/ego/ext%3Aa%2Fb`` would be routed as two
segments and 404. `keep_encoded_slashes` (run by `api.guard.RequestGuard` before any router)
rebuilds the routing path from the raw path, segment by segment, with an encoded slash kept
as a stand-in character (NUL: never part of an id, ingest refuses control characters); routes
name such parameters ``{entity_id:node}`` and the ``node`` convertor turns the stand-in back
into "/". Links are built with ``urllib.parse.quote(id, safe="")`` (`viz.facts.picture_link`).
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import Scope

__all__ = ["NodeIdConvertor", "keep_encoded_slashes", "SLASH"]

SLASH = "\x00"


class NodeIdConvertor(Convertor[str]):
    """One path segment holding a node id; an encoded "/" inside it comes back as "/"."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return value.replace(SLASH, "/")

    def to_string(self, value: str) -> str:
        return quote(str(value), safe="")


register_url_convertor("node", NodeIdConvertor())


def keep_encoded_slashes(scope: Scope) -> None:
    """Route on the raw path where it holds ``%2F``: each segment decoded on its own."""
    raw = scope.get("raw_path")
    if not raw or b"%2f" not in raw.lower():
        return
    path = raw.split(b"?", 1)[0].decode("latin-1")
    scope["path"] = "/".join(unquote(segment).replace("/", SLASH) for segment in path.split("/"))
