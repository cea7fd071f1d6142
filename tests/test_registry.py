"""Model artefacts: saved as data with signed metadata, verified before anything is parsed, promoted and
rolled back; old pickles load only when asked to."""

import hashlib
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest

from triage.artefact import write_predictor
from triage.errors import ModelError, ModelIntegrityError, ModelMismatchError, ModelNotFoundError
from triage.registry import SHIPPED_VERSION, ModelRegistry, library_versions
from triage.predict import Predictor
from triage.settings import PROJECT_ROOT, Settings
from triage.signing import RELEASE_KEY, ModelKeys, fingerprint, generate_key, parse_public_key
from triage.taxonomy import HEADS, LEGACY_DIR, load_taxonomy


@pytest.fixture
def registry(tmp_path):
    return ModelRegistry(tmp_path / "models")


def same_probabilities(model, expected, texts) -> bool:
    got, want = model.predict_proba(texts), expected.predict_proba(texts)
    return all(np.array_equal(got[head], want[head]) for head in HEADS)


def rewrite_metadata(folder: Path, **changes) -> None:
    meta = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps(meta | changes, indent=2))


def as_pickled(folder: Path, model, artefact: str = "model.pickle") -> None:
    """Make ``folder`` look like a version saved before model.npz: a pickle, its sha256, no signature."""
    (folder / "model.npz").unlink()
    (folder / "signature.json").unlink()
    if artefact == "model.pickle":
        (folder / artefact).write_bytes(pickle.dumps(model.predictor(), protocol=5))
    else:
        joblib.dump(model, folder / artefact, compress=3)  # the whole estimator, as the oldest versions
    rewrite_metadata(folder, sha256=hashlib.sha256((folder / artefact).read_bytes()).hexdigest())


def test_saved_model_loads_back_with_its_metadata(registry, tiny_model, taxonomy, small_corpus):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={"metrics": {"x": 1}}, version="v1")
    meta = json.loads((info.path / "metadata.json").read_text())
    assert meta["version"] == "v1" and meta["deployment"] == "kukar"
    assert meta["taxonomy_sha256"] == taxonomy.hash
    assert meta["libraries"]["scikit-learn"] == library_versions()["scikit-learn"]
    assert meta["sha256"] == hashlib.sha256((info.path / "model.npz").read_bytes()).hexdigest()
    assert meta["created"]
    assert sorted(p.name for p in info.path.iterdir()) == ["metadata.json", "model.npz", "signature.json"]
    model, loaded = registry.load("v1", taxonomy)
    assert loaded.version == "v1" and loaded.metadata == meta
    assert same_probabilities(model, tiny_model, small_corpus.texts)  # to the last bit


def test_the_saved_model_is_plain_data_numpy_reads_without_pickle(registry, tiny_model, taxonomy):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    with np.load(info.path / "model.npz", allow_pickle=False) as arrays:
        assert arrays["weights"].dtype == np.float32 and arrays["classes.opd"].dtype.kind == "U"
    with zipfile.ZipFile(info.path / "model.npz") as archive:
        state = json.loads(archive.read("state.json"))
    assert state["format"] == "triage-predictor" and [h["head"] for h in state["heads"]] == list(HEADS)
    assert write_predictor(registry.load("v1", taxonomy)[0]) == (info.path / "model.npz").read_bytes()


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


@pytest.mark.parametrize("artefact", ["model.pickle", "model.joblib"])
def test_a_pickled_version_is_refused_unless_pickles_are_allowed(
        registry, tiny_model, taxonomy, small_corpus, artefact):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    as_pickled(info.path, tiny_model, artefact)
    with pytest.raises(ModelError, match=rf"'v1' is a pickle \({artefact}\).*triage models convert v1 "
                                         r"--allow-pickle.*TRIAGE_ALLOW_PICKLED_MODELS=true"):
        registry.load("v1", taxonomy)
    model, _ = ModelRegistry(registry.root, allow_pickled=True).load("v1", taxonomy)
    assert isinstance(model, Predictor) and same_probabilities(model, tiny_model, small_corpus.texts)


def test_a_pickle_is_never_opened_without_the_opt_in(registry, tiny_model, taxonomy, tmp_path):
    class Payload:  # what an attacker who can write the models folder would drop there
        def __reduce__(self):
            return (Path.touch, (tmp_path / "code-ran",))

    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    as_pickled(info.path, tiny_model)
    (info.path / "model.pickle").write_bytes(pickle.dumps(Payload()))
    rewrite_metadata(info.path, sha256=hashlib.sha256((info.path / "model.pickle").read_bytes()).hexdigest())
    for attempt in (lambda: registry.load("v1", taxonomy), lambda: registry.verify("v1")):
        with pytest.raises(ModelError, match="is a pickle"):
            attempt()
    assert not (tmp_path / "code-ran").exists()


@pytest.mark.parametrize("artefact", ["model.pickle", "model.joblib"])
def test_a_converted_pickle_loads_signed_with_the_same_probabilities_to_the_last_bit(
        registry, tiny_model, taxonomy, small_corpus, artefact):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={"n_train": 7}, version="v1", report="# v1")
    as_pickled(info.path, tiny_model, artefact)
    pickled_sha256 = json.loads((info.path / "metadata.json").read_text())["sha256"]

    converted = registry.convert("v1")

    assert sorted(p.name for p in info.path.iterdir()) == ["metadata.json", "model.npz", "report.md",
                                                           "signature.json"]
    assert converted.metadata["converted_from"] == {"artefact": artefact, "sha256": pickled_sha256}
    assert converted.metadata["n_train"] == 7 and [i.version for i in registry.list()] == ["v1"]
    model, _ = registry.load("v1", taxonomy)
    assert same_probabilities(model, tiny_model, small_corpus.texts)
    with pytest.raises(ModelError, match="no pickle to convert"):
        registry.convert("v1")
def test_a_loaded_model_saves_again_as_it_is(registry, tiny_model, taxonomy, small_corpus):
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    loaded, _ = registry.load("v1", taxonomy)
    registry.save(loaded, deployment=taxonomy, metadata={}, version="v2")
    again, _ = registry.load("v2", taxonomy)
    assert (again.predict(small_corpus.texts[:5]) == tiny_model.predict(small_corpus.texts[:5])).all()


def test_a_corrupt_file_is_refused(registry, tiny_model, taxonomy):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    with open(info.path / "model.npz", "r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(ModelIntegrityError, match="does not match the sha256"):
        registry.load("v1", taxonomy)


# -- a folder changed by whoever can write the models directory is refused --------------------------------

def test_changed_metadata_is_refused(registry, tiny_model, taxonomy):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={"thresholds": {"opd": 0.9}}, version="v1")
    rewrite_metadata(info.path, thresholds={"opd": 0.1})
    with pytest.raises(ModelIntegrityError, match="signature does not match its metadata.json.*do not serve"):
        registry.load("v1", taxonomy)


def test_another_model_with_its_digest_written_into_the_metadata_is_refused(
        registry, tiny_model, taxonomy, small_corpus, learnable_corpus):
    from triage.train import build_model

    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    other = build_model(taxonomy, C=0.01).fit(learnable_corpus.texts, learnable_corpus.y())
    (info.path / "model.npz").write_bytes(write_predictor(other.predictor()))
    rewrite_metadata(info.path, sha256=hashlib.sha256((info.path / "model.npz").read_bytes()).hexdigest())
    with pytest.raises(ModelIntegrityError, match="signature does not match"):
        registry.load("v1", taxonomy)


def test_a_folder_signed_again_with_a_key_not_trusted_here_is_refused(registry, tiny_model, taxonomy, tmp_path):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    rewrite_metadata(info.path, thresholds={"opd": 0.1})
    generate_key(tmp_path / "attacker.pem", "attacker")
    forged = ModelKeys(trusted={}, signing_key=tmp_path / "attacker.pem")
    (info.path / "signature.json").write_bytes(forged.sign((info.path / "metadata.json").read_bytes()))
    with pytest.raises(ModelIntegrityError, match=r"signed by key SHA256:\S+, which is not trusted here.*"
                                                  "TRIAGE_TRUSTED_KEYS"):
        registry.load("v1", taxonomy)


@pytest.mark.parametrize("signature, message", [
    (None, "is not signed"),
    (b"{}", "not an Ed25519 signature document"),
    (b"not json", "not an Ed25519 signature document"),
])
def test_a_missing_or_mangled_signature_is_refused(registry, tiny_model, taxonomy, signature, message):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    if signature is None:
        (info.path / "signature.json").unlink()
    else:
        (info.path / "signature.json").write_bytes(signature)
    with pytest.raises(ModelIntegrityError, match=message):
        registry.load("v1", taxonomy)
    with pytest.raises(ModelIntegrityError, match=message):
        registry.verify("v1")


def test_a_signed_version_copied_under_another_name_is_refused(registry, tiny_model, taxonomy):
    import shutil

    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    shutil.copytree(info.path, registry.root / "v2")
    with pytest.raises(ModelIntegrityError, match="holds the signed metadata of version 'v1'"):
        registry.load("v2", taxonomy)


def test_a_model_signed_elsewhere_loads_once_its_public_key_is_trusted(tiny_model, taxonomy, tmp_path):
    line = generate_key(tmp_path / "keys" / "trainer.pem", "trainer@build")
    keys = ModelKeys(trusted={}, signing_key=tmp_path / "keys" / "trainer.pem")
    trainer = ModelRegistry(tmp_path / "models", keys=keys)
    trainer.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    server = Settings(models_dir=tmp_path / "models", signing_key=None)
    with pytest.raises(ModelIntegrityError, match="not trusted here"):
        ModelRegistry.for_settings(server).load("v1", taxonomy)
    (tmp_path / "keys" / "trusted").write_text(f"# the build machine\n{line}\n")
    server = server.model_copy(update={"trusted_keys": tmp_path / "keys" / "trusted"})
    trusted = ModelRegistry.for_settings(server)
    assert trusted.verify("v1") == fingerprint(parse_public_key(line, "test"))
    trusted.load("v1", taxonomy)


def test_key_files_inside_the_models_directory_are_refused(tmp_path):
    generate_key(tmp_path / "models" / "key.pem", "")
    for setting in ({"signing_key": tmp_path / "models" / "key.pem"},
                    {"trusted_keys": tmp_path / "models" / "key.pem.pub"}):
        with pytest.raises(ModelError, match="inside the models directory"):
            ModelKeys.from_settings(Settings(models_dir=tmp_path / "models", **setting))


def test_nothing_is_saved_without_a_signing_key(tiny_model, taxonomy, tmp_path):
    unsigned = ModelRegistry(tmp_path / "models", keys=ModelKeys(trusted={}, signing_key=None))
    with pytest.raises(ModelError, match="TRIAGE_SIGNING_KEY is not set.*triage models keygen"):
        unsigned.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_the_shipped_model_is_data_signed_by_the_release_key():
    shipped = ModelRegistry(PROJECT_ROOT / "models", keys=ModelKeys.from_settings(
        Settings(models_dir=PROJECT_ROOT / "models", signing_key=None)))
    assert [i.version for i in shipped.list()] == [SHIPPED_VERSION]
    assert sorted(p.name for p in (PROJECT_ROOT / "models" / SHIPPED_VERSION).iterdir()) == [
        "metadata.json", "model.npz", "signature.json"]
    assert shipped.verify(SHIPPED_VERSION) == fingerprint(parse_public_key(RELEASE_KEY, "release key"))


def test_a_model_for_another_taxonomy_is_refused(registry, tiny_model, taxonomy):
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    with pytest.raises(ModelMismatchError, match="trained for deployment 'kukar'.*Retrain"):
        registry.load("v1", load_taxonomy(LEGACY_DIR / "kalsel.yaml"))  # codes of its own, not national


def test_a_model_from_another_scikit_learn_is_refused(registry, tiny_model, taxonomy):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    meta = json.loads((info.path / "metadata.json").read_text())
    meta["libraries"]["scikit-learn"] = "0.24.2"
    (info.path / "metadata.json").write_text(json.dumps(meta))
    (info.path / "signature.json").write_bytes(registry.keys.sign((info.path / "metadata.json").read_bytes()))
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


# -- the operator's commands ----------------------------------------------------------------------------------

def triage(*args: str, env: dict) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, text=True,
                          env=os.environ | env, cwd=PROJECT_ROOT, timeout=120)


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites_one(tmp_path):
    made = triage("models", "keygen", str(tmp_path / "keys" / "ops.pem"), "--comment", "ops@pemda",
                  env={"TRIAGE_MODELS_DIR": str(tmp_path / "models")})
    assert made.returncode == 0, made.stderr
    line = (tmp_path / "keys" / "ops.pem.pub").read_text().strip()
    assert made.stdout.splitlines()[-1] == line and line.endswith(" ops@pemda")
    assert (tmp_path / "keys" / "ops.pem").stat().st_mode & 0o777 == 0o600
    again = triage("models", "keygen", str(tmp_path / "keys" / "ops.pem"), env={})
    assert again.returncode == 2 and "already exists" in again.stderr
    inside = triage("models", "keygen", str(tmp_path / "models" / "k.pem"),
                    env={"TRIAGE_MODELS_DIR": str(tmp_path / "models")})
    assert inside.returncode == 2 and "inside the models directory" in inside.stderr


def test_convert_asks_for_the_opt_in_then_the_version_serves_without_it(registry, tiny_model, taxonomy):
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    as_pickled(info.path, tiny_model)
    env = {"TRIAGE_MODELS_DIR": str(registry.root), "TRIAGE_ALLOW_PICKLED_MODELS": "false"}

    refused = triage("suggest", "--model", "v1", "jalan rusak", env=env)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1  # one line
    assert "triage models convert v1 --allow-pickle" in refused.stderr
    without_flag = triage("models", "convert", "v1", env=env)
    assert without_flag.returncode == 2 and "--allow-pickle" in without_flag.stderr
    assert (info.path / "model.pickle").is_file()

    converted = triage("models", "convert", "v1", "--allow-pickle", env=env)
    assert converted.returncode == 0 and "signed by SHA256:" in converted.stdout, converted.stderr
    served = triage("suggest", "--model", "v1", "--json", "jalan rusak", env=env)
    assert served.returncode == 0, served.stderr
    assert triage("models", "verify", env=env).stdout.startswith("ok       v1: signed by SHA256:")


def test_a_tampered_version_is_refused_by_promote_and_verify(registry, tiny_model, taxonomy):
    registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v1")
    info = registry.save(tiny_model, deployment=taxonomy, metadata={}, version="v2")
    registry.promote("v1")
    rewrite_metadata(info.path, thresholds={"opd": 0.0})
    env = {"TRIAGE_MODELS_DIR": str(registry.root)}

    promoted = triage("models", "promote", "v2", env=env)
    assert promoted.returncode == 2 and "signature does not match" in promoted.stderr
    assert registry.current_version() == "v1"
    verified = triage("models", "verify", env=env)
    assert verified.returncode == 2
    assert verified.stdout.splitlines()[0].startswith("ok       v1")
    assert verified.stdout.splitlines()[1].startswith("refused  v2: Model 'v2': its signature does not match")
