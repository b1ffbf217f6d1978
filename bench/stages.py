"""CPU seconds, wall seconds and peak memory of each stage of an ingest or of each scoring family.

Run as ``python -m bench.stages ingest BUNDLE STORE [OUT.json]`` or ``python -m bench.stages
score - STORE [OUT.json]``, one size at a time; comparing two sizes (2M and 5M payments) shows
which stage grows faster than its input (bench/RESULTS.md, "What grows faster than the data").

The stages are the steps `run_ingest` and `score_all` already name for their progress bar
(`graph.progress.stages`), so nothing in the product is timed twice; the watchers that act after
an ingest's commit (alerts, tracking) are stages of their own. CPU seconds are the process's
(`time.process_time()`, all threads: steadier than wall seconds on a shared machine). Each stage's
peak is its own (families are scored in one process here, whatever `scoring.processes` says): Linux's peak resident size (VmHWM) is reset as a stage starts
(``/proc/self/clear_refs``); elsewhere the peak so far (``ru_maxrss``) is given.
"""

from __future__ import annotations

import contextlib
import json
import resource
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

_STATUS = Path("/proc/self/status")


def _status_gib(field: str) -> float | None:
    try:
        line = next(x for x in _STATUS.read_text().splitlines() if x.startswith(field))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) / 2**20


def _peak_gib() -> float:
    peak = _status_gib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # 5: reset the peak resident size


class StageClock:
    """Call `mark(name)` as each stage starts and `mark(None)` at the end; `rows` holds the stages."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._name: str | None = None
        self._cpu = self._wall = 0.0

    def mark(self, name: str | None) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        if self._name is not None:
            self.rows.append({"stage": self._name, "cpu_s": round(cpu - self._cpu, 3),
                              "wall_s": round(wall - self._wall, 3), "peak_gib": round(_peak_gib(), 3)})
        self._name, self._cpu, self._wall = name, cpu, wall
        _reset_peak()

    @contextlib.contextmanager
    def stages(self, description: str, names: Sequence[str], console: Any = None) -> Iterator[Callable[[str], None]]:
        """A stand-in for `graph.progress.stages` that times the steps instead of drawing them."""
        yield self.mark


def _watched(clock: StageClock) -> list[Any]:
    from leads.watchers import INGEST_WATCHERS

    def timed(watch: Any) -> Any:
        def before(store: Any) -> Any:
            hook = watch(store)
            if hook is None:
                return None

            def after(version: str, tables: Any, summary: Any) -> None:
                clock.mark(getattr(watch, "__name__", "watcher"))
                hook(version, tables, summary)
            return after
        return before
    return [timed(watch) for watch in INGEST_WATCHERS]


def measure(phase: str, bundle: Path | None, store: Path) -> dict[str, Any]:
    """Run `phase` ("ingest" or "score") on `store` and return its stages' figures."""
    import ingest.job
    import scoring.run
    from graph.networkx_store import NetworkxStore
    from graph.settings import get_settings

    clock = StageClock()
    saved = ingest.job.stages, scoring.run.stages
    ingest.job.stages = scoring.run.stages = clock.stages  # type: ignore[assignment]
    started, cpu = time.perf_counter(), time.process_time()
    try:
        if phase == "ingest":
            if bundle is None:
                raise SystemExit("ingest needs a bundle")
            ingest.job.run_ingest(NetworkxStore(store), bundle, watchers=_watched(clock))
        elif phase == "score":
            # one process: each family's CPU and peak are then its own (with two, referral runs
            # in a worker process and the others share this one's stages)
            settings = get_settings().scoring.model_copy(update={"processes": 1})
            scoring.run.score_all(NetworkxStore(store), settings)
        else:
            raise SystemExit(f"unknown phase {phase!r}: ingest or score")
        clock.mark(None)
    finally:
        ingest.job.stages, scoring.run.stages = saved
    return {"phase": phase, "wall_s": round(time.perf_counter() - started, 3),
            "cpu_s": round(time.process_time() - cpu, 3), "stages": clock.rows}


def main() -> None:
    phase, bundle, store = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    result = measure(phase, None if bundle == "-" else Path(bundle), store)
    text = json.dumps(result, indent=1)
    if len(sys.argv) > 4:
        Path(sys.argv[4]).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
