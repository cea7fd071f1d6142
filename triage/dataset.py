"""Labelled complaints on disk: JSON Lines, one complaint a line.

Each line is an object with ``text`` and the codes of some heads (``category``, ``opd``,
``maladministration``); other fields (``id``, ``style``, ``hard_case``) are kept as they are. The heads of a
file are those of its first line; every line must then carry them, with codes of the deployment.
Errors name the file, the line and the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from triage.errors import DataError, UnknownCodeError
from triage.taxonomy import HEADS, Taxonomy


@dataclass
class LabelledSet:
    """Texts with the codes of the heads a file carries."""

    texts: list[str]
    labels: dict[str, list[str]]
    ids: list[str] = field(default_factory=list)
    extra: list[dict] = field(default_factory=list)

    @property
    def heads(self) -> tuple[str, ...]:
        """The heads this set carries, in :data:`HEADS` order."""
        return tuple(h for h in HEADS if h in self.labels)

    def y(self) -> np.ndarray:
        """Codes as an ``(n, 3)`` array for :class:`~triage.model.TriageModel`; needs all three heads."""
        missing = [h for h in HEADS if h not in self.labels]
        if missing:
            raise DataError(f"training needs all three heads; this data lacks {', '.join(missing)}.")
        return np.column_stack([np.asarray(self.labels[h], dtype=object) for h in HEADS])

    def __len__(self) -> int:
        return len(self.texts)

    @classmethod
    def concat(cls, parts: Iterable[LabelledSet]) -> LabelledSet:
        """One set of all ``parts`` (which must carry the same heads)."""
        parts = list(parts)
        heads = parts[0].heads
        return cls(texts=[t for p in parts for t in p.texts],
                   labels={h: [c for p in parts for c in p.labels[h]] for h in heads},
                   ids=[i for p in parts for i in p.ids], extra=[e for p in parts for e in p.extra])


def read_jsonl(path: str | Path, taxonomy: Taxonomy) -> LabelledSet:
    """Read and validate a labelled JSONL file against ``taxonomy``."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found. Expected a JSON Lines file of labelled complaints.", path=str(path))
    texts: list[str] = []
    ids: list[str] = []
    extra: list[dict] = []
    labels: dict[str, list[str]] | None = None
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"not valid JSON ({exc.msg} at column {exc.colno}). Each line must be one "
                                "JSON object.", path=str(path), line=number) from None
            if not isinstance(record, dict):
                raise DataError(f"expected a JSON object, got {type(record).__name__}.", path=str(path),
                                line=number)
            text = record.get("text")
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"expected a non-empty string, got {text!r}.", path=str(path), line=number,
                                field="text")
            if labels is None:
                labels = {h: [] for h in HEADS if h in record}
            for head in labels:
                if head not in record:
                    raise DataError(f"missing; the first line of this file has '{head}', so every line needs "
                                    "it.", path=str(path), line=number, field=head)
                try:
                    labels[head].append(taxonomy.check(head, record[head]))
                except UnknownCodeError as exc:
                    raise DataError(f"{exc} Fix the label or add the code to the taxonomy.", path=str(path),
                                    line=number, field=head) from None
            texts.append(text)
            ids.append(str(record.get("id", number)))
            extra.append({k: v for k, v in record.items() if k not in ("text", "id", *HEADS)})
    if labels is None:
        raise DataError("the file holds no complaints.", path=str(path))
    return LabelledSet(texts=texts, labels=labels, ids=ids, extra=extra)


def file_sha256(*paths: str | Path) -> str:
    """sha256 over the bytes of ``paths`` in order (the training data's fingerprint)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


CORPUS_SPLITS: tuple[str, ...] = ("train", "test")


def corpus_paths(data_dir: str | Path, taxonomy: Taxonomy, split: str) -> list[Path]:
    """The files of one split (``train`` or ``test``) a deployment trains or is tested on.

    A taxonomy file (old style, its own codes) reads ``<data_dir>/<code>/<split>.jsonl`` (or
    ``<data_dir>/<split>.jsonl``). A deployment built from a SOTK file reads every corpus under ``data_dir``
    (``kukar/``, ``national/``, ...: every folder holding ``<split>.jsonl``), whatever pemda wrote it: the
    category head is national and learns from all of them. A folder holding ``<split>.jsonl`` itself is one
    corpus, read alone.
    """
    folder = Path(data_dir)
    if not taxonomy.national:
        if (folder / taxonomy.code / f"{split}.jsonl").is_file():
            folder = folder / taxonomy.code
        return [folder / f"{split}.jsonl"]
    if (folder / f"{split}.jsonl").is_file():  # one corpus folder, given itself
        return [folder / f"{split}.jsonl"]
    found = sorted(p for p in folder.glob(f"*/{split}.jsonl"))
    if not found:
        raise DataError(f"no corpus with a {split}.jsonl under {folder}. Expected folders such as kukar/ and "
                        "national/ (training_data/ of the checkout).", path=str(folder))
    return found


def read_corpus(data_dir: str | Path, taxonomy: Taxonomy, split: str) -> LabelledSet:
    """One split of the training corpus, labelled on all three heads for ``taxonomy``'s deployment.

    For a deployment built from a SOTK file (see :func:`corpus_paths`), each line's category is read as a
    national code (old category codes through their aliases). Its OPD label is the body a handler of *this*
    deployment chose when the line comes from this deployment's own corpus (a kecamatan or kelurahan/desa
    office as its kind, :meth:`~triage.route.Router.learned_class`); otherwise, and for lines without one,
    the body the deployment's SOTK gives the category (:meth:`~triage.route.Router.label`). A line of a
    pemda's own corpus whose body carries exactly one national function is labelled with that function: the
    category head learns the function that is responsible (an audit request routed to the Inspektorat is
    ``inspektorat``, whatever sector it is about).
    """
    paths = corpus_paths(data_dir, taxonomy, split)
    if not taxonomy.national:
        return read_jsonl(paths[0], taxonomy)
    return LabelledSet.concat([read_national(path, taxonomy, owner=path.parent.name) for path in paths])


def read_national(path: str | Path, taxonomy: Taxonomy, owner: str | None = None) -> LabelledSet:
    """One labelled file read for a deployment built from a SOTK file, as :func:`read_corpus` reads each of
    its files. ``owner``: the deployment whose complaints the file holds (its folder name in the corpus;
    default ``taxonomy``'s own). Heads the file lacks stay absent, except the OPD of a training corpus
    (files with a category), which the SOTK gives."""
    from triage.route import Router
    from triage.taxonomy import load_taxonomy, shipped_deployments

    owner = owner or taxonomy.code
    own = taxonomy if owner == taxonomy.code else load_taxonomy(owner) if owner in shipped_deployments() else None
    data = read_jsonl(path, own or taxonomy)
    labels = dict(data.labels)
    if "category" in labels:
        categories = [taxonomy.canonical("category", c) for c in labels["category"]]
        if "opd" in labels and own is not None:
            for i, body in enumerate(labels["opd"]):
                label = own.labels["opd"].get(body)
                functions = [f for f in label.functions if f != "4.01"] if label is not None else []
                if len(functions) == 1 and label.kind != "pemda":
                    categories[i] = _slug_of(own, functions[0])
        labels["category"] = categories
    router = Router(taxonomy)
    if "opd" in labels and owner == taxonomy.code:
        labels["opd"] = [router.learned_class(b) for b in labels["opd"]]
    elif "category" in labels:
        labels["opd"] = [router.label(c) for c in labels["category"]]
    extra = [{**e, "corpus": owner} for e in data.extra]
    return LabelledSet(texts=data.texts, labels={h: labels[h] for h in HEADS if h in labels}, ids=data.ids,
                       extra=extra)


def _slug_of(taxonomy: Taxonomy, function: str) -> str:
    """The category code (slug) of national function ``function``."""
    return next(c for c, label in taxonomy.labels["category"].items() if label.functions == (function,))
