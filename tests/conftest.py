"""Fixtures shared by every test tier.

* ``taxonomy``: the kukar deployment.
* ``shipped``: the shipped model, loaded once (model-tier tests read its behaviour).
* ``small_corpus``: a stratified slice of the seed training split, for tests that train their own model.
* ``shared_dir``: ../shared when present (real corpora); tests needing it skip cleanly without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from triage.dataset import LabelledSet, read_jsonl
from triage.settings import PROJECT_ROOT
from triage.suggest import Suggester
from triage.taxonomy import load_taxonomy

TRAINING_DIR = PROJECT_ROOT / "training_data" / "kukar"
SHIPPED_MODELS = PROJECT_ROOT / "models"


@pytest.fixture(scope="session")
def taxonomy():
    return load_taxonomy("kukar")


@pytest.fixture(scope="session")
def shipped(taxonomy) -> Suggester:
    return Suggester.from_registry(SHIPPED_MODELS, "kukar", "kukar-seed")


@pytest.fixture(scope="session")
def train_set(taxonomy) -> LabelledSet:
    return read_jsonl(TRAINING_DIR / "train.jsonl", taxonomy)


@pytest.fixture(scope="session")
def test_set(taxonomy) -> LabelledSet:
    return read_jsonl(TRAINING_DIR / "test.jsonl", taxonomy)


@pytest.fixture(scope="session")
def small_corpus(train_set) -> LabelledSet:
    """Up to 12 complaints per OPD: every OPD, quick to train on."""
    per_opd: dict[str, int] = {}
    keep = []
    for i, opd in enumerate(train_set.labels["opd"]):
        if per_opd.get(opd, 0) < 12:
            per_opd[opd] = per_opd.get(opd, 0) + 1
            keep.append(i)
    return LabelledSet(texts=[train_set.texts[i] for i in keep],
                       labels={h: [v[i] for i in keep] for h, v in train_set.labels.items()},
                       ids=[train_set.ids[i] for i in keep])


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = Path(os.environ.get("TRIAGE_SHARED_DIR", PROJECT_ROOT.parent / "shared"))
    if not (path / "corpora").is_dir():
        pytest.skip(f"shared corpora not found at {path}; real-data tests need ../shared/corpora")
    return path


def learnable(data: LabelledSet, cv: int = 3) -> LabelledSet:
    """``data`` without complaints carrying a code seen fewer than ``cv`` times on any head."""
    from collections import Counter

    keep = list(range(len(data)))
    while True:
        counts = {h: Counter(data.labels[h][i] for i in keep) for h in data.labels}
        kept = [i for i in keep if all(counts[h][data.labels[h][i]] >= cv for h in data.labels)]
        if kept == keep:
            break
        keep = kept
    return LabelledSet(texts=[data.texts[i] for i in keep],
                       labels={h: [v[i] for i in keep] for h, v in data.labels.items()},
                       ids=[data.ids[i] for i in keep])


@pytest.fixture(scope="session")
def learnable_corpus(small_corpus) -> LabelledSet:
    """``small_corpus`` less complaints whose codes are too rare to learn with cv=3."""
    return learnable(small_corpus)


@pytest.fixture(scope="session")
def tiny_model(learnable_corpus, taxonomy):
    """A model fitted in about a second on ``learnable_corpus``: for artefact and CLI mechanics, not quality."""
    from triage.train import build_model

    return build_model(taxonomy).fit(learnable_corpus.texts, learnable_corpus.y())
