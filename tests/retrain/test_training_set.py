"""What retraining learns from: seed plus decisions, outdated seed complaints relabelled, rare codes left out,
the most recent decisions held out. Fast tests on hand-made sets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from triage.dataset import LabelledSet
from triage.retrain import build_training_set, overruled, too_rare_codes, word_vectors
from triage.taxonomy import HEADS

LAMP = "lampu jalan di jalan mulawarman mati sudah dua minggu gelap gulita"
TRAFFIC = "lampu lalu lintas di simpang empat timbau mati kendaraan saling serobot"
WATER = "air pdam mati tiga hari di tenggarong tolong diperbaiki"


def labelled(rows: list[tuple[str, str, str, str]], suggested: list[str] | None = None,
             start: datetime | None = None) -> LabelledSet:
    """Rows of (text, category, opd, maladministration); ``suggested`` OPDs make them decisions."""
    extra = []
    if suggested is not None:
        start = start or datetime(2026, 11, 1, tzinfo=timezone.utc)
        extra = [{"complaint_id": i, "decided_at": (start + timedelta(hours=i)).isoformat(),
                  "suggested": {"category": r[1], "opd": s, "maladministration": r[3]}}
                 for i, (r, s) in enumerate(zip(rows, suggested))]
    return LabelledSet(texts=[r[0] for r in rows], labels={h: [r[k + 1] for r in rows] for k, h in enumerate(HEADS)},
                       ids=[str(i) for i in range(len(rows))], extra=extra)


@pytest.fixture(scope="module")
def features(shipped):
    return shipped.model.features_


def lamp_decisions(n: int, suggested: str = "dishub", decided: str = "perkim") -> LabelledSet:
    texts = [f"{LAMP} tiang nomor {i}" for i in range(n)]
    return labelled([(t, "perhubungan", decided, "bukan_maladministrasi") for t in texts], [suggested] * n)


def test_seed_complaints_like_repeatedly_corrected_ones_take_the_code_handlers_chose(features):
    seed = labelled([(LAMP + " rawan begal", "perhubungan", "dishub", "bukan_maladministrasi"),
                     (TRAFFIC, "perhubungan", "dishub", "bukan_maladministrasi"),
                     (WATER, "air_bersih", "pdam", "bukan_maladministrasi")])
    decided = lamp_decisions(3)

    new, figures = overruled(seed, word_vectors(features, seed.texts), decided, word_vectors(features, decided.texts),
                             threshold=0.2, votes=3)

    assert list(new["opd"]) == ["perkim", None, None]  # street lighting moves; traffic lights and water do not
    assert all(c is None for h in ("category", "maladministration") for c in new[h])
    assert figures["corrections"] == 3


def test_confirmations_and_too_few_corrections_overrule_nothing(features):
    seed = labelled([(LAMP + " rawan begal", "perhubungan", "dishub", "bukan_maladministrasi")])
    confirmed = lamp_decisions(5, suggested="perkim")  # the model said perkim already: no correction
    two = lamp_decisions(2)

    for decided in (confirmed, two):
        new, _ = overruled(seed, word_vectors(features, seed.texts), decided, word_vectors(features, decided.texts),
                           threshold=0.2, votes=3)
        assert list(new["opd"]) == [None]


def test_a_correction_only_counts_against_the_code_it_corrected(features):
    # Handlers corrected dinsos -> perkim on lamp-like texts; a seed lamp complaint labelled dishub stays.
    seed = labelled([(LAMP + " rawan begal", "perhubungan", "dishub", "bukan_maladministrasi")])
    decided = lamp_decisions(4, suggested="dinsos")
    new, _ = overruled(seed, word_vectors(features, seed.texts), decided, word_vectors(features, decided.texts),
                       threshold=0.2, votes=3)
    assert list(new["opd"]) == [None]


def test_codes_below_the_minimum_are_left_out_and_listed_with_their_counts(taxonomy):
    rows = ([("a", "kesehatan", "dinkes", "bukan_maladministrasi")] * 5
            + [("b", "kesehatan", "rsud", "bukan_maladministrasi")] * 2)
    keep, rare = too_rare_codes(labelled(rows), taxonomy, 3)

    assert keep.tolist() == [True] * 5 + [False] * 2
    assert rare["opd"]["rsud"] == 2
    assert rare["opd"]["dishub"] == 0  # a code nobody used yet is listed too
    assert "dinkes" not in rare["opd"]


def test_the_most_recent_decisions_are_held_out_and_never_trained_on(features, taxonomy):
    seed = labelled([(WATER, "air_bersih", "pdam", "bukan_maladministrasi")] * 4)
    decided = labelled([(f"{WATER} nomor {i}", "air_bersih", "pdam", "bukan_maladministrasi") for i in range(40)],
                       ["pdam"] * 40)

    data = build_training_set(seed, seed, decided, features, taxonomy, similarity=0.2, votes=3, min_examples=1,
                              holdout=8)

    assert data.recent.texts == decided.texts[-8:]
    assert not set(data.recent.texts) & set(data.train.texts)
    assert len(data.train) == 4 + 32
    assert data.from_decisions.sum() == 32


def test_the_hold_out_is_at_most_a_quarter_and_only_what_the_champion_has_not_seen(features, taxonomy):
    seed = labelled([(WATER, "air_bersih", "pdam", "bukan_maladministrasi")] * 4)
    decided = labelled([(f"{WATER} nomor {i}", "air_bersih", "pdam", "bukan_maladministrasi") for i in range(40)],
                       ["pdam"] * 40)
    saw_until = decided.extra[34]["decided_at"]  # the champion was trained on the first 35

    quarter = build_training_set(seed, seed, decided, features, taxonomy, similarity=0.2, votes=3, min_examples=1,
                                 holdout=200)
    unseen = build_training_set(seed, seed, decided, features, taxonomy, similarity=0.2, votes=3, min_examples=1,
                                holdout=200, champion_saw_until=saw_until)

    assert len(quarter.recent) == 10
    assert unseen.recent.texts == decided.texts[35:]
    assert unseen.summary["decisions_until"] == decided.extra[34]["decided_at"]


def test_weights_count_decisions_more_only_when_asked(features, taxonomy):
    seed = labelled([(WATER, "air_bersih", "pdam", "bukan_maladministrasi")] * 4)
    decided = labelled([(f"{WATER} {i}", "air_bersih", "pdam", "bukan_maladministrasi") for i in range(8)], ["pdam"] * 8)
    data = build_training_set(seed, seed, decided, features, taxonomy, similarity=0.2, votes=3, min_examples=1,
                              holdout=2)

    assert data.weights(1.0) is None
    assert np.array_equal(data.weights(2.0), [1.0] * 4 + [2.0] * 6)


def test_weights_follow_the_seed_training_own_corpus_and_decisions_count_four_times_the_others():
    from triage.dataset import LabelledSet
    from triage.retrain import TrainingSet
    from triage.train import OWN_CORPUS_WEIGHT

    rows = [{"corpus": "kukar"}, {"corpus": "national"}, {}]  # a kukar seed line, a national one, a decision
    train = LabelledSet(texts=["a", "b", "c"], labels={"category": ["x", "y", "z"]}, ids=["1", "2", "3"], extra=rows)
    data = TrainingSet(train=train, seed_test=train, recent=train, too_rare={}, summary={},
                       from_decisions=np.array([False, False, True]))
    assert np.array_equal(data.weights(1.0, own_corpus="kukar"), [OWN_CORPUS_WEIGHT, 1.0, OWN_CORPUS_WEIGHT])
    assert np.array_equal(data.weights(2.0, own_corpus="kukar"), [OWN_CORPUS_WEIGHT, 1.0, 2 * OWN_CORPUS_WEIGHT])
    assert data.weights(1.0, own_corpus="surabaya") is None  # no seed line of its own: nothing to weigh apart
