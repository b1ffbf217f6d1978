"""A small hand-made store for the picture tests: every view has something to draw.

Written straight with `store.write` (no ingest), so the tests of the pages do not wait on
the ingest or scoring jobs. One supplier is named `<script>alert(1)</script>` (escaping),
the anchor has more tier-1 suppliers than a picture keeps (folding), the employer's staff
fill every asset band (the near-threshold band among them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from graph.networkx_store import NetworkxStore
from scoring.explain import Evidence, Prospect, Reason
from scoring.run import rank

ANCHOR = "E1"
EVIL = "E666"
EVIL_NAME = "<script>alert(1)</script>"
SUPPLIERS = [f"S{i:02d}" for i in range(1, 31)]  # 30 tier-1 suppliers (plus EVIL)
TIER2 = ["T1", "T2"]
BUYERS = ["D1", "D2", "D3"]
EMPLOYER = "W1"
STAFF = [f"P{i:03d}" for i in range(1, 41)]
NEAR = STAFF[:10]  # 35k..50k: near the CNY 50,000 threshold
ASSOC = "A1"
PROSPECT = "R1"
DIRECTOR = "PD1"
HUB = "H0"  # a hub with 20 partners of 30 partners each: a 600-node neighbourhood at depth 2
HUB_PARTNERS = [f"H{i:02d}" for i in range(1, 21)]
CHAIN = "C0"  # a pharmacy chain of 240 stores, each paid by the chain: a picture of one fold
STORES = [f"C0-{i:03d}" for i in range(1, 241)]
STREETS = "人民中山解放和平建设新华胜利光明文化友谊"
MANAGER = "M01"
RETAIL_MANAGER = "M03"


def _staff_aum(i: int) -> float:
    if i < 10:
        return 36_000.0 + i * 1_300.0  # near band
    if i < 20:
        return 2_000.0 + i * 100.0
    if i < 30:
        return 15_000.0 + i * 500.0
    if i < 36:
        return 60_000.0 + i * 1_000.0
    return 300_000.0 + i


def _edge(src: str, dst: str, kind: str, amount: float | None = None, **extra: Any) -> dict[str, Any]:
    return {"src": src, "dst": dst, "kind": kind, "amount": amount, "count": 3 if amount else None, **extra}


def _prospect(family: str, kind: str, pid: str, name: str, score: float, path: list[str],
              **extra: Any) -> Prospect:
    evidence = [Evidence(name="amount_12m", label_en="amount in 12 months", label_zh="近12个月金额",
                         value=score * 1000, contribution=score * 0.7),
                Evidence(name="steady", label_en="steadiness", label_zh="稳定性", value=1, contribution=score * 0.3)]
    return Prospect(family=family, kind=kind, prospect_id=pid, name=name, evidence=evidence,
                    reasons=[Reason(en=f"{name} trades with the anchor", zh=f"{name}与核心企业有往来")],
                    path=path, **extra)


def build_store(root: Path) -> NetworkxStore:
    """Write the hand-made store at `root` and return it."""
    enterprises = [{"id": ANCHOR, "name": "华东精工机械制造有限公司", "is_client": True, "is_credit_client": True,
                    "industry": "机械制造", "region": "上海", "manager_id": MANAGER, "branch_id": "B01"},
                   {"id": EVIL, "name": EVIL_NAME, "is_client": False, "is_external": True},
                   {"id": EMPLOYER, "name": "惠民连锁超市有限公司", "is_client": True, "manager_id": MANAGER,
                    "branch_id": "B01"},
                   {"id": PROSPECT, "name": "保温材料科技有限公司", "is_client": False}]
    enterprises += [{"id": s, "name": f"供应商{i + 1}号有限公司", "is_client": i == 0} for i, s in enumerate(SUPPLIERS)]
    enterprises += [{"id": t, "name": f"二级供应商{t}", "is_client": False} for t in TIER2]
    enterprises += [{"id": d, "name": f"经销商{d}", "is_client": False} for d in BUYERS]
    persons = [{"id": p, "name": f"员工{i + 1}", "is_retail_client": i % 3 == 0, "aum": _staff_aum(i),
                "tier": "mass", "branch_id": "B01", "manager_id": RETAIL_MANAGER} for i, p in enumerate(STAFF)]
    persons.append({"id": DIRECTOR, "name": "王建国", "is_retail_client": True, "tier": "vip", "aum": 900_000.0,
                    "branch_id": "B01", "manager_id": RETAIL_MANAGER})
    edges = [_edge(ANCHOR, s, "PAYS", 100_000.0 * (i + 1), other_bank_amount=50_000.0)
             for i, s in enumerate(SUPPLIERS)]
    edges += [_edge(ANCHOR, EVIL, "PAYS", 1_234_567.0),
              _edge(SUPPLIERS[0], TIER2[0], "PAYS", 80_000.0), _edge(ANCHOR, SUPPLIERS[1], "BILL", 500_000.0),
              _edge(SUPPLIERS[1], TIER2[1], "ENDORSES", 500_000.0)]
    edges += [_edge(d, ANCHOR, "PAYS", 300_000.0 * (i + 1)) for i, d in enumerate(BUYERS)]
    edges += [_edge(EMPLOYER, p, "PAYROLL", 4_500.0 * 12) for p in STAFF]
    edges += [_edge(DIRECTOR, ANCHOR, "HOLDS_ROLE", role="director"),
              _edge(DIRECTOR, PROSPECT, "HOLDS_ROLE", role="shareholder", share_pct=30.0),
              _edge(ANCHOR, ASSOC, "MEMBER_OF", position="vice_president"),
              _edge(PROSPECT, ASSOC, "MEMBER_OF", position="member"),
              _edge(MANAGER, ANCHOR, "MANAGES"), _edge(MANAGER, EMPLOYER, "MANAGES"),
              _edge(RETAIL_MANAGER, DIRECTOR, "MANAGES")]
    payroll = [{"employer_id": EMPLOYER, "person_id": p, "month": f"2024-{m:02d}", "amount": 4_500.0}
               for p in STAFF for m in range(1, 13)]
    prospects = [_prospect("supply_chain", "upstream", s, f"供应商{i + 1}号有限公司", 30.0 + i, [ANCHOR, s],
                           anchor_id=ANCHOR, manager_id=MANAGER, branch_id="B01")
                 for i, s in enumerate(SUPPLIERS[1:], start=1)]
    prospects += [_prospect("supply_chain", "upstream", EVIL, EVIL_NAME, 75.0, [ANCHOR, EVIL], anchor_id=ANCHOR,
                            manager_id=MANAGER, branch_id="B01"),
                  _prospect("supply_chain", "upstream", TIER2[0], "二级供应商T1", 40.0, [ANCHOR, SUPPLIERS[0], TIER2[0]],
                            anchor_id=ANCHOR, details={"tier": 2}),
                  _prospect("supply_chain", "upstream", TIER2[1], "二级供应商T2", 45.0, [ANCHOR, SUPPLIERS[1], TIER2[1]],
                            anchor_id=ANCHOR, details={"tier": 2})]
    prospects += [_prospect("supply_chain", "downstream", d, f"经销商{d}", 50.0 + i, [ANCHOR, d], anchor_id=ANCHOR)
                  for i, d in enumerate(BUYERS)]
    prospects.append(_prospect("referral", "member", PROSPECT, "保温材料科技有限公司", 66.0,
                               [MANAGER, ANCHOR, ASSOC, PROSPECT], manager_id=MANAGER,
                               details={"other_chains": [[MANAGER, ANCHOR, DIRECTOR, PROSPECT]]}))
    prospects += [_prospect("retail_linkage", "payroll", p, f"员工{i + 1}", 60.0 - i, [EMPLOYER, p],
                            employer_id=EMPLOYER, branch_id="B01") for i, p in enumerate(NEAR)]
    for i, h in enumerate(HUB_PARTNERS):
        enterprises.append({"id": h, "name": f"枢纽伙伴{i + 1}", "is_client": i % 4 == 0})
        edges.append(_edge(HUB, h, "PAYS", 1_000_000.0 + i * 10_000.0))
        for j in range(30):
            leaf = f"{h}-{j:02d}"
            enterprises.append({"id": leaf, "name": f"伙伴{i + 1}的客户{j + 1}", "is_client": False})
            edges.append(_edge(h, leaf, "PAYS", 10_000.0 + j * 500.0))
    enterprises.append({"id": HUB, "name": "枢纽贸易集团", "is_client": True, "is_credit_client": True})
    enterprises.append({"id": CHAIN, "name": "康宁大药房连锁有限公司", "is_client": True})
    for i, s in enumerate(STORES):
        street = STREETS[2 * (i % 12):2 * (i % 12) + 2]
        enterprises.append({"id": s, "name": f"康宁大药房连锁有限公司{street}路第{i + 1}分店", "is_client": i % 5 == 0})
        edges.append(_edge(CHAIN, s, "PARENT_OF"))
        edges.append(_edge(CHAIN, s, "PAYS", 50_000.0 + i * 700.0))
    store = NetworkxStore(root)
    store.write({
        "enterprises": pd.DataFrame(enterprises),
        "persons": pd.DataFrame(persons),
        "associations": pd.DataFrame([{"id": ASSOC, "name": "保温材料行业协会", "kind": "industry_association"}]),
        "managers": pd.DataFrame([{"id": MANAGER, "name": "李经理", "kind": "corporate", "branch_id": "B01"},
                                  {"id": RETAIL_MANAGER, "name": "赵经理", "kind": "retail", "branch_id": "B01"}]),
        "branches": pd.DataFrame([{"id": "B01", "name": "城东支行"}]),
        "roles": pd.DataFrame([{"person_id": DIRECTOR, "enterprise_id": ANCHOR, "role": "director"},
                               {"person_id": DIRECTOR, "enterprise_id": PROSPECT, "role": "shareholder",
                                "share_pct": 30.0}]),
        "payroll": pd.DataFrame(payroll),
        "edges": pd.DataFrame(edges),
        "prospects": rank(prospects),
    }, note="hand-made viz fixture")
    return store
