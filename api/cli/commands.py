"""The main commands: generate, ingest, score, prospects, path, serve, demo, and the exports."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import StoreOpt, app, check_format, error_line, existing_store, export_app, store_at
from graph.errors import InvalidRequest
from graph.schema import FAMILIES

__all__ = ["generate", "ingest", "score", "prospects", "path", "serve", "demo", "export_neo4j_import"]


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="folder to write the bundle into")],
    scale: Annotated[int | None, typer.Option(help="about N payment rows, other tables in proportion")] = None,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same bundle)")] = 7,
) -> None:
    """Write a demo bundle (or a benchmark-scale one with --scale)."""
    from demo.bundle import write_bundle

    stats = write_bundle(out, seed=seed, scale=scale)
    typer.echo(f"wrote {out}: " + ", ".join(f"{k} {v:,}" for k, v in stats.items()))


@app.command()
def ingest(
    bundle: Annotated[Path, typer.Argument(help="bundle folder, or a mapping.yaml")],
    store: StoreOpt = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping file")] = None,
) -> None:
    """Ingest a bundle into the store; prints a summary and writes a rejects report."""
    from ingest.job import run_ingest
    from leads.watchers import INGEST_WATCHERS

    summary = run_ingest(store_at(store), bundle, mapping=mapping, watchers=INGEST_WATCHERS)
    typer.echo(summary.render())


@app.command()
def score(
    store: StoreOpt = None,
    warm: Annotated[bool, typer.Option(help="then build the caches the API reads (graph index, adjacency, "
                                            "prospects), so the first request after scoring is fast")] = True,
) -> None:
    """Score every prospect family and keep the results in the store."""

    from graph import index_cache
    from scoring.run import score_all

    st = existing_store(store)
    summary = score_all(st, graph_caches=warm)  # the graph caches built beside the scoring
    for family, rows in summary.rows.items():
        typer.echo(f"{family:15s} {rows:8,d} rows  {summary.seconds[family]:7.2f}s")
    if warm:  # after the scores are kept: a request would otherwise build these caches (seconds at 500k)
        started = time.perf_counter()
        index_cache.warm(st, summary.prospects, summary.version)
        typer.echo(f"{'API caches':15s} {'':13s} {time.perf_counter() - started:7.2f}s")


@app.command()
def prospects(
    family: Annotated[str, typer.Argument(help=" | ".join(FAMILIES))],
    store: StoreOpt = None,
    kind: Annotated[str | None, typer.Option(help="only this kind (e.g. upstream, payroll)")] = None,
    anchor: Annotated[str | None, typer.Option(help="every prospect of this anchor client")] = None,
    association: Annotated[str | None, typer.Option(help="only this association's")] = None,
    employer: Annotated[str | None, typer.Option(help="only this payroll employer's")] = None,
    branch: Annotated[str | None, typer.Option(help="only rows of this branch")] = None,
    manager: Annotated[str | None, typer.Option(help="only rows for this manager")] = None,
    min_score: Annotated[float | None, typer.Option(min=0, max=100, help="lowest score, 0-100")] = None,
    band: Annotated[str | None, typer.Option(help="near_threshold | below_threshold | above_threshold")] = None,
    limit: Annotated[int, typer.Option(min=1, help="rows to show")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="rows to skip")] = 0,
    lang: Annotated[str | None, typer.Option(help="zh | en (default: the setting)")] = None,
    format: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
) -> None:
    """List the scored prospects of a family, best first (the same filters as the API)."""
    from api.render import print_prospects

    check_format(format, ("table", "json", "csv"))
    if lang not in (None, "zh", "en"):
        raise InvalidRequest(f"unknown language {lang!r}; choose zh or en")
    filters = {"kind": kind, "anchor": anchor, "association": association, "employer": employer,
               "branch": branch, "manager": manager, "min_score": min_score, "band": band}
    shown = print_prospects(existing_store(store), family, limit=limit, offset=offset, fmt=format, lang=lang,
                            filters=filters)
    if shown == 0:
        from scoring.answer import why_empty

        message, mistake = why_empty(existing_store(store), family,
                                     {k: (None if v is None else str(v)) for k, v in filters.items()})
        if mistake:
            raise InvalidRequest(message)
        error_line(message)


@app.command()
def path(
    source: Annotated[str, typer.Argument(help="entity id")],
    target: Annotated[str, typer.Argument(help="entity id")],
    store: StoreOpt = None,
    max_hops: Annotated[int, typer.Option(min=1, max=8, help="hop limit")] = 4,
    k: Annotated[int, typer.Option(min=1, max=20, help="how many paths")] = 3,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """The k shortest typed paths between two entities, explained in words."""
    from graph.paths import find_paths
    from graph.settings import get_settings

    check_format(format)
    lang = get_settings().lang
    found = find_paths(existing_store(store), source, target, max_hops=max_hops, k=k)
    if format == "json":
        rows = [{"nodes": p["nodes"], "edges": p["edges"], "text": p[f"text_{lang}"]} for p in found]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for i, p in enumerate(found, 1):
            typer.echo(f"{i}. {' -> '.join(p['nodes'])}\n   {p[f'text_{lang}']}")


@app.command()
def serve(
    store: StoreOpt = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int | None, typer.Option(
        min=1, help="worker processes (default: the api.workers setting, else one per core)")] = None,
) -> None:
    """Serve the API and the pages (uvicorn; several worker processes use several cores)."""
    from api.server import serve as run_server

    run_server(store, host=host, port=port, workers=workers)


@app.command()
def demo(
    serve_: Annotated[bool, typer.Option("--serve", help="then serve the API and pages")] = False,
    store: StoreOpt = None,
    bundle: Annotated[Path, typer.Option(help="where to write the demo bundle")] = Path("demo-bundle"),
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Build the demo bundle, ingest it, score it and print the top prospects of each family."""
    from api.render import print_prospects
    from demo.bundle import write_bundle
    from ingest.job import run_ingest
    from leads.watchers import INGEST_WATCHERS
    from scoring.run import score_all

    write_bundle(bundle, seed=7)
    st = store_at(store)
    summary = run_ingest(st, bundle, watchers=INGEST_WATCHERS)
    typer.echo(summary.render())
    from demo.months import write_month_bundles

    for month in write_month_bundles(bundle, bundle.parent / f"{bundle.name}-months"):  # tracked over time
        typer.echo(f"{month.name}: store version {run_ingest(st, month, watchers=INGEST_WATCHERS).version}")
    score_all(st)
    for family in FAMILIES:
        typer.echo(f"\n== {family} ==")
        print_prospects(st, family, limit=5, fmt="table", per_kind=True)
    if serve_:
        import secrets

        from api.auth import add_token
        from api.server import serve as run_server

        token = add_token(st, f"demo-{secrets.token_hex(3)}", role="admin")  # names are unique
        typer.echo(f"\nserving on http://127.0.0.1:{port}  (API docs: /docs)")
        typer.echo(f"sign in once with this link (an admin token made for the demo):\n"
                   f"  http://127.0.0.1:{port}/?token={token}\n")
        run_server(st.root, host="127.0.0.1", port=port)


@export_app.command("neo4j-import")
def export_neo4j_import(
    out: Annotated[Path, typer.Argument(help="folder for the neo4j-admin import CSVs")],
    store: StoreOpt = None,
) -> None:
    """Write the store as `neo4j-admin database import` CSV files."""
    from graph.neo4j_export import export_import_csvs

    files = export_import_csvs(existing_store(store), out)
    typer.echo(f"wrote {len(files)} files to {out}")
