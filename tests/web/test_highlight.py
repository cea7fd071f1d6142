"""Marking the words of a complaint that explain its suggestion."""

from __future__ import annotations

from triage.web.highlight import Segment, deciding_words, highlight

STOP = {"di", "yg", "dan"}


def fake_stems(word: str) -> list[str]:
    """A tiny stemmer: lower case, drop "di"/"ber" prefixes, stop words give no stem."""
    word = word.lower()
    if word in STOP:
        return []
    for prefix in ("diper", "ber"):
        if word.startswith(prefix):
            return [word[len(prefix):]]
    return [word]


def marked(segments: list[Segment]) -> dict[str, tuple[str, ...]]:
    return {s.text: s.heads for s in segments if s.heads}


def test_words_whose_stem_is_a_term_are_marked_with_their_heads():
    explanation = {"category": [{"term": "lubang", "weight": 0.2}],
                   "opd": [{"term": "lubang", "weight": 0.1}, {"term": "baiki", "weight": 0.1}]}
    segments = highlight("Jalan berlubang diperbaiki", explanation, fake_stems)

    assert marked(segments) == {"berlubang": ("category", "opd"), "diperbaiki": ("opd",)}
    assert "".join(s.text for s in segments) == "Jalan berlubang diperbaiki"


def test_a_bigram_term_marks_both_words_across_a_stop_word():
    explanation = {"opd": [{"term": "poros desa", "weight": 0.1}]}
    segments = highlight("Jalan poros di Desa Loa, poros saja", explanation, fake_stems)

    assert [s.text for s in segments if s.heads] == ["poros", "Desa"]


def test_markup_stays_plain_text_in_segments():
    text = "<script>alert(1)</script> jalan"
    segments = highlight(text, {"category": [{"term": "jalan", "weight": 0.1}]}, fake_stems)

    assert "".join(s.text for s in segments) == text
    assert marked(segments) == {"jalan": ("category",)}


def test_without_an_explanation_nothing_is_marked():
    assert marked(highlight("Jalan rusak", {}, fake_stems)) == {}
    assert highlight("", {}, fake_stems) == []


def test_deciding_words_are_the_words_as_written_in_the_text():
    explanation = {"category": [{"term": "lubang", "weight": 0.3}, {"term": "poros desa", "weight": 0.2}],
                   "opd": [{"term": "baiki", "weight": 0.1}]}
    words = deciding_words("Jalan poros di Desa Loa berlubang, belum diperbaiki.", explanation, fake_stems)

    assert words == {"category": ["berlubang", "poros di Desa"], "opd": ["diperbaiki"]}


def test_mask_tokens_are_never_deciding_words_nor_marked():
    explanation = {"category": [{"term": "xangka", "weight": 0.3}, {"term": "jalan xangka", "weight": 0.2},
                                {"term": "jalan", "weight": 0.1}]}
    masked = lambda word: ["xangka"] if word.isdigit() else fake_stems(word)  # noqa: E731 (as normalise does)
    text = "Jalan 12 rusak"

    assert deciding_words(text, explanation, masked) == {"category": ["Jalan"]}
    assert marked(highlight(text, explanation, masked)) == {"Jalan": ("category",)}
