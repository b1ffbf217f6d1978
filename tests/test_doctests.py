"""The examples in the docstrings run: every `>>>` line of the product's modules is a test.

An example that needs a store says `# doctest: +SKIP`; every other example must give the
output its docstring shows.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("graph", "ingest", "scoring", "leads", "demo", "viz", "api", "bench")


def _modules() -> list[str]:
    """The modules whose source holds an example (found by text, so none is imported here)."""
    found = []
    for package in PACKAGES:
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            path = ROOT / (info.name.replace(".", "/") + ("/__init__.py" if info.ispkg else ".py"))
            if path.is_file() and ">>> " in path.read_text(encoding="utf-8"):
                found.append(info.name)
    return sorted(found)


MODULES = _modules()


def test_the_examples_are_found():
    assert {"ingest.names", "ingest.normalise", "graph.display", "demo.bundle"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = io.StringIO()
    with redirect_stdout(out):
        for test in finder.find(module, name, globs=vars(module).copy()):
            runner.run(test, out=out.write)
        result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()
