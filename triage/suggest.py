"""Step 5: from complaint text to a routing suggestion a handler can act on.

A :class:`Suggester` pairs a fitted model (a :class:`~triage.predict.Predictor` as the registry loads it, or
a :class:`~triage.model.TriageModel`, which predicts the same) with its deployment's taxonomy and model
version. The same :meth:`Suggester.suggest_many` serves ``triage suggest``, the API and ``triage batch``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from triage.errors import InvalidInputError
from triage.priors import adjust
from triage.registry import ModelRegistry
from triage.route import REVIEW_REASONS, TERRITORIAL, Router
from triage.stem import is_readable_term
from triage.taxonomy import HEADS, FocalPoint, Taxonomy, load_taxonomy

if TYPE_CHECKING:
    from triage.gazetteer import Where

TOP_K = 3
EXPLANATION_TERMS = 5
_LETTER = re.compile(r"[^\W\d_]")


def opd_learned_for(metadata: dict, taxonomy: Taxonomy) -> bool:
    """Whether a saved model's OPD head was trained for ``taxonomy``'s deployment (its metadata names the
    deployment it was trained for); a taxonomy file without a SOTK always uses the model's own OPD head."""
    return taxonomy.sotk is None or metadata.get("opd_deployment", metadata.get("deployment")) == taxonomy.code


def text_problem(value: object) -> str | None:
    """Why ``value`` cannot be routed, or ``None`` if it can: the one rule of the API, the web page, the CLI
    and batch jobs (a complaint needs at least one letter)."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return "text is missing"
    if not isinstance(value, str):
        return f"text is not a string (got {type(value).__name__})"
    if not value:
        return "text is empty"
    if not value.strip():
        return "text is blank (only whitespace)"
    if not _LETTER.search(value):
        return "text has no letters (only numbers or symbols)"
    return None


@dataclass(frozen=True)
class Alternative:
    """One candidate code of a head."""

    code: str
    name: str
    confidence: float


@dataclass(frozen=True)
class HeadSuggestion:
    """The suggested code of one head, its confidence and the runners-up."""

    code: str
    name: str
    confidence: float
    needs_review: bool
    alternatives: list[Alternative]
    focal_point: FocalPoint | None = None
    outside: bool = False
    """For the OPD head: the body is outside the pemda (*bukan wewenang*)."""
    forward_text: str | None = None
    """For a destination outside the pemda: where to forward the complaint and how."""
    review_reason: str | None = None
    """Why a handler must check this head even where the model is sure (Bahasa Indonesia), or ``None``."""
    review_code: str | None = None
    """The same reason as a code (``shared``, ``place``, ``not_carried``: :data:`triage.route.REVIEW_REASONS`)."""


@dataclass(frozen=True)
class Term:
    """A stem that pushed the model toward its choice, with how hard."""

    term: str
    weight: float


@dataclass(frozen=True)
class Suggestion:
    """Routing suggestion for one complaint."""

    model_version: str
    category: HeadSuggestion
    opd: HeadSuggestion
    maladministration: HeadSuggestion
    explanation: dict[str, list[Term]] = field(default_factory=dict)
    where: Where | None = None
    """The kecamatan and kelurahan/desa the text names (deployments built from a SOTK file)."""
    routing: str = "learned"
    """How the OPD was chosen: ``learned`` (an OPD head trained on this deployment's complaints) or
    ``national`` (from the predicted national code through the deployment's SOTK, :mod:`triage.route`)."""

    @property
    def needs_review(self) -> bool:
        """True when any head is below its review threshold."""
        return any(getattr(self, h).needs_review for h in HEADS)

    def head(self, name: str) -> HeadSuggestion:
        return getattr(self, name)

    def to_dict(self) -> dict:
        """Plain JSON-ready form (the API's and the CLI's): the fields as ``dataclasses.asdict`` gives them,
        and ``needs_review``. Written out: asdict's deep copy of every field cost a tenth of the server's
        time per complaint."""
        data: dict = {"model_version": self.model_version}
        for name in HEADS:
            head = getattr(self, name)
            data[name] = {"code": head.code, "name": head.name, "confidence": head.confidence,
                          "needs_review": head.needs_review,
                          "alternatives": [{"code": a.code, "name": a.name, "confidence": a.confidence}
                                           for a in head.alternatives],
                          "focal_point": asdict(head.focal_point) if head.focal_point is not None else None,
                          "outside": head.outside, "forward_text": head.forward_text,
                          "review_reason": head.review_reason, "review_code": head.review_code}
        data["explanation"] = {name: [{"term": t.term, "weight": t.weight} for t in terms]
                               for name, terms in self.explanation.items()}
        data["where"] = self.where.to_dict() if self.where is not None else None
        data["routing"] = self.routing
        data["needs_review"] = self.needs_review
        return data


class Suggester:
    """Suggest routing with one loaded model."""

    def __init__(self, model, taxonomy: Taxonomy, version: str, *, opd_learned: bool | None = None,
                 priors: dict[str, float] | None = None) -> None:
        """``opd_learned``: whether the model's OPD head was trained for this deployment (the registry's
        metadata says; ``None`` judges by its codes). Without one, a deployment built from a SOTK file routes
        through the national codes (:mod:`triage.route`)."""
        self.model = model
        self.taxonomy = taxonomy
        self.version = version
        self.priors = priors
        """Per category code, the weight that puts its probability at real frequencies (:mod:`triage.priors`)."""
        self.router = Router(taxonomy) if taxonomy.national else None
        if opd_learned is None:
            known = set(taxonomy.codes("opd")) | set(TERRITORIAL.values())
            opd_learned = set(map(str, model.classes_["opd"])) <= known
        self.opd_learned = bool(opd_learned) or self.router is None

    @classmethod
    def from_registry(cls, models_dir: str | Path, deployment: str | Path = "kukar",
                      version: str | None = None) -> Suggester:
        """Load the serving (or a named) model of ``models_dir`` for ``deployment``."""
        taxonomy = load_taxonomy(deployment)
        model, info = ModelRegistry(models_dir).load(version, taxonomy)
        return cls(model, taxonomy, info.version, opd_learned=opd_learned_for(info.metadata, taxonomy),
                   priors=info.metadata.get("category_priors"))

    def suggest(self, text: str) -> Suggestion:
        """Suggestion for one complaint."""
        return self.suggest_many([text])[0]

    def suggest_many(self, texts: Sequence[str], explain: bool = True) -> list[Suggestion]:
        """Suggestions for many complaints in one feature pass; ``explain=False`` skips explanations."""
        for i, text in enumerate(texts):
            problem = text_problem(text)
            if problem is not None:
                raise InvalidInputError(f"text {i}: {problem}; a complaint needs some words to be routed.")
        X = self.model.features_.transform(texts)
        proba = self._at_real_frequencies(self.model.proba_from_features(X))
        word_block = X[:, : self.model.features_.n_word_features].tocsr() if explain else None
        flags = {h: self._flagged(h, proba[h]) for h in HEADS}
        routed = self._route(texts, proba, flags, wheres=None)
        suggestions = []
        for row in range(len(texts)):
            heads = {h: self._head(h, proba[h][row], bool(flags[h][row])) for h in HEADS if h != "opd"}
            heads["opd"] = (self._routed_head(routed, row) if routed is not None
                            else self._head("opd", proba["opd"][row], bool(flags["opd"][row])))
            explanation = {h: self._explain(word_block, row, h, heads[h].code) for h in HEADS} if explain else {}
            where = routed[3][row] if routed is not None else None
            if self.router is not None and where is None:
                where = self.router.gazetteer.find(texts[row])
            suggestions.append(Suggestion(model_version=self.version, explanation=explanation, where=where,
                                          routing=self.routing, **heads))
        return suggestions

    @property
    def routing(self) -> str:
        """``learned`` or ``national``: how this suggester chooses the OPD (see :class:`Suggestion`)."""
        return "learned" if self.opd_learned else "national"

    def _route(self, texts: Sequence[str], proba: dict[str, np.ndarray], flags: dict[str, np.ndarray],
               wheres) -> tuple | None:
        """The OPD through the deployment's SOTK (``None`` for a taxonomy without one): per complaint the
        probability of each body, whether it needs review, why, and the places found."""
        if self.router is None:
            return None
        if self.opd_learned:
            opd, reasons, places = self.router.route(texts, proba["opd"], self.model.classes_["opd"], learned=True,
                                                     wheres=wheres)
            flagged = opd.max(axis=1) < self.model.thresholds_["opd"] if len(texts) else np.zeros(0, dtype=bool)
        else:
            opd, reasons, places = self.router.route(texts, proba["category"], self.model.classes_["category"],
                                                     wheres=wheres)
            flagged = flags["category"].copy()
        flagged |= np.array([r is not None for r in reasons], dtype=bool)
        return opd, flagged, reasons, places

    def _routed_head(self, routed: tuple, row: int) -> HeadSuggestion:
        opd, flagged, reasons, _ = routed
        codes = self.router.codes
        order = np.argsort(-opd[row], kind="stable")[:TOP_K]
        alternatives = [Alternative(code=codes[i], name=self.taxonomy.name_of("opd", codes[i]),
                                    confidence=round(float(opd[row][i]), 4)) for i in order]
        best = alternatives[0]
        label = self.taxonomy.labels["opd"][best.code]
        reason = reasons[row]
        return HeadSuggestion(code=best.code, name=best.name, confidence=best.confidence,
                              needs_review=bool(flagged[row]), alternatives=alternatives,
                              focal_point=label.focal_point, outside=label.outside, forward_text=label.forward_text,
                              review_reason=REVIEW_REASONS.get(reason) if reason else None, review_code=reason)

    def suggest_columns(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Bulk form for backlogs: per head ``<head>`` (code), ``<head>_confidence`` and
        ``<head>_needs_review`` as arrays, plus ``needs_review``. No objects per complaint, no explanation.

        Texts are not checked here: the batch job sorts out the rows :func:`text_problem` refuses first.
        """
        proba = self._at_real_frequencies(self.model.predict_proba(texts))
        columns: dict[str, np.ndarray] = {}
        review = np.zeros(len(texts), dtype=bool)
        flags = {h: self._flagged(h, proba[h]) for h in HEADS}
        routed = self._route(texts, proba, flags, wheres=None)
        for head in HEADS:
            if head == "opd" and routed is not None:
                opd, flagged = routed[0], routed[1]
                best = opd.argmax(axis=1)
                columns[head] = np.asarray(self.router.codes, dtype=object)[best]
                columns[f"{head}_confidence"] = opd[np.arange(len(texts)), best].round(4)
                columns[f"{head}_needs_review"] = flagged
                review |= flagged
                continue
            best = proba[head].argmax(axis=1)
            confidence = proba[head][np.arange(len(texts)), best]
            columns[head] = self.model.classes_[head][best]
            columns[f"{head}_confidence"] = confidence.round(4)
            columns[f"{head}_needs_review"] = flags[head]
            review |= columns[f"{head}_needs_review"]
        columns["needs_review"] = review
        return columns

    def _at_real_frequencies(self, proba: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if not self.priors:
            return proba
        return {**proba, "category": adjust(proba["category"], self.model.classes_["category"], self.priors)}

    def _flagged(self, head: str, proba: np.ndarray) -> np.ndarray:
        """Per complaint, whether the best code of ``head`` is below its review threshold."""
        return proba.max(axis=1) < self.model.thresholds_[head]

    def _head(self, head: str, proba: np.ndarray, needs_review: bool) -> HeadSuggestion:
        classes = self.model.classes_[head]
        order = np.argsort(-proba, kind="stable")[:TOP_K]
        alternatives = [Alternative(code=str(classes[i]), name=self.taxonomy.name_of(head, str(classes[i])),
                                    confidence=round(float(proba[i]), 4)) for i in order]
        best = alternatives[0]
        focal = None
        if head == "opd" and best.code in self.taxonomy.labels["opd"]:
            focal = self.taxonomy.labels["opd"][best.code].focal_point
        return HeadSuggestion(code=best.code, name=best.name, confidence=best.confidence,
                              needs_review=needs_review,
                              alternatives=alternatives, focal_point=focal)

    def _explain(self, word_block, row: int, head: str, code: str) -> list[Term]:
        if head == "opd" and self.router is not None:
            if not self.opd_learned:
                return []  # routed from the category: the category's explanation is the reason
            code = self.router.learned_class(code)  # a village office: the words that pointed to its kind
            if code not in set(map(str, self.model.classes_["opd"])):
                return []
        start, end = word_block.indptr[row], word_block.indptr[row + 1]
        columns, values = word_block.indices[start:end], word_block.data[start:end]
        contribution = values * self.model.term_weights(head, code)[columns]
        names = self._word_names()
        readable = [i for i in np.argsort(-contribution) if contribution[i] > 0 and is_readable_term(names[columns[i]])]
        return [Term(term=names[columns[i]], weight=round(float(contribution[i]), 4))
                for i in readable[:EXPLANATION_TERMS]]

    def _word_names(self) -> list[str]:
        names = getattr(self, "_names", None)
        if names is None:
            names = self._names = [n[2:] for n in
                                   self.model.features_.get_feature_names_out()[: self.model.features_.n_word_features]]
        return names
