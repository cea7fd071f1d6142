"""The national function layer: shipped data that loads, covers what issue 18 asks, and refuses bad files
with an error naming the entry at fault."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from triage.errors import TaxonomyError, UnknownCodeError
from triage.national import NATIONAL_DIR, OUTSIDE_CODES, load_national
from triage.taxonomy import LEGACY_DIR, load_taxonomy


@pytest.fixture(scope="module")
def national():
    return load_national()


def test_every_urusan_of_uu_23_2014_is_there_with_its_sipd_code(national):
    wajib_dasar = [f.code for f in national.functions.values()
                   if f.group == "wajib_pelayanan_dasar" and f.parent is None]
    non_dasar = [f.code for f in national.functions.values() if f.group == "wajib_non_pelayanan_dasar" and f.official]
    pilihan = [f.code for f in national.functions.values() if f.group == "pilihan"]
    assert wajib_dasar == ["1.01", "1.02", "1.03", "1.04", "1.05", "1.06"]
    assert non_dasar == [f"2.{n:02d}" for n in range(7, 25)]  # 2.07 tenaga kerja .. 2.24 kearsipan
    assert pilihan == [f"3.{n:02d}" for n in range(25, 33)]  # 3.25 kelautan .. 3.32 transmigrasi
    assert national.function("1.03").name == "Pekerjaan Umum dan Penataan Ruang"
    assert national.function("2.12").name == "Administrasi Kependudukan dan Pencatatan Sipil"


def test_supporting_supervisory_and_territorial_units_are_there(national):
    names = {code: national.function(code).name for code in
             ("4.01", "5.01", "5.02", "5.03", "6.01", "7.01", "7.01.kel", "8.01")}
    assert names == {"4.01": "Sekretariat Daerah", "5.01": "Perencanaan", "5.02": "Keuangan",
                     "5.03": "Kepegawaian", "6.01": "Inspektorat Daerah", "7.01": "Kecamatan",
                     "7.01.kel": "Kelurahan", "8.01": "Kesatuan Bangsa dan Politik"}
    assert national.function("7.01.kel").official is False  # ours, not SIPD's: the data says so


def test_every_function_has_a_description_a_labeller_can_use(national):
    for function in national.functions.values():
        assert len(function.description.split()) >= 5, function.code
        assert function.slug.isidentifier()


def test_every_one_of_the_19_old_categories_maps_onto_an_existing_national_code(national):
    categories = load_taxonomy(LEGACY_DIR / "kukar.yaml").codes("category")
    assert len(categories) == 19
    assert sorted(national.legacy) == sorted(categories)
    for code in categories:
        target = national.national_of_category(code)
        assert target in national.functions
        assert all(also in national.functions for also in national.legacy[code].also)
    assert national.national_of_category("infrastruktur") == "1.03"
    assert national.national_of_category("kebencanaan") == "1.05.03"
    assert national.national_of_category("1.02") == "1.02"  # a national code reads as itself


def test_an_unknown_category_is_refused_naming_the_known_ones(national):
    with pytest.raises(UnknownCodeError, match="'jalan_rusak' is neither.*infrastruktur"):
        national.national_of_category("jalan_rusak")


def test_outside_destinations_of_the_contract_each_have_a_sourced_channel(national):
    for code in OUTSIDE_CODES:
        destination = national.destination(code)
        assert destination.channels and all(c.source for c in destination.channels), code
        assert national.is_outside(code)
    assert not national.is_outside("dinkes")
    assert national.destination("pln").forward_text() == (
        "bukan wewenang: teruskan ke PT PLN (Persero), 123 (dengan kode area dari ponsel), 24 jam "
        "/ LAPOR! PT PLN (Persero)")


def test_outcomes_that_are_not_a_routing(national):
    groups = {code: outcome.group for code, outcome in national.outcomes.items()}
    assert groups == {"aspirasi": "bukan_pengaduan", "pertanyaan": "bukan_pengaduan",
                      "terima_kasih": "bukan_pengaduan", "kosong": "tidak_dapat_diproses",
                      "spam": "tidak_dapat_diproses", "kasar": "tidak_dapat_diproses"}


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "national"
    shutil.copytree(NATIONAL_DIR, folder)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("functions.yaml", 'code: "1.02", slug: kesehatan', 'code: 1.02, slug: kesehatan',
     r"functions\[\d+\] \(1.02\): 'code' must look like 1.01"),
    ("functions.yaml", 'code: "1.06", slug: sosial, group: wajib_pelayanan_dasar',
     'code: "1.06", slug: sosial, group: wajib_dasar', r"\('1.06'\): group 'wajib_dasar' is not one of"),
    ("functions.yaml", 'code: "2.08", slug: perempuan_anak', 'code: "2.07", slug: perempuan_anak',
     r"\('2.07'\): code 2.07 is listed twice"),
    ("functions.yaml", 'code: "3.27", slug: pertanian, group: pilihan',
     'code: "2.27", slug: pertanian, group: pilihan', r"code 2.27 does not start with the digit of group 'pilihan'"),
    ("legacy_categories.yaml", 'infrastruktur:          {national: "1.03"}',
     'infrastruktur:          {national: "1.99"}', r"categories.infrastruktur: '1.99' is not a national function code"),
    ("outside.yaml", "  polri:\n", "  polisi:\n", r"destinations \['polri'\] are missing"),
    ("outside.yaml", '{kind: telepon, value: "Kontak OJK 157"', '{kind: fax, value: "Kontak OJK 157"',
     r"destinations.ojk.channels\[1\]: kind 'fax' is not one of"),
    ("outside.yaml", "spam:         {group: tidak_dapat_diproses",
     "spam:         {group: sampah", r"outcomes.spam: group 'sampah' is not one of"),
])
def test_a_bad_entry_is_refused_naming_it(tmp_path, file, old, new, message):
    folder = _copy(tmp_path)
    _edit(folder / file, old, new)
    with pytest.raises(TaxonomyError, match=message):
        load_national(folder)


def test_a_missing_file_says_which_files_are_needed(tmp_path):
    folder = _copy(tmp_path)
    (folder / "outside.yaml").unlink()
    with pytest.raises(TaxonomyError, match="outside.yaml does not exist.*functions.yaml, outside.yaml"):
        load_national(folder)


def test_an_edited_file_is_read_again(tmp_path):
    folder = _copy(tmp_path)
    assert load_national(folder).function("1.01").name == "Pendidikan"
    _edit(folder / "functions.yaml", 'name: "Pendidikan"', 'name: "Pendidikan Dasar"')
    assert load_national(folder).function("1.01").name == "Pendidikan Dasar"
