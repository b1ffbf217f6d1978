"""Fingerprints of an ingest's output: every stored table and the reports, order-free.

Used by `test_engine_same_output.py` to prove the columnar engine stores what the pandas
pipeline before it stored. Regenerate the golden file only on a deliberate change of
semantics: ``python -m tests.ingest.fingerprint`` (prints the JSON to commit).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

from graph.schema import TABLES

SALT = "0" * 64  # a fixed salt, so persons.id_hash is comparable between runs
GOLDEN = Path(__file__).parent.parent / "fixtures" / "ingest_golden_demo.json"
_SKIP = ("prospects", "lead_", "alerts", "runs", "explain")
# columns stored since the golden file was made, which the golden bundles never fill: checked
# empty, then left out of the digest (payer_bank: a payer's bank, e.g. a statement's credits)
ADDED = {"payments": ("payer_bank",)}


def _frame_digest(df: pd.DataFrame) -> str:
    out = pd.DataFrame(index=df.index)
    for col in sorted(df.columns):
        s = df[col]
        if pd.api.types.is_float_dtype(s):
            s = s.round(4)
        out[col] = s.astype("string").fillna("<NA>")
    if len(out.columns):
        out = out.sort_values(list(out.columns), kind="stable")
    text = out.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def fingerprint(store_root: Path, report_dir: Path) -> dict[str, object]:
    """{table: [rows, digest]} of the stored tables plus the rejects and resolutions reports."""
    from graph.networkx_store import NetworkxStore

    store = NetworkxStore(store_root)
    out: dict[str, object] = {}
    for table in sorted(TABLES):
        if table.startswith(_SKIP):
            continue
        df = store.read(table)
        added = [c for c in ADDED.get(table, ()) if c in df.columns]
        assert not df[added].notna().to_numpy().any(), f"{table}: {added} filled: make a new golden file"
        out[table] = [int(len(df)), _frame_digest(df.drop(columns=added))]
    for name in ("rejects.csv", "resolutions.csv"):
        df = pd.read_csv(report_dir / name, dtype=str, keep_default_na=False)
        out[name] = [int(len(df)), _frame_digest(df)]
    return out


def ingest_fingerprint(bundle: Path, root: Path) -> dict[str, object]:
    """Ingest `bundle` into a new store at `root` with the fixed salt; its fingerprint."""
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest

    store = NetworkxStore(root)
    store.state_dir.mkdir(parents=True, exist_ok=True)
    (store.state_dir / "salt.secret").write_text(SALT)
    summary = run_ingest(store, bundle)
    assert summary.report_dir is not None
    return fingerprint(root, summary.report_dir)


def bundles(tmp: Path) -> dict[str, Path]:
    """The bundles of the golden file: the demo bundle and a small scale bundle."""
    from demo.bundle import write_bundle
    from demo.scale import write_scale_bundle

    write_bundle(tmp / "demo", seed=7)
    (tmp / "scale").mkdir()
    write_scale_bundle(tmp / "scale", seed=7, scale=3000)
    return {"demo": tmp / "demo", "scale": tmp / "scale"}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        found = {name: ingest_fingerprint(path, Path(tmp) / f"store-{name}")
                 for name, path in bundles(Path(tmp)).items()}
        json.dump(found, sys.stdout, indent=1, sort_keys=True)
        print()
