"""Arrow's allocator of the product's processes (graph.memory.lean_allocator)."""

from __future__ import annotations

import os
import subprocess
import sys

_PROBE = ("import os, pyarrow as pa; from graph.memory import lean_allocator; lean_allocator(); "
          "print(pa.default_memory_pool().backend_name, os.environ['ARROW_DEFAULT_MEMORY_POOL'])")


def _probe(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", _PROBE], env={**clean, **env}, capture_output=True, text=True,
                          check=True)
    return done.stdout.split()


def test_jemalloc_unless_the_user_chose_and_the_workers_inherit_it() -> None:
    # the pool of this process, and the variable the interpreters it starts read
    assert _probe() == ["jemalloc", "jemalloc"]


def test_the_users_choice_is_kept() -> None:
    assert _probe(ARROW_DEFAULT_MEMORY_POOL="system") == ["system", "system"]
