"""Ingest jobs: multipart upload, server path under one root, refusals, one job at a time."""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.auth import add_token
from api.main import create_app
from api.settings import ApiSettings
from graph.errors import InvalidData
from tests.api.conftest import assert_error, auth, build_store

ENTERPRISES = "enterprise_id,name,is_client\nX1,甲机械有限公司,1\nX2,乙贸易有限公司,0\nX3,,1\n"
PAYMENTS = "payer_id,payee_name,amount,paid_on\nX1,乙贸易有限公司,1000,2024-01-05\nX1,丙公司,abc,2024-01-06\n"


@pytest.fixture()
def setup(tmp_path: Path):
    root = tmp_path / "root"
    (root / "bundle").mkdir(parents=True)
    (root / "bundle" / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
    (root / "bundle" / "payments.csv").write_text(PAYMENTS, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "enterprises.csv").write_text(ENTERPRISES, encoding="utf-8")
    store = build_store(tmp_path / "store")
    tokens = {"admin": add_token(store, "ops", "admin"), "analyst": add_token(store, "ana", "analyst")}
    app = create_app(store.root, ApiSettings(ingest_root=root, max_upload_bytes=4096))
    with TestClient(app) as client:
        yield client, app, tokens, root, outside, store


def _wait(client, token, job_id):
    for _ in range(300):
        body = client.get(f"/ingest/{job_id}", headers=auth(token)).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_upload_runs_in_background_with_rejects_summary(setup):
    client, _, tokens, *_ , store = setup
    before = store.version
    files = [("files", ("enterprises.csv", ENTERPRISES.encode(), "text/csv")),
             ("files", ("payments.csv", PAYMENTS.encode(), "text/csv"))]
    r = client.post("/ingest", headers=auth(tokens["admin"]), files=files, data={"score": "false"})
    assert r.status_code == 202, r.text
    assert r.json()["status"] in ("queued", "running", "succeeded") and r.json()["source"] == "upload"
    job = _wait(client, tokens["admin"], r.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["summary"]["rows_read"] == 5 and job["summary"]["rejected"] == 2
    assert job["rejects"]["total"] == 2 and job["rejects"]["by_table"] == {"enterprises": 1, "payments": 1}
    assert store.version != before and client.get("/entities/X1", headers=auth(tokens["admin"])).status_code == 200
    assert not any((store.state_dir / "uploads").iterdir())  # the upload is removed afterwards
    listed = client.get("/ingest", headers=auth(tokens["admin"])).json()["items"]
    assert listed[0]["id"] == job["id"]


def test_zip_upload_of_a_bundle_folder(setup):
    client, _, tokens, *_ = setup
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bundle/enterprises.csv", ENTERPRISES)
    r = client.post("/ingest", headers=auth(tokens["admin"]), data={"score": "false"},
                    files=[("files", ("bundle.zip", buf.getvalue(), "application/zip"))])
    assert r.status_code == 202, r.text
    assert _wait(client, tokens["admin"], r.json()["id"])["summary"]["rows_read"] == 3


def test_server_path_inside_root(setup):
    client, _, tokens, *_ = setup
    r = client.post("/ingest/path", headers=auth(tokens["admin"]), json={"path": "bundle", "score": False})
    assert r.status_code == 202, r.text
    assert _wait(client, tokens["admin"], r.json()["id"])["status"] == "succeeded"


def test_server_paths_outside_root_are_refused(setup):
    client, _, tokens, root, outside, _ = setup
    h = auth(tokens["admin"])
    assert_error(client.post("/ingest/path", headers=h, json={"path": "../outside"}), 403)
    assert_error(client.post("/ingest/path", headers=h, json={"path": str(outside)}), 403)
    assert_error(client.post("/ingest/path", headers=h, json={"path": "bundle/../../outside"}), 403)
    os.symlink(outside, root / "link")  # a symlink inside the root pointing out of it
    assert_error(client.post("/ingest/path", headers=h, json={"path": "link"}), 403)
    (root / "sneaky").mkdir()
    os.symlink(outside / "enterprises.csv", root / "sneaky" / "enterprises.csv")
    assert_error(client.post("/ingest/path", headers=h, json={"path": "sneaky"}), 403)
    (root / "mapped").mkdir()
    (root / "mapped" / "mapping.yaml").write_text(
        "tables:\n  enterprises:\n    - file: ../../outside/enterprises.csv\n", encoding="utf-8")
    assert_error(client.post("/ingest/path", headers=h, json={"path": "mapped/mapping.yaml"}), 403)
    assert_error(client.post("/ingest/path", headers=h, json={"path": "no-such-bundle"}), 404)
    assert_error(client.post("/ingest/path", headers=h, json={"path": ""}), 422)


def test_an_uploaded_mapping_names_the_uploads_files_only(setup):
    # a mapping sent with the upload could name any file the server can read: refused, and
    # nothing is ingested (the store keeps its version)
    client, _, tokens, root, outside, store = setup
    h = auth(tokens["admin"])
    before = store.version
    for name in (str(outside / "enterprises.csv"), "../../outside/enterprises.csv", "sub/../../*.csv"):
        mapping = f"tables:\n  enterprises:\n    - file: '{name}'\n".encode()
        r = client.post("/ingest", headers=h, files=[("files", ("mapping.yaml", mapping, "application/yaml"))])
        assert_error(r, 403)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # a zip of a bundle folder holding the mapping
        zf.writestr("b/mapping.yaml", f"tables:\n  enterprises:\n    - file: {outside / 'enterprises.csv'}\n")
    assert_error(client.post("/ingest", headers=h, files=[("files", ("b.zip", buf.getvalue(), "application/zip"))]),
                 403)
    ok = b"tables:\n  enterprises:\n    - file: firms.csv\n"  # the upload's own file: read
    r = client.post("/ingest", headers=h, data={"score": "false"}, files=[
        ("files", ("mapping.yaml", ok, "application/yaml")), ("files", ("firms.csv", ENTERPRISES.encode(), "text/csv"))])
    assert r.status_code == 202 and _wait(client, tokens["admin"], r.json()["id"])["status"] == "succeeded"
    assert store.version != before


def test_server_path_disabled_without_root(setup):
    _, _, tokens, _, _, store = setup
    with TestClient(create_app(store.root, ApiSettings(ingest_root=None))) as client:
        assert_error(client.post("/ingest/path", headers=auth(tokens["admin"]), json={"path": "bundle"}), 403)


def test_oversized_upload_is_413(setup):
    client, _, tokens, *_ = setup
    big = b"enterprise_id,name\n" + b"X,y\n" * 2000
    r = client.post("/ingest", headers=auth(tokens["admin"]), files=[("files", ("enterprises.csv", big, "text/csv"))])
    assert_error(r, 413)

    def chunks():  # no Content-Length: the limit still holds while streaming
        yield (b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="enterprises.csv"\r\n'
               b"Content-Type: text/csv\r\n\r\n")
        for _ in range(100):
            yield b"X,y\n" * 25
        yield b"\r\n--xyz--\r\n"

    streamed = client.post("/ingest", content=chunks(),
                           headers={**auth(tokens["admin"]), "Content-Type": "multipart/form-data; boundary=xyz"})
    assert "content-length" not in streamed.request.headers
    assert_error(streamed, 413)


def test_bad_uploads_are_400(setup):
    client, _, tokens, *_ = setup
    h = auth(tokens["admin"])
    assert_error(client.post("/ingest", headers=h, files=[("files", ("evil.sh", b"rm -rf /", "text/plain"))]), 400)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../escape.csv", "a,b\n")
    assert_error(client.post("/ingest", headers=h, files=[("files", ("b.zip", buf.getvalue(), "application/zip"))]),
                 400)
    assert_error(client.post("/ingest", headers=h, files=[("files", ("b.zip", b"not a zip", "application/zip"))]),
                 400)
    assert_error(client.post("/ingest", headers=h), 422)


def test_only_admin_runs_ingest(setup):
    client, _, tokens, *_ = setup
    assert_error(client.post("/ingest/path", headers=auth(tokens["analyst"]), json={"path": "bundle"}), 403)
    assert_error(client.get("/ingest", headers=auth(tokens["analyst"])), 403)
    assert_error(client.post("/ingest/path", json={"path": "bundle"}), 401)
    assert_error(client.get("/ingest/nope", headers=auth(tokens["admin"])), 404)


def test_second_job_while_one_runs_is_409(setup, monkeypatch):
    client, app, tokens, *_ = setup
    release = threading.Event()
    import ingest.job

    def slow_ingest(store, bundle, mapping=None, settings=None, watchers=()):
        release.wait(10)
        raise InvalidData("stopped by the test")

    monkeypatch.setattr(ingest.job, "run_ingest", slow_ingest)
    h = auth(tokens["admin"])
    first = client.post("/ingest/path", headers=h, json={"path": "bundle"})
    assert first.status_code == 202
    body = assert_error(client.post("/ingest/path", headers=h, json={"path": "bundle"}), 409)
    assert first.json()["id"] in body["error"]
    release.set()
    failed = app.state.jobs.wait(first.json()["id"], timeout=10)
    assert failed.status == "failed" and failed.error == "stopped by the test"
    again = client.post("/ingest/path", headers=h, json={"path": "bundle", "score": False})
    assert again.status_code == 202  # the registry is free again
    app.state.jobs.wait(again.json()["id"], timeout=10)


def test_scoring_failure_keeps_the_ingest_and_says_so(setup, monkeypatch):
    client, app, tokens, *_ , store = setup
    import scoring.run

    def broken(store, settings=None, families=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(scoring.run, "score_all", broken)
    r = client.post("/ingest/path", headers=auth(tokens["admin"]), json={"path": "bundle", "score": True})
    job = app.state.jobs.wait(r.json()["id"], timeout=30)
    assert job.status == "failed" and "scoring failed" in (job.error or "") and "boom" not in (job.error or "")
    assert job.summary["rows_read"] == 5 and job.summary["version"] == store.version


def _gated(monkeypatch, module, name):
    """Hold `module.name` until the test lets it go; returns (entered, release)."""
    entered, release = threading.Event(), threading.Event()
    real = getattr(module, name)

    def held(*args, **kwargs):
        entered.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, held)
    return entered, release


def test_a_job_cancelled_before_its_commit_leaves_the_store_as_it_was(setup, monkeypatch):
    client, app, tokens, *_, store = setup
    import ingest.job

    before = store.version
    entered, release = _gated(monkeypatch, ingest.job, "edge_parts")
    h = auth(tokens["admin"])
    job_id = client.post("/ingest/path", headers=h, json={"path": "bundle", "score": False}).json()["id"]
    assert entered.wait(30)
    assert_error(client.post(f"/ingest/{job_id}/cancel", headers=auth(tokens["analyst"])), 403)
    asked = client.post(f"/ingest/{job_id}/cancel", headers=h)
    assert asked.status_code == 202 and asked.json()["cancel_requested"] is True
    assert client.get(f"/ingest/{job_id}", headers=h).json()["cancel_requested"] is True
    release.set()  # derive ends; the job stops as its next step (the commit) starts
    job = app.state.jobs.wait(job_id, timeout=30)
    assert job.status == "cancelled" and "left as it was" in (job.error or "") and not job.cancel_requested
    assert store.version == before and not list(app.state.jobs.dir.glob("*.cancel"))
    assert_error(client.post(f"/ingest/{job_id}/cancel", headers=h), 409)  # it has ended
    assert_error(client.post("/ingest/nope/cancel", headers=h), 404)
    again = client.post("/ingest/path", headers=h, json={"path": "bundle", "score": False})
    assert app.state.jobs.wait(again.json()["id"], timeout=30).status == "succeeded"  # the next job runs


def test_a_job_cancelled_while_scoring_keeps_its_ingest(setup, monkeypatch):
    client, app, tokens, *_, store = setup
    import scoring.run

    monkeypatch.setattr(scoring.run, "process_count", lambda settings: 1)  # the families one after another
    entered, release = _gated(monkeypatch, scoring.run, "family_rows")
    h = auth(tokens["admin"])
    prospects = store.read("prospects")
    job_id = client.post("/ingest/path", headers=h, json={"path": "bundle", "score": True}).json()["id"]
    assert entered.wait(30)
    assert client.post(f"/ingest/{job_id}/cancel", headers=h).status_code == 202
    release.set()
    job = app.state.jobs.wait(job_id, timeout=60)
    assert job.status == "cancelled" and "the ingest stands" in (job.error or "")
    assert job.summary["version"] == store.version  # the ingest's version, no scoring version after it
    assert store.read("prospects").equals(prospects)


def test_an_xls_workbook_is_taken_as_the_ingest_reads_it(setup):
    _, _, tokens, root, _, store = setup
    book = (Path(__file__).parents[1] / "fixtures" / "ingest" / "xls" / "payments.xls").read_bytes()
    with TestClient(create_app(store.root, ApiSettings(ingest_root=root, max_upload_bytes=256 * 1024))) as client:
        r = client.post("/ingest", headers=auth(tokens["admin"]), data={"score": "false"}, files=[
            ("files", ("enterprises.csv", ENTERPRISES.encode(), "text/csv")),
            ("files", ("PAYMENTS.XLS", book, "application/vnd.ms-excel"))])
        assert r.status_code == 202, r.text
        job = _wait(client, tokens["admin"], r.json()["id"])
    assert job["status"] == "succeeded" and "PAYMENTS.XLS" in str(job["summary"]["files"]), job
