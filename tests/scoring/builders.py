"""A tiny builder of hand-made stores for the scoring tests: enterprises, payments, bills, roles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from graph.store import GraphStore

__all__ = ["StoreBuilder", "MemoryStore", "months"]


class MemoryStore(GraphStore):
    """A store that keeps its tables in memory: fast enough for hypothesis examples."""

    backend = "memory"

    def __init__(self, root: Path | str | None = None) -> None:
        # A root of its own: the store's table cache is shared and keyed by root and version.
        super().__init__(root or f"/nonexistent-memory-store/{uuid.uuid4().hex}")
        self._tables: dict[str, pd.DataFrame] = {}
        self._n = 0

    def _read_table(self, table: str) -> pd.DataFrame | None:
        return self._tables.get(table)

    def _commit(self, tables: dict[str, pd.DataFrame], note: str) -> str:
        self._tables.update(tables)
        self._n += 1
        return f"{self._n:06d}"

    def _version(self) -> str | None:
        return f"{self._n:06d}" if self._n else None


@dataclass
class StoreBuilder:
    """Collects rows and writes them into a store with `store.write` (facts get stable ids)."""

    enterprises: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    bills: list[dict[str, Any]] = field(default_factory=list)
    endorsements: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    managers: list[dict[str, Any]] = field(default_factory=list)

    def firm(self, eid: str, name: str | None = None, *, client: bool = False, credit: bool = False,
             manager: str | None = None, parent: str | None = None, **extra: Any) -> StoreBuilder:
        self.enterprises.append({"id": eid, "name": name or f"企业{eid}", "is_client": client,
                                 "is_credit_client": credit, "manager_id": manager, "parent_id": parent,
                                 "is_external": not client, "do_not_contact": False, **extra})
        return self

    def pay(self, payer: str, payee: str, amount: float, on: str, bank: str = "") -> StoreBuilder:
        self.payments.append({"payer_id": payer, "payee_id": payee, "amount": amount, "paid_on": on,
                              "payee_bank": bank})
        return self

    def monthly(self, payer: str, payee: str, amount: float, months: list[str], bank: str = "") -> StoreBuilder:
        for month in months:
            self.pay(payer, payee, amount, f"{month}-15", bank)
        return self

    def bill(self, bill_id: str, drawer: str, payee: str, amount: float, on: str,
             discounted_by: str = "") -> StoreBuilder:
        self.bills.append({"bill_id": bill_id, "drawer_id": drawer, "payee_id": payee, "amount": amount,
                           "issued_on": on, "discounted_by": discounted_by, "acceptor": "本行"})
        return self

    def endorse(self, bill_id: str, seq: int, src: str, dst: str, on: str) -> StoreBuilder:
        self.endorsements.append({"bill_id": bill_id, "seq": seq, "from_id": src, "to_id": dst,
                                  "endorsed_on": on})
        return self

    def role(self, person: str, enterprise: str, role: str, share: float | None = None) -> StoreBuilder:
        self.roles.append({"person_id": person, "enterprise_id": enterprise, "role": role, "share_pct": share})
        return self

    def person(self, pid: str, name: str) -> StoreBuilder:
        self.persons.append({"id": pid, "name": name})
        return self

    def write(self, store: GraphStore) -> GraphStore:
        pays = pd.DataFrame(self.payments, columns=["payer_id", "payee_id", "amount", "paid_on", "payee_bank"])
        pays["fact_id"] = [f"f{i}" for i in range(len(pays))]
        pays["month"] = pd.to_datetime(pays["paid_on"]).dt.strftime("%Y-%m")
        store.write({
            "enterprises": pd.DataFrame(self.enterprises),
            "payments": pays,
            "bills": pd.DataFrame(self.bills, columns=["bill_id", "drawer_id", "payee_id", "amount",
                                                       "issued_on", "discounted_by", "acceptor"]),
            "endorsements": pd.DataFrame(self.endorsements,
                                         columns=["bill_id", "seq", "from_id", "to_id", "endorsed_on"]),
            "roles": pd.DataFrame(self.roles, columns=["person_id", "enterprise_id", "role", "share_pct"]),
            "persons": pd.DataFrame(self.persons, columns=["id", "name"]),
        }, note="test builder")
        return store


def months(first: str, count: int) -> list[str]:
    """`count` consecutive YYYY-MM strings starting at `first`."""
    start = pd.Period(first, freq="M")
    return [str(start + i) for i in range(count)]
