"""The serving model is swapped when another one is promoted, without a restart."""

from __future__ import annotations

import shutil
import time

import yaml
from fastapi.testclient import TestClient

from triage.api import create_app
from triage.registry import ModelRegistry
from triage.serving import ModelHolder
from triage.settings import PROJECT_ROOT, Settings
from triage.taxonomy import LEGACY_DIR, load_taxonomy


def registry_with_two_models(tmp_path):
    root = tmp_path / "models"
    shutil.copytree(PROJECT_ROOT / "models" / "kukar-seed", root / "kukar-seed")
    model, _ = ModelRegistry(root).load("kukar-seed", load_taxonomy("kukar"))
    ModelRegistry(root).save(model, deployment=load_taxonomy("kukar"), metadata={}, version="kukar-next")
    return root


def test_a_promotion_is_served_within_the_check_interval_and_old_holders_keep_theirs(tmp_path):
    root = registry_with_two_models(tmp_path)
    # the interval runs from the start of a check, the first load included: long enough for a busy machine
    holder = ModelHolder(root, "kukar", check_seconds=3)
    before = holder.get()

    ModelRegistry(root).promote("kukar-next")
    assert holder.get() is before  # within the interval: no look at the disk
    time.sleep(3.1)
    after = holder.get()

    assert (before.version, after.version) == ("kukar-seed", "kukar-next")
    assert before.suggest("jalan rusak").model_version == "kukar-seed"  # in-flight requests finish on the old one
    assert holder.get() is after  # no reload while the pointer stays


def test_a_model_trained_for_an_edited_taxonomy_is_served_with_it_without_a_restart(tmp_path):
    deployment = tmp_path / "pemda.yaml"
    shutil.copy(LEGACY_DIR / "kukar.yaml", deployment)
    model, _ = ModelRegistry(PROJECT_ROOT / "models").load("kukar-seed", load_taxonomy("kukar"))
    registry = ModelRegistry(tmp_path / "models")
    registry.save(model, deployment=load_taxonomy(deployment), metadata={}, version="before")
    registry.promote("before")
    holder = ModelHolder(registry.root, deployment, check_seconds=0)
    assert "dispar" not in holder.get().taxonomy.codes("opd")

    raw = yaml.safe_load(deployment.read_text(encoding="utf-8"))
    raw["opd"]["dispar"] = {"name": "Dinas Pariwisata"}  # an operator adds an OPD...
    deployment.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    registry.save(model, deployment=load_taxonomy(deployment), metadata={}, version="after")  # ...retrains
    registry.promote("after")

    served = holder.get()
    assert served.version == "after" and "dispar" in served.taxonomy.codes("opd")


def test_a_promoted_model_that_cannot_load_leaves_the_old_one_serving(tmp_path):
    root = registry_with_two_models(tmp_path)
    holder = ModelHolder(root, "kukar", check_seconds=0)
    holder.get()
    (root / "kukar-next" / "model.npz").write_bytes(b"broken")

    ModelRegistry(root).promote("kukar-next")

    assert holder.get().version == "kukar-seed"
    assert "sha256" in holder.last_error


def test_a_promoted_model_whose_folder_was_changed_after_signing_is_not_swapped_in(tmp_path):
    root = registry_with_two_models(tmp_path)
    holder = ModelHolder(root, "kukar", check_seconds=0)
    holder.get()
    meta = (root / "kukar-next" / "metadata.json").read_text()
    (root / "kukar-next" / "metadata.json").write_text(meta.replace('"kukar-next"', '"kukar-next" ', 1))

    ModelRegistry(root).promote("kukar-next")  # as whoever can write the models directory would

    assert holder.get().version == "kukar-seed"
    assert "signature does not match its metadata.json" in holder.last_error


def test_the_api_suggests_with_the_newly_promoted_model(tmp_path, database_url, db):
    from triage.apikeys import create_key

    root = registry_with_two_models(tmp_path)
    _, token = create_key(db, "swap", "handler")
    headers = {"Authorization": f"Bearer {token}"}
    settings = Settings(database_url=database_url, models_dir=root, model_check_seconds=0)

    with TestClient(create_app(settings)) as client:
        first = client.post("/v1/complaints", json={"text": "jalan rusak"}, headers=headers).json()
        ModelRegistry(root).promote("kukar-next")
        second = client.post("/v1/complaints", json={"text": "jalan rusak"}, headers=headers).json()
        model = client.get("/v1/model", headers=headers).json()

    assert first["suggestion"]["model_version"] == "kukar-seed"
    assert second["suggestion"]["model_version"] == "kukar-next"
    assert model["version"] == "kukar-next"
