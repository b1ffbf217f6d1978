"""Response and request bodies of the API (they are the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "HealthOut", "EntityOut", "SearchOut", "EntityDetailOut", "EdgeOut", "SubgraphOut", "PathOut",
    "PathsOut", "EvidenceOut", "ProspectOut", "ProspectPage", "FamiliesOut", "JobOut", "JobsOut",
    "IngestPathIn", "MeOut",
]


class HealthOut(BaseModel):
    ok: bool = True
    backend: str
    version: str | None = Field(description="the store version being served")
    families: list[str] = Field(description="families with scored rows in this store")
    warming: bool = Field(False, description="this server process is still building its caches of "
                          "the store version (answers are right, the first ones slower)")


class MeOut(BaseModel):
    name: str
    role: str
    branch: str | None
    manager: str | None
    families: list[str] = Field(description="families this role may list")


class EntityOut(BaseModel):
    """A node as the caller may see it (persons masked by role, other branches restricted)."""

    id: str
    kind: str
    name: str | None = None
    is_client: bool | None = None
    is_external: bool | None = None
    branch_id: str | None = None
    masked: bool = False
    restricted: bool = False
    match: str | None = Field(default=None, description="search only: id, uscc, name or fuzzy")
    match_score: float | None = Field(default=None, description="search only: 0-100")


class SearchOut(BaseModel):
    items: list[EntityOut]


class EntityDetailOut(EntityOut):
    attributes: dict[str, Any] = Field(description="the node's columns the caller may see")
    degree: dict[str, int] = Field(description="edges by kind touching this entity")


class EdgeOut(BaseModel):
    src: str
    dst: str
    kind: str
    role: str | None = None
    position: str | None = None
    amount: float | None = None
    count: int | None = None
    first_on: str | None = None
    last_on: str | None = None
    months_active: int | None = None
    other_bank_amount: float | None = None
    share_pct: float | None = None


class SubgraphOut(BaseModel):
    center: str
    nodes: list[EntityOut]
    edges: list[EdgeOut]
    hidden_nodes: int = Field(default=0, description="entities outside the caller's branch scope, left out")
    hidden_edges: int = Field(default=0, description="links outside the caller's branch scope, left out")
    hidden_note: str | None = Field(default=None, description="e.g. '12 links outside your scope'")


class PathOut(BaseModel):
    nodes: list[str] = Field(description="entity ids from source to target")
    edges: list[str] = Field(description="edge kinds along the path")
    text: str = Field(description="the path in words, in the chosen language")


class PathsOut(BaseModel):
    paths: list[PathOut]
    entities: dict[str, EntityOut] = Field(description="every entity on the paths, by id")
    hidden_paths: int = Field(default=0, description="paths through entities outside the caller's scope, left out")
    hidden_note: str | None = Field(default=None, description="e.g. '2 paths outside your scope'")


class EvidenceOut(BaseModel):
    name: str
    label: str
    value: float | str | None = None
    contribution: float


class ProspectOut(BaseModel):
    family: str
    kind: str
    prospect_id: str
    name: str | None
    score: float
    rank: int | None
    reasons: list[str]
    evidence: list[EvidenceOut]
    path: list[str]
    suggested_products: list[str]
    manager_id: str | None = None
    branch_id: str | None = None
    anchor_id: str | None = None
    association_id: str | None = None
    employer_id: str | None = None
    is_deepening: bool | None = None
    masked: bool = False
    details: dict[str, Any] = Field(default_factory=dict)


class ProspectPage(BaseModel):
    family: str
    total: int = Field(description="rows matching the filters before paging")
    limit: int
    offset: int
    items: list[ProspectOut]


class FamiliesOut(BaseModel):
    families: list[str]


class JobOut(BaseModel):
    id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    source: Literal["upload", "path"]
    submitted_by: str
    created: str
    started: str | None = None
    finished: str | None = None
    score: bool = Field(description="whether the families are re-scored after the ingest")
    summary: dict[str, Any] = Field(default_factory=dict, description="rows read, accepted, rejected …")
    rejects: dict[str, Any] = Field(default_factory=dict, description="rejected rows by file and reason")
    error: str | None = None
    cancel_requested: bool = Field(default=False, description="a user asked the job to stop (POST /ingest/{id}/cancel)")


class JobsOut(BaseModel):
    items: list[JobOut]


class IngestPathIn(BaseModel):
    path: str = Field(min_length=1, max_length=4096,
                      description="a bundle folder or mapping.yaml under the server's ingest root")
    score: bool = Field(default=True, description="re-score every family after the ingest")
