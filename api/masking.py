"""What each role may see: the one policy table, name masking and scrubbing of free text.

`POLICIES` says, per role, which prospect families (and kinds) it may list, whose person
details it sees (everyone's, its branch's or no one's), whether the salted ID hash may leave
the API, and whether it may run ingest jobs. A `Viewer` applies the policy of one user to
nodes, rows and free text; every router renders through it, so no path skips masking.

Names of persons a viewer may not see are masked like ``张*`` (two characters) or ``张*三``
(first and last kept). Phones are already masked in the store (``138****5678``); they are
shown only with person details. A masked name also disappears from free text (reasons,
path sentences, evidence values, details), because scoring may have written it there.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from api.auth import User
from graph.errors import Forbidden
from graph.schema import FAMILIES
from graph.store import GraphStore

__all__ = ["Policy", "POLICIES", "mask_name", "NameScrubber", "Viewer", "PERSON_MASKED_FIELDS"]

PersonDetails = Literal["all", "branch", "none"]


@dataclass(frozen=True)
class Policy:
    """One role's rights. `families` maps a family to its allowed kinds (None: every kind)."""

    families: dict[str, tuple[str, ...] | None]
    person_details: PersonDetails
    id_hash: bool = False
    ingest: bool = False


_ALL: dict[str, tuple[str, ...] | None] = {f: None for f in FAMILIES}
POLICIES: dict[str, Policy] = {
    # corporate managers work enterprises: the corporate families plus the retail-linkage
    # rows that are enterprises (corporate_from_retail: a company behind a retail client)
    "corporate_manager": Policy({"supply_chain": None, "referral": None, "ecosystem": None,
                                 "retail_linkage": ("corporate_from_retail",)}, "none"),
    "retail_manager": Policy({"retail_linkage": None}, "branch"),
    "analyst": Policy(dict(_ALL), "none"),
    "admin": Policy(dict(_ALL), "all", id_hash=True, ingest=True),
}

# What a person node shows when its details are hidden.
PERSON_MASKED_FIELDS = ("id", "kind", "table", "name", "is_retail_client", "tier", "branch_id",
                        "manager_id", "do_not_contact")
# Keys that never leave the API inside free-form structures for a masking viewer.
_SECRET_KEYS = {"id_hash", "id_number", "phone", "phone_masked", "mobile"}


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 张三丰 → 张*丰, 欧阳娜娜 → 欧**娜; the first and last characters stay."""
    if name is None:
        return None
    text = str(name).strip()
    if len(text) <= 1:
        return "*" if text else text
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


class NameScrubber:
    """Replaces every listed name in free text by its mask (longest match first).

    `keep` are names left as they are — enterprise and association names — so a person's
    name inside a shop's registered name (海曙区严芳鞋业经营部) is not cut up: the scan
    takes the longer enterprise name first and moves past it.
    """

    def __init__(self, names: set[str], keep: Iterable[str] = ()) -> None:
        masks = {n: mask_name(n) or "" for n in names if len(n) >= 2}
        self._masks = {**{k: k for k in keep if len(k) > 2 and k not in masks}, **masks}
        self._any = bool(masks)
        by_first: dict[str, set[int]] = {}
        for n in self._masks:
            by_first.setdefault(n[0], set()).add(len(n))
        self._lengths = {c: sorted(ls, reverse=True) for c, ls in by_first.items()}
        self._starts = re.compile("[" + "".join(re.escape(c) for c in sorted(by_first)) + "]" if by_first else "(?!)")

    def __bool__(self) -> bool:
        return self._any

    def text(self, value: str) -> str:
        if not self._any or not value:
            return value
        out: list[str] = []
        done = 0
        pos = 0
        # the C-speed search jumps to the next character that starts some name
        while (m := self._starts.search(value, pos)) is not None:
            i = m.start()
            for length in self._lengths[value[i]]:
                piece = value[i:i + length]
                if piece in self._masks:
                    out += [value[done:i], self._masks[piece]]
                    done = pos = i + length
                    break
            else:
                pos = i + 1
        if not out:
            return value
        out.append(value[done:])
        return "".join(out)

    def deep(self, value: Any) -> Any:
        """Scrub strings inside lists and dicts; drop personal keys from dicts."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.deep(v) for k, v in value.items() if k not in _SECRET_KEYS}
        if isinstance(value, list | tuple):
            return [self.deep(v) for v in value]
        return value


_scrubbers: dict[tuple[str, str | None, str, str | None], NameScrubber] = {}
_scrub_lock = threading.Lock()
Scope = Literal["everyone", "not_branch", "other_branch"]


def _scrubber(store: GraphStore, scope: Scope, branch: str | None) -> NameScrubber:
    """Names of the persons to mask: everyone's; all but `branch`'s; or other branches' only."""
    key = (*store.cache_key, scope, branch)
    with _scrub_lock:
        hit = _scrubbers.get(key)
    if hit is not None:
        return hit
    persons = store.read("persons", ["name", "branch_id"])
    branches = persons["branch_id"].fillna("")
    if scope == "not_branch":
        persons = persons[branches != (branch or "")]
    elif scope == "other_branch":
        persons = persons[(branches != "") & (branches != (branch or ""))]
    keep = {str(n) for t in ("enterprises", "associations") for n in store.read(t, ["name"])["name"].dropna()}
    scrubber = NameScrubber({str(n) for n in persons["name"].dropna().tolist()}, keep)
    with _scrub_lock:
        if len(_scrubbers) > 32:
            _scrubbers.clear()
        _scrubbers[key] = scrubber
    return scrubber


class Viewer:
    """One user's view of the store: branch scope, family rights and masking in one place."""

    def __init__(self, store: GraphStore, user: User) -> None:
        self.store = store
        self.user = user
        self.policy = POLICIES[user.role]
        self._scrub: NameScrubber | None = None
        self._scope: Any = None

    @property
    def scope(self) -> Any:
        """This viewer's `api.scope.Scope`: the one filter of nodes and edges (counts what it hides)."""
        if self._scope is None:
            from api.scope import Scope

            self._scope = Scope(self)
        return self._scope

    # ------------------------------------------------------------- rights
    def in_scope(self, branch_id: Any) -> bool:
        """Branch scope: rows of another branch are out; rows of no branch are shared."""
        return self.user.branch is None or branch_id in (None, "") or branch_id == self.user.branch

    def require_scope(self, node: dict[str, Any]) -> None:
        if not self.in_scope(node.get("branch_id")):
            raise Forbidden(f"{node.get('id')} belongs to another branch than your token's")

    def allowed_kinds(self, family: str) -> tuple[str, ...] | None:
        """Kinds of `family` this role may list (None = all); Forbidden if none."""
        if family not in self.policy.families:
            raise Forbidden(f"the {self.user.role} role cannot list {family} prospects")
        return self.policy.families[family]

    @property
    def families(self) -> list[str]:
        return [f for f in FAMILIES if f in self.policy.families]

    def sees_person(self, node: dict[str, Any]) -> bool:
        if not self.in_scope(node.get("branch_id")):
            return False
        if self.policy.person_details == "all":
            return True
        if self.policy.person_details == "branch":
            return self.user.branch is None or node.get("branch_id") == self.user.branch
        return False

    # ------------------------------------------------------------ masking
    @property
    def sees_everyone(self) -> bool:
        """True when no person is masked for this viewer (nothing to scrub)."""
        return self.policy.person_details != "none" and self.user.branch is None

    @property
    def scrubber(self) -> NameScrubber:
        if self._scrub is None:
            details = self.policy.person_details
            if self.sees_everyone:
                self._scrub = NameScrubber(set())
            elif details == "none":
                self._scrub = _scrubber(self.store, "everyone", None)
            elif details == "branch":  # only persons of the token's branch are shown
                self._scrub = _scrubber(self.store, "not_branch", self.user.branch)
            else:  # a branch-scoped admin: persons of other branches are out of scope
                self._scrub = _scrubber(self.store, "other_branch", self.user.branch)
        return self._scrub

    def node(self, node: dict[str, Any]) -> dict[str, Any]:
        """A node's attributes as this viewer may see them (masked person, no id hash)."""
        out = {k: v for k, v in node.items() if k != "id_hash" or self.policy.id_hash}
        if node.get("kind") == "Person" and not self.sees_person(node):
            out = {k: out.get(k) for k in PERSON_MASKED_FIELDS if k in out}
            out["name"] = mask_name(node.get("name"))
            out["masked"] = True
        else:
            out["masked"] = False
        if not self.in_scope(node.get("branch_id")):
            out["restricted"] = True
            out = {k: out.get(k) for k in ("id", "kind", "name", "branch_id", "masked", "restricted")}
        else:
            out["restricted"] = False
        return out

    def text(self, value: str) -> str:
        return self.scrubber.text(value)

    def deep(self, value: Any) -> Any:
        if self.sees_everyone:
            return value
        return self.scrubber.deep(value)
