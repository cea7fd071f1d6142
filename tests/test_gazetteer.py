"""Step "where" (triage/gazetteer.py): which kecamatan and kelurahan/desa a complaint names.

Every text here is written for these tests.
"""

from __future__ import annotations

import json
import time

import pytest

from triage.gazetteer import COMMON_WORDS, Gazetteer, Place, Where, damerau
from triage.sotk import load_sotk


@pytest.fixture(scope="module")
def surabaya() -> Gazetteer:
    return Gazetteer.of(load_sotk("surabaya"))


@pytest.fixture(scope="module")
def samarinda() -> Gazetteer:
    return Gazetteer.of(load_sotk("samarinda"))


def codes(where: Where) -> tuple[str | None, str | None]:
    return (where.kecamatan.code if where.kecamatan else None, where.village.code if where.village else None)


# -- markers, punctuation, spacing ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Saluran di Kel. Medokan Ayu mampet sejak hujan kemarin.",
    "saluran di kel medokan ayu mampet",
    "Saluran di Kelurahan Medokan Ayu mampet.",
    "saluran di kelurhan medokan ayu mampet",
    "Saluran mampet, Medokan Ayu.",
])
def test_a_kelurahan_gives_itself_and_its_kecamatan_with_or_without_marker(surabaya, text):
    assert codes(surabaya.find(text)) == ("kec_rungkut", "kel_medokan_ayu")


@pytest.mark.parametrize("text", [
    "Mohon petugas kebersihan ke Kec. Rungkut.",
    "mohon petugas ke kec rungkut",
    "Mohon petugas ke Kecamatan Rungkut.",
    "mohon petugas ke kecamtan rungkut",
    "mohon petugas ke kec.rungkut",
    "Mohon petugas ke wilayah Rungkut.",
])
def test_a_kecamatan_is_found_with_any_marker_spelling_or_none(surabaya, text):
    assert codes(surabaya.find(text)) == ("kec_rungkut", None)


def test_comma_without_space_separates_village_and_kecamatan(surabaya):
    where = surabaya.find("Rumah kami di Wonorejo,Rungkut kebanjiran.")
    assert codes(where) == ("kec_rungkut", "kel_wonorejo_rungkut")
    assert where.village.name == "Kelurahan Wonorejo (Rungkut)"


def test_matched_is_the_span_as_written_without_the_marker(surabaya):
    where = surabaya.find("LAMPU MATI DI KEL.MEDOKAN   AYU, KEC.RUNGKUT")
    assert where.village.matched == "MEDOKAN   AYU"
    assert where.kecamatan.matched == "RUNGKUT"
    assert where.kecamatan == Place("kec_rungkut", "Kecamatan Rungkut", "kecamatan", "RUNGKUT")


@pytest.mark.parametrize("text", ["Jalan di Tambak Rejo berlubang.", "Jalan di Tambakrejo berlubang.",
                                  "jalan di tambak-rejo berlubang"])
def test_spaced_and_unspaced_names_are_the_same(surabaya, text):
    assert codes(surabaya.find(text)) == ("kec_simokerto", "kel_tambakrejo")


def test_a_name_written_unspaced_that_the_sotk_spells_spaced(surabaya):
    assert codes(surabaya.find("pju mati di kel. kedungbaruk")) == ("kec_rungkut", "kel_kedung_baruk")
    assert codes(surabaya.find("pohon tumbang di kel. Gununganyar Tambak")) == ("kec_gunung_anyar",
                                                                                 "kel_gunung_anyar_tambak")


def test_old_spelling_is_folded(surabaya):
    assert codes(surabaya.find("Parkir liar di kel. Dr. Sutomo"))[1] == "kel_dr_soetomo"
    assert codes(surabaya.find("Parkir liar di kel. Dr. Soetomo"))[1] == "kel_dr_soetomo"


def test_the_longest_name_wins(surabaya):
    # "Sukolilo Baru" is a kelurahan of Bulak; "Sukolilo" alone is a kecamatan.
    assert codes(surabaya.find("Sampah menumpuk di Sukolilo Baru.")) == ("kec_bulak", "kel_sukolilo_baru")
    assert codes(surabaya.find("Sampah menumpuk di Sukolilo.")) == ("kec_sukolilo", None)


def test_a_desa_marker_in_a_kabupaten():
    gazetteer = Gazetteer.of(load_sotk("kab_bandung"))
    assert codes(gazetteer.find("Jalan desa rusak di Ds. Lebakwangi")) == ("kec_arjasari", "desa_lebakwangi")
    assert codes(gazetteer.find("jalan rusak di desa lebak wangi")) == ("kec_arjasari", "desa_lebakwangi")


# -- typos --------------------------------------------------------------------------------------------------

def test_one_typo_after_a_marker_in_a_name_of_six_letters_or_more(surabaya):
    assert codes(surabaya.find("banjir di kecamatan Rungkt")) == ("kec_rungkut", None)  # deletion
    assert codes(surabaya.find("banjir di kec. Rungkkut")) == ("kec_rungkut", None)  # insertion
    assert codes(surabaya.find("banjir di kel. Wonorjeo, kec. Rungkut"))[1] == "kel_wonorejo_rungkut"  # swap


def test_two_typos_only_in_names_of_ten_letters_or_more(surabaya):
    assert codes(surabaya.find("kel. Krembangn Selatn"))[1] == "kel_krembangan_selatan"
    assert codes(surabaya.find("kec. Wonokromo")) == ("kec_wonokromo", None)
    assert codes(surabaya.find("kec. Wnokromu")) == (None, None)  # 9 letters: one typo only


def test_no_typo_in_names_under_six_letters(surabaya):
    assert codes(surabaya.find("kel. Mojo")) == ("kec_gubeng", "kel_mojo")
    assert codes(surabaya.find("kel. Moja")) == (None, None)


def test_typos_without_marker_only_in_multi_word_names(surabaya):
    assert codes(surabaya.find("Saluran mampet di Penjaringn Sari")) == ("kec_rungkut", "kel_penjaringan_sari")
    assert codes(surabaya.find("Saluran mampet di Rungkt")) == (None, None)
    assert codes(surabaya.find("Saluran mampet di Wonokromu")) == (None, None)


# -- ambiguity and agreement --------------------------------------------------------------------------------

def test_a_village_name_of_two_kecamatan_is_chosen_by_the_kecamatan_named(surabaya):
    assert codes(surabaya.find("Kel. Wonorejo Kec. Tegalsari")) == ("kec_tegalsari", "kel_wonorejo_tegalsari")
    assert codes(surabaya.find("Kec. Rungkut, Kel. Wonorejo")) == ("kec_rungkut", "kel_wonorejo_rungkut")
    assert codes(surabaya.find("Got mampet di Kelurahan Wonorejo.")) == (None, None)


def test_a_bare_name_of_a_kecamatan_and_a_village_is_the_kecamatan(surabaya):
    # Benowo is a kecamatan, and a kelurahan of kecamatan Pakal.
    assert codes(surabaya.find("Jalan rusak di Benowo.")) == ("kec_benowo", None)
    assert codes(surabaya.find("Jalan rusak di Kec. Benowo.")) == ("kec_benowo", None)
    assert codes(surabaya.find("Jalan rusak di Kel. Benowo.")) == ("kec_pakal", "kel_benowo")


def test_a_village_and_a_kecamatan_that_disagree(surabaya):
    # Mojo lies in Gubeng. A marked village beats a bare kecamatan; otherwise the kecamatan is kept alone.
    assert codes(surabaya.find("Warga kel. Mojo, dekat Rungkut")) == ("kec_gubeng", "kel_mojo")
    assert codes(surabaya.find("kel. Mojo kec. Rungkut")) == ("kec_rungkut", None)
    assert codes(surabaya.find("Ngagel dan Rungkut")) == ("kec_rungkut", None)


def test_an_agreeing_pair_beats_a_stray_kecamatan(surabaya):
    text = "Saya dari Sawahan, melapor jalan rusak di kel. Keputih kec. Sukolilo"
    assert codes(surabaya.find(text)) == ("kec_sukolilo", "kel_keputih")


def test_of_several_kecamatan_the_marked_one_then_the_first(surabaya):
    assert codes(surabaya.find("Dari Gubeng menuju kec. Sawahan macet")) == ("kec_sawahan", None)
    assert codes(surabaya.find("Dari Gubeng menuju Sawahan macet")) == ("kec_gubeng", None)
    assert codes(surabaya.find("kec. Gubeng dan kec. Sawahan")) == ("kec_gubeng", None)


# -- common words and ordinary sentences ----------------------------------------------------------------------

def test_names_made_of_common_words_need_a_marker(samarinda, surabaya):
    assert codes(samarinda.find("Tolong sediakan air putih di ruang tunggu.")) == (None, None)
    assert codes(samarinda.find("Banjir di Kel. Air Putih.")) == ("kec_samarinda_ulu", "kel_air_putih")
    assert codes(samarinda.find("Pelabuhan ramai sekali pagi ini.")) == (None, None)
    assert codes(samarinda.find("Harga di pasar pagi naik.")) == (None, None)
    assert codes(surabaya.find("Genteng sekolah bocor.")) == (None, None)
    assert codes(surabaya.find("Jalan rusak di kel. Genteng")) == ("kec_genteng", "kel_genteng")
    assert {"kota", "baru", "sawah"} <= COMMON_WORDS


def test_a_name_that_is_not_a_common_word_counts_bare(samarinda):
    assert codes(samarinda.find("Lampu jalan mati di Sempaja Selatan.")) == ("kec_samarinda_utara",
                                                                              "kel_sempaja_selatan")
    assert codes(samarinda.find("Sampah di Sungai Kunjang belum diangkut.")) == ("kec_sungai_kunjang", None)


ORDINARY = [
    "Saya ingin menanyakan jadwal pembuatan KTP elektronik untuk anak saya yang baru berusia tujuh belas tahun.",
    "Lampu penerangan jalan umum di depan rumah kami mati sudah dua minggu, mohon segera diperbaiki.",
    "Pihak kelurahan tidak merespon laporan kami soal sampah yang menumpuk di pinggir sungai.",
    "Kecamatan setempat mohon menindaklanjuti pedagang kaki lima yang berjualan di trotoar.",
    "Bantuan sosial untuk lansia belum cair, padahal data kami sudah terdaftar di desa sejak tahun lalu.",
    "Air PDAM keruh dan berbau sejak tiga hari, warga terpaksa membeli air galon.",
    "Anak saya ditolak sekolah negeri karena zonasi, padahal rumah kami dekat dengan sekolah itu.",
    "Parkir liar di depan pasar membuat macet setiap pagi dan sore hari.",
    "Pohon besar di tepi jalan raya sudah miring dan membahayakan pengendara.",
    "Kota ini makin panas, mohon ditambah taman dan pohon peneduh di setiap kampung.",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_no_place_in_ordinary_sentences(surabaya, samarinda, text):
    assert surabaya.find(text) == Where(None, None)
    assert samarinda.find(text) == Where(None, None)


# -- interface --------------------------------------------------------------------------------------------

def test_to_dict_is_json_ready_with_none_where_nothing_found(surabaya):
    assert surabaya.find("tidak ada tempat").to_dict() == {"kecamatan": None, "village": None}
    found = json.loads(json.dumps(surabaya.find("kel. Keputih").to_dict()))
    assert found == {
        "kecamatan": {"code": "kec_sukolilo", "name": "Kecamatan Sukolilo", "kind": "kecamatan",
                      "matched": "Keputih"},
        "village": {"code": "kel_keputih", "name": "Kelurahan Keputih", "kind": "kelurahan",
                    "matched": "Keputih"},
    }


def test_of_is_cached_per_sotk_object():
    sotk = load_sotk("surabaya")
    assert Gazetteer.of(sotk) is Gazetteer.of(sotk)
    assert Gazetteer.of(load_sotk("samarinda")) is not Gazetteer.of(sotk)


def test_empty_and_non_ascii_text(surabaya):
    assert surabaya.find("") == Where(None, None)
    assert codes(surabaya.find("Jalan rusak — kel. Keputih ☹")) == ("kec_sukolilo", "kel_keputih")


def test_damerau_counts_a_swap_as_one_edit():
    assert damerau("wonorejo", "wonorjeo", 2) == 1
    assert damerau("rungkut", "rungkt", 2) == 1
    assert damerau("rungkut", "gubeng", 2) == 3  # over the limit: limit + 1


def test_a_typical_text_takes_well_under_a_millisecond(surabaya):
    text = ("Selamat siang admin, saya warga kel. Wonorejo kec. Rungkut ingin melaporkan saluran air di gang "
            "kami mampet sejak minggu lalu sehingga setiap hujan air meluap ke jalan dan masuk rumah warga, "
            "mohon segera dikirim petugas untuk membersihkan saluran tersebut terima kasih")
    surabaya.find(text)
    started = time.perf_counter()
    for _ in range(1000):
        surabaya.find(text)
    per_text = (time.perf_counter() - started) / 1000
    assert per_text < 1e-3  # the target is 0.1 ms; a generous bound so a busy machine does not fail it
