"""Liveness and who-am-I."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import StoreDep, ViewerDep
from api.errors import ERROR_RESPONSES
from api.schemas import HealthOut, MeOut
from api.warm import warming
from graph.schema import FAMILIES
from graph.store import GraphStore

__all__ = ["router"]

router = APIRouter(tags=["health"], responses=ERROR_RESPONSES)


@router.get("/health", response_model=HealthOut)
def health(store: StoreDep) -> HealthOut:
    """Whether the service is up, its store version and families, and whether it is still warming."""
    families: list[str] = store.remembered(("health families",), lambda: _scored_families(store), list, keep=True)
    return HealthOut(backend=store.backend, version=store.version, families=families, warming=warming())


def _scored_families(store: GraphStore) -> list[str]:
    """The families with rows in this version's prospects (the distinct values of one column,
    read once per version: a load balancer's polling must not read the column every time)."""
    scored = set(store.read("prospects", ["family"])["family"].dropna().unique().tolist())
    return [f for f in FAMILIES if f in scored]


@router.get("/me", response_model=MeOut)
def me(viewer: ViewerDep) -> MeOut:
    """The signed-in user: name, role, branch scope and the families the role may list."""
    user = viewer.user
    return MeOut(name=user.name, role=user.role, branch=user.branch, manager=user.manager,
                 families=viewer.families)
