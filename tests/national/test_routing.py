"""Issue 18: every pemda routes on day one through its SOTK, outside destinations are suggested and decided
as *bukan wewenang*, and the place a complaint names decides its territorial office."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.apikeys import create_key
from triage.db import make_engine, make_sessions
from triage.route import Router
from triage.settings import PROJECT_ROOT, Settings
from triage.suggest import Suggester
from triage.taxonomy import load_taxonomy

MODELS = PROJECT_ROOT / "models"


def handler_headers(database_url: str) -> dict[str, str]:
    """The Authorization header of a new handler key in the database at ``database_url``."""
    engine = make_engine(database_url)
    with make_sessions(engine)() as session:
        headers = {"Authorization": f"Bearer {create_key(session, 'handler', 'handler')[1]}"}
    engine.dispose()
    return headers


def one_hot(router: Router, code: str, classes: list[str]) -> np.ndarray:
    proba = np.full((1, len(classes)), 0.001)
    proba[0, classes.index(code)] = 1.0
    return proba / proba.sum()


@pytest.fixture(scope="module")
def surabaya() -> Router:
    return Router(load_taxonomy("surabaya"))


def route_one(router: Router, code: str, text: str) -> tuple[str, str | None]:
    classes = router.taxonomy.codes("category")
    opd, reasons, _ = router.route([text], one_hot(router, code, classes), classes)
    return router.codes[int(opd[0].argmax())], reasons[0]


def test_a_function_one_body_carries_goes_to_that_body(surabaya):
    assert route_one(surabaya, "adminduk", "KTP saya belum jadi") == ("dispendukcapil", None)


def test_a_shared_function_goes_to_the_body_the_text_names_else_the_first_and_asks_for_review(surabaya):
    assert route_one(surabaya, "kesehatan", "antrean di RSUD Soewandhie lama sekali") == ("rsud_soewandhie", None)
    assert route_one(surabaya, "kesehatan", "pelayanan kesehatan di sini buruk sekali") == ("dinkes", "shared")


def test_a_territorial_matter_goes_to_the_office_of_the_place_named_else_waits_at_the_pemda(surabaya):
    assert route_one(surabaya, "kecamatan", "pelayanan di kec. Rungkut lambat") == ("kec_rungkut", None)
    assert route_one(surabaya, "kelurahan", "surat pengantar di Kelurahan Kalirungkut tidak diproses") \
        == ("kel_kalirungkut", None)
    assert route_one(surabaya, "kelurahan", "surat pengantar tidak diproses") == ("pemkot", "place")


def test_outside_destinations_go_to_themselves_and_spam_stays_with_the_pemda(surabaya):
    assert route_one(surabaya, "pln", "listrik padam") == ("pln", None)
    assert route_one(surabaya, "spam", "promo pinjaman cepat") == ("pemkot", None)


def test_a_function_the_pemda_has_no_body_for_waits_at_the_pemda_flagged():
    kalsel = Router(load_taxonomy("kalsel"))  # a province has no kecamatan offices
    assert route_one(kalsel, "kecamatan", "pelayanan kecamatan lambat")[1] == "place"


def route_mix(router: Router, shares: dict[str, float], text: str) -> str:
    """The body ``router`` routes ``text`` to when the category head gives these ``shares`` (the rest spread)."""
    classes = router.taxonomy.codes("category")
    proba = np.full((1, len(classes)), 0.001)
    for code, share in shares.items():
        proba[0, classes.index(code)] = share
    opd, _, _ = router.route([text], proba / proba.sum(), classes)
    return router.codes[int(opd[0].argmax())]


def test_a_question_goes_to_the_body_of_its_subject(surabaya):
    assert route_mix(surabaya, {"pertanyaan": 0.7, "adminduk": 0.2}, "syarat KTP apa saja?") == "dispendukcapil"


def test_a_province_keeps_its_own_level_and_routes_it_by_subject():
    kalsel = Router(load_taxonomy("kalsel"))
    assert "pemprov" not in kalsel.codes  # not a body outside the province: it is the province
    assert not kalsel.taxonomy.labels["category"]["pemprov"].outside
    text = "PPDB SMA negeri di Banjarbaru tidak transparan"
    assert route_mix(kalsel, {"pemprov": 0.6, "pendidikan": 0.3}, text) == "disdikbud"
    surabaya_outside = load_taxonomy("surabaya").labels["category"]["pemprov"]
    assert surabaya_outside.outside  # for a city the province is still bukan wewenang


def test_kukar_gives_village_office_matters_to_its_dpmd_as_its_sotk_says():
    kukar = Router(load_taxonomy("kukar"))
    assert route_one(kukar, "pemerintah_desa", "kepala desa jarang di kantor") == ("dpmd", None)
    assert kukar.label("pemerintah_desa") == "dpmd" and kukar.label("kecamatan") == "kecamatan"


@pytest.mark.parametrize("text, destination", [
    ("Listrik di rumah saya padam sejak jam 5 sore, sudah lapor ke PLN lewat aplikasi belum ada petugas datang",
     "pln"),
    ("Kuota M-Paspor di kantor imigrasi selalu habis, sudah sebulan saya tidak bisa daftar paspor", "imigrasi"),
    ("Saya diteror debt collector pinjaman online, data kontak saya disebar dan bunganya mencekik", "ojk"),
])
def test_triage_suggest_says_bukan_wewenang_and_where_to(text, destination):
    result = subprocess.run([sys.executable, "-m", "triage", "suggest", "--deployment", "samarinda", text],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
                            env={**os.environ, "TRIAGE_MODELS_DIR": str(MODELS)})
    assert result.returncode == 0, result.stderr
    opd_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("opd"))
    assert opd_line.split()[1] == destination
    assert "bukan wewenang: teruskan ke" in result.stdout
    assert "opd routing: national" in result.stdout


def test_any_shipped_pemda_is_served_with_its_own_bodies_and_an_outside_decision_is_a_forwarding(database_url):
    settings = Settings(database_url=database_url, models_dir=MODELS, deployment="samarinda")
    headers = handler_headers(database_url)
    samarinda = load_taxonomy("samarinda")
    with TestClient(create_app(settings)) as client:
        taxonomy = client.get("/v1/taxonomy", headers=headers).json()
        assert taxonomy["deployment"] == "samarinda"
        outside = {o["code"] for o in taxonomy["opd"] if o["outside"]}
        assert {"pln", "bpjs_kesehatan", "polri", "ojk", "imigrasi", "pemprov", "pemerintah_pusat"} <= outside
        assert all(o["forward_text"] for o in taxonomy["opd"] if o["outside"])

        created = client.post("/v1/complaints", json={"text": "Jalan di Kelurahan Sempaja Selatan berlubang "
                                                              "besar dan tergenang, mohon diperbaiki"},
                              headers=headers).json()
        suggestion = created["suggestion"]
        assert suggestion["routing"] == "national"
        assert suggestion["opd"]["code"] in samarinda.codes("opd")
        assert suggestion["where"]["village"]["code"] == "kel_sempaja_selatan"

        decided = client.post(f"/v1/complaints/{created['id']}/decisions", headers=headers, json={
            "category": "pln", "opd": "pln", "maladministration": "bukan_maladministrasi"})
        assert decided.status_code == 201, decided.text
        detail = client.get(f"/v1/complaints/{created['id']}", headers=headers).json()
        assert detail["stage"] == "forwarded"
        assert "PLN" in detail["timeline"][-1]["data"]["destination"]


def test_an_old_category_code_is_accepted_and_stored_as_the_national_code(database_url):
    settings = Settings(database_url=database_url, models_dir=MODELS, deployment="kukar")
    headers = handler_headers(database_url)
    with TestClient(create_app(settings)) as client:
        created = client.post("/v1/complaints", json={"text": "jalan poros rusak parah"}, headers=headers).json()
        decided = client.post(f"/v1/complaints/{created['id']}/decisions", headers=headers, json={
            "category": "infrastruktur", "opd": "dpupr", "maladministration": "bukan_maladministrasi"})
        assert decided.status_code == 201, decided.text
        assert client.get(f"/v1/complaints/{created['id']}", headers=headers).json()["routing"]["category"] == "pekerjaan_umum"


def test_a_suggester_routes_day_one_for_a_pemda_and_learned_for_its_own():
    assert Suggester.from_registry(MODELS, "surabaya").routing == "national"
    assert Suggester.from_registry(MODELS, "kukar").routing == "learned"
