"""API settings, read from the environment (prefix ``PROSPECT_GRAPH_``).

Examples: ``PROSPECT_GRAPH_LANG=en``, ``PROSPECT_GRAPH_INGEST_ROOT=/data/exports``,
``PROSPECT_GRAPH_MAX_UPLOAD_BYTES=104857600``, ``PROSPECT_GRAPH_COOKIE_SECURE=true``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ApiSettings"]


class ApiSettings(BaseSettings):
    """Everything the HTTP service can be told from outside; defaults suit a local demo."""

    model_config = SettingsConfigDict(env_prefix="PROSPECT_GRAPH_", extra="ignore")

    lang: Literal["zh", "en"] = Field(default="zh", description="language of reasons and export headers")
    ingest_root: Path | None = Field(
        default=None, description="the one folder under which POST /ingest/path may read; unset = disabled")
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1, description="largest ingest upload")
    jobs_dir_name: str = Field(default="ingest-jobs", description="folder in state_dir for job status files")
    cookie_name: str = Field(default="pg_session", description="the session cookie holding the token")
    cookie_secure: bool = Field(default=False, description="mark the cookie Secure (set behind HTTPS)")
    cookie_max_age: int = Field(default=8 * 3600, ge=60, description="cookie lifetime in seconds")
    page_limit: int = Field(default=50, ge=1, description="rows per JSON page when no limit is given")
    max_page_limit: int = Field(default=1000, ge=1, description="largest JSON page")
    max_export_rows: int = Field(default=100_000, ge=1, description="largest CSV/XLSX export")
    search_limit: int = Field(default=20, ge=1, le=200, description="search results when no limit is given")
    fuzzy_threshold: float = Field(default=60.0, ge=0, le=100, description="rapidfuzz score for a fuzzy name hit")
    max_unzipped_bytes: int = Field(default=512 * 1024 * 1024, ge=1,
                                    description="largest total a zip upload may unpack to (zip bombs)")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1, description="largest request body outside /ingest")
    public_docs: bool = Field(default=False, description="serve /docs and /openapi.json without a token")
    trusted_proxies: str | None = Field(
        default=None, description="addresses whose X-Forwarded-For is believed (uvicorn forwarded_allow_ips); "
                                  "unset = the peer address is the client")
    auth_failures_per_minute: int = Field(
        default=20, ge=1, description="failed sign-ins per client address per minute before 429")
