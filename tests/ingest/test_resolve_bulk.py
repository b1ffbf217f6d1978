"""`Resolver.resolve` (joins, then one step per unmatched name) decides exactly as `resolve_one`
applied to each distinct counterparty in turn, most frequent first (the loop it replaced)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from ingest import known as known_keys
from ingest.resolve import Resolver
from ingest.settings import IngestSettings
from tests.ingest.test_resolve import KNOWN


def _one_by_one(resolver: Resolver, rows: list[tuple[str | None, str | None, str | None]]) -> tuple[list, list, dict]:
    """The previous `resolve`: known ids first, then every other distinct (id, name, USCC) through
    `resolve_one` in order; the report lists the known ids' names, then the others by first decision."""
    known = {i for i, _, _ in rows if i and i in resolver._ids}
    by_id = {}
    for i, n, _ in rows:
        label = n if n is not None else i  # a blank name is its label here (as Arrow's coalesce)
        if i in known and label not in by_id:
            by_id[label] = i
    keys = ["\x1f".join(part or "" for part in row) for row in rows]
    counts = pd.Series([k for k, row in zip(keys, rows, strict=True) if row[0] not in known]).value_counts()
    order = sorted(counts.index, key=lambda k: (-int(counts[k]), k))
    decided, report = {}, {}
    for key in order:
        i, n, u = (part or None for part in key.split("\x1f"))
        d = resolver.resolve_one(i, n, u)
        decided[key] = d
        if d.resolved_id is not None and d.source_name:
            report[d.source_name] = (d.resolved_id, d.method, d.score)
    listed = {name: (node_id, "id", 100.0) for name, node_id in by_id.items() if name not in report}
    ids = [row[0] if row[0] in known else decided[k].resolved_id for k, row in zip(keys, rows, strict=True)]
    whys = [None if row[0] in known else decided[k].reason or None for k, row in zip(keys, rows, strict=True)]
    return ids, whys, {**listed, **report}


def _rows(seed: int) -> list[tuple[str | None, str | None, str | None]]:
    rng = random.Random(seed)
    names = ["华东精工机械制造有限公司", "华东精工机械制造厂有限公司", "康宁大药房连锁城东分店", "康宁大药房连锁城西分店",
             "Hon Hai Precision Industry", "苏州恒达精密铸造有限公司", "新客户有限公司", "新客户有限责任公司",
             "温州宏远五金贸易有限公司", "温州宏远五金贸易有限责任公司", "宏达五金第一厂9号", "宏达五金第一厂8号",
             "ACME Widgets Ltd", "Acme Widget Ltd", "！！", "", None]
    ids = [None, None, None, "E1", "E404", "S77", "P1", "X9", ""]
    usccs = [None, None, None, "91350100M000100Y43", "91110000600037341L", "91320500MA1X2Y3W57", "U-NEW"]
    return [(rng.choice(ids), rng.choice(names), rng.choice(usccs)) for _ in range(rng.randint(5, 120))]


@pytest.fixture(params=["arrow", "duckdb"])
def known_rows_in(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The rows known by id found by Arrow (few rows) or by DuckDB's joins (many): the same answer."""
    if request.param == "duckdb":
        monkeypatch.setattr(known_keys, "JOINED_FROM", 0)
    return str(request.param)


@pytest.mark.parametrize("seed", range(40))
def test_bulk_resolve_is_resolve_one_in_turn(seed: int, known_rows_in: str) -> None:
    rows = _rows(seed)
    bulk = Resolver(KNOWN.copy(), IngestSettings(), other_ids={"P1"})
    loop = Resolver(KNOWN.copy(), IngestSettings(), other_ids={"P1"})
    cols = [pd.Series([r[k] for r in rows], dtype="string") for k in range(3)]
    resolved, why = bulk.resolve(*cols)
    expected_ids, expected_why, report = _one_by_one(loop, rows)
    assert resolved.tolist() == [x if x is not None else pd.NA for x in expected_ids]
    assert why.tolist() == [x if x is not None else pd.NA for x in expected_why]
    assert bulk.new_nodes == loop.new_nodes
    # the bulk path looked the known enterprises up in joins: no Python map of them all was made
    # (`resolve_one` on its own, the loop above, makes one on its first look-up)
    assert [k._whole for k in (bulk._ids, bulk._uscc, bulk._uscc_of, bulk._by_norm, bulk._other_ids)] == [None] * 5
    got = bulk.report()
    assert got["source_name"].tolist() == list(report)  # in the same order
    for (_, row), (node_id, method, score) in zip(got.iterrows(), report.values(), strict=True):
        assert (row["resolved_id"], row["method"]) == (node_id, method)
        assert (np.isnan(score) and np.isnan(row["score"])) or row["score"] == score


def test_a_later_name_carrying_an_earlier_externals_id_resolves_by_that_id() -> None:
    # "S77" is first made an external (most frequent), then named again with a known name: the id wins
    rows = [("S77", "全新公司", None)] * 3 + [("S77", "华东精工机械制造有限公司", None)]
    resolver = Resolver(KNOWN.copy(), IngestSettings())
    cols = [pd.Series([r[k] for r in rows], dtype="string") for k in range(3)]
    resolved, _ = resolver.resolve(*cols)
    assert resolved.tolist() == ["S77"] * 4
    by_uscc = [(None, "另一家新公司", "U-NEW")] * 3 + [(None, "华东精工机械制造有限公司", "U-NEW")]
    cols = [pd.Series([r[k] for r in by_uscc], dtype="string") for k in range(3)]
    first, _ = resolver.resolve(*cols)
    assert first.nunique() == 1 and first.iloc[0].startswith("ext:")


@pytest.mark.parametrize("names", [None, ["华东精工", None, "", "华东精工", None]])
def test_known_ids_only_are_reported_once_each_in_order(names: list[str | None] | None, known_rows_in: str) -> None:
    ids = pd.Series(["E2", "E1", "E2", "E3", "E1"], dtype="string", index=[9, 8, 7, 6, 5])
    resolver = Resolver(KNOWN.copy(), IngestSettings())
    resolved, why = resolver.resolve(ids, None if names is None else pd.Series(names, dtype="string", index=ids.index))
    assert resolved.tolist() == ids.tolist() and resolved.index.equals(ids.index) and why.isna().all()
    report = resolver.report()
    if names is None:
        assert report["source_name"].tolist() == ["E2", "E1", "E3"] == report["resolved_id"].tolist()
    else:
        assert report["source_name"].tolist() == ["华东精工", "E1", ""]
        assert report["resolved_id"].tolist() == ["E2", "E1", "E2"]  # each label with its first row's id
    assert (report["method"] == "id").all()


def test_no_known_enterprise_names_still_resolve_fuzzily_against_new_ones() -> None:
    empty = KNOWN.iloc[:0].copy()
    resolver = Resolver(empty, IngestSettings())
    assert resolver.block_spans() == {}
    first = resolver.resolve_one(None, "华东精工机械制造有限公司")
    again = resolver.resolve_one(None, "华东精工机械制造厂有限公司")
    assert first.method == "external" and again.method == "fuzzy" and again.resolved_id == first.resolved_id


def test_joins_keep_the_dicts_first_and_last_wins() -> None:
    # an id listed twice with two USCCs (the last is its USCC), a USCC and a name on two ids (the first wins)
    known = pd.concat([KNOWN, pd.DataFrame({
        "id": ["E9", "E9", "E8"], "name": ["重复编号有限公司", "重复编号有限公司", "重复编号有限公司"],
        "uscc": ["U-ONE", "U-TWO", "U-ONE"], "is_external": False, "is_client": True})], ignore_index=True)
    known["name_norm"] = known["name"].map(lambda n: n.replace("有限公司", ""))
    rows = [(None, "重复编号有限公司", "U-TWO"), (None, "重复编号有限公司", "U-ONE"), (None, "别的名字", "U-ONE"),
            (None, "重复编号有限公司", None)]
    bulk, loop = Resolver(known.copy(), IngestSettings()), Resolver(known.copy(), IngestSettings())
    cols = [pd.Series([r[k] for r in rows], dtype="string") for k in range(3)]
    resolved, why = bulk.resolve(*cols)
    expected_ids, expected_why, _ = _one_by_one(loop, rows)
    assert resolved.tolist() == [x if x is not None else pd.NA for x in expected_ids]
    assert why.tolist() == [x if x is not None else pd.NA for x in expected_why]
