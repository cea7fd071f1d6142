"""Step 7: learn from the handlers' decisions. Train a challenger, gate it against the champion, promote it.

One run of :func:`run_retrain`:

1. **load** the seed corpus (train and test splits) of the deployment and the latest decision on every
   decided complaint of the history database, oldest first; the serving model (the *champion*) is loaded
   with the taxonomy check relaxed to "its codes are still codes of the deployment", so that a deployment
   that added a code can still compare against it.
2. **prepare** the training set (:func:`build_training_set`): the most recent decisions are held out
   for the comparison; a seed complaint is outdated when several decisions on similar complaints (cosine
   of their stem n-gram vectors under the champion's features) corrected the model away from the seed's
   code (:func:`overruled`): it takes the code they chose, in training and in the seed test split alike;
   codes with
   fewer than ``min_examples`` examples are too rare to learn and their complaints are left out.
3. **train** the challenger on seed plus decisions (:func:`~triage.train.build_model`).
4. **evaluate** challenger and champion on the same two sets: the recent hold-out (what the deployment
   wants now) and the seed test split; :func:`gate` compares them head by head.
5. **save** the challenger in the registry with its report and, when the gate passes, promote it. A
   dry run saves and promotes nothing; its report is written all the same.

The library never prints; progress goes to the ``progress`` callback as :class:`Progress`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from triage.dataset import LabelledSet, corpus_paths, file_sha256, read_corpus
from triage.decisions import latest_decisions
from triage.errors import ModelError
from triage.evaluate import accuracy, evaluate, macro_f1
from triage.priors import prior_weights
from triage.registry import ModelRegistry
from triage.route import RoutedModel, Router
from triage.settings import Settings
from triage.suggest import opd_learned_for
from triage.taxonomy import HEADS, Taxonomy, load_taxonomy
from triage.train import OWN_CORPUS_WEIGHT, build_model

METRICS: tuple[str, ...] = ("accuracy", "macro_f1")
"""The figures the gate compares, per head."""

SPLITS: tuple[str, ...] = ("recent", "seed_test")
"""The two evaluation sets: the held-out most recent decisions, the seed corpus's test split."""

REPORTS_DIR = "retrain-reports"
"""Folder of the models directory that keeps every run's report (dry runs and rejections too)."""

# Share of the run each stage ends at, for the progress percentage.
_STAGE_END = {"load": 10, "prepare": 20, "train": 80, "evaluate": 95, "save": 100}
_CHUNK = 256  # seed rows per block of the similarity product (a block is _CHUNK x n_decided floats)
_EPSILON = 5e-5  # metrics are rounded to 4 digits: a difference below this is no difference


@dataclass(frozen=True)
class Progress:
    """Where a run is: its stage, the share of the whole run done (0-100) and a line for people."""

    stage: str
    percent: int
    message: str


ProgressCallback = Callable[[Progress], None]


@dataclass
class TrainingSet:
    """What :func:`build_training_set` makes of the seed corpus and the decisions."""

    train: LabelledSet
    seed_test: LabelledSet
    recent: LabelledSet
    too_rare: dict[str, dict[str, int]]
    summary: dict
    from_decisions: np.ndarray
    """Per training complaint: True for a decision, False for a seed complaint."""

    def weights(self, decision_weight: float, own_corpus: str | None = None) -> np.ndarray | None:
        """Weight of each training complaint, as the seed model was trained (:func:`triage.train.train`): where
        the seed mixes corpora, the deployment's ``own_corpus`` and its decisions (its own complaints, as its
        handlers routed them) weigh :data:`~triage.train.OWN_CORPUS_WEIGHT`, the other corpora 1; decisions then
        ``decision_weight`` times that. ``None`` when every weight is 1."""
        n = len(self.from_decisions)
        own = np.zeros(n, dtype=bool)
        if own_corpus is not None:
            own = np.array([e.get("corpus") == own_corpus for e in self.train.extra[:n]], dtype=bool)
        seed_own, seed_other = own & ~self.from_decisions, ~own & ~self.from_decisions
        base = np.where(own | self.from_decisions, OWN_CORPUS_WEIGHT, 1.0) if seed_own.any() and seed_other.any() \
            else np.ones(n)
        weights = np.where(self.from_decisions, base * decision_weight, base)
        return None if np.all(weights == 1.0) else weights


@dataclass(frozen=True)
class Verdict:
    """The gate's answer: promote or not, why, and every comparison it made."""

    passed: bool
    reasons: list[str]
    checks: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class RetrainResult:
    """The outcome of :func:`run_retrain`.

    ``status`` is ``promoted``, ``rejected`` (the gate said no; the challenger is saved, not served) or
    ``dry_run`` (nothing saved; ``verdict`` says what the gate would have done).
    """

    status: str
    verdict: Verdict
    version: str | None
    champion: str | None
    report: dict
    report_paths: dict[str, Path]

    @property
    def promoted(self) -> bool:
        return self.status == "promoted"


# -- data -------------------------------------------------------------------------------------------------


def read_decided(database_url: str, taxonomy: Taxonomy) -> tuple[LabelledSet, dict[str, int]]:
    """The latest decision of every decided complaint, oldest decision first, as a labelled set.

    ``extra`` holds ``complaint_id``, ``decided_at`` (ISO) and the ``suggested`` codes. Decisions using a
    code the deployment no longer has are left out; the second value counts them per head.
    """
    from triage.db import make_engine, make_sessions

    engine = make_engine(database_url)
    try:
        with make_sessions(engine)() as session:
            rows = latest_decisions(session)
    finally:
        engine.dispose()
    texts, ids, extra = [], [], []
    labels: dict[str, list[str]] = {h: [] for h in HEADS}
    dropped: Counter[str] = Counter()
    for complaint, decision in rows:
        codes = {h: taxonomy.canonical(h, getattr(decision, h)) for h in HEADS}
        unknown = [h for h in HEADS if codes[h] not in taxonomy.labels[h]]
        if unknown:
            dropped.update(unknown)
            continue
        texts.append(complaint.text)
        ids.append(str(complaint.id))
        extra.append({"complaint_id": complaint.id, "decided_at": decision.decided_at.isoformat(),
                      "suggested": {h: getattr(complaint, f"suggested_{h}") for h in HEADS},
                      "suggested_by": complaint.model_version})
        for h in HEADS:
            labels[h].append(codes[h])
    return LabelledSet(texts=texts, labels=labels, ids=ids, extra=extra), dict(dropped)


def subset(data: LabelledSet, keep: np.ndarray | list[int]) -> LabelledSet:
    """The rows ``keep`` (indices or a boolean mask) of ``data``."""
    keep = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep, dtype=int)
    return LabelledSet(texts=[data.texts[i] for i in keep],
                       labels={h: [v[i] for i in keep] for h, v in data.labels.items()},
                       ids=[data.ids[i] for i in keep] if len(data.ids) == len(data) else [],
                       extra=[data.extra[i] for i in keep] if len(data.extra) == len(data) else [])


def word_vectors(features, texts: list[str]) -> sp.csr_matrix:
    """L2-normalised stem n-gram vectors of ``texts`` (the word block of fitted features: a fitted
    ``ComplaintFeatures`` or a saved model's ``FittedFeatures``)."""
    if not texts:
        return sp.csr_matrix((0, features.n_word_features))
    return normalize(features.transform(texts)[:, : features.n_word_features].tocsr())


def overruled(rows: LabelledSet, rows_vectors: sp.csr_matrix, decided: LabelledSet,
              decided_vectors: sp.csr_matrix, *, threshold: float,
              votes: int) -> tuple[dict[str, np.ndarray], dict]:
    """Per head, the code newer decisions put in place of each row's (``None`` where they say nothing), and
    figures for the report.

    A decision *corrected* head ``h`` away from code ``c`` when the model suggested ``c`` and the handler
    chose another code. A row labelled ``c`` on ``h`` is overruled when at least ``votes`` decisions that
    corrected ``h`` away from ``c`` are similar to it (cosine of stem n-gram vectors >= ``threshold``):
    handlers keep saying that complaints like this one are not ``c``. Its new code is the one most of those
    decisions chose (the newer decision wins). Only corrections count, and only against the very code
    they corrected, so a row is not touched for sharing words with an unrelated complaint; several votes
    are needed, so one odd decision does not overrule the corpus.
    """
    new = {head: np.full(len(rows), None, dtype=object) for head in HEADS}
    strongest = np.zeros(len(rows))
    n_corrections = 0
    for head in HEADS if len(rows) and len(decided) else ():
        decided_codes = np.asarray(decided.labels[head], dtype=object)
        suggested = np.asarray([e["suggested"][head] for e in decided.extra], dtype=object)
        corrected = np.flatnonzero(suggested != decided_codes)
        n_corrections += len(corrected)
        row_codes = np.asarray(rows.labels[head], dtype=object)
        for code in set(suggested[corrected]):
            against = corrected[suggested[corrected] == code]
            mine = np.flatnonzero(row_codes == code)
            others = decided_vectors[against].T.tocsc()
            for start in range(0, len(mine), _CHUNK):
                part = mine[start:start + _CHUNK]
                similarity = (rows_vectors[part] @ others).toarray()
                near = similarity >= threshold
                for r in np.flatnonzero(near.sum(axis=1) >= votes):
                    chosen = Counter(decided_codes[against[near[r]]]).most_common(1)[0][0]
                    new[head][part[r]] = chosen
                    strongest[part[r]] = max(strongest[part[r]], similarity[r].max())
    touched = np.any([new[h] != None for h in HEADS], axis=0) if len(rows) else np.zeros(0, bool)  # noqa: E711
    figures = {"corrections": n_corrections,
               "similarity_of_overruled": _quantiles(strongest[touched]) if touched.any() else None}
    return new, figures


def relabel(rows: LabelledSet, new: dict[str, np.ndarray]) -> tuple[LabelledSet, np.ndarray]:
    """``rows`` with the codes :func:`overruled` found put in place, and the mask of rows that changed."""
    labels = {h: [n if n is not None else old for old, n in zip(rows.labels[h], new[h])] for h in rows.labels}
    changed = np.any([new[h] != None for h in HEADS], axis=0) if len(rows) else np.zeros(0, bool)  # noqa: E711
    return LabelledSet(texts=rows.texts, labels=labels, ids=rows.ids, extra=rows.extra), changed


def too_rare_codes(data: LabelledSet, taxonomy: Taxonomy, min_examples: int) -> tuple[np.ndarray, dict]:
    """Rows of ``data`` all of whose codes have at least ``min_examples`` examples (repeated until it holds:
    leaving rows out can make another code rare), and per head the deployment's codes below that
    minimum with their counts in ``data`` (0 for codes nobody used yet)."""
    keep = np.ones(len(data), dtype=bool)
    while True:
        counts = {h: Counter(np.asarray(data.labels[h], dtype=object)[keep]) for h in HEADS}
        ok = keep.copy()
        for head in HEADS:
            codes = np.asarray(data.labels[head], dtype=object)
            ok &= np.array([counts[head][c] >= min_examples for c in codes], dtype=bool)
        if (ok == keep).all():
            break
        keep = ok
    full = {h: Counter(data.labels[h]) for h in HEADS}
    listed = {h: [c for c in taxonomy.codes(h) if taxonomy.labels[h][c].kind not in ("kecamatan", "kelurahan", "desa")]
              for h in HEADS}  # a pemda's hundreds of village offices are learned as one class per kind
    rare = {h: {code: full[h][code] for code in listed[h] if counts[h][code] < min_examples}
            for h in HEADS}
    return keep, {h: codes for h, codes in rare.items() if codes}


def build_training_set(seed_train: LabelledSet, seed_test: LabelledSet, decided: LabelledSet, features,
                       taxonomy: Taxonomy, *, similarity: float, votes: int, min_examples: int, holdout: int,
                       champion_saw_until: str | None = None, cv: int = 3) -> TrainingSet:
    """Seed plus decisions, with the most recent ``holdout`` decisions kept apart (``decided`` is oldest
    first), outdated seed complaints left out of training and testing, and too-rare codes left out.

    ``features`` are fitted features (the champion's ``FittedFeatures``, or a ``ComplaintFeatures`` fitted on
    the seed corpus) that decide what "similar" means. The hold-out is at most a quarter of the decisions
    (most are for learning) and only takes decisions made after ``champion_saw_until`` (the last decision
    the champion was trained on), so that both models are compared on complaints neither has seen.
    """
    unseen = len(decided)
    if champion_saw_until is not None:
        cutoff = datetime.fromisoformat(champion_saw_until)
        unseen = sum(datetime.fromisoformat(e["decided_at"]) > cutoff for e in decided.extra)
    n_recent = min(holdout, len(decided) // 4, unseen)
    history = subset(decided, np.arange(len(decided) - n_recent))
    recent = subset(decided, np.arange(len(decided) - n_recent, len(decided)))
    history_vectors = word_vectors(features, history.texts)
    new_train, figures = overruled(seed_train, word_vectors(features, seed_train.texts), history,
                                   history_vectors, threshold=similarity, votes=votes)
    new_test, _ = overruled(seed_test, word_vectors(features, seed_test.texts), history, history_vectors,
                            threshold=similarity, votes=votes)
    current_train, outdated_train = relabel(seed_train, new_train)
    current_test, outdated_test = relabel(seed_test, new_test)
    combined = LabelledSet.concat([current_train, history])
    keep, rare = too_rare_codes(combined, taxonomy, max(min_examples, cv))
    seed_kept = len(seed_train)
    summary = {
        "seed_train": len(seed_train),
        "seed_test": len(seed_test),
        "decided": len(decided),
        "decided_in_training": len(history),
        "recent_holdout": len(recent),
        "decided_since_champion": unseen,
        "recent_from": recent.extra[0]["decided_at"] if len(recent) else None,
        "similarity_threshold": similarity,
        "overrule_votes": votes,
        "corrections_in_training": figures["corrections"],
        "seed_train_overruled": int(outdated_train.sum()),
        "seed_test_overruled": int(outdated_test.sum()),
        "overruled_examples": [
            {"id": seed_train.ids[i], "text": seed_train.texts[i][:160],
             "was": {h: seed_train.labels[h][i] for h in HEADS if new_train[h][i] is not None},
             "now": {h: new_train[h][i] for h in HEADS if new_train[h][i] is not None}}
            for i in np.flatnonzero(outdated_train)[:8]],
        "similarity_of_overruled": figures.get("similarity_of_overruled"),
        "left_out_too_rare": int((~keep).sum()),
        "left_out_too_rare_from_decisions": int((~keep[seed_kept:]).sum()),
        "train": int(keep.sum()),
        "min_examples": max(min_examples, cv),
        "decisions_until": history.extra[-1]["decided_at"] if len(history) else champion_saw_until,
    }
    from_decisions = np.arange(len(combined)) >= seed_kept
    return TrainingSet(train=subset(combined, keep), seed_test=current_test, recent=recent,
                       too_rare=rare, summary=summary, from_decisions=from_decisions[keep])


def _quantiles(values: np.ndarray) -> dict[str, float]:
    qs = np.quantile(values, [0.5, 0.9, 0.99]) if len(values) else [0.0, 0.0, 0.0]
    return {"median": round(float(qs[0]), 3), "p90": round(float(qs[1]), 3), "p99": round(float(qs[2]), 3)}


# -- the gate ----------------------------------------------------------------------------------------------


def paired_deltas(true: np.ndarray, challenger: np.ndarray, champion: np.ndarray, *, resamples: int,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """Per metric of :data:`METRICS`, the challenger's minus the champion's figure on ``resamples`` bootstrap
    resamples of the same complaints (paired: both models are scored on each resample)."""
    codes = {c: i for i, c in enumerate(sorted(set(true) | set(challenger) | set(champion)))}
    k = len(codes)
    encode = np.vectorize(codes.__getitem__, otypes=[int])
    t, a, b = encode(true), encode(challenger), encode(champion)
    rows = np.random.default_rng(seed).integers(0, len(t), size=(resamples, len(t)))
    offset = (np.arange(resamples) * k)[:, None]
    tt = t[rows] + offset

    def scores(pred: np.ndarray) -> dict[str, np.ndarray]:
        pp = pred[rows] + offset
        right = tt == pp
        tp = np.bincount(tt[right], minlength=k * resamples).reshape(resamples, k)
        both = (np.bincount(tt.ravel(), minlength=k * resamples)
                + np.bincount(pp.ravel(), minlength=k * resamples)).reshape(resamples, k)
        present = both > 0
        f1 = np.where(present, 2 * tp / np.maximum(both, 1), 0.0)
        return {"accuracy": right.mean(axis=1), "macro_f1": f1.sum(axis=1) / present.sum(axis=1)}

    mine, theirs = scores(a), scores(b)
    return {metric: mine[metric] - theirs[metric] for metric in METRICS}


MIN_EVIDENCE = 30
"""Fewest complaints a head is judged on, on one split: below it, an interval says nothing."""


ATTENDED_CORRECTION_RATE = 0.05
"""Share of the champion's suggestions on a head that handlers corrected, from which the head counts as
attended to: its kept suggestions are then confirmations, not echoes."""


def evidence(labelled: LabelledSet, head: str, champion_version: str | None) -> np.ndarray:
    """Which complaints of ``labelled`` are evidence on ``head`` between the champion and a challenger.

    A decision that keeps the code the champion itself suggested repeats the champion's answer, which is
    evidence only if the handler looked at that head. Handlers who look correct some of it: where they
    corrected at least :data:`ATTENDED_CORRECTION_RATE` of the champion's suggestions on ``head``, the head is
    attended to and every decision is evidence (the kept codes are confirmations). Where they corrected
    fewer (a busy handler decides the OPD and confirms the rest as suggested), the kept codes are left out:
    the champion would score 1.0 on them whatever the truth. What is left is the corrections and the codes
    kept from another model's suggestion. Seed complaints (no suggestion) are always evidence.
    """
    own_kept = np.zeros(len(labelled), dtype=bool)
    own = np.zeros(len(labelled), dtype=bool)
    for i, extra in enumerate(labelled.extra):
        suggested = (extra or {}).get("suggested")
        if suggested is None or champion_version is None or extra.get("suggested_by") != champion_version:
            continue
        own[i] = True
        own_kept[i] = suggested.get(head) == labelled.labels[head][i]
    corrected = own.sum() - own_kept.sum()
    if own.any() and corrected / own.sum() >= ATTENDED_CORRECTION_RATE:
        return np.ones(len(labelled), dtype=bool)
    return ~own_kept


def compare(split: str, labelled: LabelledSet, challenger: np.ndarray, champion: np.ndarray,
            reports: tuple[dict, dict], *, tolerance: float, confidence: float,
            resamples: int = 1000, champion_version: str | None = None) -> list[dict]:
    """The gate's checks on one split: per head and metric, the change and whether it is acceptable.

    Each head is judged on its evidence only (:func:`evidence`: the champion's own suggestions that a handler
    kept without looking are left out), and not at all where fewer than :data:`MIN_EVIDENCE` complaints are
    evidence (the check says so and passes: the head is decided elsewhere, on the seed test split).

    A check fails when the challenger is worse than the champion by more than ``tolerance`` *with
    confidence* ``confidence``: the ``confidence`` quantile of the paired bootstrap change is below
    ``-tolerance``. On a few hundred complaints one complaint moves accuracy by several thousandths, so
    comparing the two figures alone would reject good models by chance; ``confidence=0`` does just that.
    ``challenger`` and ``champion`` are the models' predictions, ``(n, 3)`` in :data:`HEADS` order;
    ``reports`` their :func:`~triage.evaluate.evaluate` reports on the whole split (shown beside).
    """
    checks = []
    for h, head in enumerate(HEADS):
        rows = evidence(labelled, head, champion_version)
        true = np.asarray(labelled.labels[head], dtype=object)[rows]
        mine_pred, theirs_pred = challenger[rows, h], champion[rows, h]
        judged = len(true) >= MIN_EVIDENCE
        deltas = (paired_deltas(true, mine_pred, theirs_pred, resamples=resamples)
                  if confidence > 0 and judged else None)
        for metric in METRICS:
            score = accuracy if metric == "accuracy" else macro_f1
            mine = round(score(true, mine_pred), 4) if len(true) else reports[0][head][metric]
            theirs = round(score(true, theirs_pred), 4) if len(true) else reports[1][head][metric]
            delta = mine - theirs
            bound = float(np.quantile(deltas[metric], confidence)) if deltas is not None else delta
            checks.append({"split": split, "head": head, "metric": metric, "challenger": mine,
                           "champion": theirs, "delta": round(delta, 4), "upper_bound": round(bound, 4),
                           "tolerance": tolerance, "evidence": int(rows.sum()),
                           "kept_suggestions_left_out": int((~rows).sum()), "judged": judged,
                           "passed": bool(not judged or bound >= -tolerance - _EPSILON)})
    return checks


def gate(checks: list[dict] | None) -> Verdict:
    """Pass when every check of :func:`compare` passed; ``None``: there was no champion to compare with."""
    if checks is None:
        return Verdict(True, ["no champion to compare with: the challenger is promoted on its own figures."])
    if not checks:
        return Verdict(True, ["nothing to compare on (no decisions held out and no comparable seed test "
                              "split)."], checks)
    reasons = [f"{c['head']} {c['metric']} on {_SPLIT_NAMES[c['split']]}: {c['challenger']:.4f} against the "
               f"champion's {c['champion']:.4f} ({c['delta']:+.4f}; at best {c['upper_bound']:+.4f}), "
               f"worse by more than the tolerance {c['tolerance']:.3f} on {c.get('evidence', '?')} complaints of "
               "evidence." for c in checks if not c["passed"]]
    unjudged = sorted({f"{c['head']} on {_SPLIT_NAMES[c['split']]} ({c['evidence']} complaints of evidence, "
                       f"{c['kept_suggestions_left_out']} kept suggestions of the champion left out)"
                       for c in checks if not c.get("judged", True)})
    note = [f"not judged, too little evidence: {', '.join(unjudged)}."] if unjudged else []
    if reasons:
        return Verdict(False, reasons + note, checks)
    gains = sorted({f"{c['head']} {c['metric']} on {_SPLIT_NAMES[c['split']]} {c['delta']:+.4f} "
                    f"({c['evidence']} complaints)" for c in checks
                    if c.get("judged", True) and c["delta"] > 0 and c["metric"] == "accuracy"})
    return Verdict(True, ["not worse than the champion beyond the tolerance on any head judged on its evidence."]
                   + ([f"better: {', '.join(gains)}."] if gains else []) + note, checks)


_SPLIT_NAMES = {"recent": "the recent decisions", "seed_test": "the seed test split"}


# -- the run -----------------------------------------------------------------------------------------------


def run_retrain(settings: Settings, *, dry_run: bool = False, progress: ProgressCallback | None = None,
                version: str | None = None) -> RetrainResult:
    """Retrain for ``settings.deployment`` on seed plus decisions, gate, save and promote (see module doc).

    Raises :class:`~triage.errors.TriageError` subclasses for bad data or settings; the serving model is
    changed only by the final promotion, after everything else succeeded.
    """
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    timings: dict[str, float] = {}
    stage_began = clock

    def report_progress(stage: str, message: str, within: float = 1.0) -> None:
        nonlocal stage_began
        if within >= 1.0:
            timings[stage] = round(time.perf_counter() - stage_began, 1)
            stage_began = time.perf_counter()
        stages = list(_STAGE_END)
        before = _STAGE_END[stages[stages.index(stage) - 1]] if stages.index(stage) else 0
        percent = int(before + (_STAGE_END[stage] - before) * within)
        if progress is not None:
            progress(Progress(stage=stage, percent=percent, message=message))

    taxonomy = load_taxonomy(settings.deployment)
    registry = ModelRegistry.for_settings(settings)
    if not dry_run:
        registry.require_signing_key()  # the challenger is saved signed: say so before training, not after
    report_progress("load", "reading the seed corpus and the decisions", 0.0)
    seed_train = read_corpus(settings.training_data_dir, taxonomy, "train")
    seed_test = read_corpus(settings.training_data_dir, taxonomy, "test")
    decided, unknown_codes = read_decided(settings.database_url, taxonomy)
    router = Router(taxonomy) if taxonomy.national else None
    if router is not None:  # the OPD head learns a kecamatan or kelurahan/desa office as its kind
        decided.extra = [{**e, "body": b} for e, b in zip(decided.extra, decided.labels["opd"])]
        decided.labels["opd"] = [router.learned_class(b) for b in decided.labels["opd"]]
    champion, champion_version, champion_meta, notes = _champion(registry, taxonomy)
    seed_sha256 = file_sha256(*corpus_paths(settings.training_data_dir, taxonomy, "train"))
    compare_seed = champion is not None and champion_meta.get("training_data_sha256") == seed_sha256
    if champion is not None and not compare_seed:
        notes.append(f"the champion {champion_version} was trained on another version of the seed corpus "
                     f"({str(champion_meta.get('training_data_sha256'))[:12]}, now {seed_sha256[:12]}): "
                     "it may have seen complaints of today's seed test split, so the two are not compared "
                     "there.")
    report_progress("load", f"{len(seed_train)} seed complaints, {len(decided)} decided complaints; champion "
                            f"{champion_version or 'none'}")

    if champion is not None:
        features = champion.features_
    else:
        features = build_model(taxonomy).features.fit(seed_train.texts)
    data = build_training_set(seed_train, seed_test, decided, features, taxonomy,
                              similarity=settings.retrain_similarity, votes=settings.retrain_overrule_votes,
                              min_examples=settings.retrain_min_examples,
                              holdout=settings.retrain_recent_holdout,
                              champion_saw_until=(champion_meta.get("retrain") or {}).get("decisions_until"))
    report_progress("prepare", f"training on {len(data.train)} complaints "
                               f"({data.summary['seed_train_overruled']} seed complaints relabelled by "
                               f"decisions, {data.summary['left_out_too_rare']} left out as too rare); "
                               f"{len(data.recent)} recent decisions held out")

    report_progress("train", f"fitting the challenger on {len(data.train)} complaints", 0.0)
    fit_began = time.perf_counter()
    challenger = build_model(taxonomy)
    weights = data.weights(settings.retrain_decision_weight, own_corpus=taxonomy.code)
    priors = (prior_weights(data.train.labels["category"], taxonomy, sample_weight=weights,
                            balanced=challenger.class_weight == "balanced") if taxonomy.national else None)
    challenger.fit(data.train.texts, data.train.y(), sample_weight=weights, category_priors=priors)
    training_seconds = time.perf_counter() - fit_began
    report_progress("train", f"challenger fitted in {training_seconds:.0f} s")

    splits = {"recent": data.recent, "seed_test": data.seed_test}
    judged = {"challenger": challenger, "champion": champion}
    if router is not None:  # every model judged on the bodies a handler of this deployment would see
        judged = {"challenger": RoutedModel(challenger, router, learned=True, priors=priors),
                  "champion": champion and RoutedModel(champion, router,
                                                       learned=opd_learned_for(champion_meta, taxonomy),
                                                       priors=champion_meta.get("category_priors"))}
        splits = {"recent": _with_bodies(data.recent, [e["body"] for e in data.recent.extra]),
                  "seed_test": _with_bodies(data.seed_test, judged["challenger"].expected_bodies(
                      data.seed_test.texts, data.seed_test.labels["opd"]))}
    tolerances = {"recent": settings.retrain_tolerance, "seed_test": settings.retrain_seed_tolerance}
    results: dict[str, dict[str, dict | None]] = {"challenger": {}, "champion": {}}
    predictions: dict[str, dict[str, np.ndarray]] = {"challenger": {}, "champion": {}}
    for name, model in judged.items():
        if model is None:
            continue
        for split, labelled in splits.items():
            comparable = name == "challenger" or split != "seed_test" or compare_seed
            results[name][split] = evaluate(model, labelled) if len(labelled) and comparable else None
            if results[name][split] is not None:
                predictions[name][split] = model.predict(labelled.texts)
        report_progress("evaluate", f"evaluated the {name}", 0.5 if name == "challenger" else 0.9)
    checks = None
    if champion is not None:
        checks = [check for split in SPLITS if split in predictions["champion"]
                  for check in compare(split, splits[split], predictions["challenger"][split],
                                       predictions["champion"][split],
                                       (results["challenger"][split], results["champion"][split]),
                                       tolerance=tolerances[split], confidence=settings.retrain_confidence,
                                       champion_version=champion_version)]
    verdict = gate(checks)
    report_progress("evaluate", f"gate: {'passed' if verdict.passed else 'rejected'}")

    learned = {h: sorted(map(str, challenger.classes_[h])) for h in HEADS}
    report = {
        "run": started.strftime("%Y%m%dT%H%M%S"),
        "started": started.isoformat(timespec="seconds"),
        "deployment": taxonomy.code,
        "taxonomy_sha256": taxonomy.hash,
        "dry_run": dry_run,
        "champion": champion_version,
        "notes": notes,
        "challenger": None,
        "status": None,
        "passed": verdict.passed,
        "reasons": verdict.reasons,
        "tolerance": tolerances,
        "confidence": settings.retrain_confidence,
        "data": {**data.summary, "decisions_with_retired_codes": unknown_codes},
        "too_rare": data.too_rare,
        "new_codes": ({h: sorted(set(learned[h]) - set(map(str, champion.classes_[h]))) for h in HEADS}
                      if champion is not None else {}),
        "metrics": results,
        "checks": verdict.checks,
        "training_seconds": round(training_seconds, 1),
        "decision_weight": settings.retrain_decision_weight,
        "opd_routing": {  # which OPD head serves: one learned for this deployment, or the national routing
            "challenger": "learned",
            "champion": None if champion is None else
            ("learned" if opd_learned_for(champion_meta, taxonomy) else "national"),
        },
    }
    status, saved = "dry_run", None
    if not dry_run:
        current = _current_or_none(registry)
        if verdict.passed and current != champion_version:
            verdict = Verdict(False, [f"the serving model changed during the run ({champion_version} -> "
                                      f"{current}); run the retrain again to compare against the new one."],
                              verdict.checks)
            report.update(passed=False, reasons=verdict.reasons)
        status = "promoted" if verdict.passed else "rejected"
        report["status"] = status
        metadata = {
            "training_data_sha256": seed_sha256,
            "n_train": len(data.train),
            "training_seconds": round(training_seconds, 1),
            "metrics": {"test": results["challenger"]["seed_test"],
                        "recent": results["challenger"]["recent"]},
            "thresholds": {h: round(t, 4) for h, t in challenger.thresholds_.items()},
            **({"category_priors": priors} if priors else {}),
            "retrain": {"champion": champion_version, "status": status, "reasons": verdict.reasons,
                        "decided": len(decided), "decisions_until": data.summary["decisions_until"],
                        "run": report["run"]},
        }
        saved = registry.save(challenger, deployment=taxonomy, metadata=metadata, version=version)
        report["challenger"] = saved.version
        report_progress("save", f"saved challenger {saved.version}", 0.5)
        (saved.path / "retrain.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        (saved.path / "report.md").write_text(render_markdown(report), encoding="utf-8")
        if verdict.passed:
            registry.promote(saved.version)
    else:
        report["status"] = status
    report_progress("save", {"promoted": f"promoted {report['challenger']}",
                             "rejected": f"rejected {report['challenger']}: not promoted",
                             "dry_run": "dry run: nothing saved"}[status])
    report["seconds"] = {**timings, "total": round(time.perf_counter() - clock, 1)}
    paths = write_report(report, Path(settings.models_dir) / REPORTS_DIR)
    if saved is not None:  # the copies next to the model get the final timings too
        (saved.path / "retrain.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        (saved.path / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return RetrainResult(status=status, verdict=verdict, version=saved.version if saved else None,
                         champion=champion_version, report=report, report_paths=paths)


def _current_or_none(registry: ModelRegistry) -> str | None:
    try:
        return registry.current_version()
    except ModelError:
        return None


def _with_bodies(data: LabelledSet, bodies: list[str]) -> LabelledSet:
    """``data`` with ``bodies`` as its OPD labels."""
    return LabelledSet(texts=data.texts, labels={**data.labels, "opd": list(bodies)}, ids=data.ids, extra=data.extra)


def _champion(registry: ModelRegistry,
              taxonomy: Taxonomy) -> tuple[object | None, str | None, dict, list[str]]:
    """The serving model, its version, its metadata and notes for the report (another taxonomy, or no
    comparison possible)."""
    version = _current_or_none(registry)
    if version is None:
        return None, None, {}, ["no model serves yet: nothing to compare with."]
    try:
        model, info = registry.load(version, taxonomy, accept_older_taxonomy=True)
    except ModelError as exc:
        return None, version, {}, [f"the serving model cannot be compared ({exc}); the comparison is "
                                   "skipped."]
    notes = []
    if info.metadata.get("taxonomy_sha256") != taxonomy.hash:
        notes.append(f"the serving model {version} was trained for an older taxonomy whose codes are all "
                     "still codes of the deployment; it is compared as it is (it cannot predict the new "
                     "codes).")
    return model, version, info.metadata, notes


def write_report(report: dict, folder: Path) -> dict[str, Path]:
    """Write ``report`` as ``<run>.json`` and ``<run>.md`` under ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{report['deployment']}-{report['run']}"
    n = 1
    while stem.with_suffix(".json").exists():  # two runs in one second
        n += 1
        stem = folder / f"{report['deployment']}-{report['run']}-{n}"
    paths = {"json": stem.with_suffix(".json"), "markdown": stem.with_suffix(".md")}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["markdown"].write_text(render_markdown(report), encoding="utf-8")
    return paths


def render_markdown(report: dict) -> str:
    """The report for people: verdict and reasons, the comparison per split and head, the data used."""
    verdict = {"promoted": "PROMOTED", "rejected": "REJECTED (not promoted)",
               "dry_run": f"DRY RUN (the gate would have {'passed' if report['passed'] else 'rejected'} it)"}
    data = report["data"]
    lines = [f"# Retraining report: {report['deployment']}, {report['started']}", "",
             f"**{verdict.get(report['status'], report['status'])}**: challenger "
             f"`{report['challenger'] or '(not saved)'}` against champion "
             f"`{report['champion'] or 'none'}`.", ""]
    lines += [f"- {reason}" for reason in report["reasons"]]
    routing = report.get("opd_routing") or {}
    if routing.get("champion"):
        lines += ["", f"OPD: the challenger's own OPD head (learned from this deployment's complaints) against the "
                      f"champion's {'own OPD head' if routing['champion'] == 'learned' else 'national routing (the category through the SOTK)'}; "
                      "both judged on the bodies a handler sees."]
    for note in report.get("notes") or []:
        lines += ["", f"Note: {note}"]
    tolerance = report["tolerance"]
    lines += ["", "## Comparison", "",
              f"Tolerance: {tolerance['recent']:.3f} on the recent decisions, {tolerance['seed_test']:.3f} "
              "on the seed test split (its labels may predate a reorganisation). A head fails when the "
              "challenger is worse by more than that even at best: *at best* is the "
              f"{report['confidence']:.0%} upper bound of the change over paired bootstrap resamples (the "
              "change itself when the confidence is 0). Each head is judged on its *evidence*: on a head "
              f"whose suggestions handlers corrected less than {ATTENDED_CORRECTION_RATE:.0%} of the time, a "
              "decision that kept the champion's own suggestion repeats the champion and is left out; a head "
              f"with fewer than {MIN_EVIDENCE} complaints of evidence on a split is not judged there.", ""]
    for split in SPLITS:
        mine = report["metrics"]["challenger"].get(split)
        if mine is None:
            lines += [f"### {_SPLIT_NAMES[split].capitalize()}: empty", ""]
            continue
        lines += [f"### {_SPLIT_NAMES[split].capitalize()} ({mine['n']} complaints)", "",
                  "| head | metric | evidence (kept left out) | challenger | champion | change | at best | verdict |",
                  "|---|---|---|---|---|---|---|---|"]
        checks = {(c["head"], c["metric"]): c for c in report["checks"] or [] if c["split"] == split}
        for head in HEADS:
            for metric in METRICS:
                check = checks.get((head, metric))
                if check is None:
                    lines.append(f"| {head} | {metric} | - | {mine[head][metric]:.4f} | - | - | - | - |")
                    continue
                verdict_text = ("not judged" if not check.get("judged", True)
                                else "ok" if check["passed"] else "**worse**")
                lines.append(f"| {head} | {metric} | {check.get('evidence', '-')} "
                             f"({check.get('kept_suggestions_left_out', 0)}) | {check['challenger']:.4f} | "
                             f"{check['champion']:.4f} | {check['delta']:+.4f} | {check['upper_bound']:+.4f} | "
                             f"{verdict_text} |")
        lines.append("")
    lines += ["## Data", "",
              f"- seed corpus: {data['seed_train']} training and {data['seed_test']} test complaints",
              f"- decided complaints (latest decision of each): {data['decided']}; "
              f"{data['decided_in_training']} in training, the {data['recent_holdout']} most recent held out"
              + (f" (decided from {data['recent_from']})" if data.get("recent_from") else ""),
              f"- seed complaints relabelled (at least {data['overrule_votes']} similar decisions, cosine >= "
              f"{data['similarity_threshold']}, corrected the model away from the seed's code): "
              f"{data['seed_train_overruled']} of the training split, {data['seed_test_overruled']} of the "
              f"test split; {data['corrections_in_training']} corrections among the decisions",
              f"- left out because a code is too rare (fewer than {data['min_examples']} examples): "
              f"{data['left_out_too_rare']} complaints",
              f"- trained on {data['train']} complaints in {report['training_seconds']} s"]
    if data.get("decisions_with_retired_codes"):
        lines.append(f"- decisions left out for codes the deployment no longer has: "
                     f"{data['decisions_with_retired_codes']}")
    lines += ["", "## Codes too rare to learn", ""]
    if report["too_rare"]:
        for head, codes in report["too_rare"].items():
            listed = ", ".join(f"`{code}` ({n})" for code, n in codes.items())
            lines.append(f"- {head}: {listed}")
        lines.append("")
        lines.append("These codes get no suggestions until they have enough decided examples.")
    else:
        lines.append("None: every code of the deployment has enough examples.")
    new = {h: c for h, c in (report.get("new_codes") or {}).items() if c}
    if new:
        lines += ["", "## Codes learned for the first time", ""]
        lines += [f"- {head}: {', '.join(f'`{c}`' for c in codes)}" for head, codes in new.items()]
    if report.get("seconds"):
        lines += ["", "## Time", "", ", ".join(f"{k} {v} s" for k, v in report["seconds"].items())]
    return "\n".join(lines) + "\n"
