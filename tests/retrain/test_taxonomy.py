"""A deployment grows: an operator adds a body to its SOTK file; handlers start using it; retraining learns it.

The category head predicts national codes, the same for every deployment, so adding a body leaves the
deployment's hash (category and maladministration only) unchanged: the serving model keeps serving, its OPD
head (learned for this deployment) simply does not know the new body. The first retrain lists the new body
among the OPD codes too rare to learn; once handlers decided enough complaints with it, the next retrain
learns it and suggests it.
"""

from __future__ import annotations

import json
import random

import pytest
import yaml
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.apikeys import create_key
from triage.db import make_engine, make_sessions
from triage.errors import ModelMismatchError
from triage.registry import ModelRegistry
from triage.suggest import Suggester, opd_learned_for
from triage.taxonomy import LEGACY_DIR, SOTK_DIR, load_taxonomy

from .conftest import run_cli

pytestmark = pytest.mark.slow  # trains models or runs the service

NEW_BODY = "upt_wisata"
SITES = ["Pulau Kumala", "Museum Mulawarman", "Waduk Panji Sukarame", "Ladang Budaya", "Bukit Bengkirai",
         "Pantai Pangempang", "Kedaton Kutai", "Taman Tanjong"]
TOURISM = [
    "objek wisata {site} kotor banyak sampah, toilet rusak, tiket masuk {n}0 ribu tidak sebanding",
    "pengelola wisata {site} pungut parkir dua kali, mohon ditertibkan petugas objek wisata",
    "fasilitas wisata di {site} rusak, gazebo roboh dan papan petunjuk hilang, wisatawan kecewa",
    "jadwal festival wisata di {site} tidak diumumkan, promosi pariwisata kukar kurang sekali",
]


def tourism(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(TOURISM).format(site=rng.choice(SITES), n=rng.randint(2, 9)) for _ in range(n)]


def suggested_bodies(suggester: Suggester, texts: list[str]) -> list[set[str]]:
    """Per text, the OPD codes a handler is offered: the suggestion and its runners-up with any confidence."""
    offered = []
    for text in texts:
        opd = suggester.suggest(text).opd
        offered.append({opd.code} | {a.code for a in opd.alternatives if a.confidence > 0})
    return offered


@pytest.fixture(scope="module")
def grown(tmp_path_factory) -> str:
    """The kukar SOTK file plus a new unit under Dinas Pariwisata, carrying tourism (3.26)."""
    raw = yaml.safe_load((SOTK_DIR / "kukar.yaml").read_text(encoding="utf-8"))
    assert raw["sotk"]["code"] == "kukar" and "3.26" in raw["bodies"]["dispar"]["functions"]
    assert NEW_BODY not in raw["bodies"]
    raw["bodies"][NEW_BODY] = {"name": "UPT Pengelolaan Objek Wisata", "kind": "unit", "parent": "dispar",
                               "functions": ["3.26"], "aliases": ["UPT Objek Wisata"]}
    path = tmp_path_factory.mktemp("sotk") / "kukar-grown.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def history(tmp_path_factory, grown, small_champion, small_corpus_dir, train_set):
    """The old model serving the grown deployment; a retrain; handlers using the new body through the API;
    a second retrain."""
    import shutil

    from triage.db import upgrade
    from triage.settings import Settings

    folder = tmp_path_factory.mktemp("grown")
    shutil.copytree(small_champion, folder / "models")
    url = f"sqlite:///{folder / 'history.db'}"
    upgrade(url)
    settings = Settings(database_url=url, models_dir=folder / "models", training_data_dir=small_corpus_dir,
                        deployment=grown, model_check_seconds=0, retrain_min_examples=5)
    result = {"settings": settings}
    old = Suggester.from_registry(settings.models_dir, grown)
    result["old"] = {"version": old.version, "routing": old.routing, "classes": set(map(str, old.model.classes_["opd"])),
                     "offered": suggested_bodies(old, tourism(12, seed=77))}
    result["first"] = run_cli("retrain", settings=settings)
    registry = ModelRegistry(settings.models_dir)
    result["first_report"] = json.loads((registry.info(registry.current_version()).path / "retrain.json").read_text())

    engine = make_engine(url)
    with make_sessions(engine)() as session:
        headers = {"Authorization": f"Bearer {create_key(session, 'handler', 'handler')[1]}"}
    engine.dispose()
    rng = random.Random(2)
    ordinary = rng.sample(range(len(train_set)), 24)
    work = [("tourism", t) for t in tourism(16, seed=1)] + [("ordinary", i) for i in ordinary]
    rng.shuffle(work)
    with TestClient(create_app(settings)) as client:
        for kind, item in work:
            text = item if kind == "tourism" else train_set.texts[item]
            created = client.post("/v1/complaints", json={"text": text}, headers=headers).json()
            codes = ({"category": "pariwisata", "opd": NEW_BODY, "maladministration": "bukan_maladministrasi"}
                     if kind == "tourism" else {h: train_set.labels[h][item] for h in train_set.labels})
            decided = client.post(f"/v1/complaints/{created['id']}/decisions", json=codes, headers=headers)
            assert decided.status_code == 201, decided.text
        result["second"] = run_cli("retrain", settings=settings)
        result["suggested"] = [client.post("/v1/complaints", json={"text": t}, headers=headers).json()
                               ["suggestion"] for t in tourism(12, seed=77)]
    result["second_report"] = json.loads(
        (registry.info(registry.current_version()).path / "retrain.json").read_text())
    return result


def test_adding_a_body_keeps_the_national_hash_so_the_old_model_still_serves_without_the_new_body(history, grown):
    grown_taxonomy = load_taxonomy(grown)
    assert NEW_BODY in grown_taxonomy.codes("opd") and NEW_BODY not in load_taxonomy("kukar").codes("opd")
    assert grown_taxonomy.hash == load_taxonomy("kukar").hash
    old = history["old"]
    assert old["version"] == "kukar-small" and old["routing"] == "learned"  # its OPD head was learned for kukar
    assert NEW_BODY not in old["classes"]
    assert all(NEW_BODY not in offered for offered in old["offered"]), old["offered"]


def test_the_first_retrain_lists_the_new_body_as_too_rare(history, grown):
    assert history["first"].returncode == 0, history["first"].stdout + history["first"].stderr
    report = history["first_report"]
    assert report["status"] == "promoted", report["reasons"]
    assert report["champion"] == "kukar-small" and report["taxonomy_sha256"] == load_taxonomy(grown).hash
    assert not any("older taxonomy" in note for note in report["notes"]), report["notes"]
    assert report["opd_routing"] == {"challenger": "learned", "champion": "learned"}
    assert report["too_rare"]["opd"][NEW_BODY] == 0
    assert "dispar" in report["too_rare"]["opd"]  # nobody decided a tourism complaint yet
    assert report["too_rare"]["category"]["pariwisata"] == 0
    assert not any(code.startswith(("kec_", "kel_", "desa_")) for code in report["too_rare"]["opd"])
    assert NEW_BODY not in report["new_codes"]["opd"]
    assert f"{NEW_BODY} (0)" in history["first"].stdout


def test_once_handlers_used_the_new_body_enough_the_next_retrain_learns_it(history):
    assert history["second"].returncode == 0, history["second"].stdout + history["second"].stderr
    report = history["second_report"]
    assert report["status"] == "promoted", report["reasons"]
    assert report["new_codes"]["opd"] == [NEW_BODY], report["new_codes"]
    assert report["new_codes"]["category"] == ["pariwisata"], report["new_codes"]
    assert NEW_BODY not in report["too_rare"].get("opd", {})
    assert "pariwisata" not in report["too_rare"].get("category", {})
    assert "dispar" in report["too_rare"]["opd"]  # still never used: listed, with its count
    markdown = (ModelRegistry(history["settings"].models_dir).info(report["challenger"]).path
                / "report.md").read_text()
    assert f"`{NEW_BODY}`" in markdown.split("## Codes learned for the first time")[1]
    assert f"`dispar` ({report['too_rare']['opd']['dispar']})" in markdown
    suggested = history["suggested"]
    assert {s["model_version"] for s in suggested} == {report["challenger"]}
    assert {s["routing"] for s in suggested} == {"learned"}
    bodies = [s["opd"]["code"] for s in suggested]
    assert bodies.count(NEW_BODY) >= 9, bodies


def test_a_model_of_the_kukar_deployment_serves_the_grown_one_but_not_a_legacy_taxonomy(tmp_path, tiny_model,
                                                                                          taxonomy, grown):
    registry = ModelRegistry(tmp_path)
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="old")
    grown_taxonomy = load_taxonomy(grown)

    model, info = registry.load("old", grown_taxonomy)  # no accept_older_taxonomy: the national heads are the same
    assert info.version == "old" and NEW_BODY not in set(map(str, model.classes_["opd"]))
    assert opd_learned_for(info.metadata, grown_taxonomy)  # same pemda code: its own OPD head serves
    suggester = Suggester(model, grown_taxonomy, info.version, opd_learned=opd_learned_for(info.metadata,
                                                                                             grown_taxonomy))
    assert all(NEW_BODY not in offered for offered in suggested_bodies(suggester, tourism(8, seed=5)))
    with pytest.raises(ModelMismatchError, match="other codes"):  # its own category codes: another hash
        registry.load("old", load_taxonomy(LEGACY_DIR / "kukar.yaml"))
