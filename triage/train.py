"""Train a model on a deployment's seed corpus, evaluate it on the held-out split and save it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from triage.dataset import LabelledSet, corpus_paths, file_sha256, read_corpus
from triage.evaluate import evaluate
from triage.features import ComplaintFeatures
from triage.model import TriageModel
from triage.priors import prior_weights
from triage.registry import ModelInfo, ModelRegistry
from triage.taxonomy import Taxonomy

OWN_CORPUS_WEIGHT = 4.0
"""Weight of the deployment's own corpus (Kukar's for kukar) beside the national corpus every pemda shares:
its own bodies' remits, as its handlers route them, count for more in its model."""


def build_model(taxonomy: Taxonomy, **params) -> TriageModel:
    """An unfitted model configured for ``taxonomy`` (protected words, SMS prefix)."""
    features = ComplaintFeatures(protected=tuple(sorted(taxonomy.protected_words())),
                                 sms_prefixes=(taxonomy.code,))
    return TriageModel(features=features, **params)


def corpus_files(data_dir: str | Path, taxonomy: Taxonomy) -> tuple[Path, Path]:
    """``train.jsonl`` and ``test.jsonl`` of ``taxonomy`` under ``data_dir``."""
    folder = Path(data_dir)
    if (folder / taxonomy.code / "train.jsonl").is_file():
        folder = folder / taxonomy.code
    return folder / "train.jsonl", folder / "test.jsonl"


def train(data_dir: str | Path, taxonomy: Taxonomy, registry: ModelRegistry, *, version: str | None = None,
          extra: LabelledSet | None = None) -> tuple[TriageModel, ModelInfo]:
    """Fit on ``train.jsonl`` (plus ``extra``), evaluate on ``test.jsonl``, save to ``registry`` (signed:
    refused before any work if the registry has no signing key)."""
    registry.require_signing_key()
    train_set = read_corpus(data_dir, taxonomy, "train")
    test_set = read_corpus(data_dir, taxonomy, "test")
    if extra is not None:
        train_set = LabelledSet.concat([train_set, extra])
    model = build_model(taxonomy)
    started = time.perf_counter()
    own = np.array([e.get("corpus") == taxonomy.code for e in train_set.extra], dtype=bool)
    weights = np.where(own, OWN_CORPUS_WEIGHT, 1.0) if own.any() and not own.all() else None
    priors = (prior_weights(train_set.labels["category"], taxonomy, sample_weight=weights,
                            balanced=model.class_weight == "balanced") if taxonomy.national else None)
    model.fit(train_set.texts, train_set.y(), sample_weight=weights, threshold_rows=own if weights is not None else None,
              category_priors=priors)
    seconds = time.perf_counter() - started
    metrics = evaluate(model, test_set)
    metadata = {
        "training_data_sha256": file_sha256(*corpus_paths(data_dir, taxonomy, "train")),
        "n_train": len(train_set),
        "training_seconds": round(seconds, 1),
        "metrics": {"test": metrics},
        "thresholds": {h: round(t, 4) for h, t in model.thresholds_.items()},
    }
    if priors:
        metadata["category_priors"] = priors
    info = registry.save(model, deployment=taxonomy, metadata=metadata, version=version)
    return model, info
