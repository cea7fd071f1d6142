"""Real frequencies for the category head: balance is for learning, priors are for suggesting.

The training corpus holds enough examples of every national code to learn it, so destinations outside the
pemda and outcomes (``terima_kasih``, ``kosong``) are far more common in it than in a pemda's channel, where a
message that ends with "terima kasih" is nearly always a complaint. :func:`prior_weights` turns the expected
shares of ``triage/deployments/national/priors.yaml`` and the training shares into one weight per code (saved
with the model as ``category_priors``); :func:`adjust` applies them to predicted probabilities
(``p * w``, renormalised: Bayes' rule for a change of class priors).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from triage.taxonomy import Taxonomy, national_dir, read_yaml


def prior_weights(labels: Sequence[str], taxonomy: Taxonomy, path: str | Path | None = None) -> dict[str, float]:
    """Per category code of ``labels`` (the training labels), expected share / training share."""
    raw = read_yaml(Path(path or national_dir() / "priors.yaml").read_text(encoding="utf-8"))["groups"]
    counts = Counter(labels)
    total = sum(counts.values())

    def group(code: str) -> str:
        kind = taxonomy.labels["category"][code].kind
        return "outside" if kind == "outside" else code if code in raw else "function"

    in_group = Counter()
    for code, n in counts.items():
        in_group[group(code)] += n
    expected = {**{g: float(s) for g, s in raw.items()}, "function": 1.0 - sum(float(s) for s in raw.values())}
    weights = {}
    for code, n in counts.items():
        g = group(code)
        if g not in expected or in_group[g] == 0:
            continue
        weights[code] = round(expected[g] / (in_group[g] / total), 6)
    return weights


def adjust(proba: np.ndarray, classes: Sequence[str], weights: Mapping[str, float] | None) -> np.ndarray:
    """``proba`` (rows over ``classes``) at the expected frequencies; unchanged without weights."""
    if not weights:
        return proba
    w = np.array([weights.get(str(c), 1.0) for c in classes])
    adjusted = proba * w
    return adjusted / adjusted.sum(axis=1, keepdims=True)
