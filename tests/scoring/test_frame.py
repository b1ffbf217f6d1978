"""The columnar prospect frame: lists built by index, scores clamped like `finalise_scores`,
reasons rendered from templates in either language, and prospects paged in DuckDB."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from graph.errors import InvalidRequest, NotFound
from graph.networkx_store import NetworkxStore
from scoring.explain import Evidence, Prospect, Reason, finalise_scores
from scoring.frame import Bar, ReasonSlot, build_frame, finalise_points, interleave, round_like_python
from scoring.run import frame_prospects, rank
from scoring.stored import ProspectRights, decode, page_prospects
from scoring.templates import register, render, render_reasons

register({"test.frame.paid": ("{who} was paid {amount:money_en} ({share:.0%}).",
                              "{who}获付{amount:money_zh}（{share:.0%}）。")})


def test_interleave_keeps_row_order_then_slot_order_where_masks_hold() -> None:
    a = pa.array(["a0", "a1", "a2"])
    b = pa.array(["b0", "b1", "b2"])
    out = interleave([(np.array([True, False, True]), a), (None, b)], 3)
    assert out.to_pylist() == [["a0", "b0"], ["b1"], ["a2", "b2"]]


def test_interleave_builds_structs_from_columns_and_scalars() -> None:
    """Slots given as a struct's fields: a field that is a scalar in every slot (a label) and one
    that is a column in some slots give the same lists as whole struct columns interleaved."""
    item = pa.struct([("key", pa.string()), ("value", pa.string()), ("n", pa.float64())])
    first = {"key": pa.scalar("a"), "value": pa.array(["x0", None, "x2"]), "n": pa.scalar(1.5)}
    second = {"key": pa.scalar("b"), "value": pa.scalar("same"), "n": pa.array([7.0, 8.0, 9.0])}
    masks = [np.array([True, False, True]), np.array([False, True, True])]
    out = interleave(list(zip(masks, [first, second], strict=True)), 3, item)
    assert out.type == pa.list_(item)
    assert out.to_pylist() == [[{"key": "a", "value": "x0", "n": 1.5}],
                               [{"key": "b", "value": "same", "n": 8.0}],
                               [{"key": "a", "value": "x2", "n": 1.5}, {"key": "b", "value": "same", "n": 9.0}]]
    whole = [pa.StructArray.from_arrays([pa.repeat(f["key"], 3), *(f[k] if isinstance(f[k], pa.Array)
                                         else pa.repeat(f[k], 3) for k in ("value", "n"))], fields=list(item))
             for f in (first, second)]
    assert out.equals(interleave(list(zip(masks, whole, strict=True)), 3))
    assert interleave([], 2, item).to_pylist() == [[], []] and interleave([], 2, item).type == pa.list_(item)


def test_finalise_points_matches_the_scalar_rule() -> None:
    rng = random.Random(3)
    for _ in range(200):
        row = [rng.uniform(-40, 70) for _ in range(4)]
        expected = [e.contribution for e in finalise_scores(
            [Evidence(name=str(i), label_en="", label_zh="", contribution=c) for i, c in enumerate(row)])]
        got = finalise_points(np.array([row]))[0]
        assert got == pytest.approx(expected, abs=1e-12)
        assert sum(got) <= 100 + 1e-9


def test_round_like_python_equals_round_even_at_half_way_points() -> None:
    values = np.array([78.70305, 2.675, 0.125, 1.00005, -3.14155, 12.3456789])
    assert round_like_python(values, 4).tolist() == [round(v, 4) for v in values.tolist()]


def test_templates_render_in_both_languages_with_formats() -> None:
    params = {"who": "张三", "amount": "123456.0", "share": "0.25"}
    assert render("test.frame.paid", params, "en") == "张三 was paid CNY 123,456 (25%)."
    assert render("test.frame.paid", params, "zh") == "张三获付12.35万元（25%）。"
    stored = '[{"template": "test.frame.paid", "params": {"who": "李四", "amount": "0", "share": "1"}}]'
    assert render_reasons(stored, "zh") == ["李四获付0.00万元（100%）。"]


def test_a_process_that_only_reads_rows_renders_family_templates() -> None:
    code = ("from scoring.templates import render; "
            "print(render('retail.exec.not_retail', {}, 'en')); print(render('retail.exec.not_retail', {}, 'zh'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["Not yet a retail client of the bank.", "尚未成为我行个人客户。"]


def _rows() -> pd.DataFrame:
    return pd.DataFrame({"prospect_id": ["P2", "P1", "P3"], "name": ["乙", "甲", None],
                         "amount": [60_000.0, 1_000.0, 5.0], "pts_amount": [80.0, 10.0, 0.0],
                         "share": [0.5, 0.25, 0.0], "pts_share": [40.0, 5.0, 0.0],
                         "big": [True, False, False], "manager_id": ["M1", None, ""]})


def _frame() -> pa.Table:
    rows = _rows()
    bars = [Bar("amount", "amount", "金额", "amount", "pts_amount"), Bar("share", "share", "占比", "share", "pts_share")]
    return build_frame(rows, family="retail_linkage", kind="payroll", bars=bars,
                       reasons=[ReasonSlot("test.frame.paid", {"who": "name", "amount": "amount", "share": "share"},
                                           when="big")],
                       products=[("deposit", None), ("wealth", "big")], path=["manager_id", "prospect_id"],
                       details={"amount": rows["amount"], "tags": pa.array([["x"], [], ["y", "z"]])})


def test_build_frame_rows_sum_their_evidence_and_carry_their_lists() -> None:
    rows = {p.prospect_id: p for p in frame_prospects(_frame())}
    assert rows["P2"].score == 100.0  # 120 points clamped, contributions scaled to sum to 100
    assert sum(e.contribution for e in rows["P2"].evidence) == pytest.approx(100.0)
    assert rows["P1"].score == 15.0 and [e.value for e in rows["P1"].evidence] == [1000.0, 0.25]
    assert rows["P2"].suggested_products == ["deposit", "wealth"] and rows["P1"].suggested_products == ["deposit"]
    assert rows["P2"].path == ["M1", "P2"] and rows["P3"].path == ["P3"] and rows["P3"].manager_id is None
    assert rows["P3"].name == "P3"
    assert [r.zh for r in rows["P2"].reasons] == ["乙获付6.00万元（50%）。"] and rows["P1"].reasons == []
    assert rows["P2"].details == {"amount": 60000.0, "tags": ["x"]}


def test_stored_rows_are_ranked_and_paged_in_duckdb(tmp_path) -> None:
    legacy = Prospect(family="retail_linkage", kind="payroll", prospect_id="P0", name="旧",
                      evidence=[Evidence(name="x", label_en="x", label_zh="x", contribution=15.0)],
                      reasons=[Reason(en="old words", zh="旧理由")])
    table = rank(pa.concat_tables([_frame(), rank_input([legacy])]))
    assert table["prospect_id"].tolist() == ["P2", "P0", "P1", "P3"] and table["rank"].tolist() == [1, 2, 3, 4]
    store = NetworkxStore(tmp_path / "store")
    store.write({"prospects": table})
    page, total = page_prospects(store, "retail_linkage", limit=2, offset=1)
    assert total == 4 and page["prospect_id"].tolist() == ["P0", "P1"]
    page, total = page_prospects(store, "retail_linkage", min_score=15, manager="M1")
    assert total == 1 and page["prospect_id"].tolist() == ["P2"]
    _, total = page_prospects(store, "retail_linkage", rights=ProspectRights(families={"retail_linkage": ("executive",)}))
    assert total == 0
    first = decode(page.to_dict("records")[0], "en")
    assert first["reasons"] == ["乙 was paid CNY 60,000 (50%)."] and first["evidence"][0]["name"] == "amount"
    old = decode(page_prospects(store, "retail_linkage", limit=1, offset=1)[0].to_dict("records")[0], "zh")
    assert old["reasons"] == ["旧理由"]
    with pytest.raises(NotFound):
        page_prospects(store, "nope")
    with pytest.raises(InvalidRequest):
        page_prospects(store, "retail_linkage", kind="upstream")


def rank_input(prospects: list[Prospect]) -> pa.Table:
    from scoring.frame import from_prospects

    return from_prospects(prospects)


@pytest.mark.parametrize("family", ["supply_chain", "retail_linkage", "ecosystem", "referral"])
def test_a_page_as_rows_is_the_page_as_a_frame_value_for_value(demo_store, family) -> None:
    """`page_prospects(as_rows=True)` (what a request shows: Arrow straight to Python values)
    gives the same decoded rows, ranks included, as the DataFrame page the CLI gets."""
    from graph.vocabulary import jsonable

    for offset in (0, 3):
        frame, total = page_prospects(demo_store, family, limit=7, offset=offset)
        rows, total_rows = page_prospects(demo_store, family, limit=7, offset=offset, as_rows=True)
        assert total == total_rows and len(rows) == len(frame) > 0
        assert [r["rank"] for r in rows] == list(range(offset + 1, offset + 1 + len(rows)))
        for lang in ("zh", "en"):
            assert ([jsonable(decode(r, lang)) for r in rows]
                    == [jsonable(decode(r, lang)) for r in frame.to_dict("records")])
