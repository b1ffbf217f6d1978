"""A store as `neo4j-admin database import` CSV files, for the first bulk load of a big bank.

The files hold exactly what `Neo4jStore` would write (same labels, keys, positions and
namespace), so after the import the Neo4j store reads back the same tables and its next
write sends only what changed. One ID space, ``Entity``, holds every graph node: ids are
unique across node kinds and an edge may join any two kinds (MANAGES: manager -> client
enterprise or person). Every file carries its header as its first line; every non-empty
value is quoted (so ``""`` is an empty string and an empty field is no property), text is
UTF-8 and may contain commas, quotes and line breaks (hence ``--multiline-fields=true``).
"""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path
from typing import Any

import pandas as pd

from graph.errors import InvalidData
from graph.neo4j_cypher import EDGE_TYPES, ENTITY, NODE_LABELS, ROW_LABELS, VERSION_LABEL
from graph.neo4j_rows import encode_value, row_keys
from graph.progress import track
from graph.schema import TABLES
from graph.settings import get_settings
from graph.store import GraphStore

__all__ = ["export_import_csvs", "import_command"]

_TYPES = {"str": "", "float": ":double", "int": ":long", "bool": ":boolean", "nested": ""}  # nested: JSON text


def _column_type(table: str, col: str, values: pd.Series) -> str:
    dtype = TABLES[table].columns[col]
    if dtype != "date":
        return _TYPES[dtype]
    stamps = values.dropna()
    # a date with a time of day is kept whole, as the store itself keeps it
    return ":date" if (stamps == stamps.dt.normalize()).all() else ":localdatetime"


def _cell(value: Any) -> str | None:
    value = encode_value(value, native_dates=False)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _quoted(value: Any) -> str:
    """Every value quoted (quotes doubled), a missing one left empty: the csv module of
    Python 3.11 cannot tell the two apart, and neo4j-admin reads them differently."""
    text = _cell(value)
    return "" if text is None else '"' + text.replace('"', '""') + '"'


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerow(header)
        for row in rows:
            fh.write(",".join(_quoted(v) for v in row) + "\n")
    return path


def _table_file(out: Path, table: str, df: pd.DataFrame, namespace: str) -> Path:
    cols = [c for c in TABLES[table].columns if c not in ("id",)]
    typed = [f"{c}{_column_type(table, c, df[c])}" for c in cols]
    keys = row_keys(table, df)
    if table in NODE_LABELS:
        label = NODE_LABELS[table]
        header = [f"id:ID({ENTITY})", ":LABEL", "_store", "_pos:long", *typed]
        first: list[Any] = keys
        labels = f"{ENTITY};{label}"
        name = f"nodes_{label}.csv"
    else:
        label = ROW_LABELS[table]
        header = [f"_key:ID({label})", ":LABEL", "_store", "_pos:long", *typed]
        first, labels, name = keys, label, f"rows_{label}.csv"
    columns = [df[c].tolist() for c in cols]
    rows = [[first[i], labels, namespace, i, *(col[i] for col in columns)] for i in range(len(df))]
    return _write(out / name, header, rows)


def _edge_files(out: Path, edges: pd.DataFrame) -> list[Path]:
    cols = [c for c in TABLES["edges"].columns if c not in ("src", "dst", "kind")]
    typed = [f"{c}{_column_type('edges', c, edges[c])}" for c in cols]
    keys = row_keys("edges", edges)
    header = [f":START_ID({ENTITY})", f":END_ID({ENTITY})", ":TYPE", "_key", "_pos:long", *typed]
    by_kind: dict[str, list[list[Any]]] = {}
    columns = {c: edges[c].tolist() for c in ("src", "dst", "kind", *cols)}
    for i in range(len(edges)):
        kind = str(columns["kind"][i])
        if kind not in EDGE_TYPES:  # a relationship type must come from the whitelist
            raise InvalidData(f"edges row {i + 1}: unknown kind {kind!r}; kinds are {', '.join(EDGE_TYPES)}")
        by_kind.setdefault(kind, []).append(
            [columns["src"][i], columns["dst"][i], kind, keys[i], i, *(columns[c][i] for c in cols)])
    return [_write(out / f"rels_{kind}.csv", header, rows) for kind, rows in sorted(by_kind.items())]


def export_import_csvs(store: GraphStore, out: Path | str) -> list[Path]:
    """Write every table of `store` into `out` as neo4j-admin import CSVs plus `import.sh`.

    Returns the files written. Load them into an empty database with the command in
    `import.sh` (neo4j-admin database import full), then point the product at it with
    PROSPECT_GRAPH_GRAPH__BACKEND=neo4j: the first write creates the constraints and indexes.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    namespace = getattr(store, "namespace", None) or get_settings().graph.neo4j_namespace
    nodes: list[Path] = []
    rels: list[Path] = []
    present: list[str] = []
    known: set[str] = set()
    for table in track(list(TABLES), "exporting"):
        df = store.read(table)
        if df.empty:
            continue
        present.append(table)
        if table == "edges":
            rels.extend(_edge_files(out, df))
            continue
        nodes.append(_table_file(out, table, df, namespace))
        if table in NODE_LABELS:
            known.update(map(str, df["id"].tolist()))
    edges = store.read("edges")
    bare = sorted(set(map(str, edges["src"].tolist() + edges["dst"].tolist())) - known)
    if bare:  # endpoints named only by an edge: bare Entity nodes, as Neo4jStore writes them
        nodes.append(_write(out / f"nodes_{ENTITY}.csv", [f"id:ID({ENTITY})", ":LABEL", "_store"],
                            [[node_id, ENTITY, namespace] for node_id in bare]))
    history = [{"version": store.version or "000001", "note": "neo4j-admin import", "tables": present}]
    nodes.append(_write(out / f"nodes_{VERSION_LABEL}.csv",
                        [":LABEL", "_store", "version", "tables:string[]", "history"],
                        [[VERSION_LABEL, namespace, store.version or "000001", ";".join(present),
                          json.dumps(history, ensure_ascii=False)]]))
    script = out / "import.sh"
    script.write_text("#!/bin/sh\n# Load into an EMPTY database (stop it first); NEO4J_DATABASE defaults to neo4j.\n"
                      "cd \"$(dirname \"$0\")\"\n" + import_command(nodes, rels, relative=True) + "\n",
                      encoding="utf-8")
    script.chmod(0o755)
    return [*nodes, *rels, script]


def import_command(nodes: list[Path], rels: list[Path], relative: bool = False) -> str:
    """The `neo4j-admin database import full` command line that loads the files."""
    def name(p: Path) -> str:
        return shlex.quote(p.name if relative else str(p))

    parts = ["neo4j-admin database import full --overwrite-destination --multiline-fields=true",
             *(f"--nodes={name(p)}" for p in nodes), *(f"--relationships={name(p)}" for p in rels),
             '"${NEO4J_DATABASE:-neo4j}"']
    return " \\\n  ".join(parts)
