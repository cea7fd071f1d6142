"""triage: routing suggestions for Indonesian public-service complaints.

Text flows through the modules in this order: :mod:`~triage.normalise` -> :mod:`~triage.stem` ->
:mod:`~triage.features` -> :mod:`~triage.model` -> :mod:`~triage.suggest`; the service keeps the
handlers' decisions, which retraining learns from.
"""

from triage.errors import TriageError
from triage.features import ComplaintFeatures
from triage.model import TriageModel
from triage.normalise import normalise
from triage.registry import ModelRegistry
from triage.stem import Stemmer
from triage.suggest import Suggester, Suggestion
from triage.taxonomy import HEADS, Taxonomy, load_taxonomy

__all__ = [
    "HEADS",
    "ComplaintFeatures",
    "ModelRegistry",
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
