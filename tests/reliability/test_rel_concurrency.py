"""Readers during ingests see one whole version; two ingests at once never interleave.

Readers: the answers of the main endpoints are first captured on a reference copy at S0 and
after each step (ingest B, score, ingest C, score). Then a real uvicorn server on 127.0.0.1
serves another copy while the same steps run and reader threads call the endpoints the whole
time: every answer must be byte-for-byte one of the captured answers for its URL (200, or
the 404 a not-yet-ingested entity gets) — an error, or an answer built from two versions,
matches none of them.

Writers: two forked processes start the same ingest at the same instant; one is refused with
`Conflict` (or, if the first finished before the second asked, both run one after the
other), and the store ends equal to the clean result.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.main import create_app
from graph.errors import Conflict
from graph.networkx_store import NetworkxStore
from ingest.job import run_ingest
from scoring.run import score_all
from tests.conftest import ARTIFACTS
from tests.graph.whole import whole_graph
from tests.live import live_server
from tests.reliability.conftest import States
from tests.reliability.helpers import content, fork_call, wait_exit, write_bundle_c

pytestmark = pytest.mark.timeout(90)

URLS = [
    "/prospects/supply_chain?limit=100",
    "/prospects/retail_linkage?limit=100",
    "/entities?q=%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8&limit=50",  # 有限公司
    "/entities/E0001",
    "/entities/E0001/neighbors?hops=2",
    # 常州电机 comes with bundle B: before it this is an expected 404 (no entity)
    "/paths?source=P0001&target=ext:97004731873e&max_hops=3",
    "/prospects/supply_chain?format=csv",
]
READERS = 4


def _signature(response: httpx.Response) -> str:
    if "json" in response.headers.get("content-type", ""):
        return f"{response.status_code} " + json.dumps(response.json(), sort_keys=True, ensure_ascii=False)
    return f"{response.status_code} {response.text}"


def _capture(client: Any, headers: dict[str, str], known: dict[str, dict[str, str]], state: str) -> None:
    for url in URLS:
        r = client.get(url, headers=headers)
        assert r.status_code in (200, 404), f"{url} at {state}: {r.status_code} {r.text[:200]}"
        known[url].setdefault(_signature(r), state)


def test_readers_during_ingests_see_one_whole_version(states: States, tmp_path: Path) -> None:
    """Forward only, as in production: ingest B, score, ingest C, score while readers read."""
    steps = [("ingest B", states.bundle_b), ("score", None), ("ingest C", write_bundle_c(tmp_path / "bundle-c")),
             ("score", None)]
    reference = states.copy(tmp_path / "reference")
    ref_token = add_token(reference, "reader", "admin")
    known: dict[str, dict[str, str]] = {url: {} for url in URLS}
    with TestClient(create_app(reference.root)) as ref:
        ref_headers = {"Authorization": f"Bearer {ref_token}"}
        _capture(ref, ref_headers, known, "S0")
        for n, (what, bundle) in enumerate(steps, start=1):
            run_ingest(reference, bundle) if bundle else score_all(reference)
            _capture(ref, ref_headers, known, f"after {n}: {what}")
    # every URL must tell some steps apart, or a mix could hide behind an answer two versions share
    assert all(len(answers) >= 2 for answers in known.values()), {u: len(a) for u, a in known.items()}

    store = states.copy(tmp_path / "store")
    headers = {"Authorization": f"Bearer {add_token(store, 'reader', 'admin')}"}
    seen: list[tuple[str, int, str]] = []
    stop = threading.Event()
    failures: list[str] = []
    with live_server(store.root) as base:
        def read() -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                i = 0
                while not stop.is_set():
                    url = URLS[i % len(URLS)]
                    i += 1
                    try:
                        r = client.get(url)
                    except httpx.HTTPError as exc:
                        failures.append(f"{url}: {exc!r}")
                        continue
                    seen.append((url, r.status_code, _signature(r)))

        threads = [threading.Thread(target=read, name=f"reader-{n}") for n in range(READERS)]
        for t in threads:
            t.start()
        try:
            for _ in range(2):  # let the readers get going at S0 first
                if len(seen) < READERS * 2:
                    stop.wait(0.5)
            for _, bundle in steps:
                run_ingest(store, bundle) if bundle else score_all(store)
        finally:
            stop.set()
            for t in threads:
                t.join(30)

    # an error, or an answer built from two versions, matches none of the captured answers
    mixed = [(url, status, body[:300]) for url, status, body in seen if body not in known[url]]
    states_seen = Counter(known[url][body] for url, _, body in seen if body in known[url])
    _record("readers_during_ingest", {"requests": len(seen), "readers": READERS, "steps": len(steps),
                                      "by_state": dict(states_seen), "not_one_version": len(mixed),
                                      "transport_errors": len(failures),
                                      "first_mixed": [f"{u} {b[:400]}" for u, _, b in mixed[:2]]})
    assert not failures and not mixed, (failures[:5], mixed[:5])
    assert len(states_seen) >= 2, f"readers saw only {dict(states_seen)}: no ingest happened while they read"


def _ingest_when_told(root: Path, bundle: Path, go: int) -> Any:
    def run() -> int:
        os.read(go, 1)  # both children wait here, then start together
        try:
            run_ingest(NetworkxStore(root), bundle)
        except Conflict:
            return 9
        return 0

    return run


@pytest.mark.parametrize("round_", [1, 2])
def test_two_ingests_at_once_never_interleave(states: States, tmp_path: Path, round_: int) -> None:
    store = states.copy(tmp_path / "store")
    read_end, write_end = os.pipe()
    pids = [fork_call(_ingest_when_told(store.root, states.bundle_b, read_end)) for _ in range(2)]
    os.write(write_end, b"go")
    codes = sorted(wait_exit(pid) for pid in pids)
    os.close(read_end)
    os.close(write_end)
    assert codes in ([0, 9], [0, 0]), f"exit codes {codes}: 0 = ingested, 9 = refused with Conflict"
    final = content(NetworkxStore(store.root))
    # refused: one clean ingest (S1); serialised: two in a row (S1b); anything else interleaved
    assert final == (states.s1 if codes == [0, 9] else states.s1b)
    _record(f"two_ingests_round_{round_}", {"outcome": "refused" if codes == [0, 9] else "serialised"})


def test_the_refusal_names_the_running_ingest(states: States, tmp_path: Path) -> None:
    store = states.copy(tmp_path / "store")
    with store.writer(), pytest.raises(Conflict, match="another ingest"):
        run_ingest(NetworkxStore(store.root), states.bundle_b)
    assert content(NetworkxStore(store.root)) == states.s0


def _record(key: str, value: dict[str, Any]) -> None:
    path = ARTIFACTS / "reliability-concurrency.json"
    ARTIFACTS.mkdir(exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False))


def _shape(g: Any) -> tuple[frozenset[Any], frozenset[Any]]:
    return frozenset((n, d.get("kind"), d.get("name")) for n, d in g.nodes(data=True)), frozenset(g.edges(keys=True))


def test_a_commit_during_one_read_is_not_seen_half(states: States, tmp_path: Path) -> None:
    """The deterministic form of the race above: a commit lands between two table reads of one
    whole-graph read (`whole_graph`: every node table, then `edges`) of a pinned view (`store.snapshot()`, what the API takes per request)."""
    store = states.copy(tmp_path / "store")
    # the caches are shared by every handle of one store: nothing of `store` is read before the
    # pinned view, so whole_graph(reader) really reads table after table (S0 is read from another copy)
    before = _shape(whole_graph(states.copy(tmp_path / "s0")))
    reader = NetworkxStore(store.root).snapshot()
    original = reader._read_table
    fired: list[str] = []

    def read_then_commit(table: str) -> Any:
        df = original(table)
        if not fired:  # right after the first table of the graph is read, an ingest commits
            fired.append(table)
            run_ingest(NetworkxStore(store.root), states.bundle_b)
        return df

    reader._read_table = read_then_commit  # type: ignore[method-assign]
    seen = _shape(whole_graph(reader))
    after = _shape(whole_graph(NetworkxStore(store.root)))
    assert fired and before != after
    assert seen == before, "a pinned view returned nodes and edges of a later version"
    assert _shape(whole_graph(reader)) == before  # and keeps its version for later reads too
