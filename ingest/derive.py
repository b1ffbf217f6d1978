"""Derived tables rebuilt from the facts and nodes on every ingest: `edges` and `edge_months`.

ARCHITECTURE.md "Table semantics": one `edges` row per (src, dst, kind[, role]).

* PAYS (payer → payee), BILL (drawer → payee), ENDORSES (endorser → endorsee) and PAYROLL
  (employer → person) carry amount, count, first_on, last_on and months_active; PAYS also
  `other_bank_amount`, the part paid to a payee at another bank (a non-empty `payee_bank`
  that is not one of the bank's own names).
* HOLDS_ROLE (person → enterprise) carries role and share_pct; MEMBER_OF (member →
  association) carries position; PARENT_OF (parent → child); MANAGES (manager → client);
  IN_BRANCH (enterprise, person or manager → branch).

`edge_months` holds the monthly activity of PAYS, BILL and PAYROLL.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.schema import conform, empty
from ingest.normalise import from_arrow, id_set, isin, to_arrow

__all__ = ["derive_edges", "derive_branches", "derive_managers", "month_of"]


def month_of(dates: pd.Series) -> pd.Series:
    """'YYYY-MM' of each date (computed over distinct months, so cheap on millions of rows)."""
    d = pd.to_datetime(dates, errors="coerce")
    key = d.dt.year * 100 + d.dt.month
    codes, uniques = pd.factorize(key)
    labels = np.array([f"{int(u) // 100:04d}-{int(u) % 100:02d}" for u in uniques], dtype=object)
    out = np.full(len(d), None, dtype=object)
    ok = codes >= 0
    out[ok] = labels[codes[ok]]
    return pd.Series(out, index=dates.index, dtype="string")


def _encode(*columns: pd.Series) -> tuple[list[np.ndarray], pa.Array]:
    """Integer codes of text columns over one shared dictionary (pyarrow), -1 for nulls."""
    n = [len(c) for c in columns]
    chunks: list[pa.Array] = []
    for column in columns:
        arr = to_arrow(column.astype("string"))
        chunks.extend(arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr])
    # built from the chunks themselves: pa.chunked_array of ChunkedArrays converts row by row
    joined = pa.chunked_array(chunks, type=pa.large_string()).combine_chunks()
    encoded = pc.dictionary_encode(joined)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.split(codes, np.cumsum(n)[:-1]), encoded.dictionary


def _decode(dictionary: pa.Array, codes: np.ndarray) -> pd.Series:
    return from_arrow(pc.take(dictionary, pa.array(codes)), pd.RangeIndex(len(codes)))


def _money_edges(kind: str, src: pd.Series, dst: pd.Series, amount: pd.Series, on: pd.Series,
                 month: pd.Series, other_bank: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Aggregate money facts by (src, dst) and by (src, dst, month), in numpy on integer codes."""
    (s_code, d_code), names = _encode(src, dst)
    (m_code,), months = _encode(month)
    keep = (s_code >= 0) & (d_code >= 0)
    if not keep.any():
        return empty("edges"), empty("edge_months")
    s_code, d_code, m_code = s_code[keep], d_code[keep], m_code[keep]
    amounts = amount.astype("float64").to_numpy()[keep]
    days = pd.to_datetime(on).to_numpy()[keep]
    pairs, pair_of = np.unique(s_code * len(names) + d_code, return_inverse=True)
    total = np.bincount(pair_of, weights=np.nan_to_num(amounts), minlength=len(pairs))
    count = np.bincount(pair_of, minlength=len(pairs))
    stamps = pd.Series(days).groupby(pair_of, sort=True)
    edges = pd.DataFrame({"src": _decode(names, pairs // len(names)), "dst": _decode(names, pairs % len(names)),
                          "kind": kind, "amount": total, "count": count,
                          "first_on": stamps.min().to_numpy(), "last_on": stamps.max().to_numpy()})
    if other_bank is not None:
        other = np.where(other_bank.fillna(False).to_numpy(dtype=bool)[keep], np.nan_to_num(amounts), 0.0)
        edges["other_bank_amount"] = np.bincount(pair_of, weights=other, minlength=len(pairs))
    dated = m_code >= 0
    n_months = max(len(months), 1)
    cells, cell_of = np.unique(pair_of[dated] * n_months + m_code[dated], return_inverse=True)
    edges["months_active"] = np.bincount(cells // n_months, minlength=len(pairs))
    by_month = pd.DataFrame({
        "src": _decode(names, pairs[cells // n_months] // len(names)),
        "dst": _decode(names, pairs[cells // n_months] % len(names)),
        "kind": kind, "month": _decode(months, cells % n_months),
        "amount": np.bincount(cell_of, weights=np.nan_to_num(amounts[dated]), minlength=len(cells)),
        "count": np.bincount(cell_of, minlength=len(cells))})
    return edges, by_month


def derive_edges(tables: dict[str, pd.DataFrame], own_bank_names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """`edges` and `edge_months` from the store's node and fact tables (schema-shaped frames)."""
    parts: list[pd.DataFrame] = []
    month_parts: list[pd.DataFrame] = []
    own = {n.strip() for n in own_bank_names}

    pay = tables["payments"]
    bank = pay["payee_bank"].astype("string").str.strip()
    other = bank.notna() & (bank != "") & ~isin(bank, own)
    e, m = _money_edges("PAYS", pay["payer_id"], pay["payee_id"], pay["amount"], pay["paid_on"], pay["month"], other)
    parts.append(e)
    month_parts.append(m)

    bills = tables["bills"]
    e, m = _money_edges("BILL", bills["drawer_id"], bills["payee_id"], bills["amount"], bills["issued_on"],
                        month_of(bills["issued_on"]))
    parts.append(e)
    month_parts.append(m)

    hops = endorsement_hops(tables["endorsements"], bills)
    e, _ = _money_edges("ENDORSES", hops["from_id"], hops["to_id"], hops["amount"], hops["endorsed_on"],
                        month_of(hops["endorsed_on"]))
    parts.append(e)

    payroll = tables["payroll"]
    first_day = pd.to_datetime(payroll["month"].astype("string") + "-01", errors="coerce")
    e, m = _money_edges("PAYROLL", payroll["employer_id"], payroll["person_id"], payroll["amount"], first_day,
                        payroll["month"])
    parts.append(e)
    month_parts.append(m)

    roles = tables["roles"]
    parts.append(pd.DataFrame({"src": roles["person_id"], "dst": roles["enterprise_id"], "kind": "HOLDS_ROLE",
                               "role": roles["role"], "share_pct": roles["share_pct"], "title": roles["title"],
                               "first_on": roles["first_on"], "last_on": roles["last_on"]}))
    mem = tables["memberships"]
    parts.append(pd.DataFrame({"src": mem["member_id"], "dst": mem["association_id"], "kind": "MEMBER_OF",
                               "position": mem["position"]}))
    ent = tables["enterprises"]
    known = ent["id"]
    parent = ent[ent["parent_id"].notna() & isin(ent["parent_id"], known) & (ent["parent_id"] != ent["id"])]
    parts.append(pd.DataFrame({"src": parent["parent_id"], "dst": parent["id"], "kind": "PARENT_OF"}))
    for table in ("enterprises", "persons"):
        nodes = tables[table]
        managed = nodes[nodes["manager_id"].notna()]
        parts.append(pd.DataFrame({"src": managed["manager_id"], "dst": managed["id"], "kind": "MANAGES"}))
    for table in ("enterprises", "persons", "managers"):
        nodes = tables[table]
        placed = nodes[nodes["branch_id"].notna()]
        parts.append(pd.DataFrame({"src": placed["id"], "dst": placed["branch_id"], "kind": "IN_BRANCH"}))

    edges = pd.concat([conform("edges", p) for p in parts if len(p)], ignore_index=True) \
        if any(len(p) for p in parts) else empty("edges")
    # every part is unique by (src, dst, kind, role) by construction (facts are keyed), and in a
    # deterministic order, so no global de-duplication or sort is needed
    edges = edges.reset_index(drop=True)
    months = pd.concat([conform("edge_months", p) for p in month_parts if len(p)], ignore_index=True) \
        if any(len(p) for p in month_parts) else empty("edge_months")
    months = months.reset_index(drop=True)
    return {"edges": edges, "edge_months": months}


def endorsement_hops(endorsements: pd.DataFrame, bills: pd.DataFrame) -> pd.DataFrame:
    """Each endorsement as a hop from → to; a missing `from_id` is the previous holder
    (the bill's payee for the first endorsement, else the previous endorsee)."""
    if endorsements.empty:
        return pd.DataFrame({"from_id": pd.Series(dtype="string"), "to_id": pd.Series(dtype="string"),
                             "amount": pd.Series(dtype="float64"), "endorsed_on": pd.Series(dtype="datetime64[ns]")})
    df = endorsements.sort_values(["bill_id", "seq"], kind="stable").copy()
    df["prev_to"] = df.groupby("bill_id")["to_id"].shift(1)
    info = bills.set_index("bill_id")[["payee_id", "amount"]]
    df = df.join(info, on="bill_id")
    df["from_id"] = df["from_id"].fillna(df["prev_to"]).fillna(df["payee_id"])
    return df[["from_id", "to_id", "amount", "endorsed_on"]].reset_index(drop=True)


def derive_branches(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Branch nodes: the given branch table plus every branch id nodes name (name = id)."""
    given = tables["branches"]
    ids = pd.concat([tables[t]["branch_id"] for t in ("enterprises", "persons", "managers")]).dropna().unique()
    missing = sorted(set(map(str, ids)) - id_set(given["id"]))
    extra = pd.DataFrame({"id": missing, "name": missing})
    return conform("branches", pd.concat([given, conform("branches", extra)], ignore_index=True))


def derive_managers(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Manager nodes: the given managers plus every manager id a client names (name = id)."""
    given = tables["managers"]
    rows = []
    known = id_set(given["id"])
    for table, kind in (("enterprises", "corporate"), ("persons", "retail")):
        for mid in sorted(id_set(tables[table]["manager_id"]) - known):
            rows.append({"id": mid, "name": mid, "kind": kind})
            known.add(mid)
    if not rows:
        return given
    return conform("managers", pd.concat([given, conform("managers", pd.DataFrame(rows))], ignore_index=True))
