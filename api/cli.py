"""The command line, `prospect-graph` (DESIGN.md, "Command line").

User mistakes give one clear line on stderr and a non-zero exit, never a traceback:
exit 2 for a bad request or data, 3 for a capability not in this build, 4 for a backend
that cannot be reached, 1 for anything unexpected.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from graph import open_store
from graph.errors import AppError, BackendUnavailable, InvalidRequest, NotFound, NotImplementedYet
from graph.schema import FAMILIES
from graph.settings import StoreSettings

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Prospect Graph: who to approach next, and through whom.")
token_app = typer.Typer(no_args_is_help=True, help="Manage API bearer tokens.")
export_app = typer.Typer(no_args_is_help=True, help="Export the store.")
app.add_typer(token_app, name="token")
app.add_typer(export_app, name="export")

StoreOpt = Annotated[Path | None, typer.Option("--store", help="store folder (default $PROSPECT_GRAPH_STORE "
                                                              "or ./prospect-graph-store)")]


def _store(path: Path | None) -> Any:
    return open_store(path, StoreSettings())


def _err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


# ------------------------------------------------------------------ commands
@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="folder to write the bundle into")],
    scale: Annotated[int | None, typer.Option(help="about N payment rows, other tables in proportion")] = None,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same bundle)")] = 7,
) -> None:
    """Write a demo bundle (or a benchmark-scale one with --scale)."""
    from ingest.generate import write_bundle

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

    summary = run_ingest(_store(store), bundle, mapping=mapping)
    typer.echo(summary.render())


@app.command()
def score(store: StoreOpt = None) -> None:
    """Score every prospect family and keep the results in the store."""
    from scoring.run import score_all

    summary = score_all(_store(store))
    for family, rows in summary.rows.items():
        typer.echo(f"{family:15s} {rows:8,d} rows  {summary.seconds[family]:7.2f}s")
    for family in summary.missing:
        typer.echo(f"{family:15s} not implemented in this build")


@app.command()
def prospects(
    family: Annotated[str, typer.Argument(help=" | ".join(FAMILIES))],
    store: StoreOpt = None,
    anchor: Annotated[str | None, typer.Option(help="only prospects of this anchor client")] = None,
    kind: Annotated[str | None, typer.Option(help="only this kind (e.g. upstream, payroll)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="rows to show")] = 20,
    format: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
) -> None:
    """List the scored prospects of a family, best first."""
    from api.render import print_prospects

    if format not in ("table", "json", "csv"):
        raise InvalidRequest(f"unknown format {format!r}; choose table, json or csv")
    print_prospects(_store(store), family, anchor=anchor, kind=kind, limit=limit, fmt=format)


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
    from scoring.paths import find_paths

    from scoring.settings import ScoringSettings

    if format not in ("table", "json"):
        raise InvalidRequest(f"unknown format {format!r}; choose table or json")
    lang = ScoringSettings().lang
    found = find_paths(_store(store), source, target, max_hops=max_hops, k=k)
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
) -> None:
    """Serve the API and the pages (uvicorn)."""
    import uvicorn

    from api.main import create_app

    uvicorn.run(create_app(store_path=store), host=host, port=port, log_level="info")


@app.command()
def demo(
    serve_: Annotated[bool, typer.Option("--serve", help="then serve the API and pages")] = False,
    store: StoreOpt = None,
    bundle: Annotated[Path, typer.Option(help="where to write the demo bundle")] = Path("demo-bundle"),
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Build the demo bundle, ingest it, score it and print the top prospects of each family."""
    from ingest.generate import write_bundle
    from ingest.job import run_ingest

    from api.render import print_prospects
    from scoring.run import available_families, score_all

    write_bundle(bundle, seed=7)
    st = _store(store)
    summary = run_ingest(st, bundle)
    typer.echo(summary.render())
    score_all(st)
    for family in available_families():
        typer.echo(f"\n== {family} ==")
        print_prospects(st, family, limit=5, fmt="table", per_kind=True)
    if serve_:
        import uvicorn

        from api.main import create_app

        uvicorn.run(create_app(store_path=st.root), host="127.0.0.1", port=port, log_level="info")


@token_app.command("add")
def token_add(
    name: Annotated[str, typer.Argument(help="who the token is for")],
    role: Annotated[str, typer.Option(help="corporate_manager | retail_manager | analyst | admin")],
    branch: Annotated[str | None, typer.Option(help="limit the token to one branch")] = None,
    manager: Annotated[str | None, typer.Option(help="the manager id this user is, if any")] = None,
    store: StoreOpt = None,
) -> None:
    """Create a bearer token (printed once, stored hashed)."""
    from api.auth import add_token

    typer.echo(add_token(_store(store), name, role=role, branch=branch, manager=manager))


@export_app.command("neo4j-import")
def export_neo4j_import(
    out: Annotated[Path, typer.Argument(help="folder for the neo4j-admin import CSVs")],
    store: StoreOpt = None,
) -> None:
    """Write the store as `neo4j-admin database import` CSV files."""
    from graph.neo4j_export import export_import_csvs

    files = export_import_csvs(_store(store), out)
    typer.echo(f"wrote {len(files)} files to {out}")


# --------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Run the CLI, turning product errors into one line and an exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except NotImplementedYet as exc:
        _err(str(exc))
        return 3
    except BackendUnavailable as exc:
        _err(str(exc))
        return 4
    except (AppError, NotFound) as exc:
        _err(str(exc))
        return 2
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("ingest", "scoring", "api", "viz", "graph"):
            _err(f"this capability is not implemented in this build ({exc.name})")
            return 3
        raise
    except FileNotFoundError as exc:
        _err(f"no such file: {exc.filename}")
        return 2
    except typer.Abort:
        _err("aborted")
        return 1
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            _err(exc.format_message())
            return exc.exit_code or 2
        if isinstance(exc, click.exceptions.Exit):
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
