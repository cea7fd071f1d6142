"""Suggestions are made at a channel's real frequencies, from the prior the model was fitted under."""

import numpy as np
import pytest

from triage.priors import adjust, prior_weights
from triage.taxonomy import load_taxonomy, national_dir, read_yaml


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy("kukar")


def test_balanced_training_is_corrected_to_the_corpus_proportions_within_functions(taxonomy):
    labels = ["pekerjaan_umum"] * 30 + ["diklat"] * 10 + ["kosong"] * 10
    balanced = prior_weights(labels, taxonomy, balanced=True)
    # fitted alike (balanced), expected 3:1 within the functions: a road complaint is 3x as likely as a diklat one
    assert balanced["pekerjaan_umum"] / balanced["diklat"] == pytest.approx(3.0)
    counted = prior_weights(labels, taxonomy, balanced=False)
    assert counted["pekerjaan_umum"] / counted["diklat"] == pytest.approx(1.0)  # fitted at counts already


def test_sample_weights_count_in_the_prior_the_model_was_fitted_under(taxonomy):
    labels = ["pekerjaan_umum"] * 10 + ["diklat"] * 10
    weights = [4.0] * 10 + [1.0] * 10  # the pemda's own rows weigh 4x
    w = prior_weights(labels, taxonomy, sample_weight=weights, balanced=True)
    assert w["pekerjaan_umum"] == pytest.approx(w["diklat"])  # fitted and expected both 4:1


def test_adjusted_probabilities_put_outcomes_at_their_channel_share(taxonomy):
    labels = ["pekerjaan_umum"] * 50 + ["kosong"] * 50
    w = prior_weights(labels, taxonomy)
    proba = adjust(np.array([[0.5, 0.5]]), ["pekerjaan_umum", "kosong"], w)
    groups = read_yaml((national_dir() / "priors.yaml").read_text(encoding="utf-8"))["groups"]
    functions = 1.0 - sum(float(v) for v in groups.values())  # one function here: it holds the functions' share
    assert proba[0, 1] / proba[0, 0] == pytest.approx(float(groups["kosong"]) / functions)
