"""The demo bundle's nodes: enterprises, persons, roles, associations, memberships, managers.

Every planted case of DOMAIN.md is built around the ids of `demo.cases`; the flows
(payments, bills, endorsements, payroll) are in `demo.flows`. Rows are dicts
keyed by the canonical column names; `demo.bundle` writes them in their messy form.
"""

from __future__ import annotations

import random
from typing import Any

from demo import cases as dc
from demo.ids import make_id_number, make_phone, make_uscc, person_name

__all__ = ["Rows", "demo_nodes"]

Rows = dict[str, list[dict[str, Any]]]

_SUPPLIER_NAMES = [
    ("宁波明达模具有限公司", "模具"), ("宁波鑫源钢材有限公司", "钢材"), ("慈溪恒通电机有限公司", "电机"),
    ("余姚金鹰液压有限公司", "液压"), ("宁波正泰紧固件有限公司", "紧固件"), ("绍兴天成铸造有限公司", "铸造"),
    ("台州宏发数控设备有限公司", "数控设备"), ("温州安瑞电气有限公司", "电气"),
    (dc.NAME_VARIANTS[dc.SUPPLIERS[8]][0], "模具"), ("苏州恒达精密铸造有限公司", "铸造"),
    ("上海联航液压件有限公司", "液压"), (dc.NAMES[dc.WEAK_CLIENT_SUPPLIER], "轴承"),
]
_BUYER_NAMES = ["江苏徐工配套工程机械有限公司", "安徽合力物流装备有限公司", "山东临工机械销售有限公司",
                "浙江中建重工有限公司", "广东粤海起重设备有限公司", "福建闽龙港口机械有限公司"]
_MEMBER_WORDS = ["振华", "恒泰", "金盾", "安居", "绿源", "华美", "宏图", "东升", "利达", "永固", "新越", "天润",
                 "博远", "盛达"]
_MEMBER_KINDS = ["保温材料有限公司", "节能科技有限公司", "新型建材有限公司"]
_STREETS = ["人民路", "解放路", "中山路", "天一广场", "江东北路", "百丈路", "鄞州大道", "学府路", "镇海大道",
            "北仑新大路", "宁穿路", "福明路", "下应", "石碶", "高桥", "洪塘", "庄桥", "姜山", "五乡", "钟公庙",
            "东钱湖", "梅墟", "孔浦", "白鹤", "明楼", "东柳", "南门", "西门", "湖西", "月湖"]
_MERCHANT_WORDS = ["日用百货", "小五金", "服饰", "箱包", "玩具", "文具", "饰品", "针织", "鞋业", "家居用品"]
_REGION = "浙江省宁波市"


def _enterprise(rng: random.Random, eid: str, name: str, industry: str, *, client: bool = False,
                credit: bool = False, manager: str = "", branch: str = "", parent: str = "",
                capital: float | str | None = None, uscc: bool = True) -> dict[str, Any]:
    return {
        "enterprise_id": eid, "name": name, "uscc": make_uscc(rng) if uscc else "", "industry": industry,
        "region": _REGION, "registered_capital": capital if capital is not None else rng.choice((1, 2, 3, 5, 10)) * 1e6,
        "is_client": "是" if client else "否", "is_credit_client": "是" if credit else "否",
        "branch_id": branch, "manager_id": manager, "parent_id": parent,
        "opened_on": f"20{rng.randint(12, 22)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if client else "",
    }


def _enterprises(rng: random.Random) -> list[dict[str, Any]]:
    rows = [
        _enterprise(rng, dc.CORE, dc.NAMES[dc.CORE], "机械制造", client=True, credit=True,
                    manager=dc.MGR_CORE, branch=dc.BRANCH_EAST, capital=80e6),
        _enterprise(rng, dc.CORE_SUBSIDIARY, dc.NAMES[dc.CORE_SUBSIDIARY], "机械制造", parent=dc.CORE, capital=20e6),
    ]
    for eid, (name, industry) in zip(dc.SUPPLIERS, _SUPPLIER_NAMES, strict=True):
        weak = eid == dc.WEAK_CLIENT_SUPPLIER
        rows.append(_enterprise(rng, eid, name, industry, client=weak, manager=dc.MGR_CORE if weak else "",
                                branch=dc.BRANCH_EAST if weak else ""))
    rows.append(_enterprise(rng, dc.TIER2_ENDORSED, dc.NAMES[dc.TIER2_ENDORSED], "钢材贸易"))
    rows.append(_enterprise(rng, dc.TIER2_SUPPLIERS[0], "宁波北仑港通物流有限公司", "物流"))
    rows.append(_enterprise(rng, dc.TIER2_SUPPLIERS[1], "奉化科力橡塑制品有限公司", "橡塑制品"))
    for eid, name in zip(dc.BUYERS, _BUYER_NAMES, strict=True):
        rows.append(_enterprise(rng, eid, name, "工程机械"))
    rows.append(_enterprise(rng, dc.ASSOC_CREDIT_MEMBER, dc.NAMES[dc.ASSOC_CREDIT_MEMBER], "保温材料", client=True,
                            credit=True, manager=dc.MGR_ASSOC, branch=dc.BRANCH_WEST, capital=15e6))
    for i, eid in enumerate(dc.ASSOC_PROSPECT_MEMBERS):
        name = "宁波" + _MEMBER_WORDS[i] + _MEMBER_KINDS[i % len(_MEMBER_KINDS)]
        rows.append(_enterprise(rng, eid, name, "保温材料"))
    rows.append(_enterprise(rng, dc.SUPERMARKET, dc.NAMES[dc.SUPERMARKET], "零售", client=True,
                            manager=dc.MGR_CORE, branch=dc.BRANCH_EAST, capital=30e6))
    rows.append(_enterprise(rng, dc.PHARMACY, dc.NAMES[dc.PHARMACY], "医药零售", client=True,
                            manager=dc.MGR_CORE, branch=dc.BRANCH_EAST, capital=50e6))
    for i, eid in enumerate(dc.PHARMACY_STORES):
        suffix = "门店" if i % 3 else "分店"
        rows.append(_enterprise(rng, eid, f"{dc.NAMES[dc.PHARMACY]}{_STREETS[i]}{suffix}", "医药零售",
                                parent=dc.PHARMACY, capital=""))  # a store has no capital of its own
    for eid, name, industry in zip(dc.VIP_COMPANIES, ["宁波文斌国际贸易有限公司", "宁波秀英服饰有限公司",
                                                      "宁波志远电子科技有限公司"], ["进出口贸易", "服装", "电子"],
                                   strict=True):
        rows.append(_enterprise(rng, eid, name, industry))
    for i, eid in enumerate(dc.MARKET_CLIENT_MERCHANTS + dc.MARKET_PROSPECT_MERCHANTS):
        client = eid in dc.MARKET_CLIENT_MERCHANTS
        word = _MERCHANT_WORDS[i % len(_MERCHANT_WORDS)]
        name = f"宁波{rng.choice('鑫盛兴隆旺达福瑞佳美')}{rng.choice('源发祥利顺昌和泰')}{word}商行" \
            if i % 2 else f"海曙区{person_name(rng)}{word}经营部"
        rows.append(_enterprise(rng, eid, name, "小商品批发", client=client, manager=dc.MGR_MARKET if client else "",
                                branch=dc.BRANCH_WEST if client else "", capital=rng.choice((0.1, 0.3, 0.5, 1)) * 1e6,
                                uscc=client or i % 2 == 1))
    # a bad row: a required name is missing
    rows.append(_enterprise(rng, dc.BAD_ENTERPRISE, "", "其他"))
    return rows


def _person(rng: random.Random, pid: str, *, retail: bool, aum: float | None = None, aum_prev: float | None = None,
            tier: str = "", manager: str = "", branch: str = "", name: str | None = None,
            do_not_contact: bool = False) -> dict[str, Any]:
    return {
        "person_id": pid, "name": name or person_name(rng), "id_number": make_id_number(rng),
        "phone": make_phone(rng), "is_retail_client": "是" if retail else "否",
        "aum": "" if aum is None else round(aum, 2), "aum_prev": "" if aum_prev is None else round(aum_prev, 2),
        "tier": tier, "branch_id": branch, "manager_id": manager, "do_not_contact": "是" if do_not_contact else "",
    }


def _key_persons(rng: random.Random) -> list[dict[str, Any]]:
    rows = [
        _person(rng, dc.SECRETARY_GENERAL, retail=True, aum=860_000, aum_prev=820_000, tier="贵宾",
                manager=dc.MGR_RETAIL_WEST, branch=dc.BRANCH_WEST),
        _person(rng, dc.INTERLOCK_DIRECTOR, retail=False),
    ]
    for pid in dc.CLIENT_EXECUTIVES:
        rows.append(_person(rng, pid, retail=False, do_not_contact=pid == dc.DO_NOT_CONTACT))
    for pid, tier, aum, mgr, branch in zip(
            dc.RETAIL_VIP_OWNERS, ["私行", "贵宾", "贵宾"], [6_200_000, 1_350_000, 980_000],
            [dc.MGR_RETAIL_EAST, dc.MGR_RETAIL_WEST, dc.MGR_RETAIL_EAST], [dc.BRANCH_EAST, dc.BRANCH_WEST, dc.BRANCH_EAST],
            strict=True):
        rows.append(_person(rng, pid, retail=True, aum=aum, aum_prev=aum * rng.uniform(0.9, 1.05), tier=tier,
                            manager=mgr, branch=branch))
    rows.append(_person(rng, dc.OUTFLOW_QUERY, retail=True, aum=364_000, aum_prev=520_000, tier="贵宾",
                        manager=dc.MGR_RETAIL_EAST, branch=dc.BRANCH_EAST))
    rows.append(_person(rng, dc.OUTFLOW_WARNING, retail=True, aum=600_000, aum_prev=1_500_000, tier="贵宾",
                        manager=dc.MGR_RETAIL_WEST, branch=dc.BRANCH_WEST))
    for pid in dc.ORDINARY_RETAIL:
        wealth = round(rng.lognormvariate(10.5, 1.2), 2)
        tier = "大众" if wealth < 50_000 else "潜力" if wealth < 500_000 else "贵宾"
        west = rng.random() < 0.5
        rows.append(_person(rng, pid, retail=True, aum=wealth, aum_prev=wealth / rng.uniform(0.85, 1.2), tier=tier,
                            manager="" if tier == "大众" else dc.MGR_RETAIL_WEST if west else dc.MGR_RETAIL_EAST,
                            branch=dc.BRANCH_WEST if west else dc.BRANCH_EAST))
    bad = _person(rng, dc.BAD_PERSON, retail=True, aum=12_000, aum_prev=12_500, tier="大众", branch=dc.BRANCH_EAST)
    wrong = "0" if bad["id_number"][-1] != "0" else "1"
    bad["id_number"] = bad["id_number"][:17] + wrong  # a bad row: the check character fails
    rows.append(bad)
    return rows


def _roles() -> list[dict[str, Any]]:
    execs = dc.CLIENT_EXECUTIVES
    rows = [
        (execs[0], dc.CORE, "董事长/法定代表人", ""), (execs[0], dc.CORE, "实际控制人", 62.5),
        (execs[1], dc.CORE, "财务负责人", ""), (execs[1], dc.CORE, "董事", ""),
        (execs[2], dc.SUPERMARKET, "董事", ""), (execs[3], dc.SUPERMARKET, "法定代表人", ""),
        (execs[3], dc.SUPERMARKET, "实际控制人", 51.0),
        (dc.INTERLOCK_DIRECTOR, dc.ASSOC_CREDIT_MEMBER, "董事", ""),
        (dc.INTERLOCK_DIRECTOR, dc.ASSOC_PROSPECT_MEMBERS[0], "董事", ""),
        (dc.RETAIL_VIP_OWNERS[0], dc.VIP_COMPANIES[0], "实际控制人", 80.0),
        (dc.RETAIL_VIP_OWNERS[0], dc.VIP_COMPANIES[0], "法定代表人", ""),
        (dc.RETAIL_VIP_OWNERS[1], dc.VIP_COMPANIES[1], "法定代表人", ""),
        (dc.RETAIL_VIP_OWNERS[1], dc.VIP_COMPANIES[1], "股东", 40.0),
        (dc.RETAIL_VIP_OWNERS[2], dc.VIP_COMPANIES[2], "实际控制人", 55.0),
    ]
    return [{"person_id": p, "enterprise_id": e, "role": r, "share_pct": s} for p, e, r, s in rows]


def _associations() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    assocs = [
        {"association_id": dc.ASSOC_INSULATION, "name": dc.NAMES[dc.ASSOC_INSULATION], "kind": "industry_association",
         "region": _REGION},
        {"association_id": dc.MARKET, "name": dc.NAMES[dc.MARKET], "kind": "market", "region": _REGION},
    ]
    members = [{"association_id": dc.ASSOC_INSULATION, "member_id": dc.ASSOC_CREDIT_MEMBER, "member_kind": "企业",
                "position": "副会长"}]
    for i, eid in enumerate(dc.ASSOC_PROSPECT_MEMBERS):
        position = "会长" if i == 1 else "理事" if i in (0, 2, 3) else "会员"
        members.append({"association_id": dc.ASSOC_INSULATION, "member_id": eid, "member_kind": "企业",
                        "position": position})
    members.append({"association_id": dc.ASSOC_INSULATION, "member_id": dc.SECRETARY_GENERAL, "member_kind": "个人",
                    "position": "秘书长"})
    for eid in dc.MARKET_CLIENT_MERCHANTS + dc.MARKET_PROSPECT_MERCHANTS:
        members.append({"association_id": dc.MARKET, "member_id": eid, "member_kind": "企业", "position": "会员"})
    return assocs, members


def _managers() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    managers = [
        (dc.MGR_CORE, "王建国", "对公", dc.BRANCH_EAST), (dc.MGR_ASSOC, "李晓梅", "对公", dc.BRANCH_WEST),
        (dc.MGR_RETAIL_EAST, "张丽", "零售", dc.BRANCH_EAST), (dc.MGR_RETAIL_WEST, "刘洋", "零售", dc.BRANCH_WEST),
        (dc.MGR_MARKET, "陈磊", "对公", dc.BRANCH_WEST),
    ]
    branches = [{"branch_id": b, "name": n} for b, n in dc.BRANCH_NAMES.items()]
    return [{"manager_id": m, "name": n, "kind": k, "branch_id": b} for m, n, k, b in managers], branches


def demo_nodes(rng: random.Random) -> Rows:
    """The node tables (and roles, memberships) of the demo bundle, without the payroll staff."""
    associations, memberships = _associations()
    managers, branches = _managers()
    return {
        "enterprises": _enterprises(rng), "persons": _key_persons(rng), "roles": _roles(),
        "associations": associations, "memberships": memberships, "managers": managers, "branches": branches,
    }
