"""``triage realdata build``: evaluation files from the real public corpora in the shared folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from triage.cli import app
from triage.realdata import DEFAULT_OUT, DEFAULT_SHARED, MAPS_DIR, build_all
from triage.taxonomy import load_taxonomy

realdata_app = typer.Typer(help="Real public complaints (evaluation only, never training data).",
                           no_args_is_help=True)
app.add_typer(realdata_app, name="realdata")


Shared = Annotated[Path, typer.Option("--shared", help="Shared folder holding corpora/.")]
Out = Annotated[Path, typer.Option("--out", help="Folder for the JSONL files.")]
Maps = Annotated[Path, typer.Option("--maps", help="Folder of the reviewed <source>_opd_map.csv files.")]
Deployment = Annotated[str, typer.Option("--deployment", help="Deployment whose OPD codes the maps use.")]


@realdata_app.command()
def build(shared: Shared = DEFAULT_SHARED, out: Out = DEFAULT_OUT, maps: Maps = MAPS_DIR,
          deployment: Deployment = "kukar") -> None:
    """Map the Surabaya, Kab. Bandung and Samarinda exports onto OPD codes and write one JSONL file each."""
    taxonomy = load_taxonomy(deployment)
    for report in build_all(taxonomy, shared=shared, out=out, maps_dir=maps):
        typer.echo(f"{report.source}: {report.path}")
        typer.echo(f"  read {report.read}, kept {report.kept}, dropped {report.read - report.kept}")
        for reason, n in report.dropped.most_common():
            typer.echo(f"    {reason:<28} {n:>6}")
        typer.echo("  opd: " + ", ".join(f"{code} {n}" for code, n in report.opd.most_common()))
