"""Evaluation maths on cases small enough to work out by hand."""

import numpy as np
import pytest

from triage.evaluate import accuracy, expected_calibration_error, head_report, macro_f1, top_k_accuracy
from triage.model import choose_threshold

TRUE = ["a", "a", "b", "c"]
PRED = ["a", "b", "b", "b"]


def test_accuracy():
    assert accuracy(TRUE, PRED) == 0.5


def test_macro_f1_by_hand():
    # a: tp1 fp0 fn1 -> 2/3; b: tp1 fp2 fn0 -> 2/4; c: tp0 -> 0. Mean = (2/3 + 1/2 + 0) / 3
    assert macro_f1(TRUE, PRED) == pytest.approx((2 / 3 + 0.5 + 0) / 3)


def test_top_k_accuracy_by_hand():
    classes = ["a", "b", "c"]
    proba = np.array([[0.6, 0.3, 0.1],   # a first -> top1 hit
                      [0.2, 0.7, 0.1],   # a second -> top2 hit
                      [0.1, 0.2, 0.7],   # b second
                      [0.5, 0.4, 0.1]])  # c last -> top2 miss
    assert top_k_accuracy(["a", "a", "b", "c"], proba, classes, k=1) == 0.25
    assert top_k_accuracy(["a", "a", "b", "c"], proba, classes, k=2) == 0.75
    assert top_k_accuracy(["a", "a", "b", "c"], proba, classes, k=3) == 1.0


def test_ece_by_hand():
    # bin (0.8, 0.9]: confidences 0.9, 0.9, accuracy 1/2 -> gap 0.4, weight 2/4
    # bin (0.5, 0.6]: confidences 0.6, 0.6, accuracy 1   -> gap 0.4, weight 2/4
    confidence = np.array([0.9, 0.9, 0.6, 0.6])
    correct = np.array([1, 0, 1, 1])
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.4)
    assert expected_calibration_error(np.array([0.75, 0.75, 0.75, 0.75]), np.array([1, 1, 1, 0])) == pytest.approx(0)


def test_threshold_is_the_lowest_that_keeps_accepted_precision():
    confidence = np.array([0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([1, 1, 1, 0, 1])
    assert choose_threshold(confidence, correct, 0.99) == 0.8    # top three all right
    assert choose_threshold(confidence, correct, 0.8) == 0.6     # 4 of 5 right
    assert choose_threshold(confidence, np.zeros(5), 0.5) > 1    # nothing good enough: review all


def test_threshold_at_real_frequencies_counts_each_complaint_with_its_codes_weight():
    # The wrong prediction at 0.7 is of a code the channel sees 4x less often than the corpus holds it:
    # at real frequencies, accepting down to 0.6 is right 4.0 / 4.25 = 94% of the time.
    confidence = np.array([0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([1, 1, 1, 0, 1])
    weights = np.array([1, 1, 1, 0.25, 1])
    assert choose_threshold(confidence, correct, 0.9) == 0.8
    assert choose_threshold(confidence, correct, 0.9, weights) == 0.6


def test_head_report_counts_coverage_and_accuracy_of_unflagged():
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.55, 0.45]])
    report = head_report(["a", "b", "b", "a"], proba, ["a", "b"], threshold=0.7)
    assert report["accuracy"] == 0.75
    assert report["coverage"] == 0.5           # 0.9 and 0.8 are accepted
    assert report["accuracy_not_flagged"] == 0.5
