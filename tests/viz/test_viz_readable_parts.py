"""The parts that keep pictures readable: box separation, the width scale, the zh vocabulary."""

from __future__ import annotations

import itertools
import math

import pytest

from graph.schema import KINDS_BY_FAMILY
from scoring.features import PRODUCTS
from viz.picture import Box, separate_boxes
from viz.style import edge_width, label_px, text, width_samples


def _overlaps(boxes: list[Box], pos: dict[str, tuple[float, float]]) -> list[tuple[str, str]]:
    hits = []
    for a, b in itertools.combinations(boxes, 2):
        (ax, ay), (bx, by) = pos[a.id], pos[b.id]
        ox = min(ax + a.right, bx + b.right) - max(ax - a.left, bx - b.left)
        oy = min(ay + a.down, by + b.down) - max(ay - a.up, by - b.up)
        if ox > 0 and oy > 0:
            hits.append((a.id, b.id))
    return hits


def test_crowded_boxes_are_moved_apart_and_the_fixed_one_stays() -> None:
    # a ring of 60 labelled nodes too tight for its labels, as a radial layout of a hub makes
    boxes = [Box("focus", 0.0, 0.0, 40, 40, 30, 50, fixed=True)]
    boxes += [Box(f"n{i}", 260 * math.cos(i / 60 * 2 * math.pi), 260 * math.sin(i / 60 * 2 * math.pi),
                  60, 60, 10, 30) for i in range(60)]
    assert _overlaps(boxes, {b.id: (b.x, b.y) for b in boxes})
    pos = separate_boxes(boxes)
    assert _overlaps(boxes, pos) == []
    assert pos["focus"] == (0.0, 0.0)


def test_boxes_with_room_are_left_where_they_are() -> None:
    boxes = [Box(f"n{i}", i * 300.0, 0.0, 60, 60, 10, 30) for i in range(5)]
    assert separate_boxes(boxes) == {f"n{i}": (i * 300.0, 0.0) for i in range(5)}


def test_near_equal_amounts_get_near_equal_widths_and_the_scale_is_monotone() -> None:
    low, high = edge_width(234_000, 238_000, 234_000), edge_width(238_000, 238_000, 234_000)
    assert high - low < 0.1  # the 23.4万 at width 1 next to 23.8万 at width 8
    amounts = [10.0, 1e3, 5e3, 1e4, 2e5, 238_000]
    widths = [edge_width(a, 238_000, 10.0) for a in amounts]
    assert widths == sorted(widths) and widths[0] == 1.0 and widths[-1] == 8.0
    samples = width_samples(238_000, 1_000)
    assert [w for _, w in samples] == sorted(w for _, w in samples) and len(samples) == 3


@pytest.mark.parametrize("code", [k for kinds in KINDS_BY_FAMILY.values() for k in kinds]
                         + list(KINDS_BY_FAMILY) + list(PRODUCTS))
def test_every_kind_family_and_product_has_a_chinese_word(code: str) -> None:
    word = text(code, "zh")
    assert word != code and not any(c.isascii() and c.isalpha() for c in word)


def test_retail_tiers_have_words() -> None:
    assert text("retail_tier:vip", "zh") == "贵宾客户" and text("retail_tier:private", "en") == "Private banking"


def test_label_width_counts_cjk_wider() -> None:
    assert label_px("华东精工") == 4 * 13.0 and label_px("abcd") < label_px("华东精工")
