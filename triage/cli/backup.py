"""``triage backup DEST`` and ``triage restore SRC``: the history database and the model registry, copied
consistently while the service runs, and put back into an empty database and models directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage import backup as backup_lib
from triage.cli import _app as app
from triage.settings import get_settings

Dest = Annotated[Path, typer.Argument(help="New (or empty) folder to write the backup into.")]
Source = Annotated[Path, typer.Argument(help="Folder made by `triage backup`.")]


@app.command()
def backup(dest: Dest) -> None:
    """Back up the history database (TRIAGE_DATABASE_URL) and the model registry (TRIAGE_MODELS_DIR), safe
    while the service runs: SQLite through its online backup API, PostgreSQL through pg_dump."""
    settings = get_settings()
    summary = backup_lib.backup(settings.database_url, settings.models_dir, dest)
    typer.echo(f"backed up {_counts(summary)} and {len(summary.manifest['models']['versions'])} model "
               f"version(s), serving {summary.serving_model} -> {summary.path}")


@app.command()
def restore(source: Source) -> None:
    """Restore a backup into an empty database (TRIAGE_DATABASE_URL) and an empty models directory
    (TRIAGE_MODELS_DIR), checking every file and the restored rows against the backup's manifest."""
    settings = get_settings()
    summary = backup_lib.restore(source, settings.database_url, settings.models_dir)
    typer.echo(f"restored {_counts(summary)} and {len(summary.manifest['models']['versions'])} model "
               f"version(s), serving {summary.serving_model}, from the backup of {summary.manifest['created']}")


def _counts(summary: backup_lib.BackupSummary) -> str:
    counts = summary.counts
    return f"{counts['complaints']} complaints, {counts['decisions']} decisions, {counts['api_keys']} API keys"
