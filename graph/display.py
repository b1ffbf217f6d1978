"""Text as shown to a person: control and bidi characters removed (the one place that does it).

Names are stored as the bank gave them (odd text is kept and flagged at ingest, DESIGN.md), so
a name may hold a right-to-left override (U+202E) that would reverse what a page shows, or
control characters. Every renderer passes shown text through `display_text`; escaping for
HTML stays with the templates (autoescape) and the CSV/XLSX formula guard.

Example:
    >>> display_text("\u202eevil\u202c 有限公司\x07")
    'evil 有限公司'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["display_text", "UNSHOWN"]

# C0/C1 controls (tab and newline too: a name is one line), bidi embeddings, overrides,
# isolates and marks, zero-width characters, line/paragraph separators, BOM.
UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def display_text(value: Any) -> str:
    """`value` as text safe to show: unshowable characters removed, blanks collapsed."""
    if value is None:
        return ""
    return " ".join(UNSHOWN.sub("", str(value)).split())
