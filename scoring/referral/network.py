"""The referral family's view of the store: who can introduce whom, and through what.

`load_network` reads the node and fact tables once into plain dicts; `find_chains` lists
every referral chain from the bank's side to a prospect (以客荐客):

- ``association``: manager → client member (the referrer) → association → fellow member;
- ``officer``: manager → client → association officer (会长, 副会长, 秘书长…) → member, where
  the client is a fellow member or the officer holds a role in the client;
- ``interlock``: manager → client → a person who sits in both companies → prospect;
- ``group``: manager → client → (common parent) → group company.

The weights these chains are scored with live in `ReferralSettings` (section ``referral:``
of scoring/weights.yaml).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from graph.store import GraphStore
from graph.vocabulary import ASSET_THRESHOLD

__all__ = ["ReferralSettings", "Entity", "Network", "Chain", "load_network", "find_chains", "CHAIN_KINDS"]

CHAIN_KINDS = ("association", "officer", "interlock", "group")


class ReferrerWeights(BaseModel):
    """Points for how strong the introducer is (the first bar of the waterfall)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt weight is an error, not ignored

    credit_client: float = Field(default=10.0, ge=0)
    tenure: float = Field(default=5.0, ge=0)
    tenure_full_years: float = Field(default=5.0, gt=0)
    products: float = Field(default=5.0, ge=0)
    products_full: int = Field(default=4, ge=1)
    position: dict[str, float] = Field(default_factory=lambda: {
        "president": 10.0, "secretary_general": 10.0, "vice_president": 8.0, "director": 4.0, "member": 0.0,
        "role:actual_controller": 8.0, "role:legal_rep": 8.0, "role:director": 6.0, "role:executive": 4.0,
        "role:shareholder": 4.0, "role:finance": 2.0, "role:employee": 0.0,
        "group:parent": 8.0, "group:subsidiary": 8.0, "group:sibling": 6.0,
    })


class ChainWeights(BaseModel):
    """Points for the chain itself: social proof, fit and length."""

    model_config = ConfigDict(extra="forbid")  # a misspelt weight is an error, not ignored

    penetration: float = Field(default=15.0, ge=0)
    penetration_full_at: float = Field(default=0.5, gt=0, le=1)
    same_industry: float = Field(default=10.0, ge=0)
    credit_design: float = Field(default=10.0, ge=0)
    credit_design_association_kinds: list[str] = Field(default_factory=lambda: ["industry_association", "market"])
    credit_design_capital_ratio: float = Field(default=20.0, ge=1)
    length: float = Field(default=15.0, ge=0)
    length_full_hops: int = Field(default=3, ge=1)
    length_loss_per_hop: float = Field(default=0.34, ge=0, le=1)
    introducers: float = Field(default=15.0, ge=0)
    introducer_extra: float = Field(default=5.0, ge=0)


class TargetWeights(BaseModel):
    """Points of an association as a batch target (salons, packages)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt weight is an error, not ignored

    reachable: float = Field(default=35.0, ge=0)
    reachable_full_at: float = Field(default=50.0, gt=0)
    penetration: float = Field(default=20.0, ge=0)
    penetration_full_at: float = Field(default=0.5, gt=0, le=1)
    client_officers: float = Field(default=15.0, ge=0)
    client_officers_full: int = Field(default=2, ge=1)
    credit_clients: float = Field(default=15.0, ge=0)
    credit_clients_full: int = Field(default=1, ge=1)
    managers: float = Field(default=10.0, ge=0)
    managers_full: int = Field(default=2, ge=1)


class ReferralSettings(BaseModel):
    """The `referral:` section of scoring/weights.yaml."""

    model_config = ConfigDict(extra="forbid")  # a misspelt weight is an error, not ignored

    referrer: ReferrerWeights = Field(default_factory=ReferrerWeights)
    chain: ChainWeights = Field(default_factory=ChainWeights)
    target: TargetWeights = Field(default_factory=TargetWeights)
    officer_positions: list[str] = Field(default_factory=lambda: ["president", "vice_president", "secretary_general"])
    interlock_roles: list[str] = Field(default_factory=lambda: ["legal_rep", "director", "actual_controller",
                                                                "executive"])
    weak_client_max_products: int = Field(default=1, ge=0)
    include_weak_clients: bool = True
    max_referrers_per_association: int = Field(default=10, ge=1)
    max_listed: int = Field(default=5, ge=0)
    products_enterprise: list[str] = Field(default_factory=lambda: ["settlement_account", "working_capital_loan"])
    products_credit_design: list[str] = Field(default_factory=lambda: ["inclusive_finance_loan"])
    products_person: list[str] = Field(default_factory=lambda: ["deposit", "wealth_management"])
    products_target: list[str] = Field(default_factory=lambda: ["association_salon", "batch_credit_package",
                                                                "settlement_account"])


@dataclass
class Entity:
    """An enterprise or person as the referral family sees it."""

    id: str
    name: str
    kind: str  # enterprise | person
    is_client: bool = False
    is_credit_client: bool = False
    manager_id: str | None = None
    branch_id: str | None = None
    industry: str | None = None
    capital: float | None = None
    parent_id: str | None = None
    opened_on: pd.Timestamp | None = None
    do_not_contact: bool = False
    products: list[str] = field(default_factory=list)
    is_weak_client: bool = False


@dataclass
class Network:
    entities: dict[str, Entity]
    associations: dict[str, dict[str, Any]]  # id -> {name, kind}
    managers: dict[str, dict[str, Any]]  # id -> {name, branch_id}
    members: dict[str, dict[str, str]]  # association -> {member id: position}
    roles: dict[str, dict[str, set[str]]]  # person -> {enterprise: {roles}}
    as_of: pd.Timestamp | None
    _penetration: dict[str, tuple[int, int]] = field(default_factory=dict)
    cache: dict[Any, Any] = field(default_factory=dict)  # per-run memo for the scorer (referrer facts)

    def name(self, node: str | None) -> str:
        if node is None:
            return ""
        if node in self.entities:
            return self.entities[node].name
        if node in self.associations:
            return str(self.associations[node]["name"])
        if node in self.managers:
            return str(self.managers[node]["name"])
        return node

    def is_referrer(self, node: str) -> bool:
        ent = self.entities.get(node)
        return ent is not None and ent.is_client and not ent.do_not_contact

    def is_prospect(self, node: str, settings: ReferralSettings) -> bool:
        ent = self.entities.get(node)
        if ent is None or ent.do_not_contact:
            return False
        return not ent.is_client or (settings.include_weak_clients and ent.is_weak_client)

    def penetration(self, association: str) -> tuple[int, int]:
        """(client members, members) of an association (cached: every chain through it asks)."""
        hit = self._penetration.get(association)
        if hit is None:
            members = self.members.get(association, {})
            clients = sum(1 for m in members if m in self.entities and self.entities[m].is_client)
            hit = self._penetration[association] = (clients, len(members))
        return hit


@dataclass(frozen=True)
class Chain:
    """One way the bank's side reaches a prospect; `path` starts with the manager when known."""

    kind: str
    prospect: str
    referrer: str
    via: str | None  # association, key person or common parent (None: direct parent/child)
    association: str | None
    position: str  # the key of ReferrerWeights.position that applies
    path: tuple[str, ...]

    @property
    def hops(self) -> int:
        """Links from the manager to the prospect (a referrer without a manager counts one anyway)."""
        start = self.path.index(self.referrer)
        return len(self.path) - start


def _bool(value: Any) -> bool:
    return bool(value) if value is not None and not pd.isna(value) else False


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) or str(value) == "" else str(value)


def _texts(values: pd.Series) -> list[str | None]:
    """`_text` over a column: NA and empty text as None."""
    text = values.astype("string")
    return text.astype(object).where(text.notna() & (text != ""), None).tolist()


def _bools(values: pd.Series) -> list[bool]:
    """`_bool` over a column: NA as False."""
    return values.astype("boolean").fillna(False).astype(bool).tolist()


def load_network(store: GraphStore, settings: ReferralSettings, as_of: str | None = None) -> Network:
    """Read the tables the family needs into a `Network`."""
    ents = store.read("enterprises")
    memberships = store.read("memberships")
    role_rows = store.read("roles")
    # Only persons who are members or hold roles can take part in a chain: skip payroll staff.
    wanted = set(memberships["member_id"].dropna().unique()) | set(role_rows["person_id"].dropna().unique())
    persons = store.read("persons")
    persons = persons[persons["id"].isin(wanted)]
    payroll_employers = set(store.read("payroll", ["employer_id"])["employer_id"].dropna().unique())
    bill_drawers = set(store.read("bills", ["drawer_id"])["drawer_id"].dropna().unique())
    entities: dict[str, Entity] = {}
    # Columns cleaned once with pandas, then read as plain Python lists (no per-cell isna/boxing).
    e = {c: _texts(ents[c]) for c in ("id", "name", "manager_id", "branch_id", "industry", "parent_id")}
    e_flags = {c: _bools(ents[c]) for c in ("is_client", "is_credit_client", "do_not_contact")}
    capital = ents["registered_capital"].astype("float64")
    capitals = capital.astype(object).where(capital.notna(), None).tolist()
    opened = pd.to_datetime(ents["opened_on"])
    opened_on = opened.astype(object).where(opened.notna(), None).tolist()
    for i, eid in enumerate(e["id"]):
        eid = str(eid)
        is_client = e_flags["is_client"][i]
        ent = Entity(id=eid, name=e["name"][i] or eid, kind="enterprise",
                     is_client=is_client, is_credit_client=e_flags["is_credit_client"][i] and is_client,
                     manager_id=e["manager_id"][i], branch_id=e["branch_id"][i],
                     industry=e["industry"][i], parent_id=e["parent_id"][i],
                     capital=capitals[i], opened_on=opened_on[i], do_not_contact=e_flags["do_not_contact"][i])
        held = [("account", ent.is_client), ("credit", ent.is_credit_client),
                ("payroll", ent.is_client and ent.id in payroll_employers),
                ("bills", ent.is_client and ent.id in bill_drawers)]
        ent.products = [name for name, has in held if has]
        ent.is_weak_client = (ent.is_client and not ent.is_credit_client
                              and len(ent.products) <= settings.weak_client_max_products)
        entities[ent.id] = ent
    p = {c: _texts(persons[c]) for c in ("id", "name", "manager_id", "branch_id", "tier")}
    p_flags = {c: _bools(persons[c]) for c in ("is_retail_client", "do_not_contact")}
    aums = persons["aum"].astype("float64").fillna(0.0).tolist()
    for i, pid in enumerate(p["id"]):
        pid = str(pid)
        is_client = p_flags["is_retail_client"][i]
        held = [("account", is_client), ("assets_50k", is_client and aums[i] >= ASSET_THRESHOLD),
                ("vip", is_client and p["tier"][i] in ("vip", "private"))]
        entities.setdefault(pid, Entity(
            id=pid, name=p["name"][i] or pid, kind="person", is_client=is_client,
            manager_id=p["manager_id"][i], branch_id=p["branch_id"][i],
            do_not_contact=p_flags["do_not_contact"][i], products=[n for n, has in held if has]))
    members: dict[str, dict[str, str]] = defaultdict(dict)
    positions = _texts(memberships["position"])
    for assoc, member, position in zip(memberships["association_id"].astype(str).tolist(),
                                       memberships["member_id"].astype(str).tolist(), positions, strict=True):
        members[assoc][member] = position or "member"
    roles: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for person, firm, role in zip(role_rows["person_id"].astype(str).tolist(),
                                  role_rows["enterprise_id"].astype(str).tolist(), _texts(role_rows["role"]),
                                  strict=True):
        roles[person][firm].add(role or "")
    associations = {str(r["id"]): {"name": _text(r["name"]) or str(r["id"]), "kind": _text(r["kind"])}
                    for r in store.read("associations").to_dict("records")}
    managers = {str(r["id"]): {"name": _text(r["name"]) or str(r["id"]), "branch_id": _text(r["branch_id"])}
                for r in store.read("managers").to_dict("records")}
    return Network(entities, associations, managers, dict(members),
                   {p: dict(e) for p, e in roles.items()}, _as_of(store, ents, as_of))


def _as_of(store: GraphStore, ents: pd.DataFrame, given: str | None) -> pd.Timestamp | None:
    """The scoring date: the setting, else the latest date in the data (never the clock: determinism)."""
    if given:
        return pd.Timestamp(given)
    dates = [ents["opened_on"].max(), store.read("payments", ["paid_on"])["paid_on"].max()]
    known = [d for d in dates if d is not None and not pd.isna(d)]
    return max(known) if known else None


def referrer_rank(net: Network, settings: ReferralSettings, node: str) -> tuple[float, str]:
    """A static strength used only to pick which referrers of a big association get chains."""
    ent = net.entities[node]
    w = settings.referrer
    return (-(w.credit_client * ent.is_credit_client + len(ent.products)), node)


def _path(net: Network, *nodes: str | None) -> tuple[str, ...]:
    return tuple(n for n in nodes if n)


def find_chains(net: Network, settings: ReferralSettings) -> dict[str, list[Chain]]:
    """Every referral chain, grouped by prospect (unordered; the scorer ranks them)."""
    chains: dict[str, list[Chain]] = defaultdict(list)

    def add(kind: str, prospect: str, referrer: str, via: str | None, assoc: str | None, position: str) -> None:
        if prospect == referrer or not net.is_prospect(prospect, settings):
            return
        manager = net.entities[referrer].manager_id
        middle = via if kind != "association" else assoc
        chains[prospect].append(Chain(kind, prospect, referrer, via, assoc, position,
                                      _path(net, manager, referrer, middle, prospect)))

    cap = settings.max_referrers_per_association
    officers_of = set(settings.officer_positions)
    for assoc, members in sorted(net.members.items()):
        referrers = sorted((m for m in members if net.is_referrer(m)), key=lambda m: referrer_rank(net, settings, m))
        prospects = sorted(m for m in members if net.is_prospect(m, settings))
        for ref in referrers[:cap]:
            for prospect in prospects:
                add("association", prospect, ref, assoc, assoc, members[ref])
        for officer, position in sorted(members.items()):
            officer_ent = net.entities.get(officer)
            if position not in officers_of or officer_ent is None or officer_ent.kind != "person" \
                    or officer_ent.do_not_contact:
                continue
            linked = set(referrers[:cap]) | {e for e in net.roles.get(officer, {}) if net.is_referrer(e)}
            for ref in sorted(linked - {officer}, key=lambda m: referrer_rank(net, settings, m))[:cap]:
                for prospect in prospects:
                    if prospect != officer:
                        add("officer", prospect, ref, officer, assoc, position)
    board = set(settings.interlock_roles)
    for person, held in sorted(net.roles.items()):
        who = net.entities.get(person)
        if who is not None and who.do_not_contact:
            continue
        seats = {e: sorted(r & board, key=lambda r: -settings.referrer.position.get(f"role:{r}", 0.0))
                 for e, r in held.items() if r & board}
        clients = sorted(e for e in seats if net.is_referrer(e))
        for ref in clients:
            for prospect in sorted(seats):
                if prospect in net.entities:
                    add("interlock", prospect, ref, person, None, f"role:{seats[prospect][0]}")
    children: dict[str, list[str]] = defaultdict(list)
    for ent in net.entities.values():
        if ent.parent_id and ent.parent_id != ent.id:
            children[ent.parent_id].append(ent.id)
    for parent, kids in sorted(children.items()):
        kids = sorted(kids)
        if parent in net.entities:
            for kid in kids:
                if net.is_referrer(parent):
                    add("group", kid, parent, None, None, "group:subsidiary")
                if net.is_referrer(kid):
                    add("group", parent, kid, None, None, "group:parent")
        for ref in (k for k in kids if net.is_referrer(k)):
            for kid in kids:
                add("group", kid, ref, parent if parent in net.entities else None, None, "group:sibling")
    return dict(chains)
