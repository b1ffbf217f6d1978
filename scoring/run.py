"""The scoring run: every family scores the store, rows are ranked and written as `prospects`.

A family is a module `scoring.<family>` with a function
``score(store: GraphStore, settings: ScoringSettings) -> list[Prospect]``.
"""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from graph.errors import InvalidRequest, NotFound, NotImplementedYet
from graph.schema import FAMILIES, KINDS_BY_FAMILY
from graph.store import GraphStore
from scoring.answer import band_mask, best_links, rank_answer
from scoring.explain import Prospect
from scoring.settings import ScoringSettings

__all__ = ["score_all", "score_family", "load_prospects", "ScoreSummary", "available_families"]


@dataclass
class ScoreSummary:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def _module(family: str) -> Any:
    if family not in FAMILIES:
        raise NotFound(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    try:
        return importlib.import_module(f"scoring.{family}")
    except ModuleNotFoundError as exc:
        if exc.name == f"scoring.{family}":
            raise NotImplementedYet(f"the {family} family is not implemented in this build") from exc
        raise


def available_families() -> list[str]:
    out = []
    for family in FAMILIES:
        try:
            _module(family)
        except NotImplementedYet:
            continue
        out.append(family)
    return out


def score_family(store: GraphStore, family: str, settings: ScoringSettings | None = None) -> list[Prospect]:
    return list(_module(family).score(store, settings or ScoringSettings()))


def rank(prospects: list[Prospect]) -> pd.DataFrame:
    """Rows of the `prospects` table, ranked within family and kind (best first, ties by id)."""
    records = [p.to_record() for p in prospects]
    df = pd.DataFrame.from_records(records)
    if df.empty:
        return df
    df = df.sort_values(["family", "kind", "score", "prospect_id"], ascending=[True, True, False, True])
    df["rank"] = df.groupby(["family", "kind"]).cumcount() + 1
    return df.reset_index(drop=True)


def score_all(store: GraphStore, settings: ScoringSettings | None = None,
              families: list[str] | None = None) -> ScoreSummary:
    """Score every available family and write the `prospects` table in one new version."""
    settings = settings or ScoringSettings()
    summary = ScoreSummary()
    everything: list[Prospect] = []
    for family in families or list(FAMILIES):
        try:
            module = _module(family)
        except NotImplementedYet:
            summary.missing.append(family)
            continue
        started = time.perf_counter()
        rows = list(module.score(store, settings))
        summary.seconds[family] = time.perf_counter() - started
        summary.rows[family] = len(rows)
        everything.extend(rows)
    table = rank(everything)
    if families:  # keep the other families' rows
        old = store.read("prospects")
        table = pd.concat([old[~old["family"].isin(families)], table], ignore_index=True)
    store.write({"prospects": table}, note="score")
    return summary


def load_prospects(
    store: GraphStore,
    family: str,
    *,
    kind: str | None = None,
    anchor: str | None = None,
    association: str | None = None,
    employer: str | None = None,
    branch: str | None = None,
    manager: str | None = None,
    min_score: float | None = None,
    band: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> pd.DataFrame:
    """The scored rows of a family, best first, filtered; raises NotFound for a bad family."""
    if family not in FAMILIES:
        raise NotFound(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")
    if kind is not None and kind not in KINDS_BY_FAMILY[family]:
        raise InvalidRequest(f"unknown kind {kind!r} for {family}; choose one of "
                             f"{', '.join(KINDS_BY_FAMILY[family])}")
    df = store.read("prospects")
    df = df[df["family"] == family]
    filters = {"kind": kind, "anchor_id": anchor, "association_id": association,
               "employer_id": employer, "branch_id": branch, "manager_id": manager}
    for col, value in filters.items():
        if value is not None:
            df = df[df[col] == value]
    if min_score is not None:
        df = df[df["score"] >= min_score]
    if band is not None:
        df = df[band_mask(df, band)]
    if anchor is None:  # the overall list: each prospect once, by its best anchor link
        df = best_links(df)
    df = df.sort_values(["score", "kind", "prospect_id"], ascending=[False, True, True])
    if offset:
        df = df.iloc[offset:]
    if limit is not None:
        df = df.iloc[:limit]
    return rank_answer(df, offset)


def decode(row: dict[str, Any], lang: str = "zh") -> dict[str, Any]:
    """A `prospects` row with its JSON columns decoded and reasons in `lang`."""
    out = dict(row)
    for col in ("evidence", "path", "suggested_products", "details"):
        value = out.get(col)
        out[col] = json.loads(value) if isinstance(value, str) and value else ([] if col != "details" else {})
    reasons = out.pop("reasons_zh" if lang == "zh" else "reasons_en", None)
    out.pop("reasons_en" if lang == "zh" else "reasons_zh", None)
    out["reasons"] = json.loads(reasons) if isinstance(reasons, str) and reasons else []
    for k, v in list(out.items()):
        if v is pd.NA or (isinstance(v, float) and v != v):
            out[k] = None
    return out
