"""Store factories for the backend-parametrised tests: networkx, a real Neo4j, and FalkorDB.

`neo4j` needs a server: it runs when NEO4J_URI is set (each test in its own namespace,
dropped afterwards) and skips with that reason otherwise. `falkordb` runs the Neo4j
backend's own Cypher on an embedded FalkorDB (the `falkordblite` package, Python >= 3.12):
a real openCypher engine, reached without Bolt — see docs/neo4j.md for what that proves.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pytest

from graph.settings import StoreSettings
from graph.store import GraphStore

T = TypeVar("T")
NO_SERVER = "NEO4J_URI is not set: no Neo4j server on this machine"
NO_FALKOR = ("falkordblite is not installed (it needs Python >= 3.12; this is the project's venv): "
             "see docs/neo4j.md to run these tests on FalkorDB")
BACKENDS = ["networkx", "neo4j", "falkordb"]


class FalkorRunner:
    """Runs the store's statements on an embedded FalkorDB graph.

    FalkorDB has no multi-statement transactions, no Neo4j 5 constraint syntax and no date
    type: `write` runs the statements one by one, `schema` is skipped, dates travel as ISO text.
    """

    native_dates = False

    def __init__(self, folder: Path, shared: bool = False) -> None:
        from redislite.falkordb_client import FalkorDB

        self.shared = shared  # one server for the session: a store's close() leaves it running
        folder.mkdir(parents=True, exist_ok=True)
        self._db = FalkorDB(str(folder / "falkor.db"))
        self._graph = self._db.select_graph("prospect_graph")
        self.statements: list[str] = []
        self._indexed = False

    def run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.statements.append(query)
        result = self._graph.query(query, params)
        names = [h[1] for h in result.header]
        return [dict(zip(names, row, strict=True)) for row in result.result_set]

    def read(self, query: str, params: dict[str, Any], fetch_size: int) -> Iterator[dict[str, Any]]:
        yield from self.run(query, params)

    def write(self, work: Callable[[Any], T]) -> T:
        return work(self)

    def schema(self, statements: Iterable[str]) -> None:
        """Neo4j 5 DDL is not FalkorDB's: make the equivalent lookup indexes instead."""
        if self._indexed:
            return
        from graph.neo4j_cypher import ENTITY, NODE_LABELS, ROW_LABELS, VERSION_LABEL

        wanted = [(ENTITY, "id"), (VERSION_LABEL, "_store"), *((label, "id") for label in NODE_LABELS.values()),
                  *((label, "_key") for label in ROW_LABELS.values())]
        for label, prop in wanted:
            try:
                self._graph.query(f"CREATE INDEX FOR (n:{label}) ON (n.{prop})")
            except Exception as exc:  # already there (the instance is shared by the session)
                if "already" not in str(exc).lower():
                    raise
        self._indexed = True

    def close(self) -> None:
        if not self.shared:
            self.shutdown()

    def shutdown(self) -> None:
        self._db.close()


_SHARED: dict[str, FalkorRunner] = {}


def shared_falkor_runner() -> FalkorRunner:
    """One embedded FalkorDB per test session (each store gets its own namespace in it)."""
    if "runner" not in _SHARED:
        import atexit
        import tempfile

        runner = FalkorRunner(Path(tempfile.mkdtemp(prefix="pg-falkordb-")), shared=True)
        atexit.register(runner.shutdown)
        _SHARED["runner"] = runner
    return _SHARED["runner"]


def falkordb_available() -> bool:
    try:
        import redislite.falkordb_client  # noqa: F401
    except ImportError:
        return False
    return True


def make_store(backend: str, root: Path, **settings: Any) -> GraphStore:
    """An empty store of `backend` (skips when the backend is not available here)."""
    if backend == "networkx":
        from graph.networkx_store import NetworkxStore

        return NetworkxStore(root)
    from graph.neo4j_store import Neo4jStore

    if backend == "neo4j":
        if not os.environ.get("NEO4J_URI"):
            pytest.skip(NO_SERVER)
        cfg = StoreSettings(neo4j_namespace=f"test-{uuid.uuid4().hex[:12]}", **settings)
        return Neo4jStore(root, cfg)
    if backend == "falkordb":
        if not falkordb_available():
            pytest.skip(NO_FALKOR)
        cfg = StoreSettings(neo4j_namespace=f"test-{uuid.uuid4().hex[:12]}", **settings)
        return Neo4jStore(root, cfg, runner=shared_falkor_runner())
    raise ValueError(backend)


def dispose(store: GraphStore) -> None:
    """Drop a test namespace from the server and close connections."""
    drop = getattr(store, "drop", None)
    if callable(drop):
        drop()
    close = getattr(store, "close", None)
    if callable(close):
        close()


def sample_tables() -> dict[str, pd.DataFrame]:
    """A small graph with the awkward values real exports carry (Chinese, quotes, gaps)."""
    return {
        "enterprises": pd.DataFrame({
            "id": ["E1", "E2", "E3", "E4", "ext:0a1b2c3d4e5f"],
            "name": ["华东精工机械制造有限公司", 'Quote "Co", Ltd', "多行\n名称", "E4 贸易", "外部（供应商）"],
            "uscc": ["91310000MA1K4XXXX1", None, "", None, None],
            "registered_capital": [1.5e7, None, 3.0, 0.0, None],
            "is_client": [True, False, None, True, False],
            "opened_on": ["2020-01-31", None, "2019-12-01", "2021-06-15", None],
            "is_external": [False, False, False, False, True],
        }),
        "persons": pd.DataFrame({"id": ["P1", "P2"], "name": ["张三", "李四"], "aum": [60000.0, None],
                                 "phone_masked": ["138****5678", None], "is_retail_client": [True, False]}),
        "associations": pd.DataFrame({"id": ["A1"], "name": ["保温材料行业协会"], "kind": ["industry_association"]}),
        "edges": pd.DataFrame({
            "src": ["E1", "E1", "E3", "E4", "P1", "P1", "E1", "E2"],
            "dst": ["E2", "E3", "E4", "E1", "E1", "E1", "A1", "ghost"],
            "kind": ["PAYS", "PAYS", "BILL", "PARENT_OF", "HOLDS_ROLE", "HOLDS_ROLE", "MEMBER_OF", "PAYS"],
            "amount": [100.0, 5.0, 50.0, None, None, None, None, 20.0],
            "count": [3, 1, 2, None, None, None, None, 1],
            "first_on": ["2024-01-05", "2024-02-01", "2024-03-01", None, None, None, None, "2024-01-01"],
            "role": [None, None, None, None, "legal_rep", "shareholder", None, None],
            "share_pct": [None, None, None, None, None, 30.0, None, None],
            "position": [None, None, None, None, None, None, "secretary_general", None],
        }),
        "payments": pd.DataFrame({
            "fact_id": ["f1", "f2", "f3", "f4"], "payer_id": ["E1", "E1", "E1", "E2"],
            "payee_id": ["E2", "E2", "E3", "ghost"], "payee_bank": ["工商银行", "", None, "他行"],
            "amount": [60.0, 40.0, 5.0, 20.0],
            "paid_on": ["2024-01-05", "2024-01-20", "2024-02-01", "2024-01-01"],
            "month": ["2024-01", "2024-01", "2024-02", "2024-01"],
        }),
        # repeated keys survive: the embedded store keeps every row
        "memberships": pd.DataFrame({"association_id": ["A1", "A1", "A1"], "member_id": ["E1", "E1", "P2"],
                                     "position": ["member", "secretary_general", "member"]}),
    }
