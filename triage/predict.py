"""Step 4, applied: probabilities of every code of the three heads, from a fitted model's arrays.

A :class:`Predictor` is a fitted :class:`~triage.model.TriageModel` reduced to what predicting needs: its
:class:`~triage.vectorise.FittedFeatures`, one weight matrix with every head's codes side by side, and per
head its intercepts and softmax temperature, its codes and its review threshold. It is what the model
registry saves and loads, and what :class:`~triage.model.TriageModel` itself predicts with: one code path.

It needs NumPy and SciPy's sparse matrices, not scikit-learn: loading a model takes 0.01 s, and what
only predicts (``triage batch``, ``suggest``, ``evaluate``, the API's workers) starts without importing
scikit-learn and SciPy's statistics, about a second sooner and with half the memory. The probabilities are
scikit-learn's to the last bit (a test holds them to ``CalibratedClassifierCV.predict_proba``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np

from triage.taxonomy import HEADS
from triage.vectorise import FittedFeatures


class HeadScoring(NamedTuple):
    """Where one head's codes are in the weight matrix (columns ``start:end``), their intercepts, the
    head's inverse temperature ``beta``, and whether it is binary (one column: the second code's score,
    the first code's being its opposite)."""

    start: int
    end: int
    intercept: np.ndarray
    beta: float
    binary: bool


class Predictor:
    """Predict category, OPD and maladministration form of complaint texts with fitted weights.

    Attributes
    ----------
    features_:
        Turns texts into feature rows.
    weights_:
        ``(n_features, n_columns)``, float32: the linear heads' weights, every head's columns side by side.
    scoring_:
        Per head, its :class:`HeadScoring`.
    classes_:
        Per head, its codes, in the order of the probabilities' columns.
    thresholds_:
        Per head, the confidence under which a suggestion needs review.
    """

    def __init__(self, features: FittedFeatures, weights: np.ndarray, scoring: Mapping[str, HeadScoring],
                 classes: Mapping[str, np.ndarray], thresholds: Mapping[str, float]) -> None:
        self.features_ = features
        self.weights_ = weights
        self.scoring_ = dict(scoring)
        self.classes_ = dict(classes)
        self.thresholds_ = dict(thresholds)

    def predict_proba(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """Per head, an array ``(n_texts, n_codes)`` of probabilities; columns follow ``classes_[head]``."""
        return self.proba_from_features(self.features_.transform(texts))

    def proba_from_features(self, X) -> dict[str, np.ndarray]:
        """Like :meth:`predict_proba`, from an already computed feature matrix.

        One sparse product scores every head (one pass over ``X``), then each head's scores go through
        its temperature-scaled softmax, computed as scikit-learn's ``CalibratedClassifierCV`` does. (One
        difference: scikit-learn takes the log of scores that look like probabilities, every one in [0, 1]
        and each row summing to 1, which makes a text's confidence depend on the texts beside it; scores are
        taken as scores here.)
        """
        scores = X @ self.weights_
        proba = {}
        for head, (start, end, intercept, beta, binary) in self.scoring_.items():
            logits = scores[:, start:end] + intercept  # LinearSVC.decision_function
            if binary:
                logits = np.concatenate([-logits, logits], axis=1)
            p = beta * logits
            p -= p.max(axis=1).reshape(-1, 1)
            np.exp(p, out=p)
            p /= p.sum(axis=1).reshape(-1, 1)
            p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
            proba[head] = p
        return proba

    def predict(self, texts: Iterable[str]) -> np.ndarray:
        """Codes, shape ``(n_texts, 3)`` in :data:`~triage.taxonomy.HEADS` order."""
        proba = self.predict_proba(texts)
        return np.column_stack([self.classes_[h][proba[h].argmax(axis=1)] for h in HEADS])

    def term_weights(self, head: str, code: str) -> np.ndarray:
        """Weights of the word-block features for ``code`` on ``head`` (for explanations)."""
        start, _, _, _, binary = self.scoring_[head]
        found = np.flatnonzero(self.classes_[head] == code)
        if not len(found):
            raise KeyError(f"'{code}' is not a code the model predicts for head '{head}' "
                           f"(it knows: {', '.join(map(str, self.classes_[head]))}).")
        row = int(found[0])
        column = self.weights_[: self.features_.n_word_features, start + (0 if binary else row)]
        return -column if binary and row == 0 else column
