"""Stemming: Sastrawi once per distinct word, protected words untouched."""

import pickle

from triage.stem import Stemmer


def test_words_are_stemmed_with_sastrawi():
    assert Stemmer().stem_words(["perbaikan", "pelayanannya", "menulis"]) == ["baik", "layan", "tulis"]


def test_each_distinct_word_goes_to_sastrawi_once_per_job():
    stemmer = Stemmer()
    stemmer.stem_words(["perbaikan", "jalan", "perbaikan"] * 100)
    stemmer.stem_words(["perbaikan", "jalan"])
    assert stemmer.calls == 2
    assert stemmer.table_size == 2


def test_protected_words_are_never_stemmed():
    assert Stemmer().stem("kutai") == "kuta"  # what Sastrawi alone does
    assert Stemmer(protected={"kutai", "pupr"}).stem_words(["kutai", "pupr"]) == ["kutai", "pupr"]


def test_mask_tokens_are_left_alone():
    assert Stemmer().stem_words(["xtelepon", "xangka"]) == ["xtelepon", "xangka"]


def test_useful_filter_changes_nothing_the_model_sees():
    words = ["perbaikan", "pelayanannya", "menulis", "pengaduan", "diperbaikin", "jln", "qwrtzx",
             "dilayani", "penulisan", "kantornya", "pembangunan", "bangunan", "menyapu", "pukulan"]
    useful = {"baik", "layan", "tulis", "bangun"}
    full = Stemmer().stem_words(words)
    restricted = Stemmer(useful=useful)
    fast = restricted.stem_words(words)
    # Wherever the full stem is a useful one, the restricted stemmer finds it too...
    assert [f for f in full if f in useful] == [s for s in fast if s in useful]
    assert all((f in useful) == (s in useful) for f, s in zip(full, fast))
    # ...while sending fewer words to Sastrawi.
    assert restricted.calls < len(words)


def test_pickling_keeps_settings_but_not_the_table():
    stemmer = Stemmer(protected={"kutai"})
    stemmer.stem_words(["perbaikan"])
    copy = pickle.loads(pickle.dumps(stemmer))
    assert copy.protected == {"kutai"}
    assert copy.table_size == 0
    assert copy.stem("perbaikan") == "baik"


def test_useful_filter_agrees_with_full_stemming_on_the_whole_corpus(shipped, train_set):
    """On every word of the seed corpus the fast path gives the model the same stems; on typo'd variants of
    them (words Sastrawi has no root for) it may differ on a handful."""
    import random

    from triage.normalise import normalise, tokens

    rng = random.Random(3)
    words = sorted({w for text in train_set.texts for w in tokens(normalise(text))})
    typos = sorted({w[:i] + w[i + 1:] for w in words if len(w) > 4 for i in [rng.randrange(1, len(w) - 1)]})
    useful = shipped.model.features_.useful_stems_
    protected = shipped.model.features_.protected
    full, fast = Stemmer(protected=protected), Stemmer(protected=protected, useful=useful)

    def disagree(vocabulary):
        return [w for w in vocabulary if (full.stem(w) in useful or fast.stem(w) in useful)
                and full.stem(w) != fast.stem(w)]

    assert disagree(words) == []
    assert len(disagree(typos)) <= 0.002 * len(typos)
    assert fast.calls < 0.8 * full.calls


def test_only_words_that_can_reach_a_useful_dictionary_root_go_to_sastrawi():
    stemmer = Stemmer(useful={"beri", "pukul", "tulis", "kerja"})
    assert stemmer.stem_words(["memberikan", "memukul", "menulis", "kinerjanya"]) == ["beri", "pukul", "tulis", "kerja"]
    assert stemmer.calls == 4
    # "seri" ends like "beri" but no prefix makes it one; a nasal "n" swallows a t, never a p
    assert stemmer.stem_words(["seri", "menukul"]) == ["seri", "menukul"]
    assert stemmer.calls == 4


def test_known_stems_are_taken_without_asking_sastrawi():
    stemmer = Stemmer(known={"perbaikan": "baik", "jalan": "jalan"})
    assert stemmer.stem_words(["perbaikan", "jalan", "menulis"]) == ["baik", "jalan", "tulis"]
    assert stemmer.calls == 1
    assert pickle.loads(pickle.dumps(stemmer)).stem_words(["perbaikan"]) == ["baik"]


def test_the_filter_tries_only_some_affix_lengths_and_answers_as_trying_them_all(shipped, train_set):
    import random

    from triage import stem
    from triage.normalise import normalise, tokens

    useful = shipped.model.features_.useful_stems_
    fast = Stemmer(useful=useful)
    fast.stem("memberikan")  # builds the roots
    roots = fast._roots

    def every_length(word):  # the plain form: every suffix length, then every prefix length
        def root(rest):
            return rest in roots or len(rest) > 4 and rest[1:3] in stem._INFIXES and rest[0] + rest[3:] in roots

        if word in useful:
            return True
        for k in range(len(word) + 1):
            if k and word[len(word) - k:] not in stem._SUFFIXES:
                continue
            core = word[: len(word) - k]
            if root(core) or any(core[:i] in stem._PREFIXES and (
                    root(core[i:]) or stem._SWALLOWED.get(core[i - 1], "-") + core[i:] in roots)
                    for i in range(1, len(core))):
                return True
        return False

    rng = random.Random(5)
    words = sorted({w for text in train_set.texts for w in tokens(normalise(text))})
    typos = [w[:i] + w[i + 1:] for w in words if len(w) > 4 for i in [rng.randrange(1, len(w) - 1)]]
    built = [p + r + s for p, r, s in zip(rng.choices(sorted(stem._PREFIXES), k=5000), rng.choices(sorted(roots), k=5000),
                                         rng.choices(sorted(stem._SUFFIXES) + [""] * 100, k=5000))]
    for word in words + typos + built + ["a", "ab", "i", "kan", "dian"]:
        assert fast._could_be_useful(word) == every_length(word), word
