"""One exception tree for the whole product; each class carries its HTTP status (`.status`),
which `api.errors` renders in the one error shape: the only place a status is defined."""

from __future__ import annotations

__all__ = [
    "AppError",
    "InvalidData",
    "InvalidMapping",
    "InvalidRequest",
    "NotFound",
    "NoPath",
    "Forbidden",
    "Unauthorized",
    "Conflict",
    "BackendUnavailable",
    "StoreCorrupted",
    "NotImplementedYet",
]


class AppError(Exception):
    """Base of every error the product raises on purpose; its message is shown to the user."""

    status = 400
    code = "error"


class InvalidData(AppError):
    """Input data cannot be used (unreadable file, missing required column, ...)."""

    status = 422
    code = "invalid_data"


class InvalidMapping(InvalidData):
    """A mapping file is malformed or names something that does not exist."""

    code = "invalid_mapping"


class InvalidRequest(AppError):
    """A request or command-line option is not acceptable."""

    status = 400
    code = "invalid_request"


class NotFound(AppError):
    """An entity, table, family or file does not exist."""

    status = 404
    code = "not_found"


class NoPath(NotFound):
    """No path between two entities within the hop limit."""

    code = "no_path"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Conflict(AppError):
    """The request clashes with the current state (an owned lead, a running ingest, ...)."""

    status = 409
    code = "conflict"


class BackendUnavailable(AppError):
    """The graph backend cannot be reached (Neo4j down, bad credentials, ...)."""

    status = 503
    code = "backend_unavailable"


class StoreCorrupted(AppError):
    """A store file is missing or unreadable; the message names it.

    503, not 500: a broken store file is the server's state, not a crash of the request.
    """

    status = 503
    code = "store_corrupted"


class NotImplementedYet(AppError):
    """A capability whose optional extra is not installed (the neo4j driver, scikit-learn for refit)."""

    status = 501
    code = "not_implemented"
