"""A :class:`~triage.predict.Predictor` as a file of data: what the registry writes and reads.

``model.npz`` is a zip archive (NumPy's ``.npz`` layout, stored uncompressed) of

* ``state.json``: format name and version, the feature transformer's parameters, its vocabularies, stem
  table and useful stems, and per head its columns, whether it is binary and its review threshold;
* one ``.npy`` array per numeric table: ``weights``, ``word_idf``, ``char_idf``, ``beta`` (the heads'
  temperatures) and per head ``intercept.HEAD`` and ``classes.HEAD`` (its codes, fixed-width unicode).

Reading it parses JSON and ``.npy`` headers and copies numbers: NumPy reads the arrays with
``allow_pickle=False``, so no byte of the file can name a class or function to call. The objects are
rebuilt by their constructors (:class:`Predictor`, :class:`HeadScoring`, :meth:`FittedFeatures.of`).
Writing the same predictor twice gives the same bytes (members in a fixed order, fixed timestamps).
"""

from __future__ import annotations

import io
import json
import zipfile
from types import SimpleNamespace

import numpy as np

from triage.predict import HeadScoring, Predictor
from triage.vectorise import FittedFeatures

FORMAT = "triage-predictor"
FORMAT_VERSION = 1
_STATE = "state.json"
_STAMP = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: the bytes do not depend on when the file was written


class ArtefactError(ValueError):
    """The bytes are not a predictor this version of triage can read."""


def write_predictor(predictor: Predictor) -> bytes:
    """``predictor`` as the bytes of a ``model.npz``."""
    features = predictor.features_
    heads = list(predictor.scoring_)
    state = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "features": {
            "protected": list(features.protected),
            "sms_prefixes": list(features.sms_prefixes),
            "word_ngram_range": list(features.word_ngram_range),
            "char_ngram_range": list(features.char_ngram_range),
            "char_weight": float(features.char_weight),
            "n_features_out": int(features.n_features_out_),
            "word_vocabulary": list(features.word_vocabulary_),  # columns in word_columns.npy
            "char_vocabulary": list(features.char_vocabulary_),  # columns in char_columns.npy
            "useful_stems": None if features.useful_stems_ is None else sorted(features.useful_stems_),
            "stem_table": features.stem_table_,
        },
        "heads": [{"head": head, "start": int(predictor.scoring_[head].start),
                   "end": int(predictor.scoring_[head].end), "binary": bool(predictor.scoring_[head].binary),
                   "threshold": float(predictor.thresholds_[head])} for head in heads],
    }
    arrays = {"weights": predictor.weights_, "word_idf": features.word_idf_, "char_idf": features.char_idf_,
              "word_columns": np.fromiter(features.word_vocabulary_.values(), np.int64),
              "char_columns": np.fromiter(features.char_vocabulary_.values(), np.int64),
              "beta": np.array([predictor.scoring_[head].beta for head in heads], dtype=np.float64)}
    for head in heads:
        arrays[f"intercept.{head}"] = predictor.scoring_[head].intercept
        classes = predictor.classes_[head]
        arrays[f"classes.{head}"] = classes if classes.dtype.kind == "U" else classes.astype(str)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(zipfile.ZipInfo(_STATE, _STAMP), json.dumps(state, ensure_ascii=False).encode())
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", _STAMP), member.getvalue())
    return out.getvalue()


def read_predictor(data: bytes) -> Predictor:
    """The :class:`Predictor` in ``data`` (the bytes of a ``model.npz``); :class:`ArtefactError` if they
    are not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            state = json.loads(archive.read(_STATE))
            if state.get("format") != FORMAT or state.get("format_version") != FORMAT_VERSION:
                raise ArtefactError(f"expected format {FORMAT} version {FORMAT_VERSION}, found "
                                    f"{state.get('format')} version {state.get('format_version')} (a newer "
                                    "triage wrote it?)")
            arrays = {}
            for name in archive.namelist():
                if name.endswith(".npy"):
                    with archive.open(name) as member:
                        arrays[name[: -len(".npy")]] = np.lib.format.read_array(member, allow_pickle=False)
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtefactError(f"not a triage model archive ({type(exc).__name__}: {exc})") from None
    saved = state["features"]
    features = FittedFeatures.of(SimpleNamespace(
        protected=tuple(saved["protected"]),
        sms_prefixes=tuple(saved["sms_prefixes"]),
        word_ngram_range=tuple(saved["word_ngram_range"]),
        char_ngram_range=tuple(saved["char_ngram_range"]),
        char_weight=saved["char_weight"],
        word_vocabulary_=dict(zip(saved["word_vocabulary"], arrays["word_columns"].tolist())),
        word_idf_=arrays["word_idf"],
        char_vocabulary_=dict(zip(saved["char_vocabulary"], arrays["char_columns"].tolist())),
        char_idf_=arrays["char_idf"],
        useful_stems_=None if saved["useful_stems"] is None else frozenset(saved["useful_stems"]),
        stem_table_=saved["stem_table"],
        n_features_out_=saved["n_features_out"],
    ))
    heads = [entry["head"] for entry in state["heads"]]
    scoring = {entry["head"]: HeadScoring(entry["start"], entry["end"], arrays[f"intercept.{entry['head']}"],
                                          arrays["beta"][i], entry["binary"])
               for i, entry in enumerate(state["heads"])}
    return Predictor(features=features, weights=arrays["weights"], scoring=scoring,
                     classes={head: arrays[f"classes.{head}"] for head in heads},
                     thresholds={entry["head"]: entry["threshold"] for entry in state["heads"]})
