"""``triage retrain`` and ``triage models list|show|promote|rollback|verify|convert|keygen``.

Exit codes of ``triage retrain``: 0 a new model was promoted (a dry run: the gate would pass), 3 the gate
rejected the challenger (the report says why), 2 an error (nothing changed), 1 an unexpected failure.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Annotated, Optional

import typer

from triage.cli import app, fail
from triage.errors import ModelError
from triage.registry import ARTEFACT, ModelRegistry
from triage.retrain import Progress
from triage.retrain_job import run_job
from triage.settings import get_settings
from triage.taxonomy import HEADS

EXIT_REJECTED = 3

models_app = typer.Typer(help="The model registry: list versions, show a report, promote one, roll back; "
                              "verify signatures, convert old pickles, make a signing key.",
                         no_args_is_help=True)
app.add_typer(models_app, name="models")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


@app.command()
def retrain(dry_run: Annotated[bool, typer.Option(
                "--dry-run", help="Train, evaluate and report; save and promote nothing.")] = False,
            deployment: Annotated[Optional[str], typer.Option(
                "--deployment", help="Deployment name or taxonomy YAML path.")] = None,
            quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No stage lines on stderr.")] = False,
            as_json: AsJson = False,
            job_id: Annotated[Optional[str], typer.Option("--job-id", hidden=True)] = None,
            lock_fd: Annotated[Optional[int], typer.Option("--lock-fd", hidden=True)] = None) -> None:
    """Retrain on the seed corpus plus the handlers' decisions; promote the new model if the gate passes.

    The challenger and the serving model are compared on the most recent decisions (held out of training)
    and on the seed test split; the challenger is promoted only if it is not worse on any head beyond
    TRIAGE_RETRAIN_TOLERANCE (recent) and TRIAGE_RETRAIN_SEED_TOLERANCE (seed). A report (JSON and
    Markdown) is written to <models dir>/retrain-reports/. Exit code 0: promoted; 3: rejected; 2: error.
    """
    settings = get_settings()
    if deployment is not None:
        settings = settings.model_copy(update={"deployment": deployment})
    from triage.db import upgrade

    upgrade(settings.database_url)  # as `triage serve` does: a new or older database is brought up to date

    def show(step: Progress) -> None:
        if not quiet:
            typer.echo(f"[{step.percent:3d}%] {step.stage:<8} {step.message}", err=True)

    result = run_job(settings, dry_run=dry_run, job=job_id, lock_fd=lock_fd, progress=show)
    report = result.report
    if as_json:
        typer.echo(json.dumps({"status": result.status, "version": result.version,
                               "champion": result.champion, "passed": result.verdict.passed,
                               "reasons": result.verdict.reasons,
                               "report": {k: str(v) for k, v in result.report_paths.items()}}, indent=2))
    else:
        headline = {"promoted": f"promoted {result.version} (was {result.champion})",
                    "rejected": f"rejected {result.version}: {result.champion} keeps serving",
                    "dry_run": f"dry run: the gate would {'pass' if result.verdict.passed else 'reject'} the "
                               "challenger; nothing saved"}[result.status]
        typer.echo(headline)
        for reason in result.verdict.reasons:
            typer.echo(f"  - {reason}")
        typer.echo(_comparison(report))
        for head, codes in report["too_rare"].items():
            typer.echo(f"  too rare to learn ({head}): " + ", ".join(f"{c} ({n})" for c, n in codes.items()))
        typer.echo(f"report: {result.report_paths['markdown']}")
    if not result.verdict.passed:
        raise typer.Exit(EXIT_REJECTED)


@models_app.command("list")
def list_models(as_json: AsJson = False) -> None:
    """Every saved model, oldest first; * marks the one serving."""
    registry = ModelRegistry(get_settings().models_dir)
    infos = registry.list()
    current = registry.current_version() if infos else None
    if as_json:
        typer.echo(json.dumps([{"version": i.version, "created": i.created, "serving": i.version == current,
                                "n_train": i.metadata.get("n_train"),
                                "metrics": i.metadata.get("metrics", {}),
                                "retrain": i.metadata.get("retrain")} for i in infos], indent=2))
        return
    typer.echo(f"  {'version':<28} {'created':<26} {'n_train':>7} {'opd acc':>8} {'recent':>7}  retrain")
    for info in infos:
        meta = info.metadata
        test = (meta.get("metrics") or {}).get("test") or {}
        recent = (meta.get("metrics") or {}).get("recent") or {}
        retrained = meta.get("retrain") or {}
        opd = f"{test['opd']['accuracy']:.3f}" if "opd" in test else "-"
        opd_recent = f"{recent['opd']['accuracy']:.3f}" if "opd" in recent else "-"
        mark = "*" if info.version == current else " "
        typer.echo(f"{mark} {info.version:<28} {info.created:<26} {meta.get('n_train', '-'):>7} {opd:>8} "
                   f"{opd_recent:>7}  {retrained.get('status', '')}")


@models_app.command()
def show(version: Annotated[Optional[str], typer.Argument(
        help="Model version (default: the serving one).")] = None) -> None:
    """Print a model's report (its retraining report, if it has one) or its metadata."""
    registry = ModelRegistry(get_settings().models_dir)
    info = registry.info(version or registry.current_version())
    report = info.path / "report.md"
    if report.is_file():
        typer.echo(report.read_text(encoding="utf-8"))
    else:
        typer.echo(json.dumps(info.metadata, indent=2))


@models_app.command()
def promote(version: Annotated[str, typer.Argument(help="The version to serve.")]) -> None:
    """Serve VERSION (running API workers switch within about a second); the old one can be rolled back to.
    A version whose signature or digest does not check out is refused (unless pickles are allowed)."""
    registry = ModelRegistry.for_settings(get_settings())
    if not registry.allow_pickled:
        registry.verify(version)
    before = registry.current_version()
    registry.promote(version)
    typer.echo(f"serving {version} (was {before})")


@models_app.command()
def rollback() -> None:
    """Serve the previously promoted model again."""
    registry = ModelRegistry(get_settings().models_dir)
    before = registry.current_version()
    typer.echo(f"serving {registry.rollback()} (was {before})")


@models_app.command()
def verify(version: Annotated[Optional[str], typer.Argument(
        help="Model version (default: every saved version).")] = None) -> None:
    """Check the signature and digest of VERSION (or every version) without loading it; exit code 2 if one
    is refused."""
    registry = ModelRegistry.for_settings(get_settings())
    refused = 0
    for name in [version] if version else [info.version for info in registry.list()]:
        try:
            typer.echo(f"ok       {name}: signed by {registry.verify(name)}")
        except ModelError as exc:
            refused += 1
            typer.echo(f"refused  {name}: {exc}")
    if refused:
        raise typer.Exit(2)


@models_app.command()
def convert(version: Annotated[str, typer.Argument(help="The pickled version to convert.")],
            allow_pickle: Annotated[bool, typer.Option(
                "--allow-pickle", help="Read the pickle, which runs any code it holds: only for a version "
                                       "whose origin you trust.")] = False) -> None:
    """Rewrite a version saved as a pickle (model.pickle, model.joblib) as a signed model.npz, in place and
    with the same probabilities, so that it loads without TRIAGE_ALLOW_PICKLED_MODELS.

    Signs with TRIAGE_SIGNING_KEY. Unpickling runs code: pass --allow-pickle only for a version you (or
    your team) trained, on a copy nobody else could write.
    """
    settings = get_settings()
    if not (allow_pickle or settings.allow_pickled_models):
        fail(f"converting {version} reads its pickle, which runs any code it holds: pass --allow-pickle if you "
             "trust where it came from.")
    registry = ModelRegistry.for_settings(settings)
    info = registry.convert(version)
    typer.echo(f"converted {version}: {info.path / ARTEFACT} (sha256 {info.metadata['sha256'][:12]}), "
               f"signed by {registry.verify(version)}")


@models_app.command()
def keygen(path: Annotated[Path, typer.Argument(
               help="The private key file to create (the public key goes to PATH.pub).")],
           comment: Annotated[str, typer.Option(
               "--comment", help="Names the key in its public line (default: triage@HOST).")] = "") -> None:
    """Create the Ed25519 key pair that signs the models this machine trains, retrains and converts.

    Written readable by its owner only, outside the models directory. Set TRIAGE_SIGNING_KEY=PATH where
    models are made; where models are served by another machine, add the line of PATH.pub to the file named
    by TRIAGE_TRUSTED_KEYS.
    """
    from triage.signing import generate_key

    settings = get_settings()
    if path.resolve().is_relative_to(Path(settings.models_dir).resolve()):
        fail(f"{path} is inside the models directory {settings.models_dir}: whoever can write models could "
             "replace the key. Choose a path outside it.")
    line = generate_key(path, comment or f"triage@{socket.gethostname()}")
    typer.echo(f"private key: {path.resolve()} (set TRIAGE_SIGNING_KEY to it where models are made; keep it "
               "secret)")
    typer.echo(f"public key:  {path.resolve()}.pub (add this line to the TRIAGE_TRUSTED_KEYS file where models "
               "are served):")
    typer.echo(line)


def _comparison(report: dict) -> str:
    rows = [f"  {'split':<10} {'head':<18} {'metric':<9} {'challenger':>10} {'champion':>9} {'change':>8}"]
    challenger, champion = report["metrics"]["challenger"], report["metrics"].get("champion") or {}
    for split in ("recent", "seed_test"):
        mine, theirs = challenger.get(split), champion.get(split)
        if mine is None:
            continue
        for head in HEADS:
            for metric in ("accuracy", "macro_f1"):
                other = f"{theirs[head][metric]:>9.4f}" if theirs else f"{'-':>9}"
                change = f"{mine[head][metric] - theirs[head][metric]:>+8.4f}" if theirs else f"{'-':>8}"
                rows.append(f"  {split:<10} {head:<18} {metric:<9} {mine[head][metric]:>10.4f} {other} "
                            f"{change}")
    return "\n".join(rows)
