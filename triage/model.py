"""Step 4: the three-headed classifier.

:class:`TriageModel` is one scikit-learn estimator: a shared :class:`~triage.features.ComplaintFeatures`
pass feeds three linear heads (category, opd, maladministration), each a ``LinearSVC`` whose scores are
calibrated into probabilities by temperature scaling (one softmax temperature per head, fitted on
cross-validated scores, so the confidence of a suggestion means what it says: among suggestions at 0.8,
about 80% are right). On top of the
probabilities it learns, per head, a confidence threshold under which a suggestion ``needs_review``: the
lowest threshold at which the suggestions it lets through were right at least ``target_precision`` of the
time on held-out (out-of-fold) predictions of the training data.

``y`` is an array of shape ``(n, 3)`` holding the codes of the three heads in :data:`HEADS` order.

Once fitted, it predicts through a :class:`~triage.predict.Predictor`: the same model reduced to its arrays,
which :meth:`TriageModel.predictor` gives and the registry saves, loaded without scikit-learn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from triage.features import ComplaintFeatures
from triage.predict import HeadScoring, Predictor
from triage.priors import adjust
from triage.taxonomy import HEADS
from triage.vectorise import FittedFeatures

DEFAULT_TARGET_PRECISION: dict[str, float] = {"category": 0.95, "opd": 0.97, "maladministration": 0.85}
"""Precision each head's review threshold is chosen for on out-of-fold predictions of the pemda's own complaints:
the OPD's is issue 3's "97% right when not flagged" (it was 0.98 while the seed's texts named their body and were
easier than real ones; since issue 15 they are written as people write)."""


class TriageModel(ClassifierMixin, BaseEstimator):
    """Predict category, OPD and maladministration form of complaint texts.

    Parameters
    ----------
    features:
        The feature transformer; cloned in ``fit``. ``None`` uses ``ComplaintFeatures()``.
    C:
        Inverse regularisation strength of each head's ``LinearSVC``.
    class_weight:
        ``"balanced"`` weighs codes inversely to their frequency (rare maladministration forms count as
        much as common ones: +0.01 macro-F1 in cross-validation on the seed corpus), or ``None``.
    target_precision:
        Per head, the share of suggestions *not* flagged ``needs_review`` that should be right.
    cv:
        Folds for calibration and for the out-of-fold predictions thresholds are chosen on.
    random_state:
        Seed of the fold split.
    """

    def __init__(self, features: ComplaintFeatures | None = None, C: float = 0.5,
                 class_weight: str | None = "balanced", target_precision: Mapping[str, float] | None = None, cv: int = 3,
                 random_state: int = 0) -> None:
        self.features = features
        self.C = C
        self.class_weight = class_weight
        self.target_precision = target_precision
        self.cv = cv
        self.random_state = random_state

    def fit(self, texts: Sequence[str], y: np.ndarray, sample_weight: np.ndarray | None = None,
            threshold_rows: np.ndarray | None = None,
            category_priors: Mapping[str, float] | None = None) -> TriageModel:
        """Fit the features, the three heads and their review thresholds.

        ``sample_weight`` (optional, one non-negative weight per text) weighs complaints in the heads' loss
        (retraining counts handlers' decisions more than seed complaints); the features and the review
        thresholds do not use it. ``threshold_rows`` (optional boolean mask) chooses the review thresholds on
        those complaints' out-of-fold predictions only: the deployment's own complaints, whose mix is the one
        its handlers will see (default: all). ``category_priors`` (optional, :func:`triage.priors.prior_weights`)
        chooses the category head's threshold at the frequencies it will serve at: its out-of-fold probabilities
        put at those frequencies (:func:`triage.priors.adjust`, as suggestions are) and each complaint counted
        with its code's weight (a calibration set at real frequencies, not at the corpus's balance).
        """
        y = np.asarray(y, dtype=object)
        if y.ndim != 2 or y.shape[1] != len(HEADS) or y.shape[0] != len(texts):
            raise ValueError(f"y must have shape (n_texts, {len(HEADS)}) with columns {HEADS}; got shape "
                             f"{y.shape} for {len(texts)} texts.")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=float)
            if sample_weight.shape != (len(texts),) or (sample_weight < 0).any():
                raise ValueError(f"sample_weight must hold one non-negative weight per text; got shape "
                                 f"{sample_weight.shape} for {len(texts)} texts.")
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        targets = {**DEFAULT_TARGET_PRECISION, **(self.target_precision or {})}
        for h, head in enumerate(HEADS):
            rare = [f"{code} ({n})" for code, n in Counter(y[:, h]).items() if n < self.cv]
            if rare:
                raise ValueError(f"Head '{head}': every code needs at least cv={self.cv} examples to be "
                                 f"learned; these have fewer: {', '.join(sorted(rare))}. Add examples or "
                                 "leave these codes out of training.")
        self.__dict__.pop("_predicting", None)  # the predictor of an earlier fit
        self.features_ = clone(self.features) if self.features is not None else ComplaintFeatures()
        X = self.features_.fit_transform(texts)
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        self.heads_: dict[str, CalibratedClassifierCV] = {}
        self.thresholds_: dict[str, float] = {}
        self.classes_: dict[str, np.ndarray] = {}
        for h, head in enumerate(HEADS):
            labels = y[:, h].astype(str)
            estimator = CalibratedClassifierCV(LinearSVC(C=self.C, class_weight=self.class_weight), method="temperature", cv=folds,
                                               ensemble=False)
            oof = cross_val_predict(clone(estimator), X, labels, cv=folds, method="predict_proba", params=fit_params)
            classes = np.unique(labels)
            rows = np.ones(len(labels), dtype=bool) if threshold_rows is None else np.asarray(threshold_rows, bool)
            weights = None
            if head == "category" and category_priors:
                oof = adjust(oof, classes, category_priors)
                weights = np.array([category_priors.get(code, 1.0) for code in labels[rows]])
            self.thresholds_[head] = choose_threshold(oof[rows].max(axis=1),
                                                      classes[oof[rows].argmax(axis=1)] == labels[rows], targets[head],
                                                      weights)
            self.heads_[head] = estimator.fit(X, labels, **fit_params)
            _shrink(self.heads_[head])
            self.classes_[head] = self.heads_[head].classes_
        return self

    def predict_proba(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """Per head, an array ``(n_texts, n_codes)`` of probabilities; columns follow ``classes_[head]``."""
        return self._predictor().predict_proba(texts)

    def proba_from_features(self, X) -> dict[str, np.ndarray]:
        """Like :meth:`predict_proba`, from an already computed feature matrix."""
        return self._predictor().proba_from_features(X)

    def predict(self, texts: Iterable[str]) -> np.ndarray:
        """Codes, shape ``(n_texts, 3)`` in :data:`HEADS` order."""
        return self._predictor().predict(texts)

    def score(self, texts: Sequence[str], y: np.ndarray, sample_weight: object = None) -> float:
        """Mean accuracy over the three heads (what model-selection tools maximise)."""
        predicted = self.predict(texts)
        return float(np.mean(predicted == np.asarray(y, dtype=object)))

    def term_weights(self, head: str, code: str) -> np.ndarray:
        """Weights of the word-block features for ``code`` on ``head`` (for explanations)."""
        return self._predictor().term_weights(head, code)

    def predictor(self) -> Predictor:
        """The fitted model reduced to what predicts, free of scikit-learn: what the registry saves."""
        check_is_fitted(self, "heads_")
        return _predictor(FittedFeatures.of(self.features_), self.heads_, self.classes_, self.thresholds_)

    def _predictor(self) -> Predictor:
        """The :class:`Predictor` this model predicts with, made once (it shares ``features_`` and its
        per-word caches)."""
        check_is_fitted(self, "heads_")
        made = self.__dict__.get("_predicting")
        if made is None or made.features_ is not self.features_:  # made anew if features_ was replaced
            made = self._predicting = _predictor(self.features_, self.heads_, self.classes_, self.thresholds_)
        return made

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_predicting", None)  # made again after loading
        return state


def _predictor(features: FittedFeatures, heads: Mapping[str, CalibratedClassifierCV],
               classes: Mapping[str, np.ndarray], thresholds: Mapping[str, float]) -> Predictor:
    """The heads' weights side by side in one matrix, with each head's columns, intercepts and temperature
    (what :meth:`TriageModel.fit` makes: one temperature-calibrated ``LinearSVC`` per head)."""
    blocks, scoring, start = [], {}, 0
    for head, calibrated in heads.items():
        members = calibrated.calibrated_classifiers_
        if len(members) != 1 or members[0].method != "temperature" or len(members[0].calibrators) != 1:
            raise ValueError(f"Head '{head}' is not one temperature-calibrated linear classifier; a Predictor "
                             "needs the heads TriageModel.fit makes. Retrain the model with this triage.")
        svc, temperature = members[0].estimator, members[0].calibrators[0]
        blocks.append(svc.coef_.T)
        end = start + svc.coef_.shape[0]
        scoring[head] = HeadScoring(start, end, svc.intercept_, temperature.beta_, binary=svc.coef_.shape[0] == 1)
        start = end
    return Predictor(features, np.ascontiguousarray(np.hstack(blocks)), scoring, classes, thresholds)


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, target: float,
                     weights: np.ndarray | None = None) -> float:
    """The lowest confidence threshold whose accepted predictions are right at least ``target`` of the time
    (each prediction counted with its ``weight``, default 1).

    Predictions with ``confidence >= threshold`` are accepted. If no threshold reaches ``target``,
    returns a threshold above 1 (everything needs review).
    """
    order = np.argsort(-confidence, kind="stable")
    conf, ok = confidence[order], correct[order].astype(float)
    w = np.ones(len(ok)) if weights is None else np.asarray(weights, dtype=float)[order]
    precision = np.cumsum(ok * w) / np.maximum(np.cumsum(w), 1e-12)
    # Accepting the k most confident is only possible at a cut between distinct confidences.
    distinct = np.append(conf[1:] < conf[:-1], True)
    good = np.flatnonzero((precision >= target) & distinct)
    if len(good) == 0:
        return 1.01
    return float(conf[good[-1]])


def _shrink(calibrated: CalibratedClassifierCV) -> None:
    """Keep the heads' weights in float32, like the features: half the artefact size, products with the
    float32 feature matrix at float32 speed (float64 weights would make scipy copy the matrix to float64 on
    every prediction), same decisions to 6 digits."""
    for member in calibrated.calibrated_classifiers_:
        member.estimator.coef_ = member.estimator.coef_.astype(np.float32)
