"""Mark the words of a complaint that the explanation names, so a handler sees why the model chose.

Explanation terms are stems or stem bigrams (``jalan``, ``poros desa``); a word is marked when its stem is
a unigram term, or when it and the next word that has a stem form a bigram term (stop words between them
are skipped, as the features skip them). The text is returned in segments, never as markup: the template
escapes every segment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

_WORD = re.compile(r"\w+(?:[-']\w+)*")


@dataclass(frozen=True)
class Segment:
    """A piece of the text; ``heads`` names the heads whose explanation marks it (empty: not marked)."""

    text: str
    heads: tuple[str, ...] = ()


def highlight(text: str, explanation: Mapping[str, Sequence[Mapping[str, object]]],
              stems: Callable[[str], list[str]]) -> list[Segment]:
    """``text`` cut into segments, the words that explain a head marked with it.

    ``explanation`` maps head -> terms (``{"term": ..., "weight": ...}``) as stored with the suggestion;
    ``stems`` turns a word into its stems (``Suggester.model.features_.stems``).
    """
    pieces: list[tuple[str, bool]] = []  # (text, is_word)
    position = 0
    for match in _WORD.finditer(text):
        if match.start() > position:
            pieces.append((text[position:match.start()], False))
        pieces.append((match.group(), True))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], False))

    cache: dict[str, list[str]] = {}
    stemmed: list[tuple[int, str]] = []  # (piece index, stem), in text order, words without stems left out
    for i, (piece, is_word) in enumerate(pieces):
        if is_word:
            key = piece.lower()
            if key not in cache:
                cache[key] = stems(piece)
            stemmed.extend((i, stem) for stem in cache[key])

    marks: dict[int, list[str]] = {}
    for head, terms in explanation.items():
        unigrams, bigrams = set(), set()
        for term in terms:
            parts = tuple(str(term["term"]).split(" "))
            (unigrams if len(parts) == 1 else bigrams).add(parts)
        for n, (i, stem) in enumerate(stemmed):
            hit = (stem,) in unigrams
            if n + 1 < len(stemmed) and (stem, stemmed[n + 1][1]) in bigrams:
                hit = True
                _mark(marks, stemmed[n + 1][0], head)
            if hit:
                _mark(marks, i, head)
    return [Segment(piece, tuple(marks.get(i, ()))) for i, (piece, _) in enumerate(pieces)]


def _mark(marks: dict[int, list[str]], index: int, head: str) -> None:
    heads = marks.setdefault(index, [])
    if head not in heads:
        heads.append(head)
