"""Measure a model on held-out labelled complaints: per head accuracy, macro-F1, top-k accuracy and
calibration (expected calibration error), and how the ``needs_review`` flag trades coverage for accuracy.

All figures are computed here in plain numpy so that a test can check them on a case worked by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from triage.dataset import LabelledSet
from triage.taxonomy import HEADS


def accuracy(true: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of predictions equal to the truth."""
    true, predicted = np.asarray(true, dtype=object), np.asarray(predicted, dtype=object)
    return float(np.mean(true == predicted)) if len(true) else 0.0


def macro_f1(true: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean of per-code F1 over the codes present in ``true`` or ``predicted``.

    A code never predicted has precision 0 by convention (so F1 0), as in scikit-learn with
    ``zero_division=0``.
    """
    true, predicted = np.asarray(true, dtype=object), np.asarray(predicted, dtype=object)
    scores = []
    for code in sorted(set(true) | set(predicted)):
        tp = np.sum((predicted == code) & (true == code))
        fp = np.sum((predicted == code) & (true != code))
        fn = np.sum((predicted != code) & (true == code))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else 0.0


def top_k_accuracy(true: Sequence[str], proba: np.ndarray, classes: Sequence[str], k: int = 3) -> float:
    """Share of complaints whose true code is among the ``k`` most probable."""
    classes = np.asarray(classes, dtype=object)
    top = classes[np.argsort(-proba, axis=1, kind="stable")[:, :k]]
    return float(np.mean([t in row for t, row in zip(true, top)])) if len(true) else 0.0


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """ECE: over equal-width confidence bins, the gap between confidence and accuracy, weighted by size.

    Bin ``b`` holds confidences in ``(b/bins, (b+1)/bins]`` (the first also takes 0).
    """
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    if len(confidence) == 0:
        return 0.0
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(ece)


def head_report(true: Sequence[str], proba: np.ndarray, classes: Sequence[str], threshold: float) -> dict:
    """All figures of one head, as reported by ``triage evaluate``."""
    classes = np.asarray(classes, dtype=object)
    predicted = classes[proba.argmax(axis=1)]
    confidence = proba.max(axis=1)
    correct = predicted == np.asarray(true, dtype=object)
    accepted = confidence >= threshold
    return {
        "accuracy": round(accuracy(true, predicted), 4),
        "macro_f1": round(macro_f1(true, predicted), 4),
        "top3_accuracy": round(top_k_accuracy(true, proba, classes, 3), 4),
        "ece": round(expected_calibration_error(confidence, correct), 4),
        "review_threshold": round(float(threshold), 4),
        "coverage": round(float(accepted.mean()), 4),
        "accuracy_not_flagged": round(float(correct[accepted].mean()), 4) if accepted.any() else None,
    }


def evaluate(model, data: LabelledSet) -> dict:
    """Evaluate ``model`` (a fitted :class:`~triage.model.TriageModel`) on the heads ``data`` carries.

    Returns ``{"n": ..., "<head>": {...}, "review": {...}}`` where ``review`` is the share of complaints
    with no flagged head among those evaluated, and their accuracy on every evaluated head.
    """
    proba = model.predict_proba(data.texts)
    report: dict = {"n": len(data)}
    all_ok = np.ones(len(data), bool)
    all_accepted = np.ones(len(data), bool)
    for head in HEADS:
        if head not in data.labels:
            continue
        classes = model.classes_[head]
        report[head] = head_report(data.labels[head], proba[head], classes, model.thresholds_[head])
        all_ok &= classes[proba[head].argmax(axis=1)] == np.asarray(data.labels[head], dtype=object)
        all_accepted &= proba[head].max(axis=1) >= model.thresholds_[head]
    report["review"] = {
        "coverage": round(float(all_accepted.mean()), 4) if len(data) else 0.0,
        "accuracy_not_flagged": round(float(all_ok[all_accepted].mean()), 4) if all_accepted.any() else None,
    }
    return report
