"""Assemble the kukar seed corpus from the writers' draft files into a fixed, stratified split.

Run once when the corpus is (re)made; the split it writes is then versioned and never edited in place:

    python training_data/assemble.py DRAFT.jsonl [DRAFT.jsonl ...]

It drops exact duplicates (after folding case and punctuation), drops the later text of any pair sharing a
run of 8 identical words, renumbers ids as ``kukar-NNNNN`` (keeping the draft id as ``draft_id``) and
splits 80/20 stratified by OPD with a fixed seed.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from sklearn.model_selection import train_test_split

OUT = Path(__file__).parent / "kukar"
FIELDS = ("id", "text", "category", "opd", "maladministration", "style", "hard_case", "draft_id")


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def assemble(paths: list[str]) -> list[dict]:
    rows, seen, runs = [], set(), defaultdict(set)
    for path in paths:
        for line in open(path, encoding="utf-8"):
            if not line.strip():
                continue
            row = json.loads(line)
            words = _words(row["text"])
            key = " ".join(words)
            grams = {" ".join(words[i:i + 8]) for i in range(len(words) - 7)}
            if key in seen or any(g in runs for g in grams):
                continue
            seen.add(key)
            for g in grams:
                runs[g].add(len(rows))
            rows.append(row)
    return rows


def main(paths: list[str]) -> None:
    rows = assemble(paths)
    records = []
    for n, row in enumerate(rows, 1):
        record = {**row, "draft_id": row.get("id"), "id": f"kukar-{n:05d}",
                  "text": " ".join(row["text"].split()), "hard_case": bool(row.get("hard_case"))}
        records.append({k: record[k] for k in FIELDS if k in record})
    train, test = train_test_split(records, test_size=0.2, random_state=20261123,
                                   stratify=[r["opd"] for r in records])
    OUT.mkdir(exist_ok=True)
    for name, part in (("train", train), ("test", test)):
        part = sorted(part, key=lambda r: r["id"])
        with open(OUT / f"{name}.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in part)
    print(f"{len(records)} complaints: {len(train)} train, {len(test)} test -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
