"""Real frequencies for the category head: balance is for learning, priors are for suggesting.

The training corpus holds enough examples of every national code to learn it, so destinations outside the
pemda and outcomes (``terima_kasih``, ``kosong``) are far more common in it than in a pemda's channel, where a
message that ends with "terima kasih" is nearly always a complaint. :func:`prior_weights` turns the expected
shares of ``triage/deployments/national/priors.yaml`` and the prior the model was fitted under (balanced class
weights: every code alike but for its sample weight) into one weight per code (saved with the model as
``category_priors``); :func:`adjust` applies them to predicted probabilities (``p * w``, renormalised: Bayes'
rule for a change of class priors).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from triage.taxonomy import Taxonomy, national_dir, read_yaml


def prior_weights(labels: Sequence[str], taxonomy: Taxonomy, path: str | Path | None = None, *,
                  sample_weight: Sequence[float] | None = None, balanced: bool = True) -> dict[str, float]:
    """Per category code of ``labels`` (the training labels), the factor that takes the model's probabilities
    from the class prior it was fitted under to the expected shares of ``priors.yaml``.

    The prior a model was fitted under is each code's share of the training mass: with
    ``balanced`` class weights (``TriageModel``'s default) every code weighs the same but for its mean
    ``sample_weight`` (a code learnt from the pemda's own corpus, weighted 4x, weighs 4x); without them, its
    weighted count. The expected share of a code is its group's (``priors.yaml``: outside destinations,
    each outcome, and the pemda's own functions as the rest) split within the group by weighted count, the
    corpus's proportions.
    """
    raw = read_yaml(Path(path or national_dir() / "priors.yaml").read_text(encoding="utf-8"))["groups"]
    weights = np.ones(len(labels)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    mass: Counter = Counter()
    count: Counter = Counter()
    for code, weight in zip(labels, weights):
        mass[code] += float(weight)
        count[code] += 1

    def group(code: str) -> str:
        kind = taxonomy.labels["category"][code].kind
        return "outside" if kind == "outside" else code if code in raw else "function"

    fitted = {code: (mass[code] / count[code] if balanced else mass[code]) for code in count}
    fitted_total = sum(fitted.values())
    in_group: Counter = Counter()
    for code in count:
        in_group[group(code)] += mass[code]
    expected = {**{g: float(s) for g, s in raw.items()}, "function": 1.0 - sum(float(s) for s in raw.values())}
    out = {}
    for code in count:
        g = group(code)
        if g not in expected or in_group[g] == 0 or fitted[code] == 0:
            continue
        out[code] = round(expected[g] * mass[code] / in_group[g] / (fitted[code] / fitted_total), 6)
    return out


def adjust(proba: np.ndarray, classes: Sequence[str], weights: Mapping[str, float] | None) -> np.ndarray:
    """``proba`` (rows over ``classes``) at the expected frequencies; unchanged without weights."""
    if not weights:
        return proba
    w = np.array([weights.get(str(c), 1.0) for c in classes])
    adjusted = proba * w
    return adjusted / adjusted.sum(axis=1, keepdims=True)
