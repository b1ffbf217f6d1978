"""The benchmark's memory of a process tree: a child's memory counts in its parent's phase."""

from __future__ import annotations

import os
import subprocess
import sys

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
