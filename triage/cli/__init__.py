"""The ``triage`` command: a thin front end over the library.

Each command parses its arguments, calls one library function and formats the result. Errors of triage's
own (bad files, unknown codes, refused models) are printed to stderr in one line, with exit code 2;
nothing is printed as a traceback.
"""

from __future__ import annotations

import sys

import typer

from triage.errors import TriageError

app = typer.Typer(help="Route Indonesian public-service complaints: train, evaluate, suggest, serve, batch.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

EXIT_ERROR = 2


def fail(message: str, code: int = EXIT_ERROR) -> None:
    """Print ``message`` to stderr and leave with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def main() -> None:
    """Entry point of the ``triage`` script."""
    try:
        app()
    except TriageError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)


# Command modules register themselves on ``app`` when imported.
from triage.cli import classify  # noqa: E402,F401

for _optional in ("serve", "apikey", "batch", "retrain", "realdata"):
    try:
        __import__(f"triage.cli.{_optional}")
    except ModuleNotFoundError as _exc:  # a command group not written yet
        if _exc.name != f"triage.cli.{_optional}":
            raise
