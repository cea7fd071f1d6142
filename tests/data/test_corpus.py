"""The kukar seed corpus: guards on what every model learns from (issue: seed labelled corpus).

These tests fail when the corpus is edited in a way its datasheet no longer describes: regenerate it with
training_data/assemble.py and update training_data/README.md together.
"""

import json
import re
from collections import Counter, defaultdict

import pytest

from triage.settings import PROJECT_ROOT
from triage.taxonomy import HEADS, LEGACY_DIR, load_taxonomy

@pytest.fixture(scope="module")
def taxonomy():
    """The Kukar corpus and the realdata maps speak the codes from before the national layer (they read as
    national codes through the kukar deployment: tests/test_taxonomy.py)."""
    return load_taxonomy(LEGACY_DIR / "kukar.yaml")


TRAINING_DIR = PROJECT_ROOT / "training_data" / "kukar"

REQUIRED = ("id", "text", "category", "opd", "maladministration")


def _rows(name):
    with open(TRAINING_DIR / f"{name}.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def split():
    return {"train": _rows("train"), "test": _rows("test")}


@pytest.fixture(scope="module")
def corpus(split):
    return split["train"] + split["test"]


def _words(text):
    return re.findall(r"\w+", text.lower())


def test_every_line_has_the_schema(corpus):
    for row in corpus:
        assert all(k in row for k in REQUIRED), row.get("id")
        assert isinstance(row["text"], str) and row["text"].strip()
        assert isinstance(row.get("hard_case", False), bool)


def test_codes_are_valid_for_the_deployment(corpus, taxonomy):
    for row in corpus:
        for head in HEADS:
            assert row[head] in taxonomy.codes(head), (row["id"], head, row[head])


def test_ids_are_unique(corpus):
    assert len({r["id"] for r in corpus}) == len(corpus)


def test_size_and_minimum_counts(corpus, taxonomy):
    assert len(corpus) >= 4000
    counts = {h: Counter(r[h] for r in corpus) for h in HEADS}
    assert min(counts["category"][c] for c in taxonomy.codes("category")) >= 120
    assert min(counts["opd"][c] for c in taxonomy.codes("opd")) >= 80
    assert min(counts["maladministration"][c] for c in taxonomy.codes("maladministration")) >= 100


def test_maladministration_shares_follow_ombudsman_statistics(corpus):
    share = Counter(r["maladministration"] for r in corpus)
    assert 0.25 <= share["bukan_maladministrasi"] / len(corpus) <= 0.35
    assert 0.11 <= share["penundaan_berlarut"] / len(corpus) <= 0.19


def test_length_and_hard_cases(corpus):
    lengths = sorted(len(_words(r["text"])) for r in corpus)
    assert lengths[0] >= 5 and lengths[-1] <= 450  # real letters run to hundreds of words (realism ranges)
    assert 35 <= lengths[len(lengths) // 2] <= 70
    assert sum(r.get("hard_case", False) for r in corpus) >= 0.15 * len(corpus)


def test_registers_vary(corpus):
    styles = Counter(r.get("style") for r in corpus)
    assert len(styles) >= 6
    assert sum(r["text"].upper().startswith("KUKAR ADUAN") for r in corpus) >= 100
    assert max(styles.values()) < 0.4 * len(corpus)


def test_no_exact_duplicates(corpus):
    keys = Counter(" ".join(_words(r["text"])) for r in corpus)
    assert [k for k, n in keys.items() if n > 1] == []


def test_fewer_than_one_percent_share_an_eight_word_run(corpus):
    owners = defaultdict(set)
    for n, row in enumerate(corpus):
        words = _words(row["text"])
        for i in range(len(words) - 7):
            owners[" ".join(words[i:i + 8])].add(n)
    sharing = {n for ids in owners.values() if len(ids) > 1 for n in ids}
    assert len(sharing) < 0.01 * len(corpus)


def test_split_is_about_80_20_and_stratified_by_opd(split):
    train, test = split["train"], split["test"]
    assert 0.18 <= len(test) / (len(train) + len(test)) <= 0.22
    train_opd, test_opd = Counter(r["opd"] for r in train), Counter(r["opd"] for r in test)
    for code, n in train_opd.items():
        assert abs(test_opd[code] / len(test) - n / len(train)) < 0.01, code


def test_train_and_test_do_not_overlap(split):
    assert not {r["id"] for r in split["train"]} & {r["id"] for r in split["test"]}
    assert not {" ".join(_words(r["text"])) for r in split["train"]} & {" ".join(_words(r["text"])) for r in split["test"]}


def test_split_is_unchanged(split):
    """Sizes pinned by the datasheet: a changed split must be a deliberate, documented change."""
    sizes = json.loads((TRAINING_DIR / "SPLIT.json").read_text())
    assert {name: len(rows) for name, rows in split.items()} == {k: sizes[k] for k in ("train", "test")}
    assert Counter(r["opd"] for r in split["test"]) == Counter(sizes["test_opd"])
