"""Assemble a seed corpus from the writers' draft files into a fixed, stratified split.

Run once when the corpus is (re)made; the split it writes is then versioned and never edited in place:

    python training_data/assemble.py [--corrections AUDIT.jsonl] DRAFT.jsonl [DRAFT.jsonl ...]
    python training_data/assemble.py --corpus national --corrections training_data/national/audit.jsonl \
        --corrections training_data/national/audit_outcomes.jsonl \
        --corrections training_data/national/audit_outcomes_long.jsonl \
        --corrections training_data/national/audit2.jsonl \
        --corrections training_data/national/rewrites.jsonl training_data/national/drafts/*.jsonl
    (--out FOLDER writes the split elsewhere, for a trial)

``kukar`` (the default) is the Kukar corpus, labelled on all three heads with Kukar's codes. ``national`` is
the corpus of national codes every pemda shares (functions, destinations outside the pemda, outcomes): lines
carry ``category`` and ``maladministration`` only (the OPD comes from each deployment's SOTK), and the
``voice`` of the pemda whose resident wrote it; its texts keep their line breaks, and may be one word ("p",
"tes": what the ``kosong`` outcome must learn) or long.

Corrections from a label audit (lines ``{"id", "field", "old", "new", "reason"}``, or ``"field": "drop"``;
``--corrections`` may be given several times) are applied first; a correction of ``"field": "text"`` is a
rewrite (``national/rewrites.jsonl``: the same matter and labels in a text that reads more like a real
message) and does not mark the line audited. It drops texts outside 5 to 450 words (national: 1 to 450), exact duplicates (after folding case and punctuation), drops the later text of any pair sharing a
run of 8 identical words, renumbers ids as ``kukar-NNNNN`` (keeping the draft id as ``draft_id``) and
splits 80/20 stratified by OPD with a fixed seed.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from sklearn.model_selection import train_test_split

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Corpus:
    """How one corpus is assembled."""

    name: str
    prefix: str
    min_words: int
    max_words: int
    fields: tuple[str, ...]
    stratify: str
    keep_lines: bool


CORPORA = {
    "kukar": Corpus("kukar", "kukar", 5, 450, ("id", "text", "category", "opd", "maladministration", "style",
                                               "hard_case", "audited", "draft_id"), "opd", keep_lines=False),
    "national": Corpus("national", "nat", 1, 450, ("id", "text", "category", "maladministration", "voice",
                                                   "audited", "draft_id"), "category", keep_lines=True),
}


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _corrections(paths: list[str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = defaultdict(list)
    for path in paths:
        for line in open(path, encoding="utf-8"):
            if line.strip():
                fix = json.loads(line)
                found[fix["id"]].append(fix)
    return found


def assemble(paths: list[str], corrections: list[str] = (), corpus: Corpus = CORPORA["kukar"]) -> list[dict]:
    fixes = _corrections(corrections)
    rows, seen, runs = [], set(), defaultdict(set)
    for path in paths:
        for line in open(path, encoding="utf-8"):
            if not line.strip():
                continue
            row = json.loads(line)
            row.setdefault("id", row.get("draft_id"))
            if any(f["field"] == "drop" for f in fixes.get(row["id"], [])):
                continue
            for fix in fixes.get(row["id"], []):
                if row.get(fix["field"]) == fix.get("old"):
                    row[fix["field"]] = fix["new"]
                    row["audited"] = row.get("audited", False) or fix["field"] != "text"
            words = _words(row["text"])
            if not corpus.min_words <= len(words) <= corpus.max_words:
                continue
            key = " ".join(words)
            grams = {" ".join(words[i:i + 8]) for i in range(len(words) - 7)}
            if len(words) < 8:  # short texts ("tes", "halo min") may repeat across writers; keep one of each
                grams = set()
            if key in seen or any(g in runs for g in grams):
                continue
            seen.add(key)
            for g in grams:
                runs[g].add(len(rows))
            rows.append(row)
    return rows


def _text(text: str, keep_lines: bool) -> str:
    if not keep_lines:
        return " ".join(text.split())
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines())


def main(args: list[str]) -> None:
    corrections, corpus, out = [], CORPORA["kukar"], None
    while args[:1] in (["--corrections"], ["--corpus"], ["--out"]):
        if args[0] == "--corrections":
            corrections.append(args[1])
        elif args[0] == "--out":
            out = Path(args[1])
        else:
            corpus = CORPORA[args[1]]
        args = args[2:]
    rows = assemble(args, corrections, corpus)
    records = []
    for n, row in enumerate(rows, 1):
        record = {**row, "draft_id": row.get("draft_id") or row.get("id"), "id": f"{corpus.prefix}-{n:05d}",
                  "text": _text(row["text"], corpus.keep_lines), "hard_case": bool(row.get("hard_case"))}
        records.append({k: record[k] for k in corpus.fields if k in record})
    strata = Counter(r[corpus.stratify] for r in records)  # a code with one line cannot be split: pooled
    train, test = train_test_split(records, test_size=0.2, random_state=20261123,
                                   stratify=[r[corpus.stratify] if strata[r[corpus.stratify]] > 1 else "(rare)"
                                             for r in records])
    out = out or HERE / corpus.name
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("test", test)):
        part = sorted(part, key=lambda r: r["id"])
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in part)
    sizes = {"train": len(train), "test": len(test),
             f"test_{corpus.stratify}": dict(sorted(Counter(r[corpus.stratify] for r in test).items()))}
    (out / "SPLIT.json").write_text(json.dumps(sizes, indent=1) + "\n")
    print(f"{len(records)} complaints: {len(train)} train, {len(test)} test -> {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
