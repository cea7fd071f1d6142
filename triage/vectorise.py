"""Step 3, applied: complaint texts to feature rows, with what :class:`~triage.features.ComplaintFeatures`
learnt (vocabularies, idf weights, its training words' stems).

:class:`FittedFeatures` computes exactly what two scikit-learn ``TfidfVectorizer`` s would, but works per
*distinct word* of a job rather than per document: each word is normalised, stemmed and cut into character
n-grams once, and a document's counts are the product of its word counts with those per-word rows. A
backlog of 100,000 complaints has perhaps 60,000 distinct words, so most of the work is done once, not
100,000 times.

Nothing here imports scikit-learn: a saved model (:class:`~triage.predict.Predictor`) holds a
:class:`FittedFeatures`, so loading one does not import scikit-learn (SciPy's statistics, pandas' whole API):
a batch job starts about a second sooner.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable

import numpy as np
import scipy.sparse as sp

from triage.normalise import BREAK, complaint_token_stream, complaint_tokens
from triage.stem import Stemmer

MAX_CACHED_WORDS = 300_000
"""Distinct words whose stems and character n-grams a transformer keeps between calls (about 100 MB)."""


class FittedFeatures:
    """Feature rows of complaint texts: stemmed word n-grams, then character n-grams, each block TF-IDF
    weighted and L2-normalised.

    Made by fitting :class:`~triage.features.ComplaintFeatures` (a subclass: the same transform), or by
    :meth:`of` from one, as a plain object. Its state is the transformer's parameters and fitted attributes,
    under the same names (:data:`STATE`); the stemmer and per-word caches are made on first use and never
    pickled.
    """

    STATE = ("protected", "sms_prefixes", "word_ngram_range", "char_ngram_range", "char_weight",
             "word_vocabulary_", "word_idf_", "char_vocabulary_", "char_idf_", "useful_stems_", "stem_table_",
             "n_features_out_")

    protected: tuple[str, ...]
    sms_prefixes: tuple[str, ...]
    word_ngram_range: tuple[int, int]
    char_ngram_range: tuple[int, int]
    char_weight: float
    word_vocabulary_: dict[str, int]
    word_idf_: np.ndarray
    char_vocabulary_: dict[str, int]
    char_idf_: np.ndarray
    useful_stems_: frozenset[str]
    stem_table_: dict[str, str] | None
    n_features_out_: int

    @classmethod
    def of(cls, fitted: FittedFeatures) -> FittedFeatures:
        """The state of ``fitted`` (a fitted ``ComplaintFeatures``) as a plain :class:`FittedFeatures`,
        sharing its arrays and tables: what a saved model holds."""
        plain = cls.__new__(cls)
        plain.__dict__.update({name: getattr(fitted, name) for name in cls.STATE if name != "stem_table_"})
        plain.stem_table_ = getattr(fitted, "stem_table_", None)  # models fitted before it was kept have none
        return plain

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Feature matrix of ``texts`` (one row a complaint), in float32. Safe to call from many threads
        at once: the per-word caches are read and grown by one call at a time."""
        texts = as_list(texts)
        with self._cache_lock():
            if not hasattr(self, "_stemmer") or self._stemmer.table_size > MAX_CACHED_WORDS:
                # start afresh: a long-running service must not grow its per-word caches without end
                self._reset_job(useful=self.useful_stems_)
            job = self._analyse(texts)
            word_counts = self._word_counts(job)
            char_counts = self._char_counts(job)  # a product with the cache's rows: a new matrix
        words = _tfidf(word_counts, self.word_idf_)
        chars = _tfidf(char_counts, self.char_idf_, self.char_weight)
        return sp.hstack([words, chars], format="csr")

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """``w:<stem n-gram>`` for the word block, ``c:<characters>`` for the character block."""
        names = [f"w:{g}" for g in _by_index(self.word_vocabulary_)]
        names += [f"c:{g}" for g in _by_index(self.char_vocabulary_)]
        return np.asarray(names, dtype=object)

    @property
    def n_word_features(self) -> int:
        """Width of the word block (the first columns of the matrix)."""
        return len(self.word_vocabulary_)

    def stems(self, text: str) -> list[str]:
        """The stems that one complaint is reduced to (for explanations and debugging)."""
        with self._cache_lock():
            if not hasattr(self, "_stemmer"):
                self._reset_job(useful=getattr(self, "useful_stems_", None))
            return self._stemmer.stem_words(complaint_tokens(text, tuple(self.sms_prefixes)))

    def __getstate__(self) -> dict:
        # The stemmer and the per-word caches are rebuilt after loading, never pickled.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    # -- the per-word machinery --------------------------------------------------------------------

    def _cache_lock(self) -> threading.Lock:
        """The lock that guards the stemmer and the per-word rows. An API worker serves requests from a
        thread pool; the caches are grown in place (arrays reallocated, a row index updated), and two calls
        interleaving there give wrong rows silently. ``dict.setdefault`` is atomic, so two threads asking
        at once get the same lock."""
        return self.__dict__.setdefault("_lock", threading.Lock())

    def _reset_job(self, useful: frozenset[str] | None) -> None:
        self._stemmer = Stemmer(protected=self.protected, useful=useful, known=getattr(self, "stem_table_", None))
        self._char_rows = _WordRows(len(getattr(self, "char_vocabulary_", ())))

    def _analyse(self, texts: list[str]) -> AnalysedTexts:
        stream = complaint_token_stream(texts, tuple(self.sms_prefixes))
        # Words are numbered in alphabetical order, so that a text's words come in the same order whatever
        # other texts share its job: its features are then summed in the same order, to the last bit.
        distinct = set(stream)
        distinct.discard(BREAK)
        words = sorted(distinct)
        index = {word: i for i, word in enumerate(words)}
        index[BREAK] = -1
        ids = np.fromiter(map(index.get, stream), np.int64, len(stream))
        breaks = np.flatnonzero(ids < 0)  # where one text ends and the next begins
        ends = np.append(breaks, len(ids)) - np.arange(len(breaks) + 1)  # each text's end, breaks taken out
        return AnalysedTexts(words=words, stems=self._stemmer.stem_words(words), ids=ids[ids >= 0],
                             indptr=np.concatenate([[0], ends[: len(texts)]]))

    def _word_counts(self, job: AnalysedTexts) -> sp.csr_matrix:
        vocabulary = self.word_vocabulary_
        low, high = self.word_ngram_range
        # Every position of every document, as (document, column of its stem or -1), all in numpy.
        stem_col = np.fromiter((vocabulary.get(s, -1) for s in job.stems), dtype=np.int64, count=len(job.stems))
        doc_of = np.repeat(np.arange(job.n_docs), np.diff(job.indptr))
        col = stem_col[job.ids]
        rows, cols = [], []
        if low <= 1:
            known = col >= 0
            rows.append(doc_of[known])
            cols.append(col[known])
        for n in range(max(low, 2), high + 1):
            keys, columns = self._ngram_index(n)
            if len(col) < n or len(keys) == 0:
                continue
            # n consecutive known stems of one document form a key; look it up among the vocabulary's
            m = len(col) - n + 1
            same_doc = doc_of[:m] == doc_of[n - 1:]
            key = np.zeros(m, dtype=np.int64)
            valid = same_doc.copy()
            for k in range(n):
                part = col[k:k + m]
                valid &= part >= 0
                key = key * len(vocabulary) + np.where(part >= 0, part, 0)
            at = np.searchsorted(keys, key[valid]).clip(max=len(keys) - 1)
            hit = keys[at] == key[valid]
            rows.append(doc_of[:m][valid][hit])
            cols.append(columns[at[hit]])
        r = np.concatenate(rows) if rows else np.empty(0, np.int64)
        c = np.concatenate(cols) if cols else np.empty(0, np.int64)
        counts = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(job.n_docs, len(vocabulary)))
        counts.sum_duplicates()
        return counts

    def _ngram_index(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Sorted integer keys of the vocabulary's n-grams (from their parts' columns), and their columns."""
        vocabulary = self.word_vocabulary_
        cache = self.__dict__.setdefault("_ngram_keys", {})
        if n not in cache:
            keys, columns = [], []
            for gram, column in vocabulary.items():
                parts = gram.split(" ")
                if len(parts) == n and all(p in vocabulary for p in parts):
                    key = 0
                    for p in parts:
                        key = key * len(vocabulary) + vocabulary[p]
                    keys.append(key)
                    columns.append(column)
            order = np.argsort(keys)
            cache[n] = (np.asarray(keys, np.int64)[order], np.asarray(columns, np.int64)[order])
        return cache[n]

    def _char_counts(self, job: AnalysedTexts) -> sp.csr_matrix:
        # (texts x words) @ (words x character n-grams), the words being rows of the store: every word's
        # n-grams are counted once per process. The product's columns come in an order fixed by each text's
        # words (their alphabetical order) and are left so: sorting them would cost more than the product.
        texts_by_words = _doc_word_matrix(job)
        rows = self._char_rows.rows(job.words, self._char_rows_of)
        texts_by_rows = sp.csr_matrix((texts_by_words.data, rows[texts_by_words.indices],
                                       texts_by_words.indptr.astype(np.int32)),
                                      shape=(job.n_docs, self._char_rows.n_rows))
        return texts_by_rows @ self._char_rows.matrix()

    def _char_rows_of(self, words: list[str]) -> sp.csr_matrix:
        """One row per word: the counts of its character n-grams that are in the vocabulary."""
        vocabulary = self.char_vocabulary_
        low, high = self.char_ngram_range
        grams: list[str] = []
        lengths = []
        for word in words:
            found = char_wb_ngrams(word, low, high)
            grams += found
            lengths.append(len(found))
        columns = np.fromiter(map(vocabulary.get, grams, itertools.repeat(-1)), np.int32, len(grams))
        word_of = np.repeat(np.arange(len(words), dtype=np.int32), lengths)
        known = columns >= 0
        counts = sp.csr_matrix((np.ones(int(known.sum())), (word_of[known], columns[known])),
                               shape=(len(words), len(vocabulary)))
        counts.sum_duplicates()
        return counts


class AnalysedTexts:
    """The distinct words of a batch of texts, their stems, and the texts as word ids: the ids of text ``i``
    are ``ids[indptr[i]:indptr[i + 1]]``."""

    __slots__ = ("words", "stems", "ids", "indptr")

    def __init__(self, words: list[str], stems: list[str], ids: np.ndarray, indptr: np.ndarray) -> None:
        self.words, self.stems, self.ids, self.indptr = words, stems, ids, indptr

    @property
    def n_docs(self) -> int:
        return len(self.indptr) - 1

    def docs(self) -> list[list[int]]:
        """Each text as a list of word ids (for fitting, which counts n-grams one text at a time)."""
        ids = self.ids.tolist()
        return [ids[a:b] for a, b in zip(self.indptr[:-1].tolist(), self.indptr[1:].tolist())]


class _WordRows:
    """Rows of a sparse matrix, one per word, made once per word and kept in one growing CSR matrix."""

    def __init__(self, n_columns: int) -> None:
        self.n_columns = n_columns
        self.row_of: dict[str, int] = {}
        self._indptr = np.zeros(1, np.int32)
        self._indices = np.empty(0, np.int32)
        self._data = np.empty(0, np.float64)

    @property
    def n_rows(self) -> int:
        return len(self.row_of)

    def rows(self, words: list[str], make: Callable[[list[str]], sp.csr_matrix]) -> np.ndarray:
        """The rows of ``words``, made by ``make(new words)`` for the words not seen before."""
        new = [word for word in words if word not in self.row_of]
        if new:
            self._append(new, make(new))
        return np.fromiter(map(self.row_of.__getitem__, words), np.int32, len(words))

    def matrix(self) -> sp.csr_matrix:
        """Every row made so far (a view, not a copy)."""
        n, nnz = self.n_rows, int(self._indptr[self.n_rows])
        return sp.csr_matrix((self._data[:nnz], self._indices[:nnz], self._indptr[: n + 1]),
                             shape=(n, self.n_columns), copy=False)

    def _append(self, words: list[str], block: sp.csr_matrix) -> None:
        n, nnz = self.n_rows, int(self._indptr[self.n_rows])
        self._indptr = _room(self._indptr, n + 1 + len(words))
        self._indices = _room(self._indices, nnz + block.nnz)
        self._data = _room(self._data, nnz + block.nnz)
        self._indptr[n + 1: n + 1 + len(words)] = block.indptr[1:] + nnz
        self._indices[nnz: nnz + block.nnz] = block.indices
        self._data[nnz: nnz + block.nnz] = block.data
        self.row_of.update(zip(words, range(n, n + len(words))))


def _room(array: np.ndarray, size: int) -> np.ndarray:
    """``array``, or a copy twice as large, whichever holds at least ``size`` items (growth in amortised
    constant time)."""
    if len(array) >= size:
        return array
    grown = np.empty(max(size, 2 * len(array)), array.dtype)
    grown[: len(array)] = array
    return grown


def char_wb_ngrams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of one word padded with a space each side: scikit-learn's ``char_wb`` analyser on a
    single word (a word shorter than ``n`` counts once, whole, and ends the list)."""
    padded = f" {word} "
    length = len(padded)
    if length >= high:
        return [padded[i:i + n] for n in range(low, high + 1) for i in range(length - n + 1)]
    grams = []
    for n in range(low, high + 1):
        if length <= n:
            grams.append(padded)
            break
        grams += [padded[i:i + n] for i in range(length - n + 1)]
    return grams


def as_list(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("Expected an iterable of texts, got a single string; wrap it in a list.")
    return [t if isinstance(t, str) else str(t) for t in texts]


def _doc_word_matrix(job: AnalysedTexts) -> sp.csr_matrix:
    matrix = sp.csr_matrix((np.ones(len(job.ids)), job.ids, job.indptr), shape=(job.n_docs, len(job.words)))
    matrix.sum_duplicates()
    return matrix


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray, weight: float = 1.0) -> sp.csr_matrix:
    """Sublinear tf times idf, each row L2-normalised and scaled by ``weight``, in float32 (the heads' sparse
    products run twice as fast as in float64, and the values are the float64 ones to seven digits). The
    columns stay in the order they come in."""
    data = np.log(counts.data)
    data += 1.0  # sublinear tf
    data *= idf[counts.indices]
    lengths = np.diff(counts.indptr)
    squares = np.empty(len(data) + 1)  # a zero after the last: reduceat may point one past the data
    np.multiply(data, data, out=squares[:-1])
    squares[-1] = 0.0
    norms = np.sqrt(np.add.reduceat(squares, counts.indptr[:-1])) if counts.shape[0] else np.ones(0)
    norms[(lengths == 0) | (norms == 0)] = 1.0  # an empty row's "sum" is its neighbour's first square
    data /= np.repeat(norms, lengths)
    if weight != 1.0:
        data *= weight
    return sp.csr_matrix((data.astype(np.float32), counts.indices, counts.indptr), shape=counts.shape)


def _by_index(vocabulary: dict[str, int]) -> list[str]:
    names = [""] * len(vocabulary)
    for g, i in vocabulary.items():
        names[i] = g
    return names
