"""The `ecosystem` family: group companies (`group`) and branches and stores (`branch_store`) of clients.

The modules follow the steps of a run:

- `links`: the settings, and the group and store links of every client;
- `features`: the enterprises and the window's payments as integer node codes, one row per
  prospect-client link with its features, and their points;
- `rows`: the kept links as one Arrow frame (`scoring.frame`), reasons as templates.

Every row is listed under the client (`anchor_id`) with the client's manager. Everything is
vectorised over the tables; no Python object is made per row (docs/scoring-supply-chain.md).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from graph.store import GraphStore
from scoring.ecosystem.features import Context, contributions, kind_rows
from scoring.ecosystem.links import EcosystemSettings, GroupWeights, StoreWeights, group_links, store_links
from scoring.ecosystem.rows import LABELS, RELATION_WORDS, TEMPLATES, kind_frame, product_masks
from scoring.features import clamp_points, is_in
from scoring.frame import empty_frame
from scoring.settings import ScoringSettings, family_settings

__all__ = ["score", "EcosystemSettings", "GroupWeights", "StoreWeights", "group_links", "store_links", "Context",
           "kind_rows", "contributions", "LABELS", "RELATION_WORDS", "TEMPLATES", "product_masks"]


def score(store: GraphStore, settings: ScoringSettings) -> pa.Table:
    """Score group companies and branches/stores of every client: one frame, best first per kind."""
    cfg = family_settings(settings, "ecosystem", EcosystemSettings)
    ctx = Context(store, settings, cfg)
    if ctx.ent.empty:
        return empty_frame()
    slinks = store_links(ctx.ent.reset_index(drop=True), cfg)
    glinks = group_links(ctx.ent.reset_index(drop=True), store.read("roles"), cfg)
    glinks = glinks[~is_in(glinks["prospect"], slinks["prospect"])]  # a store is listed as a store
    frames = []
    for kind, links in (("group", glinks), ("branch_store", slinks)):
        df, kinds = kind_rows(kind, links, ctx)
        if df.empty:
            continue
        raw = contributions(kind, df, cfg)
        matrix = clamp_points(np.column_stack(list(raw.values())))
        points = {name: matrix[:, i] for i, name in enumerate(raw)}
        df["_pos"] = np.arange(len(df))
        df["score"] = matrix.sum(axis=1)
        df = df.sort_values(["score", "prospect_id", "anchor"], ascending=[False, True, True])
        # The cap counts prospects: a kept prospect keeps its link to every client of its group.
        kept_ids = df["prospect_id"].drop_duplicates().head(cfg.max_rows_per_kind)
        df = df[is_in(df["prospect_id"], kept_ids)]
        kinds = kinds[is_in(kinds["prospect"], df["prospect_id"])]
        frames.append(kind_frame(kind, df, kinds, points, ctx.ent, ctx.as_of, cfg))
    return pa.concat_tables(frames) if frames else empty_frame()
