"""Step 2: stem words with Sastrawi, once per distinct word.

Sastrawi's ``stem()`` works on a whole document and costs a dictionary search with affix removal for
every word it has not seen (a typo costs the most: every affix combination is tried and fails). A backlog
repeats the same few thousand words endlessly, so :class:`Stemmer` keeps one word -> stem table for a
whole job and calls Sastrawi only for words it has never seen.

Two further rules:

* Protected words (the deployment's place names and acronyms: "Kutai", "Tenggarong", "PUPR") are never
  stemmed: Sastrawi would turn "kutai" into "kuta".
* With ``useful`` set (the stems a trained model has features for), a word is only sent to Sastrawi when
  its stem *could* be one of them. Sastrawi returns either the word itself or a root of its dictionary left
  after stripping known prefixes and suffixes, give or take the first letter a nasal prefix swallowed
  ("menulis" -> "tulis"); a word that cannot be cut that way into a useful dictionary root cannot stem to a
  feature, so stemming it would change nothing the model sees. Typos (the costliest words for Sastrawi)
  almost always fail this test.

The Sastrawi object and the table are rebuilt after unpickling, not saved inside a model; a model keeps the
stems of its training words instead (``known``), so a fresh process starts with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from Sastrawi.Stemmer.StemmerFactory import StemmerFactory


class Stemmer:
    """Stem words through a table shared by every document of a job.

    Parameters
    ----------
    protected:
        Lower-case words never to stem.
    useful:
        Stems that matter downstream; ``None`` stems every word.
    known:
        Stems worked out before (a model keeps those of its training words), taken as they are: a new
        process then sends Sastrawi only the words its model never saw.
    """

    def __init__(self, protected: Iterable[str] = (), useful: Iterable[str] | None = None,
                 known: Mapping[str, str] | None = None) -> None:
        self.protected = frozenset(protected)
        self.useful = None if useful is None else frozenset(useful)
        self.known = known or {}
        self._sastrawi = None
        self._table: dict[str, str] = dict(self.known)
        self._roots: frozenset[str] | None = None
        self.calls = 0  # words sent to Sastrawi: the costly part

    def __getstate__(self) -> dict:
        return {"protected": self.protected, "useful": self.useful, "known": self.known}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["protected"], state["useful"], state.get("known"))

    def stem(self, word: str) -> str:
        """The stem of one lower-case word."""
        stem = self._table.get(word)
        if stem is None:
            stem = self._table[word] = self._stem_new(word)
        return stem

    def stem_words(self, words: Iterable[str]) -> list[str]:
        """Stems of ``words``, in order."""
        table, stem = self._table, self.stem
        return [table.get(word) or stem(word) for word in words]

    @property
    def table_size(self) -> int:
        """How many distinct words this stemmer has added to what it knew from the start."""
        return len(self._table) - len(self.known)

    def _stem_new(self, word: str) -> str:
        if word in self.protected or word.startswith("x") and word in MASK_TOKENS:
            return word
        if self.useful is not None and not self._could_be_useful(word):
            return word
        self.calls += 1
        return self._delegated().stem_word(word) or word

    def _delegated(self):
        """Sastrawi's uncached stemmer (the table above is our cache), made on first use."""
        if self._sastrawi is None:
            self._sastrawi = StemmerFactory().create_stemmer().delegatedStemmer
        return self._sastrawi

    def _could_be_useful(self, word: str) -> bool:
        if word in self.useful:
            return True
        if self._roots is None:
            # Sastrawi returns a root of its dictionary or the word itself: only useful roots can come out.
            self._roots = frozenset(self.useful & self._delegated().dictionary.words.keys())
        roots, n = self._roots, len(word)

        def root(rest: str) -> bool:  # a useful root, or one with an infix ("kinerja" <- kerja)
            return rest in roots or len(rest) > 4 and rest[1:3] in _INFIXES and rest[0] + rest[3:] in roots

        # word = prefixes + stem + suffixes, where a nasal prefix may have swallowed the stem's first letter;
        # only the suffix lengths its last letter and the prefix lengths its first two letters allow are tried
        for k in _SUFFIX_LENGTHS.get(word[-1:], (0,)):
            if k >= n or k and word[n - k:] not in _SUFFIXES:
                continue
            core = word[: n - k]
            if root(core):
                return True
            for i in _PREFIX_LENGTHS.get(core[:2], ()):
                if i > len(core) - 1:  # a prefix leaves at least one letter
                    break
                prefix = core[:i]
                if prefix in _PREFIXES and (root(core[i:]) or _SWALLOWED.get(prefix[-1], "-") + core[i:] in roots):
                    return True
        return False


def _combinations(pieces: tuple[str, ...], most: int) -> frozenset[str]:
    found = {""}
    for _ in range(most):
        found |= {a + b for a in found for b in pieces}
    return frozenset(found - {""})


# What Sastrawi may strip (Asian's extended confix stripping): up to three prefixes, each in one of its
# allomorphs, and derivational + possessive + particle suffixes.
_PREFIXES = _combinations(("di", "ke", "se", "be", "ber", "bel", "te", "ter", "me", "mem", "men", "meng", "meny",
                           "menge", "menye", "pe", "pem", "pen", "peng", "peny", "penge", "penye", "per", "pel", "mer", "ku", "kau"), 3)
_SUFFIXES = frozenset(d + p + t for d in ("", "i", "kan", "an", "is", "isasi", "isme", "wan", "wati") for p in ("", "ku", "mu", "nya")
                      for t in ("", "lah", "kah", "tah", "pun")) - {""}
_INFIXES = frozenset({"el", "em", "er", "in"})
# meN-/peN- before p, t, k, s: "memukul" <- pukul, "menulis" <- tulis, "mengirim" <- kirim, "menyapu" <- sapu
_SWALLOWED = {"m": "p", "n": "t", "g": "k", "y": "s"}


def _lengths_by(words: frozenset[str], key: Callable[[str], str], first: tuple[int, ...] = ()) -> dict[str, tuple[int, ...]]:
    """The lengths of ``words``, ascending after ``first``, by ``key(word)``."""
    found: dict[str, set[int]] = {}
    for word in words:
        found.setdefault(key(word), set()).add(len(word))
    return {k: (*first, *sorted(lengths)) for k, lengths in found.items()}


# The lengths worth trying: of a suffix, by a word's last letter (0: none), and of a prefix, by a core's first
# two letters (every prefix has two letters or more).
_SUFFIX_LENGTHS = _lengths_by(_SUFFIXES, lambda suffix: suffix[-1], first=(0,))
_PREFIX_LENGTHS = _lengths_by(_PREFIXES, lambda prefix: prefix[:2])


MASK_TOKENS = frozenset({"xurl", "xemail", "xnik", "xtelepon", "xangka", "xnama", "xalamat"})


def is_readable_term(term: str) -> bool:
    """Whether a stem n-gram means something to a handler: it holds no mask token (``xangka biar`` stands
    for a number the text had, not for words it shows)."""
    return MASK_TOKENS.isdisjoint(term.split(" "))
