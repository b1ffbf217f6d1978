"""Progress on a terminal, silence otherwise (shared by ingest, scoring and the generator).

Two shapes: `track` yields the items of a loop with a bar; `stages` shows a job made of named
steps (ingest's read, resolve, derive, write; scoring's families), with the step running now
and the time spent, on stderr. Both draw only when stderr is a terminal (tmux, a console) and
`PROSPECT_GRAPH_NO_PROGRESS` is unset; piped or captured output gets nothing.

Example (silent here: doctests run with stderr captured):
    >>> with stages("ingest", ["read", "write"]) as step:
    ...     step("read")
    ...     step("write")
    >>> list(track(range(3), "rows"))
    [0, 1, 2]
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")

__all__ = ["track", "stages", "enabled", "watching"]

# who is told, in this thread (and what it starts in it), as each step of a `stages` job starts:
# a background job's cancel check (`api.jobs`) raises there, between two steps
_listener: contextvars.ContextVar[Callable[[str, str], None] | None] = contextvars.ContextVar(
    "stage_listener", default=None)


@contextlib.contextmanager
def watching(listener: Callable[[str, str], None]) -> Iterator[None]:
    """Call `listener(job, step)` as each step of a `stages` job run by this thread starts; an
    exception it raises stops the job there (the job's own error handling runs as for any)."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def _told(description: str, step: Callable[[str], None]) -> Callable[[str], None]:
    listener = _listener.get()
    if listener is None:
        return step

    def told(name: str) -> None:
        listener(description, name)
        step(name)

    return told


def enabled() -> bool:
    return sys.stderr.isatty() and not _silenced()


def _silenced() -> bool:
    from graph.settings import get_settings  # the one settings object (PROSPECT_GRAPH_NO_PROGRESS)

    return get_settings().no_progress


def _console(console: Console | None) -> Console | None:
    """The console to draw on, or None for silence (a given console is drawn on if it is a terminal)."""
    if console is not None:
        return console if console.is_terminal and not _silenced() else None
    if not enabled():
        return None
    from rich.console import Console

    return Console(stderr=True)


def track(items: Iterable[T], description: str, total: int | None = None,
          console: Console | None = None) -> Iterator[T]:
    """Yield `items`, drawing a rich progress bar on stderr when it is a terminal."""
    drawn = _console(console)
    if drawn is None:
        yield from items
        return
    from rich.progress import track as rich_track

    yield from rich_track(items, description=description, total=total, console=drawn, transient=True)


@contextlib.contextmanager
def stages(description: str, names: Sequence[str], console: Console | None = None) -> Iterator[Callable[[str], None]]:
    """A bar over the named steps of a job; call the yielded function as each step starts.

    The bar stays on screen when the job ends (the steps done and the time taken), so a user
    sees where a long job spent its time.
    """
    drawn = _console(console)
    if drawn is None:
        yield _told(description, lambda name: None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TextColumn("{task.fields[step]}"), TimeElapsedColumn(),
                        console=drawn, transient=False)
    task = progress.add_task(description, total=len(names), step="")
    started = False

    def step(name: str) -> None:
        nonlocal started
        if started:
            progress.advance(task)
        started = True
        progress.update(task, step=name)
        progress.refresh()  # the step's name is on screen the moment it starts

    with progress:
        yield _told(description, step)  # an error leaves the bar where the job stopped
        progress.update(task, completed=len(names), step="done")
