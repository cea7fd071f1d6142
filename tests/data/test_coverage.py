"""Every national code has enough examples to be learned (issue 15): at least 40 in the training corpus (the
national and kukar corpora together, train and test), at least 120 for the codes real complaints use often.

"Often" is measured, not guessed (training_data/README.md, "Coverage"): a function whose bodies received at
least 1% of the disposed rows of one of the three real exports, plus the outcomes and destinations a pemda's
channel sees most (questions, proposals, thanks; PLN, Polri, BPJS Kesehatan, the province) and the village
office, which regencies route through their kecamatan in the exports.
"""

from collections import Counter

import pytest

from triage.dataset import read_corpus
from triage.settings import PROJECT_ROOT
from triage.taxonomy import load_taxonomy

OFTEN = (
    # >= 1% of disposed rows in Surabaya's, Kab. Bandung's or Samarinda's export (2026-12-04)
    "kecamatan", "pekerjaan_umum", "perhubungan", "lingkungan_hidup", "sosial", "ketertiban_umum", "kelurahan",
    "air_minum", "pendidikan", "adminduk", "penanaman_modal", "kesehatan", "tenaga_kerja", "kepegawaian",
    "pertanian", "perumahan_permukiman", "kepemudaan_olahraga", "pertanahan",
    # what a channel sees before disposition, and the village office
    "pertanyaan", "aspirasi", "terima_kasih", "pln", "polri", "bpjs_kesehatan", "pemprov", "pemerintah_desa",
    "kebakaran_penyelamatan", "perempuan_anak",
)
RARE_MINIMUM, OFTEN_MINIMUM = 40, 120


@pytest.fixture(scope="module")
def counts() -> Counter:
    taxonomy = load_taxonomy("kukar")
    found = Counter()
    for split in ("train", "test"):
        found.update(read_corpus(PROJECT_ROOT / "training_data", taxonomy, split).labels["category"])
    return found


def test_the_often_list_names_national_codes():
    codes = set(load_taxonomy("kukar").labels["category"])
    assert set(OFTEN) <= codes


def test_every_national_code_has_enough_examples(counts):
    taxonomy = load_taxonomy("kukar")
    short = {code: counts[code] for code in taxonomy.labels["category"]
             if counts[code] < (OFTEN_MINIMUM if code in OFTEN else RARE_MINIMUM)}
    assert short == {}, (f"codes under {RARE_MINIMUM} examples ({OFTEN_MINIMUM} for codes real complaints use "
                         f"often): {short}. Write examples (training_data/README.md, 'The national corpus').")
