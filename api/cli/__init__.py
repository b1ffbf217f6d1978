"""The command line, `prospect-graph` (DESIGN.md, "Command line").

User mistakes give one clear line on stderr and a non-zero exit, never a traceback:
exit 2 for a bad request or data, 3 for an optional extra that is not installed (the neo4j
driver, scikit-learn), 4 for a backend that cannot be reached, 1 for anything unexpected.

The commands live by area: `commands` (generate, ingest, score, prospects, path, serve, demo,
export), `rhythm` (plan, entity, note, track, campaigns, outflow), `tokens` (token …) and
`board` (leads …); `common` holds the Typer apps and the --store and --format helpers.
"""

from __future__ import annotations

import typer

from api.cli import board, commands, rhythm, tokens  # noqa: F401  (importing registers their commands)
from api.cli.common import app, error_line
from graph.errors import AppError, BackendUnavailable, NotFound, NotImplementedYet
from graph.memory import lean_allocator

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI, turning product errors into one line and an exit code."""
    lean_allocator()  # this process's and the ones it starts (serve's and scoring's workers)
    try:
        app(args=argv, standalone_mode=False)
    except NotImplementedYet as exc:
        error_line(str(exc))
        return 3
    except BackendUnavailable as exc:
        error_line(str(exc))
        return 4
    except (AppError, NotFound) as exc:
        error_line(str(exc))
        return 2
    except FileNotFoundError as exc:
        error_line(f"no such file: {exc.filename}")
        return 2
    except OSError as exc:  # permissions, a file where a folder should be, a full disk
        error_line(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        return 2
    except typer.Abort:
        error_line("aborted")
        return 1
    except KeyboardInterrupt:
        error_line("interrupted")
        return 130
    except Exception as exc:  # click usage errors and the like
        code = _usage_error(exc)
        if code is None:
            raise
        return code
    return 0


def _usage_error(exc: Exception) -> int | None:
    """The exit code of a click usage error or exit (shown as one line), None for anything else.

    typer >= 0.22 vendors click as `typer._click`, whose exception classes are not click's,
    so these are recognised by name and shape rather than by class.
    """
    if type(exc).__name__ == "Exit":
        return int(getattr(exc, "exit_code", 0) or 0)
    if type(exc).__name__ == "NoArgsIsHelpError":  # a bare command group: its help, as click would show it
        text = str(exc.format_message())  # type: ignore[attr-defined]  # empty when rich printed it already
        if text.strip():
            typer.echo(text, err=True)
        return 2
    format_message = getattr(exc, "format_message", None)
    if callable(format_message) and isinstance(getattr(exc, "exit_code", None), int):
        error_line(str(format_message()))
        return int(exc.exit_code) or 2  # type: ignore[attr-defined]
    return None
