"""Issue #19 on a real uvicorn server: bodies after credentials, sessions, tokens, headers, logs."""

from __future__ import annotations

import json
import logging
import socket
import stat
from collections.abc import Iterator

import httpx
import pytest

from api.auth import RedactTokenFilter, add_token, authenticate, list_tokens, revoke_token
from api.cli import main
from api.settings import ApiSettings
from graph.errors import InvalidRequest
from graph.networkx_store import NetworkxStore
from tests.api.conftest import assert_error, auth, build_store
from tests.live import live_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], NetworkxStore]]:
    store = build_store(tmp_path_factory.mktemp("live") / "store")
    tokens = {"admin": add_token(store, "admin", "admin"),
              "corp_b01": add_token(store, "corp_b01", "corporate_manager", branch="B01", manager="M01")}
    with live_server(store.root, ApiSettings(max_upload_bytes=64 * 1024)) as base_url:
        yield base_url, tokens, store


def _raw(base_url: str, head: str, first_chunk: bytes) -> bytes:
    """Send a request head and the first bytes of a body; return what the server answers within 5 s."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(head.encode() + first_chunk)
        try:
            return s.recv(4096)
        except TimeoutError:
            return b""


# ------------------------------------------------------------------ 5. bodies


def test_a_huge_body_without_a_token_is_refused_before_it_is_read(live):
    base_url, _, _ = live
    head = ("POST /leads/E4/claim HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {250 * 1024 * 1024}\r\n\r\n")
    answer = _raw(base_url, head, b'{"manager": "' + b"x" * 65536)  # 64 KiB of the 250 MB announced
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_a_streamed_body_without_a_token_is_refused_before_it_is_read(live):
    base_url, _, _ = live
    head = ("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    answer = _raw(base_url, head, b"10000\r\n" + b"x" * 65536 + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_every_route_has_a_body_limit(live):
    base_url, tokens, _ = live
    with httpx.Client(base_url=base_url) as c:
        r = c.post("/leads/E4/claim", content=b'{"manager": "' + b"x" * (2 * 1024 * 1024) + b'"}',
                   headers={**auth(tokens["admin"]), "Content-Type": "application/json"})
        assert_error(r, 413)


# ------------------------------------------------------------------ 6. tokens and sessions


def test_the_cookie_carries_a_session_and_logout_ends_it(live):
    base_url, tokens, _ = live
    with httpx.Client(base_url=base_url) as c:
        r = c.get(f"/prospects?token={tokens['admin']}")
        assert r.status_code == 303
        sid = c.cookies.get("pg_session")
        assert sid and sid.startswith("ps_") and tokens["admin"] not in r.headers["set-cookie"]
        assert c.get("/prospects").status_code == 200
        c.get("/logout")
    with httpx.Client(base_url=base_url, cookies={"pg_session": sid}) as again:
        assert_error(again.get("/prospects"), 401)  # the old cookie no longer works


def test_revoked_and_expired_tokens_stop_working_with_their_sessions(live):
    base_url, _, store = live
    token = add_token(store, "short", "analyst", expires_days=1)
    with httpx.Client(base_url=base_url) as c:
        c.get(f"/prospects?token={token}")
        assert c.get("/prospects").status_code == 200
        revoke_token(store, "short")
        assert_error(c.get("/prospects"), 401)
        assert_error(c.get("/prospects", headers=auth(token)), 401)
    old = add_token(store, "old", "analyst", expires_days=1)
    records = json.loads((store.state_dir / "tokens.json").read_text(encoding="utf-8"))
    for t in records["tokens"]:
        if t["name"] == "old":
            t["expires"] = "2020-01-01T00:00:00+00:00"
    (store.state_dir / "tokens.json").write_text(json.dumps(records), encoding="utf-8")
    assert authenticate(store, old) is None


def test_token_add_refuses_unknown_branches_managers_and_duplicates(tmp_path, capsys):
    store = build_store(tmp_path / "s")
    for bad in [dict(branch=""), dict(branch="B99"), dict(manager="M99"), dict(branch="B02", manager="M01"),
                dict(expires_days=0)]:
        with pytest.raises(InvalidRequest):
            add_token(store, f"x{len(list_tokens(store))}", "corporate_manager", **bad)  # type: ignore[arg-type]
    add_token(store, "dup", "analyst")
    with pytest.raises(InvalidRequest):
        add_token(store, "dup", "analyst")
    root = str(tmp_path / "s")
    assert main(["token", "add", "y", "--role", "analyst", "--branch", "", "--store", root]) != 0
    assert main(["token", "add", "y", "--role", "analyst", "--expires", "30", "--store", root]) == 0
    capsys.readouterr()
    assert main(["token", "list", "--store", root]) == 0
    listed = capsys.readouterr().out
    assert "dup" in listed and "y\tanalyst" in listed and "pg_" not in listed
    assert main(["token", "revoke", "dup", "--store", root]) == 0
    assert "dup" not in [t["name"] for t in list_tokens(store)]
    assert main(["token", "revoke", "dup", "--store", root]) != 0


def test_the_audit_log_records_the_token_id(live):
    base_url, tokens, store = live
    with httpx.Client(base_url=base_url) as c:
        c.get("/entities/E1", headers=auth(tokens["corp_b01"]))
    lines = [json.loads(x) for x in (store.state_dir / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    wanted = next(t["id"] for t in list_tokens(store) if t["name"] == "corp_b01")
    assert any(line["token_id"] == wanted and line["action"] == "view_entity" for line in lines)


# ------------------------------------------------------------------ 7. the low items


@pytest.mark.parametrize("url", ["/x?%74oken=SECRET&a=1", "/x?a=1;token=SECRET", "/x?TOKEN=SECRET", "/x?token=SECRET"])
def test_tokens_in_urls_are_not_logged(url):
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1", "GET", url, "1.1", 303), None)
    RedactTokenFilter().filter(record)
    assert "SECRET" not in record.getMessage()


@pytest.mark.parametrize("url", ["/entities?q=330206197205213120", "/leads?manager=13812345678&x=%201",
                                 "/entities?q=%33%33%30206197205213120", "/search?q=138-1234-5678"])
def test_id_and_phone_numbers_typed_into_a_query_are_not_logged(url):
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1", "GET", url, "1.1", 200), None)
    RedactTokenFilter().filter(record)
    line = record.getMessage()
    assert not any(secret in line for secret in ("19720521", "1234", "213120")), line
    assert "GET /" in line and "HTTP/1.1" in line


def test_docs_need_a_token_and_answers_are_not_cached_or_sniffed(live):
    base_url, tokens, _ = live
    with httpx.Client(base_url=base_url) as c:
        assert_error(c.get("/openapi.json"), 401)
        assert_error(c.get("/docs"), 401)
        h = auth(tokens["admin"])
        assert c.get("/openapi.json", headers=h).status_code == 200
        for url in ["/prospects/supply_chain", "/prospects/supply_chain?format=csv",
                    "/prospects/supply_chain?format=xlsx", "/entities/E1"]:
            r = c.get(url, headers=h)
            assert r.status_code == 200, url
            assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"


def test_forwarded_for_is_not_believed_by_default(live):
    base_url, _, _ = live
    with httpx.Client(base_url=base_url) as c:
        for i in range(25):  # more than the 20 failures a minute, each from a "different" address
            c.get("/prospects", headers={"Authorization": "Bearer wrong", "X-Forwarded-For": f"10.0.0.{i}"})
        assert_error(c.get("/prospects", headers={"Authorization": "Bearer wrong",
                                                  "X-Forwarded-For": "10.9.9.9"}), 429)


def test_a_valid_token_is_not_locked_out_by_a_neighbours_failures(live):
    base_url, tokens, _ = live
    with httpx.Client(base_url=base_url) as c:
        for _ in range(25):
            c.get("/prospects", headers={"Authorization": "Bearer wrong"})
        assert c.get("/prospects", headers=auth(tokens["admin"])).status_code == 200


def test_store_files_are_private(tmp_path):
    from leads.board import ledger
    from leads.notes import NoteBook

    store = build_store(tmp_path / "s")
    add_token(store, "t", "analyst")
    ledger(store).record("E4", "meeting", "t", owner="M01")
    NoteBook(store.state_dir).add("E4", "客户有购房意向", ["home_purchase"], "t")
    assert (store.state_dir / "notes.sqlite").exists()
    for path in [store.root, *store.root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))



def test_a_zip_bomb_is_refused_by_ratio_and_by_total(tmp_path):
    import io
    import zipfile

    from api.ingest_files import TooLarge, _unzip

    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("payments.csv", b"0" * (8 * 1024 * 1024))  # 8 MiB of zeros: ~8 KiB compressed
    with pytest.raises(TooLarge, match="200x"):
        _unzip(archive, tmp_path, 512 * 1024 * 1024)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", b"x" * 4096)
    archive.write_bytes(buf.getvalue())
    with pytest.raises(TooLarge, match="4,000"):
        _unzip(archive, tmp_path, 4000)
