"""The national seed corpus reads like real complaints (issue 15): its surface statistics stay inside the
ranges the datasheet agrees (training_data/README.md, "Realism ranges"), which were set from the spread of
the three real exports. The kukar corpus is shown beside each figure but not held: it is known to be too tidy.

The statistics are those of training_data/realism.py; the real exports are not needed to run these tests.
"""

import importlib.util
import re
import sys

import pytest

from triage.settings import PROJECT_ROOT

DATASHEET = PROJECT_ROOT / "training_data" / "README.md"
START, END = "<!-- realism-ranges:start -->", "<!-- realism-ranges:end -->"


def _load_realism():
    spec = importlib.util.spec_from_file_location("realism", PROJECT_ROOT / "training_data" / "realism.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("realism", module)
    spec.loader.exec_module(module)
    return module


realism = _load_realism()


def _ranges() -> dict[str, tuple[float, float]]:
    text = DATASHEET.read_text(encoding="utf-8")
    assert START in text and END in text, f"{DATASHEET} has no 'Realism ranges' table between {START} and {END}"
    block = text.split(START, 1)[1].split(END, 1)[0]
    found = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"[a-z_0-9]+", cells[0]) and cells[0] != "statistic":
            found[cells[0]] = (float(cells[1]), float(cells[2]))
    return found


RANGES = _ranges()


def test_the_datasheet_agrees_a_range_for_every_statistic():
    assert set(RANGES) == set(realism.STATISTICS)
    for key, (low, high) in RANGES.items():
        assert low <= high, key


@pytest.fixture(scope="module")
def national():
    texts = realism.national_texts()
    assert texts, "no national corpus (training_data/national/{train,test}.jsonl or drafts/*.jsonl)"
    return realism.statistics(texts)


@pytest.fixture(scope="module")
def kukar():
    return realism.statistics(realism.kukar_texts())


KNOWN_GAPS = {"over_100_words", "longest_words", "missing_space", "thanks", "saya"}
"""Statistics the national corpus does not reach yet (issue 15 stays open for them: its texts are still too
short, too tidily spaced, too seldom thank or say "saya"). Each is checked to be still outside its range, so
that the test says when one is reached and must move to the held ones."""


@pytest.mark.parametrize("key", sorted(RANGES))
def test_national_corpus_is_inside_the_agreed_range(key, national, kukar):
    low, high = RANGES[key]
    stat = realism.STATISTICS[key]
    value = national[key]
    print(f"{key}: national {realism.fmt(stat, value)}, kukar {realism.fmt(stat, kukar[key])} (not held), "
          f"range {realism.fmt(stat, low)}..{realism.fmt(stat, high)}")
    if key in KNOWN_GAPS:
        assert not low <= value <= high, f"{stat.label} is now inside its range: move '{key}' out of KNOWN_GAPS"
        return
    assert low <= value <= high, (
        f"{stat.label}: national corpus {realism.fmt(stat, value)} outside the agreed range "
        f"{realism.fmt(stat, low)}..{realism.fmt(stat, high)} (kukar corpus: {realism.fmt(stat, kukar[key])})")


# --- the statistics themselves: each test can fail if a detector breaks --------------------------------------

def test_word_counts_and_length_shares():
    texts = ["tes", " ".join(["kata"] * 101), "jalan rusak parah sekali di depan rumah kami"]
    assert realism.share_over_100_words(texts) == pytest.approx(1 / 3)
    assert realism.longest_words(texts) == 101
    assert realism.share_under_10_words(texts) == pytest.approx(2 / 3)
    assert realism.words("lampu - mati 🙏") == ["lampu", "mati"]


def test_punctuation_and_case_detectors():
    assert realism.ends_with_stop("Mohon ditindaklanjuti.")
    assert realism.ends_with_stop("kapan diperbaiki?? 🙏")
    assert not realism.ends_with_stop("mohon dicek min")
    assert realism.missing_space("sudah lapor,belum ada")
    assert realism.missing_space("blm nyala.mohon dicek")
    assert not realism.missing_space("bayar Rp 3.500,00 tiap bulan")
    assert not realism.missing_space("lihat di www.contoh.go.id ya")
    assert realism.starts_lower("  jalan rusak")
    assert not realism.starts_lower("123 Jalan rusak")


def test_texture_detectors():
    assert realism.has_line_break("Selamat pagi\nsaya mau lapor")
    assert not realism.has_line_break("satu baris\n")
    assert realism.has_emoji("tolong min 🙏")
    assert not realism.has_emoji("tolong min :)")
    assert realism.has_url("cek https://contoh.id/a") and realism.has_url("lihat bit.ly/abc")
    assert not realism.has_url("jam 10.30 di jl.merdeka")


def test_opening_and_wording_detectors():
    for opener in ("Selamat siang pak", "assalamualaikum wr wb", "Permisi min", "pagi min", "Halo admin",
                   "Punten, bade lapor"):
        assert realism.opens_with_greeting(opener), opener
    assert not realism.opens_with_greeting("Jalan di depan sekolah rusak, selamat pagi")
    assert realism.mentions_thanks("Terimakasih atas perhatiannya")
    assert realism.mentions_thanks("makasih min")
    assert not realism.mentions_thanks("kasih tau dong")
    assert realism.has_saya("Saya warga RT 3") and not realism.has_saya("sayangnya belum")
    assert realism.has_kami("rumah kami") and not realism.has_kami("kamis depan")
    assert realism.opens_with_dengan_hormat("Yth. Bapak Bupati\nDengan hormat, kami")
    assert not realism.opens_with_dengan_hormat(" ".join(["kata"] * 12) + " dengan hormat")
