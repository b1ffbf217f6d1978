"""Who may write to a lead: the one check the API and the CLI both apply.

A lead write (claim, disposition, owner change) is judged by the LEAD — its branch and its
best family and kind — never by the entity alone (a shared supplier has no branch):

- the caller's branch scope must include the lead's branch, and the caller's role must have
  rights on the lead's family and kind (`api.masking.POLICIES`);
- the manager who takes the lead must exist, belong to the lead's branch (and the caller's
  branch when the caller is branch-limited), and be on the family's side: a corporate
  manager's role rights for corporate families, a retail manager's for retail ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from api.auth import User
from api.masking import POLICIES
from graph.errors import Forbidden, InvalidRequest, NotFound
from graph.store import GraphStore

__all__ = ["LeadFacts", "lead_facts", "check_lead_write", "check_manager", "check_joint_visit", "manager_branch"]


@dataclass(frozen=True)
class LeadFacts:
    """What decides who may write to a lead: its branch and its best family and kind."""

    entity_id: str
    branch_id: str | None
    family: str | None
    kind: str | None
    entity_kind: str | None = None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def lead_facts(store: GraphStore, entity_id: str) -> LeadFacts:
    """The lead's branch (its best prospect row's, else the entity's) and best family/kind."""
    rows = store.read("prospects", ["prospect_id", "family", "kind", "score", "branch_id"])
    rows = rows[rows["prospect_id"].astype(str) == entity_id]
    node = store.node(entity_id)
    if rows.empty and node is None:
        raise NotFound(f"no entity with id {entity_id!r}")
    node_branch = _text((node or {}).get("branch_id"))
    entity_kind = _text((node or {}).get("kind"))
    if rows.empty:
        return LeadFacts(entity_id, node_branch, None, None, entity_kind)
    best = rows.sort_values("score", ascending=False).iloc[0]
    return LeadFacts(entity_id, _text(best["branch_id"]) or node_branch, str(best["family"]), str(best["kind"]),
                     entity_kind)


def _allows(role: str, family: str | None, kind: str | None, entity_kind: str | None = None) -> bool:
    policy = POLICIES.get(role)
    if policy is None:
        return False
    if family is None:  # an entity with no prospect row: no family gives rights on it
        return role == "admin"
    return policy.allows(family, kind, entity_kind)


def check_lead_write(user: User, facts: LeadFacts) -> None:
    """Forbidden unless `user` may write to this lead (branch scope and family rights)."""
    if user.branch is not None and facts.branch_id not in (None, user.branch):
        raise Forbidden(f"the lead {facts.entity_id} belongs to another branch than your token's")
    if user.role != "admin" and not _allows(user.role, facts.family, facts.kind, facts.entity_kind):
        what = f"{facts.family} ({facts.kind})" if facts.family else "without a prospect row"
        raise Forbidden(f"the {user.role} role cannot work a lead {what}")


def check_manager(store: GraphStore, manager_id: str, facts: LeadFacts, caller_branch: str | None = None) -> None:
    """InvalidRequest unless `manager_id` exists, is of the lead's (and caller's) branch and the family's side."""
    managers = store.read("managers", ["id", "kind", "branch_id"])
    found = managers[managers["id"].astype(str) == manager_id]
    if found.empty:
        raise InvalidRequest(f"no manager with id {manager_id!r}")
    row = found.iloc[0]
    branch = _text(row["branch_id"]) if not pd.isna(row["branch_id"]) else None
    if caller_branch is not None and branch != caller_branch:
        raise Forbidden(f"manager {manager_id} is not of your branch {caller_branch}")
    if facts.branch_id is not None and branch not in (None, facts.branch_id):
        raise InvalidRequest(f"manager {manager_id} is of branch {branch}, the lead {facts.entity_id} "
                             f"of branch {facts.branch_id}")
    side = str(row["kind"])
    if facts.family is not None and not _allows(f"{side}_manager", facts.family, facts.kind, facts.entity_kind):
        raise InvalidRequest(f"manager {manager_id} is a {side} manager and cannot take a "
                             f"{facts.family} ({facts.kind}) lead")


def check_joint_visit(store: GraphStore, user: User, row: dict[str, Any], manager: str) -> None:
    """Who may ask a shared lead's owner for a joint visit: the lead-write branch rule (the
    caller's branch must include the lead's), and `manager` an existing manager of the caller's
    branch among the row's `shared_with` — being shared the row is what gives the right, so the
    family rule of `check_lead_write` is not asked (an employer's corporate manager is shared its
    payroll-day campaign)."""
    branch = _text(row.get("branch_id"))
    if user.branch is not None and branch not in (None, user.branch):
        raise Forbidden(f"the lead {row['entity_id']} belongs to another branch than your token's")
    managers = store.read("managers", ["id", "branch_id"])
    found = managers[managers["id"].astype(str) == manager]
    if found.empty:
        raise InvalidRequest(f"no manager with id {manager!r}")
    if user.branch is not None and _text(found.iloc[0]["branch_id"]) != user.branch:
        raise Forbidden(f"manager {manager} is not of your branch {user.branch}")


def manager_branch(store: GraphStore, manager_id: str, caller_branch: str | None = None,
                   required: bool = True) -> str | None:
    """The branch of manager `manager_id` (None: of no branch, or no such manager when not
    `required`, else NotFound), Forbidden for a branch-limited caller naming another branch's
    manager: a list filtered by a manager (/leads, /plan, /track) would tell which leads are that
    manager's or shared with them."""
    managers = store.read("managers", ["id", "branch_id"])
    found = managers[managers["id"].astype(str) == manager_id]
    if found.empty:
        if not required:
            return None
        raise NotFound(f"no manager with id {manager_id!r}")
    branch = _text(found.iloc[0]["branch_id"])
    if caller_branch is not None and branch not in (None, caller_branch):
        raise Forbidden(f"manager {manager_id} is not of your branch {caller_branch}")
    return branch
