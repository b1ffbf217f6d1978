"""The `supply_chain` family: suppliers (upstream) and buyers (downstream) of client anchors.

Anchors are the bank's client enterprises (credit clients weigh more). Upstream tier 1 are
the payees of the anchors' payments and acceptance bills; tier k+1 are the payees of the
payments and the endorsees of the bills of tier-k firms, up to `depth`. Downstream mirrors
it: the payers of the anchors, then their payers.

The modules follow the steps of a run:

- `chain`: the settings, the fact tables mapped to integer node codes, and the tiers;
- `features`: one row per prospect-anchor link with every feature and its points;
- `rows`: the kept links as one Arrow frame (`scoring.frame`), reasons as templates.

Everything is computed on whole columns; no Python object is made per row (see
docs/scoring-supply-chain.md for the features and the rules).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from graph.store import GraphStore
from scoring.features import clamp_points
from scoring.frame import empty_frame
from scoring.settings import ScoringSettings, family_settings
from scoring.supply_chain.chain import Chain, SupplyChainSettings, SupplyChainWeights, load_chain, tiers
from scoring.supply_chain.features import FEATURES, contributions, distinguishing, kind_features
from scoring.supply_chain.rows import TEMPLATES, kind_frame, product_masks

__all__ = ["score", "SupplyChainSettings", "SupplyChainWeights", "Chain", "load_chain", "tiers", "FEATURES",
           "kind_features", "contributions", "distinguishing", "TEMPLATES", "product_masks"]


def score(store: GraphStore, settings: ScoringSettings) -> pa.Table:
    """Score upstream and downstream prospects of every client anchor: one frame, best first per kind."""
    cfg = family_settings(settings, "supply_chain", SupplyChainSettings)
    chain = load_chain(store, settings, cfg)
    if chain.n == 0:
        return empty_frame()
    frames = []
    for kind in ("upstream", "downstream"):
        tier = tiers(chain, kind)
        feats = kind_features(chain, tier, kind)  # one array per feature, one item per link
        if len(feats["code"]) == 0:
            continue
        raw = contributions(feats, cfg)
        columns = [raw[name] for name in FEATURES]
        score = _scores(columns)
        code = feats["code"]
        # The cap counts prospects, not links: a kept prospect keeps the link of every anchor.
        # Best first, ties by id then anchor (codes follow the ids' order); only the links of
        # the kept prospects are sorted (a sort of every link grew faster than the data).
        wanted = _best_prospects(code, score, chain.n, cfg.max_rows_per_kind)
        links = np.flatnonzero(wanted[code])
        order = links[np.lexsort((feats["anchor_code"][links], code[links], -score[links]))]
        # Every kept prospect's best link, then its other links, strongest first, up to the link cap.
        best = ~pd.Series(code[order]).duplicated().to_numpy()
        room = max(cfg.max_links_per_kind - int(best.sum()), 0)
        kept = order[best | (np.cumsum(~best) <= room)]
        # Only the kept links become a frame (there are millions of links at bank scale).
        rows = pd.DataFrame({name: values[kept] for name, values in feats.items()})
        rows.insert(3, "prospect_id", chain.ent["id"].to_numpy(dtype=object)[rows["code"].to_numpy()])
        matrix = clamp_points(np.column_stack([values[kept] for values in columns]))  # row-wise: as in `_scores`
        points = {name: matrix[:, i] for i, name in enumerate(FEATURES)}
        rows["_pos"], rows["score"] = np.arange(len(kept)), score[kept]
        frames.append(kind_frame(chain, tier, rows, points, kind))
    return pa.concat_tables(frames) if frames else empty_frame()


def _best_prospects(code: np.ndarray, score: np.ndarray, n: int, cap: int) -> np.ndarray:
    """Which node codes are among the `cap` prospects of highest best-link score (ties: the
    smaller code), as a mask of length `n`: linear in the links (a scatter and a partition),
    then a sort of the few candidates at the cut."""
    best = np.full(n, -np.inf)
    np.maximum.at(best, code, score)
    present = np.flatnonzero(best > -np.inf)
    if len(present) > cap:
        cut = -np.partition(-best[present], cap - 1)[cap - 1]  # the cap-th highest best score
        present = present[best[present] >= cut]
    top = present[np.lexsort((present, -best[present]))][:cap]
    wanted = np.zeros(n, dtype=bool)
    wanted[top] = True
    return wanted


def _scores(columns: list[np.ndarray], chunk: int = 200_000) -> np.ndarray:
    """Each link's score: the sum of its clamped points (`clamp_points`, row by row), computed a
    block of links at a time so the links x features matrix is never held whole (a million
    links at 2M payments)."""
    n = len(columns[0]) if columns else 0
    score = np.empty(n)
    for lo in range(0, n, chunk):
        score[lo:lo + chunk] = clamp_points(np.column_stack([c[lo:lo + chunk] for c in columns])).sum(axis=1)
    return score
