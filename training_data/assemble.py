"""Assemble the kukar seed corpus from the writers' draft files into a fixed, stratified split.

Run once when the corpus is (re)made; the split it writes is then versioned and never edited in place:

    python training_data/assemble.py [--corrections AUDIT.jsonl] DRAFT.jsonl [DRAFT.jsonl ...]

Corrections from a label audit (lines ``{"id", "field", "old", "new", "reason"}``, or ``"field": "drop"``)
are applied first. It drops texts outside 5 to 250 words, exact duplicates (after folding case and punctuation), drops the later text of any pair sharing a
run of 8 identical words, renumbers ids as ``kukar-NNNNN`` (keeping the draft id as ``draft_id``) and
splits 80/20 stratified by OPD with a fixed seed.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from sklearn.model_selection import train_test_split

OUT = Path(__file__).parent / "kukar"
MIN_WORDS, MAX_WORDS = 5, 250
FIELDS = ("id", "text", "category", "opd", "maladministration", "style", "hard_case", "audited", "draft_id")


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _corrections(path: str | None) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = defaultdict(list)
    if path:
        for line in open(path, encoding="utf-8"):
            if line.strip():
                fix = json.loads(line)
                found[fix["id"]].append(fix)
    return found


def assemble(paths: list[str], corrections: str | None = None) -> list[dict]:
    fixes = _corrections(corrections)
    rows, seen, runs = [], set(), defaultdict(set)
    for path in paths:
        for line in open(path, encoding="utf-8"):
            if not line.strip():
                continue
            row = json.loads(line)
            if any(f["field"] == "drop" for f in fixes.get(row["id"], [])):
                continue
            for fix in fixes.get(row["id"], []):
                if row.get(fix["field"]) == fix.get("old"):
                    row[fix["field"]] = fix["new"]
                    row["audited"] = True
            words = _words(row["text"])
            if not MIN_WORDS <= len(words) <= MAX_WORDS:
                continue
            key = " ".join(words)
            grams = {" ".join(words[i:i + 8]) for i in range(len(words) - 7)}
            if key in seen or any(g in runs for g in grams):
                continue
            seen.add(key)
            for g in grams:
                runs[g].add(len(rows))
            rows.append(row)
    return rows


def main(args: list[str]) -> None:
    corrections = None
    if args[:1] == ["--corrections"]:
        corrections, args = args[1], args[2:]
    rows = assemble(args, corrections)
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
    sizes = {"train": len(train), "test": len(test),
             "test_opd": dict(sorted(Counter(r["opd"] for r in test).items()))}
    (OUT / "SPLIT.json").write_text(json.dumps(sizes, indent=1) + "\n")
    print(f"{len(records)} complaints: {len(train)} train, {len(test)} test -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
