"""Shaping a filtered list of prospect rows into the answer a user asked for.

Families whose prospects are reached from several client anchors (a supplier paid by two
clients) store one row per prospect-anchor link, each with that anchor's own evidence. The
answer to "everything around my client A" (`anchor=A`) is all of A's links; every other list
shows each prospect once, by its best link (which names the other anchors in its reasons).
Ranks are positions in the answer given, after every filter.

Kept apart from `scoring.stored.load_prospects` (which reads and pages the table) so that the
storage of the table can change without touching these rules.
"""

from __future__ import annotations

import pandas as pd

from graph.errors import InvalidRequest
from graph.store import GraphStore

__all__ = ["LINKED_FAMILIES", "BANDS", "best_links", "band_mask", "rank_answer", "why_empty"]

# Families whose rows are prospect-anchor links (several rows per prospect and kind).
LINKED_FAMILIES = ("supply_chain", "ecosystem")
# Retail bands of payroll and role rows against the financial-assets threshold
# (`retail_linkage.threshold` and `payroll.near_floor` in weights.yaml decide them).
BANDS = {"near_threshold": "near", "below_threshold": "below", "above_threshold": "above"}


def best_links(df: pd.DataFrame) -> pd.DataFrame:
    """Each prospect once per family and kind: its best link (ties: the smaller anchor id)."""
    if df.empty:
        return df
    linked = df["family"].isin(LINKED_FAMILIES)
    if not linked.any():
        return df
    ordered = df[linked].sort_values(["score", "anchor_id"], ascending=[False, True], na_position="last")
    first = ordered.drop_duplicates(["family", "kind", "prospect_id"], keep="first")
    return pd.concat([df[~linked], first]).sort_index()


def band_mask(df: pd.DataFrame, band: str) -> pd.Series:
    """Rows in a band (`near_threshold`, `below_threshold`, `above_threshold`), a string match
    on the whole details column (the band is written by the retail family)."""
    if band not in BANDS:
        raise InvalidRequest(f"unknown band {band!r}; choose one of {', '.join(BANDS)}")
    needle = f'"band":\\s*"{BANDS[band]}"'  # compact (DuckDB to_json) or spaced (json.dumps) JSON
    return df["details"].astype("string").fillna("").str.contains(needle, regex=True)


def rank_answer(df: pd.DataFrame, offset: int = 0) -> pd.DataFrame:
    """`rank` = position in the answer (1 = its first row), counting the rows skipped by `offset`."""
    df = df.reset_index(drop=True)
    df["rank"] = range(offset + 1, offset + 1 + len(df))
    return df


def why_empty(store: GraphStore, family: str, filters: dict[str, str | None]) -> tuple[str, bool]:
    """Why a filtered list is empty, in words a user can act on (English: the CLI's language).

    An id given to the wrong filter is named with the filter that fits it (E0501 is an
    employer: use --employer); an id the store does not know is called unknown. The flag is
    True where the request itself is a mistake (a wrong or unknown id), False for a plain
    empty answer.
    """
    rows = store.read("prospects", ["family", "kind", "anchor_id", "employer_id", "association_id"])
    rows = rows[rows["family"] == family]
    if filters.get("kind"):
        rows = rows[rows["kind"] == filters["kind"]]
    known = (set(store.read("enterprises", ["id"])["id"].astype(str))
             | set(store.read("associations", ["id"])["id"].astype(str)))
    words = {"anchor": "anchor client", "employer": "employer", "association": "association"}
    for name in words:
        value = filters.get(name)
        if not value:
            continue
        if value not in known:
            return f"unknown id {value!r}: no enterprise or association has it", True
        if not (rows[f"{name}_id"] == value).any():
            for other in words:
                if other != name and (rows[f"{other}_id"] == value).any():
                    return (f"{value} is an {words[other]} of these {family} rows, not an {words[name]} "
                            f"(use --{other})"), True
    given = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in filters.items() if v not in (None, ""))
    return f"no {family} rows for this filter ({given or 'no filter'})", False
