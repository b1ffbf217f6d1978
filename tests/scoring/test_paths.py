"""Relationship paths: typed, shortest first, hop-limited, explained in both languages."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from graph.errors import InvalidRequest, NoPath, NotFound
from graph.paths import find_paths


def _edge(src: str, dst: str, kind: str, **attrs: object) -> dict[str, object]:
    return {"src": src, "dst": dst, "kind": kind, **attrs}


@pytest.fixture()
def interlocks(store):
    """A small board-interlock graph.

    张三 is the legal representative of A and a director of B; 李四 is a director of B and C;
    A pays D; D is a member of the association X, as is C. M1 manages A and C (bank edges).
    """
    store.write({
        "enterprises": pd.DataFrame({"id": ["A", "B", "C", "D", "Z"],
                                     "name": ["甲公司", "乙公司", "丙公司", "丁公司", "孤岛公司"],
                                     "is_client": [True, False, True, False, False]}),
        "persons": pd.DataFrame({"id": ["P1", "P2"], "name": ["张三", "李四"]}),
        "associations": pd.DataFrame({"id": ["X"], "name": ["保温材料行业协会"]}),
        "managers": pd.DataFrame({"id": ["M1"], "name": ["王经理"], "branch_id": ["B1"]}),
        "branches": pd.DataFrame({"id": ["B1"], "name": ["城东支行"]}),
        "edges": pd.DataFrame([
            _edge("P1", "A", "HOLDS_ROLE", role="legal_rep"),
            _edge("P1", "B", "HOLDS_ROLE", role="director"),
            _edge("P2", "B", "HOLDS_ROLE", role="director"),
            _edge("P2", "C", "HOLDS_ROLE", role="director"),
            _edge("P2", "C", "HOLDS_ROLE", role="shareholder", share_pct=30.0),
            _edge("A", "D", "PAYS", amount=1_200_000.0, count=12),
            _edge("D", "X", "MEMBER_OF", position="member"),
            _edge("C", "X", "MEMBER_OF", position="secretary_general"),
            _edge("M1", "A", "MANAGES"),
            _edge("M1", "C", "MANAGES"),
            _edge("M1", "Z", "MANAGES"),
            _edge("A", "B1", "IN_BRANCH"),
            _edge("Z", "B1", "IN_BRANCH"),
        ]),
    })
    return store


def test_legal_rep_and_director_explained_in_direction(interlocks):
    best = find_paths(interlocks, "A", "B")[0]
    assert best["nodes"] == ["A", "P1", "B"]
    assert best["edges"] == ["HOLDS_ROLE:legal_rep", "HOLDS_ROLE:director"]
    assert best["text_en"] == "张三 is the legal representative of 甲公司; 张三 is a director of 乙公司"
    assert best["text_zh"] == "张三是甲公司的法定代表人；张三是乙公司的董事"


def test_paths_are_shortest_first_and_limited_to_k(interlocks):
    found = find_paths(interlocks, "A", "C", max_hops=4, k=5)
    lengths = [len(p["edges"]) for p in found]
    assert lengths == sorted(lengths)
    assert [p["nodes"] for p in found] == [["A", "D", "X", "C"], ["A", "P1", "B", "P2", "C"]]
    assert len(find_paths(interlocks, "A", "C", max_hops=4, k=1)) == 1
    for p in found:
        assert len(p["nodes"]) == len(p["edges"]) + 1


def test_several_roles_between_two_nodes_are_all_told(interlocks):
    path = find_paths(interlocks, "B", "C", max_hops=2)[0]
    assert path["edges"] == ["HOLDS_ROLE:director", "HOLDS_ROLE:director"]
    assert "李四 is a director and a shareholder (30%) of 丙公司" in path["text_en"]
    assert "股东（持股30%）" in path["text_zh"]


def test_money_and_membership_words(interlocks):
    path = find_paths(interlocks, "A", "C", max_hops=3)[0]
    assert path["edges"] == ["PAYS", "MEMBER_OF", "MEMBER_OF"]
    # Edges total every flow on record: the text says so (reasons count 12 months).
    assert re.search(r"甲公司 pays 丁公司 \(CNY 1,200,000 in all(, \d{4}-\d{2} to \d{4}-\d{2}| on record)\)",
                     path["text_en"])
    assert "丙公司 is the secretary-general of 保温材料行业协会" in path["text_en"]
    assert re.search(r"甲公司向丁公司付款（(\d{4}-\d{2}至\d{4}-\d{2})?累计120.0万元）", path["text_zh"])


def test_hop_limit_gives_no_path(interlocks):
    with pytest.raises(NoPath):
        find_paths(interlocks, "A", "C", max_hops=2)


def test_unknown_id_is_not_found(interlocks):
    with pytest.raises(NotFound) as err:
        find_paths(interlocks, "A", "NOPE")
    assert not isinstance(err.value, NoPath)
    with pytest.raises(InvalidRequest):
        find_paths(interlocks, "A", "A")


def test_manager_and_branch_edges_make_no_shortcuts(interlocks):
    # Z is linked to A only through their manager and branch: no business relationship.
    with pytest.raises(NoPath):
        find_paths(interlocks, "A", "Z", max_hops=4)
    through_bank = find_paths(interlocks, "A", "Z", max_hops=2, include_bank_edges=True)
    assert {tuple(p["edges"]) for p in through_bank} == {("MANAGES", "MANAGES"), ("IN_BRANCH", "IN_BRANCH")}
    # ... but a manager endpoint uses its own MANAGES edges
    from_manager = find_paths(interlocks, "M1", "B", max_hops=3)
    assert from_manager[0]["nodes"] == ["M1", "A", "P1", "B"]
    assert from_manager[0]["text_en"].startswith("王经理 is the account manager of 甲公司")
    # ... and not the manager's other clients as stepping stones to a third entity
    assert all(p["nodes"][1] in ("A", "C") for p in find_paths(interlocks, "M1", "D", max_hops=4, k=5))


def test_cli_path_json(interlocks, capsys):
    from api.cli import main

    assert main(["path", "A", "B", "--store", str(interlocks.root), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["nodes"] == ["A", "P1", "B"] and rows[0]["edges"][0] == "HOLDS_ROLE:legal_rep"
    assert main(["path", "A", "C", "--store", str(interlocks.root), "--max-hops", "2"]) == 2
    assert "no path" in capsys.readouterr().err
