"""Step 6: from what the model predicts to the deployment's own body (disposisi).

The category head predicts national codes every pemda shares (:mod:`triage.national`): a function
(``kesehatan``, ``kecamatan``), a destination outside the pemda (``pln``) or an outcome that is not a routing
(``spam``). Which body carries a function is what the pemda's SOTK file says (:mod:`triage.sotk`). A
:class:`Router` turns one into the other, so a pemda with no decisions of its own gets its OPD on day one:

- a function carried by one body goes to that body;
- a function several bodies share (Dinkes and each RSUD) goes to the body the text names (its name or an
  alias, "RSUD Soewandhie"); when the text names none, to the first perangkat daerah that carries it, and the
  suggestion ``needs_review``;
- a territorial function (``kecamatan``, ``kelurahan``, ``pemerintah_desa``) goes to the office of the place the
  text names (unless the SOTK gives that function to a perangkat daerah), found by the deployment's gazetteer (:mod:`triage.gazetteer`); when it names none, to the pemda's
  own account (where LAPOR! reports wait to be dispositioned), flagged ``needs_review``;
- a function the pemda does not carry (a city has no forestry office) goes to the pemda's own account too,
  flagged; an outside destination to itself (*bukan wewenang*); an outcome (``aspirasi``, ``spam``) stays with
  the pemda's own account: the complaint handler answers or archives it;
- in a province, ``pemprov`` (a provincial office's matter: an SMA, a provincial road) is not outside: it goes,
  as a question does, to the province's body of its subject (its Dinas Pendidikan for an SMA).

Once a pemda has decisions, retraining learns an OPD head of its own (:meth:`Router.label` gives the seed
corpus its labels, the territorial offices as one class per kind), and :meth:`Router.from_learned` reads it,
with the same place resolution.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from triage.sotk import OWN_LEVEL_DESTINATION, plain_name
from triage.taxonomy import HEADS, Taxonomy

if TYPE_CHECKING:
    from triage.gazetteer import Where

TERRITORIAL: dict[str, str] = {"7.01": "kecamatan", "7.01.kel": "kelurahan", "2.13.desa": "desa"}
"""National functions whose body is the office of a place, and the OPD-head class that stands for it."""

_SKIP_KINDS = {"kecamatan", "kelurahan", "desa", "pemda", "outside"}


class Router:
    """Routes predictions onto one deployment's bodies (see the module docstring)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        if taxonomy.sotk is None:
            raise ValueError(f"deployment '{taxonomy.code}' is not built from a SOTK file; it has no national "
                             "routing.")
        self.taxonomy = taxonomy
        self.codes: list[str] = taxonomy.codes("opd")
        self._index = {c: i for i, c in enumerate(self.codes)}
        bodies = taxonomy.labels["opd"]
        self.pemda = next((c for c, b in bodies.items() if b.kind == "pemda"), None) or \
            next((c for c, b in bodies.items() if "4.01" in b.functions), self.codes[0])
        own = OWN_LEVEL_DESTINATION.get(taxonomy.sotk.level)
        self.subject_routed: frozenset[str] = SUBJECT_ROUTED | ({own} if own in taxonomy.labels["category"] else set())
        """Outcomes routed by their subject: :data:`SUBJECT_ROUTED`, and in a province its own level (``pemprov``:
        an SMA's matter goes to the province's body for education)."""
        self.candidates: dict[str, tuple[str, ...]] = {}
        self.territorial: dict[str, str] = {}
        self.not_carried: set[str] = set()
        for code, label in taxonomy.labels["category"].items():
            if label.kind == "outside":
                self.candidates[code] = (code,)
            elif label.kind == "outcome":
                self.candidates[code] = (self.pemda,)
            else:
                function = label.functions[0]
                if function in TERRITORIAL and not self._carriers(function, exact=True):
                    self.territorial[code] = TERRITORIAL[function]
                    self.candidates[code] = (self.pemda,)
                    continue
                carriers = self._carriers(function)
                if not carriers:
                    self.not_carried.add(code)
                    carriers = (self.pemda,)
                self.candidates[code] = carriers
        names: dict[str, str] = {}
        for carriers in self.candidates.values():
            if len(carriers) > 1:
                for body in carriers:
                    for name in (bodies[body].name, *bodies[body].aliases):
                        if len(plain_name(name)) >= 3:
                            names.setdefault(plain_name(name), body)
        self._named = names
        self._matrices: dict = {}
        self._default_target: dict[tuple[str, bool], int] = {}
        self._names = (re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
                                  + r")\b") if names else None)

    @property
    def gazetteer(self):
        """The deployment's gazetteer (:mod:`triage.gazetteer`), made when a place is first looked for."""
        from triage.gazetteer import Gazetteer

        return Gazetteer.of(self.taxonomy.sotk)

    def _carriers(self, function: str, exact: bool = False) -> tuple[str, ...]:
        """The bodies that carry ``function`` (or, failing that and unless ``exact``, its parent code),
        perangkat daerah first. (A pemda whose SOTK gives a territorial function to a perangkat daerah, as
        Kukar's gives village-office matters to its DPMD, routes them there rather than to the place.)"""
        sotk = self.taxonomy.sotk
        while function:
            found = [c for c in sotk.bodies_of_function(function) if sotk.bodies[c].kind not in _SKIP_KINDS]
            if found:
                found.sort(key=lambda c: sotk.bodies[c].kind != "perangkat_daerah")
                return tuple(found)
            if exact:
                return ()
            function = function.rsplit(".", 1)[0] if function.count(".") > 1 else ""
        return ()

    # -- labels for training ------------------------------------------------------------------------------

    def label(self, category: str) -> str:
        """The OPD-head label a complaint of ``category`` trains on when no handler decided its body: the first
        body that carries it, or the territorial class (``kecamatan``, ``kelurahan``, ``desa``)."""
        category = self.taxonomy.canonical("category", category)
        return self.territorial.get(category) or self.candidates[category][0]

    def learned_class(self, body: str) -> str:
        """The OPD-head class a decided body trains as: a kecamatan, kelurahan or desa office as its kind (the
        place itself is found in the text), any other body as itself."""
        kind = self.taxonomy.labels["opd"][body].kind if body in self.taxonomy.labels["opd"] else ""
        return kind if kind in ("kecamatan", "kelurahan", "desa") else body

    # -- routing ------------------------------------------------------------------------------------------

    def place(self, kind: str, where: Where) -> str | None:
        """The office of kind ``kind`` of the place ``where`` names: its kecamatan, or its kelurahan/desa (a
        kelurahan and a desa are the same level: whichever the text names)."""
        if kind == "kecamatan":
            return where.kecamatan.code if where.kecamatan else None
        return where.village.code if where.village else None

    def named_body(self, text: str, carriers: Sequence[str]) -> str | None:
        """The one body of ``carriers`` the text names, or ``None``."""
        if self._names is None:
            return None
        found = {self._named[m] for m in self._names.findall(plain_name(text))} & set(carriers)
        return found.pop() if len(found) == 1 else None

    def route(self, texts: Sequence[str], proba: np.ndarray, classes: Sequence[str], *, learned: bool = False,
              wheres: Sequence[Where | None] | None = None) -> tuple[np.ndarray, list[str | None], list[Where | None]]:
        """Route many complaints at once.

        ``proba`` ``(n, len(classes))`` is the category head's (day one) or, with ``learned``, the deployment's
        own OPD head's. Returns the probability of each OPD code (``(n, len(codes))``, :attr:`codes` order),
        per complaint why its best body needs review (:data:`REVIEW_REASONS` key, or ``None``), and the places
        found (``None`` where nobody needed them and ``wheres`` did not give them).

        One matrix product routes what needs no text; only the columns that depend on the text (shared
        functions, territorial offices) are looked at complaint by complaint, and only where they matter.
        """
        classes = tuple(str(c) for c in classes)
        matrix, defaults, special, (subject, functions, others) = self._matrix(classes, learned)
        proba = np.asarray(proba, dtype=float)
        out = proba @ matrix
        best = np.argmax(proba, axis=1) if len(texts) else np.zeros(0, dtype=int)
        if subject:  # a question or a proposal goes where its subject goes: rank the functions without them
            best = np.where(np.isin(best, subject), functions[proba[:, functions].argmax(axis=1)], best)
        reviews: list[str | None] = [defaults[j] for j in best]
        places: list[Where | None] = list(wheres) if wheres is not None else [None] * len(texts)
        for j, code in special:
            column = proba[:, j]
            for r in np.flatnonzero((column >= 0.01) | (best == j)):
                if places[r] is None:
                    places[r] = self.gazetteer.find(texts[r])
                target, why = self._target(code, texts[r], places[r], learned)
                p = float(column[r])
                out[r, self._default_target[(code, learned)]] -= p
                out[r, self._index[target]] += p
                if best[r] == j:
                    reviews[r] = why
        if subject:  # spread the questions' and proposals' share over the bodies of the functions, as they stand
            share = proba[:, subject].sum(axis=1)
            function_mass = np.clip(out - proba[:, others] @ matrix[others], 0.0, None)  # the text's moves included
            total = function_mass.sum(axis=1, keepdims=True)
            out += share[:, None] * np.divide(function_mass, total, out=np.zeros_like(function_mass), where=total > 0)
        return np.clip(out, 0.0, 1.0), reviews, places

    def _matrix(self, classes: tuple[str, ...], learned: bool) -> tuple:
        """Per class order, made once: the text-free routing matrix, each class's default review reason, the
        classes whose body depends on the text, and the column indices of the outcomes routed by their subject,
        of the functions, and of the rest."""
        key = (classes, learned)
        cached = self._matrices.get(key)
        if cached is None:
            matrix = np.zeros((len(classes), len(self.codes)))
            defaults: list[str | None] = []
            special = []
            for j, code in enumerate(classes):
                target, why = self._target(code, "", None, learned)
                self._default_target[(code, learned)] = self._index[target]
                if not learned and self.taxonomy.canonical("category", code) in self.subject_routed:
                    defaults.append(None)  # no row: spread over the functions' bodies in route()
                    continue
                matrix[j, self._index[target]] = 1.0
                defaults.append(why)
                if why in ("shared", "place"):
                    special.append((j, code))
            kinds = [self.taxonomy.labels["category"].get(self.taxonomy.canonical("category", c)) for c in classes]
            subject = [j for j, c in enumerate(classes)
                       if not learned and self.taxonomy.canonical("category", c) in self.subject_routed]
            functions = np.array([j for j, k in enumerate(kinds) if k is not None and k.kind == "function"], dtype=int)
            others = [j for j in range(len(classes)) if j not in set(functions.tolist()) | set(subject)]
            cached = self._matrices[key] = (matrix, defaults, special, (subject, functions, others))
        return cached

    def _target(self, code: str, text: str, where: Where | None, learned: bool) -> tuple[str, str | None]:
        """Where one class goes for one text (``where`` ``None``: no text looked at), and why it needs review."""
        if learned:
            kind = code if code in ("kecamatan", "kelurahan", "desa") else None
            if kind is None:
                return (code, None) if code in self._index else (self.pemda, "not_carried")
        else:
            code = self.taxonomy.canonical("category", code)
            kind = self.territorial.get(code)
        if kind is not None:
            place = self.place(kind, where) if where is not None else None
            return (place, None) if place else (self.pemda, "place")
        if code in self.not_carried:
            return self.pemda, "not_carried"
        carriers = self.candidates[code]
        if len(carriers) == 1:
            return carriers[0], None
        named = self.named_body(text, carriers) if text else None
        return (named, None) if named else (carriers[0], "shared")


SUBJECT_ROUTED: frozenset[str] = frozenset({"aspirasi", "pertanyaan", "terima_kasih"})
"""Outcomes that still go to a body: a question or a proposal is answered by the body its subject belongs to
(SP4N-LAPOR! routes information requests and aspirations too), and thanks are passed to the body thanked;
their probability is spread over the bodies of the functions in proportion to the functions' own. Empty,
spam and abuse stay with the pemda's own account."""

REVIEW_REASONS: dict[str, str] = {
    "shared": "beberapa perangkat daerah membawahi urusan ini dan teks tidak menyebut salah satunya",
    "place": "urusan kewilayahan, tetapi teks tidak menyebut kecamatan atau kelurahan/desa yang dikenali",
    "not_carried": "pemda tidak punya perangkat daerah untuk urusan ini; tentukan tujuan disposisinya",
}
"""Why a routed OPD needs a handler's look, in the words handlers read."""


class RoutedModel:
    """A fitted model whose OPD head speaks one deployment's body codes: the model's own OPD head routed
    (``learned``) or the category head routed through the SOTK (day one). It predicts like a model
    (``predict_proba``, ``predict``, ``classes_``, ``thresholds_``), so :func:`~triage.evaluate.evaluate` and the
    retraining gate judge every model on the bodies a handler would see.

    The OPD threshold of a routed category is the category head's: the OPD is as sure as the code it comes
    from. (Figures computed from these probabilities leave out the other reasons a routed body is flagged,
    :data:`REVIEW_REASONS`; the suggestions handlers see include them.)
    """

    def __init__(self, model, router: Router, *, learned: bool, priors: dict[str, float] | None = None) -> None:
        self.model = model
        self.priors = priors
        self.router = router
        self.learned = learned
        self.classes_ = {**model.classes_, "opd": np.asarray(router.codes, dtype=object)}
        self.thresholds_ = {**model.thresholds_,
                            "opd": model.thresholds_["opd" if learned else "category"]}

    def predict_proba(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        from triage.priors import adjust

        proba = self.model.predict_proba(texts)
        proba = {**proba, "category": adjust(proba["category"], self.model.classes_["category"], self.priors)}
        head = "opd" if self.learned else "category"
        opd, _, _ = self.router.route(texts, proba[head], self.model.classes_[head], learned=self.learned)
        return {**proba, "opd": opd}

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        proba = self.predict_proba(texts)
        return np.column_stack([self.classes_[h][proba[h].argmax(axis=1)] for h in HEADS])

    def expected_bodies(self, texts: Sequence[str], labels: Sequence[str]) -> list[str]:
        """OPD labels as bodies: a territorial class (``kecamatan``) becomes the office of the place the text
        names, or the pemda's own account when it names none (what a perfect model would route to)."""
        out = []
        for text, label in zip(texts, labels):
            if label in ("kecamatan", "kelurahan", "desa"):
                label = self.router.place(label, self.router.gazetteer.find(text)) or self.router.pemda
            out.append(label)
        return out
