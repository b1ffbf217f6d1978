"""Liveness and who-am-I."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import StoreDep, ViewerDep
from api.errors import ERROR_RESPONSES
from api.schemas import HealthOut, MeOut
from api.warm import warming
from graph.schema import FAMILIES

__all__ = ["router"]

router = APIRouter(tags=["health"], responses=ERROR_RESPONSES)


@router.get("/health", response_model=HealthOut)
def health(store: StoreDep) -> HealthOut:
    """Whether the service is up, its store version and families, and whether it is still warming."""
    scored = set(store.read("prospects", ["family"])["family"].dropna())
    return HealthOut(backend=store.backend, version=store.version, families=[f for f in FAMILIES if f in scored],
                     warming=warming())


@router.get("/me", response_model=MeOut)
def me(viewer: ViewerDep) -> MeOut:
    """The signed-in user: name, role, branch scope and the families the role may list."""
    user = viewer.user
    return MeOut(name=user.name, role=user.role, branch=user.branch, manager=user.manager,
                 families=viewer.families)
