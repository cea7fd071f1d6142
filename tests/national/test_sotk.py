"""SOTK files: a pemda's bodies with their national codes and territory, as data (not deployments yet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.errors import TaxonomyError
from triage.national import load_national
from triage.sotk import OWN_LEVEL_DESTINATION, SOTK_DIR, load_sotk, plain_name
from triage.taxonomy import load_taxonomy

SHIPPED = ("surabaya", "kab_bandung", "samarinda", "kukar", "kalsel")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_sotk_loads_and_every_body_carries_existing_national_codes(name):
    sotk, national = load_sotk(name), load_national()
    assert sotk.code == name and sotk.sources
    for body in sotk.bodies.values():
        if body.kind == "outside":
            assert national.is_outside(body.code)
        else:
            assert body.functions and all(f in national.functions for f in body.functions), body.code


@pytest.mark.parametrize("name", SHIPPED)
def test_every_sotk_file_is_a_deployment_with_national_categories_and_its_own_bodies(name):
    taxonomy = load_taxonomy(name)
    national = load_national()
    assert taxonomy.national and taxonomy.code == name
    assert {f.slug for f in national.functions.values()} <= set(taxonomy.codes("category"))
    sotk = load_sotk(name)
    outside = set(national.destinations) - {OWN_LEVEL_DESTINATION.get(sotk.level)}  # a province is not outside itself
    assert outside <= set(taxonomy.codes("opd"))
    assert all(taxonomy.labels["opd"][d].outside and taxonomy.labels["opd"][d].forward_text for d in outside)
    bodies = {c for c, b in load_sotk(name).bodies.items() if b.kind != "outside"}
    assert bodies <= set(taxonomy.codes("opd"))


def test_several_bodies_may_share_a_code_and_one_body_may_carry_several():
    surabaya = load_sotk("surabaya")
    assert surabaya.bodies_of_function("1.02") == ["dinkes", "rsud_soewandhie", "rsud_bdh"]
    assert set(surabaya.bodies["dkpp"].functions) == {"2.09", "3.27", "3.25"}


def test_territory_becomes_bodies_with_their_kecamatan():
    surabaya = load_sotk("surabaya")
    kecamatan = [b for b in surabaya.bodies.values() if b.kind == "kecamatan"]
    kelurahan = [b for b in surabaya.bodies.values() if b.kind == "kelurahan"]
    assert len(kecamatan) == 31
    assert len(kelurahan) == 153  # after Perda 2/2022 merged Perak Utara and Perak Timur
    assert surabaya.bodies["kel_ketintang"].parent == "kec_gayungan"
    assert surabaya.bodies["kel_ketintang"].functions == ("7.01.kel",)


def test_body_names_match_as_exports_write_them():
    bandung = load_sotk("kab_bandung")
    assert bandung.body_of_name("Dinas Sosial Kabupaten Bandung") == "dinsos"
    assert bandung.body_of_name("Dinas Lingkungan Hidup Kab. Bandung") == "dlh"
    assert bandung.body_of_name("DINAS KESEHATAN KABUPATEN Bandung") == "dinkes"
    assert bandung.body_of_name("Ombudsman Republik Indonesia") == "ombudsman"
    assert bandung.body_of_name("Dinas Kesehatan Kota Bandung") is None  # another pemda
    surabaya = load_sotk("surabaya")
    assert surabaya.body_of_name("Kelurahan Wonorejo - Rungkut") == "kel_wonorejo_rungkut"
    assert surabaya.body_of_name("Kelurahan Wonorejo-Tegalsari") == "kel_wonorejo_tegalsari"
    assert surabaya.body_of_name("Kelurahan Perak Utara") == "kel_tanjung_perak"
    assert surabaya.body_of_name("Kecamatan Pabean Cantikan") == "kec_pabean_cantian"


def test_plain_name_ignores_case_and_punctuation():
    assert plain_name("RSUD dr. Mohamad Soewandhie") == plain_name("rsud DR MOHAMAD  soewandhie")
    assert plain_name("Kelurahan Wonorejo (Rungkut)") == plain_name("Kelurahan Wonorejo - Rungkut")


def _write(tmp_path: Path, body: str, extra: str = "") -> Path:
    path = tmp_path / "toy.yaml"
    path.write_text("sotk: {code: toy, name: Pemerintah Kota Toy, level: kota, sources: [Perda Kota Toy 1/2020]}\n"
                    f"bodies:\n{body}\n{extra}", encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "extra", "message"), [
    ("  dinkes: {name: Dinas Kesehatan, functions: ['1.99']}", "",
     r"bodies.dinkes: '1.99' is not a national function code"),
    ("  dinkes: {name: Dinas Kesehatan}", "", r"bodies.dinkes: 'functions' must list at least one"),
    ("  Dinkes: {name: Dinas Kesehatan, functions: ['1.02']}", "", r"bodies.Dinkes: a body code must be"),
    ("  dinkes: {name: Dinas Kesehatan, functions: ['1.02'], aliases: [DLH]}\n"
     "  dlh: {name: Dinas Lingkungan Hidup, functions: ['2.11'], aliases: [DLH]}", "",
     r"the name 'DLH' belongs to both 'dinkes' and 'dlh'"),
    ("  dinkes: {name: Dinas Kesehatan, functions: ['1.02']}", "outside:\n  pdam: {aliases: [PDAM]}\n",
     r"outside.pdam: 'pdam' is not a national outside destination"),
    ("  rsud: {name: RSUD Toy, kind: unit, parent: dinas, functions: ['1.02']}", "",
     r"bodies.rsud: parent 'dinas' is not a body of this file"),
])
def test_a_bad_sotk_entry_is_refused_naming_it(tmp_path, body, extra, message):
    with pytest.raises(TaxonomyError, match=message):
        load_sotk(_write(tmp_path, body, extra))


def test_a_sotk_without_sources_is_refused(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text("sotk: {code: toy, name: Toy, level: kota}\nbodies: {}\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="sotk.sources must list the regulations"):
        load_sotk(path)


def test_unknown_sotk_name_lists_the_shipped_ones():
    with pytest.raises(TaxonomyError, match="Shipped SOTK files: kab_bandung, kalsel, kukar, samarinda, surabaya"):
        load_sotk("medan")
    assert sorted(p.stem for p in SOTK_DIR.glob("*.yaml")) == sorted(SHIPPED)
