"""Bundles that look like a bank's exports: the demo bundle with its named business cases
(`cases.py`), monthly delta bundles (`months.py`) and the benchmark bundles at any scale
(`scale.py`). Used by `prospect-graph generate`, `make demo`, the tests and `make bench`;
never by ingest or scoring.
"""
