"""Normalisation: what a complaint looks like after step 1."""

from triage.normalise import SLANG, STOP_WORDS, normalise, tokens


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
