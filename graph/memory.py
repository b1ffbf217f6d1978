"""The process's memory between the stages of long jobs: Arrow's allocator and handing freed
pages back to the system.

Arrow's allocator is jemalloc in every process of the product (the command line, `serve`'s
workers, scoring's workers) unless the user chose one with ARROW_DEFAULT_MEMORY_POOL. pyarrow's
own default, mimalloc, keeps what a step freed for the next and, at this product's sizes, pays
more in page faults: at 2M payments on the 2-core machine `ingest` took 15.3 s of wall clock
(4.9 s of it system time) and peaked at 1.93 GiB RSS with mimalloc, 14.0 s (3.4 s) and 1.72 GiB
with jemalloc; `score` 16.3 s (8.8 s system) with mimalloc, 12.7 s (6.2 s) with jemalloc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

import pyarrow as pa

__all__ = ["ALLOCATOR_VARIABLE", "lean_allocator", "release_memory"]

# read by pyarrow as it starts: the allocator of a new interpreter (a worker)
ALLOCATOR_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"
_ALLOCATOR = "jemalloc"


def lean_allocator() -> None:
    """Make jemalloc Arrow's allocator in this process and the processes it starts, unless the
    user chose one (ARROW_DEFAULT_MEMORY_POOL); where pyarrow was built without jemalloc, the
    system's. Buffers already allocated keep the pool that allocated them."""
    if os.environ.get(ALLOCATOR_VARIABLE):
        return
    os.environ[ALLOCATOR_VARIABLE] = _ALLOCATOR  # the workers' interpreters read it as they start
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        pool = pa.system_memory_pool()
    pa.set_memory_pool(pool)


def _glibc() -> Any:
    """The C library when it is glibc (it has `malloc_trim`), else None (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def release_memory() -> None:
    """Hand memory freed by this process back to the system, between the stages of a long job.

    Arrow's allocator and glibc's keep freed pages for reuse, so without this a stage's garbage
    stays resident under the next stage's peak (at 500k payments about 250 MiB between ingest's
    merge and derive steps).
    """
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
