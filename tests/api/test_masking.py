"""No response for a masking role contains a raw name, phone or ID hash it should not see."""

from __future__ import annotations

import io
import itertools
import zipfile

import pytest

from api.masking import WITHHELD, TextGuard, mask_name
from tests.api.conftest import PERSONS, TOKEN_SPECS, auth

NODE_IDS = ["E1", "E2", "E4", "E5", "ext:0123456789ab", "P1", "P2", "P3", "M01", "B01", "A1"]


def _hidden_persons(role: str, branch: str | None) -> set[str]:
    """Who must be masked for this token (the rule of docs/api.md, written out here)."""
    if role == "admin":
        return {p for p, d in PERSONS.items() if branch and d["branch_id"] != branch}
    if role == "retail_manager":
        return {p for p, d in PERSONS.items() if branch and d["branch_id"] != branch}
    return set(PERSONS)


def _bodies(client, token: str) -> list[str]:
    h = auth(token)
    urls = [f"/entities?q={q}" for q in [*(p["name"] for p in PERSONS.values()), "P1", "有限公司", "张"]]
    urls += [f"/entities/{i}" for i in NODE_IDS] + [f"/entities/{i}/neighbors?hops=3" for i in ("E1", "P2", "M01")]
    urls += [f"/paths?source={a}&target={b}&k=5" for a, b in itertools.combinations(["P1", "P2", "P3", "E4"], 2)]
    families = client.get("/prospects", headers=h).json()["families"]
    for fam in families:
        urls += [f"/prospects/{fam}?lang=zh", f"/prospects/{fam}?lang=en&format=csv"]
    out = []
    for url in urls:
        r = client.get(url, headers=h)
        assert r.status_code < 500, (url, r.text)
        out.append(r.text)
    for fam in families:
        r = client.get(f"/prospects/{fam}?format=xlsx", headers=h)
        assert r.status_code == 200
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            out += [zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".xml")]
    return out


@pytest.mark.parametrize("token_key", sorted(TOKEN_SPECS))
def test_no_raw_personal_data_for_masked_viewers(client, tokens, token_key):
    role, branch = TOKEN_SPECS[token_key]
    hidden = _hidden_persons(role, branch)
    everything = "\n".join(_bodies(client, tokens[token_key]))
    for pid in hidden:
        assert PERSONS[pid]["name"] not in everything, (token_key, pid)
        assert PERSONS[pid]["phone_masked"] not in everything, (token_key, pid)
    if role != "admin":
        assert not any(p["id_hash"] in everything for p in PERSONS.values())
    # and the visible ones really are visible (the test can tell masked from shown)
    for pid in set(PERSONS) - hidden:
        if branch is None or PERSONS[pid]["branch_id"] == branch:
            assert PERSONS[pid]["name"] in everything, (token_key, pid)


def test_mask_name_shapes():
    assert mask_name("张三") == "张*"
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_name("王") == "*"
    assert mask_name(None) is None


def test_text_is_never_rewritten_a_sentence_naming_a_masked_person_is_withheld():
    g = TextGuard({"张三", "张三丰", "李四"})
    assert g.text("张三丰和张三见了李四") == WITHHELD["zh"]
    assert g.text("Meets 李四", "en") == WITHHELD["en"]
    assert g.text("") == "" and g.text("no names here") == "no names here"


def test_enterprise_and_manager_names_are_not_person_names():
    # 宁波明达模具 became 向*波明达模具 because a staff member is named 向宁 (#19)
    g = TextGuard({"向宁", "严芳", "陈磊"}, keep={"宁波明达模具", "海曙区严芳鞋业经营部", "陈磊"})
    assert g.text("向宁波明达模具付款") == "向宁波明达模具付款"
    assert g.text("引荐人：海曙区严芳鞋业经营部") == "引荐人：海曙区严芳鞋业经营部"
    assert g.text("客户经理陈磊负责") == "客户经理陈磊负责"  # a manager is not a person to mask
    assert g.text("引荐人：海曙区严芳鞋业经营部；严芳本人") == WITHHELD["zh"]


def test_audit_log_names_ids_but_no_personal_data(client, tokens, api_store):
    client.get("/entities/P1", headers=auth(tokens["corporate"]))
    client.get("/prospects/retail_linkage?format=csv&min_score=10", headers=auth(tokens["retail_b01"]))
    text = (api_store.state_dir / "audit.jsonl").read_text(encoding="utf-8")
    for p in PERSONS.values():
        assert p["name"] not in text and p["phone_masked"] not in text and p["id_hash"] not in text
    from api.audit import AuditLog

    lines = AuditLog(api_store.state_dir / "audit.jsonl").read()
    assert any(e["action"] == "view_entity" and e["ids"] == ["P1"] and e["user"] == "corporate" for e in lines)
    export = [e for e in lines if e["action"] == "export" and e["user"] == "retail_b01"]
    assert export and export[-1]["filters"] == {"min_score": 10.0} and export[-1]["family"] == "retail_linkage"
    assert export[-1]["rows"] == 3  # P1, P3 and E4 of branch B01 and export[-1]["format"] == "csv"
    assert all({"time", "user", "role", "action"} <= set(e) for e in lines)


def test_person_branches_names_persons_and_their_branch_and_nothing_else(tmp_path) -> None:
    import pandas as pd

    from api.masking import person_branches
    from graph.networkx_store import NetworkxStore

    store = NetworkxStore(tmp_path / "s")
    store.write({"enterprises": pd.DataFrame({"id": ["E1", "E2"], "name": ["甲", "乙"], "branch_id": ["B01", "B02"]}),
                 "persons": pd.DataFrame({"id": ["P1", "P2", "P3"], "name": ["张三", "李四", "王五"],
                                          "branch_id": ["B02", None, ""]})})
    branches = person_branches(store)
    assert branches.get("P1") == "B02" and "P1" in branches
    assert "P2" in branches and branches.get("P2") is None  # a person of no branch
    assert "P3" in branches and branches.get("P3") is None  # an empty branch is none
    assert "E1" not in branches and branches.get("E1") is None  # an enterprise is no person
    assert "nobody" not in branches and branches.get("nobody", "x") == "x"
    assert person_branches(store) is branches  # one per store version
