"""Features: exactly two TfidfVectorizers' worth, computed per distinct word."""

import pickle

import numpy as np
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from triage.features import ComplaintFeatures
from triage.normalise import normalise, tokens
from triage.vectorise import char_wb_ngrams

TEXTS = [
    "Jalan rusak parah di Loa Kulu tdk diperbaiki",
    "lampu jalan mati di Tenggarong sdh 3 bln",
    "KTP blm jadi sdh 2 bulan, petugas bilang blanko habis",
    "pelayanan puskesmas lambat dan petugas membentak pasien",
    "jalan berlubang dan lampu jalan mati, tolong diperbaiki",
    "perekaman KTP elektronik di kecamatan tidak dilayani",
]


def _reference(features: ComplaintFeatures, texts: list[str]):
    """What scikit-learn's own vectorizers give with the fitted vocabularies and idf."""
    toks = [tokens(normalise(t)) for t in texts]
    stems = [features._stemmer.stem_words(t) for t in toks]

    def word_ngrams(seq):
        return seq + [" ".join(seq[i:i + 2]) for i in range(len(seq) - 1)]

    words = TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True, vocabulary=features.word_vocabulary_)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(features.char_ngram_range), sublinear_tf=True, lowercase=False,
                            vocabulary=features.char_vocabulary_)
    words.fit(stems)
    chars.fit([" ".join(t) for t in toks])
    words.idf_, chars.idf_ = features.word_idf_, features.char_idf_
    return words.transform(stems), chars.transform([" ".join(t) for t in toks])


def test_matrix_equals_scikit_learn_tfidf_of_both_blocks():
    features = ComplaintFeatures(min_df=1).fit(TEXTS)
    new = TEXTS + ["jalan rusakkk parah sekali di desa baru", "!!!", "yang dan di"]
    X = features.transform(new)
    words, chars = _reference(features, new)
    n = features.n_word_features
    assert np.allclose(X[:, :n].toarray(), words.toarray())
    assert np.allclose(X[:, n:].toarray(), chars.toarray())


def test_stems_feed_the_word_block():
    features = ComplaintFeatures(min_df=1).fit(TEXTS)
    names = set(features.get_feature_names_out())
    assert {"w:baik", "w:lampu jalan", "w:tidak layan"} <= names
    assert "w:diperbaiki" not in names


def test_is_a_scikit_learn_transformer():
    features = ComplaintFeatures(min_df=1, char_ngram_range=(3, 4))
    assert clone(features).get_params()["char_ngram_range"] == (3, 4)
    X = features.fit_transform(TEXTS)
    assert X.shape == (len(TEXTS), features.n_features_out_)
    assert len(features.get_feature_names_out()) == X.shape[1]


def test_min_df_drops_rare_ngrams():
    assert ComplaintFeatures(min_df=2).fit(TEXTS).n_features_out_ < ComplaintFeatures(min_df=1).fit(TEXTS).n_features_out_


def test_pickle_leaves_out_the_stemmer_and_caches_and_still_transforms():
    features = ComplaintFeatures(min_df=1).fit(TEXTS)
    before = features.transform(TEXTS)
    state = pickle.dumps(features)
    assert b"Sastrawi" not in state
    again = pickle.loads(state)
    assert np.allclose(again.transform(TEXTS).toarray(), before.toarray())


def test_a_single_string_is_refused_with_advice():
    features = ComplaintFeatures(min_df=1).fit(TEXTS)
    try:
        features.transform("jalan rusak")
    except TypeError as exc:
        assert "wrap it in a list" in str(exc)
    else:
        raise AssertionError("a bare string must be refused")


def test_per_word_caches_are_bounded_between_calls(monkeypatch):
    import triage.vectorise

    features = ComplaintFeatures(min_df=1).fit(TEXTS[:2])
    monkeypatch.setattr(triage.vectorise, "MAX_CACHED_WORDS", 5)
    features.transform(TEXTS)  # words training never saw: each one added to the table
    assert features._stemmer.table_size > 5
    before = features.transform(TEXTS[2:3])
    assert features._stemmer.table_size <= 9  # started afresh, then only the words of one text
    assert np.allclose(before.toarray(), features.transform(TEXTS[2:3]).toarray())


def test_character_ngrams_of_a_word_are_scikit_learns_char_wb():
    words = ["a", "ab", "abc", "jalan", "pelayanannya", "x"]
    for low, high in [(2, 4), (1, 3), (3, 5), (2, 2), (4, 6)]:
        analyser = CountVectorizer(analyzer="char_wb", ngram_range=(low, high), lowercase=False).build_analyzer()
        assert [char_wb_ngrams(w, low, high) for w in words] == [analyser(w) for w in words]


def test_a_fitted_transformer_keeps_its_training_words_stems_so_new_processes_need_not_stem_them():
    features = pickle.loads(pickle.dumps(ComplaintFeatures(min_df=1).fit(TEXTS)))
    assert features.stem_table_["diperbaiki"] == "baik"
    features.transform(TEXTS)
    assert features._stemmer.calls == 0


def test_a_texts_features_do_not_depend_on_the_texts_it_comes_with():
    # to the last bit: a complaint gets the same confidences from the API (alone) and from a batch job
    features = ComplaintFeatures(min_df=1).fit(TEXTS)
    # the first text's words in other orders, and new ones
    others = ["kulu parah, diperbaiki loa", "KTP hilang, tolong dibantu", "tdk rusakkk jalan sekali di desa baru"]
    alone = features.transform(TEXTS[:1])
    for batch in (TEXTS, others + TEXTS[:1], TEXTS[:1] + others):
        fresh = pickle.loads(pickle.dumps(features))  # empty per-word caches, filled in another order
        together = fresh.transform(batch)
        row = together[batch.index(TEXTS[0])]
        assert (row.indices == alone.indices).all() and (row.data == alone.data).all()


def test_words_seen_in_earlier_calls_give_what_a_fresh_transformer_gives():
    features = ComplaintFeatures(min_df=1).fit(TEXTS)
    new = ["jalan rusakkk parah sekali di desa baru", "lampu jalan padam di kampung", "KTP hilang di kecamatan"]
    first, second = features.transform(new[:2]), features.transform(new[1:])  # the second reuses rows
    fresh = pickle.loads(pickle.dumps(features)).transform(new[1:])
    assert (second != fresh).nnz == 0
    assert (first[1] != fresh[0]).nnz == 0
