"""Ingest jobs run in the background: one at a time per store (whichever worker process
started it), with a status file each.

A job copies nothing it was not given: an upload is saved into ``state_dir/uploads/<id>``
(removed when the job ends); a server path is used where it is. The job opens its own
store handle, runs `ingest.job.run_ingest` (and by default re-scores every family), and its
status — with the ingest summary and a rejects summary — is kept in
``state_dir/ingest-jobs/<id>.json``, which every worker reads, so it survives a restart of the API.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import shutil
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from api.auth import User
from api.present import jsonable
from api.schemas import JobOut
from graph import open_store
from graph.errors import AppError, Conflict, NotFound
from graph.store import GraphStore

__all__ = ["JobRegistry", "rejects_summary"]

log = logging.getLogger("prospect_graph.api")
RUNNING_LOCK = ".running.lock"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def rejects_summary(report_dir: Path | None, top: int = 20) -> dict[str, Any]:
    """Counts of the rejects report by table, file and reason (no values: they may be personal)."""
    if report_dir is None:
        return {}
    found = sorted(Path(report_dir).glob("rejects*.csv"))
    if not found:
        return {"total": 0, "report": str(report_dir)}
    df = pd.read_csv(found[0], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    out: dict[str, Any] = {"total": len(df), "report": str(report_dir)}
    for col in ("table", "file", "reason", "action"):
        if col in df.columns:
            out[f"by_{col}"] = dict(Counter(df[col]).most_common(top))
    return out


def _summary_dict(summary: Any) -> dict[str, Any]:
    if hasattr(summary, "to_dict"):
        data = summary.to_dict()
    elif hasattr(summary, "model_dump"):
        data = summary.model_dump()
    else:
        data = dict(vars(summary)) if summary is not None else {}
    return {str(k): jsonable(v) if not isinstance(v, Path) else str(v) for k, v in data.items()}


class _ScoringFailed(Exception):
    """The ingest of a job worked; the re-scoring after it did not."""


class _Cancelled(Exception):
    """A user asked the job to stop; raised between two steps of its ingest or scoring."""


class JobRegistry:
    """The ingest jobs of one store, the same in every worker process of `serve --workers N`.

    A job's status file is its record: `get` and `list` read the files, so a job started by
    one worker is seen by all. The running job holds an exclusive lock on
    ``ingest-jobs/.running.lock`` (its id written inside) from `submit` to its end, so a
    second job from any worker is refused (409); a job whose file still says queued or
    running but which holds no lock was cut off (its server stopped) and reads as failed.
    """

    def __init__(self, store: GraphStore, jobs_dir_name: str = "ingest-jobs") -> None:
        self.store = store
        self.dir = store.state_dir / jobs_dir_name
        self.uploads = store.state_dir / "uploads"
        self._jobs: dict[str, JobOut] = {}  # the jobs this process runs: their latest status
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}

    def new_upload_dir(self) -> tuple[str, Path]:
        job_id = secrets.token_hex(6)
        path = self.uploads / job_id
        path.mkdir(parents=True, exist_ok=False)
        return job_id, path

    def submit(self, bundle: Path, *, source: Literal["upload", "path"], user: User, score: bool = True,
               job_id: str | None = None, cleanup: Path | None = None) -> JobOut:
        """Start the ingest of `bundle` in a background thread; Conflict while another runs (in any worker)."""
        held = self._take_running_lock()
        if held is None:
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)
            raise Conflict(f"ingest job {self._running_id() or '(starting)'} is still running; "
                           "try again when it ends")
        try:
            job = JobOut(id=job_id or secrets.token_hex(6), status="queued", source=source,
                         submitted_by=user.name, created=_now(), score=score)
            os.ftruncate(held, 0)
            os.pwrite(held, job.id.encode(), 0)  # before the status file: a reader never sees it unowned
            with self._lock:
                self._jobs[job.id] = job
                self._save(job)
            thread = threading.Thread(target=self._run_holding, args=(job.id, bundle, cleanup, held), daemon=True,
                                      name=f"ingest-{job.id}")
            self._threads[job.id] = thread
            thread.start()
        except BaseException:
            os.close(held)
            raise
        return job

    def get(self, job_id: str) -> JobOut:
        path = self.dir / f"{job_id}.json"
        if not job_id.isalnum() or not path.exists():
            raise NotFound(f"no ingest job {job_id!r}")
        job = self._read(path)
        if job is None:
            raise NotFound(f"no ingest job {job_id!r}")
        if job.status not in ("queued", "running"):
            self._cancel_mark(job_id).unlink(missing_ok=True)  # asked as it was ending: nothing left to stop
            return job
        return self._cut_off(job, self._running_id()).model_copy(
            update={"cancel_requested": self._cancel_mark(job_id).exists()})

    def list(self) -> list[JobOut]:
        found = [job for path in self.dir.glob("*.json") if (job := self._read(path)) is not None] \
            if self.dir.exists() else []
        if any(job.status in ("queued", "running") for job in found):
            running = self._running_id()
            found = [self._cut_off(job, running) if job.status in ("queued", "running") else job for job in found]
        return sorted(found, key=lambda j: j.created, reverse=True)

    def cancel(self, job_id: str) -> JobOut:
        """Ask a queued or running job to stop at its next step, whichever worker runs it (a mark
        in the jobs folder, which the job looks for as each step starts). An ingest stopped before
        its commit leaves the store as it was; one stopped while scoring keeps the version it
        committed. Conflict once the job has ended."""
        job = self.get(job_id)
        if job.status not in ("queued", "running"):
            raise Conflict(f"ingest job {job_id} has already ended ({job.status})")
        self._cancel_mark(job_id).touch()
        return job.model_copy(update={"cancel_requested": True})

    def wait(self, job_id: str, timeout: float | None = None) -> JobOut:
        """Block until the job ends (tests and scripts); a job of another worker is polled."""
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)
            return self.get(job_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while (job := self.get(job_id)).status in ("queued", "running"):
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return job

    # ---------------------------------------------------------------- internals
    def _take_running_lock(self) -> int | None:
        """The running lock's descriptor, held exclusively; None while a job runs (a few tries:
        a reader's brief shared probe in `_running_id` must not read as a running job)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / RUNNING_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        for attempt in range(3):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                time.sleep(0.01 * (attempt + 1))
        os.close(fd)
        return None

    def _running_id(self) -> str | None:
        """The id of the job running now in any worker, None when none runs."""
        path = self.dir / RUNNING_LOCK
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: a job runs, its id is in the file
                return os.pread(fd, 64, 0).decode("ascii", "replace").strip() or None
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def _cancel_mark(self, job_id: str) -> Path:
        return self.dir / f"{job_id}.cancel"

    @staticmethod
    def _cut_off(job: JobOut, running: str | None) -> JobOut:
        """A queued or running job that is not the one holding the lock: its server stopped."""
        if job.id == running:
            return job
        return job.model_copy(update={"status": "failed", "error": "interrupted: the server stopped while the "
                                                                  "job ran; the store was left as it was"})

    @staticmethod
    def _read(path: Path) -> JobOut | None:
        try:
            return JobOut.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            job = self._jobs[job_id].model_copy(update=changes)
            self._jobs[job_id] = job
            self._save(job)

    def _save(self, job: JobOut) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{job.id}.tmp"
        tmp.write_text(job.model_dump_json(indent=1), encoding="utf-8")
        os.replace(tmp, self.dir / f"{job.id}.json")

    def _run_holding(self, job_id: str, bundle: Path, cleanup: Path | None, held: int) -> None:
        try:
            self._run(job_id, bundle, cleanup)
        finally:
            with self._lock:
                self._jobs.pop(job_id, None)
            os.close(held)  # the last status is saved: the next job may start, in any worker

    def _run(self, job_id: str, bundle: Path, cleanup: Path | None) -> None:
        mark = self._cancel_mark(job_id)

        def stop_if_asked(job: str, step: str) -> None:  # as each step of the ingest or scoring starts
            if mark.exists():
                raise _Cancelled(f"{job}: {step}")

        self._update(job_id, status="running", started=_now())
        data: dict[str, Any] | None = None
        try:
            from graph.progress import watching
            from ingest.job import run_ingest  # lazy: the API starts without loading ingest
            from leads.watchers import INGEST_WATCHERS
            from scoring.run import score_all

            store = open_store(self.store.root)  # its own handle: request threads keep theirs
            with watching(stop_if_asked):
                summary = run_ingest(store, bundle, watchers=INGEST_WATCHERS)
            data = _summary_dict(summary)
            self._update(job_id, summary=data, rejects=rejects_summary(getattr(summary, "report_dir", None)))
            if self._jobs[job_id].score:
                try:
                    with watching(stop_if_asked):
                        score_all(store)
                except _Cancelled:
                    raise
                except Exception as exc:  # the ingest stands; say that only scoring failed
                    raise _ScoringFailed(f"ingested (store version {data.get('version')}), but scoring "
                                         f"failed: {exc if isinstance(exc, AppError) else type(exc).__name__}"
                                         ) from exc
            self._update(job_id, status="succeeded", finished=_now())
        except _Cancelled as exc:
            self._update(job_id, status="cancelled", finished=_now(), error=(
                f"cancelled at {exc}: the store was left as it was" if data is None else
                f"cancelled at {exc}: the ingest stands (store version {data.get('version')}); the prospects "
                "are still those of the earlier scoring: run score"))
        except (AppError, _ScoringFailed) as exc:
            if isinstance(exc, _ScoringFailed) and not isinstance(exc.__cause__, AppError):
                log.error("scoring after ingest job %s failed", job_id, exc_info=exc.__cause__)
            self._update(job_id, status="failed", finished=_now(), error=str(exc))
        except Exception as exc:  # a job must end with a status, whatever happened
            log.exception("ingest job %s failed", job_id)
            self._update(job_id, status="failed", finished=_now(),
                         error=f"internal error ({type(exc).__name__}); the server log has the details")
        finally:
            mark.unlink(missing_ok=True)
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)
