"""Typing habits of real messages, added by a seeded script to a share of a corpus's lines (issue 15).

    python training_data/texture.py --corpus national --out training_data/national/typography.jsonl \
        [--corrections FILE ...] training_data/national/drafts/*.jsonl
    python training_data/texture.py --corpus kukar --out training_data/kukar/typography.jsonl

Writers wrote the matter, the voice, the openings and closings, the pronouns, the length and the misspellings
of every text by hand. Three habits of people typing on a phone are left to this script, because a writer
asked for them produces them too evenly or not at all:

* the message just stops: a final full stop is dropped (``--drop-stop``);
* no space after a comma or full stop, once in the message ("sudah lapor,belum ada"; ``--squeeze``);
* the message starts in lower case (``--lower``).

Each rate is the share of the corpus's lines to change, drawn among the lines that do not have the habit yet,
with ``random.Random(SEED)``. The output is a corrections file (``{"id", "field": "text", "old", "new",
"reason"}``, the format ``assemble.py`` applies with ``--corrections``), so every change is on record beside the
text it changed. For the national corpus the lines are read as ``assemble.py`` reads them (drafts with the
given corrections applied); for the kukar corpus, the assembled split (``--apply`` then writes the changes
into it).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261204

_STOP = re.compile(r"\.\s*$")
_SPACED = re.compile(r"(?<=[^\W\d_])([.,]) (?=[^\W\d_])")
_SQUEEZED = re.compile(r"[^\W\d_][.,][^\W\d_]")


def drop_stop(text: str, rnd: random.Random) -> str | None:
    """``text`` without its final full stop (not "...", "?" or "!"), or ``None`` if it has none."""
    stripped = text.rstrip()
    if not _STOP.search(stripped) or stripped.endswith(".."):
        return None
    return stripped[:-1].rstrip()


def squeeze(text: str, rnd: random.Random) -> str | None:
    """``text`` with the space after one comma or full stop between two words removed, or ``None``."""
    if _SQUEEZED.search(text):
        return None
    spots = list(_SPACED.finditer(text))
    if not spots:
        return None
    spot = rnd.choice(spots)
    return text[:spot.start()] + spot.group(1) + text[spot.end():]


def lower_first(text: str, rnd: random.Random) -> str | None:
    """``text`` with its first letter in lower case, or ``None`` if it is already, or is an acronym ("PJU")."""
    for i, char in enumerate(text):
        if char.isalpha():
            word = re.match(r"\w+", text[i:]).group(0)
            if char.islower() or (len(word) > 1 and word.isupper()):
                return None
            return text[:i] + char.lower() + text[i + 1:]
    return None


HABITS = (("drop_stop", drop_stop, "the final full stop dropped"),
          ("squeeze", squeeze, "no space after one comma or full stop"),
          ("lower", lower_first, "first letter in lower case"))


def texture(rows: list[dict], rates: dict[str, float], seed: int = SEED) -> list[dict]:
    """Corrections adding each habit to ``rates[habit]`` × ``len(rows)`` lines (fewer if fewer lines qualify).
    ``rows``: ``{"id", "text"}``. Habits are applied in :data:`HABITS` order; a line may get several, each
    correction's ``old`` being the text the one before it left."""
    rnd = random.Random(seed)
    current = {row["id"]: row["text"] for row in rows}
    out = []
    for name, change, what in HABITS:
        wanted = round(rates.get(name, 0.0) * len(rows))
        ids = [row["id"] for row in rows]
        rnd.shuffle(ids)
        done = 0
        for row_id in ids:
            if done >= wanted:
                break
            new = change(current[row_id], rnd)
            if new is None or new == current[row_id]:
                continue
            out.append({"id": row_id, "field": "text", "old": current[row_id], "new": new,
                        "reason": f"typography (training_data/texture.py, seed {seed}): {what}"})
            current[row_id] = new
            done += 1
    return out


def apply(paths: list[Path], corrections: list[dict]) -> int:
    """Write text ``corrections`` into assembled split files (in place, by ``id``); returns how many applied.
    A correction whose ``old`` no longer matches is skipped (already applied, or the line changed)."""
    fixes: dict[str, list[dict]] = {}
    for fix in corrections:
        fixes.setdefault(fix["id"], []).append(fix)
    applied = 0
    for path in paths:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for row in rows:
            for fix in fixes.get(row["id"], []):
                if row.get(fix["field"]) == fix["old"]:
                    row[fix["field"]] = fix["new"]
                    applied += 1
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return applied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("national", "kukar"), required=True)
    parser.add_argument("--out", type=Path, required=True, help="corrections file to write")
    parser.add_argument("--corrections", action="append", default=[], help="(national) applied before")
    parser.add_argument("--drop-stop", type=float, default=0.0)
    parser.add_argument("--squeeze", type=float, default=0.0)
    parser.add_argument("--lower", type=float, default=0.0)
    parser.add_argument("--apply", action="store_true", help="(kukar) also write the changes into the split")
    parser.add_argument("drafts", nargs="*", type=Path)
    args = parser.parse_args(argv)

    split = [HERE / args.corpus / "train.jsonl", HERE / args.corpus / "test.jsonl"]
    if args.corpus == "national":
        if not args.drafts:
            print("national: give the draft files, as to assemble.py", file=sys.stderr)
            return 2
        sys.path.insert(0, str(HERE))
        from assemble import CORPORA, assemble

        rows = [{"id": r["id"], "text": r["text"]}
                for r in assemble([str(p) for p in args.drafts], args.corrections, CORPORA["national"])]
    else:
        rows = [json.loads(line) for p in split for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    rates = {"drop_stop": args.drop_stop, "squeeze": args.squeeze, "lower": args.lower}
    fixes = texture(rows, rates)
    args.out.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in fixes), encoding="utf-8")
    counts = {name: sum(1 for f in fixes if what in f["reason"]) for name, _, what in HABITS}
    print(f"{len(fixes)} changes over {len(rows)} lines ({counts}) -> {args.out}")
    if args.apply and args.corpus == "kukar":
        print(f"applied {apply(split, fixes)} to {', '.join(str(p) for p in split)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
