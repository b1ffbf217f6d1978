"""Entity resolution: id, USCC (a hard key), normalised name, fuzzy with blocking, external, placeholders."""

from __future__ import annotations

import pandas as pd
import pytest

from ingest.names import normalise_name, split_branch
from ingest.normalise import uscc_valid
from ingest.resolve import Resolver
from ingest.settings import IngestSettings
from ingest.validate import is_placeholder

KNOWN = pd.DataFrame({
    "id": ["E1", "E2", "E3", "E4", "E5"],
    "name": ["华东精工机械制造有限公司", "康宁大药房连锁有限公司城东分店", "Hon Hai Precision Industry Co., Ltd.",
             "苏州恒达精密铸造有限公司", "苏州恒达精密铸造有限公司"],
    "uscc": [None, None, None, "91350100M000100Y43", "91110000600037341L"],
    "is_external": [False] * 5, "is_client": [True, False, False, False, True],
})
KNOWN["name_norm"] = KNOWN["name"].map(normalise_name)


@pytest.fixture()
def resolver() -> Resolver:
    return Resolver(KNOWN.copy(), IngestSettings(), other_ids={"P1"})


@pytest.mark.parametrize(("a", "b"), [
    ("华东精工机械制造有限公司", "华东精工机械制造有限责任公司"),
    ("华东精工机械制造有限公司", "华东精工机械制造股份有限公司"),
    ("华东精工（苏州）有限公司", "华东精工(苏州)有限公司"),
    ("ＡＢＣ科技有限公司", "ABC科技有限公司"),
    ("上海 联航液压件  有限公司", "上海联航液压件有限公司"),
    ("Hon Hai Precision Industry Co., Ltd.", "HON HAI PRECISION INDUSTRY COMPANY LIMITED"),
    ("Alcoa, Inc.", "Alcoa Inc"),
    ("华东精工机械制造有限公司(基本户)", "华东精工机械制造有限公司"),  # the account's kind, as a statement writes it
    ("华东精工机械制造有限公司（一般存款账户）", "华东精工机械制造有限公司"),
])
def test_normalised_names_agree(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_branches_keep_their_suffix() -> None:
    assert normalise_name("上海联航液压件有限公司嘉定分公司") != normalise_name("上海联航液压件有限公司")
    assert split_branch(normalise_name("上海联航液压件有限公司嘉定分公司")) == ("上海联航液压件", "嘉定分公司")


def test_order_id_then_uscc_then_name(resolver: Resolver) -> None:
    assert resolver.resolve_one("E1", "whatever").method == "id"
    by_uscc = resolver.resolve_one(None, "完全不同的名字", "91110000600037341L")
    assert (by_uscc.resolved_id, by_uscc.method) == ("E5", "uscc")
    by_name = resolver.resolve_one(None, "华东精工机械制造有限责任公司")
    assert (by_name.resolved_id, by_name.method, by_name.score) == ("E1", "name", 100.0)


def _with_check(first17: str) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(chars.index(c) * w for c, w in zip(first17, weights, strict=True))
    return first17 + chars[(31 - total % 31) % 31]


def test_uscc_is_a_hard_key(resolver: Resolver) -> None:
    third = _with_check("91320500MA1X2Y3W4")
    assert uscc_valid(third)
    # the same normalised name as E4 and E5, but a third valid USCC: a company of its own
    other = resolver.resolve_one(None, "苏州恒达精密铸造有限公司", third)
    assert other.method == "external" and other.resolved_id not in {"E4", "E5"}
    # and a near-identical name with a USCC other than the candidate's is no fuzzy match either
    near = resolver.resolve_one(None, "苏州恒达精密铸造厂有限公司", _with_check("91320500MA1X2Y3W5"))
    assert near.method == "external"
    decision = resolver.resolve_one(None, "苏州恒达精密铸造有限公司", "91110000600037341L")
    assert decision.resolved_id == "E5"
    assert resolver.resolve_one(None, "苏州恒达精密铸造有限公司", "91350100M000100Y43").resolved_id == "E4"


def test_fuzzy_match_above_threshold_only(resolver: Resolver) -> None:
    close = resolver.resolve_one(None, "华东精工机械制造厂有限公司")  # one extra character
    assert close.method == "fuzzy" and close.resolved_id == "E1" and close.score >= 90
    far = resolver.resolve_one(None, "华东重型机械有限公司")
    assert far.method == "external" and far.resolved_id.startswith("ext:")
    strict = Resolver(KNOWN.copy(), IngestSettings(fuzzy_threshold=99.0))
    assert strict.resolve_one(None, "华东精工机械制造厂有限公司").method == "external"


def test_fuzzy_never_merges_different_branches_numbers_or_key_words(resolver: Resolver) -> None:
    assert resolver.resolve_one(None, "康宁大药房连锁有限公司城西分店").method == "external"
    first = resolver.resolve_one(None, "宏达五金第一厂有限公司9号")
    assert resolver.resolve_one(None, "宏达五金第一厂有限公司8号").resolved_id != first.resolved_id
    moose = resolver.resolve_one(None, "Non-Public Organization Moose")
    assert resolver.resolve_one(None, "Non-Public Organization Horse").resolved_id != moose.resolved_id


def test_new_external_nodes_are_matched_by_later_names(resolver: Resolver) -> None:
    first = resolver.resolve_one(None, "温州宏远五金贸易有限公司")
    again = resolver.resolve_one(None, "温州宏远五金贸易有限责任公司")
    assert first.method == "external" and again.method == "name" and again.resolved_id == first.resolved_id
    assert first.resolved_id in resolver.new_nodes
    given = resolver.resolve_one("S77", "ACME Widgets Ltd")
    assert (given.resolved_id, given.method) == ("S77", "external")


def test_ids_of_other_node_kinds_and_unknown_bare_ids_are_refused(resolver: Resolver) -> None:
    assert resolver.resolve_one("P1", None).resolved_id is None
    refused = resolver.resolve_one("E404", None)
    assert refused.resolved_id is None and "unknown id E404" in refused.reason


def test_bulk_resolution_reports_each_name_with_method_and_score(resolver: Resolver) -> None:
    ids = pd.Series(["E1", None, None, None], dtype="string")
    names = pd.Series(["华东精工", "华东精工机械制造有限责任公司", "新客户有限公司", "新客户有限公司"], dtype="string")
    resolved, why = resolver.resolve(ids, names)
    assert resolved.tolist()[:2] == ["E1", "E1"]
    assert resolved.iloc[2] == resolved.iloc[3] and resolved.iloc[2].startswith("ext:")
    assert why.isna().all()
    report = resolver.report().set_index("source_name")
    assert report.loc["华东精工", "method"] == "id"
    assert report.loc["华东精工机械制造有限责任公司", "method"] == "name"
    assert report.loc["新客户有限公司", "method"] == "external"


def test_blocking_keeps_fuzzy_work_to_one_block() -> None:
    chars = "金银铜铁锡华盛兴旺达永昌隆泰丰恒宏远鑫源瑞祥和顺"
    names = [f"{city}{a}{b}精密机械有限公司" for city in ("苏州", "杭州", "宁波", "温州") for a in chars for b in chars]
    df = pd.DataFrame({"id": [f"E{i}" for i in range(len(names))], "name": names, "uscc": None,
                       "is_external": False, "is_client": False})
    df["name_norm"] = df["name"].map(normalise_name)
    resolver = Resolver(df, IngestSettings())
    per_city = len(chars) ** 2
    spans = resolver.block_spans()
    assert max(stop - start for start, stop in spans.values()) == per_city  # one block per city prefix
    assert len(spans) == 4  # (all heads have the same length)
    assert resolver.resolve_one(None, "苏州金银精密机械厂有限公司").resolved_id == "E1" and \
        resolver.resolve_one(None, "苏州金银精密机械厂有限公司").method == "fuzzy"


@pytest.mark.parametrize("name", ["REDACTED PERSONAL DATA", "redacted", "个人", "未知", " N/A ", "-"])
def test_placeholders(name: str) -> None:
    assert is_placeholder(pd.Series([name], dtype="string"), IngestSettings()).iloc[0]


def test_real_names_are_not_placeholders() -> None:
    names = pd.Series(["个人护理用品有限公司", "Unknown Pleasures Ltd", None], dtype="string")
    assert not is_placeholder(names, IngestSettings()).any()
