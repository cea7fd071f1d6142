"""The gate: a challenger is promoted only when it is not worse than the champion beyond the tolerance on any
head, on the recent decisions and on the seed test split; chance differences on a small hold-out do not
count against it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from triage.dataset import LabelledSet
from triage.evaluate import accuracy, macro_f1
from triage.registry import ModelRegistry
from triage.retrain import compare, gate, paired_deltas, run_retrain
from triage.settings import PROJECT_ROOT
from triage.taxonomy import HEADS

CODES = np.array(["dinkes", "dishub", "pdam", "perkim"], dtype=object)


def predictions(true: np.ndarray, wrong: int, rng: np.random.Generator) -> np.ndarray:
    """``true`` with ``wrong`` of its codes replaced by another code."""
    predicted = true.copy()
    for i in rng.choice(len(true), size=wrong, replace=False):
        predicted[i] = CODES[(list(CODES).index(true[i]) + 1) % len(CODES)]
    return predicted


def checks_for(n: int, challenger_wrong: int, champion_wrong: int, confidence: float, tolerance: float = 0.01):
    rng = np.random.default_rng(1)
    true = CODES[rng.integers(0, len(CODES), n)]
    mine, theirs = predictions(true, challenger_wrong, rng), predictions(true, champion_wrong, rng)
    labelled = LabelledSet(texts=["x"] * n, labels={h: list(true) for h in HEADS})
    report = lambda p: {h: {"accuracy": accuracy(true, p), "macro_f1": macro_f1(true, p)} for h in HEADS}  # noqa: E731
    both = np.column_stack([mine] * 3), np.column_stack([theirs] * 3)
    return compare("recent", labelled, *both, (report(mine), report(theirs)), tolerance=tolerance,
                   confidence=confidence)


def test_the_bootstrap_measures_the_same_figures_as_the_evaluation():
    rng = np.random.default_rng(0)
    true = CODES[rng.integers(0, len(CODES), 300)]
    mine, theirs = predictions(true, 30, rng), predictions(true, 10, rng)

    deltas = paired_deltas(true, mine, theirs, resamples=2000)

    assert np.mean(deltas["accuracy"]) == pytest.approx(accuracy(true, mine) - accuracy(true, theirs), abs=0.005)
    assert np.mean(deltas["macro_f1"]) == pytest.approx(macro_f1(true, mine) - macro_f1(true, theirs), abs=0.01)


def test_two_unlucky_complaints_in_eighty_do_not_reject_a_challenger():
    checks = checks_for(80, challenger_wrong=2, champion_wrong=0, confidence=0.95)
    assert gate(checks).passed


def test_comparing_the_figures_alone_would_have_rejected_it():
    checks = checks_for(80, challenger_wrong=2, champion_wrong=0, confidence=0)
    verdict = gate(checks)
    assert not verdict.passed
    assert "category accuracy on the recent decisions: 0.9750 against the champion's 1.0000" in verdict.reasons[0]


def test_a_real_regression_is_rejected_with_the_reason_per_head_and_metric():
    checks = checks_for(400, challenger_wrong=40, champion_wrong=4, confidence=0.95)
    verdict = gate(checks)
    assert not verdict.passed
    assert len(verdict.reasons) == 6  # three heads, accuracy and macro-F1
    assert all("worse by more than the tolerance 0.010" in r for r in verdict.reasons)


def test_without_a_champion_the_gate_passes_and_says_why():
    verdict = gate(None)
    assert verdict.passed and "no champion" in verdict.reasons[0]


def test_a_champion_trained_on_another_version_of_the_seed_corpus_is_not_compared_on_its_test_split(
        tmp_path, retrain_settings, small_corpus_dir):
    # The shipped model was trained on an earlier assembly of the corpus, whose test split differs.
    models = tmp_path / "shipped"
    shutil.copytree(PROJECT_ROOT / "models" / "kukar-seed", models / "kukar-seed")
    settings = retrain_settings(models, small_corpus_dir)

    result = run_retrain(settings, dry_run=True)

    assert result.report["metrics"]["champion"]["seed_test"] is None
    assert any("another version of the seed corpus" in note for note in result.report["notes"])
    assert result.verdict.passed and "nothing to compare on" in result.verdict.reasons[0]
    assert ModelRegistry(settings.models_dir).current_version() == "kukar-seed"
