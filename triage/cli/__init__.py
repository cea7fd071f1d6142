"""The ``triage`` command: a thin front end over the library.

Each command parses its arguments, calls one library function and formats the result. Errors of triage's
own (bad files, unknown codes, refused models) are printed to stderr in one line, with exit code 2;
nothing is printed as a traceback.
"""

from __future__ import annotations

import gc
import importlib
import sys

import typer

from triage.errors import TriageError

_app = typer.Typer(help="Route Indonesian public-service complaints: train, evaluate, suggest, serve, batch.",
                   no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

EXIT_ERROR = 2


@_app.callback()
def _commands() -> None:
    # A callback keeps the app a group of commands even when only one is registered (`triage batch`).
    pass

# The module that registers each command on the app. `triage COMMAND` imports only that one (`triage batch`
# needs neither the web service nor the database); a command missing here, or none, imports them all.
_COMMANDS = {"train": "classify", "evaluate": "classify", "suggest": "classify", "serve": "serve",
             "apikey": "apikey", "batch": "batch", "retrain": "retrain", "models": "retrain",
             "realdata": "realdata", "backup": "backup", "restore": "backup"}
_MODULES = ("classify", "serve", "apikey", "batch", "retrain", "realdata", "backup")
_registering = False


def fail(message: str, code: int = EXIT_ERROR) -> None:
    """Print ``message`` to stderr and leave with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def main() -> None:
    """Entry point of the ``triage`` script."""
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    # Importing SciPy and pandas (and scikit-learn, for training) makes hundreds of thousands of objects and
    # hardly any garbage: the cyclic collector would walk them many times for nothing, a tenth of the start-up.
    gc.disable()
    try:
        _register((_COMMANDS[command],) if command in _COMMANDS else _MODULES)
    finally:
        gc.enable()
    try:
        _app()
    except TriageError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_ERROR)


def _register(modules: tuple[str, ...]) -> None:
    """Import command modules: they register themselves on the app (``from triage.cli import app``)."""
    global _registering
    _registering = True
    try:
        for name in modules:
            try:
                importlib.import_module(f"triage.cli.{name}")
            except ModuleNotFoundError as exc:  # a command group not written yet
                if exc.name != f"triage.cli.{name}":
                    raise
    finally:
        _registering = False


def __getattr__(name: str) -> typer.Typer:
    """``app``: the Typer app, with every command registered (what tests and scripts import); while command
    modules register themselves, the app as it is."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _registering:
        return _app
    _register(_MODULES)
    globals()["app"] = _app
    return _app
