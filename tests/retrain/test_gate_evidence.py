"""The retraining gate judges each head on evidence: the champion's own suggestions, kept by a handler, are not.

Issue 18's case: handlers decided the OPD (often correcting it) and kept the other heads as suggested. The
champion then scores 1.0 on those heads by construction, and a challenger that routes far better was rejected.
"""

from __future__ import annotations

import numpy as np

from triage.dataset import LabelledSet
from triage.retrain import MIN_EVIDENCE, compare, evidence, gate
from triage.taxonomy import HEADS

CHAMPION = "kukar-20261201T000000000"


def decided(n: int, *, opd_truth, opd_suggested, malad_suggested, suggested_by=CHAMPION) -> LabelledSet:
    """``n`` decisions whose category and maladministration kept the suggestion and whose OPD is the truth."""
    extra = [{"suggested": {"category": "kesehatan", "opd": opd_suggested[i], "maladministration": malad_suggested[i]},
              "suggested_by": suggested_by} for i in range(n)]
    labels = {"category": ["kesehatan"] * n, "opd": list(opd_truth), "maladministration": list(malad_suggested)}
    return LabelledSet(texts=[f"aduan {i}" for i in range(n)], labels=labels, ids=[str(i) for i in range(n)],
                       extra=extra)


def predictions(category, opd, malad) -> np.ndarray:
    return np.column_stack([np.asarray(category, dtype=object), np.asarray(opd, dtype=object),
                            np.asarray(malad, dtype=object)])


def whole_split_report(labelled: LabelledSet, predicted: np.ndarray) -> dict:
    return {h: {"accuracy": float(np.mean(predicted[:, i] == np.asarray(labelled.labels[h], dtype=object))),
                "macro_f1": 0.0} for i, h in enumerate(HEADS)}


def scenario(n: int = 200, seed: int = 1):
    """The champion routes 73% right, the challenger 88%; maladministration was kept as the champion said."""
    rng = np.random.default_rng(seed)
    bodies = np.array(["dinkes", "dishub", "dlh", "kec_rungkut", "pln"], dtype=object)
    truth = bodies[rng.integers(0, len(bodies), n)]
    champion_opd = np.where(rng.random(n) < 0.73, truth, bodies[rng.integers(0, len(bodies), n)])
    challenger_opd = np.where(rng.random(n) < 0.88, truth, bodies[rng.integers(0, len(bodies), n)])
    forms = np.array(["bukan_maladministrasi", "penundaan_berlarut", "tidak_kompeten"], dtype=object)
    champion_malad = forms[rng.integers(0, 3, n)]
    challenger_malad = np.where(rng.random(n) < 0.6, champion_malad, forms[rng.integers(0, 3, n)])
    labelled = decided(n, opd_truth=truth, opd_suggested=champion_opd, malad_suggested=champion_malad)
    cats = ["kesehatan"] * n
    return labelled, predictions(cats, challenger_opd, challenger_malad), predictions(cats, champion_opd, champion_malad)


def run_gate(labelled, challenger, champion, champion_version=CHAMPION):
    reports = (whole_split_report(labelled, challenger), whole_split_report(labelled, champion))
    return gate(compare("recent", labelled, challenger, champion, reports, tolerance=0.02, confidence=0.9,
                        resamples=300, champion_version=champion_version))


def test_kept_suggestions_of_the_champion_on_a_head_nobody_corrects_are_not_evidence():
    labelled, _, _ = scenario()
    assert not evidence(labelled, "maladministration", CHAMPION).any()


def test_on_a_head_handlers_correct_every_decision_is_evidence():
    labelled, _, champion = scenario()
    corrected = np.asarray(labelled.labels["opd"], dtype=object) != champion[:, 1]
    assert 0.05 < corrected.mean() < 0.5
    assert evidence(labelled, "opd", CHAMPION).all()


def test_codes_kept_from_another_models_suggestion_are_evidence():
    labelled, _, _ = scenario()
    assert evidence(labelled, "maladministration", "some-other-model").all()


def test_a_challenger_that_routes_better_passes_although_the_champion_wins_its_own_kept_suggestions():
    labelled, challenger, champion = scenario()
    verdict = run_gate(labelled, challenger, champion)
    assert verdict.passed, verdict.reasons
    malad = [c for c in verdict.checks if c["head"] == "maladministration"]
    assert all(not c["judged"] and c["evidence"] == 0 and c["kept_suggestions_left_out"] == 200 for c in malad)
    assert any("not judged, too little evidence" in r for r in verdict.reasons)
    assert any(r.startswith("better: ") and "opd accuracy" in r for r in verdict.reasons)


def test_before_the_fix_the_same_comparison_on_every_row_rejects_the_better_challenger():
    labelled, challenger, champion = scenario()
    # Judging with no champion version treats every kept suggestion as evidence: what the gate did before.
    verdict = run_gate(labelled, challenger, champion, champion_version=None)
    assert not verdict.passed
    assert any(r.startswith("maladministration") for r in verdict.reasons)


def test_a_challenger_truly_worse_on_the_corrections_is_still_rejected():
    labelled, _, champion = scenario()
    worse = champion.copy()
    truth = np.asarray(labelled.labels["opd"], dtype=object)
    right = np.flatnonzero(truth == champion[:, 1])
    worse[right[: len(right) // 2], 1] = "dinsos"  # half of what the champion routed right (and handlers kept)
    verdict = run_gate(labelled, worse, champion)
    assert not verdict.passed
    assert any(r.startswith("opd accuracy") for r in verdict.reasons)


def test_a_head_with_less_evidence_than_the_minimum_is_not_judged_on_that_split():
    labelled, challenger, champion = scenario(n=MIN_EVIDENCE - 1)
    checks = compare("recent", labelled, challenger, champion,
                     (whole_split_report(labelled, challenger), whole_split_report(labelled, champion)),
                     tolerance=0.02, confidence=0.9, resamples=100, champion_version=CHAMPION)
    assert all(not c["judged"] and c["passed"] for c in checks)
