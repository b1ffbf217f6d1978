"""Small charts as inline SVG, drawn on the server: no chart library, no network, no script.

Every word in a chart goes through `html.escape`; the result is `Markup` ready for a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

import numpy as np
from markupsafe import Markup

from viz.style import label_px

__all__ = ["histogram", "bar_chart", "FAMILY_COLOURS"]

FAMILY_COLOURS = {"supply_chain": "#1e88e5", "referral": "#00897b", "retail_linkage": "#8e24aa",
                  "ecosystem": "#fb8c00"}
_FONT = "font-family=\"WenQuanYi Zen Hei, Noto Sans CJK SC, sans-serif\""


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" {_FONT} font-size="11">')
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text piece escaped above


def histogram(series: dict[str, Sequence[float] | np.ndarray], labels: dict[str, str], title: str, bins: int = 10,
              width: int = 460, strip: int = 46) -> Markup:
    """Scores 0–100 in `bins` bins, one strip per series (family), each scaled to its own tallest bin.

    Small multiples: a family of 2,000 rows does not flatten a family of 30.
    """
    step = 100.0 / bins
    left, top_pad = 120, 4
    bar_w = (width - left - 10) / bins
    body: list[str] = []
    for row, (name, values) in enumerate(series.items()):
        at = np.clip(np.floor_divide(np.asarray(values, dtype=float), step), 0, bins - 1).astype(np.int64)
        counts = np.bincount(at, minlength=bins).tolist()  # every score binned at once, not one by one
        tallest = max(counts) or 1
        base = top_pad + (row + 1) * strip - 6
        colour = FAMILY_COLOURS.get(name, "#78909c")
        label = escape(labels.get(name, name))
        body.append(f'<text x="{left - 6}" y="{base - 4}" text-anchor="end">{label} ({len(values)})</text>'
                    f'<line x1="{left}" y1="{base}" x2="{width - 6}" y2="{base}" stroke="#cfd8dc"/>')
        for i, c in enumerate(counts):
            if not c:
                continue
            h = c / tallest * (strip - 12)
            body.append(f'<rect x="{left + i * bar_w + 1:.1f}" y="{base - h:.1f}" width="{bar_w - 2:.1f}" '
                        f'height="{h:.1f}" fill="{colour}"><title>{label} {int(i * step)}–{int((i + 1) * step)}: '
                        f'{c}</title></rect>')
    axis_y = top_pad + len(series) * strip + 8
    for i in range(0, bins + 1, 2):
        body.append(f'<text x="{left + i * bar_w:.1f}" y="{axis_y}" fill="#607d8b" text-anchor="middle">'
                    f'{int(i * step)}</text>')
    return _svg(width, axis_y + 6, body, title)


def bar_chart(bars: list[tuple[str, float, str]], title: str, fmt: Any = "{:,.0f}", width: int = 460,
              bar_h: int = 18, label_w: int = 170) -> Markup:
    """Horizontal bars: (label, value, colour) each, longest = the largest value."""
    top = max((v for _, v, _ in bars), default=0.0) or 1.0
    height = 8 + len(bars) * (bar_h + 6)
    body: list[str] = []
    for i, (label, value, colour) in enumerate(bars):
        y = 4 + i * (bar_h + 6)
        w = max(1.0, value / top * (width - label_w - 90))
        shown = fmt(value) if callable(fmt) else fmt.format(value)
        short = label
        while label_px(short, 11.0) > label_w - 10 and len(short) > 1:  # cut to the label column, not a count
            short = short[:-2] + "…"
        body.append(f'<text x="{label_w - 6}" y="{y + bar_h - 5}" text-anchor="end"><title>{escape(label)}</title>'
                    f'{escape(short)}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{escape(colour)}"/>'
                    f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 5}" fill="#37474f">{escape(shown)}</text>')
    if not bars:
        body.append('<text x="8" y="16" fill="#90a4ae">—</text>')
        height = 24
    return _svg(width, height, body, title)
