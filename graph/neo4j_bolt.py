"""Running Cypher over Bolt with the official `neo4j` driver, errors turned into ours.

The driver is imported lazily, so the product runs without the `neo4j` extra until a
store is opened on Neo4j. An unreachable server, refused credentials or a missing database
become `BackendUnavailable` with one line naming the URI and user (never the password).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from graph.errors import BackendUnavailable, NotImplementedYet
from graph.settings import StoreSettings

__all__ = ["BoltRunner"]

T = TypeVar("T")


class _Tx:
    """One explicit transaction; every statement's records are read before the next runs."""

    def __init__(self, tx: Any) -> None:
        self._tx = tx

    def run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [rec.data() for rec in self._tx.run(query, params)]


class BoltRunner:
    """The production runner: sessions on `NEO4J_DATABASE` of the server at `NEO4J_URI`."""

    native_dates = True

    def __init__(self, settings: StoreSettings) -> None:
        try:
            import neo4j
        except ImportError as exc:
            raise NotImplementedYet(
                "the neo4j backend needs the neo4j driver: pip install 'prospect-graph[neo4j]'"
            ) from exc
        if not settings.neo4j_uri:
            raise BackendUnavailable("PROSPECT_GRAPH_GRAPH__BACKEND is neo4j but NEO4J_URI is not set "
                                     "(e.g. neo4j://db.bank.local:7687 or neo4j+s://xxxx.databases.neo4j.io)")
        self.uri = settings.neo4j_uri
        self.user = settings.neo4j_user
        self.database = settings.neo4j_database
        self._neo4j = neo4j
        with self._translate():
            try:
                self._driver = neo4j.GraphDatabase.driver(
                    self.uri, auth=(self.user, settings.neo4j_password.get_secret_value()),
                    connection_timeout=15.0, connection_acquisition_timeout=60.0,
                )
            except ValueError as exc:  # a malformed URI or scheme
                raise BackendUnavailable(f"NEO4J_URI {self.uri!r} is not a Neo4j address: {_line(exc)}") from exc
        self._verified = False

    # ------------------------------------------------------------------ runner
    def read(self, query: str, params: dict[str, Any], fetch_size: int) -> Iterator[dict[str, Any]]:
        """Stream a read's records; the driver fetches them `fetch_size` at a time."""
        self._verify()
        with self._translate(), self._driver.session(
                database=self.database, default_access_mode=self._neo4j.READ_ACCESS,
                fetch_size=fetch_size) as session:
            for rec in session.run(query, params):
                yield rec.data()

    def write(self, work: Callable[[Any], T]) -> T:
        """Run `work` in one explicit write transaction: committed whole or rolled back."""
        self._verify()
        with self._translate(), self._driver.session(database=self.database) as session:
            with session.begin_transaction() as tx:
                result = work(_Tx(tx))
                tx.commit()
            return result

    def schema(self, statements: Iterable[str]) -> None:
        """Schema statements run one by one in auto-commit (Neo4j forbids them in data transactions)."""
        self._verify()
        with self._translate(), self._driver.session(database=self.database) as session:
            for statement in statements:
                session.run(statement).consume()

    def close(self) -> None:
        self._driver.close()

    # ------------------------------------------------------------------ errors
    def _verify(self) -> None:
        if not self._verified:
            with self._translate():
                self._driver.verify_connectivity()
            self._verified = True

    @contextlib.contextmanager
    def _translate(self) -> Iterator[None]:
        ex = self._neo4j.exceptions
        where = f"Neo4j at {self.uri} (database {self.database!r}, user {self.user!r})"
        try:
            yield
        except ex.AuthError as exc:
            raise BackendUnavailable(f"{where} refused the credentials: check NEO4J_USER and "
                                     f"NEO4J_PASSWORD ({_line(exc)})") from exc
        except (ex.ServiceUnavailable, ex.SessionExpired) as exc:
            raise BackendUnavailable(f"cannot reach {where}: {_line(exc)}") from exc
        except ex.ConfigurationError as exc:
            raise BackendUnavailable(f"{where} is misconfigured: {_line(exc)}") from exc
        except ex.ClientError as exc:
            if "DatabaseNotFound" in str(getattr(exc, "code", "")):
                raise BackendUnavailable(f"{where}: no such database (check NEO4J_DATABASE)") from exc
            if "Security" in str(getattr(exc, "code", "")):
                raise BackendUnavailable(f"{where} denied the request: {_line(exc)}") from exc
            raise
        except (ex.TransientError, ex.DatabaseError) as exc:
            raise BackendUnavailable(f"{where} could not complete the request, nothing was changed: "
                                     f"{_line(exc)}") from exc


def _line(exc: BaseException) -> str:
    """The first line of an error, short enough for one line of output."""
    parts: list[str] = []
    for line in str(exc).splitlines():
        line = line.strip()
        if line and line not in parts:
            parts.append(line)
    text = " ".join(parts) or type(exc).__name__
    return text if len(text) <= 240 else text[:237] + "..."
