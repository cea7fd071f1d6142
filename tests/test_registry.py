"""Model artefacts: saved with metadata, verified on load, promoted and rolled back."""

import hashlib
import json
import subprocess
import sys

import joblib
import numpy as np
import pytest

from triage.errors import ModelError, ModelIntegrityError, ModelMismatchError, ModelNotFoundError
from triage.registry import SHIPPED_VERSION, ModelRegistry, library_versions
from triage.predict import Predictor
from triage.taxonomy import HEADS, load_taxonomy


@pytest.fixture
def registry(tmp_path):
    return ModelRegistry(tmp_path / "models")


def test_saved_model_loads_back_with_its_metadata(registry, tiny_model, taxonomy, small_corpus):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={"metrics": {"x": 1}}, version="v1")
    meta = json.loads((info.path / "metadata.json").read_text())
    assert meta["version"] == "v1" and meta["deployment"] == "kukar"
    assert meta["taxonomy_sha256"] == taxonomy.hash
    assert meta["libraries"]["scikit-learn"] == library_versions()["scikit-learn"]
    assert len(meta["sha256"]) == 64 and meta["created"]
    model, loaded = registry.load("v1", taxonomy)
    assert loaded.version == "v1"
    assert (model.predict(small_corpus.texts[:5]) == tiny_model.predict(small_corpus.texts[:5])).all()


def test_a_saved_model_loads_and_predicts_without_scikit_learn_as_the_commands_that_predict_run(
        registry, tiny_model, taxonomy, small_corpus):
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    texts = small_corpus.texts[:20]
    script = (
        "import contextlib, io, json, sys\n"
        "import triage.cli\n"
        "for command in ('batch', 'suggest', 'evaluate', 'serve'):  # the commands that predict, as a user runs them\n"
        "    sys.argv = ['triage', command, '--help']\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        triage.cli.main()\n"
        "import triage.api  # what API workers import (they start retraining in another process)\n"
        "from triage.registry import ModelRegistry\n"
        "from triage.taxonomy import load_taxonomy\n"
        f"model, _ = ModelRegistry({str(registry.root)!r}).load('v1', load_taxonomy('kukar'))\n"
        f"proba = model.predict_proba({texts!r})\n"
        "print(json.dumps({'sklearn': sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'),\n"
        "                  'proba': {h: p.tolist() for h, p in proba.items()}}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout)
    assert loaded["sklearn"] == []
    expected = tiny_model.predict_proba(texts)
    for head in HEADS:
        assert np.array_equal(np.asarray(loaded["proba"][head]), expected[head])


def test_a_version_saved_before_model_pickle_still_loads(registry, tiny_model, taxonomy, small_corpus):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    (info.path / "model.pickle").unlink()
    joblib.dump(tiny_model, info.path / "model.joblib", compress=3)  # as versions were saved before
    meta = json.loads((info.path / "metadata.json").read_text())
    meta["sha256"] = hashlib.sha256((info.path / "model.joblib").read_bytes()).hexdigest()
    (info.path / "metadata.json").write_text(json.dumps(meta))
    model, _ = registry.load("v1", taxonomy)
    assert isinstance(model, Predictor)
    assert (model.predict(small_corpus.texts[:5]) == tiny_model.predict(small_corpus.texts[:5])).all()


def test_a_loaded_model_saves_again_as_it_is(registry, tiny_model, taxonomy, small_corpus):
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    loaded, _ = registry.load("v1", taxonomy)
    registry.save(loaded, deployment=taxonomy, metadata={}, version="v2")
    again, _ = registry.load("v2", taxonomy)
    assert (again.predict(small_corpus.texts[:5]) == tiny_model.predict(small_corpus.texts[:5])).all()


def test_a_corrupt_file_is_refused(registry, tiny_model, taxonomy):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    with open(info.path / "model.pickle", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(ModelIntegrityError, match="does not match the sha256"):
        registry.load("v1", taxonomy)


def test_a_model_for_another_taxonomy_is_refused(registry, tiny_model, taxonomy):
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    with pytest.raises(ModelMismatchError, match="trained for deployment 'kukar'.*Retrain"):
        registry.load("v1", load_taxonomy("kalsel"))


def test_a_model_from_another_scikit_learn_is_refused(registry, tiny_model, taxonomy):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    meta = json.loads((info.path / "metadata.json").read_text())
    meta["libraries"]["scikit-learn"] = "0.24.2"
    (info.path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelMismatchError, match="saved by scikit-learn 0.24.2"):
        registry.load("v1", taxonomy)


def test_unknown_version_lists_known_ones(registry, tiny_model, taxonomy):
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    with pytest.raises(ModelNotFoundError, match="Known versions: v1"):
        registry.load("v9", taxonomy)


def test_an_empty_registry_says_how_to_get_a_model(registry, taxonomy):
    with pytest.raises(ModelNotFoundError, match="triage train"):
        registry.load(None, taxonomy)


def test_promote_and_rollback_switch_the_serving_version(registry, tiny_model, taxonomy):
    for version in (SHIPPED_VERSION, "v2", "v3"):
        registry.save(tiny_model, deployment=taxonomy, metadata={}, version=version)
    assert registry.current_version() == SHIPPED_VERSION
    registry.promote("v2")
    registry.promote("v3")
    assert registry.current_version() == "v3"
    assert registry.rollback() == "v2"
    assert registry.rollback() == SHIPPED_VERSION
    with pytest.raises(ModelError, match="Nothing to roll back to"):
        registry.rollback()
    assert [i.version for i in registry.list()] == [SHIPPED_VERSION, "v2", "v3"]


def test_saving_over_an_existing_version_is_refused(registry, tiny_model, taxonomy):
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    with pytest.raises(ModelError, match="already exists"):
        registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")


@pytest.mark.parametrize("version", ["../elsewhere/evil", "/etc", ".hidden", "a/b", ""])
def test_a_version_is_a_name_never_a_path(registry, tiny_model, taxonomy, version):
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    with pytest.raises(ModelNotFoundError, match="not a model version name"):
        registry.promote(version)
    with pytest.raises(ModelError, match="cannot name a model version"):
        registry.save(tiny_model, deployment=taxonomy, metadata={}, version=version or "a/b")
