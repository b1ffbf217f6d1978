"""The one settings object: everything the product can be told from outside, in sections.

`get_settings()` reads the environment once per process and returns the root `Settings`;
each package reads its own section (`get_settings().ingest`, `.scoring`, `.api`, `.graph`).
Environment names are ``PROSPECT_GRAPH_<SECTION>__<FIELD>``, e.g.
``PROSPECT_GRAPH_INGEST__FUZZY_THRESHOLD=92`` or ``PROSPECT_GRAPH_API__SEARCH_THRESHOLD=70``;
the language is the one root field (``PROSPECT_GRAPH_LANG``). The flat names of earlier
releases (``PROSPECT_GRAPH_STORE``, ``PROSPECT_GRAPH_BACKEND``, ``PROSPECT_GRAPH_AS_OF``...) and
Neo4j's conventional ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``/``NEO4J_DATABASE`` are still
read (`FLAT_NAMES`); a nested name wins over a flat one.

The sections live here, at the bottom of the one-way imports, so that `ingest` and `scoring`
can read the root without importing `api`; `ingest.settings`, `scoring.settings` and
`api.settings` re-export their section under its old name.

Tests build a section directly (``IngestSettings(fuzzy_threshold=99)``) or put a whole root in
place with `override_settings`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from graph.vocabulary import OWN_BANK_NAMES, PLACEHOLDER_NAMES, Lang

__all__ = [
    "Lang",
    "Settings",
    "StoreSettings",
    "IngestSettings",
    "ScoringSettings",
    "ApiSettings",
    "FLAT_NAMES",
    "get_settings",
    "override_settings",
    "reset_settings",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StoreSettings(_Section):
    """Store location and backend (section `graph`). Neo4j settings keep their conventional names."""

    store: Path = Field(default=Path("prospect-graph-store"), description="the store folder")
    backend: Literal["networkx", "neo4j"] = "networkx"
    neo4j_uri: str | None = Field(default=None, validation_alias=AliasChoices("neo4j_uri", "NEO4J_URI"))
    neo4j_user: str = Field(default="neo4j", validation_alias=AliasChoices("neo4j_user", "NEO4J_USER"))
    neo4j_password: SecretStr = Field(default=SecretStr(""),
                                      validation_alias=AliasChoices("neo4j_password", "NEO4J_PASSWORD"))
    neo4j_database: str = Field(default="neo4j", validation_alias=AliasChoices("neo4j_database", "NEO4J_DATABASE"))
    neo4j_batch_size: int = Field(default=5000, ge=1, le=200_000)
    neo4j_namespace: str = Field(default="default", min_length=1, max_length=100,
                                 description="which store of the Neo4j database (several may share one)")
    keep_versions: int = Field(default=2, ge=1, description="store versions kept on disk")


class IngestSettings(_Section):
    """What an ingest decides by setting rather than by code (section `ingest`).

    Own-bank and placeholder names default to the shared words of `graph.vocabulary`.
    Example: ``PROSPECT_GRAPH_INGEST__FUZZY_THRESHOLD=92 prospect-graph ingest bundle/``.
    """

    fuzzy_threshold: float = Field(default=90.0, ge=50.0, le=100.0,
                                   description="rapidfuzz score (0-100) a name must reach to match a known enterprise")
    fuzzy_block_prefix: int = Field(default=2, ge=1, le=6,
                                    description="names are only compared within blocks sharing this many leading "
                                                "characters of their normalised form (or a shared token)")
    own_bank_names: list[str] = Field(default_factory=lambda: list(OWN_BANK_NAMES),
                                      description="payee_bank values meaning our own bank")
    placeholder_names: list[str] = Field(default_factory=lambda: list(PLACEHOLDER_NAMES),
                                         description="counterparty names that are placeholders, never entities")
    max_name_length: int = Field(default=200, ge=10, description="longer names are rejected")
    max_rejects_logged: int = Field(default=1_000_000, ge=0,
                                    description="rejects written to rejects.csv (the summary counts them all)")


class ScoringSettings(_Section):
    """What a scoring run reads (section `scoring`); the weights themselves are in a YAML file.

    `lang` is the root's language, copied in so code holding only this section can read it.
    """

    lang: Lang = "zh"
    weights: Path | None = Field(default=None, description="YAML file overriding scoring/weights.yaml")
    as_of: str | None = Field(default=None, description="score as of this date (default: latest data)")
    processes: int | None = Field(
        default=None, ge=1, description="processes `score` runs the families in (this one included); "
                                        "unset = min(2, cores); 1 = every family in this process")


class ApiSettings(_Section):
    """Everything the HTTP service can be told from outside (section `api`); defaults suit a local demo.

    `lang` is the root's language, copied in so code holding only this section can read it.
    """

    lang: Lang = Field(default="zh", description="language of reasons and export headers")
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
    search_threshold: float = Field(default=60.0, ge=0, le=100,
                                    description="rapidfuzz score a name must reach to be a search hit")
    max_unzipped_bytes: int = Field(default=512 * 1024 * 1024, ge=1,
                                    description="largest total a zip upload may unpack to (zip bombs)")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1, description="largest request body outside /ingest")
    public_docs: bool = Field(default=False, description="serve /docs and /openapi.json without a token")
    trusted_proxies: str | None = Field(
        default=None, description="addresses whose X-Forwarded-For is believed (uvicorn forwarded_allow_ips); "
                                  "unset = the peer address is the client")
    auth_failures_per_minute: int = Field(
        default=20, ge=1, description="failed sign-ins per client address per minute before 429")
    workers: int | None = Field(
        default=None, ge=1, description="`serve` worker processes (uvicorn workers); unset = one per core")
    request_threads: int = Field(
        default=1, ge=1, description="interactive requests a worker process runs at once (the threads its "
                                     "handlers run on; the rest wait their turn, first come first served)")
    export_threads: int = Field(
        default=1, ge=1, description="CSV/XLSX exports a worker process runs at once, beside the interactive "
                                     "requests (api.lanes)")


# Environment names read besides the nested ones: the flat names of earlier releases and Neo4j's
# conventional names. The old PROSPECT_GRAPH_FUZZY_THRESHOLD is the ingest threshold only (it
# used to change the API's search cut-off too; that is now PROSPECT_GRAPH_API__SEARCH_THRESHOLD).
FLAT_NAMES: dict[str, tuple[str, str]] = {
    "PROSPECT_GRAPH_STORE": ("graph", "store"),
    "PROSPECT_GRAPH_BACKEND": ("graph", "backend"),
    "PROSPECT_GRAPH_KEEP_VERSIONS": ("graph", "keep_versions"),
    "PROSPECT_GRAPH_NEO4J_BATCH_SIZE": ("graph", "neo4j_batch_size"),
    "PROSPECT_GRAPH_NEO4J_NAMESPACE": ("graph", "neo4j_namespace"),
    "NEO4J_URI": ("graph", "neo4j_uri"),
    "NEO4J_USER": ("graph", "neo4j_user"),
    "NEO4J_PASSWORD": ("graph", "neo4j_password"),
    "NEO4J_DATABASE": ("graph", "neo4j_database"),
    "PROSPECT_GRAPH_FUZZY_THRESHOLD": ("ingest", "fuzzy_threshold"),
    "PROSPECT_GRAPH_FUZZY_BLOCK_PREFIX": ("ingest", "fuzzy_block_prefix"),
    "PROSPECT_GRAPH_OWN_BANK_NAMES": ("ingest", "own_bank_names"),
    "PROSPECT_GRAPH_PLACEHOLDER_NAMES": ("ingest", "placeholder_names"),
    "PROSPECT_GRAPH_MAX_NAME_LENGTH": ("ingest", "max_name_length"),
    "PROSPECT_GRAPH_MAX_REJECTS_LOGGED": ("ingest", "max_rejects_logged"),
    "PROSPECT_GRAPH_WEIGHTS": ("scoring", "weights"),
    "PROSPECT_GRAPH_AS_OF": ("scoring", "as_of"),
    **{f"PROSPECT_GRAPH_{name.upper()}": ("api", name) for name in ApiSettings.model_fields
       if name not in ("lang", "search_threshold")},
}


class _FlatNamesSource(PydanticBaseSettingsSource):
    """Reads `FLAT_NAMES` from the environment into their sections (lowest priority)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the table whole

    def __call__(self) -> dict[str, Any]:
        environ = {k.upper(): v for k, v in os.environ.items()}
        out: dict[str, dict[str, Any]] = {}
        for env_name, (section, field) in FLAT_NAMES.items():
            value: Any = environ.get(env_name)
            if value is None:
                continue
            if value.lstrip().startswith("["):  # list settings are written as JSON, as pydantic-settings reads them
                try:
                    value = json.loads(value)
                except ValueError:
                    pass  # let the section's validation report it
            out.setdefault(section, {})[field] = value
        return out


class Settings(BaseSettings):
    """The root: the language and one section per package (environment ``PROSPECT_GRAPH_*``)."""

    model_config = SettingsConfigDict(env_prefix="PROSPECT_GRAPH_", env_nested_delimiter="__", extra="ignore")

    lang: Lang = Field(default="zh", description="language of reasons, headers and pages")
    no_progress: bool = Field(default=False, description="no progress bars even on a terminal")
    graph: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @model_validator(mode="after")
    def _one_language(self) -> Settings:
        return self.spoken()

    def spoken(self) -> Settings:
        """The sections that speak carry the root's language (one language setting)."""
        self.scoring = self.scoring.model_copy(update={"lang": self.lang})
        self.api = self.api.model_copy(update={"lang": self.lang})
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, dotenv_settings, file_secret_settings, _FlatNamesSource(settings_cls)


_current: Settings | None = None


def get_settings() -> Settings:
    """The settings of this process: read from the environment on first use, then kept."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


def reset_settings() -> None:
    """Forget the kept settings, so the next `get_settings()` reads the environment again."""
    global _current
    _current = None


@contextmanager
def override_settings(settings: Settings | None = None, **sections: Any) -> Iterator[Settings]:
    """Put `settings` (or the current ones with some fields replaced) in place for a block (tests).

    ``override_settings(lang="en")`` or ``override_settings(ingest=IngestSettings(fuzzy_threshold=99))``;
    the sections that speak keep the root's language.
    """
    global _current
    previous = _current
    chosen = settings or get_settings()
    if sections:
        chosen = chosen.model_copy(update=sections).spoken()
    _current = chosen
    try:
        yield chosen
    finally:
        _current = previous
