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
