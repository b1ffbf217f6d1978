"""A served process builds its caches of the current store version at start, in the background.

Each worker of ``prospect-graph serve --workers N`` is a process of its own: the disk caches
(node index, adjacency, the prospects table) are memory-mapped and shared through the page
cache, but the in-memory indexes built from them (person → branch for masking, the best
prospect row of every prospect for pictures) are per process. Without this, the first
requests a new worker answers (an anchor's prospects, an ego picture) pay seconds at 2M
payments each, once per worker, and a worker restarted by uvicorn's supervisor pays again.

`warm_process` runs in a daemon thread started when the app starts serving: `/health`
answers at once, and a request that needs a cache still being built waits for the same work
(the lead board and the search index too: each is built once per version, whoever asks first).
A step that fails is logged and skipped: the request that needs it builds it as before. A
version committed later (an ingest, a score) is warmed the same way once a request of the
process first sees it (`warm_new_version`, from the request's store dependency).
Then what the process holds is frozen out of the garbage collector's full collections
(`freeze_long_lived`): they no longer walk the caches, and pause every request far less.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable

from graph.store import GraphStore

__all__ = ["warm_process", "start_warming", "warm_new_version", "warming", "freeze_long_lived"]

log = logging.getLogger("prospect_graph.api")

# allocations between two young collections of a served process (Python's default: 700). A
# request makes thousands of short-lived objects (pandas, networkx, pydantic); every 10th young
# collection is a middle one and those lead to the full ones that walk the remembered answers
YOUNG_OBJECTS = 10_000
_thread: threading.Thread | None = None  # this process's warm-up (one app per process)
_warmed: str | None = None  # the store version it warmed (or is warming)
_version_lock = threading.Lock()


def warming() -> bool:
    """Whether this process is still building its caches (`/health` says so)."""
    return _thread is not None and _thread.is_alive()


def _steps() -> list[tuple[str, Callable[[GraphStore], object]]]:
    from api.masking import person_branches
    from api.search import search_index
    from graph import index_cache
    from leads.board import prepare_board
    from scoring.stored import warm_prospect_indexes
    from viz.facts import ViewContext, prospect_index

    return [
        ("graph libraries", _graph_libraries),  # paths and pictures: loaded here, not by a request
        ("disk caches", index_cache.warm),  # memory-mapped; built once per version by `score`
        ("person branches", person_branches),  # masking: every response naming a person
        ("prospect rows", lambda store: prospect_index(store, ViewContext())),  # pictures
        ("prospect indexes", warm_prospect_indexes),  # `/prospects` pages, `?anchor=`
        ("search index", search_index),  # `/entities?q=` (1 s of CPU at 2M payments)
        ("lead board", prepare_board),  # the lead board and the contact plan (2-3 s at 2M payments)
    ]


def _graph_libraries(_: GraphStore) -> None:
    """Import networkx and scipy's graph routines, which the store loads when first used (a
    command that never draws nor searches paths does without them), so that no request pays
    their import (0.3-0.5 s)."""
    import networkx  # noqa: F401
    from scipy.sparse import csgraph  # noqa: F401


def warm_process(store: GraphStore) -> dict[str, float]:
    """Build this process's caches of `store`'s current version; returns seconds per step."""
    if store.version is None:
        return {}
    pinned = store.snapshot()
    seconds: dict[str, float] = {}
    for name, step in _steps():
        started = time.perf_counter()
        try:
            step(pinned)
        except Exception:  # noqa: BLE001 - a cache left cold is built by the request needing it
            log.warning("warming %s failed; the first request needing it builds it", name, exc_info=True)
            continue
        seconds[name] = time.perf_counter() - started
    return seconds


def freeze_long_lived() -> int:
    """Collect, then move every object this process holds now into the garbage collector's
    permanent generation (`gc.freeze`); returns how many. Called once the caches are built.

    What a served process builds at start (modules, the app, the caches above) lives as long as
    the process, yet every full collection walked it again: 115 ms of CPU per collection at 500k
    payments, stopping every request of the process, and a worker under 8 clients ran one every
    few seconds (0.1-1 s of wall time each on the shared machine). Frozen objects are still freed
    when nothing refers to them; only a reference cycle among them is never collected. Young
    collections then run every `YOUNG_OBJECTS` allocations instead of 700: full collections
    still walk what requests added since (the answers a worker remembers), and under 8 clients
    at 500k payments a worker then ran none in 2 minutes instead of 19 (0.1-0.4 s each).
    """
    gc.unfreeze()  # a version warmed before: what it froze may be garbage by now (cycles too)
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    return gc.get_freeze_count()


def _warm_and_freeze(store: GraphStore) -> None:
    warm_process(store)
    store.forget_other_versions()  # a re-warm: the earlier version's answers and boards go
    frozen = freeze_long_lived()
    log.info("caches warm; %d long-lived objects frozen out of garbage collection", frozen)


def start_warming(store: GraphStore) -> threading.Thread:
    """`warm_process`, then `freeze_long_lived`, in a daemon thread (it never delays start-up or
    shutdown; `warming()` is true until both are done)."""
    with _version_lock:
        _start(store)
    assert _thread is not None
    return _thread


def warm_new_version(store: GraphStore) -> bool:
    """Start warming `store`'s current version if this process has not yet (an ingest or a score
    committed one since): a served process sees a new version on its next request, and builds
    its caches of it in the background instead of in the first requests that need them.
    Returns whether it started; a warm-up still running is left to end first."""
    version = store.version
    if version is None or version == _warmed or warming():
        return False
    with _version_lock:
        if version == _warmed or warming():
            return False
        _start(store)
    return True


def _start(store: GraphStore) -> None:
    global _thread, _warmed
    _warmed = store.version
    _thread = threading.Thread(target=_warm_and_freeze, args=(store,), daemon=True, name="warm-caches")
    _thread.start()
