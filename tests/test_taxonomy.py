"""Deployments: the codes are a contract, and a broken file names the entry at fault."""

from pathlib import Path

import pytest
import yaml

from triage.errors import TaxonomyError, UnknownCodeError
from triage.taxonomy import HEADS, load_taxonomy


def test_kukar_keeps_the_reference_codes_valid(taxonomy, shared_dir):
    """The original codes keep their meaning: every OPD code is a body, every category code reads as a
    national code, the maladministration codes are the same."""
    reference = yaml.safe_load((shared_dir / "taxonomy" / "kukar.yaml").read_text())
    assert set(reference["opd"]) <= set(taxonomy.codes("opd"))
    assert all(taxonomy.check("category", code) in taxonomy.codes("category") for code in reference["categories"])
    assert taxonomy.codes("maladministration") == list(reference["maladministration"])


def test_kukar_shape(taxonomy):
    kinds = [label.kind for label in taxonomy.labels["opd"].values()]
    assert (len(taxonomy.codes("category")), len(taxonomy.codes("maladministration"))) == (69, 11)
    assert (kinds.count("kecamatan"), kinds.count("desa") + kinds.count("kelurahan"), kinds.count("outside")) \
        == (20, 237, 13)
    assert taxonomy.label("opd", "dpupr").name == "Dinas Pekerjaan Umum dan Penataan Ruang"
    assert taxonomy.check("category", "infrastruktur") == "pekerjaan_umum"  # an old code reads as national


def test_kalsel_shares_categories_but_has_its_own_bodies(taxonomy):
    kalsel = load_taxonomy("kalsel")
    assert kalsel.codes("category") == taxonomy.codes("category")
    assert "rsud_ulin" in kalsel.codes("opd") and "rsud_ulin" not in taxonomy.codes("opd")
    assert kalsel.hash == taxonomy.hash  # one model serves both; each routes to its own bodies


def test_protected_words_cover_places_and_acronyms(taxonomy):
    protected = taxonomy.protected_words()
    assert {"kutai", "tenggarong", "pupr", "rsud", "bpbd"} <= protected
    assert not {"dinas", "badan", "jalan"} & protected


def test_unknown_code_names_the_known_ones(taxonomy):
    with pytest.raises(UnknownCodeError, match="'dinas-pu2' is not an opd code of deployment 'kukar'. Known codes: pemkab, setda"):
        taxonomy.check("opd", "dinas-pu2")


def test_unknown_deployment_lists_the_shipped_ones():
    with pytest.raises(TaxonomyError, match="Shipped deployments: kab_bandung, kalsel, kukar, samarinda, surabaya"):
        load_taxonomy("jakarta")


@pytest.mark.parametrize("broken, message", [
    ({"opd": {"Dinas PU": {"name": "x"}}}, r"opd.Dinas PU: a code must be lower-case"),
    ({"opd": {"dpupr": {"aliases": ["PU"]}}}, r"opd.dpupr: expected a mapping with a non-empty 'name'"),
    ({"opd": {"dpupr": {"name": "PU", "focal_point": "Pak Budi"}}}, r"opd.dpupr: 'focal_point' must be a mapping"),
    ({"categories": []}, r"section 'categories' must map codes"),
])
def test_invalid_entries_are_named(tmp_path: Path, broken, message):
    good = {"deployment": {"code": "demo", "name": "Demo"},
            "categories": {"a": {"name": "A"}}, "opd": {"b": {"name": "B"}},
            "maladministration": {"c": {"name": "C"}}}
    good.update(broken)
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(good))
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(path)


def test_a_new_deployment_needs_no_code(tmp_path: Path):
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump({
        "deployment": {"code": "demo", "name": "Demo"},
        "categories": "same_as kukar", "maladministration": "same_as kukar",
        "opd": {"dinas_a": {"name": "Dinas A", "focal_point": {"name": "Narahubung A", "phone": "0541-000"}}}}))
    demo = load_taxonomy(path)
    assert demo.codes("opd") == ["dinas_a"]
    assert demo.label("opd", "dinas_a").focal_point.name == "Narahubung A"
    assert all(demo.codes(h) for h in HEADS)
