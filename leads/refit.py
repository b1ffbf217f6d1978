"""How good the rankings are, measured from dispositions, and weights refit from them.

Precision at k: for a family (or a manager), take the leads that have a disposition, rank
them by the score they had when the disposition was recorded, and count the share of the
top k whose latest status is positive (a meeting or a win).

Refit: a logistic regression of "positive" on the evidence contributions of those leads.
Each evidence item's coefficient, relative to the mean positive coefficient, becomes a
multiplier on that item's contribution (clipped to 0..3) — still a sum of named parts, so
the refit score is explained the same way. Before/after precision is measured on the same
dispositioned leads (in-sample: a sign, not a proof, until there are many dispositions).
The regression is scikit-learn's, an optional extra (`pip install 'prospect-graph[ml]'`);
without it a refit says so (`NotImplementedYet`: 501 in the API, exit 3 in the CLI).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from graph import nested
from graph.errors import InvalidRequest, NotImplementedYet
from graph.store import GraphStore
from leads.state import POSITIVE, LeadLedger

__all__ = ["labelled_leads", "precision_at_k", "refit_weights", "RefitResult"]


def labelled_leads(ledger: LeadLedger) -> pd.DataFrame:
    """One row per dispositioned entity: its latest status, owner, family, score and evidence."""
    history = pd.DataFrame(ledger.history())
    if history.empty:
        return pd.DataFrame(columns=["entity_id", "status", "owner", "family", "score", "evidence", "positive"])
    latest = history.sort_values("seq").groupby("entity_id").tail(1).copy()
    latest["positive"] = latest["status"].isin(POSITIVE)
    return latest.reset_index(drop=True)


def _precision(frame: pd.DataFrame, k: int, score_col: str = "score") -> float | None:
    if frame.empty:
        return None
    top = frame.sort_values([score_col, "entity_id"], ascending=[False, True]).head(k)
    return float(top["positive"].mean())


def precision_at_k(ledger: LeadLedger, k: int = 10, by: str = "family",
                   owners: Iterable[str] | None = None) -> pd.DataFrame:
    """Precision at k per family or per manager (`by` = family | owner), with the counts behind it;
    with `owners`, only the outcomes of leads those managers owned (a branch's figures)."""
    if by not in ("family", "owner"):
        raise InvalidRequest("precision is grouped by 'family' or 'owner'")
    if k < 1:
        raise InvalidRequest("k must be at least 1")
    data = labelled_leads(ledger)
    if owners is not None:
        data = data[data["owner"].isin(list(owners))]
    rows = []
    for key, group in data.groupby(by, dropna=True):
        rows.append({by: key, "k": k, "labelled": len(group), "positive": int(group["positive"].sum()),
                     "precision_at_k": _precision(group, k)})
    return pd.DataFrame(rows, columns=[by, "k", "labelled", "positive", "precision_at_k"])


@dataclass
class RefitResult:
    family: str
    labelled: int
    multipliers: dict[str, float] = field(default_factory=dict)
    precision_before: float | None = None
    precision_after: float | None = None
    k: int = 10

    def as_dict(self) -> dict[str, Any]:
        return {"family": self.family, "labelled": self.labelled, "multipliers": self.multipliers,
                "precision_before": self.precision_before, "precision_after": self.precision_after, "k": self.k}


def _matrix(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    parts = []
    for ev in frame["evidence"]:  # the labelled leads' rows only
        parts.append({e["name"]: float(e.get("contribution") or 0.0) for e in nested.cell(ev, "evidence")})
    x = pd.DataFrame(parts, index=frame.index).fillna(0.0)
    return x, list(x.columns)


def refit_weights(store: GraphStore, ledger: LeadLedger, family: str, k: int = 10,
                  min_labelled: int = 10, save: bool = True) -> RefitResult:
    """Fit multipliers for one family's evidence from its dispositions; saved in state/refit.json."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        raise NotImplementedYet("refit needs scikit-learn, an optional extra: "
                                "pip install 'prospect-graph[ml]'") from exc
    data = labelled_leads(ledger)
    data = data[data["family"] == family].reset_index(drop=True)
    if len(data) < min_labelled or data["positive"].nunique() < 2:
        raise InvalidRequest(f"refit of {family} needs at least {min_labelled} dispositioned leads with both "
                             f"positive and negative outcomes (have {len(data)})")
    x, names = _matrix(data)
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(x.to_numpy() / 100.0, data["positive"].to_numpy())
    coef = model.coef_[0]
    scale = float(np.mean(coef[coef > 0])) if (coef > 0).any() else 1.0
    multipliers = {name: float(np.clip(c / scale, 0.0, 3.0)) for name, c in zip(names, coef, strict=True)}
    data["refit_score"] = (x * pd.Series(multipliers)).sum(axis=1).clip(0, 100)
    result = RefitResult(family, len(data), multipliers, _precision(data, k), _precision(data, k, "refit_score"), k)
    if save:
        _save(store.state_dir / "refit.json", family, result.as_dict())
    return result


def _save(path: Path, family: str, result: dict[str, Any]) -> None:
    """Keep one family's result beside the others': locked, so two API workers refitting two
    families keep both, and swapped in whole, so a reader (the lead board) never sees half a file."""
    with os.fdopen(os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        saved[family] = result
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(saved, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)
