"""Step 3: learn the features that all three heads share.

Two blocks, each TF-IDF weighted (sublinear tf, smooth idf) and L2-normalised, side by side:

* **word n-grams of stems** (unigrams and bigrams): what the complaint is about ("lampu jalan",
  "tidak layan");
* **character n-grams of the words as written** (``char_wb``, 2 to 4 letters): robust to typos, slang
  and affixes Sastrawi does not know ("jln", "rusakk", "pelayananya").

:class:`ComplaintFeatures` is the scikit-learn transformer: ``fit`` learns the vocabularies and idf weights
here; ``transform`` is :class:`~triage.vectorise.FittedFeatures`' (what a saved model holds, without
scikit-learn), and gives exactly what two ``TfidfVectorizer`` s would (a test holds it to that).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from triage.vectorise import AnalysedTexts, FittedFeatures, as_list, char_wb_ngrams


class ComplaintFeatures(TransformerMixin, BaseEstimator, FittedFeatures):
    """Stemmed word n-grams plus character n-grams, as a scikit-learn transformer.

    Parameters
    ----------
    protected:
        Words never to stem (the deployment's place names and acronyms).
    sms_prefixes:
        Deployment codes that open SMS complaints (``KUKAR ADUAN ...``).
    word_ngram_range, char_ngram_range:
        Lengths of the word (stem) and character n-grams.
    min_df:
        Keep n-grams seen in at least this many training complaints.
    char_weight:
        Scale of the character block relative to the word block.
    """

    def __init__(self, protected: Sequence[str] = (), sms_prefixes: Sequence[str] = ("kukar",),
                 word_ngram_range: tuple[int, int] = (1, 2), char_ngram_range: tuple[int, int] = (2, 4),
                 min_df: int = 2, char_weight: float = 1.0) -> None:
        self.protected = protected
        self.sms_prefixes = sms_prefixes
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.char_weight = char_weight

    def fit(self, texts: Iterable[str], y: object = None) -> ComplaintFeatures:
        """Learn the vocabularies and idf weights of both blocks from training texts."""
        texts = as_list(texts)
        if not texts:
            raise ValueError("ComplaintFeatures.fit needs at least one text; got none.")
        if self.min_df < 1:
            raise ValueError(f"min_df must be >= 1; got {self.min_df}.")
        self.__dict__.pop("stem_table_", None)  # a refit stems afresh
        self.__dict__.pop("_ngram_keys", None)
        self._reset_job(useful=None)
        job = self._analyse(texts)
        self.word_vocabulary_, self.word_idf_ = _keep_frequent(self._count_word_ngrams(job), len(texts),
                                                               self.min_df)
        self.char_vocabulary_, self.char_idf_ = _keep_frequent(self._count_char_ngrams(job), len(texts),
                                                               self.min_df)
        self.useful_stems_ = frozenset(part for gram in self.word_vocabulary_ for part in gram.split(" "))
        # the training words' stems, kept: prediction never sends Sastrawi a word training has seen
        self.stem_table_ = dict(zip(job.words, job.stems))
        self.n_features_out_ = len(self.word_vocabulary_) + len(self.char_vocabulary_)
        self._reset_job(useful=self.useful_stems_)
        return self

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Feature matrix of ``texts`` (one row a complaint), in float32."""
        check_is_fitted(self, "word_vocabulary_")
        return super().transform(texts)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """``w:<stem n-gram>`` for the word block, ``c:<characters>`` for the character block."""
        check_is_fitted(self, "word_vocabulary_")
        return super().get_feature_names_out(input_features)

    # -- counting the training texts' n-grams, one text at a time ----------------------------------

    def _count_word_ngrams(self, job: AnalysedTexts) -> list[Counter]:
        low, high = self.word_ngram_range
        return [Counter(_ngrams([job.stems[i] for i in doc], low, high)) for doc in job.docs()]

    def _count_char_ngrams(self, job: AnalysedTexts) -> list[Counter]:
        low, high = self.char_ngram_range
        grams = [Counter(char_wb_ngrams(w, low, high)) for w in job.words]
        result = []
        for doc in job.docs():
            counts: Counter = Counter()
            for i, n in Counter(doc).items():
                for g, k in grams[i].items():
                    counts[g] += k * n
            result.append(counts)
        return result


def _ngrams(seq: list[str], low: int, high: int) -> list[str]:
    out = []
    for n in range(low, high + 1):
        out.extend(" ".join(seq[i:i + n]) for i in range(len(seq) - n + 1))
    return out


def _keep_frequent(counts: list[Counter], n_docs: int, min_df: int) -> tuple[dict[str, int], np.ndarray]:
    df: Counter = Counter()
    for c in counts:
        df.update(c.keys())
    kept = sorted(g for g, n in df.items() if n >= min_df)
    vocabulary = {g: i for i, g in enumerate(kept)}
    dfs = np.asarray([df[g] for g in kept], dtype=np.float64)
    idf = np.log((1 + n_docs) / (1 + dfs)) + 1.0
    return vocabulary, idf
