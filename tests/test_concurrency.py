"""One loaded model serves an API worker's thread pool: every thread must get exactly what a fresh model,
used by one caller, gives for the same text."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import SHIPPED_MODELS
from triage import vectorise
from triage.suggest import Suggester

THREADS = 16


def _answer(suggestion) -> tuple:
    heads = (suggestion.category, suggestion.opd, suggestion.maladministration)
    return tuple((h.code, h.confidence, h.needs_review, tuple(a.confidence for a in h.alternatives)) for h in heads) \
        + (tuple((head, tuple(t.term for t in terms)) for head, terms in suggestion.explanation.items()),)


@pytest.fixture(scope="module")
def texts(test_set) -> list[str]:
    # Words no other text has reach the per-word caches while other threads read them.
    rng = random.Random(13)
    texts = list(test_set.texts[:300])
    return texts + [f"{t} kata{rng.randrange(10**6)}baru ulasan{i}" for i, t in enumerate(texts[:100])]


@pytest.fixture(scope="module")
def expected(texts) -> list[tuple]:
    fresh = Suggester.from_registry(SHIPPED_MODELS, "kukar", "kukar-seed")
    return [_answer(fresh.suggest(text)) for text in texts]


@pytest.mark.parametrize("cache_limit", [vectorise.MAX_CACHED_WORDS, 50], ids=["caches-grow", "caches-reset"])
def test_one_suggester_hammered_from_many_threads_answers_as_a_fresh_model(texts, expected, cache_limit,
                                                                            monkeypatch):
    monkeypatch.setattr(vectorise, "MAX_CACHED_WORDS", cache_limit)
    shared = Suggester.from_registry(SHIPPED_MODELS, "kukar", "kukar-seed")  # cold caches, filled concurrently
    start = threading.Barrier(THREADS)

    def work(seed: int) -> list[tuple[int, tuple]]:
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        start.wait()
        return [(i, _answer(shared.suggest(texts[i]))) for i in order]

    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for rs in pool.map(work, range(THREADS)) for r in rs]

    wrong = [(i, got) for i, got in results if got != expected[i]]
    assert len(results) == THREADS * len(texts)
    assert wrong == [], f"{len(wrong)} of {len(results)} answers differ from a fresh model's"
