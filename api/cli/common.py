"""What every command of the CLI shares: the Typer apps, the --store option, the output helpers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from graph import open_store
from graph.errors import InvalidRequest, NotFound
from graph.settings import get_settings

__all__ = ["app", "token_app", "export_app", "leads_app", "StoreOpt", "store_at", "existing_store", "error_line",
           "check_format", "print_json", "emit"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Prospect Graph: who to approach next, and through whom.")
token_app = typer.Typer(no_args_is_help=True, help="Manage API bearer tokens.")
export_app = typer.Typer(no_args_is_help=True, help="Export the store.")
app.add_typer(token_app, name="token")
app.add_typer(export_app, name="export")
leads_app = typer.Typer(help="The lead board: one row per entity across families, routed to one owner.")
app.add_typer(leads_app, name="leads")

StoreOpt = Annotated[Path | None, typer.Option("--store", help="store folder (default $PROSPECT_GRAPH_GRAPH__STORE "
                                                              "or ./prospect-graph-store)")]



def store_at(path: Path | None) -> Any:
    return open_store(path, get_settings().graph)


def existing_store(path: Path | None) -> Any:
    """The store at `path`, which must hold data: reading a store never ingested is a user mistake."""
    st = store_at(path)
    if st.version is None:
        raise NotFound(f"no store with data at {st.root}; run `prospect-graph ingest BUNDLE --store {st.root}` first")
    return st


def error_line(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def check_format(format: str, choices: tuple[str, ...] = ("table", "json")) -> None:
    """Refuse an unknown --format before any work is done."""
    if format not in choices:
        raise InvalidRequest(f"unknown format {format!r}; choose {', '.join(choices[:-1])} or {choices[-1]}")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))


def emit(format: str, data: Any, lines: Callable[[Any], Iterable[str]]) -> None:
    """`--format json`: `data` as JSON; `table`: the lines `lines(data)` writes."""
    if format == "json":
        print_json(data)
        return
    for line in lines(data):
        typer.echo(line)
