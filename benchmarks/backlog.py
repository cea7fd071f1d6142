"""A synthetic backlog for benchmarks: seed complaints repeated with typos, so the vocabulary grows with
the number of rows as it does in real data (every few complaints bring words never seen before).

Not training data and never shipped: it exists so that speed is measured where stemming costs.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def seed_texts() -> list[str]:
    texts = []
    for name in ("train.jsonl", "test.jsonl"):
        with open(ROOT / "training_data" / "kukar" / name, encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    return texts


def typo(word: str, rng: random.Random) -> str:
    """One keyboard slip: a letter dropped, doubled, swapped with its neighbour or replaced."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        return word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]
    return word[:i] + rng.choice(LETTERS) + word[i + 1:]


def backlog(n: int, typo_rate: float = 0.06, seed: int = 7) -> list[str]:
    """``n`` complaints: seed texts in random order, ``typo_rate`` of their words misspelt at random."""
    rng = random.Random(seed)
    texts = seed_texts()
    rows = []
    for _ in range(n):
        words = rng.choice(texts).split()
        rows.append(" ".join(typo(w, rng) if rng.random() < typo_rate else w for w in words))
    return rows
