"""What follows a committed ingest: campaign tracking and alerts (`ingest.job.IngestWatcher`).

`ingest` imports only `graph`, so it cannot call `leads`; whoever runs an ingest for the bank
(the CLI, the API's ingest jobs, the demo) passes `INGEST_WATCHERS`, alerts first (they compare
the ingest's own frames), then the snapshot (it reads the new version back):

- `track_campaigns`: keeps the new version's campaign metrics (`leads.track`); a failure is
  logged, never raised, because the version is already committed;
- `watch_alerts`: reads the tables the alerts compare (`leads.alerts.TRIGGER_TABLES`) before
  the write and records what changed after it; the first ingest of a store is the baseline
  (no alerts).

Example:
    >>> from ingest.job import run_ingest                                    # doctest: +SKIP
    >>> run_ingest(store, bundle, watchers=INGEST_WATCHERS).alerts            # doctest: +SKIP
    2
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import pandas as pd

from graph.schema import conform
from graph.store import GraphStore
from ingest.job import AfterCommit, IngestSummary, IngestWatcher
from leads.alerts import TRIGGER_TABLES, detect_changes, record_alerts
from leads.track import record_snapshot

__all__ = ["INGEST_WATCHERS", "track_campaigns", "watch_alerts"]

log = logging.getLogger("prospect_graph.ingest")


def track_campaigns(store: GraphStore) -> AfterCommit:
    """Keep the committed version's campaign metrics for tracking over time (`leads.track`)."""

    def after(version: str, tables: Mapping[str, pd.DataFrame], summary: IngestSummary) -> None:
        started = time.perf_counter()
        try:
            record_snapshot(store, version)
        except Exception:  # the version is committed: a missed snapshot must not fail the ingest
            log.exception("tracking snapshot of version %s failed; the ingest itself succeeded", version)
        summary.stage_seconds["tracking snapshot"] = round(time.perf_counter() - started, 3)

    return after


def watch_alerts(store: GraphStore) -> AfterCommit | None:
    """Alerts for what the ingest changed; None for a store's first ingest (all new: only a baseline)."""
    if store.version is None:
        return None
    before = {t: store.read(t) for t in TRIGGER_TABLES}

    def after(version: str, tables: Mapping[str, pd.DataFrame], summary: IngestSummary) -> None:
        started = time.perf_counter()
        now = {t: conform(t, tables[t]) if t in tables else before[t] for t in TRIGGER_TABLES}
        summary.alerts = len(record_alerts(store, detect_changes(before, now), version))
        summary.stage_seconds["alerts"] = round(time.perf_counter() - started, 3)

    return after


INGEST_WATCHERS: tuple[IngestWatcher, ...] = (watch_alerts, track_campaigns)
