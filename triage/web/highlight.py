"""Mark the words of a complaint that the explanation names, so a handler sees why the model chose.

Explanation terms are stems or stem bigrams (``jalan``, ``poros desa``); a word is marked when its stem is
a unigram term, or when it and the next word that has a stem form a bigram term (stop words between them
are skipped, as the features skip them). The text is returned in segments, never as markup: the template
escapes every segment. :func:`deciding_words` gives each head's terms back as the words written in the
text ("berlubang", not the stem "lubang"). Mask tokens (``xangka``, ``xurl``...: a number, a link, an
identity number...) stand for no word a handler wrote and are left out of both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from triage.stem import is_readable_term

_WORD = re.compile(r"\w+(?:[-']\w+)*")

Explanation = Mapping[str, Sequence[Mapping[str, object]]]
"""head -> terms (``{"term": ..., "weight": ...}``, strongest first), as stored with the suggestion."""


@dataclass(frozen=True)
class Segment:
    """A piece of the text; ``heads`` names the heads whose explanation marks it (empty: not marked)."""

    text: str
    heads: tuple[str, ...] = ()


def highlight(text: str, explanation: Explanation, stems: Callable[[str], list[str]]) -> list[Segment]:
    """``text`` cut into segments, the words that explain a head marked with it.

    ``stems`` turns a word into its stems (``Suggester.model.features_.stems``).
    """
    located = _Located(text, stems)
    marks: dict[int, list[str]] = {}
    for head, terms in explanation.items():
        for term in _terms(terms):
            for first, last in located.find(term):
                for index in {first, last}:
                    if head not in marks.setdefault(index, []):
                        marks[index].append(head)
    return [Segment(piece, tuple(marks.get(i, ()))) for i, (piece, _) in enumerate(located.pieces)]


def deciding_words(text: str, explanation: Explanation,
                   stems: Callable[[str], list[str]]) -> dict[str, list[str]]:
    """Per head, its explanation's terms as first written in ``text`` (a bigram with the stop words between
    its two words), strongest first, each once; a term the text does not show (a word the normalisation
    rewrote) stays as the term."""
    located = _Located(text, stems)
    words: dict[str, list[str]] = {}
    for head, terms in explanation.items():
        shown = words.setdefault(head, [])
        for term in _terms(terms):
            found = located.find(term)
            word = located.span(*found[0]) if found else " ".join(term)
            if word not in shown:
                shown.append(word)
    return words


def _terms(terms: Sequence[Mapping[str, object]]) -> list[tuple[str, ...]]:
    # explanations stored before the suggester left mask tokens out may still hold them
    return [tuple(str(term["term"]).split(" ")) for term in terms if is_readable_term(str(term["term"]))]


class _Located:
    """``text`` cut into words and the rest, and the stem of each word, in text order."""

    def __init__(self, text: str, stems: Callable[[str], list[str]]) -> None:
        self.pieces: list[tuple[str, bool]] = []  # (text, is_word)
        position = 0
        for match in _WORD.finditer(text):
            if match.start() > position:
                self.pieces.append((text[position:match.start()], False))
            self.pieces.append((match.group(), True))
            position = match.end()
        if position < len(text):
            self.pieces.append((text[position:], False))
        cache: dict[str, list[str]] = {}
        self.stemmed: list[tuple[int, str]] = []  # (piece index, stem); words without stems left out
        for i, (piece, is_word) in enumerate(self.pieces):
            if is_word:
                key = piece.lower()
                if key not in cache:
                    cache[key] = stems(piece)
                self.stemmed.extend((i, stem) for stem in cache[key])

    def find(self, term: tuple[str, ...]) -> list[tuple[int, int]]:
        """Every place of ``term`` (one stem or two) as (first piece, last piece)."""
        stemmed = self.stemmed
        if len(term) == 1:
            return [(i, i) for i, stem in stemmed if stem == term[0]]
        return [(i, stemmed[n + 1][0]) for n, (i, stem) in enumerate(stemmed[:-1])
                if (stem, stemmed[n + 1][1]) == term]

    def span(self, first: int, last: int) -> str:
        return "".join(piece for piece, _ in self.pieces[first:last + 1])
