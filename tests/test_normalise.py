"""Normalisation: what a complaint looks like after step 1."""

import importlib
import random
import re

import pytest

from triage.normalise import BREAK, SLANG, STOP_WORDS, complaint_token_stream, complaint_tokens, normalise, tokens

module = importlib.import_module("triage.normalise")  # the package exports a function of the same name


def test_sms_prefix_is_dropped_and_text_lower_cased():
    assert normalise("KUKAR ADUAN Jalan RUSAK") == "jalan rusak"


def test_sms_prefix_of_another_deployment_is_not_dropped():
    assert normalise("KALSEL ADUAN jalan rusak") == "kalsel aduan jalan rusak"
    assert normalise("KALSEL ADUAN jalan rusak", sms_prefixes=("kalsel",)) == "jalan rusak"


def test_personal_data_and_numbers_are_masked():
    clean = normalise("Hub 081234567890 atau a.b@mail.com, NIK 6402011234567890, lihat https://kukarkab.go.id/x")
    assert clean == "hub xtelepon atau xemail nik xnik lihat xurl"
    assert normalise("bayar Rp 150.000 tgl 12") == "bayar rp xangka tanggal xangka"


def test_redaction_markers_of_public_corpora_become_masks():
    assert normalise("hubungi [TELEPON] NIK [NIK]") == "hubungi xtelepon nik xnik"


def test_letters_repeated_three_times_or_more_are_squeezed():
    assert normalise("rusakkkk parahhh") == "rusak parah"
    assert normalise("sudah") == "sudah"  # two letters alike stay


def test_slang_and_abbreviations_are_expanded():
    assert normalise("yg sdh 3 bln gak dtg, jln blm dibenerin") == \
        "yang sudah xangka bulan tidak datang jalan belum dibenerin"
    assert all(key == key.lower() for key in SLANG)


def test_stop_words_are_dropped_but_negations_and_time_words_kept():
    assert tokens("saya sudah lapor tapi tidak dilayani dan belum ada kabar") == \
        ["sudah", "lapor", "tidak", "dilayani", "belum", "kabar"]
    assert not {"tidak", "belum", "bukan", "tanpa", "sudah", "lagi"} & STOP_WORDS


def test_empty_and_punctuation_only_texts_normalise_to_nothing():
    assert normalise("") == ""
    assert normalise("!!! ???") == ""


def test_sms_prefix_tolerates_gateway_spacing_but_not_longer_words():
    assert normalise("KUKAR  ADUAN:  jalan rusak") == "jalan rusak"
    assert normalise("kukar aduanku jalan rusak") == "kukar aduanku jalan rusak"


def test_a_missing_space_after_a_full_stop_is_not_a_url():
    assert normalise("lapor ke desa.identitas saya dipalsukan") == "lapor ke desa identitas saya dipalsukan"
    assert normalise("lihat kukarkab.go.id/layanan") == "lihat xurl"


TRICKY = ["KUKAR ADUAN jln rusakkk bgt dkt SDN 012, hub 0812-3456-7890", "NIK 6402011234567890 ortu sy",
          "café ÜBER straße Kİ ke www.kukarkab.go.id!!", "yg dan di", "", "   ", "Rp1.500.000,00 ke-3 jt",
          "+6281234567890 a0812345678 x08123xxxx 62812 3456 789", "tdk\tdilayani\n\nsdh 2x datang😀"]


@pytest.mark.parametrize("text", TRICKY)
def test_complaint_tokens_are_the_tokens_of_the_normalised_text(text):
    assert complaint_tokens(text) == tokens(normalise(text))
    assert complaint_tokens(text) == complaint_tokens(text)  # the second time from the per-word cache


def test_many_texts_at_once_give_each_texts_own_tokens_between_breaks():
    rng = random.Random(3)
    pieces = ["jln", "rusakkk", "KUKAR ADUAN", "kukar aduan", "0812-3456-7890", "6402011234567890", "www.a.go.id",
              "a.b@mail.com", "[NIK]", "yg", "dan", "\n", "\t", "\u00e9", "\u0130", "|", "\x1f", "😀", "Rp1.500"]
    texts = TRICKY + ["".join(rng.choice(pieces) + rng.choice(" .,") for _ in range(rng.randrange(0, 12)))
                      for _ in range(3000)]
    plain = [t for t in texts if "\x1f" not in t]
    for batch in (plain, texts, [], [""], ["", ""], ["a\x1fb", "c"], plain[:1]):
        stream = complaint_token_stream(batch)
        one_by_one = [complaint_tokens(t) for t in batch]
        expected = [token for i, found in enumerate(one_by_one) for token in [BREAK] * (i > 0) + found]
        assert stream == expected


def test_words_are_the_runs_of_ascii_letters():
    rng = random.Random(5)
    alphabet = "abcxyz \u00e9\u212a\u0130.,-_0\n\t\u00a0\U0001f600"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30))).lower()
        assert module._words(text) == re.findall("[a-z]+", text)


def test_fast_number_patterns_match_exactly_what_the_plain_ones_do():
    plain = {"_NIK": r"\b\d{16}\b",
             "_PHONE": r"(?:\+62|\b62|\b0)8[\d\- x]{6,14}\d|\b08\d{2}x+\b|\b08\d*x{2,}\w*",
             "_NUMBER": r"\b\d+(?:[.,]\d+)*(?:rb|ribu|jt|juta|k)?\b"}
    rng = random.Random(7)
    texts = ["".join(rng.choice("0123456789 +-x.,ab8k6rbjt") for _ in range(rng.randrange(1, 40)))
             for _ in range(20000)] + TRICKY
    for name, pattern in plain.items():
        fast, slow = getattr(module, name), re.compile(pattern)
        assert [fast.sub("#", t) for t in texts] == [slow.sub("#", t) for t in texts], name


def test_masks_skip_a_pattern_only_where_it_cannot_match():
    patterns = [(module._REDACTED, lambda m: module._MASKS[m.group(1)]), (module._EMAIL, " xemail "),
                (module._URL, " xurl "), (module._NIK, " xnik "), (module._PHONE, " xtelepon "),
                (module._NUMBER, " xangka ")]

    def every_pattern(text):
        for pattern, mask in patterns:
            text = pattern.sub(mask, text)
        return text

    rng = random.Random(11)
    pieces = ["0812", "08", "+62", "62", "8", "3456", "-", " ", "x", ".", ",", "@", "mail", ".com", ".go.id", ".id",
              "www", "http://", "[nik]", "[telepon]", "a", "rb", "6402011234567890"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 15))) for _ in range(20000)] + TRICKY
    for text in texts:
        clean = text.lower()
        assert module._mask(clean) == every_pattern(clean), text


def test_per_word_caches_are_bounded(monkeypatch):
    monkeypatch.setattr(module, "MAX_CACHED_WORDS", 3)
    words = "zaqa zaqb zaqc zaqd zaqe zaqf"  # words no other test uses: each one new to the caches
    assert complaint_tokens(words) == words.split()
    assert len(module._KEPT) <= 3 and len(module._FORMS) <= 3
