"""``triage batch``: classify a backlog file (CSV, JSONL, Parquet or XLSX, SP4N-LAPOR! exports included),
resumably, on every core."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from triage import batch as batch_lib
from triage.cli import _app as app  # the app as it is: `triage batch` imports no other command
from triage.cli import fail
from triage.settings import get_settings

Input = Annotated[Path, typer.Argument(help="Backlog file: .csv, .jsonl, .parquet or .xlsx (an SP4N-LAPOR! "
                                                "export is recognised by its columns).")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Output file; its extension sets its format.")]
Format = Annotated[Optional[str], typer.Option(
    "--format", help="Input format: csv, jsonl, parquet or xlsx (default: from the extension).")]
OutputFormat = Annotated[Optional[str], typer.Option(
    "--output-format", help="Output format (default: from the output's extension, else the input's).")]
TextColumn = Annotated[Optional[str], typer.Option(
    "--text-column", help="Column holding the complaint text (default: text; 'Isi Laporan Awal' in a LAPOR! "
                          "export).")]
IdColumn = Annotated[Optional[str], typer.Option(
    "--id-column", help="Column holding each complaint's id (default: id; 'Tracking ID' in a LAPOR! export).")]
Jobs = Annotated[Optional[int], typer.Option("--jobs", "-j", min=1,
                                             help="Worker processes (default: every core).")]
ChunkSize = Annotated[int, typer.Option("--chunk-size", min=1, help="Rows per chunk (and per part file).")]
Engine = Annotated[str, typer.Option("--engine", help="local (a process pool) or dask.")]
Scheduler = Annotated[Optional[str], typer.Option(
    "--scheduler", help="Dask scheduler address (tcp://host:8786); without it --engine dask starts a "
                        "LocalCluster.")]
ToQueue = Annotated[bool, typer.Option(
    "--to-queue", help="Also store the results in the history database as pending complaints.")]
Restart = Annotated[bool, typer.Option("--restart",
                                       help="Discard an interrupted run's parts instead of resuming.")]
Deployment = Annotated[Optional[str], typer.Option("--deployment",
                                                   help="Deployment name or taxonomy YAML path.")]
Version = Annotated[Optional[str], typer.Option("--model", help="Model version (default: the serving one).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


@app.command()
def batch(input: Input, output: Output, input_format: Format = None, output_format: OutputFormat = None,
          text_column: TextColumn = None, id_column: IdColumn = None, jobs: Jobs = None,
          chunk_size: ChunkSize = batch_lib.DEFAULT_CHUNK_SIZE, engine: Engine = "local",
          scheduler: Scheduler = None, to_queue: ToQueue = False, restart: Restart = False,
          deployment: Deployment = None, model: Version = None, quiet: Quiet = False) -> None:
    """Classify every row of a backlog file and write it back with its suggestion.

    The output keeps the input's rows and columns and adds, per head, suggested_<head>, <head>_confidence and
    <head>_needs_review, plus needs_review and model_version; an SP4N-LAPOR! export also gets the suggested
    body as LAPOR! names it. Bad rows (empty or non-text) go to <output stem>.errors.csv. Run the same command
    again to resume an interrupted job.
    """
    if scheduler is not None:
        engine = "dask"  # a scheduler address only means something to the dask engine
    settings = get_settings()
    job = batch_lib.prepare(input, output, input_format=input_format, output_format=output_format,
                            text_column=text_column, id_column=id_column, models_dir=settings.models_dir,
                            deployment=deployment or settings.deployment, model_version=model,
                            chunk_size=chunk_size)
    show = not quiet and sys.stderr.isatty()
    with _bar(batch_lib.count_rows(job) if show else None, show, "classify") as bar:
        try:
            summary = batch_lib.run(job, jobs=jobs, engine=engine, scheduler=scheduler, restart=restart,
                                    progress=bar.update)
        except OSError as exc:  # an unreachable scheduler, a full disk: one line, not a traceback
            fail(str(exc))
    typer.echo(_summary(job, summary))
    if to_queue:
        from triage.db import upgrade
        from triage.deadlines import Deadlines

        upgrade(settings.database_url)
        with _bar(summary.classified if show else None, show, "queue") as bar:
            queued = batch_lib.enqueue(job, settings.database_url, deadlines=Deadlines.from_settings(settings),
                                      progress=bar.update)
        notes = []
        if queued.unknown_channels:
            notes.append(f"{queued.unknown_channels} with an unknown channel stored without one")
        if queued.unreadable_dates:
            notes.append(f"{queued.unreadable_dates} with an unreadable received date stored as received now")
        if queued.archived:
            notes.append(f"{queued.archived} archived in LAPOR! not queued")
        notes_text = f" ({'; '.join(notes)})" if notes else ""
        typer.echo(f"queued {queued.created} complaints for review; {queued.skipped} were queued "
                   f"already{notes_text}")
        for example in queued.examples:
            typer.echo(f"note: {example}; stored as received now")


def _bar(total: int | None, show: bool, what: str):
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: the job forks its workers, only safe without threads
    return tqdm(total=total, disable=not show, unit=" rows", unit_scale=True, desc=what, file=sys.stderr,
                dynamic_ncols=True, smoothing=0.1)


def _summary(job: batch_lib.BatchJob, summary: batch_lib.BatchSummary) -> str:
    lines = [f"classified {summary.classified} of {summary.rows} rows with model {summary.model_version} "
             f"in {summary.seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s) -> {summary.output}"]
    if summary.resumed_chunks:
        lines.append(f"resumed: {summary.resumed_chunks} of {summary.chunks} chunks were done already")
    lines.extend(f"note: {note}" for note in summary.notes)
    lines.append(f"{summary.needs_review} need review")
    if summary.bad:
        lines.append(f"{summary.bad} bad rows (row number and reason) -> {summary.errors_path}")
        first = batch_lib.first_bad_row(job, summary)
        if first:
            lines.append(f"first bad row: {first}")
    return "\n".join(lines)
