"""Ingest jobs: upload a bundle or name one on the server; they run in the background."""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status

from api.deps import AuditDep, IngestUser, JobsDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.ingest_files import resolve_server_path, save_uploads
from api.schemas import IngestPathIn, JobOut, JobsOut

__all__ = ["router"]

router = APIRouter(prefix="/ingest", tags=["ingest"], responses=ERROR_RESPONSES)


@router.post("", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED)
async def upload(user: IngestUser, jobs: JobsDep, settings: SettingsDep, audit: AuditDep,
                 files: Annotated[list[UploadFile], File(description="bundle files, or one .zip")],
                 score: Annotated[bool, Form(description="re-score every family afterwards")] = True) -> JobOut:
    """Start an ingest job from uploaded files (multipart); poll GET /ingest/{id}."""
    job_id, folder = jobs.new_upload_dir()
    try:
        bundle = await save_uploads(files, folder, settings.max_upload_bytes, settings.max_unzipped_bytes)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    job = jobs.submit(bundle, source="upload", user=user, score=score, job_id=job_id, cleanup=folder)
    audit.record(user, "ingest", job=job.id, source="upload", files=len(files))
    return job


@router.post("/path", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED)
def from_path(body: IngestPathIn, user: IngestUser, jobs: JobsDep, settings: SettingsDep,
              audit: AuditDep) -> JobOut:
    """Start an ingest job from a bundle folder or mapping.yaml under the server's ingest root."""
    bundle = resolve_server_path(body.path, settings.ingest_root)
    job = jobs.submit(bundle, source="path", user=user, score=body.score)
    audit.record(user, "ingest", job=job.id, source="path")
    return job


@router.get("", response_model=JobsOut)
def list_jobs(_: IngestUser, jobs: JobsDep) -> JobsOut:
    """Every ingest job, newest first."""
    return JobsOut(items=jobs.list())


@router.get("/{job_id}", response_model=JobOut)
def job_status(job_id: str, _: IngestUser, jobs: JobsDep) -> JobOut:
    """One job's status, its ingest summary and a summary of its rejected rows."""
    return jobs.get(job_id)


@router.post("/{job_id}/cancel", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED)
def cancel_job(job_id: str, user: IngestUser, jobs: JobsDep, audit: AuditDep) -> JobOut:
    """Ask a queued or running job to stop at its next step; 409 once it has ended."""
    job = jobs.cancel(job_id)
    audit.record(user, "ingest_cancel", job=job.id)
    return job
