"""``triage train``, ``triage evaluate`` and ``triage suggest``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from triage.cli import app, fail
from triage.dataset import read_jsonl, read_national
from triage.evaluate import evaluate as evaluate_model
from triage.registry import ModelRegistry
from triage.settings import get_settings
from triage.suggest import Suggester, text_problem
from triage.taxonomy import HEADS, load_taxonomy

Deployment = Annotated[Optional[str], typer.Option("--deployment", help="Deployment name or taxonomy YAML path.")]
Version = Annotated[Optional[str], typer.Option("--model", help="Model version (default: the serving one).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")]


@app.command()
def train(data: Annotated[Optional[Path], typer.Option("--data", help="Folder with train.jsonl and test.jsonl.")] = None,
          deployment: Deployment = None,
          version: Annotated[Optional[str], typer.Option("--version", help="Name of the new model version.")] = None,
          promote: Annotated[bool, typer.Option("--promote/--no-promote", help="Serve the new model.")] = False,
          as_json: AsJson = False) -> None:
    """Train a model on a seed corpus, evaluate it on its test split and save it in the registry, signed with
    TRIAGE_SIGNING_KEY (see `triage models keygen`)."""
    from triage.train import train as train_model  # scikit-learn: only training needs it

    settings = get_settings()
    taxonomy = load_taxonomy(deployment or settings.deployment)
    registry = ModelRegistry.for_settings(settings)
    _, info = train_model(data or settings.training_data_dir, taxonomy, registry, version=version)
    if promote:
        registry.promote(info.version)
    metrics = info.metadata["metrics"]["test"]
    if as_json:
        typer.echo(json.dumps({"version": info.version, "path": str(info.path), "metrics": metrics}, indent=2))
        return
    typer.echo(f"saved model {info.version} in {info.path}{' (promoted)' if promote else ''}")
    typer.echo(_metrics_table(metrics))


@app.command()
def evaluate(data: Annotated[Path, typer.Option("--data", help="Labelled JSONL file (text plus any heads).")],
             deployment: Deployment = None, model: Version = None, as_json: AsJson = False) -> None:
    """Evaluate the model on a labelled file, on the heads the file carries."""
    settings = get_settings()
    suggester = Suggester.from_registry(settings.models_dir, deployment or settings.deployment, model)
    taxonomy = suggester.taxonomy
    labelled = read_national(data, taxonomy) if taxonomy.national else read_jsonl(data, taxonomy)
    if not labelled.heads:
        fail(f"{data}: no labels to evaluate against. Each line needs the code of at least one head "
             f"({', '.join(HEADS)}) besides 'text'.")
    model = suggester.model
    if taxonomy.national and "opd" in labelled.labels:  # judged on the bodies a handler sees
        from triage.route import RoutedModel

        model = RoutedModel(model, suggester.router, learned=suggester.opd_learned, priors=suggester.priors)
        labelled.labels["opd"] = model.expected_bodies(labelled.texts, labelled.labels["opd"])
    report = evaluate_model(model, labelled)
    report["model_version"] = suggester.version
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        typer.echo(f"model {suggester.version} on {data} ({report['n']} complaints)")
        typer.echo(_metrics_table(report))


@app.command()
def suggest(text: Annotated[Optional[str], typer.Argument(help="Complaint text; read from stdin if omitted.")] = None,
            deployment: Deployment = None, model: Version = None, as_json: AsJson = False) -> None:
    """Suggest category, OPD and maladministration form for one complaint."""
    if text is None:
        if sys.stdin.isatty():
            fail("give the complaint text as an argument or on stdin.")
        text = sys.stdin.read()
    problem = text_problem(text)
    if problem is not None:
        fail(f"the complaint {problem}; give the words of the complaint.")
    settings = get_settings()
    suggester = Suggester.from_registry(settings.models_dir, deployment or settings.deployment, model)
    suggestion = suggester.suggest(text)
    if as_json:
        typer.echo(json.dumps(suggestion.to_dict(), indent=2, ensure_ascii=False))
        return
    typer.echo(f"model {suggestion.model_version}{'  [needs review]' if suggestion.needs_review else ''}")
    for head in HEADS:
        h = suggestion.head(head)
        alts = ", ".join(f"{a.code} {confidence_text(a.confidence)}" for a in h.alternatives[1:])
        flag = " (review)" if h.needs_review else ""
        typer.echo(f"  {head:<18} {h.code:<24} {confidence_text(h.confidence):>5}{flag}   also: {alts}")
    opd = suggestion.opd
    if opd.forward_text:  # Indonesian on a line of its own: what the handler acts on
        typer.echo(f"  {opd.forward_text}")
    if opd.review_code:
        typer.echo(f"  opd needs review: {_REVIEW_REASONS[opd.review_code]}")
    where = suggestion.where
    if where is not None and (where.kecamatan or where.village):
        typer.echo("  where: " + ", ".join(p.name for p in (where.kecamatan, where.village) if p is not None))
    typer.echo(f"  opd routing: {suggestion.routing}")
    terms = ", ".join(t.term for t in suggestion.explanation.get("opd" if suggestion.routing == "learned" else
                                                                  "category", []))
    if terms:
        typer.echo(f"  why ({'opd' if suggestion.routing == 'learned' else 'category'}): {terms}")


_REVIEW_REASONS = {"shared": "several bodies carry this function and the text names none of them",
                   "place": "a territorial matter, but no kecamatan or kelurahan/desa of the deployment is named",
                   "not_carried": "the pemda has no body for this function; choose where to send it"}


def confidence_text(confidence: float) -> str:
    """A confidence as a person reads it: two decimals, but never a certainty the model does not have
    (``0.9996`` -> ``>0.99``, ``0.003`` -> ``<0.01``)."""
    if confidence >= 0.995:
        return ">0.99"
    if confidence < 0.005:
        return "<0.01"
    return f"{confidence:.2f}"


def _metrics_table(report: dict) -> str:
    rows = [f"  {'head':<18} {'acc':>6} {'macroF1':>8} {'top3':>6} {'ECE':>6} {'covered':>8} {'acc(cov)':>9}"]
    for head in HEADS:
        m = report.get(head)
        if m:
            acc_cov = "-" if m["accuracy_not_flagged"] is None else f"{m['accuracy_not_flagged']:.3f}"
            rows.append(f"  {head:<18} {m['accuracy']:>6.3f} {m['macro_f1']:>8.3f} {m['top3_accuracy']:>6.3f} "
                        f"{m['ece']:>6.3f} {m['coverage']:>8.3f} {acc_cov:>9}")
    return "\n".join(rows)
