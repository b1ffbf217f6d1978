"""Where the store lives and which backend holds the graph (environment: PROSPECT_GRAPH_*)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["StoreSettings"]


class StoreSettings(BaseSettings):
    """Store location and backend. Neo4j settings keep their conventional names."""

    model_config = SettingsConfigDict(env_prefix="PROSPECT_GRAPH_", extra="ignore")

    store: Path = Field(default=Path("prospect-graph-store"), description="the store folder")
    backend: Literal["networkx", "neo4j"] = "networkx"
    neo4j_uri: str | None = Field(default=None, validation_alias="NEO4J_URI")
    neo4j_user: str = Field(default="neo4j", validation_alias="NEO4J_USER")
    neo4j_password: SecretStr = Field(default=SecretStr(""), validation_alias="NEO4J_PASSWORD")
    neo4j_database: str = Field(default="neo4j", validation_alias="NEO4J_DATABASE")
    neo4j_batch_size: int = Field(default=5000, ge=1, le=200_000)
    neo4j_namespace: str = Field(default="default", min_length=1, max_length=100,
                                 description="which store of the Neo4j database (several may share one)")
    keep_versions: int = Field(default=2, ge=1, description="store versions kept on disk")
