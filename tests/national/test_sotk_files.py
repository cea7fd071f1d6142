"""The shipped SOTK files as data: each loads, Kukar's and Kalsel's keep the OPD codes their deployments
already speak, and Kukar's territory is complete (20 kecamatan, every one with its desa/kelurahan)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from triage.national import load_national
from triage.sotk import load_sotk, plain_name

DEPLOYMENTS = Path(__file__).resolve().parents[2] / "triage" / "deployments" / "legacy"  # the taxonomies before the national layer
SHIPPED = ("kukar", "kalsel", "surabaya", "kab_bandung", "samarinda")

# The 21 OPD codes of the default deployment (triage/deployments/kukar.yaml): training data, stored
# decisions and the API speak them, so the SOTK file must keep every one as a body code.
KUKAR_LEGACY = ("dinkes", "rsud", "disdikbud", "dpupr", "perkim", "disdukcapil", "dlhk", "dishub", "dinsos",
                "dpmptsp", "bapenda", "disnakertrans", "satpolpp", "bpbd", "pdam", "dpmd", "bkpsdm", "distanak",
                "disperindag", "diskominfo", "inspektorat")

# National functions a kabupaten does not carry as a rule: ESDM is the province's (UU 23/2014 lampiran CC),
# border management and a liaison office only some pemda have.
NOT_EVERY_KABUPATEN = {"3.29", "5.06", "5.07"}


def _legacy_opd(name: str) -> dict:
    path = DEPLOYMENTS / f"{name}.yaml"
    if not path.is_file():
        pytest.skip(f"{path} (the pre-SOTK taxonomy) is no longer shipped; nothing to compare against")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return raw["opd"]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_sotk_file_loads_with_sources_and_existing_functions(name):
    sotk, national = load_sotk(name), load_national()
    assert sotk.code == name and sotk.sources
    assert any(body.kind == "pemda" for body in sotk.bodies.values()), "no body for the pemda's own account"
    for body in sotk.bodies.values():
        if body.kind == "outside":
            assert national.is_outside(body.code)
        else:
            assert body.functions, body.code
            assert all(f in national.functions for f in body.functions), (body.code, body.functions)


def test_kukar_keeps_the_21_legacy_opd_codes():
    bodies = load_sotk("kukar").bodies
    assert len(KUKAR_LEGACY) == 21
    missing = [code for code in KUKAR_LEGACY if code not in bodies]
    assert not missing
    assert all(bodies[code].kind in {"perangkat_daerah", "unit"} for code in KUKAR_LEGACY)


@pytest.mark.parametrize("name", ["kukar", "kalsel"])
def test_legacy_opd_codes_keep_their_names_aliases_and_lapor_names(name):
    sotk = load_sotk(name)
    for code, entry in _legacy_opd(name).items():
        assert code in sotk.bodies, code
        body = sotk.bodies[code]
        assert body.name == entry["name"], code
        assert set(entry.get("aliases") or []) <= set(body.aliases), code
        assert set(entry.get("lapor_aliases") or []) <= set(body.aliases), code
        assert body.lapor_name == entry.get("lapor_name"), code
        for alias in (body.name, *(entry.get("aliases") or []), *(entry.get("lapor_aliases") or [])):
            assert sotk.body_of_name(alias) == code, (code, alias)


def test_kukar_legacy_codes_carry_the_functions_their_remit_needs():
    bodies = load_sotk("kukar").bodies
    assert set(bodies["disdikbud"].functions) == {"1.01", "2.22"}
    assert bodies["pdam"].functions == ("1.03.03",)
    assert "2.07" in bodies["disnakertrans"].functions and "3.32" in bodies["disnakertrans"].functions
    assert set(bodies["disperindag"].functions) == {"3.30", "3.31"}
    assert bodies["satpolpp"].functions[0] == "1.05.02" and bodies["bpbd"].functions == ("1.05.03",)


def test_kukar_bodies_cover_every_function_a_kabupaten_carries():
    sotk, national = load_sotk("kukar"), load_national()
    carried = {f for body in sotk.bodies.values() for f in body.functions}
    expected = set(national.functions) - NOT_EVERY_KABUPATEN
    assert not expected - carried, sorted(expected - carried)


def test_kukar_has_its_20_kecamatan_each_with_villages():
    sotk = load_sotk("kukar")
    kecamatan = [b for b in sotk.bodies.values() if b.kind == "kecamatan"]
    assert len(kecamatan) == 20
    villages = [b for b in sotk.bodies.values() if b.kind in {"desa", "kelurahan"}]
    per_kecamatan = {k.code: [v for v in villages if v.parent == k.code] for k in kecamatan}
    assert all(per_kecamatan.values()), [k for k, v in per_kecamatan.items() if not v]
    assert sum(v.kind == "desa" for v in villages) == 193
    assert sum(v.kind == "kelurahan" for v in villages) == 44
    assert all(v.functions == (("2.13.desa",) if v.kind == "desa" else ("7.01.kel",)) for v in villages)
    assert sotk.bodies["kel_timbau"].parent == "kec_tenggarong"
    assert sotk.body_of_name("Kecamatan Semboja Barat") == "kec_samboja_barat"


def test_kukar_kecamatan_are_the_ones_the_deployment_names():
    path = DEPLOYMENTS / "kukar.yaml"
    if not path.is_file():
        pytest.skip(f"{path} is no longer shipped")
    listed = yaml.safe_load(path.read_text(encoding="utf-8"))["deployment"]["kecamatan"]
    sotk = load_sotk("kukar")
    names = {plain_name(b.name) for b in sotk.bodies.values() if b.kind == "kecamatan"}
    assert {plain_name(f"Kecamatan {k}") for k in listed} == names


def test_kab_bandung_lists_its_270_desa_and_10_kelurahan():
    bodies = load_sotk("kab_bandung").bodies.values()
    assert sum(b.kind == "kecamatan" for b in bodies) == 31
    assert sum(b.kind == "desa" for b in bodies) == 270
    assert sum(b.kind == "kelurahan" for b in bodies) == 10
    kecamatan = {b.code for b in bodies if b.kind == "kecamatan"}
    assert kecamatan == {b.parent for b in bodies if b.kind in {"desa", "kelurahan"}}


def test_kalsel_is_a_province_without_territorial_bodies():
    sotk = load_sotk("kalsel")
    assert sotk.level == "provinsi"
    assert not [b for b in sotk.bodies.values() if b.kind in {"kecamatan", "kelurahan", "desa"}]
    provincial = {"3.28", "3.29", "3.25", "1.01", "1.03", "5.02"}
    carried = {f for body in sotk.bodies.values() for f in body.functions}
    assert provincial <= carried
    assert sotk.body_of_name("Dinas Sosial Provinsi Kalimantan Selatan") == "dinsos"
