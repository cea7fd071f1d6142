"""A deployment adds an OPD and a category. Retraining makes a model for the new taxonomy at once (comparing
with the serving model, whose codes are all still valid); handlers' decisions use the new codes; once a
code has the minimum of examples the next retrain learns it, and the report lists the codes still too rare.
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
from triage.taxonomy import DEPLOYMENTS_DIR, load_taxonomy

from .conftest import run_cli

pytestmark = pytest.mark.slow  # trains models or runs the service

SITES = ["Pulau Kumala", "Museum Mulawarman", "Waduk Panji Sukarame", "Ladang Budaya", "Bukit Bengkirai",
         "Pantai Pangempang", "Kedaton Kutai", "Taman Tanjong"]
TOURISM = [
    "objek wisata {site} kotor banyak sampah, toilet rusak, tiket masuk {n}0 ribu tidak sebanding",
    "pengelola wisata {site} pungut parkir dua kali, mohon ditertibkan dinas pariwisata",
    "fasilitas wisata di {site} rusak, gazebo roboh dan papan petunjuk hilang, wisatawan kecewa",
    "jadwal festival wisata di {site} tidak diumumkan, promosi pariwisata kukar kurang sekali",
]


def tourism(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(TOURISM).format(site=rng.choice(SITES), n=rng.randint(2, 9)) for _ in range(n)]


@pytest.fixture(scope="module")
def grown(tmp_path_factory) -> str:
    """kukar plus OPDs dispar (used by handlers) and damkar (not yet), and category pariwisata."""
    raw = yaml.safe_load((DEPLOYMENTS_DIR / "kukar.yaml").read_text(encoding="utf-8"))
    raw["opd"]["dispar"] = {"name": "Dinas Pariwisata", "aliases": ["Dispar"]}
    raw["opd"]["damkar"] = {"name": "Dinas Pemadam Kebakaran", "aliases": ["Damkar"]}
    raw["categories"]["pariwisata"] = {"name": "Pariwisata", "description": "objek wisata, festival, retribusi wisata"}
    path = tmp_path_factory.mktemp("taxonomy") / "kukar-grown.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def history(tmp_path_factory, grown, small_champion, small_corpus_dir, train_set):
    """Retrain once for the grown taxonomy, let handlers use the new codes through the API, retrain again."""
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
    result["refused"] = pytest.raises(ModelMismatchError, ModelRegistry(settings.models_dir).load, None,
                                      load_taxonomy(grown))
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
            codes = ({"category": "pariwisata", "opd": "dispar", "maladministration": "bukan_maladministrasi"}
                     if kind == "tourism" else {h: train_set.labels[h][item] for h in train_set.labels})
            decided = client.post(f"/v1/complaints/{created['id']}/decisions", json=codes, headers=headers)
            assert decided.status_code == 201, decided.text
        result["second"] = run_cli("retrain", settings=settings)
        result["suggested"] = [client.post("/v1/complaints", json={"text": t}, headers=headers).json()
                               ["suggestion"]["opd"]["code"] for t in tourism(12, seed=77)]
    result["second_report"] = json.loads(
        (registry.info(registry.current_version()).path / "retrain.json").read_text())
    return result


def test_serving_still_refuses_a_model_made_for_the_old_taxonomy(history):
    assert "other codes" in str(history["refused"].value)


def test_the_first_retrain_makes_a_model_for_the_new_taxonomy_and_lists_the_new_codes_as_too_rare(history, grown):
    assert history["first"].returncode == 0, history["first"].stderr
    report = history["first_report"]
    assert report["status"] == "promoted" and report["taxonomy_sha256"] == load_taxonomy(grown).hash
    assert any("older taxonomy" in note for note in report["notes"])
    assert report["too_rare"]["opd"] == {"dispar": 0, "damkar": 0}
    assert report["too_rare"]["category"] == {"pariwisata": 0}
    assert "too rare to learn (opd): dispar (0), damkar (0)" in history["first"].stdout


def test_once_handlers_used_a_new_code_enough_the_next_retrain_learns_it(history):
    assert history["second"].returncode == 0, history["second"].stdout + history["second"].stderr
    report = history["second_report"]
    assert report["new_codes"]["opd"] == ["dispar"] and report["new_codes"]["category"] == ["pariwisata"]
    assert report["too_rare"] == {"opd": {"damkar": 0}}
    assert "`damkar` (0)" in (ModelRegistry(history["settings"].models_dir).info(report["challenger"]).path
                              / "report.md").read_text()
    assert history["suggested"].count("dispar") >= 9, history["suggested"]


def test_retraining_may_compare_with_a_model_of_an_older_taxonomy_only_if_its_codes_are_all_still_there(
        tmp_path, tiny_model, taxonomy, grown):
    registry = ModelRegistry(tmp_path)
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="old")
    raw = yaml.safe_load((DEPLOYMENTS_DIR / "kukar.yaml").read_text(encoding="utf-8"))
    del raw["opd"]["inspektorat"]
    shrunk = tmp_path / "kukar-shrunk.yaml"
    shrunk.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")

    model, info = registry.load("old", load_taxonomy(grown), accept_older_taxonomy=True)
    with pytest.raises(ModelMismatchError, match="other codes"):
        registry.load("old", load_taxonomy(grown))
    with pytest.raises(ModelMismatchError, match="no longer has .*opd: inspektorat"):
        registry.load("old", load_taxonomy(str(shrunk)), accept_older_taxonomy=True)
    assert info.version == "old" and "dispar" not in model.classes_["opd"]
