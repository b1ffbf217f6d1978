"""The contact plan (分级制定计划): every lead gets a tier, a next action and a due date.

- tier: the first of A, B, C whose `min_score` the lead reaches; a lead whose best kind is a
  signal of intent (`lift_kinds`, e.g. outflow, payroll) moves up one tier;
- next action: in words by the lead's best kind (`actions`), zh or en;
- due date: a lead never worked is due one cadence after the scoring run that listed it; a
  contacted (or meeting) lead is due one cadence after its last disposition; a won, lost or
  declined lead leaves the plan.
Overdue items come first, then by due date, tier and score.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graph.settings import get_settings
from graph.store import GraphStore
from leads.board import board_managers, board_page, board_reasons, ledger
from leads.settings import RhythmSettings, load_rhythm
from leads.state import FINAL
from scoring.settings import ScoringSettings
from scoring.templates import LegacyGuard, PersonMask

__all__ = ["build_plan", "plan_page", "PLAN_COLUMNS", "tier_of"]

PLAN_COLUMNS = ["entity_id", "name", "entity_kind", "tier", "next_action", "due_on", "overdue", "family",
                "kind", "score", "owner", "status", "branch_id", "reasons", "shared_with"]
_TIERS = np.array(["A", "B", "C"], dtype=object)  # a tier's place here is its order in the plan


def _tier_places(score: pd.Series, kinds: pd.Series, conf: RhythmSettings) -> np.ndarray:
    """Each lead's tier as its place in `_TIERS`: by score, then lifted one tier by a signal of intent."""
    values = score.to_numpy(dtype="float64", na_value=np.nan)
    place = np.where(values >= conf.tiers["A"].min_score, 0, np.where(values >= conf.tiers["B"].min_score, 1, 2))
    return np.clip(place - kinds.isin(conf.lift_kinds).to_numpy(dtype=bool), 0, None)


def tier_of(score: pd.Series, kinds: pd.Series, conf: RhythmSettings) -> pd.Series:
    """Tier of each lead, column-wise: by score, then lifted one tier by a signal of intent."""
    return pd.Series(_TIERS[_tier_places(score, kinds, conf)], index=score.index)


def _by_kind(kinds: pd.Series, words: dict[str, str], default: str) -> np.ndarray:
    """`words` of each lead's kind (`default` for another or none): looked up once per distinct
    kind, not once per lead (a Series.map over Arrow text goes value by value)."""
    codes, uniques = pd.factorize(kinds)
    return np.array([words.get(str(k), default) for k in uniques] + [default], dtype=object)[codes]


def _scored_on(store: GraphStore) -> date:
    """The day of the scoring run that wrote the current prospects (else today)."""
    manifest: dict[str, Any] = getattr(store, "manifest", dict)()
    for entry in reversed(manifest.get("history", [])):
        if "prospects" in entry.get("tables", []):
            return datetime.fromisoformat(entry["at"]).date()
    return date.today()


def build_plan(store: GraphStore, settings: ScoringSettings | None = None, *, manager: str | None = None,
               branch: str | None = None, due_before: date | None = None,
               today: date | None = None, person: PersonMask | None = None,
               legacy: LegacyGuard | None = None) -> pd.DataFrame:
    """What is due, overdue first: one row per open lead of the board (reasons rendered for one
    viewer through `person` and `legacy`, as `build_board` does)."""
    plan, _ = plan_page(store, settings, manager=manager, branch=branch, due_before=due_before, today=today,
                        person=person, legacy=legacy)
    return plan


def plan_page(store: GraphStore, settings: ScoringSettings | None = None, *, manager: str | None = None,
              branch: str | None = None, due_before: date | None = None, today: date | None = None,
              visible: Callable[[pd.DataFrame], Any] | None = None, offset: int = 0, limit: int | None = None,
              person: PersonMask | None = None, legacy: LegacyGuard | None = None) -> tuple[pd.DataFrame, int]:
    """One page of the plan and its rows before paging: ordered on columns over the whole board,
    `visible` (a viewer's scope) applied, reasons rendered for the page only."""
    settings = settings or get_settings().scoring
    conf = load_rhythm(settings)
    lang = settings.lang
    today = today or date.today()
    # the viewer's scope first: the tiers, due dates and order are worked out for their leads only
    board, _ = board_page(store, settings, manager=manager, branch=branch, visible=visible, render=False)
    board = board[~board["status"].isin(FINAL)].copy()
    if board.empty:
        return pd.DataFrame(columns=PLAN_COLUMNS), 0
    place = _tier_places(board["score"], board["best_kind"], conf)
    board["tier"] = _TIERS[place]
    cadence = np.array([conf.tiers[t].cadence_days for t in _TIERS], dtype="int64")[place]
    history = pd.DataFrame(ledger(store).history(), columns=["entity_id", "recorded_at", "status"])
    worked = history[history["status"].isin(["contacted", "meeting"])]
    last = pd.to_datetime(worked.groupby("entity_id")["recorded_at"].max(), utc=True).dt.tz_localize(None)
    ids = pa.array(board["entity_id"], from_pandas=True)  # the column as Arrow: no Python object per lead
    start = np.full(len(board), pd.Timestamp(_scored_on(store)).to_datetime64(), dtype="datetime64[ns]")
    if len(last):  # each lead's last contact by one hash look-up of the column
        at = pc.fill_null(pc.index_in(ids, value_set=pa.array(list(last.index), ids.type)), -1).to_numpy()
        start = np.where(at >= 0, last.to_numpy(dtype="datetime64[ns]")[at], start)
    board["due_on"] = (pd.DatetimeIndex(start).normalize() + pd.to_timedelta(cadence, unit="D")).to_numpy()
    if due_before is not None:
        keep = (board["due_on"] <= pd.Timestamp(due_before)).to_numpy()
        board, place, ids = board[keep], place[keep], ids.filter(pa.array(keep))
    board["overdue"] = board["due_on"] < pd.Timestamp(today)
    words = {k: getattr(w, lang) for k, w in conf.actions.items()}
    board["next_action"] = _by_kind(board["best_kind"], words, getattr(conf.default_action, lang))
    # overdue first, then by due date, tier, score (best first) and id: one sort of number keys
    by_id = pc.rank(ids, sort_keys="ascending", tiebreaker="dense").to_numpy()
    order = np.lexsort((by_id, -board["score"].to_numpy(dtype="float64", na_value=-np.inf), place,
                        board["due_on"].to_numpy(dtype="datetime64[ns]").view("int64"),
                        ~board["overdue"].to_numpy(dtype=bool)))
    total = len(board)
    order = order[offset:] if limit is None else order[offset:offset + limit]
    board = board.iloc[order].reset_index(drop=True)
    board["due_on"] = board["due_on"].dt.date
    board["reasons"] = board_reasons(store, board, settings, person, legacy)  # the page only
    board["shared_with"] = board_managers(store, board["shared_with"], person, settings)
    board = board.rename(columns={"best_family": "family", "best_kind": "kind"})
    return board[PLAN_COLUMNS], total


def plan_items(plan: pd.DataFrame) -> list[dict[str, Any]]:
    """Plan rows as plain records (dates as ISO text) for JSON."""
    rows = plan.to_dict("records")
    for row in rows:
        row["due_on"] = row["due_on"].isoformat() if isinstance(row["due_on"], date) else row["due_on"]
        row["overdue"] = bool(row["overdue"])
        row["owner"] = row["owner"] if isinstance(row["owner"], str) else None
        row["branch_id"] = row["branch_id"] if isinstance(row["branch_id"], str) else None
    return [{str(k): v for k, v in r.items()} for r in rows]

