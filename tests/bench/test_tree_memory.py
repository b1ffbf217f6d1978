"""The benchmark's memory of a process tree: a child's memory counts in its parent's phase."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil

from bench.phases import TreeMemory

# a child that holds 300 MiB of touched memory for a second, then ends
_CHILD = "import time; block = bytearray(300 * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(1.0)"


def test_a_childs_memory_is_counted_with_its_parents() -> None:
    own = psutil.Process().memory_full_info().pss / 2**20
    with TreeMemory(os.getpid(), interval=0.02) as tree:
        subprocess.run([sys.executable, "-c", _CHILD], check=True)
    assert tree.processes >= 2
    assert tree.pss_mib >= own + 250  # the child's 300 MiB, seen while it lived
    assert tree.rss_mib >= tree.pss_mib  # RSS counts shared pages in full, PSS a share of them


def test_the_page_table_walks_take_a_bounded_share_of_the_time() -> None:
    """PSS walks the page tables (slow on a large process, and the process's own mmap waits for
    it): they take at most `walk_share` of the sampling time, while the cheap counters still see
    the child's memory at every sample."""
    own = psutil.Process().memory_full_info().pss / 2**20
    started = time.monotonic()
    with TreeMemory(os.getpid(), interval=0.005, walk_share=0.05) as tree:
        subprocess.run([sys.executable, "-c", _CHILD], check=True)
    elapsed = time.monotonic() - started
    assert tree.walks >= 1
    # each walk is followed by a wait of 1 / walk_share its time, except the last (cut short by the
    # end), which may be the longest: the bound is the share of the time plus one longest walk
    assert tree.walk_seconds <= 0.05 * elapsed + tree.longest_walk
    assert tree.pss_mib <= tree.rss_mib  # between walks the PSS is carried on the counters, capped by the RSS
    assert tree.pss_mib >= own + 250
