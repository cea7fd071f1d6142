"""Model artefacts on disk: save, sign, verify, load, list, promote and roll back.

Layout of the models directory (``TRIAGE_MODELS_DIR``, default ``models/``)::

    models/
      kukar-seed/              the shipped model (the only one in git)
        model.npz              the fitted model as data (:mod:`triage.artefact`): arrays and JSON, loaded
                               without unpickling anything and without scikit-learn
        metadata.json          version, created, deployment, taxonomy hash, training data hash,
                               library versions, metrics, sha256 of model.npz
        signature.json         Ed25519 signature of metadata.json (:mod:`triage.signing`)
        report.md              optional: evaluation or retraining report
      kukar-20261123T101500/   a retrained model
      PROMOTED.json            {"current": version, "history": [older versions...]}

With no ``PROMOTED.json`` the shipped model serves. Loading reads ``metadata.json`` and checks its signature
against the trusted keys (:class:`~triage.signing.ModelKeys`) before anything else, then the taxonomy hash
and the scikit-learn version it names, then the sha256 of ``model.npz``; only then are the model's bytes
parsed, from the same bytes that were hashed. A folder changed by whoever can write the models directory
(model, metadata, digest or signature) is refused with a message saying what to do; so is a model trained
for other codes or by another scikit-learn.

Versions saved before ``model.npz`` hold a pickle (``model.pickle``, or ``model.joblib``: the whole
scikit-learn estimator). Unpickling runs code, so they load only with ``TRIAGE_ALLOW_PICKLED_MODELS=true``;
``triage models convert VERSION --allow-pickle`` rewrites one as a signed ``model.npz`` once.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import platform
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from triage.artefact import ArtefactError, read_predictor, write_predictor
from triage.errors import ModelError, ModelIntegrityError, ModelMismatchError, ModelNotFoundError
from triage.predict import Predictor
from triage.signing import SIGNATURE_FILE, ModelKeys
from triage.taxonomy import Taxonomy

if TYPE_CHECKING:
    from triage.settings import Settings

SHIPPED_VERSION = "kukar-seed"
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_POINTER = "PROMOTED.json"
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib", "PySastrawi")
ARTEFACT = "model.npz"
PICKLED = ("model.pickle", "model.joblib")
"""Artefacts of versions saved before ``model.npz``: a pickled Predictor, or (older) the whole TriageModel."""


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
    """The versioned models of one models directory.

    ``keys`` sign what is saved and decide what loads; ``allow_pickled`` lets pickled versions load. Both
    default to the process's settings (``TRIAGE_SIGNING_KEY``, ``TRIAGE_TRUSTED_KEYS``,
    ``TRIAGE_ALLOW_PICKLED_MODELS``), read when first needed.
    """

    def __init__(self, root: str | Path, *, keys: ModelKeys | None = None,
                 allow_pickled: bool | None = None) -> None:
        self.root = Path(root)
        self._keys = keys
        self._allow_pickled = allow_pickled

    @classmethod
    def for_settings(cls, settings: Settings) -> ModelRegistry:
        """The registry of ``settings.models_dir``, with the keys and pickle policy of ``settings``."""
        return cls(settings.models_dir, keys=ModelKeys.from_settings(settings),
                   allow_pickled=settings.allow_pickled_models)

    @property
    def keys(self) -> ModelKeys:
        if self._keys is None:
            from triage.settings import get_settings

            self._keys = ModelKeys.from_settings(get_settings().model_copy(update={"models_dir": self.root}))
        return self._keys

    @property
    def allow_pickled(self) -> bool:
        if self._allow_pickled is None:
            from triage.settings import get_settings

            self._allow_pickled = get_settings().allow_pickled_models
        return self._allow_pickled

    # -- writing ------------------------------------------------------------------------------------

    def require_signing_key(self) -> None:
        """:class:`ModelError` unless this registry can sign what it saves: call it before long work."""
        self.keys.require_signing_key()

    def save(self, model: object, *, deployment: Taxonomy, metadata: dict, version: str | None = None,
             report: str | None = None) -> ModelInfo:
        """Write ``model`` as a new signed version, atomically (a half-written version never appears).

        ``model`` is a :class:`~triage.predict.Predictor`, or a fitted :class:`~triage.model.TriageModel`, which
        is saved as its :meth:`~triage.model.TriageModel.predictor`.
        """
        self.require_signing_key()
        created = datetime.now(timezone.utc)
        version = version or f"{deployment.code}-{created.strftime('%Y%m%dT%H%M%S%f')[:-3]}"
        if not _VERSION.fullmatch(version):
            raise ModelError(f"'{version}' cannot name a model version: use letters, digits, '.', '_' and '-'.")
        final = self.root / version
        if final.exists():
            raise ModelError(f"Model version '{version}' already exists in {self.root}; choose another name.")
        data = write_predictor(model if isinstance(model, Predictor) else model.predictor())
        meta = {
            **metadata,
            "version": version,
            "created": created.isoformat(timespec="seconds"),
            "deployment": deployment.code,
            "taxonomy_sha256": deployment.hash,
            "libraries": library_versions(),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        staging = self._staging(version)
        self._write_signed(staging, data, meta)
        if report is not None:
            (staging / "report.md").write_text(report, encoding="utf-8")
        os.replace(staging, final)
        return ModelInfo(version=version, path=final, metadata=meta)

    def convert(self, version: str) -> ModelInfo:
        """Rewrite pickled ``version`` as a signed ``model.npz`` in place (its metadata kept, its digest
        renewed, ``converted_from`` added); its probabilities stay the same to the last bit.

        Unpickling runs code: this is the one way to read a pickle besides ``allow_pickled``, and is only
        for versions whose origin the operator trusts (the CLI asks for ``--allow-pickle``).
        """
        self.require_signing_key()
        info = self.info(version)
        pickled = next((info.path / name for name in PICKLED if (info.path / name).is_file()), None)
        if pickled is None:
            raise ModelError(f"Model '{version}' has no pickle to convert (no {' or '.join(PICKLED)} in "
                             f"{info.path}); it is already saved as {ARTEFACT}.")
        model = self._read_pickled(info, pickled)
        data = write_predictor(model)
        again = read_predictor(data)
        probe = _probe_texts(model)
        before, after = model.predict_proba(probe), again.predict_proba(probe)
        if not all(np.array_equal(before[head], after[head]) for head in before):
            raise ModelError(f"Model '{version}' converted does not predict as the pickle does; nothing was "
                             "changed. Report this as a bug.")
        meta = {**info.metadata, "sha256": hashlib.sha256(data).hexdigest(),
                "converted_from": {"artefact": pickled.name, "sha256": info.metadata.get("sha256")}}
        staging = self._staging(version)
        for item in info.path.iterdir():  # reports and other files come along; the pickle does not
            if item.is_file() and item.name not in (*PICKLED, ARTEFACT, "metadata.json", SIGNATURE_FILE):
                shutil.copy2(item, staging / item.name)
        self._write_signed(staging, data, meta)
        retired = Path(tempfile.mkdtemp(prefix=f".{version}.pickled.", dir=self.root))
        os.replace(info.path, retired / version)
        os.replace(staging, info.path)
        shutil.rmtree(retired)
        return ModelInfo(version=version, path=info.path, metadata=meta)

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
        """All saved versions, oldest first (their metadata as found: :meth:`load` verifies)."""
        infos = []
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if folder.is_dir() and not folder.name.startswith(".") and (folder / "metadata.json").is_file():
                    infos.append(self.info(folder.name))
        return sorted(infos, key=lambda i: (i.created, i.version))

    def info(self, version: str) -> ModelInfo:
        """Metadata of ``version``, unverified (for listing; :meth:`load` verifies); :class:`ModelNotFoundError`
        if there is no such version."""
        path = self._folder(version)
        return ModelInfo(version=version, path=path, metadata=_metadata(path / "metadata.json",
                                                                        (path / "metadata.json").read_bytes()))

    def load(self, version: str | None, deployment: Taxonomy, *,
             accept_older_taxonomy: bool = False) -> tuple[Predictor, ModelInfo]:
        """Verify and load ``version`` (``None``: the serving one) for ``deployment``.

        ``accept_older_taxonomy`` (retraining only, never serving) also loads a model trained for another
        taxonomy whose codes are all codes of ``deployment`` still (a deployment that has since added codes),
        so that it can be compared with a challenger trained for the new taxonomy.
        """
        version = version or self.current_version()
        path = self._folder(version)
        file = path / ARTEFACT
        pickled = next((path / name for name in PICKLED if (path / name).is_file()), None)
        if not file.is_file() and pickled is not None:
            if not self.allow_pickled:
                raise ModelError(
                    f"Model '{version}' is a pickle ({pickled.name}), which can run code when loaded, and "
                    f"pickled models are not allowed: convert it once with `triage models convert {version} "
                    "--allow-pickle` if you trust its origin, or set TRIAGE_ALLOW_PICKLED_MODELS=true.")
            info = self.info(version)
            self._check_compatible(info, deployment, accept_older_taxonomy)
            model = self._read_pickled(info, pickled)
        else:
            info, data, _ = self._verified(version, deployment, accept_older_taxonomy)
            model = _parsed(info.metadata["sha256"], data, file)
        if info.metadata.get("taxonomy_sha256") != deployment.hash:
            gone = {head: sorted(set(map(str, model.classes_[head])) - set(deployment.codes(head)))
                    for head in model.classes_}
            gone = {head: codes for head, codes in gone.items() if codes}
            if gone:
                listed = "; ".join(f"{head}: {', '.join(codes)}" for head, codes in gone.items())
                raise ModelMismatchError(
                    f"Model '{info.version}' predicts codes that deployment '{deployment.code}' no longer has "
                    f"({listed}); it cannot be compared on the new taxonomy.")
        return model, info

    def verify(self, version: str) -> str:
        """Check ``version``'s signature and digest without loading it; returns the fingerprint of the key
        that signed it. :class:`ModelError` if it is pickled or fails a check."""
        path = self._folder(version)
        if not (path / ARTEFACT).is_file() and any((path / name).is_file() for name in PICKLED):
            raise ModelError(f"Model '{version}' is a pickle, not signed; convert it with `triage models "
                             f"convert {version} --allow-pickle` if you trust its origin.")
        return self._verified(version)[2]

    # -- checks and files ---------------------------------------------------------------------------

    def _verified(self, version: str, deployment: Taxonomy | None = None,
                  accept_older_taxonomy: bool = False) -> tuple[ModelInfo, bytes, str]:
        """The metadata, model bytes and signing key's fingerprint of signed ``version``, checked in this
        order: the signature of ``metadata.json`` (nothing else the folder holds is read before it), the
        version it names, the taxonomy and library versions (if ``deployment`` is given), then the sha256 of
        ``model.npz``'s bytes, which are returned: what is parsed is what was hashed."""
        path = self._folder(version)
        meta_bytes = (path / "metadata.json").read_bytes()
        signature = path / SIGNATURE_FILE
        signer = self.keys.verify(meta_bytes, signature.read_bytes() if signature.is_file() else None, version)
        info = ModelInfo(version=version, path=path, metadata=_metadata(path / "metadata.json", meta_bytes))
        if info.metadata.get("version") != version:
            raise ModelIntegrityError(
                f"Model folder '{version}' holds the signed metadata of version "
                f"'{info.metadata.get('version')}': a signed model was copied under another name. Restore the "
                "folder or use the version under its own name.")
        if deployment is not None:
            self._check_compatible(info, deployment, accept_older_taxonomy)
        file = path / ARTEFACT
        data = file.read_bytes() if file.is_file() else b""
        _check_digest(file, data, info.metadata)
        return info, data, signer


    def _folder(self, version: str) -> Path:
        if not _VERSION.fullmatch(version or ""):
            raise ModelNotFoundError(f"'{version}' is not a model version name (letters, digits, '.', '_', '-'; "
                                     "no folders). See `triage models list`.")
        path = self.root / version
        if not (path / "metadata.json").is_file():
            known = ", ".join(i.version for i in self.list()) if self.root.is_dir() and version else ""
            raise ModelNotFoundError(f"No model version '{version}' in {self.root}. Known versions: "
                                     f"{known or 'none'}.")
        return path

    @staticmethod
    def _check_compatible(info: ModelInfo, deployment: Taxonomy, accept_older_taxonomy: bool) -> None:
        meta = info.metadata
        if meta.get("taxonomy_sha256") != deployment.hash and not accept_older_taxonomy:
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

    @staticmethod
    def _read_pickled(info: ModelInfo, file: Path) -> Predictor:
        """The Predictor in a pickled version's ``file``, after its sha256 is checked: this runs code."""
        data = file.read_bytes()
        _check_digest(file, data, info.metadata)
        try:
            if file.name == "model.joblib":
                import io

                import joblib  # the whole scikit-learn estimator, as versions were saved before model.pickle

                return joblib.load(io.BytesIO(data)).predictor()
            model = pickle.loads(data)
            if not isinstance(model, Predictor):
                raise TypeError(f"expected a triage Predictor, found a {type(model).__name__}")
            return model
        except Exception as exc:  # a pickle that passes the checksum but cannot load: still a clear message
            raise ModelIntegrityError(f"{file} could not be loaded ({type(exc).__name__}: {exc}).") from None

    def _staging(self, version: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{version}.", dir=self.root))

    def _write_signed(self, folder: Path, data: bytes, meta: dict) -> None:
        """``model.npz``, ``metadata.json`` and its ``signature.json`` into ``folder``."""
        (folder / ARTEFACT).write_bytes(data)
        meta_bytes = (json.dumps(meta, indent=2, ensure_ascii=False) + "\n").encode()
        (folder / "metadata.json").write_bytes(meta_bytes)
        (folder / SIGNATURE_FILE).write_bytes(self.keys.sign(meta_bytes))

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


_PARSED: OrderedDict[str, Predictor] = OrderedDict()
_PARSED_MAX = 4
_PARSED_LOCK = threading.Lock()


def _parsed(digest: str, data: bytes, file: Path) -> Predictor:
    """The model in ``data`` (whose sha256, ``digest``, was just verified), parsed once per process: every
    service, holder and job of a process that loads the same bytes shares one :class:`Predictor` (20 MB of
    weights; it is read-only but for its thread-safe per-word caches). The last few are kept."""
    with _PARSED_LOCK:
        model = _PARSED.get(digest)
        if model is not None:
            _PARSED.move_to_end(digest)
            return model
    try:
        model = read_predictor(data)  # the very bytes that were hashed: no swap in between
    except (ArtefactError, KeyError, TypeError, ValueError) as exc:
        raise ModelIntegrityError(f"{file} could not be loaded ({exc}); restore it from the registry's "
                                  "source, or retrain.") from None
    with _PARSED_LOCK:
        _PARSED[digest] = model
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return model


def _metadata(path: Path, data: bytes) -> dict:
    try:
        metadata = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelIntegrityError(f"{path} is not valid JSON ({exc}); the artefact is damaged. "
                                  "Restore it or remove the version.") from None
    if not isinstance(metadata, dict):
        raise ModelIntegrityError(f"{path} holds a {type(metadata).__name__}, expected a JSON object; the "
                                  "artefact is damaged. Restore it or remove the version.")
    return metadata


def _check_digest(file: Path, data: bytes, metadata: dict) -> None:
    if not file.is_file() or hashlib.sha256(data).hexdigest() != metadata.get("sha256"):
        raise ModelIntegrityError(
            f"{file} does not match the sha256 in its metadata: the file is corrupt or was changed. "
            "Restore it from the registry's source, or retrain.")


def _probe_texts(model: Predictor) -> list[str]:
    """Texts that reach every part of ``model``'s features: its stemmed words, a few at a time."""
    words = sorted(model.features_.stem_table_ or {}) or sorted(model.features_.word_vocabulary_)
    return [" ".join(words[i:i + 7]) for i in range(0, min(len(words), 3500), 7)]
