"""The benchmark-scale bundle's people side: persons, payroll, roles, associations, managers.

Companion of `demo.scale` (enterprises and flows). About N/2 persons, ~1.2N
payroll rows from heavy-tailed employers over 12 months, ~2 roles per enterprise with
heavy-tailed role holders, N/10,000 associations with heavy-tailed sizes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from demo.ids import GIVEN_CHARS, SURNAMES, id_numbers_vec, phones_vec
from demo.scale import _REGIONS, _chunks, _ids, _names, _pick, _sample, _Writer, _zipf_cdf
from graph.progress import track

__all__ = ["write_people", "PAYROLL_MONTHS"]

PAYROLL_MONTHS = [f"2024-{m:02d}" for m in range(3, 13)] + ["2025-01", "2025-02"]
_MEAN_MONTHS = 0.85 * 12 + 0.15 * 6  # most staff are paid all year, the rest joined during it


def _person_names(rng: np.random.Generator, n: int) -> pa.Array:
    surname = _pick(list(SURNAMES), rng.integers(0, len(SURNAMES), n))
    first = _pick(list(GIVEN_CHARS), rng.integers(0, len(GIVEN_CHARS), n))
    second = _pick(list(GIVEN_CHARS), rng.integers(0, len(GIVEN_CHARS), n))
    second = pc.if_else(pa.array(rng.random(n) < 0.7), second, pa.scalar(""))
    return pc.binary_join_element_wise(surname, first, second, "")


def _tiers(aum: npt.NDArray[np.float64]) -> pa.Array:
    return _pick(["mass", "potential", "vip", "private"], np.searchsorted([50_000, 300_000, 6_000_000], aum, "right"))


def write_people(out: Path, rng: np.random.Generator, scale: int, ent_ids: pa.Array,
                 clients: npt.NDArray[np.int64], n_branch: int, n_corp_mgr: int) -> dict[str, int]:
    """Write persons, payroll, roles, associations, memberships, managers and branches."""
    n_per = max(100, scale // 2)
    n_ret_mgr = max(2, n_per // 2_000)
    stats: dict[str, int] = {}
    person_ids = _ids("P", n_per)
    n_staff = min(n_per, max(10, round(1.2 * scale / _MEAN_MONTHS)))
    staff = rng.permutation(n_per)[:n_staff]
    is_retail = rng.random(n_per) < 0.6
    is_retail[staff] = True  # payroll accounts make them retail clients
    writer = _Writer(out, "persons")
    for start, size in track(list(_chunks(n_per)), "persons"):
        retail = is_retail[start:start + size]
        aum = np.round(rng.lognormal(10.0, 1.6, size), 2)
        ratio = np.clip(rng.normal(1.02, 0.12, size), 0.3, 1.6)  # ~5% fall below 80% of the earlier level
        tier = _tiers(aum)
        mgr = rng.integers(0, n_ret_mgr, size)
        managed = pa.array(retail & (aum >= 50_000))
        writer.write({
            "person_id": person_ids[start:start + size], "name": _person_names(rng, size),
            "id_number": pa.array(id_numbers_vec(rng, size)),
            "phone": pc.if_else(pa.array(rng.random(size) < 0.99), pa.array(phones_vec(rng, size)), None),
            "is_retail_client": pa.array(retail),
            "aum": pa.array(aum, mask=~retail), "aum_prev": pa.array(np.round(aum / ratio, 2), mask=~retail),
            "tier": pc.if_else(pa.array(retail), tier, None),
            "branch_id": pc.if_else(pa.array(retail), _ids("B", n_branch, 3).take(pa.array(mgr % n_branch)), None),
            "manager_id": pc.if_else(managed, _ids("MR", n_ret_mgr, 5).take(pa.array(mgr)), None),
        })
    stats["persons"] = writer.close()
    stats["payroll"] = _payroll(out, rng, person_ids, staff, ent_ids, clients)
    stats["roles"] = _roles(out, rng, person_ids, ent_ids)
    stats.update(_associations(out, rng, person_ids, ent_ids, np.flatnonzero(is_retail)))
    stats.update(_staff_tables(out, rng, n_branch, n_corp_mgr, n_ret_mgr))
    return stats


def _payroll(out: Path, rng: np.random.Generator, person_ids: pa.Array, staff: npt.NDArray[np.int64],
             ent_ids: pa.Array, clients: npt.NDArray[np.int64]) -> int:
    employers = clients[: max(3, len(clients) // 10)] if len(clients) else np.arange(3)
    employer = employers[_sample(rng, _zipf_cdf(rng, len(employers), 1.0), len(staff))]
    start = np.where(rng.random(len(staff)) < 0.85, 0, rng.integers(1, 12, len(staff)))
    base = np.maximum(2_000.0, rng.lognormal(8.6, 0.35, len(staff)))
    staff_ids, employer_ids = person_ids.take(pa.array(staff)), ent_ids.take(pa.array(employer))
    writer = _Writer(out, "payroll")
    for m, month in enumerate(track(PAYROLL_MONTHS, "payroll")):
        on = start <= m
        idx = pa.array(np.flatnonzero(on))
        writer.write({
            "employer_id": employer_ids.take(idx), "person_id": staff_ids.take(idx),
            "month": pa.array([month] * int(on.sum()), pa.string()),
            "amount": pa.array(np.round(base[on] * rng.uniform(0.95, 1.05, int(on.sum())), 2)),
        })
    return writer.close()


def _roles(out: Path, rng: np.random.Generator, person_ids: pa.Array, ent_ids: pa.Array) -> int:
    """Each enterprise has a legal representative; some an actual controller, a finance head, a director."""
    n_ent = len(ent_ids)
    holders = _zipf_cdf(rng, len(person_ids), 0.6)  # a few people hold roles in many companies
    writer = _Writer(out, "roles")
    for role, share, p_has in (("legal_rep", False, 1.0), ("actual_controller", True, 0.5),
                               ("finance", False, 0.3), ("director", False, 0.3)):
        ents = np.flatnonzero(rng.random(n_ent) < p_has)
        people = _sample(rng, holders, len(ents))
        writer.write({
            "person_id": person_ids.take(pa.array(people)), "enterprise_id": ent_ids.take(pa.array(ents)),
            "role": pa.array([role] * len(ents), pa.string()),
            "share_pct": pa.array(np.round(rng.uniform(20, 100, len(ents)), 1), mask=np.full(len(ents), not share)),
        })
    return writer.close()


def _associations(out: Path, rng: np.random.Generator, person_ids: pa.Array, ent_ids: pa.Array,
                  retail: npt.NDArray[np.int64]) -> dict[str, int]:
    n_ent = len(ent_ids)
    n_assoc = max(3, n_ent // 1_000)
    kinds = np.array(["industry_association", "chamber_of_commerce", "market", "park"])
    kind = rng.choice(len(kinds), n_assoc, p=[0.6, 0.2, 0.15, 0.05])
    stems, _ = _names(rng, n_assoc, "", offset=2)
    suffix = _pick(["行业协会", "商会", "市场", "产业园"], kind)
    assoc_ids = _ids("A", n_assoc, 6)
    writer = _Writer(out, "associations")
    writer.write({"association_id": assoc_ids, "name": pc.binary_join_element_wise(stems, suffix, ""),
                  "kind": pa.array(kinds[kind]), "region": _pick(_REGIONS, rng.integers(0, len(_REGIONS), n_assoc))})
    stats = {"associations": writer.close()}
    n_members = max(n_assoc, n_ent // 5)
    assoc = _sample(rng, _zipf_cdf(rng, n_assoc, 0.8), n_members)
    member = rng.integers(0, n_ent, n_members)
    key = np.unique(assoc.astype(np.int64) * n_ent + member)  # one membership per (association, member)
    assoc, member = key // n_ent, key % n_ent
    position = rng.choice(4, len(key), p=[0.85, 0.1, 0.04, 0.01])
    secretaries = retail[rng.integers(0, len(retail), n_assoc)] if len(retail) else np.zeros(n_assoc, np.int64)
    writer = _Writer(out, "memberships")
    writer.write({"association_id": assoc_ids.take(pa.array(assoc)), "member_id": ent_ids.take(pa.array(member)),
                  "member_kind": pa.array(["enterprise"] * len(key), pa.string()),
                  "position": _pick(["member", "director", "vice_president", "president"], position)})
    writer.write({"association_id": assoc_ids, "member_id": person_ids.take(pa.array(secretaries)),
                  "member_kind": pa.array(["person"] * n_assoc, pa.string()),
                  "position": pa.array(["secretary_general"] * n_assoc, pa.string())})
    stats["memberships"] = writer.close()
    return stats


def _staff_tables(out: Path, rng: np.random.Generator, n_branch: int, n_corp: int, n_retail: int) -> dict[str, int]:
    branch_ids = _ids("B", n_branch, 3)
    writer = _Writer(out, "branches")
    writer.write({"branch_id": branch_ids,
                  "name": pc.binary_join_element_wise(_pick(_REGIONS, np.arange(n_branch) % len(_REGIONS)),
                                                      pc.cast(pa.array(np.arange(1, n_branch + 1)), pa.string()),
                                                      pa.scalar("号支行"), "")})
    stats = {"branches": writer.close()}
    writer = _Writer(out, "managers")
    for prefix, kind, n in (("MC", "corporate", n_corp), ("MR", "retail", n_retail)):
        writer.write({"manager_id": _ids(prefix, n, 5), "name": _person_names(rng, n),
                      "kind": pa.array([kind] * n, pa.string()),
                      "branch_id": branch_ids.take(pa.array(np.arange(n) % n_branch))})
    stats["managers"] = writer.close()
    return stats
