"""Several worker processes on one store (`prospect-graph serve --workers N`): the sign-in
throttle and the ingest jobs are the store's, not a process's.

Two app instances on one store stand for two workers (their state is in files and locks,
which behave the same between two apps of one process as between two processes); the last
tests run real server processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.main import create_app
from api.schemas import JobOut
from api.server import worker_count
from api.settings import ApiSettings
from graph.errors import InvalidData
from tests.api.conftest import assert_error, auth, build_store
from tests.live import served_process

ENTERPRISES = "enterprise_id,name,is_client\nX1,甲机械有限公司,1\nX2,乙贸易有限公司,0\n"


@pytest.fixture()
def two_workers(tmp_path: Path):
    root = tmp_path / "root"
    (root / "bundle").mkdir(parents=True)
    (root / "bundle" / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
    store = build_store(tmp_path / "store")
    token = add_token(store, "ops", "admin")
    settings = ApiSettings(ingest_root=root, auth_failures_per_minute=4)
    first, second = create_app(store.root, settings), create_app(store.root, settings)
    with TestClient(first) as a, TestClient(second) as b:
        yield a, b, first, second, token, store


def test_sign_in_failures_add_up_across_workers(two_workers):
    a, b, *_, token, _ = two_workers
    assert_error(a.get("/me", headers=auth("pg_bad1")), 401)
    assert_error(b.get("/me", headers=auth("pg_bad2")), 401)
    assert_error(a.get("/me", headers=auth("pg_bad3")), 401)
    assert_error(b.get("/me", headers=auth("pg_bad4")), 401)
    assert_error(a.get("/me", headers=auth("pg_bad5")), 429)  # the limit is 4, whichever worker counted
    assert_error(b.get("/me", headers=auth("pg_bad6")), 429)
    assert b.get("/me", headers=auth(token)).status_code == 200  # a valid token is never throttled


def test_a_job_of_one_worker_is_seen_and_blocks_the_other(two_workers, monkeypatch):
    a, b, first, second, token, _ = two_workers
    release = threading.Event()
    import ingest.job

    def slow_ingest(store, bundle, mapping=None, settings=None, watchers=()):
        release.wait(10)
        raise InvalidData("stopped by the test")

    monkeypatch.setattr(ingest.job, "run_ingest", slow_ingest)
    h = auth(token)
    started = a.post("/ingest/path", headers=h, json={"path": "bundle", "score": False})
    assert started.status_code == 202
    job_id = started.json()["id"]
    seen = b.get(f"/ingest/{job_id}", headers=h).json()
    assert seen["status"] in ("queued", "running") and seen["submitted_by"] == "ops"
    assert [j["id"] for j in b.get("/ingest", headers=h).json()["items"]] == [job_id]
    refused = assert_error(b.post("/ingest/path", headers=h, json={"path": "bundle"}), 409)
    assert job_id in refused["error"]  # names the job another worker runs
    release.set()
    assert first.state.jobs.wait(job_id, timeout=10).status == "failed"
    ended = second.state.jobs.wait(job_id, timeout=10)  # polled: the other worker's job
    assert ended.status == "failed" and ended.error == "stopped by the test"
    again = b.post("/ingest/path", headers=h, json={"path": "bundle", "score": False})
    assert again.status_code == 202  # free again, for any worker
    second.state.jobs.wait(again.json()["id"], timeout=10)
    assert {j["id"] for j in a.get("/ingest", headers=h).json()["items"]} == {job_id, again.json()["id"]}


def test_a_job_cut_off_by_a_stopped_server_reads_as_failed(two_workers):
    a, *_, token, store = two_workers
    jobs = store.state_dir / "ingest-jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    left = JobOut(id="abc123", status="running", source="path", submitted_by="ops", created="2026-01-01T00:00:00+00:00",
                  score=True)
    (jobs / "abc123.json").write_text(left.model_dump_json(), encoding="utf-8")
    body = a.get("/ingest/abc123", headers=auth(token)).json()
    assert body["status"] == "failed" and "interrupted" in body["error"]
    assert a.get("/ingest", headers=auth(token)).json()["items"][0]["status"] == "failed"
    r = a.post("/ingest/path", headers=auth(token), json={"path": "bundle", "score": False})
    assert r.status_code == 202  # a cut-off job does not block the next one


def test_worker_count_follows_option_then_setting_then_cores(monkeypatch):
    assert worker_count(3) == 3
    monkeypatch.setenv("PROSPECT_GRAPH_API__WORKERS", "2")
    from graph.settings import reset_settings

    reset_settings()
    try:
        assert worker_count() == 2
        monkeypatch.delenv("PROSPECT_GRAPH_API__WORKERS")
        reset_settings()
        assert worker_count() == len(os.sched_getaffinity(0))
    finally:
        reset_settings()


# ----------------------------------------------------------------- real processes
def _serve(store: Path, *args: str) -> AbstractContextManager[tuple[str, subprocess.Popen[bytes]]]:
    return served_process(store, *args, env={"PROSPECT_GRAPH_API__AUTH_FAILURES_PER_MINUTE": "4"})


def _workers(proc: subprocess.Popen[bytes], deadline: float) -> list[psutil.Process]:
    """The worker processes of a `serve --workers 2` (waited for until `deadline`)."""
    while len(psutil.Process(proc.pid).children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(p.cmdline())]


@contextmanager
def _two_workers(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], str, list[psutil.Process], float]]:
    """`serve --workers 2` on a fresh store: its URL, process, an admin token, the two worker
    processes and the deadline (30 s from start) the test keeps to."""
    store = build_store(tmp_path / "store")
    token = add_token(store, "ops", "admin")
    with _serve(store.root, "--workers", "2") as (base, proc):
        deadline = time.monotonic() + 30
        yield base, proc, token, _workers(proc, deadline), deadline


def test_serve_with_two_workers_runs_two_worker_processes(tmp_path):
    with _two_workers(tmp_path) as (base, proc, token, workers, _):
        assert len(workers) == 2, [p.cmdline() for p in psutil.Process(proc.pid).children()]
        clients = [httpx.Client(base_url=base) for _ in range(12)]  # the workers share the listening socket
        try:
            statuses = [c.get("/me", headers=auth(f"pg_bad{i}")).status_code for i, c in enumerate(clients)]
            assert clients[0].get("/me", headers=auth(token)).json()["name"] == "ops"
        finally:
            for c in clients:
                c.close()
        assert statuses == [401] * 4 + [429] * 8  # one count, whichever worker answered


def test_two_server_processes_share_the_throttle_and_the_job_list(tmp_path, monkeypatch):
    """Two processes on one store, each reached on its own port: which one answers is known."""
    root = tmp_path / "root"
    (root / "bundle").mkdir(parents=True)
    (root / "bundle" / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
    store = build_store(tmp_path / "store")
    token = add_token(store, "ops", "admin")
    monkeypatch.setenv("PROSPECT_GRAPH_API__INGEST_ROOT", str(root))
    with _serve(store.root, "--workers", "1") as (one, _), _serve(store.root, "--workers", "1") as (two, _):
        statuses = [httpx.get(f"{base}/me", headers=auth(f"pg_bad{i}")).status_code
                    for i, base in enumerate([one, two, one, two, one, two])]
        assert statuses == [401] * 4 + [429] * 2
        h = auth(token)
        job_id = httpx.post(f"{one}/ingest/path", headers=h, json={"path": "bundle", "score": False}).json()["id"]
        assert job_id in [j["id"] for j in httpx.get(f"{two}/ingest", headers=h).json()["items"]]
        deadline = time.monotonic() + 30
        while (body := httpx.get(f"{two}/ingest/{job_id}", headers=h).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert body["status"] == "succeeded" and body["summary"]["rows_read"] == 2


def test_a_served_process_warms_its_caches_and_survives_a_failing_step(tmp_path, monkeypatch, caplog):
    import api.person_branches
    import viz.facts
    from api.warm import warm_process

    store = build_store(tmp_path / "store")
    key = store.snapshot().cache_key
    assert key not in api.person_branches._persons and key not in viz.facts._index_cache
    done = warm_process(store)
    assert set(done) == {"graph libraries", "disk caches", "person branches", "prospect rows", "prospect indexes",
                         "search index", "lead board"}
    assert api.person_branches._persons[key]["P1"] == "B01"  # person → branch, as masking reads it
    assert key in viz.facts._index_cache
    import leads.board
    from leads.board import board_page

    def built_again(*args, **kwargs):
        raise AssertionError("the board was built again after warming")

    with monkeypatch.context() as patched:
        patched.setattr(leads.board, "_routed", built_again)
        board_page(store, limit=5)  # the version's board, as warmed

    def broken(store):
        raise RuntimeError("boom")

    monkeypatch.setattr(api.masking, "person_branches", broken)
    assert "person branches" not in warm_process(store)  # skipped, the others still built
    assert "warming person branches failed" in caplog.text


def test_health_says_whether_the_process_is_still_warming(tmp_path, monkeypatch):
    import api.warm

    gate = threading.Event()
    monkeypatch.setattr(api.warm, "_steps", lambda: [("held", lambda store: gate.wait(30))])
    monkeypatch.setattr(api.warm, "freeze_long_lived", lambda: 0)  # not the test process's collector
    app = create_app(store_path=build_store(tmp_path / "store").root, warm=True)
    with TestClient(app) as client:  # the lifespan starts the warm-up
        assert client.get("/health").json()["warming"] is True
        gate.set()
        deadline = time.monotonic() + 10
        while client.get("/health").json()["warming"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)


# ----------------------------------------------------------- what requests write, from several processes
def _in_processes(code: str, *args: str, count: int = 3) -> None:
    """Run `code` (argv: its index, then `args`) in `count` Python processes at once: each
    imports first, then all start together."""
    start = f"import time; time.sleep(max(0.0, {time.time() + 8.0} - time.time()))\n"
    imports, _, body = code.partition("\n")
    procs = [subprocess.Popen([sys.executable, "-c", imports + "\n" + start + body, str(i), *args])
             for i in range(count)]
    assert [p.wait(timeout=120) for p in procs] == [0] * count


def test_audit_lines_of_several_processes_stay_whole(tmp_path):
    path = tmp_path / "audit.jsonl"
    _in_processes(
        "import sys; from pathlib import Path; from api.audit import AuditLog; from api.auth import User\n"
        "log = AuditLog(Path(sys.argv[2])); user = User(name='w' + sys.argv[1], role='admin')\n"
        "for n in range(150):\n"  # lines of ~16 KB: more than one 8 KB buffer of a buffered write
        "    log.record(user, 'view_entity', ids=[f'E{n:05d}-{k:03d}-' + 'x' * 24 for k in range(400)])\n",
        str(path))
    from api.audit import AuditLog

    lines = AuditLog(path).read()  # every line parses: none was cut by another process's
    assert len(lines) == 450 and all(len(line["ids"]) == 400 for line in lines)
    assert min(len(line) for line in path.read_bytes().splitlines()) > 8192
    assert {line["user"] for line in lines} == {"w0", "w1", "w2"}


def test_refit_results_of_two_workers_are_both_kept(tmp_path):
    import json

    path = tmp_path / "refit.json"
    _in_processes(
        "import sys; from pathlib import Path; from leads.refit import _save\n"
        "for n in range(100):\n"
        "    _save(Path(sys.argv[2]), f'family{sys.argv[1]}-{n}', {'multipliers': {'x': n}})\n", str(path))
    assert len(json.loads(path.read_text(encoding="utf-8"))) == 300


def test_a_store_secret_made_by_several_processes_at_once_is_one(tmp_path):
    store = build_store(tmp_path / "store")
    out = tmp_path / "seen"
    out.mkdir()
    _in_processes(
        "import sys; from pathlib import Path; from graph.networkx_store import NetworkxStore\n"
        "secret = NetworkxStore(Path(sys.argv[2])).secret('fresh')\n"
        "(Path(sys.argv[3]) / sys.argv[1]).write_text(secret)\n", str(store.root), str(out), count=4)
    seen = {p.read_text() for p in out.iterdir()}
    assert len(seen) == 1 and len(seen.pop()) == 64


# ----------------------------------------------------------- how new connections spread over the workers
def _accepting_server(loop, held: int, wait: float):
    """A loopback server on `loop` with `share_accepts` installed, and `held` connections already open."""
    import asyncio
    import socket

    from api.server import share_accepts

    assert share_accepts(loop, per_connection=wait, at_most=1.0)
    accepted: list[float] = []

    class Proto(asyncio.Protocol):
        def connection_made(self, transport):
            accepted.append(time.perf_counter())

    server = loop.run_until_complete(loop.create_server(Proto, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    clients = []
    for _ in range(held):
        clients.append(socket.create_connection(("127.0.0.1", port)))
        loop.run_until_complete(asyncio.sleep(0.3))
    return server, port, accepted, clients


def test_a_worker_holding_connections_lets_a_new_one_wait_before_taking_it():
    import asyncio
    import socket

    loop = asyncio.new_event_loop()
    try:
        server, port, accepted, clients = _accepting_server(loop, held=3, wait=0.1)
        assert len(accepted) == 3  # each taken, the first at once, the others after 0.1 and 0.2 s
        asked = time.perf_counter()
        clients.append(socket.create_connection(("127.0.0.1", port)))
        loop.run_until_complete(asyncio.sleep(0.15))
        assert len(accepted) == 3  # holding 3: waits 3 × 0.1 s for a worker holding fewer to take it
        loop.run_until_complete(asyncio.sleep(0.5))
        assert len(accepted) == 4 and accepted[-1] - asked >= 0.3  # nobody else did: taken after the wait
        server.close()
        loop.run_until_complete(server.wait_closed())
    finally:
        for c in clients:
            c.close()
        loop.close()


def test_serve_with_two_workers_spreads_keep_alive_clients_over_both(tmp_path):
    with _two_workers(tmp_path) as (base, proc, token, workers, deadline):
        port = int(base.rsplit(":", 1)[1])

        def held() -> list[int]:
            return sorted(sum(1 for k in w.net_connections() if k.laddr and k.laddr.port == port and k.raddr)
                          for w in workers)

        while time.monotonic() < deadline:  # both workers serving (a worker still starting takes none)
            pair = [httpx.Client(base_url=base, headers=auth(token)) for _ in range(2)]
            try:
                for c in pair:
                    c.get("/health")
                    time.sleep(0.1)
                if held()[0] >= 1:
                    break
            finally:
                for c in pair:
                    c.close()
            time.sleep(0.2)
        time.sleep(0.5)  # the probe connections closed on the workers' side too
        clients = [httpx.Client(base_url=base, headers=auth(token)) for _ in range(8)]
        try:
            for c in clients:  # one after another, as the benchmark's clients connect
                assert c.get("/health").status_code == 200
                time.sleep(0.1)
            spread = held()
        finally:
            for c in clients:
                c.close()
    # asyncio's own accept gave a burst to the worker that woke first (7 + 1 was common)
    assert sum(spread) == 8 and spread[0] >= 3, spread


def test_what_a_warm_process_holds_is_frozen_out_of_full_collections():
    import gc

    from api.warm import YOUNG_OBJECTS, freeze_long_lived

    before = [["built at start"]]
    threshold = gc.get_threshold()
    try:
        frozen = freeze_long_lived()
        assert frozen == gc.get_freeze_count() > 1000  # modules, app, caches: all of them
        assert gc.get_threshold() == (YOUNG_OBJECTS, *threshold[1:])  # fewer young collections, so fewer full ones
        after = [["built by a request"]]
        walked = gc.get_objects()  # what a full collection walks
        assert not any(o is before for o in walked)
        assert any(o is after for o in walked)  # made afterwards: still collected as before
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert gc.get_freeze_count() == 0


def test_a_served_process_warms_a_version_committed_after_it_started(tmp_path, monkeypatch):
    import api.warm
    import graph.store

    warmed: list[str | None] = []
    monkeypatch.setattr(api.warm, "_steps", lambda: [("seen", lambda store: warmed.append(store.version))])
    monkeypatch.setattr(api.warm, "freeze_long_lived", lambda: 0)  # not the test process's collector
    store = build_store(tmp_path / "store")
    first = store.version
    app = create_app(store_path=store.root, warm=True)
    with TestClient(app) as client:
        deadline = time.monotonic() + 10
        while client.get("/health").json()["warming"] or not warmed:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert warmed == [first]
        client.get("/health")  # the same version: nothing more to warm
        scope = store._cache_scope()
        assert graph.store._DERIVED.get((scope, first)) is not None  # /health's families, kept
        store.write({"managers": store.read("managers")})  # a new version, as an ingest commits one
        assert store.version != first
        client.get("/health")  # the first request that sees it starts the warm-up
        while client.get("/health").json()["warming"] or len(warmed) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert warmed == [first, store.version]
        # once the new version is warm, what the process kept of the first one is let go
        assert graph.store._DERIVED.get((scope, first)) is None


def test_request_threads_bounds_the_handlers_a_worker_runs_at_once(tmp_path):
    """`api.request_threads` is the worker's thread limit for interactive handlers (default 1:
    first come, first served), `api.export_threads` its export lane's."""
    import anyio.to_thread

    from api.settings import ApiSettings

    def limit() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    root = build_store(tmp_path / "store").root
    with TestClient(create_app(store_path=root)) as client:
        assert client.portal.call(limit) == 1
        assert client.app.state.export_lane.total_tokens == 1
        assert client.get("/health").status_code == 200
    with TestClient(create_app(store_path=root, settings=ApiSettings(request_threads=40, export_threads=2))) as client:
        assert client.portal.call(limit) == 40
        assert client.app.state.export_lane.total_tokens == 2


def test_an_export_runs_on_its_own_lane_and_holds_up_no_interactive_request(tmp_path, monkeypatch):
    """With one interactive thread, a CSV export still being written does not keep a lookup
    waiting: the lookup is answered while the export is held, and the export then completes."""
    import threading

    import api.routers.leads
    import api.routers.prospects
    from api.auth import add_token

    store = build_store(tmp_path / "store")
    token = add_token(store, "lanes", "admin")
    release, started = threading.Event(), threading.Event()
    plain = api.routers.prospects.render

    def slow_render(*args, **kwargs):
        started.set()
        assert release.wait(10), "the lookup never came through while the export was held"
        return plain(*args, **kwargs)

    monkeypatch.setattr(api.routers.prospects, "render", slow_render)
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(store_path=store.root)) as client:
        exported: list[int] = []
        export = threading.Thread(target=lambda: exported.append(
            client.get("/prospects/supply_chain?format=csv", headers=headers).status_code))
        export.start()
        assert started.wait(10)
        me = client.get("/me", headers=headers)  # the interactive lane's one thread is free
        assert me.status_code == 200 and export.is_alive()
        release.set()
        export.join(10)
        assert exported == [200]


def test_commands_load_networkx_and_scipy_only_when_used_and_serve_loads_them_as_it_warms():
    """Ingest and score never import networkx or scipy (0.3-0.5 s of every process start); a served
    process imports them while it warms, so no request pays for it."""
    import subprocess
    import sys

    probe = ("import sys, api.cli, ingest.job, scoring.run, scoring.parallel, scoring.referral.score, "
             "scoring.retail_linkage.linkage, scoring.supply_chain, scoring.ecosystem, graph.networkx_store\n"
             "print(sorted(m for m in ('networkx', 'scipy') if m in sys.modules))\n"
             "from api.warm import _graph_libraries; _graph_libraries(None)\n"
             "print(sorted(m for m in ('networkx', 'scipy.sparse.csgraph') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "['networkx', 'scipy.sparse.csgraph']"
