"""triage: routing suggestions for Indonesian public-service complaints.

Text flows through the modules in this order: :mod:`~triage.normalise` -> :mod:`~triage.stem` ->
:mod:`~triage.features` -> :mod:`~triage.model` -> :mod:`~triage.suggest`; the service keeps the
handlers' decisions, which retraining learns from. Fitting needs scikit-learn; predicting does not: a fitted
model is saved as a :class:`~triage.predict.Predictor` (:mod:`~triage.vectorise` -> :mod:`~triage.predict`).
"""

import importlib

from triage.errors import TriageError
from triage.normalise import normalise
from triage.predict import Predictor
from triage.registry import ModelRegistry
from triage.stem import Stemmer
from triage.suggest import Suggester, Suggestion
from triage.taxonomy import HEADS, Taxonomy, load_taxonomy

# What needs scikit-learn is imported when first asked for: `import triage` (and every `triage` command that
# only predicts) then starts without it, a second sooner.
_FITTING = {"ComplaintFeatures": "triage.features", "TriageModel": "triage.model"}


def __getattr__(name: str) -> object:
    if name not in _FITTING:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_FITTING[name]), name)


__all__ = [
    "HEADS",
    "ComplaintFeatures",
    "ModelRegistry",
    "Predictor",
    "Stemmer",
    "Suggester",
    "Suggestion",
    "Taxonomy",
    "TriageError",
    "TriageModel",
    "load_taxonomy",
    "normalise",
]
__version__ = "0.1.0"
