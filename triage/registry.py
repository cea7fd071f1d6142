"""Model artefacts on disk: save, verify, load, list, promote and roll back.

Layout of the models directory (``TRIAGE_MODELS_DIR``, default ``models/``)::

    models/
      kukar-seed/              the shipped model (the only one in git)
        model.pickle           the fitted model as a triage.predict.Predictor (its arrays: no
                               scikit-learn needed to load it)
        metadata.json          version, created, deployment, taxonomy hash, training data hash,
                               library versions, metrics, sha256 of model.pickle
        report.md              optional: evaluation or retraining report
      kukar-20261123T101500/   a retrained model
      PROMOTED.json            {"current": version, "history": [older versions...]}

With no ``PROMOTED.json`` the shipped model serves. Loading verifies the sha256 of the file, the taxonomy
hash and the scikit-learn version before unpickling anything: a corrupt file, a model trained for other
codes or by another scikit-learn is refused with a message saying what to do. Versions saved before
``model.pickle`` existed hold ``model.joblib`` (the whole scikit-learn estimator); they still load, more
slowly.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import platform
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path

from triage.errors import ModelError, ModelIntegrityError, ModelMismatchError, ModelNotFoundError
from triage.predict import Predictor
from triage.taxonomy import Taxonomy

SHIPPED_VERSION = "kukar-seed"
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_POINTER = "PROMOTED.json"
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib", "PySastrawi")
ARTEFACT = "model.pickle"
_LEGACY_ARTEFACT = "model.joblib"  # versions saved before the Predictor: the whole TriageModel


def library_versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on, plus Python's."""
    versions = {name: package_version(name) for name in _LIBRARIES}
    versions["python"] = platform.python_version()
    return versions


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows of one saved model, from its metadata."""

    version: str
    path: Path
    metadata: dict

    @property
    def created(self) -> str:
        return self.metadata.get("created", "")


class ModelRegistry:
    """The versioned models of one models directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- writing ------------------------------------------------------------------------------------

    def save(self, model: object, *, deployment: Taxonomy, metadata: dict, version: str | None = None,
             report: str | None = None) -> ModelInfo:
        """Write ``model`` as a new version, atomically (a half-written version never appears).

        ``model`` is a :class:`~triage.predict.Predictor`, or a fitted :class:`~triage.model.TriageModel`, which
        is saved as its :meth:`~triage.model.TriageModel.predictor`.
        """
        created = datetime.now(timezone.utc)
        version = version or f"{deployment.code}-{created.strftime('%Y%m%dT%H%M%S%f')[:-3]}"
        if not _VERSION.fullmatch(version):
            raise ModelError(f"'{version}' cannot name a model version: use letters, digits, '.', '_' and '-'.")
        final = self.root / version
        if final.exists():
            raise ModelError(f"Model version '{version}' already exists in {self.root}; choose another name.")
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=self.root))
        with open(staging / ARTEFACT, "wb") as handle:
            pickle.dump(model if isinstance(model, Predictor) else model.predictor(), handle, protocol=5)
        meta = {
            **metadata,
            "version": version,
            "created": created.isoformat(timespec="seconds"),
            "deployment": deployment.code,
            "taxonomy_sha256": deployment.hash,
            "libraries": library_versions(),
            "sha256": _sha256(staging / ARTEFACT),
        }
        (staging / "metadata.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        if report is not None:
            (staging / "report.md").write_text(report, encoding="utf-8")
        os.replace(staging, final)
        return ModelInfo(version=version, path=final, metadata=meta)

    def promote(self, version: str) -> None:
        """Make ``version`` the serving model (the one before it goes onto the rollback history)."""
        self.info(version)
        state = self._pointer()
        current = state.get("current") or (SHIPPED_VERSION if (self.root / SHIPPED_VERSION).is_dir() else None)
        history = state.get("history", [])
        if current and current != version:
            history = [current, *history]
        self._write_pointer({"current": version, "history": history[:50]})

    def rollback(self) -> str:
        """Serve the previously promoted model again; returns its version."""
        state = self._pointer()
        history = state.get("history", [])
        if not history:
            raise ModelError("Nothing to roll back to: no model was served before the current one.")
        previous, rest = history[0], history[1:]
        self.info(previous)
        self._write_pointer({"current": previous, "history": rest})
        return previous

    # -- reading ------------------------------------------------------------------------------------

    def current_version(self) -> str:
        """The version that serves: the promoted one, else the shipped one."""
        current = self._pointer().get("current")
        if current:
            return current
        if (self.root / SHIPPED_VERSION / "metadata.json").is_file():
            return SHIPPED_VERSION
        raise ModelNotFoundError(f"No model in {self.root}: no {_POINTER} and no shipped '{SHIPPED_VERSION}'. "
                                 "Train one with `triage train` or set TRIAGE_MODELS_DIR.")

    def pointer_stamp(self) -> tuple[float, str]:
        """Cheap fingerprint of the promotion pointer, to notice a promotion without loading anything."""
        path = self.root / _POINTER
        try:
            return path.stat().st_mtime, path.read_text()
        except FileNotFoundError:
            return 0.0, ""

    def list(self) -> list[ModelInfo]:
        """All saved versions, oldest first."""
        infos = []
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if folder.is_dir() and not folder.name.startswith(".") and (folder / "metadata.json").is_file():
                    infos.append(self.info(folder.name))
        return sorted(infos, key=lambda i: (i.created, i.version))

    def info(self, version: str) -> ModelInfo:
        """Metadata of ``version``; :class:`ModelNotFoundError` if there is no such version."""
        if not _VERSION.fullmatch(version or ""):
            raise ModelNotFoundError(f"'{version}' is not a model version name (letters, digits, '.', '_', '-'; "
                                     "no folders). See `triage models list`.")
        path = self.root / version
        meta_path = path / "metadata.json"
        if not meta_path.is_file():
            known = ", ".join(i.version for i in self.list()) if self.root.is_dir() and version else ""
            raise ModelNotFoundError(f"No model version '{version}' in {self.root}. Known versions: "
                                     f"{known or 'none'}.")
        try:
            metadata = json.loads(meta_path.read_text())
        except json.JSONDecodeError as exc:
            raise ModelIntegrityError(f"{meta_path} is not valid JSON ({exc.msg}); the artefact is damaged. "
                                      "Restore it or remove the version.") from None
        return ModelInfo(version=version, path=path, metadata=metadata)

    def load(self, version: str | None, deployment: Taxonomy, *,
             accept_older_taxonomy: bool = False) -> tuple[Predictor, ModelInfo]:
        """Verify and load ``version`` (``None``: the serving one) for ``deployment``.

        ``accept_older_taxonomy`` (retraining only, never serving) also loads a model trained for another
        taxonomy whose codes are all codes of ``deployment`` still (a deployment that has since added codes),
        so that it can be compared with a challenger trained for the new taxonomy.
        """
        info = self.info(version or self.current_version())
        meta = info.metadata
        other_taxonomy = meta.get("taxonomy_sha256") != deployment.hash
        if other_taxonomy and not accept_older_taxonomy:
            raise ModelMismatchError(
                f"Model '{info.version}' was trained for deployment '{meta.get('deployment')}' with other codes "
                f"than deployment '{deployment.code}' has now. Retrain for this taxonomy (`triage train "
                f"--deployment {deployment.code}`) or serve the deployment the model was made for.")
        trained_with = meta.get("libraries", {}).get("scikit-learn")
        installed = package_version("scikit-learn")
        if trained_with != installed:
            raise ModelMismatchError(
                f"Model '{info.version}' was saved by scikit-learn {trained_with}, but {installed} is installed. "
                f"Install scikit-learn=={trained_with} (as pyproject.toml pins) or retrain the model.")
        file = info.path / ARTEFACT
        if not file.is_file() and (info.path / _LEGACY_ARTEFACT).is_file():
            file = info.path / _LEGACY_ARTEFACT
        if not file.is_file() or _sha256(file) != meta.get("sha256"):
            raise ModelIntegrityError(
                f"{file} does not match the sha256 in its metadata: the file is corrupt or was changed. "
                "Restore it from the registry's source, or retrain.")
        try:
            model = _read(file)
        except Exception as exc:  # a pickle that passes the checksum but cannot load: still a clear message
            raise ModelIntegrityError(f"{file} could not be loaded ({type(exc).__name__}: {exc}).") from None
        if other_taxonomy:
            gone = {head: sorted(set(map(str, model.classes_[head])) - set(deployment.codes(head)))
                    for head in model.classes_}
            gone = {head: codes for head, codes in gone.items() if codes}
            if gone:
                listed = "; ".join(f"{head}: {', '.join(codes)}" for head, codes in gone.items())
                raise ModelMismatchError(
                    f"Model '{info.version}' predicts codes that deployment '{deployment.code}' no longer has "
                    f"({listed}); it cannot be compared on the new taxonomy.")
        return model, info

    # -- the pointer --------------------------------------------------------------------------------

    def _pointer(self) -> dict:
        path = self.root / _POINTER
        if not path.is_file():
            return {}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            raise ModelError(f"{path} is damaged (not JSON). Promote a version again with "
                             "`triage models promote VERSION`.") from None

    def _write_pointer(self, state: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".promoted.", dir=self.root)
        with os.fdopen(fd, "w") as handle:
            json.dump(state, handle, indent=2)
        os.replace(tmp, self.root / _POINTER)


def _read(file: Path) -> Predictor:
    """The :class:`Predictor` saved in ``file``."""
    if file.name == _LEGACY_ARTEFACT:
        import joblib  # the whole scikit-learn estimator, as versions were saved before model.pickle

        return joblib.load(file).predictor()
    with open(file, "rb") as handle:
        model = pickle.load(handle)
    if not isinstance(model, Predictor):
        raise TypeError(f"expected a triage Predictor, found a {type(model).__name__}")
    return model


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
